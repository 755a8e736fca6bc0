/** The benchmark's nginx.conf: every engine in one nginx, one worker pinned to CPU 0. */
import { join } from 'node:path';

import { MODULE, ROOT } from '../test/harness/paths';
import { casePath, groups } from './cases';

const handlers = join(ROOT, 'bench', 'handlers');

export interface BenchConfOptions {
    port: number;
    sidecarSocket: string;
    /** directives for the main context (worker_processes etc. are set here) */
    workers?: number;
    /** leave out the other engines' modules (memory measurements) */
    only?: 'node' | 'njs' | 'none';
}

export function benchConf(options: BenchConfOptions): string {
    const all = options.only === undefined;
    const withNode = all || options.only === 'node';
    const withNjs = all || options.only === 'njs';
    const locations = all ? groups.flatMap((group) => group.cases.map((c) =>
        `        location = ${casePath(group, c)} { ${c.location} }`)) : [];
    return `
${withNjs ? 'load_module /usr/lib/nginx/modules/ngx_http_js_module.so;' : ''}
${all ? 'load_module /usr/lib/nginx/modules/ndk_http_module.so;\nload_module /usr/lib/nginx/modules/ngx_http_lua_module.so;' : ''}
${withNode ? `load_module ${MODULE};` : ''}
worker_processes ${options.workers ?? 1};
worker_cpu_affinity ${'01'};
worker_rlimit_nofile 20000;
error_log logs/error.log notice;
pid logs/nginx.pid;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_buffer_size 16k;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
${withNjs ? `    js_import njs from ${handlers}/njs.js;\n    js_set $njs_value njs.variable;` : ''}
${withNode ? `    node_import node from ${handlers}/node.mjs;\n    node_set $node_value node.variable;` : ''}
${all ? `    lua_package_path "${handlers}/?.lua;;";
    init_by_lua_block { bench = require "bench" }
    upstream sidecar { server unix:${options.sidecarSocket}; keepalive 64; }
    proxy_http_version 1.1;
    proxy_set_header Connection "";` : ''}
    server {
        listen 127.0.0.1:${options.port} backlog=16384;
${locations.join('\n')}
${withNode ? '        location = /wait/node { node_content node.wait; }' : ''}
${withNjs ? '        location = /wait/njs { js_content njs.wait; }' : ''}
${all ? '        location = /wait/lua { content_by_lua_block { ngx.sleep(tonumber(ngx.var.arg_ms or 1000) / 1000) ngx.print("hello\\n") } }' : ''}
${all ? '' : `        location = /hello/return200 { return 200 "hello\\n"; }
${withNode ? '        location = /hello/node { node_content node.hello; }' : ''}
${withNjs ? '        location = /hello/njs { js_content njs.hello; }' : ''}`}
    }
}
`;
}
