/**
 * Module hooks (module.register) for TypeScript ES modules: load turns .ts/.mts into
 * JavaScript; resolve lets `./util.js` and `./util` find `./util.ts` as tsc users write them.
 * CommonJS TypeScript goes to the require hook of typescript.ts instead.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { isTypeScript, transformTypeScript, typeScriptFormat } from './typescript-transform';

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
    if (!url.startsWith('file:') || !isTypeScript(url)) return next(url, context);
    const file = fileURLToPath(url);
    const format = typeScriptFormat(file);
    if (format === 'commonjs') return { format, shortCircuit: true };
    const source = transformTypeScript(await readFile(file, 'utf8'), file, format);
    return { format, source, shortCircuit: true };
}
