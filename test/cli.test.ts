/**
 * The npm package as a handler author uses it: `npm pack`, a project made by `ngx-node init`
 * with the tarball installed, its `npm test` and `npm run check`, `ngx-node dev` in a
 * pseudo-terminal (util-linux's script) with a handler edited, broken and Ctrl-C, and the
 * messages for what is missing. Needs the npm registry (TypeScript, tsx, @types/node).
 */
import assert from 'node:assert/strict';
import { spawn, SpawnOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { request } from './harness/http';
import { freePort, sleep } from './harness/nginx';
import { ROOT } from './harness/paths';

interface Run {
    code: number | null;
    output: string;
}

/** Runs a command to its end; its stdout and stderr together. */
function run(command: string, args: string[], options: SpawnOptions = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
        let output = '';
        child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
        child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
    });
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** The pids of processes whose command line mentions `text` (nginx started on the project). */
function processesMentioning(text: string): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        try {
            if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
        } catch {
            // gone meanwhile
        }
    }
    return pids;
}

/** The pids of a process's children. */
function childrenOf(parent: number): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
            if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) pids.push(Number(entry));
        } catch {
            // gone meanwhile
        }
    }
    return pids;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

describe('the npm package: ngx-node init, npm test, check, dev', () => {
    const work = mkdtempSync(join(tmpdir(), 'ngx-node-cli-'));
    chmodSync(work, 0o755);
    const project = join(work, 'handlers');
    let tarball = '';
    // the module this checkout built; the CLI and the kit would otherwise look in /usr/lib/nginx/modules
    const env: NodeJS.ProcessEnv = { ...process.env, NGX_NODE_MODULE_DIR: join(ROOT, 'build'), NO_COLOR: '1' };
    // not this suite's: the project's tests are a node:test run of their own, at info
    delete env.NGX_NODE_TEST_LOG_LEVEL;
    delete env.NODE_TEST_CONTEXT;

    before(async () => {
        // build/lib is current (npm test builds first): no prepack, which would rebuild it
        const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT });
        assert.equal(pack.code, 0, pack.output);
        tarball = join(work, readdirSync(work).find((name) => /^ngx-node-.*\.tgz$/.test(name)) ?? '');
        const untar = await run('tar', ['-xzf', tarball, '-C', work], {});
        assert.equal(untar.code, 0, untar.output);
        // the packed CLI, as npx would run it
        const init = await run('node', [join(work, 'package', 'build', 'lib', 'cli', 'main.js'), 'init', project], { cwd: work, env });
        assert.equal(init.code, 0, init.output);
        const install = await run('npm', ['install', '--save-dev', '--no-audit', '--no-fund', tarball], { cwd: project, env });
        assert.equal(install.code, 0, install.output);
    });

    after(() => {
        if (!process.env.NGX_NODE_KEEP_PREFIX) rmSync(work, { recursive: true, force: true });
    });

    it('ships the types, the kit, the CLI and the template, not the runtime or native code', async () => {
        const list = await run('tar', ['-tzf', tarball]);
        const files = list.output.trim().split('\n');
        for (const file of ['package/build/lib/index.d.ts', 'package/build/lib/api.d.ts', 'package/build/lib/testing/esm.mjs',
            'package/build/lib/testing/index.js', 'package/build/lib/cli/main.js', 'package/templates/init/nginx.conf']) {
            assert.ok(files.includes(file), `${file} in ${files.join(' ')}`);
        }
        assert.deepEqual(files.filter((file) => /runtime\/|native\/|\.so$|test\/|\.ts$/.test(file) && !/\.d\.ts$|templates\//.test(file)), []);
        const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'ngx-node', 'package.json'), 'utf8')) as { private?: boolean };
        assert.equal(pkg.private, undefined);
    });

    it('makes a project whose tests pass at once (npm test: node:test with ngx-node/testing)', async () => {
        for (const file of ['nginx.conf', 'src/main.ts', 'tsconfig.json', 'test/main.test.ts', 'package.json', '.gitignore']) {
            assert.ok(existsSync(join(project, file)), file);
        }
        const test = await run('npm', ['test'], { cwd: project, env });
        assert.equal(test.code, 0, test.output);
        // TAP's "# pass 3" where stdout is not a terminal up to Node 22, the spec reporter's "ℹ pass 3" from Node 23
        assert.match(test.output, /^(# |ℹ )pass 3$/m);
        assert.match(test.output, /^(# |ℹ )fail 0$/m);
        // the test's copy of nginx.conf is gone
        assert.deepEqual(readdirSync(project).filter((name) => name.includes('ngx-node-test')), []);
    });

    it('ngx-node/testing works under vitest too (vitest 2, whose engines take Node 18 and 20)', async () => {
        const install = await run('npm', ['install', '--save-dev', '--no-audit', '--no-fund', 'vitest@2.1.9'], { cwd: project, env });
        assert.equal(install.code, 0, install.output);
        // beside test/, whose node:test files are not vitest's
        mkdirSync(join(project, 'vitest'));
        writeFileSync(join(project, 'vitest', 'main.test.ts'), `
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNginx, type TestNginx } from 'ngx-node/testing';

describe('src/main.ts under vitest', () => {
    let nginx: TestNginx;
    beforeAll(async () => {
        nginx = await startNginx({ conf: new URL('../nginx.conf', import.meta.url) });
    }, 60000);
    afterAll(() => nginx?.stop());

    it('answers', async () => {
        const reply = await nginx.request('/?name=vitest');
        expect(reply.status).toBe(200);
        expect(reply.text).toBe('hello, vitest\\n');
    });

    it('fails with the error_log when nginx does not start', async () => {
        await expect(startNginx({ dir: new URL('../src', import.meta.url), http: 'node_import nothere.ts;' }))
            .rejects.toThrow(/node_import "nothere\\.ts": file not found/);
    });
});
`);
        const vitest = await run('npx', ['vitest', 'run', 'vitest/'], { cwd: project, env });
        assert.equal(vitest.code, 0, vitest.output);
        assert.match(vitest.output.replace(ANSI, ''), /Tests\s+2 passed/);
    });

    it('npm run check passes, and reports a type error and a broken module with non-zero exit', async () => {
        const ok = await run('npm', ['run', 'check'], { cwd: project, env });
        assert.equal(ok.code, 0, ok.output);
        assert.match(ok.output, /✓ nginx -t/);
        assert.match(ok.output, /✓ TypeScript: src\/main\.ts/);
        assert.match(ok.output, /no errors/);

        const main = join(project, 'src', 'main.ts');
        const good = readFileSync(main, 'utf8');
        try {
            writeFileSync(main, good.replace("r.return(200, `${r.variables.greeting}\\n`);", "r.return('200', `${r.variables.greeting}\\n`);"));
            const typeError = await run('npx', ['ngx-node', 'check'], { cwd: project, env });
            assert.equal(typeError.code, 1, typeError.output);
            assert.match(typeError.output, /✓ nginx -t/);
            assert.match(typeError.output, /src\/main\.ts\(\d+,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'/);
            assert.match(typeError.output, /1 error$/m);

            writeFileSync(main, `${good}\nexport function broken( {\n`);
            const syntax = await run('npx', ['ngx-node', 'check'], { cwd: project, env });
            assert.equal(syntax.code, 1, syntax.output);
            assert.match(syntax.output, /✗ nginx -t failed/);
            assert.match(syntax.output, /node_import "main" from ".*src\/main\.ts" failed: SyntaxError/);
            assert.match(syntax.output, /error TS/);
        } finally {
            writeFileSync(main, good);
        }
    });

    it('says what to install when nginx or the module is missing', async () => {
        const noModule = await run('npx', ['ngx-node', 'check'], { cwd: project, env: { ...env, NGX_NODE_MODULE_DIR: join(work, 'nowhere') } });
        assert.equal(noModule.code, 2, noModule.output);
        assert.match(noModule.output, /ngx-node's module is not in .*nowhere \(NGX_NODE_MODULE_DIR\).*Debian packages/);
        const noDir = { ...env };
        delete noDir.NGX_NODE_MODULE_DIR;
        const notFound = await run('npx', ['ngx-node', 'dev'], { cwd: project, env: noDir });
        if (!existsSync('/usr/lib/nginx/modules/ngx_http_node_module.so')) {
            assert.equal(notFound.code, 2, notFound.output);
            assert.match(notFound.output, /ngx-node's nginx module \(ngx_http_node_module\.so\) was not found; looked in \/usr\/lib\/nginx\/modules.*NGX_NODE_MODULE_DIR/);
        }
        const noNginx = await run('npx', ['ngx-node', 'check', '--nginx', join(work, 'no-nginx')], { cwd: project, env });
        assert.equal(noNginx.code, 2, noNginx.output);
        assert.match(noNginx.output, /nginx was not found at .*no-nginx \(--nginx\).*apt install nginx/);
        const noConf = await run('npx', ['ngx-node', 'dev', 'other.conf'], { cwd: project, env });
        assert.equal(noConf.code, 2, noConf.output);
        assert.match(noConf.output, /there is no configuration file .*other\.conf/);
    });

    it('ngx-node dev: serves, reloads on a change, keeps the last good handler on a broken one, stops on Ctrl-C', async () => {
        const conf = join(project, 'nginx.conf');
        const port = await freePort();
        writeFileSync(conf, readFileSync(conf, 'utf8').replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`));
        const main = join(project, 'src', 'main.ts');
        const good = readFileSync(main, 'utf8');
        const url = `http://127.0.0.1:${port}/?name=dev`;

        // a pseudo-terminal: script runs the command on one; Ctrl-C is the byte 0x03 typed into it
        // (the bin itself: npm exec would answer Ctrl-C with its own exit status, 130; and exec'd
        // by script's shell, which is /bin/sh without $SHELL: dash waits for the command and,
        // killed by the same Ctrl-C, gives 130 too, where bash would have exec'd it)
        const terminalEnv = { ...env };
        delete terminalEnv.NO_COLOR;
        delete terminalEnv.FORCE_COLOR;
        const child = spawn('script', ['-q', '-e', '-c', 'exec node_modules/.bin/ngx-node dev', '/dev/null'], {
            cwd: project, env: terminalEnv, stdio: ['pipe', 'pipe', 'pipe'],
        });
        let output = '';
        const text = () => output.replace(ANSI, '').replace(/\r/g, '');
        child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
        child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        let masterPid = 0;
        try {
            masterPid = Number(await until('nginx to start', () => /started nginx \(master (\d+)\)/.exec(text())?.[1]));
            assert.match(text(), new RegExp(`on http://127\\.0\\.0\\.1:${port}/`));
            // the error_log, live and coloured by level
            await until('the workers\' start in the log', () => (/\[notice\].*start worker process/.test(text()) ? true : undefined));
            assert.match(output, /\x1b\[36m\[notice\]/);
            const first = await until('the first answer', async () => {
                const reply = await request(url).catch(() => undefined);
                return reply?.status === 200 ? reply.text : undefined;
            });
            assert.equal(first, 'hello, dev\n');

            writeFileSync(main, good.replace('return `hello, ${', 'return `hi there, ${'));
            await until('the changed handler', async () => ((await request(url)).text === 'hi there, dev\n' ? true : undefined));
            assert.match(text(), /src\/main\.ts changed: reloading/);

            writeFileSync(main, `${good.replace('return `hello, ${', 'return `hi there, ${')}\nexport function broken( {\n`);
            await until('the broken change to be refused', () => (/configuration test failed; nginx keeps running the last good configuration/.test(text()) ? true : undefined));
            assert.match(text(), /node_import "main" from ".*src\/main\.ts" failed: SyntaxError/);
            // the old workers still answer, with the last good handler
            const reply = await request(url);
            assert.equal(reply.status, 200);
            assert.equal(reply.text, 'hi there, dev\n');
            assert.ok(existsSync(`/proc/${masterPid}`));

            const workers = childrenOf(masterPid);
            assert.ok(workers.length > 0);
            child.stdin.write('\x03');
            const code = await Promise.race([exited, sleep(30000).then(() => 'timeout' as const)]);
            assert.equal(code, 0, text());
            assert.match(text(), /stopping nginx/);
            assert.match(text(), /stopped/);
            await until('nginx to be gone', () => (processesMentioning(conf).length === 0
                && [masterPid, ...workers].every((pid) => !existsSync(`/proc/${pid}`)) ? true : undefined), 10000);
        } finally {
            writeFileSync(main, good);
            if (child.exitCode === null) child.kill('SIGKILL');
            // should the test have failed midway: nothing of it left running
            for (const pid of processesMentioning(conf)) process.kill(pid, 'SIGKILL');
        }
    });
});
