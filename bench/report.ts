/** Turning measurements into the markdown tables of bench/results and the README. */
import type { Group } from './cases';
import type { ConcurrencyResult } from './concurrency';
import type { StartupResult } from './startup';
import type { WrkResult } from './wrk';

export interface Sample extends WrkResult {
    cpuUsPerRequest: number;
}

/** samples[groupId][caseId] = one Sample per round */
export type Samples = Record<string, Record<string, Sample[]>>;

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The median over rounds of a case's req/s divided by another's in the same round. */
export function ratio(samples: Samples, group: string, a: string, b: string): number | undefined {
    const x = samples[group]?.[a];
    const y = samples[group]?.[b];
    if (!x || !y || x.length !== y.length) return undefined;
    return median(x.map((s, i) => s.rps / y[i].rps));
}

function latencyRatio(samples: Samples, group: string, a: string, b: string): number | undefined {
    const x = samples[group]?.[a];
    const y = samples[group]?.[b];
    if (!x || !y || x.length !== y.length) return undefined;
    return median(x.map((s, i) => s.p99us / y[i].p99us));
}

const us = (n: number) => n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(0)} µs`;
const times = (n: number | undefined) => n === undefined ? '' : `${n.toFixed(2)}×`;

export function groupTable(group: Group, samples: Samples): string {
    const rows = [
        '| case | req/s | p50 | p99 | worker CPU µs/req | non-2xx | × `return 200` | × njs |',
        '|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    const hasBaseline = group.cases.some((c) => c.id === 'return200');
    for (const c of group.cases) {
        const runs = samples[group.id]?.[c.id];
        if (!runs) continue;
        const njsPeer = c.engine === 'node' || c.engine === 'lua' || c.engine === 'sidecar' ? c.njsPeer ?? 'njs' : undefined;
        rows.push(`| ${c.label} | ${median(runs.map((s) => s.rps)).toFixed(0)} | ${us(median(runs.map((s) => s.p50us)))} | ` +
            `${us(median(runs.map((s) => s.p99us)))} | ${median(runs.map((s) => s.cpuUsPerRequest)).toFixed(1)} | ` +
            `${runs.reduce((n, s) => n + s.non2xx + s.socketErrors, 0)} | ` +
            `${hasBaseline ? times(ratio(samples, group.id, c.id, 'return200')) : ''} | ` +
            `${njsPeer ? times(ratio(samples, group.id, c.id, njsPeer)) : ''} |`);
    }
    return rows.join('\n');
}

export interface Target {
    what: string;
    measured: string;
    met: boolean | undefined;
}

export function targets(samples: Samples, pending?: ConcurrencyResult, baseline?: ConcurrencyResult, startup?: StartupResult): Target[] {
    const list: Target[] = [];
    const atLeast = (what: string, value: number | undefined, goal: number) => list.push({
        what, measured: value === undefined ? 'not measured' : `${value.toFixed(2)}×`, met: value === undefined ? undefined : value >= goal,
    });
    atLeast('`node_content` sync ≥ 1.2× njs', ratio(samples, 'hello', 'node', 'njs'), 1.2);
    atLeast('`node_content` sync ≥ 0.9× `return 200`', ratio(samples, 'hello', 'node', 'return200'), 0.9);
    atLeast('`node_set` ≥ 1.2× njs `js_set`', ratio(samples, 'variable', 'node', 'njs'), 1.2);
    atLeast('`node_set` ≥ 0.9× `return 200`', ratio(samples, 'variable', 'node', 'return200'), 0.9);
    atLeast('async `node_content` ≥ 1.1× njs async', ratio(samples, 'hello', 'node-async', 'njs-async'), 1.1);
    atLeast('async with a real suspend ≥ 1.1× njs (`setImmediate`)', ratio(samples, 'hello', 'node-immediate', 'njs-immediate'), 1.1);
    atLeast('JWT (compute-bound) ≥ 3× njs', ratio(samples, 'jwt', 'node', 'njs'), 3);
    atLeast('JSON transform (compute-bound) ≥ 3× njs', ratio(samples, 'transform', 'node', 'njs'), 3);
    atLeast('routing (compute-bound, plain code) ≥ 3× njs', ratio(samples, 'routing', 'node', 'njs'), 3);
    atLeast('hello vs sidecar: ≥ 3× req/s', ratio(samples, 'hello', 'node', 'sidecar'), 3);
    atLeast('JWT vs sidecar: ≥ 3× req/s', ratio(samples, 'jwt', 'node', 'sidecar'), 3);
    const p99 = latencyRatio(samples, 'hello', 'node', 'sidecar');
    list.push({ what: 'hello vs sidecar: p99 ≤ 1/3 of the sidecar\'s', measured: p99 === undefined ? 'not measured' : `${p99.toFixed(2)}×`, met: p99 === undefined ? undefined : p99 <= 1 / 3 });
    atLeast('hello ≥ 0.9× Lua', ratio(samples, 'hello', 'node', 'lua'), 0.9);
    if (pending) {
        list.push({ what: `${pending.connections} pending async requests: 0 errors`, measured: `${pending.errors} errors`, met: pending.errors === 0 });
        const own = baseline ? ` (nginx's own, no JavaScript: ${baseline.perPendingKB.toFixed(2)} KB)` : '';
        list.push({ what: 'RSS per pending request < 8 KB', measured: `${pending.perPendingKB.toFixed(2)} KB${own}`, met: pending.perPendingKB < 8 });
    }
    if (startup) {
        const node = startup.footprints.find((f) => f.variant === 'node');
        if (node) {
            list.push({ what: 'idle worker private memory ≤ 25 MB', measured: `${(node.worker.privateDirtyKB / 1024).toFixed(1)} MB`, met: node.worker.privateDirtyKB <= 25 * 1024 });
            list.push({ what: 'master does not map libnode', measured: node.masterMapsLibnode ? 'maps it' : 'does not', met: !node.masterMapsLibnode });
        }
        if (startup.workerStartMs.length) {
            const ms = median(startup.workerStartMs);
            list.push({ what: 'worker start ≤ 150 ms', measured: `${ms} ms (median of ${startup.workerStartMs.length})`, met: ms <= 150 });
        }
    }
    return list;
}

