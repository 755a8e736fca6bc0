/**
 * Bad-input fuzzing, bounded for CI: 2000 hostile or malformed requests (test/fuzz/) against
 * handlers of every kind; every answer is well-formed HTTP, no worker dies, nginx still answers.
 * A fixed seed by default, so a failure here is a failure every time; FUZZ_SEED=random (or a
 * number) explores. The full run: npm run fuzz -- --count 10000.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Nginx } from './harness/nginx';
import { errorLogSummary, healthProblems, report, runFuzz, startFuzzNginx } from './fuzz/run';

const seed = process.env.FUZZ_SEED === 'random' ? randomInt(1, 2 ** 31)
    : process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261130;

describe(`bad input (fuzz seed ${seed})`, () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await startFuzzNginx();
    });

    after(async () => {
        await nginx?.destroy();
    });

    it('answers 2000 hostile requests with well-formed HTTP, and no worker dies', async () => {
        const pids = nginx.workerPids();
        const stats = await runFuzz(nginx.port, { seed, count: 2000, concurrency: 16 });
        const problems = await healthProblems(nginx, pids);
        const summary = `${report(stats)}\n\nerror_log:\n${errorLogSummary(nginx.errorLog()).slice(0, 20)
            .map(([text, n]) => `${String(n).padStart(7)}  ${text}`).join('\n')}\n\nreplay: npm run fuzz -- --seed ${seed} --count 2000`;
        assert.deepEqual(stats.failures, [], summary);
        assert.deepEqual(problems, [], summary);
        // the run reached the handlers, not only nginx's parser
        assert.ok((stats.byStatus.get(200) ?? 0) > 200, summary);
        assert.ok((stats.byStatus.get(400) ?? 0) > 200, summary);
    });
});
