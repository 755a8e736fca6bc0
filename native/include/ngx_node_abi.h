/*
 * The C ABI between the nginx glue (native/nginx, C) and the bridge (native/bridge, C++, the
 * only code that includes node.h / v8.h). The nginx module dlopen()s the bridge in each worker
 * and looks up one symbol, ngx_node_bridge_get(), which returns the bridge's function table.
 *
 * JavaScript reaches nginx through one native function, binding.call(handle, op, ...args):
 * the handle names an object the nginx side registered (a request, the worker itself), the op is
 * one of the numbers below. The bridge only marshals values; it knows nothing of nginx. Shared
 * dicts, whose operations are the ones user code runs in tight loops, have their own functions
 * (binding.dict) calling the host's entry points of ngx_node_dict_host_t with typed arguments.
 */

#ifndef NGX_NODE_ABI_H
#define NGX_NODE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NGX_NODE_ABI_VERSION  6

/* results of ngx_node_bridge_t.call and of host ops */
#define NGX_NODE_OK       0
#define NGX_NODE_ERROR   -1
/* the execution guard stopped the call (node_cpu_timeout, the heap limit): stop_reason() */
#define NGX_NODE_CALL_STOPPED  -2

/* what a phase handler's dispatch reports (the JS runtime returns these numbers) */
#define NGX_NODE_DISPATCH_DONE     0   /* finished during the call */
#define NGX_NODE_DISPATCH_PENDING  1   /* will report through the request's "done" op */
#define NGX_NODE_DISPATCH_FAILED   2   /* threw; already logged by the runtime */
#define NGX_NODE_DISPATCH_SKIPPED  3   /* nothing to do (a prefetch of a sync node_set) */
#define NGX_NODE_DISPATCH_AGAIN    4   /* stream phase: undecided, wants more data */
#define NGX_NODE_DISPATCH_PASS     5   /* stream chunk: no callback, it passes as it is */

/* outcomes of the "done" op */
#define NGX_NODE_OUTCOME_OK        0
#define NGX_NODE_OUTCOME_ERROR     1


typedef enum {
    NGX_NODE_UNDEFINED = 0,
    NGX_NODE_NULL,
    NGX_NODE_BOOLEAN,
    NGX_NODE_NUMBER,
    NGX_NODE_STRING,          /* UTF-8 text */
    NGX_NODE_BYTES,           /* binary: a Buffer / Uint8Array / ArrayBuffer on the JS side */
    NGX_NODE_ASCII_OR_BYTES   /* to JS only: a string if the bytes are all ASCII, else a
                                 Buffer (data that is text, decoded by JS when it is not
                                 plain ASCII) */
} ngx_node_type_e;


typedef struct {
    ngx_node_type_e   type;
    double            number;   /* NUMBER, BOOLEAN (0 or 1) */
    const char       *data;     /* STRING, BYTES: valid for the duration of the call only */
    size_t            len;
} ngx_node_value_t;


/* How a host op answers: set() the return value, or push() elements of a returned array,
 * or fail() to make the JS call throw an error of that kind with that message. */
typedef struct ngx_node_result_s  ngx_node_result_t;

struct ngx_node_result_s {
    void   *bridge_data;
    void  (*set)(ngx_node_result_t *res, const ngx_node_value_t *v);
    void  (*push)(ngx_node_result_t *res, const ngx_node_value_t *v);
    void  (*fail)(ngx_node_result_t *res, unsigned kind, const char *msg,
                  size_t len);
};

/* kinds of fail() */
#define NGX_NODE_FAIL_ERROR   0      /* Error: it did not work */
#define NGX_NODE_FAIL_TYPE    1      /* TypeError: a value the op does not take */
#define NGX_NODE_FAIL_RANGE   2      /* RangeError: a number out of range */


/* A host object's op handler: object is what was registered with open(). */
typedef void (*ngx_node_op_pt)(void *object, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res);


/*
 * Ops. X(NAME, name): NAME becomes NGX_NODE_WORKER_OP_NAME / NGX_NODE_HTTP_OP_NAME in C;
 * the runtime receives { name: number } at bootstrap and refuses to start if one it needs
 * is missing.
 */
