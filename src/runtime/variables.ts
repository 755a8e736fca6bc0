/**
 * nginx variables as JavaScript sees them, for `r` and `s` alike: the views r.variables and
 * r.rawVariables (s.variables, s.rawVariables), and node_set's values.
 */
import type { NginxRawVariables, NginxVariables } from '../api';
import { HTTP_OP, native } from './binding';
import { ACCESS, nullPrototype, SOURCE, targetKeys, ViewTarget } from './view';

export function descriptor(value: unknown): PropertyDescriptor {
    return { value, enumerable: true, configurable: true, writable: true };
}

/** What a variables view needs from the request or session. */
export interface VariablesAccess {
    get(name: string): string | undefined;
    set(name: string, value: string): void;
}

/** The same, reached by a `source` (a request's handle): one object for every request. */
export interface VariablesSourceAccess<S> {
    get(source: S, name: string): string | undefined;
    set(source: S, name: string, value: string): void;
}

type VariablesTarget = ViewTarget<unknown, VariablesSourceAccess<unknown>>;

function variable(target: VariablesTarget, key: string | symbol): string | undefined {
    return typeof key === 'string' ? target[ACCESS].get(target[SOURCE], key) : undefined;
}

const variablesTraps: ProxyHandler<VariablesTarget> = {
    get: variable,
    has: (target, key) => variable(target, key) !== undefined,
    set: (target, key, value) => {
        if (typeof key !== 'string') return false;
        target[ACCESS].set(target[SOURCE], key, String(value));
        return true;
    },
    getOwnPropertyDescriptor: (target, key) => {
        const value = variable(target, key);
        return value === undefined ? undefined : descriptor(value);
    },
    getPrototypeOf: nullPrototype,
    ownKeys: targetKeys,
};

function sourceVariablesView<S>(source: S, access: VariablesSourceAccess<S>): NginxVariables {
    return new Proxy(new ViewTarget(source, access) as VariablesTarget, variablesTraps) as unknown as NginxVariables;
}

/** An access of its own (closures over a session) as the source. */
const ownAccess: VariablesSourceAccess<VariablesAccess> = {
    get: (access, name) => access.get(name),
    set: (access, name, value) => access.set(name, value),
};

export function variablesView(access: VariablesAccess): NginxVariables {
    return sourceVariablesView(access, ownAccess);
}

/** r.variables: its traps call nginx themselves, as r.headersIn's do (http/headers.ts). */
type HandleTarget = ViewTarget<number, undefined>;

function httpVariable(target: HandleTarget, key: string | symbol): string | undefined {
    return typeof key === 'string' ? native(target[SOURCE], HTTP_OP.variable, key) as string | undefined : undefined;
}

const httpVariablesTraps: ProxyHandler<HandleTarget> = {
    get: httpVariable,
    has: (target, key) => httpVariable(target, key) !== undefined,
    set: (target, key, value) => {
        if (typeof key !== 'string') return false;
        native(target[SOURCE], HTTP_OP.setVariable, key, String(value));
        return true;
    },
    getOwnPropertyDescriptor: (target, key) => {
        const value = httpVariable(target, key);
        return value === undefined ? undefined : descriptor(value);
    },
    getPrototypeOf: nullPrototype,
    ownKeys: targetKeys,
};

export function httpVariablesView(handle: number): NginxVariables {
    return new Proxy(new ViewTarget(handle, undefined), httpVariablesTraps) as unknown as NginxVariables;
}

type RawGet = (name: string) => Buffer | undefined;
type RawVariablesTarget = ViewTarget<RawGet, undefined>;

const rawVariablesTraps: ProxyHandler<RawVariablesTarget> = {
    get: (target, key) => typeof key === 'string' ? target[SOURCE](key) : undefined,
    has: (target, key) => typeof key === 'string' && target[SOURCE](key) !== undefined,
    set: () => {
        throw new TypeError('r.rawVariables is read-only; write through r.variables');
    },
    getPrototypeOf: nullPrototype,
    ownKeys: targetKeys,
};

export function rawVariablesView(get: RawGet): NginxRawVariables {
    return new Proxy(new ViewTarget(get, undefined), rawVariablesTraps) as unknown as NginxRawVariables;
}

/** A node_set value as nginx takes it: text or bytes; `undefined` leaves the variable empty. */
export type VariableValue = string | Uint8Array | undefined;

export function variableValue(value: unknown): VariableValue {
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array || typeof value === 'string') return value;
    return String(value);
}
