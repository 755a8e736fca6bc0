/**
 * The types a handler sees: the `r` object of HTTP handlers, the `s` object of stream (TCP and
 * UDP) handlers, and the global `ngx` object.
 * Names and semantics follow njs's, so njs documentation applies where this says nothing.
 *
 *     import type { NginxHTTPRequest } from 'ngx-node';
 *     export default { hello(r: NginxHTTPRequest) { r.return(200, 'hi\n'); } };
 */

/** Incoming headers: read-only, case-insensitive (`r.headersIn['user-agent']`). */
export interface NginxHeadersIn {
    readonly [name: string]: string | undefined;
}

/**
 * Outgoing headers: case-insensitive, writable until the header is sent. `Set-Cookie` reads
 * as an array and takes an array; assigning `undefined` or `null`, or `delete`, removes a header.
 */
export interface NginxHeadersOut {
    [name: string]: string | string[] | number | undefined | null;
    'Set-Cookie'?: string[] | string;
}

/** nginx variables by name (`r.variables.remote_addr`); writable where nginx allows it. */
export interface NginxVariables {
    [name: string]: string | undefined;
}

/** Query arguments, decoded; a key given several times maps to an array. */
export interface NginxHTTPArgs {
    readonly [name: string]: string | string[];
}

/** nginx variables by name, as bytes. */
export interface NginxRawVariables {
    readonly [name: string]: Buffer | undefined;
}

/** r.subrequest()'s options (a string is taken as `args`). */
export interface NginxSubrequestOptions {
    /** the query string */
    args?: string;
    /** the request body */
    body?: string | Uint8Array;
    /** GET by default */
    method?: string;
    /** run in the background: no reply, the parent does not wait for it */
    detached?: boolean;
}

/** r.sendBuffer()'s flags; by default those of the chunk being filtered. */
export interface NginxSendBufferOptions {
    last?: boolean;
    flush?: boolean;
}

/** What a body filter learns about a chunk. */
export interface NginxBodyFilterFlags {
    /** the response's last chunk */
    last: boolean;
}

export interface NginxHTTPRequest {
    /** HTTP method, `GET` etc. */
    readonly method: string;
    /**
     * Current URI, normalised and decoded (what `$uri` holds). A node_rewrite handler may
     * assign it (`"/path?args"` also sets the arguments): nginx then picks the location again.
     */
    uri: string;
    /**
     * Query arguments; repeated keys give arrays. Assigning an object or a query string
     * replaces them (what `$args` holds).
     */
    get args(): NginxHTTPArgs;
    set args(value: Record<string, string | string[]> | string);
    /** `1.0`, `1.1` or `2.0`. */
    readonly httpVersion: string;
    /** Client address (what `$remote_addr` holds). */
    readonly remoteAddress: string;
    readonly headersIn: NginxHeadersIn;
    readonly headersOut: NginxHeadersOut;
    /** incoming headers as sent: `[name, value]` pairs in order, repeats included */
    readonly rawHeadersIn: [string, string][];
    /** outgoing headers: `[name, value]` pairs, repeats included */
    readonly rawHeadersOut: [string, string][];
    readonly variables: NginxVariables;
    readonly rawVariables: NginxRawVariables;
    /** the parent request of a subrequest, else `undefined` */
    readonly parent: NginxHTTPRequest | undefined;
    /** true for internal requests (subrequests, internal redirects, error pages) */
    readonly internal: boolean;
    /** Response status; settable until the header is sent. */
    status: number;

    /**
     * Sends a whole response and ends the request. For 301, 302, 303, 307 and 308 the second
     * argument is the redirect URL, otherwise the body. A status of 400 or more without a body
     * gives nginx's error page (and `error_page` applies).
     */
    return(status: number, body?: string | Uint8Array): void;
    /** Sends the response header (status and `headersOut`). */
    sendHeader(): void;
    /** Sends a part of the body; sends the header first if needed. */
    send(data: string | Uint8Array): void;
    /** Ends the response started with `sendHeader()` / `send()`. */
    finish(): void;
    /** Continues processing at another URI, or at a named location (`@name`). */
    internalRedirect(uri: string): void;
    /**
     * Leaves the request to nginx: the next handler of the phase (a content handler falls
     * back to nginx's own, static files for instance).
     */
    decline(): void;

