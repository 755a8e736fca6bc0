/** Running wrk on CPU 1 and reading what it printed. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface WrkResult {
    requests: number;
    seconds: number;
    rps: number;
    p50us: number;
    p99us: number;
    non2xx: number;
    socketErrors: number;
}

export interface WrkRequest {
    url: string;
    method: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
}

function micros(value: string): number {
    const match = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
    if (!match) throw new Error(`wrk latency "${value}"`);
    const n = Number(match[1]);
    return match[2] === 'us' ? n : match[2] === 'ms' ? n * 1000 : n * 1e6;
}

export function parseWrk(output: string): WrkResult {
    const number = (pattern: RegExp): number => {
        const match = pattern.exec(output);
        if (!match) throw new Error(`wrk output lacks ${pattern}:\n${output}`);
        return Number(match[1]);
    };
    const requests = number(/(\d+) requests in/);
    const seconds = number(/requests in ([\d.]+)s/);
    const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    return {
        requests,
        seconds,
        rps: number(/Requests\/sec:\s+([\d.]+)/),
        p50us: micros(/\n\s+50%\s+(\S+)/.exec(output)?.[1] ?? ''),
        p99us: micros(/\n\s+99%\s+(\S+)/.exec(output)?.[1] ?? ''),
        non2xx: /Non-2xx or 3xx responses: (\d+)/.exec(output) ? number(/Non-2xx or 3xx responses: (\d+)/) : 0,
        socketErrors: errors ? errors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    };
}

/** wrk -t1 on CPU 1 for `seconds`; a Lua script carries the method, headers and body. */
export function runWrk(request: WrkRequest, seconds: number, connections: number, scriptFile: string): Promise<WrkResult> {
    const lines = [`wrk.method = ${JSON.stringify(request.method)}`];
    for (const [name, value] of Object.entries(request.headers ?? {})) {
        lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
    }
    if (request.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(request.body)}`);
    writeFileSync(scriptFile, lines.join('\n') + '\n');
    const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', scriptFile, request.url];
    return new Promise((resolve, reject) => {
        const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.on('error', reject);
        child.on('close', (code) => {
            if (code !== 0) {
                reject(new Error(`wrk exited with ${code}: ${out}`));
                return;
            }
            try {
                resolve(parseWrk(out));
            } catch (error) {
                reject(error);
            }
        });
    });
}
