/*
 * Metrics in nginx shared memory (one slab pool, "ngx_node_metrics"): families of series by
 * name, series in an rbtree by the crc32 of their name and labels, and a slot per worker.
 * Nothing is ever removed but the slots of workers that are gone, so counters only go up,
 * across reloads too (the zone is kept while its size stays the same). Rendering takes the
 * lock once and writes the whole exposition into the request's pool.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ngx_node_core.h"
#include "ngx_node_core_module.h"
#include "ngx_node_metrics.h"


#define NGX_NODE_METRICS_ZONE       "ngx_node_metrics"
#define NGX_NODE_METRICS_SIZE       (1024 * 1024)
#define NGX_NODE_METRICS_INTERVAL   1000
#define NGX_NODE_METRICS_BUF        16384


/* seconds: in-process handlers take from microseconds to what their I/O takes */
static const double  ngx_node_handler_buckets[] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 2.5, 5, 10
};

#define NGX_NODE_HANDLER_NBUCKETS                                             \
    (sizeof(ngx_node_handler_buckets) / sizeof(double))


/* in shared memory */

typedef struct {
    ngx_queue_t                 queue;      /* sh->families, as defined */
    ngx_queue_t                 series;
    ngx_uint_t                  type;       /* NGX_NODE_METRIC_COUNTER ... */
    ngx_uint_t                  nbuckets;   /* a histogram's bounds, +Inf aside */
    double                     *bounds;
    ngx_str_t                   name;
    ngx_str_t                   help;       /* escaped for the exposition */
    ngx_str_t                   labels;     /* label names, "a,b" */
} ngx_node_metric_family_t;

typedef struct {
    ngx_rbtree_node_t           node;       /* key: crc32 of name{labels} */
    ngx_queue_t                 queue;      /* family->series */
    ngx_node_metric_family_t   *family;
    ngx_str_t                   labels;     /* a="x",b="y", escaped */
    /* a counter's or gauge's value; a histogram's count per bucket (nbuckets + 1, the
     * last +Inf's), then its sum */
    double                      values[1];
} ngx_node_metric_series_t;

typedef struct {
    ngx_queue_t                 queue;      /* sh->workers */
    ngx_pid_t                   pid;
    ngx_int_t                   worker;
    double                      start;      /* seconds since the epoch */
    double                      heap_used;
    double                      heap_limit;
    double                      utilization;
    double                      pending;
    u_char                      node_version[32];
} ngx_node_metric_worker_t;

typedef struct {
    ngx_rbtree_t                tree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 families;
    ngx_queue_t                 workers;
    double                      refused;    /* series not recorded for want of room */
} ngx_node_metrics_sh_t;


struct ngx_node_metrics_s {
    ngx_shm_zone_t             *zone;
    ngx_uint_t                  sized;      /* node_metrics_zone said how large */
    ngx_slab_pool_t            *shpool;
    ngx_node_metrics_sh_t      *sh;
};


/* the families every zone has: what happens to handlers */

enum {
    NGX_NODE_HANDLER_CALLS = 0,
    NGX_NODE_HANDLER_ERRORS,
    NGX_NODE_HANDLER_TIMEOUTS,
    NGX_NODE_HANDLER_STOPPED,
    NGX_NODE_HANDLER_DURATION,
    NGX_NODE_HANDLER_FAMILIES
};

typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  type;
    ngx_str_t                   help;
} ngx_node_builtin_family_t;

static ngx_node_builtin_family_t  ngx_node_handler_families[] = {
    { ngx_string("ngx_node_handler_calls_total"), NGX_NODE_METRIC_COUNTER,
      ngx_string("Calls of the handler") },
    { ngx_string("ngx_node_handler_errors_total"), NGX_NODE_METRIC_COUNTER,
      ngx_string("Calls of the handler that threw, or whose promise rejected") },
    { ngx_string("ngx_node_handler_timeouts_total"), NGX_NODE_METRIC_COUNTER,
      ngx_string("Requests and sessions node_timeout ended while the handler "
                 "had them") },
    { ngx_string("ngx_node_handler_cpu_timeouts_total"),
      NGX_NODE_METRIC_COUNTER,
      ngx_string("Calls of the handler node_cpu_timeout or the heap limit "
                 "stopped") },
    { ngx_string("ngx_node_handler_duration_seconds"),
      NGX_NODE_METRIC_HISTOGRAM,
      ngx_string("How long the handler ran: until it returned, or until the "
                 "promise it returned settled") }
};

static ngx_str_t  ngx_node_handler_labels = ngx_string("context,directive,handler");


static ngx_int_t ngx_node_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_node_metrics_tick(ngx_event_t *ev);


/* this worker's */
static ngx_node_metrics_t          *ngx_node_metrics_zone;
static ngx_node_metric_worker_t    *ngx_node_metrics_self;
static ngx_node_metric_series_t   **ngx_node_metrics_handler_series;
static ngx_uint_t                   ngx_node_metrics_nhandlers;
static ngx_event_t                  ngx_node_metrics_timer;
static ngx_uint_t                   ngx_node_metrics_depth;
static uint64_t                     ngx_node_metrics_busy;
static uint64_t                     ngx_node_metrics_busy_mark;
static uint64_t                     ngx_node_metrics_tick_mark;


