/** A small HTTP client for tests: no keep-alive pool, no retries, bytes as they come. */
import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { Socket } from 'node:net';

/** A whole HTTP response. */
export interface Reply {
    status: number;
    headers: IncomingHttpHeaders;
    rawHeaders: string[];
    body: Buffer;
    /** the body as UTF-8 text */
    text: string;
}

export interface RequestOptions {
    /** GET, or POST when there is a body */
    method?: string;
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
    /** give up after this long (default 10 s) */
    timeoutMs?: number;
}

/** Sends one request on a connection of its own and resolves with the whole response. */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = httpRequest(url, {
            method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
            headers: options.headers,
            agent: false,
            timeout: options.timeoutMs ?? 10000,
        }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {
                const body = Buffer.concat(chunks);
                resolve({
                    status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders,
                    body, text: body.toString('utf8'),
                });
            });
        });
        req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
        req.on('error', reject);
        req.end(options.body);
    });
}

/**
 * Sends bytes as they are and returns everything the server sent until it closed. The
 * socket stays open for writing (a half-close looks like a client abort to a proxy): ask
 * for the close with HTTP/1.0 or "Connection: close".
 */
export function rawRequest(port: number, text: string, timeoutMs = 10000): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = new Socket();
        const chunks: Buffer[] = [];
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error('raw request timed out')));
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('error', reject);
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        socket.connect(port, '127.0.0.1', () => socket.write(text));
    });
}
