// node_content handlers of bench/shared-dict.ts: a loop of n operations of one kind on
// ngx.shared (node_shared_dict_zone), the same loop as shared-dict-njs.js and shared_dict.lua.
// The keys are built once, so the loop times the dict, not string building.
const KEYS = Array.from({ length: 1000 }, (_, i) => `key:${i}`);
const VALUE = 'a value of 32 bytes, 0123456789.';

function count(r) {
    const n = Number(r.args.n);
    return Number.isInteger(n) && n >= 0 ? n : 100000;
}

/** Writes the 1000 keys and the counter, so that every get finds its key. */
export function fill(r) {
    const strings = ngx.shared.strings;
    for (const key of KEYS) strings.set(key, VALUE);
    ngx.shared.numbers.set('counter', 0);
    r.return(200, `ngx-node ${process.version} ${strings.size()} ${ngx.shared.numbers.get('counter')}\n`);
}

export function get(r) {
    const n = count(r);
    const dict = ngx.shared.strings;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += dict.get(KEYS[i % 1000]).length;
    r.return(200, `${n} ${bytes}\n`);
}

export function set(r) {
    const n = count(r);
    const dict = ngx.shared.strings;
    for (let i = 0; i < n; i++) dict.set(KEYS[i % 1000], VALUE);
    r.return(200, `${n} ${dict.size()}\n`);
}

export function incr(r) {
    const n = count(r);
    const dict = ngx.shared.numbers;
    let last = 0;
    for (let i = 0; i < n; i++) last = dict.incr('counter', 1);
    r.return(200, `${n} ${last}\n`);
}
