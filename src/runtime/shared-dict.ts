/**
 * ngx.shared: the shared dicts of node_shared_dict_zone, in nginx shared memory, the same for
 * every worker and for http and stream handlers. Each method is one atomic operation on the
 * zone (native/nginx/core/ngx_node_shared_dict.c); names and semantics are njs's.
 */
import type { NgxSharedDict } from '../api';
import { DICT_OP, DictOp, native, WORKER, WORKER_OP } from './binding';
import type { DictConf } from './config';

/** Thrown when a zone is full and has no "evict". */
export class SharedMemoryError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'SharedMemoryError';
    }
}

type Value = string | number;

function checkTimeout(timeout: unknown): number | undefined {
    if (timeout === undefined) return undefined;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 1) {
        throw new TypeError('timeout must be a number of milliseconds, at least 1');
    }
    return Math.trunc(timeout);
}

function checkMax(max: unknown): number | undefined {
    if (max === undefined) return undefined;
    if (typeof max !== 'number' || Number.isNaN(max)) throw new TypeError('max must be a number');
    return Math.trunc(max);
}

class SharedDict implements NgxSharedDict {
    readonly name: string;
    readonly type: 'string' | 'number';
    readonly capacity: number;

    constructor(private readonly zone: number, conf: DictConf) {
        this.name = conf.name;
        this.type = conf.type;
        this.capacity = conf.capacity;
    }

    private op(op: DictOp, ...args: (string | number | undefined)[]): unknown {
        return native(WORKER, WORKER_OP.dict, this.zone, DICT_OP[op], ...args);
    }

    private key(key: unknown): string {
        if (typeof key === 'string') return key;
        if (key === undefined || key === null) throw new TypeError(`shared dict "${this.name}": a key is needed`);
        return String(key);
    }

    private full(what: string): SharedMemoryError {
        return new SharedMemoryError(`shared dict "${this.name}" is full (${this.capacity} bytes) and ${what}; ` +
            'make the zone larger, or let old entries go ("evict")');
    }

    /** A write's answer: null means the zone is full. */
    private written(result: unknown, what: string): unknown {
        if (result === null) throw this.full(what);
        return result;
    }

    get(key: string): Value | undefined {
        return this.op('get', this.key(key)) as Value | undefined;
    }

    has(key: string): boolean {
        return this.op('has', this.key(key)) as boolean;
    }

    set(key: string, value: Value, timeout?: number): this {
        this.written(this.op('set', this.key(key), value, checkTimeout(timeout)), `"${key}" was not set`);
        return this;
    }

    add(key: string, value: Value, timeout?: number): boolean {
        return this.written(this.op('add', this.key(key), value, checkTimeout(timeout)), `"${key}" was not added`) as boolean;
    }

    replace(key: string, value: Value, timeout?: number): boolean {
        return this.written(this.op('replace', this.key(key), value, checkTimeout(timeout)), `"${key}" was not replaced`) as boolean;
    }

    delete(key: string): boolean {
        return this.op('delete', this.key(key)) as boolean;
    }

    pop(key: string): Value | undefined {
        return this.op('pop', this.key(key)) as Value | undefined;
    }

    incr(key: string, delta: number, init?: number, timeout?: number): number {
        if (typeof delta !== 'number') throw new TypeError('incr(key, delta): delta must be a number');
        if (init !== undefined && typeof init !== 'number') throw new TypeError('incr(key, delta, init): init must be a number');
        return this.written(this.op('incr', this.key(key), delta, init ?? 0, checkTimeout(timeout)), `"${key}" was not created`) as number;
    }

    keys(max?: number): string[] {
        return (this.op('keys', checkMax(max)) as unknown[]).slice(1) as string[];
    }

    items(max?: number): [string, Value][] {
        const flat = (this.op('items', checkMax(max)) as unknown[]).slice(1);
        const items: [string, Value][] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) items.push([flat[i] as string, flat[i + 1] as Value]);
        return items;
    }

    size(): number {
        return this.op('size') as number;
    }

    clear(): void {
        this.op('clear');
    }

    freeSpace(): number {
        return this.op('freeSpace') as number;
    }

    /** Milliseconds left before the entry expires; -1 if it does not; undefined if there is none. */
    ttl(key: string): number | undefined {
        return this.op('ttl', this.key(key)) as number | undefined;
    }
}

/** ngx.shared: a dict per zone, by name. */
export function sharedDicts(dicts: DictConf[]): Readonly<Record<string, NgxSharedDict>> {
    const shared: Record<string, NgxSharedDict> = Object.create(null) as Record<string, NgxSharedDict>;
    dicts.forEach((conf, zone) => {
        shared[conf.name] = new SharedDict(zone, conf);
    });
    return Object.freeze(shared);
}
