/**
 * Calling HTTP handlers: content, access and rewrite handlers that respond, node_set values
 * (async ones awaited before the access phase), header and body filters, log handlers.
 */
import { Dispatch, Flag } from '../abi';
import { HTTP_OP, native } from '../binding';
import type { HandlerSlot } from '../handler-slot';
import { LogLevel } from '../log';
import { isThenable, rejection, report, reportFailure } from '../reporting';
import { callWatchingPromises } from '../unawaited';
import { VariableValue, variableValue } from '../variables';
import { HttpRequest, Outcome, Phase, toBody } from './request';

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
        reportFailure(r, r.subject, failure);
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

export function dispatchResponder(slot: HandlerSlot, handle: number, content: boolean): Dispatch {
    const r = new HttpRequest(handle, slot.subject, true);
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = slot.call(r);
    } catch (error) {
        reportFailure(r, r.subject, error);
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

/** A node_set handler's call watched for promises it leaves pending (its first few calls). */
function callWatched(slot: HandlerSlot, r: HttpRequest): unknown {
    const value = callWatchingPromises(() => slot.call(r), (count) => {
        if (isThenable(value)) return;
        report(r, `${slot.subject} returned while ${count} promise(s) it created were still pending: ` +
            'its value was taken without them, and what they do comes too late for it; make it an ' +
            'async function to have it awaited before the access phase', LogLevel.WARN);
    });
    return value;
}

export function dispatchVariable(slot: HandlerSlot, handle: number): VariableValue {
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
        // (the watched calls' closures in a function of their own: none made for the others)
        value = slot.unawaited.take() ? callWatched(slot, r) : slot.call(r);
    } catch (error) {
        reportFailure(r, r.subject, error);
        return undefined;
    }
    if (isThenable(value)) {
        report(r, `${slot.subject} returned a Promise; the variable is empty. Make it an async function ` +
            'to have it awaited before the access phase', LogLevel.WARN);
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

export function dispatchPrefetch(slot: HandlerSlot, index: number, handle: number): Dispatch {
    if (slot.fn === undefined || !slot.isAsync) return Dispatch.Skipped;
    const r = new HttpRequest(handle, slot.subject, false);
    let result: unknown;
    try {
        result = slot.call(r);
    } catch (error) {
        reportFailure(r, r.subject, error);
        return Dispatch.Failed;
    }
    Promise.resolve(result).then((value) => prefetched(r, index, value), (error: unknown) => {
        reportFailure(r, r.subject, rejection(error));
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
        reportFailure(r, r.subject, error);
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

export function dispatchBufferedFilter(slot: HandlerSlot, handle: number, arg: unknown, flags: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, false);
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = slot.call(r, filterChunk(arg, flags), { last: true });
    } catch (error) {
        reportFailure(r, r.subject, error);
        return Dispatch.Failed;
    }
    if (isThenable(result)) {
        result.then((body) => filtered(r, false, body), (error: unknown) => {
            reportFailure(r, r.subject, rejection(error));
            filtered(r, true);
        });
        return Dispatch.Pending;
    }
    filtered(r, false, result);
    return Dispatch.Done;
}

export function dispatchLog(slot: HandlerSlot, handle: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, false);
    if (unavailable(slot, r)) return Dispatch.Failed;
    let result: unknown;
    try {
        result = slot.call(r);
    } catch (error) {
        reportFailure(r, r.subject, error);
        return Dispatch.Failed;
    }
    if (isThenable(result)) {
        // the response went out already; what the handler started finishes on its own
        result.then(undefined, (error: unknown) => reportFailure(r, r.subject, rejection(error)));
    }
    return Dispatch.Done;
}


export function dispatchHeaderFilter(slot: HandlerSlot, handle: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, false);
    return synchronous(r, slot, 'header filters run synchronously', () => slot.call(r));
}

export function dispatchBodyFilter(slot: HandlerSlot, handle: number, arg: unknown, flags: number): Dispatch {
    const r = new HttpRequest(handle, slot.subject, false);
    return synchronous(r, slot, 'streaming body filters run synchronously, per chunk; ' +
        'add "buffered" to node_body_filter for an async handler of the whole body',
    () => slot.call(r, filterChunk(arg, flags), { last: (flags & Flag.Last) !== 0 }));
}
