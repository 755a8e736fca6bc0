/**
 * MQTT sticky sessions: every connection of one client id goes to the same broker. node_preread
 * reads the CONNECT packet (MQTT 3.1, 3.1.1 and 5), however the client's TCP segments cut it,
 * and node_set gives its client id to nginx's `hash $mqtt_client_id consistent;`.
 *
 *     upstream brokers { hash $mqtt_client_id consistent; server 10.0.0.1:1883; ... }
 *     server {
 *         listen 1883;
 *         preread_buffer_size 2k;
 *         node_preread mqtt.readClientId;
 *         node_set $mqtt_client_id mqtt.clientId;
 *         proxy_pass brokers;
 *     }
 *
 * Per-session state lives in a WeakMap keyed by the session, never in a module variable: the
 * module is shared by all sessions of the worker.
 */
import type { NginxStreamSession } from 'ngx-node';

export type Connect =
    | { kind: 'incomplete' }
    | { kind: 'invalid'; reason: string }
    | { kind: 'connect'; clientId: string; version: number };

const CONNECT = 0x10;
const INCOMPLETE: Connect = { kind: 'incomplete' };

/** A variable byte integer at `offset`: [value, bytes], or undefined if cut, or NaN if too long. */
function varint(data: Uint8Array, offset: number): [number, number] | undefined {
    let value = 0;
    for (let i = 0; i < 4; i++) {
        if (offset + i >= data.length) return undefined;
        const byte = data[offset + i];
        value += (byte & 0x7f) * 128 ** i;
        if ((byte & 0x80) === 0) return [value, i + 1];
    }
    return [NaN, 4];
}

/** Reads a CONNECT packet from the start of the data a client sent. */
export function parseConnect(data: Uint8Array): Connect {
    if (data.length === 0) return INCOMPLETE;
    if (data[0] !== CONNECT) return { kind: 'invalid', reason: `not an MQTT CONNECT packet (first byte 0x${data[0].toString(16)})` };
    const length = varint(data, 1);
    if (length === undefined) return INCOMPLETE;
    if (Number.isNaN(length[0])) return { kind: 'invalid', reason: 'malformed remaining length' };
    const end = 1 + length[1] + length[0];
    const view = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, end));
    let at = 1 + length[1];
    const need = (bytes: number) => at + bytes <= view.length;
    const truncated = (): Connect => (view.length < end ? INCOMPLETE : { kind: 'invalid', reason: 'truncated CONNECT packet' });

    if (!need(2)) return truncated();
    const nameLength = view.readUInt16BE(at);
    at += 2;
    if (!need(nameLength)) return truncated();
    const name = view.toString('latin1', at, at + nameLength);
    at += nameLength;
    if (name !== 'MQTT' && name !== 'MQIsdp') return { kind: 'invalid', reason: `unknown protocol name "${name}"` };
    if (!need(4)) return truncated();
    const version = view[at];
    if (version !== 3 && version !== 4 && version !== 5) return { kind: 'invalid', reason: `unknown protocol level ${version}` };
    at += 1 + 1 + 2; // level, connect flags, keep alive

    if (version === 5) {
        const properties = varint(view, at);
        if (properties === undefined) return truncated();
        if (Number.isNaN(properties[0])) return { kind: 'invalid', reason: 'malformed properties length' };
        at += properties[1] + properties[0];
    }

    if (!need(2)) return truncated();
    const idLength = view.readUInt16BE(at);
    at += 2;
    if (!need(idLength)) return truncated();
    return { kind: 'connect', clientId: view.toString('utf8', at, at + idLength), version };
}

const clientIds = new WeakMap<NginxStreamSession, string>();

/** node_preread: lets a session through once its CONNECT's client id is known. */
export function readClientId(s: NginxStreamSession): void {
    s.on('upstream', (data) => {
        const connect = parseConnect(data);
        if (connect.kind === 'incomplete') return;
        if (connect.kind === 'invalid') {
            s.warn(`MQTT: ${connect.reason}; closing the connection`);
            s.deny();
            return;
        }
        // clients without an id (MQTT 3.1.1 allows it) are kept together by address
        const id = connect.clientId || s.remoteAddress;
        clientIds.set(s, id);
        s.log(`MQTT ${connect.version === 5 ? '5' : '3.1.1'} client "${id}"`);
        s.allow();
    });
}

/** node_set $mqtt_client_id: what the hash balancer routes by. */
export function clientId(s: NginxStreamSession): string {
    return clientIds.get(s) ?? '';
}
