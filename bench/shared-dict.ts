/**
 * npm run bench:shared-dict [-- --ops 100000 --requests 5 --rounds 7]
 *
 * Shared dict operations per second from a loop inside one handler: get of an existing key,
 * set of one of 1000 keys, incr of a counter, `ops` of one kind per request, in ngx-node
 * (`node_shared_dict_zone`, ngx.shared), OpenResty's Lua (`lua_shared_dict`, ngx.shared.DICT,
 * whose get/set/incr are LuaJIT FFI calls with lua-resty-core) and njs (`js_shared_dict_zone`,
 * njs 0.8.0 and later; an njs without it is detected with `nginx -t` and reported as such).
 * One nginx with every engine, one worker pinned to CPU 0, 1 MB zones. The measure is the
 * worker's CPU time (all its threads, from /proc/<pid>/task/<tid>/schedstat) over `requests`
 * sequential requests, so that other jobs on the machine do not count; rounds interleave the
 * engines, and the tables give medians, ratios taken within a round. Handlers:
 * bench/handlers/shared-dict.mjs, shared-dict-njs.js, shared_dict.lua. Results go to
 * bench/results/<date>-shared-dict.md.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { request } from '../test/harness/http';
import { Nginx, workerUser } from '../test/harness/nginx';
import { MODULE, ROOT } from '../test/harness/paths';
import { processCpuNanos } from './proc';
import { median } from './report';
import { numberOption } from './options';

const handlers = join(ROOT, 'bench', 'handlers');
const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

type Op = 'get' | 'set' | 'incr';
type EngineId = 'node' | 'njs' | 'lua';

const OPS: { id: Op; label: string }[] = [
    { id: 'get', label: 'get (one of 1000 existing keys, 32-byte string)' },
    { id: 'set', label: 'set (one of 1000 keys, 32-byte string)' },
    { id: 'incr', label: 'incr (one counter, by 1)' },
];

interface Engine {
    id: EngineId;
    label: string;
    /** why it is not measured, if it is not */
    missing?: string;
}

interface Options {
    ops: number;
    requests: number;
    rounds: number;
}

function parseOptions(argv: string[]): Options {
    return { ops: numberOption(argv, '--ops', 100000), requests: numberOption(argv, '--requests', 5), rounds: numberOption(argv, '--rounds', 7) };
}

function njsDicts(): string {
    return '    js_shared_dict_zone zone=njs_strings:1m;\n    js_shared_dict_zone zone=njs_numbers:1m type=number;';
}

function benchConf(port: number, njsShared: boolean): string {
    const locations = OPS.flatMap((op) => [
        `        location = /node/${op.id} { node_content sd.${op.id}; }`,
        `        location = /lua/${op.id} { content_by_lua_block { sd.${op.id}() } }`,
        njsShared ? `        location = /njs/${op.id} { js_content njssd.${op.id}; }` : '',
    ]).filter((line) => line !== '');
    return `
load_module ${NJS_MODULE};
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
load_module ${MODULE};
${workerUser()}
worker_processes 1;
worker_cpu_affinity 01;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    node_shared_dict_zone zone=strings:1m;
    node_shared_dict_zone zone=numbers:1m type=number;
    node_import sd from ${join(handlers, 'shared-dict.mjs')};
    lua_shared_dict lua_strings 1m;
    lua_shared_dict lua_numbers 1m;
    lua_package_path "${handlers}/?.lua;;";
    init_by_lua_block { sd = require "shared_dict" }
    js_import njssd from ${join(handlers, 'shared-dict-njs.js')};
${njsShared ? njsDicts() : ''}
    server {
        listen 127.0.0.1:${port};
        location = /njs/version { js_content njssd.version; }
        location = /node/fill { node_content sd.fill; }
        location = /lua/fill { content_by_lua_block { sd.fill() } }
${njsShared ? '        location = /njs/fill { js_content njssd.fill; }' : ''}
${locations.join('\n')}
    }
}
`;
}

/** Whether this njs has js_shared_dict_zone: `nginx -t` of a configuration with it. */
async function njsSharedDict(): Promise<{ ok: boolean; output: string }> {
    const nginx = await Nginx.prepare({ conf: (port) => `
load_module ${NJS_MODULE};
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
${njsDicts()}
    server { listen 127.0.0.1:${port}; }
}
` });
    try {
        return nginx.check();
    } finally {
        await nginx.destroy();
    }
}

