/*
 * libuv's loop inside nginx's: the loop's backend fd is a level-triggered read event in
 * nginx's epoll, its timers one nginx timer, and a call into JS that created watchers or
 * immediates is followed by a non-blocking run in the next event-loop iteration.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_node_core.h"
#include "ngx_node_metrics.h"


static void ngx_node_loop_run(ngx_event_t *ev);


static const ngx_node_bridge_t  *ngx_node_loop_bridge;
static ngx_connection_t         *ngx_node_loop_conn;
static ngx_event_t               ngx_node_loop_timer;
static ngx_event_t               ngx_node_loop_soon;
static ngx_msec_t                ngx_node_loop_deadline;


ngx_int_t
ngx_node_loop_start(ngx_cycle_t *cycle, const ngx_node_bridge_t *bridge)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(bridge->loop_fd(), cycle->log);
    if (c == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: no free connection for the Node.js loop; "
                      "raise worker_connections");
        return NGX_ERROR;
    }

    c->read->handler = ngx_node_loop_run;
    c->read->log = cycle->log;
    c->write->log = cycle->log;
    c->log = cycle->log;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_free_connection(c);
        return NGX_ERROR;
    }

    ngx_node_loop_bridge = bridge;
    ngx_node_loop_conn = c;

    /* fact 5: the loop's timer must not keep a quitting worker alive */
    /* every event needs data and log: nginx's debug log prints the fd of
     * ev->data's connection (fact 16) */
    ngx_node_loop_timer.handler = ngx_node_loop_run;
    ngx_node_loop_timer.data = c;
    ngx_node_loop_timer.log = cycle->log;
    ngx_node_loop_timer.cancelable = 1;

    ngx_node_loop_soon.handler = ngx_node_loop_run;
    ngx_node_loop_soon.data = c;
    ngx_node_loop_soon.log = cycle->log;

    ngx_node_loop_schedule();

    return NGX_OK;
}


static void
ngx_node_loop_run(ngx_event_t *ev)
{
    uint64_t  busy;

    if (ngx_node_loop_bridge == NULL) {
        return;
    }

    busy = ngx_node_metrics_busy_begin();
    ngx_node_loop_bridge->loop_run();
    ngx_node_metrics_busy_end(busy);
    ngx_node_loop_schedule();
}


/* after anything that may have given libuv new work: arm what will run it next */
void
ngx_node_loop_schedule(void)
{
    int         timeout;
    ngx_msec_t  deadline;

    if (ngx_node_loop_bridge == NULL) {
        return;
    }

    timeout = ngx_node_loop_bridge->loop_timeout();

    if (timeout == 0 || ngx_node_loop_bridge->loop_needs_poll()) {
        /* the next iteration, after this one's events: immediates in a row
         * must not starve nginx's own */
        if (!ngx_node_loop_soon.posted) {
            ngx_post_event(&ngx_node_loop_soon, &ngx_posted_next_events);
        }

        if (timeout == 0) {
            return;
        }
    }

    if (timeout < 0) {
        if (ngx_node_loop_timer.timer_set) {
            ngx_del_timer(&ngx_node_loop_timer);
        }

        return;
    }

    deadline = ngx_current_msec + timeout;

    if (ngx_node_loop_timer.timer_set) {
        if (deadline == ngx_node_loop_deadline) {
            return;
        }

        /* fact 4: ngx_add_timer() would ignore a change under 300 ms */
        ngx_del_timer(&ngx_node_loop_timer);
    }

    ngx_node_loop_deadline = deadline;
    ngx_add_timer(&ngx_node_loop_timer, (ngx_msec_t) timeout);
}


void
ngx_node_loop_stop(void)
{
    ngx_connection_t  *c;

    if (ngx_node_loop_bridge == NULL) {
        return;
    }

    ngx_node_loop_bridge = NULL;

    if (ngx_node_loop_timer.timer_set) {
        ngx_del_timer(&ngx_node_loop_timer);
    }

    if (ngx_node_loop_soon.posted) {
        ngx_delete_posted_event(&ngx_node_loop_soon);
    }

    c = ngx_node_loop_conn;
    ngx_node_loop_conn = NULL;

    if (c != NULL) {
        /* the fd belongs to libuv: take it out of epoll, never close it here */
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }
}
