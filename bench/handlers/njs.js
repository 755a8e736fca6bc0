// js_content / js_set handlers of the benchmark (njs): the JWT check takes the same steps as
// logic.mjs with njs's crypto; the transform is transform.mjs, which every engine runs.
import crypto from 'crypto';
import transformer from './transform.mjs';

const transformOrder = transformer.transformOrder;

const HELLO = 'hello\n';
const JWT_SECRET = 'ngx-node-bench-secret-of-32-bytes-or-more';
const JWT_ISSUER = 'ngx-node-bench';
const JWT_AUDIENCE = 'bench';

function hello(r) {
    r.return(200, HELLO);
}

async function helloAsync(r) {
    await Promise.resolve();
    r.return(200, HELLO);
}

async function helloImmediate(r) {
    await new Promise((resolve) => setImmediate(resolve));
    r.return(200, HELLO);
}

function variable(r) {
    return `${r.method}:${r.uri}`;
}

function verifyJwt(authorization, nowSeconds) {
    const token = authorization && authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const expected = crypto.createHmac('sha256', JWT_SECRET).update(`${parts[0]}.${parts[1]}`).digest('base64url');
    if (expected !== parts[2]) return null;
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    if (header.alg !== 'HS256') return null;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return null;
    if (claims.iss !== JWT_ISSUER || !audiences.includes(JWT_AUDIENCE)) return null;
    return claims.sub;
}

function jwt(r) {
    const sub = verifyJwt(r.headersIn.Authorization, Date.now() / 1000);
    if (sub === null) {
        r.return(401, 'denied\n');
    } else {
        r.return(200, `hello ${sub}\n`);
    }
}

function transform(r) {
    const out = transformOrder(r.requestText);
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, out);
}

function wait(r) {
    setTimeout(() => r.return(200, HELLO), Number(r.args.ms || 1000));
}

export default { hello, helloAsync, helloImmediate, variable, jwt, transform, wait };
