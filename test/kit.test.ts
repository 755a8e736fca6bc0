/**
 * ngx-node/testing with a whole configuration file, as a handler project uses it: listens moved
 * to free loopback ports, line numbers kept in nginx's messages, a start that fails rejects
 * with the error_log, reload() applies the file's changes, the copy goes away.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';

import { startNginx } from 'ngx-node/testing';

const dir = mkdtempSync(join(tmpdir(), 'ngx-node-kit-'));
chmodSync(dir, 0o755);
mkdirSync(join(dir, 'src'), { mode: 0o755 });

const handlers = (greeting: string) => `
export function hello(r) { r.return(200, '${greeting} ' + r.variables.server_port_name + '\\n'); }
export function name(r) { return r.headersIn['x-name'] ?? 'nobody'; }
`;

const conf = (extra = '') => `# a handler project's nginx.conf
error_log /var/log/nginx/not-this-one.log warn;
pid /run/not-this-one.pid;

events {}

http {
    node_import main from src/main.mjs;
    node_set $who main.name;
    server {
        listen 8080;
        listen [::]:8080;
        set $server_port_name first;
        location / { node_content main.hello; }
    }
    server {
        listen 127.0.0.1:8081 default_server;
        set $server_port_name second;
        location / { node_content main.hello; }
        location /who { return 200 "$who\\n"; }
${extra}
    }
}
`;

describe('ngx-node/testing with a configuration file', () => {
    after(() => rmSync(dir, { recursive: true, force: true }));
    const copies = () => readdirSync(dir).filter((name) => name.includes('ngx-node-test'));

    it('moves each listen to a free port and runs the file\'s handlers', async () => {
        writeFileSync(join(dir, 'src', 'main.mjs'), handlers('hello from'));
        writeFileSync(join(dir, 'nginx.conf'), conf());
        const nginx = await startNginx(pathToFileURL(join(dir, 'nginx.conf')));
        try {
            assert.deepEqual([...nginx.ports.keys()], ['8080', '127.0.0.1:8081']);
            assert.notEqual(nginx.ports.get('8080'), 8080);
            assert.equal(nginx.url('/x'), `http://127.0.0.1:${nginx.ports.get('8080')}/x`);
            assert.equal((await nginx.request('/')).text, 'hello from first\n');
            assert.equal((await nginx.request(nginx.url('/', '127.0.0.1:8081'))).text, 'hello from second\n');
            assert.equal((await nginx.request(nginx.url('/who', '127.0.0.1:8081'), { headers: { 'X-Name': 'kit' } })).text, 'kit\n');
            // the error_log is the prefix's
            assert.match(nginx.errorLog(), /ngx-node: Node\.js started/);
            assert.deepEqual(nginx.troubles(), []);
            assert.equal(copies().length, 1);

            // reload() takes the file's changes, on the same ports
            writeFileSync(join(dir, 'src', 'main.mjs'), handlers('reloaded'));
            writeFileSync(join(dir, 'nginx.conf'), conf('        location /new { return 200 "new\\n"; }'));
            const port = nginx.ports.get('127.0.0.1:8081');
            await nginx.reload();
            assert.equal(nginx.ports.get('127.0.0.1:8081'), port);
            assert.equal((await nginx.request(nginx.url('/new', '127.0.0.1:8081'))).text, 'new\n');
            assert.equal((await nginx.request('/')).text, 'reloaded first\n');
        } finally {
            await nginx.stop();
        }
        assert.deepEqual(copies(), []);
    });

    it('rejects with nginx\'s messages, naming the file and its lines, when nginx does not start', async () => {
        writeFileSync(join(dir, 'src', 'main.mjs'), 'export function hello(r) {\n');
        writeFileSync(join(dir, 'nginx.conf'), conf());
        await assert.rejects(startNginx({ conf: join(dir, 'nginx.conf') }), (error: Error) => {
            assert.match(error.message, /node_import "main" from ".*src\/main\.mjs" failed: SyntaxError/);
            // line 8 of the file itself, not of its copy
            assert.match(error.message, new RegExp(`in ${join(dir, 'nginx.conf').replace(/[.]/g, '\\.')}:8`));
            return true;
        });
        assert.deepEqual(copies(), []);
    });
});
