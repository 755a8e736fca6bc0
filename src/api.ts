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
    /**
     * A header's value, `undefined` if the request has none. Repeated headers are joined with
     * `, ` (`Cookie` with `; `); single-valued ones (`Host`, `Content-Type` ...) keep the first,
     * as nginx and njs do.
     */
    readonly [name: string]: string | undefined;
}

/**
 * Outgoing headers: case-insensitive, writable until the header is sent. `Set-Cookie` reads
 * as an array and takes an array; assigning `undefined` or `null`, or `delete`, removes a header.
 */
export interface NginxHeadersOut {
    /**
     * A header to send: a string or number, an array for a header sent several times;
     * `null`/`undefined` removes it. `Content-Type` and `Content-Length` set nginx's own
     * fields. A value with CR, LF or another control character throws a `TypeError`. Setting a
     * header after the header was sent is logged and ignored, as in njs.
     */
    [name: string]: string | string[] | number | undefined | null;
    /** Reads as an array (one element per cookie); takes a string or an array. */
    'Set-Cookie'?: string[] | string;
}

/** nginx variables by name (`r.variables.remote_addr`); writable where nginx allows it. */
export interface NginxVariables {
    /**
     * A variable's value as text (`undefined`: not found or not set). Assigning works where
     * nginx allows it — `set` and `node_var` variables, `$args`, `$limit_rate` ... — and
     * throws otherwise; a value with CR, LF or another control character throws a `TypeError`.
     */
    [name: string]: string | undefined;
}

/** Query arguments, decoded; a key given several times maps to an array. */
export interface NginxHTTPArgs {
    /** An argument's decoded value; an array when the key is repeated (`?a=1&a=2`). */
    readonly [name: string]: string | string[];
}

/** nginx variables by name, as bytes. */
export interface NginxRawVariables {
    /** A variable's value as bytes, `undefined` if not found or not set. */
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

/** A file part of a multipart form: njs gives its name as the client sent it, and no content. */
export interface NginxHTTPRequestFormFile {
    /** the client's file name: check it before using it in a path, a log line or a redirect */
    readonly name: string;
}

/** A form field's value: the text of a field, or a file part's name (njs gives no content). */
export type NginxHTTPRequestFormValue = string | NginxHTTPRequestFormFile;

/** What r.readRequestForm() resolves with: njs's form object (njs 0.9.9). */
export interface NginxHTTPRequestForm {
    /** the first value of the field, or `null` */
    get(name: string | Uint8Array): NginxHTTPRequestFormValue | null;
    /** every value of the field, in order */
    getAll(name: string | Uint8Array): NginxHTTPRequestFormValue[];
    /** whether the form has the field */
    has(name: string | Uint8Array): boolean;
    /** calls `callback(value, name, form)` for each field, in order */
    forEach(callback: (value: NginxHTTPRequestFormValue, name: string, form: NginxHTTPRequestForm) => void,
        thisArg?: unknown): void;
    /** whether a part of a multipart form is a file */
    hasFiles(): boolean;
}

/** r.readRequestForm()'s options. */
export interface NginxRequestFormOptions {
    /** at most this many fields (default 128); more reject the promise */
    maxKeys?: number;
}

/** r.sendBuffer()'s flags; by default those of the chunk being filtered. */
export interface NginxSendBufferOptions {
    /** this is the response's last chunk */
    last?: boolean;
    /** send what is buffered now */
    flush?: boolean;
}

/** What a body filter learns about a chunk. */
export interface NginxBodyFilterFlags {
    /** the response's last chunk */
    last: boolean;
}

/**
 * The `r` object: one HTTP request, as every handler of it (content, access, rewrite,
 * node_set, filters, log) sees it. Names and semantics are njs's; the differences are noted per
 * member. Unlike njs's, an `r` is made for each handler call (a `node_set`, a header filter, each
 * body filter chunk) and lasts for that call and its awaits: keep state that other handlers of
 * the request need in `r.variables` (`node_var`, `set`), not on `r` and not in module
 * variables, which the worker's requests share.
 */
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
    /** Replaces the arguments (a node_rewrite handler's, typically); beyond njs, where `r.args` is read-only. */
    set args(value: Record<string, string | string[]> | string);
    /** `1.0`, `1.1` or `2.0`. */
    readonly httpVersion: string;
    /** Client address (what `$remote_addr` holds). */
    readonly remoteAddress: string;
    /** Incoming headers, case-insensitive, read-only (repeats joined as nginx and njs do). */
    readonly headersIn: NginxHeadersIn;
    /** Outgoing headers, case-insensitive; writable until the header is sent (see NginxHeadersOut). */
    readonly headersOut: NginxHeadersOut;
    /** incoming headers as sent: `[name, value]` pairs in order, repeats included */
    readonly rawHeadersIn: [string, string][];
    /** outgoing headers: `[name, value]` pairs, repeats included */
    readonly rawHeadersOut: [string, string][];
    /** nginx variables by name, as text (`r.variables.remote_addr`); writable where nginx allows it. */
    readonly variables: NginxVariables;
    /** nginx variables by name, as Buffers. */
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
    /** Makes a subrequest and calls `callback` with its reply (njs's callback form). */
    subrequest(uri: string, options: NginxSubrequestOptions | string | undefined,
        callback: (reply: NginxHTTPRequest) => void): void;
    /** Makes a subrequest and calls `callback` with its reply (njs's callback form). */
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
    /** The names of the `node_var` variables, those starting with `prefix` if given (njs 0.9.9). */
    jsVarNames(prefix?: string): string[];

