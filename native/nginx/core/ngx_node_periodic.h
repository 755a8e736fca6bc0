/*
 * node_periodic: a handler run at an interval in a worker (worker 0 unless worker_affinity
 * says otherwise), outside any request or session. The handler gets an object with
 * `variables`, read in a stand-in request (http) or session (stream) of the block that
 * declares it, which the protocol module makes.
 */

#ifndef NGX_NODE_PERIODIC_H_INCLUDED
#define NGX_NODE_PERIODIC_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_node_abi.h"
#include "ngx_node_core.h"


typedef struct ngx_node_periodic_s  ngx_node_periodic_t;


/* what a protocol module gives its periodics */
typedef struct {
    /* a stand-in request or session of the block, for variables; NULL: failed (logged) */
    void            *(*open)(ngx_node_periodic_t *periodic);
    void             (*close)(ngx_node_periodic_t *periodic, void *context);
    /* the run object's ops that need that context: variable(name[, asBytes]),
     * setVariable(name, value), fetch() (NGX_NODE_PERIODIC_OP_*) */
    void             (*op)(void *context, unsigned op,
                           const ngx_node_value_t *args, unsigned nargs,
                           ngx_node_result_t *res);
} ngx_node_periodic_protocol_t;


struct ngx_node_periodic_s {
    ngx_int_t                            handler;
    ngx_msec_t                           interval;
    ngx_msec_t                           jitter;
    ngx_str_t                            affinity;   /* "all", a mask, or empty: worker 0 */
    void                                *conf;       /* the protocol's conf ctx of the block */
    const ngx_node_periodic_protocol_t  *protocol;

    /* in the worker */
    ngx_event_t                          timer;      /* the next run */
    ngx_event_t                          deadline;   /* a run in flight may last this long */
    ngx_event_t                          finish;     /* posted when a run's promise settles */
    void                                *context;
    double                               handle;
    unsigned                             running:1;
    unsigned                             in_call:1;
    unsigned                             done:1;
};


/* node_periodic module.fn [interval=t] [jitter=t] [worker_affinity=all|mask]; conf is the
 * protocol's conf ctx of the block, scope the block's node_import scope */
char *ngx_node_conf_periodic(ngx_conf_t *cf, void *conf,
    ngx_node_scope_t *scope, const ngx_node_periodic_protocol_t *protocol);

/* in a worker, once Node runs: arms this worker's periodics */
void ngx_node_periodic_start(ngx_cycle_t *cycle, ngx_array_t *periodics);


#endif /* NGX_NODE_PERIODIC_H_INCLUDED */
