/**
 * nginx on the user's own configuration file, in place (so that its messages name the user's
 * file and lines): what the command line adds (-g) so that it runs with ngx-node's modules on a
 * private prefix without touching the system's nginx.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

import { ConfSummary, mainDirectives, summarize } from '../tooling/conf';
import { checkModuleLibraries, findModules, findNginx, Modules, nginxStreamModule, SetupError } from '../tooling/locate';
import { workerUser } from '../testing/nginx';

/** A mistake in how the command was called (a missing file, an unknown option). */
export class UsageError extends Error {
    override name = 'UsageError';
}

export interface InPlaceOptions {
    nginx?: string;
    moduleDir?: string;
    /** nginx's prefix (-p): where relative log and temp paths go */
    prefix: string;
    /** also log to the terminal (stderr) at this level */
    stderrLevel?: string;
}

export interface InPlace {
    conf: string;
    nginx: string;
    modules: Modules;
    summary: ConfSummary;
    prefix: string;
    /** what goes to -g */
    globals: string[];
    /** things worth telling (why the workers run as root ...) */
    notes: string[];
    /** nginx's arguments, plus `extra` */
    args(...extra: string[]): string[];
}

export function confPath(given: string | undefined): string {
    const conf = resolve(given ?? 'nginx.conf');
    if (!existsSync(conf)) {
        throw new UsageError(given === undefined
            ? `there is no nginx.conf in ${process.cwd()}: name the configuration file (ngx-node dev path/to/nginx.conf), or make a project with ngx-node init`
            : `there is no configuration file ${conf}`);
    }
    return conf;
}

export function inPlace(conf: string, options: InPlaceOptions): InPlace {
    const nginx = findNginx(options.nginx);
    const modules = findModules(options.moduleDir);
    checkModuleLibraries(modules);
    const summary = summarize(conf);
    const loaded = (file: string) => summary.loadModules.some((module) => basename(module) === basename(file));
    const globals: string[] = [];
    const notes: string[] = [];
    if (summary.http || !summary.stream) {
        if (!loaded(modules.http)) globals.push(`load_module ${modules.http};`);
    }
    if (summary.stream) {
        const nginxStream = nginxStreamModule(nginx);
        if (nginxStream && !loaded(nginxStream)) {
            if (!existsSync(nginxStream)) {
                throw new SetupError(`the configuration has a stream {} block and nginx's stream module ${nginxStream} is not installed: apt install libnginx-mod-stream`);
            }
            globals.push(`load_module ${nginxStream};`);
        }
        if (!loaded(modules.stream)) {
            if (!existsSync(modules.stream)) {
                throw new SetupError(`the configuration has a stream {} block and ngx-node's stream module is not in ${modules.dir}: ` +
                    'install ngx-node\'s libnginx-mod-stream-node package, or build it (npm run build in a checkout)');
            }
            globals.push(`load_module ${modules.stream};`);
        }
    }
    for (const daemon of mainDirectives(summary, 'daemon')) {
        if (daemon.args[0] !== 'off') throw new UsageError(`${daemon.file}:${daemon.line}: "daemon ${daemon.args[0]}" would take nginx away from the terminal; remove it (ngx-node runs nginx with daemon off)`);
    }
    if (mainDirectives(summary, 'daemon').length === 0) globals.push('daemon off;');
    if (mainDirectives(summary, 'pid').length === 0) globals.push(`pid ${resolve(options.prefix, 'nginx.pid')};`);
    if (mainDirectives(summary, 'user').length === 0) {
        const dirs = [summary.dir, ...summary.nodePaths, ...summary.imports.map((imported) => dirname(imported.path))];
        if (workerUser(dirs)) {
            globals.push('user root;');
            notes.push(`the workers run as root: ${summary.dir} (or a directory above it) is closed to other users, so nginx's default worker user could not read the handlers`);
        } else if (workerUser([modules.dir])) {
            // at nginx -t the workers' user runs the configuration checker beside the module
            globals.push('user root;');
            notes.push(`the workers run as root: ngx-node's module directory ${modules.dir} (or a directory above it) is closed to other users, so nginx's default worker user could not run its configuration checker`);
        }
    }
    if (options.stderrLevel) globals.push(`error_log stderr ${options.stderrLevel};`);
    const prefix = resolve(options.prefix);
    // relative log paths (logs/access.log) open there
    mkdirSync(resolve(prefix, 'logs'), { recursive: true });
    return {
        conf, nginx, modules, summary, prefix, globals, notes,
        args: (...extra: string[]) => ['-p', `${prefix}/`, '-e', 'stderr', '-c', conf, '-g', globals.join(' '), ...extra],
    };
}
