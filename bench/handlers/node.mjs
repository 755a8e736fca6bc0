// node_content / node_set handlers of the benchmark.
import { verifyJwt } from './logic.mjs';
import routes from './routing.mjs';
import transformer from './transform.mjs';

const { route } = routes;
const { transformOrder } = transformer;

const HELLO = 'hello\n';

export function hello(r) {
    r.return(200, HELLO);
}

export async function helloAsync(r) {
    await Promise.resolve();
    r.return(200, HELLO);
}

export async function helloImmediate(r) {
    await new Promise((resolve) => setImmediate(resolve));
    r.return(200, HELLO);
}

export function variable(r) {
    return `${r.method}:${r.uri}`;
}

export function jwt(r) {
    const sub = verifyJwt(r.headersIn.authorization, Date.now() / 1000);
    if (sub === null) {
        r.return(401, 'denied\n');
    } else {
        r.return(200, `hello ${sub}\n`);
    }
}

export async function transform(r) {
    const out = transformOrder(await r.readRequestText());
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, out);
}

export async function wait(r) {
    await new Promise((resolve) => setTimeout(resolve, Number(r.args.ms ?? 1000)));
    r.return(200, HELLO);
}

export function routing(r) {
    const h = r.headersIn;
    r.return(200, route(r.method, h['x-route-path'] ?? '', h['x-tenant'] ?? '', h['x-user'] ?? ''));
}

// the metrics bench: hello, counting each request in a user counter with a label
export function helloCounted(r) {
    ngx.metrics.counter('bench_requests_total', 'Requests of the metrics bench', ['method']).inc({ method: r.method });
    r.return(200, HELLO);
}
