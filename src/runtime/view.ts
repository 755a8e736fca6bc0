/**
 * The target of a view Proxy (r.headersIn, r.headersOut, r.variables, r.args ...): what its
 * traps reach the request by. The traps are one object per kind of view, shared by all
 * requests, and the target carries the request's part: a view costs two small objects, the
 * target and its Proxy. Its field is a symbol, so no name a handler defines on a view (for
 * views with no defineProperty trap, that defines it on the target) can reach it.
 */
export const SOURCE: unique symbol = Symbol('source');

export class ViewTarget<S> {
    readonly [SOURCE]: S;

    constructor(source: S) {
        this[SOURCE] = source;
    }
}

/** A view's prototype, as a view over Object.create(null) has it (the target's is not). */
export function nullPrototype(): null {
    return null;
}

/** What a view with no ownKeys of its own lists: what was defined on its target, as before. */
export function targetKeys(target: object): (string | symbol)[] {
    return Reflect.ownKeys(target).filter((key) => key !== SOURCE);
}
