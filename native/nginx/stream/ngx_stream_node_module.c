/*
 * ngx-node's stream module: directives, their configuration, and joining the access and
 * preread phases and the filter chain (only what some directive uses).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>

#include "ngx_stream_node.h"
#include "ngx_node_shared_dict.h"


#define NGX_STREAM_NODE_TIMEOUT  60000

/* the node_fetch_* directives (NGX_NODE_FETCH_COMMAND) */
#define NGX_NODE_FETCH_CONTEXTS  (NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF)
#define NGX_NODE_FETCH_CONF      NGX_STREAM_SRV_CONF_OFFSET
#define NGX_NODE_FETCH_OFFSET    offsetof(ngx_stream_node_srv_conf_t, fetch)


typedef struct {
    ngx_uint_t  uses;
} ngx_stream_node_main_conf_t;

#define NGX_STREAM_NODE_USES_ACCESS   0x01
#define NGX_STREAM_NODE_USES_PREREAD  0x02
#define NGX_STREAM_NODE_USES_FILTER   0x04


static ngx_int_t ngx_stream_node_init(ngx_conf_t *cf);
static void *ngx_stream_node_create_main_conf(ngx_conf_t *cf);
static void *ngx_stream_node_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_node_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_stream_node_import(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_preload_object(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_shared_dict_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_var(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_stream_node_handler_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_stream_node_commands[] = {

    { ngx_string("node_import"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE13,
      ngx_stream_node_import,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_path"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_stream_node_path,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_periodic"),
      NGX_STREAM_SRV_CONF|NGX_CONF_1MORE,
      ngx_stream_node_periodic,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_preload_object"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE13,
      ngx_stream_node_preload_object,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_shared_dict_zone"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_1MORE,
      ngx_stream_node_shared_dict_zone,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_metrics_zone"),
      NGX_STREAM_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_stream_node_metrics_zone,
      NGX_STREAM_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_set"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE23,
      ngx_stream_node_set,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_var"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE12,
      ngx_stream_node_var,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_access"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_stream_node_handler_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_node_srv_conf_t, access),
      (void *) NGX_STREAM_NODE_USES_ACCESS },

    { ngx_string("node_preread"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_stream_node_handler_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_node_srv_conf_t, preread),
      (void *) NGX_STREAM_NODE_USES_PREREAD },

    { ngx_string("node_filter"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_stream_node_handler_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_node_srv_conf_t, filter),
      (void *) NGX_STREAM_NODE_USES_FILTER },

    { ngx_string("node_timeout"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_node_srv_conf_t, timeout),
      NULL },

    NGX_NODE_FETCH_DIRECTIVES(NGX_NODE_FETCH_COMMAND)

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_node_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_stream_node_init,                  /* postconfiguration */

    ngx_stream_node_create_main_conf,      /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_stream_node_create_srv_conf,       /* create server configuration */
    ngx_stream_node_merge_srv_conf         /* merge server configuration */
};


ngx_module_t  ngx_stream_node_module = {
    NGX_MODULE_V1,
    &ngx_stream_node_module_ctx,           /* module context */
    ngx_stream_node_commands,              /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_stream_node_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_stream_node_main_conf_t));
}


static void *
ngx_stream_node_create_srv_conf(ngx_conf_t *cf)
{
    ngx_stream_node_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_node_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->sets = NULL;
     */

    conf->access = NGX_CONF_UNSET;
    conf->preread = NGX_CONF_UNSET;
    conf->filter = NGX_CONF_UNSET;
    conf->timeout = NGX_CONF_UNSET_MSEC;

    ngx_node_fetch_conf_init(&conf->fetch);

    return conf;
}


static char *
ngx_stream_node_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_stream_node_srv_conf_t *prev = parent;
    ngx_stream_node_srv_conf_t *conf = child;

    ngx_uint_t                    i;
    ngx_stream_node_var_t        *var;
    ngx_stream_core_srv_conf_t   *cscf;

    ngx_node_conf_merge_scope(&conf->scope, &prev->scope);

    ngx_conf_merge_value(conf->access, prev->access, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->preread, prev->preread, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->filter, prev->filter, NGX_CONF_UNSET);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout,
                              NGX_STREAM_NODE_TIMEOUT);

    /* nginx's core module has merged this server's resolver already */
    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    if (ngx_node_fetch_conf_merge(cf, &conf->fetch, &prev->fetch,
                                  cscf->resolver, cscf->resolver_timeout)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* node_set declared in the stream block applies in its servers too */

    if (prev->sets != NULL) {
        if (conf->sets == NULL) {
            conf->sets = prev->sets;

        } else {
            var = prev->sets->elts;

            for (i = 0; i < prev->sets->nelts; i++) {
                if (ngx_array_push(conf->sets) == NULL) {
                    return NGX_CONF_ERROR;
                }

                ((ngx_stream_node_var_t *) conf->sets->elts)
                    [conf->sets->nelts - 1] = var[i];
            }
        }
    }

    return NGX_CONF_OK;
}


