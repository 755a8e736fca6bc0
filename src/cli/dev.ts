/**
 * ngx-node dev [nginx.conf]: nginx in the foreground with ngx-node's module, on a private
 * prefix (.ngx-node/ beside the configuration), its error_log shown live; a change to the
 * configuration or a handler file reloads it (after nginx -t: a broken change is shown and the
 * running configuration stays); Ctrl-C stops it.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { FSWatcher, mkdirSync, readdirSync, statSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { listenHostPort } from '../tooling/conf';
import { nginxVersion } from '../tooling/locate';
import { confPath, InPlace, inPlace, UsageError } from './run';
import { bold, cyan, dim, errorLogLine, green, red, yellow } from './style';

export interface DevOptions {
    nginx?: string;
    moduleDir?: string;
    /** nginx's prefix; default .ngx-node/ beside the configuration */
    prefix?: string;
    /** the error_log level shown; default info */
    logLevel?: string;
}

const WATCHED = /\.(ts|mts|cts|js|mjs|cjs|json|conf)$/;

/** Watches directory trees (and single files) without recursive fs.watch, which Node 18 lacks on Linux. */
class Watcher {
    private readonly watchers = new Map<string, FSWatcher>();

    constructor(private readonly skip: string[], private readonly onChange: (file: string) => void) {}

    /** Watches `dir` and the directories under it, except node_modules and hidden ones. */
    tree(dir: string): void {
        if (this.watchers.has(dir) || this.skip.some((skipped) => dir === skipped || dir.startsWith(`${skipped}/`))) return;
        let entries: string[];
        try {
            entries = readdirSync(dir);
        } catch {
            return;
        }
        this.add(dir, (file) => {
            try {
                if (statSync(file).isDirectory()) {
                    if (!basename(file).startsWith('.') && basename(file) !== 'node_modules') this.tree(file);
                    return;
                }
            } catch {
                // removed: still a change
            }
            if (WATCHED.test(file) && !basename(file).startsWith('.')) this.onChange(file);
        });
        for (const entry of entries) {
            if (entry.startsWith('.') || entry === 'node_modules') continue;
            const path = join(dir, entry);
            try {
                if (statSync(path).isDirectory()) this.tree(path);
            } catch {
                // gone meanwhile
            }
        }
    }

    /** Watches one file (through its directory, so that an editor's rename-over counts). */
    file(file: string): void {
        const dir = dirname(file);
        if (this.watchers.has(dir)) return;
        this.add(dir, (changed) => {
            if (changed === file) this.onChange(changed);
        });
    }

    private add(dir: string, handle: (file: string) => void): void {
        try {
            const watcher = watch(dir, (_event, name) => {
                if (name) handle(join(dir, name.toString()));
            });
            watcher.on('error', () => {
                watcher.close();
                this.watchers.delete(dir);
            });
            this.watchers.set(dir, watcher);
        } catch {
            // cannot watch it (permissions): the others still work
        }
    }

    get size(): number {
        return this.watchers.size;
    }

    close(): void {
        for (const watcher of this.watchers.values()) watcher.close();
        this.watchers.clear();
    }
}

/** .ngx-node/ beside the configuration, or (where that cannot be made) one under the temporary directory. */
function devPrefix(conf: string, given: string | undefined): string {
    const candidates = given !== undefined ? [resolve(given)]
        : [join(dirname(conf), '.ngx-node'), join(tmpdir(), `ngx-node-dev-${process.getuid?.() ?? 0}-${createHash('sha1').update(conf).digest('hex').slice(0, 12)}`)];
    for (const prefix of candidates) {
        try {
            mkdirSync(join(prefix, 'logs'), { recursive: true });
            return prefix;
        } catch (error) {
            if (given !== undefined) throw new UsageError(`cannot make the prefix ${prefix}: ${(error as Error).message}`);
        }
    }
    throw new UsageError(`cannot make a prefix for nginx (${candidates.join(', ')}): name one with --prefix DIR`);
}

