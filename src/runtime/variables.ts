/**
 * nginx variables as JavaScript sees them, for `r` and `s` alike: the views r.variables and
 * r.rawVariables (s.variables, s.rawVariables), and node_set's values.
 */
import type { NginxRawVariables, NginxVariables } from '../api';
import { HTTP_OP, native } from './binding';
import { nullPrototype, SOURCE, targetKeys, ViewTarget } from './view';

export function descriptor(value: unknown): PropertyDescriptor {
    return { value, enumerable: true, configurable: true, writable: true };
}

/** What a variables view needs from the request or session. */
export interface VariablesAccess {
    get(name: string): string | undefined;
    set(name: string, value: string): void;
}

/** The target of a session's (or a periodic run's) s.variables: its access, closures over it. */
type VariablesTarget = ViewTarget<VariablesAccess>;

function variable(target: VariablesTarget, key: string | symbol): string | undefined {
    return typeof key === 'string' ? target[SOURCE].get(key) : undefined;
}

const variablesTraps: ProxyHandler<VariablesTarget> = {
    get: variable,
    has: (target, key) => variable(target, key) !== undefined,
    set: (target, key, value) => {
        if (typeof key !== 'string') return false;
        target[SOURCE].set(key, String(value));
        return true;
    },
    getOwnPropertyDescriptor: (target, key) => {
        const value = variable(target, key);
        return value === undefined ? undefined : descriptor(value);
    },
    getPrototypeOf: nullPrototype,
    ownKeys: targetKeys,
};

export function variablesView(access: VariablesAccess): NginxVariables {
    return new Proxy(new ViewTarget(access), variablesTraps) as unknown as NginxVariables;
}

/** r.variables: its traps call nginx themselves, as r.headersIn's do (http/headers.ts). */
type HandleTarget = ViewTarget<number>;

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
    return new Proxy(new ViewTarget(handle), httpVariablesTraps) as unknown as NginxVariables;
}

type RawGet = (name: string) => Buffer | undefined;
type RawVariablesTarget = ViewTarget<RawGet>;

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
    return new Proxy(new ViewTarget(get), rawVariablesTraps) as unknown as NginxRawVariables;
}

/** A node_set value as nginx takes it: text or bytes; `undefined` leaves the variable empty. */
export type VariableValue = string | Uint8Array | undefined;

export function variableValue(value: unknown): VariableValue {
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array || typeof value === 'string') return value;
    return String(value);
}
