/**
 * Memory and start-up: an idle worker's RSS and private memory (plain nginx, njs, ngx-node),
 * the master's (which must not map libnode), and how long a worker takes to start Node.
 */
import { request } from '../test/harness/http';
import { Nginx, sleep } from '../test/harness/nginx';
import { benchConf } from './conf';
import { maps, memory, Memory } from './proc';

export interface Footprint {
    variant: 'nginx' | 'njs' | 'node';
    worker: Memory;
    master: Memory;
    masterMapsLibnode: boolean;
}

export interface StartupResult {
    footprints: Footprint[];
    /** "ngx-node: Node.js started in N ms", one per worker start */
    workerStartMs: number[];
}

async function footprint(variant: Footprint['variant'], starts: number): Promise<{ footprint: Footprint; startMs: number[] }> {
    const only = variant === 'nginx' ? 'none' : variant;
    const nginx = await Nginx.start({ conf: (port) => benchConf({ port, sidecarSocket: '', only }) });
    try {
        for (let i = 1; i < starts; i++) await nginx.reload();
        const path = variant === 'nginx' ? '/hello/return200' : `/hello/${variant}`;
        for (let i = 0; i < 20; i++) await request(nginx.url(path));
        await sleep(1000);
        const [worker] = nginx.workerPids();
        const startMs = [...nginx.errorLog().matchAll(/ngx-node: Node\.js started in (\d+) ms/g)].map((m) => Number(m[1]));
        return {
            footprint: {
                variant, worker: memory(worker), master: memory(nginx.masterPid),
                masterMapsLibnode: /libnode/.test(maps(nginx.masterPid)),
            },
            startMs,
        };
    } finally {
        await nginx.destroy();
    }
}

export async function measureStartup(starts: number): Promise<StartupResult> {
    const footprints: Footprint[] = [];
    let workerStartMs: number[] = [];
    for (const variant of ['nginx', 'njs', 'node'] as const) {
        const result = await footprint(variant, variant === 'node' ? starts : 1);
        footprints.push(result.footprint);
        if (variant === 'node') workerStartMs = result.startMs;
    }
    return { footprints, workerStartMs };
}
