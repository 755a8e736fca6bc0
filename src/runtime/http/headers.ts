/** The case-insensitive views r.headersIn and r.headersOut. */
import type { NginxHeadersIn, NginxHeadersOut } from '../../api';
import { descriptor } from '../variables';
import { HTTP_OP, native } from '../binding';
import { nullPrototype, SOURCE, ViewTarget } from '../view';

/**
 * The target of r.headersIn and r.headersOut: the request's handle. Their traps call nginx
 * themselves, with no function between: a trap is called by V8's proxy builtins, not inlined
 * into the handler, and each function more on the way runs unoptimised for longer (each is
 * called once per request).
 */
type HeadersTarget = ViewTarget<number>;

function headerIn(target: HeadersTarget, key: string | symbol): string | undefined {
    // one header's value (nginx joins repeats with ", ", Cookie's with "; ", and keeps the
    // first of a header it takes once)
    return typeof key === 'string' ? native(target[SOURCE], HTTP_OP.headerIn, key) as string | undefined : undefined;
}

/** The names of [name, value, ...] pairs, each once (case-insensitively), as first spelled. */
function namesOnce(pairs: string[] = []): string[] {
    const seen = new Set<string>();
    const names: string[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
        const key = pairs[i].toLowerCase();
        if (!seen.has(key)) {
            seen.add(key);
            names.push(pairs[i]);
        }
    }
    return names;
}

/** The traps of r.headersIn: a lookup of the one header asked for, nothing built before. */
const headersInTraps: ProxyHandler<HeadersTarget> = {
    get: headerIn,

    has(target: HeadersTarget, key: string | symbol): boolean {
        return headerIn(target, key) !== undefined;
    },

    /** each name once, spelled as it first came */
    ownKeys(target: HeadersTarget): string[] {
        // [name, value, ...] as the client sent them
        return namesOnce(native(target[SOURCE], HTTP_OP.headersIn) as string[] | undefined);
    },

    getOwnPropertyDescriptor(target: HeadersTarget, key: string | symbol): PropertyDescriptor | undefined {
        const value = headerIn(target, key);
        return value === undefined ? undefined : { ...descriptor(value), writable: false };
    },

    getPrototypeOf: nullPrototype,

    set(): boolean {
        throw new TypeError('r.headersIn is read-only');
    },

    deleteProperty(): boolean {
        throw new TypeError('r.headersIn is read-only');
    },
};

/** r.headersIn: case-insensitive, read-only. */
export function headersInView(handle: number): NginxHeadersIn {
    return new Proxy(new ViewTarget(handle), headersInTraps) as unknown as NginxHeadersIn;
}

/**
 * The values an assignment gives a header, as njs takes them: `undefined`, `null` and `''`
 * (alone or as elements of an array) add nothing, so assigning one of them removes the header.
 */
function headerValues(name: string, value: unknown): string[] {
    const list: unknown[] = Array.isArray(value) ? value : [value];
    const values: string[] = [];
    for (const item of list) {
        if (item === undefined || item === null || item === '') continue;
        if (typeof item !== 'string' && typeof item !== 'number') {
            throw new TypeError(`r.headersOut["${name}"]: a header value is a string or a number ` +
                `(or an array of them), not ${typeof item}`);
        }
        values.push(String(item));
    }
    return values;
}

/** Object.defineProperty(r.headersOut, name, { value }) is an assignment, as in njs. */
function checkDefinable(name: string, wanted: PropertyDescriptor): void {
    if (wanted.get !== undefined || wanted.set !== undefined) {
        throw new TypeError(`Object.defineProperty(r.headersOut, "${name}"): a header is defined ` +
            'with a value, not a getter or setter');
    }
    if (wanted.configurable === false) {
        throw new TypeError(`Object.defineProperty(r.headersOut, "${name}"): headers stay ` +
            'configurable (they can be changed and removed); leave out configurable: false');
    }
}

function headerOut(target: HeadersTarget, key: string | symbol): string | string[] | undefined {
    return typeof key === 'string' ? native(target[SOURCE], HTTP_OP.headerOutGet, key) as string | string[] | undefined : undefined;
}

/** Replaces the header's values with `value` (none: removes it), or adds one. */
function setHeaderOut(handle: number, name: string, value: string | undefined, add: boolean): void {
    if (value === undefined) native(handle, HTTP_OP.headerOutSet, name);
    else native(handle, HTTP_OP.headerOutSet, name, value, add);
}

function assign(target: HeadersTarget, name: string, value: unknown): void {
    const values = headerValues(name, value);
    const handle = target[SOURCE];
    if (values.length === 0) setHeaderOut(handle, name, undefined, false);
    values.forEach((one, i) => setHeaderOut(handle, name, one, i > 0));
}

/** The traps of r.headersOut: each reaches the one header asked for. */
const headersOutTraps: ProxyHandler<HeadersTarget> = {
    get: headerOut,

    has(target: HeadersTarget, key: string | symbol): boolean {
        return headerOut(target, key) !== undefined;
    },

    set(target: HeadersTarget, key: string | symbol, value: unknown): boolean {
        if (typeof key !== 'string') return false;
        // one non-empty string, the usual case, goes as it is
        if (typeof value === 'string' && value !== '') native(target[SOURCE], HTTP_OP.headerOutSet, key, value, false);
        else assign(target, key, value);
        return true;
    },

    defineProperty(target: HeadersTarget, key: string | symbol, wanted: PropertyDescriptor): boolean {
        if (typeof key !== 'string') return false;
        checkDefinable(key, wanted);
        if ('value' in wanted) assign(target, key, wanted.value);
        return true;
    },

    deleteProperty(target: HeadersTarget, key: string | symbol): boolean {
        if (typeof key === 'string') setHeaderOut(target[SOURCE], key, undefined, false);
        return true;
    },

    /** each name once, spelled as it was first set */
    ownKeys(target: HeadersTarget): string[] {
        return namesOnce(native(target[SOURCE], HTTP_OP.headersOut) as string[] | undefined);
    },

    getOwnPropertyDescriptor(target: HeadersTarget, key: string | symbol): PropertyDescriptor | undefined {
        const value = headerOut(target, key);
        return value === undefined ? undefined : descriptor(value);
    },

    getPrototypeOf: nullPrototype,
};

/** r.headersOut: case-insensitive, writable as njs writes it. */
export function headersOutView(handle: number): NginxHeadersOut {
    return new Proxy(new ViewTarget(handle), headersOutTraps) as unknown as NginxHeadersOut;
}
