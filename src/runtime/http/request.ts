/** The `r` object of HTTP handlers. Each member is one call into nginx through the binding. */
import { stringify as stringifyQuery } from 'node:querystring';

import type {
    NginxHeadersIn, NginxHeadersOut, NginxHTTPArgs, NginxHTTPRequest, NginxHTTPRequestForm, NginxRawVariables,
    NginxSendBufferOptions, NginxSubrequestOptions, NginxVariables,
} from '../../api';
import { HTTP_OP, native } from '../binding';
import { FETCH_SETTINGS, FetchScoped } from '../fetch/scope';
import { LogLevel, logWorker, scriptLine, toLogMessage } from '../log';
import { awaitHost } from '../pending';
import { abandoned } from './abandoned';
import { argsView } from './args';
import { rawVariablesView, VariableOps, variablesView } from '../variables';
import { maxKeysOption, parseForm } from './form';
import { headersInView, headersOutView } from './headers';

/** How the request's handler relates to its response, for deciding when the request is done. */
export const enum Phase {
    /** the handler's synchronous part is running */
    Running,
    /** the handler returned a promise: its settling ends the request */
    Awaiting,
    /** the handler returned without ending the response: r.return(), r.finish() or
     *  r.internalRedirect() ends it later (njs style) */
    Callback,
    /** the request was reported done */
    Done,
}

export const enum Outcome {
    Ok = 0,
    Error = 1,
}

/** What a request builds on first use; most requests never need it. */
interface RequestViews {
    /** the request's */
    readonly handle: number;
    args?: NginxHTTPArgs;
    /** the query string, as this call last read or set it */
    query?: string;
    headersIn?: NginxHeadersIn;
    headersOut?: NginxHeadersOut;
    variables?: NginxVariables;
    rawVariables?: NginxRawVariables;
    body?: Buffer;
    /** a readRequest*() in progress */
    bodyRead?: Promise<Buffer>;
    form?: NginxHTTPRequestForm;
}

type ReplyCallback = (reply: NginxHTTPRequest) => void;

/**
 * The r of the handlers that made subrequests, by handle: a reply's `parent` is that very
 * object, as in njs, so that responding through it ends the handler's request. Weak: the
 * request's `r` must still become unreachable when nothing else refers to it.
 */
const parents = new Map<number, WeakRef<HttpRequest>>();
const parentGone = new FinalizationRegistry<number>((handle) => {
    if (parents.get(handle)?.deref() === undefined) parents.delete(handle);
});

function pairs(flat: string[] | undefined): [string, string][] {
    const list: [string, string][] = [];
    for (let i = 0; flat && i + 1 < flat.length; i += 2) list.push([flat[i], flat[i + 1]]);
    return list;
}

export class HttpRequest implements NginxHTTPRequest, FetchScoped {
    phase = Phase.Running;
    /** r.return(), r.finish(), r.internalRedirect() or r.decline() was called */
    ended = false;
    /** r.setReturnValue() */
    returnValue: string | Uint8Array | number | undefined = undefined;
    private views: RequestViews | undefined = undefined;

    /** `directive "module.fn"`: names the handler in messages */
    constructor(readonly handle: number, readonly subject: string, private readonly mayRespond: boolean) {}

    /** the request's location's ngx.fetch settings */
    [FETCH_SETTINGS](): number {
        return native(this.handle, HTTP_OP.fetch) as number;
    }

    private get lazy(): RequestViews {
        this.views ??= { handle: this.handle };
        return this.views;
    }

    private responding(what: string): void {
        if (!this.mayRespond) {
            throw new TypeError(`r.${what}() is not available in ${this.subject}: content, access and rewrite handlers respond`);
        }
    }

    /** The response has ended: a handler that already returned is now done. */
    private end(): void {
        this.ended = true;
        if (this.phase === Phase.Callback) {
            abandoned.forget(this, this.handle);
            this.report(Outcome.Ok);
        }
    }

