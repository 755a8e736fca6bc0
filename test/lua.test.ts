/**
 * OpenResty's Lua calling Node.js through resty.node (lua/resty/node.lua), with Debian's
 * lua-nginx-module and lua-resty-core loaded beside the module, as they come.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture, ROOT } from './harness/paths';

const reloadable = (version: string) => `export function version() { return '${version}'; }\n`;

describe('OpenResty bridge (resty.node)', () => {
    let nginx: Nginx;

    const lua = (name: string, phase = 'content') =>
        `${phase}_by_lua_block { require("bridge_test").${name}() }`;

    before(async () => {
        nginx = await Nginx.start({
            main: `
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
node_cpu_timeout 2s;`,
            http: `
    lua_package_path "${ROOT}/lua/?.lua;${fixture('lua')}/?.lua;;";
    lua_shared_dict results 1m;
    node_path ${fixture('lua')};`,
            server: `
        client_body_buffer_size 1m;
        client_max_body_size 2m;
        location /sync { ${lua('sync')} }
        location /async { ${lua('async')} }
        location /json { ${lua('json')} }
        location /binary { ${lua('binary')} }
        location /errors { ${lua('errors')} }
        location /timeout { ${lua('timeout')} }
        location /runaway { ${lua('runaway')} }
        location /concurrent { ${lua('concurrent')} }
        location /killed { ${lua('killed')} }
        location /abandoned { ${lua('abandoned')} }
        location /reload { ${lua('reload')} }
        location /unload-fixed { ${lua('unload_fixed')} }
        location /timer { ${lua('timer')} }
        location /guarded { ${lua('access', 'access')} content_by_lua_block { ngx.say("let in") } }
        location /old { ${lua('rewrite', 'rewrite')} }
        location /old-rewritten { return 200 "rewritten to $uri\\n"; }
        location /filtered { ${lua('header_filter', 'header_filter')} return 200 "filtered\\n"; }`,
            files: { 'conf/reloadable.mjs': reloadable('one') },
        });
    });

    after(async () => {
        const troubles = nginx.troubles();
        await nginx.destroy();
        assert.deepEqual(troubles, []);
    });

    it('calls synchronous functions: named exports, a TypeScript default export, any name', async () => {
        const reply = await request(nginx.url('/sync'));
        assert.equal(reply.text, 'true hello from Lua\ntrue 4\ntrue -1\ntrue hello, lua\ntrue a function named timeout\ntrue by name\n' +
            'true Buffer of 5\ntrue Buffer of 5\ntrue Buffer of 5000\n');
    });

    it('waits for asynchronous functions', async () => {
        const reply = await request(nginx.url('/async'));
        assert.equal(reply.text, 'true later\ntrue slept\n');
    });

    it('takes and gives JSON with call_json', async () => {
        const reply = await request(nginx.url('/json'));
        const lines = reply.text.split('\n');
        assert.equal(lines[0], 'true 6.5 3');
        assert.equal(lines[1], 'true nil', 'JSON null comes back as nil');
        assert.equal(lines[2], 'true ADA');
        assert.match(lines[3], /^false TypeError: .*reduce/);
        assert.match(lines[4], /^false TypeError: Converting circular structure to JSON/);
        assert.equal(lines.at(-2), 'true ZO\u00cb \u20ac', 'UTF-8 goes both ways');
    });

    it('passes every byte value, NUL included, both ways', async () => {
        const bytes = Buffer.alloc(256 * 40);
        for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
        const reply = await request(nginx.url('/binary'), { body: bytes });
        assert.equal(reply.status, 200, reply.text);
        assert.deepEqual(reply.body, Buffer.from(bytes).reverse());
    });

    it('stops a function that runs away (node_cpu_timeout): false and where', async () => {
        const lines = (await request(nginx.url('/runaway'))).text.trimEnd().split('\n');
        const stopped = /ran longer than node_cpu_timeout \(2000 ms\) and was stopped at spins \(.*fixtures\/lua\/demo\/echo\.mjs:\d+:\d+\)/;
        assert.match(lines[0], new RegExp(`^false ${stopped.source}$`));
        assert.equal(lines[1], 'true still here');
        assert.match(nginx.errorLog(), new RegExp(`\\[error\\].*resty\\.node: demo/echo:spins\\(\\) ${stopped.source}`));
    });

    it('gives errors back as false and a message, with the stack in the error log', async () => {
        const reply = await request(nginx.url('/errors'));
        const lines = reply.text.trimEnd().split('\n');
        assert.equal(lines[0], 'false RangeError: the test asked for an error');
        assert.equal(lines[1], 'false Error: the test asked for a rejection');
        assert.match(lines[2], /^false TypeError: module "demo\/echo" has no function "missing"; it has answersLate, cyclic, echo, echoLater, /);
        assert.match(lines[3], /^false TypeError: module "demo\/echo" has no function "notAFunction"/);
        assert.match(lines[4], /^false Error: no module "no\/such\/module" \(looked in .*fixtures\/lua/);
        assert.match(lines[5], /^false SyntaxError: Unexpected end of input in \/.*fixtures\/lua\/demo\/broken\.mjs/);
        assert.equal(lines[6], 'true still here');
        const log = nginx.errorLog();
        assert.match(log, /\[error\].*resty\.node: demo\/echo:throws\(\) failed: RangeError: the test asked for an error\n\s+at throws \(.*fixtures\/lua\/demo\/echo\.mjs:\d+:\d+\)/);
        assert.match(log, /resty\.node: demo\/broken:fine\(\) failed: SyntaxError: .*broken\.mjs \(`node --check/);
    });

    it('bounds each call with a timeout and drops answers that come after it', async () => {
        const reply = await request(nginx.url('/timeout'));
        const lines = reply.text.trimEnd().split('\n');
        assert.equal(lines[0], 'false resty.node: demo/echo:never() did not answer within 0.1s');
        assert.equal(lines[1], 'false resty.node: demo/echo:answersLate() did not answer within 0.05s');
        const waited = Number(/^waited (\d+)$/.exec(lines[2])?.[1]);
        assert.ok(waited >= 140 && waited < 1000, `waited ${waited} ms for timeouts of 100 + 50 ms`);
        assert.equal(lines[3], 'false resty.node: demo/echo:never() did not answer within 0.05s');
        assert.equal(lines[4], 'true after the timeouts');
    });

    it('drops answers for coroutines that were killed and requests that ended', async () => {
        assert.equal((await request(nginx.url('/killed'))).text, '1 nil\ntrue after a killed call\n');
        assert.equal((await request(nginx.url('/abandoned'))).text, 'leaving\n');
        await sleep(400);
        assert.equal((await request(nginx.url('/sync'))).status, 200);
        assert.doesNotMatch(nginx.errorLog(), /semaphore gc wait queue is not empty|answersLate\(\) failed/);
    });

    it('runs 1000 concurrent calls of a 50 ms function side by side', async () => {
        const reply = await request(nginx.url('/concurrent?n=1000'));
        const match = /^answered (\d+) of 1000 in (\d+) ms$/.exec(reply.text.trim());
        assert.ok(match, reply.text);
        assert.equal(Number(match[1]), 1000);
        // one at a time would take 50 s; side by side it is 50 ms plus the calls themselves
        assert.ok(Number(match[2]) < 1000, `1000 calls took ${match[2]} ms`);
    });

    it('keeps other requests flowing while calls wait', async () => {
        const slow = request(nginx.url('/concurrent?n=10'));
        const started = Date.now();
        const quick = await request(nginx.url('/sync'));
        assert.equal(quick.status, 200);
        assert.ok(Date.now() - started < 45, 'a quick request waited for the slow one');
        assert.match((await slow).text, /^answered 10 of 10/);
    });

    it('re-imports a module loaded with "?" after unload(), and only then', async () => {
        assert.equal((await request(nginx.url('/reload'))).text, 'true one\n');
        nginx.writeFile('conf/reloadable.mjs', reloadable('two'));
        assert.equal((await request(nginx.url('/reload'))).text, 'true one\n', 'changed without unload');
        assert.equal((await request(nginx.url('/reload?unload=1'))).text, 'true nil\ntrue two\n');
        assert.equal((await request(nginx.url('/reload'))).text, 'true two\n');
    });

    it('refuses to unload a module loaded without "?"', async () => {
        await request(nginx.url('/sync'));
        const reply = await request(nginx.url('/unload-fixed'));
        assert.equal(reply.text, 'false module "demo/echo" was loaded without "?" and cannot be unloaded; load it as "demo/echo?"\n');
    });

    it('calls from an ngx.timer callback', async () => {
        const reply = await request(nginx.url('/timer?key=t1'));
        assert.equal(reply.text, 'true from a timer t1\n');
    });

    it('calls from the access and rewrite phases', async () => {
        assert.equal((await request(nginx.url('/guarded'))).status, 403);
        const allowed = await request(nginx.url('/guarded'), { headers: { 'X-Token': 'letmein' } });
        assert.equal(allowed.status, 200);
        assert.equal(allowed.text, 'let in\n');
        assert.equal((await request(nginx.url('/old'))).text, 'rewritten to /old-rewritten\n');
    });

    it('answers synchronous calls in a phase that cannot wait, and says why asynchronous ones fail', async () => {
        const reply = await request(nginx.url('/filtered'));
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['x-sync'], 'true sync in a header filter');
        assert.match(String(reply.headers['x-async']),
            /^false resty\.node: demo\/echo:echoLater\(\) is asynchronous and this phase cannot wait for it \(API disabled in the context of header_filter_by_lua\*\)/);
    });
});
