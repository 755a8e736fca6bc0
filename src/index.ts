/**
 * ngx-node's public types. Handlers import them with `import type ... from 'ngx-node'`;
 * the global `ngx` object is declared here too.
 */
import type { NgxObject } from './api';

export type * from './api';

declare global {
    // eslint-disable-next-line no-var
    var ngx: NgxObject;
    /** Thrown by a shared dict that is full and has no "evict". */
    class SharedMemoryError extends Error {}
}
