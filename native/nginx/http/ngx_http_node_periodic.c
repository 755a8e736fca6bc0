/*
 * node_periodic in http: each run reads variables in a stand-in request of the location that
 * declares it (no client, no connection of its own), as njs's js_periodic does.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"
#include "ngx_node_periodic.h"


/* what a stand-in request needs besides its pool: a connection's http part, a log */
typedef struct {
    ngx_http_connection_t   hc;
    ngx_log_t               log;
    ngx_http_log_ctx_t      log_ctx;
} ngx_http_node_periodic_request_t;


static void
ngx_http_node_periodic_idle(ngx_event_t *ev)
{
}


static void *
ngx_http_node_periodic_open(ngx_node_periodic_t *periodic)
{
    ngx_connection_t                  *c;
    ngx_http_request_t                *r;
    ngx_http_node_periodic_request_t  *pr;

    pr = ngx_calloc(sizeof(ngx_http_node_periodic_request_t), ngx_cycle->log);
    if (pr == NULL) {
        return NULL;
    }

    c = ngx_get_connection(0, ngx_cycle->log);
    if (c == NULL) {
        ngx_free(pr);
        return NULL;
    }

    pr->log = *ngx_cycle->log;
    pr->log.handler = NULL;
    pr->log.data = &pr->log_ctx;
    pr->log_ctx.connection = c;
    pr->hc.conf_ctx = periodic->conf;

    c->log = &pr->log;
    c->read->log = &pr->log;
    c->write->log = &pr->log;
    c->read->handler = ngx_http_node_periodic_idle;
    c->write->handler = ngx_http_node_periodic_idle;
    c->data = &pr->hc;

    r = ngx_http_create_request(c);

    if (r == NULL) {
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
        ngx_free(pr);
        return NULL;
    }

    c->data = r;
    c->destroyed = 0;
    c->pool = r->pool;

    r->method = NGX_HTTP_GET;
    r->method_name = ngx_http_core_get_method;
    ngx_str_set(&r->uri, "/");
    r->unparsed_uri = r->uri;
    r->valid_unparsed_uri = 1;
    r->health_check = 1;

    return r;
}


static void
ngx_http_node_periodic_close(ngx_node_periodic_t *periodic, void *context)
{
    ngx_http_request_t                *r = context;

    ngx_connection_t                  *c;
    ngx_http_node_periodic_request_t  *pr;

    c = r->connection;
    pr = (ngx_http_node_periodic_request_t *) r->http_connection;

    r->logged = 1;
    ngx_http_free_request(r, NGX_OK);

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
    c->pool = NULL;
    c->destroyed = 1;

    ngx_free(pr);
}


static void
ngx_http_node_periodic_op(void *context, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_http_request_t  *r = context;

    switch (op) {

    case NGX_NODE_PERIODIC_OP_VARIABLE:
        ngx_http_node_variable_op(r, args, nargs, res);
        return;

    case NGX_NODE_PERIODIC_OP_SET_VARIABLE:
        ngx_http_node_set_variable_op(r, args, nargs, res);
        return;

    default: /* NGX_NODE_PERIODIC_OP_FETCH */
        ngx_http_node_fetch_op(r, NULL, args, nargs, res);
    }
}


static const ngx_node_periodic_protocol_t  ngx_http_node_periodic_protocol = {
    ngx_http_node_periodic_open,
    ngx_http_node_periodic_close,
    ngx_http_node_periodic_op
};


char *
ngx_http_node_periodic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    return ngx_node_conf_periodic(cf, cf->ctx, &nlcf->scope,
                                  &ngx_http_node_periodic_protocol);
}
