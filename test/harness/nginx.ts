/**
 * A real nginx with the real module, on loopback ports picked at run time, for one test file.
 * Each instance has its own prefix directory (configuration, logs, temp files) under /tmp.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { MODULE, ROOT } from './paths';

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

export function configuration(port: number, options: NginxOptions): string {
    return `load_module ${MODULE};
${workerUser()}
worker_processes ${options.workers ?? 1};
error_log logs/error.log ${LOG_LEVEL};
pid logs/nginx.pid;
${options.main ?? ''}
events { worker_connections 1024; }
http {
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
}
`;
}

export interface CheckResult {
    ok: boolean;
    output: string;
}

export class Nginx {
    private process?: ChildProcess;
    private exit?: Promise<number | null>;

    private constructor(readonly prefix: string, readonly port: number) {}

    /** Writes the prefix (configuration, files) without starting anything. */
    static async prepare(options: NginxOptions): Promise<Nginx> {
        const prefix = mkdtempSync(join(tmpdir(), 'ngx-node-test-'));
        // workers run as nginx's default user (nobody): they must reach files and temp dirs
        chmodSync(prefix, 0o755);
        for (const dir of ['conf', 'logs', 'tmp']) mkdirSync(join(prefix, dir), { mode: 0o755 });
        // where handlers (running as nobody) may write files
        mkdirSync(join(prefix, 'data'));
        chmodSync(join(prefix, 'data'), 0o777);
        const instance = new Nginx(prefix, await freePort());
        for (const [name, content] of Object.entries(options.files ?? {})) instance.writeFile(name, content);
        instance.writeFile('conf/nginx.conf', withLogLevel(options.conf?.(instance.port) ?? configuration(instance.port, options)));
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
            if (await canConnect(this.port)) return;
            await sleep(20);
        }
        throw new Error(`nginx did not listen on ${this.port} within 10s: ${stderr}\n${this.errorLog()}`);
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
