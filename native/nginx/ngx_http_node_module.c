/*
 * ngx-node's http module: the directives, the content and variable handlers, and the life
 * of a request while JavaScript works on it (suspended, timed out, ended).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"


#define NGX_HTTP_NODE_TIMEOUT  60000


static void *ngx_http_node_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_node_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_node_import(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_content(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_node_content_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_node_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_node_cleanup(void *data);
static void ngx_http_node_finalize_handler(ngx_event_t *ev);
static void ngx_http_node_timeout_handler(ngx_event_t *ev);
static void ngx_http_node_abort(ngx_node_pending_t *pending);


static ngx_command_t  ngx_http_node_commands[] = {

    { ngx_string("node_import"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE13,
      ngx_http_node_import,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_path"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_node_path,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_set"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_node_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_content"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_HTTP_LMT_CONF|NGX_CONF_TAKE1,
      ngx_http_node_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, timeout),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_node_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_node_create_loc_conf,         /* create location configuration */
    ngx_http_node_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_node_module = {
    NGX_MODULE_V1,
    &ngx_http_node_module_ctx,             /* module context */
    ngx_http_node_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* configuration */

static void *
ngx_http_node_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_node_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_node_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->content = NGX_CONF_UNSET;
    conf->timeout = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_node_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_node_loc_conf_t *prev = parent;
    ngx_http_node_loc_conf_t *conf = child;

    ngx_conf_merge_msec_value(conf->timeout, prev->timeout,
                              NGX_HTTP_NODE_TIMEOUT);

    return NGX_CONF_OK;
}


static char *
ngx_http_node_import(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_import(cf);
}


static char *
ngx_http_node_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_path(cf);
}


static char *
ngx_http_node_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t             *value, name;
    ngx_int_t              handler;
    ngx_node_conf_t       *ncf;
    ngx_node_handler_t    *h;
    ngx_http_variable_t   *v;

    value = cf->args->elts;
    name = value[1];

    if (name.len < 2 || name.data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 4 && ngx_strcmp(value[3].data, "nocache") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": only \"nocache\" may "
                           "follow the handler", &value[3]);
        return NGX_CONF_ERROR;
    }

    name.len--;
    name.data++;

    handler = ngx_node_conf_handler(cf, 2);
    if (handler == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    v = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (v->get_handler == ngx_http_node_variable) {
        ncf = ngx_node_conf(cf);
        h = ncf->handlers.elts;

        if (h[v->data].name.len != value[2].len
            || ngx_strncmp(h[v->data].name.data, value[2].data,
                           value[2].len) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "variable \"%V\" is already set by \"%V\" in "
                               "%V:%ui", &value[1], &h[v->data].name,
                               &h[v->data].file, h[v->data].line);
            return NGX_CONF_ERROR;
        }
    }

    if (cf->args->nelts == 4) {
        v->flags |= NGX_HTTP_VAR_NOCACHEABLE;
    }

    v->get_handler = ngx_http_node_variable;
    v->data = (uintptr_t) handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_node_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (nlcf->content != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    nlcf->content = ngx_node_conf_handler(cf, 1);
    if (nlcf->content == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_node_content_handler;

    return NGX_CONF_OK;
}


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

    if (ctx->finalize.posted) {
        ngx_delete_posted_event(&ctx->finalize);
    }

    ngx_node_pending_remove(&ctx->pending);

    ngx_node_close(ctx->handle);
    ctx->handle = 0;

    ngx_http_node_body_abandon(ctx, "the request ended before its body was "
                                    "read");
}