    /** The handler returned without ending the response: it may end it later (njs style). */
    awaitCallback(): void {
        this.phase = Phase.Callback;
        abandoned.watch(this, this.handle, this.subject);
    }

    report(outcome: Outcome): void {
        if (this.phase === Phase.Done) return;
        this.phase = Phase.Done;
        native(this.handle, HTTP_OP.done, outcome);
    }

    get [Symbol.toStringTag](): string {
        return 'Request';
    }

    /** JSON.stringify(r) shows what njs shows: the request's data, not the object's workings. */
    toJSON(): Record<string, unknown> {
        return {
            status: this.status, args: this.args, internal: this.internal, headersOut: this.headersOut,
            httpVersion: this.httpVersion, remoteAddress: this.remoteAddress, method: this.method,
            requestText: this.requestText, responseText: this.responseText, uri: this.uri, headersIn: this.headersIn,
        };
    }

    get method(): string {
        return native(this.handle, HTTP_OP.method) as string;
    }

    get uri(): string {
        return native(this.handle, HTTP_OP.uri) as string;
    }

    set uri(uri: string) {
        if (typeof uri !== 'string') throw new TypeError('r.uri: a path starting with "/"');
        native(this.handle, HTTP_OP.setUri, uri);
        this.lazy.query = undefined;
    }

    get args(): NginxHTTPArgs {
        const lazy = this.lazy;
        lazy.args ??= argsView(lazy);
        return lazy.args;
    }

    set args(value: Record<string, string | string[]> | string) {
        native(this.handle, HTTP_OP.setArgs, typeof value === 'string' ? value : stringifyQuery(value));
        this.lazy.query = undefined;
    }

    get httpVersion(): string {
        return native(this.handle, HTTP_OP.httpVersion) as string;
    }

    get remoteAddress(): string {
        return native(this.handle, HTTP_OP.remoteAddress) as string;
    }

    get headersIn(): NginxHeadersIn {
        const lazy = this.lazy;
        lazy.headersIn ??= headersInView(this.handle);
        return lazy.headersIn;
    }

    get rawHeadersIn(): [string, string][] {
        return pairs(native(this.handle, HTTP_OP.headersIn) as string[] | undefined);
    }

    get headersOut(): NginxHeadersOut {
        const lazy = this.lazy;
        lazy.headersOut ??= headersOutView(this.handle);
        return lazy.headersOut;
    }

    get rawHeadersOut(): [string, string][] {
        return pairs(native(this.handle, HTTP_OP.headersOut) as string[] | undefined);
    }

    private variableOps(): VariableOps {
        return { handle: this.handle, read: HTTP_OP.variable, write: HTTP_OP.setVariable };
    }

    get variables(): NginxVariables {
        const lazy = this.lazy;
        lazy.variables ??= variablesView(this.variableOps());
        return lazy.variables;
    }

    get rawVariables(): NginxRawVariables {
        const lazy = this.lazy;
        lazy.rawVariables ??= rawVariablesView(this.variableOps());
        return lazy.rawVariables;
    }

    get parent(): NginxHTTPRequest | undefined {
        const handle = native(this.handle, HTTP_OP.parent) as number | undefined;
        if (handle === undefined) return undefined;
        return parents.get(handle)?.deref() ?? new HttpRequest(handle, `${this.subject} (parent request)`, false);
    }

    get internal(): boolean {
        return native(this.handle, HTTP_OP.internal) as boolean;
    }

    get status(): number {
        return native(this.handle, HTTP_OP.status) as number;
    }

    set status(status: number) {
        native(this.handle, HTTP_OP.setStatus, checkStatus('r.status', status));
    }

    return(status: number, body?: string | Uint8Array): void {
        this.responding('return');
        native(this.handle, HTTP_OP.return, checkStatus('r.return(status)', status),
            body === undefined || body === null ? undefined : toBody(body));
        this.end();
    }

    sendHeader(): void {
        this.responding('sendHeader');
        native(this.handle, HTTP_OP.sendHeader);
    }

    send(data: string | Uint8Array): void {
        this.responding('send');
        native(this.handle, HTTP_OP.send, toBody(data), false);
    }

