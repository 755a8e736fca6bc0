/**
 * ngx.fetch(): njs's Fetch API on undici, following the node_fetch_* settings of the block
 * whose handler calls it (scope.ts). It resolves with a Response (Node's own class) once the
 * whole response is in; the body's bytes are as the server sent them (no decompression, as
 * in njs), and redirects are not followed unless asked.
 */
import type { NgxFetchHeaders, NgxFetchOptions, NgxFetchResponse } from '../../api';
import type { FetchConf } from '../config';
import { FetchDispatchers } from './dispatchers';
import { fetchFailure } from './errors';
import { exchange, Incoming } from './exchange';
import { outgoing, Outgoing } from './request';
import { currentFetchSettings } from './scope';

export type NgxFetch = (input: string | URL | Request, options?: NgxFetchOptions) => Promise<NgxFetchResponse>;

/** Statuses whose response has no body, for Response's constructor */
const BODILESS = new Set([101, 204, 205, 304]);
const REDIRECTION = new Set([301, 302, 303, 307, 308]);

function pairs(flat: string[]): [string, string][] {
    const list: [string, string][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) list.push([flat[i], flat[i + 1]]);
    return list;
}

function response(incoming: Incoming, request: Outgoing): NgxFetchResponse {
    if (request.redirect === 'error' && REDIRECTION.has(incoming.status)) {
        throw new TypeError(`ngx.fetch(): ${request.url.href} answered with a redirect (${incoming.status}), and redirect is "error"`);
    }
    let reply: Response;
    try {
        reply = new Response(BODILESS.has(incoming.status) ? null : incoming.body, {
            status: incoming.status,
            statusText: incoming.statusText,
            headers: pairs(incoming.headers),
        });
    } catch (error) {
        throw new Error(`invalid http response from ${request.url.host}: ${(error as Error).message}`, { cause: error });
    }
    Object.defineProperty(reply, 'url', { value: request.url.href, enumerable: true });
    // njs's Headers.getAll(): each value of a header, in order (get() joins them)
    const all = pairs(incoming.headers);
    const getAll: NgxFetchHeaders['getAll'] = (name) =>
        all.filter(([key]) => key.toLowerCase() === String(name).toLowerCase()).map(([, value]) => value);
    Object.defineProperty(reply.headers, 'getAll', { value: getAll });
    return reply as NgxFetchResponse;
}

export function createNgxFetch(confs: FetchConf[]): NgxFetch {
    const dispatchers = new FetchDispatchers(confs);
    return async (input, options) => {
        const settings = currentFetchSettings();
        const conf = confs[settings];
        const request = await outgoing(input, options);
        const bufferSize = request.bufferSize ?? conf.bufferSize;
        const dispatcher = dispatchers.get(settings, request.verify ?? conf.verify, bufferSize);
        const incoming = await exchange(dispatcher, request, request.maxResponseBodySize ?? conf.maxResponseBufferSize,
            (error) => fetchFailure(error, { url: request.url, conf, bufferSize }));
        return response(incoming, request);
    };
}
