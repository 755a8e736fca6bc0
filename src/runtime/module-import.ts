/**
 * Importing a node_import file. TypeScript loads with no build step: CommonJS TypeScript
 * (.cts, or .ts outside a "type": "module" package) through a require hook on this thread;
 * ES-module TypeScript (.mts, .ts in a "type": "module" package), and .js files with
 * import/export where Node would expect CommonJS (njs modules), through module hooks,
 * registered only when the first such file comes: they run on a thread of their
 * own, costing ~60 ms and ~10 MB once per worker. With node_path directories, the hooks also
 * serve bare imports of files there (module-hooks.ts): then they are registered before the
 * node_import files load, as the worker starts.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { hasModuleSyntax, isTypeScript, packageFormat, transformTypeScript } from './module-format';
import type { HooksData } from './module-hooks';

export type Namespace = Record<string, unknown>;

interface CompilableModule {
    _compile(code: string, filename: string): void;
}

let requireHookInstalled = false;
let moduleHooksRegistered = false;
const hooksData: HooksData = { bareImportDirectories: [] };

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
    const register = (Module as unknown as {
        register?: (specifier: string, parent: string, options: { data: HooksData }) => void;
    }).register;
    if (typeof register !== 'function') {
        throw new Error('TypeScript, njs-style ES modules and node_path need module.register() (Node 18.19 or later)');
    }
    register(pathToFileURL(join(__dirname, 'module-hooks.js')).href, pathToFileURL(__filename).href, { data: hooksData });
    moduleHooksRegistered = true;
}

/**
 * node_path directories: an ES module's `import m from 'lib.js'` finds lib.js in them. Called
 * before any module is imported: the hooks get the directories when they are registered.
 */
export function resolveBareImportsIn(directories: string[]): void {
    hooksData.bareImportDirectories = directories;
    registerModuleHooks();
}

async function importCommonTypeScript(file: string): Promise<Namespace> {
    installRequireHook();
    const exports = require(file) as unknown;
    const named = typeof exports === 'object' && exports !== null ? exports as Namespace : {};
    // `export default` compiles to exports.default, marked by __esModule
    const { __esModule: compiledModule, ...rest } = named;
    return compiledModule === true ? rest : { ...rest, default: exports };
}

/**
 * Imports a file; the namespace looks as import() would give it. With `fresh`, the file is
 * imported anew (its own code: what it imports stays cached).
 */
export function importFile(file: string, fresh?: number): Promise<Namespace> {
    if (fresh !== undefined) {
        // Node caches a CommonJS file by name, an ES module by URL
        delete require.cache[file];
    }
    if (isTypeScript(file) && packageFormat(file) === 'commonjs') return importCommonTypeScript(file);
    if (isTypeScript(file) || (file.endsWith('.js') && packageFormat(file) === 'commonjs' &&
        hasModuleSyntax(readFileSync(file, 'utf8'), file))) {
        installRequireHook();
        registerModuleHooks();
    }
    const url = pathToFileURL(file).href + (fresh === undefined ? '' : `?ngx-node-reload=${fresh}`);
    return import(url) as Promise<Namespace>;
}
