/*
 * ngx-node's core (libngx_node_core.so): what the http and stream modules share.
 *   - the configuration every node_* directive adds to (imports, handler references, paths,
 *     Node options), kept by a core module so that it spans the whole nginx.conf;
 *   - the configuration check at load time (a short-lived checker process, ngx_node_check.c);
 *   - in each worker: the bridge (dlopen'ed, never in the master), Node's start and exit,
 *     the libuv loop inside nginx's event loop (ngx_node_loop.c), the list of suspended work.
 */

#ifndef NGX_NODE_CORE_H_INCLUDED
#define NGX_NODE_CORE_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_node_abi.h"


/*
 * A block of nginx.conf where node_import names are visible: http{} or stream{}, a server,
 * a location (and "if", "limit_except"). The protocol modules keep one in their
 * per-block configuration and link it to the enclosing block's when they merge.
 */
typedef struct ngx_node_scope_s  ngx_node_scope_t;

struct ngx_node_scope_s {
    ngx_node_scope_t  *parent;     /* NULL at http{} and stream{} level */
};


/* node_import, node_preload_object: a name for a file */
typedef struct {
    ngx_str_t          name;
    ngx_str_t          path;
    ngx_str_t          file;       /* where the directive stands */
    ngx_uint_t         line;
    ngx_node_scope_t  *scope;      /* node_import's block; NULL: node_preload_object,
                                      global to the configuration */
} ngx_node_import_t;


/* a directive that names a handler, "module.function" or "module.object.function" */
typedef struct {
    ngx_str_t          name;
    ngx_str_t          directive;
    ngx_str_t          file;
    ngx_uint_t         line;
    ngx_node_scope_t  *scope;      /* the block the directive stands in */
    ngx_int_t          import;     /* the node_import its module name means there (an
                                      index of imports), -1: none; see
                                      ngx_node_conf_resolve_imports() */
    ngx_int_t          same_variable;  /* node_set of a variable an earlier node_set
                                          gives: that one's number; else -1 */
    unsigned           stream:1;   /* in stream{}, else in http{} */
} ngx_node_handler_t;


typedef struct {
    ngx_array_t     imports;    /* ngx_node_import_t */
    ngx_array_t     handlers;   /* ngx_node_handler_t; the index is the handler's number */
    ngx_array_t     paths;      /* ngx_str_t: node_path directories, absolute */
    ngx_array_t     preloads;   /* ngx_node_import_t: node_preload_object */
    ngx_array_t     dicts;      /* ngx_node_dict_t *: node_shared_dict_zone */
    ngx_array_t     periodics;  /* ngx_node_periodic_t: node_periodic */
    ngx_array_t     fetches;    /* ngx_node_fetch_conf_t *: ngx.fetch's distinct
                                   settings, by number (ngx_node_fetch.h) */
    ngx_uint_t      fetch_outside; /* the number of those outside any handler */
    struct ngx_node_metrics_s *metrics;  /* node_metrics_zone, or NULL: off */
    ngx_array_t    *options;    /* ngx_str_t: node_option flags, or NULL */
    ngx_msec_t      cpu_timeout; /* node_cpu_timeout; 0: off */
    ngx_str_t       module_dir; /* the directory of the core library: bridge, checker,
                                   runtime */
    unsigned        initialized:1;
} ngx_node_conf_t;


/* work suspended on JavaScript; aborted when Node stops (process.exit()) */
typedef struct ngx_node_pending_s  ngx_node_pending_t;

struct ngx_node_pending_s {
    ngx_queue_t     queue;
    void          (*abort)(ngx_node_pending_t *pending);
};


ngx_node_conf_t *ngx_node_conf(ngx_conf_t *cf);

/* node_import [name from] path; in the block of scope (args from cf) */
char *ngx_node_conf_import(ngx_conf_t *cf, ngx_node_scope_t *scope);
/* node_preload_object [name from] file.json; (args from cf) */
char *ngx_node_conf_preload(ngx_conf_t *cf);
/* node_path dir; */
char *ngx_node_conf_path(ngx_conf_t *cf);
/* registers the handler named by cf->args[arg], in the block of scope; returns its number
 * or NGX_ERROR */
ngx_int_t ngx_node_conf_handler(ngx_conf_t *cf, ngx_node_scope_t *scope,
    ngx_uint_t arg);
/* a block's scope is inside its enclosing block's (the protocol modules' merge) */
void ngx_node_conf_merge_scope(ngx_node_scope_t *scope,
    ngx_node_scope_t *parent);
/* "$name" of node_set and node_var: the name */
ngx_int_t ngx_node_conf_variable_name(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *name);
/* node_set gives $variable a value again (handler after previous): NGX_OK if with the same
 * handler name, which must then mean the same file (checked once imports are resolved) */
ngx_int_t ngx_node_conf_same_handler(ngx_conf_t *cf, ngx_uint_t previous,
    ngx_uint_t handler, ngx_str_t *variable);

