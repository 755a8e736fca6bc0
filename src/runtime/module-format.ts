/**
 * How a file is loaded: CommonJS or ES module, and TypeScript turned into JavaScript (type
 * stripping with sucrase, lines preserved). Shared by this thread and the module hooks'.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { Script } from 'node:vm';

type Sucrase = typeof import('sucrase');
let sucrase: Sucrase | undefined;

export type ModuleFormat = 'module' | 'commonjs';

export function isTypeScript(file: string): boolean {
    return /\.(ts|mts|cts)$/.test(file);
}

/** What Node decides for a .js (or .ts) file: .mjs/.mts, .cjs/.cts, else package.json "type". */
export function packageFormat(file: string): ModuleFormat {
    const ext = extname(file);
    if (ext === '.mts' || ext === '.mjs') return 'module';
    if (ext === '.cts' || ext === '.cjs') return 'commonjs';
    for (let dir = dirname(file); ; dir = dirname(dir)) {
        const manifest = join(dir, 'package.json');
        if (existsSync(manifest)) {
            try {
                return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type === 'module'
                    ? 'module' : 'commonjs';
            } catch {
                return 'commonjs';
            }
        }
        if (dirname(dir) === dir) return 'commonjs';
    }
}

/**
 * Whether CommonJS-by-location source is in fact an ES module (import/export), as njs
 * modules are: it does not compile as a script for exactly that reason.
 */
export function hasModuleSyntax(source: string, file: string): boolean {
    try {
        new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file });
        return false;
    } catch (error) {
        return error instanceof SyntaxError &&
            /Cannot use import statement outside a module|Unexpected token 'export'|import\.meta|await is only valid/.test(error.message);
    }
}

/** A syntax error whose stack starts with `file:line`, as Node's own syntax errors do. */
function locatedSyntaxError(file: string, error: unknown): SyntaxError {
    const message = error instanceof Error ? error.message : String(error);
    const loc = (error as { loc?: { line?: number } }).loc;
    const line = loc?.line ?? Number(/\((\d+):\d+\)$/.exec(message)?.[1] ?? 1);
    const located = new SyntaxError(message.replace(/\s*\(\d+:\d+\)$/, ''));
    located.stack = `${file}:${line}\n\nSyntaxError: ${located.message}`;
    return located;
}

export function transformTypeScript(source: string, file: string, format: ModuleFormat): string {
    sucrase ??= require('sucrase') as Sucrase;
    try {
        return sucrase.transform(source, {
            transforms: format === 'module' ? ['typescript'] : ['typescript', 'imports'],
            filePath: file,
            disableESTransforms: true,
            production: true,
        }).code;
    } catch (error) {
        throw locatedSyntaxError(file, error);
    }
}
