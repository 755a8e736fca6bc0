/**
 * A module written for njs runs under ngx-node after renaming js_ to node_ in nginx.conf:
 * the same requests go to nginx with njs (Debian's libnginx-mod-http-js) and to nginx with
 * ngx-node, and the answers must match. The one addition on the ngx-node side is
 * `node_read_request_body on;` (docs/njs-compat.md: njs reads the body before js_content).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { Reply, request } from './harness/http';
import { dnsServer, DnsServer } from './harness/dns';
import { httpsPeer, Peer } from './harness/https';
import { freePort, Nginx, workerUser } from './harness/nginx';
import { fixture, MODULE } from './harness/paths';
import { makePki, TEST_HOST, TestPki } from './harness/pki';
import { Upstream, upstream } from './harness/upstream';

const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

function compatConf(engine: 'njs' | 'node', port: number, peers: Peers): string {
    let server = readFileSync(fixture('njs-compat/server.conf'), 'utf8')
        .replaceAll('BACKEND_PORT', String(peers.backend.port))
        .replaceAll('DNS_PORT', String(peers.dns.port))
        .replaceAll('CA_FILE', peers.pki.caFile)
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

/** What the scripts talk to: an HTTP backend, HTTPS servers, a DNS server for "resolver" */
interface Peers {
    backend: Upstream;
    pki: TestPki;
    dns: DnsServer;
    /** certificates signed by the test's CA, directly and through an intermediate; not */
    secure: Peer;
    chained: Peer;
    stranger: Peer;
}

function backendAnswer(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Content-Type', 'text/plain');
    if (req.url === '/hang') return;
    if (req.url === '/redirect') {
        res.writeHead(302, { Location: '/data' });
        res.end();
        return;
    }
    res.end(req.url === '/data' ? 'DATA from the backend' : 'UPSTREAM BODY IN CAPITALS');
}

describe('njs compatibility', () => {
    const servers: Record<'njs' | 'node', Nginx | undefined> = { njs: undefined, node: undefined };
    let peers: Peers;

    before(async () => {
        const pki = makePki();
        peers = {
            backend: await upstream(backendAnswer),
            pki,
            dns: await dnsServer({ [TEST_HOST]: '127.0.0.1' }),
            secure: await httpsPeer(pki.server),
            chained: await httpsPeer(pki.chained),
            stranger: await httpsPeer(pki.stranger),
        };
        const scripts = Object.fromEntries(readdirSync(fixture('njs-compat')).filter((name) => name.endsWith('.js'))
            .map((name) => [`conf/njs-compat/${name}`, readFileSync(fixture(`njs-compat/${name}`), 'utf8')]));
        for (const engine of ['njs', 'node'] as const) {
            servers[engine] = await Nginx.start({
                conf: (port) => compatConf(engine, port, peers),
                files: scripts,
            });
        }
    });

    after(async () => {
        await Promise.all([peers?.backend, peers?.dns, peers?.secure, peers?.chained, peers?.stranger].map((peer) => peer?.close()));
        peers?.pki.remove();
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

    /** ngx.fetch of url from a location, with options */
    function fetching(location: string, url: string, options?: object): string {
        return `${location}?${new URLSearchParams({ url, ...(options === undefined ? {} : { options: JSON.stringify(options) }) })}`;
    }

    const fetchCases: [string, () => string, string][] = [
        ['js_fetch_trusted_certificate: the CA is trusted',
            () => fetching('/fetch-trusted', `https://${TEST_HOST}:${peers.secure.port}/x`), '200 secure /x'],
        ['without it, the test CA is not',
            () => fetching('/fetch', `https://${TEST_HOST}:${peers.secure.port}/x`), 'failed: connect failed'],
        ['js_fetch_verify off',
            () => fetching('/fetch-unverified', `https://${TEST_HOST}:${peers.stranger.port}/x`), '200 secure /x'],
        ['the verify option',
            () => fetching('/fetch', `https://${TEST_HOST}:${peers.stranger.port}/y`, { verify: false }), '200 secure /y'],
        ['js_fetch_verify_depth 1: an intermediate CA',
            () => fetching('/fetch-depth1', `https://${TEST_HOST}:${peers.chained.port}/c`), '200 secure /c'],
        ['js_fetch_verify_depth 0: no intermediate CA',
            () => fetching('/fetch-depth0', `https://${TEST_HOST}:${peers.chained.port}/c`), 'failed: connect failed'],
        ['js_fetch_verify_depth 0: signed by the CA itself',
            () => fetching('/fetch-depth0', `https://${TEST_HOST}:${peers.secure.port}/d`), '200 secure /d'],
        ['js_fetch_timeout: a server that never answers',
            () => fetching('/fetch-timeout', `http://127.0.0.1:${peers.backend.port}/hang`), 'failed: read timed out'],
        ['js_fetch_max_response_buffer_size',
            () => fetching('/fetch-small', `http://127.0.0.1:${peers.backend.port}/data`), 'failed: too large'],
        ['the max_response_body_size option',
            () => fetching('/fetch', `http://127.0.0.1:${peers.backend.port}/data`, { max_response_body_size: 10 }), 'failed: too large'],
        ['a redirect is the response',
            () => fetching('/fetch', `http://127.0.0.1:${peers.backend.port}/redirect`), '302 '],
        ['names resolved with resolver',
            () => fetching('/fetch', `http://${TEST_HOST}:${peers.backend.port}/data`), '200 DATA from the backend'],
        ['a name resolver does not know',
            () => fetching('/fetch', `http://missing.test:${peers.backend.port}/data`), 'failed: could not be resolved'],
    ];

    for (const [what, path, expected] of fetchCases) {
        it(`ngx.fetch: ${what}`, async () => {
            const [njs, node] = await both(path());
            assert.equal(node, njs);
            const [status, contentType, ...rest] = njs.split('\n');
            assert.deepEqual([status, contentType, rest.at(-2), rest.at(-1)], ['200', 'content-type: "text/plain"', expected, '']);
        });
    }

    it('ngx.fetch: a refused connection', async () => {
        const [njs, node] = await both(fetching('/fetch', `http://127.0.0.1:${await freePort()}/`));
        assert.equal(node, njs);
        assert.match(njs, /failed: connect failed\n$/);
    });

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
