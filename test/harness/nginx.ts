/**
 * A real nginx with the real module, on loopback ports picked at run time, for one test file.
 * Each instance has its own prefix directory (configuration, logs, temp files) under /tmp.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { MODULE, NGINX_STREAM_MODULE, ROOT, STREAM_MODULE } from './paths';

export const NGINX = '/usr/sbin/nginx';

export interface NginxOptions {
    /** directives of the http {} block, outside the server */
    http?: string;
    /** the inside of the test server {} (it listens on the instance's port) */
    server?: string;
    /** top-level directives (node_option ...) */
    main?: string;
    /** parameters of the test server's listen directive (reuseport ...) */
    listen?: string;
    /** worker_processes; default 1 */
    workers?: number | 'auto';
    /** files to write into the prefix before start, by relative path */
    files?: Record<string, string>;
    /** a whole nginx.conf instead of the generated one, given the port */
    conf?: (port: number) => string;
    /**
     * the inside of a stream {} block, given ports of its own (streamPorts of them, default 1);
     * loads nginx's stream module and ours. Without `http` and `server`, there is no http {}
     * and the first stream port is the one waited for.
     */
    stream?: (ports: number[]) => string;
    streamPorts?: number;
}

/** A free TCP port on 127.0.0.1, as far as the kernel can tell now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
        });
    });
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = new Socket();
        socket.once('connect', () => {
            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
        socket.connect(port, '127.0.0.1');
    });
}

/**
 * Workers run as nginx's default user (nobody) when it can read the project, as they would in
 * production; where the project lies in a directory closed to others, they run as root.
 */
export function workerUser(): string {
    for (let dir = ROOT; dir !== dirname(dir); dir = dirname(dir)) {
        if ((statSync(dir).mode & 0o001) === 0) return 'user root;';
    }
    return '';
}

/**
 * The error_log level of every test nginx: info, or what NGX_NODE_TEST_LOG_LEVEL says (the suite
 * runs once more with "debug", so that nginx's debug logging of our events and timers is exercised).
 */
export const LOG_LEVEL = process.env.NGX_NODE_TEST_LOG_LEVEL ?? 'info';

/** A configuration's error_log lines at the suite's level. */
function withLogLevel(conf: string): string {
    return conf.replace(/^(\s*error_log\s+\S+)\s+\w+\s*;/gm, `$1 ${LOG_LEVEL};`);
}

/** Whether the configuration has an http {} block (and our http module). */
function hasHttp(options: NginxOptions): boolean {
    return options.stream === undefined || options.http !== undefined || options.server !== undefined;
}

export function configuration(port: number, options: NginxOptions, streamPorts: number[] = []): string {
    const http = hasHttp(options);
    const modules = [
        ...(http ? [MODULE] : []),
        ...(options.stream ? [NGINX_STREAM_MODULE, STREAM_MODULE] : []),
    ].map((module) => `load_module ${module};`).join('\n');
    return `${modules}
${workerUser()}
worker_processes ${options.workers ?? 1};
error_log logs/error.log ${LOG_LEVEL};
pid logs/nginx.pid;
${options.main ?? ''}
events { worker_connections 1024; }
${http ? `http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
${options.http ?? ''}
    server {
        listen 127.0.0.1:${port} ${options.listen ?? ''};
${options.server ?? ''}
    }
}` : ''}
${options.stream ? `stream {
${options.stream(streamPorts)}
}` : ''}
`;
}

export interface CheckResult {
    ok: boolean;
    output: string;
}

export class Nginx {
    private process?: ChildProcess;
    private exit?: Promise<number | null>;

    /** the port waited for: the http server's, else the first stream port */
    private constructor(readonly prefix: string, readonly port: number, readonly streamPorts: number[] = []) {}

    /** Writes the prefix (configuration, files) without starting anything. */
    static async prepare(options: NginxOptions): Promise<Nginx> {
        const prefix = mkdtempSync(join(tmpdir(), 'ngx-node-test-'));
        // workers run as nginx's default user (nobody): they must reach files and temp dirs
        chmodSync(prefix, 0o755);
        for (const dir of ['conf', 'logs', 'tmp']) mkdirSync(join(prefix, dir), { mode: 0o755 });
        // where handlers (running as nobody) may write files
        mkdirSync(join(prefix, 'data'));
        chmodSync(join(prefix, 'data'), 0o777);
        const streamPorts: number[] = [];
        while (options.stream && streamPorts.length < (options.streamPorts ?? 1)) {
            const candidate = await freePort();
            if (!streamPorts.includes(candidate)) streamPorts.push(candidate);
        }
        let port = streamPorts[0];
        while (hasHttp(options) && (port === undefined || streamPorts.includes(port))) port = await freePort();
        const instance = new Nginx(prefix, port, streamPorts);
        for (const [name, content] of Object.entries(options.files ?? {})) instance.writeFile(name, content);
        instance.writeFile('conf/nginx.conf', withLogLevel(options.conf?.(instance.port) ?? configuration(instance.port, options, streamPorts)));
        return instance;
    }

    static async start(options: NginxOptions): Promise<Nginx> {
        const instance = await Nginx.prepare(options);
        await instance.run();
        return instance;
    }

    path(name: string): string {
        return join(this.prefix, name);
    }

    writeFile(name: string, content: string): void {
        mkdirSync(dirname(this.path(name)), { recursive: true, mode: 0o755 });
        writeFileSync(this.path(name), content, { mode: 0o644 });
    }

