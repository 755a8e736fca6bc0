// js_preread / js_set / js_filter handlers of the stream benchmark (njs 0.7.9), the way njs's
// documentation writes them: the preread's choice goes to js_set through a js_var variable.
// The node-njs cases run this same file under ngx-node (js_ renamed node_).
import routing from './stream-routing.mjs';

/** js_preread: the request line (once it is whole) picks the upstream group. */
function route(s) {
    s.on('upload', function (data, flags) {
        var end = data.indexOf('\r\n');
        if (end == -1) {
            return;
        }
        s.variables.route = routing.pick(data.substring(0, end));
        s.off('upload');
        s.done();
    });
}

/** js_set $njs_upstream */
function upstream(s) {
    return s.variables.route || 'web';
}

/** js_filter with Buffer events: every chunk goes on as it came, both ways. */
function bytes(s) {
    s.on('upstream', function (data, flags) {
        s.send(data, flags);
    });
    s.on('downstream', function (data, flags) {
        s.send(data, flags);
    });
}

/** js_filter with string events: every chunk as text, sent on as it came, both ways. */
function text(s) {
    s.on('upload', function (data, flags) {
        s.send(data, flags);
    });
    s.on('download', function (data, flags) {
        s.send(data, flags);
    });
}

export default { route, upstream, bytes, text };
