/** Writing to nginx's error_log: ngx.log(), console.*, and the runtime's own messages. */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';

import { isAttached, native, WORKER, WORKER_OP } from './binding';

/** nginx's log levels */
export const LogLevel = {
    EMERG: 1, ALERT: 2, CRIT: 3, ERR: 4, WARN: 5, NOTICE: 6, INFO: 7, DEBUG: 8,
} as const;

/** How a value reads in the log: strings as they are, errors with their stack. */
export function toLogMessage(value: unknown): string {
    if (typeof value === 'string') return value;
    if (value instanceof Error && value.stack) return value.stack;
    return inspect(value);
}

/**
 * A line a script writes (console.*, ngx.log(), r.log(), s.log() ...), not the runtime:
 * "js: " first, as njs writes it, so that log tooling written for njs finds it.
 */
export function scriptLine(value: unknown): string {
    return `js: ${toLogMessage(value)}`;
}

export function checkLevel(level: unknown): number {
    if (typeof level !== 'number' || !Number.isInteger(level) || level < LogLevel.EMERG || level > LogLevel.DEBUG) {
        throw new RangeError(`ngx.log: level must be one of ngx.ERR, ngx.WARN, ngx.INFO (got ${inspect(level)})`);
    }
    return level;
}

/** Logs without a request context (the worker's log). */
export function logWorker(level: number, message: string): void {
    if (isAttached()) {
        native(WORKER, WORKER_OP.log, level, message);
    } else {
        process.stderr.write(message + '\n');
    }
}

function lineWriter(level: number): Writable {
    return new Writable({
        write(chunk: Buffer, _encoding, done) {
            logWorker(level, scriptLine(chunk.toString().replace(/\n$/, '')));
            done();
        },
    });
}

/**
 * console.* goes to the error_log: log/info/dir at info, debug/trace at debug, warn at warn,
 * error at error, each line starting with "js: " (what njs does; error_log's level decides
 * what is kept).
 */
export function installConsole(): void {
    const infoConsole = new Console({ stdout: lineWriter(LogLevel.INFO), stderr: lineWriter(LogLevel.ERR) });
    const at = (level: number) => (...args: unknown[]) => logWorker(level, scriptLine(format(...args)));
    Object.assign(infoConsole, {
        log: at(LogLevel.INFO),
        info: at(LogLevel.INFO),
        debug: at(LogLevel.DEBUG),
        warn: at(LogLevel.WARN),
        error: at(LogLevel.ERR),
        trace: (...args: unknown[]) => {
            const stack = (new Error().stack ?? '').split('\n').slice(2).join('\n');
            logWorker(LogLevel.DEBUG, scriptLine(`Trace: ${format(...args)}\n${stack}`));
        },
    });
    Object.defineProperty(globalThis, 'console', { value: infoConsole, writable: true, configurable: true });
}
