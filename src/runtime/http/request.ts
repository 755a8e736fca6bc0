/** The `r` object of HTTP handlers. Each member is one call into nginx through the binding. */
import { parse as parseQuery } from 'node:querystring';

import type {
    NginxHeadersIn, NginxHeadersOut, NginxHTTPArgs, NginxHTTPRequest, NginxVariables,
} from '../../api';
import { HostValue, HTTP_OP, HttpOp, native } from '../binding';
import { LogLevel, toLogMessage } from '../log';
import { awaitHost } from '../pending';
import { headersInView, headersOutView, variablesView } from './headers';

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

export class HttpRequest implements NginxHTTPRequest {
    phase = Phase.Running;
    /** r.return(), r.finish() or r.internalRedirect() was called */
    ended = false;
    private parsedArgs?: { raw: string; args: NginxHTTPArgs };
    private headersInCache?: NginxHeadersIn;
    private headersOutCache?: NginxHeadersOut;
    private variablesCache?: NginxVariables;
    private body?: Buffer;
    private bodyRead?: Promise<Buffer>;

    /** `directive "module.fn"`: names the handler in messages */
    constructor(readonly handle: number, readonly subject: string, private readonly mayRespond: boolean) {}

    private call(op: HttpOp, ...args: HostValue[]): unknown {
        return native(this.handle, HTTP_OP[op], ...args);
    }

    private responding(what: string): void {
        if (!this.mayRespond) {
            throw new Error(`r.${what}() is not available in ${this.subject}: only content handlers respond`);
        }
    }

    /** The response has ended: a handler that already returned is now done. */
    private end(): void {
        this.ended = true;
        if (this.phase === Phase.Callback) this.done(Outcome.Ok);
    }

    done(outcome: Outcome): void {
        if (this.phase === Phase.Done) return;
        this.phase = Phase.Done;
        this.call('done', outcome);
    }

    get method(): string {
        return this.call('method') as string;
    }

    get uri(): string {
        return this.call('uri') as string;
    }

    get args(): NginxHTTPArgs {
        const raw = this.call('args') as string;
        if (this.parsedArgs?.raw !== raw) {
            this.parsedArgs = { raw, args: Object.freeze({ ...parseQuery(raw) }) as NginxHTTPArgs };
        }
        return this.parsedArgs.args;
    }

    get httpVersion(): string {
        return this.call('httpVersion') as string;
    }

    get remoteAddress(): string {
        return this.call('remoteAddress') as string;
    }

    get headersIn(): NginxHeadersIn {
        this.headersInCache ??= headersInView(this.call('headersIn') as string[] ?? []);
        return this.headersInCache;
    }

    get headersOut(): NginxHeadersOut {
        this.headersOutCache ??= headersOutView({
            get: (name) => this.call('headerOutGet', name) as string | string[] | undefined,
            set: (name, values) => {
                if (values.length === 0) {
                    this.call('headerOutSet', name);
                }
                values.forEach((value, i) => this.call('headerOutSet', name, value, i > 0));
            },
            names: () => {
                const pairs = (this.call('headersOut') as string[] | undefined) ?? [];
                const seen = new Map<string, string>();
                for (let i = 0; i < pairs.length; i += 2) {
                    if (!seen.has(pairs[i].toLowerCase())) seen.set(pairs[i].toLowerCase(), pairs[i]);
                }
                return [...seen.values()];
            },
        });
        return this.headersOutCache;
    }

    get variables(): NginxVariables {
        this.variablesCache ??= variablesView({
            get: (name) => this.call('variable', name) as string | undefined,
            set: (name, value) => {
                this.call('setVariable', name, value);
            },
        });
        return this.variablesCache;
    }

    get status(): number {
        return this.call('status') as number;
    }

    set status(status: number) {
        this.call('setStatus', checkStatus(status));
    }

    return(status: number, body?: string | Uint8Array): void {
        this.responding('return');
        this.call('return', checkStatus(status), body === undefined || body === null ? undefined : toBody(body));
        this.end();
    }

    sendHeader(): void {
        this.responding('sendHeader');
        this.call('sendHeader');
    }

    send(data: string | Uint8Array): void {
        this.responding('send');
        this.call('send', toBody(data), false);
    }

    finish(): void {
        this.responding('finish');
        this.call('finish');
        this.end();
    }

    internalRedirect(uri: string): void {
        this.responding('internalRedirect');
        if (typeof uri !== 'string' || uri === '') {
            throw new TypeError('r.internalRedirect(uri): uri must be a non-empty string');
        }
        this.call('internalRedirect', uri);
        this.end();
    }

    private readBody(): Promise<Buffer> {
        this.bodyRead ??= awaitHost((token) => this.call('readBody', token)).then((bytes) => {
            this.body = bytes as Buffer;
            return this.body;
        });
        return this.bodyRead;
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

    get requestText(): string | undefined {
        return this.body?.toString('utf8');
    }

    get requestBuffer(): Buffer | undefined {
        return this.body;
    }

    logAt(level: number, message: unknown): void {
        this.call('log', level, toLogMessage(message));
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

function toBody(data: unknown): string | Uint8Array {
    if (typeof data === 'string' || data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return String(data);
}