    /**
     * Makes a subrequest; resolves with its reply (`status`, `headersOut`, `responseText`,
     * `responseBuffer`). The response is kept in memory: `subrequest_output_buffer_size`
     * bounds it. With a callback, or `detached`, returns nothing.
     */
    subrequest(uri: string, options?: NginxSubrequestOptions | string): Promise<NginxHTTPRequest>;
    subrequest(uri: string, options: NginxSubrequestOptions | string | undefined,
        callback: (reply: NginxHTTPRequest) => void): void;
    subrequest(uri: string, callback: (reply: NginxHTTPRequest) => void): void;
    /** A subrequest reply's body as text. */
    readonly responseText: string | undefined;
    /** A subrequest reply's body as bytes. */
    readonly responseBuffer: Buffer | undefined;

    /** In a body filter: sends a chunk on (the flags default to the input chunk's). */
    sendBuffer(data: string | Uint8Array, options?: NginxSendBufferOptions): void;
    /** In a body filter: the rest of the body passes without calling the filter. */
    done(): void;
    /** In a node_set handler: the variable's value (for handlers that do not return it). */
    setReturnValue(value: string | Uint8Array | number): void;

    /** Reads the request body (honours `client_max_body_size`); the bytes as text. */
    readRequestText(): Promise<string>;
    /** Reads the request body and parses it as JSON. */
    readRequestJSON(): Promise<unknown>;
    /** Reads the request body as bytes. */
    readRequestArrayBuffer(): Promise<ArrayBuffer>;
    /** Reads a form body: `application/x-www-form-urlencoded` or `multipart/form-data`. */
    readRequestForm(): Promise<FormData>;
    /** The request body as text once it has been read, else `undefined`. */
    readonly requestText: string | undefined;
    /** The request body as a Buffer once it has been read, else `undefined`. */
    readonly requestBuffer: Buffer | undefined;

    /** Writes to the error log at `info` level, with the request's context. */
    log(message: unknown): void;
    /** Writes to the error log at `warn` level, with the request's context. */
    warn(message: unknown): void;
    /** Writes to the error log at `error` level, with the request's context. */
    error(message: unknown): void;
}

/** A `node_content` handler; returning a Promise suspends the request until it settles. */
export type NginxHTTPContentHandler = (r: NginxHTTPRequest) => void | Promise<void>;

/**
 * A `node_access` or `node_rewrite` handler: returning (or resolving) continues the request;
 * `r.return(403)` and the like answer it.
 */
export type NginxHTTPPhaseHandler = (r: NginxHTTPRequest) => void | Promise<void>;

/** A `node_set` value; an async function's is awaited before the access phase. */
export type NginxVariableValue = string | Uint8Array | number | undefined | null;

/** A `node_set` handler: the variable's value. */
export type NginxHTTPVariableHandler = (r: NginxHTTPRequest) => NginxVariableValue | Promise<NginxVariableValue>;

/** A `node_header_filter` handler: changes `r.status` and `r.headersOut`; synchronous. */
export type NginxHTTPHeaderFilter = (r: NginxHTTPRequest) => void;

/** A streaming `node_body_filter` handler: called per chunk, sends with `r.sendBuffer()`. */
export type NginxHTTPBodyFilter = (r: NginxHTTPRequest, data: string | Buffer, flags: NginxBodyFilterFlags) => void;

/**
 * A `node_body_filter ... buffered` handler: gets the whole body, answers with the new one
 * (`undefined` keeps it); may be async.
 */
export type NginxHTTPBufferedBodyFilter = (r: NginxHTTPRequest, body: string | Buffer, flags: NginxBodyFilterFlags) =>
    string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;

/** A `node_log` handler: runs after the response; may start async work it does not wait for. */
export type NginxHTTPLogHandler = (r: NginxHTTPRequest) => void | Promise<void>;

/** What a stream event callback learns about its data. */
export interface NginxStreamCallbackFlags {
    /** the last data of that direction (the peer closed it) */
    last: boolean;
    /** the data comes from the upstream (a `download` / `downstream` event) */
    from_upstream: boolean;
}

