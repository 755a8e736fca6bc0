/*
 * node_filter: the data nginx proxies (or returns), through JavaScript. node_filter's function
 * runs once, at the first chunk, and registers s.on() callbacks; each chunk then goes to the
 * callback of its direction (upload: from the client, download: from the upstream), or passes
 * as it is when there is none (without a call into JavaScript). A callback's s.send() output
 * goes on in the chunk's place; a chunk's text sent back unchanged is the chunk itself, not
 * a copy.
 *
 * An async callback holds its direction until it settles: its chunk stays unconsumed in
 * nginx's buffer, so once that buffer is full nginx stops reading the side it comes from
 * (back-pressure, nothing buffered without bound), and chunks that came meanwhile wait their
 * turn, in order. s.send() works after an await: to the direction that waits, or to the one
 * its options name.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_node.h"


static ngx_int_t ngx_stream_node_body_filter(ngx_stream_session_t *s,
    ngx_chain_t *in, ngx_uint_t from_upstream);
static void ngx_stream_node_chunk_timeout_handler(ngx_event_t *ev);


static ngx_stream_filter_pt  ngx_stream_next_filter;


ngx_int_t
ngx_stream_node_filter_init(ngx_conf_t *cf)
{
    ngx_stream_next_filter = ngx_stream_top_filter;
    ngx_stream_top_filter = ngx_stream_node_body_filter;

    return NGX_OK;
}


/*
 * The log phase: a session whose filter failed ends with 500 in $status (nginx's proxy, which
 * closes it, says 200 for a filter's error). Runs before the access log.
 */
