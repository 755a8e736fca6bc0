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

function headerValues(name: string, value: unknown): string[] {
    if (value === undefined || value === null) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((item) => {
        if (typeof item !== 'string' && typeof item !== 'number') {
            throw new TypeError(`r.headersOut["${name}"]: a header value is a string or a number`);
        }
        return String(item);
    });
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
