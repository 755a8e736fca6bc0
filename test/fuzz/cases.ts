/**
 * Hostile HTTP requests, generated from a seed: case `i` of seed `s` is always the same bytes
 * and the same way of sending them, whatever ran before it (each case has its own PRNG).
 */
import { LOCATIONS } from './conf';

/** mulberry32: small, fast, good enough to pick bytes */
export class Rng {
    private state: number;

    constructor(seed: number) {
        this.state = seed >>> 0;
    }

    /** the PRNG of case `index` of run `seed` */
    static forCase(seed: number, index: number): Rng {
        let h = (seed ^ 0x9e3779b9) >>> 0;
        h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
        h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
        return new Rng(h ^ (h >>> 16));
    }

    next(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let t = this.state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }

    int(n: number): number {
        return Math.floor(this.next() * n);
    }

    /** an integer in [min, max] */
    range(min: number, max: number): number {
        return min + this.int(max - min + 1);
    }

    chance(p: number): boolean {
        return this.next() < p;
    }

    pick<T>(list: readonly T[]): T {
        return list[this.int(list.length)];
    }

    /** picks by weight: [[weight, value], ...] */
    weighted<T>(table: readonly (readonly [number, T])[]): T {
        const total = table.reduce((sum, [w]) => sum + w, 0);
        let x = this.next() * total;
        for (const [w, value] of table) {
            if ((x -= w) < 0) return value;
        }
        return table[table.length - 1][1];
    }

    bytes(n: number): Buffer {
        const out = Buffer.alloc(n);
        for (let i = 0; i < n; i++) out[i] = this.int(256);
        return out;
    }
}

/** How the client delivers the bytes and what it does afterwards. */
export type Mode =
    | 'whole'          // write everything, read until nginx closes (or answered all)
    | 'pieces'         // write in random pieces with short pauses
    | 'pipelined'      // several requests (and garbage) in one write
    | 'slow'           // slowloris: a few bytes now and then, never finishing
    | 'half-close'     // part of the request, then FIN; read what comes
    | 'half-destroy'   // part of the request, then destroy() without reading
    | 'half-reset'     // part of the request, then RST
    | 'full-reset'     // the whole request, then RST before (or while) the answer comes
    | 'read-reset';    // the whole request, read the first bytes of the answer, then RST

export interface Case {
    index: number;
    mode: Mode;
    /** what was generated, for the report: "POST /body chunked-bad ..." */
    label: string;
    /** the bytes to send, in order (pieces for 'pieces' and 'slow'; one piece otherwise) */
    pieces: Buffer[];
    /** pause before each piece, ms */
    pauses: number[];
    /** where the half-* modes stop: a byte count into the whole request */
    cut: number;
    /** the requests' methods in order, where known (HEAD answers have no body) */
    methods: string[];
    /** how many answers a well-behaved server gives (pipelined: several) */
    expected: number;
    /** the request line has no version: nginx may answer HTTP/0.9 style (body only) */
    http09: boolean;
    /** full-reset: ms after the last write */
    resetAfter: number;
}

// --- pieces of hostile requests --------------------------------------------------------------

const METHODS: readonly (readonly [number, string])[] = [
    [40, 'GET'], [20, 'POST'], [5, 'PUT'], [5, 'HEAD'], [3, 'DELETE'], [3, 'OPTIONS'], [2, 'PATCH'],
    [1, 'PROPFIND'], [1, 'TRACE'], [1, 'CONNECT'], [1, 'get'], [1, 'G\x00T'], [1, 'GE T'],
    [1, 'X'.repeat(300)], [1, '\x80\xff'], [1, ''], [1, 'GET\t'], [1, 'P\rOST'],
];

