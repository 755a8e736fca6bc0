/*
 * Handlers at work on a request: its context, calling JavaScript, suspending while a
 * promise is pending, resuming (a content handler's request is finalized; a phase handler's
 * phase runs again and the handler returns its result), node_timeout, and the handlers of
 * each phase and of node_set variables.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"


static void ngx_http_node_cleanup(void *data);
static void ngx_http_node_resume_handler(ngx_event_t *ev);
static void ngx_http_node_timeout_handler(ngx_event_t *ev);
static void ngx_http_node_abort(ngx_node_pending_t *pending);


/* the request's context */

ngx_http_node_ctx_t *
ngx_http_node_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_node_module);

    if (ctx != NULL) {
        if (ctx->handle == 0) {
            /* closed at node_timeout; a log-phase node_set still needs one */
            ctx->handle = ngx_node_open(ctx, ngx_http_node_request_op);
        }

        return ctx->handle > 0 ? ctx : NULL;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_node_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ctx->request = r;
    ctx->handle = ngx_node_open(ctx, ngx_http_node_request_op);

    if (ctx->handle <= 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "ngx-node: too many requests in JavaScript at once");
        return NULL;
    }

    cln->handler = ngx_http_node_cleanup;
    cln->data = ctx;

    ctx->handler = NGX_CONF_UNSET;
    ctx->phase = NGX_CONF_UNSET;

    ngx_http_set_ctx(r, ctx, ngx_http_node_module);

    return ctx;
}


/* nginx frees the request: nothing may refer to it any more */
static void
ngx_http_node_cleanup(void *data)
{
    ngx_http_node_ctx_t  *ctx = data;

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }

    if (ctx->start_subrequests.posted) {
        ngx_delete_posted_event(&ctx->start_subrequests);
    }

    /* a buffered body filter still working when the client went away */

    if (ctx->filter_timeout.timer_set) {
        ngx_del_timer(&ctx->filter_timeout);
    }

    if (ctx->filter_wake.posted) {
        ngx_delete_posted_event(&ctx->filter_wake);
    }

    ngx_node_pending_remove(&ctx->pending);

    ngx_node_close(ctx->handle);
    ctx->handle = 0;

    if (ctx->reading) {
        *ctx->reading = 0;
    }

    ngx_http_node_body_abandon(ctx, "the request ended before its body was "
                                    "read");
}


/* NGX_OK if Node runs here; otherwise says so, naming the handler */
ngx_int_t
ngx_http_node_running(ngx_http_request_t *r, ngx_int_t handler)
{
    const ngx_node_handler_t  *h;

    if (ngx_node_bridge() != NULL) {
        return NGX_OK;
    }

    h = ngx_node_handler(handler);
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "%V \"%V\": Node.js is not running in this worker (see the "
                  "errors at its start)", &h->directive, &h->name);

    return NGX_ERROR;
}


/* calling JavaScript */

/*
 * Calls a handler. Returns NGX_OK when it is done (ctx->failed tells how), NGX_AGAIN when
 * it returned a promise still pending (or, for content, has not ended the response).
 */
ngx_int_t
ngx_http_node_call(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_uint_t kind, ngx_int_t handler, const ngx_node_value_t *arg,
    ngx_uint_t flags, ngx_node_value_t *ret)
{
    ngx_int_t         rc;
    ngx_node_value_t  value;

    if (ret == NULL) {
        ret = &value;
    }

    ctx->kind = kind;
    ctx->handler = handler;
    ctx->done = 0;
    ctx->failed = 0;
    ctx->in_call = 1;

    rc = ngx_node_call(r->connection->log, kind, handler, ctx->handle, arg,
                       flags, ret);

    ctx->in_call = 0;

    if (rc != NGX_OK) {
        ctx->done = 1;
        ctx->failed = 1;

    } else if (ret->type == NGX_NODE_NUMBER) {
        if (ret->number == NGX_NODE_DISPATCH_FAILED) {
            ctx->done = 1;
            ctx->failed = 1;

        } else if (ret->number != NGX_NODE_DISPATCH_PENDING) {
            ctx->done = 1;
        }

    } else {
        ctx->done = 1;
    }

    return ctx->done ? NGX_OK : NGX_AGAIN;
}


