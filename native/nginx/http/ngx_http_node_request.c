/*
 * The request ops: what JavaScript's `r` does in nginx (NGX_NODE_HTTP_OPS of ngx_node_abi.h).
 * Semantics follow njs's r object; src/runtime/http/request.ts is the other half.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"


typedef void (*ngx_http_node_op_pt)(ngx_http_request_t *r,
    ngx_http_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);


/* headers nginx keeps a pointer to besides the list, by lower-case name */
typedef struct {
    ngx_str_t     name;
    ngx_uint_t    offset;
} ngx_http_node_header_slot_t;


static ngx_http_node_header_slot_t  ngx_http_node_header_slots[] = {
    { ngx_string("server"), offsetof(ngx_http_headers_out_t, server) },
    { ngx_string("date"), offsetof(ngx_http_headers_out_t, date) },
    { ngx_string("content-encoding"),
      offsetof(ngx_http_headers_out_t, content_encoding) },
    { ngx_string("location"), offsetof(ngx_http_headers_out_t, location) },
    { ngx_string("refresh"), offsetof(ngx_http_headers_out_t, refresh) },
    { ngx_string("last-modified"),
      offsetof(ngx_http_headers_out_t, last_modified) },
    { ngx_string("content-range"),
      offsetof(ngx_http_headers_out_t, content_range) },
    { ngx_string("accept-ranges"),
      offsetof(ngx_http_headers_out_t, accept_ranges) },
    { ngx_string("www-authenticate"),
      offsetof(ngx_http_headers_out_t, www_authenticate) },
    { ngx_string("expires"), offsetof(ngx_http_headers_out_t, expires) },
    { ngx_string("etag"), offsetof(ngx_http_headers_out_t, etag) },
    { ngx_null_string, 0 }
};


/* whether `name` is the lower-case string literal `lower`, ignoring case (no strlen) */
#define ngx_http_node_is(name, lower)                                         \
    ((name)->len == sizeof(lower) - 1                                         \
     && ngx_strncasecmp((name)->data, (u_char *) lower, sizeof(lower) - 1)    \
        == 0)


/*
 * The lengths of a table's names as bits, 1 << len (names under 64 bytes): a name of
 * another length is in no table entry, which spares most lookups the scan of the table.
 */
static uint64_t
ngx_http_node_lengths(ngx_str_t *names, size_t stride)
{
    u_char     *p;
    uint64_t    mask;
    ngx_str_t  *name;

    mask = 0;

    for (p = (u_char *) names; /* void */ ; p += stride) {
        name = (ngx_str_t *) p;

        if (name->len == 0) {
            return mask;
        }

        mask |= (uint64_t) 1 << (name->len & 63);
    }
}


/* whether no name of the table (lengths from ngx_http_node_lengths()) has name's length */
static ngx_inline ngx_uint_t
ngx_http_node_no_length(uint64_t mask, ngx_str_t *name)
{
    return name->len < 64 && (mask & ((uint64_t) 1 << name->len)) == 0;
}


static ngx_table_elt_t **
ngx_http_node_header_slot(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_http_node_header_slot_t  *s;

    static uint64_t  lengths;

    if (lengths == 0) {
        lengths = ngx_http_node_lengths(&ngx_http_node_header_slots[0].name,
                                        sizeof(ngx_http_node_header_slot_t));
    }

    if (ngx_http_node_no_length(lengths, name)) {
        return NULL;
    }

    for (s = ngx_http_node_header_slots; s->name.len; s++) {
        if (s->name.len == name->len
            && ngx_strncasecmp(s->name.data, name->data, name->len) == 0)
        {
            return (ngx_table_elt_t **) ((u_char *) &r->headers_out
                                         + s->offset);
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_node_copy(ngx_http_request_t *r, ngx_str_t *dst, ngx_str_t *src)
{
    dst->len = src->len;
    dst->data = ngx_pnalloc(r->pool, src->len + 1);

    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);
    dst->data[src->len] = '\0';

    return NGX_OK;
}


/* request line */

static void
ngx_http_node_op_method(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_str(res, &r->method_name);
}


static void
ngx_http_node_op_uri(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_str(res, &r->uri);
}


static void
ngx_http_node_op_args(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_str(res, &r->args);
}


static void
ngx_http_node_op_http_version(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t  v;

    switch (r->http_version) {

    case NGX_HTTP_VERSION_9:
        ngx_str_set(&v, "0.9");
        break;

    case NGX_HTTP_VERSION_10:
        ngx_str_set(&v, "1.0");
        break;

#if (NGX_HTTP_V2)
    case NGX_HTTP_VERSION_20:
        ngx_str_set(&v, "2.0");
        break;
#endif

    default:
        ngx_str_set(&v, "1.1");
    }

    ngx_node_result_str(res, &v);
}


static void
ngx_http_node_op_remote_address(ngx_http_request_t *r,
    ngx_http_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    ngx_node_result_str(res, &r->connection->addr_text);
}


/* headers */

static void
ngx_http_node_push_list(ngx_list_t *list, ngx_node_result_t *res)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &list->part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        ngx_node_push_str(res, &h[i].key);
        ngx_node_push_str(res, &h[i].value);
    }
}


