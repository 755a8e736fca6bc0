/*
 * ngx-node's http module: directives, their configuration, and joining nginx's phases and
 * filter chains (only those some directive uses).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_node.h"
#include "ngx_node_metrics.h"
#include "ngx_node_shared_dict.h"


#define NGX_HTTP_NODE_TIMEOUT             60000

/* the node_fetch_* directives (NGX_NODE_FETCH_COMMAND) */
#define NGX_NODE_FETCH_CONTEXTS                                               \
    (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)
#define NGX_NODE_FETCH_CONF    NGX_HTTP_LOC_CONF_OFFSET
#define NGX_NODE_FETCH_OFFSET  offsetof(ngx_http_node_loc_conf_t, fetch)
#define NGX_HTTP_NODE_FILTER_BUFFER_SIZE  (1024 * 1024)


static ngx_int_t ngx_http_node_init(ngx_conf_t *cf);
static void *ngx_http_node_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_node_create_srv_conf(ngx_conf_t *cf);
static void *ngx_http_node_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_node_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_node_import(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_preload_object(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_shared_dict_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_var(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_content(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_handler_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_rewrite(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_node_body_filter(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_node_commands[] = {

    { ngx_string("node_import"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE13,
      ngx_http_node_import,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_path"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_node_path,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_periodic"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_node_periodic,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_preload_object"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE13,
      ngx_http_node_preload_object,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_shared_dict_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_node_shared_dict_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_metrics_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_node_metrics_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_node_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_set"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_node_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_var"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_node_var,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_content"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_HTTP_LMT_CONF|NGX_CONF_TAKE1,
      ngx_http_node_content,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_access"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_node_handler_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, access),
      (void *) NGX_HTTP_NODE_USES_ACCESS },

    { ngx_string("node_rewrite"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_node_rewrite,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_header_filter"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF
      |NGX_CONF_TAKE1,
      ngx_http_node_handler_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, header_filter),
      (void *) NGX_HTTP_NODE_USES_FILTERS },

    { ngx_string("node_body_filter"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF
      |NGX_CONF_TAKE123,
      ngx_http_node_body_filter,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("node_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_node_handler_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, log),
      (void *) NGX_HTTP_NODE_USES_LOG },

    { ngx_string("node_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, timeout),
      NULL },

    { ngx_string("node_filter_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, filter_buffer_size),
      NULL },

    { ngx_string("node_read_request_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_node_loc_conf_t, read_request_body),
      NULL },

    NGX_NODE_FETCH_DIRECTIVES(NGX_NODE_FETCH_COMMAND)

      ngx_null_command
};


static ngx_http_module_t  ngx_http_node_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_node_init,                    /* postconfiguration */

    ngx_http_node_create_main_conf,        /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_http_node_create_srv_conf,         /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_node_create_loc_conf,         /* create location configuration */
    ngx_http_node_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_node_module = {
    NGX_MODULE_V1,
    &ngx_http_node_module_ctx,             /* module context */
    ngx_http_node_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
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
ngx_http_node_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_node_main_conf_t));
}


static void *
ngx_http_node_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_node_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_node_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->rewrite = NGX_CONF_UNSET;

    return conf;
}


static void *
ngx_http_node_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_node_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_node_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->body_filter_flags = 0;
     *     conf->sets = NULL;
     */

    conf->content = NGX_CONF_UNSET;
    conf->access = NGX_CONF_UNSET;
    conf->rewrite = NGX_CONF_UNSET;
    conf->header_filter = NGX_CONF_UNSET;
    conf->body_filter = NGX_CONF_UNSET;
    conf->log = NGX_CONF_UNSET;
    conf->read_request_body = NGX_CONF_UNSET;
    conf->filter_buffer_size = NGX_CONF_UNSET_SIZE;
    conf->timeout = NGX_CONF_UNSET_MSEC;

    ngx_node_fetch_conf_init(&conf->fetch);

    return conf;
}


static char *
ngx_http_node_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_node_loc_conf_t *prev = parent;
    ngx_http_node_loc_conf_t *conf = child;

    ngx_uint_t                 i;
    ngx_http_node_var_t       *var;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_node_conf_merge_scope(&conf->scope, &prev->scope);

    /* content and rewrite handlers belong to their block; the rest is inherited */

    ngx_conf_merge_value(conf->access, prev->access, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->header_filter, prev->header_filter,
                         NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->log, prev->log, NGX_CONF_UNSET);

    if (conf->body_filter == NGX_CONF_UNSET) {
        conf->body_filter = prev->body_filter;
        conf->body_filter_flags = prev->body_filter_flags;
    }

    ngx_conf_merge_value(conf->read_request_body, prev->read_request_body, 0);
    ngx_conf_merge_size_value(conf->filter_buffer_size,
                              prev->filter_buffer_size,
                              NGX_HTTP_NODE_FILTER_BUFFER_SIZE);
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout,
                              NGX_HTTP_NODE_TIMEOUT);

    /* nginx's core module has merged this block's resolver already */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_node_fetch_conf_merge(cf, &conf->fetch, &prev->fetch,
                                  clcf->resolver, clcf->resolver_timeout)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* node_set declared in outer blocks apply here too */

    if (prev->sets != NULL) {
        if (conf->sets == NULL) {
            conf->sets = prev->sets;

        } else {
            var = prev->sets->elts;

            for (i = 0; i < prev->sets->nelts; i++) {
                if (ngx_array_push(conf->sets) == NULL) {
                    return NGX_CONF_ERROR;
                }

                ((ngx_http_node_var_t *) conf->sets->elts)
                    [conf->sets->nelts - 1] = var[i];
            }
        }
    }

    return NGX_CONF_OK;
}


static void
ngx_http_node_uses(ngx_conf_t *cf, ngx_uint_t phases)
{
    ngx_http_node_main_conf_t  *nmcf;

    nmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_node_module);
    nmcf->phases |= phases;
}


/*
 * nginx runs a phase's handlers last registered first; ours go to the front of the list,
 * so they run after those of the modules before us: in the rewrite phases, after nginx's
 * own rewrite and return directives (as OpenResty's rewrite_by_lua does).
 */
static ngx_int_t
ngx_http_node_join_phase(ngx_http_core_main_conf_t *cmcf,
    ngx_http_phases phase, ngx_http_handler_pt handler)
{
    ngx_array_t          *handlers;
    ngx_http_handler_pt  *h;

    handlers = &cmcf->phases[phase].handlers;

    if (ngx_array_push(handlers) == NULL) {
        return NGX_ERROR;
    }

    h = handlers->elts;
    ngx_memmove(&h[1], &h[0], (handlers->nelts - 1) * sizeof(ngx_http_handler_pt));
    h[0] = handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_node_init(ngx_conf_t *cf)
{
    ngx_uint_t                  uses;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_node_loc_conf_t   *nlcf;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_node_main_conf_t  *nmcf;

    /* ngx.fetch outside any handler follows the http {} block's settings */
    nlcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_node_module);
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (ngx_node_fetch_conf_outside(cf, &nlcf->fetch, clcf->resolver,
                                    clcf->resolver_timeout, 1)
        != NGX_CONF_OK)
    {
        return NGX_ERROR;
    }

    nmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_node_module);
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    uses = nmcf->phases;

    if (((uses & NGX_HTTP_NODE_USES_REWRITE)
         && (ngx_http_node_join_phase(cmcf, NGX_HTTP_SERVER_REWRITE_PHASE,
                                 ngx_http_node_server_rewrite_handler)
             != NGX_OK
             || ngx_http_node_join_phase(cmcf, NGX_HTTP_REWRITE_PHASE,
                                 ngx_http_node_rewrite_handler)
                != NGX_OK))
        || ((uses & NGX_HTTP_NODE_USES_PREFETCH)
            && ngx_http_node_join_phase(cmcf, NGX_HTTP_PREACCESS_PHASE,
                                 ngx_http_node_prefetch_handler)
               != NGX_OK)
        || ((uses & NGX_HTTP_NODE_USES_ACCESS)
            && ngx_http_node_join_phase(cmcf, NGX_HTTP_ACCESS_PHASE,
                                 ngx_http_node_access_handler)
               != NGX_OK)
        || ((uses & NGX_HTTP_NODE_USES_LOG)
            && ngx_http_node_join_phase(cmcf, NGX_HTTP_LOG_PHASE,
                                 ngx_http_node_log_handler)
               != NGX_OK))
    {
        return NGX_ERROR;
    }

    if (uses & NGX_HTTP_NODE_USES_FILTERS) {
        return ngx_http_node_filter_init(cf);
    }

    return NGX_OK;
}


static char *
ngx_http_node_import(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    return ngx_node_conf_import(cf, &nlcf->scope);
}


static char *
ngx_http_node_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_path(cf);
}


static char *
ngx_http_node_preload_object(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_preload(cf);
}


static char *
ngx_http_node_shared_dict_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_shared_dict_zone(cf);
}


static char *
ngx_http_node_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_node_conf_metrics_zone(cf);
}


static char *
ngx_http_node_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    ngx_str_t             *value, name;
    ngx_int_t              handler, index;
    ngx_http_variable_t   *v;
    ngx_http_node_var_t   *var;

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

    handler = ngx_node_conf_handler(cf, &nlcf->scope, 2);
    if (handler == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    v = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (v->get_handler == ngx_http_node_variable
        && ngx_node_conf_same_handler(cf, v->data, handler, &value[1])
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 4) {
        v->flags |= NGX_HTTP_VAR_NOCACHEABLE;
    }

    v->get_handler = ngx_http_node_variable;
    v->data = (uintptr_t) handler;

    /* an async function's value is awaited before the access phase of requests in
     * this block: it needs the variable's slot */

    if (cf->args->nelts == 3) {
        index = ngx_http_get_variable_index(cf, &name);
        if (index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (nlcf->sets == NULL) {
            nlcf->sets = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_node_var_t));
            if (nlcf->sets == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        var = ngx_array_push(nlcf->sets);
        if (var == NULL) {
            return NGX_CONF_ERROR;
        }

        var->index = index;
        var->handler = handler;

        ngx_http_node_uses(cf, NGX_HTTP_NODE_USES_PREFETCH);
    }

    return NGX_CONF_OK;
}


/* node_var $name [value]: a variable handlers may write, set per request to value */

static ngx_int_t
ngx_http_node_var_value(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t                  value;
    ngx_http_complex_value_t  *cv = (ngx_http_complex_value_t *) data;

    if (cv == NULL) {
        ngx_str_null(&value);

    } else if (ngx_http_complex_value(r, cv, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    v->data = value.data;
    v->len = value.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* r.jsVarNames(): the node_var variables, in the order of the configuration */
void
ngx_http_node_var_names(ngx_http_request_t *r, ngx_node_result_t *res)
{
    ngx_uint_t                  i;
    ngx_http_variable_t        *v;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    v = cmcf->variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {
        if (v[i].get_handler == ngx_http_node_var_value) {
            ngx_node_push_str(res, &v[i].name);
        }
    }
}


static char *
ngx_http_node_var(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                         *value, name;
    ngx_http_variable_t               *v;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (ngx_node_conf_variable_name(cf, &value[1], &name) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    v = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_get_variable_index(cf, &name) == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    cv = NULL;

    if (cf->args->nelts == 3) {
        cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    v->get_handler = ngx_http_node_var_value;
    v->data = (uintptr_t) cv;

    return NGX_CONF_OK;
}


static char *
ngx_http_node_content(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (nlcf->content != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    nlcf->content = ngx_node_conf_handler(cf, &nlcf->scope, 1);
    if (nlcf->content == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_node_content_handler;

    return NGX_CONF_OK;
}


/* node_access, node_header_filter, node_log: a handler number at cmd->offset */
static char *
ngx_http_node_handler_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    ngx_int_t  *slot;

    slot = (ngx_int_t *) ((u_char *) conf + cmd->offset);

    if (*slot != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    *slot = ngx_node_conf_handler(cf, &nlcf->scope, 1);
    if (*slot == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    ngx_http_node_uses(cf, (ngx_uint_t) cmd->post);

    return NGX_CONF_OK;
}


/* node_rewrite: in a server block it runs in the server rewrite phase, in a location
 * in the location's; neither is inherited */
static char *
ngx_http_node_rewrite(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    ngx_int_t                 *slot;
    ngx_http_node_srv_conf_t  *nscf;

    if (cf->cmd_type == NGX_HTTP_SRV_CONF) {
        nscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_node_module);
        slot = &nscf->rewrite;

    } else {
        slot = &nlcf->rewrite;
    }

    if (*slot != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    *slot = ngx_node_conf_handler(cf, &nlcf->scope, 1);
    if (*slot == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    ngx_http_node_uses(cf, NGX_HTTP_NODE_USES_REWRITE);

    return NGX_CONF_OK;
}


/* node_body_filter module.fn [buffered] [buffer_type=string|buffer] */
static char *
ngx_http_node_body_filter(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_node_loc_conf_t *nlcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i, flags;

    if (nlcf->body_filter != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    flags = NGX_NODE_FLAG_STRING;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "buffered") == 0) {
            flags |= NGX_HTTP_NODE_FILTER_BUFFERED;

        } else if (ngx_strcmp(value[i].data, "buffer_type=buffer") == 0) {
            flags &= ~NGX_NODE_FLAG_STRING;

        } else if (ngx_strcmp(value[i].data, "buffer_type=string") == 0) {
            flags |= NGX_NODE_FLAG_STRING;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": expected "
                               "\"buffered\" or \"buffer_type=string|buffer\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    nlcf->body_filter = ngx_node_conf_handler(cf, &nlcf->scope, 1);
    if (nlcf->body_filter == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    nlcf->body_filter_flags = flags;

    ngx_http_node_uses(cf, NGX_HTTP_NODE_USES_FILTERS);

    return NGX_CONF_OK;
}
