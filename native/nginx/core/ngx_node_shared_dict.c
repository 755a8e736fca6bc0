/*
 * Shared dictionaries: zones of nginx shared memory (a slab pool), a hash table of entries by
 * key and a queue of them by last write. Expiry is checked on access; expired entries are
 * removed when room is needed, and a full zone with "evict" drops its least recently written
 * entries. src/runtime/shared-dict.ts is the JavaScript side (ngx.shared).
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_node_core.h"
#include "ngx_node_core_module.h"
#include "ngx_node_shared_dict.h"


static ngx_int_t ngx_node_dict_init_zone(ngx_shm_zone_t *shm_zone, void *data);


uint64_t
ngx_node_dict_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}


/* configuration */

char *
ngx_node_conf_shared_dict_zone(ngx_conf_t *cf)
{
    u_char           *p;
    ssize_t           size;
    ngx_str_t        *value, name, s;
    ngx_uint_t        i;
    ngx_node_conf_t  *ncf;
    ngx_node_dict_t  *dict, *d, **dicts, **slot;

    ncf = ngx_node_conf(cf);
    value = cf->args->elts;

    dict = ngx_pcalloc(cf->pool, sizeof(ngx_node_dict_t));
    if (dict == NULL) {
        return NGX_CONF_ERROR;
    }

    dict->type = NGX_NODE_DICT_STRING;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL || p == name.data) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone \"%V\": write it "
                                   "\"zone=name:size\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;
            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;
            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\": a size of at "
                                   "least %uzk", &s, 8 * ngx_pagesize / 1024);
                return NGX_CONF_ERROR;
            }

            dict->name = name;
            dict->size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;
            dict->timeout = ngx_parse_time(&s, 0);

            if (dict->timeout == (ngx_msec_t) NGX_ERROR || dict->timeout == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\": a time such as "
                                   "\"30s\" or \"10m\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "type=string") == 0) {
            dict->type = NGX_NODE_DICT_STRING;
            continue;
        }

        if (ngx_strcmp(value[i].data, "type=number") == 0) {
            dict->type = NGX_NODE_DICT_NUMBER;
            continue;
        }

        if (ngx_strcmp(value[i].data, "evict") == 0) {
            dict->evict = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "state=", 6) == 0) {
            dict->state.data = value[i].data + 6;
            dict->state.len = value[i].len - 6;

            if (dict->state.len == 0
                || ngx_conf_full_name(cf->cycle, &dict->state, 0) != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid state file \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": expected zone=name:size, "
                           "timeout=, type=string|number, evict or state=",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (dict->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"zone=name:size\"", &value[0]);
        return NGX_CONF_ERROR;
    }

    dicts = ncf->dicts.elts;

    for (i = 0; i < ncf->dicts.nelts; i++) {
        d = dicts[i];

        if (d->name.len == dict->name.len
            && ngx_strncmp(d->name.data, dict->name.data, dict->name.len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "shared dict \"%V\" is already declared in "
                               "%V:%ui", &dict->name, &d->file, d->line);
            return NGX_CONF_ERROR;
        }
    }

    dict->file = cf->conf_file->file.name;
    dict->line = cf->conf_file->line;

    /* the zone's data points at the dict: it does not move */
    slot = ngx_array_push(&ncf->dicts);
    if (slot == NULL) {
        return NGX_CONF_ERROR;
    }

    *slot = dict;
    d = dict;

    d->zone = ngx_shared_memory_add(cf, &d->name, d->size,
                                    &ngx_node_core_module_ctx);
    if (d->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (d->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &d->name);
        return NGX_CONF_ERROR;
    }

    d->zone->init = ngx_node_dict_init_zone;
    d->zone->data = d;
    d->zone->noreuse = 0;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_node_dict_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_node_dict_t  *odict = data;

    size_t            buckets;
    ngx_node_dict_t  *dict;

    dict = shm_zone->data;
    dict->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (odict) {
        /* a reload: the contents stay */
        dict->sh = odict->sh;

        if (dict->sh->type != dict->type) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "shared dict \"%V\" cannot change its type on "
                          "reload; restart nginx", &dict->name);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        dict->sh = dict->shpool->data;
        return NGX_OK;
    }

    dict->sh = ngx_slab_alloc(dict->shpool, sizeof(ngx_node_dict_sh_t));
    if (dict->sh == NULL) {
        return NGX_ERROR;
    }

    dict->shpool->data = dict->sh;

    for (buckets = 16; buckets * 2 <= dict->size / 512; buckets *= 2) {
        /* void */
    }

    dict->sh->buckets = ngx_slab_calloc(dict->shpool,
                                        buckets * sizeof(ngx_node_dict_node_t *));
    if (dict->sh->buckets == NULL) {
        return NGX_ERROR;
    }

    dict->sh->mask = (uint32_t) buckets - 1;
    ngx_queue_init(&dict->sh->queue);
    dict->sh->type = dict->type;

    /* a full zone is an answer (SharedMemoryError, or eviction), not a crit line */
    dict->shpool->log_nomem = 0;

    dict->shpool->log_ctx = ngx_slab_alloc(dict->shpool,
                                           sizeof(" in node shared dict \"\"")
                                           + shm_zone->shm.name.len);
    if (dict->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(dict->shpool->log_ctx, " in node shared dict \"%V\"%Z",
                &shm_zone->shm.name);

    if (dict->state.len) {
        return ngx_node_dict_state_load(dict, shm_zone->shm.log);
    }

    return NGX_OK;
}


