/**
 * What nginx cannot judge of the node_fetch_* settings, judged when it loads the
 * configuration (by the checker, with the OpenSSL Node.js uses): the certificates that
 * node_fetch_trusted_certificate names, and node_fetch_ciphers with node_fetch_protocols.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

import { FetchConf, where } from '../config';
import { protocolRange } from './tls';

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function certificateProblem(pem: string): string | undefined {
    const blocks = pem.match(PEM) ?? [];
    if (blocks.length === 0) return 'it has no certificate (PEM: "-----BEGIN CERTIFICATE-----" ...)';
    for (const [i, block] of blocks.entries()) {
        try {
            new X509Certificate(block);
        } catch (error) {
            return `its certificate number ${i + 1} cannot be read: ${(error as Error).message}`;
        }
    }
    return undefined;
}

/** The problems, one message each; settings shared by several blocks are told once. */
export function checkFetchSettings(confs: FetchConf[]): string[] {
    const problems = new Set<string>();
    for (const conf of confs) {
        const trusted = conf.trustedCertificate;
        const problem = trusted === undefined ? undefined : certificateProblem(trusted.pem);
        if (trusted !== undefined && problem !== undefined) {
            problems.add(`node_fetch_trusted_certificate "${trusted.path}": ${problem}; name a file of CA ` +
                `certificates in PEM, in ${where(trusted)}`);
        }
        try {
            createSecureContext({ ciphers: conf.ciphers.value, ...protocolRange(conf.protocols) });
        } catch (error) {
            const { file, line } = conf.ciphers;
            problems.add(`node_fetch_ciphers "${conf.ciphers.value}": ${(error as Error).message}; ` +
                '"openssl ciphers -v" lists the names OpenSSL knows' +
                (file === undefined || line === undefined ? '' : `, in ${where({ file, line })}`));
        }
    }
    return [...problems];
}
