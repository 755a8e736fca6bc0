/**
 * Module state the configuration checker warns about. njs gives every request and stream
 * session a fresh copy of a module's variables; ngx-node loads a module once per worker, and
 * all requests share its variables. A function that assigns one (`var client_id; function
 * preread(s) { client_id = ... }`) leaves one request's value to the next one, or to one
 * running at the same time. The code that runs (TypeScript once compiled) is parsed (acorn)
 * and its scopes analysed (eslint-scope), so these do not count: a local or a parameter of
 * the same name, an assignment in top-level code (it runs once, also inside a function called
 * where it is defined there), a `const` (state kept per worker on purpose: a Map, a cache
 * object).
 */
import { readFileSync } from 'node:fs';

import { AnyNode, parse } from 'acorn';
import { analyze, Scope, Variable } from 'eslint-scope';

import { where } from './config';
import type { LoadResult } from './loader';
import { hasModuleSyntax, isTypeScript, ModuleFormat, packageFormat, transformTypeScript } from './module-format';

/** A variable of a module that its functions assign. */
export interface ModuleStateWrite {
    name: string;
    /** the line of its declaration */
    declared: number;
    /** the lines where functions assign it */
    lines: number[];
}

function isNode(value: unknown): value is AnyNode {
    return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/**
 * The functions (and class static blocks) that run once because the code around them does:
 * called where they are defined, `(async () => { ... })()`, in top-level code.
 */
function runOnce(node: AnyNode, found: Set<AnyNode>): Set<AnyNode> {
    const visit = (value: unknown) => {
        for (const child of Array.isArray(value) ? value : [value]) if (isNode(child)) runOnce(child, found);
    };
    switch (node.type) {
        case 'CallExpression':
            if (node.callee.type === 'FunctionExpression' || node.callee.type === 'ArrowFunctionExpression') {
                found.add(node.callee);
                visit(node.callee.body);
                visit(node.arguments);
                return found;
            }
            break;
        case 'StaticBlock':
            found.add(node);
            break;
        case 'FunctionDeclaration':
        case 'FunctionExpression':
        case 'ArrowFunctionExpression':
            return found;
        default:
            break;
    }
    for (const value of Object.values(node)) visit(value);
    return found;
}

/** Whether a variable is one a function could keep per-request state in. */
function isAssignable(variable: Variable): boolean {
    const def = variable.defs[0];
    if (def === undefined) return false;
    if (def.type === 'Variable') return (def.parent as { kind?: string } | null)?.kind !== 'const';
    return def.type === 'FunctionName' || def.type === 'ClassName';
}

/** The variables of a module's top level that its functions assign, given the code that runs. */
export function findModuleStateWrites(code: string, format: ModuleFormat): ModuleStateWrite[] {
    let program: AnyNode;
    try {
        program = parse(code, {
            ecmaVersion: 'latest',
            sourceType: format === 'module' ? 'module' : 'script',
            allowReturnOutsideFunction: format === 'commonjs',
            allowHashBang: true,
            locations: true,
            ranges: true,   // eslint-scope reads them
        });
    } catch {
        // Node ran it: syntax newer than the parser leaves the file unchecked
        return [];
    }
    const scopes = analyze(program, { ecmaVersion: 2022, sourceType: format });
    const top = scopes.globalScope?.childScopes.find((scope) => scope.block === program);
    if (top === undefined) return [];
    const once = runOnce(program, new Set());
    const runsPerCall = (scope: Scope) => scope.variableScope !== top && !once.has(scope.variableScope.block as AnyNode);
    const writes: ModuleStateWrite[] = [];
    for (const variable of top.variables.filter(isAssignable)) {
        const lines = variable.references
            .filter((ref) => ref.isWrite() && !ref.init && runsPerCall(ref.from))
            .map((ref) => ref.identifier.loc?.start.line ?? 0);
        if (lines.length === 0) continue;
        writes.push({ name: variable.name, declared: variable.defs[0].name.loc?.start.line ?? 0, lines: [...new Set(lines)].sort((a, b) => a - b) });
    }
    return writes.sort((a, b) => a.lines[0] - b.lines[0]);
}

/** A module's file as it runs: TypeScript compiled, and whether ES module or CommonJS. */
function codeThatRuns(file: string): { code: string; format: ModuleFormat } {
    const source = readFileSync(file, 'utf8');
    const format = packageFormat(file);
    if (isTypeScript(file)) return { code: transformTypeScript(source, file, format), format };
    if (format === 'commonjs' && file.endsWith('.js') && hasModuleSyntax(source, file)) return { code: source, format: 'module' };
    return { code: source, format };
}

/** The checker's warnings about module state, one per variable, for every file loaded once. */
export function moduleStateWarnings(loaded: LoadResult): string[] {
    const warnings: string[] = [];
    const seen = new Set<string>();
    for (const mod of loaded.modules) {
        if (mod === undefined || seen.has(mod.file)) continue;
        seen.add(mod.file);
        const { code, format } = codeThatRuns(mod.file);
        for (const write of findModuleStateWrites(code, format)) {
            const others = write.lines.slice(1);
            warnings.push(
                `${mod.file}:${write.lines[0]}: a function assigns "${write.name}", a variable of the module ` +
                `(declared at line ${write.declared})${others.length ? `, also at line ${others.join(', ')}` : ''}; ` +
                'ngx-node loads a module once per worker and all its requests and sessions share that variable ' +
                '(njs gives each a fresh copy): keep per-request state in r.variables (node_var, set), which ' +
                'every handler of the request sees, or on r within one handler call and its awaits; per-session ' +
                'state on s or in s.variables, or in a WeakMap keyed by s (state kept per worker on purpose: a ' +
                'const Map or object); ' +
                `node_import "${mod.conf.name}" in ${where(mod.conf)}`);
        }
    }
    return warnings;
}