ngx_int_t
ngx_stream_node_filter_log_handler(ngx_stream_session_t *s)
{
    ngx_stream_node_ctx_t  *ctx;

    ctx = ngx_stream_get_module_ctx(s, ngx_stream_node_module);

    if (ctx && ctx->failed) {
        s->status = NGX_STREAM_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/* where a direction's data goes: the client for data from the upstream, and back */
static ngx_connection_t *
ngx_stream_node_destination(ngx_stream_session_t *s, ngx_uint_t from_upstream)
{
    if (from_upstream) {
        return s->connection;
    }

    return s->upstream && s->upstream->peer.connection
           ? s->upstream->peer.connection : NULL;
}


/* something went wrong: nothing more passes, and the session ends with 500 soon */
static void
ngx_stream_node_filter_failed(ngx_stream_node_ctx_t *ctx)
{
    ctx->failed = 1;

    if (!ctx->fail.posted) {
        ngx_post_event(&ctx->fail, &ngx_posted_events);
    }
}


/*
 * s.send() copies data to the same offset modulo this in our buffer: with glibc's memcpy (rep
 * movsb), copying a large block to 1-63 bytes past its source modulo 4096 runs some 20 times
 * slower on AMD's Zen cores (measured here: 35 us instead of 1.5-2.5 us for 64 KB)
 */
#define NGX_STREAM_NODE_COPY_ALIGN  64

/* how many of a session's sent buffers keep their memory for its next s.send() */
#define NGX_STREAM_NODE_KEPT  4


/* a buffer of ours that nginx's writer is done with is reused; a few keep their memory for
 * the next s.send() (a fresh allocation per chunk costs the page faults of memory the
 * allocator had given back) */
static void
ngx_stream_node_filter_recycle(ngx_stream_node_ctx_t *ctx, ngx_chain_t *cl)
{
    ngx_buf_t  *b;

    b = cl->buf;

    if (b->start) {
        if (ctx->kept < NGX_STREAM_NODE_KEPT) {
            ctx->kept++;

        } else {
            ngx_free(b->start);
            b->start = NULL;
            b->end = NULL;
        }
    }

    cl->next = ctx->free;
    ctx->free = cl;
}


/*
 * Our buffers that went out are reused once the writer is done with them. One with data is
 * when it is all sent: wherever it is in the list, which holds both sides' buffers (a side
 * whose writer is stuck, to a client that reads nothing, must not keep what the other side
 * sent meanwhile, which would then all stay in memory). An empty one (an end, a flush) is
 * never "sent": the writer keeps it behind the data it could not send yet, for as long as it
 * keeps that data; reused before, it would be sent again, on the other side's data (nginx:
 * "zero size buf in writer").
 */
static void
ngx_stream_node_filter_reap(ngx_stream_node_ctx_t *ctx, ngx_connection_t *dst,
    ngx_uint_t from_upstream)
{
    ngx_chain_t                  *cl, **ll;
    ngx_stream_node_direction_t  *dir;

    for (ll = &ctx->busy; *ll; /* void */) {
        cl = *ll;

        if (ngx_buf_size(cl->buf) != 0) {
            ll = &cl->next;
            continue;
        }

        *ll = cl->next;
        ngx_stream_node_filter_recycle(ctx, cl);
    }

    dir = &ctx->directions[from_upstream];

    if (dst && (dst->buffered & NGX_STREAM_WRITE_BUFFERED)) {
        return;
    }

    while (dir->marks) {
        cl = dir->marks;
        dir->marks = cl->next;
        ngx_stream_node_filter_recycle(ctx, cl);
    }
}


/* passes a chain on; our buffers in it are kept until the writer is done with them */
static ngx_int_t
ngx_stream_node_filter_pass(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    ngx_chain_t *out, ngx_uint_t from_upstream)
{
    ngx_int_t          rc;
    ngx_chain_t       *cl, *next, **busy;
    ngx_connection_t  *dst;

    dst = ngx_stream_node_destination(s, from_upstream);

    if (out == NULL
        && (dst == NULL || !(dst->buffered & ~NGX_STREAM_NODE_BUFFERED)))
    {
        /* nothing to send, nothing buffered below us: the write filter would
         * call an empty chain an error */
        rc = NGX_OK;

    } else {
        rc = ngx_stream_next_filter(s, out, from_upstream);
    }

    for (busy = &ctx->busy; *busy; busy = &(*busy)->next) { /* void */ }

    for (cl = out; cl; cl = next) {
        next = cl->next;

        if (cl->buf->tag != (ngx_buf_tag_t) &ngx_stream_node_module) {
            ngx_free_chain(s->connection->pool, cl);

        } else if (ngx_buf_special(cl->buf)) {
            cl->next = ctx->directions[from_upstream].marks;
            ctx->directions[from_upstream].marks = cl;

        } else {
            cl->next = NULL;
            *busy = cl;
            busy = &cl->next;
        }
    }

    ngx_stream_node_filter_reap(ctx, dst, from_upstream);

    return rc;
}


static ngx_chain_t *
ngx_stream_node_filter_link(ngx_pool_t *pool, ngx_buf_t *b)
{
    ngx_chain_t  *cl;

    cl = ngx_alloc_chain_link(pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    return cl;
}


/* a chunk's callback: NGX_NODE_DISPATCH_* */
static ngx_int_t
ngx_stream_node_filter_chunk(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, ngx_buf_t *b, ngx_uint_t from_upstream)
{
    ngx_int_t                    rc;
    ngx_uint_t                   flags;
    ngx_node_value_t             data, ret;
    ngx_stream_node_srv_conf_t  *nscf;

    if (ctx->directions[from_upstream].ended) {
        /* the callback had its side's last chunk (later empty ends are dropped
         * when queued; this keeps "last" once whatever nginx sends after it) */
        return NGX_NODE_DISPATCH_PASS;
    }

    switch (ctx->directions[from_upstream].listener) {

    case NGX_STREAM_NODE_LISTENER_NONE:
        return NGX_NODE_DISPATCH_PASS;

    case NGX_STREAM_NODE_LISTENER_TEXT:
        data.type = NGX_NODE_ASCII_OR_BYTES;
        break;

    default:
        data.type = NGX_NODE_BYTES;
    }

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);

    data.number = 0;
    data.data = ngx_buf_in_memory(b) ? (const char *) b->pos : "";
    data.len = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

    flags = (from_upstream ? NGX_NODE_FLAG_UPSTREAM : 0)
            | (b->last_buf ? NGX_NODE_FLAG_LAST : 0);

    ctx->directions[from_upstream].ended = b->last_buf;
    ctx->chunk_direction = from_upstream;
    ctx->chunk = b;
    ctx->chunk_settled = 0;
    ctx->directions[from_upstream].forwarded = 0;

    rc = ngx_node_call(s->connection->log, NGX_NODE_KIND_STREAM_CHUNK,
                       nscf->filter, ctx->handle, &data, flags, &ret);

    ctx->chunk_direction = -1;
    ctx->chunk = NULL;

    if (rc != NGX_OK || ret.type != NGX_NODE_NUMBER) {
        return NGX_NODE_DISPATCH_FAILED;
    }

    if (ret.number == NGX_NODE_DISPATCH_PENDING && ctx->chunk_settled) {
        /* an async callback that settled in the call's own promise reactions */
        return ctx->chunk_settled == NGX_DONE ? NGX_NODE_DISPATCH_DONE
                                              : NGX_NODE_DISPATCH_FAILED;
    }

    return (ngx_int_t) ret.number;
}


/* the chunks of a direction, in order, until one's callback has to be waited for */
static ngx_int_t
ngx_stream_node_filter_run(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    ngx_uint_t from_upstream)
{
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl, *out;
    ngx_connection_t             *dst;
    ngx_stream_node_direction_t  *dir;
    ngx_stream_node_srv_conf_t   *nscf;

    dir = &ctx->directions[from_upstream];

    while (dir->pending == NULL && dir->queue != NULL && !ctx->failed) {

        cl = dir->queue;
        dir->queue = cl->next;

        if (dir->queue == NULL) {
            dir->last = &dir->queue;
        }

        b = cl->buf;

        switch (ngx_stream_node_filter_chunk(s, ctx, b, from_upstream)) {

        case NGX_NODE_DISPATCH_PASS:
            /* no callback for this direction: the chunk goes on as it is */
            cl->next = NULL;
            *ctx->collected_last = cl;
            ctx->collected_last = &cl->next;
            continue;

        case NGX_NODE_DISPATCH_DONE:
            /* the callback took it; what it sent is collected (the chunk itself,
             * if it sent its text unchanged) */
            if (!dir->forwarded) {
                b->pos = b->last;
            }

            ngx_free_chain(s->connection->pool, cl);
            continue;

        case NGX_NODE_DISPATCH_PENDING:
            /* its callback is async: the direction waits, holding the chunk */
            ngx_free_chain(s->connection->pool, cl);

            dir->pending = b;

            dst = ngx_stream_node_destination(s, from_upstream);
            if (dst) {
                dst->buffered |= NGX_STREAM_NODE_BUFFERED;
            }

            nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);

            dir->timeout.handler = ngx_stream_node_chunk_timeout_handler;
            dir->timeout.data = s->connection;
            dir->timeout.log = s->connection->log;
            ngx_add_timer(&dir->timeout, nscf->timeout);
            break;

        default:
            ngx_free_chain(s->connection->pool, cl);
            ngx_stream_node_filter_failed(ctx);
        }
    }

    if (ctx->failed) {
        /* the session ends (the proxy closes it): what was collected stays for
         * the cleanup */
        return NGX_ERROR;
    }

    out = ctx->collected;
    ctx->collected = NULL;
    ctx->collected_last = &ctx->collected;

    return ngx_stream_node_filter_pass(s, ctx, out, from_upstream);
}


static ngx_int_t
ngx_stream_node_body_filter(ngx_stream_session_t *s, ngx_chain_t *in,
    ngx_uint_t from_upstream)
{
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl, *link;
    ngx_node_value_t              ret;
    ngx_stream_node_ctx_t        *ctx;
    ngx_stream_node_direction_t  *dir;
    ngx_stream_node_srv_conf_t   *nscf;

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);

    if (nscf->filter == NGX_CONF_UNSET) {
        return ngx_stream_next_filter(s, in, from_upstream);
    }

    ctx = ngx_stream_get_module_ctx(s, ngx_stream_node_module);

    if (ctx == NULL || !ctx->filtering) {
        /* node_filter's function runs once, at the first chunk */

        if (ngx_stream_node_running(s, nscf->filter) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx = ngx_stream_node_ctx(s);
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ctx->filtering = 1;

        rc = ngx_node_call(s->connection->log, NGX_NODE_KIND_STREAM_FILTER,
                           nscf->filter, ctx->handle, NULL, 0, &ret);

        if (rc != NGX_OK || (ret.type == NGX_NODE_NUMBER
                             && ret.number == NGX_NODE_DISPATCH_FAILED))
        {
            ngx_stream_node_filter_failed(ctx);
        }
    }

    if (ctx->failed) {
        /* the session ends: what comes is dropped, and the proxy (or the return
         * module) that writes it closes the session */
        for (cl = in; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->last;
        }

        return NGX_ERROR;
    }

    dir = &ctx->directions[from_upstream];

    /* nginx reuses its chain links: the queue has links of its own */
    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            /*
             * An empty buffer (a side's end, which nginx's proxy makes again each
             * time that socket says so) is nginx's again as soon as no data of its
             * side before it is unsent: the proxy frees it then, whatever waits for
             * it here, and the next read, of either side, fills it. Queued behind
             * a callback that waits on the side's end, or passed on behind our
             * buffers that the writer still holds, it would carry the other side's
             * data this way. What it says goes in a buffer of ours; once the side's
             * end is in, later ones say nothing more.
             */
            if (dir->eof) {
                continue;
            }

            dir->eof = b->last_buf;

            b = ngx_calloc_buf(s->connection->pool);
            if (b == NULL) {
                return NGX_ERROR;
            }

            b->last_buf = cl->buf->last_buf;
            b->flush = cl->buf->flush;
            b->tag = (ngx_buf_tag_t) &ngx_stream_node_module;
        }

        link = ngx_stream_node_filter_link(s->connection->pool, b);
        if (link == NULL) {
            return NGX_ERROR;
        }

        *dir->last = link;
        dir->last = &link->next;
    }

    return ngx_stream_node_filter_run(s, ctx, from_upstream);
}


