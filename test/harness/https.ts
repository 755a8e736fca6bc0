/** HTTPS servers on loopback for tests: each answers "secure <path>" as text. */
import { createServer, ServerOptions } from 'node:https';

export interface Peer {
    port: number;
    close(): Promise<void>;
}

export async function httpsPeer(options: ServerOptions): Promise<Peer> {
    const server = createServer(options, (req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end(`secure ${req.url}`);
    });
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
