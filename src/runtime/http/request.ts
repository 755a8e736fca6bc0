/** The `r` object of HTTP handlers. Each member is one call into nginx through the binding. */
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';

import type {
    NginxHeadersIn, NginxHeadersOut, NginxHTTPArgs, NginxHTTPRequest, NginxRawVariables,
    NginxSendBufferOptions, NginxSubrequestOptions, NginxVariables,
} from '../../api';
import { HTTP_OP, native } from '../binding';
import { FETCH_SETTINGS, FetchScoped } from '../fetch/scope';
import { LogLevel, logWorker, toLogMessage } from '../log';
import { awaitHost } from '../pending';
import { abandoned } from './abandoned';
import { rawVariablesView, variablesView } from '../variables';
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
    parsedArgs?: { raw: string; args: NginxHTTPArgs };
    headersIn?: NginxHeadersIn;
    headersOut?: NginxHeadersOut;
    variables?: NginxVariables;
    rawVariables?: NginxRawVariables;
    body?: Buffer;
    bodyRead?: Promise<Buffer>;
}

type ReplyCallback = (reply: NginxHTTPRequest) => void;

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
        this.views ??= {};
        return this.views;
    }

    private responding(what: string): void {
        if (!this.mayRespond) {
            throw new Error(`r.${what}() is not available in ${this.subject}: content, access and rewrite handlers respond`);
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

    get method(): string {
        return native(this.handle, HTTP_OP.method) as string;
    }

    get uri(): string {
        return native(this.handle, HTTP_OP.uri) as string;
    }

    set uri(uri: string) {
        if (typeof uri !== 'string') throw new TypeError('r.uri: a path starting with "/"');
        native(this.handle, HTTP_OP.setUri, uri);
    }

    get args(): NginxHTTPArgs {
        const raw = native(this.handle, HTTP_OP.args) as string;
        const lazy = this.lazy;
        if (lazy.parsedArgs?.raw !== raw) {
            lazy.parsedArgs = { raw, args: Object.freeze({ ...parseQuery(raw) }) as NginxHTTPArgs };
        }
        return lazy.parsedArgs.args;
    }

    set args(value: Record<string, string | string[]> | string) {
        native(this.handle, HTTP_OP.setArgs, typeof value === 'string' ? value : stringifyQuery(value));
    }

    get httpVersion(): string {
        return native(this.handle, HTTP_OP.httpVersion) as string;
    }

    get remoteAddress(): string {
        return native(this.handle, HTTP_OP.remoteAddress) as string;
    }

    get headersIn(): NginxHeadersIn {
        const lazy = this.lazy;
        lazy.headersIn ??= headersInView(native(this.handle, HTTP_OP.headersIn) as string[] ?? []);
        return lazy.headersIn;
    }

    get rawHeadersIn(): [string, string][] {
        return pairs(native(this.handle, HTTP_OP.headersIn) as string[] | undefined);
    }

    get headersOut(): NginxHeadersOut {
        const lazy = this.lazy;
        lazy.headersOut ??= headersOutView({
            get: (name) => native(this.handle, HTTP_OP.headerOutGet, name) as string | string[] | undefined,
            set: (name, values) => {
                if (values.length === 0) {
                    native(this.handle, HTTP_OP.headerOutSet, name);
                }
                values.forEach((value, i) => native(this.handle, HTTP_OP.headerOutSet, name, value, i > 0));
            },
            names: () => {
                const seen = new Map<string, string>();
                for (const [name] of this.rawHeadersOut) {
                    if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), name);
                }
                return [...seen.values()];
            },
        });
        return lazy.headersOut;
    }

    get rawHeadersOut(): [string, string][] {
        return pairs(native(this.handle, HTTP_OP.headersOut) as string[] | undefined);
    }

    get variables(): NginxVariables {
        const lazy = this.lazy;
        lazy.variables ??= variablesView({
            get: (name) => native(this.handle, HTTP_OP.variable, name) as string | undefined,
            set: (name, value) => {
                native(this.handle, HTTP_OP.setVariable, name, value);
            },
        });
        return lazy.variables;
    }

    get rawVariables(): NginxRawVariables {
        const lazy = this.lazy;
        lazy.rawVariables ??= rawVariablesView((name) => native(this.handle, HTTP_OP.variable, name, true) as Buffer | undefined);
        return lazy.rawVariables;
    }

    get parent(): NginxHTTPRequest | undefined {
        const handle = native(this.handle, HTTP_OP.parent) as number | undefined;
        return handle === undefined ? undefined : new HttpRequest(handle, `${this.subject} (parent request)`, false);
    }

    get internal(): boolean {
        return native(this.handle, HTTP_OP.internal) as boolean;
    }

    get status(): number {
        return native(this.handle, HTTP_OP.status) as number;
    }

    set status(status: number) {
        native(this.handle, HTTP_OP.setStatus, checkStatus(status));
    }

    return(status: number, body?: string | Uint8Array): void {
        this.responding('return');
        native(this.handle, HTTP_OP.return, checkStatus(status), body === undefined || body === null ? undefined : toBody(body));
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
        const opts: NginxSubrequestOptions = typeof options === 'string' ? { args: options } : options ?? {};
        const body = opts.body === undefined ? undefined : toBody(opts.body);
        if (opts.detached) {
            native(this.handle, HTTP_OP.subrequest, uri, opts.args, opts.method, body, true);
            return;
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

    private readBody(): Promise<Buffer> {
        const lazy = this.lazy;
        lazy.bodyRead ??= awaitHost((token) => native(this.handle, HTTP_OP.readBody, token)).then((bytes) => {
            lazy.body = bytes as Buffer;
            return lazy.body;
        });
        return lazy.bodyRead;
    }

    async readRequestText(): Promise<string> {
        return (await this.readBody()).toString('utf8');
    }

    async readRequestJSON(): Promise<unknown> {
        return JSON.parse((await this.readBody()).toString('utf8')) as unknown;
    }

    async readRequestArrayBuffer(): Promise<ArrayBuffer> {
        const body = await this.readBody();
        return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    }

    async readRequestForm(): Promise<FormData> {
        const body = await this.readBody();
        const type = this.headersIn['content-type'] ?? 'application/x-www-form-urlencoded';
        return new Response(body, { headers: { 'content-type': type } }).formData();
    }

    /** The body once read (or read before the handler with node_read_request_body on). */
    get requestBuffer(): Buffer | undefined {
        const lazy = this.lazy;
        lazy.body ??= native(this.handle, HTTP_OP.requestBody) as Buffer | undefined;
        return lazy.body;
    }

    get requestText(): string | undefined {
        return this.requestBuffer?.toString('utf8');
    }

    logAt(level: number, message: unknown): void {
        native(this.handle, HTTP_OP.log, level, toLogMessage(message));
    }

    log(message: unknown): void {
        this.logAt(LogLevel.INFO, message);
    }

    warn(message: unknown): void {
        this.logAt(LogLevel.WARN, message);
    }

    error(message: unknown): void {
        this.logAt(LogLevel.ERR, message);
    }
}

function checkStatus(status: unknown): number {
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 999) {
        throw new RangeError(`HTTP status must be an integer from 0 to 999 (got ${String(status)})`);
    }
    return status;
}

export function toBody(data: unknown): string | Uint8Array {
    if (typeof data === 'string' || data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return String(data);
}
