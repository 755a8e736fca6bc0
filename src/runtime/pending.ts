/**
 * Promises that nginx settles: an op that completes later (reading a request body ...) gets a
 * token; nginx calls the bridge's resume(token, ...) when the work is done.
 */
import { runQueuedWork } from './queued-work';

interface Waiter {
    resolve(value: unknown): void;
    reject(error: Error): void;
}

const waiters = new Map<number, Waiter>();
let lastToken = 0;

/**
 * Calls start(token) and returns the promise that resume(token, ...) settles. What start()
 * throws (the op refused) is thrown to the caller at once, as njs's methods throw.
 */
export function awaitHost(start: (token: number) => void): Promise<unknown> {
    const token = ++lastToken;
    const settled = new Promise((resolve, reject) => waiters.set(token, { resolve, reject }));
    try {
        start(token);
    } catch (error) {
        waiters.delete(token);
        throw error;
    }
    return settled;
}

/** nginx settled a token's work; `outermost`: see queued-work.ts. */
export function resume(token: number, failed: boolean, value: unknown, outermost: boolean): void {
    try {
        const waiter = waiters.get(token);
        if (waiter === undefined) return;
        waiters.delete(token);
        if (failed) {
            waiter.reject(new Error(String(value)));
        } else {
            waiter.resolve(value);
        }
    } finally {
        if (outermost) runQueuedWork();
    }
}
