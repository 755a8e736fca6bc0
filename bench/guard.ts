/**
 * npm run bench:guard [-- --requests 20]
 *
 * What the execution guard costs a request that runs away, and what it leaves behind: a
 * handler spinning in `while (true) {}` under `node_cpu_timeout` 250 ms and 1 s, one request
 * after another; for each, the time from the request to its 500, minus the limit (the cut
 * latency: how long past the limit the code ran before it was stopped and answered), and that
 * a plain request right after is answered by the same worker. Prints a table and writes it to
 * bench/results/<date>-guard.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Nginx } from '../test/harness/nginx';
import { ROOT } from '../test/harness/paths';
import { numberOption } from './options';
import { median } from './report';

const SPIN = `export function spin(r) { while (true) {} }
export function hello(r) { r.return(200, 'hello\\n'); }
`;

interface Row {
    limitMs: number;
    latencies: number[];
    answered: number;
    workersBefore: number[];
    workersAfter: number[];
}

async function measure(limitMs: number, requests: number): Promise<Row> {
    const nginx = await Nginx.start({
        main: `node_cpu_timeout ${limitMs}ms;`,
        files: { 'conf/spin.mjs': SPIN },
        http: 'node_import spin from spin.mjs;',
        server: `
        location = /spin { node_content spin.spin; }
        location = /hello { node_content spin.hello; }`,
    });
    try {
        const workersBefore = nginx.workerPids();
        const latencies: number[] = [];
        let answered = 0;
        for (let i = 0; i < requests; i++) {
            const started = process.hrtime.bigint();
            const cut = await nginx.request('/spin');
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            if (cut.status !== 500) throw new Error(`/spin answered ${cut.status}, not 500`);
            latencies.push(ms - limitMs);
            const after = await nginx.request('/hello');
            if (after.status === 200 && after.text === 'hello\n') answered++;
        }
        return { limitMs, latencies, answered, workersBefore, workersAfter: nginx.workerPids() };
    } finally {
        await nginx.stop();
    }
}

function table(rows: Row[], requests: number): string {
    const lines = [
        `\`npm run bench:guard -- --requests ${requests}\`: a content handler running \`while (true) {}\`, ` +
        'one request at a time, one worker; cut latency = time to the 500 minus `node_cpu_timeout`.',
        '',
        '| `node_cpu_timeout` | cut latency, median | max | plain requests answered right after | the worker |',
        '|---:|---:|---:|---:|---|',
    ];
    for (const row of rows) {
        const same = row.workersBefore.join() === row.workersAfter.join();
        lines.push(`| ${row.limitMs} ms | ${median(row.latencies).toFixed(1)} ms | ${Math.max(...row.latencies).toFixed(1)} ms | ` +
            `${row.answered} of ${row.latencies.length} | ${same ? 'the same process throughout' : `replaced (${row.workersBefore} → ${row.workersAfter})`} |`);
    }
    return lines.join('\n');
}

async function main(): Promise<void> {
    const requests = numberOption(process.argv, '--requests', 20);
    const rows: Row[] = [];
    for (const limitMs of [250, 1000]) rows.push(await measure(limitMs, requests));
    const text = table(rows, requests);
    process.stdout.write(`${text}\n`);
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${new Date().toISOString().slice(0, 10)}-guard.md`);
    writeFileSync(file, `# ngx-node execution guard, ${new Date().toISOString().slice(0, 10)}\n\n${text}\n`);
    process.stderr.write(`bench: written to ${file}\n`);
}

main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
