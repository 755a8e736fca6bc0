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
    /** no values: remove the header */
    set(name: string, values: string[]): void;
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

export function headersOutView(access: HeadersOutAccess): NginxHeadersOut {
    const name = (key: string | symbol): string | undefined => typeof key === 'string' ? key : undefined;
    return new Proxy(Object.create(null) as NginxHeadersOut, {
        get: (_target, key) => {
            const header = name(key);
            return header === undefined ? undefined : access.get(header);
        },
        has: (_target, key) => {
            const header = name(key);
            return header !== undefined && access.get(header) !== undefined;
        },
        set: (_target, key, value) => {
            const header = name(key);
            if (header === undefined) return false;
            access.set(header, headerValues(header, value));
            return true;
        },
        defineProperty: (_target, key, wanted) => {
            const header = name(key);
            if (header === undefined) return false;
            checkDefinable(header, wanted);
            if ('value' in wanted) access.set(header, headerValues(header, wanted.value));
            return true;
        },
        deleteProperty: (_target, key) => {
            const header = name(key);
            if (header !== undefined) access.set(header, []);
            return true;
        },
        ownKeys: () => access.names(),
        getOwnPropertyDescriptor: (_target, key) => {
            const header = name(key);
            const value = header === undefined ? undefined : access.get(header);
            return value === undefined ? undefined : descriptor(value);
        },
    });
}
