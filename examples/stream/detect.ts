/**
 * One port, three protocols: node_preread looks at a session's first bytes and tells TLS (by
 * its ClientHello, reading the server name, SNI) from HTTP from anything else; each goes to
 * its own upstream.
 *
 *     server {
 *         listen 443;
 *         set $tls_upstream 10.0.0.1:443;
 *         set $http_upstream 10.0.0.2:80;
 *         set $other_upstream 10.0.0.3:9000;
 *         node_preread detect.protocol;
 *         node_set $detected_upstream detect.upstream;
 *         proxy_pass $detected_upstream;
 *     }
 */
import type { NginxStreamSession } from 'ngx-node';

export type Detected =
    | { kind: 'incomplete' }
    | { kind: 'tls'; serverName: string | undefined }
    | { kind: 'http'; method: string }
    | { kind: 'other' };

const INCOMPLETE: Detected = { kind: 'incomplete' };
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME = 0x0000;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

/** The server name of a TLS ClientHello (the start of a TLS session), if it has one. */
function clientHello(data: Buffer): Detected {
    // record: type, version (2), length (2); handshake: type, length (3)
    if (data.length < 9) return INCOMPLETE;
    if (data[5] !== CLIENT_HELLO) return { kind: 'other' };
    const end = Math.min(data.length, 5 + data.readUInt16BE(3));
    let at = 9 + 2 + 32; // client version, random
    const skip = (lengthBytes: 1 | 2): boolean => {
        if (at + lengthBytes > end) return false;
        at += lengthBytes + (lengthBytes === 1 ? data[at] : data.readUInt16BE(at));
        return at <= end;
    };
    if (!skip(1) || !skip(2) || !skip(1)) return data.length < 5 + data.readUInt16BE(3) ? INCOMPLETE : { kind: 'other' };
    if (at + 2 > end) return { kind: 'tls', serverName: undefined };
    const extensionsEnd = Math.min(end, at + 2 + data.readUInt16BE(at));
    at += 2;
    while (at + 4 <= extensionsEnd) {
        const type = data.readUInt16BE(at);
        const length = data.readUInt16BE(at + 2);
        at += 4;
        if (type === SERVER_NAME && at + 5 <= extensionsEnd) {
            // list length (2), name type (1), name length (2), name
            const nameLength = data.readUInt16BE(at + 3);
            if (at + 5 + nameLength > extensionsEnd) break;
            return { kind: 'tls', serverName: data.toString('latin1', at + 5, at + 5 + nameLength) };
        }
        at += length;
    }
    return data.length < 5 + data.readUInt16BE(3) ? INCOMPLETE : { kind: 'tls', serverName: undefined };
}

/** What the first bytes of a session say it is. */
export function detect(data: Buffer): Detected {
    if (data.length === 0) return INCOMPLETE;
    if (data[0] === HANDSHAKE) return clientHello(data);
    const start = data.toString('latin1', 0, Math.min(data.length, 8));
    for (const method of METHODS) {
        if (start.startsWith(`${method} `)) return { kind: 'http', method };
        if (`${method} `.startsWith(start)) return INCOMPLETE;
    }
    return { kind: 'other' };
}

const upstreams = new WeakMap<NginxStreamSession, string>();

/** node_preread: picks the session's upstream from its first bytes. */
export function protocol(s: NginxStreamSession): void {
    s.on('upstream', (data) => {
        const detected = detect(data);
        if (detected.kind === 'incomplete') return;
        const upstream = s.variables[`${detected.kind}_upstream`];
        if (upstream === undefined) {
            s.error(`no $${detected.kind}_upstream is set`);
            s.deny();
            return;
        }
        upstreams.set(s, upstream);
        s.log(detected.kind === 'tls' ? `TLS for "${detected.serverName ?? ''}"` : detected.kind === 'http'
            ? `HTTP ${detected.method}` : 'neither TLS nor HTTP');
        s.allow();
    });
}

/** node_set $detected_upstream: where proxy_pass goes. */
export function upstream(s: NginxStreamSession): string {
    return upstreams.get(s) ?? '';
}