/*
 * Where s.send() goes: to the direction it names, or (-1) to that of the chunk being called,
 * or of the one direction whose callback is awaited; -1 when it cannot tell. *collect: the
 * data takes the place of the chunk being called, in the order it is sent.
 */
static ngx_int_t
ngx_stream_node_send_direction(ngx_stream_node_ctx_t *ctx, ngx_int_t direction,
    ngx_uint_t *collect)
{
    *collect = 0;

    if (ctx->chunk_direction >= 0
        && (direction < 0 || direction == ctx->chunk_direction))
    {
        *collect = 1;
        return ctx->chunk_direction;
    }

    if (direction >= 0) {
        return direction;
    }

    if ((ctx->directions[0].pending == NULL)
        != (ctx->directions[1].pending == NULL))
    {
        return ctx->directions[1].pending != NULL;
    }

    return -1;
}


/* a link of ours sent on: in the chunk's place, or at once */
static void
ngx_stream_node_send_link(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    ngx_chain_t *cl, ngx_int_t direction, ngx_uint_t collect,
    ngx_node_result_t *res)
{
    if (collect) {
        *ctx->collected_last = cl;
        ctx->collected_last = &cl->next;
        return;
    }

    if (ngx_stream_node_filter_pass(s, ctx, cl, direction) == NGX_ERROR) {
        ngx_stream_node_filter_failed(ctx);
        ngx_node_result_fail(res, "s.send(): sending failed (the peer went "
                                  "away?)");
    }
}


