/**
 * examples/rate-limit/: the fleet-wide rate limiter, as its nginx.conf runs it, in two nginx
 * instances sharing one real redis-server (started here, on a loopback port of its own): one
 * limit across both; Redis stopped mid-run (the shared-dict fallback answers, the error_log
 * says so once per instance), Redis hanging (each call is bounded), Redis back (one count again).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Reply, request } from './harness/http';
import { freePort, Nginx, sleep, workerUser } from './harness/nginx';
import { MODULE, ROOT } from './harness/paths';
import { RedisServer } from './harness/redis';

const LIMIT = 10;
const DOWN = /rate-limit: Redis at redis:\/\/127\.0\.0\.1:\d+ does not answer \([^)]*\); until it is back: .*/;
const BACK = /rate-limit: Redis at redis:\/\/127\.0\.0\.1:\d+ answers again; counting in Redis again/;

/** examples/rate-limit/nginx.conf with its port, module, logs, handler and Redis moved here. */
function exampleConf(redisUrl: string): (port: number) => string {
    return (port) => {
        const conf = `${workerUser()}\n` + readFileSync(join(ROOT, 'examples', 'rate-limit', 'nginx.conf'), 'utf8')
            .replace('load_module build/ngx_http_node_module.so;', `load_module ${MODULE};`)
            .replaceAll('build/rate-limit/', 'logs/')
            .replace('127.0.0.1:8080', `127.0.0.1:${port}`)
            .replace('node_import limiter from limiter.ts;', `node_import limiter from ${join(ROOT, 'examples', 'rate-limit', 'limiter.ts')};`)
            .replace('redis://127.0.0.1:6390', redisUrl)
            // a loaded 2-core machine can hold a worker or Redis up for longer than the
            // example's 200ms: a Redis call that took that long would count locally
            .replace('set $ratelimit_timeout 200ms;', 'set $ratelimit_timeout 1s;');
        assert.ok(conf.includes(redisUrl) && conf.includes(MODULE) && conf.includes('$ratelimit_timeout 1s;'),
            'the example configuration has changed: adapt the test');
        return conf;
    };
}

function get(nginx: Nginx, path: string, apiKey: string): Promise<Reply> {
    return request(nginx.url(path), { headers: { 'X-Api-Key': apiKey } });
}

/** `count` requests, alternating between the instances; the replies in order. */
async function alternate(instances: Nginx[], path: string, apiKey: string, count: number): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (let i = 0; i < count; i++) replies.push(await get(instances[i % instances.length], path, apiKey));
    return replies;
}

function statuses(replies: Reply[]): number[] {
    return replies.map((reply) => reply.status);
}

function count(log: string, pattern: RegExp): number {
    return (log.match(new RegExp(pattern.source, 'g')) ?? []).length;
}

/**
 * The shared-dict fallback counts in windows of the clock (each minute, with the example's 1m):
 * a phase that counts locally starts early enough in one to end in it.
 */
async function atWindowStart(windowMs = 60000, needMs = 25000): Promise<void> {
    const left = windowMs - (Date.now() % windowMs);
    if (left < needMs) await sleep(left + 50);
}

/** Waits until the error_log, past `offset`, matches. */
async function waitForLogAfter(nginx: Nginx, offset: number, pattern: RegExp, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(nginx.errorLog().slice(offset))) {
        if (Date.now() > deadline) throw new Error(`error log never matched ${pattern}:\n${nginx.errorLog().slice(offset)}`);
        await sleep(20);
    }
}

function assertRetryAfter(reply: Reply, max: number): void {
    const retryAfter = Number(reply.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= max, `Retry-After: ${reply.headers['retry-after']}`);
}

/** Waits until every one of `tries` requests in a row (fresh connections) was counted in Redis. */
async function untilCountedInRedis(nginx: Nginx, apiKey: string, inARow = 12, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let streak = 0;
    while (streak < inARow) {
        const reply = await get(nginx, '/api/', apiKey);
        streak = reply.headers['x-ratelimit-source'] === 'redis' ? streak + 1 : 0;
        if (Date.now() > deadline) throw new Error(`requests to ${nginx.url('/api/')} were not counted in Redis within ${timeoutMs} ms`);
        if (streak === 0) await sleep(100);
    }
}

