/**
 * ngx-node's public types. Handlers import them with `import type ... from 'ngx-node'`;
 * the global `ngx` object is declared here too.
 */
import type { NgxObject } from './api';

export type * from './api';

declare global {
    /**
     * nginx's `ngx` object (njs's): `ngx.log()`, `ngx.worker_id`, `ngx.shared`, `ngx.fetch()`,
     * nginx's version and paths. In every handler and at a module's top level.
     */
    // eslint-disable-next-line no-var
    var ngx: NgxObject;
    /** Thrown by a shared dict that is full and has no "evict". */
    interface SharedMemoryError extends Error {}
    interface SharedMemoryErrorConstructor {
        new (message?: string): SharedMemoryError;
        readonly prototype: SharedMemoryError;
    }
    // eslint-disable-next-line no-var
    var SharedMemoryError: SharedMemoryErrorConstructor;
}
