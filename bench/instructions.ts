/**
 * npm run bench -- --instructions [--requests N] [--warmup N] [--rows a,b] [--keep-dumps] [--perf-map] [--metrics]
 *     [--cpu-timeout off|TIME]: one
 * request's cost in instructions, per kind of request, counted by callgrind (deterministic, unlike
 * req/s on a shared machine). --keep-dumps leaves callgrind's files (one per row, in row order)
 * for callgrind_annotate, and says where; --perf-map has V8 write /tmp/perf-<pid>.map, which
 * names the JIT code and builtins callgrind shows as addresses; --metrics runs it all with a
 * node_metrics_zone (every call counted and timed), into <date>-instructions-metrics.md; a run of
 * --rows goes to <date>-instructions-rows.md.
 * --cpu-timeout sets node_cpu_timeout (default 300s: callgrind is slow), off for the watchdog's cost.
 *
 * One nginx (master_process off, the worker's thread) runs under callgrind with every case a
 * location; a keep-alive client sends `warm-up` requests to each case, then for each case a
 * quarter as many again, callgrind's counters are zeroed, `requests` more are sent and the
 * counters dumped. Every request carries the one header the header rows read. Only the worker's main
 * thread is counted (V8's background compiler and GC helpers, the CPU watchdog run on their
 * own threads). The table gives instructions per request and the difference from `return 200`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, sleep } from '../test/harness/nginx';
import { MODULE, ROOT } from '../test/harness/paths';
import { numberOption, stringOption } from './options';

const handlers = join(ROOT, 'bench', 'handlers');

interface Row {
    id: string;
    label: string;
    /** the location's body */
    location: string;
    query?: string;
    /** how its answer starts, if not "hello\n" */
    answer?: string;
    /** the row it is measured over, if not `return 200` */
    over?: { id: string; note: string };
}

const overContent = { id: 'content', note: ' (over sync `node_content`)' };
const overLua = { id: 'luaOnly', note: ' (over Lua alone)' };
const overNjs = { id: 'njsContent', note: ' (over njs `js_content`)' };

const rows: Row[] = [
    { id: 'return200', label: 'nginx `return 200` (the baseline)', location: 'return 200 "hello\\n";' },
    { id: 'content', label: '`node_content`, sync', location: 'node_content i.hello;' },
    { id: 'async', label: '`node_content`, async, settled at once (`await null`)', location: 'node_content i.helloAsync;' },
    { id: 'suspended', label: '`node_content`, async with a real suspend (`setImmediate`)', location: 'node_content i.helloSuspended;' },
    { id: 'set', label: '`node_set` returning a constant, in a header', location: 'add_header X-Value $i_constant; return 200 "hello\\n";' },
    { id: 'headersIn', label: '`r.headersIn[name]` (one header read, answered)', location: 'node_content i.header;', over: overContent },
    { id: 'args', label: '`r.args[name]`', location: 'node_content i.arg;', query: 'a=hello&b=2', over: overContent },
    { id: 'variables', label: '`r.variables[name]`', location: 'node_content i.variable;', over: overContent },
    { id: 'headersOut', label: '`r.headersOut[name] = value`', location: 'node_content i.setHeader;', over: overContent },
    // access runs after the rewrite phase, where `return` answers: its row serves with empty_gif
    { id: 'emptyGif', label: 'nginx `empty_gif` (the access row\'s baseline; a content handler in C)', location: 'empty_gif;', answer: 'GIF89a' },
    { id: 'access', label: '`node_access` allowing, then `empty_gif`', location: 'node_access i.allow; empty_gif;', answer: 'GIF89a',
        over: { id: 'emptyGif', note: ' (over `empty_gif`)' } },
    { id: 'headerFilter', label: '`node_header_filter` (empty), then `return 200`', location: 'node_header_filter i.headerFilter; return 200 "hello\\n";' },
    { id: 'bodyFilter', label: '`node_body_filter` passing the one chunk on', location: 'node_body_filter i.bodyFilter; return 200 "hello\\n";' },
    { id: 'lua', label: 'Lua → Node: `resty.node` call of a sync function (in `content_by_lua`)', location: 'content_by_lua_block { local ok, v = echo:echo("hello\\n") ngx.print(v) }',
        over: overLua },
    // the anchors: the same handlers in njs and in OpenResty's Lua
    { id: 'njsContent', label: 'anchor: njs `js_content`, sync', location: 'js_content n.hello;' },
    { id: 'njsSet', label: 'anchor: njs `js_set` returning a constant, in a header', location: 'add_header X-Value $n_constant; return 200 "hello\\n";' },
    { id: 'njsHeadersIn', label: 'anchor: njs `r.headersIn[name]`', location: 'js_content n.header;', over: overNjs },
    { id: 'luaOnly', label: 'anchor: Lua `content_by_lua` (and the Lua → Node row\'s baseline)', location: 'content_by_lua_block { ngx.print("hello\\n") }' },
    { id: 'luaSet', label: 'anchor: Lua `set_by_lua` returning a constant, in a header', location: 'set_by_lua_block $l_constant { return "value" } add_header X-Value $l_constant; return 200 "hello\\n";' },
    { id: 'luaHeader', label: 'anchor: Lua `ngx.var.http_x_foo`', location: 'content_by_lua_block { ngx.print(ngx.var.http_x_foo, "\\n") }', over: overLua },
];