static void
ngx_stream_node_uses(ngx_conf_t *cf, ngx_uint_t uses)
{
    ngx_stream_node_main_conf_t  *nmcf;

    nmcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_node_module);
    nmcf->uses |= uses;
}


/*
 * nginx runs a phase's handlers last registered first; ours go to the front of the list,
 * so they run after those of the modules before us (nginx's allow/deny, ssl_preread). The
 * log phase's run first registered first: ours runs before the access log.
 */
static ngx_int_t
ngx_stream_node_join_phase(ngx_stream_core_main_conf_t *cmcf,
    ngx_stream_phases phase, ngx_stream_handler_pt handler)
{
    ngx_array_t            *handlers;
    ngx_stream_handler_pt  *h;

    handlers = &cmcf->phases[phase].handlers;

    if (ngx_array_push(handlers) == NULL) {
        return NGX_ERROR;
    }

    h = handlers->elts;
    ngx_memmove(&h[1], &h[0],
                (handlers->nelts - 1) * sizeof(ngx_stream_handler_pt));
    h[0] = handler;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_node_init(ngx_conf_t *cf)
{
    ngx_stream_conf_ctx_t        *ctx;
    ngx_stream_node_srv_conf_t   *nscf;
    ngx_stream_core_srv_conf_t   *cscf;
    ngx_stream_node_main_conf_t  *nmcf;
    ngx_stream_core_main_conf_t  *cmcf;

    /*
     * ngx.fetch outside any handler follows the stream {} block's settings, in a
     * configuration without http {}; cf->ctx is the last server's here
     */
    ctx = (ngx_stream_conf_ctx_t *) cf->cycle->conf_ctx[ngx_stream_module.index];
    nscf = ctx->srv_conf[ngx_stream_node_module.ctx_index];
    cscf = ctx->srv_conf[ngx_stream_core_module.ctx_index];

    if (ngx_node_fetch_conf_outside(cf, &nscf->fetch, cscf->resolver,
                                    cscf->resolver_timeout, 0)
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    nmcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_node_module);
    cmcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_core_module);

    if ((nmcf->uses & NGX_STREAM_NODE_USES_ACCESS)
        && ngx_stream_node_join_phase(cmcf, NGX_STREAM_ACCESS_PHASE,
                                      ngx_stream_node_access_handler)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the preread handler also awaits async node_set values */
    if ((nmcf->uses & NGX_STREAM_NODE_USES_PREREAD)
        && ngx_stream_node_join_phase(cmcf, NGX_STREAM_PREREAD_PHASE,
                                      ngx_stream_node_preread_handler)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (nmcf->uses & NGX_STREAM_NODE_USES_FILTER) {
        if (ngx_stream_node_join_phase(cmcf, NGX_STREAM_LOG_PHASE,
                                       ngx_stream_node_filter_log_handler)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_stream_node_filter_init(cf);
    }

    return NGX_OK;
}


static char *
ngx_stream_node_import(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_node_srv_conf_t *nscf = conf;

    return ngx_node_conf_import(cf, &nscf->scope);
}


static char *
ngx_stream_node_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_path(cf);
}


static char *
ngx_stream_node_preload_object(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_preload(cf);
}


static char *
ngx_stream_node_shared_dict_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_shared_dict_zone(cf);
}


static char *
ngx_stream_node_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_metrics_zone(cf);
}


