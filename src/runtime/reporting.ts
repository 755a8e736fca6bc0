/** What handlers' failures look like in the error log, whatever they handle. */
import { logWorker, LogLevel, toLogMessage } from './log';

/** A request or a session: logs with its context while it lasts. */
export interface LogTarget {
    logAt(level: number, message: unknown): void;
}

/** Logs through the target; false when it has ended (its handle is closed). */
function reportOn(target: LogTarget, message: string, level: number = LogLevel.ERR): boolean {
    try {
        target.logAt(level, message);
        return true;
    } catch {
        return false;
    }
}

/** Logs through the target when it still exists, else through the worker. */
export function report(target: LogTarget, message: string, level: number = LogLevel.ERR): void {
    if (!reportOn(target, message, level)) logWorker(level, message);
}

/** The error the bridge throws when a handler uses its request or session after it ended. */
function usedAfterItsEnd(failure: unknown): boolean {
    return failure instanceof Error && (failure as { code?: unknown }).code === 'NGX_NODE_ENDED';
}

/**
 * `subject failed: stack`, in the target's context if it still exists. When it has ended
 * (node_timeout, the client went away, the worker's end) and what failed was the handler
 * reaching for it afterwards, that is a consequence of the end, which was logged where it was
 * one (node_timeout's error): info, as nginx logs a client that closed its connection.
 */
export function reportFailure(target: LogTarget, subject: string, failure: unknown): void {
    if (reportOn(target, `${subject} failed: ${toLogMessage(failure)}`)) return;
    if (usedAfterItsEnd(failure)) {
        logWorker(LogLevel.INFO, `${subject} used its request after the request had ended (node_timeout, or ` +
            `the client closed the connection): ${toLogMessage(failure)}`);
    } else {
        logWorker(LogLevel.ERR, `${subject} failed after its request ended: ${toLogMessage(failure)}`);
    }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
    return (typeof value === 'object' || typeof value === 'function') && value !== null &&
        typeof (value as { then?: unknown }).then === 'function';
}

/** A rejection's reason as something to log: `reject()` without one says so. */
export function rejection(error: unknown): unknown {
    return error ?? new Error(`rejected with ${String(error)}`);
}
