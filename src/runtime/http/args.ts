/**
 * r.args: the query arguments, decoded, a key given several times as an array. Reading one
 * argument scans the query string for that key alone; the whole object is built only when a
 * handler lists the arguments (Object.keys, spread, JSON.stringify, for-in).
 */
import { parse as parseQuery, unescape } from 'node:querystring';

import type { NginxHTTPArgs } from '../../api';
import { descriptor } from '../variables';

function decode(text: string): string {
    if (text.indexOf('%') < 0 && text.indexOf('+') < 0) return text;
    return unescape(text.replace(/\+/g, ' '));
}

/** The value of `key` in a query string, as querystring.parse() would give it. */
export function argValue(query: string, key: string): string | string[] | undefined {
    let found: string | string[] | undefined;
    let start = 0;
    while (start <= query.length) {
        let end = query.indexOf('&', start);
        if (end < 0) end = query.length;
        if (end > start) {
            const eq = query.indexOf('=', start);
            const keyEnd = eq >= 0 && eq < end ? eq : end;
            const name = query.slice(start, keyEnd);
            if (name === key || (name.length >= key.length && decode(name) === key)) {
                const value = keyEnd < end ? decode(query.slice(keyEnd + 1, end)) : '';
                found = found === undefined ? value : Array.isArray(found) ? [...found, value] : [found, value];
            }
        }
        start = end + 1;
    }
    return found;
}

/** What the view needs from the request: its query string now. */
export interface ArgsAccess {
    query(): string;
}

class ArgsTraps implements ProxyHandler<NginxHTTPArgs> {
    private parsed: { query: string; args: Record<string, string | string[] | undefined> } | undefined = undefined;

    constructor(private readonly access: ArgsAccess) {}

    private all(): Record<string, string | string[] | undefined> {
        const query = this.access.query();
        let parsed = this.parsed;
        if (parsed?.query !== query) {
            parsed = { query, args: { ...parseQuery(query) } };
            this.parsed = parsed;
        }
        return parsed.args;
    }

    get(_target: NginxHTTPArgs, key: string | symbol): unknown {
        if (typeof key !== 'string') return undefined;
        const value = argValue(this.access.query(), key);
        // r.args.hasOwnProperty() and the like still work, as on a plain object
        return value !== undefined || !(key in Object.prototype) ? value : (Object.prototype as Record<string, unknown>)[key];
    }

    has(_target: NginxHTTPArgs, key: string | symbol): boolean {
        return typeof key === 'string' && argValue(this.access.query(), key) !== undefined;
    }

    ownKeys(): string[] {
        return Object.keys(this.all());
    }

    getOwnPropertyDescriptor(_target: NginxHTTPArgs, key: string | symbol): PropertyDescriptor | undefined {
        if (typeof key !== 'string') return undefined;
        const value = argValue(this.access.query(), key);
        return value === undefined ? undefined : { ...descriptor(value), writable: false };
    }

    /** read-only, as a frozen object: strict code gets a TypeError */
    set(): boolean {
        return false;
    }

    deleteProperty(): boolean {
        return false;
    }

    defineProperty(): boolean {
        return false;
    }
}

export function argsView(access: ArgsAccess): NginxHTTPArgs {
    return new Proxy({} as NginxHTTPArgs, new ArgsTraps(access));
}
