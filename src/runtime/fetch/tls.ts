/**
 * ngx.fetch's TLS, as njs's: node_fetch_verify (also the `verify` option),
 * node_fetch_verify_depth, node_fetch_trusted_certificate (then only those CAs are trusted;
 * without it, Node.js's own), node_fetch_ciphers and node_fetch_protocols (Node.js takes a
 * range: from the lowest to the highest named).
 */
import { checkServerIdentity, ConnectionOptions, DetailedPeerCertificate, PeerCertificate, SecureVersion } from 'node:tls';

import type { FetchConf, FetchProtocol } from '../config';

const ORDER: FetchProtocol[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** The versions from the lowest to the highest named. */
export function protocolRange(protocols: FetchProtocol[]): { minVersion: SecureVersion; maxVersion: SecureVersion } {
    const named = ORDER.filter((version) => protocols.includes(version));
    return { minVersion: named[0], maxVersion: named[named.length - 1] };
}

/** How many certificates stand between the server's own and the trust anchor. */
function intermediates(cert: DetailedPeerCertificate): number {
    let above = 0;
    for (let c = cert; c.issuerCertificate !== undefined && c.issuerCertificate !== c
        && c.issuerCertificate.fingerprint256 !== c.fingerprint256; c = c.issuerCertificate) {
        above++;
    }
    // the last one above is the trust anchor
    return Math.max(0, above - 1);
}

/** Node's host name check, then OpenSSL's verify depth, which Node.js does not offer. */
function verifier(depth: number): (host: string, cert: PeerCertificate) => Error | undefined {
    return (host, cert) => {
        const mismatch = checkServerIdentity(host, cert);
        if (mismatch !== undefined) return mismatch;
        const count = intermediates(cert as DetailedPeerCertificate);
        if (count <= depth) return undefined;
        return Object.assign(new Error(`certificate chain too long: ${count} intermediate certificates, ` +
            `node_fetch_verify_depth allows ${depth}`), { code: 'CERT_CHAIN_TOO_LONG' });
    };
}

export function tlsOptions(conf: FetchConf, verify: boolean): ConnectionOptions {
    return {
        ...(conf.trustedCertificate === undefined ? {} : { ca: conf.trustedCertificate.pem }),
        rejectUnauthorized: verify,
        checkServerIdentity: verifier(conf.verifyDepth),
        ciphers: conf.ciphers.value,
        ...protocolRange(conf.protocols),
    };
}