static void
ngx_http_node_op_headers_in(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_node_push_list(&r->headers_in.headers, res);
}


static void
ngx_http_node_op_headers_out(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    u_char     buf[NGX_OFF_T_LEN];
    ngx_str_t  name, value;

    if (r->headers_out.content_type.len) {
        ngx_str_set(&name, "Content-Type");
        ngx_node_push_str(res, &name);
        ngx_node_push_str(res, &r->headers_out.content_type);
    }

    if (r->headers_out.content_length == NULL
        && r->headers_out.content_length_n >= 0)
    {
        ngx_str_set(&name, "Content-Length");
        value.data = buf;
        value.len = ngx_sprintf(buf, "%O", r->headers_out.content_length_n)
                    - buf;
        ngx_node_push_str(res, &name);
        ngx_node_push_str(res, &value);
    }

    ngx_http_node_push_list(&r->headers_out.headers, res);
}


/*
 * The value of header `name` in `list`: with `single`, the first one's; else every one's,
 * joined with `sep`. NGX_DECLINED if there is none.
 */
static ngx_int_t
ngx_http_node_header_value(ngx_pool_t *pool, ngx_list_t *list, ngx_str_t *name,
    ngx_uint_t single, ngx_str_t *sep, ngx_str_t *value)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        i, n, pass;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    len = 0;
    p = NULL;

    /* the first pass measures, the second joins */

    for (pass = 0; pass < 2; pass++) {
        part = &list->part;
        h = part->elts;

        for (i = 0; /* void */ ; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            if (h[i].hash == 0 || h[i].key.len != name->len
                || ngx_strncasecmp(h[i].key.data, name->data, name->len) != 0)
            {
                continue;
            }

            if (pass == 0) {
                if (n == 0) {
                    *value = h[i].value;
                }

                len += (n ? sep->len : 0) + h[i].value.len;
                n++;

                if (single) {
                    return NGX_OK;
                }

                continue;
            }

            if (p != value->data) {
                p = ngx_cpymem(p, sep->data, sep->len);
            }

            p = ngx_cpymem(p, h[i].value.data, h[i].value.len);
        }

        if (n < 2) {
            return n ? NGX_OK : NGX_DECLINED;
        }

        if (pass == 0) {
            value->data = ngx_pnalloc(pool, len);
            if (value->data == NULL) {
                return NGX_ERROR;
            }

            p = value->data;
        }
    }

    value->len = p - value->data;

    return NGX_OK;
}


/*
 * incoming headers r.headersIn gives the first value of, as njs does (Content-Type, ETag, From,
 * Max-Forwards, Referer, Proxy-Authorization, User-Agent), and those nginx refuses to see twice
 * (a request repeating them gets 400 before any handler runs); other repeats are joined
 */
static ngx_str_t  ngx_http_node_single_headers_in[] = {
    ngx_string("content-type"), ngx_string("etag"), ngx_string("from"),
    ngx_string("max-forwards"), ngx_string("referer"),
    ngx_string("proxy-authorization"), ngx_string("user-agent"),
    ngx_string("host"), ngx_string("content-length"),
    ngx_string("content-range"), ngx_string("transfer-encoding"),
    ngx_string("if-modified-since"), ngx_string("if-unmodified-since"),
    ngx_string("if-match"), ngx_string("if-none-match"),
    ngx_string("if-range"), ngx_string("expect"), ngx_string("authorization"),
    ngx_null_string
};


/* headerIn(name): r.headersIn[name]; repeats joined with ", " (Cookie: "; ") */
static void
ngx_http_node_op_header_in(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t    name, value, sep;
    ngx_int_t    rc;
    ngx_uint_t   i, single;

    static uint64_t  lengths;

    if (ngx_node_arg_str(args, nargs, 0, &name) != NGX_OK) {
        ngx_node_result_type_error(res, "headersIn: a header name is a string");
        return;
    }

    if (lengths == 0) {
        lengths = ngx_http_node_lengths(ngx_http_node_single_headers_in,
                                        sizeof(ngx_str_t));
    }

    single = 0;

    if (!ngx_http_node_no_length(lengths, &name)) {
        for (i = 0; ngx_http_node_single_headers_in[i].len; i++) {
            if (ngx_http_node_single_headers_in[i].len == name.len
                && ngx_strncasecmp(ngx_http_node_single_headers_in[i].data,
                                   name.data, name.len) == 0)
            {
                single = 1;
                break;
            }
        }
    }

    if (ngx_http_node_is(&name, "cookie")) {
        ngx_str_set(&sep, "; ");

    } else {
        ngx_str_set(&sep, ", ");
    }

    rc = ngx_http_node_header_value(r->pool, &r->headers_in.headers, &name,
                                    single, &sep, &value);

    if (rc == NGX_ERROR) {
        ngx_node_result_fail(res, "out of memory");

    } else if (rc == NGX_OK) {
        ngx_node_result_str(res, &value);
    }
}


