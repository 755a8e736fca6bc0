/**
 * A stream module written for njs runs under ngx-node after renaming js_ to node_: the same
 * sessions go to nginx with njs's stream module (Debian's libnginx-mod-stream-js) and to nginx
 * with ngx-node's, and what comes back must match.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { freePort, Nginx, workerUser } from './harness/nginx';
import { fixture, NGINX_STREAM_MODULE, STREAM_MODULE } from './harness/paths';
import { echoServer, tcpExchange, TcpServer } from './harness/tcp';

const NJS_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_js_module.so';

function streamConf(engine: 'njs' | 'node', ports: number[], echoPort: number): string {
    const stream = `
    js_import main from njs-compat/stream.js;
    js_var $greeting;
    js_set $greeting_line main.greeting;
    server { listen 127.0.0.1:${ports[0]}; js_access main.access; js_preread main.preread; return "$greeting_line\\n"; }
    server { listen 127.0.0.1:${ports[1]}; js_filter main.filter; proxy_pass 127.0.0.1:${echoPort}; }
    server { listen 127.0.0.1:${ports[2]}; js_filter main.bytes; proxy_pass 127.0.0.1:${echoPort}; }
    server {
        listen 127.0.0.1:${ports[3]};
        js_import helper from njs-compat/stream-helper-a.js;
        js_set $helper_a helper.variables.line;
        return "$helper_a\n";
    }
    server {
        listen 127.0.0.1:${ports[4]};
        js_import helper from njs-compat/stream-helper-b.js;
        js_set $helper_b helper.variables.line;
        return "$helper_b\n";
    }`;
    return `load_module ${NGINX_STREAM_MODULE};
load_module ${engine === 'njs' ? NJS_STREAM_MODULE : STREAM_MODULE};
${workerUser()}
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
stream {
${engine === 'node' ? stream.replace(/\bjs_/g, 'node_') : stream}
}
`;
}

describe('njs stream compatibility', () => {
    const servers: Partial<Record<'njs' | 'node', Nginx>> = {};
    const ports: Partial<Record<'njs' | 'node', number[]>> = {};
    let echo: TcpServer;

    before(async () => {
        echo = await echoServer();
        const scripts = Object.fromEntries(readdirSync(fixture('njs-compat')).filter((name) => /^stream.*\.js$/.test(name))
            .map((name) => [`conf/njs-compat/${name}`, readFileSync(fixture(`njs-compat/${name}`), 'utf8')]));
        for (const engine of ['njs', 'node'] as const) {
            // the harness waits for the port it gives the configuration: the first server's
            const others: number[] = [];
            while (others.length < 4) others.push(await freePort());
            servers[engine] = await Nginx.start({
                conf: (port) => {
                    ports[engine] = [port, ...others];
                    return streamConf(engine, ports[engine]!, echo.port);
                },
                files: scripts,
            });
        }
    });

    after(async () => {
        await echo?.close();
        const troubles = servers.node?.troubles();
        await servers.njs?.destroy();
        await servers.node?.destroy();
        assert.deepEqual(troubles, []);
    });

    /** The same session against both: the answers, as text. */
    async function both(server: number, parts: (string | Buffer)[], endAfterMs?: number): Promise<[string, string]> {
        const answers: string[] = [];
        for (const engine of ['njs', 'node'] as const) {
            const reply = await tcpExchange(ports[engine]![server], parts, { gapMs: 30, endAfterMs });
            answers.push(reply.data.toString('latin1'));
        }
        return answers as [string, string];
    }

    it('access, preread with an upload callback, js_var and js_set', async () => {
        const [njs, node] = await both(0, ['hel', 'lo\n']);
        assert.equal(node, njs);
        assert.equal(node, 'greeting=hello from 127.0.0.1\n');
    });

    it('a denied session', async () => {
        const [njs, node] = await both(0, ['deny me\n']);
        assert.equal(node, njs);
        assert.equal(node, '');
    });

    it('a filter rewriting text both ways', async () => {
        const [njs, node] = await both(1, ['abc', 'def'], 300);
        assert.equal(node, njs);
        assert.equal(node, '[ABC][DEF]');
    });

    it('js_import per server, a handler named module.object.function', async () => {
        const [njsA, nodeA] = await both(3, []);
        assert.equal(nodeA, njsA);
        assert.equal(nodeA, 'helper a for 127.0.0.1\n');
        const [njsB, nodeB] = await both(4, []);
        assert.equal(nodeB, njsB);
        assert.equal(nodeB, 'helper b for 127.0.0.1\n');
    });

    it('a filter of Buffers', async () => {
        const [njs, node] = await both(2, [Buffer.from([1, 2, 3])], 300);
        assert.equal(node, njs);
    });
});
