/** A handler as dispatch finds it: the function once modules are loaded, or why there is none. */
import { HandlerConf } from './config';
import { FetchScoped, fetchScopesDiffer, inFetchScope } from './fetch/scope';
import type { Handler } from './loader';
import type { HandlerStats } from './metrics/handler-stats';
import { UnawaitedWatch } from './unawaited';

export class HandlerSlot {
    /** `directive "module.fn"`, for messages */
    readonly subject: string;
    fn: Handler['fn'] | undefined = undefined;
    holder: unknown = undefined;
    /** an async function: a node_set value awaited before it is needed */
    isAsync = false;
    /** a node_set handler's first calls are watched for promises they leave pending */
    readonly unawaited = new UnawaitedWatch();
    /** its calls, errors and latency, when metrics are on */
    stats: HandlerStats | undefined = undefined;

    constructor(readonly conf: HandlerConf, public unavailable: string) {
        this.subject = `${conf.directive} "${conf.name}"`;
    }

    resolved(handler: Handler): void {
        this.fn = handler.fn;
        this.holder = handler.holder;
        this.isAsync = handler.fn.constructor?.name === 'AsyncFunction';
        this.unavailable = '';
    }

    /**
     * Calls the handler with its `this` (the default export or the object it is a method
     * of), and what it serves (`r`, `s`, a periodic run's object) first, then a filter's data
     * and flags, under the ngx.fetch
     * settings of that one's block. With metrics, it counts the call; its latency lasts until
     * it returns, or until the promise it returned settles, and an exception or a rejection
     * counts as an error.
     */
    call(subject: FetchScoped, data?: unknown, flags?: unknown): unknown {
        // (no closure per call where every block has the same settings: the usual case)
        return fetchScopesDiffer() ? inFetchScope(subject, () => this.measured(subject, data, flags)) :
            this.measured(subject, data, flags);
    }

    /** A filter's handler gets (subject, data, flags), every other one (subject) only. */
    private invoke(subject: FetchScoped, data: unknown, flags: unknown): unknown {
        return flags === undefined ? this.fn!.call(this.holder, subject) : this.fn!.call(this.holder, subject, data, flags);
    }

    private measured(subject: FetchScoped, data: unknown, flags: unknown): unknown {
        const stats = this.stats;
        if (stats === undefined) return this.invoke(subject, data, flags);
        const began = stats.begin();
        let result: unknown;
        try {
            result = this.invoke(subject, data, flags);
        } catch (error) {
            stats.end(began, true);
            throw error;
        }
        if (result instanceof Promise) {
            result.then(() => stats.end(began, false), () => stats.end(began, true));
        } else {
            stats.end(began, false);
        }
        return result;
    }
}
