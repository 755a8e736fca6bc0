/*
 * r.subrequest(uri, {args, method, body, detached}): an nginx subrequest whose response
 * is kept in memory (subrequest_output_buffer_size bounds it). When it is done, the
 * promise resolves with the subrequest's own handle: JavaScript reads its status,
 * headersOut and body through it. A detached subrequest runs in the background.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"


typedef struct {
    double       token;
    unsigned     done:1;
} ngx_http_node_subrequest_t;


static ngx_int_t
ngx_http_node_subrequest_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_node_subrequest_t *sub = data;

    ngx_node_value_t      value;
    ngx_http_node_ctx_t  *sctx;

    if (sub->done) {
        return rc;
    }

    if (rc == NGX_ERROR || sr->connection->error) {
        sub->done = 1;
        value = (ngx_node_value_t) { NGX_NODE_STRING, 0, "the subrequest "
                                     "failed (see the error log)",
                                     sizeof("the subrequest failed (see the "
                                            "error log)") - 1 };
        ngx_node_resume(sub->token, 1, &value);
        return rc;
    }

    if (rc != NGX_OK || sr->buffered) {
        /* not finished yet: nginx calls again */
        return rc;
    }

    sub->done = 1;

    sctx = ngx_http_node_ctx(sr);
    if (sctx == NULL) {
        return NGX_ERROR;
    }

    value = (ngx_node_value_t) { NGX_NODE_NUMBER, sctx->handle, NULL, 0 };
    ngx_node_resume(sub->token, 0, &value);

    /* not ngx_http_run_posted_requests(): this may run inside
     * ngx_http_finalize_request() of the subrequest */
    if (ngx_http_post_request(sr->parent, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_node_subrequest_method(ngx_http_request_t *sr, ngx_str_t *name)
{
    ngx_uint_t  i;

    static const struct {
        ngx_str_t   name;
        ngx_uint_t  method;
    } methods[] = {
        { ngx_string("GET"), NGX_HTTP_GET },
        { ngx_string("POST"), NGX_HTTP_POST },
        { ngx_string("HEAD"), NGX_HTTP_HEAD },
        { ngx_string("OPTIONS"), NGX_HTTP_OPTIONS },
        { ngx_string("PROPFIND"), NGX_HTTP_PROPFIND },
        { ngx_string("PUT"), NGX_HTTP_PUT },
        { ngx_string("MKCOL"), NGX_HTTP_MKCOL },
        { ngx_string("DELETE"), NGX_HTTP_DELETE },
        { ngx_string("COPY"), NGX_HTTP_COPY },
        { ngx_string("MOVE"), NGX_HTTP_MOVE },
        { ngx_string("PROPPATCH"), NGX_HTTP_PROPPATCH },
        { ngx_string("LOCK"), NGX_HTTP_LOCK },
        { ngx_string("UNLOCK"), NGX_HTTP_UNLOCK },
        { ngx_string("PATCH"), NGX_HTTP_PATCH },
        { ngx_string("TRACE"), NGX_HTTP_TRACE },
    };

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (name->len == methods[i].name.len
            && ngx_strncmp(name->data, methods[i].name.data, name->len) == 0)
        {
            sr->method = methods[i].method;
            sr->method_name = methods[i].name;
            return NGX_OK;
        }
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_node_subrequest_body(ngx_http_request_t *r, ngx_http_request_t *sr,
    ngx_str_t *body)
{
    ngx_buf_t                *b;
    ngx_str_t                 copy;
    ngx_chain_t              *cl;
    ngx_http_request_body_t  *rb;

    if (ngx_http_node_copy(r, &copy, body) != NGX_OK) {
        return NGX_ERROR;
    }

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (rb == NULL || b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    b->pos = copy.data;
    b->last = copy.data + copy.len;
    b->memory = copy.len ? 1 : 0;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    rb->buf = b;

    sr->request_body = rb;
    sr->headers_in.content_length_n = copy.len;
    sr->headers_in.chunked = 0;

    return NGX_OK;
}


/* a subrequest made outside a call of the request's handler (from a timer, a
 * promise that settled later): nothing in nginx would start it */
static void
ngx_http_node_subrequest_start(ngx_event_t *ev)
{
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_node_event_ctx(ev, start_subrequests);

    ngx_http_run_posted_requests(ctx->request->connection);
}


/* (uri, args, method, body, detached, token) */
void
ngx_http_node_subrequest(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t                    uri, name, *query, query_arg, method, body,
                                 copy;
    ngx_uint_t                   flags, detached, unsafe;
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;
    ngx_http_node_subrequest_t  *sub;

    if (ngx_node_arg_str(args, nargs, 0, &uri) != NGX_OK || uri.len == 0) {
        ngx_node_result_type_error(res, "r.subrequest(uri): uri is a "
                                        "non-empty string");
        return;
    }

    if (ngx_node_arg_str(args, nargs, 1, &query_arg) != NGX_OK) {
        ngx_str_null(&query_arg);
    }

    if (ngx_node_safe_text(&uri) != NGX_OK
        || ngx_node_safe_text(&query_arg) != NGX_OK)
    {
        ngx_node_result_type_error(res, "r.subrequest(\"%V\"): the URI or "
                                        "its arguments contain a control "
                                        "character (CR, LF ...); refused",
                                   &uri);
        return;
    }

    detached = nargs > 4 && args[4].type == NGX_NODE_BOOLEAN && args[4].number;

    if (!detached && !ctx->in_call && !ctx->suspended) {
        ngx_node_result_type_error(res, "r.subrequest(): only while a handler "
                                        "of this request runs (or detached)");
        return;
    }

    if (r->connection->error) {
        ngx_node_result_fail(res, "r.subrequest(): the request has ended");
        return;
    }

    /* the subrequest outlives this call: its strings go to the pool */

    if (ngx_http_node_copy(r, &name, &uri) != NGX_OK
        || ngx_http_node_copy(r, &copy, &query_arg) != NGX_OK)
    {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    uri = name;
    query_arg = copy;

    /* as njs: "/path?a=1" gives the arguments after "?", "%XX" is decoded, and
     * ".." segments are refused */

    unsafe = 0;

    if (ngx_http_parse_unsafe_uri(r, &uri, &query_arg, &unsafe) != NGX_OK) {
        ngx_node_result_type_error(res, "r.subrequest(\"%V\"): an unsafe URI "
                                        "(\"..\" segments, a NUL); refused",
                                   &name);
        return;
    }

    if (ngx_strlchr(query_arg.data, query_arg.data + query_arg.len, ' ')
        != NULL)
    {
        ngx_node_result_type_error(res, "r.subrequest(\"%V\"): the arguments "
                                        "contain a space, which would split "
                                        "the request line; encode it as %%20",
                                   &name);
        return;
    }

    query = query_arg.len ? &query_arg : NULL;

    if (detached) {
        ps = NULL;
        flags = NGX_HTTP_SUBREQUEST_BACKGROUND;

    } else {
        if (nargs < 6 || args[5].type != NGX_NODE_NUMBER) {
            ngx_node_result_fail(res, "r.subrequest(): no token");
            return;
        }

        ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
        sub = ngx_pcalloc(r->pool, sizeof(ngx_http_node_subrequest_t));

        if (ps == NULL || sub == NULL) {
            ngx_node_result_fail(res, "out of memory");
            return;
        }

        sub->token = args[5].number;
        ps->handler = ngx_http_node_subrequest_done;
        ps->data = sub;
        flags = NGX_HTTP_SUBREQUEST_IN_MEMORY;
    }

    if (ngx_http_subrequest(r, &uri, query, &sr, ps, flags) != NGX_OK) {
        ngx_node_result_fail(res, "r.subrequest(\"%V\") failed (too many "
                                  "subrequests?)", &uri);
        return;
    }

    if (!ctx->in_call && !ctx->start_subrequests.posted) {
        ctx->start_subrequests.handler = ngx_http_node_subrequest_start;
        ctx->start_subrequests.data = r->connection;
        ctx->start_subrequests.log = r->connection->log;

        ngx_post_event(&ctx->start_subrequests, &ngx_posted_events);
    }

    if (ngx_node_arg_str(args, nargs, 2, &method) == NGX_OK
        && ngx_http_node_subrequest_method(sr, &method) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "r.subrequest(\"%V\"): unknown method \"%V\", using GET",
                      &uri, &method);
    }

    if (ngx_node_arg_str(args, nargs, 3, &body) == NGX_OK
        && ngx_http_node_subrequest_body(r, sr, &body) != NGX_OK)
    {
        ngx_node_result_fail(res, "out of memory");
        return;
    }
}
