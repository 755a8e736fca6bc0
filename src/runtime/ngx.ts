/** The global `ngx` object. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { NgxLogLevel, NgxMetrics, NgxObject } from '../api';
import type { RuntimeConf } from './config';
import { createNgxFetch } from './fetch/fetch';
import { useFetchSettings } from './fetch/scope';
import { checkLevel, logWorker, LogLevel, toLogMessage } from './log';
import { SharedMemoryError, sharedDicts } from './shared-dict';

function ownVersion(): string {
    try {
        const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string };
        return manifest.version ?? 'unknown';
    } catch {
        return 'unknown';
    }
}

export function createNgx(conf: RuntimeConf, metrics: NgxMetrics): NgxObject {
    return Object.freeze({
        INFO: LogLevel.INFO,
        WARN: LogLevel.WARN,
        ERR: LogLevel.ERR,
        log(level: NgxLogLevel, message: unknown): void {
            logWorker(checkLevel(level), toLogMessage(message));
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