static void
ngx_http_node_op_header_out_get(ngx_http_request_t *r,
    ngx_http_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    u_char            buf[NGX_OFF_T_LEN];
    ngx_str_t         name, value, sep;
    ngx_int_t         rc;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ngx_node_arg_str(args, nargs, 0, &name) != NGX_OK) {
        ngx_node_result_type_error(res, "headersOut: a header name is a "
                                        "string");
        return;
    }

    if (ngx_http_node_is(&name, "content-type")) {
        if (r->headers_out.content_type.len) {
            ngx_node_result_str(res, &r->headers_out.content_type);
        }

        return;
    }

    if (ngx_http_node_is(&name, "content-length")
        && r->headers_out.content_length == NULL)
    {
        if (r->headers_out.content_length_n >= 0) {
            value.data = buf;
            value.len = ngx_sprintf(buf, "%O", r->headers_out.content_length_n)
                        - buf;
            ngx_node_result_str(res, &value);
        }

        return;
    }

    if (!ngx_http_node_is(&name, "set-cookie")) {
        /* one string, repeats joined with ", " */
        ngx_str_set(&sep, ", ");
        rc = ngx_http_node_header_value(r->pool, &r->headers_out.headers,
                                        &name, 0, &sep, &value);

        if (rc == NGX_ERROR) {
            ngx_node_result_fail(res, "out of memory");

        } else if (rc == NGX_OK) {
            ngx_node_result_str(res, &value);
        }

        return;
    }

    /* Set-Cookie: every value, as an array */

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == name.len
            && ngx_strncasecmp(h[i].key.data, name.data, name.len) == 0)
        {
            ngx_node_push_str(res, &h[i].value);
        }
    }
}


static void
ngx_http_node_header_delete(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t         i;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h, **slot;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            h[i].hash = 0;
        }
    }

    slot = ngx_http_node_header_slot(r, name);

    if (slot) {
        *slot = NULL;
    }

    if (ngx_http_node_is(name, "last-modified")) {
        r->headers_out.last_modified_time = -1;
    }
}


static void
ngx_http_node_op_header_out_set(ngx_http_request_t *r,
    ngx_http_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    off_t              n;
    ngx_str_t          name, value;
    ngx_table_elt_t   *h, **slot;

    if (ngx_node_arg_str(args, nargs, 0, &name) != NGX_OK) {
        ngx_node_result_type_error(res, "r.headersOut: a header name is a "
                                        "string");
        return;
    }

    if (ngx_node_token(&name) != NGX_OK) {
        ngx_node_result_type_error(res, "r.headersOut[\"%V\"]: not a valid "
                                        "header name (letters, digits and "
                                        "!#$%%&'*+-.^_`|~)", &name);
        return;
    }

    if (r->header_sent) {
        /* as njs: a late header is a mistake worth a line, not an exception */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ignored setting response header \"%V\": the header "
                      "was already sent", &name);
        return;
    }

    if (ngx_node_arg_str(args, nargs, 1, &value) == NGX_OK
        && ngx_node_safe_text(&value) != NGX_OK)
    {
        ngx_node_result_type_error(res, "r.headersOut[\"%V\"]: the value "
                                   NGX_NODE_UNSAFE_TEXT, &name);
        return;
    }

    if (ngx_node_arg_str(args, nargs, 1, &value) != NGX_OK) {
        /* no value: remove */

        if (ngx_http_node_is(&name, "content-type")) {
            ngx_str_null(&r->headers_out.content_type);
            r->headers_out.content_type_len = 0;
            r->headers_out.content_type_lowcase = NULL;
            return;
        }

        if (ngx_http_node_is(&name, "content-length")) {
            r->headers_out.content_length_n = -1;
            r->headers_out.content_length = NULL;
            return;
        }

        ngx_http_node_header_delete(r, &name);
        return;
    }

    if (ngx_http_node_is(&name, "content-type")) {
        if (ngx_http_node_copy(r, &r->headers_out.content_type, &value)
            != NGX_OK)
        {
            goto nomem;
        }

        r->headers_out.content_type_len = value.len;
        r->headers_out.content_type_lowcase = NULL;
        r->headers_out.content_type_hash = 0;
        return;
    }

    if (ngx_http_node_is(&name, "content-length")) {
        n = ngx_atoof(value.data, value.len);

        if (n == NGX_ERROR) {
            ngx_node_result_type_error(res, "headersOut: Content-Length must "
                                            "be a number of bytes, not \"%V\"",
                                       &value);
            return;
        }

        r->headers_out.content_length_n = n;
        r->headers_out.content_length = NULL;
        return;
    }

    if (nargs < 3 || args[2].type != NGX_NODE_BOOLEAN || !args[2].number) {
        /* a plain assignment replaces; the runtime appends further values */
        ngx_http_node_header_delete(r, &name);
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        goto nomem;
    }

    if (ngx_http_node_copy(r, &h->key, &name) != NGX_OK
        || ngx_http_node_copy(r, &h->value, &value) != NGX_OK)
    {
        h->hash = 0;
        goto nomem;
    }

    h->lowcase_key = ngx_pnalloc(r->pool, name.len);
    if (h->lowcase_key == NULL) {
        h->hash = 0;
        goto nomem;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, name.data, name.len);

    slot = ngx_http_node_header_slot(r, &name);

    if (slot) {
        *slot = h;
    }

    if (ngx_http_node_is(&name, "last-modified")) {
        r->headers_out.last_modified_time = ngx_parse_http_time(value.data,
                                                                value.len);
    }

    return;

