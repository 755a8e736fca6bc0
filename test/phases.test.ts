/**
 * node_access, node_rewrite, r.decline(), node_var, and node_set in the pre-access phase,
 * with real upstreams: load balancing by consistent hashing, auth through a service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx } from './harness/nginx';
import { fixture } from './harness/paths';
import { Upstream, upstream } from './harness/upstream';

describe('phases', () => {
    let nginx: Nginx;
    let backendA: Upstream;
    let backendB: Upstream;
    let auth: Upstream;

    before(async () => {
        backendA = await upstream((req, res) => res.end(`A ${req.url}\n`));
        backendB = await upstream((req, res) => res.end(`B ${req.url}\n`));
        auth = await upstream((req, res) => {
            res.statusCode = req.headers.authorization === 'Bearer good' ? 200 : 403;
            res.end();
        });
        const backends = `127.0.0.1:${backendA.port},127.0.0.1:${backendB.port}`;
        nginx = await Nginx.start({
            http: `
    node_import main from ${fixture('phases.mjs')};
    node_set $backend main.pickBackend;
    node_var $scratch initial;`,
            server: `
        set $backend_list "${backends}";
        set $auth_port ${auth.port};
        node_rewrite main.serverRewrite;

        location /guarded { node_access main.allowIfHeader; set $says "in\\n"; node_content main.says; }
        location /login-first { node_access main.loginRedirect; set $says "welcome\\n"; node_content main.says; }
        location /slow-access { node_access main.slowAccess; set $says "let in\\n"; node_content main.says; }
        location /throwing-access { node_access main.throwingAccess; set $says "never\\n"; node_content main.says; }
        location /any-ip { satisfy any; allow 127.0.0.1; deny all; node_access main.denyAll; set $says "ip ok\\n"; node_content main.says; }
        location /all-ip { satisfy all; allow 127.0.0.1; deny all; node_access main.denyAll; set $says "never\\n"; node_content main.says; }
        location /any-header { satisfy any; deny all; node_access main.allowIfHeader; set $says "header ok\\n"; node_content main.says; }
        location /auth { node_access main.authService; node_content main.v2; }

        location /v1/ { node_rewrite main.rewriteToV2; node_content main.v2; }
        location /v2/ { node_content main.v2; }
        location /async-rewrite { node_rewrite main.rewriteAsync; node_content main.v2; }
        location /rewrite-redirect { node_rewrite main.rewriteRedirect; node_content main.v2; }
        location /rewrite-args { node_rewrite main.rewriteArgs; node_content main.v2; }
        location /declined { root html; node_content main.declines; }

        location /scratch { node_content main.writeVar; }

        location /balanced { proxy_pass http://$backend; }
        location /discovered {
            node_set $discovered main.discoverBackend;
            proxy_pass http://$discovered;
        }
        location /set-return-value {
            node_set $returned main.asyncWithSetReturnValue;
            add_header X-Value $returned;
            set $says "done\\n";
            node_content main.says;
        }
        location /async-rejects {
            node_set $rejected main.asyncRejects;
            add_header X-Value "[$rejected]";
            set $says "done\\n";
            node_content main.says;
        }
        location /rewrite-then-return {
            node_rewrite main.rewriteToV2;
            return 200 "nginx's return came first\\n";
        }
        location /async-too-early {
            node_set $early main.discoverBackend;
            return 200 "[$early]\\n";
        }`,
            files: { 'html/declined/file.txt': 'static file\n' },
        });
    });

    after(async () => {
        await Promise.all([backendA?.close(), backendB?.close(), auth?.close()]);
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    describe('node_access', () => {
        it('continues when the handler returns, answers when it calls r.return()', async () => {
            assert.equal((await request(nginx.url('/guarded'), { headers: { 'X-Allow': 'yes' } })).text, 'in\n');
            assert.equal((await request(nginx.url('/guarded'))).status, 403);
        });

        it('redirects', async () => {
            const reply = await request(nginx.url('/login-first'));
            assert.equal(reply.status, 302);
            assert.equal(reply.headers.location, `http://127.0.0.1:${nginx.port}/login`);
            assert.equal((await request(nginx.url('/login-first'), { headers: { Cookie: 'session=1' } })).text, 'welcome\n');
        });

        it('waits for an async handler', async () => {
            assert.equal((await request(nginx.url('/slow-access'))).text, 'let in\n');
            assert.equal((await request(nginx.url('/slow-access?deny=1'))).status, 403);
        });

        it('answers 500 and logs when the handler throws', async () => {
            assert.equal((await request(nginx.url('/throwing-access'))).status, 500);
            await nginx.waitForLog(/node_access "main.throwingAccess" failed: Error: access boom/);
        });

        it('works with satisfy any and all like nginx\'s access modules', async () => {
            assert.equal((await request(nginx.url('/any-ip'))).text, 'ip ok\n');
            assert.equal((await request(nginx.url('/all-ip'))).status, 403);
            assert.equal((await request(nginx.url('/any-header'), { headers: { 'X-Allow': 'yes' } })).text, 'header ok\n');
            assert.equal((await request(nginx.url('/any-header'))).status, 403);
        });

        it('asks an auth service with fetch, and caches its decisions', async () => {
            const first = await request(nginx.url('/auth/a'), { headers: { Authorization: 'Bearer good' } });
            assert.equal(first.status, 200);
            assert.equal(first.headers['x-auth'], 'asked');
            const second = await request(nginx.url('/auth/b'), { headers: { Authorization: 'Bearer good' } });
            assert.equal(second.headers['x-auth'], 'cached');
            const denied = await request(nginx.url('/auth/c'), { headers: { Authorization: 'Bearer bad' } });
            assert.equal(denied.status, 401);
            assert.equal(denied.text, 'denied by the auth service\n');
            assert.equal((await request(nginx.url('/auth/d'), { headers: { Authorization: 'Bearer bad' } })).status, 401);
            assert.deepEqual(auth.seen, ['GET /check', 'GET /check']);
        });
    });

    describe('node_rewrite', () => {
        it('changes the URI, and nginx picks the location again', async () => {
            assert.equal((await request(nginx.url('/v1/items'))).text, 'v2 /v2/items rewritten=1\n');
        });

        it('waits for an async handler', async () => {
            assert.equal((await request(nginx.url('/async-rewrite'))).text, 'v2 /v2/from-async \n');
        });

        it('redirects', async () => {
            const reply = await request(nginx.url('/rewrite-redirect'));
            assert.equal(reply.status, 301);
            assert.equal(reply.headers.location, 'https://example.com/moved');
        });

        it('changes the arguments', async () => {
            assert.equal((await request(nginx.url('/rewrite-args?old=1'))).text, 'v2 /rewrite-args added=yes&list=a&list=b\n');
        });

        it('runs after nginx\'s own rewrite directives of the block', async () => {
            assert.equal((await request(nginx.url('/rewrite-then-return'))).text, 'nginx\'s return came first\n');
        });

        it('runs in a server block before the location is chosen', async () => {
            assert.equal((await request(nginx.url('/old-home'))).text, 'v2 /v2/home \n');
        });
    });

    it('r.decline() leaves the request to nginx (a static file here)', async () => {
        const reply = await request(nginx.url('/declined/file.txt'));
        assert.equal(reply.status, 200);
        assert.equal(reply.text, 'static file\n');
    });

    it('node_var declares a variable handlers write', async () => {
        assert.equal((await request(nginx.url('/scratch'))).text, 'written-initial\n');
    });

    describe('node_set', () => {
        it('picks a backend by consistent hashing for proxy_pass http://$backend', async () => {
            const answers = new Map<string, string>();
            for (let user = 0; user < 20; user++) {
                const first = await request(nginx.url('/balanced/x'), { headers: { 'X-User': `user${user}` } });
                const again = await request(nginx.url('/balanced/x'), { headers: { 'X-User': `user${user}` } });
                assert.equal(first.text, again.text, 'the same user, the same backend');
                answers.set(`user${user}`, first.text[0]);
            }
            assert.deepEqual(new Set(answers.values()), new Set(['A', 'B']), 'users spread over both backends');
        });

        it('awaits an async function before the access phase: proxy_pass uses its value', async () => {
            assert.equal((await request(nginx.url('/discovered/q'), { headers: { 'X-Shard': '0' } })).text, 'A /discovered/q\n');
            assert.equal((await request(nginx.url('/discovered/q'), { headers: { 'X-Shard': '1' } })).text, 'B /discovered/q\n');
        });

        it('takes r.setReturnValue() from an async function', async () => {
            const reply = await request(nginx.url('/set-return-value'));
            assert.equal(reply.headers['x-value'], 'from setReturnValue');
        });

        it('leaves the variable empty when the async function rejects', async () => {
            const reply = await request(nginx.url('/async-rejects'));
            assert.equal(reply.status, 200);
            assert.equal(reply.headers['x-value'], '[]');
            await nginx.waitForLog(/node_set "main.asyncRejects" failed: Error: lookup failed/);
        });

        it('says so when an async value is needed before it could be awaited', async () => {
            assert.equal((await request(nginx.url('/async-too-early'))).text, '[]\n');
            await nginx.waitForLog(/node_set "main.discoverBackend" is async: its value is awaited before the access phase/);
        });
    });
});
