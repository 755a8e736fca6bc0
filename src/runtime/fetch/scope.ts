/**
 * Which node_fetch_* settings ngx.fetch follows: those of the block whose handler runs (the
 * request's location, the session's server, a node_periodic's or a Lua call's block), also in
 * the promise callbacks and timers that handler starts (an AsyncLocalStorage carries their
 * number). Elsewhere, such as a module's top-level code, the http {} block's.
 *
 * Where all blocks have the same settings, nothing is carried: AsyncLocalStorage costs every
 * promise (about 0.35 µs an await, measured), so it is not even created then.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What has a block: a request, a session, a periodic run. Asked only when it matters. */
export const FETCH_SETTINGS = Symbol('the number of its ngx.fetch settings');

export interface FetchScoped {
    [FETCH_SETTINGS](): number;
}

let storage: AsyncLocalStorage<number> | undefined;
let outside = 0;

/** At start: how many distinct settings the configuration has, and which apply outside. */
export function useFetchSettings(count: number, outsideHandlers: number): void {
    storage = count > 1 ? new AsyncLocalStorage<number>() : undefined;
    outside = outsideHandlers;
}

/** Whether blocks differ in their settings, so that a handler's call must carry its own. */
export function fetchScopesDiffer(): boolean {
    return storage !== undefined;
}

/** Runs fn under the settings of `scoped`'s block. */
export function inFetchScope<T>(scoped: FetchScoped, fn: () => T): T {
    return storage === undefined ? fn() : storage.run(scoped[FETCH_SETTINGS](), fn);
}

/** Runs fn under settings known by number. */
export function inFetchSettings<T>(settings: number, fn: () => T): T {
    return storage === undefined ? fn() : storage.run(settings, fn);
}

/** The number of the settings that apply here. */
export function currentFetchSettings(): number {
    return storage?.getStore() ?? outside;
}