static char *
ngx_stream_node_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_node_srv_conf_t *nscf = conf;

    ngx_str_t                *value, name;
    ngx_int_t                 handler, index;
    ngx_stream_variable_t    *v;
    ngx_stream_node_var_t    *var;

    value = cf->args->elts;

    if (ngx_node_conf_variable_name(cf, &value[1], &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 4 && ngx_strcmp(value[3].data, "nocache") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": only \"nocache\" may "
                           "follow the handler", &value[3]);
        return NGX_CONF_ERROR;
    }

    handler = ngx_node_conf_handler(cf, &nscf->scope, 2);
    if (handler == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    v = ngx_stream_add_variable(cf, &name, NGX_STREAM_VAR_CHANGEABLE);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (v->get_handler == ngx_stream_node_variable
        && ngx_node_conf_same_handler(cf, v->data, handler, &value[1])
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 4) {
        v->flags |= NGX_STREAM_VAR_NOCACHEABLE;
    }

    v->get_handler = ngx_stream_node_variable;
    v->data = (uintptr_t) handler;

    if (cf->args->nelts == 3) {
        /* an async function's value is awaited after the preread phase */
        index = ngx_stream_get_variable_index(cf, &name);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (nscf->sets == NULL) {
            nscf->sets = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_stream_node_var_t));
            if (nscf->sets == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        var = ngx_array_push(nscf->sets);
        if (var == NULL) {
            return NGX_CONF_ERROR;
        }

        var->index = index;
        var->handler = handler;

        ngx_stream_node_uses(cf, NGX_STREAM_NODE_USES_PREREAD);
    }

    return NGX_CONF_OK;
}


/* node_var $name [value]: a variable handlers may write, set per session to value */

static ngx_int_t
ngx_stream_node_var_value(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    value;
    ngx_stream_complex_value_t  *cv = (ngx_stream_complex_value_t *) data;

    if (cv == NULL) {
        ngx_str_null(&value);

    } else if (ngx_stream_complex_value(s, cv, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    v->data = value.data;
    v->len = value.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static char *
ngx_stream_node_var(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                           *value, name;
    ngx_stream_variable_t               *v;
    ngx_stream_complex_value_t          *cv;
    ngx_stream_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (ngx_node_conf_variable_name(cf, &value[1], &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    v = ngx_stream_add_variable(cf, &name, NGX_STREAM_VAR_CHANGEABLE);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_stream_get_variable_index(cf, &name) == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    cv = NULL;

    if (cf->args->nelts == 3) {
        cv = ngx_palloc(cf->pool, sizeof(ngx_stream_complex_value_t));
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_stream_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = cv;

        if (ngx_stream_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    v->get_handler = ngx_stream_node_var_value;
    v->data = (uintptr_t) cv;

    return NGX_CONF_OK;
}


/* node_access, node_preread, node_filter: a handler number at cmd->offset */
static char *
ngx_stream_node_handler_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_node_srv_conf_t *nscf = conf;

    ngx_int_t  *slot;

    slot = (ngx_int_t *) ((u_char *) conf + cmd->offset);

    if (*slot != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    *slot = ngx_node_conf_handler(cf, &nscf->scope, 1);
    if (*slot == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    ngx_stream_node_uses(cf, (ngx_uint_t) cmd->post);

    return NGX_CONF_OK;
}
