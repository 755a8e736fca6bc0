/**
 * The work a call into JavaScript queues for after it: process.nextTick callbacks and promise
 * reactions. Node runs it when the callback scope around a call closes; the bridge calls the
 * runtime without one (native/bridge/bridge.cc, CallRuntime: it cost a sync handler call 800
 * instructions), so the outermost call runs it itself before it returns to nginx, with the
 * function Node keeps on `process` for running it by hand (its runNextTicks: the nextTick
 * queue, the microtasks, unhandled rejections).
 */
type Run = () => void;

function nodeRunNextTicks(): Run {
    const run = (process as unknown as { _tickCallback?: unknown })._tickCallback;
    if (typeof run !== 'function') {
        throw new Error('ngx-node: this Node.js has no process._tickCallback, which the runtime needs to run ' +
            'process.nextTick callbacks and promise reactions after a call; use a Node.js from 18 to 24');
    }
    return run as Run;
}

/** Taken when the runtime starts, before any user code. */
export const runQueuedWork: Run = nodeRunNextTicks();
