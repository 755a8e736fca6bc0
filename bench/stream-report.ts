/** The stream section's tables (bench/stream.ts's results), for bench/results and the README. */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';

import { ROOT } from '../test/harness/paths';
import { median, Target, targetsTable } from './report';
import {
    CHUNKS, Direction, DIRECTIONS, sessionCases, StreamCase, StreamResults, throughputCases, throughputKey,
} from './stream';

const us = (n: number) => n >= 1000 ? `${(n / 1000).toFixed(2)} ms` : `${n.toFixed(0)} µs`;
const times = (n: number | undefined) => n === undefined ? '' : `${n.toFixed(2)}×`;
const percent = (n: number) => `${(n * 100).toFixed(0)}%`;
const sizeLabel = (chunk: number) => chunk >= 1 << 20 ? `${chunk >> 20} MB` : `${chunk >> 10} KB`;

/** The median over rounds of a / b, each pair from the same round. */
function ratioOf<T>(a: T[] | undefined, b: T[] | undefined, value: (sample: T) => number): number | undefined {
    if (!a || !b || a.length !== b.length || a.length === 0) return undefined;
    return median(a.map((s, i) => value(s) / value(b[i])));
}

/** Sessions per second of a case over another's, within rounds. */
export function sessionRatio(results: StreamResults, a: string, b: string): number | undefined {
    return ratioOf(results.sessions[a], results.sessions[b], (s) => s.rps);
}

/** Worker CPU per session of b over a's: how many more sessions a's worker could take. */
export function sessionCpuRatio(results: StreamResults, a: string, b: string): number | undefined {
    const x = results.sessions[a];
    const y = results.sessions[b];
    return ratioOf(y, x, (s) => s.cpuUsPerSession);
}

export function throughputRatio(results: StreamResults, a: string, b: string, chunk: number, direction: Direction): number | undefined {
    return ratioOf(results.throughput[throughputKey(a, chunk, direction)], results.throughput[throughputKey(b, chunk, direction)], (s) => s.mbPerSecond);
}

export function sessionsTable(results: StreamResults): string {
    const rows = [
        '| case | sessions/s | p50 | p99 | worker CPU µs/session | worker busy | errors | × `proxy_pass` | × njs | × njs by worker CPU |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const c of sessionCases) {
        const runs = results.sessions[c.id];
        if (!runs) continue;
        const proxied = c.engine !== 'none';
        rows.push(`| ${c.label} | ${median(runs.map((s) => s.rps)).toFixed(0)} | ${us(median(runs.map((s) => s.p50us)))} | ` +
            `${us(median(runs.map((s) => s.p99us)))} | ${proxied ? median(runs.map((s) => s.cpuUsPerSession)).toFixed(1) : ''} | ` +
            `${proxied ? percent(median(runs.map((s) => s.workerBusy))) : ''} | ${runs.reduce((n, s) => n + s.non2xx + s.socketErrors, 0)} | ` +
            `${proxied ? times(sessionRatio(results, c.id, 'plain')) : ''} | ` +
            `${c.njsPeer ? times(sessionRatio(results, c.id, c.njsPeer)) : ''} | ` +
            `${c.njsPeer ? times(sessionCpuRatio(results, c.id, c.njsPeer)) : ''} |`);
    }
    return rows.join('\n');
}

function cell(results: StreamResults, c: StreamCase, chunk: number, direction: Direction) {
    const runs = results.throughput[throughputKey(c.id, chunk, direction)];
    if (!runs) return undefined;
    return {
        mbPerSecond: median(runs.map((s) => s.mbPerSecond)),
        cpuUsPerMB: median(runs.map((s) => s.cpuUsPerMB)),
        busy: median(runs.map((s) => s.workerBusy)),
    };
}

export function throughputTable(results: StreamResults, chunk: number): string {
    const both = (f: (direction: Direction) => string) => DIRECTIONS.map(f);
    const rows = [
        '| case | upload MB/s | download MB/s | worker CPU µs/MB up | µs/MB down | worker busy up | busy down | × `proxy_pass` up | × `proxy_pass` down | × njs up | × njs down |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const c of throughputCases) {
        const cells = DIRECTIONS.map((direction) => cell(results, c, chunk, direction));
        if (cells.every((x) => x === undefined)) continue;
        const proxied = c.engine !== 'none';
        rows.push(`| ${c.label} | ${cells.map((x) => x ? x.mbPerSecond.toFixed(0) : '').join(' | ')} | ` +
            `${cells.map((x) => x && proxied ? x.cpuUsPerMB.toFixed(0) : '').join(' | ')} | ` +
            `${cells.map((x) => x && proxied ? percent(x.busy) : '').join(' | ')} | ` +
            `${both((d) => proxied ? times(throughputRatio(results, c.id, 'plain', chunk, d)) : '').join(' | ')} | ` +
            `${both((d) => c.njsPeer ? times(throughputRatio(results, c.id, c.njsPeer, chunk, d)) : '').join(' | ')} |`);
    }
    return rows.join('\n');
}

