/** The global `ngx` object. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { NgxLogLevel, NgxMetrics, NgxObject } from '../api';
import type { RuntimeConf } from './config';
import { createNgxFetch } from './fetch/fetch';
import { useFetchSettings } from './fetch/scope';
import { checkLevel, logWorker, LogLevel, scriptLine } from './log';
import { SharedMemoryError, sharedDicts } from './shared-dict';

/** package.json's version: beside lib/ where the packages install it (/usr/lib/ngx-node), the
 * repository's above build/ */
function ownVersion(): string {
    for (const up of [['..', '..'], ['..', '..', '..']]) {
        try {
            const manifest = JSON.parse(readFileSync(join(__dirname, ...up, 'package.json'), 'utf8')) as
                { name?: string; version?: string };
            if (manifest.name === 'ngx-node') {
                return manifest.version ?? 'unknown';
            }
        } catch {
            // not there
        }
    }
    return 'unknown';
}

export function createNgx(conf: RuntimeConf, metrics: NgxMetrics): NgxObject {
    return Object.freeze({
        INFO: LogLevel.INFO,
        WARN: LogLevel.WARN,
        ERR: LogLevel.ERR,
        log(level: NgxLogLevel, message: unknown): void {
            logWorker(checkLevel(level), scriptLine(message));
        },
        worker_id: conf.workerId,
        version: conf.nginxVersion,
        version_number: conf.nginxVersionNumber,
        build: 'release',
        error_log_path: conf.errorLog,
        fetch: createNgxFetch(conf.fetch),
        ngx_node_version: ownVersion(),
        shared: sharedDicts(conf.dicts ?? []),
        metrics,
        prefix: conf.prefix,
        conf_prefix: conf.confPrefix,
        conf_file_path: conf.confFile,
    });
}

export function installNgx(conf: RuntimeConf, metrics: NgxMetrics): void {
    useFetchSettings(conf.fetch.length, conf.fetchOutside);
    Object.defineProperty(globalThis, 'ngx', { value: createNgx(conf, metrics), writable: false, configurable: false, enumerable: false });
    Object.defineProperty(globalThis, 'SharedMemoryError', { value: SharedMemoryError, writable: true, configurable: true, enumerable: false });
}
