/** A handler as dispatch finds it: the function once modules are loaded, or why there is none. */
import { HandlerConf } from './config';
import type { Handler } from './loader';

export class HandlerSlot {
    /** `directive "module.fn"`, for messages */
    readonly subject: string;
    fn: Handler['fn'] | undefined = undefined;
    holder: unknown = undefined;
    /** an async function: a node_set value awaited before it is needed */
    isAsync = false;

    constructor(readonly conf: HandlerConf, public unavailable: string) {
        this.subject = `${conf.directive} "${conf.name}"`;
    }

    resolved(handler: Handler): void {
        this.fn = handler.fn;
        this.holder = handler.holder;
        this.isAsync = handler.fn.constructor?.name === 'AsyncFunction';
        this.unavailable = '';
    }

    /** Calls the handler with its `this` (the default export it is a method of). */
    call(...args: unknown[]): unknown {
        return this.fn!.call(this.holder, ...args);
    }
}
