/**
 * Finding what the CLI and the test kit run: nginx, ngx-node's modules, nginx's own stream
 * module, TypeScript. A piece that is missing is a SetupError whose message says what to install.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';

/** Something missing on the machine; the message says what and how to get it. */
export class SetupError extends Error {
    override name = 'SetupError';
}

/** The package's root directory (this file is build/lib/tooling/locate.js). */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..', '..');

/** Whether the package runs from a checkout of the repository (which builds the module) rather than from npm. */
export function isCheckout(): boolean {
    return existsSync(join(PACKAGE_ROOT, 'native')) && existsSync(join(PACKAGE_ROOT, 'scripts', 'build.sh'));
}

/** Where the Debian packages put nginx's dynamic modules, ngx-node's included. */
export const DEBIAN_MODULES_DIR = '/usr/lib/nginx/modules';

export const HTTP_MODULE = 'ngx_http_node_module.so';
export const STREAM_MODULE = 'ngx_stream_node_module.so';

export interface Modules {
    /** the directory they were found in */
    dir: string;
    /** ngx-node's http module */
    http: string;
    /** ngx-node's stream module (it may be absent) */
    stream: string;
    /** where they were found: an option, the environment, the checkout, the Debian package */
    source: string;
}

function isExecutable(file: string): boolean {
    try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
    } catch {
        return false;
    }
}

/**
 * nginx: `explicit` (--nginx), else $NGX_NODE_NGINX, else /usr/sbin/nginx, else the first
 * `nginx` in $PATH.
 */
export function findNginx(explicit?: string): string {
    const named = explicit ?? process.env.NGX_NODE_NGINX;
    if (named) {
        if (isExecutable(named)) return resolve(named);
        throw new SetupError(`nginx was not found at ${named} (${explicit ? '--nginx' : 'NGX_NODE_NGINX'}): ` +
            'name an nginx binary, or install nginx (Debian, Ubuntu: apt install nginx)');
    }
    const candidates = ['/usr/sbin/nginx', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'nginx'))];
    const found = candidates.find(isExecutable);
    if (found) return found;
    throw new SetupError('nginx is not installed (looked for /usr/sbin/nginx and nginx in $PATH): ' +
        'install it (Debian, Ubuntu: apt install nginx), or name it with --nginx PATH or NGX_NODE_NGINX');
}

/**
 * ngx-node's modules: in `explicit` (--module-dir), else $NGX_NODE_MODULE_DIR, else the
 * package's own build/ when it runs from a checkout that was built, else /usr/lib/nginx/modules
 * (ngx-node's Debian packages). Either names a directory holding ngx_http_node_module.so, or
 * that file itself.
 */
export function findModules(explicit?: string): Modules {
    const asDir = (path: string) => (path.endsWith('.so') ? dirname(path) : path);
    const make = (dir: string, source: string): Modules => ({
        dir: resolve(dir), http: resolve(dir, HTTP_MODULE), stream: resolve(dir, STREAM_MODULE), source,
    });
    const named = explicit !== undefined ? { path: explicit, how: '--module-dir' }
        : process.env.NGX_NODE_MODULE_DIR ? { path: process.env.NGX_NODE_MODULE_DIR, how: 'NGX_NODE_MODULE_DIR' } : undefined;
    if (named) {
        const dir = asDir(named.path);
        if (existsSync(join(dir, HTTP_MODULE))) return make(dir, named.how);
        throw new SetupError(`ngx-node's module is not in ${dir} (${named.how}): no ${HTTP_MODULE} there. ` +
            `Name the directory that holds it (a checkout's build/, after npm run build), or install ngx-node's Debian packages (${DEBIAN_MODULES_DIR}).`);
    }
    const looked: string[] = [];
    if (isCheckout()) {
        const dir = join(PACKAGE_ROOT, 'build');
        if (existsSync(join(dir, HTTP_MODULE))) return make(dir, 'this checkout');
        looked.push(`${dir} (this checkout: not built yet, run npm run build in ${PACKAGE_ROOT})`);
    }
    if (existsSync(join(DEBIAN_MODULES_DIR, HTTP_MODULE))) return make(DEBIAN_MODULES_DIR, 'the Debian package');
    looked.push(`${DEBIAN_MODULES_DIR} (ngx-node's Debian package libnginx-mod-http-node)`);
    throw new SetupError(`ngx-node's nginx module (${HTTP_MODULE}) was not found; looked in ${looked.join(', ')}. ` +
        'Install ngx-node\'s Debian packages (apt install ./libnginx-mod-http-node_*.deb ./ngx-node-common_*.deb), ' +
        'or build it from a checkout of ngx-node (npm run build) and point NGX_NODE_MODULE_DIR (or --module-dir) at its build/ directory.');
}

