/**
 * Calling handlers for nginx. The bridge calls dispatch(kind, handler, handle) inside a
 * callback scope, so promise reactions of a handler that settles at once run before nginx
 * looks at the request again, and such a request is answered without being suspended.
 */
import { HandlerConf, where } from './config';
import { HttpRequest, Outcome, Phase } from './http/request';
import type { Handler } from './loader';
import { logWorker, LogLevel, toLogMessage } from './log';

/** Handler kinds (NGX_NODE_KIND_* of ngx_node_abi.h) */
const enum Kind {
    HttpContent = 0,
    HttpVariable = 1,
}

/** What a content dispatch returns (NGX_NODE_DISPATCH_* of ngx_node_abi.h) */
const enum Dispatch {
    Done = 0,
    Pending = 1,
    Failed = 2,
}

/** A handler as dispatch finds it: the function once modules are loaded, or why there is none. */
export class HandlerSlot {
    /** `directive "module.fn"`, for messages */
    readonly subject: string;
    fn: Handler['fn'] | undefined = undefined;
    holder: unknown = undefined;

    constructor(readonly conf: HandlerConf, public unavailable: string) {
        this.subject = `${conf.directive} "${conf.name}"`;
    }

    resolved(handler: Handler): void {
        this.fn = handler.fn;
        this.holder = handler.holder;
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
    return (typeof value === 'object' || typeof value === 'function') && value !== null &&
        typeof (value as { then?: unknown }).then === 'function';
}

function settle(r: HttpRequest, failure?: unknown): void {
    if (failure !== undefined) {
        if (!reportOnRequest(r, `${r.subject} failed: ${toLogMessage(failure)}`)) {
            // node_timeout (or the worker's end) ended the request first
            logWorker(LogLevel.ERR, `${r.subject} failed after its request ended: ${toLogMessage(failure)}`);
        }
    } else if (!r.ended) {
        report(r, `${r.subject} resolved without ending the response; ` +
            'call r.return(), r.finish() or r.internalRedirect() before it resolves');
    }
    try {
        // a response that was ended stands even if the handler failed afterwards
        r.done(r.ended ? Outcome.Ok : Outcome.Error);
    } catch {
        // the request has ended already
    }
}

function dispatchContent(slot: HandlerSlot, handle: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, true);
    if (slot.fn === undefined) {
        report(r, `${slot.subject} cannot run: ${slot.unavailable}`);
        return Dispatch.Failed;
    }
    let result: unknown;
    try {
        result = slot.fn.call(slot.holder, r);
    } catch (error) {
        report(r, `${slot.subject} failed: ${toLogMessage(error)}`);
        r.phase = Phase.Done;
        return r.ended ? Dispatch.Done : Dispatch.Failed;
    }
    if (isThenable(result)) {
        r.phase = Phase.Awaiting;
        result.then(() => settle(r), (error: unknown) => settle(r, error ?? new Error('rejected with ' + String(error))));
        return Dispatch.Pending;
    }
    if (r.ended) {
        r.phase = Phase.Done;
        return Dispatch.Done;
    }
    r.phase = Phase.Callback;
    return Dispatch.Pending;
}

type VariableValue = string | Uint8Array | undefined;

function dispatchVariable(slot: HandlerSlot, handle: number): VariableValue {
    const r = new HttpRequest(handle, slot.subject, false);
    if (slot.fn === undefined) {
        report(r, `${slot.subject} cannot run: ${slot.unavailable}`);
        return undefined;
    }
    let value: unknown;
    try {
        value = slot.fn.call(slot.holder, r);
    } catch (error) {
        report(r, `${slot.subject} failed: ${toLogMessage(error)}`);
        return undefined;
    }
    if (isThenable(value)) {
        report(r, `${slot.subject} returned a Promise; node_set needs a function that returns the value`);
        return undefined;
    }
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array || typeof value === 'string') return value;
    return String(value);
}

export function createDispatcher(slots: HandlerSlot[]) {
    return function dispatch(kind: number, index: number, handle: number): unknown {
        const slot = slots[index];
        if (slot === undefined) {
            logWorker(LogLevel.ALERT, `ngx-node: no handler number ${index}`);
            return kind === Kind.HttpContent ? Dispatch.Failed : undefined;
        }
        switch (kind) {
            case Kind.HttpContent:
                return dispatchContent(slot, handle);
            case Kind.HttpVariable:
                return dispatchVariable(slot, handle);
            default:
                logWorker(LogLevel.ALERT, `ngx-node: unknown handler kind ${kind} for ${slot.subject} in ${where(slot.conf)}`);
                return undefined;
        }
    };
}
