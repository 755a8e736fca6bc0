/*
 * node_periodic in stream: each run reads variables in a stand-in session of the server that
 * declares it (no client, no connection of its own), as njs's js_periodic does.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_node.h"
#include "ngx_node_periodic.h"


static void *
ngx_stream_node_periodic_open(ngx_node_periodic_t *periodic)
{
    ngx_connection_t             *c;
    ngx_stream_session_t         *s;
    ngx_stream_conf_ctx_t        *ctx;
    ngx_stream_core_main_conf_t  *cmcf;

    ctx = periodic->conf;

    c = ngx_get_connection(0, ngx_cycle->log);
    if (c == NULL) {
        return NULL;
    }

    c->pool = ngx_create_pool(1024, c->log);
    if (c->pool == NULL) {
        goto failed;
    }

    s = ngx_pcalloc(c->pool, sizeof(ngx_stream_session_t));
    if (s == NULL) {
        goto failed;
    }

    s->main_conf = ctx->main_conf;
    s->srv_conf = ctx->srv_conf;

    s->ctx = ngx_pcalloc(c->pool, sizeof(void *) * ngx_stream_max_module);
    if (s->ctx == NULL) {
        goto failed;
    }

    cmcf = ngx_stream_get_module_main_conf(s, ngx_stream_core_module);

    s->variables = ngx_pcalloc(c->pool, cmcf->variables.nelts
                                        * sizeof(ngx_stream_variable_value_t));
    if (s->variables == NULL) {
        goto failed;
    }

    c->data = s;
    c->destroyed = 0;

    s->connection = c;
    s->signature = NGX_STREAM_MODULE;
    s->received = 1;
    s->health_check = 1;

    return s;

failed:

    if (c->pool) {
        ngx_destroy_pool(c->pool);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;

    return NULL;
}


static void
ngx_stream_node_periodic_close(ngx_node_periodic_t *periodic, void *context)
{
    ngx_stream_session_t  *s = context;

    ngx_connection_t  *c;

    c = s->connection;

    ngx_destroy_pool(c->pool);

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
    c->pool = NULL;
    c->destroyed = 1;
}


static void
ngx_stream_node_periodic_op(void *context, unsigned op,
    const ngx_node_value_t *args, unsigned nargs, ngx_node_result_t *res)
{
    ngx_stream_session_t  *s = context;

    switch (op) {

    case NGX_NODE_PERIODIC_OP_VARIABLE:
        ngx_stream_node_variable_op(s, args, nargs, res);
        return;

    case NGX_NODE_PERIODIC_OP_SET_VARIABLE:
        ngx_stream_node_set_variable_op(s, args, nargs, res);
        return;

    default: /* NGX_NODE_PERIODIC_OP_FETCH */
        ngx_stream_node_fetch_op(s, NULL, args, nargs, res);
    }
}


static const ngx_node_periodic_protocol_t  ngx_stream_node_periodic_protocol = {
    ngx_stream_node_periodic_open,
    ngx_stream_node_periodic_close,
    ngx_stream_node_periodic_op
};


char *
ngx_stream_node_periodic(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_node_srv_conf_t *nscf = conf;

    return ngx_node_conf_periodic(cf, cf->ctx, &nscf->scope,
                                  &ngx_stream_node_periodic_protocol);
}
