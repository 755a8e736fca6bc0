/**
 * Just enough of nginx's configuration syntax for the CLI and the test kit: the directives of a
 * file as a tree (with `include`s followed), so they can tell which modules a configuration
 * loads, which handler files it imports and where it listens. nginx itself stays the judge of
 * what is valid: this parser never rejects anything, it only reads what it can.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export interface Directive {
    name: string;
    args: string[];
    /** the directives of its block, if it has one */
    block?: Directive[];
    /** the file and line it was read from */
    file: string;
    line: number;
}

export interface Token {
    text: string;
    /** a quoted string (never a `;`, `{` or `}`) */
    quoted: boolean;
    line: number;
    /** where it is in the text: [start, end) */
    start: number;
    end: number;
}

export function tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    let line = 1;
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (c === '\n') { line++; i++; continue; }
        if (/\s/.test(c)) { i++; continue; }
        if (c === '#') {
            while (i < text.length && text[i] !== '\n') i++;
            continue;
        }
        if (c === ';' || c === '{' || c === '}') {
            tokens.push({ text: c, quoted: false, line, start: i, end: i + 1 });
            i++;
            continue;
        }
        const start = line;
        const from = i;
        let word = '';
        if (c === '"' || c === "'") {
            i++;
            while (i < text.length && text[i] !== c) {
                if (text[i] === '\\' && i + 1 < text.length) i++;
                if (text[i] === '\n') line++;
                word += text[i++];
            }
            i++;
            tokens.push({ text: word, quoted: true, line: start, start: from, end: i });
            continue;
        }
        while (i < text.length && !/[\s;{}]/.test(text[i])) {
            if (text[i] === '\\' && i + 1 < text.length) i++;
            word += text[i++];
        }
        tokens.push({ text: word, quoted: false, line: start, start: from, end: i });
    }
    return tokens;
}

