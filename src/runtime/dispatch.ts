/**
 * Calling handlers for nginx. The bridge calls dispatch(kind, handler, handle, arg, flags)
 * inside a callback scope, so promise reactions of a handler that settles at once run
 * before nginx looks at the request again, and such a request goes on without suspending.
 */
import { HTTP_OP, native } from './binding';
import { HandlerConf, where } from './config';
import { HttpRequest, Outcome, Phase, toBody } from './http/request';
import type { Handler } from './loader';
import { logWorker, LogLevel, toLogMessage } from './log';
import type { LuaCalls } from './lua-calls';

/** Handler kinds (NGX_NODE_KIND_* of ngx_node_abi.h) */
const enum Kind {
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
}

/** What a dispatch returns (NGX_NODE_DISPATCH_* of ngx_node_abi.h) */
const enum Dispatch {
    Done = 0,
    Pending = 1,
    Failed = 2,
    Skipped = 3,
}

/** Call flags (NGX_NODE_FLAG_*) */
const enum Flag {
    Last = 1,
    Text = 2,
}

/** A handler as dispatch finds it: the function once modules are loaded, or why there is none. */
export class HandlerSlot {
    /** `directive "module.fn"`, for messages */
    readonly subject: string;
    fn: Handler['fn'] | undefined = undefined;
    holder: unknown = undefined;
    /** an async function: a node_set value awaited before the access phase */
    isAsync = false;

    constructor(readonly conf: HandlerConf, public unavailable: string) {
        this.subject = `${conf.directive} "${conf.name}"`;
    }

    resolved(handler: Handler): void {
        this.fn = handler.fn;
        this.holder = handler.holder;
        this.isAsync = handler.fn.constructor?.name === 'AsyncFunction';
        this.unavailable = '';
    }
}

/** Logs through the request; false when the request has ended (its handle is closed). */
function reportOnRequest(r: HttpRequest, message: string): boolean {
    try {
        r.logAt(LogLevel.ERR, message);
        return true;
    } catch {
        return false;
    }
}

/** Logs through the request when it still exists, else through the worker. */
function report(r: HttpRequest, message: string): void {
    if (!reportOnRequest(r, message)) logWorker(LogLevel.ERR, message);
}

function reportFailure(r: HttpRequest, failure: unknown): void {
    if (!reportOnRequest(r, `${r.subject} failed: ${toLogMessage(failure)}`)) {
        // node_timeout (or the worker's end) ended the request first
        logWorker(LogLevel.ERR, `${r.subject} failed after its request ended: ${toLogMessage(failure)}`);
    }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
    return (typeof value === 'object' || typeof value === 'function') && value !== null &&
        typeof (value as { then?: unknown }).then === 'function';
}

function rejection(error: unknown): unknown {
    return error ?? new Error(`rejected with ${String(error)}`);
}

function unavailable(slot: HandlerSlot, r: HttpRequest): boolean {
    if (slot.fn !== undefined) return false;
    report(r, `${slot.subject} cannot run: ${slot.unavailable}`);
    return true;
}

/**
 * A content, access or rewrite handler settled. A content handler must have ended the
 * response; a phase handler that did not goes on to the next step of the request.
 */
function settle(r: HttpRequest, content: boolean, failure?: unknown): void {
    if (failure !== undefined) {
        reportFailure(r, failure);
    } else if (content && !r.ended) {
        report(r, `${r.subject} resolved without ending the response; ` +
            'call r.return(), r.finish() or r.internalRedirect() before it resolves');
    }
    // a response that was ended stands even if the handler failed afterwards
    const ok = r.ended || (!content && failure === undefined);
    try {
        r.report(ok ? Outcome.Ok : Outcome.Error);
    } catch {
        // the request has ended already
    }
}

function dispatchResponder(slot: HandlerSlot, handle: number, content: boolean): Dispatch {
    const r = new HttpRequest(handle, slot.subject, true);
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = slot.fn!.call(slot.holder, r);
    } catch (error) {
        reportFailure(r, error);
        r.phase = Phase.Done;
        return r.ended ? Dispatch.Done : Dispatch.Failed;
    }
    if (isThenable(result)) {
        r.phase = Phase.Awaiting;
        result.then(() => settle(r, content), (error: unknown) => settle(r, content, rejection(error)));
        return Dispatch.Pending;
    }
    if (r.ended || !content) {
        r.phase = Phase.Done;
        return Dispatch.Done;
    }
    r.awaitCallback();
    return Dispatch.Pending;
}

type VariableValue = string | Uint8Array | undefined;

function variableValue(value: unknown): VariableValue {
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array || typeof value === 'string') return value;
    return String(value);
}

function dispatchVariable(slot: HandlerSlot, handle: number): VariableValue {
    const r = new HttpRequest(handle, slot.subject, false);
    if (unavailable(slot, r)) return undefined;
    if (slot.isAsync) {
        report(r, `${slot.subject} is async: its value is awaited before the access phase of ` +
            'requests in the block that declares it, and was needed here earlier (a rewrite directive?) ' +
            'or in another block; declare node_set where the variable is used');
        return undefined;
    }
    let value: unknown;
    try {
        value = slot.fn!.call(slot.holder, r);
    } catch (error) {
        reportFailure(r, error);
        return undefined;
    }
    if (isThenable(value)) {
        report(r, `${slot.subject} returned a Promise; make it an async function to have it awaited ` +
            'before the access phase');
        return undefined;
    }
    return variableValue(value ?? r.returnValue);
}