nomem:

    ngx_node_result_fail(res, "out of memory");
}


static void
ngx_http_node_op_status(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_number(res, r->headers_out.status);
}


static void
ngx_http_node_op_set_status(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t  status;

    if (ngx_node_arg_int(args, nargs, 0, &status) != NGX_OK) {
        ngx_node_result_type_error(res, "r.status: a number");
        return;
    }

    if (r->header_sent) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ignored setting r.status to %i: the header was "
                      "already sent", status);
        return;
    }

    r->headers_out.status = status;
    r->headers_out.status_line.len = 0;
}


/* variables */

/*
 * r.variables[1]: a capture of the regular expression that matched last ($1 of a
 * "location ~" or an "if"), as njs gives it; NGX_DECLINED if the name is not a number.
 */
static ngx_int_t
ngx_http_node_capture(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_int_t  n;

    n = ngx_atoi(name->data, name->len);

    if (n == NGX_ERROR) {
        return NGX_DECLINED;
    }

    if (r->captures == NULL || r->captures_data == NULL
        || (ngx_uint_t) n >= r->ncaptures / 2)
    {
        return NGX_ERROR;
    }

    value->data = r->captures_data + r->captures[2 * n];
    value->len = r->captures[2 * n + 1] - r->captures[2 * n];

    return NGX_OK;
}


/* r.variables[name], r.rawVariables[name] (also a node_periodic run's) */
void
ngx_http_node_variable_op(ngx_http_request_t *r, const ngx_node_value_t *args,
    unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t                   rc;
    ngx_str_t                   name, value;
    ngx_uint_t                  key;
    ngx_node_value_t            bytes;
    ngx_http_variable_value_t  *vv;

    if (ngx_node_arg_variable(r->pool, args, nargs, &name, &key) != NGX_OK) {
        ngx_node_result_type_error(res, "r.variables: a variable name is a "
                                        "non-empty string");
        return;
    }

    rc = ngx_http_node_capture(r, &name, &value);

    if (rc == NGX_ERROR) {
        return;
    }

    if (rc == NGX_DECLINED) {
        vv = ngx_http_get_variable(r, &name, key);

        if (vv == NULL || vv->not_found) {
            return;
        }

        value.data = vv->data;
        value.len = vv->len;
    }

    /* (name, true): r.rawVariables, the bytes as they are */
    bytes = (ngx_node_value_t) {
        nargs > 1 && args[1].type == NGX_NODE_BOOLEAN && args[1].number
        ? NGX_NODE_BYTES : NGX_NODE_STRING, 0, (const char *) value.data,
        value.len
    };

    res->set(res, &bytes);
}


void
ngx_http_node_set_variable_op(ngx_http_request_t *r,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t                   name, value, copy;
    ngx_uint_t                  key;
    ngx_http_variable_t        *v;
    ngx_http_variable_value_t  *vv;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_node_arg_variable(r->pool, args, nargs, &name, &key) != NGX_OK
        || ngx_node_arg_str(args, nargs, 1, &value) != NGX_OK)
    {
        ngx_node_result_type_error(res, "r.variables: a variable name and a "
                                        "string");
        return;
    }

    /* variables end up in headers and request lines (add_header,
     * proxy_set_header, proxy_pass) */
    if (ngx_node_safe_text(&value) != NGX_OK) {
        ngx_node_result_type_error(res, "r.variables.%V: the value "
                                   NGX_NODE_UNSAFE_TEXT, &name);
        return;
    }

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    v = ngx_hash_find(&cmcf->variables_hash, key, name.data, name.len);

    if (v == NULL) {
        ngx_node_result_type_error(res, "r.variables.%V: no such variable; "
                                        "declare it in nginx.conf (\"set $%V "
                                        "'';\")", &name, &name);
        return;
    }

    if (ngx_http_node_copy(r, &copy, &value) != NGX_OK) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    if (v->set_handler != NULL) {
        vv = ngx_pcalloc(r->pool, sizeof(ngx_http_variable_value_t));
        if (vv == NULL) {
            ngx_node_result_fail(res, "out of memory");
            return;
        }

        vv->valid = 1;
        vv->data = copy.data;
        vv->len = copy.len;

        v->set_handler(r, vv, v->data);
        return;
    }

    if (!(v->flags & NGX_HTTP_VAR_INDEXED)
        || !(v->flags & NGX_HTTP_VAR_CHANGEABLE))
    {
        ngx_node_result_type_error(res, "r.variables.%V is read-only; "
                                        "writable are variables made with "
                                        "\"set\" and nginx's writable ones "
                                        "($args, $limit_rate ...)", &name);
        return;
    }

    vv = &r->variables[v->index];

    vv->valid = 1;
    vv->not_found = 0;
    vv->no_cacheable = 0;
    vv->data = copy.data;
    vv->len = copy.len;
}


static void
ngx_http_node_op_variable(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_node_variable_op(r, args, nargs, res);
}


