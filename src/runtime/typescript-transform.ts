/** Turning a TypeScript file into JavaScript (type stripping with sucrase, lines preserved). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

type Sucrase = typeof import('sucrase');
let sucrase: Sucrase | undefined;

export type ModuleFormat = 'module' | 'commonjs';

export function isTypeScript(file: string): boolean {
    return /\.(ts|mts|cts)$/.test(file);
}

/** What Node would decide for a .js file at the same place: .mts/.cts, else package.json "type". */
export function typeScriptFormat(file: string): ModuleFormat {
    const ext = extname(file);
    if (ext === '.mts') return 'module';
    if (ext === '.cts') return 'commonjs';
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
