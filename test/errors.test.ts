/**
 * A user's mistakes: nginx -t names the file, line or export; a failing handler gives 500 and
 * a stack naming it; nothing takes a worker down.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, NginxOptions, sleep, workerUser } from './harness/nginx';
import { fixture } from './harness/paths';

/** nginx -t on a configuration; the prefix is removed afterwards. */
async function check(options: NginxOptions): Promise<{ ok: boolean; output: string; prefix: string }> {
    const nginx = await Nginx.prepare(options);
    try {
        return { ...nginx.check(), prefix: nginx.prefix };
    } finally {
        await nginx.destroy();
    }
}

describe('nginx -t reports a broken configuration', () => {
    it('accepts a good one', async () => {
        const result = await check({
            http: `node_import main from ${fixture('errors.mjs')};`,
            server: 'location / { node_content main.throws; }',
        });
        assert.equal(result.ok, true, result.output);
        assert.match(result.output, /test is successful/);
    });

    it('names a missing file and where it was looked for', async () => {
        const result = await check({
            http: 'node_import main from missing/nothing.mjs;',
            server: 'location / { node_content main.hello; }',
        });
        assert.equal(result.ok, false);
        assert.match(result.output,
            new RegExp(`\\[emerg\\] \\d+#\\d+: node_import "missing/nothing.mjs": file not found \\(looked in ${result.prefix}/conf/\\).* in ${result.prefix}/conf/nginx.conf:\\d+`));
        assert.match(result.output, /test failed/);
    });

    it('names a missing export and lists what the module exports', async () => {
        const result = await check({
            http: `node_import main from ${fixture('modules/named.mjs')};`,
            server: 'location / { node_content main.nothere; }',
        });
        assert.equal(result.ok, false);
        assert.match(result.output,
            /node_content "main.nothere": module "main" \(.*named\.mjs\) has no export "nothere"; it exports hello, in .*nginx\.conf:\d+/);
    });

    it('refuses an export that is not a function', async () => {
        const result = await check({
            http: `node_import main from ${fixture('modules/named.mjs')};`,
            server: 'location / { node_content main.notAFunction; }',
        });
        assert.match(result.output, /"notAFunction" of module "main" .* is number, not a function/);
    });

    it('names a module that was never imported', async () => {
        const result = await check({
            http: `node_import main from ${fixture('modules/named.mjs')};`,
            server: 'location / { node_content other.hello; }',
        });
        assert.match(result.output, /node_content "other.hello": no module is imported as "other"; add "node_import other from <file>;"/);
    });

    it('names file and line of a JavaScript syntax error', async () => {
        const result = await check({
            http: 'node_import main from broken.mjs;',
            server: 'location / { node_content main.hello; }',
            files: { 'conf/broken.mjs': 'export function hello(r) {\n    r.return(200, "x";\n}\n' },
        });
        assert.equal(result.ok, false);
        assert.match(result.output, new RegExp(`SyntaxError: .* at ${result.prefix}/conf/broken\\.mjs:2`));
    });

    it('names file and line of a TypeScript syntax error', async () => {
        const result = await check({
            http: 'node_import main from broken.ts;',
            server: 'location / { node_content main.hello; }',
            files: { 'conf/broken.ts': 'export function hello(r: unknown): void {\n    const x: = 1;\n}\n' },
        });
        assert.equal(result.ok, false);
        assert.match(result.output, new RegExp(`SyntaxError: .* at ${result.prefix}/conf/broken\\.ts:2`));
    });

    it('reports an exception in top-level code with its stack', async () => {
        const result = await check({
            http: 'node_import main from throws.mjs;',
            server: 'location / { node_content main.hello; }',
            files: { 'conf/throws.mjs': 'export function hello() {}\nthrow new Error("top-level boom");\n' },
        });
        assert.equal(result.ok, false);
        assert.match(result.output, /node_import "main" from ".*throws\.mjs" failed: Error: top-level boom\n\s+at .*throws\.mjs:2/);
    });

    it('checks as the workers\' user: a module they cannot read fails the test, naming file, user and cause', { skip: workerUser() !== '' && 'workers run as root here' }, async () => {
        const nginx = await Nginx.prepare({
            http: 'node_import main from secret/main.mjs;',
            server: 'location / { node_content main.hello; }',
            files: { 'conf/secret/main.mjs': 'export function hello(r) { r.return(200, "hi"); }\n' },
        });
        try {
            chmodSync(nginx.path('conf/secret'), 0o700);
            const result = nginx.check();
            assert.equal(result.ok, false);
            assert.match(result.output, new RegExp(`node_import "secret/main.mjs": cannot read ${nginx.prefix}/conf/secret/main\\.mjs ` +
                'as user "nobody", the user nginx\'s workers run as: Permission denied; .* in .*nginx\\.conf:\\d+'));
        } finally {
            await nginx.destroy();
        }
    });

    it('rejects malformed directives', async () => {
        const badName = await check({ server: 'location / { node_content hello; }' });
        assert.match(badName.output, /invalid handler "hello": name it "module.function"/);
        const badImport = await check({ http: 'node_import 1st from x.mjs;' });
        assert.match(badImport.output, /invalid module name "1st"/);
        const noName = await check({ http: 'node_import my-file.mjs;' });
        assert.match(noName.output, /cannot make a name of "my-file.mjs"; use "node_import name from my-file.mjs;"/);
        const twice = await check({
            http: `node_import main from ${fixture('modules/named.mjs')}; node_import main from ${fixture('modules/greeter.mjs')};`,
        });
        assert.match(twice.output, /name "main" already stands for ".*named\.mjs" in this block \(.*nginx\.conf:\d+\); use "node_import othername from/);
    });

    it('names the part of a longer handler name that is missing, or is not an object', async () => {
        const result = await check({
            http: `node_import nested from ${fixture('modules/scoped/nested.mjs')}; node_import main from ${fixture('modules/named.mjs')};`,
            server: `
        location /a { node_content nested.routes.admin.hide; }
        location /b { node_content main.notAFunction.call; }
        location /c { node_content nested.missing.show; }`,
        });
        assert.equal(result.ok, false);
        assert.match(result.output,
            /node_content "nested.routes.admin.hide": "routes.admin" of module "nested" \(.*nested\.mjs\) has no "hide"; it has name, show, in .*nginx\.conf:\d+/);
        assert.match(result.output,
            /node_content "main.notAFunction.call": "notAFunction" of module "main" \(.*named\.mjs\) is number, not an object with "call", in .*nginx\.conf:\d+/);
        assert.match(result.output, /node_content "nested.missing.show": module "nested" \(.*nested\.mjs\) has no export "missing"; it exports routes, tools, in/);
    });

    it('imports per block: the same name in two blocks is fine, a name is looked up where the handler stands', async () => {
        const fine = await check({
            server: `
        location /a { node_import which from ${fixture('modules/scoped/which-a.mjs')}; node_content which.which; }
        location /b { node_import which from ${fixture('modules/scoped/which-b.mjs')}; node_content which.which; }`,
        });
        assert.equal(fine.ok, true, fine.output);

        const elsewhere = await check({
            server: `
        location /a { node_import which from ${fixture('modules/scoped/which-a.mjs')}; node_content which.which; }
        location /b { node_content which.which; }`,
        });
        assert.equal(elsewhere.ok, false);
        assert.match(elsewhere.output, new RegExp('node_content "which.which": no module is imported as "which" in this block or the ' +
            'blocks around it \\(only in other blocks, at .*nginx\\.conf:\\d+\\); a handler\'s module is looked up where its ' +
            'directive stands: add "node_import which from <file>;" here or in an enclosing block, in .*nginx\\.conf:\\d+'));
    });

    it('warns, and still succeeds, when a function assigns a variable of the module (njs would keep it per session)', async () => {
        const result = await check({
            stream: (ports) => `
    node_import mqtt from mqtt.js;
    node_import counter from counter.ts;
    server { listen 127.0.0.1:${ports[0]}; node_preread mqtt.preread; node_set $client_id mqtt.clientId; return $client_id; }`,
            files: {
                // the sticky-session pattern of njs's MQTT example: fine in njs, shared by all sessions here
                'conf/mqtt.js': [
                    'var client_id;',
                    'function preread(s) {',
                    '    s.on("upload", function (data) {',
                    '        client_id = data.slice(2);',
                    '        s.done();',
                    '    });',
                    '}',
                    'function clientId(s) { return client_id; }',
                    'export default { preread, clientId };',
                ].join('\n'),
                'conf/counter.ts': 'let seen: number = 0;\nexport function count(s: unknown): string {\n    seen++;\n    return String(seen);\n}\n',
            },
        });
        assert.equal(result.ok, true, result.output);
        assert.match(result.output, new RegExp(`\\[warn\\] \\d+#\\d+: ${result.prefix}/conf/mqtt\\.js:4: a function assigns "client_id", ` +
            'a variable of the module \\(declared at line 1\\); ngx-node loads a module once per worker and all its requests and ' +
            'sessions share that variable \\(njs gives each a fresh copy\\): keep per-request state in r.variables \\(node_var, set\\), ' +
            'which every handler of the request sees, or on r within one handler call and its awaits; per-session state on s ' +
            'or in s.variables, or in a WeakMap keyed by s .*; node_import "mqtt" in .*nginx\\.conf:\\d+'));
        assert.match(result.output, new RegExp(`\\[warn\\] .*${result.prefix}/conf/counter\\.ts:3: a function assigns "seen", a variable of the module \\(declared at line 1\\)`));
        assert.match(result.output, /test is successful/);
    });

    it('does not warn about a module whose functions keep their state on the session', async () => {
        const result = await check({
            stream: (ports) => `
    node_import mqtt from mqtt.js;
    node_var $client_id_seen;
    server { listen 127.0.0.1:${ports[0]}; node_preread mqtt.preread; node_set $client_id mqtt.clientId; return $client_id; }`,
            files: {
                'conf/mqtt.js': [
                    'const clientIds = new WeakMap();',
                    'let ready = false;',
                    'ready = true;',
                    '(async () => { ready = await Promise.resolve(true); })();',
                    'function preread(s) {',
                    '    s.on("upload", function (data) {',
                    '        let client_id = data.slice(2);',
                    '        client_id = client_id.trim();',
                    '        clientIds.set(s, client_id);',
                    '        s.variables.client_id_seen = client_id;',
                    '        s.done();',
                    '    });',
                    '}',
                    'function clientId(s) { var ready = clientIds.get(s); return ready; }',
                    'export default { preread, clientId };',
                ].join('\n'),
            },
        });
        assert.equal(result.ok, true, result.output);
        assert.doesNotMatch(result.output, /\[warn\]/);
    });

    it('refuses a variable node_set gives in two blocks where its module is another file', async () => {
        const result = await check({
            server: `
        location /a { node_import which from ${fixture('modules/scoped/which-a.mjs')}; node_set $which which.which; }
        location /b { node_import which from ${fixture('modules/scoped/which-b.mjs')}; node_set $which which.which; }`,
        });
        assert.equal(result.ok, false);
        assert.match(result.output, /node_set "which.which" in .*nginx\.conf:\d+ and in .*nginx\.conf:\d+ set the same variable, but the module is ".*which-a\.mjs" in the first and ".*which-b\.mjs" in the second; a variable has one function: give one of them another variable/);
    });

    it('imports per stream server', async () => {
        const result = await check({
            streamPorts: 2,
            stream: (ports) => `
    server { listen 127.0.0.1:${ports[0]}; node_import main from ${fixture('modules/scoped/which-a.mjs')}; node_access main.which; return ok; }
    server { listen 127.0.0.1:${ports[1]}; node_import other from ${fixture('modules/scoped/which-b.mjs')}; node_preread main.which; return ok; }`,
        });
        assert.equal(result.ok, false);
        assert.match(result.output, /node_preread "main.which": no module is imported as "main" in this block or the blocks around it \(only in other blocks, at .*nginx\.conf:\d+\)/);
        assert.doesNotMatch(result.output, /node_access/);
    });
});

describe('a failing handler', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `
    node_import main from ${fixture('errors.mjs')};
    node_set $promise_var main.returnsPromiseToSet;
    node_set $throwing_var main.setThrows;
    node_set $status_of main.statusOf;
    log_format status_of $status_of;`,
            server: `
        node_timeout 300ms;
        access_log logs/status.log status_of;
        location /throws { node_content main.throws; }
        location /rejects { node_content main.rejects; }
        location /resolves-silently { node_content main.resolvesSilently; }
        location /returns-silently { node_timeout 20s; node_content main.returnsSilently; }
        location /forgets { node_timeout 20s; node_content main.forgets; }
        location /hangs { node_content main.hangs; }
        location /client-leaves { node_timeout 20s; node_access main.allowsLate; empty_gif; }
        location /throws-after-responding { node_content main.throwsAfterResponding; }
        location /timer-throws { node_content main.timerThrows; }
        location /pid { node_content main.pid; }
        location /callback { node_content main.callback; }
        location /promise-var { return 200 "[$promise_var]"; }
        location /throwing-var { return 200 "[$throwing_var]"; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('answers 500 and logs the stack and the handler when it throws', async () => {
        const pidBefore = (await request(nginx.url('/pid'))).text;
        const reply = await request(nginx.url('/throws'));
        assert.equal(reply.status, 500);
        const line = await nginx.waitForLog(/\[error\] .*node_content "main.throws" failed: Error: sync boom\n\s+at throws \(file:\/\/.*errors\.mjs:3:11\)/);
        assert.ok(line);
        assert.equal((await request(nginx.url('/pid'))).text, pidBefore, 'the same worker serves on');
    });

    it('answers 500 when its promise rejects', async () => {
        const reply = await request(nginx.url('/rejects'));
        assert.equal(reply.status, 500);
        await nginx.waitForLog(/node_content "main.rejects" failed: TypeError: async boom/);
    });

    it('answers 500 when it resolves without a response', async () => {
        assert.equal((await request(nginx.url('/resolves-silently'))).status, 500);
        await nginx.waitForLog(/node_content "main.resolvesSilently" resolved without ending the response; call r.return\(\), r.finish\(\) or r.internalRedirect\(\)/);
    });

    it('answers 500 at once when it returns without responding and started nothing that could', async () => {
        // node_timeout is 20 s there: the answer comes when nothing can reach r any more
        const reply = await request(nginx.url('/returns-silently'));
        assert.equal(reply.status, 500);
        await nginx.waitForLog(/node_content "main.returnsSilently" returned without ending the response, and nothing it started can end it any more \(no pending callback refers to r\); answering 500/);
    });

    it('answers 500 once what it started has finished without responding', async () => {
        const reply = await request(nginx.url('/forgets'));
        assert.equal(reply.status, 500);
        await nginx.waitForLog(/node_content "main.forgets" returned without ending the response, and nothing it started can end it any more/);
        await nginx.waitForLog(/the timer ran and did not respond/);
    });

    it('answers 504 at node_timeout for a slow promise, whose late answer is refused', async () => {
        assert.equal((await request(nginx.url('/hangs'))).status, 504);
        await nginx.waitForLog(/node_content "main.hangs" did not end the response within 300ms \(node_timeout\); answering 504/);
        await nginx.waitForLog(/\[info\] .*node_content "main.hangs" used its request after the request had ended \(node_timeout, or the client closed the connection\): Error: ngx-node: this request has already finished/, 2000);
        await sleep(50);
        assert.match(readFileSync(nginx.path('logs/status.log'), 'utf8'), /^status=504 uri=\/hangs$/m,
            'a node_set in the log phase still sees the request');
    });

    it('logs at info a handler that uses its request after the client closed the connection', async () => {
        const socket = connect(nginx.port, '127.0.0.1');
        socket.on('error', () => { /* closed by us */ });
        socket.write('GET /client-leaves HTTP/1.1\r\nHost: test\r\n\r\n');
        await sleep(150);
        socket.destroy();
        await nginx.waitForLog(/\[info\] .*node_access "main.allowsLate" used its request after the request had ended \(node_timeout, or the client closed the connection\): Error: ngx-node: this request has already finished/, 3000);
        assert.doesNotMatch(readFileSync(nginx.path('logs/error.log'), 'utf8'), /\[error\] .*main\.allowsLate/);
    });

    it('keeps a response that was sent before the handler threw', async () => {
        const reply = await request(nginx.url('/throws-after-responding'));
        assert.equal(reply.status, 200);
        assert.equal(reply.text, 'answered\n');
        await nginx.waitForLog(/node_content "main.throwsAfterResponding" failed: Error: after the answer/);
    });

    it('responds from a callback after the handler returned (njs style)', async () => {
        const reply = await request(nginx.url('/callback'));
        assert.equal(reply.status, 200);
        assert.equal(reply.text, 'from a callback\n');
    });

    it('survives exceptions in timers and unhandled rejections', async () => {
        const pid = (await request(nginx.url('/timer-throws'))).text;
        await nginx.waitForLog(/\[error\] .*ngx-node: uncaught exception: Error: boom in a timer/);
        await nginx.waitForLog(/\[error\] .*ngx-node: unhandled promise rejection: Error: nobody handles this/);
        await sleep(50);
        assert.equal((await request(nginx.url('/pid'))).text, pid);
    });

    it('leaves a node_set variable empty when its function fails', async () => {
        assert.equal((await request(nginx.url('/throwing-var'))).text, '[]');
        await nginx.waitForLog(/node_set "main.setThrows" failed: Error: variable boom/);
        assert.equal((await request(nginx.url('/promise-var'))).text, '[]');
        await nginx.waitForLog(/\[warn\] .*node_set "main.returnsPromiseToSet" returned a Promise; the variable is empty\. Make it an async function to have it awaited before the access phase/);
    });
});

describe('logging while the runtime starts', () => {
    it('logs exceptions and rejections of top-level code before the first request', async () => {
        const nginx = await Nginx.start({
            http: 'node_import early from early.mjs;',
            server: 'location / { node_content early.hello; }',
            files: {
                'conf/early.mjs': 'Promise.reject(new Error("rejected at the top level"));\n' +
                    'setTimeout(() => { throw new Error("thrown in an early timer"); }, 0);\n' +
                    'console.warn("said at the top level");\n' +
                    'export function hello(r) { r.return(200, "hi\\n"); }\n',
            },
        });
        try {
            await nginx.waitForLog(/\[error\] .*ngx-node: unhandled promise rejection: Error: rejected at the top level/);
            await nginx.waitForLog(/\[error\] .*ngx-node: uncaught exception: Error: thrown in an early timer/);
            await nginx.waitForLog(/\[warn\] .*said at the top level/);
            assert.equal((await request(nginx.url('/'))).text, 'hi\n');
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });
});

describe('process.exit() in a handler', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            workers: 2,
            listen: 'reuseport',
            http: `node_import main from ${fixture('errors.mjs')};`,
            server: `
        location /exit { node_content main.exits; }
        location /slow { node_content main.slow; }
        location /pid { node_content main.pid; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('ends that worker cleanly, nginx starts another, other requests go on', async () => {
        const workersBefore = nginx.workerPids();
        assert.equal(workersBefore.length, 2);
        const slow = Array.from({ length: 20 }, () => request(nginx.url('/slow')));
        await sleep(50);
        const exit = await request(nginx.url('/exit'));
        assert.equal(exit.status, 500);
        const exitLine = await nginx.waitForLog(/\[notice\] (\d+)#\d+: ngx-node: process.exit\(3\) was called/);
        const exitedPid = Number(/\] (\d+)#/.exec(exitLine)?.[1]);
        assert.ok(workersBefore.includes(exitedPid));
        await nginx.waitForLog(new RegExp(`worker process ${exitedPid} exited with code 0`));

        // requests pending in the exiting worker get 500; the other worker's are unaffected
        const replies = await Promise.all(slow);
        const otherPid = workersBefore.find((pid) => pid !== exitedPid);
        for (const reply of replies) {
            assert.ok(reply.status === 500 || reply.text === `slow pid ${otherPid}\n`, `${reply.status} ${reply.text}`);
        }
        assert.ok(replies.some((reply) => reply.status === 200), 'the other worker answered');

        await sleep(300);
        const workersAfter = nginx.workerPids();
        assert.equal(workersAfter.length, 2);
        assert.ok(!workersAfter.includes(exitedPid), 'a new worker replaced the one that exited');
        for (let i = 0; i < 4; i++) assert.equal((await request(nginx.url('/pid'))).status, 200);
    });
});
