/*
 * A stream session with JavaScript: its context, the access and preread phases (a handler
 * decides with s.allow(), s.deny(), s.decline() or s.done(); until then it may wait for data
 * with s.on("upload") or for async work), async node_set values awaited after preread,
 * node_set, and the ops behind `s` (src/runtime/stream/session.ts is the other half).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_node.h"


static void ngx_stream_node_cleanup(void *data);
static void ngx_stream_node_resume_handler(ngx_event_t *ev);
static void ngx_stream_node_timeout_handler(ngx_event_t *ev);
static void ngx_stream_node_abort(ngx_node_pending_t *pending);
static void ngx_stream_node_fail_handler(ngx_event_t *ev);


static void
ngx_stream_node_event(ngx_event_t *ev, ngx_connection_t *c,
    ngx_event_handler_pt handler)
{
    ev->handler = handler;
    ev->data = c;
    ev->log = c->log;
}


ngx_stream_node_ctx_t *
ngx_stream_node_ctx(ngx_stream_session_t *s)
{
    ngx_uint_t              i;
    ngx_connection_t       *c;
    ngx_pool_cleanup_t     *cln;
    ngx_stream_node_ctx_t  *ctx;

    ctx = ngx_stream_get_module_ctx(s, ngx_stream_node_module);

    if (ctx != NULL) {
        return ctx->handle > 0 ? ctx : NULL;
    }

    c = s->connection;

    ctx = ngx_pcalloc(c->pool, sizeof(ngx_stream_node_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(c->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ctx->session = s;
    ctx->handle = ngx_node_open(ctx, ngx_stream_node_session_op);

    if (ctx->handle <= 0) {
        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                      "ngx-node: too many sessions in JavaScript at once");
        return NULL;
    }

    cln->handler = ngx_stream_node_cleanup;
    cln->data = ctx;

    ctx->handler = NGX_CONF_UNSET;
    ctx->chunk_direction = -1;
    ctx->collected_last = &ctx->collected;
    ctx->pending.abort = ngx_stream_node_abort;

    ngx_stream_node_event(&ctx->timeout, c, ngx_stream_node_timeout_handler);
    ngx_stream_node_event(&ctx->resume, c, ngx_stream_node_resume_handler);
    ngx_stream_node_event(&ctx->fail, c, ngx_stream_node_fail_handler);

    for (i = 0; i < 2; i++) {
        ctx->directions[i].last = &ctx->directions[i].queue;
    }

    ngx_stream_set_ctx(s, ctx, ngx_stream_node_module);

    return ctx;
}


/* the session ends: nothing may refer to it any more; JavaScript forgets its `s` */
static void
ngx_stream_node_cleanup(void *data)
{
    ngx_stream_node_ctx_t  *ctx = data;

    ngx_node_value_t  ret;

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }

    if (ctx->fail.posted) {
        ngx_delete_posted_event(&ctx->fail);
    }

    ngx_node_pending_remove(&ctx->pending);
    ngx_stream_node_filter_cleanup(ctx);

    if (ctx->handle > 0) {
        (void) ngx_node_call(ctx->session->connection->log,
                             NGX_NODE_KIND_STREAM_CLOSE, -1, ctx->handle,
                             NULL, 0, &ret);
        ngx_node_close(ctx->handle);
        ctx->handle = 0;
    }
}


/* NGX_OK if Node runs here; otherwise says so, naming the handler */
ngx_int_t
ngx_stream_node_running(ngx_stream_session_t *s, ngx_int_t handler)
{
    const ngx_node_handler_t  *h;

    if (ngx_node_bridge() != NULL) {
        return NGX_OK;
    }

    h = ngx_node_handler(handler);
    ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                  "%V \"%V\": Node.js is not running in this worker (see the "
                  "errors at its start)", &h->directive, &h->name);

    return NGX_ERROR;
}


/* waiting on JavaScript: node_timeout runs, and Node's end aborts the wait */
static void
ngx_stream_node_wait(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx)
{
    ngx_stream_node_srv_conf_t  *nscf;

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);

    ngx_add_timer(&ctx->timeout, nscf->timeout);
    ngx_node_pending_add(&ctx->pending);
}


