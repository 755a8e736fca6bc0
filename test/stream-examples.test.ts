/**
 * examples/stream/, against real peers: MQTT sticky sessions (the mqtt client and aedes
 * brokers from npm), protocol detection on one port (a real TLS ClientHello), TCP auth with
 * fetch, and a line protocol rewritten both ways over megabytes.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';

import Aedes from 'aedes';
import mqtt from 'mqtt';

import { parseConnect } from '../examples/stream/mqtt';
import { Nginx, sleep } from './harness/nginx';
import { ROOT } from './harness/paths';
import { tcpExchange, TcpServer, tcpServer } from './harness/tcp';
import { Upstream, upstream } from './harness/upstream';

const example = (name: string) => join(ROOT, 'examples', 'stream', name);

interface Broker {
    port: number;
    clientIds: string[];
    close(): Promise<void>;
}

async function broker(): Promise<Broker> {
    const aedes = new Aedes();
    const clientIds: string[] = [];
    aedes.on('client', (client) => clientIds.push(client.id));
    const server: Server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return {
        port: typeof address === 'object' && address ? address.port : 0,
        clientIds,
        close: () => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))),
    };
}

/** A CONNECT packet (MQTT 3.1.1, or 5 with no properties; clean session) for a client id. */
function connectPacket(clientId: string, version: 4 | 5 = 4): Buffer {
    const id = Buffer.from(clientId);
    const variable = Buffer.concat([Buffer.from([0, 4]), Buffer.from('MQTT'), Buffer.from([version, 2, 0, 60]),
        Buffer.from(version === 5 ? [0] : [])]);
    const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
    const length = variable.length + payload.length;
    return Buffer.concat([Buffer.from([0x10, length]), variable, payload]);
}

