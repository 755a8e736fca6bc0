/**
 * Promises a synchronous handler leaves pending: work it started that nothing waits for. A
 * node_set value is taken when the function returns, so what such a promise does comes too
 * late for it. V8's promise hooks cost something on every promise while they are on, so only
 * the first calls of each handler are watched; that is enough to say so in the error log.
 */
import { promiseHooks } from 'node:v8';

const WATCHED_CALLS = 8;

/** The calls of one handler still to be watched: its first few. */
export class UnawaitedWatch {
    private left = WATCHED_CALLS;

    /** Whether to watch this call (then it is counted). */
    take(): boolean {
        if (this.left === 0) return false;
        this.left--;
        return true;
    }
}

/**
 * Calls `call` (a watched one: see UnawaitedWatch); `pending(n)` is called once the call's
 * promise reactions have run if `n` promises it created are still pending then.
 */
export function callWatchingPromises<T>(call: () => T, pending: (count: number) => void): T {
    const created = new Set<Promise<unknown>>();
    const stopSettled = promiseHooks.onSettled((promise) => created.delete(promise));
    const stopInit = promiseHooks.onInit((promise) => created.add(promise));
    try {
        return call();
    } finally {
        stopInit();
        // after this turn's microtasks (the call's own promise reactions) and I/O callbacks
        setImmediate(() => {
            stopSettled();
            if (created.size > 0) pending(created.size);
        });
    }
}
