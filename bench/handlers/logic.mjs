// The JWT check with node:crypto, shared by the node_content handlers (node.mjs) and the
// sidecar (sidecar.mjs). njs.js and bench.lua implement the same steps with their own crypto.
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
