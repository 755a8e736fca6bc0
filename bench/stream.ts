/**
 * The stream section of `npm run bench` (alone: `npm run bench -- --stream-only`): nginx's
 * stream module with ngx-node's node_preread/node_set/node_filter against njs's js_preread/
 * js_set/js_filter (Debian's libnginx-mod-stream-js) and against plain proxy_pass, side by side
 * in one nginx whose single worker is pinned to CPU 0; the clients and the upstreams run on
 * CPU 1.
 *
 * Sessions: wrk sends each request with "Connection: close" to a stream listener, so that each
 * request is a new TCP session through nginx; the stream server proxies it to an HTTP upstream
 * (another nginx, `return 200`, its worker on CPU 1). With a script, the preread handler reads
 * the request line and picks the upstream{} group that `proxy_pass $variable` goes to, through
 * node_set / js_set (bench/handlers/stream-*.{mjs,js}).
 *
 * Throughput: a C peer (bench/peer/stream-peer.c, compiled here) streams through nginx to an
 * upstream of its own, in chunks of 1 MB or 64 KB (proxy_buffer_size set to match), upload
 * (client → upstream) and download (upstream → client), through identity filters with Buffer
 * events and with string events.
 *
 * A "no proxy" row in each table is the client side alone (wrk straight to the upstream, the
 * peer's client straight to its upstream): CPU 1 then does what it does in the proxied cases,
 * so it is the ceiling any proxied case can reach on this machine.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { request } from '../test/harness/http';
import { freePort, Nginx, workerUser } from '../test/harness/nginx';
import { NGINX_STREAM_MODULE, ROOT, STREAM_MODULE } from '../test/harness/paths';
import { processCpuNanos } from './proc';
import { runWrk, WrkResult } from './wrk';

const handlers = join(ROOT, 'bench', 'handlers');
const NJS_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_js_module.so';

export interface StreamCase {
    id: string;
    label: string;
    engine: 'none' | 'nginx' | 'njs' | 'node';
    /** the stream server's directives besides listen and proxy_pass; undefined: no nginx */
    server?: string;
    /** the njs case this one is compared with */
    njsPeer?: string;
}

/** The request line's path picks the upstream group "api" (bench/handlers/stream-routing.mjs). */
export const SESSION_PATH = '/api/orders';

export const sessionCases: StreamCase[] = [
    { id: 'direct', label: 'no proxy: wrk straight to the upstream (the client side\'s ceiling)', engine: 'none' },
    { id: 'plain', label: 'nginx `proxy_pass api` (no script)', engine: 'nginx', server: 'proxy_pass api;' },
    { id: 'njs', label: 'njs `js_preread` + `js_set` (`js_var`)', engine: 'njs', server: 'js_preread njs.route; proxy_pass $njs_upstream;' },
    {
        id: 'node', label: 'ngx-node `node_preread` + `node_set` (`WeakMap`)', engine: 'node',
        server: 'node_preread node.route; proxy_pass $node_upstream;', njsPeer: 'njs',
    },
];

export const throughputCases: StreamCase[] = [
    { id: 'direct', label: 'no proxy: the peer\'s client straight to its upstream (its ceiling)', engine: 'none' },
    { id: 'plain', label: 'nginx `proxy_pass` (no filter)', engine: 'nginx', server: '' },
    { id: 'njs-bytes', label: 'njs `js_filter`, Buffer events (`upstream`/`downstream`)', engine: 'njs', server: 'js_filter njs.bytes;' },
    { id: 'node-bytes', label: 'ngx-node `node_filter`, Buffer events (`upstream`/`downstream`)', engine: 'node', server: 'node_filter node.bytes;', njsPeer: 'njs-bytes' },
    { id: 'njs-text', label: 'njs `js_filter`, string events (`upload`/`download`)', engine: 'njs', server: 'js_filter njs.text;' },
    { id: 'node-text', label: 'ngx-node `node_filter`, string events (`upload`/`download`)', engine: 'node', server: 'node_filter node.text;', njsPeer: 'njs-text' },
];