/* configuration */

static ngx_node_metrics_t *
ngx_node_conf_metrics_get(ngx_conf_t *cf)
{
    ngx_str_t            name = ngx_string(NGX_NODE_METRICS_ZONE);
    ngx_node_conf_t     *ncf;
    ngx_node_metrics_t  *metrics;

    ncf = ngx_node_conf(cf);

    if (ncf->metrics) {
        return ncf->metrics;
    }

    metrics = ngx_pcalloc(cf->pool, sizeof(ngx_node_metrics_t));
    if (metrics == NULL) {
        return NULL;
    }

    metrics->zone = ngx_shared_memory_add(cf, &name, NGX_NODE_METRICS_SIZE,
                                          &ngx_node_core_module_ctx);
    if (metrics->zone == NULL) {
        return NULL;
    }

    if (metrics->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &name);
        return NULL;
    }

    metrics->zone->init = ngx_node_metrics_init_zone;
    metrics->zone->data = metrics;

    ncf->metrics = metrics;

    return metrics;
}


char *
ngx_node_conf_metrics_zone(ngx_conf_t *cf)
{
    ssize_t              size;
    ngx_str_t           *value;
    ngx_node_metrics_t  *metrics;

    value = cf->args->elts;

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid size \"%V\": a size of at least %uzk, "
                           "such as \"1m\"", &value[1],
                           8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    metrics = ngx_node_conf_metrics_get(cf);
    if (metrics == NULL) {
        return NGX_CONF_ERROR;
    }

    if (metrics->sized) {
        return "is duplicate";
    }

    /* shared memory is created after the whole configuration is read */
    metrics->sized = 1;
    metrics->zone->shm.size = size;

    return NGX_CONF_OK;
}


char *
ngx_node_conf_metrics(ngx_conf_t *cf)
{
    return ngx_node_conf_metrics_get(cf) ? NGX_CONF_OK : NGX_CONF_ERROR;
}


ngx_uint_t
ngx_node_metrics_buckets(const double **bounds)
{
    *bounds = ngx_node_handler_buckets;

    return NGX_NODE_HANDLER_NBUCKETS;
}


size_t
ngx_node_metrics_zone_size(ngx_node_metrics_t *metrics)
{
    return metrics->zone->shm.size;
}


u_char *
ngx_node_metrics_number(u_char *p, double value)
{
    int   n;
    char  buf[NGX_NODE_METRICS_NUMBER_LEN];

    if (isnan(value)) {
        return ngx_cpymem(p, "NaN", 3);
    }

    if (isinf(value)) {
        return value > 0 ? ngx_cpymem(p, "+Inf", 4) : ngx_cpymem(p, "-Inf", 4);
    }

    n = snprintf(buf, sizeof(buf), "%.15g", value);

    if (strtod(buf, NULL) != value) {
        n = snprintf(buf, sizeof(buf), "%.17g", value);
    }

    return ngx_cpymem(p, buf, n);
}


/* families and series; the lock is held */

static ngx_node_metric_family_t *
ngx_node_metrics_family(ngx_node_metrics_sh_t *sh, ngx_str_t *name)
{
    ngx_queue_t               *q;
    ngx_node_metric_family_t  *f;

    for (q = ngx_queue_head(&sh->families);
         q != ngx_queue_sentinel(&sh->families);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_node_metric_family_t, queue);

        if (f->name.len == name->len
            && ngx_strncmp(f->name.data, name->data, name->len) == 0)
        {
            return f;
        }
    }

    return NULL;
}


static ngx_node_metric_family_t *
ngx_node_metrics_family_add(ngx_node_metrics_t *m, ngx_str_t *name,
    ngx_uint_t type, ngx_str_t *help, ngx_str_t *labels, const double *bounds,
    ngx_uint_t nbuckets)
{
    u_char                    *p;
    size_t                     size;
    ngx_node_metric_family_t  *f;

    size = sizeof(ngx_node_metric_family_t) + nbuckets * sizeof(double)
           + name->len + help->len + labels->len;

    f = ngx_slab_alloc_locked(m->shpool, size);
    if (f == NULL) {
        m->sh->refused++;
        return NULL;
    }

    f->type = type;
    f->nbuckets = nbuckets;
    f->bounds = (double *) (f + 1);
    ngx_memcpy(f->bounds, bounds, nbuckets * sizeof(double));

    p = (u_char *) (f->bounds + nbuckets);

    f->name.data = p;
    f->name.len = name->len;
    p = ngx_cpymem(p, name->data, name->len);

    f->help.data = p;
    f->help.len = help->len;
    p = ngx_cpymem(p, help->data, help->len);

    f->labels.data = p;
    f->labels.len = labels->len;
    ngx_memcpy(p, labels->data, labels->len);

    ngx_queue_init(&f->series);
    ngx_queue_insert_tail(&m->sh->families, &f->queue);

    return f;
}


static ngx_uint_t
ngx_node_metrics_nvalues(ngx_node_metric_family_t *f)
{
    return f->type == NGX_NODE_METRIC_HISTOGRAM ? f->nbuckets + 2 : 1;
}


