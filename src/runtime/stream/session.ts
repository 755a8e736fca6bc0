/**
 * The `s` object of stream handlers: one per TCP connection or UDP session, the same for all
 * of its handlers (access, preread, node_set, filter), so per-session state may live on it
 * (or in a WeakMap keyed by it). Names and semantics are njs's.
 */
import type {
    NginxRawVariables, NginxStreamCallbackFlags, NginxStreamEventCallback, NginxStreamSendOptions,
    NginxStreamSession, NginxVariables,
} from '../../api';
import { native, STREAM_OP } from '../binding';
import { FETCH_SETTINGS, FetchScoped } from '../fetch/scope';
import { LogLevel, scriptLine, toLogMessage } from '../log';
import { rawVariablesView, VariableOps, variablesView } from '../variables';
import { ChunkText, textSoFar } from './chunk-text';

/** nginx's codes for s.decide: s.allow() and s.done(), s.decline(), s.deny(), a failure */
const OK = 0;
const DECLINED = -5;
const FORBIDDEN = 403;
const ERROR = -1;

/** what a direction's callback takes, for nginx (NGX_STREAM_NODE_LISTENER_*) */
const NO_LISTENER = 0;
const TAKES_BUFFERS = 1;
const TAKES_STRINGS = 2;

/** s.send()'s direction: the chunk's (or the one direction that waits), upstream, client */
const ITS_OWN = -1;
const TO_UPSTREAM = 0;
const TO_CLIENT = 1;

type EventName = 'upload' | 'download' | 'upstream' | 'downstream';

/** upload/upstream: data from the client (index 0); download/downstream: from the upstream */
const events: Record<EventName, { direction: 0 | 1; bytes: boolean }> = {
    upload: { direction: 0, bytes: false },
    download: { direction: 1, bytes: false },
    upstream: { direction: 0, bytes: true },
    downstream: { direction: 1, bytes: true },
};

/** A callback as the runtime calls it: with the data in the kind its event gives. */
type Callback = (data: string | Buffer, flags: NginxStreamCallbackFlags) => unknown;

interface Listener {
    name: EventName;
    callback: Callback;
    bytes: boolean;
    /** string events: the text of the direction's chunks */
    text?: ChunkText;
}

function eventOf(name: unknown): { direction: 0 | 1; bytes: boolean } {
    if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(events, name)) {
        throw new TypeError(`unknown event "${String(name)}": upload, download, upstream or downstream`);
    }
    return events[name as EventName];
}

/** Data from nginx for a Buffer listener: ASCII the bridge gave as a string, as bytes again. */
function bytesOf(data: string | Buffer): Buffer {
    return typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
}

function toBytes(data: unknown): string | Uint8Array {
    if (data === undefined || data === null) return '';
    if (typeof data === 'string' || data instanceof Uint8Array) return data;
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return String(data);
}

export class StreamSession implements NginxStreamSession, FetchScoped {
    /** a decision was made in the phase round under way */
    decided = false;
    /** the phase handler returned a promise that has not settled */
    awaiting = false;
    /** node_filter's function ran: s.send() works, s.allow() and the like do not */
    filtering = false;
    /** the chunk whose callback runs now: s.send() takes its flags by default */
    chunk: NginxStreamCallbackFlags | undefined = undefined;
    readonly listeners: [Listener | undefined, Listener | undefined] = [undefined, undefined];
    private returnValue: string | Uint8Array | number | undefined = undefined;
    private variablesView?: NginxVariables;
    private rawVariablesView?: NginxRawVariables;

    constructor(readonly handle: number) {}

    /** the session's server's ngx.fetch settings */
    [FETCH_SETTINGS](): number {
        return native(this.handle, STREAM_OP.fetch) as number;
    }

    /** A phase (access, preread) starts: undecided. */
    beginRound(): void {
        this.decided = false;
        this.awaiting = false;
    }

    get remoteAddress(): string {
        return native(this.handle, STREAM_OP.remoteAddress) as string;
    }

    /** `$status`: 0 until the session ends. */
    get status(): number {
        return native(this.handle, STREAM_OP.status) as number;
    }

    private variableOps(): VariableOps {
        return { handle: this.handle, read: STREAM_OP.variable, write: STREAM_OP.setVariable };
    }

    get variables(): NginxVariables {
        this.variablesView ??= variablesView(this.variableOps());
        return this.variablesView;
    }

    get rawVariables(): NginxRawVariables {
        this.rawVariablesView ??= rawVariablesView(this.variableOps());
        return this.rawVariablesView;
    }

    private decide(verb: string, code: number, given: unknown): void {
        if (this.filtering) {
            throw new TypeError(`s.${verb}() should not be called while filtering`);
        }
        if (given !== undefined) {
            if (typeof given !== 'number' || !Number.isFinite(given)) {
                throw new TypeError(`s.${verb}(code): code must be a number`);
            }
            code = Math.trunc(given);
            if (code < -6 || code > 503) throw new RangeError(`s.${verb}(code): code is out of range`);
        }
        this.endRound(code);
    }

    /** A decision ends the round: what waited for data no longer does (nginx forgets it too). */
    private endRound(code: number): void {
        this.listeners[0] = undefined;
        this.listeners[1] = undefined;
        this.decided = true;
        native(this.handle, STREAM_OP.decide, code);
    }

    /** Lets the session go on to the next phase. */
    allow(code?: number): void {
        this.decide('allow', OK, code);
    }

    /** Ends the session with 403. */
    deny(code?: number): void {
        this.decide('deny', FORBIDDEN, code);
    }

    /** Leaves the decision to the phase's next handler. */
    decline(code?: number): void {
        this.decide('decline', DECLINED, code);
    }