export const CHUNKS = [1 << 20, 64 << 10];
export const DIRECTIONS = ['up', 'down'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface SessionSample extends WrkResult {
    /** the stream worker's CPU time per session, µs */
    cpuUsPerSession: number;
    /** the stream worker's CPU time over wall time, 0..1 */
    workerBusy: number;
}

export interface ThroughputSample {
    /** MB (10^6 bytes) per second that reached the receiving end */
    mbPerSecond: number;
    /** the stream worker's CPU time per MB, µs */
    cpuUsPerMB: number;
    workerBusy: number;
}

/** throughputKey(case, chunk, direction) */
export function throughputKey(caseId: string, chunk: number, direction: Direction): string {
    return `${caseId}/${chunk}/${direction}`;
}

export interface StreamResults {
    /** sessions[caseId] = one sample per round */
    sessions: Record<string, SessionSample[]>;
    /** throughput[throughputKey] = one sample per round */
    throughput: Record<string, ThroughputSample[]>;
    rounds: number;
    sessionSeconds: number;
    transferSeconds: number;
    connections: number;
    /** `uptime` before and after, for the load on the machine */
    load: string[];
}

export interface StreamOptions {
    rounds: number;
    /** how long wrk runs per session case */
    seconds: number;
    /** how long each throughput transfer streams */
    transferSeconds: number;
    warmupSeconds: number;
    connections: number;
}

interface Ports {
    sessions: Record<string, number>;
    /** throughput[`${caseId}/${chunk}`] */
    throughput: Record<string, number>;
}

function uptime(): string {
    const r = spawnSync('uptime', { encoding: 'utf8' });
    return r.stdout.trim();
}

/** The upstream of the session cases: nginx answering `return 200` on CPU 1. */
function upstreamConf(port: number, apiPort: number): string {
    return `${workerUser()}
worker_processes 1;
worker_cpu_affinity 10;
worker_rlimit_nofile 20000;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    server { listen 127.0.0.1:${port} backlog=16384; return 200 "web\\n"; }
    server { listen 127.0.0.1:${apiPort} backlog=16384; return 200 "api\\n"; }
}
`;
}

/** The measured nginx: njs's and ngx-node's stream modules, every case a server of its own. */
export function streamConf(ports: Ports, web: number, api: number, peer: number): string {
    const sessionServers = sessionCases.filter((c) => c.server !== undefined).map((c) =>
        `    server { listen 127.0.0.1:${ports.sessions[c.id]} backlog=16384; ${c.server} }`);
    const throughputServers = throughputCases.filter((c) => c.server !== undefined).flatMap((c) => CHUNKS.map((chunk) =>
        `    server { listen 127.0.0.1:${ports.throughput[`${c.id}/${chunk}`]}; proxy_buffer_size ${chunk >> 10}k; proxy_half_close on; ${c.server} proxy_pass 127.0.0.1:${peer}; }`));
    return `load_module ${NGINX_STREAM_MODULE};
load_module ${NJS_STREAM_MODULE};
load_module ${STREAM_MODULE};
${workerUser()}
worker_processes 1;
worker_cpu_affinity 01;
worker_rlimit_nofile 20000;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 20000; }
stream {
    js_import njs from ${handlers}/stream-njs.js;
    js_var $route;
    js_set $njs_upstream njs.upstream;
    node_import node from ${handlers}/stream-node.mjs;
    node_set $node_upstream node.upstream;
    upstream web { server 127.0.0.1:${web}; }
    upstream api { server 127.0.0.1:${api}; }
    upstream static { server 127.0.0.1:${web}; }
    upstream uploads { server 127.0.0.1:${web}; }
${sessionServers.join('\n')}
${throughputServers.join('\n')}
}
`;
}

/** Compiles the C peer and starts its upstream on CPU 1; resolves to the process and its port. */
async function startPeer(scratch: string): Promise<{ binary: string; server: ChildProcess; port: number }> {
    const binary = join(scratch, 'stream-peer');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-pthread', '-o', binary, join(ROOT, 'bench', 'peer', 'stream-peer.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc stream-peer.c failed: ${cc.stderr}`);
    const server = spawn('taskset', ['-c', '1', binary, 'server'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
        const lines = createInterface({ input: server.stdout! });
        lines.once('line', (line) => resolve(Number(line)));
        server.once('exit', (code) => reject(new Error(`stream-peer server exited with ${code}`)));
    });
    return { binary, server, port };
}

interface PeerResult {
    bytes: number;
    seconds: number;
    ok: boolean;
}

/** One transfer by the peer's client on CPU 1: for `amount` seconds, or "=<bytes>" checked. */
function peerTransfer(binary: string, port: number, direction: Direction, chunk: number, amount: string): Promise<PeerResult> {
    return new Promise((resolve, reject) => {
        const child = spawn('taskset', ['-c', '1', binary, 'client', String(port), direction, String(chunk), amount],
            { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (data: Buffer) => { out += data.toString(); });
        child.stderr.on('data', (data: Buffer) => { out += data.toString(); });
        const timer = setTimeout(() => child.kill('SIGTERM'), 120000);
        child.on('error', reject);
        child.on('close', (code) => {
            clearTimeout(timer);
            const match = /^(\d+) ([\d.]+) (ok|bad)\n$/.exec(out);
            if (code !== 0 || !match) {
                reject(new Error(`stream-peer client ${port} ${direction} ${chunk} ${amount}: exit ${code}: ${out}`));
                return;
            }
            resolve({ bytes: Number(match[1]), seconds: Number(match[2]), ok: match[3] === 'ok' });
        });
    });
}

/** Every session case answers the upstream group its routing picked; every filter passes each byte. */
async function verify(nginx: Nginx, sessionPort: (c: StreamCase) => number, transferPort: (c: StreamCase, chunk: number) => number,
    binary: string): Promise<void> {
    for (const c of sessionCases) {
        const reply = await request(`http://127.0.0.1:${sessionPort(c)}${SESSION_PATH}`, { headers: { Connection: 'close' } });
        if (reply.status !== 200 || reply.text !== 'api\n') {
            throw new Error(`sessions ${c.id}: ${reply.status} ${JSON.stringify(reply.text)}\n${nginx.errorLog().slice(-2000)}`);
        }
    }
    const bytes = 3 * (1 << 20) + 4096 + 64;
    for (const c of throughputCases) {
        for (const chunk of CHUNKS) {
            for (const direction of DIRECTIONS) {
                const result = await peerTransfer(binary, transferPort(c, chunk), direction, chunk, `=${bytes}`);
                if (!result.ok || result.bytes !== bytes) {
                    throw new Error(`throughput ${throughputKey(c.id, chunk, direction)}: ${result.bytes} of ${bytes} bytes came, ` +
                        `${result.ok ? 'as sent' : 'not as sent'}\n${nginx.errorLog().slice(-2000)}`);
                }
            }
        }
    }
}

