/** Upstream servers for tests: real HTTP servers on loopback, counting what they saw. */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

export interface Upstream {
    port: number;
    /** requests seen, "METHOD /path" */
    seen: string[];
    close(): Promise<void>;
}

export async function upstream(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<Upstream> {
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
            seen.push(`${req.method} ${req.url}`);
            handler(req, res, Buffer.concat(chunks));
        });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return {
        port: typeof address === 'object' && address ? address.port : 0,
        seen,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