/* a waiting phase is decided: it runs again, from nginx's loop */
static void
ngx_stream_node_wake(ngx_stream_node_ctx_t *ctx)
{
    ngx_connection_t  *c;

    c = ctx->session->connection;

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    ngx_node_pending_remove(&ctx->pending);

    /* prereading: nginx would not call the handler again before more data came */
    if (ctx->phase == NGX_STREAM_NODE_PREREAD && c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    ctx->steps[ctx->phase] = NGX_STREAM_NODE_DECIDED;

    if (!ctx->resume.posted) {
        ngx_post_event(&ctx->resume, &ngx_posted_events);
    }
}


static void
ngx_stream_node_resume_handler(ngx_event_t *ev)
{
    ngx_stream_node_ctx_t  *ctx;

    ctx = ngx_stream_node_event_ctx(ev, resume);

    ngx_stream_core_run_phases(ctx->session);
}


static void
ngx_stream_node_timeout_handler(ngx_event_t *ev)
{
    ngx_stream_session_t      *s;
    ngx_stream_node_ctx_t     *ctx;
    const ngx_node_handler_t  *h;

    ngx_stream_node_srv_conf_t  *nscf;

    ctx = ngx_stream_node_event_ctx(ev, timeout);
    s = ctx->session;

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);
    h = ngx_node_handler(ctx->handler);

    ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                  "%V \"%V\" did not %s within %Mms (node_timeout); closing "
                  "the session", &h->directive, &h->name,
                  ctx->phase == NGX_STREAM_NODE_PREFETCH ? "finish" : "decide",
                  nscf->timeout);
    ngx_node_metrics_handler_event(ctx->handler, NGX_NODE_METRIC_TIMEOUT);

    ngx_node_pending_remove(&ctx->pending);
    ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
}


/* Node stopped (process.exit()) while the session waited */
static void
ngx_stream_node_abort(ngx_node_pending_t *pending)
{
    ngx_stream_node_ctx_t  *ctx;

    ctx = ngx_queue_data(pending, ngx_stream_node_ctx_t, pending);

    ctx->status = NGX_STREAM_INTERNAL_SERVER_ERROR;
    ctx->prefetching = 0;
    ngx_stream_node_wake(ctx);
}


/*
 * a filter failed: the session ends, from nginx's loop, not from inside the proxy. A proxied
 * session is ended by the proxy, which alone closes its upstream connection: it does when a
 * filter it writes through answers NGX_ERROR, as ours does once failed; it is made to write
 * at once.
 */
static void
ngx_stream_node_fail_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_stream_session_t   *s;
    ngx_stream_node_ctx_t  *ctx;

    ctx = ngx_stream_node_event_ctx(ev, fail);
    s = ctx->session;
    c = s->connection;

    if (s->upstream && s->upstream->connected) {
        c->buffered |= NGX_STREAM_NODE_BUFFERED;
        c->write->handler(c->write);
        return;
    }

    ngx_stream_finalize_session(s, NGX_STREAM_INTERNAL_SERVER_ERROR);
}


/* node_access, node_preread */