/* a copy of data in one of our buffers, sent on */
static void
ngx_stream_node_send_copy(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    u_char *data, size_t len, ngx_uint_t last, ngx_uint_t flush,
    ngx_int_t direction, ngx_uint_t collect, ngx_node_result_t *res)
{
    size_t        size;
    u_char       *start, *end;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (len == 0 && !last && !flush) {
        /* nothing to send, nothing to mark: an empty buffer nginx would refuse */
        return;
    }

    if (len && s->connection->type == SOCK_DGRAM) {
        /* a datagram goes out at a flush: without one, nginx's writer would keep it
         * for a later send's (the upstream's), or refuse it ("shared connection is
         * busy", the client's: nginx cannot keep data for a shared socket). Each
         * s.send() is a datagram */
        flush = 1;
    }

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        b = cl->buf;
        start = b->start;
        end = b->end;
        ngx_memzero(b, sizeof(ngx_buf_t));

        if (start) {
            ctx->kept--;
        }

    } else {
        cl = ngx_alloc_chain_link(s->connection->pool);
        b = ngx_calloc_buf(s->connection->pool);

        if (cl == NULL || b == NULL) {
            ngx_node_result_fail(res, "out of memory");
            return;
        }

        cl->buf = b;
        start = NULL;
        end = NULL;
    }

    cl->next = NULL;

    size = len ? len + NGX_STREAM_NODE_COPY_ALIGN - 1 : 0;

    if (start && (size_t) (end - start) < size) {
        ngx_free(start);
        start = NULL;
    }

    if (size && start == NULL) {
        start = ngx_alloc(size, s->connection->log);
        if (start == NULL) {
            cl->next = ctx->free;
            ctx->free = cl;
            ngx_node_result_fail(res, "out of memory");
            return;
        }

        end = start + size;
    }

    /* (memory kept through an empty send, which is a special buffer) */
    b->start = start;
    b->end = end;

    if (len) {
        b->pos = start + (((uintptr_t) data - (uintptr_t) start)
                          & (NGX_STREAM_NODE_COPY_ALIGN - 1));
        b->last = ngx_cpymem(b->pos, data, len);
        b->temporary = 1;
    }

    b->last_buf = last;
    b->flush = flush;
    b->tag = (ngx_buf_tag_t) &ngx_stream_node_module;

    ngx_stream_node_send_link(s, ctx, cl, direction, collect, res);
}


