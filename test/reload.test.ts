/**
 * Reload under load, bounded for CI (the full figures: npm run bench:reload): 5 reloads, one
 * after the other, during keep-alive load on `return 200`, on an async node_content handler
 * and on Lua's ngx.sleep at once. The async handler loses no more requests than `return 200`
 * does, and no worker dies.
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { LUA_TARGET, reloadConf, TARGETS } from '../bench/reload';
import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';

interface Load {
    ok: number;
    non2xx: number;
    /** a request on a kept-alive socket that the server closed as it was sent, sent again */
    retried: number;
    errors: Map<string, number>;
}

/** responses each socket carried: a socket that answered before is a kept-alive one */
const served = new WeakMap<Socket, number>();

/**
 * One request. A kept-alive socket that the server closed as the request went out (an old
 * worker closing its idle connections at reload) fails with ECONNRESET before any answer:
 * clients send such a request again (Node's documentation says so), up to twice here, as
 * several sockets of the pool may be closing at once. (req.reusedSocket does not tell: Node
 * leaves it false for a kept-alive socket handed to a request that waited in the queue.)
 */
function get(agent: Agent, url: string, tries = 3): Promise<{ status?: number; error?: string; retried: boolean }> {
    return new Promise((resolve) => {
        const req = httpRequest(url, { agent, timeout: 10000 }, (res) => {
            const socket = res.socket;
            res.resume();
            res.on('end', () => {
                served.set(socket, (served.get(socket) ?? 0) + 1);
                resolve({ status: res.statusCode, retried: false });
            });
            res.on('error', (e) => resolve({ error: `response: ${e.message}`, retried: false }));
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', (e: NodeJS.ErrnoException) => {
            const keptAlive = req.socket !== null && (served.get(req.socket) ?? 0) > 0;
            if (tries > 1 && keptAlive && e.code === 'ECONNRESET') {
                get(agent, url, tries - 1).then((r) => resolve({ ...r, retried: true }));
                return;
            }
            resolve({ error: `${e.code ?? e.message}${keptAlive ? ' on a kept-alive socket' : ''}`, retried: false });
        });
        req.end();
    });
}

/** `lanes` keep-alive clients in a loop until `until` */
async function load(url: string, lanes: number, until: () => boolean): Promise<Load> {
    const agent = new Agent({ keepAlive: true, maxSockets: lanes });
    const result: Load = { ok: 0, non2xx: 0, retried: 0, errors: new Map() };
    await Promise.all(Array.from({ length: lanes }, async () => {
        while (!until()) {
            const r = await get(agent, url);
            if (r.retried) result.retried++;
            if (r.error !== undefined) result.errors.set(r.error, (result.errors.get(r.error) ?? 0) + 1);
            else if (r.status !== undefined && r.status >= 200 && r.status < 300) result.ok++;
            else result.non2xx++;
        }
    }));
    agent.destroy();
    return result;
}

function failed(l: Load): number {
    return l.non2xx + [...l.errors.values()].reduce((a, b) => a + b, 0);
}

describe('reload under load', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({ conf: (port) => reloadConf(port, 1, true) });
        for (const target of TARGETS) assert.equal((await request(nginx.url(target.path))).status, 200);
    });

    after(async () => {
        await nginx?.destroy();
    });

    it('loses no more async requests than return 200 over 5 reloads under load', async () => {
        const reloads = 5;
        let stop = false;
        const loads = Promise.all([...TARGETS, LUA_TARGET].map((target) => load(nginx.url(target.path), 8, () => stop)));
        // one reload after the other: the master checks the modules (a Node process) before it
        // starts new workers, and SIGHUPs that come meanwhile count once
        const started = () => (nginx.errorLog().match(/start worker process \d+/g) ?? []).length;
        for (let i = 0; i < reloads; i++) {
            await sleep(500);
            const before = started();
            process.kill(nginx.masterPid, 'SIGHUP');
            const deadline = Date.now() + 30000;
            while (started() === before && Date.now() < deadline) await sleep(20);
        }
        await sleep(500);
        stop = true;
        const [plain, async, lua] = await loads;

        // the old workers finish what they hold, then leave
        const deadline = Date.now() + 30000;
        while (nginx.workerPids().length > 1 && Date.now() < deadline) await sleep(100);

        const describe = (l: Load) => `${l.ok} ok, ${l.non2xx} non-2xx, ${l.retried} retried, errors ${JSON.stringify([...l.errors])}`;
        const summary = `return 200: ${describe(plain)}; async: ${describe(async)}; lua: ${describe(lua)}`;
        const log = nginx.errorLog();
        assert.equal((log.match(/signal 1 \(SIGHUP\) received/g) ?? []).length, reloads, summary);
        assert.ok(plain.ok > 100 && async.ok > 100, summary);
        assert.ok(failed(async) <= failed(plain), summary);
        assert.deepEqual(nginx.troubles(), [], summary);
        assert.equal(nginx.workerPids().length, 1, summary);
        assert.equal((await request(nginx.url('/async?ms=10'))).status, 200);
    });
});
