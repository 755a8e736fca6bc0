/** TCP and UDP peers for stream tests: clients that send in parts, upstream servers. */
import { createSocket, RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import type { ServerIdentity } from './pki';

export interface Exchange {
    /** everything the server sent */
    data: Buffer;
    text: string;
    /** the server closed the connection (rather than the client's timeout) */
    closedByPeer: boolean;
}

export interface ExchangeOptions {
    /** pause between the parts, ms */
    gapMs?: number;
    /** after the last part: end the connection after this long (default: wait for the peer) */
    endAfterMs?: number;
    /** give up after this long (default 10 s) */
    timeoutMs?: number;
    /** half-close (FIN) after the last part */
    halfClose?: boolean;
    /** read nothing of what comes back for this long after connecting (the peer's writes back up) */
    readAfterMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Connects, sends the parts one by one, and collects what comes back until the connection ends. */
export function tcpExchange(port: number, parts: (string | Buffer)[], options: ExchangeOptions = {}): Promise<Exchange> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let closedByPeer = false;
        let ended = false;
        const socket = new Socket();
        const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 10000);
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => { closedByPeer = !ended; });
        socket.on('error', (error: NodeJS.ErrnoException) => {
            // a peer that closes with data unread resets the connection
            if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
                closedByPeer = !ended;
            } else {
                reject(error);
            }
        });
        socket.on('close', () => {
            clearTimeout(timer);
            const data = Buffer.concat(chunks);
            resolve({ data, text: data.toString('utf8'), closedByPeer });
        });
        if (options.readAfterMs !== undefined) {
            socket.pause();
            setTimeout(() => socket.resume(), options.readAfterMs);
        }
        socket.connect(port, '127.0.0.1', async () => {
            for (const [i, part] of parts.entries()) {
                if (i > 0 && options.gapMs) await sleep(options.gapMs);
                if (socket.destroyed) return;
                socket.write(part);
            }
            if (options.halfClose) socket.end();
            if (options.endAfterMs !== undefined) {
                await sleep(options.endAfterMs);
                ended = true;
                socket.end();
            }
        });
    });
}

export interface TcpServer {
    port: number;
    /** connections accepted so far */
    connections: number;
    /** connections open now */
    readonly open: number;
    close(): Promise<void>;
}

/** A TCP server on loopback, over TLS with `tls`; `onConnection` gets each (decrypted) socket. */
export async function tcpServer(onConnection: (socket: Socket) => void, tls?: ServerIdentity): Promise<TcpServer> {
    const sockets = new Set<Socket>();
    const result = { port: 0, connections: 0, get open() { return sockets.size; }, close: async () => {} };
    const accept = (socket: Socket) => {
        result.connections++;
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
        onConnection(socket);
    };
    const server: Server = tls ? createTlsServer(tls, accept) : createServer(accept);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    result.port = typeof address === 'object' && address ? address.port : 0;
    result.close = () => new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
    });
    return result;
}

/** Echoes what it gets, prefixed per connection if asked, over TLS with `tls`. */
export function echoServer(prefix = '', tls?: ServerIdentity): Promise<TcpServer> {
    return tcpServer((socket) => {
        if (prefix) socket.write(prefix);
        socket.pipe(socket);
    }, tls);
}

export interface UdpServer {
    port: number;
    /** datagrams received */
    received: Buffer[];
    close(): Promise<void>;
}

/** A UDP server answering each datagram with `answer(datagram)`. */
export async function udpServer(answer: (datagram: Buffer, from: RemoteInfo) => Buffer | string): Promise<UdpServer> {
    const socket: UdpSocket = createSocket('udp4');
    const received: Buffer[] = [];
    socket.on('message', (datagram, from) => {
        received.push(datagram);
        socket.send(answer(datagram, from), from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return {
        port: socket.address().port,
        received,
        close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
}

/** Sends one datagram and returns the first answer, or undefined after the timeout. */
export function udpExchange(port: number, datagram: string | Buffer, timeoutMs = 2000): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
        const socket = createSocket('udp4');
        const timer = setTimeout(() => {
            socket.close();
            resolve(undefined);
        }, timeoutMs);
        socket.on('message', (answer) => {
            clearTimeout(timer);
            socket.close();
            resolve(answer);
        });
        socket.send(datagram, port, '127.0.0.1');
    });
}
