/**
 * ngx.fetch and the node_fetch_* directives, against real peers on loopback: an HTTP
 * upstream, HTTPS servers with certificates of the test's own CA, a forward proxy, a DNS
 * server for nginx's resolver. http locations and stream servers follow their own settings;
 * Node's global fetch follows none. nginx -t checks the directives' values.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { dnsServer, DnsServer } from './harness/dns';
import { request } from './harness/http';
import { httpsPeer, Peer } from './harness/https';
import { freePort, Nginx, NginxOptions, sleep } from './harness/nginx';
import { fixture } from './harness/paths';
import { makePki, TEST_HOST, TestPki } from './harness/pki';
import { forwardProxy, Proxy } from './harness/proxy';
import { Upstream, upstream } from './harness/upstream';

interface Result {
    status?: number;
    body?: string;
    url?: string;
    headers?: Record<string, string>;
    cookies?: string[];
    isResponse?: boolean;
    error?: string;
    message?: string;
}

/**
 * Answers with the client's port (one per connection) and its Connection header; keeps idle
 * connections longer than the test lasts (a server that says "Keep-Alive: timeout=1" gets
 * no second request on a connection: undici keeps a second's margin).
 */
async function connectionPeer(): Promise<Peer> {
    const server = createHttpServer((req, res) => res.end(`${req.socket.remotePort} ${req.headers.connection ?? ''}`));
    server.keepAliveTimeout = 60000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return {
        port: typeof address === 'object' && address ? address.port : 0,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

/** The upstream's answers, by path */
function upstreamAnswer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://upstream');
    switch (url.pathname) {
        case '/data':
            res.setHeader('Content-Type', 'text/plain');
            res.setHeader('Set-Cookie', ['a=1', 'b=2']);
            res.end('DATA');
            return;
        case '/echo':
            res.setHeader('Content-Type', 'application/json');
            res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString('utf8') }));
            return;
        case '/big':
            res.setHeader('Content-Length', 4096);
            res.end('x'.repeat(4096));
            return;
        case '/big-chunked':
            res.write('x'.repeat(2048));
            res.end('x'.repeat(2048));
            return;
        case '/big-header':
            res.setHeader('X-Big', 'h'.repeat(4096));
            res.end('ok');
            return;
        case '/redirect':
            res.writeHead(302, { Location: '/data' });
            res.end();
            return;
        case '/hang':
            // never answers
            return;
        default:
            res.statusCode = 404;
            res.end('not here');
    }
}

