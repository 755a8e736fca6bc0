/**
 * One request's AsyncLocalStorage context must not reach the next request. The bridge calls
 * every handler with the same current async resource each time (no callback scope of its own:
 * Node's top-level resource, or that of the callback a nested call happens in);
 * AsyncLocalStorage keeps a store on the current resource, and enterWith() leaves it there. So the stores enterWith() set during a
 * call are taken off that resource when the call returns: what the call started (promises,
 * timers, nextTicks) took its own copy already. A fresh resource per call would do the same
 * at 600 (made by the bridge) to 1,600 (pushed from JavaScript) instructions a call; this
 * costs a length check unless enterWith() was called. (Where AsyncLocalStorage keeps its
 * context elsewhere, as Node 24's AsyncContextFrame does, the bridge puts it back itself
 * after each call, and there is nothing to take off.)
 */
import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks';

type Resource = Record<symbol, unknown>;

export class AsyncScope {
    private readonly entered: AsyncLocalStorage<unknown>[] = [];

    constructor() {
        const entered = this.entered;
        const enterWith = AsyncLocalStorage.prototype.enterWith as (this: AsyncLocalStorage<unknown>, store: unknown) => void;
        AsyncLocalStorage.prototype.enterWith = function (this: AsyncLocalStorage<unknown>, store: unknown): void {
            enterWith.call(this, store);
            entered.push(this);
        };
    }

    /** After a call into a handler. */
    leave(): void {
        if (this.entered.length === 0) return;
        const resource = executionAsyncResource() as Resource;
        for (const storage of this.entered) {
            const key = (storage as unknown as { kResourceStore?: unknown }).kResourceStore;
            if (typeof key === 'symbol') delete resource[key];
        }
        this.entered.length = 0;
    }
}
