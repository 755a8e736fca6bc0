/*
 * node_header_filter and node_body_filter.
 *
 * Filters may run inside another handler's call (r.return() in a content handler sends
 * the header through this chain), so they call JavaScript without touching the context's
 * call state. A streaming body filter is called once per chunk and emits with
 * r.sendBuffer(). A buffered one holds the header and the body until the last chunk,
 * then gives the whole body to a handler that may be async; its result (the filtered op)
 * sends both.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"


#define NGX_HTTP_NODE_FILTER_MIN_BUF  4096


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/* NGX_OK done, NGX_AGAIN pending (a promise), NGX_ERROR it threw */
static ngx_int_t
ngx_http_node_filter_call(ngx_http_node_ctx_t *ctx, ngx_uint_t kind,
    ngx_int_t handler, const ngx_node_value_t *arg, ngx_uint_t flags)
{
    ngx_node_value_t  ret;

    if (ngx_node_call(ctx->request->connection->log, kind, handler,
                      ctx->handle, arg, flags, &ret)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ret.type == NGX_NODE_NUMBER) {
        if (ret.number == NGX_NODE_DISPATCH_FAILED) {
            return NGX_ERROR;
        }

        if (ret.number == NGX_NODE_DISPATCH_PENDING) {
            return NGX_AGAIN;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_node_header_filter(ngx_http_request_t *r)
{
    ngx_int_t                  handler;
    ngx_http_node_ctx_t       *ctx;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (nlcf->header_filter == NGX_CONF_UNSET
        && nlcf->body_filter == NGX_CONF_UNSET)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_node_module);

    if (ctx != NULL && ctx->filter_passed) {
        /* the error page of a body filter that failed */
        return ngx_http_next_header_filter(r);
    }

    /* a filter that cannot run must not let the response pass unfiltered */

    handler = nlcf->header_filter != NGX_CONF_UNSET ? nlcf->header_filter
                                                    : nlcf->body_filter;

    if (ngx_http_node_running(r, handler) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (nlcf->header_filter != NGX_CONF_UNSET
        && ngx_http_node_filter_call(ctx, NGX_NODE_KIND_HTTP_HEADER_FILTER,
                                     nlcf->header_filter, NULL, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (nlcf->body_filter != NGX_CONF_UNSET) {
        /* chunks as bytes in memory, and a length nobody can know yet */
        r->filter_need_in_memory = 1;
        ngx_http_clear_content_length(r);
        ngx_http_clear_accept_ranges(r);
        ngx_http_weak_etag(r);

        if (nlcf->body_filter_flags & NGX_HTTP_NODE_FILTER_BUFFERED) {
            ctx->header_held = 1;
            return NGX_OK;
        }
    }

    return ngx_http_next_header_filter(r);
}


/* passes ctx->filter_out on and recycles the buffers that went out */
static ngx_int_t
ngx_http_node_filter_send(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    ngx_int_t     rc;
    ngx_chain_t  *out;

    out = ctx->filter_out;
    ctx->filter_out = NULL;
    ctx->filter_last = &ctx->filter_out;

    if (out == NULL && ctx->busy == NULL && !r->connection->buffered) {
        return NGX_OK;
    }

    rc = ngx_http_next_body_filter(r, out);

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &out,
                            (ngx_buf_tag_t) &ngx_http_node_module);

    return rc;
}


static ngx_int_t
ngx_http_node_filter_append(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_buf_t *b)
{
    ngx_chain_t  *cl;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    *ctx->filter_last = cl;
    ctx->filter_last = &cl->next;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_node_last(ngx_http_request_t *r, ngx_buf_t *b)
{
    return r == r->main ? b->last_buf : b->last_in_chain;
}


/* a buffer of the filter's own, from its free list, holding len bytes */
static ngx_buf_t *
ngx_http_node_filter_buf(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const char *data, size_t len, ngx_uint_t last, ngx_uint_t flush)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(r->pool, &ctx->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;

    if (len && (b->start == NULL || (size_t) (b->end - b->start) < len)) {
        if (b->start != NULL) {
            ngx_pfree(r->pool, b->start);
        }

        size = ngx_max(len, NGX_HTTP_NODE_FILTER_MIN_BUF);

        b->start = ngx_palloc(r->pool, size);
        if (b->start == NULL) {
            return NULL;
        }

        b->end = b->start + size;
    }

    b->pos = b->start;
    b->last = len ? ngx_cpymem(b->start, data, len) : b->start;

    b->temporary = len ? 1 : 0;
    b->memory = 0;
    b->mmap = 0;
    b->in_file = 0;
    b->file = NULL;
    b->shadow = NULL;
    b->recycled = 0;
    b->sync = len ? 0 : 1;
    b->flush = flush;
    b->last_buf = (r == r->main) ? last : 0;
    b->last_in_chain = last;
    b->tag = (ngx_buf_tag_t) &ngx_http_node_module;

    if (ngx_http_node_filter_append(r, ctx, b) != NGX_OK) {
        return NULL;
    }

    return b;
}


/* r.sendBuffer(data[, {last, flush}]): flags default to those of the chunk filtered */
void
ngx_http_node_send_buffer(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t   data;
    ngx_uint_t  last, flush;

    if (!ctx->filtering) {
        ngx_node_result_type_error(res, "r.sendBuffer(): only a "
                                        "node_body_filter handler sends "
                                        "buffers, while it filters");
        return;
    }

    if (ngx_node_arg_str(args, nargs, 0, &data) != NGX_OK) {
        ngx_str_null(&data);
    }

    last = ngx_http_node_last(r, ctx->filter_in);
    flush = ctx->filter_in->flush;

    if (nargs > 1 && args[1].type == NGX_NODE_BOOLEAN) {
        last = args[1].number != 0;
    }

    if (nargs > 2 && args[2].type == NGX_NODE_BOOLEAN) {
        flush = args[2].number != 0;
    }

    if (ngx_http_node_filter_buf(r, ctx, (const char *) data.data, data.len,
                                 last, flush)
        == NULL)
    {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    if (last) {
        ctx->sent_last = 1;
    }
}


/* the length of p[0..len) that ends on a whole UTF-8 character */
static size_t
ngx_http_node_utf8_whole(const u_char *p, size_t len)
{
    size_t  i, need;

    for (i = 1; i <= 3 && i <= len; i++) {
        if ((p[len - i] & 0xc0) == 0x80) {
            continue;
        }

        need = p[len - i] >= 0xf0 ? 4 : p[len - i] >= 0xe0 ? 3
               : p[len - i] >= 0xc0 ? 2 : 1;

        return need > i ? len - i : len;
    }

    return len;
}


/* r.done(): the rest of the body passes unfiltered, after the start of a character cut at
 * the end of the last chunk (in text mode; it waited for the rest, which now passes) */
void
ngx_http_node_filter_done(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    if (!ctx->filtering) {
        ngx_node_result_type_error(res, "r.done(): only in a node_body_filter "
                                        "handler, while it filters");
        return;
    }

    if (ctx->utf8_carry_len
        && ngx_http_node_filter_buf(r, ctx, (const char *) ctx->utf8_carry,
                                    ctx->utf8_carry_len, 0, 0)
           == NULL)
    {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    ctx->utf8_carry_len = 0;
    ctx->filter_done = 1;
}


/*
 * In text mode a chunk is decoded on its own: a character cut between two chunks waits
 * (at most 3 bytes) for the rest, which the next chunk brings.
 */
static ngx_int_t
ngx_http_node_text_chunk(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_node_value_t *chunk, ngx_uint_t last)
{
    u_char  *p;
    size_t   len, whole;

    p = (u_char *) chunk->data;
    len = chunk->len;

    if (ctx->utf8_carry_len) {
        p = ngx_pnalloc(r->pool, ctx->utf8_carry_len + len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, ctx->utf8_carry, ctx->utf8_carry_len);
        ngx_memcpy(p + ctx->utf8_carry_len, chunk->data, len);
        len += ctx->utf8_carry_len;
        ctx->utf8_carry_len = 0;
    }

    whole = last ? len : ngx_http_node_utf8_whole(p, len);

    ngx_memcpy(ctx->utf8_carry, p + whole, len - whole);
    ctx->utf8_carry_len = len - whole;

    chunk->data = (const char *) p;
    chunk->len = whole;

    return NGX_OK;
}


static ngx_int_t
ngx_http_node_streaming_filter(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_http_node_loc_conf_t *nlcf, ngx_chain_t *in)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_uint_t        last;
    ngx_node_value_t  chunk;

    for ( /* void */ ; in; in = in->next) {
        b = in->buf;

        if (ctx->filter_done) {
            if (ngx_http_node_filter_append(r, ctx, b) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        last = ngx_http_node_last(r, b);

        chunk.type = NGX_NODE_BYTES;
        chunk.number = 0;
        chunk.data = ngx_buf_in_memory(b) ? (const char *) b->pos : NULL;
        chunk.len = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

        if ((nlcf->body_filter_flags & NGX_NODE_FLAG_STRING)
            && ngx_http_node_text_chunk(r, ctx, &chunk, last) != NGX_OK)
        {
            return NGX_ERROR;
        }

        ctx->filter_in = b;
        ctx->filtering = 1;

        rc = ngx_http_node_filter_call(ctx, NGX_NODE_KIND_HTTP_BODY_FILTER,
                                       nlcf->body_filter, &chunk,
                                       (nlcf->body_filter_flags
                                        & NGX_NODE_FLAG_STRING)
                                       | (last ? NGX_NODE_FLAG_LAST : 0));

        ctx->filtering = 0;

        if (rc != NGX_OK) {
            /* it threw (the runtime logged it): this response cannot be
             * completed as the filter meant */
            return NGX_ERROR;
        }

        /* the chunk is consumed whatever the handler sent for it */
        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        if (last) {
            ctx->filter_done = 1;

            if (!ctx->sent_last
                && ngx_http_node_filter_buf(r, ctx, NULL, 0, 1, 0) == NULL)
            {
                return NGX_ERROR;
            }
        }
    }

    return ngx_http_node_filter_send(r, ctx);
}


/* buffered */

static void
ngx_http_node_filter_wake_handler(ngx_event_t *ev)
{
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_node_event_ctx(ev, filter_wake);
    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    /* whoever drives the request's output (ngx_http_writer, a content handler's
     * write handler, the upstream's) calls the filter chain, which sends the result */
    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_node_filter_timeout_handler(ngx_event_t *ev)
{
    ngx_http_node_ctx_t       *ctx;
    ngx_node_handler_t const  *h;
    ngx_http_node_loc_conf_t  *nlcf;

    ctx = ngx_http_node_event_ctx(ev, filter_timeout);
    nlcf = ngx_http_get_module_loc_conf(ctx->request, ngx_http_node_module);
    h = ngx_node_handler(nlcf->body_filter);

    ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                  "%V \"%V\" did not finish within %Mms (node_timeout); "
                  "answering 504", &h->directive, &h->name, nlcf->timeout);
    ngx_node_metrics_handler_event(nlcf->body_filter, NGX_NODE_METRIC_TIMEOUT);

    ctx->filter_pending = 0;
    ctx->filter_ready = 1;
    ctx->filter_error = NGX_HTTP_GATEWAY_TIME_OUT;

    ngx_post_event(&ctx->filter_wake, &ngx_posted_events);
}


/* the filtered op: failed, and the new body (undefined keeps it) */
void
ngx_http_node_filtered(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t  body;

    if (!ctx->filter_pending) {
        /* too late: node_timeout answered */
        return;
    }

    ctx->filter_pending = 0;
    ctx->filter_ready = 1;

    if (ctx->filter_timeout.timer_set) {
        ngx_del_timer(&ctx->filter_timeout);
    }

    if (nargs > 0 && args[0].type == NGX_NODE_BOOLEAN && args[0].number) {
        ctx->filter_error = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else if (ngx_node_arg_str(args, nargs, 1, &body) == NGX_OK) {
        if (ngx_http_node_copy(r, &ctx->filtered, &body) != NGX_OK) {
            ctx->filter_error = NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        ctx->filtered.data = ctx->held ? ctx->held->pos : NULL;
        ctx->filtered.len = ctx->held ? (size_t) ngx_buf_size(ctx->held) : 0;
    }

    if (!ctx->filter_wake.posted && ctx->filter_wake.handler != NULL) {
        ngx_post_event(&ctx->filter_wake, &ngx_posted_events);
    }
}


/* the result is in: the held header, then the new body, go on */
static ngx_int_t
ngx_http_node_filter_emit(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_buf_t  *b;

    r->buffered &= ~NGX_HTTP_NODE_BUFFERED;
    ctx->filter_ready = 0;
    ctx->filter_done = 1;

    if (ctx->filter_timeout.timer_set) {
        ngx_del_timer(&ctx->filter_timeout);
    }

    if (ctx->filter_error) {
        ctx->filter_passed = 1;
        return ngx_http_filter_finalize_request(r, &ngx_http_node_module,
                                                ctx->filter_error);
    }

    ctx->header_held = 0;
    r->headers_out.content_length_n = ctx->filtered.len;

    rc = ngx_http_next_header_filter(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    /* the body goes out from where it is: the pool holds it until the end */

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (!r->header_only && ctx->filtered.len) {
        b->pos = ctx->filtered.data;
        b->last = ctx->filtered.data + ctx->filtered.len;
        b->memory = 1;

    } else {
        b->sync = 1;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (ngx_http_node_filter_append(r, ctx, b) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_node_filter_send(r, ctx);
}


static ngx_int_t
ngx_http_node_buffered_filter(ngx_http_request_t *r, ngx_http_node_ctx_t *ctx,
    ngx_http_node_loc_conf_t *nlcf, ngx_chain_t *in)
{
    size_t                     size, len;
    ngx_int_t                  rc;
    ngx_buf_t                 *b, *held;
    ngx_uint_t                 last;
    ngx_node_value_t           body;
    ngx_node_handler_t const  *h;

    if (ctx->filter_ready) {
        return ngx_http_node_filter_emit(r, ctx);
    }

    if (ctx->filter_pending) {
        return NGX_AGAIN;
    }

    if (ctx->filter_done) {
        return ngx_http_node_filter_send(r, ctx);
    }

    last = 0;

    for ( /* void */ ; in; in = in->next) {
        b = in->buf;
        last |= ngx_http_node_last(r, b);
        len = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

        if (len == 0) {
            continue;
        }

        held = ctx->held;
        size = held ? (size_t) (held->last - held->pos) : 0;

        if (size + len > nlcf->filter_buffer_size) {
            h = ngx_node_handler(nlcf->body_filter);
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "%V \"%V\" buffered: the response body is larger "
                          "than node_filter_buffer_size (%uz); raise it, or "
                          "filter in a stream (without \"buffered\")",
                          &h->directive, &h->name, nlcf->filter_buffer_size);

            ctx->filter_passed = 1;
            r->buffered &= ~NGX_HTTP_NODE_BUFFERED;

            return ngx_http_filter_finalize_request(r, &ngx_http_node_module,
                                            NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        if (held == NULL || (size_t) (held->end - held->last) < len) {
            /* grow by doubling, up to the limit */
            held = ngx_create_temp_buf(r->pool,
                               ngx_min(ngx_max(2 * (size + len),
                                               NGX_HTTP_NODE_FILTER_MIN_BUF),
                                       nlcf->filter_buffer_size));
            if (held == NULL) {
                return NGX_ERROR;
            }

            if (ctx->held != NULL) {
                held->last = ngx_cpymem(held->last, ctx->held->pos, size);
                ngx_pfree(r->pool, ctx->held->start);
            }

            ctx->held = held;
        }

        held->last = ngx_cpymem(held->last, b->pos, len);
        b->pos = b->last;
    }

    if (!last) {
        r->buffered |= NGX_HTTP_NODE_BUFFERED;
        return NGX_OK;
    }

    /* the whole body is here */

    ctx->filter_wake.handler = ngx_http_node_filter_wake_handler;
    ctx->filter_wake.data = r->connection;
    ctx->filter_wake.log = r->connection->log;

    ctx->filter_pending = 1;

    body.type = NGX_NODE_BYTES;
    body.number = 0;
    body.data = ctx->held ? (const char *) ctx->held->pos : "";
    body.len = ctx->held ? (size_t) (ctx->held->last - ctx->held->pos) : 0;

    rc = ngx_http_node_filter_call(ctx, NGX_NODE_KIND_HTTP_BUFFERED_FILTER,
                                   nlcf->body_filter, &body,
                                   (nlcf->body_filter_flags
                                    & NGX_NODE_FLAG_STRING)
                                   | NGX_NODE_FLAG_LAST);

    if (rc == NGX_ERROR) {
        ctx->filter_pending = 0;
        ctx->filter_ready = 1;
        ctx->filter_error = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->filter_ready) {
        /* done during the call */
        if (ctx->filter_wake.posted) {
            ngx_delete_posted_event(&ctx->filter_wake);
        }

        return ngx_http_node_filter_emit(r, ctx);
    }

    /* the handler works; the request waits, holding the response */

    ctx->filter_timeout.handler = ngx_http_node_filter_timeout_handler;
    ctx->filter_timeout.data = r->connection;
    ctx->filter_timeout.log = r->connection->log;
    ngx_add_timer(&ctx->filter_timeout, nlcf->timeout);

    r->buffered |= NGX_HTTP_NODE_BUFFERED;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_node_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_node_ctx_t       *ctx;
    ngx_http_node_loc_conf_t  *nlcf;

    nlcf = ngx_http_get_module_loc_conf(r, ngx_http_node_module);

    if (nlcf->body_filter == NGX_CONF_UNSET) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_node_module);

    if (ctx == NULL || ctx->filter_passed) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->filter_last == NULL) {
        ctx->filter_last = &ctx->filter_out;
    }

    if (nlcf->body_filter_flags & NGX_HTTP_NODE_FILTER_BUFFERED) {
        return ngx_http_node_buffered_filter(r, ctx, nlcf, in);
    }

    return ngx_http_node_streaming_filter(r, ctx, nlcf, in);
}


ngx_int_t
ngx_http_node_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_node_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_node_body_filter;

    return NGX_OK;
}
