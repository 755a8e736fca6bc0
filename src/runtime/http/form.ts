/**
 * r.readRequestForm(): the request body of an HTML form, parsed as njs 0.9.9 parses it
 * (application/x-www-form-urlencoded and multipart/form-data), into njs's form object. A file
 * part gives an object with the client's file name only, as in njs; malformed input throws a
 * TypeError saying what is wrong.
 */
import type { NginxHTTPRequestForm, NginxHTTPRequestFormFile, NginxHTTPRequestFormValue } from '../../api';

/** njs's default for the maxKeys option */
export const DEFAULT_MAX_KEYS = 128;

/** RFC 2046 allows 70; njs takes up to 200 to tolerate clients that send longer ones */
const MAX_BOUNDARY = 200;
const MAX_PART_HEADERS = 32;
const MAX_PART_HEADER_LINE = 4096;
const MAX_PART_HEADER_BLOCK = 16384;

const CRLF = Buffer.from('\r\n');
const CRLF_CRLF = Buffer.from('\r\n\r\n');

interface Entry {
    name: string;
    value: NginxHTTPRequestFormValue;
}

/** malformed input: a TypeError, as in njs */
function formError(what: string): TypeError {
    return new TypeError(`r.readRequestForm(): ${what}`);
}

class RequestForm implements NginxHTTPRequestForm {
    readonly [Symbol.toStringTag] = 'RequestForm';

    constructor(private readonly entries: readonly Entry[], private readonly files: boolean) {}

    get(name: unknown): NginxHTTPRequestFormValue | null {
        const key = fieldName(name);
        return this.entries.find((entry) => entry.name === key)?.value ?? null;
    }

    getAll(name: unknown): NginxHTTPRequestFormValue[] {
        const key = fieldName(name);
        return this.entries.filter((entry) => entry.name === key).map((entry) => entry.value);
    }

    has(name: unknown): boolean {
        const key = fieldName(name);
        return this.entries.some((entry) => entry.name === key);
    }

    forEach(callback: (value: NginxHTTPRequestFormValue, key: string, form: NginxHTTPRequestForm) => void,
        thisArg?: unknown): void {
        if (typeof callback !== 'function') {
            throw new TypeError('form.forEach(callback): the callback is not a function');
        }
        for (const entry of this.entries) callback.call(thisArg, entry.value, entry.name, this);
    }

    hasFiles(): boolean {
        return this.files;
    }
}

/** A field name as njs takes it: text, bytes (as UTF-8), or anything String() takes. */
function fieldName(name: unknown): string {
    if (name === undefined || name === null) return '';
    if (name instanceof Uint8Array) return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('utf8');
    if (typeof name === 'symbol') throw new TypeError('form: a field name is a string');
    return String(name);
}

const isSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x09;

/** `;`-separated `name=value` parameters, a value a token or a quoted string with \-escapes. */
class ParameterReader {
    constructor(private readonly text: string, public at: number, private readonly what: string) {}

    skipSpace(): void {
        while (isSpace(this.text.charCodeAt(this.at))) this.at++;
    }

    get done(): boolean {
        return this.at >= this.text.length;
    }

    /** the next parameter; `at` is just past `;` (or the type before it) */
    next(): [string, string] {
        if (this.text[this.at++] !== ';') throw formError(`malformed ${this.what}`);
        this.skipSpace();
        const start = this.at;
        while (!this.done && !'=;'.includes(this.text[this.at]) && !isSpace(this.text.charCodeAt(this.at))) this.at++;
        const name = this.text.slice(start, this.at);
        this.skipSpace();
        if (name === '' || this.text[this.at] !== '=') throw formError(`malformed parameter in the ${this.what}`);
        this.at++;
        this.skipSpace();
        const value = this.text[this.at] === '"' ? this.quoted() : this.token();
        this.skipSpace();
        return [name.toLowerCase(), value];
    }

    private quoted(): string {
        let value = '';
        for (this.at++; this.at < this.text.length && this.text[this.at] !== '"'; this.at++) {
            if (this.text[this.at] === '\\' && this.at + 1 < this.text.length) this.at++;
            value += this.text[this.at];
        }
        if (this.done) throw formError(`unterminated quoted parameter in the ${this.what}`);
        this.at++;
        return value;
    }

