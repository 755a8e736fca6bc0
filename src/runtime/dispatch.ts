/**
 * Calling handlers for nginx. The bridge calls dispatch(kind, handler, handle, arg, flags,
 * outermost); the outermost call runs the work it queued before it returns (queued-work.ts),
 * so promise reactions of a handler that settles at once run before nginx looks at the request
 * again, and such a request goes on without suspending.
 */
import { Dispatch, Kind } from './abi';
import type { AsyncScope } from './async-scope';
import { where } from './config';
import type { HandlerSlot } from './handler-slot';
import * as http from './http/dispatch';
import { logWorker, LogLevel } from './log';
import type { LuaCalls } from './lua-calls';
import type { WorkerMetrics } from './metrics';
import { dispatchPeriodic } from './periodic';
import { runQueuedWork } from './queued-work';
import type { StreamSessions } from './stream/dispatch';

export function createDispatcher(slots: HandlerSlot[], lua: LuaCalls, stream: StreamSessions, metrics: WorkerMetrics,
    scope: AsyncScope) {
    function dispatchKind(kind: number, index: number, handle: number, arg: unknown, flags: number): unknown {
        switch (kind) {
            case Kind.LuaCall:
                return lua.call(handle, typeof arg === 'string' || arg instanceof Buffer ? arg : undefined, flags)
                    ? Dispatch.Done : Dispatch.Pending;
            case Kind.LuaUnload:
                return lua.unload(String(arg));
            case Kind.StreamClose:
                return stream.close(handle);
            case Kind.MetricsFlush:
                metrics.flush();
                return Dispatch.Done;
            default:
                break;
        }
        const slot = slots[index];
        if (slot === undefined) {
            logWorker(LogLevel.ALERT, `ngx-node: no handler number ${index}`);
            return kind === Kind.HttpVariable || kind === Kind.StreamVariable ? undefined : Dispatch.Failed;
        }
        switch (kind) {
            case Kind.HttpContent:
                return http.dispatchResponder(slot, handle, true);
            case Kind.HttpAccess:
            case Kind.HttpRewrite:
                return http.dispatchResponder(slot, handle, false);
            case Kind.HttpVariable:
                return http.dispatchVariable(slot, handle);
            case Kind.HttpPrefetch:
                return http.dispatchPrefetch(slot, index, handle);
            case Kind.HttpHeaderFilter:
                return http.dispatchHeaderFilter(slot, handle);
            case Kind.HttpBodyFilter:
                return http.dispatchBodyFilter(slot, handle, arg, flags);
            case Kind.HttpBufferedFilter:
                return http.dispatchBufferedFilter(slot, handle, arg, flags);
            case Kind.HttpLog:
                return http.dispatchLog(slot, handle);
            case Kind.StreamAccess:
            case Kind.StreamPreread:
                return stream.phase(slot, handle, arg, flags);
            case Kind.StreamVariable:
                return stream.variable(slot, handle);
            case Kind.StreamPrefetch:
                return stream.prefetch(slot, index, handle);
            case Kind.StreamFilter:
                return stream.filter(slot, handle);
            case Kind.StreamChunk:
                return stream.chunk(slot, handle, arg, flags);
            case Kind.Periodic:
                return dispatchPeriodic(slot, handle);
            default:
                logWorker(LogLevel.ALERT, `ngx-node: unknown handler kind ${kind} for ${slot.subject} in ${where(slot.conf)}`);
                return Dispatch.Failed;
        }
    }

    return function dispatch(kind: number, index: number, handle: number, arg: unknown, flags: number,
        outermost: boolean): unknown {
        try {
            return dispatchKind(kind, index, handle, arg, flags);
        } finally {
            scope.leave();
            if (outermost) runQueuedWork();
        }
    };
}
