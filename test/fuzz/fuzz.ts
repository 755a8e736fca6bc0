/**
 * Bad-input fuzzing of nginx with the module: hostile and malformed requests over raw
 * sockets, against handlers of every kind in one server (test/fuzz/conf.ts).
 *
 *   npm run fuzz -- [--count N] [--first I] [--seed S] [--concurrency C] [--workers W]
 *                   [--case I] [--match REGEX] [--stop-on-crash] [--valgrind] [--keep] [--verbose]
 *
 * --case I replays case I of the seed alone and prints what was sent and received.
 * --stop-on-crash checks the worker after each case and stops at the first that changed it.
 * --match REGEX runs only the cases whose "mode label" matches (triage: "full-reset .*buffered").
 * --valgrind runs nginx (master_process off) under valgrind's memcheck, with V8 jitless,
 * and reports the errors in ngx-node's code (test/fuzz/valgrind.ts).
 * Exits non-zero when a check fails. The seed is printed first: a failing run is replayed
 * with the same --seed (and --count, as cases are independent of each other).
 */
import { randomInt } from 'node:crypto';

import { Nginx } from '../harness/nginx';
import { makeCase } from './cases';
import { sendCase } from './client';
import { errorLogSummary, healthProblems, judge, report, runFuzz, startFuzzNginx } from './run';
import { valgrindRun } from './valgrind';

export interface CliOptions {
    seed: number;
    count: number;
    concurrency: number;
    workers: number;
    replay?: number;
    match?: RegExp;
    first: number;
    stopOnCrash: boolean;
    valgrind: boolean;
    keep: boolean;
    verbose: boolean;
}

function parseCli(argv: string[]): CliOptions {
    const value = (name: string): string | undefined => {
        const i = argv.indexOf(name);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const number = (name: string, fallback: number) => {
        const v = value(name);
        if (v === undefined) return fallback;
        if (!/^\d+$/.test(v)) throw new Error(`${name} takes a number, not ${v}`);
        return Number(v);
    };
    const valgrind = argv.includes('--valgrind');
    return {
        seed: number('--seed', randomInt(1, 2 ** 31)),
        count: number('--count', valgrind ? 500 : 2000),
        concurrency: number('--concurrency', valgrind ? 4 : 16),
        workers: number('--workers', 1),
        replay: value('--case') === undefined ? undefined : number('--case', 0),
        match: value('--match') === undefined ? undefined : new RegExp(value('--match') as string),
        first: number('--first', 0),
        stopOnCrash: argv.includes('--stop-on-crash'),
        valgrind,
        keep: argv.includes('--keep'),
        verbose: argv.includes('--verbose'),
    };
}

function printable(data: Buffer, max = 2000): string {
    const text = data.subarray(0, max).toString('latin1')
        .replace(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\xff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return data.length > max ? `${text}… (${data.length} bytes)` : text;
}

async function replay(nginx: Nginx, options: CliOptions, index: number): Promise<number> {
    const c = makeCase(options.seed, index, nginx.port);
    console.log(`case ${index} of seed ${options.seed}: ${c.mode}, ${c.label}`);
    console.log(`sent (${c.pieces.length} pieces, pauses ${c.pauses.join(',')}, cut ${c.cut}):\n${printable(Buffer.concat(c.pieces))}`);
    const result = await sendCase(nginx.port, c, 15000);
    console.log(`\nreceived (${result.end} after ${result.ms} ms):\n${printable(result.received)}`);
    const verdict = judge(c, result);
    console.log(`\nverdict: ${verdict.outcome}${verdict.failure ? `: FAILURE ${verdict.failure}` : ''}`);
    return verdict.failure ? 1 : 0;
}

async function main(): Promise<number> {
    const options = parseCli(process.argv.slice(2));
    if (options.valgrind) {
        return valgrindRun(options);
    }
    console.log(`fuzz: seed ${options.seed} (replay with --seed ${options.seed})`);
    if (options.keep) process.env.NGX_NODE_KEEP_PREFIX = '1';
    const nginx = await startFuzzNginx(options.workers);
    try {
        if (options.replay !== undefined) return await replay(nginx, options, options.replay);
        const pids = nginx.workerPids();
        let last = 0;
        const stats = await runFuzz(nginx.port, {
            seed: options.seed, first: options.first, count: options.count, concurrency: options.concurrency, match: options.match,
            afterCase: !options.stopOnCrash ? undefined : (c) => {
                if (nginx.workerPids().join(',') === pids.join(',')) return true;
                console.log(`worker changed after case ${c.index} (${c.mode}): ${c.label}`);
                return false;
            },
            progress: (done) => {
                if (done - last >= 1000 || (options.verbose && done - last >= 100)) {
                    last = done;
                    process.stderr.write(`fuzz: ${done}/${options.count}\n`);
                }
            },
        });
        const problems = await healthProblems(nginx, pids);
        console.log(report(stats));
        console.log('\nerror_log (lines by message, numbers folded):');
        for (const [text, n] of errorLogSummary(nginx.errorLog()).slice(0, options.verbose ? 200 : 40)) console.log(`${String(n).padStart(7)}  ${text}`);
        if (problems.length) console.log(`\nPROBLEMS:\n- ${problems.join('\n- ')}`);
        const failed = problems.length > 0 || stats.failures.length > 0;
        console.log(`\nfuzz: ${failed ? 'FAILED' : 'ok'} (seed ${options.seed}${options.keep ? `, prefix ${nginx.prefix}` : ''})`);
        return failed ? 1 : 0;
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