/* s.send(data, last, flush, direction): -1 the direction of the chunk being called, or of
 * the one direction that waits */
void
ngx_stream_node_send(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_str_t   data;
    ngx_int_t   direction;
    ngx_uint_t  collect, last, flush;

    if (!ctx->filtering || ctx->failed) {
        ngx_node_result_type_error(res, "s.send(): only in node_filter's "
                                        "callbacks, while the session is "
                                        "filtered");
        return;
    }

    if (ngx_node_arg_str(args, nargs, 0, &data) != NGX_OK
        || ngx_node_arg_int(args, nargs, 3, &direction) != NGX_OK)
    {
        ngx_node_result_type_error(res, "s.send(data[, options]): data is a "
                                        "string or bytes");
        return;
    }

    direction = ngx_stream_node_send_direction(ctx, direction, &collect);

    if (direction < 0) {
        ngx_node_result_type_error(res, "s.send(): outside a callback's own "
                                        "call (after an await, in a timer) "
                                        "say where: "
                                        "{ from_upstream: true|false }, or "
                                        "s.sendUpstream() / "
                                        "s.sendDownstream()");
        return;
    }

    if (ngx_stream_node_destination(s, direction) == NULL) {
        ngx_node_result_fail(res, "s.send(): no upstream connection to send "
                                  "to");
        return;
    }

    last = nargs > 1 && args[1].type == NGX_NODE_BOOLEAN && args[1].number;
    flush = nargs > 2 && args[2].type == NGX_NODE_BOOLEAN && args[2].number;

    ngx_stream_node_send_copy(s, ctx, data.data, data.len, last, flush,
                              direction, collect, res);
}


