/**
 * Regressions found by the fuzzer (test/fuzz/): clients that go away at the wrong moment,
 * request data that ends up in responses.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';

/** Sends a request and goes away at once, without reading the answer. */
function sendAndLeave(port: number, text: string, rst: boolean): Promise<void> {
    return new Promise((resolve) => {
        const socket = new Socket();
        socket.on('error', () => resolve());
        socket.connect(port, '127.0.0.1', () => {
            socket.write(text, () => {
                setTimeout(() => {
                    if (rst) socket.resetAndDestroy();
                    else socket.destroy();
                    resolve();
                }, 50);
            });
        });
    });
}

describe('hostile clients', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `
    node_import main from ${fixture('hostile.mjs')};
    node_timeout 1s;`,
            server: `
        location /buffered { node_body_filter main.slowBufferedFilter buffered; node_content main.answer; }
        location /buffered-async { node_body_filter main.slowBufferedFilter buffered; node_content main.answerLater; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('survives clients that leave while a buffered body filter works', async () => {
        // the worker is up (nginx listens before its worker has started Node)
        assert.equal((await request(nginx.url('/buffered'))).text, '[answer\n]');
        const pids = nginx.workerPids();
        const leaving: Promise<void>[] = [];
        for (let i = 0; i < 20; i++) {
            leaving.push(sendAndLeave(nginx.port, `GET /buffered${i % 4 < 2 ? "" : "-async"} HTTP/1.1\r\nHost: x\r\n\r\n`, i % 2 === 0));
        }
        await Promise.all(leaving);
        // past the filters' own ends and past node_timeout, whose timer was armed for each
        await sleep(2000);
        const reply = await request(nginx.url('/buffered'));
        assert.equal(reply.status, 200);
        assert.equal(reply.text, '[answer\n]');
        assert.deepEqual(nginx.troubles(), []);
        assert.deepEqual(nginx.workerPids(), pids);
    });
});