static uint32_t
ngx_node_metrics_hash(ngx_str_t *name, ngx_str_t *labels)
{
    uint32_t  hash;

    ngx_crc32_init(hash);
    ngx_crc32_update(&hash, name->data, name->len);
    ngx_crc32_update(&hash, (u_char *) "{", 1);
    ngx_crc32_update(&hash, labels->data, labels->len);
    ngx_crc32_final(hash);

    return hash;
}


/* the series of a family with these labels, made if new; NULL: no room (counted) */
static ngx_node_metric_series_t *
ngx_node_metrics_series(ngx_node_metrics_t *m, ngx_node_metric_family_t *f,
    ngx_str_t *labels)
{
    size_t                     size;
    uint32_t                   hash;
    ngx_uint_t                 nvalues;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_node_metric_series_t  *s;

    hash = ngx_node_metrics_hash(&f->name, labels);

    node = m->sh->tree.root;
    sentinel = m->sh->tree.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = hash < node->key ? node->left : node->right;
            continue;
        }

        s = (ngx_node_metric_series_t *) node;

        if (s->family == f
            && ngx_memn2cmp(labels->data, s->labels.data, labels->len,
                            s->labels.len) == 0)
        {
            return s;
        }

        /* another series with the same hash: equal keys go right */
        node = node->right;
    }

    nvalues = ngx_node_metrics_nvalues(f);
    size = offsetof(ngx_node_metric_series_t, values)
           + nvalues * sizeof(double) + labels->len;

    s = ngx_slab_alloc_locked(m->shpool, size);
    if (s == NULL) {
        m->sh->refused++;
        return NULL;
    }

    ngx_memzero(s->values, nvalues * sizeof(double));

    s->family = f;
    s->labels.data = (u_char *) &s->values[nvalues];
    s->labels.len = labels->len;
    ngx_memcpy(s->labels.data, labels->data, labels->len);

    s->node.key = hash;
    ngx_rbtree_insert(&m->sh->tree, &s->node);
    ngx_queue_insert_tail(&f->series, &s->queue);

    return s;
}


static ngx_int_t
ngx_node_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_node_metrics_t  *om = data;

    ngx_uint_t           i, nbuckets;
    ngx_node_metrics_t  *m;

    m = shm_zone->data;
    m->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (om) {
        /* a reload with the zone's size unchanged: the counts go on */
        m->sh = om->sh;
        return NGX_OK;
    }

    m->sh = ngx_slab_alloc(m->shpool, sizeof(ngx_node_metrics_sh_t));
    if (m->sh == NULL) {
        return NGX_ERROR;
    }

    m->shpool->data = m->sh;

    /* a full zone is a counted refusal and a line from the worker, not a crit line */
    m->shpool->log_nomem = 0;

    ngx_rbtree_init(&m->sh->tree, &m->sh->sentinel, ngx_rbtree_insert_value);
    ngx_queue_init(&m->sh->families);
    ngx_queue_init(&m->sh->workers);
    m->sh->refused = 0;

    for (i = 0; i < NGX_NODE_HANDLER_FAMILIES; i++) {
        nbuckets = ngx_node_handler_families[i].type
                   == NGX_NODE_METRIC_HISTOGRAM ? NGX_NODE_HANDLER_NBUCKETS : 0;

        if (ngx_node_metrics_family_add(m, &ngx_node_handler_families[i].name,
                                        ngx_node_handler_families[i].type,
                                        &ngx_node_handler_families[i].help,
                                        &ngx_node_handler_labels,
                                        ngx_node_handler_buckets, nbuckets)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* in workers */

static uint64_t
ngx_node_metrics_now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


/* the series of each handler: context="http",directive="node_content",handler="main.f" */
static void
ngx_node_metrics_handlers(ngx_cycle_t *cycle, ngx_node_metrics_t *m,
    ngx_array_t *handlers)
{
    u_char                    *p;
    ngx_str_t                  labels, name;
    ngx_uint_t                 i, k, refused;
    ngx_node_handler_t        *h;
    ngx_node_metric_family_t  *f;

    ngx_node_metrics_handler_series = ngx_pcalloc(cycle->pool,
        handlers->nelts * NGX_NODE_HANDLER_FAMILIES * sizeof(void *));
    if (ngx_node_metrics_handler_series == NULL) {
        return;
    }

    ngx_node_metrics_nhandlers = handlers->nelts;
    h = handlers->elts;
    refused = 0;

    for (i = 0; i < handlers->nelts; i++) {
        labels.data = ngx_pnalloc(cycle->pool,
                                  sizeof("context=\"stream\",directive=\"\","
                                         "handler=\"\"")
                                  + h[i].directive.len + h[i].name.len);
        if (labels.data == NULL) {
            return;
        }

        p = ngx_sprintf(labels.data,
                        "context=\"%s\",directive=\"%V\",handler=\"%V\"",
                        h[i].stream ? "stream" : "http", &h[i].directive,
                        &h[i].name);
        labels.len = p - labels.data;

        for (k = 0; k < NGX_NODE_HANDLER_FAMILIES; k++) {
            name = ngx_node_handler_families[k].name;
            f = ngx_node_metrics_family(m->sh, &name);

            if (f == NULL) {
                continue;
            }

            ngx_node_metrics_handler_series[i * NGX_NODE_HANDLER_FAMILIES + k]
                = ngx_node_metrics_series(m, f, &labels);

            if (ngx_node_metrics_handler_series[i * NGX_NODE_HANDLER_FAMILIES
                                                + k] == NULL)
            {
                refused = 1;
            }
        }
    }

    if (refused) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "ngx-node: the metrics zone (%uz bytes) is full: some "
                      "handlers' metrics are not recorded; make it larger "
                      "with \"node_metrics_zone\"", m->zone->shm.size);
    }
}


