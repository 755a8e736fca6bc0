/**
 * The native binding the bridge (native/bridge) hands to start(): one function to reach nginx
 * and the op numbers of native/include/ngx_node_abi.h, which is their single definition.
 */

/** What crosses the boundary: the bridge converts these to and from C values. */
export type HostValue = undefined | null | boolean | number | string | ArrayBufferView | ArrayBuffer;

export interface NativeBinding {
    call(handle: number, op: number, ...args: HostValue[]): unknown;
    workerOps: Record<string, number>;
    httpOps: Record<string, number>;
    luaOps: Record<string, number>;
    streamOps: Record<string, number>;
    dictOps: Record<string, number>;
    periodicOps: Record<string, number>;
    metricsOps: Record<string, number>;
    /** Node's internal/async_hooks, where the bridge could load it */
    nodeAsyncHooks?: { clearAsyncIdStack?(): void };
}

const workerOpNames = ['log', 'dict', 'metrics'] as const;

const metricsOpNames = ['define', 'add', 'set', 'handlers', 'worker'] as const;

const periodicOpNames = ['variable', 'setVariable', 'done', 'fetch'] as const;

const dictOpNames = [
    'get', 'set', 'add', 'replace', 'has', 'delete', 'pop', 'incr', 'keys', 'items', 'size', 'clear', 'freeSpace', 'ttl',
] as const;

const httpOpNames = [
    'method', 'uri', 'args', 'httpVersion', 'remoteAddress',
    'headersIn', 'headerIn', 'headersOut', 'headerOutGet', 'headerOutSet', 'status', 'setStatus',
    'variable', 'setVariable', 'sendHeader', 'send', 'finish', 'return', 'internalRedirect',
    'readBody', 'requestBody', 'log', 'done', 'decline', 'setUri', 'setArgs', 'sendBuffer',
    'filterDone', 'filtered', 'subrequest', 'responseBody', 'parent', 'internal', 'prefetched', 'varNames',
    'fetch',
] as const;

const luaOpNames = ['target', 'complete'] as const;

const streamOpNames = [
    'remoteAddress', 'status', 'variable', 'setVariable', 'decide', 'log', 'send', 'chunkDone', 'prefetched',
    'fetch',
] as const;

export type WorkerOp = (typeof workerOpNames)[number];
export type HttpOp = (typeof httpOpNames)[number];
export type LuaOp = (typeof luaOpNames)[number];
export type StreamOp = (typeof streamOpNames)[number];
export type DictOp = (typeof dictOpNames)[number];
export type PeriodicOp = (typeof periodicOpNames)[number];
export type MetricsOp = (typeof metricsOpNames)[number];

function pick<K extends string>(table: Record<string, number>, names: readonly K[], what: string): Record<K, number> {
    const ops = {} as Record<K, number>;
    for (const name of names) {
        const op = table[name];
        if (typeof op !== 'number') {
            throw new Error(`ngx-node: the native module lacks the ${what} op "${name}"; ` +
                'the runtime and the module come from different builds (run npm run build)');
        }
        ops[name] = op;
    }
    return ops;
}

/** The handle of the worker object. */
export const WORKER = 0;

export let native: NativeBinding['call'] = () => {
    throw new Error('ngx-node: the runtime is not started');
};
export let WORKER_OP: Record<WorkerOp, number>;
export let HTTP_OP: Record<HttpOp, number>;
export let LUA_OP: Record<LuaOp, number>;
export let STREAM_OP: Record<StreamOp, number>;
export let DICT_OP: Record<DictOp, number>;
export let PERIODIC_OP: Record<PeriodicOp, number>;
export let METRICS_OP: Record<MetricsOp, number>;

export function attach(binding: NativeBinding): void {
    WORKER_OP = pick(binding.workerOps, workerOpNames, 'worker');
    HTTP_OP = pick(binding.httpOps, httpOpNames, 'http');
    LUA_OP = pick(binding.luaOps, luaOpNames, 'Lua');
    STREAM_OP = pick(binding.streamOps, streamOpNames, 'stream');
    DICT_OP = pick(binding.dictOps, dictOpNames, 'shared dict');
    PERIODIC_OP = pick(binding.periodicOps, periodicOpNames, 'periodic');
    METRICS_OP = pick(binding.metricsOps, metricsOpNames, 'metrics');
    native = binding.call;
}

/** Where the bridge is absent (the configuration checker), logging goes to stderr. */
export function isAttached(): boolean {
    return WORKER_OP !== undefined;
}
