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

describe('a shared dict at the edges of its native conversions', () => {
    it('keeps non-ASCII text, long keys and values, numbers and types as they are', async () => {
        const nginx = await Nginx.start({
            http: `
    node_shared_dict_zone zone=texts:1m;
    node_shared_dict_zone zone=numbers:64k type=number;
    node_import shared from ${fixture('shared.mjs')};`,
            server: '        location /edges { node_content shared.edges; }',
        });
        try {
            const answer = JSON.parse((await request(nginx.url('/edges'))).text) as Record<string, unknown>;
            const tooLong = { error: 'TypeError', message: 'shared dict "texts": a key is a string of at most 65535 bytes' };
            assert.deepEqual(answer, {
                'value ascii': 'plain',
                'key ascii': 'ascii',
                'value latin1': 'café crème',
                'key latin1': 'latin1',
                'value twoByte': '日本語のテキスト',
                'key twoByte': 'twoByte',
                'value emoji': 'ok 👍',
                'key emoji': 'emoji',
                'value loneSurrogate': 'x\ufffdy',
                'key loneSurrogate': 'loneSurrogate',
                'value empty': '',
                'key empty': 'empty',
                'two-byte copy of a one-byte key': 'one entry',
                'non-ASCII keys listed': ['café crème', 'naïve', 'ok 👍', 'x\ufffdy', '日本語のテキスト'],
                'items of non-ASCII values': [['value latin1', 'café crème']],
                'long value': true,
                'long value popped': true,
                'short value after': 'plain',
                'key of 65535 ASCII': 'long key',
                'key of 65536 ASCII': tooLong,
                'key of 65534 bytes of é': 'long key',
                'key of 65536 bytes of é': tooLong,
                'key of 65535 bytes of 日': 'long key',
                'key of 65538 bytes of 日': tooLong,
                'number key': 'forty-two',
                'object key': 'o',
                'null key': { error: 'TypeError', message: 'shared dict "texts": a key is needed' },
                'undefined key': { error: 'TypeError', message: 'shared dict "texts": a key is needed' },
                '-0': true,
                '2^53': 2 ** 53,
                'fraction': 0.5,
                'incr past int32': 2 ** 31,
                'incr to int32 min': -(2 ** 31),
                'incr by NaN': 'NaN',
                'incr by Infinity': 'Infinity',
                'incr by -Infinity then': 'NaN',
                'incr -0 init': true,
                'string into a number dict': { error: 'TypeError', message: 'shared dict "numbers": a number value is expected' },
                'number into a string dict': { error: 'TypeError', message: 'shared dict "texts": a string value is expected' },
                'incr of a string dict': { error: 'TypeError', message: 'shared dict "texts": incr() needs a number dict and a number delta' },
                'incr by a string': { error: 'TypeError', message: 'incr(key, delta): delta must be a number' },
                'timeout 1e300': true,
                'timeout 0': { error: 'TypeError', message: 'timeout must be a number of milliseconds, at least 1' },
                'timeout NaN': { error: 'TypeError', message: 'timeout must be a number of milliseconds, at least 1' },
                'replace missing': false,
                'add existing': false,
                'ttl of no timeout': -1,
                'ttl missing': 'undefined',
                'keys(0)': 0,
                'keys(2)': 2,
                'keys(-1) is keys(Infinity)': true,
                'keys(NaN)': { error: 'TypeError', message: 'max must be a number' },
                'delete then has': [true, false, false],
                'incr in a hot loop': [100000, 100000, true],
                'writes in a hot loop': ['été', 'summer', 1, 200000, [['clé', 'été']]],
                'size after clear': 0,
            });
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });
});
