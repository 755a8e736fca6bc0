/** The configuration document the nginx module gives the runtime (and the checker). */

/** Where a directive stands in nginx's configuration, for messages. */
export interface ConfLocation {
    file: string;
    line: number;
}

/** `node_import [name from] path;` (the same name may stand for other files in other blocks) */
export interface ImportConf extends ConfLocation {
    name: string;
    path: string;
}

/** A directive naming a handler, `module.function` or `module.object.function`. */
export interface HandlerConf extends ConfLocation {
    name: string;
    directive: string;
    /**
     * the node_import (an index of RuntimeConf.imports) its module name means in the block
     * where the directive stands; -1: no import of that name is visible there
     */
    import: number;
}

/** `node_shared_dict_zone`; its index is the zone's number in the dict op */
export interface DictConf {
    name: string;
    type: 'string' | 'number';
    capacity: number;
    /** ms; 0: entries do not expire */
    timeout: number;
}

/** node_metrics_zone (or node_metrics): metrics are on */
export interface MetricsConf {
    /** the bounds of the handlers' latency histogram, seconds */
    buckets: number[];
    /** the zone's size, bytes */
    size: number;
}

/** A TLS version node_fetch_protocols names */
export type FetchProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** ngx.fetch's settings of a block: node_fetch_*, and nginx's resolver there. */
export interface FetchConf {
    /** ms, between two reads or writes, and for connecting */
    timeout: number;
    /** bytes: the largest response header */
    bufferSize: number;
    /** bytes: the largest response body */
    maxResponseBufferSize: number;
    verify: boolean;
    /** how many intermediate certificates a server's chain may have */
    verifyDepth: number;
    /** node_fetch_trusted_certificate: the file, its contents (read by nginx's master) */
    trustedCertificate?: ConfLocation & { path: string; pem: string };
    /** an OpenSSL cipher list; where node_fetch_ciphers set it, if it did */
    ciphers: { value: string } & Partial<ConfLocation>;
    protocols: FetchProtocol[];
    /** idle connections to keep; 0: none */
    keepalive: number;
    keepaliveRequests: number;
    /** ms */
    keepaliveTime: number;
    /** ms */
    keepaliveTimeout: number;
    /** http://[user:password@]host:port */
    proxy?: string;
    /** nginx's resolver: servers as "address:port", ms */
    resolver?: { servers: string[]; timeout: number; ipv6: boolean };
}

export interface RuntimeConf {
    imports: ImportConf[];
    /** node_preload_object */
    preloads: ImportConf[];
    /** indexed by the handler numbers the module dispatches with */
    handlers: HandlerConf[];
    /** node_path directories, absolute */
    paths: string[];
    dicts: DictConf[];
    metrics?: MetricsConf;
    fetch: FetchConf[];
    /** the number of the settings for code outside any handler: the http {} block's */
    fetchOutside: number;
    prefix: string;
    confPrefix: string;
    confFile: string;
    workerId: number;
    nginxVersion: string;
    nginxVersionNumber: number;
    errorLog: string;
}

export function parseConf(json: string): RuntimeConf {
    const conf = JSON.parse(json) as RuntimeConf;
    if (!Array.isArray(conf.imports) || !Array.isArray(conf.handlers) || !Array.isArray(conf.paths)
        || !Array.isArray(conf.fetch) || conf.fetch.length === 0) {
        throw new Error('ngx-node: malformed runtime configuration');
    }
    return conf;
}

export function where(loc: ConfLocation): string {
    return `${loc.file}:${loc.line}`;
}
