/** The published types (build/lib/index.d.ts) check a user's TypeScript handler. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { ROOT } from './harness/paths';

const dir = join(ROOT, 'build', 'types-check');

function typeCheck(files: Record<string, string>): string {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'ES2022', types: ['node'] },
        include: ['*.ts'],
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
});