    private token(): string {
        const start = this.at;
        while (!this.done && this.text[this.at] !== ';' && !isSpace(this.text.charCodeAt(this.at))) this.at++;
        if (start === this.at) throw formError(`empty parameter value in the ${this.what}`);
        return this.text.slice(start, this.at);
    }
}

type Kind = { type: 'urlencoded' } | { type: 'multipart'; boundary: string };

function formKind(contentType: string | undefined): Kind {
    if (!contentType) {
        throw formError('request content type is required (application/x-www-form-urlencoded ' +
            'or multipart/form-data)');
    }
    const semicolon = contentType.indexOf(';');
    const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded' && type !== 'multipart/form-data') {
        throw formError(`unsupported content type "${type}"; a form is ` +
            'application/x-www-form-urlencoded or multipart/form-data');
    }
    let boundary: string | undefined;
    const reader = new ParameterReader(contentType, semicolon < 0 ? contentType.length : semicolon, 'content type');
    while (!reader.done) {
        const [name, value] = reader.next();
        if (name !== 'boundary') continue;
        if (boundary !== undefined) throw formError('duplicate boundary parameter in the content type');
        if (value.length === 0 || value.length > MAX_BOUNDARY) {
            throw formError(`invalid multipart boundary (1 to ${MAX_BOUNDARY} characters)`);
        }
        boundary = value;
    }
    if (type === 'application/x-www-form-urlencoded') return { type: 'urlencoded' };
    if (boundary === undefined) throw formError('multipart boundary is required in the content type');
    return { type: 'multipart', boundary };
}

class Entries {
    readonly list: Entry[] = [];
    files = false;

    constructor(private readonly maxKeys: number) {}

    add(name: string, value: NginxHTTPRequestFormValue): void {
        if (this.list.length >= this.maxKeys) {
            throw formError(`maxKeys limit exceeded (${this.maxKeys}); pass a larger { maxKeys }`);
        }
        this.list.push({ name, value });
    }
}

const HEX = /^[0-9a-fA-F]{2}$/;

/** `+` is a space, `%XX` a byte; anything else after `%` is malformed (njs does not guess). */
function decodeComponent(part: Buffer): string {
    if (!part.includes(0x25) && !part.includes(0x2b)) return part.toString('utf8');
    const bytes = Buffer.alloc(part.length);
    let length = 0;
    for (let i = 0; i < part.length; i++) {
        const byte = part[i];
        if (byte === 0x25) {
            const hex = part.subarray(i + 1, i + 3).toString('latin1');
            if (!HEX.test(hex)) throw formError('malformed percent escape in the body');
            bytes[length++] = parseInt(hex, 16);
            i += 2;
        } else {
            bytes[length++] = byte === 0x2b ? 0x20 : byte;
        }
    }
    return bytes.subarray(0, length).toString('utf8');
}

function parseUrlencoded(body: Buffer, entries: Entries): void {
    let at = 0;
    while (at < body.length) {
        let end = body.indexOf(0x26, at);
        if (end < 0) end = body.length;
        if (end > at) {
            const field = body.subarray(at, end);
            const equals = field.indexOf(0x3d);
            const name = equals < 0 ? field : field.subarray(0, equals);
            const value = equals < 0 ? Buffer.alloc(0) : field.subarray(equals + 1);
            entries.add(decodeComponent(name), decodeComponent(value));
        }
        at = end + 1;
    }
}

interface Disposition {
    name: string;
    filename: string | undefined;
}

function parseDisposition(value: string): Disposition {
    const semicolon = value.indexOf(';');
    const type = semicolon < 0 ? value : value.slice(0, semicolon);
    if (type.toLowerCase() !== 'form-data') {
        throw formError(`unsupported disposition type "${type}" in a part (form-data expected)`);
    }
    let name: string | undefined;
    let filename: string | undefined;
    const reader = new ParameterReader(value, semicolon < 0 ? value.length : semicolon, 'Content-Disposition');
    while (!reader.done) {
        const [param, text] = reader.next();
        if (param === 'name') {
            if (name !== undefined) throw formError('duplicate name parameter in a part');
            name = text;
        } else if (param === 'filename') {
            if (filename !== undefined) throw formError('duplicate filename parameter in a part');
            filename = text;
        }
    }
    if (name === undefined) throw formError('multipart field name is required (Content-Disposition: form-data; name="...")');
    return { name, filename };
}

