/*
 * node_periodic's runs. A run that is still going when the next is due is not started twice:
 * that next run is skipped (and logged), the schedule goes on. A run may be async; it may last
 * NGX_NODE_PERIODIC_TIMEOUT, and a graceful quit waits for a run in flight (not for the next).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_node_core.h"
#include "ngx_node_metrics.h"
#include "ngx_node_periodic.h"


#define NGX_NODE_PERIODIC_INTERVAL  5000
#define NGX_NODE_PERIODIC_TIMEOUT   60000


static void ngx_node_periodic_run(ngx_event_t *ev);
static void ngx_node_periodic_deadline(ngx_event_t *ev);
static void ngx_node_periodic_finish_handler(ngx_event_t *ev);


char *
ngx_node_conf_periodic(ngx_conf_t *cf, void *conf, ngx_node_scope_t *scope,
    const ngx_node_periodic_protocol_t *protocol)
{
    ngx_str_t            *value, s;
    ngx_uint_t            i;
    ngx_node_conf_t      *ncf;
    ngx_node_periodic_t  *p;

    ncf = ngx_node_conf(cf);
    value = cf->args->elts;

    p = ngx_array_push(&ncf->periodics);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(p, sizeof(ngx_node_periodic_t));

    p->interval = NGX_NODE_PERIODIC_INTERVAL;
    p->conf = conf;
    p->protocol = protocol;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "interval=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            p->interval = ngx_parse_time(&s, 0);

            if (p->interval == (ngx_msec_t) NGX_ERROR || p->interval == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid interval \"%V\": a time such as "
                                   "\"30s\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "jitter=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            p->jitter = ngx_parse_time(&s, 0);

            if (p->jitter == (ngx_msec_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid jitter \"%V\": a time such as "
                                   "\"1s\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "worker_affinity=", 16) == 0) {
            p->affinity.data = value[i].data + 16;
            p->affinity.len = value[i].len - 16;

            if (ngx_strcmp(p->affinity.data, "all") != 0
                && (p->affinity.len == 0
                    || strspn((char *) p->affinity.data, "01")
                       != p->affinity.len))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid worker_affinity \"%V\": \"all\", "
                                   "or a mask of 0 and 1, worker 0 first",
                                   &p->affinity);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": expected interval=, "
                           "jitter= or worker_affinity=", &value[i]);
        return NGX_CONF_ERROR;
    }

    p->handler = ngx_node_conf_handler(cf, scope, 1);
    if (p->handler == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_node_periodic_here(ngx_node_periodic_t *p)
{
    if (p->affinity.len == 0) {
        return ngx_worker == 0;
    }

    if (ngx_strcmp(p->affinity.data, "all") == 0) {
        return 1;
    }

    return ngx_worker < p->affinity.len && p->affinity.data[ngx_worker] == '1';
}


static void
ngx_node_periodic_event(ngx_event_t *ev, ngx_event_handler_pt handler,
    ngx_log_t *log)
{
    ev->handler = handler;
    ev->data = ngx_node_event_connection();
    ev->log = log;
}


void
ngx_node_periodic_start(ngx_cycle_t *cycle, ngx_array_t *periodics)
{
    ngx_uint_t            i;
    ngx_node_periodic_t  *p;

    p = periodics->elts;

    for (i = 0; i < periodics->nelts; i++) {
        if (!ngx_node_periodic_here(&p[i])) {
            continue;
        }

        ngx_node_periodic_event(&p[i].timer, ngx_node_periodic_run,
                                cycle->log);
        ngx_node_periodic_event(&p[i].deadline, ngx_node_periodic_deadline,
                                cycle->log);
        ngx_node_periodic_event(&p[i].finish, ngx_node_periodic_finish_handler,
                                cycle->log);

        /* a quitting worker does not wait for the next run */
        p[i].timer.cancelable = 1;

        ngx_add_timer(&p[i].timer, p[i].jitter
                                   ? (ngx_msec_t) ngx_random() % p[i].jitter + 1
                                   : 1);
    }
}