void
ngx_node_metrics_init_process(ngx_cycle_t *cycle, ngx_node_metrics_t *m,
    ngx_array_t *handlers)
{
    ngx_time_t                *tp;
    ngx_node_metric_worker_t  *w;

    ngx_node_metrics_zone = m;

    if (handlers == NULL) {
        /* no Node here: this worker only answers scrapes */
        return;
    }

    ngx_shmtx_lock(&m->shpool->mutex);

    w = ngx_slab_calloc_locked(m->shpool, sizeof(ngx_node_metric_worker_t));

    if (w != NULL) {
        tp = ngx_timeofday();
        w->pid = ngx_pid;
        w->worker = ngx_process == NGX_PROCESS_WORKER ? ngx_worker : 0;
        w->start = tp->sec + tp->msec / 1000.0;
        ngx_queue_insert_tail(&m->sh->workers, &w->queue);

    } else {
        m->sh->refused++;
    }

    ngx_node_metrics_handlers(cycle, m, handlers);

    ngx_shmtx_unlock(&m->shpool->mutex);

    if (w == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "ngx-node: the metrics zone (%uz bytes) is full: this "
                      "worker's metrics are not recorded; make it larger "
                      "with \"node_metrics_zone\"", m->zone->shm.size);
    }

    ngx_node_metrics_self = w;

    ngx_node_metrics_tick_mark = ngx_node_metrics_now_ns();

    ngx_node_metrics_timer.handler = ngx_node_metrics_tick;
    ngx_node_metrics_timer.data = ngx_node_event_connection();
    ngx_node_metrics_timer.log = cycle->log;
    ngx_node_metrics_timer.cancelable = 1;
    ngx_add_timer(&ngx_node_metrics_timer, NGX_NODE_METRICS_INTERVAL);
}


/* the runtime adds what it counted since the last time (and this worker's heap) */
static void
ngx_node_metrics_flush(void)
{
    ngx_node_value_t  ret;

    if (ngx_node_metrics_self == NULL || ngx_node_bridge() == NULL) {
        return;
    }

    (void) ngx_node_call(ngx_cycle->log, NGX_NODE_KIND_METRICS_FLUSH, -1, 0,
                         NULL, 0, &ret);
}


/* what the runtime cannot know of this worker: utilisation since the last tick, pending
 * work */
static void
ngx_node_metrics_update_self(void)
{
    uint64_t             now, busy;
    ngx_node_metrics_t  *m;

    m = ngx_node_metrics_zone;
    now = ngx_node_metrics_now_ns();
    busy = ngx_node_metrics_busy - ngx_node_metrics_busy_mark;

    ngx_shmtx_lock(&m->shpool->mutex);

    if (now > ngx_node_metrics_tick_mark) {
        ngx_node_metrics_self->utilization =
            (double) busy / (double) (now - ngx_node_metrics_tick_mark);
    }

    ngx_node_metrics_self->pending = (double) ngx_node_pending_count();

    ngx_shmtx_unlock(&m->shpool->mutex);

    ngx_node_metrics_busy_mark = ngx_node_metrics_busy;
    ngx_node_metrics_tick_mark = now;
}


static void
ngx_node_metrics_tick(ngx_event_t *ev)
{
    ngx_node_metrics_flush();
    ngx_node_metrics_update_self();

    if (!ngx_exiting && !ngx_quit && !ngx_terminate) {
        ngx_add_timer(ev, NGX_NODE_METRICS_INTERVAL);
    }
}


void
ngx_node_metrics_exit_process(void)
{
    ngx_node_metrics_t  *m;

    m = ngx_node_metrics_zone;

    if (m == NULL || ngx_node_metrics_self == NULL) {
        return;
    }

    if (ngx_node_metrics_timer.timer_set) {
        ngx_del_timer(&ngx_node_metrics_timer);
    }

    ngx_node_metrics_flush();

    /* the counts stay; this worker's gauges go with it */
    ngx_shmtx_lock(&m->shpool->mutex);
    ngx_queue_remove(&ngx_node_metrics_self->queue);
    ngx_slab_free_locked(m->shpool, ngx_node_metrics_self);
    ngx_shmtx_unlock(&m->shpool->mutex);

    ngx_node_metrics_self = NULL;
}


uint64_t
ngx_node_metrics_busy_begin(void)
{
    if (ngx_node_metrics_self == NULL || ngx_node_metrics_depth++) {
        return 0;
    }

    return ngx_node_metrics_now_ns();
}


void
ngx_node_metrics_busy_end(uint64_t began)
{
    if (ngx_node_metrics_self == NULL || ngx_node_metrics_depth == 0) {
        return;
    }

    ngx_node_metrics_depth--;

    if (began) {
        ngx_node_metrics_busy += ngx_node_metrics_now_ns() - began;
    }
}


