/*
 * ngx.fetch's settings: the node_fetch_* directives, with njs's meaning and defaults. The
 * http and stream modules each embed an ngx_node_fetch_conf_t in their block configuration
 * and register the directives with NGX_NODE_FETCH_COMMANDS; parsing and merging happen here.
 * Each block's merged settings get a number: equal settings share one, and the runtime gets
 * the list, and the number of the http {} block's (stream {}'s, without http {}) for code
 * that runs outside any handler.
 */

#ifndef NGX_NODE_FETCH_H_INCLUDED
#define NGX_NODE_FETCH_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_node_core.h"


/*
 * The directives: X(name, arguments, setting), with what each takes and its default (njs's).
 * A module makes its command table's entries with NGX_NODE_FETCH_COMMAND, having defined
 * NGX_NODE_FETCH_CONTEXTS (njs's contexts), NGX_NODE_FETCH_CONF (NGX_HTTP_LOC_CONF_OFFSET
 * ...) and NGX_NODE_FETCH_OFFSET (where its conf struct has its ngx_node_fetch_conf_t).
 */
#define NGX_NODE_FETCH_DIRECTIVES(X)                                          \
    X(timeout, TAKE1, TIMEOUT)                  /* time: 60s */             \
    X(buffer_size, TAKE1, BUFFER_SIZE)          /* size: 16k */             \
    X(max_response_buffer_size, TAKE1, MAX_RESPONSE_BUFFER_SIZE) /* 1m */   \
    X(verify, FLAG, VERIFY)                     /* on|off: on */            \
    X(verify_depth, TAKE1, VERIFY_DEPTH)        /* number: 100 */           \
    X(trusted_certificate, TAKE1, TRUSTED_CERTIFICATE) /* a PEM file */     \
    X(ciphers, TAKE1, CIPHERS)                  /* "DEFAULT" */             \
    X(protocols, 1MORE, PROTOCOLS)              /* TLSv1 TLSv1.1 TLSv1.2 */ \
    X(keepalive, TAKE1, KEEPALIVE)              /* connections: 0 */        \
    X(keepalive_requests, TAKE1, KEEPALIVE_REQUESTS) /* number: 1000 */     \
    X(keepalive_time, TAKE1, KEEPALIVE_TIME)    /* time: 1h */              \
    X(keepalive_timeout, TAKE1, KEEPALIVE_TIMEOUT) /* time: 60s */          \
    X(proxy, TAKE1, PROXY)                      /* an http:// URL */

/* what a directive sets: cmd->post of its command */
#define NGX_NODE_FETCH_SETTING(name, args, setting)  NGX_NODE_FETCH_##setting,
typedef enum {
    NGX_NODE_FETCH_NONE = 0,
    NGX_NODE_FETCH_DIRECTIVES(NGX_NODE_FETCH_SETTING)
} ngx_node_fetch_setting_e;

#define NGX_NODE_FETCH_COMMAND(name, args, setting)                           \
    { ngx_string("node_fetch_" #name), NGX_NODE_FETCH_CONTEXTS|NGX_CONF_##args, \
      ngx_node_fetch_conf_set, NGX_NODE_FETCH_CONF, NGX_NODE_FETCH_OFFSET,    \
      (void *) NGX_NODE_FETCH_##setting },


/* a string setting and where its directive stands (the checker's messages name it) */
typedef struct {
    ngx_str_t                value;
    ngx_str_t                file;
    ngx_uint_t               line;
} ngx_node_fetch_text_t;


typedef struct {
    ngx_msec_t               timeout;
    size_t                   buffer_size;
    size_t                   max_response_buffer_size;
    ngx_flag_t               verify;
    ngx_uint_t               verify_depth;
    ngx_node_fetch_text_t    trusted_certificate;  /* the file, full path */
    ngx_str_t                trusted_pem;          /* its contents, read when nginx
                                                      reads its configuration */
    ngx_node_fetch_text_t    ciphers;
    ngx_uint_t               protocols;            /* NGX_NODE_FETCH_TLS* bits */
    ngx_uint_t               keepalive;
    ngx_uint_t               keepalive_requests;
    ngx_msec_t               keepalive_time;
    ngx_msec_t               keepalive_timeout;
    ngx_str_t                proxy;                /* http://[user:password@]host:port */
    ngx_resolver_t          *resolver;             /* the block's resolver, or NULL */
    ngx_msec_t               resolver_timeout;
    ngx_uint_t               index;                /* in the core's list, once merged */
} ngx_node_fetch_conf_t;


/* every node_fetch_* directive; cmd->offset locates the ngx_node_fetch_conf_t in conf */
char *ngx_node_fetch_conf_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* a block's settings, before its directives are read */
void ngx_node_fetch_conf_init(ngx_node_fetch_conf_t *fc);

/* inherits what the block does not set, takes the block's resolver (nginx's "resolver"
 * and "resolver_timeout"), and numbers the result */
char *ngx_node_fetch_conf_merge(ngx_conf_t *cf, ngx_node_fetch_conf_t *conf,
    ngx_node_fetch_conf_t *prev, ngx_resolver_t *resolver,
    ngx_msec_t resolver_timeout);

/* the http {} (http) or stream {} block's settings, at its postconfiguration: they serve
 * code outside any handler; http {}'s win */
char *ngx_node_fetch_conf_outside(ngx_conf_t *cf, ngx_node_fetch_conf_t *conf,
    ngx_resolver_t *resolver, ngx_msec_t resolver_timeout, ngx_uint_t http);

/* the core's list of distinct settings (ngx_node_fetch_conf_t *) */
ngx_int_t ngx_node_fetch_list_init(ngx_pool_t *pool, ngx_array_t *list);
/* once the configuration is read: the defaults, if no block gave settings */
ngx_int_t ngx_node_fetch_list_done(ngx_pool_t *pool, ngx_array_t *list);

/* the list as the runtime's document has it (src/runtime/config.ts, FetchConf) */
void ngx_node_fetch_json(ngx_node_json_t *j, ngx_array_t *list);


#endif /* NGX_NODE_FETCH_H_INCLUDED */
