/**
 * What handlers put into HTTP messages is checked: CR, LF and other control characters in a
 * header name or value, a redirect URL, a URI, arguments or a variable are refused with a
 * TypeError naming what, and nothing of them is sent (no response splitting).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { rawRequest, request } from './harness/http';
import { Nginx } from './harness/nginx';
import { fixture } from './harness/paths';

describe('user data that reaches the protocol', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            http: `
    node_import p from ${fixture('protocol.mjs')};
    node_set $split p.splitValue;`,
            server: `
        set $writable '';
        location /attempt { node_content p.attempt; }
        location /uncaught { node_content p.uncaught; }
        location /rewrite-args { node_rewrite p.rewriteArgs; node_content p.target; }
        location /split-variable { add_header X-From-Variable "[$split]"; return 200 "body\\n"; }
        location /tab { node_content p.tabIsFine; }
        location /target { node_content p.target; }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    /** The raw response, asserted free of the injected header. */
    async function raw(path: string): Promise<string> {
        const text = await rawRequest(nginx.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.doesNotMatch(text, /\r\nInjected:/i, `${path} sent an injected header`);
        return text;
    }

    const refusals: [string, RegExp][] = [
        ['headerValue', /^TypeError: r\.headersOut\["Location"\]: the value contains CR, LF or another control character, which would split the HTTP message; refused$/],
        ['headerArray', /^TypeError: r\.headersOut\["Set-Cookie"\]: the value contains CR, LF/],
        ['headerName', /^TypeError: r\.headersOut\["X-Bad\\r\\nInjected"\]: not a valid header name/],
        ['headerNameSpace', /^TypeError: r\.headersOut\["X Bad"\]: not a valid header name/],
        ['contentType', /^TypeError: r\.headersOut\["Content-Type"\]: the value contains CR, LF/],
        ['nulValue', /^TypeError: r\.headersOut\["X-Nul"\]: the value contains CR, LF/],
        ['redirect', /^TypeError: r\.return\(302, url\): the URL contains CR, LF/],
        ['internalRedirect', /^TypeError: r\.internalRedirect\(uri\): the URI contains CR, LF/],
        ['variable', /^TypeError: r\.variables\.writable: the value contains CR, LF/],
        ['subrequestArgs', /^TypeError: r\.subrequest\("\/target"\): the URI or its arguments contain a control character/],
        ['subrequestUri', /^TypeError: r\.subrequest\("\/target\\r\\nInjected: 1"\): the URI or its arguments contain a control character/],
    ];

    for (const [what, refused] of refusals) {
        it(`refuses ${what} with a TypeError`, async () => {
            const text = await raw(`/attempt?what=${what}`);
            const body = text.slice(text.indexOf('\r\n\r\n') + 4);
            assert.match(body.replace(/\n$/, ''), refused);
        });
    }

    it('answers 500 when the TypeError is not caught, and sends none of the value', async () => {
        const text = await raw('/uncaught');
        assert.match(text, /^HTTP\/1\.1 500 /);
        assert.doesNotMatch(text, /X-Split/);
        await nginx.waitForLog(/node_content "p\.uncaught" failed: TypeError: r\.headersOut\["X-Split"\]: the value contains CR, LF/);
    });

    it('refuses arguments that would split the request line', async () => {
        const reply = await request(nginx.url('/rewrite-args'));
        assert.match(reply.text, /^TypeError: r\.args: the query string contains a space, CR, LF or another control character/);
    });

    it('leaves a node_set variable empty when its value would split a header', async () => {
        const text = await raw('/split-variable');
        assert.match(text, /\r\nX-From-Variable: \[\]\r\n/);
        await nginx.waitForLog(/node_set "p\.splitValue": the value contains CR, LF or another control character, which would split the HTTP message; refused; the variable is empty/);
    });

    it('lets a tab through', async () => {
        const reply = await request(nginx.url('/tab'));
        assert.equal(reply.headers['x-tab'], 'a\tb');
    });
});