static void
ngx_http_node_op_set_variable(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_node_set_variable_op(r, args, nargs, res);
}


/* the response */

static ngx_int_t
ngx_http_node_responding(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_node_result_t *res, const char *what)
{
    if ((!ctx->suspended && !ctx->in_call)
        || (ctx->kind != NGX_NODE_KIND_HTTP_CONTENT
            && ctx->kind != NGX_NODE_KIND_HTTP_ACCESS
            && ctx->kind != NGX_NODE_KIND_HTTP_REWRITE))
    {
        ngx_node_result_type_error(res, "r.%s(): only content, access and "
                                        "rewrite handlers respond, while their "
                                        "request is being handled", what);
        return NGX_ERROR;
    }

    if (ctx->ended) {
        ngx_node_result_type_error(res, "r.%s(): the response has already "
                                        "ended", what);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_node_send_header(ngx_http_request_t *r, ngx_node_result_t *res)
{
    if (r->header_sent) {
        return NGX_OK;
    }

    /* a body nobody reads must still leave the connection */
    if (r->request_body == NULL && ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (r->headers_out.status == 0) {
        r->headers_out.status = NGX_HTTP_OK;
    }

    if (ngx_http_set_content_type(r) != NGX_OK
        || ngx_http_send_header(r) == NGX_ERROR)
    {
        ngx_node_result_fail(res, "sending the response header failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_node_op_send_header(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    if (ngx_http_node_responding(r, ctx, res, "sendHeader") != NGX_OK) {
        return;
    }

    if (r->header_sent) {
        ngx_node_result_type_error(res, "r.sendHeader(): the header was "
                                        "already sent");
        return;
    }

    (void) ngx_http_node_send_header(r, res);
}


static void
ngx_http_node_op_send(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t     data;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_node_responding(r, ctx, res, "send") != NGX_OK) {
        return;
    }

    if (ngx_node_arg_str(args, nargs, 0, &data) != NGX_OK) {
        ngx_node_result_type_error(res, "r.send(data): a string or bytes");
        return;
    }

    if (ngx_http_node_send_header(r, res) != NGX_OK) {
        return;
    }

    if (data.len == 0 || r->header_only) {
        return;
    }

    b = ngx_create_temp_buf(r->pool, data.len);
    if (b == NULL) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    b->last = ngx_cpymem(b->last, data.data, data.len);
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    if (ngx_http_output_filter(r, &out) == NGX_ERROR) {
        ngx_node_result_fail(res, "r.send(): sending failed (the client "
                                  "went away?)");
    }
}


static void
ngx_http_node_op_finish(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    if (ngx_http_node_responding(r, ctx, res, "finish") != NGX_OK
        || ngx_http_node_send_header(r, res) != NGX_OK)
    {
        return;
    }

    ctx->ended = 1;

    if (ngx_http_send_special(r, NGX_HTTP_LAST) == NGX_ERROR) {
        ctx->status = NGX_ERROR;
        ngx_node_result_fail(res, "r.finish(): sending failed (the client "
                                  "went away?)");
        return;
    }

    ctx->status = NGX_OK;
}


static void
ngx_http_node_op_return(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t                 status;
    ngx_str_t                 body;
    ngx_http_complex_value_t  cv;

    if (ngx_http_node_responding(r, ctx, res, "return") != NGX_OK) {
        return;
    }

    if (r->header_sent) {
        ngx_node_result_type_error(res, "r.return(): the header was already "
                                        "sent; end the response with "
                                        "r.finish()");
        return;
    }

    if (ngx_node_arg_int(args, nargs, 0, &status) != NGX_OK) {
        ngx_node_result_type_error(res, "r.return(status[, body])");
        return;
    }

    if (status >= NGX_HTTP_MOVED_PERMANENTLY
        && status <= NGX_HTTP_PERMANENT_REDIRECT
        && status != NGX_HTTP_NOT_MODIFIED
        && ngx_node_arg_str(args, nargs, 1, &body) == NGX_OK
        && ngx_node_safe_text(&body) != NGX_OK)
    {
        ngx_node_result_type_error(res, "r.return(%i, url): the URL "
                                   NGX_NODE_UNSAFE_TEXT, status);
        return;
    }

    ctx->ended = 1;

    if (ngx_node_arg_str(args, nargs, 1, &body) != NGX_OK) {
        ngx_str_null(&body);

        if (status >= NGX_HTTP_BAD_REQUEST) {
            /* nginx's own error page, and error_page, as with "return 404;" */
            ctx->status = status;
            return;
        }
    }

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));

    if (ngx_http_node_copy(r, &cv.value, &body) != NGX_OK) {
        ngx_node_result_fail(res, "out of memory");
        ctx->status = NGX_ERROR;
        return;
    }

    r->disable_not_modified = 1;

    ctx->status = ngx_http_send_response(r, status, NULL, &cv);

    if (ctx->status == NGX_ERROR) {
        ngx_node_result_fail(res, "r.return(): sending failed (the client "
                                  "went away?)");
    }
}


static void
ngx_http_node_op_internal_redirect(ngx_http_request_t *r,
    ngx_http_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    ngx_str_t  uri;

    if (ngx_http_node_responding(r, ctx, res, "internalRedirect") != NGX_OK) {
        return;
    }

    if (r != r->main) {
        ngx_node_result_type_error(res, "r.internalRedirect(): not in a "
                                        "subrequest (as in njs); answer it "
                                        "with r.return()");
        return;
    }

    if (r->header_sent) {
        ngx_node_result_type_error(res, "r.internalRedirect(): the header was "
                                        "already sent");
        return;
    }

    if (ngx_node_arg_str(args, nargs, 0, &uri) != NGX_OK || uri.len == 0) {
        ngx_node_result_type_error(res, "r.internalRedirect(uri): a non-empty "
                                        "string");
        return;
    }

    if (ngx_node_safe_text(&uri) != NGX_OK) {
        ngx_node_result_type_error(res, "r.internalRedirect(uri): the URI "
                                   NGX_NODE_UNSAFE_TEXT);
        return;
    }

    if (ngx_http_node_copy(r, &ctx->redirect, &uri) != NGX_OK) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    ctx->ended = 1;
}


/* the request body */

static void ngx_http_node_body_ready(ngx_http_request_t *r);


/*
 * nginx's body reading, wrapped: when it stops without handing the body over (a body too
 * large, a broken chunk), nginx has already answered; the waiting promise is rejected.
 */
static void
ngx_http_node_body_read_handler(ngx_http_request_t *r)
{
    ngx_uint_t            alive;
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_node_module);

    /* nginx's reader may free the request (a client that went away, a body
     * that came too slowly): then the cleanup clears this */
    alive = 1;
    ctx->reading = &alive;

    ctx->body_reader(r);

    if (!alive) {
        return;
    }

    ctx->reading = NULL;

    if (ctx->body_token && r->read_event_handler
                           != ngx_http_node_body_read_handler)
    {
        ctx->body_status = NGX_DONE;
        ngx_http_node_body_abandon(ctx, "nginx refused the request body and "
                                        "answered the client itself");
    }
}