/*
 * forward(fromUpstream, last, flush, itsOwn): s.send() of the text of the chunk given to
 * that direction's callback, unchanged, while the chunk is still ours (in its call, or while
 * its async callback is awaited), to its own direction. Where the flags are the chunk's, the
 * chunk itself goes on, without a copy; it is then nginx's to consume, as a chunk that
 * passes. Answers false where it does not apply: then the runtime sends the text as s.send()
 * sends any.
 */
void
ngx_stream_node_forward(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_buf_t                    *b;
    ngx_int_t                     from, direction;
    ngx_uint_t                    collect, last, flush, i;
    ngx_chain_t                  *cl;
    ngx_node_value_t              answer;
    ngx_stream_node_direction_t  *dir;

    for (i = 0; i < 4; i++) {
        if (i >= nargs || args[i].type != NGX_NODE_BOOLEAN) {
            ngx_node_result_fail(res, "forward(fromUpstream, last, flush, "
                                      "itsOwn)");
            return;
        }
    }

    from = args[0].number != 0;
    last = args[1].number != 0;
    flush = args[2].number != 0;

    answer = (ngx_node_value_t) { NGX_NODE_BOOLEAN, 0, NULL, 0 };

    direction = ngx_stream_node_send_direction(ctx, args[3].number ? -1 : from,
                                               &collect);
    dir = &ctx->directions[from];
    b = collect ? ctx->chunk : dir->pending;

    if (!ctx->filtering || ctx->failed || direction != from || b == NULL
        || dir->forwarded || ngx_stream_node_destination(s, from) == NULL)
    {
        res->set(res, &answer);
        return;
    }

    answer.number = 1;
    res->set(res, &answer);

    if (ngx_buf_size(b) == 0
        || last != b->last_buf || (flush != b->flush && !b->last_buf))
    {
        /* an empty chunk, or other flags than the chunk's: a buffer of ours */
        ngx_stream_node_send_copy(s, ctx, b->pos, b->last - b->pos, last,
                                  flush, from, collect, res);
        return;
    }

    cl = ngx_alloc_chain_link(s->connection->pool);
    if (cl == NULL) {
        ngx_node_result_fail(res, "out of memory");
        return;
    }

    cl->buf = b;
    cl->next = NULL;
    dir->forwarded = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_STREAM, s->connection->log, 0,
                   "stream node: s.send() of a chunk's text unchanged: the "
                   "chunk goes on (%uz bytes%s)", (size_t) (b->last - b->pos),
                   collect ? "" : ", after an await");

    ngx_stream_node_send_link(s, ctx, cl, from, collect, res);
}


/* listen(fromUpstream, what): what the direction's callback takes, if there is one */
void
ngx_stream_node_listen(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    if (nargs < 2 || args[0].type != NGX_NODE_BOOLEAN
        || args[1].type != NGX_NODE_NUMBER
        || (args[1].number != NGX_STREAM_NODE_LISTENER_NONE
            && args[1].number != NGX_STREAM_NODE_LISTENER_BYTES
            && args[1].number != NGX_STREAM_NODE_LISTENER_TEXT))
    {
        ngx_node_result_fail(res, "listen(fromUpstream, what)");
        return;
    }

    ctx->directions[args[0].number != 0].listener = (unsigned) args[1].number;
}


