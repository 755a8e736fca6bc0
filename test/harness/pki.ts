/**
 * A certificate authority of a test's own, made with the system's openssl: a root CA, an
 * intermediate CA it signed, and server certificates for 127.0.0.1, localhost and TEST_HOST
 * signed by either (or by a CA of their own nobody trusts). Files (PEM) in a temporary directory, readable by nginx's workers.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerIdentity {
    key: string;
    /** the server's certificate, then the CAs it sends along (PEM) */
    cert: string;
}

export interface TestPki {
    dir: string;
    /** the root CA's certificate file */
    caFile: string;
    /** signed by the root */
    server: ServerIdentity;
    /** signed by the intermediate CA, which it sends along */
    chained: ServerIdentity;
    /** signed by a CA nobody trusts */
    stranger: ServerIdentity;
    remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyAndRequest(dir: string, name: string, subject: string): void {
    openssl(dir, 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
}

function selfSigned(dir: string, name: string, subject: string): void {
    openssl(dir, 'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subject,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

function sign(dir: string, name: string, ca: string, extensions: string): void {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
        '-set_serial', String(Date.now() + Math.floor(Math.random() * 1000)), '-days', '2',
        '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

/** A name the servers' certificates have too, which tests resolve with a DNS server of theirs */
export const TEST_HOST = 'upstream.test';

const SERVER = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' +
    `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${TEST_HOST}\n`;
const CA = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';

export function makePki(): TestPki {
    const dir = mkdtempSync(join(tmpdir(), 'ngx-node-pki-'));
    chmodSync(dir, 0o755);
    selfSigned(dir, 'ca', '/CN=ngx-node test root CA');
    selfSigned(dir, 'other-ca', '/CN=an untrusted CA');
    keyAndRequest(dir, 'intermediate', '/CN=ngx-node test intermediate CA');
    sign(dir, 'intermediate', 'ca', CA);
    for (const [name, ca] of [['server', 'ca'], ['chained', 'intermediate'], ['stranger', 'other-ca']]) {
        keyAndRequest(dir, name, '/CN=localhost');
        sign(dir, name, ca, SERVER);
    }
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    chmodSync(join(dir, 'ca.pem'), 0o644);
    return {
        dir,
        caFile: join(dir, 'ca.pem'),
        server: { key: read('server.key'), cert: read('server.pem') },
        chained: { key: read('chained.key'), cert: read('chained.pem') + read('intermediate.pem') },
        stranger: { key: read('stranger.key'), cert: read('stranger.pem') },
        remove: () => rmSync(dir, { recursive: true, force: true }),
    };
}