describe('the Redis rate limiter (examples/rate-limit)', () => {
    let redis: RedisServer;
    let a: Nginx;
    let b: Nginx;

    before(async () => {
        redis = await RedisServer.start();
        // prepared first, so that after() stops them even if one fails to start
        a = await Nginx.prepare({ conf: exampleConf(redis.url) });
        b = await Nginx.prepare({ conf: exampleConf(redis.url) });
        await a.run();
        await b.run();
    });

    after(async () => {
        const troubles = [...(a?.troubles() ?? []), ...(b?.troubles() ?? [])];
        const logs = `${a?.errorLog() ?? ''}${b?.errorLog() ?? ''}`;
        await a?.destroy();
        await b?.destroy();
        await redis?.destroy();
        assert.deepEqual(troubles, []);
        assert.doesNotMatch(logs, /Unhandled error event|\[ioredis\]/, 'ioredis wrote to the error_log on its own');
        assert.doesNotMatch(logs, /using uninitialized/, 'the example reads a variable it does not set');
    });

    it('shares one limit between two nginx instances: 429 with Retry-After past it', async () => {
        const replies = await alternate([a, b], '/api/', 'shared-1', LIMIT + 6);
        assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), ...Array(6).fill(429)]);
        for (const reply of replies) assert.equal(reply.headers['x-ratelimit-source'], 'redis');
        for (const reply of replies.slice(LIMIT)) assertRetryAfter(reply, 60);
        assert.equal(replies[0].headers['ratelimit-remaining'], String(LIMIT - 1));
        assert.equal(replies[LIMIT - 1].headers['ratelimit-remaining'], '0');
        assert.match(replies[0].text, /^ok: 9 requests left in this window\n$/);
        // every request was counted in the one Redis, and its window is Redis's key's life
        assert.equal(await redis.command('GET', 'ratelimit:key:shared-1'), String(LIMIT + 6));
        const ttl = Number((await redis.command('PTTL', 'ratelimit:key:shared-1')).slice(1));
        assert.ok(ttl > 0 && ttl <= 60000, `PTTL ${ttl}`);
        // another client has its own count
        assert.equal((await get(a, '/api/', 'shared-other')).status, 200);
    });

    it('keeps one Redis connection per worker, not one per request', async () => {
        const connections = async () => Number(/total_connections_received:(\d+)/.exec(await redis.command('INFO', 'stats'))?.[1]);
        const before = await connections();
        await alternate([a, b], '/api/', 'connections', 30);
        // at most each of the 4 workers' first connection, and the INFO's own
        assert.ok(await connections() - before <= 5, `${await connections() - before} connections for 30 requests`);
    });

    it('counts the client address when there is no API key', async () => {
        const replies: Reply[] = [];
        for (let i = 0; i < LIMIT + 1; i++) replies.push(await request((i % 2 ? a : b).url('/api/')));
        assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), 429]);
        assert.equal(await redis.command('GET', 'ratelimit:addr:127.0.0.1'), String(LIMIT + 1));
        // a long key is counted by its hash
        assert.equal((await get(a, '/api/', 'k'.repeat(2000))).status, 200);
        assert.equal(await redis.command('KEYS', 'ratelimit:sha256:*'), '*1');
    });

    it('falls back to each instance\'s shared dict while Redis is down, and says so once', async () => {
        const logOffsets = [a.errorLog().length, b.errorLog().length];
        await atWindowStart();
        await redis.stop();
        // each worker's client sees the connection close; the instance logs it once
        await waitForLogAfter(a, logOffsets[0], DOWN);
        await waitForLogAfter(b, logOffsets[1], DOWN);

        // the limit now holds per instance: each lets LIMIT through
        for (const nginx of [a, b]) {
            const replies = await alternate([nginx], '/api/', 'while-down', LIMIT + 5);
            assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), ...Array(5).fill(429)], nginx.url('/api/'));
            for (const reply of replies) assert.equal(reply.headers['x-ratelimit-source'], 'local');
            for (const reply of replies.slice(LIMIT)) assertRetryAfter(reply, 60);
        }
        // where no zone is configured, the location fails closed: 503 with Retry-After
        const strict = await get(a, '/strict/', 'while-down');
        assert.equal(strict.status, 503);
        assert.equal(strict.headers['x-ratelimit-source'], 'closed');
        assertRetryAfter(strict, 60);

        const [logA, logB] = [a.errorLog().slice(logOffsets[0]), b.errorLog().slice(logOffsets[1])];
        assert.equal(count(logA, DOWN), 1, logA);
        assert.equal(count(logB, DOWN), 1, logB);
        assert.equal(count(logA, BACK) + count(logB, BACK), 0);
    });

    it('counts in Redis again once it is back, and says so once', async () => {
        const logOffsets = [a.errorLog().length, b.errorLog().length];
        await redis.run();
        await waitForLogAfter(a, logOffsets[0], BACK);
        await waitForLogAfter(b, logOffsets[1], BACK);
        // every worker's client reconnects on its own (at most a second apart)
        await untilCountedInRedis(a, 'probe-a');
        await untilCountedInRedis(b, 'probe-b');

        const replies = await alternate([a, b], '/api/', 'shared-2', LIMIT + 4);
        assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), ...Array(4).fill(429)]);
        for (const reply of replies.slice(LIMIT)) assertRetryAfter(reply, 60);
        assert.equal(await redis.command('GET', 'ratelimit:key:shared-2'), String(LIMIT + 4));
        assert.equal((await get(b, '/strict/', 'shared-2')).status, 429, 'the strict location counts in Redis too');

        const [logA, logB] = [a.errorLog().slice(logOffsets[0]), b.errorLog().slice(logOffsets[1])];
        assert.equal(count(logA, BACK), 1, logA);
        assert.equal(count(logB, BACK), 1, logB);
        assert.equal(count(logA, DOWN) + count(logB, DOWN), 0, `${logA}${logB}`);
    });

    it('does not wait on a Redis that hangs: each call is bounded, then the fallback answers', async () => {
        const logOffset = a.errorLog().length;
        await atWindowStart();
        redis.pause(true);
        try {
            // the connection stays open, so only the command timeout ($ratelimit_timeout) can tell
            const replies = await alternate([a], '/api/', 'while-hung', LIMIT + 3);
            assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), ...Array(3).fill(429)]);
            for (const reply of replies) assert.equal(reply.headers['x-ratelimit-source'], 'local');
            await waitForLogAfter(a, logOffset, /does not answer \(Command timed out\)/);
        } finally {
            redis.pause(false);
        }
        // nothing closed, so no client event says it: requests find Redis back (a worker
        // tries again a second after a failure; one that finds it fine looks for the flag of
        // another worker's outage at most once a second)
        const deadline = Date.now() + 15000;
        while (!BACK.test(a.errorLog().slice(logOffset))) {
            if (Date.now() > deadline) throw new Error(`no "answers again" line:\n${a.errorLog().slice(logOffset)}`);
            await get(a, '/api/', 'probe-hung');
            await sleep(100);
        }
        await untilCountedInRedis(a, 'probe-hung');
        const log = a.errorLog().slice(logOffset);
        assert.equal(count(log, DOWN), 1, log);
        assert.equal(count(log, BACK), 1, log);
    });
    it('lets a reload replace the workers: the old ones leave with their clients, the new ones count in Redis', async () => {
        const before = a.workerPids();
        const logOffset = a.errorLog().length;
        await a.reload();
        const deadline = Date.now() + 15000;
        while (a.workerPids().some((pid) => before.includes(pid))) {
            if (Date.now() > deadline) throw new Error(`old workers ${before.join(',')} still run: ${a.workerPids().join(',')}`);
            await sleep(100);
        }
        const replies = await alternate([a, b], '/api/', 'after-reload', LIMIT + 1);
        assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), 429]);
        assert.equal(await redis.command('GET', 'ratelimit:key:after-reload'), String(LIMIT + 1));
        assert.equal(count(a.errorLog().slice(logOffset), DOWN), 0);
    });
});

describe('the Redis rate limiter without a Redis', () => {
    it('answers from the fallback from the first request on, and logs that once', async () => {
        const nothing = `redis://127.0.0.1:${await freePort()}`;
        const nginx = await Nginx.prepare({ conf: exampleConf(nothing) });
        try {
            await nginx.run();
            await atWindowStart();
            const replies = await alternate([nginx], '/api/', 'never', LIMIT + 2);
            assert.deepEqual(statuses(replies), [...Array(LIMIT).fill(200), 429, 429]);
            for (const reply of replies) assert.equal(reply.headers['x-ratelimit-source'], 'local');
            const strict = await get(nginx, '/strict/', 'never');
            assert.equal(strict.status, 503);
            assert.equal(count(nginx.errorLog(), DOWN), 1, nginx.errorLog());
            assert.match(nginx.errorLog(), /does not answer \(connect ECONNREFUSED 127\.0\.0\.1:\d+\); until it is back: counting in shared dict "ratelimit" of this nginx/);
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });
});
