/**
 * A module written for njs runs under ngx-node after renaming js_ to node_ in nginx.conf:
 * the same requests go to nginx with njs (Debian's libnginx-mod-http-js) and to nginx with
 * ngx-node, and the answers must match. The one addition on the ngx-node side is
 * `node_read_request_body on;` (docs/njs-compat.md: njs reads the body before js_content).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { Reply, request } from './harness/http';
import { Nginx, workerUser } from './harness/nginx';
import { fixture, MODULE } from './harness/paths';
import { Upstream, upstream } from './harness/upstream';

const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

function compatConf(engine: 'njs' | 'node', port: number, backendPort: number): string {
    let server = readFileSync(fixture('njs-compat/server.conf'), 'utf8')
        .replaceAll('BACKEND_PORT', String(backendPort))
        .replace('PORT', String(port));
    if (engine === 'node') server = server.replace(/\bjs_/g, 'node_');
    return `${engine === 'njs' ? `load_module ${NJS_MODULE};` : `load_module ${MODULE};`}
${workerUser()}
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    ${engine === 'node' ? 'node_read_request_body on;' : ''}
    ${server}
}
`;
}

describe('njs compatibility', () => {
    const servers: Record<'njs' | 'node', Nginx | undefined> = { njs: undefined, node: undefined };
    let backend: Upstream;

    before(async () => {
        backend = await upstream((req, res) => {
            res.setHeader('Content-Type', 'text/plain');
            res.end(req.url === '/data' ? 'DATA from the backend' : 'UPSTREAM BODY IN CAPITALS');
        });
        const scripts = Object.fromEntries(readdirSync(fixture('njs-compat')).filter((name) => name.endsWith('.js'))
            .map((name) => [`conf/njs-compat/${name}`, readFileSync(fixture(`njs-compat/${name}`), 'utf8')]));
        for (const engine of ['njs', 'node'] as const) {
            servers[engine] = await Nginx.start({
                conf: (port) => compatConf(engine, port, backend.port),
                files: scripts,
            });
        }
    });

    after(async () => {
        await backend?.close();
        const troubles = servers.node?.troubles();
        await servers.njs?.destroy();
        await servers.node?.destroy();
        assert.deepEqual(troubles, []);
    });

    /** The answer without what differs by nature (the port in Host). */
    function normalised(reply: Reply, engine: 'njs' | 'node'): string {
        const port = String(servers[engine]?.port);
        const headers = ['content-type', 'x-filtered', 'set-cookie', 'location', 'x-arr', 'x-empty', 'x-gone',
            'x-def', 'x-def-full', 'x-late', 'x-number', 'x-from-parent']
            .map((name) => `${name}: ${JSON.stringify(reply.headers[name])}`)
            .join('\n');
        return `${reply.status}\n${headers}\n${reply.text}`.replaceAll(port, 'PORT');
    }

    async function both(path: string, options: Parameters<typeof request>[1] = {}): Promise<[string, string]> {
        const answers: string[] = [];
        for (const engine of ['njs', 'node'] as const) {
            answers.push(normalised(await request(servers[engine]!.url(path), options), engine));
        }
        return [answers[0], answers[1]];
    }

    const cases: [string, string, Parameters<typeof request>[1]?][] = [
        ['content handler', '/hello'],
        ['the request: method, version, args, headers, raw headers, address, Set-Cookie', '/summary?a=1&a=2&b=x%20y', { headers: { 'X-Multi': ['one', 'two'] } }],
        ['the request body (r.requestText)', '/echo', { method: 'POST', body: 'posted text' }],
        ['the crypto and querystring modules', '/digest?text=abc'],
        ['ngx.fetch() with callbacks, not awaited', '/fetched'],
        ['subrequests, joined', '/joined'],
        ['an async content handler', '/later'],
        ['a response in parts, ended from a timer', '/streaming'],
        ['internalRedirect', '/redirect'],
        ['js_set and js_var, and writing a variable', '/var'],
        ['ngx and r logging', '/logs'],
        ['an error status with error_page', '/not-found'],
        ['header and body filters on a proxied response', '/filtered/page'],
        ['a handler named module.object.function', '/nested'],
        ['js_import per block: one name, another file in each location', '/scoped/a'],
        ['js_import per block: the other location; a bare import found in js_path', '/scoped/b'],
        ['js_import per block: a nested location sees its block\'s import', '/scoped/outer/inner'],
        ['js_import per block: a nested location sees the http level\'s import', '/scoped/outer/main'],
        ['response headers: arrays with empty elements, empty values, Object.defineProperty, order', '/headers-out'],
        ['repeated request headers: the single-valued ones give the first', '/headers-in', { headers: {
            ETag: ['"e1"', '"e2"'], 'User-Agent': ['u1', 'u2'], Referer: ['http://r1/', 'http://r2/'],
            From: ['f1@example.test', 'f2@example.test'], 'Content-Type': ['text/one', 'text/two'],
            'Max-Forwards': ['1', '2'], 'Proxy-Authorization': ['Basic YTpi', 'Basic Yzpk'],
            'X-Dup': ['d1', 'd2'], Accept: ['a/1', 'a/2'], Range: ['bytes=1-2', 'bytes=3-4'], Via: ['v1', 'v2'],
            Cookie: ['c1=1', 'c2=2'],
        } }],
        ['r.toString(), the crypto global (WebCrypto), a js_var without a value', '/objects'],
        ['the parent responds from a subrequest callback (reply.parent is r)', '/parent-responds'],
        ['the parent sends in parts from a subrequest callback', '/parent-sends'],
        ['a subrequest made from a timer', '/from-timer'],
        ['JSON.stringify() of a subrequest reply', '/reply-json'],
    ];

    for (const [what, path, options] of cases) {
        it(what, async () => {
            const [njs, node] = await both(path, options);
            assert.equal(node, njs);
            assert.doesNotMatch(njs, /^5\d\d/, 'the script works under njs itself');
        });
    }

    it('logs the same lines', async () => {
        for (const engine of ['njs', 'node'] as const) {
            const log = servers[engine]!.errorLog();
            // both write what a script logs as "js: ..." (the connection's number before it)
            for (const line of [/\[info\] \d+#\d+: \*\d+ js: compat info/, /\[warn\] \d+#\d+: \*\d+ js: compat warn/,
                /\[error\] \d+#\d+: \*\d+ js: compat error/, /\[error\] \d+#\d+: (\*\d+ )?js: compat ngx\.log/]) {
                assert.match(log, line, `${engine}: ${line}`);
            }
        }
    });
});