function prefetched(r: HttpRequest, index: number, value: unknown): void {
    try {
        native(r.handle, HTTP_OP.prefetched, index, variableValue(value ?? r.returnValue));
    } catch {
        // the request has ended
    }
}

function dispatchPrefetch(slot: HandlerSlot, index: number, handle: number): Dispatch {
    if (slot.fn === undefined || !slot.isAsync) return Dispatch.Skipped;
    const r = new HttpRequest(handle, slot.subject, false);
    let result: unknown;
    try {
        result = slot.fn.call(slot.holder, r);
    } catch (error) {
        reportFailure(r, error);
        return Dispatch.Failed;
    }
    Promise.resolve(result).then((value) => prefetched(r, index, value), (error: unknown) => {
        reportFailure(r, rejection(error));
        prefetched(r, index, undefined);
    });
    return Dispatch.Pending;
}

/** A handler that must finish during its call: header and streaming body filters. */
function synchronous(r: HttpRequest, slot: HandlerSlot, what: string, call: () => unknown): Dispatch {
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = call();
    } catch (error) {
        reportFailure(r, error);
        return Dispatch.Failed;
    }
    if (isThenable(result)) {
        report(r, `${slot.subject} returned a Promise; ${what}`);
        return Dispatch.Failed;
    }
    return Dispatch.Done;
}

function filterChunk(arg: unknown, flags: number): string | Buffer {
    const chunk = arg instanceof Buffer ? arg : Buffer.alloc(0);
    return flags & Flag.Text ? chunk.toString('utf8') : chunk;
}

function filtered(r: HttpRequest, failed: boolean, body?: unknown): void {
    try {
        native(r.handle, HTTP_OP.filtered, failed, body === undefined || body === null ? undefined : toBody(body));
    } catch {
        // the request has ended
    }
}

function dispatchBufferedFilter(slot: HandlerSlot, handle: number, arg: unknown, flags: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, false);
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = slot.fn!.call(slot.holder, r, filterChunk(arg, flags), { last: true });
    } catch (error) {
        reportFailure(r, error);
        return Dispatch.Failed;
    }
    if (isThenable(result)) {
        result.then((body) => filtered(r, false, body), (error: unknown) => {
            reportFailure(r, rejection(error));
            filtered(r, true);
        });
        return Dispatch.Pending;
    }
    filtered(r, false, result);
    return Dispatch.Done;
}

function dispatchLog(slot: HandlerSlot, handle: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, false);
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = slot.fn!.call(slot.holder, r);
    } catch (error) {
        reportFailure(r, error);
        return Dispatch.Failed;
    }
    if (isThenable(result)) {
        // the response went out already; what the handler started finishes on its own
        result.then(undefined, (error: unknown) => reportFailure(r, rejection(error)));
    }
    return Dispatch.Done;
}

export function createDispatcher(slots: HandlerSlot[], lua: LuaCalls) {
    return function dispatch(kind: number, index: number, handle: number, arg: unknown, flags: number): unknown {
        if (kind === Kind.LuaCall) {
            return lua.call(handle, arg instanceof Buffer ? arg : undefined, flags) ? Dispatch.Done : Dispatch.Pending;
        }
        if (kind === Kind.LuaUnload) {
            return lua.unload(String(arg));
        }
        const slot = slots[index];
        if (slot === undefined) {
            logWorker(LogLevel.ALERT, `ngx-node: no handler number ${index}`);
            return kind === Kind.HttpVariable ? undefined : Dispatch.Failed;
        }
        switch (kind) {
            case Kind.HttpContent:
                return dispatchResponder(slot, handle, true);
            case Kind.HttpAccess:
            case Kind.HttpRewrite:
                return dispatchResponder(slot, handle, false);
            case Kind.HttpVariable:
                return dispatchVariable(slot, handle);
            case Kind.HttpPrefetch:
                return dispatchPrefetch(slot, index, handle);
            case Kind.HttpHeaderFilter: {
                const r = new HttpRequest(handle, slot.subject, false);
                return synchronous(r, slot, 'header filters run synchronously',
                    () => slot.fn!.call(slot.holder, r));
            }
            case Kind.HttpBodyFilter: {
                const r = new HttpRequest(handle, slot.subject, false);
                return synchronous(r, slot, 'streaming body filters run synchronously, per chunk; ' +
                    'add "buffered" to node_body_filter for an async handler of the whole body',
                    () => slot.fn!.call(slot.holder, r, filterChunk(arg, flags), { last: (flags & Flag.Last) !== 0 }));
            }
            case Kind.HttpBufferedFilter:
                return dispatchBufferedFilter(slot, handle, arg, flags);
            case Kind.HttpLog:
                return dispatchLog(slot, handle);
            default:
                logWorker(LogLevel.ALERT, `ngx-node: unknown handler kind ${kind} for ${slot.subject} in ${where(slot.conf)}`);
                return Dispatch.Failed;
        }
    };
}
