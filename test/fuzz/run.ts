/** Running fuzz cases against nginx, judging the answers, and reporting (test/fuzz/fuzz.ts). */
import { request } from '../harness/http';
import { Nginx } from '../harness/nginx';
import { Case, makeCase } from './cases';
import { CaseResult, parseResponses, sendCase } from './client';
import { fuzzConf } from './conf';

export interface Verdict {
    outcome: string;
    statuses: number[];
    failure?: string;
}

/** What one case's result says about nginx. */
export function judge(c: Case, result: CaseResult): Verdict {
    if (result.end === 'timeout') {
        return { outcome: 'no answer, no close (hung)', statuses: [], failure: `neither an answer nor a close within ${result.ms} ms` };
    }
    const data = result.received;
    if (data.length === 0) {
        const outcome = result.end === 'client-aborted' ? 'client went away before any answer'
            : result.end === 'reset' ? 'reset by nginx without an answer' : 'closed by nginx without an answer';
        return { outcome, statuses: [] };
    }
    const parsed = parseResponses(data, result.end !== 'answered', c.methods);
    if (parsed.malformed) {
        // an HTTP/0.9 request (no version) is answered with the body alone, also after others
        const at = Number(/at byte (\d+)/.exec(parsed.malformed)?.[1] ?? -1);
        if (c.http09 && at >= 0 && !data.subarray(at, at + 5).equals(Buffer.from('HTTP/'))) {
            return { outcome: 'HTTP/0.9 answer (body only)', statuses: parsed.responses.map((r) => r.status) };
        }
        return { outcome: 'malformed answer', statuses: parsed.responses.map((r) => r.status), failure: parsed.malformed };
    }
    const statuses = parsed.responses.map((r) => r.status);
    for (const r of parsed.responses) {
        if (r.status > 599) return { outcome: 'malformed answer', statuses, failure: `status ${r.status}` };
        const injected = r.headers.find(([name]) => name === 'injected');
        if (injected) {
            return { outcome: 'response splitting', statuses, failure: `a header made of request data split the ${r.status} response: "Injected: ${injected[1]}"` };
        }
    }
    if (result.end === 'client-aborted') return { outcome: 'client went away during the answer', statuses };
    if (parsed.responses.some((r) => !r.complete)) {
        return { outcome: result.end === 'reset' ? 'answer cut by a reset' : 'answer cut by a close', statuses };
    }
    return { outcome: result.end === 'reset' ? 'answered, then reset' : 'answered', statuses };
}

export interface FuzzStats {
    seed: number;
    cases: number;
    /** requests in the cases (a pipelined case has several) */
    requests: number;
    responses: number;
    byOutcome: Map<string, number>;
    byStatus: Map<number, number>;
    byMode: Map<string, number>;
    failures: { index: number; mode: string; label: string; failure: string }[];
    ms: number;
}

function bump<K>(map: Map<K, number>, key: K, n = 1): void {
    map.set(key, (map.get(key) ?? 0) + n);
}

export interface FuzzOptions {
    seed: number;
    count: number;
    /** the first case's index (cases are independent: a range replays part of a run) */
    first?: number;
    concurrency: number;
    /** only the cases whose mode and label match (triage) */
    match?: RegExp;
    /** per case: longer than nginx's client timeouts (2 s) plus node_timeout (3 s) */
    caseTimeoutMs?: number;
    progress?: (done: number) => void;
    /** after each case; false stops the run (--stop-on-crash) */
    afterCase?: (c: Case, verdict: Verdict) => boolean;
}

/** Runs cases [first, first + count) of the seed against nginx on `port`. */
export async function runFuzz(port: number, options: FuzzOptions): Promise<FuzzStats> {
    const stats: FuzzStats = {
        seed: options.seed, cases: 0, requests: 0, responses: 0, byOutcome: new Map(), byStatus: new Map(),
        byMode: new Map(), failures: [], ms: 0,
    };
    const started = Date.now();
    const first = options.first ?? 0;
    let next = first;
    const end = first + options.count;
    const lane = async () => {
        while (next < end) {
            const c = makeCase(options.seed, next++, port);
            if (options.match && !options.match.test(`${c.mode} ${c.label}`)) continue;
            const result = await sendCase(port, c, options.caseTimeoutMs ?? 15000);
            const verdict = judge(c, result);
            stats.cases++;
            stats.requests += c.expected;
            stats.responses += verdict.statuses.filter((s) => s >= 200).length;
            bump(stats.byOutcome, verdict.outcome);
            bump(stats.byMode, c.mode);
            for (const s of verdict.statuses) bump(stats.byStatus, s);
            if (verdict.failure) stats.failures.push({ index: c.index, mode: c.mode, label: c.label, failure: verdict.failure });
            options.progress?.(stats.cases);
            if (options.afterCase && !options.afterCase(c, verdict)) next = end;
        }
    };
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    stats.ms = Date.now() - started;
    return stats;
}

