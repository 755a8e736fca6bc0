/*
 * A shared dict's state file (state=): its entries as JSON, read when the zone is created
 * (nginx starts, or a reload brings a new zone), written by a worker about a second after
 * changes, through a temporary file renamed over the old one:
 *
 *     {"key":{"value":"text","expire":1796043600000},"other":{"value":42}}
 *
 * `expire` (ms since the epoch) is there for entries that expire; expired ones are left out.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_node_core.h"
#include "ngx_node_shared_dict.h"


#define NGX_NODE_DICT_SAVE_DELAY  1000


/* reading */

typedef struct {
    u_char          *start;
    u_char          *pos;
    u_char          *end;
    ngx_pool_t      *pool;
    const char      *error;
} ngx_node_json_in_t;


static void
ngx_node_json_ws(ngx_node_json_in_t *in)
{
    while (in->pos < in->end
           && (*in->pos == ' ' || *in->pos == '\t' || *in->pos == '\n'
               || *in->pos == '\r'))
    {
        in->pos++;
    }
}


static ngx_int_t
ngx_node_json_expect(ngx_node_json_in_t *in, u_char c, const char *error)
{
    ngx_node_json_ws(in);

    if (in->pos < in->end && *in->pos == c) {
        in->pos++;
        return NGX_OK;
    }

    in->error = error;
    return NGX_ERROR;
}


static ngx_int_t
ngx_node_json_hex(ngx_node_json_in_t *in, uint32_t *code)
{
    ngx_int_t  n;

    if (in->end - in->pos < 4
        || (n = ngx_hextoi(in->pos, 4)) == NGX_ERROR)
    {
        in->error = "a \\u escape needs four hex digits";
        return NGX_ERROR;
    }

    in->pos += 4;
    *code = (uint32_t) n;

    return NGX_OK;
}


