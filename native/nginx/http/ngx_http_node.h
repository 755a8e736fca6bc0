/*
 * ngx-node's http module, shared between its files:
 *   ngx_http_node_module.c      directives, configuration, registration in phases and filters
 *   ngx_http_node_handlers.c    the request's context, calling handlers, suspending, phases,
 *                               variables
 *   ngx_http_node_filter.c      node_header_filter, node_body_filter
 *   ngx_http_node_subrequest.c  r.subrequest()
 *   ngx_http_node_request.c     the ops behind JavaScript's `r`
 *   ngx_node_lua.c              calls from OpenResty's Lua (resty.node)
 */

#ifndef NGX_HTTP_NODE_H_INCLUDED
#define NGX_HTTP_NODE_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_node_core.h"
#include "ngx_node_fetch.h"
#include "ngx_node_metrics.h"


/* node_body_filter's parameters */
#define NGX_HTTP_NODE_FILTER_BUFFERED  0x10   /* whole body, async handler */

/* our bit of r->buffered while a buffered body filter holds the response */
#define NGX_HTTP_NODE_BUFFERED         0x08


/* a node_set variable: its value may come from an async function, awaited before access */
typedef struct {
    ngx_uint_t            index;       /* the variable's */
    ngx_uint_t            handler;
} ngx_http_node_var_t;


typedef struct {
    ngx_int_t             rewrite;     /* node_rewrite in a server block */
} ngx_http_node_srv_conf_t;


typedef struct {
    ngx_int_t             content;     /* handler numbers, or NGX_CONF_UNSET */
    ngx_int_t             access;
    ngx_int_t             rewrite;
    ngx_int_t             header_filter;
    ngx_int_t             body_filter;
    ngx_int_t             log;
    ngx_uint_t            body_filter_flags;
    ngx_flag_t            read_request_body;
    size_t                filter_buffer_size;
    ngx_msec_t            timeout;
    ngx_array_t          *sets;        /* ngx_http_node_var_t: node_set here and above */
    ngx_node_fetch_conf_t fetch;       /* node_fetch_* */
    ngx_node_scope_t      scope;       /* where this block's node_import names are seen */
} ngx_http_node_loc_conf_t;


typedef struct {
    ngx_uint_t            phases;      /* NGX_HTTP_NODE_USES_*: which phases to join */
} ngx_http_node_main_conf_t;

#define NGX_HTTP_NODE_USES_REWRITE      0x01
#define NGX_HTTP_NODE_USES_PREFETCH     0x02
#define NGX_HTTP_NODE_USES_ACCESS       0x04
#define NGX_HTTP_NODE_USES_LOG          0x08
#define NGX_HTTP_NODE_USES_FILTERS      0x10


/* where a phase handler stands: a phase calls its handlers again after a suspension */
typedef enum {
    NGX_HTTP_NODE_STEP_IDLE = 0,
    NGX_HTTP_NODE_STEP_RUNNING,        /* suspended */
    NGX_HTTP_NODE_STEP_COMPLETE        /* done; the phase's next call takes the result */
} ngx_http_node_step_e;

typedef enum {
    NGX_HTTP_NODE_SERVER_REWRITE = 0,
    NGX_HTTP_NODE_REWRITE,
    NGX_HTTP_NODE_PREFETCH,
    NGX_HTTP_NODE_ACCESS,
    NGX_HTTP_NODE_PHASES
} ngx_http_node_phase_e;


/* calls from Lua (ngx_node_lua.c) */
typedef struct ngx_node_lua_calls_s  ngx_node_lua_calls_t;