/**
 * An `s.on()` callback: `upload` and `download` give text, `upstream` and `downstream` give
 * Buffers. In node_filter it may be async: its direction waits until it settles.
 */
export type NginxStreamEventCallback =
    | ((data: string, flags: NginxStreamCallbackFlags) => void | Promise<void>)
    | ((data: Buffer, flags: NginxStreamCallbackFlags) => void | Promise<void>);

/** `s.send()`'s options: by default, the flags of the chunk being filtered. */
export interface NginxStreamSendOptions {
    last?: boolean;
    flush?: boolean;
    /** where the data goes: to the client (`true`) or to the upstream (`false`) */
    from_upstream?: boolean;
}

/** The `s` object: a TCP connection or a UDP session, the same for all of its handlers. */
export interface NginxStreamSession {
    /** Client address (what `$remote_addr` holds). */
    readonly remoteAddress: string;
    /** `$status`: 0 until the session ends. */
    readonly status: number;
    readonly variables: NginxVariables;
    readonly rawVariables: NginxRawVariables;

    /** Access and preread: lets the session go on to the next phase. */
    allow(code?: number): void;
    /** Access and preread: ends the session with status 403. */
    deny(code?: number): void;
    /** Access and preread: leaves the decision to the phase's next handler. */
    decline(code?: number): void;
    /**
     * Access and preread: like `allow()`; with a code, ends the session with that status
     * (`s.done(503)`), or declines (`-5`).
     */
    done(code?: number): void;

    /**
     * Registers a callback for data: `upload` (text) or `upstream` (Buffer) for data from the
     * client, `download` (text) or `downstream` (Buffer) for data from the upstream. In
     * node_preread the upload callback gets all the data read so far, each time more comes,
     * until a decision; in node_filter each chunk, which it replaces with what it `send()`s.
     */
    on(event: 'upload' | 'download', callback: (data: string, flags: NginxStreamCallbackFlags) => void | Promise<void>): void;
    on(event: 'upstream' | 'downstream', callback: (data: Buffer, flags: NginxStreamCallbackFlags) => void | Promise<void>): void;
    /** Removes a callback: in node_filter that direction's data passes as it is. */
    off(event: 'upload' | 'download' | 'upstream' | 'downstream'): void;

    /**
     * In node_filter's callbacks: sends data on, in the direction of the chunk being filtered
     * (after an await: of the callback that waits, or the one `from_upstream` names).
     */
    send(data: string | Uint8Array, options?: NginxStreamSendOptions): void;
    /** In node_filter's callbacks: sends data to the upstream, at once. */
    sendUpstream(data: string | Uint8Array, options?: NginxStreamSendOptions): void;
    /** In node_filter's callbacks: sends data to the client, at once. */
    sendDownstream(data: string | Uint8Array, options?: NginxStreamSendOptions): void;
    /** In a node_set handler: the variable's value (for handlers that do not return it). */
    setReturnValue(value: string | Uint8Array | number): void;

    /** Writes each argument to the error log at `info` level, with the session's context. */
    log(...messages: unknown[]): void;
    /** ... at `warn` level. */
    warn(...messages: unknown[]): void;
    /** ... at `error` level. */
    error(...messages: unknown[]): void;
}

/**
 * A `node_access` or `node_preread` handler: decides with `s.allow()`, `s.deny()`,
 * `s.decline()` or `s.done()`, at once, from an `upload` callback, or after an await.
 */
export type NginxStreamPhaseHandler = (s: NginxStreamSession) => void | Promise<void>;

/** A stream `node_set` handler: the variable's value. */
export type NginxStreamVariableHandler = (s: NginxStreamSession) => NginxVariableValue | Promise<NginxVariableValue>;

/** A `node_filter` handler: registers `s.on()` callbacks for the data proxied. */
export type NginxStreamFilter = (s: NginxStreamSession) => void;

/**
 * A shared dict (`node_shared_dict_zone`): nginx shared memory that every worker sees, from
 * http and stream handlers alike; each method is atomic across workers.
 */
