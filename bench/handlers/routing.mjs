// The routing case: what a gateway does in code. 300 rules (method, path prefix, required
// header) checked in order, then a backend chosen by consistent hashing of a header on a ring
// of 160 virtual nodes (FNV-1a, binary search). Plain JavaScript, no native helpers.
// Written for njs 0.7.9 as well (no destructuring, no for...of), so every JavaScript engine
// runs this same file.

const ROUTES = [];
for (let i = 0; i < 300; i++) {
    ROUTES.push({
        method: i % 3 === 0 ? 'POST' : 'GET',
        prefix: `/api/v${1 + (i % 4)}/service${i}/`,
        header: i % 5 === 0 ? 'x-tenant' : '',
        pool: `pool${i % 7}`,
    });
}

function fnv1a(text) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
}

const RING = [];
for (let b = 0; b < 10; b++) {
    for (let v = 0; v < 16; v++) RING.push({ hash: fnv1a(`backend${b}#${v}`), backend: `10.0.0.${b + 1}:8080` });
}
RING.sort((a, b) => a.hash - b.hash);

function route(method, path, tenant, user) {
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

export default { route };
