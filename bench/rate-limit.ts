/**
 * npm run bench:rate-limit [-- --seconds 10 --warmup 2 --connections 50 --keys 10000]
 *
 * examples/rate-limit/limiter.ts under wrk, one run per case: the same node_access handler
 * counting in this nginx's shared dict, in a real redis-server (its own, on a loopback port),
 * and with the Redis gone (the fallback, as it answers during an outage); for reference the
 * same content handler without a limiter and behind nginx's own limit_req. One nginx, one
 * worker pinned to CPU 0; wrk -t1 and redis-server pinned to CPU 1. Each request carries one of
 * `keys` API keys (X-Api-Key, chosen at random by wrk's Lua), so the counters are many, as
 * with real clients. The limit is out of reach except in the "over the limit" cases, where
 * every request gets 429. Results go to bench/results/<date>-rate-limit.md.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from '../test/harness/http';
import { freePort, Nginx, workerUser } from '../test/harness/nginx';
import { MODULE, ROOT } from '../test/harness/paths';
import { RedisServer } from '../test/harness/redis';
import { processCpuNanos } from './proc';
import { parseWrk, WrkResult } from './wrk';
import { numberOption } from './options';

interface Case {
    id: string;
    name: string;
    /** what the location adds to the server's settings */
    location: string;
    /** what every request should get */
    status: number;
    /** whether the Redis server's CPU is part of the cost */
    redis?: boolean;
}

const CASES: Case[] = [
    { id: 'none', name: 'no limiter (`node_content` alone)', location: '', status: 200 },
    { id: 'limit-req', name: 'nginx `limit_req` (per instance, C; reference)', location: 'limit_req zone=req burst=1000000 nodelay;', status: 200 },
    { id: 'local', name: 'limiter, shared dict only (`$ratelimit_redis ""`)', location: 'node_access limiter.limit;', status: 200 },
    { id: 'redis', name: 'limiter, Redis (ioredis, one Lua script call)', location: 'set $ratelimit_redis $bench_redis; node_access limiter.limit;', status: 200, redis: true },
    { id: 'redis-down', name: 'limiter, Redis gone: the shared-dict fallback', location: 'set $ratelimit_redis $bench_no_redis; node_access limiter.limit;', status: 200 },
    { id: 'local-over', name: 'limiter, shared dict, every request over the limit (429)', location: 'set $ratelimit_limit 1; node_access limiter.limit;', status: 429 },
    { id: 'redis-over', name: 'limiter, Redis, every request over the limit (429)', location: 'set $ratelimit_limit 1; set $ratelimit_redis $bench_redis; node_access limiter.limit;', status: 429, redis: true },
];

interface Options {
    seconds: number;
    warmup: number;
    connections: number;
    keys: number;
}

function parseOptions(argv: string[]): Options {
    return {
        seconds: numberOption(argv, '--seconds', 10),
        warmup: numberOption(argv, '--warmup', 2),
        connections: numberOption(argv, '--connections', 50),
        keys: numberOption(argv, '--keys', 10000),
    };
}

function benchConf(port: number, redisUrl: string, noRedisUrl: string): string {
    const locations = CASES.map((c) => `        location = /${c.id} { ${c.location} node_content limiter.hello; }`);
    return `
load_module ${MODULE};
${workerUser()}
worker_processes 1;
worker_cpu_affinity 01;
worker_rlimit_nofile 20000;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    node_shared_dict_zone zone=ratelimit:16m type=number evict;
    node_import limiter from ${join(ROOT, 'examples', 'rate-limit', 'limiter.ts')};
    map $http_x_api_key $ratelimit_client { "" "addr:$remote_addr"; default "key:$http_x_api_key"; }
    limit_req_zone $ratelimit_client zone=req:16m rate=100000000r/s;
    limit_req_status 429;
    server {
        listen 127.0.0.1:${port} backlog=16384;
        set $bench_redis ${redisUrl};
        set $bench_no_redis ${noRedisUrl};
        set $ratelimit_redis "";
        set $ratelimit_limit 1000000000;
        set $ratelimit_window 1m;
        set $ratelimit_key $ratelimit_client;
        set $ratelimit_zone ratelimit;
        set $ratelimit_fail open;
${locations.join('\n')}
    }
}
`;
}

