/**
 * node_preload_object: a JSON file read once per worker and set as a global of that name,
 * frozen all the way down, as njs's js_preload_object does (objects and arrays without a
 * prototype, so nothing can be changed through them).
 */
import { readFileSync } from 'node:fs';

import type { ImportConf, RuntimeConf } from './config';
import { where } from './config';
import { ConfigurationError, findImportFile, permissionDenied } from './loader';

function frozen(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const copy = Object.create(null) as Record<string, unknown>;
    for (const [key, item] of Object.entries(value)) copy[key] = frozen(item);
    if (Array.isArray(value)) Object.defineProperty(copy, 'length', { value: value.length, enumerable: false });
    return Object.freeze(copy);
}

function preload(imp: ImportConf, conf: RuntimeConf): void {
    const file = findImportFile(imp, conf, 'node_preload_object');
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (error) {
        throw new ConfigurationError((error as NodeJS.ErrnoException).code === 'EACCES'
            ? `node_preload_object "${imp.name}": ${permissionDenied(file)}, in ${where(imp)}`
            : `node_preload_object "${imp.name}": cannot read ${file}: ${(error as Error).message}, in ${where(imp)}`);
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new ConfigurationError(`node_preload_object "${imp.name}" from "${file}": ${(error as Error).message}, in ${where(imp)}`);
    }
    Object.defineProperty(globalThis, imp.name, { value: frozen(value), writable: false, configurable: false, enumerable: false });
}

/** Sets every preloaded object; returns the messages of those that failed. */
export function loadPreloads(conf: RuntimeConf): string[] {
    const errors: string[] = [];
    for (const imp of conf.preloads ?? []) {
        try {
            preload(imp, conf);
        } catch (error) {
            errors.push(error instanceof ConfigurationError ? error.message : String(error));
        }
    }
    return errors;
}
