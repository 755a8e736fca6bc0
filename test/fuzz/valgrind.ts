/**
 * npm run fuzz -- --valgrind [--count 500] [--seed S]
 *
 * nginx in one process (master_process off, daemon off) under valgrind's memcheck, Node with
 * V8's JIT off (node_option --jitless: generated code and V8's own stack tricks confuse
 * memcheck), then a fuzz run, a normal request, and SIGQUIT. Prints valgrind's errors, those
 * whose stack passes through ngx-node's code (ngx_*node* in native/nginx, native/bridge) first.
 * test/fuzz/valgrind.supp silences what is not ngx-node's (so far only nginx's own leak of its
 * environment in single-process mode; Node and V8 were quiet with --jitless). Exits non-zero
 * when memcheck reported any error, or when nginx did not exit with 0.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { request } from '../harness/http';
import { canConnect, Nginx, NGINX, sleep } from '../harness/nginx';
import { ROOT } from '../harness/paths';
import { fuzzConf } from './conf';
import type { CliOptions } from './fuzz';
import { errorLogSummary, report, runFuzz } from './run';

export const SUPPRESSIONS = join(ROOT, 'test', 'fuzz', 'valgrind.supp');

export interface MemcheckError {
    /** "Invalid read of size 8", "Conditional jump ... uninitialised value(s)", "N bytes ... definitely lost" */
    kind: string;
    /** the stack, as valgrind printed it */
    stack: string[];
    /** a frame of ngx-node's code is in the stack */
    ours: boolean;
}

const OURS = /ngx_http_node|ngx_node_|ngx_stream_node|native\/bridge|bridge\.cc|values\.cc|handles\.cc|ngx_node_bridge\.so|ngx_http_node_module\.so/;

/** valgrind's log, cut into error records. */
export function memcheckErrors(log: string): MemcheckError[] {
    const errors: MemcheckError[] = [];
    let current: string[] | undefined;
    const flush = () => {
        if (current && current.length > 1) {
            const kind = current[0];
            const stack = current.slice(1);
            errors.push({ kind, stack, ours: stack.some((frame) => OURS.test(frame)) });
        }
        current = undefined;
    };
    for (const raw of log.split('\n')) {
        const match = /^==\d+== ?(.*)$/.exec(raw);
        if (!match) continue;
        const line = match[1];
        if (line.trim() === '') {
            flush();
            continue;
        }
        if (/^\s+(at|by) 0x/.test(line) || /^\s+Address 0x/.test(line) || /^\s+Block was/.test(line) || /^\s+Uninitialised value was/.test(line)) {
            current?.push(line.trim());
            continue;
        }
        if (/^(Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument '|.*bytes in .* blocks are (definitely|possibly) lost|Process terminating|Jump to the invalid)/.test(line)) {
            flush();
            current = [line];
        }
    }
    flush();
    return errors;
}

export async function valgrindRun(options: CliOptions): Promise<number> {
    if (spawnSync('valgrind', ['--version']).status !== 0) {
        console.error('valgrind is not installed (apt-get install valgrind)');
        return 2;
    }
    console.log(`fuzz under valgrind: seed ${options.seed}, ${options.count} cases (replay with --valgrind --seed ${options.seed})`);
    const nginx = await Nginx.prepare({
        conf: (port) => fuzzConf(port, { main: 'master_process off;\nnode_option --jitless;' }),
        files: { 'html/static/index.html': 'static\n' },
    });
    const logFile = nginx.path('logs/valgrind.log');
    const child = spawn('valgrind', [
        '--tool=memcheck', '--error-exitcode=99', `--log-file=${logFile}`, `--suppressions=${SUPPRESSIONS}`,
        '--num-callers=40', '--leak-check=full', '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite',
        '--gen-suppressions=all', '--child-silent-after-fork=yes',
        NGINX, '-p', nginx.prefix, '-c', 'conf/nginx.conf', '-g', 'daemon off;',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let code: number | null = null;
    let problems: string[] = [];
    try {
        const started = Date.now();
        while (!(await canConnect(nginx.port))) {
            if (child.exitCode !== null) throw new Error(`nginx under valgrind exited with ${child.exitCode}: ${stderr}\n${nginx.errorLog()}`);
            if (Date.now() - started > 300000) throw new Error('nginx under valgrind did not listen within 300 s');
            await sleep(200);
        }
        // Node starts in init_process, before the listening socket serves: wait for its line
        await nginx.waitForLog(/Node\.js started|ngx-node/, 300000).catch(() => undefined);
        console.log(`nginx under valgrind listens after ${((Date.now() - started) / 1000).toFixed(0)} s`);
        const stats = await runFuzz(nginx.port, {
            seed: options.seed, count: options.count, concurrency: options.concurrency, caseTimeoutMs: 120000,
            progress: (done) => { if (done % 100 === 0) process.stderr.write(`fuzz: ${done}/${options.count}\n`); },
        });
        console.log(report(stats));
        problems = stats.failures.map((f) => `case ${f.index}: ${f.failure}`);
        const reply = await request(nginx.url('/sync/health?x=1'), { timeoutMs: 120000 });
        if (reply.status !== 200) problems.push(`a normal request got ${reply.status}`);
    } finally {
        if (child.exitCode === null) {
            process.kill(child.pid as number, 'SIGQUIT');
            const result = await Promise.race([exited, sleep(600000).then(() => 'timeout' as const)]);
            if (result === 'timeout') {
                problems.push('nginx under valgrind did not quit within 600 s of SIGQUIT');
                process.kill(child.pid as number, 'SIGKILL');
            }
        }
        code = await exited;
    }
    console.log(`\nnginx exited with ${code} (valgrind's --error-exitcode is 99)`);
    console.log('\nerror_log (lines by message, numbers folded):');
    for (const [text, n] of errorLogSummary(nginx.errorLog()).slice(0, 30)) console.log(`${String(n).padStart(7)}  ${text}`);
    const log = readFileSync(logFile, 'utf8');
    const summary = /ERROR SUMMARY: (\d+) errors from (\d+) contexts/.exec(log);
    const errors = memcheckErrors(log);
    const ours = errors.filter((e) => e.ours);
    console.log(`\nvalgrind: ${summary ? `${summary[1]} errors from ${summary[2]} contexts` : 'no summary'}; ` +
        `${errors.length} error records, ${ours.length} through ngx-node's code; log ${logFile}`);
    for (const e of ours.slice(0, 20)) console.log(`\n${e.kind}\n  ${e.stack.slice(0, 16).join('\n  ')}`);
    const others = errors.filter((e) => !e.ours);
    if (others.length) {
        console.log(`\nother records (Node/V8/libc, first frames):`);
        for (const e of others.slice(0, 10)) console.log(`  ${e.kind} | ${e.stack.slice(0, 3).join(' | ')}`);
    }
    if (problems.length) console.log(`\nPROBLEMS:\n- ${problems.join('\n- ')}`);
    // nothing of Node's or V8's showed up with --jitless (the suppressions hold nginx's own):
    // any error counts
    const failed = errors.length > 0 || (summary !== null && summary[1] !== '0') || problems.length > 0 || code !== 0;
    console.log(`\nvalgrind fuzz: ${failed ? 'FAILED' : 'ok'} (prefix ${nginx.prefix})`);
    return failed ? 1 : 0;
}