/** wrk -t1 on CPU 1; each request with one of `keys` API keys, at random. */
function wrk(url: string, seconds: number, connections: number, keys: number, script: string): Promise<WrkResult> {
    writeFileSync(script, [
        'math.randomseed(os.time())',
        'request = function()',
        `    return wrk.format("GET", nil, { ["X-Api-Key"] = "bench-" .. math.random(1, ${keys}) })`,
        'end',
        '',
    ].join('\n'));
    const args = ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url];
    return new Promise((resolve, reject) => {
        const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
        child.on('error', reject);
        child.on('close', (code) => {
            if (code !== 0) reject(new Error(`wrk exited with ${code}: ${out}`));
            else {
                try {
                    resolve(parseWrk(out));
                } catch (error) {
                    reject(error);
                }
            }
        });
    });
}

interface Row {
    c: Case;
    wrk: WrkResult;
    workerUs: number;
    redisUs?: number;
}

const us = (n: number) => n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(0)} µs`;

function table(rows: Row[]): string {
    const base = rows.find((row) => row.c.id === 'none');
    const lines = [
        '| case | req/s | p50 | p99 | worker CPU µs/req | redis-server CPU µs/req | non-2xx | × no limiter |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const { c, wrk: w, workerUs, redisUs } of rows) {
        lines.push(`| ${c.name} | ${w.rps.toFixed(0)} | ${us(w.p50us)} | ${us(w.p99us)} | ${workerUs.toFixed(1)} | ` +
            `${redisUs === undefined ? '' : redisUs.toFixed(1)} | ${w.non2xx} | ${base ? `${(w.rps / base.wrk.rps).toFixed(2)}×` : ''} |`);
    }
    return lines.join('\n');
}

function pin(pid: number, cpu: number): void {
    spawn('taskset', ['-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const scratch = mkdtempSync(join(tmpdir(), 'ngx-node-bench-'));
    chmodSync(scratch, 0o755);
    const redis = await RedisServer.start();
    let nginx: Nginx | undefined;
    try {
        if (redis.pid !== undefined) pin(redis.pid, 1);
        const noRedis = `redis://127.0.0.1:${await freePort()}`;
        nginx = await Nginx.start({ conf: (port) => benchConf(port, redis.url, noRedis) });
        const [worker] = nginx.workerPids();
        for (const c of CASES) {
            const reply = await request(nginx.url(`/${c.id}`), { headers: { 'X-Api-Key': 'check' } });
            const again = await request(nginx.url(`/${c.id}`), { headers: { 'X-Api-Key': 'check' } });
            if (again.status !== c.status) throw new Error(`/${c.id} answered ${reply.status}, then ${again.status}, not ${c.status}: ${again.text}`);
        }
        const rows: Row[] = [];
        const script = join(scratch, 'wrk.lua');
        for (const c of CASES) {
            process.stderr.write(`bench: /${c.id}: warm-up ${options.warmup} s, then ${options.seconds} s\n`);
            await wrk(nginx.url(`/${c.id}`), options.warmup, options.connections, options.keys, script);
            const before = processCpuNanos(worker);
            const redisBefore = redis.pid === undefined ? 0 : processCpuNanos(redis.pid);
            const result = await wrk(nginx.url(`/${c.id}`), options.seconds, options.connections, options.keys, script);
            const requests = Math.max(1, result.requests);
            rows.push({
                c, wrk: result,
                workerUs: (processCpuNanos(worker) - before) / 1000 / requests,
                redisUs: c.redis && redis.pid !== undefined ? (processCpuNanos(redis.pid) - redisBefore) / 1000 / requests : undefined,
            });
        }
        const errors = nginx.errorLog().split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
        const version = await redis.command('INFO', 'server').then((info) => /redis_version:(\S+)/.exec(info)?.[1] ?? '?', () => '?');
        const report = [
            `# ngx-node rate limiter benchmark, ${new Date().toISOString().slice(0, 10)}`,
            '',
            `\`npm run bench:rate-limit\`: [examples/rate-limit/limiter.ts](../../examples/rate-limit/limiter.ts) as \`node_access\`, ` +
            `one run of ${options.seconds} s per case after ${options.warmup} s of warm-up; nginx with one worker pinned to CPU 0, ` +
            `wrk \`-t1 -c${options.connections}\` and redis-server ${version} (\`--save ''\`, on loopback) pinned to CPU 1; ` +
            `${options.keys} API keys at random. Worker CPU µs/req: the nginx worker's CPU time (all its threads) per request; ` +
            'redis-server\'s likewise, where it is used.',
            '',
            `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
            '',
            table(rows),
            '',
            `error_log [error] and worse during the run: ${errors.length ? `${errors.length} lines, first: ${errors[0]}` : 'none'}`,
            '',
        ].join('\n');
        const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-rate-limit.md`);
        writeFileSync(file, report);
        process.stdout.write(`${report}\nbench: written to ${file}\n`);
    } finally {
        await nginx?.destroy();
        await redis.destroy();
        rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
