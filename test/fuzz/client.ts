/**
 * Sending a fuzz case over a raw socket and judging what came back: every answer must be a
 * well-formed HTTP/1.x response (status line, header lines, body framing), one after another.
 */
import { Socket } from 'node:net';

import { Case } from './cases';

export interface ParsedResponse {
    status: number;
    headers: [string, string][];
    /** the body was complete by its framing (Content-Length, chunked, or the close) */
    complete: boolean;
}

export interface Parsed {
    responses: ParsedResponse[];
    /** not HTTP: what was wrong and where */
    malformed?: string;
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-9]\d\d) ([^\x00-\x08\x0a-\x1f\x7f]*)$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*)$/;

/** Parses consecutive responses; `closed`: the connection ended, so a body may end there. */
export function parseResponses(data: Buffer, closed: boolean, methods: string[]): Parsed {
    const responses: ParsedResponse[] = [];
    let pos = 0;
    while (pos < data.length) {
        const headEnd = data.indexOf('\r\n\r\n', pos);
        const firstEol = data.indexOf('\r\n', pos);
        const firstLine = data.subarray(pos, firstEol < 0 ? data.length : firstEol).toString('latin1');
        if (firstEol >= 0 || data.length - pos >= 12) {
            if (!STATUS_LINE.test(firstLine)) {
                return { responses, malformed: `bad status line at byte ${pos}: ${JSON.stringify(firstLine.slice(0, 80))}` };
            }
        } else if (!'HTTP/1.1 '.startsWith(firstLine.slice(0, 9)) && !firstLine.startsWith('HTTP/1.')) {
            return { responses, malformed: `bad status line at byte ${pos}: ${JSON.stringify(firstLine)}` };
        }
        if (headEnd < 0) {
            // the head was cut off by the close (or is still coming)
            if (closed) responses.push({ status: Number(firstLine.slice(9, 12)) || 0, headers: [], complete: false });
            return { responses };
        }
        const lines = data.subarray(pos, headEnd).toString('latin1').split('\r\n');
        const status = Number(STATUS_LINE.exec(lines[0])?.[1]);
        const headers: [string, string][] = [];
        for (const line of lines.slice(1)) {
            const match = HEADER_LINE.exec(line);
            if (!match) return { responses, malformed: `bad header line in the ${status} response: ${JSON.stringify(line.slice(0, 80))}` };
            headers.push([match[1].toLowerCase(), match[2]]);
        }
        const header = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);
        if (header('content-length').length > 1) return { responses, malformed: `two Content-Length headers in the ${status} response` };
        if (header('transfer-encoding').length && header('content-length').length) {
            return { responses, malformed: `Content-Length and Transfer-Encoding in the ${status} response` };
        }
        pos = headEnd + 4;
        const interim = status >= 100 && status < 200;
        const method = methods[responses.filter((r) => r.status >= 200).length] ?? 'GET';
        // a request line nginx could not parse is not HEAD to nginx, whatever it began with
        const headOnly = method === 'HEAD' && (pos === data.length || data.subarray(pos, pos + 7).toString('latin1') === 'HTTP/1.');
        if (interim || status === 204 || status === 304 || headOnly) {
            responses.push({ status, headers, complete: true });
            continue;
        }
        const te = header('transfer-encoding')[0];
        if (te !== undefined) {
            if (te.toLowerCase() !== 'chunked') return { responses, malformed: `Transfer-Encoding "${te}" in the ${status} response` };
            // chunks
            for (;;) {
                const eol = data.indexOf('\r\n', pos);
                if (eol < 0) {
                    responses.push({ status, headers, complete: false });
                    return { responses };
                }
                const sizeLine = data.subarray(pos, eol).toString('latin1');
                if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) {
                    return { responses, malformed: `bad chunk size line in the ${status} response: ${JSON.stringify(sizeLine.slice(0, 40))}` };
                }
                const size = parseInt(sizeLine, 16);
                if (size === 0) {
                    if (data.length < eol + 4) {
                        responses.push({ status, headers, complete: false });
                        return { responses };
                    }
                    if (data.subarray(eol + 2, eol + 4).toString('latin1') !== '\r\n') {
                        return { responses, malformed: `trailers or garbage after the last chunk of the ${status} response` };
                    }
                    pos = eol + 4;
                    break;
                }
                if (data.length < eol + 2 + size + 2) {
                    responses.push({ status, headers, complete: false });
                    return { responses };
                }
                if (data.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') {
                    return { responses, malformed: `a chunk of the ${status} response does not end with CRLF` };
                }
                pos = eol + 4 + size;
            }
            responses.push({ status, headers, complete: true });
            continue;
        }
        const cl = header('content-length')[0];
        if (cl !== undefined) {
            if (!/^\d+$/.test(cl)) return { responses, malformed: `Content-Length "${cl}" in the ${status} response` };
            const end = pos + Number(cl);
            if (data.length < end) {
                responses.push({ status, headers, complete: false });
                return { responses };
            }
            pos = end;
            responses.push({ status, headers, complete: true });
            continue;
        }
        // no framing: the body runs to the close
        responses.push({ status, headers, complete: closed });
        return { responses };
    }
    return { responses };
}

