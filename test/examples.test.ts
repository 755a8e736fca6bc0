/** examples/: the demo configuration and its handlers (echo, the key=value access log). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, sleep, workerUser } from './harness/nginx';
import { MODULE, ROOT } from './harness/paths';
import { libnodeVersion } from './harness/versions';

/** examples/nginx.conf with its port, module path and demo directory moved into the test's prefix. */
function exampleConf(port: number): string {
    return `${workerUser()}\n` + readFileSync(join(ROOT, 'examples', 'nginx.conf'), 'utf8')
        .replace('load_module build/ngx_http_node_module.so;', `load_module ${MODULE};`)
        .replaceAll('build/demo/', 'logs/')
        .replace('127.0.0.1:8080', `127.0.0.1:${port}`)
        .replace('node_import main from main.ts;', `node_import main from ${join(ROOT, 'examples', 'main.ts')};`);
}

describe('examples', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({ conf: exampleConf });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('echoes the request body byte for byte', async () => {
        const body = Buffer.concat([Buffer.from('binary\0body '), Buffer.from([0xff, 0xfe, 0x00, 0x01])]);
        const reply = await request(nginx.url('/echo'), { body, headers: { 'Content-Type': 'application/x-test' } });
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['content-type'], 'application/x-test');
        assert.deepEqual(reply.body, body);
    });

    it('says hello after an asynchronous wait', async () => {
        const reply = await request(nginx.url('/hello?ms=20'));
        assert.equal(reply.text.replace(/worker \d+/, 'worker N'), `Hello from Node.js v${libnodeVersion()} in nginx worker N after 20 ms\n`);
    });

    it('writes the key=value access log, quoting values with spaces', async () => {
        await request(nginx.url('/echo?x=1'), {
            body: 'hi', headers: { 'Content-Type': 'text/plain', 'User-Agent': 'test agent "quoted"' },
        });
        await sleep(100);
        const lines = readFileSync(nginx.path('logs/access.log'), 'utf8').trim().split('\n');
        const line = lines.find((l) => l.includes('uri=/echo?x=1'));
        assert.ok(line, lines.join('\n'));
        assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d client=127\.0\.0\.1 method=POST uri=\/echo\?x=1 status=200 /);
        assert.match(line, new RegExp(` req\\.Host=127\\.0\\.0\\.1:${nginx.port}( |$)`));
        assert.match(line, / req\.User-Agent="test agent \\"quoted\\""( |$)/);
        assert.match(line, / req\.Content-Type=text\/plain( |$)/);
        assert.match(line, / res\.Content-Type=text\/plain( |$)/);
        assert.match(line, / res\.Content-Length=2( |$)/);
    });
});