#define NGX_NODE_WORKER_OPS(X)                                                \
    X(LOG, log)                       /* (level, message) */                  \
    X(METRICS, metrics)               /* (op, ...): NGX_NODE_METRICS_OPS */   \

#define NGX_NODE_HTTP_OPS(X)                                                  \
    X(METHOD, method)                                                         \
    X(URI, uri)                                                               \
    X(ARGS, args)                     /* the raw query string */              \
    X(HTTP_VERSION, httpVersion)                                              \
    X(REMOTE_ADDRESS, remoteAddress)                                          \
    X(HEADERS_IN, headersIn)          /* [name, value, name, value ...] */    \
    X(HEADER_IN, headerIn)            /* (name) -> value, repeats joined */   \
    X(HEADERS_OUT, headersOut)        /* [name, value, name, value ...] */    \
    X(HEADER_OUT_GET, headerOutGet)   /* (name) -> string | string[] */       \
    X(HEADER_OUT_SET, headerOutSet)   /* (name[, value[, append]]) */         \
    X(STATUS, status)                                                         \
    X(SET_STATUS, setStatus)                                                  \
    X(VARIABLE, variable)             /* (name[, asBytes]) */                 \
    X(SET_VARIABLE, setVariable)      /* (name, value) */                     \
    X(SEND_HEADER, sendHeader)                                                \
    X(SEND, send)                     /* (data, last) */                      \
    X(FINISH, finish)                                                         \
    X(RETURN, return)                 /* (status[, body or url]) */           \
    X(INTERNAL_REDIRECT, internalRedirect)                                    \
    X(READ_BODY, readBody)            /* (token): resumes token with bytes */ \
    X(REQUEST_BODY, requestBody)      /* the body if read, else undefined */  \
    X(LOG, log)                       /* (level, message) */                  \
    X(DONE, done)                     /* (outcome) */                         \
    X(DECLINE, decline)                                                       \
    X(SET_URI, setUri)                /* (uri): in rewrite handlers */        \
    X(SET_ARGS, setArgs)              /* (args) */                            \
    X(SEND_BUFFER, sendBuffer)        /* (data, last, flush): body filters */ \
    X(FILTER_DONE, filterDone)        /* the rest passes unfiltered */        \
    X(FILTERED, filtered)             /* (failed, body): a buffered filter's  \
                                          result; undefined keeps the body */ \
    X(SUBREQUEST, subrequest)         /* (uri, args, method, body, detached,  \
                                          token): resumes with a handle */    \
    X(RESPONSE_BODY, responseBody)    /* a subrequest's body, bytes */        \
    X(PARENT, parent)                 /* the parent's handle, or undefined */ \
    X(INTERNAL, internal)                                                     \
    X(PREFETCHED, prefetched)         /* (handler, value): async node_set */  \
    X(VAR_NAMES, varNames)            /* the node_var variables' names */     \
    X(FETCH, fetch)                   /* the number of the ngx.fetch settings \
                                          of the request's block */           \

/* the stream session: what JavaScript's `s` does */
#define NGX_NODE_STREAM_OPS(X)                                                \
    X(REMOTE_ADDRESS, remoteAddress)                                          \
    X(STATUS, status)                                                         \
    X(VARIABLE, variable)             /* (name[, asBytes]) */                 \
    X(SET_VARIABLE, setVariable)      /* (name, value) */                     \
    X(DECIDE, decide)                 /* (code): allow 0, decline -5, deny    \
                                          403, done(code); ends an async      \
                                          phase */                            \
    X(LOG, log)                       /* (level, message) */                  \
    X(SEND, send)                     /* (data, last, flush, direction: -1    \
                                          the chunk's, 0 upstream, 1 down) */ \
    X(CHUNK_DONE, chunkDone)          /* (fromUpstream, failed): an async     \
                                          callback of a chunk settled */      \
    X(LISTEN, listen)                 /* (fromUpstream, what): the callback   \
                                          of that direction takes nothing (0, \
                                          there is none), Buffers (1), strings\
                                          (2) */                              \
    X(FORWARD, forward)               /* (fromUpstream, last, flush, its own  \
                                          direction): s.send() of the text of \
                                          the chunk given to that direction's \
                                          callback -> false: not forwarded */ \
    X(PREFETCHED, prefetched)         /* (handler, value): async node_set */  \
    X(FETCH, fetch)                   /* the number of the ngx.fetch settings \
                                          of the session's block */           \

