/*
 * The OpenResty bridge: lua/resty/node.lua calls these functions through LuaJIT's FFI (nginx
 * loads modules with RTLD_GLOBAL, so ffi.C finds them).
 *
 *   ngx_node_lua_call()    starts a call of a module's function; a synchronous function
 *                          has answered when it returns, else the call is pending
 *   ngx_node_lua_wait()    a lua-nginx-module semaphore for a pending call's coroutine
 *                          to wait on; the answer posts it
 *   ngx_node_lua_result()  the answer, valid until ngx_node_lua_finish()
 *   ngx_node_lua_finish()  forgets the call (also how a timed-out call is cancelled)
 *   ngx_node_lua_unload()  lets a hot-reloadable module be imported afresh
 *
 * A call belongs to its request (lua-nginx-module's fake request in timers): when that ends,
 * its calls are cancelled, and an answer that comes later is dropped.
 *
 * The semaphore is ours, not a Lua object: a coroutine killed while it waits (ngx.thread.kill,
 * the end of its request) would let Lua's garbage collector free a semaphore the answer is
 * still to post. We free it through lua-nginx-module, always from a posted event: its
 * semaphore handler still reads the semaphore after resuming the coroutine, and the end of
 * a request runs our cleanup before Lua takes the coroutine off the semaphore's queue.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <dlfcn.h>

#include "ngx_http_node.h"


#define NGX_NODE_LUA_PENDING  0
#define NGX_NODE_LUA_OK       1
#define NGX_NODE_LUA_FAILED   2


/* also declared in lua/resty/node.lua */
typedef struct {
    int           status;
    unsigned      id;
    const char   *data;
    size_t        len;
} ngx_node_lua_result_t;


typedef struct ngx_node_lua_call_s  ngx_node_lua_call_t;

struct ngx_node_lua_call_s {
    ngx_queue_t          queue;        /* in its request's list */
    unsigned             id;
    double               handle;       /* JavaScript's name for the call */
    ngx_str_t            module;
    ngx_str_t            function;
    void                *sema;         /* to post when answered, if waited on */
    ngx_uint_t           fetch;        /* the ngx.fetch settings of the block */
    int                  status;
    u_char              *result;       /* the answer, within block */
    u_char              *block;
    size_t               len;
};


/* a request's calls */
struct ngx_node_lua_calls_s {
    ngx_queue_t          calls;
    unsigned             last_id;
};


/* lua-nginx-module's semaphore API, as lua-resty-core uses it */
typedef int (*ngx_node_lua_sema_new_pt)(void **psema, int n, char **errmsg);
typedef int (*ngx_node_lua_sema_post_pt)(void *sema, int n);
typedef void (*ngx_node_lua_sema_gc_pt)(void *sema);

static ngx_node_lua_sema_new_pt   ngx_node_lua_sema_new;
static ngx_node_lua_sema_post_pt  ngx_node_lua_sema_post;
static ngx_node_lua_sema_gc_pt    ngx_node_lua_sema_gc;

/* semaphores to free at the next posted event */
static void        **ngx_node_lua_retired;
static ngx_uint_t    ngx_node_lua_nretired;
static ngx_uint_t    ngx_node_lua_retired_size;
static ngx_event_t   ngx_node_lua_reaper;


int ngx_node_lua_call(ngx_http_request_t *r, const u_char *module,
    size_t module_len, const u_char *function, size_t function_len,
    const u_char *payload, size_t payload_len, int json,
    ngx_node_lua_result_t *res);
int ngx_node_lua_wait(ngx_http_request_t *r, unsigned id, void **sema);
int ngx_node_lua_result(ngx_http_request_t *r, unsigned id,
    ngx_node_lua_result_t *res);
void ngx_node_lua_finish(ngx_http_request_t *r, unsigned id);
int ngx_node_lua_unload(ngx_http_request_t *r, const u_char *module,
    size_t module_len, ngx_node_lua_result_t *res);