/* an async callback of a chunk settled: the direction goes on, from nginx's loop */
static void
ngx_stream_node_chunk_settled(ngx_stream_session_t *s,
    ngx_stream_node_ctx_t *ctx, ngx_uint_t from_upstream, ngx_uint_t failed)
{
    ngx_connection_t             *dst;
    ngx_stream_node_direction_t  *dir;

    dir = &ctx->directions[from_upstream];

    if (dir->pending == NULL) {
        return;
    }

    if (!dir->forwarded) {
        dir->pending->pos = dir->pending->last;
    }

    dir->pending = NULL;
    dir->forwarded = 0;

    if (dir->timeout.timer_set) {
        ngx_del_timer(&dir->timeout);
    }

    dst = ngx_stream_node_destination(s, from_upstream);

    if (dst == NULL) {
        return;
    }

    dst->buffered &= ~NGX_STREAM_NODE_BUFFERED;

    if (failed) {
        ngx_stream_node_filter_failed(ctx);
        return;
    }

    /* whoever writes to dst (the proxy, the return module) calls the filters again:
     * the chunks that waited are called, the consumed one lets nginx read on */
    if (!dst->write->posted) {
        ngx_post_event(dst->write, &ngx_posted_events);
    }
}


/* the chunkDone op: (fromUpstream, failed) */
void
ngx_stream_node_chunk_done(ngx_stream_session_t *s, ngx_stream_node_ctx_t *ctx,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    if (nargs < 2 || args[0].type != NGX_NODE_BOOLEAN
        || args[1].type != NGX_NODE_BOOLEAN)
    {
        ngx_node_result_fail(res, "chunkDone(fromUpstream, failed)");
        return;
    }

    if (ctx->chunk_direction == (args[0].number != 0)) {
        /* the chunk's own call has not returned yet: it looks at this (not
         * NGX_OK, which is 0, "not settled") */
        ctx->chunk_settled = args[1].number ? NGX_ERROR : NGX_DONE;
        return;
    }

    ngx_stream_node_chunk_settled(s, ctx, args[0].number != 0,
                                  args[1].number != 0);
}


static void
ngx_stream_node_chunk_timeout_handler(ngx_event_t *ev)
{
    ngx_uint_t                   from_upstream;
    ngx_connection_t            *c;
    ngx_stream_session_t        *s;
    ngx_stream_node_ctx_t       *ctx;
    const ngx_node_handler_t    *h;
    ngx_stream_node_srv_conf_t  *nscf;

    c = ev->data;
    s = c->data;
    ctx = ngx_stream_get_module_ctx(s, ngx_stream_node_module);
    from_upstream = (ev == &ctx->directions[1].timeout);

    nscf = ngx_stream_get_module_srv_conf(s, ngx_stream_node_module);
    h = ngx_node_handler(nscf->filter);

    ngx_log_error(NGX_LOG_ERR, s->connection->log, 0,
                  "%V \"%V\": the %s callback did not finish within %Mms "
                  "(node_timeout); closing the session", &h->directive,
                  &h->name, from_upstream ? "download" : "upload",
                  nscf->timeout);
    ngx_node_metrics_handler_event(nscf->filter, NGX_NODE_METRIC_TIMEOUT);

    ngx_stream_node_chunk_settled(s, ctx, from_upstream, 1);
}


/* the memory of our buffers in a chain goes */
static void
ngx_stream_node_filter_free_memory(ngx_chain_t *chain)
{
    ngx_chain_t  *cl;

    for (cl = chain; cl; cl = cl->next) {
        if (cl->buf->tag == (ngx_buf_tag_t) &ngx_stream_node_module
            && cl->buf->start)
        {
            ngx_free(cl->buf->start);
            cl->buf->start = NULL;
        }
    }
}


/* the session ends: our buffers' memory goes */
void
ngx_stream_node_filter_cleanup(ngx_stream_node_ctx_t *ctx)
{
    ngx_uint_t  i;

    for (i = 0; i < 2; i++) {
        if (ctx->directions[i].timeout.timer_set) {
            ngx_del_timer(&ctx->directions[i].timeout);
        }

        ngx_stream_node_filter_free_memory(ctx->directions[i].marks);
        ctx->directions[i].marks = NULL;
    }

    ngx_stream_node_filter_free_memory(ctx->busy);
    ngx_stream_node_filter_free_memory(ctx->free);
    ngx_stream_node_filter_free_memory(ctx->collected);

    ctx->busy = NULL;
    ctx->free = NULL;
    ctx->kept = 0;
    ctx->collected = NULL;
}
