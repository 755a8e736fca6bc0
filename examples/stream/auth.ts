/**
 * TCP authentication: a session's first line carries a token (`AUTH <token>`); node_preread
 * asks an HTTP auth service with fetch, and lets the session through or closes it. Denied
 * sessions never reach the upstream; for allowed ones, node_filter takes the AUTH line out,
 * so the upstream sees the protocol it speaks.
 *
 *     server {
 *         listen 7000;
 *         set $auth_url http://127.0.0.1:9000/check;
 *         node_preread auth.authenticate;
 *         node_filter auth.dropAuthLine;
 *         proxy_pass 10.0.0.1:7000;
 *     }
 */
import type { NginxStreamSession } from 'ngx-node';

/** The first line a client sends, once it has come whole. */
function firstLine(s: NginxStreamSession): Promise<string> {
    return new Promise((resolve) => {
        s.on('upload', (data) => {
            const end = data.indexOf('\n');
            if (end < 0) return;
            s.off('upload');
            resolve(data.slice(0, end).replace(/\r$/, ''));
        });
    });
}

/** node_preread: decides with the auth service's answer. */
export async function authenticate(s: NginxStreamSession): Promise<void> {
    const line = await firstLine(s);
    const token = /^AUTH (\S+)$/.exec(line)?.[1];
    if (token === undefined) {
        s.warn('the first line is not "AUTH <token>"; closing the connection');
        s.deny();
        return;
    }
    const reply = await fetch(`${s.variables.auth_url}?token=${encodeURIComponent(token)}`);
    if (reply.ok) {
        s.allow();
    } else {
        s.warn(`the auth service refused the token (${reply.status}); closing the connection`);
        s.deny();
    }
}

/** node_filter: the AUTH line is nginx's business; what follows is the upstream's. */
export function dropAuthLine(s: NginxStreamSession): void {
    let dropped = '';
    s.on('upload', (data, flags) => {
        const text = dropped + data;
        const end = text.indexOf('\n');
        if (end < 0) {
            dropped = text;
            return;
        }
        s.off('upload');
        s.send(text.slice(end + 1), flags);
    });
}
