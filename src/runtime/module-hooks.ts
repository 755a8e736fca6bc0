/**
 * Module hooks (module.register). load turns TypeScript ES modules into JavaScript, and
 * loads as an ES module a .js file Node would take for CommonJS but that uses import/export
 * (njs modules do). resolve lets `./util.js` and `./util` find `./util.ts` as tsc users
 * write them, and a bare `import m from 'lib.js'` find lib.js in a node_path directory, as
 * njs's js_path does, before Node looks for a package of that name. CommonJS TypeScript
 * goes to the require hook of module-import.ts instead.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { hasModuleSyntax, isTypeScript, packageFormat, transformTypeScript } from './module-format';

/** What module-import.ts registers the hooks with. */
export interface HooksData {
    /** node_path directories, absolute */
    bareImportDirectories: string[];
}

interface ResolveContext { parentURL?: string; conditions: string[] }
interface ResolveResult { url: string; format?: string | null; shortCircuit?: boolean }
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;
interface LoadContext { format?: string | null; conditions: string[] }
interface LoadResult { format: string; source?: string | Buffer; shortCircuit?: boolean }
type NextLoad = (url: string, context: LoadContext) => Promise<LoadResult>;

function typeScriptCandidates(specifier: string): string[] {
    if (/\.(m|c)?js$/.test(specifier)) return [specifier.replace(/js$/, 'ts')];
    if (!/\.[a-z]+$/i.test(specifier)) return [`${specifier}.ts`, `${specifier}/index.ts`];
    return [];
}

let bareImportDirectories: string[] = [];

export function initialize(data: HooksData | undefined): void {
    bareImportDirectories = data?.bareImportDirectories ?? [];
}

/** Neither relative (`./`, `../`), nor absolute, nor a URL (`node:fs`), nor a package import (`#x`). */
function isBare(specifier: string): boolean {
    return !/^(\.{0,2}\/|#|[a-z][a-z0-9+.-]*:)/i.test(specifier);
}

async function isFile(file: string): Promise<boolean> {
    try {
        return (await stat(file)).isFile();
    } catch {
        return false;
    }
}

/** `lib.js` in a node_path directory (from TypeScript, also `lib.ts` for `lib.js` or `lib`). */
async function inBareImportDirectories(specifier: string, parentURL: string): Promise<ResolveResult | undefined> {
    const spellings = [specifier, ...(isTypeScript(parentURL) ? typeScriptCandidates(specifier) : [])];
    for (const dir of bareImportDirectories) {
        for (const spelling of spellings) {
            const file = join(dir, spelling);
            if (await isFile(file)) return { url: pathToFileURL(file).href, shortCircuit: true };
        }
    }
    return undefined;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
    if (bareImportDirectories.length > 0 && context.parentURL?.startsWith('file:') && isBare(specifier)) {
        const found = await inBareImportDirectories(specifier, context.parentURL);
        if (found !== undefined) return found;
    }
    try {
        return await next(specifier, context);
    } catch (error) {
        const fromTypeScript = context.parentURL !== undefined && isTypeScript(context.parentURL);
        if (!fromTypeScript || !/^\.\.?\//.test(specifier)) throw error;
        for (const candidate of typeScriptCandidates(specifier)) {
            try {
                return await next(candidate, context);
            } catch {
                // try the next spelling
            }
        }
        throw error;
    }
}

export async function load(url: string, context: LoadContext, next: NextLoad): Promise<LoadResult> {
    if (!url.startsWith('file:')) return next(url, context);
    const file = fileURLToPath(url);
    if (isTypeScript(file)) {
        const format = packageFormat(file);
        if (format === 'commonjs') return { format, shortCircuit: true };
        const source = transformTypeScript(await readFile(file, 'utf8'), file, format);
        return { format, source, shortCircuit: true };
    }
    if (file.endsWith('.js') && packageFormat(file) === 'commonjs') {
        const source = await readFile(file, 'utf8');
        if (hasModuleSyntax(source, file)) return { format: 'module', source, shortCircuit: true };
    }
    return next(url, context);
}
