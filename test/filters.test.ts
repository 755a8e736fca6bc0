/** node_header_filter and node_body_filter on proxied responses and on our own. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { rawRequest, request } from './harness/http';
import { Nginx } from './harness/nginx';
import { fixture } from './harness/paths';
import { Upstream, upstream } from './harness/upstream';

/** 2 MB of text with multibyte characters, sent in chunks cut inside characters. */
const text = Array.from({ length: 40000 }, (_, i) => `line ${i}: grüße, €uro, 😀 done\n`).join('');
const textBytes = Buffer.from(text);

function sha(data: Buffer | string): string {
    return createHash('sha256').update(data).digest('hex');
}

describe('filters', () => {
    let nginx: Nginx;
    let origin: Upstream;

    before(async () => {
        origin = await upstream((req, res) => {
            if (req.url === '/json') {
                res.setHeader('Content-Type', 'application/json');
                res.end(JSON.stringify({ name: 'order', items: [1, 2, 3] }));
                return;
            }
            if (req.url === '/cut') {
                // a euro sign cut after its second byte, between two reads of nginx's
                const euro = Buffer.from('\u20ac');
                res.setHeader('Content-Type', 'text/plain; charset=utf-8');
                res.write(Buffer.concat([Buffer.from('ab'), euro.subarray(0, 2)]));
                setTimeout(() => res.end(Buffer.concat([euro.subarray(2), Buffer.from('cd')])), 100);
                return;
            }
            if (req.url === '/big-json') {
                res.setHeader('Content-Type', 'application/json');
                res.end(JSON.stringify({ pad: 'x'.repeat(300 * 1024), items: [] }));
                return;
            }
            res.setHeader('X-Upstream', 'origin');
            res.setHeader('X-Secret', 'do not leak');
            res.setHeader('Content-Type', 'text/plain; charset=utf-8');
            // odd chunk sizes, so that characters are cut between chunks
            let offset = 0;
            const next = () => {
                if (offset >= textBytes.length) {
                    res.end();
                    return;
                }
                const size = 7777 + (offset % 13);
                res.write(textBytes.subarray(offset, offset + size));
                offset += size;
                setImmediate(next);
            };
            next();
        });
        nginx = await Nginx.start({
            http: `
    node_import main from ${fixture('filters.mjs')};
    proxy_buffer_size 4k;
    proxy_buffers 8 4k;`,
            server: `
        location /headers/ { node_header_filter main.headers; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /upper/ { node_body_filter main.upper; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /identity/ { node_body_filter main.identityText; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /bytes/ { node_body_filter main.invertBytes buffer_type=buffer; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /kept-bytes/ {
            proxy_buffer_size 1k;
            proxy_buffers 8 1k;
            set $kept_id $request_id;
            node_body_filter main.keepBytesToEnd buffer_type=buffer;
            proxy_pass http://127.0.0.1:${origin.port}/;
        }
        location /first/ { node_body_filter main.firstChunkOnly; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /first-text/ {
            node_body_filter main.firstTextThenDone;
            proxy_buffering off;
            proxy_pass http://127.0.0.1:${origin.port}/;
        }
        location /chunks { node_content main.countChunks; }
        location /throws/ { node_body_filter main.throwsMidway; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /enrich/ { node_body_filter main.enrich buffered; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /keep/ {
            node_filter_buffer_size 4m;
            node_body_filter main.keep buffered;
            proxy_pass http://127.0.0.1:${origin.port}/;
        }
        location /too-big/ {
            node_filter_buffer_size 64k;
            node_body_filter main.keep buffered;
            proxy_pass http://127.0.0.1:${origin.port}/;
        }
        location /rejects/ { node_body_filter main.rejects buffered; proxy_pass http://127.0.0.1:${origin.port}/; }
        location /own { node_body_filter main.upper; node_content main.own; }
        location /own-buffered { node_body_filter main.keep buffered; node_content main.own; }`,
        });
    });

    after(async () => {
        await origin?.close();
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('changes the status and headers of a proxied response', async () => {
        const reply = await request(nginx.url('/headers/text'));
        assert.equal(reply.status, 203);
        assert.equal(reply.headers['x-filtered'], 'was origin');
        assert.equal(reply.headers['x-secret'], undefined);
        assert.equal(sha(reply.body), sha(textBytes));
    });

    it('streams a large proxied body through a filter, chunk by chunk', async () => {
        const reply = await request(nginx.url('/upper/text'));
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['content-length'], undefined);
        assert.equal(sha(reply.body), sha(text.toUpperCase()));
    });

    it('keeps characters cut between chunks whole in text mode', async () => {
        const reply = await request(nginx.url('/identity/text'));
        assert.equal(reply.body.length, textBytes.length);
        assert.equal(sha(reply.body), sha(textBytes));
    });

    it('gives bytes with buffer_type=buffer', async () => {
        const reply = await request(nginx.url('/bytes/text'));
        assert.equal(sha(reply.body), sha(Buffer.from(textBytes.map((b) => b ^ 0xff))));
    });

    it('keeps short chunks\' Buffers intact when a filter holds them all to the end', async () => {
        // chunks under 4 KB are views of a shared pool, as Buffer.from()'s are: reused too early,
        // or detached by the filter's attempt to transfer a chunk's .buffer, it would lose bytes
        const reply = await request(nginx.url('/kept-bytes/text'));
        assert.equal(reply.status, 200);
        assert.equal(reply.body.length, textBytes.length);
        assert.equal(sha(reply.body), sha(textBytes));
    });

    it('lets the rest pass unfiltered after r.done()', async () => {
        const reply = await request(nginx.url('/first/text'));
        const match = /^\[first:(\d+)\]/.exec(reply.text);
        assert.ok(match, reply.text.slice(0, 40));
        const consumed = Buffer.byteLength(text.slice(0, Number(match[1])));
        assert.equal(sha(reply.body.subarray(match[0].length)), sha(textBytes.subarray(consumed)));
        assert.equal((await request(nginx.url('/chunks'))).text, '1\n', 'the filter was called once');
    });

    it('after r.done(), lets a character cut at the end of the last chunk pass whole', async () => {
        // the filter had "ab" (the euro sign's first two bytes wait for the rest); those bytes
        // come out ahead of the rest, which passes unfiltered
        const reply = await request(nginx.url('/first-text/cut'));
        assert.equal(reply.status, 200);
        assert.equal(reply.body.toString('hex'), Buffer.from('[ab]\u20accd').toString('hex'));
    });

    it('ends the response when a streaming filter throws', async () => {
        // the connection closes before the chunked body is complete (here before the
        // header, which nginx had not flushed yet)
        const raw = await rawRequest(nginx.port, 'GET /throws/text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.ok(!raw.endsWith('0\r\n\r\n'), 'the chunked response was not completed');
        await nginx.waitForLog(/node_body_filter "main.throwsMidway" failed: Error: filter boom/);
    });

    it('hands a buffered filter the whole body, and waits for its async result', async () => {
        const reply = await request(nginx.url('/enrich/json'));
        assert.equal(reply.status, 201);
        assert.equal(reply.headers['x-buffered'], 'yes');
        assert.deepEqual(JSON.parse(reply.text), { name: 'order', items: 3, enriched: true });
        assert.equal(reply.headers['content-length'], String(reply.body.length));
    });

    it('keeps the body when a buffered filter returns nothing', async () => {
        const reply = await request(nginx.url('/keep/text'));
        assert.equal(sha(reply.body), sha(textBytes));
        assert.equal(reply.headers['content-length'], String(textBytes.length));
    });

    it('answers 500 with a clear error past node_filter_buffer_size', async () => {
        const reply = await request(nginx.url('/too-big/big-json'));
        assert.equal(reply.status, 500);
        await nginx.waitForLog(/node_body_filter "main.keep" buffered: the response body is larger than node_filter_buffer_size \(65536\); raise it, or filter in a stream/);
    });

    it('answers 500 when a buffered filter rejects', async () => {
        const reply = await request(nginx.url('/rejects/json'));
        assert.equal(reply.status, 500);
        await nginx.waitForLog(/node_body_filter "main.rejects" failed: Error: buffered boom/);
    });

    it('filters what a node_content handler sends', async () => {
        assert.equal((await request(nginx.url('/own'))).text, 'ONE,TWO,');
        const buffered = await request(nginx.url('/own-buffered'));
        assert.equal(buffered.text, 'one,two,');
        assert.equal(buffered.headers['content-length'], '8');
    });
});
