/** The published types (build/lib/index.d.ts) check a user's TypeScript handler. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { after, describe, it } from 'node:test';

import { ROOT } from './harness/paths';

const dir = join(ROOT, 'build', 'types-check');

const NODE16 = { module: 'node16', moduleResolution: 'node16' };
const BUNDLER = { module: 'esnext', moduleResolution: 'bundler' };

function typeCheck(files: Record<string, string>, resolution: Record<string, string> = NODE16, types = ['node']): string {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    // installed as a project would have it (the package's exports, not a self-reference)
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'ngx-node'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, ...resolution, target: 'ES2022', types },
        include: ['*.ts', '*.mts'],
    }));
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', dir], { encoding: 'utf8' });
    return `${result.stdout}${result.stderr}`;
}

describe('types for handlers', () => {
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('accept a correct handler', () => {
        const output = typeCheck({
            'good.ts': `
import type { NginxHTTPRequest, NginxHTTPContentHandler, NginxHTTPVariableHandler } from 'ngx-node';
export const content: NginxHTTPContentHandler = async (r) => {
    const body: string = await r.readRequestText();
    const ua: string | undefined = r.headersIn['user-agent'];
    r.headersOut['Set-Cookie'] = ['a=1', 'b=2'];
    r.status = 201;
    ngx.log(ngx.WARN, \`\${ngx.worker_id} \${ua} \${body.length}\`);
    r.return(201, body);
};
export const variable: NginxHTTPVariableHandler = (r: NginxHTTPRequest) => r.variables.remote_addr;
`,
        });
        assert.equal(output, '');
    });

    it('reject a wrong one', () => {
        const output = typeCheck({
            'bad.ts': `
import type { NginxHTTPRequest } from 'ngx-node';
export function handler(r: NginxHTTPRequest): void {
    r.return('200');
    r.nope();
    const n: number = r.uri;
    ngx.log('info', 'x');
}
`,
        });
        assert.match(output, /bad\.ts\(4,14\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
        assert.match(output, /bad\.ts\(5,7\): error TS2339: Property 'nope' does not exist on type 'NginxHTTPRequest'/);
        assert.match(output, /bad\.ts\(6,11\): error TS2322: Type 'string' is not assignable to type 'number'/);
        assert.match(output, /bad\.ts\(7,13\): error TS2345: Argument of type '"info"' is not assignable to parameter of type 'NgxLogLevel'/);
    });

    for (const [name, resolution] of [['node16', NODE16], ['bundler', BUNDLER]] as const) {
        it(`work with moduleResolution ${name}: the types, the global ngx, ngx-node/testing from an ES module`, () => {
            const output = typeCheck({
                'handler.mts': `
import type { NginxHTTPRequest, NginxStreamSession, NgxObject } from 'ngx-node';
export function hello(r: NginxHTTPRequest): void { r.return(200, String(ngx.worker_id)); }
export function allow(s: NginxStreamSession): void { s.allow(); }
export const same: NgxObject = ngx;
`,
                'uses-global.mts': `
// no import: the global comes from "types": ["ngx-node"]
export const level: number = ngx.INFO;
`,
                'kit.test.mts': `
import { startNginx, type TestNginx } from 'ngx-node/testing';
export async function check(): Promise<number> {
    const nginx: TestNginx = await startNginx({ conf: new URL('./nginx.conf', import.meta.url) });
    const reply = await nginx.request('/');
    const log: string = nginx.errorLog();
    await nginx.reload();
    await nginx.stop();
    return reply.status + log.length + nginx.url('/').length;
}
`,
            }, resolution, ['node', 'ngx-node']);
            assert.equal(output, '');
        });
    }

    it('document every member (TSDoc an editor shows)', () => {
        const file = join(ROOT, 'build', 'lib', 'api.d.ts');
        const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
        const undocumented: string[] = [];
        const documented = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).length > 0;
        ts.forEachChild(source, (node) => {
            if (!ts.isInterfaceDeclaration(node) && !ts.isTypeAliasDeclaration(node)) return;
            if (!documented(node)) undocumented.push(node.name.text);
            if (!ts.isInterfaceDeclaration(node)) return;
            for (const member of node.members) {
                if (!documented(member)) undocumented.push(`${node.name.text}.${member.name?.getText(source) ?? '[index]'}`);
            }
        });
        assert.deepEqual(undocumented, []);
    });
});
