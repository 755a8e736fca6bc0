/**
 * A forward HTTP proxy on loopback, as tests need one: absolute-form requests (GET
 * http://host/path) are passed on, CONNECT opens a tunnel. It notes each request line and
 * the Proxy-Authorization that came with it. It refuses a CONNECT without credentials (407)
 * and one to a host named "forbidden.test" (403), as proxies with rules do.
 */
import { createServer, IncomingMessage, request, Server } from 'node:http';
import { connect, Socket } from 'node:net';

export interface ProxySeen {
    line: string;
    authorization: string | undefined;
}

export interface Proxy {
    port: number;
    seen: ProxySeen[];
    close(): Promise<void>;
}

function note(seen: ProxySeen[], req: IncomingMessage): void {
    seen.push({ line: `${req.method} ${req.url}`, authorization: req.headers['proxy-authorization'] });
}

export async function forwardProxy(): Promise<Proxy> {
    const seen: ProxySeen[] = [];
    const sockets = new Set<Socket>();
    const server: Server = createServer((req, res) => {
        note(seen, req);
        const target = new URL(req.url ?? '/');
        const headers = { ...req.headers };
        delete headers['proxy-authorization'];
        const onward = request({
            host: target.hostname, port: target.port, path: target.pathname + target.search,
            method: req.method, headers, agent: false,
        }, (reply) => {
            res.writeHead(reply.statusCode ?? 502, reply.headers);
            reply.pipe(res);
        });
        onward.on('error', () => res.destroy());
        req.pipe(onward);
    });
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
        note(seen, req);
        const [host, port] = (req.url ?? '').split(':');
        const refusal = req.headers['proxy-authorization'] === undefined ? '407 Proxy Authentication Required'
            : host === 'forbidden.test' ? '403 Forbidden' : undefined;
        if (refusal !== undefined) {
            client.end(`HTTP/1.1 ${refusal}\r\nContent-Length: 0\r\n\r\n`);
            return;
        }
        const tunnel = connect(Number(port), host, () => {
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            tunnel.write(head);
            tunnel.pipe(client);
            client.pipe(tunnel);
        });
        for (const socket of [client, tunnel]) {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
            socket.on('error', () => {
                client.destroy();
                tunnel.destroy();
            });
        }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return {
        port: typeof address === 'object' && address ? address.port : 0,
        seen,
        close: () => new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