    /**
     * Reads the request body (honours `client_max_body_size`: nginx answers 413 and the promise
     * rejects); the bytes as text. Beyond njs, as are the other `readRequest*` methods. The body
     * is read once: later calls of any `readRequest*()` resolve from it; a call while a read is
     * in progress throws a TypeError, as in njs.
     */
    readRequestText(): Promise<string>;
    /** Reads the request body and parses it as JSON. */
    readRequestJSON(): Promise<unknown>;
    /** Reads the request body as bytes. */
    readRequestArrayBuffer(): Promise<ArrayBuffer>;
    /**
     * Reads a form body (`application/x-www-form-urlencoded` or `multipart/form-data`) into
     * njs's form object; malformed input rejects with a TypeError. Parsed once: later calls
     * resolve with the same form and ignore their options.
     */
    readRequestForm(options?: NginxRequestFormOptions): Promise<NginxHTTPRequestForm>;
    /** Reads a form body into a WHATWG `FormData`, files with their content (beyond njs). */
    readRequestFormData(): Promise<FormData>;
    /**
     * The request body as text once it has been read, else `undefined`. Different from njs,
     * which reads the body before calling the handler: here `await r.readRequestText()` reads
     * it, or `node_read_request_body on;` reads it first, as njs does.
     */
    readonly requestText: string | undefined;
    /** The request body as a Buffer once it has been read (see `requestText`), else `undefined`. */
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

/**
 * `s.send()`'s options: by default, the flags of the chunk being filtered; after an await (no
 * chunk), not the last, and flushed. On UDP each send with data is one datagram.
 */
export interface NginxStreamSendOptions {
    /** the last data of this direction */
    last?: boolean;
    /** send what is buffered now */
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
    /** nginx variables by name, as text; writable where nginx allows it (`node_var`, `set`). */
    readonly variables: NginxVariables;
    /** nginx variables by name, as Buffers. */
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
    /**
     * Registers a callback for data as Buffers: `upstream` for data from the client,
     * `downstream` for data from the upstream (see the text form). Mixing text and Buffer
     * events in one session is refused, as in njs.
     */
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
 * http and stream handlers alike; each method is atomic across workers. A key is a string of at
 * most 65535 bytes of UTF-8 (another value is converted with `String()`; none is a TypeError).
 */
export interface NgxSharedDict {
    /** the zone's name, as `node_shared_dict_zone zone=NAME:size` gives it */
    readonly name: string;
    /** what values are: `type=string` (the default) or `type=number` */
    readonly type: 'string' | 'number';
    /** the zone's size in bytes */
    readonly capacity: number;
    /** The entry's value, `undefined` if there is none (or it expired). */
    get(key: string): string | number | undefined;
    /** Whether there is an entry (not expired). */
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
    /** Removes every entry. */
    clear(): void;
    /** Free bytes of the zone (whole free pages). */
    freeSpace(): number;
    /** Milliseconds before an entry expires; -1: it does not; `undefined`: there is none. */
    ttl(key: string): number | undefined;
}

/** What a `node_periodic` handler gets: the variables of the block that declares it. */
export interface NginxPeriodicSession {
    /** nginx variables of the declaring block, as text (njs's periodic session has the same). */
    readonly variables: NginxVariables;
    /** nginx variables of the declaring block, as Buffers. */
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
    /** the names of its labels; each observation gives a value for each (or leaves it out) */
    labelNames?: readonly string[];
}

/** A histogram's definition: a metric's, and its buckets. */
export interface NgxHistogramConfiguration extends NgxMetricConfiguration {
    /** upper bounds, increasing (+Inf is implied); prom-client's defaults, seconds, if left out */
    buckets?: readonly number[];
}

/** A counter bound to label values (`counter.labels('GET')`). */
export interface NgxCounterChild {
    /** Adds `value` (1 by default, never negative). */
    inc(value?: number): void;
}

/** Goes up only: requests, bytes, errors. */
export interface NgxCounter {
    /** the metric's name */
    readonly name: string;
    /** Adds `value` (1 by default, never negative). */
    inc(value?: number): void;
    /** Adds `value` (1 by default) to the series of these label values. */
    inc(labels: NgxMetricLabels, value?: number): void;
    /** Label values in the order of the label names, or an object of them. */
    labels(...values: (string | number)[]): NgxCounterChild;
    /** The series of these label values. */
    labels(labels: NgxMetricLabels): NgxCounterChild;
}

/** A gauge bound to label values (`gauge.labels('eu')`). */
export interface NgxGaugeChild {
    /** Replaces the value (for all workers). */
    set(value: number): void;
    /** Adds `value` (1 by default). */
    inc(value?: number): void;
    /** Subtracts `value` (1 by default). */
    dec(value?: number): void;
}

/** Goes up and down. One value for all workers: `set()` replaces it, `inc()` and `dec()` change it. */
export interface NgxGauge {
    /** the metric's name */
    readonly name: string;
    /** Replaces the value (for all workers). */
    set(value: number): void;
    /** Replaces the value of the series of these label values. */
    set(labels: NgxMetricLabels, value: number): void;
    /** Adds `value` (1 by default). */
    inc(value?: number): void;
    /** Adds `value` (1 by default) to the series of these label values. */
    inc(labels: NgxMetricLabels, value?: number): void;
    /** Subtracts `value` (1 by default). */
    dec(value?: number): void;
    /** Subtracts `value` (1 by default) from the series of these label values. */
    dec(labels: NgxMetricLabels, value?: number): void;
    /** Label values in the order of the label names. */
    labels(...values: (string | number)[]): NgxGaugeChild;
    /** The series of these label values. */
    labels(labels: NgxMetricLabels): NgxGaugeChild;
}

/** A histogram bound to label values (`histogram.labels('GET')`). */
export interface NgxHistogramChild {
    /** Counts `value` into its bucket (and the sum and count). */
    observe(value: number): void;
    /** Starts timing; the returned function observes the seconds since and returns them. */
    startTimer(): () => number;
}

/** Counts observations into buckets: latencies, sizes. */
export interface NgxHistogram {
    /** the metric's name */
    readonly name: string;
    /** Counts `value` into its bucket (and the sum and count). */
    observe(value: number): void;
    /** Counts `value` into the series of these label values. */
    observe(labels: NgxMetricLabels, value: number): void;
    /** Starts timing; the returned function observes the seconds since (with these labels) and returns them. */
    startTimer(labels?: NgxMetricLabels): () => number;
    /** Label values in the order of the label names. */
    labels(...values: (string | number)[]): NgxHistogramChild;
    /** The series of these label values. */
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
    /** A counter (defined once; the same definition again returns it). */
    counter(name: string, help?: string, labelNames?: readonly string[]): NgxCounter;
    /** A counter, from prom-client's form of definition. */
    counter(config: NgxMetricConfiguration): NgxCounter;
    /** A gauge (defined once; the same definition again returns it). */
    gauge(name: string, help?: string, labelNames?: readonly string[]): NgxGauge;
    /** A gauge, from prom-client's form of definition. */
    gauge(config: NgxMetricConfiguration): NgxGauge;
    /** A histogram (defined once; the same definition again returns it). */
    histogram(name: string, help?: string, labelNames?: readonly string[], buckets?: readonly number[]): NgxHistogram;
    /** A histogram, from prom-client's form of definition. */
    histogram(config: NgxHistogramConfiguration): NgxHistogram;
}

/** `ngx.fetch()`'s options: njs's, and those of Node's `fetch()` that apply. */
export interface NgxFetchOptions {
    /**
     * The request body: text and bytes go as they are (no `Content-Type` is added, as in
     * njs); `URLSearchParams`, `FormData`, `Blob` as `fetch()` encodes them, with their type.
     */
    body?: RequestInit['body'];
    /** The request's headers, sent as given (an object, pairs, or a `Headers`). */
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
    /** The response's headers, with njs's `getAll()`. */
    readonly headers: NgxFetchHeaders;
}

/** nginx's error_log levels as `ngx.log()` takes them. */
export type NgxLogLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/**
 * The global `ngx` object, in every handler and at a module's top level (njs's `ngx`: its
 * members and level constants; `ngx.fetch` is Node's `fetch`).
 */
export interface NgxObject {
    /** `ngx.log()`'s level for error_log's `info` */
    readonly INFO: 7;
    /** `ngx.log()`'s level for error_log's `warn` */
    readonly WARN: 5;
    /** `ngx.log()`'s level for error_log's `error` */
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
