/**
 * npm run bench [-- --quick] [--rounds N] [--seconds S] [--connections C] [--groups a,b]
 *                 [--cases-only | --bridge-only | --stream-only] [--update-readme]
 * npm run bench -- --instructions [--requests N] [--warmup N]   (bench/instructions.ts)
 *
 * Every case of bench/cases.ts in interleaved rounds against one nginx (one worker on CPU 0,
 * wrk on CPU 1), then 10 000 pending async requests, then the stream module (bench/stream.ts:
 * new TCP sessions through preread routing, throughput through filters), then OpenResty's Lua
 * calling Node (bench/lua-bridge.ts), then memory and start-up. Prints the tables and writes
 * them to bench/results/<date>.md.
 */
import { ChildProcess, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from '../test/harness/http';
import { Nginx } from '../test/harness/nginx';
import { ROOT } from '../test/harness/paths';
import { Case, casePath, Group, groups } from './cases';
import { ConcurrencyResult, pendingRequests } from './concurrency';
import { benchConf } from './conf';
import { instructionsReport } from './instructions';
import { BridgeSamples, bridgeTable, bridgeTargets, measureLuaBridge } from './lua-bridge';
import { startNodeServer } from './node-server';
import { processCpuNanos } from './proc';
import { groupTable, pendingTable, Samples, startupTable, targets, targetsTable } from './report';
import { measureStartup, StartupResult } from './startup';
import { measureStream, StreamResults } from './stream';
import { streamMarkdown } from './stream-report';
import { runWrk, WrkRequest } from './wrk';
import { numberOption, stringOption } from './options';

interface Options {
    quick: boolean;
    /** the groups to run; all by default */
    groups: Group[];
    /** leave out the pending-requests, Lua-bridge and memory/start-up parts */
    casesOnly: boolean;
    /** only the Lua-bridge part */
    bridgeOnly: boolean;
    /** only the stream part */
    streamOnly: boolean;
    rounds: number;
    seconds: number;
    warmupSeconds: number;
    connections: number;
    /** how long each stream throughput transfer streams */
    transferSeconds: number;
    pending: number;
    starts: number;
    updateReadme: boolean;
}

function parseOptions(argv: string[]): Options {
    const quick = argv.includes('--quick');
    const only = stringOption(argv, '--groups')?.split(',');
    const selected = only ? groups.filter((group) => only.includes(group.id)) : groups;
    if (only && selected.length !== only.length) throw new Error(`--groups takes ${groups.map((g) => g.id).join(',')}`);
    return {
        quick,
        groups: selected,
        casesOnly: argv.includes('--cases-only'),
        bridgeOnly: argv.includes('--bridge-only'),
        streamOnly: argv.includes('--stream-only'),
        rounds: numberOption(argv, '--rounds', 3),
        seconds: numberOption(argv, '--seconds', quick ? 1 : 10),
        warmupSeconds: quick ? 1 : 2,
        connections: numberOption(argv, '--connections', 50),
        transferSeconds: numberOption(argv, '--transfer-seconds', quick ? 0.5 : 3),
        pending: numberOption(argv, '--pending', 10000),
        starts: quick ? 3 : 7,
        updateReadme: argv.includes('--update-readme'),
    };
}

function base64url(data: string | Buffer): string {
    return Buffer.from(data).toString('base64url');
}

/** A valid HS256 token for the jwt group (handlers/logic.mjs has the same secret and claims). */
function benchToken(): string {
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(JSON.stringify({
        sub: 'bench-user', iss: 'ngx-node-bench', aud: ['bench', 'other'], iat: 1700000000, exp: Math.floor(Date.now() / 1000) + 86400,
    }));
    const signature = base64url(createHmac('sha256', 'ngx-node-bench-secret-of-32-bytes-or-more').update(`${header}.${payload}`).digest());
    return `${header}.${payload}.${signature}`;
}

/** The 4 KB order of the transform group. */
function benchOrder(): string {
    const items = Array.from({ length: 21 }, (_, i) => ({
        sku: `SKU-${String(1000 + i)}`, name: `Item number ${i} with a longer name`, qty: i % 5,
        unitPrice: Math.round((3.5 + i * 1.25) * 100) / 100, warehouse: `WH-${i % 3}`,
        internalNote: 'not for the customer, to be removed by the transform',
    }));
    const order = {
        orderId: 'ORD-2026-000123', createdAt: '2026-11-21T10:00:00Z', currency: 'EUR',
        customer: { id: 4711, name: 'Ada Lovelace', email: 'ada@example.com', internalScore: 0.93 },
        shipping: { street: '1 Analytical Engine Way', city: 'London', zip: 'N1 9GU', country: 'GB' },
        items, meta: { trace: 'f'.repeat(64), debug: true },
    };
    const text = JSON.stringify(order);
    if (text.length < 3500 || text.length > 4600) throw new Error(`the order is ${text.length} bytes, not about 4 KB`);
    return text;
}

function wrkRequest(nginx: Nginx, group: Group, c: Case, token: string, order: string): WrkRequest {
    return {
        url: nginx.url(casePath(group, c)),
        method: group.request.method,
        headers: {
            ...group.request.headers,
            ...(group.request.jwt ? { Authorization: `Bearer ${token}` } : {}),
            ...(group.request.body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: group.request.body ? order : undefined,
    };
}

/** JSON with its object keys sorted: engines differ in key order (Lua's tables have none). */
function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
    if (typeof value === 'object' && value !== null) {
        return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    return JSON.stringify(value);
}

/** Every case answers 200, and the same as the others of its group. */
async function verify(nginx: Nginx, token: string, order: string): Promise<void> {
    for (const group of groups) {
        const answers = new Map<string, string>();
        for (const c of group.cases) {
            const req = wrkRequest(nginx, group, c, token, order);
            const reply = await request(req.url, { method: req.method, headers: req.headers, body: req.body });
            if (reply.status !== 200) throw new Error(`${casePath(group, c)} answered ${reply.status}: ${reply.text}`);
            const normalised = group.request.body ? canonicalJson(JSON.parse(reply.text)) : reply.text;
            const header = group.id === 'variable' ? String(reply.headers['x-value']).replace(casePath(group, c), '<uri>') : '';
            answers.set(c.id, `${normalised} ${header}`);
        }
        const distinct = new Set([...answers.entries()].filter(([id]) => !(group.id === 'variable' && id === 'return200')).map(([, a]) => a));
        if (distinct.size !== 1) throw new Error(`the ${group.id} cases answer differently: ${JSON.stringify([...answers])}`);
    }
}

function versions(): string {
    const text = (cmd: string, args: string[]) => {
        const r = spawnSync(cmd, args, { encoding: 'utf8' });
        return `${r.stdout}${r.stderr}`;
    };
    const pkg = (name: string) => text('dpkg-query', ['-W', '-f=${Version}', name]).trim();
    return `nginx ${pkg('nginx')}, njs ${pkg('libnginx-mod-http-js')}, lua-nginx-module ${pkg('libnginx-mod-http-lua')} ` +
        `(LuaJIT ${pkg('libluajit2-5.1-2')}), ngx-node on Node.js ${text(join(ROOT, 'build', 'ngx-node'), ['-v']).trim()} ` +
        `(Debian's libnode), wrk ${pkg('wrk')}; ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`;
}

async function runRounds(nginx: Nginx, sidecar: ChildProcess, options: Options, token: string, order: string, scratch: string): Promise<Samples> {
    const samples: Samples = {};
    const [worker] = nginx.workerPids();
    const cases = options.groups.flatMap((group) => group.cases.map((c) => ({ group, c })));
    const script = join(scratch, 'wrk.lua');
    process.stderr.write(`bench: warming up ${cases.length} cases\n`);
    for (const { group, c } of cases) await runWrk(wrkRequest(nginx, group, c, token, order), options.warmupSeconds, options.connections, script);
    for (let round = 0; round < options.rounds; round++) {
        // interleaved: every case once per round, starting at a different case each round
        const shift = Math.floor(round * cases.length / options.rounds);
        const order_ = [...cases.slice(shift), ...cases.slice(0, shift)];
        for (const { group, c } of order_) {
            const pids = c.engine === 'sidecar' && sidecar.pid ? [worker, sidecar.pid] : [worker];
            const before = pids.reduce((n, pid) => n + processCpuNanos(pid), 0);
            const result = await runWrk(wrkRequest(nginx, group, c, token, order), options.seconds, options.connections, script);
            const cpu = pids.reduce((n, pid) => n + processCpuNanos(pid), 0) - before;
            ((samples[group.id] ??= {})[c.id] ??= []).push({ ...result, cpuUsPerRequest: cpu / 1000 / Math.max(1, result.requests) });
            process.stderr.write(`bench: round ${round + 1}/${options.rounds} ${casePath(group, c)}: ${result.rps.toFixed(0)} req/s\n`);
        }
    }
    return samples;
}

interface Results {
    samples: Samples;
    pending: { engine: string; result: ConcurrencyResult }[];
    bridge?: BridgeSamples;
    startup?: StartupResult;
    stream?: StreamResults;
}

function markdown(options: Options, results: Results, command: string): string {
    const { samples, pending, bridge, startup } = results;
    const date = new Date().toISOString().slice(0, 10);
    const node = pending.find((p) => p.engine === 'ngx-node');
    const baseline = pending.find((p) => p.engine.startsWith('Lua'));
    const wrkRun = options.bridgeOnly ? [] : [
        `\`${command}\`: ${options.rounds} interleaved rounds of ${options.seconds} s per case (medians across rounds; ratios are taken ` +
        `within a round, then the median); nginx with one worker pinned to CPU 0 (\`worker_cpu_affinity\`), the sidecar on CPU 0 too, ` +
        `wrk \`-t1 -c${options.connections}\` pinned to CPU 1; loopback only. Worker CPU µs/req is the worker's CPU time (all its threads, ` +
        'plus the sidecar\'s for sidecar cases) per request.',
        '',
    ];
    return [
        `# ngx-node benchmark, ${date}`,
        '',
        ...wrkRun,
        versions(),
        '',
        ...options.groups.filter(() => !options.bridgeOnly).flatMap((group) => [`## ${group.title}`, '', groupTable(group, samples), '']),
        ...(pending.length ? [`## ${options.pending} pending requests, each awaiting a 1 s timer`, '', pendingTable(pending), ''] : []),
        ...(bridge ? [
            '## OpenResty\'s Lua calling Node.js: resty.node against a unix socket',
            '',
            `Echo round trips in a loop inside one request (${options.rounds} interleaved rounds of ${bridgeSeconds(options)} s per cell, ` +
            'medians), nginx\'s worker on CPU 0, the echo servers (Node on a unix socket, 4-byte length-prefixed frames) on CPU 0 or CPU 1.',
            '',
            bridgeTable(bridge),
            '',
        ] : []),
        ...(startup ? ['## Memory and start-up', '', startupTable(startup), ''] : []),
        '## Targets',
        '',
        targetsTable([
            ...(options.bridgeOnly ? [] : targets(samples, node?.result, baseline?.result, startup)),
            ...(bridge ? bridgeTargets(bridge) : []),
        ]),
        '',
    ].join('\n');
}

function bridgeSeconds(options: Options): number {
    return options.quick ? 0.5 : 2;
}

/**
 * Replaces what is between `<!-- name:start -->` and `<!-- name:end -->` in the README with a
 * report (its `##` headings become `####`).
 */
function updateReadme(table: string, command: string, name = 'bench'): void {
    const file = join(ROOT, 'README.md');
    const readme = readFileSync(file, 'utf8');
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    if (!readme.includes(start) || !readme.includes(end)) throw new Error(`README.md lacks the ${name} markers`);
    const body = table.replace(/^# .*\n\n/, '').replace(/^## /gm, '#### ');
    writeFileSync(file, readme.slice(0, readme.indexOf(start) + start.length) +
        `\nLatest run (\`${command}\`):\n\n${body}\n` + readme.slice(readme.indexOf(end)));
}

/** The wrk cases, then (unless --cases-only) pending requests per engine. */
async function runHttpParts(options: Options, scratch: string): Promise<Pick<Results, 'samples' | 'pending'>> {
    const socket = join(scratch, 'sidecar.sock');
    const token = benchToken();
    const order = benchOrder();
    const sidecar = await startNodeServer('sidecar.mjs', socket, 0);
    let nginx: Nginx | undefined;
    try {
        nginx = await Nginx.start({ conf: (port) => benchConf({ port, sidecarSocket: socket }) });
        await verify(nginx, token, order);
        const samples = await runRounds(nginx, sidecar, options, token, order, scratch);

        await nginx.destroy();
        nginx = undefined;

        // each engine on a fresh worker: the first burst is what a worker pays for that many
        // requests (its allocator pools and heap grow, then stay)
        const pending: Results['pending'] = [];
        const engines = [['ngx-node', 'node'], ['njs', 'njs'], ['Lua `ngx.sleep` (no JavaScript: nginx\'s own cost)', 'lua']] as const;
        for (const [engine, path] of options.casesOnly ? [] : engines) {
            process.stderr.write(`bench: ${options.pending} pending requests (${path})\n`);
            const fresh = await Nginx.start({ conf: (port) => benchConf({ port, sidecarSocket: socket }) });
            try {
                await request(fresh.url(`/wait/${path}?ms=1`));
                const [worker] = fresh.workerPids();
                pending.push({ engine, result: await pendingRequests(fresh.port, `/wait/${path}?ms=1000`, options.pending, worker) });
            } finally {
                await fresh.destroy();
            }
        }
        return { samples, pending };
    } finally {
        await nginx?.destroy();
        sidecar.kill('SIGTERM');
    }
}

async function main(): Promise<void> {
    if (process.argv.includes('--instructions')) {
        await instructionsReport(process.argv.slice(2));
        return;
    }
    const options = parseOptions(process.argv.slice(2));
    const someGroups = options.groups.length < groups.length ? `--groups ${options.groups.map((g) => g.id).join(',')}` : '';
    const flags = [options.quick ? '--quick' : '', options.casesOnly ? '--cases-only' : '', someGroups,
        options.bridgeOnly ? '--bridge-only' : '', options.streamOnly ? '--stream-only' : ''].filter(Boolean);
    const command = `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
    const scratch = mkdtempSync(join(tmpdir(), 'ngx-node-bench-'));
    chmodSync(scratch, 0o755);
    try {
        const date = new Date().toISOString().slice(0, 10);
        if (options.streamOnly) {
            process.stderr.write('bench: the stream module\n');
            const stream = streamMarkdown(await measureStream(options, scratch));
            const report = `# ngx-node benchmark, ${date}: the stream module\n\n${stream}`;
            const file = join(ROOT, 'bench', 'results', `${date}-stream${options.quick ? '-quick' : ''}.md`);
            writeFileSync(file, report);
            process.stdout.write(`${report}\nbench: written to ${file}\n`);
            if (options.updateReadme) updateReadme(report, command, 'bench-stream');
            return;
        }
        const results: Results = options.bridgeOnly ? { samples: {}, pending: [] } : await runHttpParts(options, scratch);
        if (!options.casesOnly && !options.bridgeOnly) {
            process.stderr.write('bench: the stream module\n');
            results.stream = await measureStream(options, scratch);
        }
        if (!options.casesOnly) {
            process.stderr.write('bench: OpenResty Lua calling Node.js\n');
            results.bridge = await measureLuaBridge(options.rounds, bridgeSeconds(options), scratch);
        }
        if (!options.casesOnly && !options.bridgeOnly) {
            process.stderr.write('bench: memory and start-up\n');
            results.startup = await measureStartup(options.starts);
        }

        const mainReport = markdown(options, results, command);
        const stream = results.stream ? streamMarkdown(results.stream) : undefined;
        const report = stream ? `${mainReport}\n${stream}` : mainReport;
        // a part of the run goes beside the day's full report, not over it
        const suffix = `${options.bridgeOnly ? '-lua-bridge' : options.casesOnly || someGroups ? '-cases' : ''}${options.quick ? '-quick' : ''}`;
        const file = join(ROOT, 'bench', 'results', `${date}${suffix}.md`);
        writeFileSync(file, report);
        process.stdout.write(`${report}\nbench: written to ${file}\n`);
        if (options.updateReadme) {
            updateReadme(mainReport, command);
            if (stream) updateReadme(stream, command, 'bench-stream');
        }
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