export interface NgxSharedDict {
    readonly name: string;
    /** what values are: `type=string` (the default) or `type=number` */
    readonly type: 'string' | 'number';
    /** the zone's size in bytes */
    readonly capacity: number;
    get(key: string): string | number | undefined;
    has(key: string): boolean;
    /** Stores a value (of the dict's type); `timeout` (ms) overrides the zone's. Full: SharedMemoryError. */
    set(key: string, value: string | number, timeout?: number): this;
    /** Stores a value unless the key has one: whether it did. */
    add(key: string, value: string | number, timeout?: number): boolean;
    /** Stores a value if the key has one: whether it did. */
    replace(key: string, value: string | number, timeout?: number): boolean;
    /** Removes an entry: whether there was one. */
    delete(key: string): boolean;
    /** Removes an entry and returns its value. */
    pop(key: string): string | number | undefined;
    /** Number dicts: adds `delta` (the entry starts at `init`, 0 by default) and returns the sum, atomically. */
    incr(key: string, delta: number, init?: number, timeout?: number): number;
    /** The keys (at most `max`, 1024 by default; a negative `max`: all), least recently written first. */
    keys(max?: number): string[];
    /** `[key, value]` pairs, as keys() bounds them. */
    items(max?: number): [string, string | number][];
    /** How many entries there are. */
    size(): number;
    clear(): void;
    /** Free bytes of the zone (whole free pages). */
    freeSpace(): number;
    /** Milliseconds before an entry expires; -1: it does not; `undefined`: there is none. */
    ttl(key: string): number | undefined;
}

/** What a `node_periodic` handler gets: the variables of the block that declares it. */
export interface NginxPeriodicSession {
    readonly variables: NginxVariables;
    readonly rawVariables: NginxRawVariables;
}

/** A `node_periodic` handler; may be async (the next run waits until it settles). */
export type NginxPeriodicHandler = (session: NginxPeriodicSession) => void | Promise<void>;

/** Label values by label name; a label left out is absent from the series. */
export type NgxMetricLabels = Readonly<Record<string, string | number>>;

/** A metric's definition, as `ngx.metrics.counter({ ... })` etc. take it. */
export interface NgxMetricConfiguration {
    /** letters, digits, `_` and `:`; `ngx_node_` names are ngx-node's own */
    name: string;
    /** the `# HELP` text; the name by default */
    help?: string;
    labelNames?: readonly string[];
}

export interface NgxHistogramConfiguration extends NgxMetricConfiguration {
    /** upper bounds, increasing (+Inf is implied); prom-client's defaults, seconds, if left out */
    buckets?: readonly number[];
}

/** A counter bound to label values (`counter.labels('GET')`). */
export interface NgxCounterChild {
    inc(value?: number): void;
}

/** Goes up only: requests, bytes, errors. */
export interface NgxCounter {
    readonly name: string;
    /** Adds `value` (1 by default, never negative). */
    inc(value?: number): void;
    inc(labels: NgxMetricLabels, value?: number): void;
    /** Label values in the order of the label names, or an object of them. */
    labels(...values: (string | number)[]): NgxCounterChild;
    labels(labels: NgxMetricLabels): NgxCounterChild;
}

export interface NgxGaugeChild {
    set(value: number): void;
    inc(value?: number): void;
    dec(value?: number): void;
}

/** Goes up and down. One value for all workers: `set()` replaces it, `inc()` and `dec()` change it. */
export interface NgxGauge {
    readonly name: string;
    set(value: number): void;
    set(labels: NgxMetricLabels, value: number): void;
    inc(value?: number): void;
    inc(labels: NgxMetricLabels, value?: number): void;
    dec(value?: number): void;
    dec(labels: NgxMetricLabels, value?: number): void;
    labels(...values: (string | number)[]): NgxGaugeChild;
    labels(labels: NgxMetricLabels): NgxGaugeChild;
}

export interface NgxHistogramChild {
    observe(value: number): void;
    /** Starts timing; the returned function observes the seconds since and returns them. */
    startTimer(): () => number;
}

/** Counts observations into buckets: latencies, sizes. */
export interface NgxHistogram {
    readonly name: string;
    observe(value: number): void;
    observe(labels: NgxMetricLabels, value: number): void;
    startTimer(labels?: NgxMetricLabels): () => number;
    labels(...values: (string | number)[]): NgxHistogramChild;
    labels(labels: NgxMetricLabels): NgxHistogramChild;
}

