/**
 * What the benchmark measures: groups of cases served by one nginx, each case a location.
 * Within a group, every case answers the same request with the same bytes.
 */

import { join } from 'node:path';

import { ROOT } from '../test/harness/paths';

const handlers = join(ROOT, 'bench', 'handlers');

export type Engine = 'nginx' | 'njs' | 'lua' | 'node' | 'sidecar';

export interface Case {
    id: string;
    label: string;
    engine: Engine;
    /** the location block's body */
    location: string;
    /** the njs case this one is compared with, if not the group's njs anchor */
    njsPeer?: string;
}

export interface Group {
    id: string;
    title: string;
    /** what every case answers */
    request: { method: 'GET' | 'POST'; body?: 'order'; jwt?: boolean; headers?: Record<string, string> };
    cases: Case[];
}

export const groups: Group[] = [
    {
        id: 'hello',
        title: 'hello: a fixed 6-byte answer',
        request: { method: 'GET' },
        cases: [
            { id: 'return200', label: 'nginx `return 200`', engine: 'nginx', location: 'return 200 "hello\\n";' },
            { id: 'njs', label: 'njs `js_content`', engine: 'njs', location: 'js_content njs.hello;' },
            { id: 'njs-async', label: 'njs async (`await` resolved)', engine: 'njs', location: 'js_content njs.helloAsync;' },
            { id: 'njs-immediate', label: 'njs async (`setImmediate`)', engine: 'njs', location: 'js_content njs.helloImmediate;' },
            { id: 'lua', label: 'Lua `content_by_lua`', engine: 'lua', location: 'content_by_lua_block { bench.hello() }' },
            { id: 'node', label: 'ngx-node `node_content` sync', engine: 'node', location: 'node_content node.hello;' },
            { id: 'node-async', label: 'ngx-node async (`await` resolved)', engine: 'node', location: 'node_content node.helloAsync;', njsPeer: 'njs-async' },
            { id: 'node-immediate', label: 'ngx-node async (`setImmediate`, real suspend)', engine: 'node', location: 'node_content node.helloImmediate;', njsPeer: 'njs-immediate' },
            { id: 'sidecar', label: 'Node sidecar (`proxy_pass`, unix socket, keepalive)', engine: 'sidecar', location: 'proxy_pass http://sidecar/sidecar/hello;' },
        ],
    },
    {
        id: 'variable',
        title: 'variable: a JS-computed value in a response header',
        request: { method: 'GET' },
        cases: [
            { id: 'return200', label: 'nginx `add_header $request_method`', engine: 'nginx', location: 'add_header X-Value $request_method; return 200 "hello\\n";' },
            { id: 'njs', label: 'njs `js_set`', engine: 'njs', location: 'add_header X-Value $njs_value; return 200 "hello\\n";' },
            { id: 'lua', label: 'Lua `set_by_lua`', engine: 'lua', location: 'set_by_lua_block $lua_value { return ngx.var.request_method .. ":" .. ngx.var.uri } add_header X-Value $lua_value; return 200 "hello\\n";' },
            { id: 'node', label: 'ngx-node `node_set`', engine: 'node', location: 'add_header X-Value $node_value; return 200 "hello\\n";' },
        ],
    },
    {
        id: 'jwt',
        title: 'jwt: HS256 JWT verification with exp, iss and aud checks',
        request: { method: 'GET', jwt: true },
        cases: [
            { id: 'njs', label: 'njs (`crypto.createHmac`)', engine: 'njs', location: 'js_content njs.jwt;' },
            { id: 'lua', label: 'Lua (lua-luaossl HMAC, resty base64url, cjson)', engine: 'lua', location: 'content_by_lua_block { bench.jwt() }' },
            { id: 'node', label: 'ngx-node (`node:crypto`)', engine: 'node', location: 'node_content node.jwt;' },
            { id: 'sidecar', label: 'Node sidecar (same code)', engine: 'sidecar', location: 'proxy_pass http://sidecar/sidecar/jwt;' },
        ],
    },
    {
        id: 'transform',
        title: 'transform: parse a 4 KB JSON body, rename/filter fields, serialise',
        request: { method: 'POST', body: 'order' },
        cases: [
            { id: 'njs', label: 'njs', engine: 'njs', location: 'js_content njs.transform;' },
            { id: 'lua', label: 'Lua (cjson)', engine: 'lua', location: 'content_by_lua_block { bench.transform() }' },
            { id: 'node', label: 'ngx-node', engine: 'node', location: 'node_content node.transform;' },
            { id: 'sidecar', label: 'Node sidecar (same code)', engine: 'sidecar', location: 'proxy_pass http://sidecar/sidecar/transform;' },
        ],
    },
    {
        id: 'routing',
        title: 'routing: 300 rules checked in order, then consistent hashing on a 160-point ring (plain code, no native helpers)',
        request: { method: 'GET', headers: { 'X-Route-Path': '/api/v2/service157/orders', 'X-User': 'user-4711' } },
        cases: [
            { id: 'njs', label: 'njs (tables in a module of its own)', engine: 'njs', location: `js_import routing from ${handlers}/njs-routing.js; js_content routing.routing;` },
            { id: 'lua', label: 'Lua', engine: 'lua', location: 'content_by_lua_block { bench.routing() }' },
            { id: 'node', label: 'ngx-node', engine: 'node', location: 'node_content node.routing;' },
        ],
    },
];

export function casePath(group: Group, c: Case): string {
    return `/${group.id}/${c.id}`;
}
