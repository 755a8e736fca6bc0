/** A Node.js server process of the benchmark (bench/handlers/*.mjs) on a unix socket, pinned to a CPU. */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

import { ROOT } from '../test/harness/paths';

/** Starts `bench/handlers/<script> <socket>` on Debian's libnode; resolves once it listens. */
export function startNodeServer(script: string, socket: string, cpu: number): Promise<ChildProcess> {
    const child = spawn('taskset', ['-c', String(cpu), join(ROOT, 'build', 'ngx-node'), join(ROOT, 'bench', 'handlers', script), socket],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
        child.once('message', () => resolve(child));
        child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    });
}
