#!/usr/bin/env node
/**
 * The `ngx-node` command: init, dev, check. See `ngx-node --help`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { PACKAGE_ROOT, SetupError } from '../tooling/locate';
import { check } from './check';
import { dev } from './dev';
import { init } from './init';
import { UsageError } from './run';
import { bold, red } from './style';

const HELP = `${bold('ngx-node')}: nginx handlers in TypeScript, on Node.js inside nginx

usage:
  ngx-node init [dir]          a new handler project in dir (default: here): nginx.conf,
                               src/main.ts, tsconfig.json, test/main.test.ts, package.json
      --force                  overwrite files that exist
  ngx-node dev [nginx.conf]    nginx in the foreground with the module, on a private prefix
                               (.ngx-node/ beside the configuration); shows its error_log;
                               reloads when the configuration or a handler file changes;
                               Ctrl-C stops it
      --log-level LEVEL        what to show: debug, info (default), notice, warn, error
      --prefix DIR             nginx's prefix instead of .ngx-node/
  ngx-node check [nginx.conf]  nginx -t with the module (which loads every node_import'ed
                               module) and the TypeScript check of the handlers it imports;
                               exits with 1 on any error

options of dev and check:
  --nginx PATH                 the nginx binary (NGX_NODE_NGINX; default /usr/sbin/nginx, or PATH's)
  --module-dir DIR             where ngx_http_node_module.so is (NGX_NODE_MODULE_DIR; default:
                               a checkout's build/ when run from one, else /usr/lib/nginx/modules)

  ngx-node --version, ngx-node --help`;

interface Parsed {
    command?: string;
    positional: string[];
    flags: Map<string, string | true>;
}

const VALUED = new Set(['--nginx', '--module-dir', '--log-level', '--prefix']);
const BOOLEAN = new Set(['--force', '--help', '-h', '--version', '-v']);

function parse(argv: string[]): Parsed {
    const parsed: Parsed = { positional: [], flags: new Map() };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg.startsWith('-') && arg !== '-') {
            const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
            if (VALUED.has(name)) {
                const value = inline ?? argv[++i];
                if (value === undefined) throw new UsageError(`${name} needs a value`);
                parsed.flags.set(name, value);
            } else if (BOOLEAN.has(name)) {
                parsed.flags.set(name, true);
            } else {
                throw new UsageError(`unknown option ${arg} (ngx-node --help lists them)`);
            }
        } else if (parsed.command === undefined) {
            parsed.command = arg;
        } else {
            parsed.positional.push(arg);
        }
    }
    return parsed;
}

async function main(argv: string[]): Promise<number> {
    const args = parse(argv);
    const flag = (name: string) => {
        const value = args.flags.get(name);
        return typeof value === 'string' ? value : undefined;
    };
    if (args.flags.has('--version') || args.flags.has('-v')) {
        console.log((JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version);
        return 0;
    }
    if (args.flags.has('--help') || args.flags.has('-h') || args.command === undefined || args.command === 'help') {
        console.log(HELP);
        return args.command === undefined && !args.flags.has('--help') && !args.flags.has('-h') ? 2 : 0;
    }
    if (args.positional.length > 1) throw new UsageError(`${args.command} takes one argument at most (ngx-node --help)`);
    const where = { nginx: flag('--nginx'), moduleDir: flag('--module-dir') };
    switch (args.command) {
        case 'init':
            return init(args.positional[0], { force: args.flags.has('--force') });
        case 'dev':
            return dev(args.positional[0], { ...where, logLevel: flag('--log-level'), prefix: flag('--prefix') });
        case 'check':
            return check(args.positional[0], where);
        default:
            throw new UsageError(`unknown command "${args.command}": init, dev or check (ngx-node --help)`);
    }
}

// (writes to stdout and stderr are synchronous on Linux: nothing is lost by exiting)
main(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    if (error instanceof SetupError || error instanceof UsageError) {
        console.error(`${red('ngx-node:')} ${error.message}`);
        process.exit(2);
    }
    console.error(error);
    process.exit(1);
});