/* one per request that met a node handler */
typedef struct {
    ngx_http_request_t   *request;
    double                handle;      /* JS's name for this request; 0 once closed */
    ngx_node_pending_t    pending;     /* in the worker's list while suspended */

    /* the handler being called, or suspended */
    ngx_uint_t            kind;        /* NGX_NODE_KIND_HTTP_* */
    ngx_int_t             handler;
    ngx_int_t             phase;       /* ngx_http_node_phase_e, if a phase handler */
    ngx_event_t           timeout;     /* node_timeout, while suspended */
    ngx_event_t           resume;      /* posted when the handler is done */
    ngx_event_t           start_subrequests;  /* made outside a call */
    unsigned              in_call:1;   /* inside the synchronous dispatch */
    unsigned              suspended:1;
    unsigned              done:1;
    unsigned              failed:1;

    ngx_http_node_step_e  steps[NGX_HTTP_NODE_PHASES];
    ngx_uint_t            prefetching; /* async node_set values still awaited */

    /* the response */
    ngx_int_t             status;      /* what the response ended with */
    ngx_str_t             redirect;    /* r.internalRedirect() target */
    unsigned              ended:1;     /* return(), finish(), internalRedirect() */
    unsigned              declined:1;  /* r.decline() */

    /* the request body */
    ngx_int_t             body_status; /* nginx refused the body with this */
    double                body_token;  /* a readRequest*() waiting, or 0 */
    unsigned              body_ready:1;
    ngx_http_event_handler_pt  body_reader;
    ngx_uint_t           *reading;     /* while body_reader runs: 0 if freed */

    /* filters */
    ngx_chain_t          *filter_out;
    ngx_chain_t         **filter_last;
    ngx_chain_t          *free;
    ngx_chain_t          *busy;
    ngx_buf_t            *filter_in;   /* the chunk being filtered */
    u_char                utf8_carry[3];    /* text mode: a character cut in two */
    ngx_uint_t            utf8_carry_len;
    ngx_buf_t            *held;        /* buffered: the body collected so far */
    ngx_str_t             filtered;    /* buffered: the handler's new body */
    ngx_int_t             filter_error;     /* buffered: status to answer with */
    ngx_event_t           filter_timeout;   /* buffered: node_timeout */
    ngx_event_t           filter_wake;      /* buffered: the result came */
    unsigned              filtering:1; /* r.sendBuffer() may be called */
    unsigned              filter_done:1;    /* r.done(), or the last chunk went */
    unsigned              filter_passed:1;  /* the filter gave up: pass through */
    unsigned              sent_last:1;      /* the handler sent the last buffer */
    unsigned              header_held:1;    /* buffered: the header waits */
    unsigned              filter_pending:1; /* buffered: the handler works */
    unsigned              filter_ready:1;   /* buffered: its result is in */

    ngx_node_lua_calls_t *lua;         /* calls made from Lua code */
} ngx_http_node_ctx_t;


extern ngx_module_t  ngx_http_node_module;


/*
 * The context's events carry the request's connection in ev->data, as nginx's debug log
 * expects of every event (it prints the connection's fd); their handlers find the
 * context from the event itself.
 */
#define ngx_http_node_event_ctx(ev, field)                                    \
    ((ngx_http_node_ctx_t *) ((u_char *) (ev)                                 \
                              - offsetof(ngx_http_node_ctx_t, field)))


/* ngx_http_node_handlers.c */
ngx_http_node_ctx_t *ngx_http_node_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_node_running(ngx_http_request_t *r, ngx_int_t handler);
ngx_int_t ngx_http_node_call(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_uint_t kind, ngx_int_t handler, const ngx_node_value_t *arg,
    ngx_uint_t flags, ngx_node_value_t *ret);
void ngx_http_node_suspend(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx);
void ngx_http_node_done(ngx_http_node_ctx_t *ctx, ngx_uint_t failed);
ngx_int_t ngx_http_node_content_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_node_server_rewrite_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_node_rewrite_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_node_prefetch_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_node_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_node_log_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_node_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
void ngx_http_node_prefetched(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_uint_t handler, const ngx_node_value_t *value);
void ngx_http_node_write_handler(ngx_http_request_t *r);

/* ngx_http_node_filter.c */
ngx_int_t ngx_http_node_filter_init(ngx_conf_t *cf);
void ngx_http_node_filter_done(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_http_node_send_buffer(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_http_node_filtered(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);

/* ngx_http_node_subrequest.c */
void ngx_http_node_subrequest(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);

/* ngx_http_node_module.c */
void ngx_http_node_var_names(ngx_http_request_t *r, ngx_node_result_t *res);

/* ngx_http_node_metrics.c: node_metrics */
char *ngx_http_node_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_node_periodic.c */
char *ngx_http_node_periodic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_http_node_request.c */
void ngx_http_node_variable_op(ngx_http_request_t *r,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_http_node_set_variable_op(ngx_http_request_t *r,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_http_node_fetch_op(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_http_node_request_op(void *object, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_http_node_body_abandon(ngx_http_node_ctx_t *ctx, const char *why);
ngx_int_t ngx_http_node_copy(ngx_http_request_t *r, ngx_str_t *dst,
    ngx_str_t *src);


#endif /* NGX_HTTP_NODE_H_INCLUDED */
