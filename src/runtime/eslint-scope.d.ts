/** The part of eslint-scope (it ships no types) that module-state.ts uses. */
declare module 'eslint-scope' {
    import type { Identifier, Node } from 'acorn';

    export interface Reference {
        identifier: Identifier;
        /** the scope the reference stands in */
        from: Scope;
        /** a declaration's initialiser (`let x = 1`) */
        init?: boolean;
        isWrite(): boolean;
    }

    export interface Definition {
        /** 'Variable', 'FunctionName', 'ClassName', 'ImportBinding', 'Parameter', ... */
        type: string;
        name: Identifier;
        /** for 'Variable': the declaration (its `kind` is var, let or const) */
        parent: Node | null;
    }

    export interface Variable {
        name: string;
        defs: Definition[];
        references: Reference[];
    }

    export interface Scope {
        /** 'global', 'module', 'function', 'block', 'class-static-block', ... */
        type: string;
        block: Node;
        upper: Scope | null;
        /** the nearest function (or module, or global) scope */
        variableScope: Scope;
        variables: Variable[];
        childScopes: Scope[];
    }

    export interface ScopeManager {
        globalScope: Scope | null;
    }

    export interface AnalyzeOptions {
        ecmaVersion?: number;
        sourceType?: 'script' | 'module' | 'commonjs';
    }

    export function analyze(ast: Node, options?: AnalyzeOptions): ScopeManager;
}
