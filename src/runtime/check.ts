/**
 * The configuration checker. When nginx reads its configuration (start, reload, `nginx -t`),
 * the master runs `ngx-node check.js <conf.json> <report>` — a short-lived process on the same
 * libnode, since the master itself must not start Node. It loads every module and resolves
 * every handler exactly as a worker would, looks for module state (module-state.ts), and
 * writes one NUL-terminated message per finding to the report file, its first character the
 * kind: `e` an error, `w` a warning (ngx_node_check.c logs them as [emerg] and [warn]).
 * Exit status: 0 fine (warnings may be reported), 1 errors reported.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

import { parseConf } from './config';
import { checkFetchSettings } from './fetch/check';
import { handlerSlots, resolveHandlers } from './handlers';
import { loadModules } from './loader';
import { WorkerMetrics } from './metrics';
import { moduleStateWarnings } from './module-state';
import { installNgx } from './ngx';
import { loadPreloads } from './preload';
import { installWebCrypto } from './web-crypto';

/** `ngx-node --check file` prints the place of a syntax error first: `/path/file.mjs:2`. */
function locateSyntaxError(file: string): string | undefined {
    const result = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10000 });
    const first = result.stderr?.split('\n', 1)[0] ?? '';
    return /^\/.*:\d+$/.test(first) ? first : undefined;
}

async function check(confFile: string, reportFile: string): Promise<number> {
    const conf = parseConf(readFileSync(confFile, 'utf8'));
    installWebCrypto();
    installNgx(conf, new WorkerMetrics(conf).api);
    const preloadErrors = loadPreloads(conf);
    const loaded = await loadModules(conf, locateSyntaxError);
    const errors = [...checkFetchSettings(conf.fetch), ...preloadErrors, ...loaded.errors,
        ...resolveHandlers(conf, loaded, handlerSlots(conf))];
    const report = [...errors.map((message) => `e${message}`), ...moduleStateWarnings(loaded).map((message) => `w${message}`)];
    writeFileSync(reportFile, report.map((message) => message + '\0').join(''));
    return errors.length ? 1 : 0;
}

const [confFile, reportFile] = process.argv.slice(2);
check(confFile, reportFile).then((status) => process.exit(status), (error: unknown) => {
    process.stderr.write(`ngx-node check: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(3);
});
