/**
 * What ngx.fetch sends, from its arguments: a URL (or a Request) and njs's options, with
 * Node's signal and redirect. Misuse is a TypeError (a RangeError for a size out of range),
 * as in njs; header names and values are checked as Node's fetch checks them.
 */
import type { NgxFetchOptions } from '../../api';

export interface Outgoing {
    url: URL;
    method: string;
    /** name, value, name, value ... */
    headers: string[];
    body: Buffer | null;
    signal: AbortSignal | undefined;
    redirect: 'manual' | 'follow' | 'error';
    bufferSize: number | undefined;
    maxResponseBodySize: number | undefined;
    verify: boolean | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** fetch() writes these methods in capitals, whatever case they were given in */
const NORMALISED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const REDIRECTS = new Set(['manual', 'follow', 'error']);

function target(input: unknown): URL {
    const text = input instanceof Request ? input.url : String(input);
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new TypeError(`ngx.fetch(): invalid URL ${JSON.stringify(text)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new TypeError(`ngx.fetch(): unsupported URL scheme "${url.protocol}": http:// and https:// only`);
    }
    return url;
}

function methodOf(value: unknown): string {
    const method = String(value);
    if (!TOKEN.test(method)) throw new TypeError(`ngx.fetch(): invalid method ${JSON.stringify(method)}`);
    const upper = method.toUpperCase();
    return NORMALISED.has(upper) ? upper : method;
}

function size(options: NgxFetchOptions, name: 'buffer_size' | 'max_response_body_size', least: number): number | undefined {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new TypeError(`ngx.fetch(): ${name} must be a whole number of bytes, not ${JSON.stringify(value)}`);
    }
    if (value < least || value > Number.MAX_SAFE_INTEGER) {
        throw new RangeError(`ngx.fetch(): ${name} must be at least ${least}, not ${value}`);
    }
    return value;
}

/** The body's bytes; what is not text or bytes is encoded as fetch() would, with its type. */
async function bodyOf(body: RequestInit['body'], headers: Headers): Promise<Buffer | null> {
    if (body === undefined || body === null) return null;
    if (typeof body === 'string') return Buffer.from(body);
    if (body instanceof ArrayBuffer) return Buffer.from(body);
    if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const encoded = new Response(body);
    const type = encoded.headers.get('content-type');
    if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
    return Buffer.from(await encoded.arrayBuffer());
}

export async function outgoing(input: unknown, options: NgxFetchOptions | undefined): Promise<Outgoing> {
    const init = options ?? {};
    if (typeof init !== 'object' || init === null) {
        throw new TypeError('ngx.fetch(): the options must be an object');
    }
    const request = input instanceof Request ? input : undefined;
    const url = target(input);
    const redirect = init.redirect ?? 'manual';
    if (!REDIRECTS.has(redirect)) {
        throw new TypeError(`ngx.fetch(): redirect must be "manual", "follow" or "error", not ${JSON.stringify(redirect)}`);
    }
    let headers: Headers;
    try {
        headers = new Headers(init.headers ?? request?.headers);
    } catch (error) {
        throw new TypeError(`ngx.fetch(): ${(error as Error).message}`);
    }
    const body = init.body !== undefined ? await bodyOf(init.body, headers)
        : request?.body ? Buffer.from(await request.arrayBuffer()) : null;
    const flat: string[] = [];
    headers.forEach((value, name) => flat.push(name, value));
    return {
        url,
        method: methodOf(init.method ?? request?.method ?? 'GET'),
        headers: flat,
        body,
        signal: init.signal ?? request?.signal,
        redirect,
        bufferSize: size(init, 'buffer_size', 1),
        maxResponseBodySize: size(init, 'max_response_body_size', 0),
        verify: init.verify === undefined ? undefined : Boolean(init.verify),
    };
}
