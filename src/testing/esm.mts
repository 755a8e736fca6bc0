/** ngx-node/testing for ES modules: the same kit (one instance of it), as named exports. */
export {
    configuration, findModules, findNginx, freePort, LOG_LEVEL, Nginx, rawRequest, request, SetupError, sleep, startNginx, workerUser,
} from './index.js';
export type {
    CheckResult, Modules, NginxOptions, Reply, RequestOptions, StartOptions, TestNginx,
} from './index.js';