    finish(): void {
        this.responding('finish');
        native(this.handle, HTTP_OP.finish);
        this.end();
    }

    internalRedirect(uri: string): void {
        this.responding('internalRedirect');
        if (typeof uri !== 'string' || uri === '') {
            throw new TypeError('r.internalRedirect(uri): uri must be a non-empty string');
        }
        native(this.handle, HTTP_OP.internalRedirect, uri);
        this.end();
    }

    decline(): void {
        this.responding('decline');
        native(this.handle, HTTP_OP.decline);
        this.end();
    }

    subrequest(uri: string, options?: NginxSubrequestOptions | string): Promise<NginxHTTPRequest>;
    subrequest(uri: string, options: NginxSubrequestOptions | string | undefined, callback: ReplyCallback): void;
    subrequest(uri: string, callback: ReplyCallback): void;
    subrequest(uri: string, options?: NginxSubrequestOptions | string | ReplyCallback,
        callback?: ReplyCallback): Promise<NginxHTTPRequest> | void {
        if (typeof options === 'function') {
            callback = options;
            options = undefined;
        }
        const opts = subrequestOptions(uri, options, callback);
        const body = opts.body === undefined ? undefined : toBody(opts.body);
        if (opts.detached) {
            native(this.handle, HTTP_OP.subrequest, uri, opts.args, opts.method, body, true);
            return;
        }
        if (parents.get(this.handle)?.deref() !== this) {
            parents.set(this.handle, new WeakRef(this));
            parentGone.register(this, this.handle);
        }
        const reply = awaitHost((token) => native(this.handle, HTTP_OP.subrequest, uri, opts.args, opts.method, body, false, token))
            .then((handle) => new HttpRequest(handle as number, `subrequest "${uri}" of ${this.subject}`, false));
        if (callback !== undefined) {
            const done = callback;
            reply.then((r) => done(r)).catch((error: unknown) => {
                logWorker(LogLevel.ERR, `${this.subject}: subrequest "${uri}" callback failed: ${toLogMessage(error)}`);
            });
            return;
        }
        return reply;
    }

    get responseBuffer(): Buffer | undefined {
        return native(this.handle, HTTP_OP.responseBody) as Buffer | undefined;
    }

    get responseText(): string | undefined {
        return this.responseBuffer?.toString('utf8');
    }

    sendBuffer(data: string | Uint8Array, options?: NginxSendBufferOptions): void {
        native(this.handle, HTTP_OP.sendBuffer, toBody(data ?? ''), options?.last, options?.flush);
    }

    done(): void {
        native(this.handle, HTTP_OP.filterDone);
    }

    setReturnValue(value: string | Uint8Array | number): void {
        this.returnValue = value;
    }

    jsVarNames(prefix?: string): string[] {
        if (prefix !== undefined && typeof prefix !== 'string') {
            throw new TypeError('r.jsVarNames(prefix): prefix must be a string');
        }
        const names = native(this.handle, HTTP_OP.varNames) as string[] | undefined ?? [];
        return prefix === undefined ? names : names.filter((name) => name.startsWith(prefix));
    }

    /**
     * The body, read once: a read in progress makes another call throw (as in njs), a body
     * already read (also with node_read_request_body on) resolves at once.
     */
    private readBody(what: string): Promise<Buffer> {
        const lazy = this.lazy;
        const body = this.bodyIfRead;
        if (body !== undefined) return Promise.resolve(body);
        if (lazy.bodyRead !== undefined) {
            throw new TypeError(`r.${what}(): request body is already being read; await the read in progress ` +
                '(once it is done, every readRequest*() resolves with the body at once)');
        }
        const read = awaitHost((token) => native(this.handle, HTTP_OP.readBody, token));
        lazy.bodyRead = read.then((bytes) => {
            lazy.body = bytes as Buffer;
            return lazy.body;
        }).finally(() => {
            lazy.bodyRead = undefined;
        });
        return lazy.bodyRead;
    }