function sorted<K>(map: Map<K, number>): [K, number][] {
    return [...map.entries()].sort((a, b) => b[1] - a[1]);
}

export function report(stats: FuzzStats): string {
    const lines = [
        `seed ${stats.seed}: ${stats.cases} connections, ${stats.requests} requests, ${stats.responses} final responses, ${(stats.ms / 1000).toFixed(1)} s`,
        '',
        '| outcome | connections |',
        '|---|---:|',
        ...sorted(stats.byOutcome).map(([k, n]) => `| ${k} | ${n} |`),
        '',
        '| status | responses |',
        '|---|---:|',
        ...[...stats.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => `| ${k} | ${n} |`),
        '',
        '| how the client sent | connections |',
        '|---|---:|',
        ...sorted(stats.byMode).map(([k, n]) => `| ${k} | ${n} |`),
    ];
    if (stats.failures.length) {
        lines.push('', `${stats.failures.length} failures:`);
        for (const f of stats.failures.slice(0, 30)) lines.push(`  case ${f.index} (${f.mode}): ${f.failure}\n      sent: ${f.label}`);
    }
    return lines.join('\n');
}

/** error_log lines by what they say (numbers, addresses and quoted parts folded). */
export function errorLogSummary(log: string): [string, number][] {
    const counts = new Map<string, number>();
    for (const line of log.split('\n')) {
        const match = /^\S+ \S+ \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$/.exec(line);
        if (!match || match[1] === 'notice' || match[1] === 'debug') continue;
        const text = match[2]
            .replace(/, client: .*$/, '')
            .replace(/"[^"]*"/g, '"…"')
            .replace(/\d+/g, 'N')
            .slice(0, 140);
        bump(counts, `[${match[1]}] ${text}`);
    }
    return sorted(counts);
}

/** The fuzzer's nginx, started through the test harness. */
export async function startFuzzNginx(workers = 1): Promise<Nginx> {
    const nginx = await Nginx.start({
        conf: (port) => fuzzConf(port, { workers }),
        files: { 'html/static/index.html': 'static\n' },
    });
    // nginx listens before its workers have started Node: the first cases should meet a worker
    for (let i = 0; i < workers * 4; i++) await request(nginx.url('/sync/warm-up'));
    return nginx;
}

/** After a run: nginx answers, and nothing crashed. Returns the problems. */
export async function healthProblems(nginx: Nginx, pidsBefore: number[]): Promise<string[]> {
    const problems: string[] = [];
    try {
        const reply = await request(nginx.url('/sync/health?x=1'));
        if (reply.status !== 200 || JSON.parse(reply.text).argX !== '1') problems.push(`a normal request got ${reply.status}: ${reply.text.slice(0, 200)}`);
        const plain = await request(nginx.url('/plain'));
        if (plain.status !== 200 || plain.text !== 'plain\n') problems.push(`return 200 got ${plain.status}`);
        const logged = JSON.parse((await request(nginx.url('/stats'))).text) as Record<string, number>;
        if (Object.values(logged).reduce((a, b) => a + b, 0) === 0) problems.push('node_log saw no request');
    } catch (error) {
        problems.push(`a normal request failed: ${String(error)}`);
    }
    const pidsAfter = nginx.workerPids();
    if (pidsAfter.join(',') !== pidsBefore.join(',')) problems.push(`worker pids changed: ${pidsBefore.join(',')} -> ${pidsAfter.join(',')}`);
    const troubles = nginx.troubles();
    if (troubles.length) problems.push(`error_log troubles:\n  ${troubles.slice(0, 20).join('\n  ')}`);
    if (/worker process \d+ exited/.test(nginx.errorLog())) problems.push('a worker process exited');
    return problems;
}

