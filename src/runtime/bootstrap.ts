/**
 * The runtime's entry in every nginx worker. The bridge requires this file and calls
 * start(binding, configuration) once; it returns the functions the bridge calls afterwards.
 */
import { AsyncScope } from './async-scope';
import { attach, NativeBinding } from './binding';
import { newBufferPool } from './buffer-pool';
import { parseConf } from './config';
import { createDispatcher } from './dispatch';
import { handlerSlots, resolveHandlers } from './handlers';
import { loadModules } from './loader';
import { installConsole, logWorker, LogLevel, toLogMessage } from './log';
import { LuaCalls } from './lua-calls';
import { WorkerMetrics } from './metrics';
import { installNgx } from './ngx';
import { loadPreloads } from './preload';
import { resume } from './pending';
import { StreamSessions } from './stream/dispatch';
import { installWebCrypto } from './web-crypto';

function installProcessHandlers(): void {
    // fact 10: an exception in a timer or an unhandled rejection must not end the worker
    process.on('uncaughtException', (error) => {
        logWorker(LogLevel.ERR, `ngx-node: uncaught exception: ${toLogMessage(error)}`);
    });
    process.on('unhandledRejection', (reason) => {
        logWorker(LogLevel.ERR, `ngx-node: unhandled promise rejection: ${toLogMessage(reason)}`);
    });
}

/**
 * What the first request would otherwise pay for: Node loads fetch's implementation (undici)
 * on first use, and Debian's libnode compiles it from source then (fact 18: 100-300 ms, more
 * on a busy machine). The bridge calls it once the modules are in, outside node_cpu_timeout:
 * it is the runtime's own start-up, not the user's code.
 */
function warmUp(): void {
    void globalThis.Response;
}

export function start(binding: NativeBinding, confJson: string) {
    attach(binding);
    const scope = new AsyncScope();
    const conf = parseConf(confJson);
    installConsole();
    installWebCrypto();
    installProcessHandlers();
    const metrics = new WorkerMetrics(conf);
    installNgx(conf, metrics.api);

    for (const message of loadPreloads(conf)) logWorker(LogLevel.ALERT, message);

    const slots = handlerSlots(conf);
    metrics.attach(slots);
    const ready = loadModules(conf).then((loaded) => {
        for (const message of [...loaded.errors, ...resolveHandlers(conf, loaded, slots)]) {
            logWorker(LogLevel.ALERT, message);
        }
    }, (error: unknown) => {
        logWorker(LogLevel.ALERT, `ngx-node: loading modules failed: ${toLogMessage(error)}`);
    });

    // After the execution guard stopped a call (node_cpu_timeout, the heap limit): the stopped
    // code never reached the ends of the async contexts Node had entered for it.
    const recover = (): void => binding.nodeAsyncHooks?.clearAsyncIdStack?.();

    return {
        dispatch: createDispatcher(slots, new LuaCalls(conf), new StreamSessions(), metrics, scope),
        resume, recover, ready, warmUp, newBufferPool,
    };
}
