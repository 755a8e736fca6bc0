/**
 * A real nginx with the real module, on loopback ports picked at run time, for one test file:
 * the test kit users get (ngx-node/testing, src/testing/), with the suite's defaults. Each
 * instance has its own prefix directory (configuration, logs, temp files) under /tmp.
 */
import { findNginx, workerUser as kitWorkerUser } from 'ngx-node/testing';

import { ROOT } from './paths';

export { canConnect, CheckResult, configuration, freePort, LOG_LEVEL, Nginx, NginxOptions, sleep } from 'ngx-node/testing';

/** the nginx binary the suite runs */
export const NGINX = findNginx();

/**
 * Workers run as nginx's default user (nobody) when it can read the project, as they would in
 * production; where the project lies in a directory closed to others, they run as root.
 */
export function workerUser(): string {
    return kitWorkerUser([ROOT]);
}
