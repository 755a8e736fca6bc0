/**
 * Many requests pending at once: N connections, each a request whose handler awaits a 1 s
 * timer. Reports errors, wall time and how the worker's RSS grows per pending request.
 */
import { Socket } from 'node:net';

import { rssKB } from './proc';

export interface ConcurrencyResult {
    connections: number;
    ok: number;
    errors: number;
    wallMs: number;
    /** until every request had been sent */
    sendMs: number;
    rssBeforeKB: number;
    rssPeakKB: number;
    perPendingKB: number;
}

function oneRequest(port: number, path: string, sockets: Socket[]): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = new Socket();
        sockets.push(socket);
        let head = '';
        socket.setTimeout(30000, () => socket.destroy());
        socket.on('data', (chunk: Buffer) => { if (head.length < 16) head += chunk.toString('latin1'); });
        socket.on('error', () => resolve(false));
        socket.on('close', () => resolve(head.startsWith('HTTP/1.1 200')));
        socket.connect(port, '127.0.0.1', () => {
            socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`);
        });
    });
}

export async function pendingRequests(port: number, path: string, connections: number, workerPid: number): Promise<ConcurrencyResult> {
    const rssBeforeKB = rssKB(workerPid);
    let rssPeakKB = rssBeforeKB;
    const sampler = setInterval(() => { rssPeakKB = Math.max(rssPeakKB, rssKB(workerPid)); }, 20);
    const sockets: Socket[] = [];
    const started = Date.now();
    const replies: Promise<boolean>[] = [];
    // in batches, so that the listen queue is not what is measured
    for (let i = 0; i < connections; i += 500) {
        for (let j = i; j < Math.min(connections, i + 500); j++) replies.push(oneRequest(port, path, sockets));
        await new Promise((resolve) => setImmediate(resolve));
    }
    const sendMs = Date.now() - started;
    const results = await Promise.all(replies);
    const wallMs = Date.now() - started;
    clearInterval(sampler);
    const ok = results.filter(Boolean).length;
    return {
        connections, ok, errors: connections - ok, wallMs, sendMs, rssBeforeKB, rssPeakKB,
        perPendingKB: (rssPeakKB - rssBeforeKB) / connections,
    };
}