const PATH_PIECES = [
    'a', 'b/c', 'x y', '%ZZ', '%0', '%', '%00', '%2e%2e', '..', '.', '%2F', '%2f%2e%2e%2f', '%C0%AF', '%E0%80%AF',
    '%ED%A0%80', '%ED%B0%80', '%F4%90%80%80', '%FF', '%80', '\x80', '\xff', '\xc3\xa9', '\xed\xa0\x80', '\xc0\xaf',
    '%C3%A9', ';', ';a=b', '%23', '#frag', '//', '\\', '%5C', '\xe4', '\x01', '\x7f', '\t', '%0D%0A', '%0d%0aInjected:%20yes',
    '%09', '%20', '+', '*', '~', 'index.html', '%u0041', '%%', '%%30%30', '..%2F..%2F', '\x00', '@', '%40named',
];

/** pieces nginx accepts in a path (well-formed escapes), the decoded bytes still hostile */
const PATH_PIECES_ACCEPTED = [
    'a', 'b/c', '%C0%AF', '%E0%80%AF', '%ED%A0%80', '%ED%B0%80', '%F4%90%80%80', '%FF', '%80', '\x80', '\xff',
    '\xc3\xa9', '\xed\xa0\x80', '%C3%A9', ';a=b', '%23', '%2F', '%0D%0A', '%0d%0aInjected:%20yes', '%09', '%20', '+',
    '*', '~', 'index.html', '@', '%40named', '%7F', '%01', '%E2%82%AC', '%F0%9F%98%80', '%F0%9F%98',
];

const ARG_KEYS = ['x', 'a', 'a', 'ms', 'n', 'q', '', '%ZZ', '%00', 'a%20b', '\xff', 'constructor', '__proto__',
    'hasOwnProperty', 'toString', 'a[b]', 'a.b'];

const ARG_VALUES = [
    '1', '', 'two words', 'two+words', '%ZZ', '%0', '%', '%00', '%C0%AF', '%ED%A0%80', '%FF%FE', '%E2%82%AC',
    '\xe2\x82\xac', '\xff', '\x80', '%0D%0A', '%0D%0AInjected:%20yes', '%0AInjected:%20yes', 'a=b=c', '&', '%26',
    '\x01', '%7F', '19', '-1', '1e9', 'NaN', '%F0%9F%98%80', '%F0%9F%98', '\t',
];

/** arguments that steer the fixture's handlers */
const CONTROL_ARGS = [
    'throw=1', 'throw=content', 'throw=access', 'throw=rewrite', 'throw=hfilter', 'throw=bfilter', 'throw=var',
    'deny=1', 'rw=1', 'rw=server', 'setargs=%00%FF', 'setargs=x', 'hdr=ok', 'hdr=a%0D%0AInjected:%20yes',
    'hdr=%0AInjected:%20yes', 'hdr=%00', 'hdr=%FF', 'hdr=%E2%82%AC', 'ms=5', 'ms=19', 'n=1', 'n=200',
    'to=/sync/x', 'to=@named', 'to=@missing', 'to=/../etc/passwd', 'to=/%00', 'to=http://x/', 'to=%2F%2E%2E',
    'to=/redirect?to=/redirect', 'to=/sub',
];

const VERSIONS: readonly (readonly [number, string])[] = [
    [80, 'HTTP/1.1'], [10, 'HTTP/1.0'], [1, 'HTTP/2.0'], [1, 'HTTP/1.9'], [1, 'HTTP/0.9'], [1, 'HTTP/10.1'],
    [1, 'HTTP/1.'], [1, 'http/1.1'], [1, 'HTTP/1.1 extra'], [1, 'HTTP/1.01'], [1, 'HTTP/01.1'], [1, 'HTTP/1.1\x00'],
    [1, 'HTTP/999999999999.1'], [1, 'HTTP/1.1\t'],
];

const HEADER_NAMES = [
    'User-Agent', 'Accept', 'Cookie', 'Content-Type', 'X-Fuzz', 'X-Fuzz', 'X-Deny', 'Referer', 'Authorization',
    'If-Modified-Since', 'If-None-Match', 'Range', 'Accept-Encoding', 'X-Forwarded-For', 'Accept-Language',
    'Cache-Control', 'Origin', 'Upgrade', 'TE', 'Via', 'X-Real-IP', 'Forwarded', 'Keep-Alive',
];