/**
 * Every request carries the header the header rows read, so that nginx's parsing of it is in
 * every row, and a row over another counts the read alone.
 */
const REQUEST_HEADERS = { 'X-Foo': 'hello' };

/** ngx-node's rows and their anchors, for the ratios under the table */
const comparisons: { label: string; ours: string; njs: string; lua: string }[] = [
    { label: 'sync content handler', ours: 'content', njs: 'njsContent', lua: 'luaOnly' },
    { label: 'variable handler returning a constant', ours: 'set', njs: 'njsSet', lua: 'luaSet' },
    { label: 'one request header read, answered', ours: 'headersIn', njs: 'njsHeadersIn', lua: 'luaHeader' },
];

export interface InstructionOptions {
    requests: number;
    warmup: number;
    /** row ids to measure (return200 always); all by default */
    rows?: string[];
    keepDumps?: boolean;
    /** V8 writes /tmp/perf-<pid>.map (JIT code and builtins by address), for reading the dumps */
    perfMap?: boolean;
    /** with node_metrics_zone: what per-handler metrics cost a call */
    metrics?: boolean;
    /** node_cpu_timeout's value */
    cpuTimeout?: string;
}

function conf(port: number, options: InstructionOptions): string {
    const locations = rows.map((row) => `        location = /${row.id} { ${row.location} }`).join('\n');
    return `
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
load_module ${MODULE};
master_process off;
node_cpu_timeout ${options.cpuTimeout ?? '300s'};  # callgrind runs code ~50x slower: a first call may take seconds
daemon off;${options.perfMap ? '\nnode_option --perf-basic-prof;' : ''}
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;${options.metrics ? '\n    node_metrics_zone 1m;' : ''}
    node_import i from ${handlers}/instructions.mjs;
    node_set $i_constant i.constant;
    js_import n from ${handlers}/instructions-njs.js;
    js_set $n_constant n.constant;
    lua_package_path "${ROOT}/lua/?.lua;;";
    init_worker_by_lua_block { echo = require("resty.node").load("${handlers}/instructions.mjs") }
    server {
        listen 127.0.0.1:${port};
${locations}
    }
}
`;
}

/** `count` GETs one after another on one keep-alive connection. */
async function send(port: number, row: Row, count: number): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const path = `/${row.id}${row.query ? `?${row.query}` : ''}`;
    try {
        for (let i = 0; i < count; i++) {
            await new Promise<void>((resolve, reject) => {
                const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: REQUEST_HEADERS }, (res) => {
                    let body = '';
                    res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
                    res.on('end', () => {
                        const expected = row.answer ?? 'hello\n';
                        if (res.statusCode !== 200 || !(row.answer ? body.startsWith(expected) : body === expected)) {
                            reject(new Error(`${path} answered ${res.statusCode} ${JSON.stringify(body)}, not ${JSON.stringify(expected)}`));
                        } else resolve();
                    });
                });
                req.on('error', reject);
                req.end();
            });
        }
    } finally {
        agent.destroy();
    }
}