describe('ngx.fetch', () => {
    let pki: TestPki;
    let backend: Upstream;
    let secure: Peer;
    let chained: Peer;
    let stranger: Peer;
    let tls12: Peer;
    let oneCipher: Peer;
    let connections: Peer;
    let proxy: Proxy;
    let dns: DnsServer;
    let nginx: Nginx;

    before(async () => {
        pki = makePki();
        backend = await upstream(upstreamAnswer);
        secure = await httpsPeer(pki.server);
        chained = await httpsPeer(pki.chained);
        stranger = await httpsPeer(pki.stranger);
        tls12 = await httpsPeer({ ...pki.server, maxVersion: 'TLSv1.2' });
        oneCipher = await httpsPeer({ ...pki.server, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
        connections = await connectionPeer();
        proxy = await forwardProxy();
        dns = await dnsServer({ [TEST_HOST]: '127.0.0.1' });
        const ca = pki.caFile;
        nginx = await Nginx.start({
            workers: 1,
            http: `
    node_import f from ${fixture('fetch.mjs')};
    node_shared_dict_zone zone=results:64k;`,
            server: `
        location /get { node_content f.get; }
        location /later { node_content f.later; }
        location /aborted { node_content f.aborted; }
        location /form { node_content f.form; }
        location /trusted { node_fetch_trusted_certificate ${ca}; node_content f.get; }
        location /global { node_fetch_trusted_certificate ${ca}; node_content f.viaGlobal; }
        location /unverified { node_fetch_verify off; node_content f.get; }
        location /unverified-later { node_fetch_verify off; node_content f.later; }
        location /depth0 { node_fetch_trusted_certificate ${ca}; node_fetch_verify_depth 0; node_content f.get; }
        location /depth1 { node_fetch_trusted_certificate ${ca}; node_fetch_verify_depth 1; node_content f.get; }
        location /tls13 { node_fetch_trusted_certificate ${ca}; node_fetch_protocols TLSv1.3; node_content f.get; }
        location /cipher {
            node_fetch_trusted_certificate ${ca};
            node_fetch_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305;
            node_content f.get;
        }
        location /timeout { node_fetch_timeout 1s; node_content f.get; }
        location /small { node_fetch_max_response_buffer_size 1k; node_fetch_buffer_size 1k; node_content f.get; }
        location /proxied {
            node_fetch_proxy http://user:se%40cret@127.0.0.1:${proxy.port};
            node_fetch_trusted_certificate ${ca};
            node_content f.get;
        }
        location /proxied-anonymous {
            node_fetch_proxy http://127.0.0.1:${proxy.port};
            node_fetch_trusted_certificate ${ca};
            node_content f.get;
        }
        location /resolved { resolver 127.0.0.1:${dns.port} ipv6=off; resolver_timeout 5s; node_content f.get; }
        location /keepalive { node_fetch_keepalive 4; node_fetch_keepalive_requests 2; node_content f.get; }
        location /idle { node_fetch_keepalive 4; node_fetch_keepalive_timeout 1s; node_content f.get; }
        location /renewed { node_fetch_keepalive 4; node_fetch_keepalive_time 1s; node_content f.get; }
        location /results { node_content f.results; }
        location @tick {
            node_fetch_trusted_certificate ${ca};
            node_var $target https://127.0.0.1:${secure.port}/tick;
            node_periodic f.tick interval=300ms;
        }`,
            stream: (ports) => `
    node_import f from ${fixture('fetch.mjs')};
    server {
        listen 127.0.0.1:${ports[0]};
        node_fetch_trusted_certificate ${ca};
        node_var $target https://127.0.0.1:${secure.port}/stream;
        node_set $answer f.streamFetch;
        return $answer;
    }
    server {
        listen 127.0.0.1:${ports[1]};
        node_var $target https://127.0.0.1:${secure.port}/stream;
        node_set $answer f.streamFetch;
        return $answer;
    }`,
            streamPorts: 2,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        await Promise.all([backend, secure, chained, stranger, tls12, oneCipher, connections, proxy, dns].map((peer) => peer?.close()));
        pki?.remove();
        assert.deepEqual(troubles, []);
    });

    async function fetched(location: string, url: string, options?: object): Promise<Result> {
        const query = new URLSearchParams({ url, ...(options === undefined ? {} : { options: JSON.stringify(options) }) });
        const reply = await request(nginx.url(`${location}?${query}`));
        assert.equal(reply.status, 200, reply.text);
        return JSON.parse(reply.text) as Result;
    }

    const plain = (path: string) => `http://127.0.0.1:${backend.port}${path}`;

    it('fetches: the whole response, a Response, with its url', async () => {
        const result = await fetched('/get', plain('/data'));
        assert.deepEqual([result.status, result.body, result.url, result.isResponse], [200, 'DATA', plain('/data'), true]);
        assert.equal(result.headers?.['content-type'], 'text/plain');
        assert.deepEqual(result.cookies, ['a=1', 'b=2'], 'njs\'s Headers.getAll()');
    });

    it('sends method, headers and body as given (njs: no Content-Type of its own)', async () => {
        const result = await fetched('/get', plain('/echo'), { method: 'PUT', headers: { 'X-One': '1', Host: 'example.test' }, body: 'payload' });
        const echo = JSON.parse(result.body ?? '') as { method: string; headers: Record<string, string>; body: string };
        assert.equal(echo.method, 'PUT');
        assert.equal(echo.body, 'payload');
        assert.equal(echo.headers['x-one'], '1');
        assert.equal(echo.headers.host, 'example.test');
        assert.equal(echo.headers['content-type'], undefined);
        assert.equal(echo.headers.connection, 'close', 'no keep-alive by default, as in njs');
    });

    it('encodes form fields as fetch() does', async () => {
        const result = await fetched('/form', plain('/echo'));
        const echo = JSON.parse(result.body ?? '') as { headers: Record<string, string>; body: string };
        assert.equal(echo.body, 'a=1&b=x+y');
        assert.match(echo.headers['content-type'], /^application\/x-www-form-urlencoded/);
    });

    it('does not follow redirects unless asked (njs does not)', async () => {
        const manual = await fetched('/get', plain('/redirect'));
        assert.deepEqual([manual.status, manual.headers?.location], [302, '/data']);
        const followed = await fetched('/get', plain('/redirect'), { redirect: 'follow' });
        assert.deepEqual([followed.status, followed.body], [200, 'DATA']);
        const refused = await fetched('/get', plain('/redirect'), { redirect: 'error' });
        assert.equal(refused.error, 'TypeError');
    });

    it('rejects, naming what happened: a refused connection', async () => {
        const closed = await freePort();   // nothing listens there
        const result = await fetched('/get', `http://127.0.0.1:${closed}/`);
        assert.equal(result.error, 'Error');
        assert.equal(result.message, `connect failed: 127.0.0.1:${closed} refused the connection`);
    });

    it('rejects a URL that is not http(s), and bad options, with a TypeError', async () => {
        assert.deepEqual(await fetched('/get', 'ftp://127.0.0.1/'), {
            error: 'TypeError', message: 'ngx.fetch(): unsupported URL scheme "ftp:": http:// and https:// only',
        });
        assert.equal((await fetched('/get', plain('/data'), { buffer_size: 'big' })).error, 'TypeError');
        assert.equal((await fetched('/get', plain('/data'), { headers: { 'X-Bad': 'a\rb' } })).error, 'TypeError');
    });

    it('node_fetch_timeout: a server that never answers', async () => {
        const result = await fetched('/timeout', plain('/hang'));
        assert.equal(result.error, 'Error');
        assert.equal(result.message, `read timed out: no response from 127.0.0.1:${backend.port} within 1s (node_fetch_timeout)`);
    });

    it('a signal aborts the fetch with its reason', async () => {
        const reply = await request(nginx.url(`/aborted?${new URLSearchParams({ url: plain('/hang'), ms: '300' })}`));
        const result = JSON.parse(reply.text) as Result;
        assert.equal(result.error, 'TimeoutError');
    });

    it('node_fetch_max_response_buffer_size: by Content-Length, and counted', async () => {
        const told = await fetched('/small', plain('/big'));
        assert.equal(told.message, 'http content length is too large: 4096 bytes, more than the 1024 that ' +
            'max_response_body_size (node_fetch_max_response_buffer_size) allows');
        const counted = await fetched('/small', plain('/big-chunked'));
        assert.equal(counted.message, 'http response body is too large: more than the 1024 bytes that ' +
            'max_response_body_size (node_fetch_max_response_buffer_size) allows');
        const allowed = await fetched('/small', plain('/big'), { max_response_body_size: 8192 });
        assert.equal(allowed.body?.length, 4096);
        const limited = await fetched('/get', plain('/big'), { max_response_body_size: 100 });
        assert.match(limited.message ?? '', /^http content length is too large: 4096 bytes, more than the 100 /);
    });

    it('node_fetch_buffer_size bounds the response header (and the buffer_size option)', async () => {
        const refused = await fetched('/small', plain('/big-header'));
        assert.match(refused.message ?? '', /^http response header is too large: more than the 1024 bytes/);
        const allowed = await fetched('/small', plain('/big-header'), { buffer_size: 16384 });
        assert.equal(allowed.body, 'ok');
    });

    it('https: the server\'s certificate must verify (Node\'s CAs do not know the test CA)', async () => {
        const result = await fetched('/get', `https://127.0.0.1:${secure.port}/`);
        assert.equal(result.error, 'Error');
        assert.match(result.message ?? '', new RegExp(`^connect failed: the certificate of 127\\.0\\.0\\.1:${secure.port} did not verify: .*node_fetch_trusted_certificate`));
    });

    it('node_fetch_trusted_certificate: its CA is trusted', async () => {
        const result = await fetched('/trusted', `https://127.0.0.1:${secure.port}/hello`);
        assert.deepEqual([result.status, result.body], [200, 'secure /hello']);
        const other = await fetched('/trusted', `https://127.0.0.1:${stranger.port}/`);
        assert.match(other.message ?? '', /^connect failed: the certificate of .* did not verify/);
        const byName = await fetched('/trusted', `https://localhost:${secure.port}/`);
        assert.equal(byName.status, 200, 'localhost is one of its names');
    });

    it('node_fetch_verify off, and the verify option', async () => {
        const result = await fetched('/unverified', `https://127.0.0.1:${stranger.port}/x`);
        assert.deepEqual([result.status, result.body], [200, 'secure /x']);
        const option = await fetched('/get', `https://127.0.0.1:${stranger.port}/y`, { verify: false });
        assert.equal(option.body, 'secure /y');
        const back = await fetched('/unverified', `https://127.0.0.1:${stranger.port}/z`, { verify: true });
        assert.match(back.message ?? '', /^connect failed: the certificate/);
    });

    it('node_fetch_verify_depth counts intermediate CAs', async () => {
        const one = await fetched('/depth1', `https://127.0.0.1:${chained.port}/chain`);
        assert.equal(one.body, 'secure /chain');
        const none = await fetched('/depth0', `https://127.0.0.1:${chained.port}/chain`);
        assert.match(none.message ?? '', /certificate chain too long: 1 intermediate certificates, node_fetch_verify_depth allows 0/);
        const direct = await fetched('/depth0', `https://127.0.0.1:${secure.port}/direct`);
        assert.equal(direct.body, 'secure /direct');
    });

    it('node_fetch_protocols: a server without TLSv1.3 fails the handshake', async () => {
        const modern = await fetched('/tls13', `https://127.0.0.1:${secure.port}/13`);
        assert.equal(modern.body, 'secure /13');
        const old = await fetched('/tls13', `https://127.0.0.1:${tls12.port}/12`);
        assert.match(old.message ?? '', new RegExp(`^connect failed: the TLS handshake with 127\\.0\\.0\\.1:${tls12.port} failed: .*node_fetch_protocols`));
    });

    it('node_fetch_ciphers: a server with none of them fails the handshake', async () => {
        const shared = await fetched('/cipher', `https://127.0.0.1:${tls12.port}/shared`);
        assert.equal(shared.body, 'secure /shared');
        const disjoint = await fetched('/cipher', `https://127.0.0.1:${oneCipher.port}/disjoint`);
        assert.match(disjoint.message ?? '', new RegExp(`^connect failed: the TLS handshake with 127\\.0\\.0\\.1:${oneCipher.port} failed: .*node_fetch_ciphers`));
        const defaults = await fetched('/trusted', `https://127.0.0.1:${oneCipher.port}/default`);
        assert.equal(defaults.body, 'secure /default', 'the default list has that cipher');
    });

    it('the settings hold in timers and callbacks the handler started', async () => {
        const reply = await request(nginx.url(`/unverified-later?${new URLSearchParams({ url: `https://127.0.0.1:${stranger.port}/t` })}`));
        assert.equal((JSON.parse(reply.text) as Result).body, 'secure /t');
    });

    it('global fetch is Node\'s: node_fetch_trusted_certificate does not apply', async () => {
        const reply = await request(nginx.url(`/global?${new URLSearchParams({ url: `https://127.0.0.1:${secure.port}/` })}`));
        const result = JSON.parse(reply.text) as Result;
        assert.equal(result.error, 'TypeError');
        assert.equal(result.message, 'fetch failed');
    });

    it('node_fetch_proxy: http:// goes to the proxy as an absolute URL, with the credentials', async () => {
        proxy.seen.length = 0;
        const result = await fetched('/proxied', plain('/data'));
        assert.equal(result.body, 'DATA');
        assert.deepEqual(proxy.seen, [{
            line: `GET ${plain('/data')}`,
            authorization: `Basic ${Buffer.from('user:se@cret').toString('base64')}`,
        }]);
    });

    it('node_fetch_proxy: https:// goes through a CONNECT tunnel, still verified', async () => {
        proxy.seen.length = 0;
        const result = await fetched('/proxied', `https://127.0.0.1:${secure.port}/tunnel`);
        assert.equal(result.body, 'secure /tunnel', JSON.stringify(result));
        assert.deepEqual(proxy.seen.map((seen) => seen.line), [`CONNECT 127.0.0.1:${secure.port}`]);
        const refused = await fetched('/proxied', `https://127.0.0.1:${stranger.port}/tunnel`);
        assert.match(refused.message ?? '', /^connect failed: the certificate/);
    });

    it('node_fetch_proxy: a refused CONNECT rejects, without the proxy\'s password', async () => {
        const forbidden = await fetched('/proxied', 'https://forbidden.test/');
        assert.equal(forbidden.message, `proxy CONNECT failed with status 403 (node_fetch_proxy http://127.0.0.1:${proxy.port})`);
        const anonymous = await fetched('/proxied-anonymous', `https://127.0.0.1:${secure.port}/`);
        assert.equal(anonymous.message, `proxy authentication failed (407): http://127.0.0.1:${proxy.port} asks for ` +
            'a user and password; check those of node_fetch_proxy');
    });

    it('resolves names with nginx\'s resolver where one is set', async () => {
        const result = await fetched('/resolved', `http://${TEST_HOST}:${backend.port}/data`);
        assert.equal(result.body, 'DATA');
        assert.ok(dns.questions.includes(`${TEST_HOST} A`), dns.questions.join(', '));
        assert.ok(!dns.questions.includes(`${TEST_HOST} AAAA`), 'ipv6=off');
        const missing = await fetched('/resolved', `http://missing.test:${backend.port}/data`);
        assert.equal(missing.message, `"missing.test" could not be resolved (ENOTFOUND, asking 127.0.0.1:${dns.port} (resolver))`);
    });

    it('node_fetch_keepalive: connections are reused, node_fetch_keepalive_requests times', async () => {
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) seen.push((await fetched('/keepalive', `http://127.0.0.1:${connections.port}/`)).body ?? '');
        const [first, second, third] = seen.map((line) => line.split(' '));
        assert.deepEqual([first[1], second[1]], ['keep-alive', 'close'], seen.join(', '));
        assert.equal(second[0], first[0], 'the second request on the first one\'s connection');
        assert.notEqual(third[0], first[0], 'a new connection after two requests');
        const fresh = await fetched('/get', `http://127.0.0.1:${connections.port}/`);
        assert.equal(fresh.body?.split(' ')[1], 'close');
    });

    it('node_fetch_keepalive_time: older connections serve no new request', async () => {
        const first = (await fetched('/renewed', `http://127.0.0.1:${connections.port}/`)).body?.split(' ')[0];
        const again = (await fetched('/renewed', `http://127.0.0.1:${connections.port}/`)).body?.split(' ')[0];
        assert.equal(again, first);
        await sleep(1500);
        const later = (await fetched('/renewed', `http://127.0.0.1:${connections.port}/`)).body?.split(' ')[0];
        assert.notEqual(later, first);
    });

    it('node_fetch_keepalive_timeout: a connection idle longer is not reused', async () => {
        const first = (await fetched('/idle', `http://127.0.0.1:${connections.port}/`)).body?.split(' ')[0];
        const again = (await fetched('/idle', `http://127.0.0.1:${connections.port}/`)).body?.split(' ')[0];
        assert.equal(again, first);
        await sleep(1500);
        const later = (await fetched('/idle', `http://127.0.0.1:${connections.port}/`)).body?.split(' ')[0];
        assert.notEqual(later, first);
    });

    it('node_periodic runs follow their block\'s settings', async () => {
        assert.equal((await kept(nginx, 'tick')).body, 'secure /tick');
    });

    it('stream servers follow their own settings', async () => {
        const answer = (port: number) => new Promise<string>((resolve, reject) => {
            const socket = new Socket();
            const chunks: Buffer[] = [];
            socket.on('data', (chunk: Buffer) => chunks.push(chunk));
            socket.on('error', reject);
            socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
            socket.connect(port, '127.0.0.1');
        });
        assert.equal(await answer(nginx.streamPorts[0]), '200 secure /stream');
        assert.match(await answer(nginx.streamPorts[1]), /^Error: connect failed: the certificate of .* did not verify/);
    });
});

/** What a periodic run or a top-level timer kept in the shared dict (waits for it). */
async function kept(nginx: Nginx, key: string): Promise<Result> {
    for (let i = 0; i < 100; i++) {
        const result = JSON.parse((await request(nginx.url(`/results?key=${key}`))).text) as Result;
        if (result.body !== undefined || result.error !== undefined) return result;
        await sleep(100);
    }
    assert.fail(`nothing kept as ${key}`);
}

describe('ngx.fetch outside any handler', () => {
    it('follows the http {} block\'s settings', async () => {
        const pki = makePki();
        const stranger = await httpsPeer(pki.stranger);
        const nginx = await Nginx.start({
            http: `
    node_fetch_verify off;
    node_shared_dict_zone zone=results:64k;
    node_preload_object outside from outside.json;
    node_import f from ${fixture('fetch.mjs')};`,
            server: `
        location /results { node_content f.results; }
        location /strict { node_fetch_verify on; node_content f.get; }`,
            files: { 'conf/outside.json': JSON.stringify({ url: `https://127.0.0.1:${stranger.port}/outside` }) },
        });
        try {
            assert.equal((await kept(nginx, 'outside')).body, 'secure /outside', 'verification is off in http {}');
            const strict = JSON.parse((await request(nginx.url(`/strict?url=https://127.0.0.1:${stranger.port}/`))).text) as Result;
            assert.match(strict.message ?? '', /^connect failed: the certificate/, 'and on in /strict');
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
            await stranger.close();
            pki.remove();
        }
    });
});

describe('node_fetch_* in nginx -t', () => {
    async function check(directives: string, files: Record<string, string> = {}): Promise<string> {
        const options: NginxOptions = {
            http: `node_import f from ${fixture('fetch.mjs')};`,
            server: `location / { ${directives} node_content f.get; }`,
            files,
        };
        const nginx = await Nginx.prepare(options);
        try {
            const result = nginx.check();
            assert.equal(result.ok, false, result.output);
            return result.output.replaceAll(nginx.prefix, 'PREFIX');
        } finally {
            await nginx.destroy();
        }
    }

    it('a bad time, size, number', async () => {
        assert.match(await check('node_fetch_timeout soon;'),
            /invalid value "soon": a time such as "60s" or "500ms", more than 0 in PREFIX\/conf\/nginx\.conf:\d+/);
        assert.match(await check('node_fetch_buffer_size 0;'), /invalid value "0": a size such as "16k" or "1m", more than 0/);
        assert.match(await check('node_fetch_keepalive many;'), /invalid value "many": a number: how many idle connections/);
    });

    it('on/off, depth, keepalive numbers and times, duplicates', async () => {
        assert.match(await check('node_fetch_verify yes;'), /invalid value "yes": "on" or "off" in PREFIX\/conf\/nginx\.conf:\d+/);
        assert.match(await check('node_fetch_verify_depth -1;'), /invalid value "-1": a number: how many intermediate CA/);
        assert.match(await check('node_fetch_max_response_buffer_size lots;'), /invalid value "lots": a size such as "16k"/);
        assert.match(await check('node_fetch_keepalive_requests x;'), /invalid value "x": a number: how many requests/);
        assert.match(await check('node_fetch_keepalive_time forever;'), /invalid value "forever": a time such as "60s"/);
        assert.match(await check('node_fetch_keepalive_timeout 5q;'), /invalid value "5q": a time such as "60s"/);
        assert.match(await check('node_fetch_timeout 1s; node_fetch_timeout 2s;'), /"node_fetch_timeout" directive is duplicate/);
        assert.match(await check('node_fetch_verify;'), /invalid number of arguments in "node_fetch_verify" directive/);
    });

    it('protocols it does not know', async () => {
        assert.match(await check('node_fetch_protocols TLSv1.2 SSLv3;'),
            /invalid protocol "SSLv3": name TLSv1, TLSv1\.1, TLSv1\.2 or TLSv1\.3 in PREFIX\/conf\/nginx\.conf:\d+/);
    });

    it('a trusted certificate file it cannot read, or that has no certificate', async () => {
        assert.match(await check('node_fetch_trusted_certificate missing.pem;'),
            /cannot read "PREFIX\/conf\/missing\.pem", the trusted CA certificates \(PEM\) for ngx\.fetch: open\(\) failed \(2: No such file or directory\) in PREFIX\/conf\/nginx\.conf:\d+/);
        assert.match(await check('node_fetch_trusted_certificate garbage.pem;', { 'conf/garbage.pem': 'not a certificate\n' }),
            /node_fetch_trusted_certificate "PREFIX\/conf\/garbage\.pem": it has no certificate \(PEM: "-----BEGIN CERTIFICATE-----" \.\.\.\); name a file of CA certificates in PEM, in PREFIX\/conf\/nginx\.conf:\d+/);
    });

    it('ciphers OpenSSL does not know', async () => {
        assert.match(await check('node_fetch_ciphers NO-SUCH-CIPHER;'),
            /node_fetch_ciphers "NO-SUCH-CIPHER": .*no cipher match; "openssl ciphers -v" lists the names OpenSSL knows, in PREFIX\/conf\/nginx\.conf:\d+/);
    });

    it('a proxy that is not http://host[:port]', async () => {
        assert.match(await check('node_fetch_proxy https://127.0.0.1:3128;'), /invalid proxy "https:\/\/127\.0\.0\.1:3128": an HTTP proxy's URL/);
        assert.match(await check('node_fetch_proxy http://user@127.0.0.1;'), /the credentials must be "user:password"/);
        assert.match(await check('node_fetch_proxy http://$host:3128;'), /variables are not supported here/);
    });
});