static ngx_int_t
ngx_http_node_redirect(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    ngx_str_t   uri, args;
    ngx_uint_t  flags;

    uri = ctx->redirect;

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


/* what nginx finalizes the request with once the handler is done */
static ngx_int_t
ngx_http_node_result(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    if (ctx->failed) {
        if (ctx->body_status) {
            return ctx->body_status;
        }

        return r->header_sent ? NGX_ERROR : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->redirect.len) {
        return ngx_http_node_redirect(r, ctx);
    }

    return ctx->status;
}


/* no longer suspended: timer, list and posted event go */
static void
ngx_http_node_wake(ngx_http_node_ctx_t *ctx)
{
    ctx->suspended = 0;

    if (ctx->timeout.timer_set) {
        ngx_del_timer(&ctx->timeout);
    }

    if (ctx->finalize.posted) {
        ngx_delete_posted_event(&ctx->finalize);
    }

    ngx_node_pending_remove(&ctx->pending);
}


static ngx_int_t
ngx_http_node_content_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_node_value_t           ret;
    ngx_http_node_ctx_t       *ctx;
    ngx_node_handler_t const  *h;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (ngx_node_bridge() == NULL) {
        h = ngx_node_handler(nlcf->content);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "%V \"%V\": Node.js is not running in this worker "
                      "(see the errors at its start)", &h->directive, &h->name);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->handler = nlcf->content;
    ctx->in_call = 1;

    rc = ngx_node_call(NGX_NODE_KIND_HTTP_CONTENT, nlcf->content, ctx->handle,
                       &ret);

    ctx->in_call = 0;

    if (rc != NGX_OK || ret.type != NGX_NODE_NUMBER
        || ret.number == NGX_NODE_DISPATCH_FAILED)
    {
        ctx->done = 1;
        ctx->failed = 1;

    } else if (ret.number == NGX_NODE_DISPATCH_DONE) {
        ctx->done = 1;
    }

    if (ctx->done) {
        return ngx_http_node_result(r, ctx);
    }

    /* suspended until the handler reports done, or node_timeout */

    ctx->timeout.handler = ngx_http_node_timeout_handler;
    ctx->timeout.data = ctx;
    ctx->timeout.log = r->connection->log;

    ctx->finalize.handler = ngx_http_node_finalize_handler;
    ctx->finalize.data = ctx;
    ctx->finalize.log = r->connection->log;

    ctx->pending.abort = ngx_http_node_abort;

    r->main->count++;
    ctx->suspended = 1;
    r->write_event_handler = ngx_http_node_write_handler;
    ngx_add_timer(&ctx->timeout, nlcf->timeout);
    ngx_node_pending_add(&ctx->pending);

    return NGX_DONE;
}


void
ngx_http_node_done(ngx_http_node_ctx_t *ctx, ngx_uint_t failed)
{
    ctx->done = 1;
    ctx->failed = failed;

    if (ctx->in_call || !ctx->suspended) {
        /* the content handler looks at it when the call returns */
        return;
    }

    /* JS may be running on behalf of another request: finalize from nginx's loop */
    ngx_post_event(&ctx->finalize, &ngx_posted_events);
}


static void
ngx_http_node_finalize_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_node_ctx_t  *ctx;

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_http_node_wake(ctx);
    ngx_http_finalize_request(r, ngx_http_node_result(r, ctx));
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

    ctx = ev->data;
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);
    h = ngx_node_handler(ctx->handler);

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "%V \"%V\" did not end the response within %Mms "
                  "(node_timeout); %s", &h->directive, &h->name,
                  nlcf->timeout,
                  r->header_sent ? "closing the connection"
                                 : "answering 504");

    /* the handler may go on, but it can no longer touch this request */
    ngx_node_close(ctx->handle);
    ctx->handle = 0;
    ngx_http_node_body_abandon(ctx, "node_timeout expired");

    ngx_http_node_wake(ctx);
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

    ctx->done = 1;
    ctx->failed = !ctx->ended;

    if (!ctx->finalize.posted) {
        ngx_post_event(&ctx->finalize, &ngx_posted_events);
    }
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


/* node_set */

static ngx_int_t
ngx_http_node_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                    *p;
    ngx_node_value_t           ret;
    ngx_http_node_ctx_t       *ctx;
    ngx_node_handler_t const  *h;

    v->not_found = 1;

    if (ngx_node_bridge() == NULL) {
        h = ngx_node_handler(data);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "%V \"%V\": Node.js is not running in this worker "
                      "(see the errors at its start)", &h->directive, &h->name);
        return NGX_OK;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ngx_node_call(NGX_NODE_KIND_HTTP_VARIABLE, data, ctx->handle, &ret)
        != NGX_OK)
    {
        return NGX_OK;
    }

    if (ret.type != NGX_NODE_STRING && ret.type != NGX_NODE_BYTES) {
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
