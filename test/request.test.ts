/** Every member of r and ngx, through a real nginx. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { rawRequest, request } from './harness/http';
import { Nginx } from './harness/nginx';
import { fixture } from './harness/paths';
import { libnodeVersion, nginxVersion } from './harness/versions';
import { tcpExchange } from './harness/tcp';

describe('the r object', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `
    node_import main from ${fixture('request.mjs')};
    node_set $counted main.counted;
    node_set $counted_nocache main.counted nocache;
    node_set $bytes_value main.bytesValue;
    node_set $header_value main.headerValue;
    node_set $leaves_pending main.leavesPending;
    node_var $nv_one;
    node_var $nv_two two;
    client_body_buffer_size 1k;`,
            server: `
        location /info { node_content main.info; }
        location /headers-out { node_content main.headersOut; }
        location /content-length { node_content main.contentLength; }
        location /variables { set $writable ''; node_content main.variables; }
        location /read-only-variable { node_content main.readOnlyVariable; }
        location /status { node_content main.status; }
        location /redirect { node_content main.redirect; }
        location /not-found { error_page 404 /custom-404; node_content main.notFound; }
        location = /custom-404 { internal; return 404 "custom not found\\n"; }
        location /stream { node_content main.stream; }
        location /stream-async { node_content main.streamAsync; }
        location /redirect-internal { node_content main.redirectInternal; }
        location /redirect-named { node_content main.redirectNamed; }
        location @named { return 200 "named $uri\\n"; }
        location /target { node_content main.target; }
        location /logs { node_content main.logs; }
        location /text { node_content main.text; }
        location /unread { node_content main.unread; }
        location /json { node_content main.jsonBody; }
        location /bytes { client_max_body_size 10m; node_content main.bytes; }
        location /small { client_max_body_size 1k; node_content main.bodyRefused; }
        location /ngx { node_content main.ngxInfo; }
        location /form { node_content main.form; }
        location /form-options { node_content main.formOptions; }
        location /form-data { node_content main.formData; }
        location /access-body {
            client_max_body_size 100;
            set $body_seen '';
            node_access main.accessBody;
            node_content main.afterAccess;
        }
        location /read-twice { node_content main.readTwice; }
        location ~ ^/captures/(\\w+)/(\\d+)$ { node_content main.captures; }
        location /var-names { node_content main.varNames; }
        location /misuse { node_content main.misuse; }
        location /leaves-pending { return 200 $leaves_pending; }
        location /raw { node_content main.raw; }
        location /cached { add_header X-Value $counted; return 200 $counted; }
        location /nocache { add_header X-Value $counted_nocache; return 200 $counted_nocache; }
        location /bytes-value { return 200 $bytes_value; }
        location /header-value { return 200 $header_value; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('reads the request line, arguments, address and headers', async () => {
        const reply = await request(nginx.url('/info/x%20y?a=1&b=two%20words&a=2&c=&d=%2F'), {
            headers: { 'User-Agent': 'test-agent/1.0', Cookie: ['c1=1', 'c2=2'], Accept: ['text/html', 'text/plain'] },
        });
        assert.equal(reply.status, 200);
        assert.equal(reply.headers['content-type'], 'application/json');
        const info = JSON.parse(reply.text);
        assert.equal(info.method, 'GET');
        assert.equal(info.uri, '/info/x y');
        assert.deepEqual(info.args, { a: ['1', '2'], b: 'two words', c: '', d: '/' });
        assert.equal(info.httpVersion, '1.1');
        assert.equal(info.remoteAddress, '127.0.0.1');
        assert.equal(info.userAgent, 'test-agent/1.0');
        assert.equal(info.cookie, 'c1=1; c2=2');
        assert.equal(info.accept, 'text/html, text/plain');
        assert.equal(info.missing, null);
        assert.equal(info.hasHost, true);
        assert.equal(info.headersIn.Host, `127.0.0.1:${nginx.port}`);
        assert.equal(info.headersIn['User-Agent'], 'test-agent/1.0');
    });

    it('reads UTF-8 from nginx as the characters it encodes, wherever they fall in the string', async () => {
        // the bridge takes ASCII as it is and decodes the rest: a character before, at and after
        // each 8-byte word and 64-byte block of its check, and plain ASCII of the same lengths
        const aroundBlocks = [52, 56, 57, 58, 62, 63, 64, 65, 120, 121, 122, 126, 127, 128].map((n) => 'a'.repeat(n));
        for (const name of [
            'é', 'abcdefé', 'abcdefgé', 'abcdefghijklmnoé', 'abcdefghijklmnop', 'x€y日本', 'ascii',
            ...aroundBlocks.map((run) => `${run}é`), ...aroundBlocks,
        ]) {
            const reply = await request(nginx.url(`/info/${encodeURIComponent(name)}?v=${encodeURIComponent(name)}`));
            assert.equal(reply.status, 200, name);
            const info = JSON.parse(reply.text);
            assert.equal(info.uri, `/info/${name}`);
            assert.equal(info.args.v, name);
        }
    });

    it('reports HTTP/1.0', async () => {
        const raw = await rawRequest(nginx.port, 'GET /info HTTP/1.0\r\nHost: old\r\n\r\n');
        assert.match(raw, /^HTTP\/1\.1 200/);
        const info = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
        assert.equal(info.httpVersion, '1.0');
        assert.equal(info.headersIn.Host, 'old');
    });

    it('writes response headers, status and streams a body', async () => {
        const reply = await request(nginx.url('/headers-out'));
        assert.equal(reply.status, 201);
        assert.equal(reply.text, 'created');
        assert.equal(reply.headers['x-one'], 'one');
        assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
        assert.equal(reply.headers['x-gone'], undefined);
        assert.equal(reply.headers['x-null'], undefined);
        assert.equal(reply.headers['x-number'], '42');
        assert.equal(reply.headers['x-replaced'], 'second');
        assert.equal(reply.headers['x-too-late'], undefined);
        assert.equal(reply.headers['content-type'], 'text/x-test; charset=utf-8');
        const seen = JSON.parse(String(reply.headers['x-seen']));
        assert.deepEqual(seen.cookie, ['a=1', 'b=2']);
        assert.equal(seen.one, 'one');
        assert.equal(seen.type, 'text/x-test; charset=utf-8');
        assert.equal(seen.gone, null);
        assert.deepEqual(seen.keys, ['Content-Type', 'Set-Cookie', 'X-Number', 'X-One', 'x-replaced']);
        await nginx.waitForLog(/ignored setting response header "X-Too-Late": the header was already sent/);
    });

    it('sets Content-Length', async () => {
        const reply = await request(nginx.url('/content-length'));
        assert.equal(reply.headers['content-length'], '5');
        assert.equal(reply.headers['transfer-encoding'], undefined);
        assert.equal(reply.text, '12345');
    });

    it('reads and writes variables where nginx allows it', async () => {
        const reply = await request(nginx.url('/variables?a=arg'));
        assert.deepEqual(JSON.parse(reply.text), {
            writable: 'from-js', host: '127.0.0.1', arg: 'arg', missing: null,
        });
        const refused = await request(nginx.url('/read-only-variable'));
        assert.match(refused.text, /^refused: r\.variables\.remote_addr is read-only/);
    });

    it('returns statuses, redirects and error pages', async () => {
        const teapot = await request(nginx.url('/status'));
        assert.equal(teapot.status, 418);
        assert.equal(teapot.text, 'status 418');

        const redirect = await request(nginx.url('/redirect'));
        assert.equal(redirect.status, 302);
        assert.equal(redirect.headers.location, `http://127.0.0.1:${nginx.port}/elsewhere`);

        const missing = await request(nginx.url('/not-found'));
        assert.equal(missing.status, 404);
        assert.equal(missing.text, 'custom not found\n');
    });

    it('streams with send() and finish(), sync and async', async () => {
        const sync = await request(nginx.url('/stream'));
        assert.equal(sync.status, 200);
        assert.equal(sync.text, 'abc');
        const chunks: string[] = [];
        const status = await new Promise<number>((resolve, reject) => {
            httpRequest(nginx.url('/stream-async'), { agent: false }, (res) => {
                res.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
                res.on('end', () => resolve(res.statusCode ?? 0));
            }).on('error', reject).end();
        });
        assert.equal(status, 200);
        assert.equal(chunks.join(''), 'chunk0\nchunk1\nchunk2\n');
        assert.ok(chunks.length >= 2, `the chunks arrived as they were sent, not at once (${chunks.length})`);
    });

    it('redirects internally, to a URI and to a named location', async () => {
        const uri = await request(nginx.url('/redirect-internal'));
        assert.equal(uri.text, 'target /target from=js');
        const named = await request(nginx.url('/redirect-named'));
        assert.equal(named.text, 'named /redirect-named\n');
    });

    it('logs to the error log with the request context', async () => {
        await request(nginx.url('/logs'));
        const line = await nginx.waitForLog(/\[info\] .*log-line-info.*/);
        assert.match(line, /client: 127\.0\.0\.1, server: , request: "GET \/logs HTTP\/1\.1"/);
        await nginx.waitForLog(/\[warn\] .*log-line-warn/);
        await nginx.waitForLog(/\[error\] .*log-line-error/);
        await nginx.waitForLog(/\[error\] .*ngx-log-err/);
        await nginx.waitForLog(/\[warn\] .*\{ structured: true \}/);
        // what a script writes starts with "js: ", as in njs's error log
        await nginx.waitForLog(/\[info\] \d+#\d+: \*\d+ js: log-line-info/);
        await nginx.waitForLog(/\[error\] \d+#\d+: js: ngx-log-err/);
        await nginx.waitForLog(/\[info\] \d+#\d+: js: console-log-5\n/);
        await nginx.waitForLog(/\[warn\] \d+#\d+: js: console-warn\n/);
        await nginx.waitForLog(/\[error\] \d+#\d+: js: console-error\n/);
    });

    it('reads the request body as text, JSON and bytes', async () => {
        const body = 'hello, wörld';
        const text = JSON.parse((await request(nginx.url('/text'), { body })).text);
        assert.deepEqual(text, { body, length: Buffer.byteLength(body), cached: true, buffer: Buffer.byteLength(body) });

        const empty = JSON.parse((await request(nginx.url('/text'))).text);
        assert.equal(empty.body, '');

        const unread = JSON.parse((await request(nginx.url('/unread'), { body: 'ignored' })).text);
        assert.deepEqual(unread, { text: null, buffer: null });

        const json = JSON.parse((await request(nginx.url('/json'), { body: '{"a":[1,2]}' })).text);
        assert.deepEqual(json, { got: { a: [1, 2] } });

        const bad = await request(nginx.url('/json'), { body: '{not json' });
        assert.equal(bad.status, 500);
    });

    it('reads a large body that nginx spooled to a temporary file', async () => {
        const payload = randomBytes(300 * 1024);
        const reply = await request(nginx.url('/bytes'), { body: payload });
        assert.equal(reply.status, 200);
        assert.equal(reply.text, `${createHash('sha256').update(payload).digest('hex')} ${payload.length}`);
        await nginx.waitForLog(/a client request body is buffered to a temporary file/);
    });

    it('honours client_max_body_size, with Content-Length and chunked', async () => {
        const declared = await request(nginx.url('/small'), { body: 'x'.repeat(4096) });
        assert.equal(declared.status, 413);
        const chunked = await new Promise<number>((resolve, reject) => {
            const req = httpRequest(nginx.url('/small'), { method: 'POST', agent: false }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('error', reject);
            req.write('y'.repeat(600));
            setTimeout(() => req.end('y'.repeat(4096)), 50);
        });
        assert.equal(chunked, 413);
        await nginx.waitForLog(/client intended to send too large (chunked )?body/);
        const ok = await request(nginx.url('/small'), { body: 'short' });
        assert.equal(ok.text, 'read it');
    });

    const boundary = 'ngx-node-boundary';
    const multipart = (...parts: string[][]) => [
        ...parts.flatMap((part) => [`--${boundary}`, ...part]), `--${boundary}--`, '',
    ].join('\r\n');
    const multipartType = { 'Content-Type': `multipart/form-data; boundary="${boundary}"` };
    const urlencodedType = { 'Content-Type': 'application/x-www-form-urlencoded' };

    it('reads forms into njs\'s form object, urlencoded and multipart', async () => {
        const urlencoded = await request(nginx.url('/form'), { body: 'a=1&b=two+words&a=%C3%A4&&c', headers: urlencodedType });
        assert.deepEqual(JSON.parse(urlencoded.text), {
            tag: '[object RequestForm]', a: '1', all: ['1', 'ä'], missing: null, none: [], has: [true, false, true],
            hasFiles: false, seen: [['a', '1', true, 'this'], ['b', 'two words', true, 'this'], ['a', 'ä', true, 'this'], ['c', '', true, 'this']],
            again: true,
        });
        const body = multipart(
            ['Content-Disposition: form-data; name="a"', '', 'value'],
            ['Content-Disposition: form-data; name="upload"; filename="x \\"y\\".bin"', 'Content-Type: application/octet-stream', '', 'BINARY'],
            ['content-disposition: form-data; name=a', '', 'second\r\nline'],
        );
        const reply = await request(nginx.url('/form'), { body, headers: multipartType });
        assert.deepEqual(JSON.parse(reply.text), {
            tag: '[object RequestForm]', a: 'value', all: ['value', 'second\r\nline'], missing: null, none: [],
            has: [true, false, true], hasFiles: true,
            seen: [['a', 'value', true, 'this'], ['upload', { name: 'x "y".bin' }, true, 'this'], ['a', 'second\r\nline', true, 'this']],
            again: true,
        });
    });

    it('rejects malformed forms with a TypeError, as njs', async () => {
        const refused = async (body: string, headers: Record<string, string>, path = '/form') => {
            const reply = await request(nginx.url(path), { body, headers });
            assert.equal(reply.status, 400, reply.text);
            return reply.text;
        };
        assert.match(await refused('a=1', {}), /^TypeError: .*request content type is required/);
        assert.match(await refused('a=1', { 'Content-Type': 'text/plain' }), /^TypeError: .*unsupported content type "text\/plain"/);
        assert.match(await refused('a=%zz', urlencodedType), /^TypeError: .*malformed percent escape/);
        assert.match(await refused('a=%4', urlencodedType), /^TypeError: .*malformed percent escape/);
        assert.match(await refused('a=1&b=2&c=3', urlencodedType, '/form?maxKeys=2'), /^TypeError: .*maxKeys limit exceeded/);
        assert.equal(JSON.parse((await request(nginx.url('/form?maxKeys=3'), { body: 'a=1&b=2&c=3', headers: urlencodedType })).text).a, '1');
        assert.match(await refused('x', { 'Content-Type': 'multipart/form-data' }), /^TypeError: .*multipart boundary is required/);
        assert.match(await refused('x', { 'Content-Type': 'multipart/form-data; boundary=' }), /^TypeError: .*empty parameter value/);
        assert.match(await refused('x', { 'Content-Type': `multipart/form-data; boundary=${'b'.repeat(201)}` }), /^TypeError: .*invalid multipart boundary/);
        assert.match(await refused('no boundary here', multipartType), /^TypeError: .*malformed multipart body/);
        assert.match(await refused(`--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated`, multipartType),
            /^TypeError: .*truncated multipart body/);
        assert.match(await refused(multipart(['Content-Type: text/plain', '', 'v']), multipartType), /^TypeError: .*missing Content-Disposition/);
        assert.match(await refused(multipart(['Content-Disposition: attachment; name="a"', '', 'v']), multipartType),
            /^TypeError: .*unsupported disposition type "attachment"/);
        assert.match(await refused(multipart(['Content-Disposition: form-data; filename="f"', '', 'v']), multipartType),
            /^TypeError: .*multipart field name is required/);
        assert.match(await refused(multipart(['Content-Disposition: form-data; name="a"; name="b"', '', 'v']), multipartType),
            /^TypeError: .*duplicate name parameter/);
        assert.match(await refused(multipart(['Content-Disposition: form-data; name="a', '', 'v']), multipartType),
            /^TypeError: .*unterminated quoted parameter/);
        const options = await request(nginx.url('/form-options'), { body: 'a=1', headers: urlencodedType });
        assert.deepEqual(JSON.parse(options.text), ['TypeError', 'TypeError', 'TypeError', 'TypeError']);
    });

    it('reads forms into a WHATWG FormData, files with their content', async () => {
        const urlencoded = await request(nginx.url('/form-data'), { body: 'a=1&b=two+words&c=%C3%A4', headers: urlencodedType });
        assert.deepEqual(JSON.parse(urlencoded.text), { a: '1', b: 'two words', c: 'ä' });
        const body = multipart(
            ['Content-Disposition: form-data; name="field"', '', 'value'],
            ['Content-Disposition: form-data; name="upload"; filename="a.bin"', 'Content-Type: application/octet-stream', '', 'BINARY'],
        );
        const reply = await request(nginx.url('/form-data'), { body, headers: multipartType });
        assert.deepEqual(JSON.parse(reply.text), { field: 'value', upload: 'file a.bin application/octet-stream 6' });
    });

    it('reads the body in node_access, sent slowly in pieces', async () => {
        const head = 'POST /access-body HTTP/1.1\r\nHost: test\r\nConnection: close\r\n';
        const sized = await tcpExchange(nginx.port, [`${head}Content-Length: 11\r\n\r\nhello`, ' wor', 'ld'], { gapMs: 300 });
        assert.match(sized.text, /^HTTP\/1\.1 200 /);
        assert.match(sized.text, /access read "hello world", content sees "hello world"\n$/);
        const chunked = await tcpExchange(nginx.port, [`${head}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, '6\r\n world\r\n', '0\r\n\r\n'],
            { gapMs: 300 });
        assert.match(chunked.text, /access read "hello world", content sees "hello world"\n$/);
        // a client that goes away halfway: the read rejects, nginx carries on
        const gone = await tcpExchange(nginx.port, [`${head}Content-Length: 50\r\n\r\nhello`], { endAfterMs: 300 });
        assert.equal(gone.text, '');
        await nginx.waitForLog(/node_access "main\.accessBody" failed[^:]*: Error: the request ended before its body was read/);
        assert.equal((await request(nginx.url('/access-body'), { body: 'again' })).text,
            'access read "again", content sees "again"\n');
    });

    it('answers 413 when the body node_access reads is too large', async () => {
        const head = 'POST /access-body HTTP/1.1\r\nHost: test\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n';
        const reply = await tcpExchange(nginx.port, [`${head}5\r\nhello\r\n`, `96\r\n${'x'.repeat(150)}\r\n0\r\n\r\n`], { gapMs: 300 });
        assert.match(reply.text, /^HTTP\/1\.1 413 /);
        assert.doesNotMatch(reply.text, /HTTP\/1\.1 500/);
        await nginx.waitForLog(/client intended to send too large chunked body/);
        // all at once: nginx refuses the body as soon as the handler asks for it
        const whole = await tcpExchange(nginx.port, [`${head}c8\r\n${'y'.repeat(200)}\r\n0\r\n\r\n`]);
        assert.match(whole.text, /^HTTP\/1\.1 413 /);
    });

    it('throws on a second read while the body is being read, as njs', async () => {
        const head = 'POST /read-twice HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: 6\r\n\r\n';
        const reply = await tcpExchange(nginx.port, [`${head}abc`, 'def'], { gapMs: 300 });
        const answer = JSON.parse(reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4));
        assert.equal(answer.body, 'abcdef');
        assert.match(answer.second, /^TypeError: r\.readRequestArrayBuffer\(\): request body is already being read/);
        assert.equal(answer.third, 'abcdef');
    });

    it('gives raw variables as bytes and raw response headers in order', async () => {
        const reply = JSON.parse((await request(nginx.url('/raw?v=%FF%00a'))).text);
        assert.equal(reply.isBuffer, true);
        assert.deepEqual(reply.rawVariable, [...Buffer.from('%FF%00a')]);
        assert.deepEqual(reply.out, [['Set-Cookie', 'x=1'], ['Set-Cookie', 'y=2'], ['X-Raw', 'raw']]);
    });

    it('gives the captures of a regular expression location as r.variables[n]', async () => {
        const reply = JSON.parse((await request(nginx.url('/captures/word/42'))).text);
        assert.deepEqual(reply, { whole: '/captures/word/42', first: 'word', second: '42', none: null, raw: 'word' });
    });

    it('lists the node_var variables with r.jsVarNames()', async () => {
        const reply = JSON.parse((await request(nginx.url('/var-names'))).text);
        assert.deepEqual(reply, { all: ['nv_one', 'nv_two'], prefixed: ['nv_two'], none: [] });
    });

    it('throws TypeError for misuse and RangeError for statuses out of range, as njs 1.0', async () => {
        const reply = await request(nginx.url('/misuse'));
        assert.deepEqual(JSON.parse(reply.text), {
            'return("x")': 'TypeError', 'return(1000)': 'RangeError', 'return(-1)': 'RangeError',
            'status = "x"': 'TypeError', 'status = 1000': 'RangeError', 'sendBuffer()': 'TypeError', 'done()': 'TypeError',
            'uri = "/x"': 'TypeError', 'internalRedirect("")': 'TypeError', 'variables.unknown =': 'TypeError',
            'variables.remote_addr =': 'TypeError', 'headersIn.x =': 'TypeError', 'headersOut[bad name] =': 'TypeError',
            'headersOut.x = {}': 'TypeError', 'defineProperty getter': 'TypeError', 'subrequest()': 'TypeError',
            'subrequest(uri, 5)': 'TypeError', 'subrequest(uri, {}, 5)': 'TypeError',
            'subrequest detached with callback': 'TypeError', 'subrequest("/../x")': 'TypeError', 'jsVarNames(5)': 'TypeError',
        });
    });

    it('warns when a sync node_set function leaves promises pending', async () => {
        assert.equal((await request(nginx.url('/leaves-pending'))).text, 'sync value');
        await nginx.waitForLog(/\[warn\] .*node_set "main\.leavesPending" returned while 2 promise\(s\) it created were still pending/);
    });

    it('exposes ngx', async () => {
        const info = JSON.parse((await request(nginx.url('/ngx'))).text);
        assert.equal(info.worker_id, 0);
        assert.equal(info.version, nginxVersion());
        assert.equal(info.prefix, `${nginx.prefix}/`);
        assert.equal(info.conf_prefix, `${nginx.prefix}/conf/`);
        assert.equal(info.conf_file_path, `${nginx.prefix}/conf/nginx.conf`);
        assert.deepEqual(info.levels, [7, 5, 4]);
        assert.match(info.ngx_node_version, /^\d+\.\d+\.\d+/);
        assert.equal(info.node, libnodeVersion());
    });

    it('evaluates node_set once per request, or on every use with nocache', async () => {
        const cached = await request(nginx.url('/cached'));
        assert.equal(cached.headers['x-value'], cached.text);
        const fresh = await request(nginx.url('/nocache'));
        assert.notEqual(fresh.headers['x-value'], fresh.text);
        assert.equal(Number(fresh.headers['x-value']), Number(fresh.text) + 1);
        assert.equal((await request(nginx.url('/bytes-value'))).text, 'bytes-value');
        const value = await request(nginx.url('/header-value'), { headers: { 'X-In': 'given' } });
        assert.equal(value.text, 'GET:given');
    });
});
