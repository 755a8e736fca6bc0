/**
 * npm run bench:reload [-- --seconds 20 --reloads 20 --connections 50 --workers 1 --together --no-lua]
 *
 * Reload under load: wrk against `return 200`, against an async node_content handler (a 10 ms
 * timer) and, for comparison, against Lua's ngx.sleep(0.01) (nginx's own way to wait, no
 * Node), in the same nginx, each for `seconds` while the master gets SIGHUP (what
 * `nginx -s reload` sends) `reloads` times at even intervals; first a run of each without
 * reloads. Reports requests, non-2xx and wrk's socket errors (connect, read, write, timeout)
 * side by side, and whether a worker died. --together loads the targets at once (one wrk
 * each) instead of one after the other.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { request } from '../test/harness/http';
import { configuration, Nginx, sleep } from '../test/harness/nginx';
import { ROOT } from '../test/harness/paths';
import { numberOption } from './options';

export interface Target {
    name: string;
    path: string;
}

export const TARGETS: Target[] = [
    { name: '`return 200`', path: '/return' },
    { name: 'async `node_content` (10 ms timer)', path: '/async?ms=10' },
];

/** nginx's own async handler, for comparison: Lua's ngx.sleep (lua-nginx-module) */
export const LUA_TARGET: Target = { name: 'Lua `ngx.sleep(0.01)` (no Node)', path: '/lua' };

export function reloadConf(port: number, workers: number, lua = false): string {
    return configuration(port, {
        workers,
        main: `worker_rlimit_nofile 20000;${lua ? `
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;` : ''}`,
        http: `
    node_import node from ${join(ROOT, 'bench', 'handlers', 'node.mjs')};
    keepalive_requests 1000000;`,
        server: `
        location = /return { return 200 "hello\\n"; }
        location = /async { node_content node.wait; }${lua ? `
        location = /lua { content_by_lua_block { ngx.sleep(0.01) ngx.print("hello\\n") } }` : ''}`,
    });
}

export interface WrkErrors {
    requests: number;
    seconds: number;
    non2xx: number;
    connect: number;
    read: number;
    write: number;
    timeout: number;
    /** latency, ms: 99th percentile and the slowest request */
    p99ms: number;
    maxMs: number;
}

function millis(value: string | undefined): number {
    const match = /^([\d.]+)(us|ms|s|m)$/.exec(value ?? '');
    if (!match) return NaN;
    const n = Number(match[1]);
    return match[2] === 'us' ? n / 1000 : match[2] === 'ms' ? n : match[2] === 's' ? n * 1000 : n * 60000;
}

export function parseWrkErrors(output: string): WrkErrors {
    const requests = /(\d+) requests in ([\d.]+)(m?s)/.exec(output);
    if (!requests) throw new Error(`wrk printed no request count:\n${output}`);
    const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    return {
        requests: Number(requests[1]),
        seconds: Number(requests[2]) / (requests[3] === 'ms' ? 1000 : 1),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
        connect: Number(errors?.[1] ?? 0),
        read: Number(errors?.[2] ?? 0),
        write: Number(errors?.[3] ?? 0),
        timeout: Number(errors?.[4] ?? 0),
        p99ms: millis(/\n\s+99%\s+(\S+)/.exec(output)?.[1]),
        maxMs: millis(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(output)?.[1]),
    };
}

function wrk(url: string, seconds: number, connections: number): Promise<WrkErrors> {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', url];
    return new Promise((resolve, reject) => {
        const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.on('error', reject);
        child.on('close', (code) => {
            if (code !== 0) reject(new Error(`wrk exited with ${code}: ${out}`));
            else {
                try {
                    resolve(parseWrkErrors(out));
                } catch (error) {
                    reject(error);
                }
            }
        });
    });
}

export interface PhaseResult {
    target: Target;
    wrk: WrkErrors;
    /** SIGHUPs sent, received by the master, and workers it started, in the phase */
    sent: number;
    received: number;
    started: number;
}

/** Sends SIGHUP `count` times, evenly over `seconds` (the first half an interval in). */
async function reloads(nginx: Nginx, count: number, seconds: number): Promise<number> {
    const started = Date.now();
    const interval = (seconds * 1000) / count;
    let sent = 0;
    for (let i = 0; i < count; i++) {
        const at = started + (i + 0.5) * interval;
        await sleep(Math.max(0, at - Date.now()));
        process.kill(nginx.masterPid, 'SIGHUP');
        sent++;
    }
    return sent;
}

/**
 * Waits until the reloads are over: the master has started no new worker for 2 s (a SIGHUP
 * waits while the master checks the modules of the previous one), and the old workers have
 * finished their requests and left.
 */
