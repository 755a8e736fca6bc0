// Handlers of the instruction-count benchmark (bench/instructions.ts): each does one thing.
const HELLO = 'hello\n';

export default {
    hello(r) {
        r.return(200, HELLO);
    },
    async helloAsync(r) {
        await null;
        r.return(200, HELLO);
    },
    async helloSuspended(r) {
        await new Promise((resolve) => setImmediate(resolve));
        r.return(200, HELLO);
    },
    constant() {
        return 'value';
    },
    header(r) {
        r.return(200, `${r.headersIn['x-foo']}\n`);
    },
    arg(r) {
        r.return(200, `${r.args.a}\n`);
    },
    variable(r) {
        r.return(200, r.variables.request_method === 'GET' ? HELLO : 'not GET\n');
    },
    setHeader(r) {
        r.headersOut['X-Bar'] = 'bar';
        r.return(200, HELLO);
    },
    allow() {},
    headerFilter() {},
    bodyFilter(r, data, flags) {
        r.sendBuffer(data, flags);
    },
    echo(payload) {
        return payload;
    },
};
