/**
 * A real nginx with ngx-node's module, on loopback ports picked at run time. Each instance has
 * its own prefix directory (logs, temp files, a generated configuration) under the system's
 * temporary directory. ngx-node's own test suite and `ngx-node/testing` are this one class.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { listenHostPort, statements } from '../tooling/conf';
import { findModules, findNginx, Modules, nginxStreamModule, PACKAGE_ROOT } from '../tooling/locate';
import { Reply, request, RequestOptions } from './http';

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
    /**
     * A whole configuration instead of the generated one: a function given the port that
     * returns its text, or the path (or file: URL) of an nginx.conf. From a file, a copy is
     * run (beside it, so that relative paths mean the same; removed by stop()) in which each
     * server's `listen` address is a free port on 127.0.0.1, ngx-node's modules are loaded,
     * and `error_log` and `pid` point into the prefix.
     */
    conf?: string | URL | ((port: number) => string);
    /**
     * the inside of a stream {} block, given ports of its own (streamPorts of them, default 1);
     * loads nginx's stream module and ours. Without `http` and `server`, there is no http {}
     * and the first stream port is the one waited for.
     */
    stream?: (ports: number[]) => string;
    streamPorts?: number;
    /**
     * A directory of handler files for `node_import` paths in `http`, `server` and `stream`
     * (added as `node_path`): relative paths are looked up there.
     */
    dir?: string | URL;
    /** error_log level; default $NGX_NODE_TEST_LOG_LEVEL, else info */
    logLevel?: string;
    /** the nginx binary; default $NGX_NODE_NGINX, /usr/sbin/nginx, or nginx in $PATH */
    nginx?: string;
    /** where ngx-node's modules are (see the CLI's --module-dir); default as the CLI finds them */
    moduleDir?: string;
    /**
     * a `user` directive for the workers, e.g. `user www-data;`; by default none, or
     * `user root;` when nginx runs as root and the handler files (or ngx-node's module) lie in
     * a directory that other users cannot enter (nginx's default worker user could not read
     * them)
     */
    user?: string;
    /**
     * how long start may take, ms (default 60000: a worker waits up to 30 s for its modules'
     * top-level code, and a busy machine is slow; a start that fails ends the wait at once)
     */
    startTimeoutMs?: number;
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

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
export function canConnect(port: number): Promise<boolean> {
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
 * Workers run as nginx's default user (nobody) when it can read the handler files, as they
 * would in production; where any of `dirs` lies in a directory closed to others (and nginx
 * runs as root), they run as root: returns `user root;` then, else ''.
 */
export function workerUser(dirs: string[] = [process.cwd()]): string {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return '';
    for (const start of dirs) {
        for (let dir = resolve(start); dir !== dirname(dir); dir = dirname(dir)) {
            try {
                if ((statSync(dir).mode & 0o001) === 0) return 'user root;';
            } catch {
                // not there (yet)
            }
        }
    }
    return '';
}

/**
 * The error_log level of every test nginx: info, or what NGX_NODE_TEST_LOG_LEVEL says
 * (ngx-node's suite runs once more with "debug").
 */
export const LOG_LEVEL = process.env.NGX_NODE_TEST_LOG_LEVEL ?? 'info';

/** A configuration's error_log lines at the given level. */
function withLogLevel(conf: string, level: string): string {
    return conf.replace(/^(\s*error_log\s+\S+)\s+\w+\s*;/gm, `$1 ${level};`);
}

/** Whether the configuration has an http {} block (and our http module). */
function hasHttp(options: NginxOptions): boolean {
    return options.stream === undefined || options.http !== undefined || options.server !== undefined;
}

function pathOf(value: string | URL): string {
    return resolve(value instanceof URL ? fileURLToPath(value) : value.startsWith('file:') ? fileURLToPath(value) : value);
}

const TEMP_PATHS = ['client_body_temp_path tmp/body', 'proxy_temp_path tmp/proxy', 'fastcgi_temp_path tmp/fastcgi',
    'uwsgi_temp_path tmp/uwsgi', 'scgi_temp_path tmp/scgi'];

/** The modules a configuration needs loaded, as `load_module` lines. */
function loadModules(http: boolean, stream: boolean, options: NginxOptions, already: string[] = []): string[] {
    const modules = findModules(options.moduleDir);
    const loaded = (path: string) => already.some((module) => basename(module) === basename(path));
    const wanted: string[] = [];
    if (http) wanted.push(modules.http);
    if (stream) wanted.push(nginxStreamModule(findNginx(options.nginx)) ?? '', modules.stream);
    return wanted.filter((path) => path && !loaded(path)).map((path) => `load_module ${path};`);
}

/**
 * The dirs whose files the workers read, for the default `user`: the module's too (at nginx -t
 * the workers' user runs the configuration checker beside it).
 */
function readDirs(options: NginxOptions, extra: string[] = []): string[] {
    return [PACKAGE_ROOT, findModules(options.moduleDir).dir, process.cwd(), ...(options.dir ? [pathOf(options.dir)] : []), ...extra];
}

/** The configuration nginx runs for the `http`, `server`, `main` and `stream` options. */
export function configuration(port: number, options: NginxOptions, streamPorts: number[] = []): string {
    const http = hasHttp(options);
    const nodePath = options.dir ? `    node_path ${pathOf(options.dir)};\n` : '';
    return `${loadModules(http, options.stream !== undefined, options).join('\n')}
${options.user ?? workerUser(readDirs(options))}
worker_processes ${options.workers ?? 1};
error_log logs/error.log ${options.logLevel ?? LOG_LEVEL};
pid logs/nginx.pid;
${options.main ?? ''}
events { worker_connections 1024; }
${http ? `http {
    access_log off;
${TEMP_PATHS.map((line) => `    ${line};`).join('\n')}
${nodePath}${options.http ?? ''}
    server {
        listen 127.0.0.1:${port} ${options.listen ?? ''};
${options.server ?? ''}
    }
}` : ''}
${options.stream ? `stream {
${nodePath}${options.stream(streamPorts)}
}` : ''}
`;
}

/**
 * A copy of a whole configuration file, for a test: the same lines (so that nginx's messages
 * name the right ones), with each `listen` address moved to a free loopback port, ngx-node's
 * modules loaded, error_log and pid in the prefix, temp paths in the prefix.
 */
async function testCopyOfConf(text: string, options: NginxOptions): Promise<{ text: string; ports: Map<string, number>; http: boolean; stream: boolean }> {
    const list = statements(text);
    const edits: { start: number; end: number; text: string }[] = [];
    /** replaces a statement (up to its `;`) keeping its line breaks, so lines do not move */
    const replace = (start: number, end: number, by: string) => {
        const newlines = text.slice(start, end).split('\n').length - 1;
        edits.push({ start, end, text: by + '\n'.repeat(newlines) });
    };
    const ports = new Map<string, number>();
    const used = new Set<number>();
    const portFor = async (address: string) => {
        let port = ports.get(address);
        while (port === undefined) {
            const candidate = await freePort();
            if (!used.has(candidate)) port = candidate;
        }
        used.add(port);
        ports.set(address, port);
        return port;
    };
    const level = options.logLevel ?? LOG_LEVEL;
    const main: string[] = [];
    const loaded: string[] = [];
    let http = false;
    let stream = false;
    let user = false;
    // servers whose listens are all IPv6 keep them (moved to 127.0.0.1); others drop their IPv6 ones
    for (const statement of list) {
        const name = statement.words[0].text;
        const depth = statement.parents.length;
        if (depth === 0 && name === 'load_module' && statement.words[1]) loaded.push(statement.words[1].text);
        if (depth === 0 && name === 'http' && statement.end?.text === '{') http = true;
        if (depth === 0 && name === 'stream' && statement.end?.text === '{') stream = true;
        if (depth === 0 && name === 'user') user = true;
    }
    let currentServer: { v4: boolean } | undefined;
    let currentServerClose = -1;
    for (const statement of list) {
        const name = statement.words[0].text;
        const start = statement.words[0].start;
        const end = statement.end?.end ?? statement.words[statement.words.length - 1].end;
        const depth = statement.parents.length;
        if (statement.words[0].start > currentServerClose) currentServer = undefined;
        if (name === 'server' && statement.end?.text === '{' && statement.close && (statement.parents[0] === 'http' || statement.parents[0] === 'stream')) {
            const listens = list.filter((inner) => inner.words[0].text === 'listen' && inner.words[0].start > statement.end!.end
                && inner.words[0].start < statement.close!.start && inner.parents.length === depth + 1);
            currentServer = { v4: listens.some((inner) => !inner.words[1]?.text.startsWith('[')) };
            currentServerClose = statement.close.start;
            continue;
        }
        if ((depth === 0 && (name === 'error_log' || name === 'pid' || name === 'daemon')) || (depth > 0 && name === 'error_log')) {
            replace(start, end, depth > 0 ? `error_log logs/error.log ${level};` : '');
            continue;
        }
        if (depth === 0 && name === 'http' && statement.end?.text === '{') {
            const set = new Set(list.filter((inner) => inner.parents.length === 1 && inner.parents[0] === 'http'
                && inner.words[0].start > statement.end!.end && (!statement.close || inner.words[0].start < statement.close.start))
                .map((inner) => inner.words[0].text));
            const temp = TEMP_PATHS.filter((line) => !set.has(line.split(' ')[0])).map((line) => `${line};`).join(' ');
            if (temp) edits.push({ start: statement.end.end, end: statement.end.end, text: ` ${temp}` });
            continue;
        }
        if (name === 'listen' && statement.words[1] && currentServer) {
            const address = statement.words[1].text;
            if (address.startsWith('unix:')) continue;
            if (address.startsWith('[') && currentServer.v4) {
                replace(start, end, '');
                continue;
            }
            const port = await portFor(address);
            const params = statement.words.slice(2).map((word) => word.text).filter((param) => !/^ipv6only=/.test(param));
            replace(start, end, `listen 127.0.0.1:${port}${params.length ? ` ${params.join(' ')}` : ''};`);
        }
    }
    main.push(...loadModules(http || !stream, stream, options, loaded));
    const workerUserLine = options.user ?? (user ? '' : workerUser(readDirs(options, [dirname(pathOf(options.conf as string | URL))])));
    if (workerUserLine) main.push(workerUserLine);
    main.push(`error_log logs/error.log ${level};`, 'pid logs/nginx.pid;');
    edits.push({ start: 0, end: 0, text: `${main.join(' ')} ` });
    edits.sort((a, b) => b.start - a.start);
    let out = text;
    for (const edit of edits) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    return { text: out, ports, http, stream };
}

export interface CheckResult {
    ok: boolean;
    output: string;
}

export class Nginx {
    private process?: ChildProcess;
    private exit?: Promise<number | null>;
    /** the configuration file nginx is given (relative to the prefix, or absolute) */
    private confFile = 'conf/nginx.conf';
    /** a file's copy beside it, and the file */
    private confCopy?: { copy: string; original: string };
    /** the nginx binary */
    readonly nginx: string;
    /** where ngx-node's modules were found */
    readonly modules: Modules;
    /**
     * From a configuration file: each `listen` address as written (`8080`,
     * `127.0.0.1:8080`) and the port it listens on now.
     */
    readonly ports = new Map<string, number>();

    /** the port waited for: the http server's, else the first stream port */
    private constructor(readonly prefix: string, public port: number, readonly streamPorts: number[], private readonly options: NginxOptions) {
        this.nginx = findNginx(options.nginx);
        this.modules = findModules(options.moduleDir);
    }

    /** Writes the prefix (configuration, files) without starting anything. */
    static async prepare(options: NginxOptions): Promise<Nginx> {
        const prefix = mkdtempSync(join(tmpdir(), 'ngx-node-test-'));
        try {
            return await Nginx.prepareIn(prefix, options);
        } catch (error) {
            rmSync(prefix, { recursive: true, force: true });
            throw error;
        }
    }

    private static async prepareIn(prefix: string, options: NginxOptions): Promise<Nginx> {
        // workers run as nginx's default user (nobody): they must reach files and temp dirs
        chmodSync(prefix, 0o755);
        for (const dir of ['conf', 'logs', 'tmp']) mkdirSync(join(prefix, dir), { mode: 0o755 });
        // where handlers (running as nobody) may write files
        mkdirSync(join(prefix, 'data'));
        chmodSync(join(prefix, 'data'), 0o777);
        const level = options.logLevel ?? LOG_LEVEL;
        if (options.conf !== undefined && typeof options.conf !== 'function') {
            const original = pathOf(options.conf);
            if (!existsSync(original)) throw new Error(`no configuration file ${original}`);
            const copy = await testCopyOfConf(readFileSync(original, 'utf8'), options);
            const first = copy.ports.values().next().value;
            const instance = new Nginx(prefix, first ?? 0, [], options);
            for (const [address, port] of copy.ports) instance.ports.set(address, port);
            for (const [name, content] of Object.entries(options.files ?? {})) instance.writeFile(name, content);
            const file = join(dirname(original), `.${basename(original)}.ngx-node-test-${basename(prefix)}.conf`);
            writeFileSync(file, copy.text, { mode: 0o644 });
            instance.confFile = file;
            instance.confCopy = { copy: file, original };
            return instance;
        }
        const streamPorts: number[] = [];
        while (options.stream && streamPorts.length < (options.streamPorts ?? 1)) {
            const candidate = await freePort();
            if (!streamPorts.includes(candidate)) streamPorts.push(candidate);
        }
        let port = streamPorts[0];
        while (hasHttp(options) && (port === undefined || streamPorts.includes(port))) port = await freePort();
        const instance = new Nginx(prefix, port, streamPorts, options);
        for (const [name, content] of Object.entries(options.files ?? {})) instance.writeFile(name, content);
        const conf = typeof options.conf === 'function' ? options.conf(instance.port) : configuration(instance.port, options, streamPorts);
        instance.writeFile('conf/nginx.conf', withLogLevel(conf, level));
        return instance;
    }

    static async start(options: NginxOptions): Promise<Nginx> {
        const instance = await Nginx.prepare(options);
        try {
            await instance.run(options.startTimeoutMs);
        } catch (error) {
            await instance.destroy();
            throw error;
        }
        return instance;
    }

    path(name: string): string {
        return join(this.prefix, name);
    }

    writeFile(name: string, content: string): void {
        mkdirSync(dirname(this.path(name)), { recursive: true, mode: 0o755 });
        writeFileSync(this.path(name), content, { mode: 0o644 });
    }

    /** The configuration file nginx runs (absolute). */
    get confPath(): string {
        return resolve(this.prefix, this.confFile);
    }

    /** nginx's messages name the copy of a configuration file: name the file instead. */
    private named(text: string): string {
        return this.confCopy ? text.split(this.confCopy.copy).join(this.confCopy.original) : text;
    }

    private args(...extra: string[]): string[] {
        // nginx opens its compiled-in error log (/var/log/nginx/error.log) before it reads the
        // configuration: a user other than root may not, and would see an alert about it
        const early = typeof process.getuid === 'function' && process.getuid() !== 0 ? ['-e', this.path('logs/error.log')] : [];
        return ['-p', this.prefix, ...early, '-c', this.confFile, ...extra];
    }

    /** nginx -t */
    check(): CheckResult {
        const result = spawnSync(this.nginx, this.args('-t'), { encoding: 'utf8' });
        return { ok: result.status === 0, output: this.named(`${result.stdout}${result.stderr}`) };
    }

    async run(timeoutMs = 60000): Promise<void> {
        const child = spawn(this.nginx, this.args('-g', 'daemon off;'), { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
        this.process = child;
        this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
        const failed = (why: string) => new Error(this.named(`${why}${stderr ? `:\n${stderr}` : ''}\nerror_log (${this.path('logs/error.log')}):\n${this.errorLog()}`));
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
            if (child.exitCode !== null) throw failed(`nginx exited with ${child.exitCode}`);
            if (await canConnect(this.port)) {
                await this.waitForWorkers(0, deadline);
                return;
            }
            await sleep(20);
        }
        throw failed(`nginx did not listen on ${this.port} within ${timeoutMs / 1000}s`);
    }

    /**
     * The listening sockets accept (into their backlog) before any worker is ready: with Node.js
     * in the configuration, waits until each worker that started since `logOffset` has its
     * Node.js up (or says why not), so that a test's first bytes are not left in a backlog.
     */
    private async waitForWorkers(logOffset: number, deadline: number): Promise<void> {
        if (!/\bnode_(import|path)\b/.test(readFileSync(this.confPath, 'utf8'))) return;
        for (;;) {
            const log = this.errorLog().slice(logOffset);
            const started = (log.match(/start worker process \d+/g) ?? []).length;
            const ready = (log.match(/ngx-node: (Node\.js started in|Node\.js did not start)/g) ?? []).length;
            if (started > 0 && ready >= started) return;
            if (Date.now() > deadline) throw new Error(`the workers did not start Node.js in time:\n${log}`);
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

    /** The whole error_log so far. */
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

    /**
     * nginx -s reload; resolves once new workers started and the old ones stopped accepting.
     * A configuration file given as `conf` is copied again first (its changes apply).
     */
    async reload(): Promise<void> {
        if (this.confCopy) {
            const copy = await testCopyOfConf(readFileSync(this.confCopy.original, 'utf8'), this.options);
            // the ports stay: a listen address seen before keeps its port
            writeFileSync(this.confCopy.copy, copy.text.replace(/listen 127\.0\.0\.1:(\d+)/g, (whole, port: string) => {
                const address = [...copy.ports].find(([, p]) => p === Number(port))?.[0];
                const kept = address === undefined ? undefined : this.ports.get(address);
                return kept === undefined ? whole : `listen 127.0.0.1:${kept}`;
            }));
            for (const [address, port] of copy.ports) if (!this.ports.has(address)) this.ports.set(address, port);
        }
        const before = this.errorLog().length;
        const stopping = (pid: number, log: string) => new RegExp(`${pid}#\\d+: gracefully shutting down`).test(log);
        // a worker still finishing an earlier reload is not one this reload replaces
        const oldWorkers = this.workerPids().filter((pid) => !stopping(pid, this.errorLog()));
        process.kill(this.masterPid, 'SIGHUP');
        const deadline = Date.now() + 60000; // as start: a busy machine is slow
        const done = (log: string) => /start worker process/.test(log) &&
            oldWorkers.every((pid) => stopping(pid, log));
        while (!done(this.errorLog().slice(before))) {
            if (/\[emerg\]/.test(this.errorLog().slice(before))) throw new Error(this.named(`reload failed:\n${this.errorLog().slice(before)}`));
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

    /** Stops nginx if it runs and removes the prefix (and a configuration file's copy). */
    async destroy(): Promise<void> {
        if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
            process.kill(this.masterPid, 'SIGQUIT');
            const exited = await Promise.race([this.exit, sleep(10000).then(() => 'timeout' as const)]);
            if (exited === 'timeout') {
                const workers = this.workerPids();
                process.kill(this.masterPid, 'SIGKILL');
                for (const pid of workers) {
                    try {
                        process.kill(pid, 'SIGKILL');
                    } catch {
                        // gone
                    }
                }
            }
        }
        if (this.confCopy) rmSync(this.confCopy.copy, { force: true });
        if (!process.env.NGX_NODE_KEEP_PREFIX) rmSync(this.prefix, { recursive: true, force: true });
    }

    /** The same as destroy(). */
    stop(): Promise<void> {
        return this.destroy();
    }

    /**
     * A URL of this nginx: `path` on the port waited for, or on the one that replaced `listen`
     * (an address of the configuration file, as written).
     */
    url(path: string, listen?: string): string {
        let port = this.port;
        if (listen !== undefined) {
            const found = this.ports.get(listen);
            if (found === undefined) throw new Error(`the configuration has no listen ${listen} (it has ${[...this.ports.keys()].join(', ') || 'none'})`);
            port = found;
        }
        return `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`;
    }

    /** Sends a request to `path` (or a whole URL) and resolves with the whole response. */
    request(path: string, options?: RequestOptions): Promise<Reply> {
        return request(/^https?:/.test(path) ? path : this.url(path), options);
    }
}

export { listenHostPort };
