/**
 * The handlers nginx.conf names: `main.hello` is `hello` here. Each gets `r`, the request
 * (njs's `r`: headers, variables, return, send ...), and may be async.
 */
import type { NginxHTTPRequest } from 'ngx-node';

/** node_set $greeting: a variable, from the `name` query argument. */
export function greeting(r: NginxHTTPRequest): string {
    const name = r.args.name;
    return `hello, ${typeof name === 'string' && name !== '' ? name : 'world'}`;
}

/** node_content for /: answers with $greeting. */
export function hello(r: NginxHTTPRequest): void {
    r.headersOut['Content-Type'] = 'text/plain; charset=utf-8';
    r.return(200, `${r.variables.greeting}\n`);
}

/** node_access for /admin/: lets the request on with the right token, else answers 401. */
export function requireToken(r: NginxHTTPRequest): void {
    if (r.headersIn.Authorization !== 'Bearer let-me-in') {
        r.headersOut['WWW-Authenticate'] = 'Bearer';
        r.return(401);
    }
}

/** node_content for /admin/: an async handler (the request waits, nginx does not). */
export async function admin(r: NginxHTTPRequest): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify({ worker: ngx.worker_id, nginx: ngx.version, uri: r.uri }));
}