/* the body as one piece: nginx keeps it in buffers, part may be in a temp file */
static ngx_int_t
ngx_http_node_body_bytes(ngx_http_request_t *r, ngx_str_t *body,
    ngx_uint_t *copied)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    *copied = 0;
    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && ngx_buf_in_memory(cl->buf)) {
        body->data = cl->buf->pos;
        body->len = cl->buf->last - cl->buf->pos;
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    p = ngx_palloc(r->pool, len ? (size_t) len : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    *copied = 1;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);

            if (n != b->file_last - b->file_pos) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "reading the request body from %V failed",
                              &b->file->name);
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}


static void
ngx_http_node_body_ready(ngx_http_request_t *r)
{
    double                token;
    ngx_str_t             body;
    ngx_uint_t            copied;
    ngx_node_value_t      value;
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_node_module);

    /* the reference ngx_http_read_client_request_body() took */
    r->main->count--;

    ctx->body_ready = 1;

    /* nginx's reader had the events: give them back to the waiting handler */

    if (ctx->suspended && ctx->phase == NGX_CONF_UNSET) {
        r->write_event_handler = ngx_http_node_write_handler;

    } else if (ctx->suspended) {
        r->read_event_handler = ngx_http_test_reading;
        r->write_event_handler = ngx_http_core_run_phases;
    }

    token = ctx->body_token;
    ctx->body_token = 0;

    if (token == 0) {
        return;
    }

    if (ngx_http_node_body_bytes(r, &body, &copied) != NGX_OK) {
        ngx_str_set(&body, "reading the request body failed");
        value = (ngx_node_value_t) { NGX_NODE_STRING, 0,
                                     (const char *) body.data, body.len };
        ngx_node_resume(token, 1, &value);
        return;
    }

    value = (ngx_node_value_t) { NGX_NODE_BYTES, 0, (const char *) body.data,
                                 body.len };
    ngx_node_resume(token, 0, &value);

    if (copied) {
        ngx_pfree(r->pool, body.data);
    }
}


static void
ngx_http_node_op_read_body(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    u_char     why[64], *p;
    ngx_int_t  rc;

    if (ngx_http_node_responding(r, ctx, res, "readRequestBody") != NGX_OK) {
        return;
    }

    if (nargs < 1 || args[0].type != NGX_NODE_NUMBER || ctx->body_token) {
        ngx_node_result_type_error(res, "request body is already being read");
        return;
    }

    ctx->body_token = args[0].number;

    rc = ngx_http_read_client_request_body(r, ngx_http_node_body_ready);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* refused before anything was read: the handler may still answer,
         * else nginx answers with this status */
        ctx->body_status = rc;
        p = ngx_snprintf(why, sizeof(why) - 1,
                         "nginx refused the request body (status %i)", rc);
        *p = '\0';
        ngx_http_node_body_abandon(ctx, (const char *) why);
        return;
    }

    if (ctx->body_token && r->read_event_handler
                           != ngx_http_node_body_read_handler)
    {
        ctx->body_reader = r->read_event_handler;
        r->read_event_handler = ngx_http_node_body_read_handler;
    }
}