const HOSTILE_NAMES = [
    '', ' X-Space', 'X-Space ', 'X\x00Nul', 'X\x7fDel', 'X\x80High', 'X\xffHigh', 'X_Under', 'X(Paren)', 'X\tTab',
    '\x01', 'X"Quote', 'X\rCR', 'Host\x00', 'host', 'HOST', 'content-length', 'Transfer-Encoding ',
];

const HOSTILE_VALUES = [
    '\x00', 'a\x00b', 'a\rb', '\r', 'a\nb', '\x80\xff', '\x01\x02\x03', ' leading', 'trailing ', '', '\t',
    '\xed\xa0\x80', '\xc0\xaf', '\xf4\x90\x80\x80', '\xe2\x82', '\x7f', 'a\x1bb', '%00', '%0D%0A', '"\'<>`${}',
    '\xc3\xa9t\xc3\xa9', '\xff\xfe', 'x\r\n\tfolded', '=?UTF-8?B?w6k=?=',
];

const RANGES = ['bytes=0-0', 'bytes=-1', 'bytes=1-0', 'bytes=0-', 'bytes=' + Array.from({ length: 200 }, (_, i) => `${i}-${i}`).join(','),
    'bytes=99999999999999999999-', 'bytes=-0', 'lines=1-2', 'bytes=0-0,-1'];

const CONTENT_LENGTHS = ['-1', 'abc', '99999999999999999999999', ' 12', '12 ', '0x10', '1e3', '+5', '', '1,1', '00000000000000000000012', '\x00'];

const TRANSFER_ENCODINGS = ['chunked', 'Chunked', 'chunked, gzip', 'gzip, chunked', 'gzip', 'identity', ' chunked',
    'chunked\x00', 'chunked, chunked', 'xchunked', 'chunked;q=1'];

function repeat(rng: Rng, pieces: readonly string[], min: number, max: number, sep = ''): string {
    return Array.from({ length: rng.range(min, max) }, () => rng.pick(pieces)).join(sep);
}

function hostileString(rng: Rng, maxLen: number): string {
    const len = rng.range(0, maxLen);
    let s = '';
    for (let i = 0; i < len; i++) {
        s += rng.chance(0.7) ? String.fromCharCode(rng.range(0x20, 0x7e)) : String.fromCharCode(rng.int(256));
    }
    return s;
}

function target(rng: Rng, hostile: boolean): string {
    const kind = !hostile && rng.chance(0.9) ? 'path' : rng.weighted([
        [80, 'path'], [3, 'absolute'], [1, 'star'], [1, 'authority'], [1, 'empty'], [3, 'huge'], [2, 'noslash'],
    ] as const);
    const location = rng.pick(LOCATIONS);
    let path = location;
    const pieces = hostile || rng.chance(0.3) ? PATH_PIECES : PATH_PIECES_ACCEPTED;
    if (rng.chance(0.6)) path += (path.endsWith('/') ? '' : '/') + repeat(rng, pieces, 1, 4, rng.chance(0.5) ? '/' : '');
    let args = '';
    if (rng.chance(0.7)) {
        const pairs: string[] = [];
        const n = rng.range(0, 4);
        for (let i = 0; i < n; i++) {
            if (rng.chance(0.4)) pairs.push(rng.pick(CONTROL_ARGS));
            else if (rng.chance(0.1)) pairs.push(rng.pick(ARG_KEYS));
            else pairs.push(`${rng.pick(ARG_KEYS)}=${repeat(rng, ARG_VALUES, 1, 3)}`);
        }
        if (rng.chance(0.05)) pairs.push(`x=${'y'.repeat(rng.range(1000, 6000))}`);
        if (rng.chance(0.03)) for (let i = 0; i < 500; i++) pairs.push(`k${i}=${i}`);
        args = '?' + pairs.join(rng.chance(0.9) ? '&' : ';');
    }
    switch (kind) {
    case 'absolute': return `${rng.pick(['http', 'https', 'HTTP', 'ftp'])}://${rng.pick(['localhost', 'example.com:80', '[::1]', 'a@b', '', 'x..y'])}${path}${args}`;
    case 'star': return '*';
    case 'authority': return 'example.com:443';
    case 'empty': return '';
    case 'huge': return `${path}/${'a'.repeat(rng.pick([3000, 7000, 9000, 20000, 70000]))}${args}`;
    case 'noslash': return `${path.slice(1)}${args}`;
    default: return `${path}${args}`;
    }
}