/* the hash of a key: murmur2, quicker than crc32 on short keys (it is in shared memory only,
 * never in the state file) */
static uint32_t
ngx_node_dict_hash(ngx_str_t *key)
{
    return ngx_murmur_hash2(key->data, key->len);
}


/* entries; the lock is held */

static ngx_node_dict_node_t **
ngx_node_dict_bucket(ngx_node_dict_t *dict, uint32_t hash)
{
    return &dict->sh->buckets[hash & dict->sh->mask];
}


static ngx_node_dict_node_t *
ngx_node_dict_lookup(ngx_node_dict_t *dict, ngx_str_t *key, uint32_t hash)
{
    ngx_node_dict_node_t  *n;

    for (n = *ngx_node_dict_bucket(dict, hash); n != NULL; n = n->next) {

        if (n->hash == hash && n->key_len == key->len
            && ngx_memcmp(n->key, key->data, key->len) == 0)
        {
            return n;
        }
    }

    return NULL;
}


static ngx_uint_t
ngx_node_dict_expired(ngx_node_dict_node_t *n, uint64_t now)
{
    return n->expire != 0 && n->expire <= now;
}


static void
ngx_node_dict_remove(ngx_node_dict_t *dict, ngx_node_dict_node_t *n)
{
    ngx_node_dict_node_t  **p;

    for (p = ngx_node_dict_bucket(dict, n->hash); *p != n; p = &(*p)->next) {
        /* void */
    }

    *p = n->next;
    ngx_queue_remove(&n->queue);

    if (n->value) {
        ngx_slab_free_locked(dict->shpool, n->value);
    }

    ngx_slab_free_locked(dict->shpool, n);
}


/*
 * Room for an allocation: expired entries go first; then, with "evict", the least recently
 * written ones (`keep`, the entry being written, is not among them).
 */
static void *
ngx_node_dict_alloc(ngx_node_dict_t *dict, size_t size,
    ngx_node_dict_node_t *keep)
{
    void                  *p;
    uint64_t               now;
    ngx_queue_t           *q, *next;
    ngx_node_dict_node_t  *n;

    p = ngx_slab_alloc_locked(dict->shpool, size);
    if (p != NULL) {
        return p;
    }

    now = ngx_node_dict_now();

    for (q = ngx_queue_head(&dict->sh->queue);
         q != ngx_queue_sentinel(&dict->sh->queue);
         q = next)
    {
        next = ngx_queue_next(q);
        n = ngx_queue_data(q, ngx_node_dict_node_t, queue);

        if (n != keep && ngx_node_dict_expired(n, now)) {
            ngx_node_dict_remove(dict, n);
        }
    }

    p = ngx_slab_alloc_locked(dict->shpool, size);

    while (p == NULL && dict->evict) {

        for (q = ngx_queue_head(&dict->sh->queue);
             q != ngx_queue_sentinel(&dict->sh->queue);
             q = ngx_queue_next(q))
        {
            n = ngx_queue_data(q, ngx_node_dict_node_t, queue);

            if (n != keep) {
                break;
            }
        }

        if (q == ngx_queue_sentinel(&dict->sh->queue)) {
            break;
        }

        ngx_node_dict_remove(dict, n);
        p = ngx_slab_alloc_locked(dict->shpool, size);
    }

    return p;
}


