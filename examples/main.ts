/**
 * The seed scenarios, written for ngx-node: an echo handler, and a key=value access log
 * built from the request and response headers. `npm run demo` serves them on 127.0.0.1:8080.
 */
import type { NginxHTTPRequest } from 'ngx-node';

/** Answers with the request body, byte for byte, in the request's content type. */
export async function echo(r: NginxHTTPRequest): Promise<void> {
    const body = Buffer.from(await r.readRequestArrayBuffer());
    r.headersOut['Content-Type'] = r.headersIn['Content-Type'] ?? 'application/octet-stream';
    r.return(200, body);
}

/** A value as it goes in a key=value line: bare if it can be, else quoted with \" and \\. */
export function logValue(value: string): string {
    if (value !== '' && !/[\s"\\\x00-\x1f\x7f]/.test(value)) return value;
    const escaped = value.replace(/[\\"]/g, (c) => `\\${c}`)
        .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return `"${escaped}"`;
}

/**
 * One access log line:
 *   2026-11-21T10:00:00+00:00 client=127.0.0.1 method=GET uri=/ status=200 req.Host=... res.Content-Type=...
 * Used as `node_set $access_log_with_headers main.kvAccessLog;` and
 * `log_format kvpairs escape=none $access_log_with_headers;`.
 */
export function kvAccessLog(r: NginxHTTPRequest): string {
    const fields = [
        r.variables.time_iso8601 ?? new Date().toISOString(),
        `client=${logValue(r.remoteAddress)}`,
        `method=${logValue(r.method)}`,
        `uri=${logValue(r.variables.request_uri ?? r.uri)}`,
        `status=${r.status}`,
    ];
    for (const [name, value] of Object.entries(r.headersIn)) {
        fields.push(`req.${name}=${logValue(value ?? '')}`);
    }
    for (const [name, value] of Object.entries(r.headersOut)) {
        for (const item of Array.isArray(value) ? value : [value]) {
            fields.push(`res.${name}=${logValue(String(item ?? ''))}`);
        }
    }
    return fields.join(' ');
}

/** Says hello, after a real asynchronous wait: the worker serves others meanwhile. */
export async function hello(r: NginxHTTPRequest): Promise<void> {
    const ms = Number(r.args.ms ?? 0);
    await new Promise<void>((resolve) => setTimeout(resolve, ms));
    r.headersOut['Content-Type'] = 'text/plain; charset=utf-8';
    r.return(200, `Hello from Node.js ${process.version} in nginx worker ${ngx.worker_id}` +
        `${ms ? ` after ${ms} ms` : ''}\n`);
}