/* builds the runtime's configuration document (JSON) */
ngx_int_t ngx_node_conf_json(ngx_cycle_t *cycle, ngx_node_conf_t *ncf,
    ngx_int_t worker, ngx_str_t *json);

/* writing that document: it is written twice, measuring (last is NULL), then for real */
typedef struct {
    u_char         *pos;
    u_char         *last;
    size_t          size;
} ngx_node_json_t;

void ngx_node_json_raw(ngx_node_json_t *j, const char *s, size_t len);
void ngx_node_json_str(ngx_node_json_t *j, ngx_str_t *s);
void ngx_node_json_num(ngx_node_json_t *j, ngx_int_t n);
void ngx_node_json_bool(ngx_node_json_t *j, ngx_uint_t b);
/* "key": after a "," unless first */
void ngx_node_json_key(ngx_node_json_t *j, const char *key, ngx_uint_t first);

/* a whole file into the pool, NUL-terminated; NGX_ERROR: *failed names the call that
 * failed ("open()" ...) and ngx_errno says why (0: the file changed while read) */
ngx_int_t ngx_node_read_file(ngx_str_t *path, ngx_pool_t *pool,
    ngx_str_t *content, const char **failed);

/* runs the checker on a complete configuration; NGX_ERROR after logging what is wrong */
ngx_int_t ngx_node_check(ngx_cycle_t *cycle, ngx_node_conf_t *ncf);


/* in workers */

/* NULL unless Node runs in this worker */
const ngx_node_bridge_t *ngx_node_bridge(void);
const ngx_node_handler_t *ngx_node_handler(ngx_uint_t index);
/* whether a handler is an async function, once a call told: NGX_DECLINED if known not */
ngx_int_t ngx_node_handler_async(ngx_uint_t index);
void ngx_node_handler_set_async(ngx_uint_t index, ngx_uint_t async);

/*
 * Calls into JS; the loop is rescheduled afterwards. NGX_ABORT: the execution guard stopped
 * the call (node_cpu_timeout, the heap limit); for a handler (handler >= 0) that is logged,
 * naming it; ngx_node_stop_reason() says why and where.
 */
ngx_int_t ngx_node_call(ngx_log_t *log, unsigned kind, ngx_int_t handler,
    double handle, const ngx_node_value_t *arg, ngx_uint_t flags,
    ngx_node_value_t *ret);
const char *ngx_node_stop_reason(void);
void ngx_node_resume(double token, ngx_uint_t failed,
    const ngx_node_value_t *value);

double ngx_node_open(void *object, ngx_node_op_pt op);
void ngx_node_close(double handle);

void ngx_node_pending_add(ngx_node_pending_t *pending);
void ngx_node_pending_remove(ngx_node_pending_t *pending);
ngx_uint_t ngx_node_pending_count(void);

/* value helpers for host ops */
void ngx_node_result_str(ngx_node_result_t *res, ngx_str_t *s);
void ngx_node_push_str(ngx_node_result_t *res, ngx_str_t *s);
void ngx_node_result_number(ngx_node_result_t *res, double n);
/* the JS call throws an Error, a TypeError, a RangeError */
void ngx_node_result_fail(ngx_node_result_t *res, const char *fmt, ...);
void ngx_node_result_type_error(ngx_node_result_t *res, const char *fmt, ...);
void ngx_node_result_range_error(ngx_node_result_t *res, const char *fmt, ...);
/* text for a message's header or request line: no control characters but tab */
ngx_int_t ngx_node_safe_text(ngx_str_t *text);
#define NGX_NODE_UNSAFE_TEXT                                                  \
    "contains CR, LF or another control character, which would split the "  \
    "HTTP message; refused"
/* node_set values end up in headers and request lines: 1 if this one would split a
 * message (logged, naming the handler) */
ngx_uint_t ngx_node_unsafe_value(ngx_log_t *log, ngx_uint_t handler,
    ngx_str_t *value);
/* an HTTP token: a header name, a method */
ngx_int_t ngx_node_token(ngx_str_t *text);
ngx_int_t ngx_node_arg_str(const ngx_node_value_t *args, unsigned nargs,
    unsigned i, ngx_str_t *s);
ngx_int_t ngx_node_arg_int(const ngx_node_value_t *args, unsigned nargs,
    unsigned i, ngx_int_t *n);
/* args[0], a variable's name: lower-cased into the pool, with its hash */
ngx_int_t ngx_node_arg_variable(ngx_pool_t *pool, const ngx_node_value_t *args,
    unsigned nargs, ngx_str_t *lower, ngx_uint_t *key);


/* a connection-shaped ev->data for the module's own timers (nginx's debug log reads its
 * fd) */
ngx_connection_t *ngx_node_event_connection(void);


/* ngx_node_loop.c */
ngx_int_t ngx_node_loop_start(ngx_cycle_t *cycle, const ngx_node_bridge_t *bridge);
void ngx_node_loop_schedule(void);
void ngx_node_loop_stop(void);


#endif /* NGX_NODE_CORE_H_INCLUDED */
