/*
 * Shared dictionaries (node_shared_dict_zone, ngx.shared): key-value zones in nginx shared
 * memory that every worker sees, from http and stream handlers alike. Each operation takes
 * the zone's lock: it is atomic across workers.
 */

#ifndef NGX_NODE_SHARED_DICT_H_INCLUDED
#define NGX_NODE_SHARED_DICT_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_node_abi.h"


typedef enum {
    NGX_NODE_DICT_STRING = 0,
    NGX_NODE_DICT_NUMBER
} ngx_node_dict_type_e;


/* in shared memory */

/* an entry: one allocation for the node and its key; a string value has its own */
typedef struct ngx_node_dict_node_s  ngx_node_dict_node_t;

struct ngx_node_dict_node_s {
    ngx_node_dict_node_t     *next;      /* in its bucket */
    uint32_t                  hash;      /* of the key */
    uint16_t                  key_len;
    u_char                    ascii;     /* a string value is all ASCII */
    ngx_queue_t               queue;
    uint64_t                  expire;    /* ms since the epoch; 0: never */
    double                    number;
    u_char                   *value;
    uint32_t                  value_len;
    u_char                    key[1];
};

typedef struct {
    /* entries by the hash of their key: a power of two of chains, about one per 512 bytes
     * of the zone */
    ngx_node_dict_node_t    **buckets;
    uint32_t                  mask;      /* the number of buckets less one */
    ngx_queue_t               queue;     /* entries, least recently written first */
    ngx_node_dict_type_e      type;
    ngx_uint_t                dirty;     /* changed since the state file was written */
    ngx_uint_t                writing;   /* a worker writes the state file */
} ngx_node_dict_sh_t;

typedef struct {
    ngx_str_t                 name;
    size_t                    size;
    ngx_msec_t                timeout;   /* entries expire after it; 0: never */
    ngx_node_dict_type_e      type;
    ngx_uint_t                evict;     /* the least recently written go when full */
    ngx_str_t                 state;     /* a file the contents survive restarts in */
    ngx_shm_zone_t           *zone;
    ngx_node_dict_sh_t       *sh;
    ngx_slab_pool_t          *shpool;
    ngx_event_t               save;      /* writes the state file, soon after changes */
    ngx_str_t                 file;      /* where the directive stands */
    ngx_uint_t                line;
} ngx_node_dict_t;


/* node_shared_dict_zone zone=name:size [timeout=t] [type=string|number] [evict] [state=file];
 * adds to the core configuration */
char *ngx_node_conf_shared_dict_zone(ngx_conf_t *cf);

/* in workers: the entry points ngx.shared's functions call (ngx_node_abi.h), on these dicts */
const ngx_node_dict_host_t *ngx_node_dict_host(ngx_array_t *dicts);

/* in workers: the state files are written by then */
void ngx_node_dict_exit_process(ngx_array_t *dicts);

/* the state file (ngx_node_shared_dict_state.c) */
ngx_int_t ngx_node_dict_state_load(ngx_node_dict_t *dict, ngx_log_t *log);
void ngx_node_dict_state_schedule(ngx_node_dict_t *dict);
ngx_int_t ngx_node_dict_state_save(ngx_node_dict_t *dict, ngx_log_t *log);

/* used by the state file's code: the lock is taken by the caller */
ngx_int_t ngx_node_dict_store_locked(ngx_node_dict_t *dict, ngx_str_t *key,
    ngx_node_value_t *value, uint64_t expire);
uint64_t ngx_node_dict_now(void);


#endif /* NGX_NODE_SHARED_DICT_H_INCLUDED */