void
ngx_node_metrics_handler_event(ngx_uint_t handler, ngx_uint_t event)
{
    ngx_node_metrics_t        *m;
    ngx_node_metric_series_t  *s;

    m = ngx_node_metrics_zone;

    if (m == NULL || handler >= ngx_node_metrics_nhandlers) {
        return;
    }

    s = ngx_node_metrics_handler_series[handler * NGX_NODE_HANDLER_FAMILIES
                                        + (event == NGX_NODE_METRIC_TIMEOUT
                                           ? NGX_NODE_HANDLER_TIMEOUTS
                                           : NGX_NODE_HANDLER_STOPPED)];
    if (s == NULL) {
        return;
    }

    ngx_shmtx_lock(&m->shpool->mutex);
    s->values[0]++;
    ngx_shmtx_unlock(&m->shpool->mutex);
}


/* the worker op "metrics" */

static void
ngx_node_metrics_result_null(ngx_node_result_t *res)
{
    ngx_node_value_t  v = { NGX_NODE_NULL, 0, NULL, 0 };

    res->set(res, &v);
}


static void
ngx_node_metrics_result_true(ngx_node_result_t *res)
{
    ngx_node_value_t  v = { NGX_NODE_BOOLEAN, 1, NULL, 0 };

    res->set(res, &v);
}


/* args[i]: float64s (any alignment); NGX_ERROR if not bytes of them */
static ngx_int_t
ngx_node_metrics_arg_doubles(const ngx_node_value_t *args, unsigned nargs,
    unsigned i, const u_char **data, ngx_uint_t *n)
{
    if (i >= nargs || args[i].type != NGX_NODE_BYTES
        || args[i].len % sizeof(double) != 0)
    {
        return NGX_ERROR;
    }

    *data = (const u_char *) args[i].data;
    *n = args[i].len / sizeof(double);

    return NGX_OK;
}


static double
ngx_node_metrics_double(const u_char *data, ngx_uint_t i)
{
    double  d;

    ngx_memcpy(&d, data + i * sizeof(double), sizeof(double));

    return d;
}


static const char *
ngx_node_metrics_type_name(ngx_uint_t type)
{
    switch (type) {
    case NGX_NODE_METRIC_COUNTER:
        return "counter";
    case NGX_NODE_METRIC_GAUGE:
        return "gauge";
    default:
        return "histogram";
    }
}


/* (name, type, help, labelNames, bounds): true; null: no room */
static void
ngx_node_metrics_define(ngx_node_metrics_t *m, const ngx_node_value_t *args,
    unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t                  type;
    ngx_str_t                  name, help, labels;
    ngx_uint_t                 i, nbuckets, same;
    const u_char              *data;
    ngx_node_metric_family_t  *f;

    double                     bounds[64];

    if (ngx_node_arg_str(args, nargs, 1, &name) != NGX_OK
        || ngx_node_arg_int(args, nargs, 2, &type) != NGX_OK
        || ngx_node_arg_str(args, nargs, 3, &help) != NGX_OK
        || ngx_node_arg_str(args, nargs, 4, &labels) != NGX_OK
        || ngx_node_metrics_arg_doubles(args, nargs, 5, &data, &nbuckets)
           != NGX_OK
        || type < NGX_NODE_METRIC_COUNTER || type > NGX_NODE_METRIC_HISTOGRAM
        || nbuckets > 64)
    {
        ngx_node_result_type_error(res, "metrics define: bad arguments");
        return;
    }

    for (i = 0; i < nbuckets; i++) {
        bounds[i] = ngx_node_metrics_double(data, i);
    }

    ngx_shmtx_lock(&m->shpool->mutex);

    f = ngx_node_metrics_family(m->sh, &name);

    if (f == NULL) {
        f = ngx_node_metrics_family_add(m, &name, type, &help, &labels, bounds,
                                        nbuckets);
        ngx_shmtx_unlock(&m->shpool->mutex);

        if (f == NULL) {
            ngx_node_metrics_result_null(res);

        } else {
            ngx_node_metrics_result_true(res);
        }

        return;
    }

    same = f->type == (ngx_uint_t) type
           && f->labels.len == labels.len
           && ngx_strncmp(f->labels.data, labels.data, labels.len) == 0
           && f->nbuckets == nbuckets
           && ngx_memcmp(f->bounds, bounds, nbuckets * sizeof(double)) == 0;

    ngx_shmtx_unlock(&m->shpool->mutex);

    if (!same) {
        ngx_node_result_type_error(res,
            "\"%V\" is already a %s with labels (%V)%s in the metrics zone, "
            "defined by another worker or an earlier configuration; give "
            "this one another name, or restart nginx to start the zone anew",
            &name, ngx_node_metrics_type_name(f->type), &f->labels,
            f->type == NGX_NODE_METRIC_HISTOGRAM ? " and other buckets" : "");
        return;
    }

    ngx_node_metrics_result_true(res);
}


/* (name, labels, values) adds, or (name, labels, value) sets a gauge: true; null: no
 * room */
