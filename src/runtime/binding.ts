/**
 * The native binding the bridge (native/bridge) hands to start(): one function to reach nginx
 * and the op numbers of native/include/ngx_node_abi.h, which is their single definition; and
 * the shared dicts' own functions (native/bridge/dict.cc).
 */

/** What crosses the boundary: the bridge converts these to and from C values. */
export type HostValue = undefined | null | boolean | number | string | ArrayBufferView | ArrayBuffer;

export interface NativeBinding {
    call(handle: number, op: number, ...args: HostValue[]): unknown;
    /**
     * call() itself, quicker where every argument is a short ASCII string, a number, a
     * boolean, undefined or null (at most four): nearly every call (native/bridge/quick_call.cc)
     */
    callQuick(handle: number, op: number, ...args: HostValue[]): unknown;
    workerOps: Record<string, number>;
    httpOps: Record<string, number>;
    luaOps: Record<string, number>;
    streamOps: Record<string, number>;
    dict: NativeDict;
    periodicOps: Record<string, number>;
    metricsOps: Record<string, number>;
    /** Node's internal/async_hooks, where the bridge could load it */
    nodeAsyncHooks?: { clearAsyncIdStack?(): void };
}

/**
 * binding.dict: a shared dict's operations on its zone number, with what the runtime checked
 * (a key is a string, a value of the dict's type; a timeout is a number of ms or undefined).
 */
export interface NativeDict {
    get(zone: number, key: string): string | number | undefined;
    pop(zone: number, key: string): string | number | undefined;
    has(zone: number, key: string): boolean;
    delete(zone: number, key: string): boolean;
    ttl(zone: number, key: string): number | undefined;
    /**
     * Writes: YES, NO (add found the entry, replace did not), FULL (the zone is full), another
     * answer: refused. incr() leaves the new value in result[0]. Numbers (0 for none) rather
     * than undefined keep V8's fast calls (native/bridge/dict.cc) in use.
     */
    set(zone: number, key: string, value: string | number, timeout: number): number;
    add(zone: number, key: string, value: string | number, timeout: number): number;
    replace(zone: number, key: string, value: string | number, timeout: number): number;
    incr(zone: number, key: string, delta: number, init: number, timeout: number): number;
    readonly result: Float64Array;
    readonly YES: number;
    readonly NO: number;
    readonly FULL: number;
    /** at most max, all if max < 0 */
    keys(zone: number, max: number): string[];
    /** [key, value, key, value ...] */
    items(zone: number, max: number): (string | number)[];
    size(zone: number): number;
    clear(zone: number): void;
    freeSpace(zone: number): number;
}

const dictFunctionNames = [
    'get', 'pop', 'has', 'delete', 'ttl', 'set', 'add', 'replace', 'incr', 'keys', 'items', 'size', 'clear', 'freeSpace',
] as const satisfies readonly (keyof NativeDict)[];

const workerOpNames = ['log', 'metrics'] as const;

const metricsOpNames = ['define', 'add', 'set', 'handlers', 'worker'] as const;

const periodicOpNames = ['variable', 'setVariable', 'done', 'fetch'] as const;

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
    'remoteAddress', 'status', 'variable', 'setVariable', 'decide', 'log', 'send', 'chunkDone', 'listen', 'forward',
    'prefetched', 'fetch',
] as const;

export type WorkerOp = (typeof workerOpNames)[number];
export type HttpOp = (typeof httpOpNames)[number];
export type LuaOp = (typeof luaOpNames)[number];
export type StreamOp = (typeof streamOpNames)[number];
export type PeriodicOp = (typeof periodicOpNames)[number];
export type MetricsOp = (typeof metricsOpNames)[number];

function lacks(what: string): Error {
    return new Error(`ngx-node: the native module lacks the ${what}; ` +
        'the runtime and the module come from different builds (run npm run build)');
}

function pick<K extends string>(table: Record<string, number>, names: readonly K[], what: string): Record<K, number> {
    const ops = {} as Record<K, number>;
    for (const name of names) {
        const op = table[name];
        if (typeof op !== 'number') throw lacks(`${what} op "${name}"`);
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
export let DICT: NativeDict;
export let PERIODIC_OP: Record<PeriodicOp, number>;
export let METRICS_OP: Record<MetricsOp, number>;

export function attach(binding: NativeBinding): void {
    WORKER_OP = pick(binding.workerOps, workerOpNames, 'worker');
    HTTP_OP = pick(binding.httpOps, httpOpNames, 'http');
    LUA_OP = pick(binding.luaOps, luaOpNames, 'Lua');
    STREAM_OP = pick(binding.streamOps, streamOpNames, 'stream');
    for (const name of dictFunctionNames) {
        if (typeof binding.dict?.[name] !== 'function') throw lacks(`shared dict function "${name}"`);
    }
    DICT = binding.dict;
    PERIODIC_OP = pick(binding.periodicOps, periodicOpNames, 'periodic');
    METRICS_OP = pick(binding.metricsOps, metricsOpNames, 'metrics');
    if (typeof binding.callQuick !== 'function') throw lacks('function callQuick');
    native = binding.callQuick;
}

/** Where the bridge is absent (the configuration checker), logging goes to stderr. */
export function isAttached(): boolean {
    return WORKER_OP !== undefined;
}