static uint64_t
ngx_node_dict_expire_at(ngx_node_dict_t *dict, ngx_msec_t timeout)
{
    if (timeout == 0) {
        timeout = dict->timeout;
    }

    return timeout ? ngx_node_dict_now() + timeout : 0;
}


/* an entry's value; the entry is new (value NULL) or being replaced; ascii: the string is
 * known to be all ASCII */
static ngx_int_t
ngx_node_dict_assign(ngx_node_dict_t *dict, ngx_node_dict_node_t *n,
    const ngx_node_value_t *value, ngx_uint_t ascii)
{
    u_char  *p;

    if (dict->sh->type == NGX_NODE_DICT_NUMBER) {
        n->number = value->number;
        return NGX_OK;
    }

    if (n->value == NULL || n->value_len != value->len) {
        p = ngx_node_dict_alloc(dict, value->len ? value->len : 1, n);
        if (p == NULL) {
            return NGX_ERROR;
        }

        if (n->value) {
            ngx_slab_free_locked(dict->shpool, n->value);
        }

        n->value = p;
    }

    ngx_memcpy(n->value, value->data, value->len);
    n->value_len = value->len;
    n->ascii = (u_char) ascii;

    return NGX_OK;
}


/*
 * Writes an entry: n is the one of that key (expired or not), or NULL. NGX_OK, or NGX_ERROR
 * when there is no room.
 */
