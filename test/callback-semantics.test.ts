/**
 * Node's semantics inside handlers, which a faster way of calling into JavaScript must keep:
 * process.nextTick callbacks and promise reactions queued by a handler run before nginx goes
 * on with the request; AsyncLocalStorage's context follows a handler across await and timers,
 * and one request's context does not leak into another's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx } from './harness/nginx';
import { fixture } from './harness/paths';

describe('callback semantics', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `node_import s from ${fixture('callback-semantics.mjs')};`,
            server: `
        location /queueing { node_header_filter s.queueing; return 200 "ok"; }
        location /chained { node_header_filter s.chained; return 200 "ok"; }
        location /context { node_content s.context; }
        location /enter { node_content s.enter; }
        location /hello { node_content s.hello; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('runs what a synchronous handler queued (nextTick, promise reactions) before nginx goes on', async () => {
        const reply = await request(nginx.url('/queueing'));
        assert.equal(reply.headers['x-tick'], 'ran');
        assert.equal(reply.headers['x-microtask'], 'ran');
        assert.equal(reply.headers['x-queued'], 'ran');
        const chained = await request(nginx.url('/chained'));
        assert.equal(chained.headers['x-chain-1'], 'ran');
        assert.equal(chained.headers['x-chain-2'], 'ran');
    });

    it('keeps AsyncLocalStorage contexts apart across await and timers, many requests at once', async () => {
        const replies = await Promise.all(Array.from({ length: 40 }, (_, i) =>
            request(nginx.url(`/context?id=r${i}&ms=${(i * 7) % 23}`))));
        replies.forEach((reply, i) => assert.equal(reply.text, `r${i} r${i}`));
    });

    it('does not carry one request\'s enterWith() context into the next request', async () => {
        const first = await request(nginx.url('/enter?id=first'));
        await request(nginx.url('/hello'));
        const second = await request(nginx.url('/enter?id=second'));
        assert.equal(first.text, 'none');
        assert.equal(second.text, 'none');
    });
});