static void
ngx_node_metrics_update(ngx_node_metrics_t *m, ngx_uint_t set,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t                  name, labels;
    ngx_uint_t                 i, n;
    const u_char              *data;
    ngx_node_metric_family_t  *f;
    ngx_node_metric_series_t  *s;

    if (ngx_node_arg_str(args, nargs, 1, &name) != NGX_OK
        || ngx_node_arg_str(args, nargs, 2, &labels) != NGX_OK
        || ngx_node_metrics_arg_doubles(args, nargs, 3, &data, &n) != NGX_OK)
    {
        ngx_node_result_type_error(res, "metrics update: bad arguments");
        return;
    }

    ngx_shmtx_lock(&m->shpool->mutex);

    f = ngx_node_metrics_family(m->sh, &name);

    if (f == NULL || n != ngx_node_metrics_nvalues(f)
        || (set && f->type != NGX_NODE_METRIC_GAUGE))
    {
        ngx_shmtx_unlock(&m->shpool->mutex);
        ngx_node_result_type_error(res, "metrics update: \"%V\" is not "
                                   "defined so", &name);
        return;
    }

    s = ngx_node_metrics_series(m, f, &labels);

    if (s == NULL) {
        ngx_shmtx_unlock(&m->shpool->mutex);
        ngx_node_metrics_result_null(res);
        return;
    }

    for (i = 0; i < n; i++) {
        if (set) {
            s->values[i] = ngx_node_metrics_double(data, i);

        } else {
            s->values[i] += ngx_node_metrics_double(data, i);
        }
    }

    ngx_shmtx_unlock(&m->shpool->mutex);

    ngx_node_metrics_result_true(res);
}


/* (records): [handler, calls, errors, sum, count per bucket ...] each */
static void
ngx_node_metrics_add_handlers(ngx_node_metrics_t *m,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    double                      v;
    ngx_uint_t                  n, r, i, k, stride, handler;
    const u_char               *data;
    ngx_node_metric_series_t  **hs, *s;

    stride = 4 + NGX_NODE_HANDLER_NBUCKETS + 1;

    if (ngx_node_metrics_arg_doubles(args, nargs, 1, &data, &n) != NGX_OK
        || n % stride != 0)
    {
        ngx_node_result_type_error(res, "metrics handlers: bad arguments");
        return;
    }

    ngx_shmtx_lock(&m->shpool->mutex);

    for (r = 0; r < n; r += stride) {
        v = ngx_node_metrics_double(data, r);

        if (v < 0 || v >= ngx_node_metrics_nhandlers) {
            continue;
        }

        handler = (ngx_uint_t) v;
        hs = &ngx_node_metrics_handler_series[handler
                                              * NGX_NODE_HANDLER_FAMILIES];

        if (hs[NGX_NODE_HANDLER_CALLS]) {
            hs[NGX_NODE_HANDLER_CALLS]->values[0] +=
                ngx_node_metrics_double(data, r + 1);
        }

        if (hs[NGX_NODE_HANDLER_ERRORS]) {
            hs[NGX_NODE_HANDLER_ERRORS]->values[0] +=
                ngx_node_metrics_double(data, r + 2);
        }

        s = hs[NGX_NODE_HANDLER_DURATION];

        if (s == NULL) {
            continue;
        }

        for (i = 0, k = r + 4; i <= NGX_NODE_HANDLER_NBUCKETS; i++, k++) {
            s->values[i] += ngx_node_metrics_double(data, k);
        }

        s->values[NGX_NODE_HANDLER_NBUCKETS + 1] +=
            ngx_node_metrics_double(data, r + 3);
    }

    ngx_shmtx_unlock(&m->shpool->mutex);
}


/* (heapUsed, heapLimit, nodeVersion) */
static void
ngx_node_metrics_worker(ngx_node_metrics_t *m, const ngx_node_value_t *args,
    unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t                  version;
    ngx_node_metric_worker_t  *w;

    if (nargs < 4 || args[1].type != NGX_NODE_NUMBER
        || args[2].type != NGX_NODE_NUMBER
        || ngx_node_arg_str(args, nargs, 3, &version) != NGX_OK)
    {
        ngx_node_result_type_error(res, "metrics worker: bad arguments");
        return;
    }

    w = ngx_node_metrics_self;

    ngx_shmtx_lock(&m->shpool->mutex);

    w->heap_used = args[1].number;
    w->heap_limit = args[2].number;
    ngx_cpystrn(w->node_version, version.data,
                ngx_min(version.len + 1, sizeof(w->node_version)));

    ngx_shmtx_unlock(&m->shpool->mutex);
}


void
ngx_node_metrics_op(const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    ngx_int_t            op;
    ngx_node_metrics_t  *m;

    m = ngx_node_metrics_zone;

    if (m == NULL || ngx_node_metrics_self == NULL) {
        ngx_node_result_fail(res, "metrics are off in this worker");
        return;
    }

    if (ngx_node_arg_int(args, nargs, 0, &op) != NGX_OK) {
        ngx_node_result_type_error(res, "metrics: bad arguments");
        return;
    }

    switch (op) {

    case NGX_NODE_METRICS_OP_DEFINE:
        ngx_node_metrics_define(m, args, nargs, res);
        return;

    case NGX_NODE_METRICS_OP_ADD:
        ngx_node_metrics_update(m, 0, args, nargs, res);
        return;

    case NGX_NODE_METRICS_OP_SET:
        ngx_node_metrics_update(m, 1, args, nargs, res);
        return;

    case NGX_NODE_METRICS_OP_HANDLERS:
        ngx_node_metrics_add_handlers(m, args, nargs, res);
        return;

    case NGX_NODE_METRICS_OP_WORKER:
        ngx_node_metrics_worker(m, args, nargs, res);
        return;

    default:
        ngx_node_result_fail(res, "unknown metrics op %i", op);
    }
}


