/**
 * The connections ngx.fetch makes: undici's dispatchers, one per distinct settings (and per
 * `verify` and `buffer_size` a call asks for), made when first needed.
 *   - node_fetch_timeout bounds connecting, waiting for the response header, and each wait
 *     for more of the body (njs: each read or write);
 *   - node_fetch_buffer_size bounds the response header (njs reads it into that buffer);
 *   - node_fetch_keepalive > 0 keeps connections for reuse: for node_fetch_keepalive_timeout
 *     when idle, node_fetch_keepalive_requests requests, node_fetch_keepalive_time in all
 *     (connections are renewed together: a set of them older than that serves no new
 *     request). Without it, each request has its connection (`Connection: close`), as in njs.
 *   - node_fetch_proxy: http:// URLs go to the proxy as absolute URLs, https:// ones through
 *     a CONNECT tunnel.
 */
import type { Dispatcher, Pool } from 'undici';

import type { FetchConf } from '../config';
import { Lookup, resolverLookup } from './resolver';
import { tlsOptions } from './tls';

type Undici = typeof import('undici');

let undici: Undici | undefined;

/**
 * undici from npm (Node 18's own offers no dispatchers), loaded by a worker's first ngx.fetch:
 * at worker start it would lengthen every start, and every reload's stall, for configurations
 * that never call ngx.fetch (measured: 60-450 ms on a loaded 2-core machine, which that first
 * call waits for).
 */
function loadUndici(): Undici {
    undici ??= require('undici') as Undici;
    return undici;
}

export interface FetchDispatcher {
    dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean;
    close(): Promise<void>;
}

/** Made per call's settings; beyond this many, the least recently made are closed. */
const KEPT = 64;

function reuses(conf: FetchConf): boolean {
    return conf.keepalive > 0 && conf.keepaliveRequests > 1 && conf.keepaliveTime > 0 && conf.keepaliveTimeout > 0;
}

function poolOptions(conf: FetchConf, maxHeaderSize: number): Pool.Options {
    const common = { headersTimeout: conf.timeout, bodyTimeout: conf.timeout, maxHeaderSize };
    if (!reuses(conf)) return { ...common, pipelining: 0 };
    return {
        ...common,
        pipelining: 1,
        keepAliveTimeout: conf.keepaliveTimeout,
        keepAliveMaxTimeout: conf.keepaliveTimeout,
        // undici closes a connection after one request more than this
        maxRequestsPerClient: conf.keepaliveRequests - 1,
    };
}

function make(conf: FetchConf, verify: boolean, maxHeaderSize: number, lookup: Lookup | undefined): FetchDispatcher {
    const { Agent: AgentClass, Pool: PoolClass, ProxyAgent: ProxyAgentClass } = loadUndici();
    const pool = poolOptions(conf, maxHeaderSize);
    const tls = tlsOptions(conf, verify);
    const connect = { timeout: conf.timeout, ...(lookup === undefined ? {} : { lookup }) };
    if (conf.proxy === undefined) return new AgentClass({ ...pool, connect: { ...tls, ...connect } });
    const factory = (origin: string | URL, options: object): Dispatcher => new PoolClass(origin, { ...pool, ...options });
    return new ProxyAgentClass({
        ...pool,
        uri: conf.proxy,
        proxyTunnel: false,
        requestTls: { ...tls, timeout: conf.timeout },
        proxyTls: connect,
        factory,
        clientFactory: factory,
    });
}

/** node_fetch_keepalive_time: a dispatcher older than that is replaced, its requests finish. */
class Renewed implements FetchDispatcher {
    private current: FetchDispatcher;
    private since = Date.now();

    constructor(private readonly renew: () => FetchDispatcher, private readonly lifetime: number) {
        this.current = renew();
    }

    dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
        if (Date.now() - this.since >= this.lifetime) {
            closeQuietly(this.current);
            this.current = this.renew();
            this.since = Date.now();
        }
        return this.current.dispatch(options, handler);
    }

    close(): Promise<void> {
        return this.current.close();
    }
}

/** Lets what is under way finish, then closes the connections. */
function closeQuietly(dispatcher: FetchDispatcher): void {
    dispatcher.close().catch(() => undefined);
}

export class FetchDispatchers {
    private readonly made = new Map<string, FetchDispatcher>();
    private readonly lookups = new Map<number, Lookup>();

    constructor(private readonly confs: FetchConf[]) {}

    private lookup(settings: number): Lookup | undefined {
        const resolver = this.confs[settings].resolver;
        if (resolver === undefined) return undefined;
        let lookup = this.lookups.get(settings);
        if (lookup === undefined) {
            lookup = resolverLookup(resolver);
            this.lookups.set(settings, lookup);
        }
        return lookup;
    }

    get(settings: number, verify: boolean, maxHeaderSize: number): FetchDispatcher {
        const key = `${settings}/${verify}/${maxHeaderSize}`;
        let dispatcher = this.made.get(key);
        if (dispatcher !== undefined) return dispatcher;
        const conf = this.confs[settings];
        const lookup = this.lookup(settings);
        const renew = () => make(conf, verify, maxHeaderSize, lookup);
        dispatcher = reuses(conf) ? new Renewed(renew, conf.keepaliveTime) : renew();
        this.made.set(key, dispatcher);
        if (this.made.size > KEPT) {
            const [oldest, old] = this.made.entries().next().value as [string, FetchDispatcher];
            this.made.delete(oldest);
            closeQuietly(old);
        }
        return dispatcher;
    }
}
