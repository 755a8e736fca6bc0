/** The benchmark's parsing and arithmetic (bench/wrk.ts, bench/report.ts), without running it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { median, ratio, Samples } from '../bench/report';
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
