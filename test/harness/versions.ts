/**
 * The versions the tests run against, as installed: the tests compare with these rather than
 * with one Debian release's (bookworm: nginx 1.22 and Node 18, trixie: 1.26 and 20, sid: newer).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { NGINX } from './nginx';
import { ROOT } from './paths';

/** nginx's version, from `nginx -v` ("nginx version: nginx/1.22.1" → "1.22.1"). */
export function nginxVersion(): string {
    const result = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
    const match = /nginx\/(\d+\.\d+\.\d+)/.exec(`${result.stderr}${result.stdout}`);
    if (!match) throw new Error(`cannot tell nginx's version from ${NGINX} -v: ${result.stderr}`);
    return match[1];
}

/** The Node.js version of the libnode the module was built against ("20.19.2"), from build/ngx-node. */
export function libnodeVersion(): string {
    const result = spawnSync(join(ROOT, 'build', 'ngx-node'), ['--version'], { encoding: 'utf8' });
    const match = /^v(\d+\.\d+\.\d+)/.exec(result.stdout ?? '');
    if (!match) throw new Error(`cannot tell the libnode's version from build/ngx-node --version: ${result.stderr}`);
    return match[1];
}

/**
 * V8's heap limit in MB for the libnode the module was built against, given Node options: the
 * young generation's part of it differs between V8 versions (Node 24's is twice Node 20's).
 */
export function libnodeHeapLimitMB(options: string[]): number {
    const result = spawnSync(join(ROOT, 'build', 'ngx-node'),
        [...options, '-p', 'Math.round(require("v8").getHeapStatistics().heap_size_limit / 1024 / 1024)'],
        { encoding: 'utf8' });
    const limit = Number(result.stdout.trim());
    if (result.status !== 0 || !Number.isFinite(limit)) throw new Error(`build/ngx-node: ${result.stderr}`);
    return limit;
}