static ngx_int_t
ngx_stream_node_phase(ngx_stream_session_t *s, ngx_stream_node_phase_e phase,
    ngx_uint_t kind, ngx_int_t handler)
{
    ngx_int_t               rc;
    ngx_buf_t              *b;
    ngx_uint_t              flags;
    ngx_node_value_t        data, ret;
    ngx_stream_node_ctx_t  *ctx;

    if (handler == NGX_CONF_UNSET) {
        return NGX_DECLINED;
    }

    if (ngx_stream_node_running(s, handler) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = ngx_stream_node_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    switch (ctx->steps[phase]) {

    case NGX_STREAM_NODE_WAITING:
        /* a read event while the handler works */
        return NGX_DONE;

    case NGX_STREAM_NODE_DECIDED:
        ctx->steps[phase] = NGX_STREAM_NODE_IDLE;
        return ctx->status;

    case NGX_STREAM_NODE_WANTS_DATA:
        /* more data came: the upload callback gets all that was read so far */
        flags = 0;
        break;

    default:
        flags = NGX_NODE_FLAG_FIRST;
    }

    b = s->connection->buffer;

    /* ASCII comes as a string: a Buffer costs V8 and its collector far more */
    data.type = NGX_NODE_ASCII_OR_BYTES;
    data.number = 0;
    data.data = b ? (const char *) b->pos : "";
    data.len = b ? (size_t) (b->last - b->pos) : 0;

    ctx->phase = phase;
    ctx->handler = handler;
    ctx->status = NGX_ERROR;
    ctx->decided = 0;
    ctx->in_call = 1;

    rc = ngx_node_call(s->connection->log, kind, handler, ctx->handle, &data,
                       flags, &ret);

    ctx->in_call = 0;

    if (rc != NGX_OK || ret.type != NGX_NODE_NUMBER
        || ret.number == NGX_NODE_DISPATCH_FAILED)
    {
        ctx->steps[phase] = NGX_STREAM_NODE_IDLE;
        return NGX_ERROR;
    }

    if (ret.number == NGX_NODE_DISPATCH_DONE || ctx->decided) {
        /* decided in the call, or by its promise reactions right after it */
        ctx->steps[phase] = NGX_STREAM_NODE_IDLE;
        return ctx->status;
    }

    if (ret.number == NGX_NODE_DISPATCH_AGAIN
        && phase == NGX_STREAM_NODE_PREREAD)
    {
        /* nginx reads more and calls again (preread_buffer_size,
         * preread_timeout bound it) */
        ctx->steps[phase] = NGX_STREAM_NODE_WANTS_DATA;
        return NGX_AGAIN;
    }

    /* something async decides */
    ctx->steps[phase] = NGX_STREAM_NODE_WAITING;
    ngx_stream_node_wait(s, ctx);

    return NGX_DONE;
}


ngx_int_t
ngx_stream_node_access_handler(ngx_stream_session_t *s)
{
    ngx_stream_node_srv_conf_t  *nscf;

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);

    return ngx_stream_node_phase(s, NGX_STREAM_NODE_ACCESS,
                                 NGX_NODE_KIND_STREAM_ACCESS, nscf->access);
}


/*
 * Once the session is let through the preread phase, the async node_set values of its server
 * are computed, all at once, and the phase waits for them; later uses find the values.
 * NGX_OK: none to wait for; NGX_DONE: waiting; NGX_ERROR.
 */
static ngx_int_t
ngx_stream_node_prefetch(ngx_stream_session_t *s,
    ngx_stream_node_srv_conf_t *nscf)
{
    ngx_uint_t              i;
    ngx_node_value_t        ret;
    ngx_stream_node_var_t  *var;
    ngx_stream_node_ctx_t  *ctx;

    if (nscf->sets == NULL || ngx_node_bridge() == NULL) {
        return NGX_OK;
    }

    var = nscf->sets->elts;

    for (i = 0; i < nscf->sets->nelts; i++) {
        if (ngx_node_handler_async(var[i].handler) != NGX_DECLINED) {
            break;
        }
    }

    if (i == nscf->sets->nelts) {
        /* all synchronous: computed when used */
        return NGX_OK;
    }

    ctx = ngx_stream_node_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->phase = NGX_STREAM_NODE_PREFETCH;
    ctx->prefetching = 0;

    for (i = 0; i < nscf->sets->nelts; i++) {

        if (ngx_node_handler_async(var[i].handler) == NGX_DECLINED) {
            continue;
        }

        /* counted first: the value may come during the call */
        ctx->prefetching++;
        ctx->handler = var[i].handler;

        if (ngx_node_call(s->connection->log, NGX_NODE_KIND_STREAM_PREFETCH,
                          var[i].handler, ctx->handle, NULL, 0, &ret)
            == NGX_OK
            && ret.type == NGX_NODE_NUMBER
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
            /* it failed: the variable is empty */
            s->variables[var[i].index].valid = 1;
            s->variables[var[i].index].not_found = 1;
        }
    }

    if (ctx->prefetching == 0) {
        return NGX_OK;
    }

    ctx->steps[NGX_STREAM_NODE_PREFETCH] = NGX_STREAM_NODE_WAITING;
    ngx_stream_node_wait(s, ctx);

    return NGX_DONE;
}