/**
 * Metrics for Prometheus (`node_metrics`), added up over all workers in the metrics zone.
 * Defining a metric again with the same name and labels returns the same metric, so a handler
 * may define what it uses on every call; the same name defined otherwise throws a TypeError.
 * Without a metrics zone (`node_metrics_zone` or `node_metrics` somewhere), nothing is recorded.
 */
export interface NgxMetrics {
    /** whether a metrics zone records what the metrics count */
    readonly enabled: boolean;
    counter(name: string, help?: string, labelNames?: readonly string[]): NgxCounter;
    counter(config: NgxMetricConfiguration): NgxCounter;
    gauge(name: string, help?: string, labelNames?: readonly string[]): NgxGauge;
    gauge(config: NgxMetricConfiguration): NgxGauge;
    histogram(name: string, help?: string, labelNames?: readonly string[], buckets?: readonly number[]): NgxHistogram;
    histogram(config: NgxHistogramConfiguration): NgxHistogram;
}

/** `ngx.fetch()`'s options: njs's, and those of Node's `fetch()` that apply. */
export interface NgxFetchOptions {
    /**
     * The request body: text and bytes go as they are (no `Content-Type` is added, as in
     * njs); `URLSearchParams`, `FormData`, `Blob` as `fetch()` encodes them, with their type.
     */
    body?: RequestInit['body'];
    headers?: RequestInit['headers'];
    /** `GET` by default */
    method?: string;
    /** The largest response header, bytes; by default `node_fetch_buffer_size`. */
    buffer_size?: number;
    /** The largest response body, bytes; by default `node_fetch_max_response_buffer_size`. */
    max_response_body_size?: number;
    /** Whether an https server's certificate is verified; by default `node_fetch_verify`. */
    verify?: boolean;
    /** Aborts the request: `ngx.fetch()` rejects with the signal's reason. */
    signal?: AbortSignal | null;
    /**
     * `"manual"` (the default, as in njs): a redirect is the response; `"follow"`: redirects
     * are followed (20 at most); `"error"`: a redirect rejects.
     */
    redirect?: 'manual' | 'follow' | 'error';
}

/** The headers of `ngx.fetch()`'s response: Node's `Headers`, with njs's `getAll()`. */
export interface NgxFetchHeaders extends Headers {
    /** Every value of the header, in order (`get()` joins them with ", "). */
    getAll(name: string): string[];
}

/** What `ngx.fetch()` resolves with: Node's `Response`, its body already complete. */
export interface NgxFetchResponse extends Response {
    readonly headers: NgxFetchHeaders;
}

/** nginx's error_log levels as `ngx.log()` takes them. */
export type NgxLogLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface NgxObject {
    readonly INFO: 7;
    readonly WARN: 5;
    readonly ERR: 4;
    /** Writes a message to the error log at the given level. */
    log(level: NgxLogLevel, message: unknown): void;
    /** This worker's number, 0 to `worker_processes` - 1. */
    readonly worker_id: number;
    /** nginx's version, e.g. `1.22.1`. */
    readonly version: string;
    /** nginx's version as a number, e.g. `1022001`. */
    readonly version_number: number;
    /** ngx-node's build: `"release"`. */
    readonly build: string;
    /** the error log's file, as nginx.conf's top-level `error_log` names it */
    readonly error_log_path: string;
    /**
     * njs's `ngx.fetch()`: an HTTP/1.1 request that follows the `node_fetch_*` settings of the
     * handler's block (and nginx's `resolver` there), and resolves once the whole response is
     * in, within `max_response_body_size`. Global `fetch` is Node's own and follows none of them.
     */
    fetch(url: string | URL | Request, options?: NgxFetchOptions): Promise<NgxFetchResponse>;
    /** ngx-node's version. */
    readonly ngx_node_version: string;
    /** The shared dicts of `node_shared_dict_zone`, by zone name. */
    readonly shared: Readonly<Record<string, NgxSharedDict>>;
    /** Counters, gauges and histograms for Prometheus (`node_metrics`). */
    readonly metrics: NgxMetrics;
    /** nginx's prefix (`-p`). */
    readonly prefix: string;
    /** The directory of nginx's configuration prefix. */
    readonly conf_prefix: string;
    /** The configuration file nginx was started with. */
    readonly conf_file_path: string;
}