    /** Like allow(); with a code, ends the session with that status (or declines with -5). */
    done(code?: number): void {
        this.decide('done', OK, code);
    }

    /** A failure ended the round: the session closes with 500. */
    fail(): void {
        this.endRound(ERROR);
    }

    on(name: EventName, callback: NginxStreamEventCallback): void {
        const { direction, bytes } = eventOf(name);
        if (typeof callback !== 'function') throw new TypeError('s.on(event, callback): callback is not a function');
        const other = this.listeners[1 - direction];
        if (other !== undefined && other.bytes !== bytes) {
            throw new TypeError('mixing string and buffer events is not allowed');
        }
        if (this.listeners[direction] !== undefined) {
            throw new TypeError(`event handler "${this.listeners[direction]!.name}" is already set; call s.off() first`);
        }
        this.listen(direction, {
            name, callback: callback as Callback, bytes, text: bytes ? undefined : new ChunkText(),
        });
    }

    off(event: EventName): void {
        const { direction } = eventOf(event);
        // a character cut at the end of the callback's last chunk: its first bytes were given to
        // no callback (they wait for the rest); they go on ahead of the chunks that now pass
        const held = this.filtering ? this.listeners[direction]?.text?.held() : undefined;
        this.listen(direction, undefined);
        if (held !== undefined && held.length > 0) this.sendTo(direction === 1 ? TO_CLIENT : TO_UPSTREAM, held, undefined);
    }

    /** A direction's callback, and what nginx gives it (nothing: its chunks pass as they are). */
    private listen(direction: 0 | 1, listener: Listener | undefined): void {
        native(this.handle, STREAM_OP.listen, direction === 1,
            listener === undefined ? NO_LISTENER : listener.bytes ? TAKES_BUFFERS : TAKES_STRINGS);
        this.listeners[direction] = listener;
    }

    /** The data of a chunk as its listener takes it: a Buffer, or text (ASCII comes as text). */
    static data(listener: Listener, data: string | Buffer, last: boolean): string | Buffer {
        if (listener.bytes) return bytesOf(data);
        return listener.text!.next(data, last);
    }

    /** All the data read so far (preread) as its listener takes it. */
    static dataSoFar(listener: Listener, data: string | Buffer): string | Buffer {
        if (listener.bytes) return bytesOf(data);
        return typeof data === 'string' ? data : textSoFar(data);
    }

    /**
     * The direction whose last chunk `data` is the text of, unchanged, among those it may go to
     * (`direction`, or the chunk's being called, or either): 0, 1, or -1 (none).
     */
    private chunkOf(data: string, direction: number): number {
        const own = direction !== ITS_OWN ? direction : this.chunk === undefined ? -1 : this.chunk.from_upstream ? 1 : 0;
        if (own >= 0) return this.listeners[own]?.text?.isChunk(data) ? own : -1;
        if (this.listeners[0]?.text?.isChunk(data)) return 0;
        return this.listeners[1]?.text?.isChunk(data) ? 1 : -1;
    }

    private sendTo(direction: number, data: unknown, options: NginxStreamSendOptions | undefined): void {
        if (!this.filtering) {
            throw new TypeError('s.send(): only in node_filter\'s callbacks (nothing is sent from access, preread or node_set)');
        }
        const chunk = this.chunk;
        const last = Boolean(options?.last ?? chunk?.last ?? false);
        // (after an await too: a UDP datagram goes out at a flush, and without one the writer
        // would keep it, or, to the client, refuse it)
        const flush = Boolean(options?.flush ?? true);
        if (typeof data === 'string') {
            // a chunk's text sent on unchanged, to its own direction: the chunk itself goes
            const from = this.chunkOf(data, direction);
            if (from >= 0 && native(this.handle, STREAM_OP.forward, from === 1, last, flush, direction === ITS_OWN) === true) {
                return;
            }
        }
        native(this.handle, STREAM_OP.send, toBytes(data), last, flush, direction);
    }

    /**
     * Sends data on in place of the chunk being filtered (in its direction), or, after an await,
     * in the direction of the callback that waits; `from_upstream` names the direction.
     */
    send(data: string | Uint8Array, options?: NginxStreamSendOptions): void {
        const direction = typeof options?.from_upstream === 'boolean'
            ? (options.from_upstream ? TO_CLIENT : TO_UPSTREAM) : ITS_OWN;
        this.sendTo(direction, data, options);
    }

    /** Sends data to the upstream, at once. */
    sendUpstream(data: string | Uint8Array, options?: NginxStreamSendOptions): void {
        this.sendTo(TO_UPSTREAM, data, options);
    }

    /** Sends data to the client, at once. */
    sendDownstream(data: string | Uint8Array, options?: NginxStreamSendOptions): void {
        this.sendTo(TO_CLIENT, data, options);
    }

    setReturnValue(value: string | Uint8Array | number): void {
        this.returnValue = value;
    }

    /** What setReturnValue() gave, once. */
    takeReturnValue(): string | Uint8Array | number | undefined {
        const value = this.returnValue;
        this.returnValue = undefined;
        return value;
    }

    logAt(level: number, message: unknown): void {
        native(this.handle, STREAM_OP.log, level, toLogMessage(message));
    }

    /** Each argument is a line of its own, as in njs. */
    log(...messages: unknown[]): void {
        for (const message of messages) this.logAt(LogLevel.INFO, scriptLine(message));
    }

    warn(...messages: unknown[]): void {
        for (const message of messages) this.logAt(LogLevel.WARN, scriptLine(message));
    }

    error(...messages: unknown[]): void {
        for (const message of messages) this.logAt(LogLevel.ERR, scriptLine(message));
    }
}