interface Body {
    headers: string[];
    bytes: Buffer;
    label: string;
    /** the body promises more than it sends: nginx waits for the rest */
    waits: boolean;
}

function randomBody(rng: Rng, len: number): Buffer {
    const kind = rng.int(4);
    if (kind === 0) return rng.bytes(len);
    if (kind === 1) return Buffer.from(Array.from({ length: len }, () => rng.pick(['a', '\xc3\xa9', '\xed\xa0\x80', '\xff', '\x00', '&', '=', '%ZZ'])).join('').slice(0, len), 'latin1');
    if (kind === 2) return Buffer.from(`a=1&b=${'x'.repeat(Math.max(0, len - 6))}`.slice(0, len));
    return Buffer.from(JSON.stringify({ text: 'é'.repeat(len / 4) })).subarray(0, len);
}

function chunked(rng: Rng, data: Buffer, bad: boolean): { bytes: Buffer; label: string; waits: boolean } {
    const parts: Buffer[] = [];
    let offset = 0;
    while (offset < data.length) {
        const size = Math.min(data.length - offset, rng.range(1, 700));
        const ext = rng.chance(0.1) ? rng.pick([';a=b', ';a="b"', '; x', ';' + 'e'.repeat(500)]) : '';
        parts.push(Buffer.from(`${size.toString(16)}${ext}\r\n`), data.subarray(offset, offset + size), Buffer.from('\r\n'));
        offset += size;
    }
    let tail = rng.chance(0.1) ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n';
    let label = 'chunked';
    let waits = false;
    if (bad) {
        const how = rng.pick(['hex', 'overflow', 'nocrlf', 'negative', 'nolast', 'toolong', 'garbage', 'hugechunk', 'lf', 'space']);
        label = `chunked-bad-${how}`;
        switch (how) {
        case 'hex': parts.unshift(Buffer.from('zz\r\nabc\r\n')); break;
        case 'overflow': parts.unshift(Buffer.from('ffffffffffffffffffff\r\nabc\r\n')); break;
        case 'nocrlf': parts.splice(Math.min(2, parts.length), 0, Buffer.from('XX')); break;
        case 'negative': parts.unshift(Buffer.from('-1\r\nabc\r\n')); break;
        case 'nolast': tail = ''; waits = true; break;
        case 'toolong': parts.unshift(Buffer.from('10\r\nabc\r\n')); tail = ''; waits = true; break;
        case 'garbage': tail = rng.bytes(rng.range(1, 40)).toString('latin1'); waits = true; break;
        case 'hugechunk': parts.unshift(Buffer.from('100000\r\n')); tail = ''; waits = true; break;
        case 'lf': tail = '0\n\n'; break;
        case 'space': parts.unshift(Buffer.from('3 \r\nabc\r\n')); break;
        }
    }
    return { bytes: Buffer.concat([...parts, Buffer.from(tail, 'latin1')]), label, waits };
}

