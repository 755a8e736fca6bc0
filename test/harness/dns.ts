/**
 * A DNS server on a UDP loopback port, as small as tests need: A records for the names it is
 * given, no AAAA records (an empty answer), NXDOMAIN for any other name. It notes each
 * question ("name A", "name AAAA").
 */
import { createSocket, RemoteInfo, Socket } from 'node:dgram';

export interface DnsServer {
    port: number;
    questions: string[];
    close(): Promise<void>;
}

const TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA' };

/** The question's name, type, and where the question ends. */
function question(query: Buffer): { name: string; type: number; end: number } {
    const labels: string[] = [];
    let at = 12;
    while (query[at] !== 0) {
        labels.push(query.subarray(at + 1, at + 1 + query[at]).toString('latin1'));
        at += 1 + query[at];
    }
    return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end: at + 5 };
}

function answer(query: Buffer, addresses: Record<string, string>): Buffer {
    const { name, type, end } = question(query);
    const address = addresses[name];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    // a response, recursion desired and available; NXDOMAIN for unknown names
    header.writeUInt16BE(address === undefined ? 0x8183 : 0x8180, 2);
    header.writeUInt16BE(1, 4);
    const records: Buffer[] = [];
    if (address !== undefined && type === 1) {
        const record = Buffer.alloc(16);
        record.writeUInt16BE(0xc00c, 0);   // the name: the question's
        record.writeUInt16BE(1, 2);        // A
        record.writeUInt16BE(1, 4);        // IN
        record.writeUInt32BE(60, 6);       // TTL
        record.writeUInt16BE(4, 10);
        address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
        records.push(record);
    }
    header.writeUInt16BE(records.length, 6);
    return Buffer.concat([header, query.subarray(12, end), ...records]);
}

export async function dnsServer(addresses: Record<string, string>): Promise<DnsServer> {
    const questions: string[] = [];
    const socket: Socket = createSocket('udp4');
    socket.on('message', (query: Buffer, peer: RemoteInfo) => {
        try {
            const { name, type } = question(query);
            questions.push(`${name} ${TYPES[type] ?? type}`);
            socket.send(answer(query, addresses), peer.port, peer.address);
        } catch {
            // not a question this server understands
        }
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return {
        port: socket.address().port,
        questions,
        close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
}
