/**
 * npm run bench:metrics [-- --seconds 10 --rounds 3 --connections 50]
 *
 * What metrics cost per request: the hello handler in an nginx without a metrics zone and in
 * one with `node_metrics_zone` (every call counted, timed and added to the zone each second),
 * and there also a handler that counts each request in an ngx.metrics counter with a label.
 * Both nginx run at once, one worker each pinned to CPU 0, wrk on CPU 1; the cases take turns
 * within each round. Reports req/s and the worker's CPU time per request, and their ratios to
 * the run without metrics; then checks that the zone counted every request wrk got answered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from '../test/harness/http';
import { Nginx } from '../test/harness/nginx';
import { ROOT } from '../test/harness/paths';
import { processCpuNanos } from './proc';
import { median } from './report';
import { runWrk, WrkResult } from './wrk';
import { numberOption } from './options';

interface Case {
    name: string;
    nginx: Nginx;
    path: string;
}

interface Options {
    seconds: number;
    rounds: number;
    connections: number;
}

function parseOptions(argv: string[]): Options {
    return { seconds: numberOption(argv, '--seconds', 10), rounds: numberOption(argv, '--rounds', 3), connections: numberOption(argv, '--connections', 50) };
}

function start(metrics: boolean): Promise<Nginx> {
    return Nginx.start({
        main: 'worker_cpu_affinity 01;\nworker_rlimit_nofile 20000;',
        http: `
    node_import node from ${join(ROOT, 'bench', 'handlers', 'node.mjs')};
    keepalive_requests 1000000;${metrics ? '\n    node_metrics_zone 1m;' : ''}`,
        server: `
        location = /hello { node_content node.hello; }${metrics ? `
        location = /counted { node_content node.helloCounted; }
        location = /metrics { node_metrics; }` : ''}`,
    });
}

interface Sample {
    wrk: WrkResult;
    cpuUsPerRequest: number;
}

async function measure(c: Case, options: Options, script: string): Promise<Sample> {
    const [worker] = c.nginx.workerPids();
    const before = processCpuNanos(worker);
    const wrk = await runWrk({ url: c.nginx.url(c.path), method: 'GET' }, options.seconds, options.connections, script);
    return { wrk, cpuUsPerRequest: (processCpuNanos(worker) - before) / 1000 / Math.max(1, wrk.requests) };
}

/** The handler metrics of the run with metrics: calls of node.hello and node.helloCounted. */
async function counted(nginx: Nginx): Promise<Record<string, number>> {
    const text = (await request(nginx.url('/metrics'))).text;
    const calls: Record<string, number> = {};
    for (const match of text.matchAll(/^ngx_node_handler_calls_total\{[^}]*handler="([^"]+)"\} (\S+)$/gm)) calls[match[1]] = Number(match[2]);
    const user = /^bench_requests_total\{method="GET"\} (\S+)$/m.exec(text);
    calls['bench_requests_total'] = Number(user?.[1] ?? 0);
    return calls;
}

async function main(): Promise<void> {
    const options = parseOptions(process.argv.slice(2));
    const scratch = mkdtempSync(join(tmpdir(), 'ngx-node-bench-metrics-'));
    const off = await start(false);
    const on = await start(true);
    try {
        const cases: Case[] = [
            { name: 'hello, no metrics zone', nginx: off, path: '/hello' },
            { name: 'hello, `node_metrics_zone` (handler metrics)', nginx: on, path: '/hello' },
            { name: 'hello + `ngx.metrics` counter with a label, per request', nginx: on, path: '/counted' },
        ];
        const script = join(scratch, 'wrk.lua');
        for (const c of cases) await runWrk({ url: c.nginx.url(c.path), method: 'GET' }, 2, options.connections, script);
        const before = await counted(on);
        const samples: Sample[][] = cases.map(() => []);
        const answered = cases.map(() => 0);
        for (let round = 0; round < options.rounds; round++) {
            for (let k = 0; k < cases.length; k++) {
                const i = (k + round) % cases.length;
                const sample = await measure(cases[i], options, script);
                samples[i].push(sample);
                answered[i] += sample.wrk.requests - sample.wrk.non2xx;
                process.stderr.write(`bench:metrics: round ${round + 1}/${options.rounds} ${cases[i].name}: ${sample.wrk.rps.toFixed(0)} req/s\n`);
            }
        }
        // the zone has every request (each worker adds its counts within about a second)
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const after = await counted(on);
        const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);

        const base = samples[0];
        const lines = [
            `\`npm run bench:metrics -- --seconds ${options.seconds} --rounds ${options.rounds}\`: ${options.rounds} rounds of ${options.seconds} s per case, ` +
            `medians; each nginx one worker pinned to CPU 0, wrk \`-t1 -c${options.connections}\` on CPU 1; ratios to the run without metrics, per round, then the median.`,
            '',
            '| case | req/s | worker CPU µs/req | CPU per request vs no metrics | req/s vs no metrics |',
            '|---|---:|---:|---:|---:|',
        ];
        cases.forEach((c, i) => {
            const cpuRatio = median(samples[i].map((s, r) => s.cpuUsPerRequest / base[r].cpuUsPerRequest));
            const rpsRatio = median(samples[i].map((s, r) => s.wrk.rps / base[r].wrk.rps));
            lines.push(`| ${c.name} | ${Math.round(median(samples[i].map((s) => s.wrk.rps)))} | ` +
                `${median(samples[i].map((s) => s.cpuUsPerRequest)).toFixed(2)} | ${cpuRatio.toFixed(3)} | ${rpsRatio.toFixed(3)} |`);
        });
        lines.push('', `The zone counted ${delta('node.hello')} calls of node.hello and ${delta('node.helloCounted')} of node.helloCounted ` +
            `(${delta('bench_requests_total')} in the user counter); wrk got ${answered[1]} and ${answered[2]} answers.`);
        process.stdout.write(lines.join('\n') + '\n');
        if (delta('node.hello') < answered[1] || delta('node.helloCounted') < answered[2] || delta('bench_requests_total') !== delta('node.helloCounted')) {
            throw new Error('the metrics zone did not count every request');
        }
    } finally {
        await on.destroy();
        await off.destroy();
        rmSync(scratch, { recursive: true, force: true });
    }
}

main().catch((error: unknown) => {
    process.stderr.write(`bench:metrics: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