function body(rng: Rng, method: string, hostile: boolean): Body {
    const kind = !hostile && rng.chance(0.7) ? rng.weighted([
        [method === 'GET' || method === 'HEAD' ? 60 : 10, 'none'], [30, 'exact'], [4, 'oversized'], [3, 'truncated'],
        [8, 'chunked'], [2, 'expect'],
    ] as const) : rng.weighted([
        [method === 'GET' || method === 'HEAD' ? 60 : 10, 'none'], [30, 'exact'], [4, 'oversized'], [4, 'truncated'],
        [3, 'extra'], [4, 'bad-length'], [8, 'chunked'], [6, 'chunked-bad'], [3, 'both'], [2, 'two-lengths'],
        [2, 'te-other'], [2, 'expect'], [1, 'chunked-oversized'],
    ] as const);
    const len = rng.chance(0.8) ? rng.range(0, 3000) : rng.range(3000, 15000);
    const data = randomBody(rng, len);
    switch (kind) {
    case 'none': return { headers: [], bytes: Buffer.alloc(0), label: 'no body', waits: false };
    case 'exact': return { headers: [`Content-Length: ${data.length}`], bytes: data, label: `body ${data.length}`, waits: false };
    case 'oversized': {
        const big = randomBody(rng, rng.range(16 * 1024 + 1, 40000));
        return { headers: [`Content-Length: ${big.length}`], bytes: big, label: `body ${big.length} (over client_max_body_size)`, waits: false };
    }
    case 'truncated': return { headers: [`Content-Length: ${data.length + rng.range(1, 5000)}`], bytes: data, label: 'body truncated', waits: true };
    case 'extra': return { headers: [`Content-Length: ${Math.floor(data.length / 2)}`], bytes: data, label: 'body longer than Content-Length', waits: false };
    case 'bad-length': {
        const value = rng.pick(CONTENT_LENGTHS);
        return { headers: [`Content-Length: ${value}`], bytes: data, label: `Content-Length "${value}"`, waits: false };
    }
    case 'chunked': {
        const c = chunked(rng, data, false);
        return { headers: ['Transfer-Encoding: chunked'], bytes: c.bytes, label: c.label, waits: false };
    }
    case 'chunked-bad': {
        const c = chunked(rng, data, true);
        return { headers: ['Transfer-Encoding: chunked'], bytes: c.bytes, label: c.label, waits: c.waits };
    }
    case 'chunked-oversized': {
        const c = chunked(rng, randomBody(rng, 20000), false);
        return { headers: ['Transfer-Encoding: chunked'], bytes: c.bytes, label: 'chunked over client_max_body_size', waits: false };
    }
    case 'both': {
        const c = chunked(rng, data, false);
        const headers = [`Content-Length: ${rng.chance(0.5) ? data.length : c.bytes.length}`, 'Transfer-Encoding: chunked'];
        if (rng.chance(0.5)) headers.reverse();
        return { headers, bytes: c.bytes, label: 'Content-Length and chunked', waits: false };
    }
    case 'two-lengths':
        return { headers: [`Content-Length: ${data.length}`, `Content-Length: ${rng.chance(0.5) ? data.length : data.length + 1}`], bytes: data, label: 'two Content-Lengths', waits: false };
    case 'te-other': {
        const te = rng.pick(TRANSFER_ENCODINGS);
        return { headers: [`Transfer-Encoding: ${te}`], bytes: chunked(rng, data, false).bytes, label: `Transfer-Encoding "${te}"`, waits: false };
    }
    case 'expect':
        return { headers: ['Expect: 100-continue', `Content-Length: ${data.length}`], bytes: data, label: 'Expect: 100-continue', waits: false };
    }
}

