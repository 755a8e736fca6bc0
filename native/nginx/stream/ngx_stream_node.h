/*
 * ngx-node's stream module (TCP and UDP sessions), shared between its files:
 *   ngx_stream_node_module.c   directives, configuration, joining the phases and the filter
 *   ngx_stream_node_session.c  the session's context, the access and preread phases, node_set,
 *                              the ops behind JavaScript's `s`
 *   ngx_stream_node_filter.c   node_filter: chunks to s.on() callbacks, s.send()
 * Like njs's stream module over ngx_js.c, it is thin: loading, checking, the loop, calls,
 * marshalling and errors are the core's (native/nginx/core).
 */

#ifndef NGX_STREAM_NODE_H_INCLUDED
#define NGX_STREAM_NODE_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_node_core.h"
#include "ngx_node_fetch.h"
#include "ngx_node_metrics.h"


/* our bit of c->buffered while a filter holds data meant for that connection */
#define NGX_STREAM_NODE_BUFFERED  0x20


/* a node_set variable: its value may come from an async function, awaited after preread */
typedef struct {
    ngx_uint_t              index;
    ngx_uint_t              handler;
} ngx_stream_node_var_t;


typedef struct {
    ngx_int_t               access;      /* handler numbers, or NGX_CONF_UNSET */
    ngx_int_t               preread;
    ngx_int_t               filter;
    ngx_msec_t              timeout;
    ngx_array_t            *sets;        /* ngx_stream_node_var_t */
    ngx_node_fetch_conf_t   fetch;       /* node_fetch_* */
    ngx_node_scope_t        scope;       /* where this block's node_import names are
                                            seen */
} ngx_stream_node_srv_conf_t;


typedef enum {
    NGX_STREAM_NODE_ACCESS = 0,
    NGX_STREAM_NODE_PREREAD,
    NGX_STREAM_NODE_PREFETCH,
    NGX_STREAM_NODE_PHASES
} ngx_stream_node_phase_e;


/* where a phase stands */
typedef enum {
    NGX_STREAM_NODE_IDLE = 0,
    NGX_STREAM_NODE_WANTS_DATA,  /* undecided; an s.on("upload") callback waits for data */
    NGX_STREAM_NODE_WAITING,     /* undecided; something async will decide */
    NGX_STREAM_NODE_DECIDED      /* the next call returns the decision */
} ngx_stream_node_step_e;


/* what a direction's callback takes (none: its chunks pass as they are) */
#define NGX_STREAM_NODE_LISTENER_NONE   0
#define NGX_STREAM_NODE_LISTENER_BYTES  1
#define NGX_STREAM_NODE_LISTENER_TEXT   2


/* one direction of the filter */
typedef struct {
    ngx_chain_t            *queue;       /* chunks waiting for their callback */
    ngx_chain_t           **last;
    ngx_buf_t              *pending;     /* the chunk whose async callback runs */
    ngx_event_t             timeout;     /* node_timeout of that callback */
    unsigned                listener:2;  /* NGX_STREAM_NODE_LISTENER_* */
    unsigned                ended:1;     /* the callback had the last chunk */
    unsigned                eof:1;       /* the side's end came (queued in a buffer of
                                            ours); more ends are dropped */
    unsigned                forwarded:1; /* the chunk itself went on: s.send() of its
                                            text unchanged */
    ngx_chain_t            *marks;       /* our empty buffers (an end, a flush) sent
                                            this way: the writer may hold them behind
                                            data it has not sent yet */
} ngx_stream_node_direction_t;


typedef struct {
    ngx_stream_session_t   *session;
    double                  handle;      /* JS's name for this session; 0 once closed */
    ngx_node_pending_t      pending;     /* in the worker's list while waiting on JS */

    /* the access and preread phases */
    ngx_stream_node_phase_e phase;       /* the one being run */
    ngx_stream_node_step_e  steps[NGX_STREAM_NODE_PHASES];
    ngx_int_t               status;      /* the decision: NGX_OK, NGX_DECLINED, a status */
    ngx_int_t               handler;     /* the handler being called */
    ngx_uint_t              prefetching; /* async node_set values still awaited */
    ngx_event_t             timeout;     /* node_timeout of a waiting phase */
    ngx_event_t             resume;      /* posted when a waiting phase is decided */
    unsigned                in_call:1;
    unsigned                decided:1;   /* a decision came during the call */

    /* the filter */
    ngx_stream_node_direction_t  directions[2];   /* [from_upstream] */
    ngx_chain_t            *collected;   /* s.send() during a chunk's call */
    ngx_chain_t           **collected_last;
    ngx_chain_t            *free;        /* our buffers, sent and reusable */
    ngx_uint_t              kept;        /* those of them that kept their memory */
    ngx_chain_t            *busy;        /* our buffers with data, being sent */
    ngx_int_t               chunk_direction;  /* of the chunk being called, or -1 */
    ngx_buf_t              *chunk;            /* that chunk */
    ngx_int_t               chunk_settled;    /* its async callback settled in the
                                                 call: NGX_DONE (fulfilled),
                                                 NGX_ERROR (rejected), or 0 */
    ngx_event_t             fail;        /* posted: end the session (with 500) */
    unsigned                filtering:1; /* node_filter's function ran */
    unsigned                failed:1;
} ngx_stream_node_ctx_t;


extern ngx_module_t  ngx_stream_node_module;


/* the context's events carry the connection in ev->data, as nginx's debug log expects */
#define ngx_stream_node_event_ctx(ev, field)                                  \
    ((ngx_stream_node_ctx_t *) ((u_char *) (ev)                               \
                                - offsetof(ngx_stream_node_ctx_t, field)))


/* ngx_stream_node_session.c */
ngx_stream_node_ctx_t *ngx_stream_node_ctx(ngx_stream_session_t *s);
ngx_int_t ngx_stream_node_running(ngx_stream_session_t *s, ngx_int_t handler);
ngx_int_t ngx_stream_node_access_handler(ngx_stream_session_t *s);
ngx_int_t ngx_stream_node_preread_handler(ngx_stream_session_t *s);
ngx_int_t ngx_stream_node_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);
void ngx_stream_node_session_op(void *object, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_stream_node_variable_op(ngx_stream_session_t *s,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_stream_node_set_variable_op(ngx_stream_session_t *s,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_stream_node_fetch_op(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);

/* ngx_stream_node_periodic.c */
char *ngx_stream_node_periodic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* ngx_stream_node_filter.c */
ngx_int_t ngx_stream_node_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_stream_node_filter_log_handler(ngx_stream_session_t *s);
void ngx_stream_node_send(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);
void ngx_stream_node_forward(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);
void ngx_stream_node_listen(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);
void ngx_stream_node_chunk_done(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);
void ngx_stream_node_filter_cleanup(ngx_stream_node_ctx_t *ctx);


#endif /* NGX_STREAM_NODE_H_INCLUDED */
