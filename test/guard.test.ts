/**
 * The execution guard: node_cpu_timeout stops JavaScript that runs away, wherever it runs, and
 * the worker goes on; a handler that exhausts the heap is stopped and its worker retires
 * cleanly, finishing the other requests in flight.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { rawRequest, request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';

/** `directive "g.fn" ran longer than node_cpu_timeout (250 ms) and was stopped at fn (.../guard.mjs:L:C)` */
function stoppedLine(directive: string, handler: string, place: string): RegExp {
    return new RegExp(`${directive} "g\\.${handler}" ran longer than node_cpu_timeout \\(250 ms\\) ` +
        `and was stopped at ${place} \\(${fixture('guard.mjs')}:\\d+:\\d+\\)`);
}

describe('node_cpu_timeout', () => {
    let nginx: Nginx;
    let pid: string;

    before(async () => {
        nginx = await Nginx.start({
            main: 'node_cpu_timeout 250ms;',
            http: `node_import g from ${fixture('guard.mjs')};`,
            server: `
        location /hello { node_content g.hello; }
        location /content { node_content g.spin; }
        location /content-async { node_content g.spinAfterAwait; }
        location /access { node_access g.spin; node_content g.hello; }
        location /rewrite { node_rewrite g.spin; node_content g.hello; }
        location /set { node_set $spun g.spin; return 200 "[$spun]"; }
        location /header-filter { node_header_filter g.spin; node_content g.hello; }
        location /body-filter { node_body_filter g.spin; node_content g.hello; }
        location /log { node_log g.spin; node_content g.hello; }
        location /timer { node_content g.spinInTimer; }
        location /promise { node_content g.spinInPromise; }`,
        });
        pid = (await request(nginx.url('/hello'))).text;
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    /** The same worker still answers. */
    async function workerGoesOn(): Promise<void> {
        assert.equal((await request(nginx.url('/hello'))).text, pid);
    }

    it('stops a content handler that runs away: 500, and the worker goes on', async () => {
        assert.equal((await request(nginx.url('/content'))).status, 500);
        await nginx.waitForLog(stoppedLine('node_content', 'spin', 'spin'));
        await workerGoesOn();
    });

    it('stops an async handler that runs away after an await', async () => {
        assert.equal((await request(nginx.url('/content-async'))).status, 500);
        await nginx.waitForLog(stoppedLine('node_content', 'spinAfterAwait', 'spinAfterAwait'));
        await workerGoesOn();
    });

    it('stops access and rewrite handlers: 500', async () => {
        assert.equal((await request(nginx.url('/access'))).status, 500);
        await nginx.waitForLog(stoppedLine('node_access', 'spin', 'spin'));
        assert.equal((await request(nginx.url('/rewrite'))).status, 500);
        await nginx.waitForLog(stoppedLine('node_rewrite', 'spin', 'spin'));
        await workerGoesOn();
    });

    it('stops a node_set handler: the variable is empty', async () => {
        const reply = await request(nginx.url('/set'));
        assert.equal(reply.text, '[]');
        await nginx.waitForLog(stoppedLine('node_set', 'spin', 'spin'));
        await workerGoesOn();
    });

    it('stops header and body filters: the response does not go out as it was', async () => {
        for (const [path, directive] of [['/header-filter', 'node_header_filter'], ['/body-filter', 'node_body_filter']]) {
            const raw = await rawRequest(nginx.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
            assert.doesNotMatch(raw, /pid \d+/, `${path} did not send the unfiltered body`);
            await nginx.waitForLog(stoppedLine(directive, 'spin', 'spin'));
        }
        await workerGoesOn();
    });

    it('stops a log handler after the response went out', async () => {
        assert.equal((await request(nginx.url('/log'))).text, pid);
        await nginx.waitForLog(stoppedLine('node_log', 'spin', 'spin'));
        await workerGoesOn();
    });

    it('stops timers and promise callbacks that run away, and names where', async () => {
        assert.equal((await request(nginx.url('/timer'))).text, 'timer set\n');
        await nginx.waitForLog(new RegExp('a timer, I/O or promise callback ran longer than node_cpu_timeout ' +
            `\\(250 ms\\) and was stopped at spinningTimer \\(${fixture('guard.mjs')}:\\d+:\\d+\\)`));
        await workerGoesOn();
        assert.equal((await request(nginx.url('/promise'))).text, 'promise made\n');
        await nginx.waitForLog(/ran longer than node_cpu_timeout \(250 ms\) and was stopped at spinningReaction /);
        await workerGoesOn();
        // timers set afterwards still run
        assert.equal((await request(nginx.url('/timer'))).text, 'timer set\n');
        await workerGoesOn();
    });
});

describe('node_cpu_timeout off, and its value', () => {
    it('lets a long call finish when off', async () => {
        const nginx = await Nginx.start({
            main: 'node_cpu_timeout off;',
            http: `node_import g from ${fixture('guard.mjs')};`,
            server: 'location / { node_content g.busy; }',
        });
        try {
            assert.equal((await request(nginx.url('/?ms=400'))).text, 'done\n');
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });

    it('refuses a value that is not a time', async () => {
        const nginx = await Nginx.prepare({
            main: 'node_cpu_timeout soon;',
            http: `node_import g from ${fixture('guard.mjs')};`,
            server: 'location / { node_content g.hello; }',
        });
        try {
            const result = nginx.check();
            assert.equal(result.ok, false);
            assert.match(result.output, /invalid value "soon": a time such as "5s" or "500ms", or "off" in .*nginx\.conf:\d+/);
        } finally {
            await nginx.destroy();
        }
    });
});

describe('the heap limit', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            main: 'node_option --max-old-space-size=64;',
            http: `node_import g from ${fixture('guard.mjs')};`,
            server: `
        location /hello { node_content g.hello; }
        location /slow { node_content g.slow; }
        location /grow { node_content g.grow; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('stops the handler that exhausts it (500); the worker finishes its other requests, exits and is replaced', async () => {
        const [worker] = nginx.workerPids();
        const slow = Array.from({ length: 5 }, () => request(nginx.url('/slow?ms=1500')));
        await sleep(200);
        assert.equal((await request(nginx.url('/grow'))).status, 500);
        const replies = await Promise.all(slow);
        assert.deepEqual(replies.map((reply) => reply.text), Array(5).fill(`slow done by ${worker}\n`));
        await nginx.waitForLog(new RegExp('node_content "g\\.grow" reached the JavaScript heap limit ' +
            `\\([\\d.]+ MB used, limit 64\\.0 MB\\) and was stopped at grow \\(${fixture('guard.mjs')}:\\d+:\\d+\\)`));
        await nginx.waitForLog(/the JavaScript heap reached its limit; this worker stops accepting connections, finishes its requests and exits/);
        await nginx.waitForLog(new RegExp(`worker process ${worker} exited with code 0`), 10000);
        const after = await request(nginx.url('/hello'));
        assert.equal(after.status, 200);
        assert.notEqual(after.text, `pid ${worker}\n`, 'a new worker answers');
    });
});
