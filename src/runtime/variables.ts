/**
 * nginx variables as JavaScript sees them, for `r` and `s` alike: the views r.variables and
 * r.rawVariables (s.variables, s.rawVariables), and node_set's values.
 */
import type { NginxRawVariables, NginxVariables } from '../api';

export function descriptor(value: unknown): PropertyDescriptor {
    return { value, enumerable: true, configurable: true, writable: true };
}

/** What a variables view needs from the request or session. */
export interface VariablesAccess {
    get(name: string): string | undefined;
    set(name: string, value: string): void;
}

export function variablesView(access: VariablesAccess): NginxVariables {
    return new Proxy(Object.create(null) as NginxVariables, {
        get: (_target, key) => typeof key === 'string' ? access.get(key) : undefined,
        has: (_target, key) => typeof key === 'string' && access.get(key) !== undefined,
        set: (_target, key, value) => {
            if (typeof key !== 'string') return false;
            access.set(key, String(value));
            return true;
        },
        getOwnPropertyDescriptor: (_target, key) => {
            const value = typeof key === 'string' ? access.get(key) : undefined;
            return value === undefined ? undefined : descriptor(value);
        },
    });
}

export function rawVariablesView(get: (name: string) => Buffer | undefined): NginxRawVariables {
    return new Proxy(Object.create(null) as NginxRawVariables, {
        get: (_target, key) => typeof key === 'string' ? get(key) : undefined,
        has: (_target, key) => typeof key === 'string' && get(key) !== undefined,
        set: () => {
            throw new TypeError('r.rawVariables is read-only; write through r.variables');
        },
    });
}

/** A node_set value as nginx takes it: text or bytes; `undefined` leaves the variable empty. */
export type VariableValue = string | Uint8Array | undefined;

export function variableValue(value: unknown): VariableValue {
    if (value === undefined || value === null) return undefined;
    if (value instanceof Uint8Array || typeof value === 'string') return value;
    return String(value);
}
