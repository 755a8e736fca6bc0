/**
 * nginx variables as JavaScript sees them, for `r` and `s` alike: the views r.variables and
 * r.rawVariables (s.variables, s.rawVariables), and node_set's values.
 */
import type { NginxRawVariables, NginxVariables } from '../api';
import { native } from './binding';
import { nullPrototype, SOURCE, targetKeys, ViewTarget } from './view';

export function descriptor(value: unknown): PropertyDescriptor {
    return { value, enumerable: true, configurable: true, writable: true };
}

/**
 * Whose variables a view reaches: a request's, a session's or a periodic run's handle, with the
 * numbers of its "variable" (name[, asBytes]) and "setVariable" (name, value) ops.
 */
export interface VariableOps {
    readonly handle: number;
    readonly read: number;
    readonly write: number;
}

type VariablesTarget = ViewTarget<VariableOps>;

function variable(target: VariablesTarget, key: string | symbol): string | undefined {
    if (typeof key !== 'string') return undefined;
    const ops = target[SOURCE];
    return native(ops.handle, ops.read, key) as string | undefined;
}

function rawVariable(target: VariablesTarget, key: string | symbol): Buffer | undefined {
    if (typeof key !== 'string') return undefined;
    const ops = target[SOURCE];
    return native(ops.handle, ops.read, key, true) as Buffer | undefined;
}

/** The traps of every r.variables and s.variables: they call nginx themselves. */
const variablesTraps: ProxyHandler<VariablesTarget> = {
    get: variable,
    has: (target, key) => variable(target, key) !== undefined,
    set: (target, key, value) => {
        if (typeof key !== 'string') return false;
        const ops = target[SOURCE];
        native(ops.handle, ops.write, key, String(value));
        return true;
    },
    getOwnPropertyDescriptor: (target, key) => {
        const value = variable(target, key);
        return value === undefined ? undefined : descriptor(value);
    },
    getPrototypeOf: nullPrototype,
    ownKeys: targetKeys,
};

const rawVariablesTraps: ProxyHandler<VariablesTarget> = {
    get: rawVariable,
    has: (target, key) => rawVariable(target, key) !== undefined,
    set: () => {
        throw new TypeError('r.rawVariables is read-only; write through r.variables');
    },
    getPrototypeOf: nullPrototype,
    ownKeys: targetKeys,
};

/** r.variables, s.variables: read and written by name. */
export function variablesView(ops: VariableOps): NginxVariables {
    return new Proxy(new ViewTarget(ops), variablesTraps) as unknown as NginxVariables;
}

/** r.rawVariables, s.rawVariables: values as bytes, read-only. */
export function rawVariablesView(ops: VariableOps): NginxRawVariables {
    return new Proxy(new ViewTarget(ops), rawVariablesTraps) as unknown as NginxRawVariables;
}

/** A node_set value as nginx takes it: text or bytes; `undefined` leaves the variable empty. */
export type VariableValue = string | Uint8Array | undefined;

export function variableValue(value: unknown): VariableValue {
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array || typeof value === 'string') return value;
    return String(value);
}
