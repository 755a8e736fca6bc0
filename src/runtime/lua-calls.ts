/**
 * Calls from OpenResty's Lua (lua/resty/node.lua, through ngx_node_lua.c): a module named
 * as Lua names it ("demo/echo", looked up under node_path and nginx's configuration
 * directory), any function it exports, sync or async. Raw calls take and give bytes; JSON
 * calls parse the payload and serialise the result. A name ending in "?" makes the module
 * hot-reloadable: after unload(), the next call imports it afresh.
 */
import { LUA_OP, native } from './binding';
import type { RuntimeConf } from './config';
import { logWorker, LogLevel, toLogMessage } from './log';
import { inFetchSettings } from './fetch/scope';
import { candidatePaths, describeImportError, findExport, functionNames, isFile, searchDirectories } from './loader';
import { importFile, Namespace } from './module-import';

const extensions = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** Call flags (NGX_NODE_FLAG_*) */
const JSON_FLAG = 4;

interface LuaModule {
    file: string;
    reloadable: boolean;
    namespace?: Namespace;
    loading: Promise<Namespace>;
}

function encode(value: unknown, json: boolean): string | Uint8Array {
    if (json) return JSON.stringify(value === undefined ? null : value);
    if (typeof value === 'string' || value instanceof Uint8Array) return value;
    if (value === undefined || value === null) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function complete(handle: number, ok: boolean, result: string | Uint8Array): void {
    try {
        native(handle, LUA_OP.complete, ok, result);
    } catch {
        // the Lua side gave up (its timeout, or its request ended)
    }
}

export class LuaCalls {
    private readonly modules = new Map<string, LuaModule>();
    private reloads = 0;

    constructor(private readonly conf: RuntimeConf) {}

    private find(name: string): string {
        for (const base of candidatePaths(name, this.conf)) {
            for (const ext of extensions) {
                if (isFile(base + ext)) return base + ext;
            }
            for (const ext of extensions.slice(1)) {
                if (isFile(`${base}/index${ext}`)) return `${base}/index${ext}`;
            }
        }
        throw new Error(`no module "${name}" (looked in ${searchDirectories(this.conf).join(', ')}, ` +
            `with ${extensions.slice(1).join(', ')} or as a directory with an index file)`);
    }

    private module(spec: string): LuaModule {
        const reloadable = spec.endsWith('?');
        const name = reloadable ? spec.slice(0, -1) : spec;
        let mod = this.modules.get(name);
        if (mod === undefined) {
            const file = this.find(name);
            const loading = importFile(file, reloadable ? ++this.reloads : undefined);
            const created: LuaModule = { file, reloadable, loading };
            // a failed import is tried again at the next call
            loading.then((namespace) => { created.namespace = namespace; }, () => {
                if (this.modules.get(name) === created) this.modules.delete(name);
            });
            mod = created;
            this.modules.set(name, mod);
        }
        return mod;
    }

    private invoke(spec: string, namespace: Namespace, fnName: string, payload: Buffer | string | undefined, json: boolean): unknown {
        const { value, holder } = findExport(namespace, fnName);
        if (typeof value !== 'function') {
            const available = functionNames(namespace);
            throw new TypeError(`module "${spec}" has no function "${fnName}"` +
                (available.length ? `; it has ${available.join(', ')}` : ''));
        }
        const arg = json ? (payload === undefined || payload.length === 0 ? undefined : JSON.parse(String(payload))) : payload;
        return (value as (arg: unknown) => unknown).call(holder, arg);
    }

    /** Answers false and a message; the log gets the details (stack, or a syntax error's place). */
    private fail(handle: number, spec: string, fnName: string, error: unknown, importing?: string): void {
        const details = importing === undefined ? toLogMessage(error) : describeImportError(importing, error);
        logWorker(LogLevel.ERR, `resty.node: ${spec}:${fnName}() failed: ${details}`);
        const message = importing !== undefined ? details.split('\n', 1)[0]
            : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        complete(handle, false, message);
    }

    /** Returns true when the call was answered during this call. */
    call(handle: number, payload: Buffer | string | undefined, flags: number): boolean {
        const [spec, fnName, fetchSettings] = native(handle, LUA_OP.target) as [string, string, number];
        const json = (flags & JSON_FLAG) !== 0;
        let answered = false;
        const answer = (value: unknown) => {
            try {
                complete(handle, true, encode(value, json));
            } catch (error) {
                this.fail(handle, spec, fnName, error);
            }
            answered = true;
        };
        const failed = (error: unknown) => {
            this.fail(handle, spec, fnName, error);
            answered = true;
        };
        const run = (namespace: Namespace) => {
            let result: unknown;
            try {
                result = inFetchSettings(fetchSettings, () => this.invoke(spec, namespace, fnName, payload, json));
            } catch (error) {
                failed(error);
                return;
            }
            if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
                Promise.resolve(result).then(answer, failed);
            } else {
                answer(result);
            }
        };
        let mod: LuaModule;
        try {
            mod = this.module(spec);
        } catch (error) {
            failed(error);
            return true;
        }
        if (mod.namespace !== undefined) {
            run(mod.namespace);
        } else {
            mod.loading.then(run, (error: unknown) => this.fail(handle, spec, fnName, error, mod.file));
        }
        return answered;
    }

    /** Forgets a hot-reloadable module; returns why not, if it cannot. */
    unload(spec: string): string | undefined {
        const name = spec.endsWith('?') ? spec.slice(0, -1) : spec;
        const mod = this.modules.get(name);
        if (mod === undefined) return undefined;
        if (!mod.reloadable) {
            return `module "${name}" was loaded without "?" and cannot be unloaded; load it as "${name}?"`;
        }
        this.modules.delete(name);
        return undefined;
    }
}
