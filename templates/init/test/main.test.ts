/**
 * The handlers against a real nginx: ngx-node/testing starts nginx.conf on a free port
 * (its listen directives are moved there) and stops it after the tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startNginx, type TestNginx } from 'ngx-node/testing';

describe('src/main.ts', () => {
    let nginx: TestNginx;

    before(async () => {
        nginx = await startNginx({ conf: new URL('../nginx.conf', import.meta.url) });
    });
    after(() => nginx?.stop());

    it('answers / with the greeting', async () => {
        const reply = await nginx.request('/?name=nginx');
        assert.equal(reply.status, 200);
        assert.equal(reply.text, 'hello, nginx\n');
        assert.equal(reply.headers['x-greeting'], 'hello, nginx');
    });

    it('keeps /admin/ for those with the token', async () => {
        assert.equal((await nginx.request('/admin/')).status, 401);
        const reply = await nginx.request('/admin/', { headers: { Authorization: 'Bearer let-me-in' } });
        assert.equal(reply.status, 200);
        assert.equal(JSON.parse(reply.text).uri, '/admin/');
    });

    it('logs nothing alarming', () => {
        assert.doesNotMatch(nginx.errorLog(), /\[(error|crit|alert|emerg)\]/);
    });
});
