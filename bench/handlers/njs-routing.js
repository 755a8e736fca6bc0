// The routing case for njs, in a module of its own: njs clones its VM (with every global of
// the location's modules) for each request, so these tables would slow down every njs case
// sharing a module with them. Imported in the routing location only.
import routes from './routing.mjs';

const route = routes.route;

function routing(r) {
    const h = r.headersIn;
    r.return(200, route(r.method, h['X-Route-Path'] || '', h['X-Tenant'] || '', h['X-User'] || ''));
}

export default { routing };
