/**
 * The global `crypto` njs scripts use: Web Crypto (`crypto.subtle`, `crypto.getRandomValues()`,
 * `crypto.randomUUID()`). Node 18 has it only behind --experimental-global-webcrypto, so
 * node:crypto's webcrypto is installed where the global is missing. A module that imports
 * `crypto` (njs's and Node's module) sees its import, as in njs.
 */
import { webcrypto } from 'node:crypto';

export function installWebCrypto(): void {
    if ((globalThis as { crypto?: unknown }).crypto !== undefined) return;
    Object.defineProperty(globalThis, 'crypto', { value: webcrypto, writable: true, configurable: true, enumerable: false });
}