export function targetsTable(list: Target[]): string {
    return ['| target | measured | met |', '|---|---:|:---:|',
        ...list.map((t) => `| ${t.what} | ${t.measured} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`)].join('\n');
}

export function pendingTable(results: { engine: string; result: ConcurrencyResult }[]): string {
    return ['| engine | pending requests | errors | wall time | RSS before | RSS peak | RSS per pending request |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...results.map(({ engine, result: r }) => `| ${engine} | ${r.connections} | ${r.errors} | ${r.wallMs} ms (sent in ${r.sendMs} ms) | ` +
            `${(r.rssBeforeKB / 1024).toFixed(1)} MB | ${(r.rssPeakKB / 1024).toFixed(1)} MB | ${r.perPendingKB.toFixed(2)} KB |`)].join('\n');
}

export function startupTable(startup: StartupResult): string {
    const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
    const rows = ['| nginx with | idle worker RSS | worker private (written) | worker clean file pages (code, shared) | worker PSS | master RSS | master maps libnode |',
        '|---|---:|---:|---:|---:|---:|:---:|',
        ...startup.footprints.map((f) => `| ${f.variant === 'nginx' ? 'no module' : f.variant === 'njs' ? 'njs' : 'ngx-node'} | ` +
            `${mb(f.worker.rssKB)} | ${mb(f.worker.privateDirtyKB)} | ${mb(f.worker.fileCleanKB)} | ${mb(f.worker.pssKB)} | ${mb(f.master.rssKB)} | ${f.masterMapsLibnode ? 'yes' : 'no'} |`)];
    rows.push('', 'Private (written): pages the worker wrote that no other process maps, what each further worker adds. ' +
        'Clean file pages are code read from libraries (for ngx-node, mostly libnode); they live once in the page cache ' +
        'for every worker that maps them, and PSS divides them among those workers.');
    if (startup.workerStartMs.length) {
        rows.push('', `Worker start (Node.js init, runtime, modules; "ngx-node: Node.js started in N ms"): ` +
            `median ${median(startup.workerStartMs)} ms, min ${Math.min(...startup.workerStartMs)} ms, max ${Math.max(...startup.workerStartMs)} ms over ${startup.workerStartMs.length} starts.`);
    }
    return rows.join('\n');
}
