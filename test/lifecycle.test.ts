/** Workers, concurrency, graceful reload and quit with requests in flight. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';

const version = (n: number) => `export function version(r) { r.return(200, 'version ${n}\\n'); }\n`;

describe('workers', () => {
    it('runs Node in each of two workers, each with its own worker_id', async () => {
        const nginx = await Nginx.start({
            workers: 2,
            listen: 'reuseport',
            http: `node_import main from ${fixture('lifecycle.mjs')};`,
            server: 'location / { node_content main.who; }',
        });
        try {
            const seen = new Map<string, string>();
            for (let i = 0; i < 60 && seen.size < 2; i++) {
                const [id, pid] = (await request(nginx.url('/'))).text.trim().split(' ');
                seen.set(id, pid);
            }
            assert.deepEqual([...seen.keys()].sort(), ['0', '1']);
            assert.deepEqual([...seen.values()].map(Number).sort(), nginx.workerPids());
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });

    it('works with worker_processes auto', async () => {
        const nginx = await Nginx.start({
            workers: 'auto',
            http: `node_import main from ${fixture('lifecycle.mjs')};`,
            server: 'location / { node_content main.who; }',
        });
        try {
            assert.equal((await request(nginx.url('/'))).status, 200);
            assert.ok(nginx.workerPids().length >= 1);
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });
});

describe('many requests waiting at once', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `node_import main from ${fixture('lifecycle.mjs')};`,
            server: 'location / { node_content main.wait; }',
        });
        await request(nginx.url('/?ms=1'));
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('keeps 200 handlers that each await a 1 s timer waiting at once, not one after another', async () => {
        const started = Date.now();
        const replies = await Promise.all(Array.from({ length: 200 }, () => request(nginx.url('/?ms=1000'))));
        const elapsed = Date.now() - started;
        assert.deepEqual(replies.filter((reply) => reply.status !== 200), []);
        // one after another would take 200 s
        assert.ok(elapsed < 20000, `200 concurrent requests took ${elapsed} ms`);
        assert.ok(elapsed >= 1000, `the timers did run (${elapsed} ms)`);
    });
});

describe('graceful reload and quit', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `
    node_import main from ${fixture('lifecycle.mjs')};
    node_import changing from changing.mjs;`,
            server: `
        location / { node_content main.wait; }
        location /version { node_content changing.version; }`,
            files: { 'conf/changing.mjs': version(1) },
        });
    });

    after(async () => {
        await nginx?.destroy();
    });

    it('loses no in-flight request on reload, and loads the changed module', async () => {
        assert.equal((await request(nginx.url('/version'))).text, 'version 1\n');
        const [oldWorker] = nginx.workerPids();
        const inFlight = Array.from({ length: 20 }, () => request(nginx.url('/?ms=400')));
        await sleep(100);
        nginx.writeFile('conf/changing.mjs', version(2));
        await nginx.reload();
        const replies = await Promise.all(inFlight);
        for (const reply of replies) {
            assert.equal(reply.status, 200);
            assert.equal(reply.text, `0 ${oldWorker}\n`, 'the old worker finished what it had started');
        }
        assert.equal((await request(nginx.url('/version'))).text, 'version 2\n');
        await nginx.waitForLog(new RegExp(`worker process ${oldWorker} exited with code 0`));
        assert.ok(!nginx.workerPids().includes(oldWorker));
        assert.deepEqual(nginx.troubles(), []);
    });

    it('keeps the old configuration when a reload brings a broken module', async () => {
        const workers = nginx.workerPids();
        nginx.writeFile('conf/changing.mjs', 'export function version(r) { r.return(200, "broken"\n');
        process.kill(nginx.masterPid, 'SIGHUP');
        await nginx.waitForLog(/\[emerg\] .*node_import "changing" from ".*changing\.mjs" failed: SyntaxError/);
        await sleep(200);
        assert.deepEqual(nginx.workerPids(), workers);
        assert.equal((await request(nginx.url('/version'))).text, 'version 2\n');
    });

    it('loses no in-flight request on quit and exits with status 0', async () => {
        const inFlight = Array.from({ length: 20 }, () => request(nginx.url('/?ms=400')));
        await sleep(100);
        const status = await nginx.quit();
        const replies = await Promise.all(inFlight);
        assert.deepEqual(replies.map((reply) => reply.status), Array(20).fill(200));
        assert.equal(status, 0);
        assert.match(nginx.errorLog(), /worker process \d+ exited with code 0/);
        assert.doesNotMatch(nginx.errorLog(), /exited on signal|core dumped/);
        const troubles = nginx.troubles().filter((line) => !/changing/.test(line));
        assert.deepEqual(troubles, []);
    });
});