/* a node_periodic run's object */
#define NGX_NODE_PERIODIC_OPS(X)                                              \
    X(VARIABLE, variable)             /* (name[, asBytes]) */                 \
    X(SET_VARIABLE, setVariable)      /* (name, value) */                     \
    X(DONE, done)                     /* an async run settled */              \
    X(FETCH, fetch)                   /* the number of the ngx.fetch settings \
                                          of the block */                     \

/* metrics: the operations of the worker op "metrics" (op, ...), with which the runtime adds
 * what it counted to the zone; values are float64s in bytes; null: the zone is full */
#define NGX_NODE_METRICS_OPS(X)                                               \
    X(DEFINE, define)                 /* (name, type, help, labelNames "a,b", \
                                          bucket bounds) -> true */           \
    X(ADD, add)                       /* (name, labels, values) -> true */    \
    X(SET, set)                       /* (name, labels, [value]): a gauge */  \
    X(HANDLERS, handlers)             /* ([handler, calls, errors, sum of     \
                                          seconds, count per bucket] ...) */  \
    X(WORKER, worker)                 /* (heapUsed, heapLimit, nodeVersion) */\

/* types of metrics */
#define NGX_NODE_METRIC_COUNTER     0
#define NGX_NODE_METRIC_GAUGE       1
#define NGX_NODE_METRIC_HISTOGRAM   2

/* a call from Lua (resty.node): what to call, and its result */
#define NGX_NODE_LUA_OPS(X)                                                   \
    X(TARGET, target)                 /* [module, function, the number of the \
                                          ngx.fetch settings of the block] */ \
    X(COMPLETE, complete)             /* (ok, result) */                      \

#define NGX_NODE_WORKER_OP_ENUM(NAME, name)  NGX_NODE_WORKER_OP_##NAME,
#define NGX_NODE_LUA_OP_ENUM(NAME, name)     NGX_NODE_LUA_OP_##NAME,
#define NGX_NODE_STREAM_OP_ENUM(NAME, name)  NGX_NODE_STREAM_OP_##NAME,
#define NGX_NODE_PERIODIC_OP_ENUM(NAME, name) NGX_NODE_PERIODIC_OP_##NAME,
#define NGX_NODE_METRICS_OP_ENUM(NAME, name) NGX_NODE_METRICS_OP_##NAME,
#define NGX_NODE_HTTP_OP_ENUM(NAME, name)    NGX_NODE_HTTP_OP_##NAME,

enum { NGX_NODE_WORKER_OPS(NGX_NODE_WORKER_OP_ENUM) NGX_NODE_WORKER_OP_COUNT };

enum { NGX_NODE_HTTP_OPS(NGX_NODE_HTTP_OP_ENUM) NGX_NODE_HTTP_OP_COUNT };

enum { NGX_NODE_LUA_OPS(NGX_NODE_LUA_OP_ENUM) NGX_NODE_LUA_OP_COUNT };

enum { NGX_NODE_STREAM_OPS(NGX_NODE_STREAM_OP_ENUM) NGX_NODE_STREAM_OP_COUNT };

enum {
    NGX_NODE_PERIODIC_OPS(NGX_NODE_PERIODIC_OP_ENUM) NGX_NODE_PERIODIC_OP_COUNT
};

enum {
    NGX_NODE_METRICS_OPS(NGX_NODE_METRICS_OP_ENUM) NGX_NODE_METRICS_OP_COUNT
};


/*
 * Shared dicts (node_shared_dict_zone, ngx.shared): the host's entry points, which the bridge's
 * binding.dict functions call directly. zone: the dict's number (the order of the directives);
 * key: UTF-8, at most NGX_NODE_DICT_KEY_MAX bytes. The runtime checks what it can (types,
 * timeouts) and words the errors; NGX_NODE_DICT_BAD is the host's refusal of what it was not
 * to be given. Timeouts are ms, 0: the zone's own.
 */