/* while a handler is suspended: node_timeout runs, and Node's end aborts it */
void
ngx_http_node_suspend(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    ctx->timeout.handler = ngx_http_node_timeout_handler;
    ctx->timeout.data = r->connection;
    ctx->timeout.log = r->connection->log;

    ctx->resume.handler = ngx_http_node_resume_handler;
    ctx->resume.data = r->connection;
    ctx->resume.log = r->connection->log;

    ctx->pending.abort = ngx_http_node_abort;

    ctx->suspended = 1;
    ngx_add_timer(&ctx->timeout, nlcf->timeout);
    ngx_node_pending_add(&ctx->pending);
}


/* no longer suspended: timer, list and posted event go */
static void
ngx_http_node_wake(ngx_http_node_ctx_t *ctx)
{
    ctx->suspended = 0;

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }

    ngx_node_pending_remove(&ctx->pending);
}


/* the handler is done (the "done" op, or its async node_set values are in) */
void
ngx_http_node_done(ngx_http_node_ctx_t *ctx, ngx_uint_t failed)
{
    ctx->done = 1;
    ctx->failed = failed;

    if (ctx->in_call || !ctx->suspended) {
        /* whoever called looks at it when the call returns */
        return;
    }

    /* JS may be running on behalf of another request: resume from nginx's loop */
    if (!ctx->resume.posted) {
        ngx_post_event(&ctx->resume, &ngx_posted_events);
    }
}


static ngx_int_t
ngx_http_node_redirect(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    ngx_str_t   uri, args;
    ngx_uint_t  flags;

    uri = ctx->redirect;
    ngx_str_null(&ctx->redirect);

    if (uri.data[0] == '@') {
        return ngx_http_named_location(r, &uri);
    }

    ngx_str_null(&args);
    flags = NGX_HTTP_LOG_UNSAFE;

    if (ngx_http_parse_unsafe_uri(r, &uri, &args, &flags) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "r.internalRedirect(): unsafe URI \"%V\"", &uri);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_internal_redirect(r, &uri, &args);
}


/*
 * What a request whose handler failed ends with: the status nginx refused the request body
 * with (NGX_DONE: nginx answered the client itself while reading it), else 500.
 */
