/** The benchmark's parsing and arithmetic (bench/wrk.ts, bench/report.ts), without running it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { median, ratio, Samples } from '../bench/report';
import { StreamResults, throughputKey } from '../bench/stream';
import { sessionCpuRatio, sessionRatio, sessionsTable, streamTargets, throughputRatio, throughputTable } from '../bench/stream-report';
import { parseWrk } from '../bench/wrk';

const output = `Running 10s test @ http://127.0.0.1:8080/hello/node
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   420.12us  150.00us   8.21ms   90.00%
    Req/Sec   117.45k     2.10k  120.00k    80.00%
  Latency Distribution
     50%  406.00us
     75%  500.00us
     90%  600.00us
     99%    1.05ms
  1174470 requests in 10.00s, 170.22MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec: 117447.00
Transfer/sec:     17.02MB
`;

describe('bench parsing', () => {
    it('reads wrk --latency output', () => {
        assert.deepEqual(parseWrk(output), {
            requests: 1174470, seconds: 10, rps: 117447, p50us: 406, p99us: 1050, non2xx: 7, socketErrors: 3,
        });
    });

    it('refuses output it does not understand', () => {
        assert.throws(() => parseWrk('wrk: cannot connect'), /wrk output lacks/);
    });

    it('takes ratios within a round, then the median', () => {
        const sample = (rps: number) => ({ requests: 0, seconds: 1, rps, p50us: 0, p99us: 0, non2xx: 0, socketErrors: 0, cpuUsPerRequest: 0 });
        const samples: Samples = { g: { a: [100, 200, 90].map(sample), b: [50, 200, 30].map(sample) } };
        assert.equal(ratio(samples, 'g', 'a', 'b'), 2);
        assert.equal(median([3, 1, 2]), 2);
        assert.equal(median([4, 1, 3, 2]), 2.5);
        assert.equal(ratio(samples, 'g', 'a', 'missing'), undefined);
    });
});

describe('bench stream report', () => {
    const session = (rps: number, cpuUsPerSession: number) => ({
        requests: rps, seconds: 1, rps, p50us: 400, p99us: 1200, non2xx: 0, socketErrors: 0, cpuUsPerSession, workerBusy: 0.9,
    });
    const flow = (mbPerSecond: number) => ({ mbPerSecond, cpuUsPerMB: 1e6 / mbPerSecond, workerBusy: 1 });
    const results: StreamResults = {
        sessions: {
            direct: [session(9000, 0), session(9000, 0)],
            plain: [session(6000, 150), session(5000, 160)],
            njs: [session(4000, 200), session(5000, 190)],
            node: [session(5000, 180), session(5000, 190)],
        },
        throughput: {},
        rounds: 2, sessionSeconds: 1, transferSeconds: 1, connections: 50, load: ['load average: 0.10, 0.20, 0.30'],
    };
    for (const chunk of [1 << 20, 64 << 10]) {
        for (const direction of ['up', 'down'] as const) {
            results.throughput[throughputKey('plain', chunk, direction)] = [flow(2000), flow(1800)];
            results.throughput[throughputKey('njs-bytes', chunk, direction)] = [flow(500), flow(600)];
            results.throughput[throughputKey('node-bytes', chunk, direction)] = [flow(1000), flow(600)];
        }
    }

    it('takes session and throughput ratios within a round, then the median', () => {
        assert.equal(sessionRatio(results, 'node', 'njs'), (1.25 + 1) / 2);
        assert.equal(sessionCpuRatio(results, 'node', 'njs'), (200 / 180 + 1) / 2);
        assert.equal(throughputRatio(results, 'node-bytes', 'njs-bytes', 1 << 20, 'up'), 1.5);
        assert.equal(throughputRatio(results, 'node-text', 'njs-text', 1 << 20, 'up'), undefined);
    });

    it('renders the tables, leaving out cases not measured', () => {
        const sessions = sessionsTable(results).split('\n');
        assert.equal(sessions.length, 2 + 4);
        assert.match(sessions[5], /^\| ngx-node `node_preread` \+ `node_set` .* \| 5000 \| 400 µs \| 1.20 ms \| 185.0 \| 90% \| 0 \| 0.92× \| 1.13× \| 1.06× \|$/);
        const throughput = throughputTable(results, 1 << 20).split('\n');
        assert.equal(throughput.length, 2 + 3);
        assert.match(throughput[4], /^\| ngx-node `node_filter`, Buffer events .* \| 800 \| 800 \| .* \| 0.42× \| 0.42× \| 1.50× \| 1.50× \|$/);
    });

    it('tells which targets are met', () => {
        const list = streamTargets(results);
        assert.deepEqual(list[0], { what: '`node_preread` + `node_set` ≥ 1.2× njs (sessions/s)', measured: 'sessions/s 1.13×', met: false });
        const buffer = list.find((t) => t.what === '`node_filter` Buffer events ≥ 1.2× njs (1 MB chunks, MB/s)');
        assert.deepEqual(buffer, { what: buffer?.what, measured: 'up 1.50×, down 1.50×', met: true });
        const text = list.find((t) => t.what === '`node_filter` string events ≥ 1.2× njs (1 MB chunks, MB/s)');
        assert.deepEqual(text?.met, undefined);
    });
});
