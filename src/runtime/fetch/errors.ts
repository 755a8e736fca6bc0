/**
 * What ngx.fetch rejects with when the exchange fails: an Error whose message starts as njs's
 * does ("connect failed", "read timed out", "... is too large", "... could not be
 * resolved") and goes on to say what happened and which setting is involved; `cause` is the
 * error Node.js or undici gave. A misused argument is a TypeError, as in njs.
 */
import type { FetchConf } from '../config';

function duration(ms: number): string {
    return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function failure(message: string, cause?: unknown): Error {
    return cause === undefined ? new Error(message) : new Error(message, { cause });
}

/** The exchange's destination, and what it was asked with. */
export interface FetchTarget {
    url: URL;
    conf: FetchConf;
    /** the largest response header, bytes */
    bufferSize: number;
}

function peerOf(target: FetchTarget, error: NodeJS.ErrnoException & { port?: number; address?: string }): string {
    if (typeof error.address === 'string' && error.port !== undefined) {
        return error.address.includes(':') ? `[${error.address}]:${error.port}` : `${error.address}:${error.port}`;
    }
    const { url } = target;
    return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}

export function contentTooLarge(length: number, limit: number): Error {
    return failure(`http content length is too large: ${length} bytes, more than the ${limit} ` +
        'that max_response_body_size (node_fetch_max_response_buffer_size) allows');
}

export function bodyTooLarge(limit: number): Error {
    return failure(`http response body is too large: more than the ${limit} bytes ` +
        'that max_response_body_size (node_fetch_max_response_buffer_size) allows');
}

/** The proxy's URL without its credentials, which must not reach error messages and logs */
function proxyShown(proxy: string | undefined): string {
    if (proxy === undefined) return '';
    try {
        const url = new URL(proxy);
        return `${url.protocol}//${url.host}`;
    } catch {
        return 'the proxy';
    }
}

const CERTIFICATE = /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_|ERR_TLS_CERT_)/;
const RESOLVING = new Set(['getaddrinfo', 'queryA', 'queryAaaa']);

/** The error undici or Node.js gave, as ngx.fetch's rejection. */
export function fetchFailure(error: unknown, target: FetchTarget): Error {
    if (!(error instanceof Error)) return failure(`fetch failed: ${String(error)}`, error);
    const err = error as NodeJS.ErrnoException & { port?: number; address?: string };
    const code = err.code ?? '';
    const peer = peerOf(target, err);
    const { conf } = target;
    const timeout = `${duration(conf.timeout)} (node_fetch_timeout)`;

    if (RESOLVING.has(err.syscall ?? '')) {
        const servers = conf.resolver === undefined ? '' : `, asking ${conf.resolver.servers.join(' ')} (resolver)`;
        return failure(`"${target.url.hostname}" could not be resolved (${code || err.message}${servers})`, error);
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        return failure(`connect failed: the certificate of ${peer} does not match "${target.url.hostname}": ` +
            `${err.message}; fetch it by a name its certificate has, or turn verification off ` +
            '(node_fetch_verify off, or the verify option)', error);
    }
    if (CERTIFICATE.test(code)) {
        return failure(`connect failed: the certificate of ${peer} did not verify: ${err.message} (${code}); ` +
            'trust its CA with node_fetch_trusted_certificate (and node_fetch_verify_depth), or turn ' +
            'verification off (node_fetch_verify off, or the verify option)', error);
    }
    if (code.startsWith('ERR_SSL_')) {
        // OpenSSL's reason, without its error stack
        const reason = (err as { reason?: unknown }).reason;
        return failure(`connect failed: the TLS handshake with ${peer} failed: ${typeof reason === 'string' ? reason : err.message.trim()}; ` +
            'see node_fetch_protocols and node_fetch_ciphers', error);
    }
    switch (code) {
        case 'ECONNREFUSED':
            return failure(`connect failed: ${peer} refused the connection`, error);
        case 'EHOSTUNREACH':
        case 'ENETUNREACH':
            return failure(`connect failed: ${peer} cannot be reached (${code})`, error);
        case 'UND_ERR_CONNECT_TIMEOUT':
            return failure(`connect timed out: no connection to ${peer} within ${timeout}`, error);
        case 'UND_ERR_HEADERS_TIMEOUT':
            return failure(`read timed out: no response from ${peer} within ${timeout}`, error);
        case 'UND_ERR_BODY_TIMEOUT':
            return failure(`read timed out: the response body from ${peer} stopped for ${timeout}`, error);
        case 'UND_ERR_HEADERS_OVERFLOW':
            return failure(`http response header is too large: more than the ${target.bufferSize} bytes that ` +
                'buffer_size (node_fetch_buffer_size) allows', error);
        case 'UND_ERR_SOCKET':
        case 'ECONNRESET':
        case 'EPIPE':
            return failure(`prematurely closed connection: ${peer} closed it (${err.message})`, error);
        default:
            break;
    }
    const tunnel = /Proxy response \((\d+)\)/.exec(err.message);
    if (tunnel?.[1] === '407' || (tunnel === null && /\(407\)/.test(err.message))) {
        return failure(`proxy authentication failed (407): ${proxyShown(conf.proxy)} asks for a user and ` +
            'password; check those of node_fetch_proxy', error);
    }
    if (tunnel !== null) {
        return failure(`proxy CONNECT failed with status ${tunnel[1]} (node_fetch_proxy ${proxyShown(conf.proxy)})`, error);
    }
    if (code === 'UND_ERR_INVALID_ARG') return new TypeError(`ngx.fetch(): ${err.message}`, { cause: error });
    return failure(`fetch failed: ${err.message}${code ? ` (${code})` : ''}`, error);
}
