/**
 * The fuzzer's nginx: one server with handlers of every kind (test/fixtures/fuzz.mjs), short
 * client timeouts so that slow and truncated requests end within seconds.
 */
import { configuration } from '../harness/nginx';
import { fixture } from '../harness/paths';

/** The locations the fuzzer aims at (a prefix; the fuzzer adds path pieces after it). */
export const LOCATIONS = [
    '/plain', '/sync', '/async', '/body', '/callback', '/readbody', '/access', '/access-async',
    '/rewrite', '/rewrite-async', '/hfilter', '/stream', '/buffered', '/set', '/set-async', '/proxy/',
    '/redirect', '/sub', '/big', '/stats', '/static/', '/missing',
] as const;

export interface FuzzConfOptions {
    workers?: number;
    /** top-level directives (master_process off, node_option ...) */
    main?: string;
}

export function fuzzConf(port: number, options: FuzzConfOptions = {}): string {
    return configuration(port, {
        workers: options.workers ?? 1,
        main: options.main ?? '',
        http: `
    node_import fz from ${fixture('fuzz.mjs')};
    node_set $fz_sync fz.syncVar;
    client_header_timeout 2s;
    client_body_timeout 2s;
    send_timeout 3s;
    keepalive_timeout 2s;
    lingering_timeout 1s;
    lingering_time 3s;
    client_max_body_size 16k;
    client_body_buffer_size 2k;
    large_client_header_buffers 4 8k;
    subrequest_output_buffer_size 64k;
    node_timeout 3s;`,
        server: `
        root html;
        node_rewrite fz.serverRewrite;
        node_header_filter fz.headerFilter;
        node_log fz.log;
        add_header X-Sync $fz_sync always;

        location = /plain { return 200 "plain\\n"; }
        location /sync { node_content fz.echo; }
        location /async { node_content fz.asyncEcho; }
        location /body { node_content fz.bodyEcho; }
        location /callback { node_content fz.callbackEcho; }
        location /readbody { node_read_request_body on; node_content fz.echo; }
        location /access { node_access fz.access; node_content fz.echo; }
        location /access-async { node_access fz.accessAsync; node_content fz.asyncEcho; }
        location /rewrite { node_rewrite fz.rewrite; node_content fz.echo; }
        location /rewrite-async { node_rewrite fz.rewriteAsync; node_content fz.echo; }
        location /hfilter { node_header_filter fz.headerFilter; node_content fz.asyncEcho; }
        location /stream { node_body_filter fz.upper; node_content fz.big; }
        location /buffered { node_body_filter fz.wrap buffered; node_content fz.asyncEcho; }
        location /set { add_header X-Sync-Here $fz_sync always; return 200 "$fz_sync\n"; }
        location /set-async {
            node_set $fz_async fz.asyncVar;
            add_header X-Async $fz_async always;
            node_content fz.echo;
        }
        location /proxy/ {
            node_body_filter fz.upper;
            proxy_pass http://127.0.0.1:${port}/sync/;
        }
        location /redirect { node_content fz.redirect; }
        location @named { return 200 "named $uri\\n"; }
        location /sub { node_content fz.sub; }
        location /big { node_content fz.big; }
        location /stats { node_content fz.stats; }
        location /static/ { }`,
    });
}