/* a string, its escapes decoded, into the pool */
static ngx_int_t
ngx_node_json_string(ngx_node_json_in_t *in, ngx_str_t *out)
{
    u_char    *p, c;
    uint32_t   code, low;

    if (ngx_node_json_expect(in, '"', "a string is expected") != NGX_OK) {
        return NGX_ERROR;
    }

    /* the decoded string is never longer than the encoded one */
    out->data = ngx_pnalloc(in->pool, in->end - in->pos + 1);
    if (out->data == NULL) {
        in->error = "out of memory";
        return NGX_ERROR;
    }

    p = out->data;

    for ( ;; ) {
        if (in->pos >= in->end) {
            in->error = "an unterminated string";
            return NGX_ERROR;
        }

        c = *in->pos++;

        if (c == '"') {
            break;
        }

        if (c != '\\') {
            *p++ = c;
            continue;
        }

        if (in->pos >= in->end) {
            in->error = "an unterminated string";
            return NGX_ERROR;
        }

        c = *in->pos++;

        switch (c) {
        case '"': case '\\': case '/':
            *p++ = c;
            break;
        case 'b':
            *p++ = '\b';
            break;
        case 'f':
            *p++ = '\f';
            break;
        case 'n':
            *p++ = '\n';
            break;
        case 'r':
            *p++ = '\r';
            break;
        case 't':
            *p++ = '\t';
            break;

        case 'u':
            if (ngx_node_json_hex(in, &code) != NGX_OK) {
                return NGX_ERROR;
            }

            if (code >= 0xd800 && code <= 0xdbff) {
                if (in->end - in->pos < 6 || in->pos[0] != '\\'
                    || in->pos[1] != 'u')
                {
                    in->error = "a lone surrogate";
                    return NGX_ERROR;
                }

                in->pos += 2;

                if (ngx_node_json_hex(in, &low) != NGX_OK) {
                    return NGX_ERROR;
                }

                if (low < 0xdc00 || low > 0xdfff) {
                    in->error = "a lone surrogate";
                    return NGX_ERROR;
                }

                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            }

            if (code < 0x80) {
                *p++ = (u_char) code;

            } else if (code < 0x800) {
                *p++ = (u_char) (0xc0 | (code >> 6));
                *p++ = (u_char) (0x80 | (code & 0x3f));

            } else if (code < 0x10000) {
                *p++ = (u_char) (0xe0 | (code >> 12));
                *p++ = (u_char) (0x80 | ((code >> 6) & 0x3f));
                *p++ = (u_char) (0x80 | (code & 0x3f));

            } else {
                *p++ = (u_char) (0xf0 | (code >> 18));
                *p++ = (u_char) (0x80 | ((code >> 12) & 0x3f));
                *p++ = (u_char) (0x80 | ((code >> 6) & 0x3f));
                *p++ = (u_char) (0x80 | (code & 0x3f));
            }

            break;

        default:
            in->error = "an unknown escape";
            return NGX_ERROR;
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_node_json_number(ngx_node_json_in_t *in, double *out)
{
    char     text[64], *end;
    size_t   len;
    u_char  *start;

    ngx_node_json_ws(in);

    start = in->pos;

    while (in->pos < in->end
           && ngx_strchr("+-0123456789.eE", *in->pos) != NULL
           && *in->pos != '\0')
    {
        in->pos++;
    }

    len = in->pos - start;

    if (len == 0 || len >= sizeof(text)) {
        in->error = "a number is expected";
        return NGX_ERROR;
    }

    ngx_memcpy(text, start, len);
    text[len] = '\0';

    *out = strtod(text, &end);

    if (*end != '\0') {
        in->error = "a malformed number";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* one entry's object: {"value": ..., "expire": ...} */
static ngx_int_t
ngx_node_json_entry(ngx_node_json_in_t *in, ngx_node_dict_t *dict,
    ngx_node_value_t *value, uint64_t *expire)
{
    double      number;
    ngx_str_t   name, text;
    ngx_uint_t  has_value;

    if (ngx_node_json_expect(in, '{', "an entry's object is expected")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    has_value = 0;
    *expire = 0;

    ngx_node_json_ws(in);

    if (in->pos < in->end && *in->pos == '}') {
        in->pos++;
        in->error = "an entry without \"value\"";
        return NGX_ERROR;
    }

    for ( ;; ) {
        if (ngx_node_json_string(in, &name) != NGX_OK
            || ngx_node_json_expect(in, ':', "\":\" is expected") != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_node_json_ws(in);

        if (name.len == 5 && ngx_strncmp(name.data, "value", 5) == 0) {
            if (dict->type == NGX_NODE_DICT_STRING) {
                if (ngx_node_json_string(in, &text) != NGX_OK) {
                    in->error = "a string value is expected (type=string)";
                    return NGX_ERROR;
                }

                *value = (ngx_node_value_t) { NGX_NODE_STRING, 0,
                                              (const char *) text.data,
                                              text.len };

            } else {
                if (ngx_node_json_number(in, &number) != NGX_OK) {
                    in->error = "a number value is expected (type=number)";
                    return NGX_ERROR;
                }

                *value = (ngx_node_value_t) { NGX_NODE_NUMBER, number, NULL,
                                              0 };
            }

            has_value = 1;

        } else if (name.len == 6 && ngx_strncmp(name.data, "expire", 6) == 0) {
            if (ngx_node_json_number(in, &number) != NGX_OK) {
                return NGX_ERROR;
            }

            *expire = number > 0 ? (uint64_t) number : 0;

        } else if (in->pos < in->end && *in->pos == '"') {
            if (ngx_node_json_string(in, &text) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (ngx_node_json_number(in, &number) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_node_json_ws(in);

        if (in->pos < in->end && *in->pos == ',') {
            in->pos++;
            continue;
        }

        if (ngx_node_json_expect(in, '}', "\",\" or \"}\" is expected")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        break;
    }

    if (!has_value) {
        in->error = "an entry without \"value\"";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* in the master, when the zone is new: the entries of the state file, if there is one */
ngx_int_t
ngx_node_dict_state_load(ngx_node_dict_t *dict, ngx_log_t *log)
{
    uint64_t             now, expire;
    ngx_err_t            err;
    ngx_str_t            content, key;
    ngx_pool_t          *pool;
    const char          *failed;
    ngx_node_value_t     value;
    ngx_node_json_in_t   in;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    if (ngx_node_read_file(&dict->state, pool, &content, &failed) != NGX_OK) {
        err = ngx_errno;
        ngx_destroy_pool(pool);

        if (err == NGX_ENOENT) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, log, err, "%s \"%V\" failed", failed,
                      &dict->state);
        return NGX_ERROR;
    }

    ngx_memzero(&in, sizeof(ngx_node_json_in_t));
    in.start = content.data;
    in.pos = content.data;
    in.end = content.data + content.len;
    in.pool = pool;

    now = ngx_node_dict_now();

    ngx_node_json_ws(&in);

    if (in.pos == in.end) {
        /* an empty file: an empty dict */
        ngx_destroy_pool(pool);
        return NGX_OK;
    }

    if (ngx_node_json_expect(&in, '{', "a JSON object is expected") != NGX_OK) {
        goto invalid;
    }

    ngx_node_json_ws(&in);

    if (in.pos < in.end && *in.pos == '}') {
        in.pos++;
        goto done;
    }

    ngx_shmtx_lock(&dict->shpool->mutex);

    for ( ;; ) {
        if (ngx_node_json_string(&in, &key) != NGX_OK
            || ngx_node_json_expect(&in, ':', "\":\" is expected") != NGX_OK
            || ngx_node_json_entry(&in, dict, &value, &expire) != NGX_OK)
        {
            ngx_shmtx_unlock(&dict->shpool->mutex);
            goto invalid;
        }

        if (expire == 0 && dict->timeout) {
            expire = now + dict->timeout;
        }

        if ((expire == 0 || expire > now)
            && ngx_node_dict_store_locked(dict, &key, &value, expire) != NGX_OK)
        {
            ngx_shmtx_unlock(&dict->shpool->mutex);
            in.error = "the zone is too small for the entries";
            goto invalid;
        }

        ngx_node_json_ws(&in);

        if (in.pos < in.end && *in.pos == ',') {
            in.pos++;
            continue;
        }

        if (ngx_node_json_expect(&in, '}', "\",\" or \"}\" is expected")
            != NGX_OK)
        {
            ngx_shmtx_unlock(&dict->shpool->mutex);
            goto invalid;
        }

        break;
    }

    /* just read: nothing to write back */
    dict->sh->dirty = 0;

    ngx_shmtx_unlock(&dict->shpool->mutex);

done:

    ngx_destroy_pool(pool);
    return NGX_OK;

invalid:

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "invalid state file \"%V\" of shared dict \"%V\": %s at "
                  "byte %uz; fix or remove it", &dict->state, &dict->name,
                  in.error, (size_t) (in.pos - in.start));

    ngx_destroy_pool(pool);
    return NGX_ERROR;
}


/* writing */

static u_char *
ngx_node_json_put_string(u_char *p, u_char *s, size_t len, size_t *size)
{
    u_char   c;
    size_t   i, n;

    static u_char  hex[] = "0123456789abcdef";

    n = 2;

    if (p) {
        *p++ = '"';
    }

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c == '"' || c == '\\') {
            n += 2;

            if (p) {
                *p++ = '\\';
                *p++ = c;
            }

        } else if (c < 0x20) {
            n += 6;

            if (p) {
                p = ngx_cpymem(p, "\\u00", 4);
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xf];
            }

        } else {
            n++;

            if (p) {
                *p++ = c;
            }
        }
    }

    if (p) {
        *p++ = '"';
    }

    if (size) {
        *size += n;
    }

    return p;
}


/* the entries as JSON: measured with p NULL, then written; the lock is held */
static size_t
ngx_node_dict_render(ngx_node_dict_t *dict, u_char *p)
{
    char                   number[64];
    size_t                 size;
    uint64_t               now;
    ngx_uint_t             first;
    ngx_queue_t           *q;
    ngx_node_dict_node_t  *n;

    now = ngx_node_dict_now();
    size = 2;
    first = 1;

    if (p) {
        *p++ = '{';
    }

    for (q = ngx_queue_head(&dict->sh->queue);
         q != ngx_queue_sentinel(&dict->sh->queue);
         q = ngx_queue_next(q))
    {
        n = (ngx_node_dict_node_t *) ((u_char *) q
                                      - offsetof(ngx_node_dict_node_t, queue));

        if (n->expire != 0 && n->expire <= now) {
            continue;
        }

        if (!first) {
            size++;

            if (p) {
                *p++ = ',';
            }
        }

        first = 0;

        p = ngx_node_json_put_string(p, n->key, n->key_len, &size);

        size += sizeof(":{\"value\":") - 1;

        if (p) {
            p = ngx_cpymem(p, ":{\"value\":", sizeof(":{\"value\":") - 1);
        }

        if (dict->sh->type == NGX_NODE_DICT_NUMBER) {
            size += snprintf(number, sizeof(number), "%.17g", n->number);

            if (p) {
                p = ngx_cpymem(p, number, ngx_strlen(number));
            }

        } else {
            p = ngx_node_json_put_string(p, n->value, n->value_len, &size);
        }

        if (n->expire) {
            size += snprintf(number, sizeof(number), ",\"expire\":%llu",
                             (unsigned long long) n->expire);

            if (p) {
                p = ngx_cpymem(p, number, ngx_strlen(number));
            }
        }

        size++;

        if (p) {
            *p++ = '}';
        }
    }

    if (p) {
        *p++ = '}';
    }

    return size;
}


/* NGX_OK, NGX_AGAIN (another worker writes it), NGX_ERROR (logged) */
ngx_int_t
ngx_node_dict_state_save(ngx_node_dict_t *dict, ngx_log_t *log)
{
    u_char      *json;
    size_t       size;
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_int_t    rc;
    ngx_str_t    temp;
    ngx_err_t    err;

    ngx_shmtx_lock(&dict->shpool->mutex);

    if (!dict->sh->dirty) {
        ngx_shmtx_unlock(&dict->shpool->mutex);
        return NGX_OK;
    }

    if (dict->sh->writing) {
        ngx_shmtx_unlock(&dict->shpool->mutex);
        return NGX_AGAIN;
    }

    size = ngx_node_dict_render(dict, NULL);
    json = ngx_alloc(size + dict->state.len + sizeof(".tmp"), log);

    if (json == NULL) {
        ngx_shmtx_unlock(&dict->shpool->mutex);
        return NGX_ERROR;
    }

    ngx_node_dict_render(dict, json);
    dict->sh->dirty = 0;
    dict->sh->writing = 1;

    ngx_shmtx_unlock(&dict->shpool->mutex);

    temp.data = json + size;
    temp.len = ngx_sprintf(temp.data, "%V.tmp%Z", &dict->state) - temp.data - 1;

    rc = NGX_ERROR;

    fd = ngx_open_file(temp.data, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_DEFAULT_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "shared dict \"%V\": cannot write its state file: "
                      ngx_open_file_n " \"%V\" failed%s", &dict->name, &temp,
                      err == NGX_EACCES ? " (the directory must be writable "
                                          "by the workers' user)" : "");
        goto done;
    }

    n = write(fd, json, size);

    if (n != (ssize_t) size || ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "shared dict \"%V\": writing \"%V\" failed",
                      &dict->name, &temp);
        (void) ngx_delete_file(temp.data);
        goto done;
    }

    if (ngx_rename_file(temp.data, dict->state.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "shared dict \"%V\": " ngx_rename_file_n " \"%V\" to "
                      "\"%V\" failed", &dict->name, &temp, &dict->state);
        (void) ngx_delete_file(temp.data);
        goto done;
    }

    rc = NGX_OK;

done:

    ngx_shmtx_lock(&dict->shpool->mutex);

    dict->sh->writing = 0;

    if (rc != NGX_OK) {
        /* try again later */
        dict->sh->dirty = 1;
    }

    ngx_shmtx_unlock(&dict->shpool->mutex);

    ngx_free(json);

    return rc;
}


static void
ngx_node_dict_save_handler(ngx_event_t *ev)
{
    ngx_node_dict_t  *dict;

    dict = (ngx_node_dict_t *) ((u_char *) ev
                                - offsetof(ngx_node_dict_t, save));

    if (ngx_node_dict_state_save(dict, ev->log) != NGX_OK && !ngx_exiting
        && !ngx_terminate)
    {
        ngx_add_timer(ev, NGX_NODE_DICT_SAVE_DELAY);
    }
}


/* a change in this worker: the file is written soon (graceful quit waits for it) */
void
ngx_node_dict_state_schedule(ngx_node_dict_t *dict)
{
    if (dict->save.timer_set) {
        return;
    }

    if (dict->save.handler == NULL) {
        dict->save.handler = ngx_node_dict_save_handler;
        dict->save.data = ngx_node_event_connection();
        dict->save.log = ngx_cycle->log;
    }

    ngx_add_timer(&dict->save, NGX_NODE_DICT_SAVE_DELAY);
}


void
ngx_node_dict_exit_process(ngx_array_t *dicts)
{
    ngx_uint_t         i;
    ngx_node_dict_t  **dict;

    dict = dicts->elts;

    for (i = 0; i < dicts->nelts; i++) {
        if (dict[i]->save.timer_set) {
            ngx_del_timer(&dict[i]->save);
        }

        if (dict[i]->state.len) {
            (void) ngx_node_dict_state_save(dict[i], ngx_cycle->log);
        }
    }
}
