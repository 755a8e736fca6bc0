/**
 * One request and its whole response, held in memory as njs holds it: the response is
 * complete before ngx.fetch resolves, and a body beyond max_response_body_size (told by
 * Content-Length, or counted as it comes) ends the exchange with an error.
 */
import type { Dispatcher } from 'undici';

import type { FetchDispatcher } from './dispatchers';
import { bodyTooLarge, contentTooLarge } from './errors';
import type { Outgoing } from './request';

export interface Incoming {
    status: number;
    statusText: string;
    /** name, value, name, value ... as they came */
    headers: string[];
    body: Buffer;
}

const REDIRECTS = 20;

function contentLength(raw: Buffer[]): number | undefined {
    for (let i = 0; i + 1 < raw.length; i += 2) {
        if (raw[i].length === 14 && raw[i].toString('latin1').toLowerCase() === 'content-length') {
            const length = Number(raw[i + 1].toString('latin1').trim());
            return Number.isSafeInteger(length) ? length : undefined;
        }
    }
    return undefined;
}

/**
 * Rejects with the signal's reason if it aborts, with its own error if the body is too large,
 * else with what `explain` makes of undici's or Node's error.
 */
export function exchange(dispatcher: FetchDispatcher, request: Outgoing, limit: number,
    explain: (error: unknown) => Error): Promise<Incoming> {
    return new Promise<Incoming>((resolve, reject) => {
        const { signal } = request;
        const chunks: Buffer[] = [];
        let size = 0;
        let settled = false;
        let abort: ((error: Error) => void) | undefined;
        let reply: Omit<Incoming, 'body'> | undefined;
        let tooLarge: Error | undefined;

        const finish = () => {
            settled = true;
            signal?.removeEventListener('abort', aborted);
        };
        const fail = (error: unknown) => {
            if (settled) return;
            finish();
            reject(tooLarge ?? explain(error));
        };
        const aborted = () => {
            if (settled) return;
            const reason: unknown = signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
            finish();
            reject(reason);
            abort?.(reason instanceof Error ? reason : new Error(String(reason)));
        };
        const refuse = (error: Error) => {
            tooLarge = error;
            abort?.(error);
            return false;
        };

        const handler: Dispatcher.DispatchHandlers = {
            onConnect(cancel) {
                abort = cancel;
                if (settled) cancel(new Error('ngx.fetch() gave up'));
            },
            onHeaders(status, raw, _resume, statusText) {
                if (status < 200) return true;
                if (request.method !== 'HEAD') {
                    const length = contentLength(raw);
                    if (length !== undefined && length > limit) return refuse(contentTooLarge(length, limit));
                }
                reply = { status, statusText, headers: raw.map((item) => item.toString('latin1')) };
                return true;
            },
            onData(chunk) {
                size += chunk.length;
                if (size > limit) return refuse(bodyTooLarge(limit));
                chunks.push(chunk);
                return true;
            },
            onComplete() {
                if (settled || reply === undefined) return;
                finish();
                resolve({ ...reply, body: Buffer.concat(chunks, size) });
            },
            onError: fail,
        };

        if (signal?.aborted) {
            aborted();
            return;
        }
        signal?.addEventListener('abort', aborted, { once: true });
        const options: Dispatcher.DispatchOptions & { maxRedirections: number } = {
            origin: request.url.origin,
            path: request.url.pathname + request.url.search,
            method: request.method as Dispatcher.HttpMethod,
            headers: request.headers,
            body: request.body,
            maxRedirections: request.redirect === 'follow' ? REDIRECTS : 0,
        };
        try {
            dispatcher.dispatch(options, handler);
        } catch (error) {
            fail(error);
        }
    });
}