async function settle(nginx: Nginx, workers: number): Promise<void> {
    const started = () => (nginx.errorLog().match(/start worker process \d+/g) ?? []).length;
    const deadline = Date.now() + 60000;
    let count = started();
    let since = Date.now();
    while (Date.now() < deadline) {
        await sleep(100);
        if (started() !== count) {
            count = started();
            since = Date.now();
        }
        if (Date.now() - since >= 2000 && nginx.workerPids().length <= workers) return;
    }
}

interface Options {
    seconds: number;
    reloads: number;
    connections: number;
    workers: number;
    baselineSeconds: number;
    together: boolean;
    lua: boolean;
}

function parseOptions(argv: string[]): Options {
    return {
        seconds: numberOption(argv, '--seconds', 20),
        reloads: numberOption(argv, '--reloads', 20),
        connections: numberOption(argv, '--connections', 50),
        workers: numberOption(argv, '--workers', 1),
        baselineSeconds: numberOption(argv, '--baseline-seconds', 5),
        together: argv.includes('--together'),
        lua: !argv.includes('--no-lua'),
    };
}

async function phase(nginx: Nginx, targets: Target[], options: Options, seconds: number, reloadCount: number): Promise<PhaseResult[]> {
    const logBefore = nginx.errorLog().length;
    const runs = targets.map((target) => wrk(nginx.url(target.path), seconds, options.connections));
    const sending = reloadCount > 0 ? reloads(nginx, reloadCount, seconds) : Promise.resolve(0);
    const results = await Promise.all(runs);
    const sent = await sending;
    await settle(nginx, options.workers);
    const log = nginx.errorLog().slice(logBefore);
    const received = (log.match(/signal 1 \(SIGHUP\) received/g) ?? []).length;
    const started = (log.match(/start worker process \d+/g) ?? []).length;
    return results.map((w, i) => ({ target: targets[i], wrk: w, sent, received, started }));
}

function table(title: string, results: PhaseResult[], reloading: boolean): string {
    const lines = [
        `#### ${title}`,
        '',
        `| target | requests | req/s | non-2xx | connect errors | read errors | write errors | timeouts | p99 | max |${reloading ? ' SIGHUPs sent / received / workers started |' : ''}`,
        `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|${reloading ? '---:|' : ''}`,
    ];
    const ms = (n: number) => (Number.isNaN(n) ? '?' : n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(2)} ms`);
    for (const { target, wrk: w, sent, received, started } of results) {
        lines.push(`| ${target.name} | ${w.requests} | ${Math.round(w.requests / w.seconds)} | ${w.non2xx} | ${w.connect} | ${w.read} | ${w.write} | ${w.timeout} | ${ms(w.p99ms)} | ${ms(w.maxMs)} |` +
            `${reloading ? ` ${sent} / ${received} / ${started} |` : ''}`);
    }
    return lines.join('\n');
}

async function main(): Promise<number> {
    const options = parseOptions(process.argv.slice(2));
    const targets = options.lua ? [...TARGETS, LUA_TARGET] : TARGETS;
    const nginx = await Nginx.start({ conf: (port) => reloadConf(port, options.workers, options.lua) });
    try {
        // the workers are up (nginx listens before Node has started in them)
        for (const target of targets) await request(nginx.url(target.path));
        const firstPids = nginx.workerPids();
        const out: string[] = [];
        const order: Target[][] = options.together ? [targets] : targets.map((t) => [t]);
        const how = options.together ? 'all targets at once' : 'one target after the other';

        const baseline: PhaseResult[] = [];
        for (const group of order) baseline.push(...await phase(nginx, group, options, options.baselineSeconds, 0));
        out.push(table(`No reload: wrk -t1 -c${options.connections} for ${options.baselineSeconds} s, ${how}`, baseline, false), '');

        const reloaded: PhaseResult[] = [];
        for (const group of order) reloaded.push(...await phase(nginx, group, options, options.seconds, options.reloads));
        out.push(table(`${options.reloads} reloads (SIGHUP to the master) at even intervals during ${options.seconds} s of ` +
            `wrk -t1 -c${options.connections}, ${how}`, reloaded, true));

        const answers = await Promise.all(targets.map((target) => request(nginx.url(target.path))));
        const troubles = nginx.troubles();
        out.push('', `nginx ${answers.every((a) => a.status === 200) ? 'answers' : 'DOES NOT answer'} after the run; ` +
            `workers now: ${nginx.workerPids().join(',')} (first: ${firstPids.join(',')}); ` +
            `error_log alerts/crashes: ${troubles.length ? troubles.join(' | ') : 'none'}`);
        const notable = nginx.errorLog().split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
        if (notable.length) out.push('', `error_log [error] and worse (${notable.length} lines, first 10):`, ...notable.slice(0, 10));
        console.log(out.join('\n'));
        return troubles.length ? 1 : 0;
    } finally {
        await nginx.destroy();
    }
}

if (require.main === module) {
    main().then((code) => process.exit(code), (error: unknown) => {
        console.error(error);
        process.exit(2);
    });
}
