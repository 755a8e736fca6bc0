/**
 * node_import of every file kind, per block; handler names of any depth; node_path, npm packages,
 * Node built-ins, fetch, node_option.
 */
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { SignJWT } from 'jose';

import { request } from './harness/http';
import { Nginx } from './harness/nginx';
import { fixture } from './harness/paths';
import { libnodeHeapLimitMB } from './harness/versions';

const secret = new TextEncoder().encode('a-test-secret-of-at-least-32-bytes!!');

function sign(claims: { iss: string; aud: string; sub: string }, expiresIn: string): Promise<string> {
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(claims.iss).setAudience(claims.aud)
        .setSubject(claims.sub).setIssuedAt().setExpirationTime(expiresIn).sign(secret);
}

/** One test per [path, answer]: the nginx (once started) answers 200 with that body. */
function itServes(server: () => Nginx, cases: [string, string][]): void {
    for (const [path, expected] of cases) {
        it(`serves ${path}`, async () => {
            const reply = await request(server().url(path));
            assert.equal(reply.status, 200, reply.text);
            assert.equal(reply.text, expected);
        });
    }
}

describe('modules', () => {
    let nginx: Nginx;
    let upstream: Server;
    let upstreamPort = 0;
    const upstreamSaw: string[] = [];

    before(async () => {
        upstream = createServer((req, res) => {
            upstreamSaw.push(String(req.headers['x-from']));
            res.setHeader('Content-Type', 'application/json');
            res.end(JSON.stringify({ said: 'hi' }));
        });
        await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
        const address = upstream.address();
        upstreamPort = typeof address === 'object' && address ? address.port : 0;

        nginx = await Nginx.start({
            // the heaviest worker start of the suite (twelve imports, TypeScript compiled, jose,
            // module hooks for node_path): about 2 s of CPU, so well over the default 10 s on a
            // loaded machine; the deadline is there to catch a worker that never starts
            startTimeoutMs: 60000,
            main: 'node_option --max-old-space-size=96;',
            http: `
    node_path ${fixture('modules/node-path')};
    node_import named from ${fixture('modules/named.mjs')};
    node_import ${fixture('modules/greeter.mjs')};
    node_import common from ${fixture('modules/common.cjs')};
    node_import ${fixture('modules/plain.js')};
    node_import ts from ${fixture('modules/handler.ts')};
    node_import esm from ${fixture('modules/ts-esm/handler.ts')};
    node_import mts from ${fixture('modules/module.mts')};
    node_import found from lib/found.mjs;
    node_import pkg from ${fixture('modules/uses-package.cjs')};
    node_import npm from ${fixture('modules/npm.mjs')};
    node_import bare from ${fixture('modules/bare-imports.mjs')};`,
            server: `
        location /named { node_content named.hello; }
        location /default { node_content greeter.hello; }
        location /cjs { node_content common.hello; }
        location /js { node_content plain.hello; }
        location /ts { node_content ts.hello; }
        location /ts-async { node_content ts.later; }
        location /ts-esm { node_content esm.hello; }
        location /mts { node_content mts.hello; }
        location /node-path { node_content found.hello; }
        location /package { node_content pkg.hello; }
        location /jwt { node_content npm.verify; }
        location /fetch { node_content npm.upstream; }
        location /builtins { node_content npm.builtins; }
        location /late-socket { node_content npm.lateSocket; }
        location /bare { node_content bare.hello; }`,
        });
    });

    after(async () => {
        upstream.close();
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    itServes(() => nginx, [
        ['/named', 'named hello\n'],
        ['/default', 'default hello\n'],
        ['/cjs', 'cjs hello function\n'],
        ['/js', 'js hello\n'],
        ['/ts', 'TS HELLO 8\n'],
        ['/ts-async', 'LATER\n'],
        ['/ts-esm', 'esm ts 42 string\n'],
        ['/mts', 'mts hello\n'],
        ['/node-path', 'found via node_path\n'],
        ['/package', 'fixture-pkg from node_path\n'],
        ['/bare', 'esm-lib.js from node_path; common-lib.js from node_path\n'],
    ]);

    it('verifies a JWT with jose, an npm package', async () => {
        const good = await sign({ iss: 'ngx-node-tests', aud: 'api', sub: 'alice' }, '5m');
        const ok = await request(nginx.url('/jwt'), { headers: { Authorization: `Bearer ${good}` } });
        assert.equal(ok.status, 200);
        assert.equal(ok.text, 'hello alice\n');

        const wrongAudience = await sign({ iss: 'ngx-node-tests', aud: 'other', sub: 'bob' }, '5m');
        const denied = await request(nginx.url('/jwt'), { headers: { Authorization: `Bearer ${wrongAudience}` } });
        assert.equal(denied.status, 401);
        assert.equal(denied.text, 'denied: ERR_JWT_CLAIM_VALIDATION_FAILED\n');

        const expired = await sign({ iss: 'ngx-node-tests', aud: 'api', sub: 'carol' }, '-1m');
        const late = await request(nginx.url('/jwt'), { headers: { Authorization: `Bearer ${expired}` } });
        assert.equal(late.text, 'denied: ERR_JWT_EXPIRED\n');
    });

    it('fetches from an upstream with the global fetch', async () => {
        const reply = await request(nginx.url(`/fetch?port=${upstreamPort}`));
        assert.equal(reply.text, 'upstream said hi (200)\n');
        assert.deepEqual(upstreamSaw, ['node']);
    });

    it('answers from a socket opened in a setImmediate callback, late in a libuv iteration', async () => {
        // its watcher reaches epoll only if the module runs the loop once more
        const reply = await request(nginx.url(`/late-socket?port=${upstreamPort}`));
        assert.equal(reply.text, 'HTTP/1.1 200 OK\n');
    });

    it('has timers, node:fs, node:crypto, and the node_option flags', async () => {
        const info = JSON.parse((await request(nginx.url('/builtins'))).text);
        assert.equal(info.sha, '2d711642');
        assert.equal(info.uuid, 36);
        assert.equal(info.readSelf, true);
        // old space 96 MB plus the young generation (its size depends on V8's version), as the
        // same libnode gives with the same flag; the default would be 2 GB or more
        assert.equal(info.heapLimitMB, libnodeHeapLimitMB(['--max-old-space-size=96']));
        assert.ok(info.heapLimitMB < libnodeHeapLimitMB([]), `heap limit ${info.heapLimitMB} MB`);
        assert.ok(info.execArgv.includes('--max-old-space-size=96'), `execArgv ${info.execArgv}`);
    });
});

describe('node_import per block, handler names of any depth', () => {
    let nginx: Nginx;
    const scoped = (name: string) => fixture(`modules/scoped/${name}`);

    before(async () => {
        nginx = await Nginx.start({
            http: `
    node_import which from ${scoped('which-a.mjs')};
    node_import nested from ${scoped('nested.mjs')};
    node_import first from ${scoped('counted.mjs')};`,
            server: `
        node_import second from ${scoped('counted.mjs')};
        location /outer { node_content which.which; }
        location /inner {
            node_import which from ${scoped('which-b.mjs')};
            node_content which.which;
            location /inner/deeper { node_content which.which; }
        }
        location /sibling { node_import which from ${scoped('which-b.mjs')}; node_content which.which; }
        location /first { node_content first.loads; }
        location /second { node_content second.loads; }
        location /routes { node_content nested.routes.admin.show; }
        location /tools { node_content nested.tools.greet; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    itServes(() => nginx, [
        ['/outer', 'a at /outer\n'],
        ['/inner', 'b at /inner\n'],
        ['/inner/deeper', 'b at /inner/deeper\n'],
        ['/sibling', 'b at /sibling\n'],
        ['/routes', 'routes.admin.show, this is admin\n'],
        ['/tools', 'tools.greet, this is tools\n'],
    ]);

    it('loads a file imported under two names in two blocks once: one module instance', async () => {
        const first = (await request(nginx.url('/first'))).text;
        const second = (await request(nginx.url('/second'))).text;
        assert.match(first, /^loaded 1 time\(s\), instance 0\.\d+\n$/);
        assert.equal(second, first);
    });
});