export function dev(given: string | undefined, options: DevOptions): Promise<number> {
    const conf = confPath(given);
    const prefix = devPrefix(conf, options.prefix);
    const level = options.logLevel ?? 'info';
    const make = () => inPlace(conf, { nginx: options.nginx, moduleDir: options.moduleDir, prefix, stderrLevel: level });
    let place: InPlace = make();
    const show = (file: string) => relative(process.cwd(), file) || file;
    const say = (text: string) => process.stdout.write(`${cyan('ngx-node dev')} ${text}\n`);

    say(`${nginxVersion(place.nginx)} with ngx-node's module from ${place.modules.source} ${dim(`(${place.modules.dir})`)}`);
    say(`configuration ${show(conf)}, prefix ${show(prefix)}${dim(' (logs, temporary files)')}`);
    for (const note of place.notes) say(dim(`note: ${note}`));

    let child: ChildProcess | undefined;
    let stopping = false;
    let exitCode = 0;
    let finish: (code: number) => void = () => {};
    const done = new Promise<number>((resolve) => { finish = resolve; });

    const pipeLog = (stream: NodeJS.ReadableStream) => {
        createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${errorLogLine(line)}\n`));
    };

    /** nginx -t on the configuration as it is now: its output when it fails. */
    const test = (): string | undefined => {
        const result = spawnSync(place.nginx, place.args('-t'), { encoding: 'utf8' });
        if (result.status === 0) return undefined;
        return `${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n')
            .filter((line) => line && !/syntax is ok$|test failed$/.test(line)).join('\n');
    };

    const showFailure = (output: string) => {
        for (const line of output.split('\n')) process.stdout.write(`  ${errorLogLine(line)}\n`);
    };

    const listening = () => {
        const urls = [...new Set(place.summary.httpListens.map(listenHostPort).filter((hp) => hp !== undefined)
            .map((hp) => `http://${hp!.host}:${hp!.port}/`))];
        const stream = place.summary.streamListens.length ? `, stream ${place.summary.streamListens.join(', ')}` : '';
        return `${urls.join(' ')}${stream}` || 'the configuration\'s listen addresses';
    };

    const start = () => {
        const nginx = spawn(place.nginx, place.args(), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        child = nginx;
        pipeLog(nginx.stdout!);
        pipeLog(nginx.stderr!);
        say(`${green('started')} nginx (master ${nginx.pid}) on ${bold(listening())} ${dim('- Ctrl-C stops it')}`);
        nginx.once('exit', (code, signal) => {
            child = undefined;
            if (stopping) return;
            say(red(`nginx exited (${signal ?? `code ${code}`}); stopping`));
            exitCode = 1;
            void stop();
        });
    };

    let timer: NodeJS.Timeout | undefined;
    const changed = new Set<string>();
    const watcher = new Watcher([prefix], (file) => {
        if (stopping) return;
        changed.add(file);
        clearTimeout(timer);
        timer = setTimeout(apply, 300);
    });
    const watchAll = () => {
        watcher.tree(place.summary.dir);
        for (const dir of place.summary.nodePaths) watcher.tree(dir);
        for (const file of [...place.summary.files, ...place.summary.imports.map((imported) => imported.path)]) {
            if (!file.startsWith(`${place.summary.dir}/`)) watcher.file(file);
        }
    };

    const apply = () => {
        if (stopping) return;
        const files = [...changed].map(show).join(', ');
        changed.clear();
        try {
            place = make();
        } catch (error) {
            say(`${red('✗')} ${files} changed: ${(error as Error).message}`);
            return;
        }
        watchAll();
        const failure = test();
        if (failure !== undefined) {
            say(`${red('✗')} ${files} changed, and the configuration test failed; ${child ? 'nginx keeps running the last good configuration' : 'waiting for a fix'}:`);
            showFailure(failure);
            return;
        }
        if (child?.pid !== undefined) {
            say(`${yellow('↻')} ${files} changed: reloading`);
            process.kill(child.pid, 'SIGHUP');
        } else {
            say(`${green('✓')} ${files} changed: the configuration test passes`);
            start();
        }
    };

    const stop = async (signal?: NodeJS.Signals) => {
        if (stopping) {
            // a second Ctrl-C: fast shutdown
            if (child?.pid !== undefined) process.kill(child.pid, 'SIGTERM');
            return;
        }
        stopping = true;
        clearTimeout(timer);
        watcher.close();
        const nginx = child;
        if (nginx?.pid !== undefined && nginx.exitCode === null && nginx.signalCode === null) {
            say(`${signal ? `${signal}: ` : ''}stopping nginx (graceful quit)`);
            const exited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()));
            const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
            process.kill(nginx.pid, 'SIGQUIT');
            if (!(await within(10000))) {
                say(yellow('nginx did not quit within 10 s: terminating it'));
                process.kill(nginx.pid, 'SIGTERM');
                if (!(await within(5000))) {
                    // the master and what is left in its process group (its workers)
                    try {
                        process.kill(-nginx.pid, 'SIGKILL');
                    } catch {
                        // gone
                    }
                    await within(5000);
                }
            }
        }
        say('stopped');
        finish(exitCode);
    };

    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

    watchAll();
    const failure = test();
    if (failure !== undefined) {
        say(`${red('✗')} the configuration test failed; fix it and nginx starts (watching for changes):`);
        showFailure(failure);
    } else {
        start();
    }
    say(dim(`watching ${show(place.summary.dir)} (handlers and configuration) for changes`));
    return done;
}
