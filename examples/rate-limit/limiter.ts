/**
 * A fleet-wide rate limiter: every nginx that runs this handler counts in one Redis, so a client
 * gets `limit` requests per `window` in all of them together. Over the limit: 429 with
 * `Retry-After`. A fixed window per key, counted with one atomic Lua script (INCR, and PEXPIRE
 * when the window starts), so the window is Redis's clock, not each machine's.
 *
 * When Redis cannot answer (down, unreachable, slower than `$ratelimit_timeout`), the limiter
 * counts in a shared dict of this nginx instead (`$ratelimit_zone`: the limit then holds per
 * instance), or, without one, lets requests through (`$ratelimit_fail open`) or refuses them
 * with 503 (`$ratelimit_fail closed`). The error_log says once when Redis goes away and once
 * when it is back (not per request, and not per worker when there is a zone), and the limiter
 * then counts in Redis again.
 *
 *     node_shared_dict_zone zone=ratelimit:1m type=number evict;
 *     node_import limiter from limiter.ts;
 *
 *     server {
 *         set $ratelimit_redis   redis://127.0.0.1:6379;   # empty: the shared dict only
 *         set $ratelimit_limit   100;                      # requests per window and key
 *         set $ratelimit_window  1m;                       # nginx's time units: ms s m h d
 *         set $ratelimit_key     $remote_addr;             # or $http_x_api_key ...
 *         set $ratelimit_zone    ratelimit;                # the local fallback; empty: none
 *         set $ratelimit_fail    open;                     # open | closed, without a zone
 *         location /api/ {
 *             node_access limiter.limit;
 *             proxy_pass http://app;
 *         }
 *     }
 *
 * Optional: `$ratelimit_local_limit` (the limit of the shared-dict fallback; default: the
 * limit), `$ratelimit_timeout` (how long one Redis call may take; default 200ms; read when a
 * worker first connects to a URL), and `node_var $ratelimit_source;`, which the handler sets to
 * `redis`, `local`, `open` or `closed` for the access log.
 *
 * One Redis client per worker and URL, made on the first request (not at the module's top
 * level: nginx -t runs that), reused by every request; ioredis reconnects by itself. Commands
 * are not queued while the client is disconnected, and each has a timeout, so a request never
 * waits on an absent Redis for longer than `$ratelimit_timeout`.
 */
import { createHash } from 'node:crypto';

import type { NginxHTTPRequest, NgxSharedDict } from 'ngx-node';
import { Redis } from 'ioredis';

/** INCR, and start the window (PEXPIRE) when the key is new: [count, ms left in the window]. */
const INCR_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

type RateLimitRedis = Redis & {
    ratelimitIncr(key: string, windowMs: number): Promise<[number, number]>;
};

type FailMode = 'open' | 'closed';

interface Config {
    redisUrl: string;
    limit: number;
    localLimit: number;
    windowMs: number;
    key: string;
    zone: string;
    fail: FailMode;
    timeoutMs: number;
}

/** A Redis client of this worker, and whether the last thing it did worked. */
interface Connection {
    url: string;
    client: RateLimitRedis;
    /** this worker's view: undefined until the first connect attempt ends */
    down?: boolean;
    /** after a command failed on a connection that looked fine: no Redis call before then */
    skipUntil: number;
    /** settles when the first connect attempt ends (connected, or failed) */
    firstAttempt: Promise<void>;
    /** the fallbacks requests asked for, as the error_log names them */
    fallbacks: Map<string, string>;
    /** the zone that holds this nginx's "Redis is down" flag: the first one requests named */
    flagZone: string;
    /** the zone the flag of the current outage was set in ('' : none, this worker reports alone) */
    downFlag: string;
    /** when this worker, finding Redis fine, next looks for another worker's flag */
    nextFlagCheck: number;
}

const connections = new Map<string, Connection>();
/** How long Redis is left alone after a command of a connected client failed (timed out). */
const SKIP_AFTER_FAILURE_MS = 1000;
/** How often a worker that finds Redis fine looks for a flag another worker left. */
const FLAG_CHECK_MS = 1000;

/** nginx's time syntax: `500ms`, `10s`, `1m`, `1h`, `1d`; a bare number is seconds. */
export function parseTime(text: string): number | undefined {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
    if (!match) return undefined;
    const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[match[2] ?? 's'] ?? 1000;
    return Math.round(Number(match[1]) * unit);
}

function positive(text: string | undefined, what: string, fallback?: number): number {
    if (text === undefined || text === '') {
        if (fallback !== undefined) return fallback;
        throw new Error(`rate-limit: $ratelimit_${what} is not set`);
    }
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`rate-limit: $ratelimit_${what} must be a whole number above 0, not "${text}"`);
    return n;
}