/** Interleaved: each item once per round, each round starting at another item. */
function rotated<T>(items: T[], round: number, rounds: number): T[] {
    const shift = Math.floor(round * items.length / rounds);
    return [...items.slice(shift), ...items.slice(0, shift)];
}

export async function measureStream(options: StreamOptions, scratch: string): Promise<StreamResults> {
    const load = [uptime()];
    const peer = await startPeer(scratch);
    let upstream: Nginx | undefined;
    let nginx: Nginx | undefined;
    try {
        const apiPort = await freePort();
        upstream = await Nginx.start({ conf: (port) => upstreamConf(port, apiPort) });
        const web = upstream.port;
        // ports of their own, taken before any load (the load churns through the ephemeral range)
        const taken = new Set([web, apiPort, peer.port]);
        const port = async () => {
            for (;;) {
                const p = await freePort();
                if (!taken.has(p)) {
                    taken.add(p);
                    return p;
                }
            }
        };
        const ports: Ports = { sessions: {}, throughput: {} };
        for (const c of sessionCases) if (c.server !== undefined && c.id !== 'plain') ports.sessions[c.id] = await port();
        for (const c of throughputCases) if (c.server !== undefined) for (const chunk of CHUNKS) ports.throughput[`${c.id}/${chunk}`] = await port();
        nginx = await Nginx.start({
            conf: (p) => {
                // the harness waits for the port it gives: the plain session server's
                if (taken.has(p)) throw new Error(`port ${p} was given twice; run again`);
                ports.sessions.plain = p;
                return streamConf(ports, web, apiPort, peer.port);
            },
        });
        const [worker] = nginx.workerPids();
        const sessionPort = (c: StreamCase) => c.server === undefined ? apiPort : ports.sessions[c.id];
        const transferPort = (c: StreamCase, chunk: number) => c.server === undefined ? peer.port : ports.throughput[`${c.id}/${chunk}`];
        await verify(nginx, sessionPort, transferPort, peer.binary);

        const script = join(scratch, 'wrk-stream.lua');
        const wrk = (c: StreamCase, seconds: number) => runWrk({
            url: `http://127.0.0.1:${sessionPort(c)}${SESSION_PATH}`, method: 'GET', headers: { Connection: 'close' },
        }, seconds, options.connections, script);
        process.stderr.write(`bench: stream: warming up ${sessionCases.length} session cases\n`);
        for (const c of sessionCases) await wrk(c, options.warmupSeconds);

        const results: StreamResults = {
            sessions: {}, throughput: {}, rounds: options.rounds, sessionSeconds: options.seconds,
            transferSeconds: options.transferSeconds, connections: options.connections, load,
        };
        for (let round = 0; round < options.rounds; round++) {
            for (const c of rotated(sessionCases, round, options.rounds)) {
                const before = processCpuNanos(worker);
                const result = await wrk(c, options.seconds);
                const cpu = processCpuNanos(worker) - before;
                (results.sessions[c.id] ??= []).push({
                    ...result, cpuUsPerSession: cpu / 1000 / Math.max(1, result.requests), workerBusy: cpu / 1e9 / result.seconds,
                });
                process.stderr.write(`bench: stream round ${round + 1}/${options.rounds} sessions ${c.id}: ` +
                    `${result.rps.toFixed(0)}/s, ${(cpu / 1000 / Math.max(1, result.requests)).toFixed(1)} µs/session\n`);
            }
        }
        const transfers = throughputCases.flatMap((c) => CHUNKS.flatMap((chunk) => DIRECTIONS.map((direction) => ({ c, chunk, direction }))));
        for (let round = 0; round < options.rounds; round++) {
            for (const { c, chunk, direction } of rotated(transfers, round, options.rounds)) {
                const before = processCpuNanos(worker);
                const result = await peerTransfer(peer.binary, transferPort(c, chunk), direction, chunk, String(options.transferSeconds));
                const cpu = processCpuNanos(worker) - before;
                const mb = result.bytes / 1e6;
                (results.throughput[throughputKey(c.id, chunk, direction)] ??= []).push({
                    mbPerSecond: mb / result.seconds, cpuUsPerMB: cpu / 1000 / Math.max(mb, 1e-9), workerBusy: cpu / 1e9 / result.seconds,
                });
                process.stderr.write(`bench: stream round ${round + 1}/${options.rounds} ${throughputKey(c.id, chunk, direction)}: ` +
                    `${(mb / result.seconds).toFixed(0)} MB/s\n`);
            }
        }
        const troubles = nginx.troubles();
        if (troubles.length) throw new Error(`the stream nginx logged troubles:\n${troubles.join('\n')}`);
        load.push(uptime());
        return results;
    } finally {
        await nginx?.destroy();
        await upstream?.destroy();
        peer.server.kill('SIGTERM');
    }
}