/** A server that records the first bytes of each connection and closes it. */
async function recorder(): Promise<TcpServer & { seen: Buffer[] }> {
    const seen: Buffer[] = [];
    const server = await tcpServer((socket) => {
        socket.once('data', (data: Buffer) => {
            seen.push(data);
            socket.end('recorded\n');
        });
    });
    return Object.assign(server, { seen });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('stream examples', () => {
    let nginx: Nginx;
    let brokers: Broker[];
    let tls: Awaited<ReturnType<typeof recorder>>;
    let http: Awaited<ReturnType<typeof recorder>>;
    let other: Awaited<ReturnType<typeof recorder>>;
    let auth: Upstream;
    let authed: TcpServer & { received: Buffer[] };
    let store: TcpServer & { received: Buffer[] };

    before(async () => {
        brokers = [await broker(), await broker(), await broker()];
        tls = await recorder();
        http = await recorder();
        other = await recorder();
        auth = await upstream((req, res) => {
            res.statusCode = new URL(req.url ?? '/', 'http://x').searchParams.get('token') === 'letmein' ? 200 : 403;
            res.end();
        });
        const authedReceived: Buffer[] = [];
        authed = Object.assign(await tcpServer((socket) => {
            socket.on('data', (data: Buffer) => {
                authedReceived.push(data);
                socket.write(`upstream got: ${data.toString()}`);
            });
        }), { received: authedReceived });
        // the tenant store echoes every byte it gets: what comes back went up and down
        const storeReceived: Buffer[] = [];
        store = Object.assign(await tcpServer((socket) => {
            socket.on('data', (data: Buffer) => {
                storeReceived.push(data);
                socket.write(data);
            });
        }), { received: storeReceived });

        nginx = await Nginx.start({
            streamPorts: 4,
            stream: ([mqttPort, detectPort, authPort, linesPort]) => `
    node_import mqtt from ${example('mqtt.ts')};
    node_import detect from ${example('detect.ts')};
    node_import auth from ${example('auth.ts')};
    node_import lines from ${example('lines.ts')};

    upstream brokers {
        hash $mqtt_client_id consistent;
        ${brokers.map((b) => `server 127.0.0.1:${b.port};`).join('\n        ')}
    }
    server {
        listen 127.0.0.1:${mqttPort};
        preread_buffer_size 2k;
        node_preread mqtt.readClientId;
        node_set $mqtt_client_id mqtt.clientId;
        proxy_pass brokers;
    }
    server {
        listen 127.0.0.1:${detectPort};
        set $tls_upstream 127.0.0.1:${tls.port};
        set $http_upstream 127.0.0.1:${http.port};
        set $other_upstream 127.0.0.1:${other.port};
        node_preread detect.protocol;
        node_set $detected_upstream detect.upstream;
        proxy_pass $detected_upstream;
    }
    server {
        listen 127.0.0.1:${authPort};
        set $auth_url http://127.0.0.1:${auth.port}/check;
        node_preread auth.authenticate;
        node_filter auth.dropAuthLine;
        proxy_pass 127.0.0.1:${authed.port};
    }
    server {
        listen 127.0.0.1:${linesPort};
        set $tenant t1;
        node_filter lines.tenantKeys;
        proxy_pass 127.0.0.1:${store.port};
    }`,
        });
    });

    after(async () => {
        for (const peer of [...(brokers ?? []), tls, http, other, authed, store]) await peer?.close();
        await auth?.close();
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    const [mqttPort, detectPort, authPort, linesPort] = [0, 1, 2, 3].map((i) => () => nginx.streamPorts[i]);

    describe('MQTT sticky sessions', () => {
        /** Connects an mqtt client through nginx; resolves once the broker has accepted it. */
        async function connectClient(clientId: string): Promise<void> {
            const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort()}`, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
            await new Promise<void>((resolve, reject) => {
                client.once('connect', () => resolve());
                client.once('error', reject);
            });
            await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
        }

        const brokerOf = (clientId: string) => brokers.map((b) => b.clientIds.includes(clientId));

        it('sends every connection of a client id to the same broker, and spreads the ids', async () => {
            const ids = Array.from({ length: 12 }, (_, i) => `sensor-${i}`);
            for (let round = 0; round < 3; round++) {
                for (const id of ids) await connectClient(id);
            }
            for (const id of ids) {
                const where = brokerOf(id);
                assert.equal(where.filter(Boolean).length, 1, `${id} went to one broker`);
                const broker = brokers[where.indexOf(true)];
                assert.equal(broker.clientIds.filter((seen) => seen === id).length, 3, `all three connections of ${id}`);
            }
            assert.ok(brokers.filter((b) => b.clientIds.length > 0).length >= 2, 'ids are spread over brokers');
        });

        it('reads a client id that TCP cuts into pieces', async () => {
            const packet = connectPacket('cut-into-pieces');
            const pieces = [...packet].map((byte) => Buffer.from([byte]));
            const reply = await tcpExchange(mqttPort(), pieces, { gapMs: 5, endAfterMs: 300 });
            assert.equal(reply.data[0], 0x20, 'a CONNACK came back');
            assert.equal(brokerOf('cut-into-pieces').filter(Boolean).length, 1);
        });

        it('reads an MQTT 5 CONNECT (its broker here speaks 3.1.1 and refuses it: a CONNACK comes back)', async () => {
            const reply = await tcpExchange(mqttPort(), [connectPacket('five', 5)], { endAfterMs: 300 });
            assert.equal(reply.data[0], 0x20, 'a CONNACK came back');
            await nginx.waitForLog(/MQTT 5 client "five"/);
        });

        it('refuses what is not a CONNECT, and a malformed one, and says why', async () => {
            const before = brokers.map((b) => b.clientIds.length);
            const notConnect = await tcpExchange(mqttPort(), [Buffer.from([0x30, 2, 0, 0])]);
            assert.equal(notConnect.text, '');
            await nginx.waitForLog(/MQTT: not an MQTT CONNECT packet \(first byte 0x30\); closing the connection/);
            const badName = Buffer.from([0x10, 8, 0, 4, ...Buffer.from('MQTX'), 4, 2]);
            assert.equal((await tcpExchange(mqttPort(), [badName])).text, '');
            await nginx.waitForLog(/MQTT: unknown protocol name "MQTX"/);
            assert.deepEqual(brokers.map((b) => b.clientIds.length), before);
        });

        it('never crashes on random or truncated packets', async () => {
            for (let i = 0; i < 2000; i++) {
                const packet = i % 2 ? randomBytes(i % 64) : connectPacket(`c${i}`).subarray(0, i % 30);
                if (i % 4 === 1) packet[0] = 0x10;
                const result = parseConnect(packet);
                assert.ok(['incomplete', 'invalid', 'connect'].includes(result.kind));
            }
            for (let i = 0; i < 20; i++) {
                await tcpExchange(mqttPort(), [Buffer.concat([Buffer.from([0x10]), randomBytes(40)])], { endAfterMs: 50 });
            }
            assert.deepEqual(nginx.troubles(), []);
        });
    });

    describe('protocol detection on one port', () => {
        it('sends TLS to the TLS upstream, reading the server name', async () => {
            const socket = tlsConnect({ port: detectPort(), host: '127.0.0.1', servername: 'shop.example.test', rejectUnauthorized: false });
            socket.on('error', () => { /* the recorder is no TLS server */ });
            for (let i = 0; i < 100 && tls.seen.length === 0; i++) await sleep(20);
            socket.destroy();
            assert.equal(tls.seen.length, 1);
            assert.equal(tls.seen[0][0], 0x16, 'a TLS handshake record');
            await nginx.waitForLog(/TLS for "shop\.example\.test"/);
        });

        it('sends HTTP to the HTTP upstream, even when the method comes in pieces', async () => {
            const reply = await tcpExchange(detectPort(), ['GE', 'T / HTTP/1.1\r\nHost: x\r\n\r\n'], { gapMs: 30 });
            assert.equal(reply.text, 'recorded\n');
            assert.equal(http.seen.at(-1)?.toString().split('\r\n')[0], 'GET / HTTP/1.1');
        });

        it('sends anything else to the other upstream', async () => {
            const reply = await tcpExchange(detectPort(), ['SSH-2.0-OpenSSH_9.2\r\n']);
            assert.equal(reply.text, 'recorded\n');
            assert.match(other.seen.at(-1)?.toString() ?? '', /^SSH-2\.0/);
        });
    });

    describe('TCP auth with fetch', () => {
        it('lets a good token through; the upstream never sees the AUTH line', async () => {
            const reply = await tcpExchange(authPort(), ['AUTH let', 'mein\nhello\n'], { gapMs: 30, endAfterMs: 300 });
            assert.equal(reply.text, 'upstream got: hello\n');
            assert.equal(Buffer.concat(authed.received).toString(), 'hello\n');
        });

        it('closes a session with a bad token or no AUTH line; the upstream never sees it', async () => {
            const before = authed.connections;
            assert.equal((await tcpExchange(authPort(), ['AUTH wrong\nhello\n'])).text, '');
            await nginx.waitForLog(/the auth service refused the token \(403\); closing the connection/);
            assert.equal((await tcpExchange(authPort(), ['HELLO\n'])).text, '');
            await nginx.waitForLog(/the first line is not "AUTH <token>"; closing the connection/);
            assert.equal(authed.connections, before);
        });
    });

    describe('a line protocol rewritten both ways', () => {
        it('rewrites megabytes both ways, byte for byte, in order', async () => {
            const lines: string[] = [];
            for (let i = 0, size = 0; size < 4 * 1024 * 1024; i++) {
                const pair = [`SET key${i} ${randomBytes(24).toString('hex')}\n`, `GET key${i}\n`];
                lines.push(...pair);
                size += pair[0].length + pair[1].length;
            }
            const sent = Buffer.from(lines.join(''));
            const socket = new Socket();
            const received: Buffer[] = [];
            let total = 0;
            await new Promise<void>((resolve) => socket.connect(linesPort(), '127.0.0.1', resolve));
            const done = new Promise<void>((resolve, reject) => {
                socket.on('data', (data: Buffer) => {
                    received.push(data);
                    total += data.length;
                    if (total >= sent.length) resolve();
                });
                socket.on('error', reject);
                socket.on('close', () => resolve());
            });
            // in uneven pieces, so that lines are cut between chunks
            for (let at = 0; at < sent.length;) {
                const size = 1000 + Math.floor(Math.random() * 60000);
                socket.write(sent.subarray(at, at + size));
                at += size;
            }
            await done;
            socket.end();
            const back = Buffer.concat(received);
            assert.equal(back.length, sent.length);
            assert.equal(sha(back), sha(sent), 'what came back is what was sent');
            const upstreamSaw = Buffer.concat(store.received).toString();
            assert.equal(upstreamSaw, lines.join('').replace(/^(GET|SET) (\S+)/gm, '$1 t1:$2'), 'the store saw the tenant\'s keys');
        });
    });
});