static ngx_int_t
ngx_http_node_failure(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    if (ctx->body_status) {
        return ctx->body_status;
    }

    return r->header_sent ? NGX_ERROR : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/* what a content handler's request is finalized with */
static ngx_int_t
ngx_http_node_content_result(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    if (ctx->failed) {
        return ngx_http_node_failure(r, ctx);
    }

    if (ctx->declined) {
        return NGX_DECLINED;
    }

    if (ctx->redirect.len) {
        return ngx_http_node_redirect(r, ctx);
    }

    return ctx->status;
}


/*
 * What a phase handler returns. Without a response the request goes on: NGX_OK in the
 * access phase (allowed, which "satisfy any" counts), NGX_DECLINED elsewhere.
 */
static ngx_int_t
ngx_http_node_phase_result(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->body_status == NGX_DONE) {
        /* nginx answered the client itself (a body over client_max_body_size);
         * the request ends here, whatever the handler did */
        ngx_http_finalize_request(r, NGX_DONE);
        return NGX_DONE;
    }

    if (ctx->failed) {
        return ngx_http_node_failure(r, ctx);
    }

    if (ctx->declined) {
        ctx->declined = 0;
        return NGX_DECLINED;
    }

    if (ctx->redirect.len) {
        rc = ngx_http_node_redirect(r, ctx);
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    if (ctx->ended) {
        if (r->header_sent) {
            /* a whole response went out: end the request here */
            ngx_http_finalize_request(r, ctx->status);
            return NGX_DONE;
        }

        /* a status for nginx to answer with (403 ..., or a redirect) */
        return ctx->status;
    }

    return ctx->kind == NGX_NODE_KIND_HTTP_ACCESS ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_node_resume_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_node_event_ctx(ev, resume);
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_http_node_wake(ctx);

    if (ctx->phase == NGX_CONF_UNSET) {
        ngx_http_finalize_request(r, ngx_http_node_content_result(r, ctx));

    } else {
        /* the phase calls the handler again, which now returns its result */
        ctx->steps[ctx->phase] = NGX_HTTP_NODE_STEP_COMPLETE;
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_node_timeout_handler(ngx_event_t *ev)
{
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_node_ctx_t       *ctx;
    ngx_node_handler_t const  *h;
    ngx_http_node_loc_conf_t  *nlcf;

    ctx = ngx_http_node_event_ctx(ev, timeout);
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);
    h = ngx_node_handler(ctx->handler);

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "%V \"%V\" did not %s within %Mms (node_timeout); %s",
                  &h->directive, &h->name,
                  ctx->phase == NGX_CONF_UNSET ? "end the response" : "finish",
                  nlcf->timeout,
                  r->header_sent ? "closing the connection"
                                 : "answering 504");
    ngx_node_metrics_handler_event(ctx->handler, NGX_NODE_METRIC_TIMEOUT);

    /* the handler may go on, but it can no longer touch this request */
    ngx_node_close(ctx->handle);
    ctx->handle = 0;
    ngx_http_node_body_abandon(ctx, "node_timeout expired");

    ngx_http_node_wake(ctx);

    if (ctx->phase != NGX_CONF_UNSET) {
        ctx->steps[ctx->phase] = NGX_HTTP_NODE_STEP_IDLE;
    }

    ngx_http_finalize_request(r, r->header_sent ? NGX_ERROR
                                                : NGX_HTTP_GATEWAY_TIME_OUT);
    ngx_http_run_posted_requests(c);
}


/* Node stopped (process.exit()) with this request suspended */
static void
ngx_http_node_abort(ngx_node_pending_t *pending)
{
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_queue_data(pending, ngx_http_node_ctx_t, pending);

    ctx->prefetching = 0;
    ngx_http_node_done(ctx, !ctx->ended);
}


/* node_content */

static ngx_int_t
ngx_http_node_content(ngx_http_request_t *r)
{
    ngx_http_node_ctx_t       *ctx;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (ngx_http_node_running(r, nlcf->content) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->phase = NGX_CONF_UNSET;

    if (ngx_http_node_call(r, ctx, NGX_NODE_KIND_HTTP_CONTENT, nlcf->content,
                           NULL, 0, NULL)
        == NGX_OK)
    {
        return ngx_http_node_content_result(r, ctx);
    }

    /* suspended until the handler reports done, or node_timeout */

    r->main->count++;
    r->write_event_handler = ngx_http_node_write_handler;
    ngx_http_node_suspend(r, ctx);

    return NGX_DONE;
}


static void
ngx_http_node_content_after_body(ngx_http_request_t *r)
{
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_node_ctx(r);

    if (ctx != NULL) {
        ctx->body_ready = 1;
    }

    ngx_http_finalize_request(r, ngx_http_node_content(r));
}


ngx_int_t
ngx_http_node_content_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (!nlcf->read_request_body) {
        return ngx_http_node_content(r);
    }

    /* node_read_request_body on: the handler finds r.requestText ready, as in njs */

    rc = ngx_http_read_client_request_body(r, ngx_http_node_content_after_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* while suspended: keep sending what the handler wrote */
void
ngx_http_node_write_handler(ngx_http_request_t *r)
{
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    if (wev->timedout) {
        ngx_connection_error(c, NGX_ETIMEDOUT, "client timed out");
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    clcf = ngx_http_get_module_loc_conf(r->main, ngx_http_core_module);

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return;
    }

    if (!wev->delayed) {
        if (wev->active && !wev->ready) {
            ngx_add_timer(wev, clcf->send_timeout);

        } else if (wev->timer_set) {
            ngx_del_timer(wev);
        }
    }
}


/* node_rewrite, node_access: phase handlers that may suspend */

static ngx_int_t
ngx_http_node_phase(ngx_http_request_t *r, ngx_http_node_phase_e phase,
    ngx_uint_t kind, ngx_int_t handler)
{
    ngx_int_t             rc;
    ngx_http_node_ctx_t  *ctx;

    if (handler == NGX_CONF_UNSET) {
        return NGX_DECLINED;
    }

    if (ngx_http_node_running(r, handler) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->steps[phase]) {

    case NGX_HTTP_NODE_STEP_RUNNING:
        /* called again before the handler is done (a stray write event) */
        return NGX_DONE;

    case NGX_HTTP_NODE_STEP_COMPLETE:
        ctx->steps[phase] = NGX_HTTP_NODE_STEP_IDLE;
        return ngx_http_node_phase_result(r, ctx);

    default:
        break;
    }

    ctx->phase = phase;

    rc = ngx_http_node_call(r, ctx, kind, handler, NULL, 0, NULL);

    if (rc == NGX_OK) {
        return ngx_http_node_phase_result(r, ctx);
    }

    /* suspended: the phase stops here and is run again when the handler is done;
     * a client that goes away meanwhile ends the request (unless nginx reads the
     * body for the handler: then its reader sees that) */

    ctx->steps[phase] = NGX_HTTP_NODE_STEP_RUNNING;

    if (ctx->body_token == 0) {
        r->read_event_handler = ngx_http_test_reading;
    }

    ngx_http_node_suspend(r, ctx);

    return NGX_DONE;
}


ngx_int_t
ngx_http_node_server_rewrite_handler(ngx_http_request_t *r)
{
    ngx_http_node_srv_conf_t  *nscf;

    nscf = ngx_http_get_module_srv_conf(r, ngx_http_node_module);

    return ngx_http_node_phase(r, NGX_HTTP_NODE_SERVER_REWRITE,
                               NGX_NODE_KIND_HTTP_REWRITE, nscf->rewrite);
}


ngx_int_t
ngx_http_node_rewrite_handler(ngx_http_request_t *r)
{
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    return ngx_http_node_phase(r, NGX_HTTP_NODE_REWRITE,
                               NGX_NODE_KIND_HTTP_REWRITE, nlcf->rewrite);
}


ngx_int_t
ngx_http_node_access_handler(ngx_http_request_t *r)
{
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    return ngx_http_node_phase(r, NGX_HTTP_NODE_ACCESS,
                               NGX_NODE_KIND_HTTP_ACCESS, nlcf->access);
}


/* node_log: after the response; whatever it starts must not hold the request */

ngx_int_t
ngx_http_node_log_handler(ngx_http_request_t *r)
{
    ngx_http_node_ctx_t       *ctx;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (nlcf->log == NGX_CONF_UNSET
        || ngx_http_node_running(r, nlcf->log) != NGX_OK)
    {
        return NGX_OK;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_OK;
    }

    (void) ngx_http_node_call(r, ctx, NGX_NODE_KIND_HTTP_LOG, nlcf->log, NULL,
                              0, NULL);

    return NGX_OK;
}


/* node_set: a variable's value, evaluated when used */

ngx_int_t
ngx_http_node_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char               *p;
    ngx_str_t             text;
    ngx_node_value_t      ret;
    ngx_http_node_ctx_t  *ctx;

    v->not_found = 1;

    if (ngx_http_node_running(r, data) != NGX_OK) {
        return NGX_OK;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* not ngx_http_node_call(): this may run inside another handler's call
     * (r.variables), whose state stays as it is */

    if (ngx_node_call(r->connection->log, NGX_NODE_KIND_HTTP_VARIABLE, data,
                      ctx->handle, NULL, 0, &ret)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (ret.type != NGX_NODE_STRING && ret.type != NGX_NODE_BYTES) {
        return NGX_OK;
    }

    text.data = (u_char *) ret.data;
    text.len = ret.len;

    if (ngx_node_unsafe_value(r->connection->log, data, &text)) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ret.len);
    if (p == NULL && ret.len) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, ret.data, ret.len);

    v->data = p;
    v->len = ret.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * Before the access phase: the node_set variables of this block whose functions are async
 * are computed, all at once, and the request waits for them; later uses find the values.
 */

ngx_int_t
ngx_http_node_prefetch_handler(ngx_http_request_t *r)
{
    ngx_uint_t                 i;
    ngx_node_value_t           ret;
    ngx_http_node_ctx_t       *ctx;
    ngx_http_node_var_t       *var;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (nlcf->sets == NULL || ngx_node_bridge() == NULL) {
        return NGX_DECLINED;
    }

    var = nlcf->sets->elts;

    for (i = 0; i < nlcf->sets->nelts; i++) {
        if (ngx_node_handler_async(var[i].handler) != NGX_DECLINED) {
            break;
        }
    }

    if (i == nlcf->sets->nelts) {
        /* all synchronous: they are computed when used */
        return NGX_DECLINED;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ctx->steps[NGX_HTTP_NODE_PREFETCH]) {

    case NGX_HTTP_NODE_STEP_RUNNING:
        return NGX_DONE;

    case NGX_HTTP_NODE_STEP_COMPLETE:
        ctx->steps[NGX_HTTP_NODE_PREFETCH] = NGX_HTTP_NODE_STEP_IDLE;
        return NGX_DECLINED;

    default:
        break;
    }

    ctx->phase = NGX_HTTP_NODE_PREFETCH;
    ctx->prefetching = 0;

    for (i = 0; i < nlcf->sets->nelts; i++) {

        if (ngx_node_handler_async(var[i].handler) == NGX_DECLINED) {
            continue;
        }

        /* counted first: the value may come during the call's own checkpoint */
        ctx->prefetching++;

        (void) ngx_http_node_call(r, ctx, NGX_NODE_KIND_HTTP_PREFETCH,
                                  var[i].handler, NULL, 0, &ret);

        if (ret.type == NGX_NODE_NUMBER
            && ret.number == NGX_NODE_DISPATCH_PENDING)
        {
            ngx_node_handler_set_async(var[i].handler, 1);
            continue;
        }

        ctx->prefetching--;

        if (ret.type == NGX_NODE_NUMBER
            && ret.number == NGX_NODE_DISPATCH_SKIPPED)
        {
            /* a plain function: computed when used, from now on unasked */
            ngx_node_handler_set_async(var[i].handler, 0);

        } else {
            /* it threw: the variable is empty, not computed again */
            r->variables[var[i].index].valid = 1;
            r->variables[var[i].index].not_found = 1;
        }
    }

    if (ctx->prefetching == 0) {
        return NGX_DECLINED;
    }

    ctx->done = 0;
    ctx->steps[NGX_HTTP_NODE_PREFETCH] = NGX_HTTP_NODE_STEP_RUNNING;
    r->read_event_handler = ngx_http_test_reading;
    ngx_http_node_suspend(r, ctx);

    return NGX_DONE;
}


/* the "prefetched" op: an async node_set value came */
void
ngx_http_node_prefetched(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_uint_t handler, const ngx_node_value_t *value)
{
    u_char                     *p;
    ngx_str_t                   text;
    ngx_uint_t                  i;
    ngx_http_node_var_t        *var;
    ngx_http_variable_value_t  *vv;
    ngx_http_node_loc_conf_t   *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (nlcf->sets == NULL || ctx->prefetching == 0) {
        return;
    }

    var = nlcf->sets->elts;

    for (i = 0; i < nlcf->sets->nelts; i++) {

        if (var[i].handler != handler) {
            continue;
        }

        vv = &r->variables[var[i].index];
        vv->valid = 1;
        vv->no_cacheable = 0;
        vv->not_found = 1;
        vv->len = 0;

        text.data = (u_char *) value->data;
        text.len = value->len;

        if ((value->type == NGX_NODE_STRING || value->type == NGX_NODE_BYTES)
            && !ngx_node_unsafe_value(r->connection->log, handler, &text))
        {
            p = ngx_pnalloc(r->pool, value->len);

            if (p != NULL || value->len == 0) {
                ngx_memcpy(p, value->data, value->len);
                vv->data = p;
                vv->len = value->len;
                vv->not_found = 0;
            }
        }
    }

    if (--ctx->prefetching == 0) {
        ngx_http_node_done(ctx, 0);
    }
}
