/**
 * Shared dicts (node_shared_dict_zone, ngx.shared): one state for all workers, atomic
 * operations, expiry, eviction, a full zone, the state file across restart and reload, and the
 * same zone from http and stream handlers.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';
import { tcpExchange } from './harness/tcp';

interface Answer {
    pid: number;
    result?: unknown;
    error?: string;
    message?: string;
    isSharedMemoryError?: boolean;
}

const dicts = `
    node_shared_dict_zone zone=strings:128k timeout=60s state=data/strings.json;
    node_shared_dict_zone zone=counters:64k type=number;
    node_shared_dict_zone zone=expiring:64k timeout=300ms;
    node_shared_dict_zone zone=small:32k;
    node_shared_dict_zone zone=evicting:32k evict;
    node_import shared from ${fixture('shared.mjs')};`;

const locations = `
        location /op { node_content shared.op; }
        location /info { node_content shared.info; }
        location /count { node_content shared.count; }`;

describe('shared dicts', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({ workers: 2, listen: 'reuseport', http: dicts, server: locations });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    async function op(dict: string, what: string, params: Record<string, string | number> = {}): Promise<Answer> {
        const query = new URLSearchParams({ dict, op: what, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
        return JSON.parse((await request(nginx.url(`/op?${query}`))).text) as Answer;
    }

    it('counts exactly 20 000 concurrent increments spread over both workers', async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 100 });
        const pids = new Set<string>();
        const one = () => new Promise<void>((resolve, reject) => {
            const req = httpRequest(nginx.url('/count'), { agent }, (res) => {
                let pid = '';
                res.on('data', (chunk: Buffer) => { pid += chunk.toString(); });
                res.on('end', () => {
                    pids.add(pid);
                    resolve();
                });
            });
            req.on('error', reject);
            req.end();
        });
        const total = 20000;
        let sent = 0;
        await Promise.all(Array.from({ length: 100 }, async () => {
            while (sent < total) {
                sent++;
                await one();
            }
        }));
        agent.destroy();
        assert.equal(pids.size, 2, 'both workers counted');
        const answers = await Promise.all(Array.from({ length: 20 }, () => op('counters', 'get', { key: 'hits' })));
        assert.deepEqual(new Set(answers.map((a) => a.result)), new Set([total]));
        assert.equal(new Set(answers.map((a) => a.pid)).size, 2, 'both workers answered, and read the same count');
    });

    it('gives one worker what another wrote', async () => {
        const seen = new Map<number, unknown>();
        await op('strings', 'set', { key: 'shared', value: 'written once' });
        for (let i = 0; i < 50 && seen.size < 2; i++) {
            const answer = await op('strings', 'get', { key: 'shared' });
            seen.set(answer.pid, answer.result);
        }
        assert.deepEqual([...seen.values()], ['written once', 'written once']);
    });

    it('has njs\'s methods', async () => {
        const result = async (what: string, params: Record<string, string | number> = {}, dict = 'strings') => (await op(dict, what, params)).result;
        assert.equal(await result('set', { key: 'k', value: 'v' }), 'the dict');
        assert.equal(await result('get', { key: 'k' }), 'v');
        assert.equal(await result('has', { key: 'k' }), true);
        assert.equal(await result('add', { key: 'k', value: 'w' }), false);
        assert.equal(await result('add', { key: 'k2', value: 'w' }), true);
        assert.equal(await result('replace', { key: 'k', value: 'v2' }), true);
        assert.equal(await result('replace', { key: 'nothing', value: 'x' }), false);
        assert.equal(await result('pop', { key: 'k2' }), 'w');
        assert.equal(await result('has', { key: 'k2' }), false);
        assert.equal(await result('delete', { key: 'k' }), true);
        assert.equal(await result('delete', { key: 'k' }), false);
        assert.equal(await result('get', { key: 'k' }), undefined);
        const ttl = await result('ttl', { key: 'shared' }) as number;
        assert.ok(ttl > 50000 && ttl <= 60000, `ttl ${ttl}`);
        assert.equal(await result('incr', { key: 'n', value: 3, init: 10 }, 'counters'), 13);
        assert.equal(await result('incr', { key: 'n', value: -1 }, 'counters'), 12);
        assert.deepEqual(await result('keys'), ['shared']);
        assert.deepEqual(await result('items'), [['shared', 'written once']]);
        assert.equal(await result('size'), 1);
        assert.ok((await result('freeSpace') as number) > 0);
        const info = JSON.parse((await request(nginx.url('/info?dict=counters'))).text);
        assert.deepEqual(info, { name: 'counters', type: 'number', capacity: 65536, zones: ['strings', 'counters', 'expiring', 'small', 'evicting'] });
    });

    it('refuses a value of the wrong type with a TypeError', async () => {
        const answer = await op('strings', 'incr', { key: 'x', value: 1 });
        assert.equal(answer.error, 'TypeError');
        assert.match(answer.message ?? '', /incr\(\) needs a number dict/);
    });

    it('lets entries expire', async () => {
        await op('expiring', 'set', { key: 'soon', value: 'gone' });
        await op('expiring', 'set', { key: 'later', value: 'kept', timeout: 20000 });
        assert.equal((await op('expiring', 'get', { key: 'soon' })).result, 'gone');
        await sleep(1000);
        assert.equal((await op('expiring', 'get', { key: 'soon' })).result, undefined);
        assert.equal((await op('expiring', 'get', { key: 'later' })).result, 'kept');
        assert.deepEqual((await op('expiring', 'keys')).result, ['later']);
    });

    it('throws SharedMemoryError when a zone without evict is full', async () => {
        let answer: Answer = { pid: 0 };
        for (let i = 0; i < 2000 && !answer.error; i++) {
            answer = await op('small', 'set', { key: `key${i}`, value: 'x'.repeat(200) });
        }
        assert.equal(answer.error, 'SharedMemoryError');
        assert.equal(answer.isSharedMemoryError, true);
        assert.match(answer.message ?? '', /shared dict "small" is full \(32768 bytes\) and "key\d+" was not set/);
        assert.ok((await op('small', 'get', { key: 'key0' })).result !== undefined, 'what was there stays');
    });

    it('drops the least recently written entries of a zone with evict', async () => {
        for (let i = 0; i < 400; i++) await op('evicting', 'set', { key: `key${i}`, value: 'y'.repeat(200) });
        assert.equal((await op('evicting', 'get', { key: 'key0' })).result, undefined, 'the oldest went');
        assert.equal((await op('evicting', 'get', { key: 'key399' })).result, 'y'.repeat(200), 'the newest stayed');
    });

    it('keeps its contents across a reload', async () => {
        await op('counters', 'set', { key: 'survivor', value: 42 });
        await nginx.reload();
        assert.equal((await op('counters', 'get', { key: 'survivor' })).result, 42);
    });
});

describe('a shared dict\'s state file', () => {
    it('keeps the contents across a restart', async () => {
        const options = { http: dicts, server: locations };
        const first = await Nginx.start(options);
        try {
            await request(first.url('/op?dict=strings&op=set&key=persistent&value=%22quoted%22%0Aand%20more'));
            for (let i = 0; i < 100 && !existsSync(first.path('data/strings.json')); i++) await sleep(50);
            assert.equal(await first.quit(), 0);
            const state = JSON.parse(readFileSync(first.path('data/strings.json'), 'utf8')) as Record<string, { value: string; expire: number }>;
            assert.equal(state.persistent.value, '"quoted"\nand more');
            assert.ok(state.persistent.expire > Date.now());
            // the same prefix, started again: the zone is new, its contents come from the file
            const again = await first.restart();
            assert.equal(JSON.parse((await request(again.url('/op?dict=strings&op=get&key=persistent'))).text).result, '"quoted"\nand more');
        } finally {
            await first.destroy();
        }
    });

    it('fails to start, naming the file and the place, when the state file is malformed', async () => {
        const nginx = await Nginx.prepare({ http: dicts, server: locations, files: { 'data/strings.json': '{"a": {"value": 1}}' } });
        try {
            const result = nginx.check();
            assert.equal(result.ok, false);
            assert.match(result.output, /invalid state file ".*data\/strings\.json" of shared dict "strings": a string value is expected \(type=string\) at byte \d+; fix or remove it/);
        } finally {
            await nginx.destroy();
        }
    });
});

describe('a shared dict from http and stream', () => {
    it('is one zone for both', async () => {
        const nginx = await Nginx.start({
            http: `
    node_shared_dict_zone zone=strings:64k;
    node_import shared from ${fixture('shared.mjs')};`,
            server: locations,
            stream: (ports) => `
    node_import shared from ${fixture('shared.mjs')};
    node_set $from_http shared.streamRead;
    server { listen 127.0.0.1:${ports[0]}; return "$from_http\\n"; }`,
        });
        try {
            assert.equal((await tcpExchange(nginx.streamPorts[0], [])).text, 'nothing\n');
            await request(nginx.url('/op?dict=strings&op=set&key=from-http&value=hello%20stream'));
            assert.equal((await tcpExchange(nginx.streamPorts[0], [])).text, 'hello stream\n');
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });
});
