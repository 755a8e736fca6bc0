/**
 * ngx-node init [dir]: a handler project that passes its own tests at once: nginx.conf,
 * src/main.ts (a content handler, an access check, a node_set variable), tsconfig.json,
 * test/main.test.ts (node:test with ngx-node/testing), package.json with dev, test and check.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';

import { isCheckout, PACKAGE_ROOT } from '../tooling/locate';
import { UsageError } from './run';
import { bold, cyan, dim, green } from './style';

export interface InitOptions {
    /** overwrite files that exist */
    force?: boolean;
}

const TEMPLATE = join(PACKAGE_ROOT, 'templates', 'init');

/** The template's files, relative; `gitignore` becomes `.gitignore` (npm does not pack files of that name). */
function templateFiles(dir = TEMPLATE, base = ''): string[] {
    return readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? templateFiles(path, join(base, entry)) : [join(base, entry)];
    });
}

const target = (file: string) => (file === 'gitignore' ? '.gitignore' : file);

interface PackageJson {
    version: string;
    devDependencies?: Record<string, string>;
}

function ownPackage(): PackageJson {
    return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** The project's package.json: the scripts, and what the tests and the type check need. */
function projectPackage(name: string): string {
    const own = ownPackage();
    const caret = (version: string | undefined, fallback: string) => (version && /^\d/.test(version) ? `^${version}` : fallback);
    return `${JSON.stringify({
        name,
        version: '0.1.0',
        private: true,
        type: 'module',
        scripts: {
            dev: 'ngx-node dev',
            test: 'node --import tsx --test test/*.test.ts',
            check: 'ngx-node check',
        },
        devDependencies: {
            '@types/node': caret(own.devDependencies?.['@types/node'], '^18.19.0'),
            'ngx-node': isCheckout() ? `file:${PACKAGE_ROOT}` : `^${own.version}`,
            tsx: '^4.19.0',
            typescript: caret(own.devDependencies?.typescript, '^5.9.0'),
        },
    }, null, 2)}\n`;
}

export function init(dir: string | undefined, options: InitOptions): number {
    const root = resolve(dir ?? '.');
    const files = templateFiles();
    const writes = [...files.map(target), 'package.json'];
    if (existsSync(root)) {
        const clashes = writes.filter((file) => existsSync(join(root, file)));
        if (clashes.length > 0 && !options.force) {
            throw new UsageError(`${root} already has ${clashes.join(', ')}: choose an empty directory, or --force to overwrite them`);
        }
    }
    mkdirSync(root, { recursive: true });
    for (const file of files) {
        mkdirSync(join(root, file, '..'), { recursive: true });
        copyFileSync(join(TEMPLATE, file), join(root, target(file)));
    }
    const name = basename(root).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'ngx-node-handlers';
    writeFileSync(join(root, 'package.json'), projectPackage(name));

    const where = relative(process.cwd(), root);
    console.log(`${green('✓')} ${bold('a new ngx-node project')} in ${root}:`);
    for (const file of writes.sort()) console.log(dim(`    ${file}`));
    console.log(`
next:
${where ? `    cd ${where}\n` : ''}    npm install        ${dim('# ngx-node, TypeScript, tsx (for the tests)')}
    npm test           ${dim('# test/main.test.ts against a real nginx')}
    npm run check      ${dim('# nginx -t and the type check of the handlers')}
    npm run dev        ${dim('# nginx on http://127.0.0.1:8080/, reloaded when you edit src/main.ts')}

${cyan('ngx-node')} runs your system's nginx (apt install nginx) with ngx-node's module: from
ngx-node's Debian packages (/usr/lib/nginx/modules), or a checkout's build/ named by NGX_NODE_MODULE_DIR.`);
    return 0;
}
