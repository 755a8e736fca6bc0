// node_preread / node_set / node_filter handlers of the stream benchmark (ngx-node).
import routing from './stream-routing.mjs';

const { pick } = routing;

/** node_preread's choice, for node_set: state of a session lives in a WeakMap keyed by s */
const groups = new WeakMap();

/** node_preread: the request line (once it is whole) picks the upstream group. */
export function route(s) {
    s.on('upload', (data) => {
        const end = data.indexOf('\r\n');
        if (end < 0) return;
        groups.set(s, pick(data.substring(0, end)));
        s.done();
    });
}

/** node_set $node_upstream */
export function upstream(s) {
    return groups.get(s) ?? 'web';
}

/** node_filter with Buffer events: every chunk goes on as it came, both ways. */
export function bytes(s) {
    s.on('upstream', (data, flags) => s.send(data, flags));
    s.on('downstream', (data, flags) => s.send(data, flags));
}

/** node_filter with string events: every chunk as text, sent on as it came, both ways. */
export function text(s) {
    s.on('upload', (data, flags) => s.send(data, flags));
    s.on('download', (data, flags) => s.send(data, flags));
}
