// The stream benchmark's routing rule, in JavaScript both engines run as is (njs 0.7.9 too):
// the first line of an HTTP request ("GET /api/orders HTTP/1.1") names the upstream{} group
// that proxy_pass $variable goes to, by method and path prefix.

const RULES = [
    { method: 'POST', prefix: '/upload/', group: 'uploads' },
    { method: '', prefix: '/api/', group: 'api' },
    { method: '', prefix: '/static/', group: 'static' },
];

/** The upstream group of a request line, or "web". */
function pick(line) {
    const space = line.indexOf(' ');
    const method = line.substring(0, space);
    const path = line.substring(space + 1, line.indexOf(' ', space + 1));
    for (let i = 0; i < RULES.length; i++) {
        const rule = RULES[i];
        if ((rule.method === '' || rule.method === method) && path.startsWith(rule.prefix)) return rule.group;
    }
    return 'web';
}

export default { pick };
