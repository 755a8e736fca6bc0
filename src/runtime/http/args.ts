/**
 * r.args: the query arguments, decoded, a key given several times as an array. Reading one
 * argument scans the query string for that key alone; the whole object is built only when a
 * handler lists the arguments (Object.keys, spread, JSON.stringify, for-in).
 */
import { parse as parseQuery, unescape } from 'node:querystring';

import type { NginxHTTPArgs } from '../../api';
import { descriptor } from '../variables';
import { HTTP_OP, native } from '../binding';
import { SOURCE, ViewTarget } from '../view';

/** A key or value with "%" or "+" in it, decoded as querystring does. */
function decode(text: string): string {
    return unescape(text.replace(/\+/g, ' '));
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PERCENT = 0x25;
const PLUS = 0x2b;

/** Whether query[start, end) is key, character for character. */
function sameAt(query: string, start: number, end: number, key: string): boolean {
    if (end - start !== key.length) return false;
    for (let i = 0; i < key.length; i++) {
        if (query.charCodeAt(start + i) !== key.charCodeAt(i)) return false;
    }
    return true;
}

/**
 * The value of `key` in a query string, as querystring.parse() would give it. One scan by
 * character codes (a handler's one lookup in a short query string: indexOf and slice per
 * piece cost several times as much); only a key or value with "%" or "+" is decoded.
 */
export function argValue(query: string, key: string): string | string[] | undefined {
    let found: string | string[] | undefined;
    const length = query.length;
    let start = 0;
    while (start <= length) {
        // the piece [start, end): its first "=" and whether its key and value need decoding
        let end = start;
        let eq = -1;
        let keyEncoded = false;
        let valueEncoded = false;
        for (; end < length; end++) {
            const c = query.charCodeAt(end);
            if (c === AMPERSAND) break;
            if (c === EQUALS) {
                if (eq < 0) eq = end;
            } else if (c === PERCENT || c === PLUS) {
                if (eq < 0) keyEncoded = true;
                else valueEncoded = true;
            }
        }
        if (end > start) {
            const keyEnd = eq >= 0 ? eq : end;
            if (sameAt(query, start, keyEnd, key) ||
                (keyEncoded && keyEnd - start >= key.length && decode(query.slice(start, keyEnd)) === key)) {
                let value = '';
                if (keyEnd < end) {
                    value = query.slice(keyEnd + 1, end);
                    if (valueEncoded) value = decode(value);
                }
                found = found === undefined ? value : Array.isArray(found) ? [...found, value] : [found, value];
            }
        }
        start = end + 1;
    }
    return found;
}

/** Where r.args finds the request's query string: read once, until r.args or r.uri is set. */
export interface QuerySource {
    readonly handle: number;
    query?: string;
}

type Parsed = { query: string; args: Record<string, string | string[] | undefined> };

/** r.args' target: also keeps the arguments parsed for the last listing. */
class ArgsTarget extends ViewTarget<QuerySource> {
    parsed: Parsed | undefined = undefined;
}

function query(target: ArgsTarget): string {
    const source = target[SOURCE];
    return source.query ??= native(source.handle, HTTP_OP.args) as string;
}

function all(target: ArgsTarget): Record<string, string | string[] | undefined> {
    const text = query(target);
    let parsed = target.parsed;
    if (parsed?.query !== text) {
        parsed = { query: text, args: { ...parseQuery(text) } };
        target.parsed = parsed;
    }
    return parsed.args;
}

function objectPrototype(): object {
    return Object.prototype;
}

const argsTraps: ProxyHandler<ArgsTarget> = {
    get(target: ArgsTarget, key: string | symbol): unknown {
        if (typeof key !== 'string') return undefined;
        const value = argValue(query(target), key);
        // r.args.hasOwnProperty() and the like still work, as on a plain object
        return value !== undefined || !(key in Object.prototype) ? value : (Object.prototype as Record<string, unknown>)[key];
    },

    has(target: ArgsTarget, key: string | symbol): boolean {
        return typeof key === 'string' && argValue(query(target), key) !== undefined;
    },

    ownKeys(target: ArgsTarget): string[] {
        return Object.keys(all(target));
    },

    getOwnPropertyDescriptor(target: ArgsTarget, key: string | symbol): PropertyDescriptor | undefined {
        if (typeof key !== 'string') return undefined;
        const value = argValue(query(target), key);
        return value === undefined ? undefined : { ...descriptor(value), writable: false };
    },

    /** a plain object's, as the view over {} had */
    getPrototypeOf: objectPrototype,

    /** read-only, as a frozen object: strict code gets a TypeError */
    set(): boolean {
        return false;
    },

    deleteProperty(): boolean {
        return false;
    },

    defineProperty(): boolean {
        return false;
    },
};

export function argsView(source: QuerySource): NginxHTTPArgs {
    return new Proxy(new ArgsTarget(source), argsTraps) as unknown as NginxHTTPArgs;
}
