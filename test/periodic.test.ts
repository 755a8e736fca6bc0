/** node_periodic (runs at an interval, worker_affinity, async, overlap, quit) and node_preload_object. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, NginxOptions, sleep } from './harness/nginx';
import { fixture } from './harness/paths';

const common = `
    node_shared_dict_zone zone=runs:64k type=number;
    node_import p from ${fixture('periodic.mjs')};`;

async function runs(nginx: Nginx): Promise<Record<string, number>> {
    return JSON.parse((await request(nginx.url('/dict'))).text) as Record<string, number>;
}

async function withNginx(options: NginxOptions, body: (nginx: Nginx) => Promise<void>): Promise<void> {
    const nginx = await Nginx.start(options);
    try {
        await body(nginx);
        assert.deepEqual(nginx.troubles(), []);
    } finally {
        await nginx.destroy();
    }
}

describe('node_periodic', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            workers: 2,
            http: `${common}
    node_var $greeting 'hello from the location';`,
            server: `
        location /dict { node_content p.dict; }
        location @ticks { node_periodic p.tick interval=200ms; }
        location @async { node_periodic p.asyncTick interval=200ms worker_affinity=all; }
        location @throws { node_periodic p.throws interval=200ms; }
        location @slow { node_periodic p.slow interval=100ms; }
        location @variables { node_periodic p.variables interval=100ms; }`,
        });
        await sleep(1500);
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('runs at its interval, in worker 0 only by default', async () => {
        const seen = await runs(nginx);
        assert.ok(seen.ticks >= 3 && seen.ticks <= 20, `${seen.ticks} runs in 1.5 s at 200 ms`);
        assert.equal(seen.worker0, seen.ticks);
        assert.equal(seen.worker1, undefined);
    });

    it('runs async handlers, in every worker with worker_affinity=all', async () => {
        const seen = await runs(nginx);
        assert.ok(seen.async >= 4, `${seen.async} async runs over 2 workers`);
    });

    it('logs a run that throws, and runs again', async () => {
        const seen = await runs(nginx);
        assert.ok(seen.throws >= 2, `${seen.throws} runs`);
        await nginx.waitForLog(/node_periodic "p\.throws" failed: Error: periodic boom/);
    });

    it('does not start a run while the previous one still goes, and says so', async () => {
        const seen = await runs(nginx);
        assert.equal(seen.most, 1, 'never two at once');
        assert.ok(seen.slow >= 2);
        await nginx.waitForLog(/node_periodic "p\.slow": the previous run is still going; this one is skipped/);
    });

    it('reads variables (a node_var\'s here: rewrite-phase ones like set are not run for it)', async () => {
        assert.equal((await runs(nginx)).greeting, 1);
    });
});

describe('node_periodic and quit', () => {
    it('lets a run in flight finish, and does not wait for the next one', async () => {
        await withNginx({
            http: `${common}
    node_var $finished_file data/finished;`,
            server: `
        location /dict { node_content p.dict; }
        location @last { node_periodic p.lastWords interval=1h; }`,
        }, async (nginx) => {
            await sleep(200);
            const started = Date.now();
            assert.equal(await nginx.quit(), 0);
            assert.ok(Date.now() - started < 30000, 'the hour to the next run was not waited for');
            assert.equal(existsSync(nginx.path('data/finished')), true, 'the run in flight finished');
        });
    });

    it('runs in stream too, with the server\'s variables', async () => {
        await withNginx({
            http: common,
            server: 'location /dict { node_content p.dict; }',
            stream: (ports) => `
    node_import p from ${fixture('periodic.mjs')};
    node_var $greeting 'hello from the server';
    server { listen 127.0.0.1:${ports[0]}; node_periodic p.streamVariables interval=100ms; return "x"; }`,
        }, async (nginx) => {
            await sleep(600);
            assert.equal((await runs(nginx)).stream, 1);
        });
    });

    it('honours a worker_affinity mask', async () => {
        await withNginx({
            workers: 2,
            http: common,
            server: `
        location /dict { node_content p.dict; }
        location @ticks { node_periodic p.tick interval=100ms worker_affinity=01; }`,
        }, async (nginx) => {
            await sleep(800);
            const seen = await runs(nginx);
            assert.equal(seen.worker0, undefined);
            assert.ok(seen.worker1 >= 2);
        });
    });

    it('refuses a bad parameter at nginx -t', async () => {
        const nginx = await Nginx.prepare({ http: common, server: 'location @x { node_periodic p.tick every=1s; }' });
        try {
            const result = nginx.check();
            assert.equal(result.ok, false);
            assert.match(result.output, /invalid parameter "every=1s": expected interval=, jitter= or worker_affinity=/);
        } finally {
            await nginx.destroy();
        }
    });
});

describe('node_preload_object', () => {
    it('gives every handler a frozen global read from JSON', async () => {
        await withNginx({
            http: `${common}
    node_preload_object settings from settings.json;`,
            server: 'location / { node_content p.preloaded; }',
            files: { 'conf/settings.json': JSON.stringify({ limits: { rate: 10 }, names: ['a', 'b'] }) },
        }, async (nginx) => {
            assert.deepEqual(JSON.parse((await request(nginx.url('/'))).text),
                { rate: 10, names: ['a', 2], frozen: true, changed: 'TypeError' });
        });
    });

    it('fails nginx -t on a missing or malformed file, naming it', async () => {
        for (const [files, pattern] of [
            [{}, /node_preload_object "settings.json": file not found/],
            [{ 'conf/settings.json': '{"broken": ' }, /node_preload_object "settings" from ".*settings\.json": .*JSON/],
        ] as const) {
            const nginx = await Nginx.prepare({ http: `${common}\n    node_preload_object settings.json;`, server: '', files });
            try {
                const result = nginx.check();
                assert.equal(result.ok, false);
                assert.match(result.output, pattern);
            } finally {
                await nginx.destroy();
            }
        }
    });
});