ngx_int_t
ngx_stream_node_preread_handler(ngx_stream_session_t *s)
{
    ngx_int_t                    rc;
    ngx_stream_node_ctx_t       *ctx;
    ngx_stream_node_srv_conf_t  *nscf;

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_node_module);

    if (ctx != NULL) {
        switch (ctx->steps[NGX_STREAM_NODE_PREFETCH]) {

        case NGX_STREAM_NODE_WAITING:
            return NGX_DONE;

        case NGX_STREAM_NODE_DECIDED:
            /* the values are in: what node_preread had decided stands */
            ctx->steps[NGX_STREAM_NODE_PREFETCH] = NGX_STREAM_NODE_IDLE;
            return ctx->status;

        default:
            break;
        }
    }

    rc = ngx_stream_node_phase(s, NGX_STREAM_NODE_PREREAD,
                               NGX_NODE_KIND_STREAM_PREREAD, nscf->preread);

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        return rc;
    }

    switch (ngx_stream_node_prefetch(s, nscf)) {

    case NGX_OK:
        return rc;

    case NGX_DONE:
        ctx = ngx_stream_get_module_ctx(s, ngx_stream_node_module);
        ctx->status = rc;
        return NGX_DONE;

    default:
        return NGX_ERROR;
    }
}


/* node_set: a variable's value, evaluated when used */

ngx_int_t
ngx_stream_node_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    ngx_str_t               value;
    ngx_node_value_t        ret;
    ngx_stream_node_ctx_t  *ctx;

    v->not_found = 1;

    if (ngx_stream_node_running(s, data) != NGX_OK) {
        return NGX_OK;
    }

    ctx = ngx_stream_node_ctx(s);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_node_call(s->connection->log, NGX_NODE_KIND_STREAM_VARIABLE, data,
                      ctx->handle, NULL, 0, &ret)
        != NGX_OK
        || (ret.type != NGX_NODE_STRING && ret.type != NGX_NODE_BYTES))
    {
        return NGX_OK;
    }

    value.data = (u_char *) ret.data;
    value.len = ret.len;

    if (ngx_node_unsafe_value(s->connection->log, data, &value)) {
        return NGX_OK;
    }

    p = ngx_pnalloc(s->connection->pool, ret.len);
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


/* the "prefetched" op: an async node_set value came */
static void
ngx_stream_node_op_prefetched(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    u_char                       *p;
    ngx_int_t                     handler;
    ngx_str_t                     value;
    ngx_uint_t                    i;
    ngx_stream_node_var_t        *var;
    ngx_stream_variable_value_t  *vv;
    ngx_stream_node_srv_conf_t   *nscf;

    if (ngx_node_arg_int(args, nargs, 0, &handler) != NGX_OK || handler < 0) {
        ngx_node_result_fail(res, "prefetched(handler, value)");
        return;
    }

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);

    if (nscf->sets == NULL || ctx->prefetching == 0) {
        return;
    }

    var = nscf->sets->elts;

    for (i = 0; i < nscf->sets->nelts; i++) {

        if (var[i].handler != (ngx_uint_t) handler) {
            continue;
        }

        vv = &s->variables[var[i].index];
        vv->valid = 1;
        vv->no_cacheable = 0;
        vv->not_found = 1;
        vv->len = 0;

        if (ngx_node_arg_str(args, nargs, 1, &value) != NGX_OK
            || ngx_node_unsafe_value(s->connection->log, handler, &value))
        {
            continue;
        }

        p = ngx_pnalloc(s->connection->pool, value.len);

        if (p != NULL || value.len == 0) {
            ngx_memcpy(p, value.data, value.len);
            vv->data = p;
            vv->len = value.len;
            vv->not_found = 0;
        }
    }

    /* the last value may come during the prefetch's own calls: nothing waits then */
    if (--ctx->prefetching == 0
        && ctx->steps[NGX_STREAM_NODE_PREFETCH] == NGX_STREAM_NODE_WAITING)
    {
        ngx_stream_node_wake(ctx);
    }
}