function headerLines(rng: Rng, port: number, close: boolean, hostile: boolean): { lines: string[]; label: string[] } {
    const lines: string[] = [];
    const label: string[] = [];
    const host = !hostile ? `127.0.0.1:${port}` : rng.weighted([
        [85, `127.0.0.1:${port}`], [3, ''], [2, 'a..b'], [2, '[::1'], [2, 'x'.repeat(3000)], [2, 'h\xffst'], [2, '-bad-'],
        [2, 'example.com:99999'], [2, 'a_b.example'], [1, 'host/with/slash'],
    ] as const);
    const hostMode = !hostile ? 'one' : rng.weighted([[90, 'one'], [4, 'none'], [4, 'two'], [2, 'first-empty']] as const);
    if (hostMode !== 'none') lines.push(`Host: ${host}`);
    if (hostMode === 'two') lines.push(`Host: other.example`);
    if (hostMode !== 'one') label.push(`host:${hostMode}`);
    const n = rng.weighted([[70, rng.range(0, 6)], [20, rng.range(6, 30)], [7, rng.range(100, 400)], [3, rng.range(1000, 3000)]] as const);
    if (n > 30) label.push(`${n} headers`);
    for (let i = 0; i < n; i++) {
        const bad = hostile && rng.chance(0.15);
        let name = bad && rng.chance(0.5) ? rng.pick(HOSTILE_NAMES) : rng.pick(HEADER_NAMES);
        let value: string;
        if (name === 'Range') value = rng.pick(RANGES);
        else if (name === 'If-Modified-Since') value = rng.pick(['Thu, 01 Jan 1970 00:00:00 GMT', 'garbage', '\xff', 'Sun, 99 Foo 9999 99:99:99 GMT']);
        else if (bad) value = rng.chance(0.6) ? rng.pick(HOSTILE_VALUES) : hostileString(rng, 200);
        else value = !hostile || rng.chance(0.8) ? hostileString(rng, 60).replace(/[\x00-\x1f\x7f]/g, '') : rng.pick(HOSTILE_VALUES);
        if (rng.chance(0.01)) {
            name = 'X-Long-' + 'n'.repeat(rng.pick([1000, 5000, 9000]));
            label.push('long header name');
        }
        if (rng.chance(0.01)) {
            value = 'v'.repeat(rng.pick([4000, 8100, 9000, 20000]));
            label.push('long header value');
        }
        const form = !hostile ? 'normal' : rng.weighted([
            [85, 'normal'], [3, 'nospace'], [2, 'spacebefore'], [2, 'nocolon'], [2, 'folded'], [2, 'lf'], [1, 'cr'],
            [1, 'colonfirst'], [1, 'tabfolded'], [1, 'emptyline'],
        ] as const);
        if (form !== 'normal') label.push(`header-${form}`);
        switch (form) {
        case 'nospace': lines.push(`${name}:${value}`); break;
        case 'spacebefore': lines.push(`${name} : ${value}`); break;
        case 'nocolon': lines.push(`${name} ${value}`); break;
        case 'folded': lines.push(`${name}: ${value}`, ` continued ${value}`); break;
        case 'tabfolded': lines.push(`${name}: ${value}`, `\tcontinued`); break;
        case 'lf': lines.push(`${name}: ${value}\n${name}: again`); break;
        case 'cr': lines.push(`${name}: ${value}\r${name}: cr`); break;
        case 'colonfirst': lines.push(`: ${value}`); break;
        case 'emptyline': lines.push(`${name}: ${value}\r\n`); break;
        default: lines.push(`${name}: ${value}`);
        }
    }
    if (rng.chance(0.05)) {
        const dup = rng.pick(['X-Fuzz', 'Cookie', 'Accept', 'Content-Type']);
        for (let i = 0; i < rng.range(10, 300); i++) lines.push(`${dup}: ${i}`);
        label.push(`duplicated ${dup}`);
    }
    if (rng.chance(0.1)) lines.push(`X-Fuzz: ${hostileString(rng, 100)}`);
    if (close) lines.push('Connection: close');
    else if (rng.chance(0.3)) lines.push(`Connection: ${rng.pick(['keep-alive', 'upgrade', 'close, keep-alive', 'te'])}`);
    if (rng.chance(0.7)) {
        // headers in a random order, Host included
        for (let i = lines.length - 1; i > 0; i--) {
            const j = rng.int(i + 1);
            [lines[i], lines[j]] = [lines[j], lines[i]];
        }
    }
    return { lines, label };
}

