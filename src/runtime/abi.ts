/**
 * The numbers of native/include/ngx_node_abi.h the runtime dispatches on: what kind of handler
 * a call is for, its flags, and what a dispatch reports back. (The ops come from the binding
 * itself, by name.)
 */

/** Handler kinds (NGX_NODE_KIND_*) */
export const enum Kind {
    HttpContent = 0,
    HttpVariable = 1,
    HttpAccess = 2,
    HttpRewrite = 3,
    HttpHeaderFilter = 4,
    HttpBodyFilter = 5,
    HttpBufferedFilter = 6,
    HttpLog = 7,
    HttpPrefetch = 8,
    LuaCall = 9,
    LuaUnload = 10,
    StreamAccess = 11,
    StreamPreread = 12,
    StreamVariable = 13,
    StreamPrefetch = 14,
    StreamFilter = 15,
    StreamChunk = 16,
    StreamClose = 17,
    Periodic = 18,
    MetricsFlush = 19,
}

/** What a dispatch returns (NGX_NODE_DISPATCH_*) */
export const enum Dispatch {
    Done = 0,
    Pending = 1,
    Failed = 2,
    Skipped = 3,
    /** a stream phase is undecided and wants more data */
    Again = 4,
    /** a stream chunk has no callback: it passes as it is */
    Pass = 5,
}

/** Call flags (NGX_NODE_FLAG_*) */
export const enum Flag {
    Last = 1,
    Text = 2,
    Json = 4,
    First = 8,
    Upstream = 16,
}
