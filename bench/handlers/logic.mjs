// The benchmark's compute-bound logic in plain JavaScript, shared by the node_content handlers
// (node.mjs) and the sidecar (sidecar.mjs). njs.js and bench.lua implement the same steps.
import { createHmac, createSecretKey } from 'node:crypto';

export const JWT_SECRET = 'ngx-node-bench-secret-of-32-bytes-or-more';
export const JWT_ISSUER = 'ngx-node-bench';
export const JWT_AUDIENCE = 'bench';

// A KeyObject made once: createHmac() with a string key prepares the key on every call,
// which costs about twice the HMAC itself (measured in bench/, see the README).
const JWT_KEY = createSecretKey(Buffer.from(JWT_SECRET));

/** Compares two strings in time that does not depend on where they differ. */
function sameString(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
}

/** HS256 JWT check: signature, then exp, iss and aud claims. Returns the subject or null. */
export function verifyJwt(authorization, nowSeconds) {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    // in the token's own encoding: cheaper than decoding it for crypto.timingSafeEqual
    const expected = createHmac('sha256', JWT_KEY).update(`${parts[0]}.${parts[1]}`).digest('base64url');
    if (!sameString(expected, parts[2])) return null;
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    if (header.alg !== 'HS256') return null;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return null;
    if (claims.iss !== JWT_ISSUER || !audiences.includes(JWT_AUDIENCE)) return null;
    return claims.sub;
}

/** The JSON transform: keep, rename and compute fields of an order; drop internal ones. */
export function transformOrder(text) {
    const order = JSON.parse(text);
    let total = 0;
    const lines = [];
    for (let i = 0; i < order.items.length; i++) {
        const item = order.items[i];
        if (item.qty <= 0) continue;
        const amount = Math.round(item.qty * item.unitPrice * 100) / 100;
        total += amount;
        lines.push({ sku: item.sku, name: item.name, quantity: item.qty, amount });
    }
    return JSON.stringify({
        id: order.orderId,
        customer: { id: order.customer.id, name: order.customer.name },
        shipTo: `${order.shipping.city}, ${order.shipping.country}`,
        lines,
        total: Math.round(total * 100) / 100,
        currency: order.currency,
    });
}

// The routing case: what a gateway does in code. 300 rules (method, path prefix, required
// header) checked in order, then a backend chosen by consistent hashing of a header on a ring
// of 160 virtual nodes (FNV-1a, binary search). Plain JavaScript, no native helpers.
export const ROUTES = Array.from({ length: 300 }, (_, i) => ({
    method: i % 3 === 0 ? 'POST' : 'GET',
    prefix: `/api/v${1 + (i % 4)}/service${i}/`,
    header: i % 5 === 0 ? 'x-tenant' : '',
    pool: `pool${i % 7}`,
}));

export function fnv1a(text) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
}

export const RING = (() => {
    const points = [];
    for (let b = 0; b < 10; b++) {
        for (let v = 0; v < 16; v++) points.push({ hash: fnv1a(`backend${b}#${v}`), backend: `10.0.0.${b + 1}:8080` });
    }
    return points.sort((a, b) => a.hash - b.hash);
})();

export function route(method, path, tenant, user) {
    let pool = 'default';
    for (let i = 0; i < ROUTES.length; i++) {
        const rule = ROUTES[i];
        if (rule.method === method && path.startsWith(rule.prefix) && (rule.header === '' || tenant !== '')) {
            pool = rule.pool;
            break;
        }
    }
    const hash = fnv1a(`${pool}:${user}`);
    let lo = 0;
    let hi = RING.length - 1;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (RING[mid].hash < hash) lo = mid + 1; else hi = mid;
    }
    const backend = RING[lo].hash >= hash ? RING[lo].backend : RING[0].backend;
    return `${pool} ${backend}\n`;
}