void
ngx_http_node_body_abandon(ngx_http_node_ctx_t *ctx, const char *why)
{
    double            token;
    ngx_node_value_t  value;

    token = ctx->body_token;

    if (token == 0) {
        return;
    }

    ctx->body_token = 0;

    value = (ngx_node_value_t) { NGX_NODE_STRING, 0, why, ngx_strlen(why) };
    ngx_node_resume(token, 1, &value);
}


/* the rest */

static void
ngx_http_node_op_log(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t  level;
    ngx_str_t  msg;

    if (ngx_node_arg_int(args, nargs, 0, &level) != NGX_OK
        || ngx_node_arg_str(args, nargs, 1, &msg) != NGX_OK
        || level < NGX_LOG_EMERG || level > NGX_LOG_DEBUG)
    {
        ngx_node_result_fail(res, "log(level, message): bad arguments");
        return;
    }

    ngx_log_error((ngx_uint_t) level, r->connection->log, 0, "%V", &msg);
}


static void
ngx_http_node_op_done(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t  outcome;

    if (ngx_node_arg_int(args, nargs, 0, &outcome) != NGX_OK) {
        ngx_node_result_fail(res, "done(outcome)");
        return;
    }

    ngx_http_node_done(ctx, outcome != NGX_NODE_OUTCOME_OK);
}


static void
ngx_http_node_op_request_body(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t         body;
    ngx_uint_t        copied;
    ngx_node_value_t  value;

    if (!ctx->body_ready) {
        return;
    }

    if (ngx_http_node_body_bytes(r, &body, &copied) != NGX_OK) {
        ngx_node_result_fail(res, "reading the request body failed");
        return;
    }

    value = (ngx_node_value_t) { NGX_NODE_BYTES, 0, (const char *) body.data,
                                 body.len };
    res->set(res, &value);

    if (copied) {
        ngx_pfree(r->pool, body.data);
    }
}


static void
ngx_http_node_op_decline(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    if (ngx_http_node_responding(r, ctx, res, "decline") != NGX_OK) {
        return;
    }

    ctx->declined = 1;
}


/* r.uri = "/path[?args]" in a node_rewrite handler: nginx picks the location again */
static void
ngx_http_node_op_set_uri(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    u_char     *question;
    ngx_str_t   uri, copy;

    if ((!ctx->in_call && !ctx->suspended)
        || ctx->kind != NGX_NODE_KIND_HTTP_REWRITE)
    {
        ngx_node_result_type_error(res, "r.uri can be changed by node_rewrite "
                                        "handlers only");
        return;
    }

    if (ngx_node_arg_str(args, nargs, 0, &uri) != NGX_OK || uri.len == 0
        || uri.data[0] != '/')
    {
        ngx_node_result_type_error(res, "r.uri: a path starting with \"/\"");
        return;
    }

    if (ngx_node_safe_text(&uri) != NGX_OK) {
        ngx_node_result_type_error(res, "r.uri " NGX_NODE_UNSAFE_TEXT);
        return;
    }

    if (ngx_http_node_copy(r, &copy, &uri) != NGX_OK) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    question = ngx_strlchr(copy.data, copy.data + copy.len, '?');

    if (question != NULL) {
        r->args.data = question + 1;
        r->args.len = copy.data + copy.len - question - 1;
        copy.len = question - copy.data;
    }

    r->uri = copy;
    r->valid_unparsed_uri = 0;
    r->uri_changed = 1;
    ngx_http_set_exten(r);
}


static void
ngx_http_node_op_set_args(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t  value;

    if (ngx_node_arg_str(args, nargs, 0, &value) != NGX_OK) {
        ngx_node_result_type_error(res, "r.args: an object or a query string");
        return;
    }

    if (ngx_node_safe_text(&value) != NGX_OK
        || ngx_strlchr(value.data, value.data + value.len, ' ') != NULL)
    {
        ngx_node_result_type_error(res, "r.args: the query string contains a "
                                        "space, CR, LF or another control "
                                        "character, which would split the "
                                        "request line; refused");
        return;
    }

    if (ngx_http_node_copy(r, &r->args, &value) != NGX_OK) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    r->valid_unparsed_uri = 0;
}


/* a subrequest's response body, kept in memory */
static void
ngx_http_node_op_response_body(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_buf_t         *b;
    ngx_node_value_t   value;

    if (r == r->main) {
        return;
    }

    b = r->out ? r->out->buf : NULL;

    value = (ngx_node_value_t) { NGX_NODE_BYTES, 0,
                                 b ? (const char *) b->pos : NULL,
                                 b ? (size_t) (b->last - b->pos) : 0 };
    res->set(res, &value);
}


static void
ngx_http_node_op_parent(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_node_ctx_t  *pctx;

    if (r->parent == NULL) {
        return;
    }

    pctx = ngx_http_node_ctx(r->parent);
    if (pctx == NULL) {
        ngx_node_result_fail(res, "r.parent: out of memory");
        return;
    }

    ngx_node_result_number(res, pctx->handle);
}


static void
ngx_http_node_op_internal(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_value_t  value = { NGX_NODE_BOOLEAN, r->internal, NULL, 0 };

    res->set(res, &value);
}