static ngx_int_t
ngx_node_lua_find_sema_api(void)
{
    if (ngx_node_lua_sema_gc != NULL) {
        return NGX_OK;
    }

    ngx_node_lua_sema_new = (ngx_node_lua_sema_new_pt)
                            dlsym(RTLD_DEFAULT, "ngx_http_lua_ffi_sema_new");
    ngx_node_lua_sema_post = (ngx_node_lua_sema_post_pt)
                             dlsym(RTLD_DEFAULT, "ngx_http_lua_ffi_sema_post");
    ngx_node_lua_sema_gc = (ngx_node_lua_sema_gc_pt)
                           dlsym(RTLD_DEFAULT, "ngx_http_lua_ffi_sema_gc");

    if (ngx_node_lua_sema_new == NULL || ngx_node_lua_sema_post == NULL
        || ngx_node_lua_sema_gc == NULL)
    {
        ngx_node_lua_sema_gc = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_node_lua_reap(ngx_event_t *ev)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_node_lua_nretired; i++) {
        ngx_node_lua_sema_gc(ngx_node_lua_retired[i]);
    }

    ngx_node_lua_nretired = 0;
}


static void
ngx_node_lua_retire(void *sema)
{
    void       **grown;
    ngx_uint_t   size;

    if (ngx_node_lua_nretired == ngx_node_lua_retired_size) {
        size = ngx_node_lua_retired_size ? 2 * ngx_node_lua_retired_size : 64;
        grown = realloc(ngx_node_lua_retired, size * sizeof(void *));

        if (grown == NULL) {
            /* leaked rather than freed too early */
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "ngx-node: out of memory freeing a semaphore");
            return;
        }

        ngx_node_lua_retired = grown;
        ngx_node_lua_retired_size = size;
    }

    ngx_node_lua_retired[ngx_node_lua_nretired++] = sema;

    if (!ngx_node_lua_reaper.posted) {
        ngx_node_lua_reaper.handler = ngx_node_lua_reap;
        ngx_node_lua_reaper.log = ngx_cycle->log;
        ngx_post_event(&ngx_node_lua_reaper, &ngx_posted_events);
    }
}


static void
ngx_node_lua_free(ngx_node_lua_call_t *call)
{
    ngx_queue_remove(&call->queue);
    ngx_node_close(call->handle);

    if (call->sema != NULL) {
        ngx_node_lua_retire(call->sema);
    }

    if (call->block != NULL) {
        ngx_free(call->block);
    }

    ngx_free(call);
}


static void
ngx_node_lua_cleanup(void *data)
{
    ngx_node_lua_calls_t *calls = data;

    ngx_queue_t  *q;

    while (!ngx_queue_empty(&calls->calls)) {
        q = ngx_queue_head(&calls->calls);
        ngx_node_lua_free(ngx_queue_data(q, ngx_node_lua_call_t, queue));
    }
}


static ngx_node_lua_calls_t *
ngx_node_lua_calls(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t   *cln;
    ngx_http_node_ctx_t  *ctx;

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        return NULL;
    }

    if (ctx->lua != NULL || !create) {
        return ctx->lua;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_node_lua_calls_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx->lua = cln->data;
    ngx_queue_init(&ctx->lua->calls);
    ctx->lua->last_id = 0;
    cln->handler = ngx_node_lua_cleanup;

    return ctx->lua;
}


static ngx_node_lua_call_t *
ngx_node_lua_find(ngx_http_request_t *r, unsigned id)
{
    ngx_queue_t           *q;
    ngx_node_lua_call_t   *call;
    ngx_node_lua_calls_t  *calls;

    calls = ngx_node_lua_calls(r, 0);
    if (calls == NULL) {
        return NULL;
    }

    for (q = ngx_queue_head(&calls->calls);
         q != ngx_queue_sentinel(&calls->calls);
         q = ngx_queue_next(q))
    {
        call = ngx_queue_data(q, ngx_node_lua_call_t, queue);

        if (call->id == id) {
            return call;
        }
    }

    return NULL;
}


static void
ngx_node_lua_answer(ngx_node_lua_result_t *res, int status, const char *msg)
{
    res->id = 0;
    res->status = status;
    res->data = msg;
    res->len = ngx_strlen(msg);
}


/*
 * Copies an answer out of JavaScript's buffer. A large one lands half a page away from
 * where it comes from: a copy whose source and destination share their offset within a
 * page ("4K aliasing") ran 2 times slower (100 KB: 26 µs a call instead of 13).
 */
