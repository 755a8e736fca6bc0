/** The case-insensitive views r.headersIn and r.headersOut. */
import type { NginxHeadersIn, NginxHeadersOut } from '../../api';
import { descriptor } from '../variables';

/**
 * Incoming headers r.headersIn gives the first value of, as njs does (Content-Type, ETag,
 * From, Max-Forwards, Referer, Proxy-Authorization, User-Agent), and those nginx refuses to
 * see twice (a request repeating them gets 400 before any handler runs). Other repeated
 * headers are joined.
 */
const singleValued = new Set([
    'content-type', 'etag', 'from', 'max-forwards', 'referer', 'proxy-authorization', 'user-agent',
    'host', 'content-length', 'content-range', 'transfer-encoding', 'if-modified-since',
    'if-unmodified-since', 'if-match', 'if-none-match', 'if-range', 'expect', 'authorization',
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
