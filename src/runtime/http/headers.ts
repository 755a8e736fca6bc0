/** The case-insensitive views r.headersIn and r.headersOut. */
import type { NginxHeadersIn, NginxHeadersOut } from '../../api';
import { descriptor } from '../variables';

/** Incoming headers that may appear once: a repeat is ignored, as nginx itself does. */
const singleValued = new Set([
    'host', 'content-length', 'content-type', 'user-agent', 'authorization', 'referer', 'from',
    'if-modified-since', 'if-unmodified-since', 'if-range', 'max-forwards', 'proxy-authorization',
    'range', 'transfer-encoding', 'expect', 'upgrade', 'date', 'connection',
]);

/**
 * r.headersIn from nginx's list [name, value, ...]: repeated headers join with ", "
 * (Cookie with "; "), headers that may appear once keep their first value.
 */
export function headersInView(pairs: string[]): NginxHeadersIn {
    const values = new Map<string, string>();
    const names = new Map<string, string>();
    for (let i = 0; i + 1 < pairs.length; i += 2) {
        const name = pairs[i];
        const value = pairs[i + 1];
        const key = name.toLowerCase();
        const previous = values.get(key);
        if (previous === undefined) {
            values.set(key, value);
            names.set(key, name);
        } else if (!singleValued.has(key)) {
            values.set(key, previous + (key === 'cookie' ? '; ' : ', ') + value);
        }
    }
    const lookup = (key: string | symbol) => typeof key === 'string' ? values.get(key.toLowerCase()) : undefined;
    return new Proxy(Object.create(null) as NginxHeadersIn, {
        get: (_target, key) => lookup(key),
        has: (_target, key) => lookup(key) !== undefined,
        ownKeys: () => [...names.values()],
        getOwnPropertyDescriptor: (_target, key) => {
            const value = lookup(key);
            return value === undefined ? undefined : { ...descriptor(value), writable: false };
        },
        set: () => {
            throw new TypeError('r.headersIn is read-only');
        },
        deleteProperty: () => {
            throw new TypeError('r.headersIn is read-only');
        },
    });
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