/* the exposition */

typedef struct {
    ngx_pool_t   *pool;
    ngx_chain_t  *first;
    ngx_chain_t **last;
    ngx_buf_t    *buf;
    off_t         len;
    ngx_uint_t    failed;
} ngx_node_metrics_out_t;


static u_char *
ngx_node_metrics_room(ngx_node_metrics_out_t *out, size_t size)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (out->failed) {
        return NULL;
    }

    b = out->buf;

    if (b != NULL && (size_t) (b->end - b->last) >= size) {
        return b->last;
    }

    b = ngx_create_temp_buf(out->pool, ngx_max(size, NGX_NODE_METRICS_BUF));
    cl = ngx_alloc_chain_link(out->pool);

    if (b == NULL || cl == NULL) {
        out->failed = 1;
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;
    *out->last = cl;
    out->last = &cl->next;
    out->buf = b;

    return b->last;
}


static void
ngx_node_metrics_write(ngx_node_metrics_out_t *out, u_char *end)
{
    out->len += end - out->buf->last;
    out->buf->last = end;
}


/* # HELP and # TYPE */
static void
ngx_node_metrics_header(ngx_node_metrics_out_t *out, ngx_str_t *name,
    ngx_str_t *help, const char *type)
{
    u_char  *p;

    p = ngx_node_metrics_room(out, 2 * name->len + help->len + 32);
    if (p == NULL) {
        return;
    }

    p = ngx_sprintf(p, "# HELP %V %V\n# TYPE %V %s\n", name, help, name, type);
    ngx_node_metrics_write(out, p);
}


/* name[suffix]{labels[,extra]} value */
static void
ngx_node_metrics_line(ngx_node_metrics_out_t *out, ngx_str_t *name,
    const char *suffix, ngx_str_t *labels, ngx_str_t *extra, double value)
{
    u_char  *p;

    p = ngx_node_metrics_room(out, name->len + 16 + labels->len
                                   + (extra ? extra->len : 0)
                                   + NGX_NODE_METRICS_NUMBER_LEN + 4);
    if (p == NULL) {
        return;
    }

    p = ngx_sprintf(p, "%V%s", name, suffix);

    if (labels->len || extra) {
        *p++ = '{';
        p = ngx_cpymem(p, labels->data, labels->len);

        if (extra) {
            if (labels->len) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, extra->data, extra->len);
        }

        *p++ = '}';
    }

    *p++ = ' ';
    p = ngx_node_metrics_number(p, value);
    *p++ = '\n';

    ngx_node_metrics_write(out, p);
}


static void
ngx_node_metrics_render_family(ngx_node_metrics_out_t *out,
    ngx_node_metric_family_t *f)
{
    u_char                     buf[NGX_NODE_METRICS_NUMBER_LEN + 8];
    double                     count;
    ngx_str_t                  le;
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_node_metric_series_t  *s;

    if (ngx_queue_empty(&f->series)) {
        return;
    }

    ngx_node_metrics_header(out, &f->name, &f->help,
                            ngx_node_metrics_type_name(f->type));

    for (q = ngx_queue_head(&f->series);
         q != ngx_queue_sentinel(&f->series);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_node_metric_series_t, queue);

        if (f->type != NGX_NODE_METRIC_HISTOGRAM) {
            ngx_node_metrics_line(out, &f->name, "", &s->labels, NULL,
                                  s->values[0]);
            continue;
        }

        count = 0;
        le.data = buf;

        for (i = 0; i <= f->nbuckets; i++) {
            count += s->values[i];

            le.len = ngx_node_metrics_number(ngx_cpymem(buf, "le=\"", 4),
                                             i < f->nbuckets ? f->bounds[i]
                                                             : INFINITY)
                     - buf;
            buf[le.len++] = '"';

            ngx_node_metrics_line(out, &f->name, "_bucket", &s->labels, &le,
                                  count);
        }

        ngx_node_metrics_line(out, &f->name, "_sum", &s->labels, NULL,
                              s->values[f->nbuckets + 1]);
        ngx_node_metrics_line(out, &f->name, "_count", &s->labels, NULL,
                              count);
    }
}


typedef struct {
    ngx_str_t   name;
    ngx_str_t   help;
    size_t      offset;     /* of the value in ngx_node_metric_worker_t */
} ngx_node_worker_gauge_t;

