/**
 * OpenResty's Lua calling Node.js: round trips per call through resty.node (Node in the same
 * worker) against a cosocket to a Node server on a unix socket, for 512 B, 4 KB and 100 KB
 * payloads echoed back. Each measurement is a loop of calls inside one request, timed by the
 * Lua side with CLOCK_MONOTONIC (bench/handlers/lua_bridge.lua).
 */
import { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { request } from '../test/harness/http';
import { MODULE, ROOT } from '../test/harness/paths';
import { Nginx } from '../test/harness/nginx';
import { startNodeServer } from './node-server';
import { median, Target } from './report';

const handlers = join(ROOT, 'bench', 'handlers');

export const bridgeSizes = [512, 4096, 102400];

export interface BridgeCase {
    id: string;
    label: string;
    query: (sockets: Record<string, string>) => string;
}

export const bridgeCases: BridgeCase[] = [
    { id: 'node-sync', label: '`resty.node`, sync function', query: () => 'via=node&fn=echo' },
    { id: 'node-async', label: '`resty.node`, async function (settles in the call)', query: () => 'via=node&fn=echoAsync' },
    { id: 'node-yield', label: '`resty.node`, async function awaiting `setImmediate` (Lua yields)', query: () => 'via=node&fn=echoNextTurn' },
    { id: 'socket-same', label: 'cosocket → Node server on a unix socket, same CPU', query: (s) => `via=socket&path=${s.same}` },
    { id: 'socket-other', label: 'cosocket → Node server on a unix socket, other CPU', query: (s) => `via=socket&path=${s.other}` },
];

/** usPerCall[caseId][size] = one value per round */
export type BridgeSamples = Record<string, Record<number, number[]>>;

function conf(port: number): string {
    return `
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
load_module ${MODULE};
worker_processes 1;
worker_cpu_affinity 01;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    lua_package_path "${ROOT}/lua/?.lua;${handlers}/?.lua;;";
    node_path ${handlers};
    server {
        listen 127.0.0.1:${port};
        location = /bridge { content_by_lua_block { require("lua_bridge").run() } }
    }
}
`;
}

async function measure(nginx: Nginx, query: string, size: number, seconds: number): Promise<number> {
    const reply = await request(nginx.url(`/bridge?${query}&size=${size}&seconds=${seconds}`), { timeoutMs: (seconds + 30) * 1000 });
    const match = /^(\d+) (\d+)\n$/.exec(reply.text);
    if (reply.status !== 200 || !match) {
        throw new Error(`/bridge?${query}&size=${size} answered ${reply.status}: ${reply.text}\n${nginx.errorLog().slice(-2000)}`);
    }
    return Number(match[2]) / 1000 / Number(match[1]);
}

export async function measureLuaBridge(rounds: number, seconds: number, scratch: string): Promise<BridgeSamples> {
    const sockets = { same: join(scratch, 'echo-same.sock'), other: join(scratch, 'echo-other.sock') };
    const servers: ChildProcess[] = [];
    let nginx: Nginx | undefined;
    try {
        servers.push(await startNodeServer('echo-server.mjs', sockets.same, 0));
        servers.push(await startNodeServer('echo-server.mjs', sockets.other, 1));
        nginx = await Nginx.start({ conf });
        const runs = bridgeCases.flatMap((c) => bridgeSizes.map((size) => ({ c, size })));
        for (const { c, size } of runs) await measure(nginx, c.query(sockets), size, 0.2);
        const samples: BridgeSamples = {};
        for (let round = 0; round < rounds; round++) {
            const shift = Math.floor(round * runs.length / rounds);
            for (const { c, size } of [...runs.slice(shift), ...runs.slice(0, shift)]) {
                const us = await measure(nginx, c.query(sockets), size, seconds);
                ((samples[c.id] ??= {})[size] ??= []).push(us);
                process.stderr.write(`bench: round ${round + 1}/${rounds} lua-bridge ${c.id} ${size} B: ${us.toFixed(2)} µs/call\n`);
            }
        }
        return samples;
    } finally {
        await nginx?.destroy();
        for (const server of servers) server.kill('SIGTERM');
    }
}

const sizeLabel = (size: number) => size >= 1024 ? `${size / 1024} KB` : `${size} B`;

/** The faster unix-socket placement of a round, the socket's best case. */
function bestSocket(samples: BridgeSamples, size: number, round: number): number | undefined {
    const values = ['socket-same', 'socket-other'].map((id) => samples[id]?.[size]?.[round]).filter((v): v is number => v !== undefined);
    return values.length ? Math.min(...values) : undefined;
}

/** The median over rounds of a case's µs/call divided by the best socket's in the same round. */
export function bridgeRatio(samples: BridgeSamples, caseId: string, size: number): number | undefined {
    const values = samples[caseId]?.[size];
    if (!values) return undefined;
    const ratios = values.map((v, round) => {
        const socket = bestSocket(samples, size, round);
        return socket === undefined ? undefined : v / socket;
    }).filter((r): r is number => r !== undefined);
    return ratios.length ? median(ratios) : undefined;
}

export function bridgeTable(samples: BridgeSamples): string {
    const header = `| call (echo, round trip) | ${bridgeSizes.map((s) => `${sizeLabel(s)} µs/call`).join(' | ')} | ${bridgeSizes.map((s) => `${sizeLabel(s)} × socket`).join(' | ')} |`;
    const rows = [header, `|---|${bridgeSizes.map(() => '---:').join('|')}|${bridgeSizes.map(() => '---:').join('|')}|`];
    for (const c of bridgeCases) {
        const values = samples[c.id];
        if (!values) continue;
        const socket = c.id.startsWith('socket');
        rows.push(`| ${c.label} | ${bridgeSizes.map((s) => values[s] ? median(values[s]).toFixed(2) : '').join(' | ')} | ` +
            `${bridgeSizes.map((s) => socket ? '' : `${bridgeRatio(samples, c.id, s)?.toFixed(2) ?? ''}×`).join(' | ')} |`);
    }
    rows.push('', '× socket: µs per call over the faster of the two unix-socket placements in the same round (median over rounds); ' +
        'the socket client sends a frame built once, so it pays no per-call copy of the payload.');
    return rows.join('\n');
}

export function bridgeTargets(samples: BridgeSamples): Target[] {
    const atMost = (what: string, value: number | undefined, goal: number): Target => ({
        what, measured: value === undefined ? 'not measured' : `${value.toFixed(2)}×`, met: value === undefined ? undefined : value <= goal,
    });
    return [
        atMost('Lua → Node 512 B round trip ≤ 1/3 of a unix socket\'s (sync function)', bridgeRatio(samples, 'node-sync', 512), 1 / 3),
        atMost('Lua → Node 512 B round trip ≤ 1/3 of a unix socket\'s (Lua yields)', bridgeRatio(samples, 'node-yield', 512), 1 / 3),
    ];
}