    private args(...extra: string[]): string[] {
        return ['-p', this.prefix, '-c', 'conf/nginx.conf', ...extra];
    }

    /** nginx -t */
    check(): CheckResult {
        const result = spawnSync(NGINX, this.args('-t'), { encoding: 'utf8' });
        return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
    }

    async run(): Promise<void> {
        const child = spawn(NGINX, this.args('-g', 'daemon off;'), { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
        this.process = child;
        this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
        const deadline = Date.now() + 10000;
        while (Date.now() < deadline) {
            if (child.exitCode !== null) {
                throw new Error(`nginx exited with ${child.exitCode}: ${stderr}\n${this.errorLog()}`);
            }
            if (await canConnect(this.port)) {
                await this.waitForWorkers(0, deadline);
                return;
            }
            await sleep(20);
        }
        throw new Error(`nginx did not listen on ${this.port} within 10s: ${stderr}\n${this.errorLog()}`);
    }

    /**
     * The listening sockets accept (into their backlog) before any worker is ready: with Node.js
     * in the configuration, waits until each worker that started since `logOffset` has its
     * Node.js up (or says why not), so that a test's first bytes are not left in a backlog.
     */
    private async waitForWorkers(logOffset: number, deadline: number): Promise<void> {
        if (!/\bnode_(import|path)\b/.test(readFileSync(this.path('conf/nginx.conf'), 'utf8'))) return;
        for (;;) {
            const log = this.errorLog().slice(logOffset);
            const started = (log.match(/start worker process \d+/g) ?? []).length;
            const ready = (log.match(/ngx-node: (Node\.js started in|Node\.js did not start)/g) ?? []).length;
            if (started > 0 && ready >= started) return;
            if (Date.now() > deadline) throw new Error(`the workers did not start Node.js within 10s:\n${log}`);
            await sleep(20);
        }
    }

    get masterPid(): number {
        if (this.process?.pid === undefined) throw new Error('nginx is not running');
        return this.process.pid;
    }

    /** The pids of the master's children (workers). */
    workerPids(): number[] {
        const pids: number[] = [];
        for (const entry of readdirSync('/proc')) {
            if (!/^\d+$/.test(entry)) continue;
            try {
                const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
                const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
                if (Number(fields[1]) === this.masterPid && fields[0] !== 'Z') pids.push(Number(entry));
            } catch {
                // gone meanwhile
            }
        }
        return pids.sort((a, b) => a - b);
    }

    errorLog(): string {
        const file = this.path('logs/error.log');
        return existsSync(file) ? readFileSync(file, 'utf8') : '';
    }

    /** Waits until the error log matches, or throws after timeoutMs. */
    async waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<string> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const match = pattern.exec(this.errorLog());
            if (match) return match[0];
            if (Date.now() > deadline) throw new Error(`error log never matched ${pattern}:\n${this.errorLog()}`);
            await sleep(20);
        }
    }

    /** Lines of the error log that mean something went badly: crashes, alerts. */
    troubles(): string[] {
        return this.errorLog().split('\n').filter((line) =>
            /\[(alert|crit|emerg)\]|exited on signal|core dumped|open socket .* left/.test(line));
    }

    /** nginx -s reload; resolves once new workers started and the old ones stopped accepting. */
    async reload(): Promise<void> {
        const before = this.errorLog().length;
        const stopping = (pid: number, log: string) => new RegExp(`${pid}#\\d+: gracefully shutting down`).test(log);
        // a worker still finishing an earlier reload is not one this reload replaces
        const oldWorkers = this.workerPids().filter((pid) => !stopping(pid, this.errorLog()));
        process.kill(this.masterPid, 'SIGHUP');
        const deadline = Date.now() + 10000;
        const done = (log: string) => /start worker process/.test(log) &&
            oldWorkers.every((pid) => stopping(pid, log));
        while (!done(this.errorLog().slice(before))) {
            if (/\[emerg\]/.test(this.errorLog().slice(before))) throw new Error(`reload failed:\n${this.errorLog().slice(before)}`);
            if (Date.now() > deadline) throw new Error(`reload did not finish:\n${this.errorLog().slice(before)}`);
            await sleep(20);
        }
        await this.waitForWorkers(before, deadline);
    }

    /** Starts nginx again on the same prefix and configuration, after quit(). */
    async restart(): Promise<this> {
        await this.run();
        return this;
    }

    /** Graceful stop (nginx -s quit); resolves to nginx's exit code. */
    async quit(): Promise<number | null> {
        if (!this.process || this.process.exitCode !== null) return this.process?.exitCode ?? null;
        process.kill(this.masterPid, 'SIGQUIT');
        return this.exit ?? null;
    }

    /** Stops nginx if it runs and removes the prefix. */
    async destroy(): Promise<void> {
        if (this.process && this.process.exitCode === null) {
            process.kill(this.masterPid, 'SIGQUIT');
            const exited = await Promise.race([this.exit, sleep(10000).then(() => 'timeout' as const)]);
            if (exited === 'timeout') process.kill(this.masterPid, 'SIGKILL');
        }
        if (!process.env.NGX_NODE_KEEP_PREFIX) rmSync(this.prefix, { recursive: true, force: true });
    }

    url(path: string): string {
        return `http://127.0.0.1:${this.port}${path}`;
    }
}
