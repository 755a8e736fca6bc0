/** r.subrequest(): fan-out, method and body, callbacks, detached, errors. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';
import { Upstream, upstream } from './harness/upstream';

describe('subrequests', () => {
    let nginx: Nginx;
    let origin: Upstream;

    before(async () => {
        origin = await upstream((req, res, body) => res.end(`${req.method} ${req.url} ${body.toString()}`));
        nginx = await Nginx.start({
            http: `node_import main from ${fixture('subrequests.mjs')};`,
            server: `
        location /fan-out { node_content main.fanOut; }
        location /post { node_content main.post; }
        location /callback { node_content main.callbackStyle; }
        location /detached { node_content main.detached; }
        location /counted { node_content main.counted; }
        location /missing { node_content main.missing; }
        location /query { node_content main.query; }
        location /redirecting { node_content main.redirecting; }
        location /internal/ {
            internal;
            location /internal/users { node_content main.users; }
            location /internal/orders { node_content main.orders; }
            location /internal/count { node_content main.count; }
            location /internal/proxied { proxy_pass http://127.0.0.1:${origin.port}/echo; }
            location /internal/redirects { node_content main.redirects; }
        }`,
        });
    });

    after(async () => {
        await origin?.close();
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('fans out to two internal locations and merges their JSON', async () => {
        const reply = await request(nginx.url('/fan-out'));
        assert.equal(reply.status, 200);
        assert.deepEqual(JSON.parse(reply.text), {
            users: [{ id: 1, parentUri: '/fan-out', internal: true }],
            orders: { limit: '2', method: 'GET' },
            statuses: [200, 200],
            type: 'application/json',
        });
    });

    it('sends a method, arguments and a body, through a proxy', async () => {
        const reply = await request(nginx.url('/post'));
        assert.equal(reply.status, 200);
        assert.equal(reply.text, 'POST /echo?x=1 sub body');
        assert.deepEqual(origin.seen, ['POST /echo?x=1']);
    });

    it('calls back, njs style', async () => {
        assert.match((await request(nginx.url('/callback'))).text, /^callback 200 \d+$/);
    });

    it('runs a detached subrequest in the background', async () => {
        assert.equal((await request(nginx.url('/detached'))).text, 'sent\n');
        await sleep(100);
        assert.equal((await request(nginx.url('/counted'))).text, '1\n');
    });

    it('takes the arguments from the URI and decodes its path, as njs', async () => {
        const reply = JSON.parse((await request(nginx.url('/query'))).text);
        assert.equal(reply.plain, '3');
        assert.equal(reply.both, '4');
        assert.equal(reply.decoded, 200);
        // JSON.stringify(reply): the reply's data, as njs shows it
        assert.deepEqual(Object.keys(reply.reply).sort(), [
            'args', 'headersIn', 'headersOut', 'httpVersion', 'internal', 'method', 'remoteAddress', 'responseText', 'status', 'uri',
        ]);
        assert.deepEqual(reply.reply.args, { limit: '3' });
        assert.equal(reply.reply.uri, '/internal/orders');
        assert.equal(reply.reply.status, 200);
        assert.equal(reply.reply.responseText, '{"limit":"3","method":"GET"}');
    });

    it('refuses r.internalRedirect() in a subrequest with a TypeError, as njs', async () => {
        assert.match((await request(nginx.url('/redirecting'))).text, /^TypeError: r\.internalRedirect\(\): not in a subrequest/);
    });

    it('gives the status of a failing subrequest', async () => {
        assert.equal((await request(nginx.url('/missing'))).text, 'status 404\n');
    });
});
