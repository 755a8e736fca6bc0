/** Where the project's pieces are, from a compiled test file (build/tsc-test/test/...). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function projectRoot(): string {
    for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
        if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    }
    throw new Error('cannot find the project root');
}

export const ROOT = projectRoot();
export const MODULE = join(ROOT, 'build', 'ngx_http_node_module.so');
export const STREAM_MODULE = join(ROOT, 'build', 'ngx_stream_node_module.so');
/** nginx's own stream module (Debian's libnginx-mod-stream), which ours needs loaded first */
export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** A file of test/fixtures/, by name. */
export function fixture(name: string): string {
    return join(ROOT, 'test', 'fixtures', name);
}
