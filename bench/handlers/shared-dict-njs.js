// js_content handlers of bench/shared-dict.ts (njs): the loops of shared-dict.mjs on njs's
// ngx.shared (js_shared_dict_zone, njs 0.8.0 and later; zones njs_strings and njs_numbers).
// `version` works in any njs, so the benchmark can name an njs that lacks shared dicts.
const KEYS = [];
for (let i = 0; i < 1000; i++) KEYS.push(`key:${i}`);
const VALUE = 'a value of 32 bytes, 0123456789.';

function count(r) {
    const n = Number(r.args.n);
    return Number.isInteger(n) && n >= 0 ? n : 100000;
}

function version(r) {
    r.return(200, `${njs.version}\n`);
}

function fill(r) {
    const strings = ngx.shared.njs_strings;
    for (let i = 0; i < KEYS.length; i++) strings.set(KEYS[i], VALUE);
    ngx.shared.njs_numbers.set('counter', 0);
    r.return(200, `njs ${njs.version} ${strings.size()} ${ngx.shared.njs_numbers.get('counter')}\n`);
}

function get(r) {
    const n = count(r);
    const dict = ngx.shared.njs_strings;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += dict.get(KEYS[i % 1000]).length;
    r.return(200, `${n} ${bytes}\n`);
}

function set(r) {
    const n = count(r);
    const dict = ngx.shared.njs_strings;
    for (let i = 0; i < n; i++) dict.set(KEYS[i % 1000], VALUE);
    r.return(200, `${n} ${dict.size()}\n`);
}

function incr(r) {
    const n = count(r);
    const dict = ngx.shared.njs_numbers;
    let last = 0;
    for (let i = 0; i < n; i++) last = dict.incr('counter', 1);
    r.return(200, `${n} ${last}\n`);
}

export default { version, fill, get, set, incr };
