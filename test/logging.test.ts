/** node_log: after the response, without delaying it; custom log formats. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { ServerResponse } from 'node:http';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';
import { Upstream, upstream } from './harness/upstream';

describe('node_log', () => {
    let nginx: Nginx;
    let collector: Upstream;
    const records: unknown[] = [];
    // the collector answers only when the test lets it
    const held: ServerResponse[] = [];

    before(async () => {
        collector = await upstream((req, res, body) => {
            records.push(JSON.parse(body.toString()));
            held.push(res);
        });
        nginx = await Nginx.start({
            http: `node_import main from ${fixture('logging.ts')};`,
            server: `
        set $collector_port ${collector.port};
        location /collected { node_log main.toCollector; node_content main.answer; }
        location /kv { set $kv_log_file data/kv.log; node_log main.kvToFile; node_content main.answer; }`,
        });
    });

    after(async () => {
        await collector?.close();
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('posts a record with fetch, without delaying the response', async () => {
        // the client has its answer while the collector still holds the log record's request
        const reply = await request(nginx.url('/collected/x'), { headers: { 'User-Agent': 'tester' } });
        assert.equal(reply.text, 'answered\n');
        assert.equal(held.length, records.length, 'no collector request was answered');
        for (let i = 0; i < 250 && records.length === 0; i++) await sleep(20);
        assert.deepEqual(records, [{ method: 'GET', uri: '/collected/x', status: 200, agent: 'tester' }]);
        for (const res of held.splice(0)) res.end('ok');
    });

    it('writes the key=value access log from node_log', async () => {
        await request(nginx.url('/kv?q=1'), { headers: { 'User-Agent': 'kv tester' } });
        let text = '';
        for (let i = 0; i < 50 && !text; i++) {
            await sleep(20);
            try {
                text = readFileSync(nginx.path('data/kv.log'), 'utf8');
            } catch {
                // not yet
            }
        }
        assert.match(text, /^\d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d client=127\.0\.0\.1 method=GET uri=\/kv\?q=1 status=200 .*req\.User-Agent="kv tester"/);
        assert.match(text, / res\.Content-Type=text\/plain/);
    });
});