static void
ngx_http_node_op_prefetched(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t                handler;
    static ngx_node_value_t  none = { NGX_NODE_UNDEFINED, 0, NULL, 0 };

    if (ngx_node_arg_int(args, nargs, 0, &handler) != NGX_OK || handler < 0) {
        ngx_node_result_fail(res, "prefetched(handler, value)");
        return;
    }

    ngx_http_node_prefetched(r, ctx, handler, nargs > 1 ? &args[1] : &none);
}


static void
ngx_http_node_op_var_names(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_node_var_names(r, res);
}


/* the number of the node_fetch_* settings of the request's location (also of a
 * node_periodic run's stand-in request, whose ctx is NULL) */
void
ngx_http_node_fetch_op(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_number(res, ((ngx_http_node_loc_conf_t *)
        ngx_http_get_module_loc_conf(r, ngx_http_node_module))->fetch.index);
}


static ngx_http_node_op_pt  ngx_http_node_ops[NGX_NODE_HTTP_OP_COUNT] = {
    [NGX_NODE_HTTP_OP_METHOD] = ngx_http_node_op_method,
    [NGX_NODE_HTTP_OP_URI] = ngx_http_node_op_uri,
    [NGX_NODE_HTTP_OP_ARGS] = ngx_http_node_op_args,
    [NGX_NODE_HTTP_OP_HTTP_VERSION] = ngx_http_node_op_http_version,
    [NGX_NODE_HTTP_OP_REMOTE_ADDRESS] = ngx_http_node_op_remote_address,
    [NGX_NODE_HTTP_OP_HEADERS_IN] = ngx_http_node_op_headers_in,
    [NGX_NODE_HTTP_OP_HEADER_IN] = ngx_http_node_op_header_in,
    [NGX_NODE_HTTP_OP_HEADERS_OUT] = ngx_http_node_op_headers_out,
    [NGX_NODE_HTTP_OP_HEADER_OUT_GET] = ngx_http_node_op_header_out_get,
    [NGX_NODE_HTTP_OP_HEADER_OUT_SET] = ngx_http_node_op_header_out_set,
    [NGX_NODE_HTTP_OP_STATUS] = ngx_http_node_op_status,
    [NGX_NODE_HTTP_OP_SET_STATUS] = ngx_http_node_op_set_status,
    [NGX_NODE_HTTP_OP_VARIABLE] = ngx_http_node_op_variable,
    [NGX_NODE_HTTP_OP_SET_VARIABLE] = ngx_http_node_op_set_variable,
    [NGX_NODE_HTTP_OP_SEND_HEADER] = ngx_http_node_op_send_header,
    [NGX_NODE_HTTP_OP_SEND] = ngx_http_node_op_send,
    [NGX_NODE_HTTP_OP_FINISH] = ngx_http_node_op_finish,
    [NGX_NODE_HTTP_OP_RETURN] = ngx_http_node_op_return,
    [NGX_NODE_HTTP_OP_INTERNAL_REDIRECT] = ngx_http_node_op_internal_redirect,
    [NGX_NODE_HTTP_OP_READ_BODY] = ngx_http_node_op_read_body,
    [NGX_NODE_HTTP_OP_LOG] = ngx_http_node_op_log,
    [NGX_NODE_HTTP_OP_DONE] = ngx_http_node_op_done,
    [NGX_NODE_HTTP_OP_REQUEST_BODY] = ngx_http_node_op_request_body,
    [NGX_NODE_HTTP_OP_DECLINE] = ngx_http_node_op_decline,
    [NGX_NODE_HTTP_OP_SET_URI] = ngx_http_node_op_set_uri,
    [NGX_NODE_HTTP_OP_SET_ARGS] = ngx_http_node_op_set_args,
    [NGX_NODE_HTTP_OP_SEND_BUFFER] = ngx_http_node_send_buffer,
    [NGX_NODE_HTTP_OP_FILTER_DONE] = ngx_http_node_filter_done,
    [NGX_NODE_HTTP_OP_FILTERED] = ngx_http_node_filtered,
    [NGX_NODE_HTTP_OP_SUBREQUEST] = ngx_http_node_subrequest,
    [NGX_NODE_HTTP_OP_RESPONSE_BODY] = ngx_http_node_op_response_body,
    [NGX_NODE_HTTP_OP_PARENT] = ngx_http_node_op_parent,
    [NGX_NODE_HTTP_OP_INTERNAL] = ngx_http_node_op_internal,
    [NGX_NODE_HTTP_OP_PREFETCHED] = ngx_http_node_op_prefetched,
    [NGX_NODE_HTTP_OP_VAR_NAMES] = ngx_http_node_op_var_names,
    [NGX_NODE_HTTP_OP_FETCH] = ngx_http_node_fetch_op,
};


void
ngx_http_node_request_op(void *object, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_node_ctx_t  *ctx = object;

    if (op >= NGX_NODE_HTTP_OP_COUNT || ngx_http_node_ops[op] == NULL) {
        ngx_node_result_fail(res, "unknown request op %ud", op);
        return;
    }

    ngx_http_node_ops[op](ctx->request, ctx, args, nargs, res);
}
