/*
 * ngx-node's http module: shared between the module (directives, phases, suspension) and
 * the request ops JavaScript's `r` calls (ngx_http_node_request.c).
 */

#ifndef NGX_HTTP_NODE_H_INCLUDED
#define NGX_HTTP_NODE_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_node_core.h"


typedef struct {
    ngx_int_t             content;    /* handler number, NGX_CONF_UNSET if none */
    ngx_msec_t            timeout;    /* node_timeout */
} ngx_http_node_loc_conf_t;


/* one per request that met a node handler */
typedef struct {
    ngx_http_request_t   *request;
    double                handle;     /* JS's name for this request; 0 once closed */
    ngx_node_pending_t    pending;    /* in the worker's list while suspended */

    ngx_int_t             handler;    /* the content handler's number */
    ngx_event_t           timeout;    /* node_timeout, while suspended */
    ngx_event_t           finalize;   /* posted when the handler reports done */

    ngx_int_t             status;     /* what the response ended with */
    ngx_int_t             body_status; /* nginx refused the body with this */
    ngx_str_t             redirect;   /* r.internalRedirect() target */
    double                body_token; /* a readRequest*() waiting, or 0 */
    ngx_http_event_handler_pt  body_reader;

    unsigned              in_call:1;  /* inside the synchronous dispatch */
    unsigned              suspended:1;
    unsigned              done:1;     /* the handler reported done */
    unsigned              failed:1;   /* ... with an error */
    unsigned              ended:1;    /* return(), finish() or internalRedirect() */
} ngx_http_node_ctx_t;


extern ngx_module_t  ngx_http_node_module;


ngx_http_node_ctx_t *ngx_http_node_ctx(ngx_http_request_t *r);

/* the op handler of request handles (ngx_http_node_request.c) */
void ngx_http_node_request_op(void *object, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);

/* writes what is buffered while a request is suspended */
void ngx_http_node_write_handler(ngx_http_request_t *r);

/* the handler reported done (the "done" op) */
void ngx_http_node_done(ngx_http_node_ctx_t *ctx, ngx_uint_t failed);

/* a readRequest*() is waiting and nginx ended the request: reject it */
void ngx_http_node_body_abandon(ngx_http_node_ctx_t *ctx, const char *why);


#endif /* NGX_HTTP_NODE_H_INCLUDED */