static ngx_int_t
ngx_node_dict_write_locked(ngx_node_dict_t *dict, ngx_node_dict_node_t *n,
    ngx_str_t *key, uint32_t hash, const ngx_node_value_t *value,
    ngx_uint_t ascii, uint64_t expire)
{
    ngx_node_dict_node_t  **bucket;

    if (n == NULL) {
        n = ngx_node_dict_alloc(dict, offsetof(ngx_node_dict_node_t, key)
                                      + key->len, NULL);
        if (n == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(n, offsetof(ngx_node_dict_node_t, key));
        n->hash = hash;
        n->key_len = (uint16_t) key->len;
        ngx_memcpy(n->key, key->data, key->len);

        /* in the queue first: room for its value may be made by eviction */
        ngx_queue_insert_tail(&dict->sh->queue, &n->queue);

        if (ngx_node_dict_assign(dict, n, value, ascii) != NGX_OK) {
            ngx_queue_remove(&n->queue);
            ngx_slab_free_locked(dict->shpool, n);
            return NGX_ERROR;
        }

        bucket = ngx_node_dict_bucket(dict, hash);
        n->next = *bucket;
        *bucket = n;

    } else {
        if (ngx_node_dict_assign(dict, n, value, ascii) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_queue_remove(&n->queue);
        ngx_queue_insert_tail(&dict->sh->queue, &n->queue);
    }

    n->expire = expire;
    dict->sh->dirty = 1;

    return NGX_OK;
}


/* (a value of the state file is not known to be ASCII: get() makes it a string from UTF-8) */
ngx_int_t
ngx_node_dict_store_locked(ngx_node_dict_t *dict, ngx_str_t *key,
    ngx_node_value_t *value, uint64_t expire)
{
    uint32_t  hash;

    hash = ngx_node_dict_hash(key);

    return ngx_node_dict_write_locked(dict,
                                      ngx_node_dict_lookup(dict, key, hash),
                                      key, hash, value, 0, expire);
}


/* the entry points of ngx_node_dict_host_t, on this worker's dicts */

static ngx_array_t  *ngx_node_dicts;


static ngx_node_dict_t *
ngx_node_dict_zone(unsigned zone)
{
    if (ngx_node_dicts == NULL || zone >= ngx_node_dicts->nelts) {
        return NULL;
    }

    return ((ngx_node_dict_t **) ngx_node_dicts->elts)[zone];
}


/* the dict of an entry point with a key, and the key's hash; NULL: no such zone, or the key
 * is too long */
static ngx_node_dict_t *
ngx_node_dict_keyed(unsigned zone, const char *data, size_t len,
    ngx_str_t *key, uint32_t *hash)
{
    if (len > NGX_NODE_DICT_KEY_MAX) {
        return NULL;
    }

    key->data = (u_char *) data;
    key->len = len;
    *hash = ngx_node_dict_hash(key);

    return ngx_node_dict_zone(zone);
}


/* a timeout of the runtime's, in ms: 0 is the zone's; beyond any horizon is 1e15 (30 000
 * years) */
static ngx_msec_t
ngx_node_dict_timeout(double timeout)
{
    return timeout >= 1 ? (ngx_msec_t) ngx_min(timeout, 1e15) : 0;
}


static void
ngx_node_dict_lock(ngx_node_dict_t *dict)
{
    ngx_shmtx_lock(&dict->shpool->mutex);
}


/* changed: the state file is written soon */
static void
ngx_node_dict_unlock(ngx_node_dict_t *dict, ngx_uint_t changed)
{
    if (changed) {
        dict->sh->dirty = 1;
    }

    ngx_shmtx_unlock(&dict->shpool->mutex);

    if (changed && dict->state.len) {
        ngx_node_dict_state_schedule(dict);
    }
}


/* an entry's value, copied out for the bridge */
static int
ngx_node_dict_read(ngx_node_dict_t *dict, ngx_node_dict_node_t *n,
    ngx_node_dict_value_t *value)
{
    if (dict->sh->type == NGX_NODE_DICT_NUMBER) {
        value->number = n->number;
        return NGX_NODE_DICT_YES;
    }

    value->text = value->room(n->value_len);
    if (value->text == NULL) {
        return NGX_NODE_DICT_BAD;
    }

    ngx_memcpy(value->text, n->value, n->value_len);
    value->len = n->value_len;
    value->ascii = n->ascii;

    return NGX_NODE_DICT_YES;
}


static int
ngx_node_dict_get(unsigned zone, const char *data, size_t len, unsigned remove,
    ngx_node_dict_value_t *value)
{
    int                    rc;
    uint32_t               hash;
    ngx_str_t              key;
    ngx_node_dict_t       *dict;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_keyed(zone, data, len, &key, &hash);
    if (dict == NULL) {
        return NGX_NODE_DICT_BAD;
    }

    ngx_node_dict_lock(dict);

    n = ngx_node_dict_lookup(dict, &key, hash);
    rc = NGX_NODE_DICT_NO;

    if (n != NULL && !ngx_node_dict_expired(n, ngx_node_dict_now())) {
        rc = ngx_node_dict_read(dict, n, value);
    }

    if (n != NULL && remove && rc != NGX_NODE_DICT_BAD) {
        ngx_node_dict_remove(dict, n);
        ngx_node_dict_unlock(dict, 1);
        return rc;
    }

    ngx_node_dict_unlock(dict, 0);

    return rc;
}


static int
ngx_node_dict_has(unsigned zone, const char *data, size_t len, unsigned remove)
{
    uint32_t               hash;
    ngx_str_t              key;
    ngx_uint_t             found;
    ngx_node_dict_t       *dict;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_keyed(zone, data, len, &key, &hash);
    if (dict == NULL) {
        return NGX_NODE_DICT_BAD;
    }

    ngx_node_dict_lock(dict);

    n = ngx_node_dict_lookup(dict, &key, hash);
    found = n != NULL && !ngx_node_dict_expired(n, ngx_node_dict_now());

    if (n != NULL && remove) {
        ngx_node_dict_remove(dict, n);
    }

    ngx_node_dict_unlock(dict, n != NULL && remove);

    return found ? NGX_NODE_DICT_YES : NGX_NODE_DICT_NO;
}


static int
ngx_node_dict_ttl(unsigned zone, const char *data, size_t len, double *ms)
{
    int                    rc;
    uint32_t               hash;
    uint64_t               now;
    ngx_str_t              key;
    ngx_node_dict_t       *dict;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_keyed(zone, data, len, &key, &hash);
    if (dict == NULL) {
        return NGX_NODE_DICT_BAD;
    }

    ngx_node_dict_lock(dict);

    now = ngx_node_dict_now();
    n = ngx_node_dict_lookup(dict, &key, hash);
    rc = NGX_NODE_DICT_NO;

    if (n != NULL && !ngx_node_dict_expired(n, now)) {
        *ms = n->expire ? (double) (n->expire - now) : -1;
        rc = NGX_NODE_DICT_YES;
    }

    ngx_node_dict_unlock(dict, 0);

    return rc;
}


static int
ngx_node_dict_store(unsigned zone, unsigned how, const char *data, size_t len,
    const ngx_node_value_t *value, unsigned ascii, double timeout)
{
    int                    rc;
    uint32_t               hash;
    ngx_str_t              key;
    ngx_uint_t             there;
    ngx_node_dict_t       *dict;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_keyed(zone, data, len, &key, &hash);

    if (dict == NULL
        || value->type != (dict->sh->type == NGX_NODE_DICT_NUMBER
                           ? NGX_NODE_NUMBER : NGX_NODE_STRING))
    {
        return NGX_NODE_DICT_BAD;
    }

    ngx_node_dict_lock(dict);

    /* an expired entry is not there; its node is written again */
    n = ngx_node_dict_lookup(dict, &key, hash);
    there = n != NULL && !ngx_node_dict_expired(n, ngx_node_dict_now());

    if ((how == NGX_NODE_DICT_ADD && there)
        || (how == NGX_NODE_DICT_REPLACE && !there))
    {
        rc = NGX_NODE_DICT_NO;

    } else if (ngx_node_dict_write_locked(dict, n, &key, hash, value, ascii,
                   ngx_node_dict_expire_at(dict,
                                           ngx_node_dict_timeout(timeout)))
               != NGX_OK)
    {
        rc = NGX_NODE_DICT_FULL;

    } else {
        rc = NGX_NODE_DICT_YES;
    }

    ngx_node_dict_unlock(dict, rc == NGX_NODE_DICT_YES);

    return rc;
}


static int
ngx_node_dict_incr(unsigned zone, const char *data, size_t len, double delta,
    double init, double timeout, double *result)
{
    int                    rc;
    uint32_t               hash;
    ngx_str_t              key;
    ngx_msec_t             ms;
    ngx_node_dict_t       *dict;
    ngx_node_value_t       value;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_keyed(zone, data, len, &key, &hash);

    if (dict == NULL || dict->sh->type != NGX_NODE_DICT_NUMBER) {
        return NGX_NODE_DICT_BAD;
    }

    ms = ngx_node_dict_timeout(timeout);

    ngx_node_dict_lock(dict);

    n = ngx_node_dict_lookup(dict, &key, hash);

    if (n != NULL && !ngx_node_dict_expired(n, ngx_node_dict_now())) {
        n->number += delta;

        if (ms) {
            n->expire = ngx_node_dict_expire_at(dict, ms);
        }

        ngx_queue_remove(&n->queue);
        ngx_queue_insert_tail(&dict->sh->queue, &n->queue);
        *result = n->number;
        rc = NGX_NODE_DICT_YES;

    } else {
        value = (ngx_node_value_t) { NGX_NODE_NUMBER, init + delta, NULL, 0 };
        *result = value.number;
        rc = ngx_node_dict_write_locked(dict, n, &key, hash, &value, 0,
                                        ngx_node_dict_expire_at(dict, ms))
             == NGX_OK ? NGX_NODE_DICT_YES : NGX_NODE_DICT_FULL;
    }

    ngx_node_dict_unlock(dict, rc == NGX_NODE_DICT_YES);

    return rc;
}


/* keys and items: what has not expired, least recently written first */
static int
ngx_node_dict_list(unsigned zone, unsigned items, double max,
    ngx_node_result_t *res)
{
    uint64_t               now;
    ngx_int_t              left;
    ngx_str_t              key;
    ngx_queue_t           *q;
    ngx_node_dict_t       *dict;
    ngx_node_value_t       v;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_zone(zone);
    if (dict == NULL) {
        return NGX_NODE_DICT_BAD;
    }

    left = max < 0 || max >= (double) NGX_MAX_INT_T_VALUE
           ? NGX_MAX_INT_T_VALUE : (ngx_int_t) max;

    ngx_node_dict_lock(dict);

    now = ngx_node_dict_now();

    for (q = ngx_queue_head(&dict->sh->queue);
         q != ngx_queue_sentinel(&dict->sh->queue) && left > 0;
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_node_dict_node_t, queue);

        if (ngx_node_dict_expired(n, now)) {
            continue;
        }

        key.data = n->key;
        key.len = n->key_len;
        ngx_node_push_str(res, &key);

        if (items) {
            v = dict->sh->type == NGX_NODE_DICT_NUMBER
                ? (ngx_node_value_t) { NGX_NODE_NUMBER, n->number, NULL, 0 }
                : (ngx_node_value_t) { NGX_NODE_STRING, 0,
                                       (const char *) n->value, n->value_len };
            res->push(res, &v);
        }

        left--;
    }

    ngx_node_dict_unlock(dict, 0);

    return NGX_NODE_DICT_YES;
}


static double
ngx_node_dict_size(unsigned zone)
{
    double                 size;
    uint64_t               now;
    ngx_queue_t           *q;
    ngx_node_dict_t       *dict;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_zone(zone);
    if (dict == NULL) {
        return -1;
    }

    ngx_node_dict_lock(dict);

    now = ngx_node_dict_now();
    size = 0;

    for (q = ngx_queue_head(&dict->sh->queue);
         q != ngx_queue_sentinel(&dict->sh->queue);
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_node_dict_node_t, queue);
        size += !ngx_node_dict_expired(n, now);
    }

    ngx_node_dict_unlock(dict, 0);

    return size;
}


