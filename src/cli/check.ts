/**
 * ngx-node check [nginx.conf]: nginx -t with ngx-node's module (which also loads every
 * node_import'ed module, as a start would), and the TypeScript type check of the handler files
 * it imports. One report; exit status 1 on any error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { nginxVersion } from '../tooling/locate';
import { confPath, inPlace } from './run';
import { bold, colours, dim, green, red } from './style';
import { typeCheck } from './typescript';

export interface CheckOptions {
    nginx?: string;
    moduleDir?: string;
}

const indent = (text: string) => text.trimEnd().split('\n').map((line) => `    ${line}`).join('\n');

export function check(given: string | undefined, options: CheckOptions): number {
    const conf = confPath(given);
    const prefix = mkdtempSync(join(tmpdir(), 'ngx-node-check-'));
    const pretty = colours(process.stdout);
    const show = (file: string) => relative(process.cwd(), file) || file;
    let errors = 0;
    try {
        const place = inPlace(conf, { ...options, prefix });
        console.log(`${bold('ngx-node check')} ${show(conf)} ${dim(`(${nginxVersion(place.nginx)}, module: ${place.modules.source}, ${place.modules.dir})`)}`);
        for (const note of place.notes) console.log(dim(`  note: ${note}`));

        const result = spawnSync(place.nginx, place.args('-t'), { encoding: 'utf8' });
        const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
        if (result.status === 0) {
            console.log(`${green('✓')} nginx -t: the configuration and the modules it imports load`);
        } else {
            const emerg = (output.match(/\[emerg\]/g) ?? []).length || 1;
            errors += emerg;
            console.log(`${red('✗')} nginx -t failed:`);
            console.log(indent(output.split('\n').filter((line) => !/test failed$/.test(line)).join('\n')));
        }

        const handlers = [...new Set(place.summary.imports.map((imported) => imported.path))]
            .filter((file) => /\.(ts|mts|cts)$/.test(file) && existsSync(file));
        if (handlers.length === 0) {
            console.log(dim('- TypeScript: the configuration imports no .ts handler file'));
        } else {
            const types = typeCheck(handlers, place.summary.dir, pretty);
            const what = `${handlers.map(show).join(', ')}${types.tsconfig ? dim(` (${types.tsconfig})`) : ''}`;
            if (types.errors === 0) {
                console.log(`${green('✓')} TypeScript: ${what}`);
            } else {
                errors += types.errors;
                console.log(`${red('✗')} TypeScript: ${types.errors} error${types.errors === 1 ? '' : 's'} in ${what}`);
            }
            if (types.report) console.log(indent(types.report));
        }
    } finally {
        rmSync(prefix, { recursive: true, force: true });
    }
    console.log(errors === 0 ? green(bold('no errors')) : red(bold(`${errors} error${errors === 1 ? '' : 's'}`)));
    return errors === 0 ? 0 : 1;
}