/* the ops behind `s` */

static void
ngx_stream_node_op_remote_address(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    ngx_node_result_str(res, &s->connection->addr_text);
}


static void
ngx_stream_node_op_status(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_number(res, s->status);
}


/* s.variables[name], s.rawVariables[name] (also a node_periodic run's) */
void
ngx_stream_node_variable_op(ngx_stream_session_t *s,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t                     name;
    ngx_uint_t                    key;
    ngx_node_value_t              value;
    ngx_stream_variable_value_t  *vv;

    if (ngx_node_arg_variable(s->connection->pool, args, nargs, &name, &key)
        != NGX_OK)
    {
        ngx_node_result_type_error(res, "s.variables: a variable name is a "
                                        "non-empty string");
        return;
    }

    vv = ngx_stream_get_variable(s, &name, key);

    if (vv == NULL || vv->not_found) {
        return;
    }

    /* (name, true): s.rawVariables, the bytes as they are */
    value = (ngx_node_value_t) {
        nargs > 1 && args[1].type == NGX_NODE_BOOLEAN && args[1].number
        ? NGX_NODE_BYTES : NGX_NODE_STRING, 0, (const char *) vv->data, vv->len
    };

    res->set(res, &value);
}


void
ngx_stream_node_set_variable_op(ngx_stream_session_t *s,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    u_char                       *p;
    ngx_str_t                     name, value;
    ngx_uint_t                    key;
    ngx_stream_variable_t        *v;
    ngx_stream_variable_value_t  *vv;
    ngx_stream_core_main_conf_t  *cmcf;

    if (ngx_node_arg_variable(s->connection->pool, args, nargs, &name, &key)
        != NGX_OK
        || ngx_node_arg_str(args, nargs, 1, &value) != NGX_OK)
    {
        ngx_node_result_type_error(res, "s.variables: a variable name and a "
                                        "string");
        return;
    }

    if (ngx_node_safe_text(&value) != NGX_OK) {
        ngx_node_result_type_error(res, "s.variables.%V: the value "
                                   NGX_NODE_UNSAFE_TEXT, &name);
        return;
    }

    cmcf = ngx_stream_get_module_main_conf(s, ngx_stream_core_module);

    v = ngx_hash_find(&cmcf->variables_hash, key, name.data, name.len);

    if (v == NULL) {
        ngx_node_result_type_error(res, "s.variables.%V: no such variable; "
                                        "declare it in nginx.conf "
                                        "(\"node_var $%V;\")", &name, &name);
        return;
    }

    p = ngx_pnalloc(s->connection->pool, value.len);
    if (p == NULL && value.len) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    ngx_memcpy(p, value.data, value.len);

    if (v->set_handler != NULL) {
        vv = ngx_pcalloc(s->connection->pool,
                         sizeof(ngx_stream_variable_value_t));
        if (vv == NULL) {
            ngx_node_result_fail(res, "out of memory");
            return;
        }

        vv->valid = 1;
        vv->data = p;
        vv->len = value.len;

        v->set_handler(s, vv, v->data);
        return;
    }

    if (!(v->flags & NGX_STREAM_VAR_INDEXED)
        || !(v->flags & NGX_STREAM_VAR_CHANGEABLE))
    {
        ngx_node_result_type_error(res, "s.variables.%V is read-only; "
                                        "writable are variables made with "
                                        "\"node_var\" or \"set\"", &name);
        return;
    }

    vv = &s->variables[v->index];

    vv->valid = 1;
    vv->not_found = 0;
    vv->no_cacheable = 0;
    vv->data = p;
    vv->len = value.len;
}


static void
ngx_stream_node_op_variable(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    ngx_stream_node_variable_op(s, args, nargs, res);
}


static void
ngx_stream_node_op_set_variable(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res)
{
    ngx_stream_node_set_variable_op(s, args, nargs, res);
}