function parsePartHeaders(block: Buffer): Disposition {
    let disposition: Disposition | undefined;
    let count = 0;
    for (let at = 0; at < block.length;) {
        let end = block.indexOf(CRLF, at);
        if (end < 0) end = block.length;
        if (end - at > MAX_PART_HEADER_LINE) throw formError('multipart header line is too long');
        if (++count > MAX_PART_HEADERS) throw formError('too many multipart headers');
        const line = block.subarray(at, end).toString('utf8');
        const colon = line.indexOf(':');
        if (colon < 0) throw formError('malformed multipart header (no ":")');
        if (line.slice(0, colon).toLowerCase() === 'content-disposition') {
            if (disposition !== undefined) throw formError('duplicate Content-Disposition header in a part');
            disposition = parseDisposition(line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
        }
        if (end === block.length) break;
        at = end + CRLF.length;
    }
    if (disposition === undefined) throw formError('missing Content-Disposition header in a part');
    return disposition;
}

function parseMultipart(body: Buffer, boundary: string, entries: Entries): void {
    const dashBoundary = Buffer.from(`--${boundary}`);
    const delimiter = Buffer.from(`\r\n--${boundary}`);
    const first = body.indexOf(dashBoundary);
    const closing = body.indexOf(Buffer.from(`--${boundary}--`));
    if (first < 0 || (closing >= 0 && closing < first)) {
        throw formError(`malformed multipart body (no "--${boundary}")`);
    }
    /** past a boundary: "--" ends the body, CRLF starts a part; true if a part follows */
    const afterBoundary = (at: number): boolean => {
        if (body[at] === 0x2d && body[at + 1] === 0x2d) return false;
        if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw formError('malformed multipart boundary');
        return true;
    };
    let at = first + dashBoundary.length;
    while (afterBoundary(at)) {
        at += CRLF.length;
        const headersEnd = body.indexOf(CRLF_CRLF, at);
        if (headersEnd < 0) throw formError('missing multipart header separator (an empty line)');
        if (headersEnd - at > MAX_PART_HEADER_BLOCK) throw formError('multipart headers are too large');
        const { name, filename } = parsePartHeaders(body.subarray(at, headersEnd));
        const content = headersEnd + CRLF_CRLF.length;
        const end = body.indexOf(delimiter, content);
        if (end < 0) throw formError('truncated multipart body (no closing boundary)');
        if (filename === undefined) {
            entries.add(name, body.subarray(content, end).toString('utf8'));
        } else {
            const file: NginxHTTPRequestFormFile = Object.freeze({ name: filename });
            entries.add(name, file);
            entries.files = true;
        }
        at = end + delimiter.length;
    }
}

export function parseForm(contentType: string | undefined, body: Buffer, maxKeys: number): NginxHTTPRequestForm {
    const kind = formKind(contentType);
    const entries = new Entries(maxKeys);
    if (kind.type === 'urlencoded') {
        parseUrlencoded(body, entries);
    } else {
        parseMultipart(body, kind.boundary, entries);
    }
    return new RequestForm(entries.list, entries.files);
}

/** readRequestForm()'s options, checked before anything is read, as njs does. */
export function maxKeysOption(options: unknown): number {
    if (options === undefined) return DEFAULT_MAX_KEYS;
    if (typeof options !== 'object' || options === null) {
        throw new TypeError('r.readRequestForm(options): options must be an object ({ maxKeys })');
    }
    const maxKeys = (options as { maxKeys?: unknown }).maxKeys;
    if (maxKeys === undefined) return DEFAULT_MAX_KEYS;
    if (typeof maxKeys !== 'number' || !Number.isFinite(maxKeys) || Math.trunc(maxKeys) < 1) {
        throw new TypeError(`r.readRequestForm({ maxKeys }): maxKeys must be a positive integer (got ${String(maxKeys)})`);
    }
    return Math.trunc(maxKeys);
}
