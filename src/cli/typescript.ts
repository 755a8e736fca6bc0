/** Type-checking handler files with the project's own TypeScript. */
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

import { SetupError } from '../tooling/locate';

type TS = typeof import('typescript');

/** The project's TypeScript (looked up from `fromDir`), else the one installed beside ngx-node. */
export function loadTypeScript(fromDir: string): TS {
    for (const base of [join(fromDir, 'package.json'), __filename]) {
        try {
            return createRequire(base)('typescript') as TS;
        } catch {
            // not there
        }
    }
    throw new SetupError('TypeScript is not installed: npm install --save-dev typescript (in your project)');
}

export interface TypeCheck {
    /** the tsconfig.json used, if any */
    tsconfig?: string;
    errors: number;
    /** the diagnostics, formatted */
    report: string;
}

/**
 * Type-checks `files` and what they import, with the compiler options of the tsconfig.json
 * nearest to the first (noEmit), or strict node16 defaults without one.
 */
export function typeCheck(files: string[], baseDir: string, pretty: boolean): TypeCheck {
    const ts = loadTypeScript(baseDir);
    const tsconfig = ts.findConfigFile(dirname(files[0]), ts.sys.fileExists);
    let options: import('typescript').CompilerOptions = {
        strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
        skipLibCheck: true, types: ['node'],
    };
    const configErrors: import('typescript').Diagnostic[] = [];
    if (tsconfig) {
        const read = ts.readConfigFile(tsconfig, ts.sys.readFile);
        if (read.error) configErrors.push(read.error);
        const parsed = ts.parseJsonConfigFileContent(read.config ?? {}, ts.sys, dirname(tsconfig), undefined, tsconfig);
        configErrors.push(...parsed.errors.filter((error) => error.code !== 18003)); // "no inputs found" is not ours
        options = parsed.options;
    }
    options = { ...options, noEmit: true, emitDeclarationOnly: false, declaration: false, composite: false, incremental: false };
    const program = ts.createProgram(files, options);
    const diagnostics = [...configErrors, ...ts.getPreEmitDiagnostics(program)];
    const host: import('typescript').FormatDiagnosticsHost = {
        getCanonicalFileName: (name) => name,
        getCurrentDirectory: () => baseDir,
        getNewLine: () => '\n',
    };
    const report = diagnostics.length === 0 ? ''
        : pretty ? ts.formatDiagnosticsWithColorAndContext(diagnostics, host) : ts.formatDiagnostics(diagnostics, host);
    return {
        ...(tsconfig ? { tsconfig: relative(baseDir, tsconfig) || tsconfig } : {}),
        errors: diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length,
        report,
    };
}