function control(args: string[]): void {
    const result = spawnSync('callgrind_control', args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${result.stdout}${result.stderr}`);
}

/** Instructions of the main thread in the newest dump. */
function dumped(dir: string, pid: number, before: Set<string>): number {
    const files = readdirSync(dir).filter((f) => f.startsWith(`callgrind.out.${pid}.`) && f.endsWith('-01') && !before.has(f));
    if (files.length !== 1) throw new Error(`expected one new dump of thread 1, found ${files.join(', ') || 'none'}`);
    before.add(files[0]);
    const text = readFileSync(join(dir, files[0]), 'utf8');
    const totals = /^(?:summary|totals): (\d+)/m.exec(text);
    if (!totals) throw new Error(`no totals in ${files[0]}`);
    return Number(totals[1]);
}

async function waitFor(port: number, deadline: number): Promise<void> {
    for (;;) {
        try {
            await send(port, rows[0], 1);
            return;
        } catch {
            if (Date.now() > deadline) throw new Error('nginx under callgrind did not answer within 5 minutes');
            await sleep(500);
        }
    }
}

export interface InstructionRow {
    row: Row;
    perRequest: number;
}

export async function measureInstructions(options: InstructionOptions): Promise<InstructionRow[]> {
    const prefix = mkdtempSync(join(tmpdir(), 'ngx-node-instructions-'));
    for (const dir of ['conf', 'logs', 'tmp', 'dumps']) mkdirSync(join(prefix, dir));
    const port = await freePort();
    writeFileSync(join(prefix, 'conf', 'nginx.conf'), conf(port, options));
    const dumps = join(prefix, 'dumps');
    const child = spawn('valgrind', [
        '--tool=callgrind', '--separate-threads=yes', '--smc-check=all-non-file', '--dump-instr=no',
        `--callgrind-out-file=${dumps}/callgrind.out.%p`, '/usr/sbin/nginx', '-p', prefix, '-c', 'conf/nginx.conf',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const pid = child.pid ?? 0;
    const seen = new Set<string>();
    try {
        await waitFor(port, Date.now() + 300000);
        const results: InstructionRow[] = [];
        const wanted = new Set(['return200', ...(options.rows ?? rows.map((r) => r.id))]);
        for (const row of rows) if (wanted.has(row.id) && row.over) wanted.add(row.over.id);
        const measured = rows.filter((r) => wanted.has(r.id));
        // every case warm (and V8 done with start-up work) before any is counted
        for (const row of measured) await send(port, row, options.warmup);
        for (const row of measured) {
            await send(port, row, options.warmup / 4);
            control(['--zero', String(pid)]);
            await send(port, row, options.requests);
            control(['--dump', String(pid)]);
            const perRequest = dumped(dumps, pid, seen) / options.requests;
            results.push({ row, perRequest });
            process.stderr.write(`bench: instructions: ${row.id}: ${Math.round(perRequest)} per request\n`);
        }
        if (options.perfMap) {
            // where libnode and V8's code sit, to name what callgrind shows as addresses
            writeFileSync(join(dumps, 'maps'), readFileSync(`/proc/${pid}/maps`, 'utf8'));
            writeFileSync(join(dumps, 'perf.map'), readFileSync(`/tmp/perf-${pid}.map`, 'utf8'));
        }
        return results;
    } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n${stderr.slice(-2000)}`);
    } finally {
        child.kill('SIGQUIT');
        await new Promise((resolve) => child.once('exit', resolve));
        if (options.keepDumps) process.stderr.write(`bench: instructions: callgrind's files are in ${dumps}\n`);
        else rmSync(prefix, { recursive: true, force: true });
    }
}

