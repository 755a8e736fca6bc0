/**
 * TypeScript handlers load with no build step. CommonJS TypeScript (.cts, or .ts outside a
 * "type": "module" package) goes through a require hook on this thread; ES-module TypeScript
 * (.mts, .ts in a "type": "module" package) through module hooks, registered only when the
 * first such file is imported: they run on a thread of their own (Node 18), costing ~60 ms
 * and ~10 MB once per worker.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { transformTypeScript, typeScriptFormat } from './typescript-transform';

interface CompilableModule {
    _compile(code: string, filename: string): void;
}

let requireHookInstalled = false;
let moduleHooksRegistered = false;

function installRequireHook(): void {
    if (requireHookInstalled) return;
    const compile = (module: NodeJS.Module, filename: string) => {
        const code = transformTypeScript(readFileSync(filename, 'utf8'), filename, 'commonjs');
        (module as unknown as CompilableModule)._compile(code, filename);
    };
    require.extensions['.ts'] = compile;
    require.extensions['.cts'] = compile;
    requireHookInstalled = true;
}

function registerModuleHooks(): void {
    if (moduleHooksRegistered) return;
    const register = (Module as unknown as { register?: (specifier: string, parent: string) => void }).register;
    if (typeof register !== 'function') {
        throw new Error('TypeScript ES modules need module.register() (Node 18.19 or later)');
    }
    register(pathToFileURL(join(__dirname, 'typescript-hooks.js')).href, pathToFileURL(__filename).href);
    moduleHooksRegistered = true;
}

/** Imports a TypeScript file; the namespace looks as import() would give it. */
export async function importTypeScript(file: string): Promise<Record<string, unknown>> {
    installRequireHook();
    if (typeScriptFormat(file) === 'commonjs') {
        const exports = require(file) as unknown;
        const named = typeof exports === 'object' && exports !== null ? exports as Record<string, unknown> : {};
        return { ...named, default: exports };
    }
    registerModuleHooks();
    return import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
}