function versions(nodeVersion: string, njsVersion: string, lua: string): string {
    const pkg = (name: string) => spawnSync('dpkg-query', ['-W', '-f=${Version}', name], { encoding: 'utf8' }).stdout.trim();
    return `nginx ${pkg('nginx')}, ngx-node on Node.js ${nodeVersion} (Debian's libnode), njs ${njsVersion} (${pkg('libnginx-mod-http-js')}), ` +
        `lua-nginx-module ${pkg('libnginx-mod-http-lua')} with lua-resty-core ${pkg('lua-resty-core')} (${lua}); ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`;
}

async function get(nginx: Nginx, path: string): Promise<string> {
    const reply = await request(nginx.url(path), { timeoutMs: 120000 });
    if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}: ${reply.text}`);
    return reply.text.trim();
}

/** Worker CPU nanoseconds for `requests` requests to `path`. */
async function cpuNanos(nginx: Nginx, worker: number, path: string, requests: number): Promise<number> {
    const before = processCpuNanos(worker);
    for (let i = 0; i < requests; i++) await get(nginx, path);
    return processCpuNanos(worker) - before;
}

/** Each engine's loops answer the same for a few operations. */
async function check(nginx: Nginx, engines: Engine[]): Promise<void> {
    for (const op of OPS) {
        const answers = new Map<string, string>();
        for (const engine of engines) {
            const text = await get(nginx, `/${engine.id}/${op.id}?n=10`);
            // incr answers the counter, which differs between engines' zones
            answers.set(engine.id, op.id === 'incr' ? text.split(' ')[0] : text);
            if (op.id === 'incr' && !/^10 \d+$/.test(text)) throw new Error(`/${engine.id}/incr answered ${text}`);
        }
        const distinct = new Set(answers.values());
        if (distinct.size !== 1) throw new Error(`the ${op.id} loops answer differently: ${JSON.stringify([...answers])}`);
    }
    const expected = { get: '10 320', set: '10 1000' };
    for (const op of ['get', 'set'] as const) {
        const text = await get(nginx, `/node/${op}?n=10`);
        if (text !== expected[op]) throw new Error(`/node/${op}?n=10 answered ${text}, not ${expected[op]}`);
    }
}

const mops = (opsPerSecond: number) => `${(opsPerSecond / 1e6).toFixed(2)} M`;
const ns = (opsPerSecond: number) => `${(1e9 / opsPerSecond).toFixed(0)} ns`;

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const njsCheck = await njsSharedDict();
    const nginx = await Nginx.start({ conf: (port) => benchConf(port, njsCheck.ok) });
    try {
        const [worker] = nginx.workerPids();
        const njsVersion = await get(nginx, '/njs/version');
        const engines: Engine[] = [
            { id: 'node', label: 'ngx-node (`node_shared_dict_zone`)' },
            { id: 'njs', label: `njs ${njsVersion} (\`js_shared_dict_zone\`)`, missing: njsCheck.ok ? undefined : `not available in njs ${njsVersion}` },
            { id: 'lua', label: 'Lua (`lua_shared_dict`, FFI)' },
        ];
        const measured = engines.filter((engine) => engine.missing === undefined);
        if (!njsCheck.ok) {
            const why = njsCheck.output.split('\n').find((line) => /emerg/.test(line)) ?? njsCheck.output.trim();
            process.stderr.write(`bench:shared-dict: njs ${njsVersion} has no shared dict: ${why}\n`);
        }
        const fills: Record<string, string> = {};
        for (const engine of measured) fills[engine.id] = await get(nginx, `/${engine.id}/fill`);
        const nodeVersion = fills.node.split(' ')[1];
        const luaFill = /^lua (.+) (ffi|no-ffi) /.exec(fills.lua);
        if (luaFill?.[2] !== 'ffi') throw new Error(`Lua's shared dict is not lua-resty-core's FFI one: ${fills.lua}`);
        await check(nginx, measured);

        // what a request costs without operations: the share of a sample that is not the loop
        const overheadNanos: Record<string, number> = {};
        for (const engine of measured) {
            await cpuNanos(nginx, worker, `/${engine.id}/get?n=0`, 50);
            overheadNanos[engine.id] = await cpuNanos(nginx, worker, `/${engine.id}/get?n=0`, 200) / 200;
        }

        const perRequest = options.ops * options.requests;
        const cells = measured.flatMap((engine) => OPS.map((op) => ({ engine: engine.id, op: op.id, path: `/${engine.id}/${op.id}?n=${options.ops}` })));
        process.stderr.write(`bench:shared-dict: warming up ${cells.length} cells\n`);
        for (const cell of cells) await cpuNanos(nginx, worker, cell.path, options.requests);
        /** opsPerSecond[engine][op] = one value per round */
        const opsPerSecond: Record<string, Record<string, number[]>> = {};
        for (const cell of cells) (opsPerSecond[cell.engine] ??= {})[cell.op] = [];
        for (let round = 0; round < options.rounds; round++) {
            for (let k = 0; k < cells.length; k++) {
                const cell = cells[(k + round * OPS.length) % cells.length];
                const nanos = await cpuNanos(nginx, worker, cell.path, options.requests);
                opsPerSecond[cell.engine][cell.op].push(perRequest / (nanos / 1e9));
            }
            process.stderr.write(`bench:shared-dict: round ${round + 1}/${options.rounds}: ` +
                cells.map((cell) => `${cell.engine} ${cell.op} ${mops(opsPerSecond[cell.engine][cell.op][round])}`).join(', ') + '\n');
        }

        const ratio = (a: EngineId, b: EngineId, op: Op): number | undefined => {
            const x = opsPerSecond[a]?.[op];
            const y = opsPerSecond[b]?.[op];
            return x && y ? median(x.map((v, i) => v / y[i])) : undefined;
        };
        const cell = (engine: Engine, op: Op) => {
            if (engine.missing) return engine.missing;
            const values = opsPerSecond[engine.id][op];
            const range = `${(Math.min(...values) / 1e6).toFixed(2)}–${(Math.max(...values) / 1e6).toFixed(2)}`;
            return `${mops(median(values))} (${ns(median(values))}/op; rounds ${range})`;
        };
        const times = (n: number | undefined, missing?: string) => n === undefined ? (missing ?? '') : `${n.toFixed(2)}×`;
        const njs = engines.find((engine) => engine.id === 'njs');
        const rows = [
            `| operation | ${engines.map((engine) => engine.label).join(' | ')} | ngx-node / njs | ngx-node / Lua |`,
            `|---|${engines.map(() => '---:').join('|')}|---:|---:|`,
            ...OPS.map((op) => `| ${op.label} | ${engines.map((engine) => cell(engine, op.id)).join(' | ')} | ` +
                `${times(ratio('node', 'njs', op.id), njs?.missing ? '—' : undefined)} | ${times(ratio('node', 'lua', op.id))} |`),
        ];
        const errors = nginx.errorLog().split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
        const date = new Date().toISOString().slice(0, 10);
        const command = `npm run bench:shared-dict -- --ops ${options.ops} --requests ${options.requests} --rounds ${options.rounds}`;
        const report = [
            `# ngx-node shared dict benchmark, ${date}`,
            '',
            `\`${command}\`: operations per second of the nginx worker's CPU time (all its threads, from ` +
            `/proc/<pid>/task/*/schedstat, read before and after ${options.requests} sequential requests of ${options.ops} operations ` +
            'of one kind each, in a loop inside the content handler), so that other jobs on the machine do not count. One nginx with every engine, ' +
            `one worker pinned to CPU 0, 1 MB zones (a string zone for get/set, a number zone for incr). ${options.rounds} rounds, the engines interleaved; ` +
            'medians over rounds in million operations per second (ns of CPU per operation; the slowest and fastest round); ratios taken within a round, then the median. Handlers: ' +
            '[shared-dict.mjs](../handlers/shared-dict.mjs), [shared-dict-njs.js](../handlers/shared-dict-njs.js), [shared_dict.lua](../handlers/shared_dict.lua).',
            '',
            versions(nodeVersion, njsVersion, luaFill[1]),
            '',
            ...rows,
            '',
            `A request with no operations (\`n=0\`) costs the worker ${measured.map((engine) => `${(overheadNanos[engine.id] / 1000).toFixed(1)} µs (${engine.id})`).join(', ')} ` +
            `of CPU, under ${(Math.max(...Object.values(overheadNanos)) * 100 / Math.min(...cells.map((c) => options.ops / median(opsPerSecond[c.engine][c.op]) * 1e9))).toFixed(2)}% ` +
            'of any request of the table.',
            ...(njsCheck.ok ? [] : ['', `njs ${njsVersion}: \`nginx -t\` refuses \`js_shared_dict_zone\` ` +
                `(${(njsCheck.output.split('\n').find((line) => /emerg/.test(line)) ?? '').replace(/^.*\[emerg\] [\d#]+: /, '').replace(/ in \/\S+/, '').trim()}); ` +
                'shared dicts came with njs 0.8.0.']),
            '',
            `error_log [error] and worse during the run: ${errors.length ? `${errors.length} lines, first: ${errors[0]}` : 'none'}`,
            '',
        ].join('\n');
        const file = join(ROOT, 'bench', 'results', `${date}-shared-dict.md`);
        writeFileSync(file, report);
        process.stdout.write(`${report}\nbench:shared-dict: written to ${file}\n`);
    } finally {
        await nginx.destroy();
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`bench:shared-dict: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
