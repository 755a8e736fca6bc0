// The unix-socket way of calling Node from Lua: a Node server that echoes length-prefixed
// frames (4-byte big-endian length, then the payload), as a cosocket client sends them.
import { createServer } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';

const socket = process.argv[2];

rmSync(socket, { force: true });
const server = createServer((connection) => {
    let pending = Buffer.alloc(0);
    connection.on('data', (chunk) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        let offset = 0;
        while (pending.length - offset >= 4) {
            const length = pending.readUInt32BE(offset);
            if (pending.length - offset - 4 < length) break;
            // the frame goes back as it came: the same length prefix, the same bytes
            connection.write(pending.subarray(offset, offset + 4 + length));
            offset += 4 + length;
        }
        pending = pending.subarray(offset);
    });
    connection.on('error', () => connection.destroy());
});
server.listen(socket, () => {
    chmodSync(socket, 0o666); // nginx's workers run as another user
    process.send?.('listening');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