export function streamTargets(results: StreamResults): Target[] {
    const list: Target[] = [];
    const atLeast = (what: string, values: (number | undefined)[], labels: string[], goal: number) => {
        const measured = values.every((v) => v === undefined) ? 'not measured'
            : values.map((v, i) => `${labels[i]} ${v === undefined ? '–' : `${v.toFixed(2)}×`}`).join(', ');
        const known = values.filter((v): v is number => v !== undefined);
        list.push({ what, measured, met: known.length === 0 ? undefined : known.length === values.length && known.every((v) => v >= goal) });
    };
    atLeast('`node_preread` + `node_set` ≥ 1.2× njs (sessions/s)', [sessionRatio(results, 'node', 'njs')], ['sessions/s'], 1.2);
    for (const chunk of CHUNKS) {
        const labels = DIRECTIONS.map((d) => d);
        for (const [kind, id] of [['Buffer', 'node-bytes'], ['string', 'node-text']] as const) {
            const njs = throughputCases.find((c) => c.id === id)?.njsPeer ?? '';
            atLeast(`\`node_filter\` ${kind} events ≥ 1.2× njs (${sizeLabel(chunk)} chunks, MB/s)`,
                DIRECTIONS.map((d) => throughputRatio(results, id, njs, chunk, d)), labels, 1.2);
        }
        for (const [kind, id] of [['Buffer', 'node-bytes'], ['string', 'node-text']] as const) {
            atLeast(`\`node_filter\` ${kind} events ≥ 0.5× \`proxy_pass\` (${sizeLabel(chunk)} chunks, MB/s)`,
                DIRECTIONS.map((d) => throughputRatio(results, id, 'plain', chunk, d)), labels, 0.5);
        }
    }
    return list;
}

/** The versions the stream section runs with. */
function versions(): string {
    const text = (cmd: string, args: string[]) => {
        const r = spawnSync(cmd, args, { encoding: 'utf8' });
        return `${r.stdout ?? ''}${r.stderr ?? ''}`;
    };
    const pkg = (name: string) => text('dpkg-query', ['-W', '-f=${Version}', name]).trim();
    return `nginx ${pkg('nginx')} (stream: libnginx-mod-stream ${pkg('libnginx-mod-stream')}), ` +
        `njs ${pkg('libnginx-mod-stream-js')} (libnginx-mod-stream-js), ngx-node on Node.js ${text(join(ROOT, 'build', 'ngx-node'), ['-v']).trim()} ` +
        `(Debian's libnode), wrk ${pkg('wrk')}, the peer built by ${text('cc', ['--version']).split('\n')[0]}; ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`;
}

/** The stream section of a results file: `##` headings, as the other sections. */
export function streamMarkdown(results: StreamResults): string {
    return [
        '## Stream: new TCP sessions through `node_preread` + `node_set` routing',
        '',
        `wrk \`-t1 -c${results.connections} -H 'Connection: close'\` pinned to CPU 1, ${results.rounds} interleaved rounds of ` +
        `${results.sessionSeconds} s per case (medians; ratios within a round, then the median): each request is a new TCP ` +
        'session to a stream server, which nginx (one worker, pinned to CPU 0) proxies to an HTTP upstream (another nginx, ' +
        '`return 200`, its worker on CPU 1). The preread handler reads the request line and picks the `upstream {}` group ' +
        '(by method and path) that `proxy_pass $variable` goes to. Worker CPU is the stream worker\'s (all its threads) per ' +
        'session; worker busy is its CPU time over wall time: under 100%, the client side (CPU 1), not the worker, set the pace. ' +
        '× njs by worker CPU: njs\'s worker CPU per session over this case\'s, the ratio of sessions the worker could take ' +
        'if it were the bottleneck.',
        '',
        versions(),
        '',
        sessionsTable(results),
        '',
        ...CHUNKS.flatMap((chunk) => [
            `## Stream: throughput through \`node_filter\`, ${sizeLabel(chunk)} chunks`,
            '',
            `A C peer (\`bench/peer/stream-peer.c\`, both ends on CPU 1) writes ${sizeLabel(chunk)} chunks for ${results.transferSeconds} s ` +
            `through nginx (\`proxy_buffer_size ${chunk >> 10}k\`), upload (client → upstream) and download (upstream → client), ` +
            `${results.rounds} interleaved rounds (medians); MB/s are 10^6 bytes that reached the receiving end per second, from ` +
            'connect to its last byte. The filters send each chunk on as it came (`s.send(data, flags)`), in both directions; ' +
            'ASCII payload, checked byte for byte before the measured runs.',
            '',
            throughputTable(results, chunk),
            '',
        ]),
        '## Stream targets',
        '',
        targetsTable(streamTargets(results)),
        '',
        `Load on the machine (\`uptime\`), before and after: ${results.load.map((l) => `\`${l.replace(/^.*load average/, 'load average')}\``).join(', ')}.`,
        '',
    ].join('\n');
}