/*
 * s.allow(), s.deny(), s.decline(), s.done(code): the runtime passes nginx's code. A decision
 * ends the round: no callback waits for data any more (the runtime forgets them too).
 */
static void
ngx_stream_node_op_decide(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t  code;

    if (ngx_node_arg_int(args, nargs, 0, &code) != NGX_OK) {
        ngx_node_result_type_error(res, "decide(code)");
        return;
    }

    ctx->directions[0].listener = NGX_STREAM_NODE_LISTENER_NONE;
    ctx->directions[1].listener = NGX_STREAM_NODE_LISTENER_NONE;

    if (code == NGX_ERROR) {
        code = NGX_STREAM_INTERNAL_SERVER_ERROR;
    }

    if (ctx->in_call) {
        /* the call returns the decision; the last one stands */
        ctx->status = code;
        ctx->decided = 1;
        return;
    }

    if (ctx->phase == NGX_STREAM_NODE_PREFETCH
        || ctx->steps[ctx->phase] == NGX_STREAM_NODE_IDLE
        || ctx->steps[ctx->phase] == NGX_STREAM_NODE_DECIDED)
    {
        /* no phase waits for it (decided already, or filtering) */
        return;
    }

    ctx->status = code;
    ngx_stream_node_wake(ctx);
}


static void
ngx_stream_node_op_log(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t  level;
    ngx_str_t  msg;

    if (ngx_node_arg_int(args, nargs, 0, &level) != NGX_OK
        || ngx_node_arg_str(args, nargs, 1, &msg) != NGX_OK
        || level < NGX_LOG_EMERG || level > NGX_LOG_DEBUG)
    {
        ngx_node_result_fail(res, "log(level, message): bad arguments");
        return;
    }

    ngx_log_error((ngx_uint_t) level, s->connection->log, 0, "%V", &msg);
}


typedef void (*ngx_stream_node_op_pt)(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, const ngx_node_value_t *args, unsigned nargs,
    ngx_node_result_t *res);


/* the number of the node_fetch_* settings of the session's server (also of a
 * node_periodic run's stand-in session, whose ctx is NULL) */
void
ngx_stream_node_fetch_op(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_result_number(res, ((ngx_stream_node_srv_conf_t *)
        ngx_stream_get_module_srv_conf(s, ngx_stream_node_module))->fetch.index);
}


static ngx_stream_node_op_pt  ngx_stream_node_ops[NGX_NODE_STREAM_OP_COUNT] = {
    [NGX_NODE_STREAM_OP_REMOTE_ADDRESS] = ngx_stream_node_op_remote_address,
    [NGX_NODE_STREAM_OP_STATUS] = ngx_stream_node_op_status,
    [NGX_NODE_STREAM_OP_VARIABLE] = ngx_stream_node_op_variable,
    [NGX_NODE_STREAM_OP_SET_VARIABLE] = ngx_stream_node_op_set_variable,
    [NGX_NODE_STREAM_OP_DECIDE] = ngx_stream_node_op_decide,
    [NGX_NODE_STREAM_OP_LOG] = ngx_stream_node_op_log,
    [NGX_NODE_STREAM_OP_SEND] = ngx_stream_node_send,
    [NGX_NODE_STREAM_OP_CHUNK_DONE] = ngx_stream_node_chunk_done,
    [NGX_NODE_STREAM_OP_LISTEN] = ngx_stream_node_listen,
    [NGX_NODE_STREAM_OP_FORWARD] = ngx_stream_node_forward,
    [NGX_NODE_STREAM_OP_PREFETCHED] = ngx_stream_node_op_prefetched,
    [NGX_NODE_STREAM_OP_FETCH] = ngx_stream_node_fetch_op,
};


void
ngx_stream_node_session_op(void *object, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_stream_node_ctx_t  *ctx = object;

    if (op >= NGX_NODE_STREAM_OP_COUNT || ngx_stream_node_ops[op] == NULL) {
        ngx_node_result_fail(res, "unknown session op %ud", op);
        return;
    }

    ngx_stream_node_ops[op](ctx->session, ctx, args, nargs, res);
}
