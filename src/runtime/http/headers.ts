/** The case-insensitive views r.headersIn and r.headersOut. */
import type { NginxHeadersIn, NginxHeadersOut } from '../../api';
import { descriptor } from '../variables';

/** What the r.headersIn view needs from the request. */
export interface HeadersInAccess {
    /** one header's value (nginx joins repeats with ", ", Cookie's with "; ", and keeps the
     *  first of a header it takes once) */
    get(name: string): string | undefined;
    /** [name, value, ...] as the client sent them */
    list(): string[];
}

/** The traps of r.headersIn: a lookup of the one header asked for, nothing built before. */
class HeadersInTraps implements ProxyHandler<NginxHeadersIn> {
    constructor(private readonly access: HeadersInAccess) {}

    get(_target: NginxHeadersIn, key: string | symbol): string | undefined {
        return typeof key === 'string' ? this.access.get(key) : undefined;
    }

    has(_target: NginxHeadersIn, key: string | symbol): boolean {
        return typeof key === 'string' && this.access.get(key) !== undefined;
    }

    /** each name once, spelled as it first came */
    ownKeys(): string[] {
        const pairs = this.access.list();
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

    getOwnPropertyDescriptor(_target: NginxHeadersIn, key: string | symbol): PropertyDescriptor | undefined {
        const value = this.get(_target, key);
        return value === undefined ? undefined : { ...descriptor(value), writable: false };
    }

    set(): boolean {
        throw new TypeError('r.headersIn is read-only');
    }

    deleteProperty(): boolean {
        throw new TypeError('r.headersIn is read-only');
    }
}

/** r.headersIn: case-insensitive, read-only. */
export function headersInView(access: HeadersInAccess): NginxHeadersIn {
    return new Proxy(Object.create(null) as NginxHeadersIn, new HeadersInTraps(access));
}

/** What a headersOut view needs from the request. */
export interface HeadersOutAccess {
    get(name: string): string | string[] | undefined;
    /** replaces the header's values with `value` (none: removes it), or adds one */
    set(name: string, value: string | undefined, add: boolean): void;
    names(): string[];
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

/** The traps of r.headersOut: each reaches the one header asked for. */
class HeadersOutTraps implements ProxyHandler<NginxHeadersOut> {
    constructor(private readonly access: HeadersOutAccess) {}

    get(_target: NginxHeadersOut, key: string | symbol): string | string[] | undefined {
        return typeof key === 'string' ? this.access.get(key) : undefined;
    }

    has(_target: NginxHeadersOut, key: string | symbol): boolean {
        return typeof key === 'string' && this.access.get(key) !== undefined;
    }

    set(_target: NginxHeadersOut, key: string | symbol, value: unknown): boolean {
        if (typeof key !== 'string') return false;
        // one non-empty string, the usual case, goes as it is
        if (typeof value === 'string' && value !== '') this.access.set(key, value, false);
        else this.assign(key, value);
        return true;
    }

    defineProperty(_target: NginxHeadersOut, key: string | symbol, wanted: PropertyDescriptor): boolean {
        if (typeof key !== 'string') return false;
        checkDefinable(key, wanted);
        if ('value' in wanted) this.assign(key, wanted.value);
        return true;
    }

    deleteProperty(_target: NginxHeadersOut, key: string | symbol): boolean {
        if (typeof key === 'string') this.access.set(key, undefined, false);
        return true;
    }

    ownKeys(): string[] {
        return this.access.names();
    }

    getOwnPropertyDescriptor(_target: NginxHeadersOut, key: string | symbol): PropertyDescriptor | undefined {
        const value = typeof key === 'string' ? this.access.get(key) : undefined;
        return value === undefined ? undefined : descriptor(value);
    }

    private assign(name: string, value: unknown): void {
        const values = headerValues(name, value);
        if (values.length === 0) this.access.set(name, undefined, false);
        values.forEach((one, i) => this.access.set(name, one, i > 0));
    }
}

/** r.headersOut: case-insensitive, writable as njs writes it. */
export function headersOutView(access: HeadersOutAccess): NginxHeadersOut {
    return new Proxy(Object.create(null) as NginxHeadersOut, new HeadersOutTraps(access));
}