static int
ngx_node_dict_clear(unsigned zone)
{
    ngx_node_dict_t       *dict;
    ngx_node_dict_node_t  *n;

    dict = ngx_node_dict_zone(zone);
    if (dict == NULL) {
        return NGX_NODE_DICT_BAD;
    }

    ngx_node_dict_lock(dict);

    while (!ngx_queue_empty(&dict->sh->queue)) {
        n = ngx_queue_data(ngx_queue_head(&dict->sh->queue),
                           ngx_node_dict_node_t, queue);
        ngx_node_dict_remove(dict, n);
    }

    ngx_node_dict_unlock(dict, 1);

    return NGX_NODE_DICT_YES;
}


static double
ngx_node_dict_free_space(unsigned zone)
{
    double            bytes;
    ngx_node_dict_t  *dict;

    dict = ngx_node_dict_zone(zone);
    if (dict == NULL) {
        return -1;
    }

    ngx_node_dict_lock(dict);
    bytes = (double) dict->shpool->pfree * ngx_pagesize;
    ngx_node_dict_unlock(dict, 0);

    return bytes;
}


static const ngx_node_dict_host_t  ngx_node_dict_host_entries = {
    ngx_node_dict_get,
    ngx_node_dict_has,
    ngx_node_dict_ttl,
    ngx_node_dict_store,
    ngx_node_dict_incr,
    ngx_node_dict_list,
    ngx_node_dict_size,
    ngx_node_dict_clear,
    ngx_node_dict_free_space,
};


const ngx_node_dict_host_t *
ngx_node_dict_host(ngx_array_t *dicts)
{
    ngx_node_dicts = dicts;

    return &ngx_node_dict_host_entries;
}
