/**
 * ngx-node's test kit: a real nginx with ngx-node's module and your handlers, on a free
 * loopback port, for tests under `node --test`, vitest or any runner.
 *
 *     import { startNginx } from 'ngx-node/testing';
 *
 *     const nginx = await startNginx({ conf: 'nginx.conf' });   // your whole file
 *     const reply = await nginx.request('/hello');               // status, headers, text
 *     await nginx.stop();
 *
 * Or a fragment: `startNginx({ dir: 'src', http: 'node_import main from main.ts;',
 * server: 'location / { node_content main.hello; }' })`.
 *
 * It finds nginx and the module as the `ngx-node` CLI does (`NGX_NODE_NGINX`,
 * `NGX_NODE_MODULE_DIR`, a checkout's build/, /usr/lib/nginx/modules); when nginx does not
 * start, the promise rejects with nginx's output and error_log.
 */
import { Nginx, NginxOptions } from './nginx';

export { canConnect, CheckResult, configuration, freePort, LOG_LEVEL, Nginx, NginxOptions, sleep, workerUser } from './nginx';
export { rawRequest, Reply, request, RequestOptions } from './http';
export { findModules, findNginx, Modules, SetupError } from '../tooling/locate';

/** What startNginx() takes: a configuration file, or fragments of one (see NginxOptions). */
export type StartOptions = NginxOptions;

/** A running nginx: `url()`, `request()`, `errorLog()`, `reload()`, `stop()` and more. */
export type TestNginx = Nginx;

/**
 * Starts nginx with ngx-node's module: `options` is the path (or file: URL) of a whole
 * nginx.conf, or NginxOptions (a file as `conf`, or `http`/`server`/`stream` fragments).
 * Resolves once it listens and its workers have Node.js up; rejects with nginx's messages and
 * its error_log if it does not start. Call `stop()` when done.
 */
export function startNginx(options: StartOptions | string | URL): Promise<TestNginx> {
    return Nginx.start(typeof options === 'string' || options instanceof URL ? { conf: options } : options);
}
