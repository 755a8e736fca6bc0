/**
 * A redis-server of the test's own (Debian's redis-server package), on a loopback port picked at
 * run time, with nothing saved to disk. It is stopped by its PID; a system Redis is never used.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, sleep } from './nginx';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Sends one command (RESP) and returns the first reply line, e.g. "+PONG" or ":14". */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = new Socket();
        let reply = '';
        socket.setTimeout(5000, () => socket.destroy(new Error(`redis on ${port} did not answer ${args[0]}`)));
        socket.on('error', reject);
        socket.on('data', (chunk: Buffer) => {
            reply += chunk.toString('latin1');
            const end = reply.indexOf('\r\n');
            if (end < 0) return;
            // a bulk string: its length line, then the value
            const first = reply.slice(0, end);
            if (first.startsWith('$') && first !== '$-1') {
                const length = Number(first.slice(1));
                if (reply.length < end + 2 + length + 2) return;
                socket.destroy();
                resolve(reply.slice(end + 2, end + 2 + length));
                return;
            }
            socket.destroy();
            resolve(first);
        });
        socket.connect(port, '127.0.0.1', () => {
            socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
        });
    });
}

export class RedisServer {
    private process?: ChildProcess;
    private exit?: Promise<void>;
    private output = '';

    private constructor(readonly port: number, private readonly dir: string) {}

    /** Starts a redis-server on a free loopback port (or `port`) and waits until it answers PING. */
    static async start(port?: number): Promise<RedisServer> {
        const server = new RedisServer(port ?? await freePort(), mkdtempSync(join(tmpdir(), 'ngx-node-redis-')));
        try {
            await server.run();
        } catch (error) {
            await server.destroy();
            throw error;
        }
        return server;
    }

    get url(): string {
        return `redis://127.0.0.1:${this.port}`;
    }

    get pid(): number | undefined {
        return this.process?.exitCode === null ? this.process.pid : undefined;
    }

    get running(): boolean {
        return this.pid !== undefined;
    }

    /** Starts it (again, on the same port: empty, as nothing is saved). */
    async run(): Promise<void> {
        if (this.running) throw new Error('redis-server runs already');
        this.output = '';
        const child = spawn(REDIS_SERVER, [
            '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
            '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning',
        ], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
        child.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
        this.process = child;
        this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
        const deadline = Date.now() + 10000;
        for (;;) {
            if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${this.output}`);
            try {
                if (await redisCommand(this.port, 'PING') === '+PONG') return;
            } catch {
                // not listening yet
            }
            if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${this.port} within 10s: ${this.output}`);
            await sleep(20);
        }
    }

    /** One command to this server (see redisCommand). */
    command(...args: string[]): Promise<string> {
        return redisCommand(this.port, ...args);
    }

    /** Stops it by its PID (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
    async stop(): Promise<void> {
        const child = this.process;
        if (!child || child.exitCode !== null || child.pid === undefined) return;
        child.kill('SIGTERM');
        const exited = await Promise.race([this.exit, sleep(10000).then(() => 'timeout' as const)]);
        if (exited === 'timeout') {
            child.kill('SIGKILL');
            await this.exit;
        }
    }

    /** Stops or resumes it without closing its connections (SIGSTOP / SIGCONT): a Redis that hangs. */
    pause(paused: boolean): void {
        if (this.process?.pid === undefined || this.process.exitCode !== null) throw new Error('redis-server is not running');
        this.process.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    }

    /** Stops it and removes its directory. */
    async destroy(): Promise<void> {
        if (this.running) {
            try {
                this.pause(false);
            } catch {
                // gone meanwhile
            }
        }
        await this.stop();
        rmSync(this.dir, { recursive: true, force: true });
    }
}
