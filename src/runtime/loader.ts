/**
 * Loading the modules of `node_import` and finding the functions `module.function` (or
 * `module.object.function`) names.
 * The configuration checker (check.ts, at `nginx -t`) and every worker run this same code,
 * so what the checker accepts is what workers load.
 */
import { accessSync, constants, statSync } from 'node:fs';
import Module from 'node:module';
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';

import { HandlerConf, ImportConf, RuntimeConf, where } from './config';
import { importFile, Namespace, resolveBareImportsIn } from './module-import';

export interface LoadedModule {
    conf: ImportConf;
    file: string;
    namespace: Namespace;
}

/** A handler ready to call: the function and the object it is a method of. */
export interface Handler {
    conf: HandlerConf;
    fn: (...args: unknown[]) => unknown;
    holder: unknown;
}

/** An error whose message is complete for the error log: what, where, what to do. */
export class ConfigurationError extends Error {}

/**
 * node_path directories serve bare imports of the files in them (`import m from 'lib.js'`,
 * `require('lib.js')`), as njs's js_path does, and CommonJS `require()` of packages in
 * their node_modules, as NODE_PATH does; ES modules resolve packages from their own
 * location, as Node does.
 */
export function addSearchPaths(paths: string[]): void {
    if (paths.length === 0) return;
    const searched = paths.flatMap((dir) => [join(dir, 'node_modules'), dir]);
    process.env.NODE_PATH = [...searched, process.env.NODE_PATH].filter(Boolean).join(':');
    (Module as unknown as { _initPaths(): void })._initPaths();
}

/** Where a relative module path is looked for: node_path directories, then nginx's conf prefix. */
export function searchDirectories(conf: RuntimeConf): string[] {
    return [...conf.paths, conf.confPrefix];
}

/** The places a module path may name, in the order they are tried. */
export function candidatePaths(path: string, conf: RuntimeConf): string[] {
    return isAbsolute(path) ? [path] : searchDirectories(conf).map((dir) => resolvePath(dir, path));
}

/** The user this process runs as: nginx's workers' (the checker switches to it too). */
export function processUser(): string {
    try {
        return userInfo().username;
    } catch {
        return `uid ${process.getuid?.() ?? '?'}`;
    }
}

/** Why a file the workers need cannot be read, and what to do. */
export function permissionDenied(file: string): string {
    return `cannot read ${file} as user "${processUser()}", the user nginx's workers run as: ` +
        'Permission denied; let that user read the file and search the directories above it, ' +
        'or change nginx\'s "user" directive';
}

function errorCode(error: unknown): string | undefined {
    return (error as NodeJS.ErrnoException | undefined)?.code;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return (typeof value === 'object' || typeof value === 'function') && value !== null;
}

/** Whether a file is there; a file the workers may not reach is a ConfigurationError. */
export function isFile(file: string): boolean {
    try {
        if (!statSync(file).isFile()) return false;
        accessSync(file, constants.R_OK);
        return true;
    } catch (error) {
        if (errorCode(error) === 'EACCES') throw new ConfigurationError(permissionDenied(file));
        return false;
    }
}

/**
 * Where `node_import path` (or `node_preload_object`) points: absolute, or the first of the
 * node_path directories and nginx's conf prefix that has it.
 */
export function findImportFile(imp: ImportConf, conf: RuntimeConf, directive = 'node_import'): string {
    for (const file of candidatePaths(imp.path, conf)) {
        try {
            if (isFile(file)) return file;
        } catch (error) {
            throw new ConfigurationError(`${directive} "${imp.path}": ${(error as Error).message}, in ${where(imp)}`);
        }
    }
    const looked = isAbsolute(imp.path) ? '' : ` (looked in ${searchDirectories(conf).join(', ')})`;
    throw new ConfigurationError(
        `${directive} "${imp.path}": file not found${looked}; ` +
        `give an absolute path or add a node_path directory, in ${where(imp)}`);
}

/** `file:line` of a syntax error as Node reports it on the first line of the stack. */
function syntaxErrorLocation(error: Error): string | undefined {
    const first = error.stack?.split('\n', 1)[0] ?? '';
    const match = /^(?:file:\/\/)?(\/.*:\d+)$/.exec(first);
    return match?.[1];
}

/**
 * Finds `file:line` of a syntax error when the error does not tell: Node 18 keeps the line of
 * an ES module's syntax error out of JavaScript's reach. The checker supplies one.
 */
export type SyntaxErrorLocator = (file: string) => string | undefined;

/** What went wrong importing a file, for the error log: a syntax error's place, else the stack. */
export function describeImportError(file: string, error: unknown, locate?: SyntaxErrorLocator): string {
    if (errorCode(error) === 'EACCES') {
        return permissionDenied((error as NodeJS.ErrnoException).path ?? file);
    }
    if (error instanceof ConfigurationError) return error.message;
    if (error instanceof SyntaxError) {
        const location = syntaxErrorLocation(error) ?? locate?.(file);
        return location !== undefined
            ? `SyntaxError: ${error.message} at ${location}`
            : `SyntaxError: ${error.message} in ${file} (\`node --check ${file}\` shows the line)`;
    }
    if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
    return `threw ${String(error)}`;
}

function describeLoadFailure(imp: ImportConf, file: string, error: unknown, locate?: SyntaxErrorLocator): string {
    return `node_import "${imp.name}" from "${file}" failed: ${describeImportError(file, error, locate)}\n  in ${where(imp)}`;
}

