// The sidecar way (what Kong's JS PDK and APISIX's runners do): the benchmark's handlers in a
// Node http server on a unix socket, behind nginx's proxy_pass with a keepalive upstream.
import { createServer } from 'node:http';
import { chmodSync, rmSync } from 'node:fs';

import { verifyJwt } from './logic.mjs';
import transformer from './transform.mjs';

const { transformOrder } = transformer;

const socket = process.argv[2];

const routes = {
    '/sidecar/hello': (req, res) => res.end('hello\n'),
    '/sidecar/jwt': (req, res) => {
        const sub = verifyJwt(req.headers.authorization, Date.now() / 1000);
        res.statusCode = sub === null ? 401 : 200;
        res.end(sub === null ? 'denied\n' : `hello ${sub}\n`);
    },
    '/sidecar/transform': (req, res) => {
        const chunks = [];
        req.on('data', (chunk) => chunks.push(chunk));
        req.on('end', () => {
            res.setHeader('Content-Type', 'application/json');
            res.end(transformOrder(Buffer.concat(chunks).toString()));
        });
    },
};

rmSync(socket, { force: true });
const server = createServer((req, res) => {
    const route = routes[req.url.split('?')[0]];
    if (route) {
        route(req, res);
    } else {
        res.statusCode = 404;
        res.end();
    }
});
server.keepAliveTimeout = 60000;
server.listen(socket, () => {
    chmodSync(socket, 0o666); // nginx's workers run as another user
    process.send?.('listening');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