static ngx_node_worker_gauge_t  ngx_node_worker_gauges[] = {
    { ngx_string("ngx_node_worker_heap_used_bytes"),
      ngx_string("The JavaScript heap in use"),
      offsetof(ngx_node_metric_worker_t, heap_used) },
    { ngx_string("ngx_node_worker_heap_limit_bytes"),
      ngx_string("The size the JavaScript heap may grow to"),
      offsetof(ngx_node_metric_worker_t, heap_limit) },
    { ngx_string("ngx_node_worker_event_loop_utilization"),
      ngx_string("The share of the last second the worker spent running "
                 "JavaScript, from 0 to 1"),
      offsetof(ngx_node_metric_worker_t, utilization) },
    { ngx_string("ngx_node_worker_pending"),
      ngx_string("Requests and sessions waiting for JavaScript to settle"),
      offsetof(ngx_node_metric_worker_t, pending) },
    { ngx_string("ngx_node_worker_start_time_seconds"),
      ngx_string("When the worker started, in seconds since the epoch"),
      offsetof(ngx_node_metric_worker_t, start) }
};


/* slots of workers that died without saying goodbye go; the lock is held */
static void
ngx_node_metrics_prune(ngx_node_metrics_t *m)
{
    ngx_queue_t               *q, *next;
    ngx_node_metric_worker_t  *w;

    for (q = ngx_queue_head(&m->sh->workers);
         q != ngx_queue_sentinel(&m->sh->workers);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_node_metric_worker_t, queue);

        if (w->pid != ngx_pid && kill(w->pid, 0) == -1
            && ngx_errno == NGX_ESRCH)
        {
            ngx_queue_remove(q);
            ngx_slab_free_locked(m->shpool, w);
        }
    }
}


static void
ngx_node_metrics_render_workers(ngx_node_metrics_out_t *out,
    ngx_node_metrics_t *m)
{
    u_char                    *p;
    double                     value;
    ngx_str_t                  labels, name, help;
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_node_metric_worker_t  *w;

    u_char                     buf[128];

    if (ngx_queue_empty(&m->sh->workers)) {
        return;
    }

    labels.data = buf;

    for (i = 0; i < sizeof(ngx_node_worker_gauges)
                    / sizeof(ngx_node_worker_gauge_t); i++)
    {
        ngx_node_metrics_header(out, &ngx_node_worker_gauges[i].name,
                                &ngx_node_worker_gauges[i].help, "gauge");

        for (q = ngx_queue_head(&m->sh->workers);
             q != ngx_queue_sentinel(&m->sh->workers);
             q = ngx_queue_next(q))
        {
            w = ngx_queue_data(q, ngx_node_metric_worker_t, queue);

            value = *(double *) ((u_char *) w
                                 + ngx_node_worker_gauges[i].offset);

            labels.len = ngx_sprintf(buf, "worker=\"%i\",pid=\"%P\"",
                                     w->worker, w->pid)
                         - buf;

            ngx_node_metrics_line(out, &ngx_node_worker_gauges[i].name, "",
                                  &labels, NULL, value);
        }
    }

    ngx_str_set(&name, "ngx_node_worker_info");
    ngx_str_set(&help, "The worker's Node.js version, in a label");
    ngx_node_metrics_header(out, &name, &help, "gauge");

    for (q = ngx_queue_head(&m->sh->workers);
         q != ngx_queue_sentinel(&m->sh->workers);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_node_metric_worker_t, queue);

        p = ngx_sprintf(buf, "worker=\"%i\",pid=\"%P\",node_version=\"%s\"",
                        w->worker, w->pid, w->node_version);
        labels.len = p - buf;

        ngx_node_metrics_line(out, &name, "", &labels, NULL, 1);
    }
}


ngx_int_t
ngx_node_metrics_render(ngx_pool_t *pool, ngx_log_t *log, ngx_chain_t **chain,
    off_t *len)
{
    ngx_str_t                  name, help, none = ngx_null_string;
    ngx_queue_t               *q;
    ngx_node_metrics_t        *m;
    ngx_node_metrics_out_t     out;
    ngx_node_metric_family_t  *f;

    m = ngx_node_metrics_zone;

    if (m == NULL) {
        return NGX_DECLINED;
    }

    ngx_node_metrics_flush();

    if (ngx_node_metrics_self) {
        ngx_node_metrics_update_self();
    }

    ngx_memzero(&out, sizeof(ngx_node_metrics_out_t));
    out.pool = pool;
    out.last = &out.first;

    ngx_shmtx_lock(&m->shpool->mutex);

    ngx_node_metrics_prune(m);

    for (q = ngx_queue_head(&m->sh->families);
         q != ngx_queue_sentinel(&m->sh->families);
         q = ngx_queue_next(q))
    {
        f = ngx_queue_data(q, ngx_node_metric_family_t, queue);
        ngx_node_metrics_render_family(&out, f);
    }

    ngx_node_metrics_render_workers(&out, m);

    ngx_str_set(&name, "ngx_node_metrics_refused_total");
    ngx_str_set(&help, "Series and workers the metrics zone had no room for "
                       "(node_metrics_zone)");
    ngx_node_metrics_header(&out, &name, &help, "counter");
    ngx_node_metrics_line(&out, &name, "", &none, NULL, m->sh->refused);

    ngx_shmtx_unlock(&m->shpool->mutex);

    if (out.failed) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ngx-node: no memory for the metrics exposition");
        return NGX_ERROR;
    }

    *chain = out.first;
    *len = out.len;

    return NGX_OK;
}