static ngx_int_t
ngx_node_lua_keep_answer(ngx_node_lua_call_t *call, ngx_str_t *answer)
{
    size_t  slack;

    slack = answer->len >= ngx_pagesize ? ngx_pagesize : 0;

    call->block = ngx_alloc(answer->len + slack + 1, ngx_cycle->log);
    if (call->block == NULL) {
        return NGX_ERROR;
    }

    call->result = call->block;

    if (slack) {
        call->result += ((uintptr_t) answer->data + ngx_pagesize / 2
                         - (uintptr_t) call->block) % ngx_pagesize;
    }

    ngx_memcpy(call->result, answer->data, answer->len);
    call->len = answer->len;

    return NGX_OK;
}


/* the ops of a call's handle */
static void
ngx_node_lua_op(void *object, unsigned op, const ngx_node_value_t *args,
    unsigned nargs, ngx_node_result_t *res)
{
    ngx_node_lua_call_t *call = object;

    ngx_str_t         answer;
    ngx_node_value_t  fetch = { NGX_NODE_NUMBER, 0, NULL, 0 };

    switch (op) {

    case NGX_NODE_LUA_OP_TARGET:
        ngx_node_push_str(res, &call->module);
        ngx_node_push_str(res, &call->function);
        fetch.number = call->fetch;
        res->push(res, &fetch);
        return;

    case NGX_NODE_LUA_OP_COMPLETE:
        if (call->status != NGX_NODE_LUA_PENDING) {
            ngx_node_result_fail(res, "the call was answered already");
            return;
        }

        if (ngx_node_arg_str(args, nargs, 1, &answer) != NGX_OK) {
            ngx_str_null(&answer);
        }

        if (ngx_node_lua_keep_answer(call, &answer) != NGX_OK) {
            ngx_node_result_fail(res, "out of memory");
            return;
        }

        call->status = (nargs > 0 && args[0].type == NGX_NODE_BOOLEAN
                        && args[0].number)
                       ? NGX_NODE_LUA_OK : NGX_NODE_LUA_FAILED;

        if (call->sema != NULL) {
            /* wakes the coroutine: lua-nginx-module posts an event for it */
            ngx_node_lua_sema_post(call->sema, 1);
        }

        return;

    default:
        ngx_node_result_fail(res, "unknown Lua call op %ud", op);
    }
}


int
ngx_node_lua_call(ngx_http_request_t *r, const u_char *module,
    size_t module_len, const u_char *function, size_t function_len,
    const u_char *payload, size_t payload_len, int json,
    ngx_node_lua_result_t *res)
{
    u_char                *p;
    ngx_int_t              rc;
    ngx_node_value_t       arg, ret;
    ngx_node_lua_call_t   *call;
    ngx_node_lua_calls_t  *calls;

    if (ngx_node_bridge() == NULL) {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                            "Node.js is not running in this worker (is "
                            "ngx_http_node_module loaded, with a node_import "
                            "or node_path? see the errors at its start)");
        return NGX_OK;
    }

    if (ngx_node_lua_find_sema_api() != NGX_OK) {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                            "lua-nginx-module's semaphore API "
                            "(ngx_http_lua_ffi_sema_*) is missing: "
                            "lua-nginx-module 0.10.6 or later is needed");
        return NGX_OK;
    }

    calls = ngx_node_lua_calls(r, 1);

    /* the call and its strings in one allocation, freed when the call is */
    call = calls ? ngx_alloc(sizeof(ngx_node_lua_call_t) + module_len
                             + function_len, r->connection->log)
                 : NULL;

    if (call == NULL) {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED, "out of memory");
        return NGX_OK;
    }

    ngx_memzero(call, sizeof(ngx_node_lua_call_t));

    p = (u_char *) &call[1];
    call->module.data = p;
    call->module.len = module_len;
    p = ngx_cpymem(p, module, module_len);
    call->function.data = p;
    call->function.len = function_len;
    ngx_memcpy(p, function, function_len);

    call->id = ++calls->last_id;
    call->status = NGX_NODE_LUA_PENDING;
    call->fetch = ((ngx_http_node_loc_conf_t *)
                   ngx_http_get_module_loc_conf(r, ngx_http_node_module))
                  ->fetch.index;
    ngx_queue_insert_tail(&calls->calls, &call->queue);

    call->handle = ngx_node_open(call, ngx_node_lua_op);

    if (call->handle <= 0) {
        ngx_node_lua_free(call);
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                            "too many calls in JavaScript at once");
        return NGX_OK;
    }

    /* a JSON call's payload is text for JSON.parse(): a string, not a Buffer to decode */
    arg.type = json ? NGX_NODE_STRING : NGX_NODE_BYTES;
    arg.number = 0;
    arg.data = (const char *) payload;
    arg.len = payload_len;

    rc = ngx_node_call(r->connection->log, NGX_NODE_KIND_LUA_CALL, -1,
                       call->handle, payload ? &arg : NULL,
                       json ? NGX_NODE_FLAG_JSON : 0, &ret);

    if (rc != NGX_OK && call->status == NGX_NODE_LUA_PENDING) {
        ngx_node_lua_free(call);

        if (rc == NGX_ABORT) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "resty.node: %*s:%*s() %s", module_len, module,
                          function_len, function, ngx_node_stop_reason());
            ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                                ngx_node_stop_reason());
            return NGX_OK;
        }

        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                            "the call into Node.js failed (see the error log)");
        return NGX_OK;
    }

    return ngx_node_lua_result(r, call->id, res);
}