/** The files an `include` names: a path relative to the configuration's directory, `*` allowed in its last part. */
function includedFiles(pattern: string, confDir: string): string[] {
    const full = isAbsolute(pattern) ? pattern : join(confDir, pattern);
    if (!full.includes('*') && !full.includes('?')) return existsSync(full) ? [full] : [];
    const dir = dirname(full);
    const glob = new RegExp(`^${basename(full).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    try {
        return readdirSync(dir).filter((name) => glob.test(name)).sort().map((name) => join(dir, name))
            .filter((file) => statSync(file).isFile());
    } catch {
        return [];
    }
}

/**
 * Reads a configuration file into a tree of directives, following `include` (whose files are
 * looked up from `confDir`, nginx's configuration directory: the main file's).
 */
export function parseConf(file: string, confDir = dirname(resolve(file)), seen = new Set<string>()): Directive[] {
    const path = resolve(file);
    if (seen.has(path)) return [];
    seen.add(path);
    let text: string;
    try {
        text = readFileSync(path, 'utf8');
    } catch {
        return [];
    }
    const tokens = tokenize(text);
    let pos = 0;
    const parseBlock = (): Directive[] => {
        const list: Directive[] = [];
        while (pos < tokens.length) {
            const token = tokens[pos];
            if (token.text === '}' && !token.quoted) {
                pos++;
                return list;
            }
            const words: Token[] = [];
            while (pos < tokens.length && (tokens[pos].quoted || !/^[;{}]$/.test(tokens[pos].text))) words.push(tokens[pos++]);
            const end = tokens[pos];
            if (words.length === 0) {
                pos++;
                continue;
            }
            const directive: Directive = { name: words[0].text, args: words.slice(1).map((w) => w.text), file: path, line: words[0].line };
            pos++;
            if (end?.text === '{' && !end.quoted) directive.block = parseBlock();
            if (directive.name === 'include' && !directive.block && directive.args[0] !== undefined) {
                for (const included of includedFiles(directive.args[0], confDir)) list.push(...parseConf(included, confDir, seen));
                continue;
            }
            list.push(directive);
        }
        return list;
    };
    return parseBlock();
}

/** Every directive of the tree, depth first, with the names of the blocks it is in. */
export function* walk(directives: Directive[], parents: string[] = []): Generator<{ directive: Directive; parents: string[] }> {
    for (const directive of directives) {
        yield { directive, parents };
        if (directive.block) yield* walk(directive.block, [...parents, directive.name]);
    }
}

/** What the CLI and the kit need to know about a configuration. */
export interface ConfSummary {
    file: string;
    /** nginx's configuration directory (the file's) */
    dir: string;
    /** the directives of the main context */
    main: Directive[];
    http: boolean;
    stream: boolean;
    /** the files nginx will read: the file and what it includes */
    files: string[];
    /** `load_module` paths */
    loadModules: string[];
    /** node_import'ed files, resolved as the module does (node_path directories, then the configuration's) */
    imports: { name: string; path: string; file: string; line: number }[];
    /** node_path directories */
    nodePaths: string[];
    /** `listen` addresses of http {} servers, as written */
    httpListens: string[];
    /** `listen` addresses of stream {} servers, as written */
    streamListens: string[];
}

export function summarize(file: string): ConfSummary {
    const path = resolve(file);
    const dir = dirname(path);
    const main = parseConf(path);
    const summary: ConfSummary = {
        file: path, dir, main, http: false, stream: false, files: [], loadModules: [], imports: [], nodePaths: [],
        httpListens: [], streamListens: [],
    };
    const files = new Set<string>([path]);
    const rawImports: { spec: string; name: string; file: string; line: number }[] = [];
    for (const { directive, parents } of walk(main)) {
        files.add(directive.file);
        if (parents.length === 0) {
            if (directive.name === 'http' && directive.block) summary.http = true;
            if (directive.name === 'stream' && directive.block) summary.stream = true;
            if (directive.name === 'load_module' && directive.args[0]) summary.loadModules.push(directive.args[0]);
        }
        if (directive.name === 'node_path' && directive.args[0]) summary.nodePaths.push(resolve(dir, directive.args[0]));
        if (directive.name === 'node_import' && directive.args.length > 0) {
            const spec = directive.args[directive.args.length - 1];
            const name = directive.args.length >= 3 && directive.args[1] === 'from'
                ? directive.args[0]
                : basename(spec).replace(/\.[^.]*$/, '');
            rawImports.push({ spec, name, file: directive.file, line: directive.line });
        }
        if (directive.name === 'listen' && directive.args[0] && parents[parents.length - 1] === 'server') {
            if (parents[0] === 'http') summary.httpListens.push(directive.args[0]);
            if (parents[0] === 'stream') summary.streamListens.push(directive.args[0]);
        }
    }
    for (const imported of rawImports) {
        let found: string | undefined;
        if (isAbsolute(imported.spec)) {
            found = imported.spec;
        } else {
            for (const base of [...summary.nodePaths, dir]) {
                if (existsSync(join(base, imported.spec))) {
                    found = join(base, imported.spec);
                    break;
                }
            }
        }
        summary.imports.push({ name: imported.name, path: found ?? join(dir, imported.spec), file: imported.file, line: imported.line });
    }
    summary.files = [...files];
    return summary;
}

/** The main-context directives named `name`. */
export function mainDirectives(summary: ConfSummary, name: string): Directive[] {
    return summary.main.filter((directive) => directive.name === name);
}

/** An address of a `listen` directive as a URL's host and port (`8080` → 127.0.0.1:8080). */
export function listenHostPort(listen: string): { host: string; port: number } | undefined {
    if (listen.startsWith('unix:')) return undefined;
    const ipv6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(listen);
    if (ipv6) return { host: `[${ipv6[1]}]`, port: Number(ipv6[2] ?? 80) };
    if (/^\d+$/.test(listen)) return { host: '127.0.0.1', port: Number(listen) };
    const match = /^([^:]+)(?::(\d+))?$/.exec(listen);
    if (!match) return undefined;
    const host = match[1] === '*' || match[1] === '0.0.0.0' ? '127.0.0.1' : match[1];
    return { host, port: Number(match[2] ?? 80) };
}

/** A directive as text: its words, what ends it (`;` or `{`), the blocks it is in, and for a block its `}`. */
export interface Statement {
    words: Token[];
    end: Token | undefined;
    parents: string[];
    close?: Token;
}

/** The directives of one file's text, in order, with where each lies (includes are not followed). */
export function statements(text: string): Statement[] {
    const tokens = tokenize(text);
    const list: Statement[] = [];
    const open: Statement[] = [];
    let words: Token[] = [];
    for (const token of tokens) {
        if (!token.quoted && token.text === '}') {
            const block = open.pop();
            if (block) block.close = token;
            words = [];
            continue;
        }
        if (token.quoted || !/^[;{]$/.test(token.text)) {
            words.push(token);
            continue;
        }
        if (words.length > 0) {
            const statement: Statement = { words, end: token, parents: open.map((s) => s.words[0].text) };
            list.push(statement);
            if (token.text === '{') open.push(statement);
        }
        words = [];
    }
    return list;
}