static void
ngx_node_periodic_finish(ngx_node_periodic_t *p)
{
    if (p->deadline.timer_set) {
        ngx_del_timer(&p->deadline);
    }

    if (p->finish.posted) {
        ngx_delete_posted_event(&p->finish);
    }

    ngx_node_close(p->handle);
    p->handle = 0;

    if (p->context) {
        p->protocol->close(p, p->context);
        p->context = NULL;
    }

    p->running = 0;
}


/* the ops of a run's object: its variables, its block's ngx.fetch settings, and the end of
 * an async run */
static void
ngx_node_periodic_op(void *object, unsigned op, const ngx_node_value_t *args,
    unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_periodic_t  *p = object;

    switch (op) {

    case NGX_NODE_PERIODIC_OP_VARIABLE:
    case NGX_NODE_PERIODIC_OP_SET_VARIABLE:
    case NGX_NODE_PERIODIC_OP_FETCH:
        p->protocol->op(p->context, op, args, nargs, res);
        return;

    case NGX_NODE_PERIODIC_OP_DONE:
        p->done = 1;

        if (!p->in_call && !p->finish.posted) {
            ngx_post_event(&p->finish, &ngx_posted_events);
        }

        return;

    default:
        ngx_node_result_fail(res, "unknown periodic op %ud", op);
    }
}


static void
ngx_node_periodic_run(ngx_event_t *ev)
{
    ngx_int_t                  rc;
    ngx_msec_t                 next;
    ngx_node_value_t           ret;
    ngx_node_periodic_t       *p;
    const ngx_node_handler_t  *h;

    p = (ngx_node_periodic_t *) ((u_char *) ev
                                 - offsetof(ngx_node_periodic_t, timer));

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    next = p->interval + (p->jitter ? (ngx_msec_t) ngx_random() % p->jitter
                                    : 0);
    ngx_add_timer(&p->timer, next);

    h = ngx_node_handler(p->handler);

    if (p->running) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "%V \"%V\": the previous run is still going; this one "
                      "is skipped", &h->directive, &h->name);
        return;
    }

    if (ngx_node_bridge() == NULL) {
        return;
    }

    p->context = p->protocol->open(p);
    if (p->context == NULL) {
        return;
    }

    p->handle = ngx_node_open(p, ngx_node_periodic_op);

    if (p->handle <= 0) {
        p->protocol->close(p, p->context);
        p->context = NULL;
        return;
    }

    p->running = 1;
    p->done = 0;
    p->in_call = 1;

    rc = ngx_node_call(ev->log, NGX_NODE_KIND_PERIODIC, p->handler, p->handle,
                       NULL, 0, &ret);

    p->in_call = 0;

    if (rc == NGX_OK && ret.type == NGX_NODE_NUMBER
        && ret.number == NGX_NODE_DISPATCH_PENDING && !p->done)
    {
        /* async: a quitting worker waits for it, for a while */
        ngx_add_timer(&p->deadline, NGX_NODE_PERIODIC_TIMEOUT);
        return;
    }

    ngx_node_periodic_finish(p);
}


static void
ngx_node_periodic_finish_handler(ngx_event_t *ev)
{
    ngx_node_periodic_finish((ngx_node_periodic_t *) ((u_char *) ev
                             - offsetof(ngx_node_periodic_t, finish)));
}


static void
ngx_node_periodic_deadline(ngx_event_t *ev)
{
    ngx_node_periodic_t       *p;
    const ngx_node_handler_t  *h;

    p = (ngx_node_periodic_t *) ((u_char *) ev
                                 - offsetof(ngx_node_periodic_t, deadline));
    h = ngx_node_handler(p->handler);

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "%V \"%V\" did not finish within %Ms; the run is given up "
                  "(its later use of its object throws)", &h->directive,
                  &h->name, (ngx_msec_t) NGX_NODE_PERIODIC_TIMEOUT / 1000);
    ngx_node_metrics_handler_event(p->handler, NGX_NODE_METRIC_TIMEOUT);

    ngx_node_periodic_finish(p);
}
