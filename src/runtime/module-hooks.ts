/**
 * Module hooks (module.register). load turns TypeScript ES modules into JavaScript, and
 * loads as an ES module a .js file Node would take for CommonJS but that uses import/export
 * (njs modules do). resolve lets `./util.js` and `./util` find `./util.ts` as tsc users
 * write them. CommonJS TypeScript goes to the require hook of module-import.ts instead.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { hasModuleSyntax, isTypeScript, packageFormat, transformTypeScript } from './module-format';

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

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
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