export interface CaseResult {
    /** everything nginx sent */
    received: Buffer;
    /** how the connection ended, from the client's side */
    end: 'closed' | 'reset' | 'client-aborted' | 'answered' | 'timeout';
    /** ms from connect to the end */
    ms: number;
    error?: string;
}

function delay(ms: number): Promise<void> {
    return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function reset(socket: Socket): void {
    // an RST instead of a FIN (SO_LINGER 0); older Node lacks it: a plain destroy
    const s = socket as Socket & { resetAndDestroy?: () => void };
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
    else socket.destroy();
}

/** Sends one case and collects what came back. */
export function sendCase(port: number, c: Case, timeoutMs: number): Promise<CaseResult> {
    return new Promise((resolve) => {
        const socket = new Socket();
        const chunks: Buffer[] = [];
        const started = Date.now();
        let finished = false;
        let aborted = false;
        let error: string | undefined;

        const finish = (end: CaseResult['end']) => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            if (!socket.destroyed) socket.destroy();
            resolve({ received: Buffer.concat(chunks), end, ms: Date.now() - started, ...(error ? { error } : {}) });
        };
        const timer = setTimeout(() => finish('timeout'), timeoutMs);

        socket.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            if (c.mode === 'read-reset') {
                reset(socket);
                finish('client-aborted');
                return;
            }
            // all answers in: no need to wait for keep-alive to time out
            const parsed = parseResponses(Buffer.concat(chunks), false, c.methods);
            const finals = parsed.responses.filter((r) => r.status >= 200 && r.complete).length;
            if (!parsed.malformed && finals >= c.expected && parsed.responses.every((r) => r.complete)) finish('answered');
        });
        socket.on('error', (e: NodeJS.ErrnoException) => {
            if (aborted) return;
            if (e.code === 'ECONNRESET') {
                finish('reset');
            } else if (e.code === 'EPIPE') {
                // nginx closed while we were writing: read what it said
            } else {
                error = `${e.code ?? ''} ${e.message}`;
                finish('closed');
            }
        });
        socket.on('close', () => finish(aborted ? 'client-aborted' : 'closed'));

        const write = (data: Buffer) => new Promise<void>((done) => {
            if (socket.destroyed || finished) {
                done();
                return;
            }
            socket.write(data, () => done());
        });

        socket.connect(port, '127.0.0.1', async () => {
            const whole = Buffer.concat(c.pieces);
            switch (c.mode) {
            case 'half-close':
            case 'half-destroy':
            case 'half-reset':
                await write(whole.subarray(0, c.cut));
                await delay(c.pauses[0]);
                if (c.mode === 'half-close') {
                    socket.end();
                    return;
                }
                aborted = true;
                if (c.mode === 'half-reset') reset(socket);
                else socket.destroy();
                finish('client-aborted');
                return;
            case 'full-reset':
                await write(whole);
                await delay(c.resetAfter);
                aborted = true;
                reset(socket);
                finish('client-aborted');
                return;
            default:
                for (let i = 0; i < c.pieces.length; i++) {
                    await delay(c.pauses[i]);
                    await write(c.pieces[i]);
                }
            }
        });
    });
}
