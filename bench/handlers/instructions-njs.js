// njs's side of the instruction-count benchmark (bench/instructions.ts): the anchors for the
// handlers of instructions.mjs that njs has, doing the same thing.
const HELLO = 'hello\n';

function hello(r) {
    r.return(200, HELLO);
}

function constant() {
    return 'value';
}

function header(r) {
    r.return(200, `${r.headersIn['x-foo']}\n`);
}

export default { hello, constant, header };