#define NGX_NODE_DICT_KEY_MAX  65535

/* what an entry point answers */
#define NGX_NODE_DICT_NO       0   /* not there, not done (false, undefined) */
#define NGX_NODE_DICT_YES      1   /* done; there (true, the value) */
#define NGX_NODE_DICT_FULL    -1   /* no room: null, a SharedMemoryError in JavaScript */
#define NGX_NODE_DICT_BAD     -2   /* no such zone, a key too long, a value of another type */

/* how store() writes */
#define NGX_NODE_DICT_SET      0   /* always */
#define NGX_NODE_DICT_ADD      1   /* only if there is no such entry */
#define NGX_NODE_DICT_REPLACE  2   /* only if there is one */

/* a value read: the number of a number dict, or the text of a string dict, which the host
 * copies (it must not be read outside the zone's lock) into room(len) of the bridge's */
typedef struct {
    double      number;
    char       *text;
    size_t      len;
    unsigned    ascii;         /* the text is known to be all ASCII */
    char     *(*room)(size_t len);   /* NULL: no memory */
} ngx_node_dict_value_t;

typedef struct {
    /* get (remove 0) or pop (remove 1): YES and *value, or NO */
    int       (*get)(unsigned zone, const char *key, size_t len, unsigned remove,
                     ngx_node_dict_value_t *value);
    /* has (remove 0) or delete (remove 1): YES if the entry was there */
    int       (*has)(unsigned zone, const char *key, size_t len, unsigned remove);
    /* ms left, -1 if it does not expire: YES and *ms, or NO */
    int       (*ttl)(unsigned zone, const char *key, size_t len, double *ms);
    /* NGX_NODE_DICT_SET, ADD or REPLACE; value: a NUMBER or STRING of the dict's type;
     * ascii: the string is known to be all ASCII (get() tells it back) */
    int       (*store)(unsigned zone, unsigned how, const char *key, size_t len,
                       const ngx_node_value_t *value, unsigned ascii, double timeout);
    /* a number dict's entry plus delta, created as init + delta: YES and *result */
    int       (*incr)(unsigned zone, const char *key, size_t len, double delta,
                      double init, double timeout, double *result);
    /* keys (items 0) or items (items 1), least recently written first: push()es each key
     * (and value); at most max, all if max < 0 */
    int       (*list)(unsigned zone, unsigned items, double max, ngx_node_result_t *res);
    /* entries not expired; -1: no such zone */
    double    (*size)(unsigned zone);
    int       (*clear)(unsigned zone);
    /* bytes; -1: no such zone */
    double    (*free_space)(unsigned zone);
} ngx_node_dict_host_t;


/* handler kinds the runtime dispatches on */
#define NGX_NODE_KIND_HTTP_CONTENT          0
#define NGX_NODE_KIND_HTTP_VARIABLE         1   /* node_set, evaluated when used */
#define NGX_NODE_KIND_HTTP_ACCESS           2
#define NGX_NODE_KIND_HTTP_REWRITE          3
#define NGX_NODE_KIND_HTTP_HEADER_FILTER    4
#define NGX_NODE_KIND_HTTP_BODY_FILTER      5   /* arg: a chunk; flags below */
#define NGX_NODE_KIND_HTTP_BUFFERED_FILTER  6   /* arg: the whole body */
#define NGX_NODE_KIND_HTTP_LOG              7
#define NGX_NODE_KIND_HTTP_PREFETCH         8   /* node_set, awaited before access */
#define NGX_NODE_KIND_LUA_CALL              9   /* arg: the payload */
#define NGX_NODE_KIND_LUA_UNLOAD           10   /* arg: the module's name */
#define NGX_NODE_KIND_STREAM_ACCESS        11   /* arg: the data read so far */
#define NGX_NODE_KIND_STREAM_PREREAD       12   /* arg: the data read so far */
#define NGX_NODE_KIND_STREAM_VARIABLE      13   /* node_set, evaluated when used */
#define NGX_NODE_KIND_STREAM_PREFETCH      14   /* node_set, awaited after preread */
#define NGX_NODE_KIND_STREAM_FILTER        15   /* node_filter's function, once */
#define NGX_NODE_KIND_STREAM_CHUNK         16   /* arg: a chunk, for s.on() callbacks */
#define NGX_NODE_KIND_STREAM_CLOSE         17   /* the session ended */
#define NGX_NODE_KIND_PERIODIC             18   /* node_periodic: a run */
#define NGX_NODE_KIND_METRICS_FLUSH        19   /* add what was counted to the zone */

