/**
 * The stream module: TCP and UDP sessions through node_access, node_preread, node_set and
 * node_filter, against real peers on loopback. This nginx loads the stream module alone.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { LOG_LEVEL, Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';
import { makePki, TestPki } from './harness/pki';
import { echoServer, tcpExchange, TcpServer, tcpServer, udpExchange, UdpServer, udpServer } from './harness/tcp';

const servers = [
    'allow', 'deny', 'allowLater', 'throws', 'undecided', 'status503', 'preread', 'prereadBytes',
    'prereadSend', 'prereadVariable', 'asyncSet', 'state', 'filter', 'filterBytes', 'filterAsync',
    'filterBoth', 'filterThrows', 'timeout', 'bufferFull', 'udp', 'filterText', 'filterChunks', 'filterTwice',
    'filterOrder', 'filterEmpty', 'filterMarks', 'filterAfterAwait', 'filterTextHalfClose',
    'filterTextLarge', 'filterKeeps', 'filterFlushes', 'filterThrowsFlooded',
    'filterRejectsFlooded', 'filterAsyncNoAwait', 'filterAcks', 'filterOff', 'udpAfterAwait', 'filterStuckClient', 'udpUnflushed',
    'prereadFilter', 'filterRate', 'filterProxyProtocol',
] as const;
type ServerName = (typeof servers)[number];

describe('stream', () => {
    let nginx: Nginx;
    let echo: TcpServer;
    let udpA: UdpServer;
    let udpB: UdpServer;
    /** sends megabytes at once; once it has the upload (floodUpload bytes), what it got */
    let flood: TcpServer;
    const floodUpload = 40 * 4096;
    /** sends acksDownload and half-closes at once, reads nothing for 1.5 s; what it got, per connection */
    let slowReader: TcpServer;
    const slowReaderGot: Promise<Buffer>[] = [];
    const acksDownload = ('d'.repeat(99) + '\n').repeat(42000);
    /** sends 16 MB at once, takes everything; how much it got so far */
    let greeter: TcpServer;
    let greeterGot = 0;
    /** whether the flood upstream's connections are all closed, within 5 s */
    async function floodClosed(): Promise<boolean> {
        for (let waited = 0; flood.open > 0 && waited < 5000; waited += 50) await sleep(50);
        return flood.open === 0;
    }
    const floodText = Array.from({ length: 800000 }, (_, i) => `${i} flooding the client\n`).join('');
    const uploadSummary = (upload: Buffer) => `upload ${upload.length} ${createHash('sha256').update(upload).digest('hex')}\n`;
    const port = (name: ServerName) => nginx.streamPorts[servers.indexOf(name)];

    before(async () => {
        echo = await echoServer();
        udpA = await udpServer((datagram) => `A got ${datagram.toString()}`);
        udpB = await udpServer((datagram) => `B got ${datagram.toString()}`);
        flood = await tcpServer((socket) => {
            const upload: Buffer[] = [];
            socket.write(floodText);
            socket.on('data', (chunk: Buffer) => {
                upload.push(chunk);
                const got = Buffer.concat(upload);
                if (got.length >= floodUpload) socket.end(uploadSummary(got));
            });
        });
        slowReader = await tcpServer((socket) => {
            const got: Buffer[] = [];
            socket.pause();
            socket.on('data', (chunk: Buffer) => got.push(chunk));
            slowReaderGot.push(new Promise((resolve) => socket.on('close', () => resolve(Buffer.concat(got)))));
            socket.end(acksDownload);
            setTimeout(() => socket.resume(), 1500);
        });
        greeter = await tcpServer((socket) => {
            socket.write(Buffer.alloc(16 << 20, 'g'));
            socket.on('data', (chunk: Buffer) => { greeterGot += chunk.length; });
        });
        const upstream = `127.0.0.1:${echo.port}`;
        nginx = await Nginx.start({
            streamPorts: servers.length,
            stream: (ports) => {
                const listen = (name: ServerName, extra = '') => `listen 127.0.0.1:${ports[servers.indexOf(name)]} ${extra};`;
                return `
    node_import s from ${fixture('stream.mjs')};
    node_var $line;
    node_var $udp_target;
    node_set $line_of s.lineOf;
    node_set $recalled s.recall;
    log_format session '$server_port $status $line_of';
    access_log logs/stream.log session;
    server { ${listen('allow')} node_access s.allowAll; proxy_pass ${upstream}; }
    server { ${listen('deny')} node_access s.denyAll; proxy_pass ${upstream}; }
    server { ${listen('allowLater')} node_access s.allowLater; proxy_pass ${upstream}; }
    server { ${listen('throws')} node_access s.throws; proxy_pass ${upstream}; }
    server { ${listen('undecided')} node_access s.undecided; proxy_pass ${upstream}; }
    server { ${listen('status503')} node_access s.closeWith503; proxy_pass ${upstream}; }
    server { ${listen('preread')} node_preread s.firstLine; proxy_pass ${upstream}; }
    server { ${listen('prereadBytes')} node_preread s.magicBytes; return "magic $line\\n"; }
    server { ${listen('prereadSend')} node_preread s.sendsInPreread; return "$line\\n"; }
    server { ${listen('prereadVariable')} node_preread s.firstLine; return "line=$line_of\\n"; }
    server {
        ${listen('asyncSet')}
        set $echo_port ${echo.port};
        node_set $echo_address s.echoAddress;
        proxy_pass $echo_address;
    }
    server { ${listen('state')} node_access s.remember; return "$recalled\\n"; }
    server { ${listen('filter')} node_filter s.brackets; proxy_pass ${upstream}; }
    server { ${listen('filterBytes')} node_filter s.flipBytes; proxy_pass ${upstream}; }
    server { ${listen('filterText')} node_filter s.passText; proxy_pass ${upstream}; }
    server { ${listen('filterChunks')} node_filter s.markChunks; proxy_pass ${upstream}; }
    server { ${listen('filterTwice')} node_filter s.sendsTwice; proxy_pass ${upstream}; }
    server { ${listen('filterAsync')} node_filter s.asyncDownload; proxy_pass ${upstream}; }
    server { ${listen('filterOff')} node_filter s.offAfterFirst; proxy_half_close on; proxy_pass ${upstream}; }
    server { ${listen('udpAfterAwait', 'udp')} node_filter s.afterAwaitDefaults; proxy_pass 127.0.0.1:${udpA.port}; proxy_responses 1; }
    server { ${listen('udpUnflushed', 'udp')} node_filter s.unflushed; proxy_pass 127.0.0.1:${udpA.port}; proxy_responses 1; }
    server { ${listen('filterStuckClient')} node_filter s.copiesBothWays; proxy_pass 127.0.0.1:${greeter.port}; }
    server { ${listen('filterAcks')} node_filter s.acksUpstream; proxy_half_close on; proxy_pass 127.0.0.1:${slowReader.port}; }
    server {
        ${listen('filterAsyncNoAwait')} node_filter s.asyncWithoutAwait; node_timeout 5s; proxy_half_close on;
        proxy_pass ${upstream};
    }
    server { ${listen('filterBoth')} node_filter s.sendsBothWays; proxy_pass ${upstream}; }
    server { ${listen('filterThrows')} node_filter s.throwingFilter; proxy_pass ${upstream}; }
    server { ${listen('filterOrder')} node_filter s.namesItsDirection; proxy_pass ${upstream}; }
    server { ${listen('filterEmpty')} node_filter s.emptySends; proxy_pass ${upstream}; }
    server { ${listen('filterMarks')} node_filter s.marksAfter; proxy_pass ${upstream}; }
    server { ${listen('filterAfterAwait')} node_filter s.forwardsAfterAwait; proxy_half_close on; proxy_pass ${upstream}; }
    server {
        ${listen('filterRate')} node_filter s.forwardsAfterAwait; proxy_upload_rate 4m; proxy_download_rate 4m;
        proxy_half_close on; proxy_pass ${upstream};
    }
    server { ${listen('prereadFilter')} node_preread s.firstLine; node_filter s.brackets; proxy_pass ${upstream}; }
    server { ${listen('filterProxyProtocol', 'proxy_protocol')} node_filter s.brackets; proxy_pass ${upstream}; }
    server { ${listen('filterTextHalfClose')} node_filter s.passText; proxy_half_close on; proxy_pass ${upstream}; }
    server {
        ${listen('filterTextLarge')} node_filter s.passText; proxy_buffer_size 1m; proxy_half_close on;
        proxy_pass ${upstream};
    }
    server { ${listen('filterFlushes')} node_filter s.flushesDownload; proxy_pass 127.0.0.1:${flood.port}; }
    server { ${listen('filterThrowsFlooded')} node_filter s.throwingDownload; proxy_pass 127.0.0.1:${flood.port}; }
    server { ${listen('filterRejectsFlooded')} node_filter s.rejectingDownload; proxy_pass 127.0.0.1:${flood.port}; }
    server { ${listen('filterKeeps')} node_filter s.keepsText; proxy_buffer_size 1m; proxy_half_close on; proxy_pass ${upstream}; }
    server { ${listen('timeout')} node_timeout 300ms; node_access s.neverDecides; proxy_pass ${upstream}; }
    server { ${listen('bufferFull')} preread_buffer_size 64; node_preread s.neverEnough; proxy_pass ${upstream}; }
    server {
        ${listen('udp', 'udp')}
        set $udp_a ${udpA.port};
        set $udp_b ${udpB.port};
        node_set $udp_upstream s.udpTarget;
        node_preread s.udpPick;
        proxy_pass $udp_upstream;
        proxy_responses 1;
    }`;
            },
        });
    });

    after(async () => {
        await echo?.close();
        await udpA?.close();
        await udpB?.close();
        await flood?.close();
        await slowReader?.close();
        await greeter?.close();
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    /** The status and node_set value the access log has for a server's sessions. */
    async function logged(name: ServerName): Promise<string[]> {
        await sleep(50);
        return readFileSync(nginx.path('logs/stream.log'), 'utf8').split('\n')
            .filter((line) => line.startsWith(`${port(name)} `)).map((line) => line.slice(line.indexOf(' ') + 1));
    }

    describe('node_access', () => {
        it('allows: the session is proxied', async () => {
            const reply = await tcpExchange(port('allow'), ['hello'], { endAfterMs: 200 });
            assert.equal(reply.text, 'hello');
            // (the harness's readiness probe was a session of this server too)
            assert.equal((await logged('allow')).at(-1), '200 -');
        });

        it('denies: the session is closed with status 403, nothing reaches the upstream', async () => {
            const before = echo.connections;
            const reply = await tcpExchange(port('deny'), ['hello']);
            assert.equal(reply.text, '');
            assert.equal(echo.connections, before);
            assert.deepEqual(await logged('deny'), ['403 -']);
        });

        it('waits for an async handler', async () => {
            const reply = await tcpExchange(port('allowLater'), ['later'], { endAfterMs: 300 });
            assert.equal(reply.text, 'later');
        });

        it('closes the session with 500 when the handler throws, naming it', async () => {
            const reply = await tcpExchange(port('throws'), ['x']);
            assert.equal(reply.text, '');
            assert.deepEqual(await logged('throws'), ['500 -']);
            await nginx.waitForLog(/node_access "s\.throws" failed: Error: stream boom\n\s+at throws/);
        });

        it('closes the session with 500 when an async handler resolves without deciding', async () => {
            await tcpExchange(port('undecided'), ['x']);
            assert.deepEqual(await logged('undecided'), ['500 -']);
            await nginx.waitForLog(/node_access "s\.undecided" resolved without deciding; call s\.allow\(\), s\.deny\(\), s\.decline\(\) or s\.done\(\)/);
        });

        it('ends the session with the status s.done() gives', async () => {
            await tcpExchange(port('status503'), ['x']);
            assert.deepEqual(await logged('status503'), ['503 -']);
        });

        it('closes a session nothing decides at node_timeout, naming the handler', async () => {
            const reply = await tcpExchange(port('timeout'), ['x']);
            assert.equal(reply.closedByPeer, true);
            await nginx.waitForLog(/node_access "s\.neverDecides" did not decide within 300ms \(node_timeout\); closing the session/);
        });
    });

    describe('node_preread', () => {
        it('decides on a first line that comes in several segments, and the data goes on', async () => {
            const reply = await tcpExchange(port('preread'), ['o', 'k 1', '\nthe rest'], { gapMs: 50, endAfterMs: 300 });
            assert.equal(reply.text, 'ok 1\nthe rest');
        });

        it('denies on a bad first line', async () => {
            const reply = await tcpExchange(port('preread'), ['bad\n']);
            assert.equal(reply.text, '');
        });

        it('gives Buffers to an upstream callback', async () => {
            const reply = await tcpExchange(port('prereadBytes'), [Buffer.from([0xca, 0xfe]), Buffer.from([0xba, 0xbe, 1])], { gapMs: 50 });
            assert.equal(reply.text, 'magic cafebabe\n');
        });

        it('gives Buffers of ASCII data to an upstream callback too', async () => {
            const reply = await tcpExchange(port('prereadBytes'), ['GE', 'T /'], { gapMs: 50 });
            assert.equal(reply.text, `magic ${Buffer.from('GET ').toString('hex')}\n`);
        });

        it('refuses s.send() outside a filter with a TypeError', async () => {
            const reply = await tcpExchange(port('prereadSend'), ['x']);
            assert.equal(reply.text, 'TypeError\n');
        });

        it('sets variables that node_set and the log see', async () => {
            const reply = await tcpExchange(port('prereadVariable'), ['ok variable\n']);
            assert.equal(reply.text, 'line=ok variable\n');
            assert.deepEqual(await logged('prereadVariable'), ['200 ok variable']);
        });

        it('gives a character cut between segments whole', async () => {
            const line = Buffer.from('ok h\u00e9llo\n');
            const reply = await tcpExchange(port('prereadVariable'), [line.subarray(0, 5), line.subarray(5)], { gapMs: 50 });
            assert.equal(reply.text, 'line=ok h\u00e9llo\n');
        });

        it('filters a session that node_preread let through, the data preread first', async () => {
            // the preread line is the filter's first chunk; the preread callback is not called again
            const reply = await tcpExchange(port('prereadFilter'), ['ok go\n', 'more'], { gapMs: 100, endAfterMs: 300 });
            assert.equal(reply.text.replace(/[[\]]/g, ''), 'OK GO\nMORE');
            assert.match(reply.text, /^\[OK GO\n/);
            assert.deepEqual(nginx.troubles(), []);
        });

        it('filters what follows a PROXY protocol header, which it does not see', async () => {
            const reply = await tcpExchange(port('filterProxyProtocol'), ['PROXY TCP4 192.0.2.1 127.0.0.1 4242 80\r\nabc', 'def'],
                { gapMs: 100, endAfterMs: 300 });
            assert.equal(reply.text.replace(/[[\]]/g, ''), 'ABCDEF');
            assert.deepEqual(nginx.troubles(), []);
        });

        it('closes with 400 when the preread buffer fills before a decision', async () => {
            await tcpExchange(port('bufferFull'), ['x'.repeat(100)]);
            assert.deepEqual(await logged('bufferFull'), ['400 -']);
        });
    });

    describe('node_set', () => {
        it('awaits an async value after preread, before proxy_pass uses it', async () => {
            const reply = await tcpExchange(port('asyncSet'), ['via an async upstream'], { endAfterMs: 300 });
            assert.equal(reply.text, 'via an async upstream');
        });

        it('sees the same s as the session\'s other handlers', async () => {
            const reply = await tcpExchange(port('state'), []);
            assert.equal(reply.text, 'seen 127.0.0.1\n');
        });
    });

    describe('node_filter', () => {
        it('rewrites text both ways', async () => {
            const reply = await tcpExchange(port('filter'), ['hello'], { endAfterMs: 300 });
            assert.equal(reply.text, '[HELLO]');
        });

        it('passes text sent on unchanged as it came, ASCII or not, whole or cut', async () => {
            const ascii = 'abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(8000);
            const text = Buffer.from('h\u00e9llo \u20ac \u{1f600}\n');
            const parts = [ascii, text.subarray(0, 2), text.subarray(2, 9), text.subarray(9, 14), text.subarray(14), 'end\n', ascii + ascii];
            const reply = await tcpExchange(port('filterText'), parts, { gapMs: 30, endAfterMs: 300 });
            assert.deepEqual(reply.data, Buffer.concat(parts.map((part) => Buffer.from(part))));
        });

        it('gives a character cut between chunks whole, with the chunk that completes it', async () => {
            const smiley = Buffer.from('\u{1f600}');
            const parts = [
                Buffer.concat([Buffer.from('a'), smiley.subarray(0, 1)]), smiley.subarray(1, 3),
                Buffer.concat([smiley.subarray(3), Buffer.from('b')]), 'c', Buffer.from('d\u00e9e'),
            ];
            const reply = await tcpExchange(port('filterChunks'), parts, { gapMs: 50, endAfterMs: 300 });
            assert.equal(reply.text, '<a><><\u{1f600}b><c><d\u00e9e>');
        });

        it('sends a chunk\'s string twice when a callback sends it twice', async () => {
            const reply = await tcpExchange(port('filterTwice'), ['ab', 'cd'], { gapMs: 50, endAfterMs: 300 });
            assert.equal(reply.text, 'ababcdcd');
        });

        it('sends a chunk\'s text and then what follows it in that order', async () => {
            const reply = await tcpExchange(port('filterMarks'), ['ab', 'cd', 'ef'], { gapMs: 50, endAfterMs: 300 });
            assert.equal(reply.text, 'ab.cd.ef.');
        });

        for (const [server, when, suffix] of [
            ['filterTextHalfClose', 'in its call', ''], ['filterAfterAwait', 'after an await', ', after an await'],
            ['filterTextLarge', 'in its call, in chunks of up to 1 MB', ''],
            ['filterRate', 'after an await, under proxy_upload_rate and proxy_download_rate', ', after an await'],
        ] as const) {
            it(`sends each chunk's text on ${when}, megabytes both ways, byte for byte`, async () => {
                const line = (i: number) => `${i} the quick brown fox jumps over the lazy dog\n`;
                const ascii = Array.from({ length: 60000 }, (_, i) => line(i)).join('');
                const mixed = Buffer.from('h\u00e9llo \u20ac \u{1f600}\n'.repeat(20000));
                const parts = [ascii, mixed.subarray(0, 100001), mixed.subarray(100001), ascii];
                const sent = Buffer.concat(parts.map((part) => Buffer.from(part)));
                assert.ok(sent.length > 5_000_000);
                // (a few sessions: the end of the upload while the download flows is a race)
                for (let session = 1; session <= 3; session++) {
                    const reply = await tcpExchange(port(server), parts, { halfClose: true, timeoutMs: 20000 });
                    assert.equal(reply.data.length, sent.length, `session ${session}`);
                    assert.ok(reply.data.equals(sent), `session ${session}: what came back is what was sent`);
                }
                assert.deepEqual(nginx.troubles(), []);
                if (LOG_LEVEL === 'debug') {
                    // the ASCII chunks went on themselves, not as copies: nginx's debug log says so
                    const forwarded = nginx.errorLog().match(new RegExp(`the chunk goes on \\(\\d+ bytes${suffix}\\)`, 'g')) ?? [];
                    assert.ok(forwarded.length >= 10, `chunks that went on themselves: ${forwarded.length}`);
                }
            });
        }

        it('keeps the text of chunks of up to 1 MB intact while a callback holds it', async () => {
            const ascii = Array.from({ length: 80000 }, (_, i) => `${i} keep me as I came\n`).join('');
            const mixed = 'h\u00e9llo \u20ac\n'.repeat(50000);
            const parts = [ascii, mixed, ascii, ascii.toUpperCase()];
            const sent = Buffer.concat(parts.map((part) => Buffer.from(part)));
            const reply = await tcpExchange(port('filterKeeps'), parts, { halfClose: true, timeoutMs: 20000 });
            assert.equal(reply.data.length, sent.length);
            assert.ok(reply.data.equals(sent), 'what came back is what was sent');
        });

        it('keeps the empty sends of a backed-up side apart from what the other side sends meanwhile', async () => {
            // the client reads nothing at first: nginx holds the download's chunks and empty
            // flushes until it can write them; the upload's copies must not reuse their buffers
            const upload = Array.from({ length: floodUpload / 4096 }, (_, i) => Buffer.alloc(4096, 97 + (i % 26)));
            const reply = await tcpExchange(port('filterFlushes'), upload, { gapMs: 15, readAfterMs: 1500, timeoutMs: 20000 });
            const expected = Buffer.from(floodText + uploadSummary(Buffer.concat(upload)));
            assert.equal(reply.data.length, expected.length);
            assert.ok(reply.data.equals(expected), 'the download, then what the upstream got of the upload');
            assert.deepEqual(nginx.troubles(), []);
        });

        it('rewrites bytes', async () => {
            const sent = Buffer.from([0, 1, 2, 0xfe, 0xff]);
            const reply = await tcpExchange(port('filterBytes'), [sent], { endAfterMs: 300 });
            assert.deepEqual(reply.data, sent, 'flipped on the way up and back');
        });

        it('waits for async callbacks, in order, and s.send() works after the await', async () => {
            const reply = await tcpExchange(port('filterAsync'), ['a', 'b', 'c'], { gapMs: 5, endAfterMs: 500 });
            const parts = reply.text.split('|').filter(Boolean);
            assert.deepEqual(parts.map((part) => Number(part.split(':')[0])), parts.map((_, i) => i + 1), 'in order');
            assert.equal(parts.map((part) => part.split(':')[1]).join(''), 'abc');
        });

        it('goes on after async callbacks that settle in their own call (no await in them)', async () => {
            // each callback's promise is fulfilled in the call's own promise reactions: the
            // direction must not wait for a settling that has already come (it did, until
            // node_timeout, after the first chunk)
            const text = Array.from({ length: 20000 }, (_, i) => `${i} no await here\n`).join('');
            const reply = await tcpExchange(port('filterAsyncNoAwait'), [text], { halfClose: true, timeoutMs: 4000 });
            assert.equal(reply.data.length, text.length);
            assert.equal(reply.text, text.toUpperCase());
            assert.deepEqual(await logged('filterAsyncNoAwait'), ['200 -']);
        });

        it('keeps a side\'s end apart from the other side\'s data while the writer holds what a callback sent', async () => {
            // the client's end passes (no upload callback) behind the 64 KB sends the upstream
            // does not read yet; nginx's proxy takes its empty buffer back at once and fills it
            // with the download's next read: behind those sends, it went upstream, or was found
            // empty there ("zero size buf in writer", the upload cut)
            const reply = await tcpExchange(port('filterAcks'), ['hello'], { endAfterMs: 500, timeoutMs: 20000 });
            assert.equal(reply.data.length, acksDownload.length);
            assert.equal(reply.text, acksDownload);
            assert.equal(slowReaderGot.length, 1);
            const got = (await slowReaderGot[0]).toString('latin1');
            assert.equal(got.length, 5 + 150 * 65536, 'hello and every 64 KB send reached the upstream');
            assert.equal(got.replace('hello', '').replace(/a/g, ''), '', 'and nothing else');
            assert.deepEqual(nginx.troubles(), []);
        });

        it('sends on the start of a character cut at the end of the last chunk when the callback goes (s.off)', async () => {
            const sent = Buffer.from('abc\u00e9-def');
            const reply = await tcpExchange(port('filterOff'), [sent.subarray(0, 4), sent.subarray(4)], { gapMs: 100, halfClose: true });
            assert.equal(reply.data.toString('hex'), sent.toString('hex'));
        });

        it('lets go of what one side sent while the other side\'s writer is stuck', async () => {
            // the client reads nothing of the upstream's 16 MB and uploads: the download's copy
            // that nginx cannot write kept every upload copy sent after it, with its memory
            // (our sent buffers are one list for both sides, reused from its head only)
            const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${nginx.workerPids()[0]}/status`, 'utf8'))?.[1]) * 1024;
            const client = new Socket();
            client.pause();
            client.on('error', () => { /* destroyed at the end */ });
            await new Promise<void>((resolve) => client.connect(port('filterStuckClient'), '127.0.0.1', resolve));
            const chunk = Buffer.alloc(65536, 'u');
            const upload = async (bytes: number) => {
                for (let sent = 0; sent < bytes; sent += chunk.length) {
                    if (!client.write(chunk)) await new Promise((resolve) => client.once('drain', resolve));
                }
                const until = greeterGot + bytes;
                for (let waited = 0; greeterGot < until - (4 << 20) && waited < 20000; waited += 20) await sleep(20);
            };
            try {
                await upload(32 << 20);
                const before = rss();
                await upload(64 << 20);
                const grown = rss() - before;
                assert.ok(grown < 24 << 20, `the worker grew by ${grown >> 20} MB while 64 MB went upstream`);
            } finally {
                client.destroy();
            }
        });

        it('sends to either side at once', async () => {
            const reply = await tcpExchange(port('filterBoth'), ['12345'], { endAfterMs: 300 });
            assert.equal(reply.text, 'ack 5\n12345');
        });

        it('keeps the order of sends in a callback, whether they name its direction or not', async () => {
            const reply = await tcpExchange(port('filterOrder'), ['x'], { endAfterMs: 300 });
            assert.equal(reply.text, 'abcx\n');
        });

        it('takes empty sends that are neither last nor flush, in the call and after an await', async () => {
            const reply = await tcpExchange(port('filterEmpty'), ['hello'], { endAfterMs: 400 });
            assert.equal(reply.text, 'hello');
            assert.deepEqual(nginx.troubles(), []);
        });

        it('ends the session with 500 when a callback throws', async () => {
            const reply = await tcpExchange(port('filterThrows'), ['x']);
            assert.equal(reply.closedByPeer, true);
            await nginx.waitForLog(/node_filter "s\.throwingFilter": its "upload" callback failed: Error: filter boom/);
            assert.deepEqual(await logged('filterThrows'), ['500 -']);
        });

        for (const [server, when, handler, error] of [
            ['filterThrowsFlooded', 'throws', 'throwingDownload', 'Error: download boom'],
            ['filterRejectsFlooded', 'rejects after an await', 'rejectingDownload', 'Error: download rejected'],
        ] as const) {
            it(`closes the upstream connection too when a callback ${when} while the upstream sends`, async () => {
                // the upstream goes on sending into the connection nginx must have closed with
                // the session (left open, it would wake a worker on a session that is gone)
                const connections = flood.connections;
                assert.equal(await floodClosed(), true, 'the upstream had no connection open before');
                const reply = await tcpExchange(port(server), [], { timeoutMs: 10000 });
                assert.equal(reply.closedByPeer, true);
                assert.equal(reply.data.length, 0);
                await nginx.waitForLog(new RegExp(`node_filter "s\\.${handler}": its "download" callback failed: ${error}`));
                assert.deepEqual(await logged(server), ['500 -']);
                assert.equal(flood.connections, connections + 1);
                assert.equal(await floodClosed(), true, 'nginx closed its connection to the upstream');
                assert.deepEqual(nginx.troubles(), [], 'no worker died');
                assert.equal((await tcpExchange(port('filter'), ['still here'], { endAfterMs: 300 })).text, '[STILL HERE]');
            });
        }
    });

    describe('UDP', () => {
        it('sends each datagram s.send() gives after an await, with the default flags', async () => {
            // a datagram goes out at a flush: without one the writer kept it (upstream) or
            // refused it ("shared connection is busy", to the client)
            assert.equal((await udpExchange(port('udpAfterAwait'), 'x'))?.toString(), 'A got x');
            assert.deepEqual(nginx.troubles(), []);
        });

        it('sends each s.send() as a datagram, flush: false or not', async () => {
            assert.equal((await udpExchange(port('udpUnflushed'), 'y'))?.toString(), 'A got y');
            assert.deepEqual(nginx.troubles(), []);
        });

        it('picks the upstream from the datagram', async () => {
            assert.equal((await udpExchange(port('udp'), 'a:one'))?.toString(), 'A got a:one');
            assert.equal((await udpExchange(port('udp'), 'b:two'))?.toString(), 'B got b:two');
            assert.equal((await udpExchange(port('udp'), 'a:three'))?.toString(), 'A got a:three');
        });
    });
});

describe('stream and http in one worker', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `node_import shared from ${fixture('shared-state.mjs')};`,
            server: 'location / { node_content shared.httpCount; }',
            stream: (ports) => `
    node_import shared from ${fixture('shared-state.mjs')};
    server { listen 127.0.0.1:${ports[0]}; node_access shared.streamCount; return "$stream_seen\\n"; }
    node_set $stream_seen shared.seen;`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('runs one Node.js: a module imported in both is one instance', async () => {
        assert.equal((await request(nginx.url('/'))).text, 'http 1 stream 0\n');
        assert.equal((await tcpExchange(nginx.streamPorts[0], [])).text, 'http 1 stream 1\n');
        assert.equal((await request(nginx.url('/'))).text, 'http 2 stream 1\n');
        assert.equal(nginx.errorLog().match(/Node\.js started in/g)?.length, 1);
    });
});

describe('stream sessions across reload and quit', () => {
    it('keeps a long-lived proxied session through a reload, with 2 workers', async () => {
        let upstreamSocket: import('node:net').Socket | undefined;
        const upstream = await tcpServer((socket) => {
            upstreamSocket = socket;
            socket.on('data', (data) => socket.write(data));
        });
        const nginx = await Nginx.start({
            workers: 2,
            stream: (ports) => `
    node_import s from ${fixture('stream.mjs')};
    server { listen 127.0.0.1:${ports[0]}; node_access s.allowAll; node_filter s.brackets; proxy_pass 127.0.0.1:${upstream.port}; }`,
        });
        try {
            const { Socket } = await import('node:net');
            const client = new Socket();
            let received = '';
            client.on('data', (data) => { received += data.toString(); });
            await new Promise<void>((resolve) => client.connect(nginx.port, '127.0.0.1', resolve));
            client.write('before');
            for (let i = 0; i < 100 && !received.includes('[BEFORE]'); i++) await sleep(20);
            await nginx.reload();
            client.write('after');
            for (let i = 0; i < 100 && !received.includes('[AFTER]'); i++) await sleep(20);
            assert.equal(received, '[BEFORE][AFTER]');
            client.end();
            upstreamSocket?.end();
            const status = await nginx.quit();
            assert.equal(status, 0);
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
            await upstream.close();
        }
    });
});

describe('stream filters over TLS', () => {
    let pki: TestPki;
    let nginx: Nginx;
    let echo: TcpServer;
    let tlsEcho: TcpServer;

    before(async () => {
        pki = makePki();
        echo = await echoServer();
        tlsEcho = await echoServer('', pki.server);
        const tls = `ssl_certificate ${pki.dir}/server.pem; ssl_certificate_key ${pki.dir}/server.key;`;
        nginx = await Nginx.start({
            streamPorts: 2,
            stream: (ports) => `
    node_import s from ${fixture('stream.mjs')};
    server { listen 127.0.0.1:${ports[0]} ssl; ${tls} node_filter s.brackets; proxy_pass 127.0.0.1:${echo.port}; }
    server {
        listen 127.0.0.1:${ports[1]} ssl; ${tls} node_filter s.forwardsAfterAwait;
        proxy_ssl on; proxy_pass 127.0.0.1:${tlsEcho.port};
    }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        await echo?.close();
        await tlsEcho?.close();
        pki?.remove();
        assert.deepEqual(troubles, []);
    });

    /** Over TLS to nginx: sends the parts, and reads until `expected` bytes came back. */
    function tlsExchange(port: number, parts: (string | Buffer)[], expected: number): Promise<Buffer> {
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = [];
            let got = 0;
            const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.caFile) }, () => {
                for (const part of parts) socket.write(part);
            });
            const timer = setTimeout(() => socket.destroy(new Error(`${got} of ${expected} bytes came back in 20 s`)), 20000);
            socket.on('data', (chunk: Buffer) => {
                chunks.push(chunk);
                got += chunk.length;
                if (got >= expected) socket.end();
            });
            socket.on('error', reject);
            socket.on('close', () => {
                clearTimeout(timer);
                resolve(Buffer.concat(chunks));
            });
        });
    }

    it('filters the decrypted data of a TLS session', async () => {
        const reply = await tlsExchange(nginx.streamPorts[0], ['hello over tls'], '[HELLO OVER TLS]'.length);
        assert.equal(reply.toString(), '[HELLO OVER TLS]');
    });

    it('filters both ways after an await with TLS on both sides, a megabyte byte for byte', async () => {
        const text = Array.from({ length: 25000 }, (_, i) => `${i} encrypted both ways\n`).join('');
        const sent = Buffer.concat([Buffer.from(text), Buffer.from('h\u00e9llo \u20ac\n'.repeat(20000))]);
        const reply = await tlsExchange(nginx.streamPorts[1], [sent.subarray(0, 300000), sent.subarray(300000)], sent.length);
        assert.equal(reply.length, sent.length);
        assert.ok(reply.equals(sent), 'what came back is what was sent');
    });
});