/** Random edits of the request head: flipped, inserted, deleted, duplicated bytes. */
function mutate(rng: Rng, head: Buffer): Buffer {
    let bytes = Buffer.from(head);
    const n = rng.range(1, 4);
    for (let i = 0; i < n && bytes.length > 0; i++) {
        const at = rng.int(bytes.length);
        switch (rng.int(5)) {
        case 0: bytes[at] = rng.int(256); break;
        case 1: bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(rng.pick(['\r', '\n', '\x00', ' ', ':', '\r\n', '\xff', '%', '\t'])), bytes.subarray(at)]); break;
        case 2: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rng.range(1, 8)))]); break;
        case 3: bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + rng.range(1, 30)), bytes.subarray(at)]); break;
        default: bytes = Buffer.concat([bytes.subarray(0, at), rng.bytes(rng.range(1, 10)), bytes.subarray(at)]);
        }
    }
    return bytes;
}

interface Request {
    bytes: Buffer;
    method: string;
    label: string;
    waits: boolean;
    http09: boolean;
}

/** clean requests: URI, arguments and body may still be hostile, the rest is well-formed */
const CLEAN_METHODS: readonly (readonly [number, string])[] = [[50, 'GET'], [30, 'POST'], [5, 'PUT'], [5, 'HEAD'], [3, 'DELETE'], [2, 'OPTIONS']];