    readRequestText(): Promise<string> {
        return this.readBody('readRequestText').then((body) => body.toString('utf8'));
    }

    readRequestJSON(): Promise<unknown> {
        return this.readBody('readRequestJSON').then((body) => JSON.parse(body.toString('utf8')) as unknown);
    }

    readRequestArrayBuffer(): Promise<ArrayBuffer> {
        return this.readBody('readRequestArrayBuffer')
            .then((body) => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
    }

    readRequestForm(options?: unknown): Promise<NginxHTTPRequestForm> {
        const maxKeys = maxKeysOption(options);
        const lazy = this.lazy;
        if (lazy.form !== undefined) return Promise.resolve(lazy.form);
        return this.readBody('readRequestForm').then((body) => {
            lazy.form ??= parseForm(this.headersIn['content-type'], body, maxKeys);
            return lazy.form;
        });
    }

    async readRequestFormData(): Promise<FormData> {
        const body = await this.readBody('readRequestFormData');
        const type = this.headersIn['content-type'] ?? 'application/x-www-form-urlencoded';
        return new Response(body, { headers: { 'content-type': type } }).formData();
    }

    /** The body if it was read (empty if there is none), else undefined. */
    private get bodyIfRead(): Buffer | undefined {
        const lazy = this.lazy;
        lazy.body ??= native(this.handle, HTTP_OP.requestBody) as Buffer | undefined;
        return lazy.body;
    }

    /**
     * The body once read (or read before the handler with node_read_request_body on);
     * undefined for an empty body, as in njs.
     */
    get requestBuffer(): Buffer | undefined {
        const body = this.bodyIfRead;
        return body?.length ? body : undefined;
    }

    get requestText(): string | undefined {
        return this.requestBuffer?.toString('utf8');
    }

    logAt(level: number, message: unknown): void {
        native(this.handle, HTTP_OP.log, level, toLogMessage(message));
    }

    log(message: unknown): void {
        this.logAt(LogLevel.INFO, scriptLine(message));
    }

    warn(message: unknown): void {
        this.logAt(LogLevel.WARN, scriptLine(message));
    }

    error(message: unknown): void {
        this.logAt(LogLevel.ERR, scriptLine(message));
    }
}

/** A status as njs takes it: a number (TypeError otherwise), 0 to 999 (RangeError otherwise). */
function checkStatus(what: string, status: unknown): number {
    if (typeof status !== 'number' || Number.isNaN(status)) {
        throw new TypeError(`${what}: an HTTP status is a number (got ${typeof status === 'number' ? 'NaN' : typeof status})`);
    }
    const code = Math.trunc(status);
    if (code < 0 || code > 999) {
        throw new RangeError(`${what}: an HTTP status is from 0 to 999 (got ${status})`);
    }
    return code;
}

/** r.subrequest()'s arguments, checked as njs checks them (a TypeError, thrown at once). */
function subrequestOptions(uri: unknown, options: unknown, callback: unknown): NginxSubrequestOptions {
    if (typeof uri !== 'string' || uri === '') {
        throw new TypeError('r.subrequest(uri): uri is a non-empty string ("/path?args")');
    }
    if (callback !== undefined && typeof callback !== 'function') {
        throw new TypeError(`r.subrequest(${JSON.stringify(uri)}, options, callback): callback is not a function`);
    }
    if (options === undefined || options === null) return {};
    if (typeof options === 'string') return { args: options };
    if (typeof options !== 'object') {
        throw new TypeError(`r.subrequest(${JSON.stringify(uri)}, options): options are a query string or ` +
            '{ args, method, body, detached }');
    }
    const opts = options as NginxSubrequestOptions;
    if (opts.detached && callback !== undefined) {
        throw new TypeError(`r.subrequest(${JSON.stringify(uri)}): detached and a callback exclude each other ` +
            '(a detached subrequest has no reply)');
    }
    return opts;
}

export function toBody(data: unknown): string | Uint8Array {
    if (typeof data === 'string' || data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return String(data);
}
