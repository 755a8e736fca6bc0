/**
 * ngx.shared: the shared dicts of node_shared_dict_zone, in nginx shared memory, the same for
 * every worker and for http and stream handlers. Each method is one atomic operation on the
 * zone (native/nginx/core/ngx_node_shared_dict.c), through a function of its own in the bridge
 * (binding.dict, native/bridge/dict.cc); names and semantics are njs's. What users can get
 * wrong is checked here, where the errors can name the dict.
 */
import type { NgxSharedDict } from '../api';
import { DICT } from './binding';
import type { DictConf } from './config';

/** Thrown when a zone is full and has no "evict". */
export class SharedMemoryError extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'SharedMemoryError';
    }
}

type Value = string | number;

/** keys() and items() without a bound */
const LIST_MAX = 1024;

/** A key's limit in UTF-8 bytes; a JavaScript string has at most 3 of them per UTF-16 unit. */
const KEY_MAX_BYTES = 65535;
const KEY_SAFE_LENGTH = Math.floor(KEY_MAX_BYTES / 3);

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

    private key(key: unknown): string {
        if (typeof key !== 'string') {
            if (key === undefined || key === null) throw new TypeError(`shared dict "${this.name}": a key is needed`);
            key = String(key);
        }
        const text = key as string;
        if (text.length > KEY_SAFE_LENGTH && Buffer.byteLength(text) > KEY_MAX_BYTES) {
            throw new TypeError(`shared dict "${this.name}": a key is a string of at most ${KEY_MAX_BYTES} bytes`);
        }
        return text;
    }

    private value(value: unknown): Value {
        if (typeof value !== this.type) throw new TypeError(`shared dict "${this.name}": a ${this.type} value is expected`);
        return value as Value;
    }

    private full(key: unknown, done: string): SharedMemoryError {
        return new SharedMemoryError(`shared dict "${this.name}" is full (${this.capacity} bytes) and "${String(key)}" was not ${done}; ` +
            'make the zone larger, or let old entries go ("evict")');
    }

    /** A write's answer: whether it wrote; the zone is full, or the host refused: an error. */
    private written(answer: number, key: unknown, done: string): boolean {
        if (answer === DICT.YES) return true;
        if (answer === DICT.NO) return false;
        if (answer === DICT.FULL) throw this.full(key, done);
        throw new TypeError(`shared dict "${this.name}": "${String(key)}" was not ${done}: refused by the zone`);
    }

    get(key: string): Value | undefined {
        return DICT.get(this.zone, this.key(key));
    }

    has(key: string): boolean {
        return DICT.has(this.zone, this.key(key));
    }

    set(key: string, value: Value, timeout?: number): this {
        this.written(DICT.set(this.zone, this.key(key), this.value(value), checkTimeout(timeout) ?? 0), key, 'set');
        return this;
    }

    add(key: string, value: Value, timeout?: number): boolean {
        return this.written(DICT.add(this.zone, this.key(key), this.value(value), checkTimeout(timeout) ?? 0), key, 'added');
    }

    replace(key: string, value: Value, timeout?: number): boolean {
        return this.written(DICT.replace(this.zone, this.key(key), this.value(value), checkTimeout(timeout) ?? 0), key, 'replaced');
    }

    delete(key: string): boolean {
        return DICT.delete(this.zone, this.key(key));
    }

    pop(key: string): Value | undefined {
        return DICT.pop(this.zone, this.key(key));
    }

    incr(key: string, delta: number, init?: number, timeout?: number): number {
        if (typeof delta !== 'number') throw new TypeError('incr(key, delta): delta must be a number');
        if (init !== undefined && typeof init !== 'number') throw new TypeError('incr(key, delta, init): init must be a number');
        if (this.type !== 'number') throw new TypeError(`shared dict "${this.name}": incr() needs a number dict and a number delta`);
        this.written(DICT.incr(this.zone, this.key(key), delta, init ?? 0, checkTimeout(timeout) ?? 0), key, 'created');
        return DICT.result[0];
    }

    keys(max?: number): string[] {
        return DICT.keys(this.zone, checkMax(max) ?? LIST_MAX);
    }

    items(max?: number): [string, Value][] {
        const flat = DICT.items(this.zone, checkMax(max) ?? LIST_MAX);
        const items: [string, Value][] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) items.push([flat[i] as string, flat[i + 1]]);
        return items;
    }

    size(): number {
        return DICT.size(this.zone);
    }

    clear(): void {
        DICT.clear(this.zone);
    }

    freeSpace(): number {
        return DICT.freeSpace(this.zone);
    }

    /** Milliseconds left before the entry expires; -1 if it does not; undefined if there is none. */
    ttl(key: string): number | undefined {
        return DICT.ttl(this.zone, this.key(key));
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
