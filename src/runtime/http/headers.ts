/** The case-insensitive views r.headersIn and r.headersOut. */
import type { NginxHeadersIn, NginxHeadersOut } from '../../api';
import { descriptor } from '../variables';
import { ACCESS, nullPrototype, SOURCE, ViewTarget } from '../view';

/** What the r.headersIn view needs from the request (its `source`: the request's handle). */
export interface HeadersInAccess<S> {
    /** one header's value (nginx joins repeats with ", ", Cookie's with "; ", and keeps the
     *  first of a header it takes once) */
    get(source: S, name: string): string | undefined;
    /** [name, value, ...] as the client sent them */
    list(source: S): string[];
}

type HeadersInTarget = ViewTarget<unknown, HeadersInAccess<unknown>>;

function headerIn(target: HeadersInTarget, key: string | symbol): string | undefined {
    return typeof key === 'string' ? target[ACCESS].get(target[SOURCE], key) : undefined;
}

/** The traps of r.headersIn: a lookup of the one header asked for, nothing built before. */
const headersInTraps: ProxyHandler<HeadersInTarget> = {
    get: headerIn,

    has(target: HeadersInTarget, key: string | symbol): boolean {
        return headerIn(target, key) !== undefined;
    },

    /** each name once, spelled as it first came */
    ownKeys(target: HeadersInTarget): string[] {
        const pairs = target[ACCESS].list(target[SOURCE]);
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
    },

    getOwnPropertyDescriptor(target: HeadersInTarget, key: string | symbol): PropertyDescriptor | undefined {
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
export function headersInView<S>(source: S, access: HeadersInAccess<S>): NginxHeadersIn {
    return new Proxy(new ViewTarget(source, access) as HeadersInTarget, headersInTraps) as unknown as NginxHeadersIn;
}

/** What a headersOut view needs from the request (its `source`). */
export interface HeadersOutAccess<S> {
    get(source: S, name: string): string | string[] | undefined;
    /** replaces the header's values with `value` (none: removes it), or adds one */
    set(source: S, name: string, value: string | undefined, add: boolean): void;
    names(source: S): string[];
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

type HeadersOutTarget = ViewTarget<unknown, HeadersOutAccess<unknown>>;

function headerOut(target: HeadersOutTarget, key: string | symbol): string | string[] | undefined {
    return typeof key === 'string' ? target[ACCESS].get(target[SOURCE], key) : undefined;
}

function assign(target: HeadersOutTarget, name: string, value: unknown): void {
    const values = headerValues(name, value);
    const access = target[ACCESS];
    const source = target[SOURCE];
    if (values.length === 0) access.set(source, name, undefined, false);
    values.forEach((one, i) => access.set(source, name, one, i > 0));
}

/** The traps of r.headersOut: each reaches the one header asked for. */
const headersOutTraps: ProxyHandler<HeadersOutTarget> = {
    get: headerOut,

    has(target: HeadersOutTarget, key: string | symbol): boolean {
        return headerOut(target, key) !== undefined;
    },

    set(target: HeadersOutTarget, key: string | symbol, value: unknown): boolean {
        if (typeof key !== 'string') return false;
        // one non-empty string, the usual case, goes as it is
        if (typeof value === 'string' && value !== '') target[ACCESS].set(target[SOURCE], key, value, false);
        else assign(target, key, value);
        return true;
    },

    defineProperty(target: HeadersOutTarget, key: string | symbol, wanted: PropertyDescriptor): boolean {
        if (typeof key !== 'string') return false;
        checkDefinable(key, wanted);
        if ('value' in wanted) assign(target, key, wanted.value);
        return true;
    },

    deleteProperty(target: HeadersOutTarget, key: string | symbol): boolean {
        if (typeof key === 'string') target[ACCESS].set(target[SOURCE], key, undefined, false);
        return true;
    },

    ownKeys(target: HeadersOutTarget): string[] {
        return target[ACCESS].names(target[SOURCE]);
    },

    getOwnPropertyDescriptor(target: HeadersOutTarget, key: string | symbol): PropertyDescriptor | undefined {
        const value = headerOut(target, key);
        return value === undefined ? undefined : descriptor(value);
    },

    getPrototypeOf: nullPrototype,
};

/** r.headersOut: case-insensitive, writable as njs writes it. */
export function headersOutView<S>(source: S, access: HeadersOutAccess<S>): NginxHeadersOut {
    return new Proxy(new ViewTarget(source, access) as HeadersOutTarget, headersOutTraps) as unknown as NginxHeadersOut;
}