int
ngx_node_lua_wait(ngx_http_request_t *r, unsigned id, void **sema)
{
    char                 *errmsg;
    ngx_node_lua_call_t  *call;

    call = ngx_node_lua_find(r, id);

    if (call == NULL) {
        return NGX_ERROR;
    }

    if (call->status != NGX_NODE_LUA_PENDING) {
        /* answered meanwhile: nothing to wait for */
        return NGX_DECLINED;
    }

    if (call->sema == NULL
        && ngx_node_lua_sema_new(&call->sema, 0, &errmsg) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ngx-node: no semaphore for a Lua call: %s", errmsg);
        return NGX_ERROR;
    }

    *sema = call->sema;

    return NGX_OK;
}


int
ngx_node_lua_result(ngx_http_request_t *r, unsigned id,
    ngx_node_lua_result_t *res)
{
    ngx_node_lua_call_t  *call;

    call = ngx_node_lua_find(r, id);

    if (call == NULL) {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED, "no such call");
        return NGX_OK;
    }

    res->status = call->status;
    res->id = call->id;
    res->data = (const char *) call->result;
    res->len = call->len;

    return NGX_OK;
}


void
ngx_node_lua_finish(ngx_http_request_t *r, unsigned id)
{
    ngx_node_lua_call_t  *call;

    call = ngx_node_lua_find(r, id);

    if (call != NULL) {
        ngx_node_lua_free(call);
    }
}


int
ngx_node_lua_unload(ngx_http_request_t *r, const u_char *module,
    size_t module_len, ngx_node_lua_result_t *res)
{
    ngx_node_value_t      arg, ret;
    ngx_http_node_ctx_t  *ctx;

    if (ngx_node_bridge() == NULL) {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                            "Node.js is not running in this worker");
        return NGX_OK;
    }

    ctx = ngx_http_node_ctx(r);
    if (ctx == NULL) {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED, "out of memory");
        return NGX_OK;
    }

    arg.type = NGX_NODE_STRING;
    arg.number = 0;
    arg.data = (const char *) module;
    arg.len = module_len;

    if (ngx_node_call(r->connection->log, NGX_NODE_KIND_LUA_UNLOAD, -1,
                      ctx->handle, &arg, 0, &ret)
        != NGX_OK)
    {
        ngx_node_lua_answer(res, NGX_NODE_LUA_FAILED,
                            "the call into Node.js failed (see the error log)");
        return NGX_OK;
    }

    if (ret.type == NGX_NODE_STRING) {
        /* the runtime refused, saying why */
        res->status = NGX_NODE_LUA_FAILED;
        res->data = ret.data;
        res->len = ret.len;
        return NGX_OK;
    }

    ngx_node_lua_answer(res, NGX_NODE_LUA_OK, "");

    return NGX_OK;
}