function duration(text: string | undefined, what: string, fallback: number): number {
    if (text === undefined || text === '') return fallback;
    const ms = parseTime(text);
    if (ms === undefined || ms < 1) throw new Error(`rate-limit: $ratelimit_${what} must be a time (500ms, 10s, 1m ...), not "${text}"`);
    return ms;
}

function config(r: NginxHTTPRequest): Config {
    const v = r.variables;
    const limit = positive(v.ratelimit_limit, 'limit');
    const fail = v.ratelimit_fail || 'open';
    if (fail !== 'open' && fail !== 'closed') throw new Error(`rate-limit: $ratelimit_fail must be "open" or "closed", not "${fail}"`);
    return {
        redisUrl: v.ratelimit_redis ?? '',
        limit,
        localLimit: positive(v.ratelimit_local_limit, 'local_limit', limit),
        windowMs: duration(v.ratelimit_window, 'window', 60000),
        key: clientKey(v.ratelimit_key || r.remoteAddress),
        zone: v.ratelimit_zone ?? '',
        fail,
        timeoutMs: duration(v.ratelimit_timeout, 'timeout', 200),
    };
}

/** A key as it is counted: a long one (an API key header can be kilobytes) by its hash. */
function clientKey(key: string): string {
    return key.length <= 128 ? key : `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

function describeFallback(zone: string, fail: FailMode): string {
    if (zone !== '') return `counting in shared dict "${zone}" of this nginx`;
    return fail === 'open' ? 'letting requests through (fail open)' : 'refusing requests with 503 (fail closed)';
}

/** The dict of a zone, if there is one (the fallback, and the once-per-instance log flag). */
function dictOf(zone: string): NgxSharedDict | undefined {
    return zone === '' ? undefined : ngx.shared[zone];
}

function flagKey(conn: Connection): string {
    return `ratelimit: redis down ${conn.url}`;
}

/**
 * Whether this worker is the one to say that Redis went away: with a zone, the first worker of
 * this nginx to set the flag in shared memory; without one, every worker says it for itself.
 */
function firstToReportDown(conn: Connection): boolean {
    conn.downFlag = dictOf(conn.flagZone) ? conn.flagZone : '';
    if (conn.downFlag === '') return true;
    try {
        return dictOf(conn.downFlag)?.add(flagKey(conn), 1) ?? true;
    } catch {
        return true;
    }
}

/** ... and that it is back: the worker that takes the flag away (or, without a zone, each). */
function firstToReportUp(conn: Connection): boolean {
    if (conn.downFlag === '') return true;
    try {
        return dictOf(conn.downFlag)?.delete(flagKey(conn)) ?? true;
    } catch {
        return true;
    }
}

function markDown(conn: Connection, reason: string): void {
    if (conn.down === true) return;
    conn.down = true;
    if (firstToReportDown(conn)) {
        const meanwhile = conn.fallbacks.size ? [...conn.fallbacks.values()].join('; ') : 'falling back as configured';
        ngx.log(ngx.WARN, `rate-limit: Redis at ${conn.url} does not answer (${reason}); until it is back: ${meanwhile}`);
    }
}

function reportUp(conn: Connection): void {
    ngx.log(ngx.WARN, `rate-limit: Redis at ${conn.url} answers again; counting in Redis again`);
}

function markUp(conn: Connection): void {
    if (conn.down === false) {
        // another worker may have said Redis went away (its connection hung) and have had no
        // request since to find it back: the first worker that finds Redis fine says so
        const now = Date.now();
        if (now < conn.nextFlagCheck || conn.flagZone === '') return;
        conn.nextFlagCheck = now + FLAG_CHECK_MS;
        try {
            if (dictOf(conn.flagZone)?.delete(flagKey(conn))) reportUp(conn);
        } catch {
            // the zone's trouble is the fallback's to report
        }
        return;
    }
    const wasDown = conn.down === true;
    conn.down = false;
    conn.skipUntil = 0;
    if (wasDown && firstToReportUp(conn)) reportUp(conn);
}

function connection(cfg: Config): Connection {
    let conn = connections.get(cfg.redisUrl);
    if (conn === undefined) conn = connect(cfg);
    const mode = `${cfg.zone}|${cfg.fail}`;
    if (!conn.fallbacks.has(mode)) conn.fallbacks.set(mode, describeFallback(cfg.zone, cfg.fail));
    if (conn.flagZone === '' && cfg.zone !== '') conn.flagZone = cfg.zone;
    return conn;
}

function connect(cfg: Config): Connection {
    const client = new Redis(cfg.redisUrl, {
        // a request must not wait for a Redis that is not there: no queue while disconnected,
        // a bound on each command, and no second try of a command on another connection
        enableOfflineQueue: false,
        commandTimeout: cfg.timeoutMs,
        connectTimeout: Math.max(cfg.timeoutMs, 1000),
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        // reconnect for ever, at most a second apart
        retryStrategy: (times) => Math.min(times * 100, 1000),
    }) as RateLimitRedis;
    client.defineCommand('ratelimitIncr', { numberOfKeys: 1, lua: INCR_SCRIPT });
    let settleFirst!: () => void;
    const conn: Connection = {
        url: cfg.redisUrl, client, skipUntil: 0, fallbacks: new Map(), flagZone: '', downFlag: '', nextFlagCheck: 0,
        firstAttempt: new Promise<void>((resolve) => { settleFirst = resolve; }),
    };
    let lastError = 'connection closed';
    // without an 'error' listener, ioredis writes every failed reconnect to the error_log
    client.on('error', (error: Error) => { lastError = error.message; });
    client.on('ready', () => {
        markUp(conn);
        settleFirst();
    });
    client.on('close', () => {
        markDown(conn, lastError);
        settleFirst();
    });
    connections.set(cfg.redisUrl, conn);
    return conn;
}

interface Decision {
    source: 'redis' | 'local' | 'open' | 'closed';
    allowed: boolean;
    /** the limit that applied, and what is left of it */
    limit?: number;
    remaining?: number;
    /** seconds until the window ends */
    retryAfter: number;
}

async function inRedis(cfg: Config): Promise<Decision | string> {
    const conn = connection(cfg);
    if (conn.down === undefined) await conn.firstAttempt;
    if (conn.client.status !== 'ready') {
        markDown(conn, `not connected (${conn.client.status})`);
        return 'not connected';
    }
    if (conn.down && Date.now() < conn.skipUntil) return 'left alone after a failure';
    try {
        const [count, ttl] = await conn.client.ratelimitIncr(`ratelimit:${cfg.key}`, cfg.windowMs);
        markUp(conn);
        return {
            source: 'redis', allowed: count <= cfg.limit, limit: cfg.limit,
            remaining: Math.max(0, cfg.limit - count), retryAfter: Math.max(1, Math.ceil(ttl / 1000)),
        };
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        conn.skipUntil = Date.now() + SKIP_AFTER_FAILURE_MS;
        markDown(conn, message);
        return message;
    }
}

/** The zones whose last incr failed (full, without evict), in this worker. */
const failingZones = new Set<string>();

/**
 * The same window in this nginx's shared dict: one entry per key and window (an entry's
 * timeout is refreshed on every incr, so the window is in the key, not in the entry's life).
 */
function inSharedDict(cfg: Config): Decision | undefined {
    const dict = dictOf(cfg.zone);
    if (dict === undefined) return undefined;
    const now = Date.now();
    const window = Math.floor(now / cfg.windowMs);
    let count: number;
    try {
        count = dict.incr(`ratelimit:${cfg.key}:${window}`, 1, 0, cfg.windowMs);
        failingZones.delete(cfg.zone);
    } catch (error) {
        // said once (per worker), until the zone works again
        if (!failingZones.has(cfg.zone)) {
            failingZones.add(cfg.zone);
            ngx.log(ngx.ERR, `rate-limit: shared dict "${cfg.zone}" failed (${error instanceof Error ? error.message : String(error)}); ` +
                `${describeFallback('', cfg.fail)} while it does`);
        }
        return undefined;
    }
    return {
        source: 'local', allowed: count <= cfg.localLimit, limit: cfg.localLimit,
        remaining: Math.max(0, cfg.localLimit - count), retryAfter: Math.max(1, Math.ceil(((window + 1) * cfg.windowMs - now) / 1000)),
    };
}

async function decide(cfg: Config): Promise<Decision> {
    if (cfg.redisUrl !== '') {
        const decision = await inRedis(cfg);
        if (typeof decision !== 'string') return decision;
    }
    return inSharedDict(cfg) ?? { source: cfg.fail, allowed: cfg.fail === 'open', retryAfter: 1 };
}

/** node_access: lets the request through, or answers 429 (or 503, failing closed). */
export async function limit(r: NginxHTTPRequest): Promise<void> {
    const cfg = config(r);
    const decision = await decide(cfg);
    if (r.variables.ratelimit_source !== undefined) r.variables.ratelimit_source = decision.source;
    if (decision.limit !== undefined) {
        r.headersOut['RateLimit-Limit'] = decision.limit;
        r.headersOut['RateLimit-Remaining'] = decision.remaining ?? 0;
        r.headersOut['RateLimit-Reset'] = decision.retryAfter;
    }
    if (decision.allowed) return;
    r.headersOut['Retry-After'] = decision.retryAfter;
    r.return(decision.source === 'closed' ? 503 : 429);
}

/** A content handler for trying the limiter out: what is left of the limit. */
export function hello(r: NginxHTTPRequest): void {
    r.headersOut['Content-Type'] = 'text/plain';
    r.return(200, `ok: ${r.headersOut['RateLimit-Remaining'] ?? 'no'} requests left in this window\n`);
}
