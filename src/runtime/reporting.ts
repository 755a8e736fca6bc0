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

/** `subject failed: stack`, in the target's context if it still exists. */
export function reportFailure(target: LogTarget, subject: string, failure: unknown): void {
    if (!reportOn(target, `${subject} failed: ${toLogMessage(failure)}`)) {
        // node_timeout (or the worker's end) ended it first
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