/** The options a run was given, as its command line says them. */
function commandFlags(options: InstructionOptions): string {
    return [
        options.rows ? ` --rows ${options.rows.join(',')}` : '',
        options.metrics ? ' --metrics' : '',
        options.cpuTimeout ? ` --cpu-timeout ${options.cpuTimeout}` : '',
    ].join('');
}

export function instructionTable(results: InstructionRow[], options: InstructionOptions): string {
    const base = results.find((r) => r.row.id === 'return200')?.perRequest ?? 0;
    const lines = [
        `\`npm run bench -- --instructions${commandFlags(options)}\`: callgrind, nginx \`master_process off\`, one keep-alive client; ` +
        `${options.warmup} requests to warm up, then instructions of the worker's main thread over ${options.requests} requests, per request.`,
        '',
        '| request | instructions per request | over `return 200` |',
        '|---|---:|---:|',
    ];
    const count = (id: string) => results.find((r) => r.row.id === id);
    /** the row it counts over: its own, or `return 200` */
    const baseline = ({ row }: InstructionRow) => (row.over ? count(row.over.id) : undefined);
    const extra = (result: InstructionRow) => {
        const difference = result.perRequest - (baseline(result)?.perRequest ?? base);
        return `${difference >= 0 ? '+' : ''}${Math.round(difference)}`;
    };
    for (const result of results) {
        const note = baseline(result) ? result.row.over?.note ?? '' : '';
        lines.push(`| ${result.row.label} | ${Math.round(result.perRequest)} | ${result.row.id === 'return200' ? '' : `${extra(result)}${note}`} |`);
    }
    const compared = comparisons.filter((c) => count(c.ours) && count(c.njs) && count(c.lua));
    if (compared.length > 0) {
        lines.push('', 'Against the anchors (the same handler; instructions per request, and over the row\'s baseline):', '',
            '| handler | ngx-node | njs | Lua | ngx-node ÷ njs | ngx-node ÷ Lua |', '|---|---:|---:|---:|---:|---:|');
        for (const c of compared) {
            const [ours, njs, lua] = [count(c.ours), count(c.njs), count(c.lua)] as InstructionRow[];
            const cell = (r: InstructionRow) => `${Math.round(r.perRequest)} (${extra(r)})`;
            lines.push(`| ${c.label} | ${cell(ours)} | ${cell(njs)} | ${cell(lua)} | ` +
                `${(ours.perRequest / njs.perRequest).toFixed(2)}× | ${(ours.perRequest / lua.perRequest).toFixed(2)}× |`);
        }
    }
    return lines.join('\n');
}

/** `npm run bench -- --instructions [--requests N] [--warmup N]`: the table, also in bench/results/. */
export async function instructionsReport(argv: string[]): Promise<void> {
    const options: InstructionOptions = {
        requests: numberOption(argv, '--requests', 10000),
        warmup: numberOption(argv, '--warmup', 2000),
        rows: stringOption(argv, '--rows')?.split(','),
        keepDumps: argv.includes('--keep-dumps'),
        perfMap: argv.includes('--perf-map'),
        metrics: argv.includes('--metrics'),
        cpuTimeout: stringOption(argv, '--cpu-timeout'),
    };
    const table = instructionTable(await measureInstructions(options), options);
    // a run of some rows goes beside the day's full table, not over it
    const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-instructions${options.rows ? '-rows' : ''}` +
        `${options.metrics ? '-metrics' : ''}${options.cpuTimeout ? `-cpu-timeout-${options.cpuTimeout}` : ''}.md`);
    const title = `Instructions per request${options.metrics ? ', with `node_metrics_zone`' : ''}` +
        `${options.cpuTimeout ? `, \`node_cpu_timeout ${options.cpuTimeout}\`` : ''}`;
    writeFileSync(file, `#### ${title}\n\n${table}\n`);
    process.stdout.write(`${table}\nbench: written to ${file}\n`);
}
