/**
 * The memory of the bridge's short Buffers (native/bridge/buffer_pool.cc): an ArrayBuffer that
 * many Buffers view, each a chunk or payload of its own, possibly of different requests. It is
 * marked untransferable, as Node's own Buffer pool is: a script that puts a pooled Buffer's
 * `.buffer` in a transfer list (postMessage, structuredClone) must not detach the others.
 */
import { markAsUntransferable } from 'node:worker_threads';

export function newBufferPool(size: number): ArrayBuffer {
    const pool = new ArrayBuffer(size);
    markAsUntransferable(pool);
    return pool;
}