/** ldd's "name => path" lines of a shared object: the libraries it needs and where they resolve (undefined: not found). */
function sharedLibraries(file: string): Map<string, string | undefined> | undefined {
    const result = spawnSync('ldd', [file], { encoding: 'utf8' });
    if (result.error || result.status !== 0) return undefined;
    const libs = new Map<string, string | undefined>();
    for (const line of result.stdout.split('\n')) {
        const match = /^\s*(\S+)\s+=>\s+(not found|\S+)/.exec(line);
        if (match) libs.set(match[1], match[2] === 'not found' ? undefined : match[2]);
    }
    return libs;
}

/**
 * Whether the module can load: its shared core beside it, the bridge and the checker there,
 * the system's libnode. Throws a SetupError saying what is missing. (Without ldd, assumes yes.)
 */
export function checkModuleLibraries(modules: Modules): void {
    const libs = sharedLibraries(modules.http);
    if (!libs) return;
    const missing = [...libs].filter(([, path]) => path === undefined).map(([name]) => name);
    const core = libs.get('libngx_node_core.so');
    if (missing.includes('libngx_node_core.so') || core === undefined) {
        throw new SetupError(`${modules.http} cannot find its libngx_node_core.so (it must lie beside it or where the module was built to find it): ` +
            'reinstall ngx-node\'s Debian packages, or rebuild the checkout (npm run build)');
    }
    if (missing.length > 0) throw missingLibraries(modules.http, missing);
    const coreDir = dirname(core);
    const bridge = join(coreDir, 'ngx_node_bridge.so');
    if (!existsSync(bridge)) {
        throw new SetupError(`ngx-node's bridge ${bridge} is missing (the module loads it in each worker): ` +
            'reinstall ngx-node\'s Debian packages, or rebuild the checkout (npm run build)');
    }
    const bridgeLibs = sharedLibraries(bridge);
    const bridgeMissing = bridgeLibs ? [...bridgeLibs].filter(([, path]) => path === undefined).map(([name]) => name) : [];
    if (bridgeMissing.length > 0) throw missingLibraries(bridge, bridgeMissing);
}

function missingLibraries(file: string, names: string[]): SetupError {
    const libnode = names.find((name) => /^libnode\.so/.test(name));
    if (libnode) {
        const version = libnode.replace(/^libnode\.so\.?/, '');
        return new SetupError(`the system's libnode (${libnode}), which ngx-node runs Node.js from, is not installed: ` +
            `apt install libnode${version || ''} (Debian 12: libnode108, Debian 13: libnode115; apt-cache search libnode lists your release's). ` +
            `(${basename(file)} needs it.)`);
    }
    return new SetupError(`${file} needs libraries that are not installed: ${names.join(', ')} ` +
        '(apt-file search can tell which Debian package has each)');
}

/** nginx's own dynamic stream module (Debian: libnginx-mod-stream), which ngx-node's stream module needs loaded first. */
export function nginxStreamModule(nginx: string): string | undefined {
    if (!streamModules.has(nginx)) streamModules.set(nginx, findNginxStreamModule(nginx));
    return streamModules.get(nginx);
}

const streamModules = new Map<string, string | undefined>();

function findNginxStreamModule(nginx: string): string | undefined {
    const result = spawnSync(nginx, ['-V'], { encoding: 'utf8' });
    const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    if (!/--with-stream=dynamic/.test(text)) return undefined;
    const modulesPath = /--modules-path=(\S+)/.exec(text)?.[1] ?? DEBIAN_MODULES_DIR;
    return join(modulesPath, 'ngx_stream_module.so');
}

/** nginx's version line (`nginx/1.22.1`). */
export function nginxVersion(nginx: string): string {
    const result = spawnSync(nginx, ['-v'], { encoding: 'utf8' });
    return /nginx\/\S+/.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`)?.[0] ?? 'nginx';
}