/* flags of a call */
#define NGX_NODE_FLAG_LAST                  1   /* the chunk is the body's last */
#define NGX_NODE_FLAG_STRING                2   /* give the handler text, not bytes */
#define NGX_NODE_FLAG_JSON                  4   /* the payload and result are JSON */
#define NGX_NODE_FLAG_FIRST                 8   /* a stream phase's first call */
#define NGX_NODE_FLAG_UPSTREAM             16   /* the chunk comes from the upstream */


typedef struct {
    /* where the bridge finds the TypeScript runtime (build/runtime) */
    const char        *runtime_dir;
    /* JSON: imports, handlers, paths, ngx facts; the same document the config checker reads */
    const char        *config_json;
    size_t             config_json_len;
    /* node_option flags */
    const char *const *exec_args;
    unsigned           nexec_args;
    /* node_cpu_timeout: how long one call into JavaScript may run, ms; 0: no limit */
    unsigned           cpu_timeout;

    /* the worker object (handle 0): its ops are NGX_NODE_WORKER_OPS */
    void              *worker;
    ngx_node_op_pt     worker_op;
    /* the shared dicts' entry points */
    const ngx_node_dict_host_t  *dict;

    /* messages of the bridge itself, before the runtime can log (nginx log levels) */
    void             (*log)(unsigned level, const char *msg, size_t len);
    /* process.exit() was called: the host stops serving JS and exits the worker cleanly */
    void             (*exit)(int code);
    /* the JavaScript heap reached its limit (raised for now): the host stops accepting
     * work, finishes what it has and exits, so that a fresh worker takes over */
    void             (*retire)(void);
} ngx_node_init_t;


typedef struct {
    unsigned    abi_version;

    /* Starts Node on this thread and loads the modules; errors go through init->log. */
    int       (*init)(const ngx_node_init_t *init);
    void      (*shutdown)(void);

    /* handles name host objects for JS; 0 is the worker */
    double    (*open)(void *object, ngx_node_op_pt op);
    void      (*close)(double handle);

    /*
     * Calls the runtime's dispatcher for handler number `handler` of `kind` on `handle`,
     * with an optional argument (NULL: none) and NGX_NODE_FLAG_* flags, in a callback scope
     * (microtasks and nextTicks run before it returns). The returned value is stored in
     * *ret; its data stays valid until the next call.
     */
    int       (*call)(unsigned kind, unsigned handler, double handle,
                      const ngx_node_value_t *arg, unsigned flags,
                      ngx_node_value_t *ret);
    /* why and where the last call that returned NGX_NODE_CALL_STOPPED was stopped:
     * "ran longer than node_cpu_timeout (5000 ms) and was stopped at f (file:3:7)" */
    const char *(*stop_reason)(void);

    /* settles the promise the runtime associated with `token` (a READ_BODY etc.) */
    void      (*resume)(double token, int failed, const ngx_node_value_t *value);

    /* libuv's loop, driven from nginx's event loop */
    int       (*loop_fd)(void);
    int       (*loop_timeout)(void);      /* ms; -1: none; 0: run soon */
    int       (*loop_needs_poll)(void);   /* watchers created since the last run */
    void      (*loop_run)(void);          /* one non-blocking iteration */
} ngx_node_bridge_t;


typedef const ngx_node_bridge_t *(*ngx_node_bridge_get_pt)(void);

#define NGX_NODE_BRIDGE_SYMBOL  "ngx_node_bridge_get"


#ifdef __cplusplus
}
#endif

#endif /* NGX_NODE_ABI_H */
