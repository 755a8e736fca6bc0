/*
 * Metrics (node_metrics_zone, node_metrics, ngx.metrics): counters, gauges and histograms in
 * one zone of nginx shared memory, so that a scrape served by any worker sees them all.
 *   - per handler: calls, errors, node_timeout expiries, node_cpu_timeout stops, a latency
 *     histogram (the runtime counts calls, errors and latency; this file the other two);
 *   - per worker: heap, event-loop utilisation, work waiting on JavaScript, Node's version,
 *     start time, written by each worker about once a second;
 *   - the metrics handlers define with ngx.metrics.
 * Workers keep their own changes and add them to the zone about once a second (and before
 * they answer a scrape, and when they exit), under the zone's lock.
 */

#ifndef NGX_NODE_METRICS_H_INCLUDED
#define NGX_NODE_METRICS_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_node_abi.h"


typedef struct ngx_node_metrics_s  ngx_node_metrics_t;


/* node_metrics_zone size; (args from cf) */
char *ngx_node_conf_metrics_zone(ngx_conf_t *cf);
/* node_metrics: a scrape endpoint needs the zone; it gets the default size unless
 * node_metrics_zone says otherwise */
char *ngx_node_conf_metrics(ngx_conf_t *cf);

/* the bounds of the handlers' latency histogram, seconds (the runtime gets them) */
ngx_uint_t ngx_node_metrics_buckets(const double **bounds);
size_t ngx_node_metrics_zone_size(ngx_node_metrics_t *metrics);

/* a number as the exposition format and JSON write it: the shortest of %.15g and %.17g that
 * reads back the same; NaN and the infinities as Prometheus spells them */
#define NGX_NODE_METRICS_NUMBER_LEN  32
u_char *ngx_node_metrics_number(u_char *p, double value);

/* in workers */
void ngx_node_metrics_init_process(ngx_cycle_t *cycle,
    ngx_node_metrics_t *metrics, ngx_array_t *handlers);
void ngx_node_metrics_exit_process(void);

/* the worker op "metrics": NGX_NODE_METRICS_OPS of ngx_node_abi.h */
void ngx_node_metrics_op(const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);

/* what the runtime does not see: node_timeout expired, node_cpu_timeout stopped a call */
#define NGX_NODE_METRIC_TIMEOUT   0
#define NGX_NODE_METRIC_STOPPED   1
void ngx_node_metrics_handler_event(ngx_uint_t handler, ngx_uint_t event);

/* time spent in JavaScript, for the event-loop utilisation: 0 when metrics are off */
uint64_t ngx_node_metrics_busy_begin(void);
void ngx_node_metrics_busy_end(uint64_t began);

/* the Prometheus text exposition (0.0.4) of everything in the zone, this worker's latest
 * changes included; NGX_DECLINED when metrics are off */
ngx_int_t ngx_node_metrics_render(ngx_pool_t *pool, ngx_log_t *log,
    ngx_chain_t **out, off_t *len);


#endif /* NGX_NODE_METRICS_H_INCLUDED */