function request(rng: Rng, port: number, close: boolean): Request {
    // about half the requests are hostile all over; the others reach the handlers
    const hostile = rng.chance(0.45);
    const method = rng.weighted(hostile ? METHODS : CLEAN_METHODS);
    let uri = method === 'CONNECT' ? '127.0.0.1:80' : target(rng, hostile);
    // nginx refuses raw controls and spaces in the request line: a clean request encodes them
    if (!hostile) uri = uri.replace(/[\x00-\x20\x7f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
    const version = !hostile ? rng.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0']) : rng.chance(0.01) ? '' : rng.weighted(VERSIONS);
    const headers = headerLines(rng, port, close, hostile);
    const b = body(rng, method, hostile);
    const sep = !hostile ? ' ' : rng.weighted([[95, ' '], [2, '  '], [1, '\t'], [1, ' \x00'], [1, '\x0b']] as const);
    const eol = !hostile ? '\r\n' : rng.weighted([[95, '\r\n'], [4, '\n'], [1, '\r']] as const);
    const requestLine = version === '' ? `${method}${sep}${uri}` : `${method}${sep}${uri}${sep}${version}`;
    const lines = [requestLine, ...b.headers, ...headers.lines];
    if (rng.chance(0.3)) lines.push(...lines.splice(1, b.headers.length)); // body headers last
    let head: Buffer = Buffer.from(lines.join(eol) + eol + eol, 'latin1');
    if (rng.chance(0.03)) head = Buffer.concat([Buffer.from('\r\n\r\n'), head]); // leading empty lines
    const mutated = hostile && rng.chance(0.3);
    if (mutated) head = mutate(rng, head);
    const label = [hostile ? 'hostile' : 'clean', method.length > 12 ? `${method.slice(0, 8)}…(${method.length})` : JSON.stringify(method).slice(1, -1),
        uri.length > 60 ? `${JSON.stringify(uri.slice(0, 40)).slice(1, -1)}…(${uri.length})` : JSON.stringify(uri).slice(1, -1),
        JSON.stringify(version).slice(1, -1), b.label, ...headers.label, ...(mutated ? ['mutated'] : [])].join(' ');
    // nginx answers a request line without a version the HTTP/0.9 way; mutations may make one
    const firstLine = head.toString('latin1').replace(/^[\r\n]+/, '').split('\n')[0];
    const http09 = !/HTTP\//i.test(firstLine) || mutated;
    return { bytes: Buffer.concat([head, b.bytes]), method, label, waits: b.waits, http09 };
}

/** Case `index` of the run seeded with `seed`. */
export function makeCase(seed: number, index: number, port: number): Case {
    const rng = Rng.forCase(seed, index);
    const mode = rng.weighted([
        [44, 'whole'], [20, 'pieces'], [8, 'pipelined'], [3, 'slow'], [5, 'half-close'], [4, 'half-destroy'],
        [5, 'half-reset'], [6, 'full-reset'], [5, 'read-reset'],
    ] as const);
    const base: Omit<Case, 'label' | 'pieces' | 'methods' | 'expected' | 'http09'> = {
        index, mode, pauses: [], cut: 0, resetAfter: 0,
    };

    if (mode === 'pipelined') {
        const n = rng.range(2, 5);
        const parts: Buffer[] = [];
        const labels: string[] = [];
        const methods: string[] = [];
        let http09 = false;
        for (let i = 0; i < n; i++) {
            if (rng.chance(0.15)) {
                parts.push(rng.bytes(rng.range(1, 60)));
                labels.push('garbage');
                methods.push('?');
                http09 = true;
                continue;
            }
            const req = request(rng, port, i === n - 1);
            parts.push(req.bytes);
            labels.push(req.label);
            methods.push(req.method);
            http09 ||= req.http09;
        }
        return { ...base, label: `pipelined ${n}: ${labels.join(' | ')}`, pieces: [Buffer.concat(parts)], pauses: [0], methods, expected: n, http09 };
    }

    // a whole answer is wanted in these modes: ask nginx to close after it
    const close = mode === 'whole' || mode === 'pieces' || mode === 'half-close' ? rng.chance(0.85) : rng.chance(0.5);
    const req = request(rng, port, close);
    let bytes: Buffer = req.bytes;
    let label = req.label;
    if (mode === 'read-reset' && rng.chance(0.6)) {
        // a long answer to leave in the middle of
        const path = rng.pick(['/big?n=200', '/stream?n=200', '/big', '/buffered', '/proxy/x', '/sub']);
        bytes = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        label = `GET ${path}`;
    }
    const common = { label, methods: [label.startsWith('GET /') ? 'GET' : req.method], expected: 1, http09: req.http09 };

    if (mode === 'whole' && req.waits && rng.chance(0.5)) {
        // a body that promises more than comes, and the client closes its side
        return { ...base, ...common, mode: 'half-close', label: `${label}, then FIN`, pieces: [bytes], pauses: [0], cut: bytes.length };
    }

    switch (mode) {
    case 'pieces': {
        const pieces: Buffer[] = [];
        const pauses: number[] = [];
        for (let at = 0; at < bytes.length;) {
            const size = rng.chance(0.3) ? 1 : rng.range(1, Math.max(1, Math.ceil(bytes.length / 3)));
            pieces.push(bytes.subarray(at, at + size));
            pauses.push(rng.chance(0.5) ? 0 : rng.range(1, 25));
            at += size;
            if (pieces.length > 40) {
                pieces.push(bytes.subarray(at));
                pauses.push(rng.range(0, 10));
                break;
            }
        }
        return { ...base, ...common, pieces, pauses };
    }
    case 'slow': {
        // slowloris: a few bytes every few hundred ms, stopping before the end
        const stop = rng.range(1, Math.max(1, bytes.length - 1));
        const pieces: Buffer[] = [];
        const pauses: number[] = [];
        for (let at = 0; at < stop && pieces.length < 6;) {
            const size = rng.range(1, 5);
            pieces.push(bytes.subarray(at, Math.min(stop, at + size)));
            pauses.push(pieces.length === 1 ? 0 : rng.range(200, 600));
            at += size;
        }
        return { ...base, ...common, label: `slow ${pieces.length} pieces of ${label}`, pieces, pauses };
    }
    case 'half-close':
    case 'half-destroy':
    case 'half-reset':
        return { ...base, ...common, pieces: [bytes], pauses: [rng.chance(0.5) ? 0 : rng.range(1, 30)], cut: rng.range(0, bytes.length) };
    case 'full-reset':
        return { ...base, ...common, pieces: [bytes], pauses: [0], resetAfter: rng.chance(0.3) ? 0 : rng.range(1, 40) };
    default:
        return { ...base, ...common, pieces: [bytes], pauses: [0] };
    }
}