export interface LoadResult {
    /** by import (the index in RuntimeConf.imports); undefined where it failed */
    modules: (LoadedModule | undefined)[];
    errors: string[];
}

/**
 * Loads every import in order; a failing module is reported and left out. A file imported
 * more than once (under other names, in other blocks) is one module, loaded once, as Node
 * loads a file once however often it is imported.
 */
export async function loadModules(conf: RuntimeConf, locate?: SyntaxErrorLocator): Promise<LoadResult> {
    const modules: (LoadedModule | undefined)[] = conf.imports.map(() => undefined);
    const errors: string[] = [];
    const namespaces = new Map<string, Namespace | undefined>();
    addSearchPaths(conf.paths);
    // when the worker starts, not in a call from Lua code (resty.node): what they load does not need it
    if (conf.paths.length > 0 && conf.imports.length > 0) resolveBareImportsIn(conf.paths);
    for (const [index, imp] of conf.imports.entries()) {
        let file: string;
        try {
            file = findImportFile(imp, conf);
        } catch (error) {
            errors.push((error as Error).message);
            continue;
        }
        if (!namespaces.has(file)) {
            try {
                namespaces.set(file, await importFile(file));
            } catch (error) {
                namespaces.set(file, undefined);
                errors.push(describeLoadFailure(imp, file, error, locate));
            }
        }
        const namespace = namespaces.get(file);
        if (namespace !== undefined) modules[index] = { conf: imp, file, namespace };
    }
    return { modules, errors };
}

/**
 * What a module offers by name, its named exports and the properties of its default export:
 * the functions, or with `objects` also the objects (a longer handler name goes through them).
 */
export function functionNames(ns: Namespace, objects = false): string[] {
    const names = new Set<string>();
    const add = (source: unknown) => {
        if (!isObject(source)) return;
        for (const [key, value] of Object.entries(source)) {
            if ((typeof value === 'function' || (objects && isObject(value))) && key !== 'default') names.add(key);
        }
    };
    add(ns);
    add(ns.default);
    return [...names].sort();
}

/**
 * An export by name: a named export, else a property of the default export — then `holder`
 * is the default export, the `this` of a method call.
 */
export function findExport(ns: Namespace, name: string): { value: unknown; holder: unknown } {
    if (Object.prototype.hasOwnProperty.call(ns, name) && ns[name] !== undefined) {
        return { value: ns[name], holder: undefined };
    }
    const fallback = ns.default;
    if ((typeof fallback === 'object' || typeof fallback === 'function') && fallback !== null) {
        return { value: (fallback as Namespace)[name], holder: fallback };
    }
    return { value: undefined, holder: undefined };
}

/** Why no node_import gives a handler's module name where the handler stands. */
function notImported(subject: string, moduleName: string, conf: HandlerConf, imports: ImportConf[]): string {
    const elsewhere = imports.filter((imp) => imp.name === moduleName).map(where);
    if (elsewhere.length === 0) {
        return `${subject}: no module is imported as "${moduleName}"; add "node_import ${moduleName} from <file>;" ` +
            `in this block or one around it, in ${where(conf)}`;
    }
    return `${subject}: no module is imported as "${moduleName}" in this block or the blocks around it ` +
        `(only in other blocks, at ${elsewhere.join(', ')}); a handler's module is looked up where its directive ` +
        `stands: add "node_import ${moduleName} from <file>;" here or in an enclosing block, in ${where(conf)}`;
}

/**
 * Finds `module.function` or `module.object.function`: the first name is a named export or a
 * property of the default export, each further name a property of the one before. The
 * function's holder (the default export, the object) is the `this` of the call.
 */
export function resolveHandler(conf: HandlerConf, modules: LoadResult['modules'], imports: ImportConf[]): Handler {
    const [moduleName, ...path] = conf.name.split('.');
    const subject = `${conf.directive} "${conf.name}"`;
    if (imports[conf.import] === undefined) throw new ConfigurationError(notImported(subject, moduleName, conf, imports));
    const mod = modules[conf.import];
    if (mod === undefined) {
        throw new ConfigurationError(`${subject}: module "${moduleName}" failed to load (see the error above), in ${where(conf)}`);
    }
    const described = `module "${moduleName}" (${mod.file})`;
    let { value, holder } = findExport(mod.namespace, path[0]);
    if (value === undefined) {
        const available = functionNames(mod.namespace, path.length > 1);
        throw new ConfigurationError(
            `${subject}: ${described} has no export "${path[0]}"` +
            `${available.length ? `; it exports ${available.join(', ')}` : ''}, in ${where(conf)}`);
    }
    for (let depth = 1; depth < path.length; depth++) {
        const reached = path.slice(0, depth).join('.');
        if (!isObject(value)) {
            throw new ConfigurationError(
                `${subject}: "${reached}" of ${described} is ${value === null ? 'null' : typeof value}, ` +
                `not an object with "${path[depth]}", in ${where(conf)}`);
        }
        holder = value;
        value = value[path[depth]];
        if (value === undefined) {
            const keys = Object.keys(holder as object).sort();
            throw new ConfigurationError(
                `${subject}: "${reached}" of ${described} has no "${path[depth]}"` +
                `${keys.length ? `; it has ${keys.join(', ')}` : ''}, in ${where(conf)}`);
        }
    }
    if (typeof value !== 'function') {
        throw new ConfigurationError(
            `${subject}: "${path.join('.')}" of ${described} is ${value === null ? 'null' : typeof value}, not a function, in ${where(conf)}`);
    }
    return { conf, fn: value as Handler['fn'], holder };
}
