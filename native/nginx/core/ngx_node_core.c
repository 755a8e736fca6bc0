/*
 * ngx-node's core (libngx_node_core.so): the configuration all node_* directives add to, its
 * check when nginx loads it, and Node's life in each worker (ARCHITECTURE.md, "The event-loop
 * design"). ngx_http_node_module.so and ngx_stream_node_module.so each carry a core module
 * made of what this file exports (ngx_node_core_module.h); with both loaded, nginx hands
 * each directive to the first of them, and both lead here: one configuration, one Node.js
 * per worker.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <nginx.h>

#include <dlfcn.h>

#include "ngx_node_core.h"
#include "ngx_node_core_module.h"
#include "ngx_node_fetch.h"
#include "ngx_node_metrics.h"
#include "ngx_node_periodic.h"
#include "ngx_node_shared_dict.h"


typedef enum {
    NGX_NODE_OFF = 0,      /* no node_* directive, or not a worker */
    NGX_NODE_RUNNING,
    NGX_NODE_FAILED,       /* did not start in this worker (logged) */
    NGX_NODE_STOPPED       /* process.exit() */
} ngx_node_state_e;


static ngx_int_t ngx_node_valid_name(ngx_str_t *name, ngx_uint_t dotted);
static ngx_int_t ngx_node_conf_resolve_imports(ngx_cycle_t *cycle,
    ngx_node_conf_t *ncf);
static char *ngx_node_cpu_timeout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#define NGX_NODE_CPU_TIMEOUT  5000


ngx_command_t  ngx_node_core_commands[] = {

    /* node_option --flag; Node/V8 options for every worker (and the checker) */
    { ngx_string("node_option"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_array_slot,
      0,
      offsetof(ngx_node_conf_t, options),
      NULL },

    /* node_cpu_timeout time|off; how long one call into JavaScript may run */
    { ngx_string("node_cpu_timeout"),
      NGX_MAIN_CONF|NGX_DIRECT_CONF|NGX_CONF_TAKE1,
      ngx_node_cpu_timeout,
      0,
      0,
      NULL },

      ngx_null_command
};


ngx_core_module_t  ngx_node_core_module_ctx = {
    ngx_string("node"),
    ngx_node_create_conf,
    ngx_node_init_conf
};


static ngx_uint_t                ngx_node_process_started;
static ngx_node_state_e          ngx_node_state;
static const ngx_node_bridge_t  *ngx_node_bridge_ptr;
static ngx_node_conf_t          *ngx_node_worker_conf;
static u_char                   *ngx_node_handler_kinds;   /* per handler, see below */

#define NGX_NODE_HANDLER_UNKNOWN  0
#define NGX_NODE_HANDLER_SYNC     1
#define NGX_NODE_HANDLER_ASYNC    2
static ngx_queue_t               ngx_node_pending;


/* configuration */

/* the configuration of the cycle being read: both core modules get the same */
static ngx_cycle_t      *ngx_node_conf_cycle;
static ngx_node_conf_t  *ngx_node_conf_created;


static void
ngx_node_conf_cycle_gone(void *data)
{
    if (ngx_node_conf_cycle == data) {
        ngx_node_conf_cycle = NULL;
        ngx_node_conf_created = NULL;
    }
}


void *
ngx_node_create_conf(ngx_cycle_t *cycle)
{
    ngx_node_conf_t     *ncf;
    ngx_pool_cleanup_t  *cln;

    if (ngx_node_conf_cycle == cycle) {
        return ngx_node_conf_created;
    }

    ncf = ngx_pcalloc(cycle->pool, sizeof(ngx_node_conf_t));
    if (ncf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&ncf->imports, cycle->pool, 4, sizeof(ngx_node_import_t))
        != NGX_OK
        || ngx_array_init(&ncf->handlers, cycle->pool, 8,
                          sizeof(ngx_node_handler_t))
           != NGX_OK
        || ngx_array_init(&ncf->paths, cycle->pool, 2, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&ncf->preloads, cycle->pool, 1,
                          sizeof(ngx_node_import_t))
           != NGX_OK
        || ngx_array_init(&ncf->dicts, cycle->pool, 2,
                          sizeof(ngx_node_dict_t *))
           != NGX_OK
        || ngx_array_init(&ncf->periodics, cycle->pool, 1,
                          sizeof(ngx_node_periodic_t))
           != NGX_OK
        || ngx_node_fetch_list_init(cycle->pool, &ncf->fetches) != NGX_OK)
    {
        return NULL;
    }

    ncf->options = NGX_CONF_UNSET_PTR;
    ncf->cpu_timeout = NGX_CONF_UNSET_MSEC;
    ncf->fetch_outside = NGX_CONF_UNSET_UINT;

    /* a later cycle may come at the same address */
    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_node_conf_cycle_gone;
    cln->data = cycle;

    ngx_node_conf_cycle = cycle;
    ngx_node_conf_created = ncf;

    return ncf;
}


/* the configuration of a cycle, through whichever core module is loaded */
static ngx_node_conf_t *
ngx_node_cycle_conf(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    for (i = 0; cycle->modules[i]; i++) {
        if (cycle->modules[i]->ctx == &ngx_node_core_module_ctx) {
            return (ngx_node_conf_t *) cycle->conf_ctx[cycle->modules[i]->index];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_node_module_dir(ngx_cycle_t *cycle, ngx_node_conf_t *ncf)
{
    u_char   *slash;
    Dl_info   info;

    if (dladdr((void *) &ngx_node_core_module_ctx, &info) == 0
        || info.dli_fname == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: cannot tell where the module was loaded from");
        return NGX_ERROR;
    }

    slash = (u_char *) strrchr(info.dli_fname, '/');

    if (slash == NULL) {
        ngx_str_set(&ncf->module_dir, ".");
        return NGX_OK;
    }

    ncf->module_dir.len = slash - (u_char *) info.dli_fname;
    ncf->module_dir.data = ngx_pnalloc(cycle->pool, ncf->module_dir.len + 1);
    if (ncf->module_dir.data == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(ncf->module_dir.data, (u_char *) info.dli_fname,
                ncf->module_dir.len + 1);

    return NGX_OK;
}


/* Node starts in workers when a directive asks for it; node_path alone does (Lua code
 * calls modules under it) */
static ngx_uint_t
ngx_node_used(ngx_node_conf_t *ncf)
{
    return ncf->imports.nelts || ncf->handlers.nelts || ncf->paths.nelts
           || ncf->preloads.nelts;
}


char *
ngx_node_init_conf(ngx_cycle_t *cycle, void *conf)
{
    ngx_node_conf_t  *ncf = conf;

    /* once per cycle, whichever core module comes first */
    if (ncf->initialized) {
        return NGX_CONF_OK;
    }

    ncf->initialized = 1;

    if (ncf->options == NGX_CONF_UNSET_PTR) {
        ncf->options = NULL;
    }

    ngx_conf_init_msec_value(ncf->cpu_timeout, NGX_NODE_CPU_TIMEOUT);
    ngx_conf_init_uint_value(ncf->fetch_outside, 0);

    if (ngx_node_fetch_list_done(cycle->pool, &ncf->fetches) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_node_module_dir(cycle, ncf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (!ngx_node_used(ncf)) {
        return NGX_CONF_OK;
    }

    if (ngx_node_conf_resolve_imports(cycle, ncf) != NGX_OK
        || ngx_node_check(cycle, ncf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_node_cpu_timeout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_node_conf_t  *ncf = conf;

    ngx_str_t   *value;
    ngx_msec_t   timeout;

    if (ncf->cpu_timeout != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ncf->cpu_timeout = 0;
        return NGX_CONF_OK;
    }

    timeout = ngx_parse_time(&value[1], 0);

    if (timeout == (ngx_msec_t) NGX_ERROR || timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": a time such as \"5s\" or "
                           "\"500ms\", or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    ncf->cpu_timeout = timeout;

    return NGX_CONF_OK;
}


ngx_node_conf_t *
ngx_node_conf(ngx_conf_t *cf)
{
    return ngx_node_cycle_conf(cf->cycle);
}


static void
ngx_node_conf_where(ngx_conf_t *cf, ngx_str_t *file, ngx_uint_t *line)
{
    *file = cf->conf_file->file.name;
    *line = cf->conf_file->line;
}


/* a JavaScript identifier (ASCII); with "dotted", "module.function" or deeper,
 * "module.object.function" */
static ngx_int_t
ngx_node_valid_name(ngx_str_t *name, ngx_uint_t dotted)
{
    u_char      c;
    ngx_uint_t  i, dots, start;

    dots = 0;
    start = 1;

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (c == '.' && dotted) {
            if (start) {
                return NGX_ERROR;
            }

            dots++;
            start = 1;
            continue;
        }

        if (c == '_' || c == '$' || (c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z') || (!start && c >= '0' && c <= '9'))
        {
            start = 0;
            continue;
        }

        return NGX_ERROR;
    }

    if (start || (dotted && dots == 0)) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_node_name_from_path(ngx_str_t *path, ngx_str_t *name)
{
    u_char  *p, *end, *dot;

    end = path->data + path->len;

    for (p = end; p > path->data && p[-1] != '/'; p--) { /* void */ }

    dot = NULL;

    for (name->data = p; p < end; p++) {
        if (*p == '.') {
            dot = p;
        }
    }

    if (dot == NULL) {
        return NGX_ERROR;
    }

    name->len = dot - name->data;

    return ngx_node_valid_name(name, 0);
}


/*
 * "[name from] path" of node_import and node_preload_object, into the list; a name stands
 * for one file in a block (scope), and may stand for another in another block
 */
static char *
ngx_node_conf_named_file(ngx_conf_t *cf, ngx_array_t *list,
    ngx_node_scope_t *scope)
{
    ngx_str_t          *value, name, path;
    ngx_uint_t          i;
    ngx_node_import_t  *imp;

    value = cf->args->elts;

    if (cf->args->nelts == 4) {
        if (ngx_strcmp(value[2].data, "from") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\": the form is "
                               "\"%V name from path;\"", &value[2],
                               &value[0]);
            return NGX_CONF_ERROR;
        }

        name = value[1];
        path = value[3];

        if (ngx_node_valid_name(&name, 0) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid module name \"%V\": use letters, "
                               "digits, \"_\" or \"$\", not starting with a "
                               "digit", &name);
            return NGX_CONF_ERROR;
        }

    } else if (cf->args->nelts == 2) {
        path = value[1];

        if (ngx_node_name_from_path(&path, &name) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "cannot make a name of \"%V\"; use "
                               "\"%V name from %V;\"", &path, &value[0],
                               &path);
            return NGX_CONF_ERROR;
        }

    } else {
        return "takes \"path\" or \"name from path\"";
    }

    imp = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (imp[i].scope != scope
            || imp[i].name.len != name.len
            || ngx_strncmp(imp[i].name.data, name.data, name.len) != 0)
        {
            continue;
        }

        if (imp[i].path.len == path.len
            && ngx_strncmp(imp[i].path.data, path.data, path.len) == 0)
        {
            return NGX_CONF_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "name \"%V\" already stands for \"%V\" in this "
                           "block (%V:%ui); use \"%V othername from %V;\"",
                           &name, &imp[i].path, &imp[i].file, imp[i].line,
                           &value[0], &path);
        return NGX_CONF_ERROR;
    }

    imp = ngx_array_push(list);
    if (imp == NULL) {
        return NGX_CONF_ERROR;
    }

    imp->name = name;
    imp->path = path;
    imp->scope = scope;
    ngx_node_conf_where(cf, &imp->file, &imp->line);

    return NGX_CONF_OK;
}


char *
ngx_node_conf_import(ngx_conf_t *cf, ngx_node_scope_t *scope)
{
    return ngx_node_conf_named_file(cf, &ngx_node_conf(cf)->imports, scope);
}


char *
ngx_node_conf_preload(ngx_conf_t *cf)
{
    return ngx_node_conf_named_file(cf, &ngx_node_conf(cf)->preloads, NULL);
}


char *
ngx_node_conf_path(ngx_conf_t *cf)
{
    ngx_str_t        *value, *path;
    ngx_node_conf_t  *ncf;

    ncf = ngx_node_conf(cf);
    value = cf->args->elts;

    path = ngx_array_push(&ncf->paths);
    if (path == NULL) {
        return NGX_CONF_ERROR;
    }

    *path = value[1];

    if (ngx_conf_full_name(cf->cycle, path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_node_conf_handler(ngx_conf_t *cf, ngx_node_scope_t *scope, ngx_uint_t arg)
{
    ngx_str_t           *value;
    ngx_node_conf_t     *ncf;
    ngx_node_handler_t  *h;

    ncf = ngx_node_conf(cf);
    value = cf->args->elts;

    if (ngx_node_valid_name(&value[arg], 1) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid handler \"%V\": name it "
                           "\"module.function\" (or "
                           "\"module.object.function\"), the module as "
                           "node_import names it", &value[arg]);
        return NGX_ERROR;
    }

    h = ngx_array_push(&ncf->handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->name = value[arg];
    h->directive = value[0];
    h->scope = scope;
    h->import = -1;
    h->same_variable = -1;
    /* NGX_STREAM_MODULE, which the core does not include */
    h->stream = cf->module_type == 0x4d525453;
    ngx_node_conf_where(cf, &h->file, &h->line);

    return ncf->handlers.nelts - 1;
}


void
ngx_node_conf_merge_scope(ngx_node_scope_t *scope, ngx_node_scope_t *parent)
{
    scope->parent = parent;
}


/*
 * Once the whole configuration is read (blocks are linked): the import each handler's
 * module name means where the handler stands, found in its block, then in the enclosing
 * ones; a name imported in an inner block hides the same name of an outer one. A name no
 * import gives keeps -1: the checker says so, naming the blocks that do import it. A
 * variable has one function: node_set of it in several blocks must mean the same file.
 */
static ngx_int_t
ngx_node_conf_resolve_imports(ngx_cycle_t *cycle, ngx_node_conf_t *ncf)
{
    u_char              *dot;
    ngx_str_t            module;
    ngx_uint_t           i, k;
    ngx_node_scope_t    *scope;
    ngx_node_import_t   *imp, *mine, *theirs;
    ngx_node_handler_t  *h, *previous;

    h = ncf->handlers.elts;
    imp = ncf->imports.elts;

    for (i = 0; i < ncf->handlers.nelts; i++) {
        dot = ngx_strlchr(h[i].name.data, h[i].name.data + h[i].name.len, '.');
        module.data = h[i].name.data;
        module.len = dot - h[i].name.data;

        for (scope = h[i].scope; scope && h[i].import == -1;
             scope = scope->parent)
        {
            for (k = 0; k < ncf->imports.nelts; k++) {
                if (imp[k].scope == scope
                    && imp[k].name.len == module.len
                    && ngx_strncmp(imp[k].name.data, module.data, module.len)
                       == 0)
                {
                    h[i].import = k;
                    break;
                }
            }
        }
    }

    for (i = 0; i < ncf->handlers.nelts; i++) {
        if (h[i].same_variable == -1) {
            continue;
        }

        previous = &h[h[i].same_variable];

        if (h[i].import == -1 || previous->import == -1
            || h[i].import == previous->import)
        {
            continue;
        }

        mine = &imp[h[i].import];
        theirs = &imp[previous->import];

        if (mine->path.len == theirs->path.len
            && ngx_strncmp(mine->path.data, theirs->path.data, mine->path.len)
               == 0)
        {
            continue;
        }

        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "%V \"%V\" in %V:%ui and in %V:%ui set the same "
                      "variable, but the module is \"%V\" in the first and "
                      "\"%V\" in the second; a variable has one function: "
                      "give one of them another variable", &h[i].directive,
                      &h[i].name, &previous->file, previous->line, &h[i].file,
                      h[i].line, &theirs->path, &mine->path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "$name" of node_set and node_var */
ngx_int_t
ngx_node_conf_variable_name(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *name)
{
    if (value->len < 2 || value->data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable name \"%V\"", value);
        return NGX_ERROR;
    }

    name->len = value->len - 1;
    name->data = value->data + 1;

    return NGX_OK;
}


/* a variable node_set gives a value again: only with the same handler */
ngx_int_t
ngx_node_conf_same_handler(ngx_conf_t *cf, ngx_uint_t previous,
    ngx_uint_t handler, ngx_str_t *variable)
{
    ngx_node_conf_t     *ncf;
    ngx_node_handler_t  *h;

    ncf = ngx_node_conf(cf);
    h = ncf->handlers.elts;

    if (h[previous].name.len == h[handler].name.len
        && ngx_strncmp(h[previous].name.data, h[handler].name.data,
                       h[handler].name.len)
           == 0)
    {
        h[handler].same_variable = previous;
        return NGX_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "variable \"%V\" is already set by \"%V\" in %V:%ui",
                       variable, &h[previous].name, &h[previous].file,
                       h[previous].line);

    return NGX_ERROR;
}


/* the JSON document for the runtime and the checker (src/runtime/config.ts) */

void
ngx_node_json_raw(ngx_node_json_t *j, const char *s, size_t len)
{
    if (j->last) {
        j->pos = ngx_cpymem(j->pos, s, len);

    } else {
        j->size += len;
    }
}


void
ngx_node_json_str(ngx_node_json_t *j, ngx_str_t *s)
{
    ngx_node_json_raw(j, "\"", 1);

    if (j->last) {
        j->pos = (u_char *) ngx_escape_json(j->pos, s->data, s->len);

    } else {
        j->size += s->len + ngx_escape_json(NULL, s->data, s->len);
    }

    ngx_node_json_raw(j, "\"", 1);
}


void
ngx_node_json_num(ngx_node_json_t *j, ngx_int_t n)
{
    u_char  buf[NGX_INT_T_LEN];

    ngx_node_json_raw(j, (char *) buf, ngx_sprintf(buf, "%i", n) - buf);
}


void
ngx_node_json_bool(ngx_node_json_t *j, ngx_uint_t b)
{
    if (b) {
        ngx_node_json_raw(j, "true", 4);

    } else {
        ngx_node_json_raw(j, "false", 5);
    }
}


void
ngx_node_json_key(ngx_node_json_t *j, const char *key, ngx_uint_t first)
{
    if (!first) {
        ngx_node_json_raw(j, ",", 1);
    }

    ngx_node_json_raw(j, "\"", 1);
    ngx_node_json_raw(j, key, ngx_strlen(key));
    ngx_node_json_raw(j, "\":", 2);
}


/* [{name, path, file, line}]: node_import, node_preload_object */
static void
ngx_node_json_files(ngx_node_json_t *j, ngx_array_t *list)
{
    ngx_uint_t          i;
    ngx_node_import_t  *imp;

    ngx_node_json_raw(j, "[", 1);
    imp = list->elts;

    for (i = 0; i < list->nelts; i++) {
        ngx_node_json_raw(j, i ? ",{" : "{", i ? 2 : 1);
        ngx_node_json_key(j, "name", 1);
        ngx_node_json_str(j, &imp[i].name);
        ngx_node_json_key(j, "path", 0);
        ngx_node_json_str(j, &imp[i].path);
        ngx_node_json_key(j, "file", 0);
        ngx_node_json_str(j, &imp[i].file);
        ngx_node_json_key(j, "line", 0);
        ngx_node_json_num(j, imp[i].line);
        ngx_node_json_raw(j, "}", 1);
    }

    ngx_node_json_raw(j, "]", 1);
}


static void
ngx_node_json_write(ngx_node_json_t *j, ngx_cycle_t *cycle,
    ngx_node_conf_t *ncf, ngx_int_t worker)
{
    u_char               number[NGX_NODE_METRICS_NUMBER_LEN];
    ngx_str_t           *paths, version;
    ngx_uint_t           i, nbuckets;
    const double        *buckets;
    ngx_node_dict_t    **dict;
    ngx_node_handler_t  *h;

    ngx_node_json_raw(j, "{", 1);

    ngx_node_json_key(j, "imports", 1);
    ngx_node_json_files(j, &ncf->imports);
    ngx_node_json_key(j, "preloads", 0);
    ngx_node_json_files(j, &ncf->preloads);

    ngx_node_json_key(j, "handlers", 0);
    ngx_node_json_raw(j, "[", 1);
    h = ncf->handlers.elts;

    for (i = 0; i < ncf->handlers.nelts; i++) {
        ngx_node_json_raw(j, i ? ",{" : "{", i ? 2 : 1);
        ngx_node_json_key(j, "name", 1);
        ngx_node_json_str(j, &h[i].name);
        ngx_node_json_key(j, "directive", 0);
        ngx_node_json_str(j, &h[i].directive);
        ngx_node_json_key(j, "file", 0);
        ngx_node_json_str(j, &h[i].file);
        ngx_node_json_key(j, "line", 0);
        ngx_node_json_num(j, h[i].line);
        ngx_node_json_key(j, "import", 0);
        ngx_node_json_num(j, h[i].import);
        ngx_node_json_raw(j, "}", 1);
    }

    ngx_node_json_raw(j, "]", 1);

    ngx_node_json_key(j, "paths", 0);
    ngx_node_json_raw(j, "[", 1);
    paths = ncf->paths.elts;

    for (i = 0; i < ncf->paths.nelts; i++) {
        if (i) {
            ngx_node_json_raw(j, ",", 1);
        }

        ngx_node_json_str(j, &paths[i]);
    }

    ngx_node_json_raw(j, "]", 1);

    ngx_node_json_key(j, "dicts", 0);
    ngx_node_json_raw(j, "[", 1);
    dict = ncf->dicts.elts;

    for (i = 0; i < ncf->dicts.nelts; i++) {
        ngx_node_json_raw(j, i ? ",{" : "{", i ? 2 : 1);
        ngx_node_json_key(j, "name", 1);
        ngx_node_json_str(j, &dict[i]->name);
        ngx_node_json_key(j, "type", 0);
        ngx_node_json_raw(j, dict[i]->type == NGX_NODE_DICT_NUMBER
                             ? "\"number\"" : "\"string\"", 8);
        ngx_node_json_key(j, "capacity", 0);
        ngx_node_json_num(j, dict[i]->size);
        ngx_node_json_key(j, "timeout", 0);
        ngx_node_json_num(j, dict[i]->timeout);
        ngx_node_json_raw(j, "}", 1);
    }

    ngx_node_json_raw(j, "]", 1);

    if (ncf->metrics) {
        ngx_node_json_key(j, "metrics", 0);
        ngx_node_json_raw(j, "{\"buckets\":[", 12);
        nbuckets = ngx_node_metrics_buckets(&buckets);

        for (i = 0; i < nbuckets; i++) {
            if (i) {
                ngx_node_json_raw(j, ",", 1);
            }

            ngx_node_json_raw(j, (char *) number,
                              ngx_node_metrics_number(number, buckets[i])
                              - number);
        }

        ngx_node_json_raw(j, "],\"size\":", 9);
        ngx_node_json_num(j, ngx_node_metrics_zone_size(ncf->metrics));
        ngx_node_json_raw(j, "}", 1);
    }

    ngx_node_json_key(j, "fetch", 0);
    ngx_node_fetch_json(j, &ncf->fetches);
    ngx_node_json_key(j, "fetchOutside", 0);
    ngx_node_json_num(j, ncf->fetch_outside);

    ngx_node_json_key(j, "prefix", 0);
    ngx_node_json_str(j, &cycle->prefix);
    ngx_node_json_key(j, "confPrefix", 0);
    ngx_node_json_str(j, &cycle->conf_prefix);
    ngx_node_json_key(j, "confFile", 0);
    ngx_node_json_str(j, &cycle->conf_file);
    ngx_node_json_key(j, "workerId", 0);
    ngx_node_json_num(j, worker);
    ngx_node_json_key(j, "nginxVersion", 0);
    ngx_str_set(&version, NGINX_VERSION);
    ngx_node_json_str(j, &version);
    ngx_node_json_key(j, "nginxVersionNumber", 0);
    ngx_node_json_num(j, nginx_version);
    ngx_node_json_key(j, "errorLog", 0);
    ngx_str_null(&version);
    ngx_node_json_str(j, cycle->log->file ? &cycle->log->file->name : &version);

    ngx_node_json_raw(j, "}", 1);
}


ngx_int_t
ngx_node_conf_json(ngx_cycle_t *cycle, ngx_node_conf_t *ncf, ngx_int_t worker,
    ngx_str_t *json)
{
    ngx_node_json_t  j;

    ngx_memzero(&j, sizeof(ngx_node_json_t));
    ngx_node_json_write(&j, cycle, ncf, worker);

    json->data = ngx_pnalloc(cycle->pool, j.size + 1);
    if (json->data == NULL) {
        return NGX_ERROR;
    }

    j.pos = json->data;
    j.last = json->data + j.size;
    ngx_node_json_write(&j, cycle, ncf, worker);

    json->len = j.pos - json->data;
    *j.pos = '\0';

    return NGX_OK;
}


/* value helpers for host ops */

void
ngx_node_result_str(ngx_node_result_t *res, ngx_str_t *s)
{
    ngx_node_value_t  v = { NGX_NODE_STRING, 0, (const char *) s->data, s->len };

    res->set(res, &v);
}


void
ngx_node_push_str(ngx_node_result_t *res, ngx_str_t *s)
{
    ngx_node_value_t  v = { NGX_NODE_STRING, 0, (const char *) s->data, s->len };

    res->push(res, &v);
}


void
ngx_node_result_number(ngx_node_result_t *res, double n)
{
    ngx_node_value_t  v = { NGX_NODE_NUMBER, n, NULL, 0 };

    res->set(res, &v);
}


/* an error message of one line: what it quotes of the user's text is escaped (\r, \n, \xHH) */
static void
ngx_node_result_vfail(ngx_node_result_t *res, unsigned kind, const char *fmt,
    va_list args)
{
    u_char   text[NGX_MAX_ERROR_STR], line[NGX_MAX_ERROR_STR], *p, *last, *q;
    u_char  *end;

    static u_char  hex[] = "0123456789abcdef";

    last = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    end = line + sizeof(line) - 4;

    for (p = text, q = line; p < last && q < end; p++) {
        if (*p >= 0x20 && *p != 0x7f) {
            *q++ = *p;
            continue;
        }

        *q++ = '\\';

        switch (*p) {
        case '\r':
            *q++ = 'r';
            break;
        case '\n':
            *q++ = 'n';
            break;
        default:
            *q++ = 'x';
            *q++ = hex[*p >> 4];
            *q++ = hex[*p & 0xf];
        }
    }

    res->fail(res, kind, (const char *) line, q - line);
}


void
ngx_node_result_fail(ngx_node_result_t *res, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_node_result_vfail(res, NGX_NODE_FAIL_ERROR, fmt, args);
    va_end(args);
}


void
ngx_node_result_type_error(ngx_node_result_t *res, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_node_result_vfail(res, NGX_NODE_FAIL_TYPE, fmt, args);
    va_end(args);
}


void
ngx_node_result_range_error(ngx_node_result_t *res, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_node_result_vfail(res, NGX_NODE_FAIL_RANGE, fmt, args);
    va_end(args);
}


/*
 * Text that goes into an HTTP message's header or request line (a header value, a URL, a
 * variable): CR, LF and NUL would split the message, other control characters corrupt it;
 * a horizontal tab is allowed. Returns NGX_OK or NGX_DECLINED.
 */
ngx_int_t
ngx_node_safe_text(ngx_str_t *text)
{
    u_char  *p, *end;

    for (p = text->data, end = p + text->len; p < end; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a node_set value that would split a message is refused: logged, the variable empty */
ngx_uint_t
ngx_node_unsafe_value(ngx_log_t *log, ngx_uint_t handler, ngx_str_t *value)
{
    const ngx_node_handler_t  *h;

    if (ngx_node_safe_text(value) == NGX_OK) {
        return 0;
    }

    h = ngx_node_handler(handler);
    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "%V \"%V\": the value " NGX_NODE_UNSAFE_TEXT
                  "; the variable is empty", &h->directive, &h->name);

    return 1;
}


/* an HTTP token (RFC 9110): a header name, a method */
ngx_int_t
ngx_node_token(ngx_str_t *text)
{
    u_char  *p, *end, c;

    if (text->len == 0) {
        return NGX_DECLINED;
    }

    for (p = text->data, end = p + text->len; p < end; p++) {
        c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9'))
        {
            continue;
        }

        if (ngx_strchr("!#$%&'*+-.^_`|~", c) == NULL || c == '\0') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_node_arg_str(const ngx_node_value_t *args, unsigned nargs, unsigned i,
    ngx_str_t *s)
{
    if (i >= nargs
        || (args[i].type != NGX_NODE_STRING && args[i].type != NGX_NODE_BYTES))
    {
        return NGX_ERROR;
    }

    s->data = (u_char *) args[i].data;
    s->len = args[i].len;

    return NGX_OK;
}


/* the variable name of a variables op: lower-cased into the pool, with its hash */
ngx_int_t
ngx_node_arg_variable(ngx_pool_t *pool, const ngx_node_value_t *args,
    unsigned nargs, ngx_str_t *lower, ngx_uint_t *key)
{
    ngx_str_t  name;

    if (ngx_node_arg_str(args, nargs, 0, &name) != NGX_OK || name.len == 0) {
        return NGX_ERROR;
    }

    lower->len = name.len;
    lower->data = ngx_pnalloc(pool, name.len);
    if (lower->data == NULL) {
        return NGX_ERROR;
    }

    *key = ngx_hash_strlow(lower->data, name.data, name.len);

    return NGX_OK;
}


ngx_int_t
ngx_node_arg_int(const ngx_node_value_t *args, unsigned nargs, unsigned i,
    ngx_int_t *n)
{
    if (i >= nargs || args[i].type != NGX_NODE_NUMBER) {
        return NGX_ERROR;
    }

    *n = (ngx_int_t) args[i].number;

    return NGX_OK;
}


ngx_int_t
ngx_node_read_file(ngx_str_t *path, ngx_pool_t *pool, ngx_str_t *content,
    const char **failed)
{
    ssize_t          n;
    ngx_err_t        err;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *path;
    file.log = pool->log;

    file.fd = ngx_open_file(path->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        *failed = ngx_open_file_n;
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        *failed = ngx_fd_info_n;
        goto failed;
    }

    content->len = ngx_file_size(&fi);
    content->data = ngx_pnalloc(pool, content->len + 1);

    if (content->data == NULL) {
        *failed = "ngx_pnalloc()";
        goto failed;
    }

    n = ngx_read_file(&file, content->data, content->len, 0);

    if (n != (ssize_t) content->len) {
        *failed = ngx_read_file_n;

        if (n != NGX_ERROR) {
            ngx_set_errno(0);
        }

        goto failed;
    }

    content->data[content->len] = '\0';
    ngx_close_file(file.fd);

    return NGX_OK;

failed:

    err = ngx_errno;
    ngx_close_file(file.fd);
    ngx_set_errno(err);

    return NGX_ERROR;
}


/* in workers */

/* ops on handle 0 */
static void
ngx_node_worker_op(void *object, unsigned op, const ngx_node_value_t *args,
    unsigned nargs, ngx_node_result_t *res)
{
    ngx_int_t   level;
    ngx_str_t   msg;
    ngx_log_t  *log;

    log = ngx_cycle->log;

    switch (op) {

    case NGX_NODE_WORKER_OP_LOG:
        if (ngx_node_arg_int(args, nargs, 0, &level) != NGX_OK
            || ngx_node_arg_str(args, nargs, 1, &msg) != NGX_OK
            || level < NGX_LOG_EMERG || level > NGX_LOG_DEBUG)
        {
            ngx_node_result_fail(res, "log(level, message): bad arguments");
            return;
        }

        ngx_log_error((ngx_uint_t) level, log, 0, "%V", &msg);
        return;

    case NGX_NODE_WORKER_OP_METRICS:
        ngx_node_metrics_op(args, nargs, res);
        return;

    default:
        ngx_node_result_fail(res, "unknown worker op %ud", op);
    }
}


static void
ngx_node_bridge_log(unsigned level, const char *msg, size_t len)
{
    ngx_log_error(level, ngx_cycle->log, 0, "%*s", len, msg);
}


/* process.exit(): stop serving JavaScript here and let this worker end (fact 9) */
static void
ngx_node_exit(int code)
{
    ngx_queue_t         *q;
    ngx_node_pending_t  *pending;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "ngx-node: process.exit(%d) was called; this worker "
                  "finishes its other requests and exits, and nginx starts "
                  "a new one", code);

    ngx_node_state = NGX_NODE_STOPPED;
    ngx_node_loop_stop();

    while (!ngx_queue_empty(&ngx_node_pending)) {
        q = ngx_queue_head(&ngx_node_pending);
        ngx_queue_remove(q);
        ngx_queue_init(q);
        pending = ngx_queue_data(q, ngx_node_pending_t, queue);
        pending->abort(pending);
    }

    ngx_quit = 1;
}


/* the heap limit was reached: let this worker finish its requests and exit, with JavaScript
 * still serving them; the master starts a fresh worker */
static void
ngx_node_retire(void)
{
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "ngx-node: the JavaScript heap reached its limit; this worker "
                  "stops accepting connections, finishes its requests and "
                  "exits, and nginx starts a new one (raise the limit with "
                  "\"node_option --max-old-space-size=MB;\" if the handlers "
                  "need more)");

    ngx_quit = 1;
}


ngx_int_t
ngx_node_init_process(ngx_cycle_t *cycle)
{
    void                    *lib;
    u_char                  *path;
    ngx_str_t                json, *options;
    ngx_uint_t               i;
    ngx_node_conf_t         *ncf;
    ngx_node_bridge_get_pt   get;
    const ngx_node_bridge_t *bridge;

    struct timespec          started, ready;

    static ngx_node_init_t   init;
    static u_char            runtime_dir[NGX_MAX_PATH];

    /* once per process, whichever core module comes first */
    if (ngx_node_process_started) {
        return NGX_OK;
    }

    ngx_node_process_started = 1;

    clock_gettime(CLOCK_MONOTONIC, &started);

    ncf = ngx_node_cycle_conf(cycle);

    ngx_queue_init(&ngx_node_pending);

    if (ncf == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    if (ncf->metrics) {
        ngx_node_metrics_init_process(cycle, ncf->metrics,
                                      ngx_node_used(ncf) ? &ncf->handlers
                                                         : NULL);
    }

    if (!ngx_node_used(ncf)) {
        return NGX_OK;
    }

    ngx_node_worker_conf = ncf;
    ngx_node_state = NGX_NODE_FAILED;

    ngx_node_handler_kinds = ngx_pcalloc(cycle->pool, ncf->handlers.nelts + 1);
    if (ngx_node_handler_kinds == NULL) {
        return NGX_OK;
    }

    path = ngx_pnalloc(cycle->pool, ncf->module_dir.len
                                    + sizeof("/ngx_node_bridge.so"));
    if (path == NULL) {
        return NGX_OK;
    }

    ngx_sprintf(path, "%V/ngx_node_bridge.so%Z", &ncf->module_dir);

    lib = dlopen((char *) path, RTLD_NOW | RTLD_GLOBAL);
    if (lib == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: cannot load %s: %s; rebuild with "
                      "\"npm run build\"", path, dlerror());
        return NGX_OK;
    }

    get = (ngx_node_bridge_get_pt) dlsym(lib, NGX_NODE_BRIDGE_SYMBOL);
    bridge = get ? get() : NULL;

    if (bridge == NULL || bridge->abi_version != NGX_NODE_ABI_VERSION) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: %s does not match this module (ABI %d); "
                      "rebuild with \"npm run build\"", path,
                      NGX_NODE_ABI_VERSION);
        return NGX_OK;
    }

    if (ngx_node_conf_json(cycle, ncf, ngx_worker, &json) != NGX_OK) {
        return NGX_OK;
    }

    ngx_sprintf(runtime_dir, "%V/lib/runtime%Z", &ncf->module_dir);

    init.runtime_dir = (const char *) runtime_dir;
    init.config_json = (const char *) json.data;
    init.config_json_len = json.len;

    if (ncf->options) {
        init.exec_args = ngx_palloc(cycle->pool,
                                    ncf->options->nelts * sizeof(char *));
        if (init.exec_args == NULL) {
            return NGX_OK;
        }

        options = ncf->options->elts;

        for (i = 0; i < ncf->options->nelts; i++) {
            ((const char **) init.exec_args)[i] = (const char *) options[i].data;
        }

        init.nexec_args = ncf->options->nelts;
    }

    init.cpu_timeout = (unsigned) ncf->cpu_timeout;
    init.worker = cycle;
    init.worker_op = ngx_node_worker_op;
    init.dict = ngx_node_dict_host(&ncf->dicts);
    init.log = ngx_node_bridge_log;
    init.exit = ngx_node_exit;
    init.retire = ngx_node_retire;

    ngx_node_bridge_ptr = bridge;

    if (bridge->init(&init) != NGX_NODE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "ngx-node: Node.js did not start in this worker; its "
                      "handlers answer 500");
        return NGX_OK;
    }

    if (ngx_node_state == NGX_NODE_STOPPED) {
        /* process.exit() at the top level of a module */
        return NGX_OK;
    }

    if (ngx_node_loop_start(cycle, bridge) != NGX_OK) {
        return NGX_OK;
    }

    ngx_node_state = NGX_NODE_RUNNING;

    ngx_node_periodic_start(cycle, &ncf->periodics);

    clock_gettime(CLOCK_MONOTONIC, &ready);

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "ngx-node: Node.js started in %M ms",
                  (ngx_msec_t) ((ready.tv_sec - started.tv_sec) * 1000
                                + (ready.tv_nsec - started.tv_nsec) / 1000000));

    return NGX_OK;
}


void
ngx_node_exit_process(ngx_cycle_t *cycle)
{
    ngx_node_conf_t          *ncf;
    const ngx_node_bridge_t  *bridge;

    ncf = ngx_node_cycle_conf(cycle);

    if (ncf != NULL && ngx_node_process_started != 2) {
        /* once per process: the shared dicts' state files are up to date */
        ngx_node_process_started = 2;
        ngx_node_metrics_exit_process();
        ngx_node_dict_exit_process(&ncf->dicts);
    }

    bridge = ngx_node_bridge_ptr;

    if (bridge == NULL) {
        return;
    }

    ngx_node_loop_stop();
    ngx_node_state = NGX_NODE_OFF;
    ngx_node_bridge_ptr = NULL;

    bridge->shutdown();   /* fact 8 */
}


const ngx_node_bridge_t *
ngx_node_bridge(void)
{
    return ngx_node_state == NGX_NODE_RUNNING ? ngx_node_bridge_ptr : NULL;
}


const ngx_node_handler_t *
ngx_node_handler(ngx_uint_t index)
{
    ngx_node_handler_t  *h;

    h = ngx_node_worker_conf->handlers.elts;

    return &h[index];
}


ngx_int_t
ngx_node_handler_async(ngx_uint_t index)
{
    return ngx_node_handler_kinds[index] == NGX_NODE_HANDLER_SYNC
           ? NGX_DECLINED : NGX_OK;
}


void
ngx_node_handler_set_async(ngx_uint_t index, ngx_uint_t async)
{
    ngx_node_handler_kinds[index] = async ? NGX_NODE_HANDLER_ASYNC
                                          : NGX_NODE_HANDLER_SYNC;
}


ngx_connection_t *
ngx_node_event_connection(void)
{
    static ngx_connection_t  c;

    c.fd = (ngx_socket_t) -1;

    return &c;
}


ngx_int_t
ngx_node_call(ngx_log_t *log, unsigned kind, ngx_int_t handler, double handle,
    const ngx_node_value_t *arg, ngx_uint_t flags, ngx_node_value_t *ret)
{
    int                        rc;
    uint64_t                   busy;
    const ngx_node_handler_t  *h;

    if (ngx_node_state != NGX_NODE_RUNNING) {
        return NGX_ERROR;
    }

    busy = ngx_node_metrics_busy_begin();

    rc = ngx_node_bridge_ptr->call(kind, handler < 0 ? 0 : (unsigned) handler,
                                   handle, arg, flags, ret);

    ngx_node_metrics_busy_end(busy);

    ngx_node_loop_schedule();

    switch (rc) {

    case NGX_NODE_OK:
        return NGX_OK;

    case NGX_NODE_CALL_STOPPED:
        if (handler >= 0) {
            h = ngx_node_handler(handler);
            ngx_log_error(NGX_LOG_ERR, log, 0, "%V \"%V\" %s", &h->directive,
                          &h->name, ngx_node_stop_reason());
            ngx_node_metrics_handler_event(handler, NGX_NODE_METRIC_STOPPED);
        }

        return NGX_ABORT;

    default:
        return NGX_ERROR;
    }
}


const char *
ngx_node_stop_reason(void)
{
    return ngx_node_bridge_ptr ? ngx_node_bridge_ptr->stop_reason() : "";
}


void
ngx_node_resume(double token, ngx_uint_t failed, const ngx_node_value_t *value)
{
    uint64_t  busy;

    if (ngx_node_state != NGX_NODE_RUNNING) {
        return;
    }

    busy = ngx_node_metrics_busy_begin();
    ngx_node_bridge_ptr->resume(token, failed, value);
    ngx_node_metrics_busy_end(busy);

    ngx_node_loop_schedule();
}


double
ngx_node_open(void *object, ngx_node_op_pt op)
{
    return ngx_node_bridge_ptr->open(object, op);
}


void
ngx_node_close(double handle)
{
    if (ngx_node_bridge_ptr != NULL && handle > 0) {
        ngx_node_bridge_ptr->close(handle);
    }
}


void
ngx_node_pending_add(ngx_node_pending_t *pending)
{
    ngx_queue_insert_tail(&ngx_node_pending, &pending->queue);
}


ngx_uint_t
ngx_node_pending_count(void)
{
    ngx_uint_t    n;
    ngx_queue_t  *q;

    n = 0;

    for (q = ngx_queue_head(&ngx_node_pending);
         q != ngx_queue_sentinel(&ngx_node_pending);
         q = ngx_queue_next(q))
    {
        n++;
    }

    return n;
}


void
ngx_node_pending_remove(ngx_node_pending_t *pending)
{
    if (ngx_queue_prev(&pending->queue) != NULL
        && ngx_queue_next(&pending->queue) != &pending->queue)
    {
        ngx_queue_remove(&pending->queue);
        ngx_queue_init(&pending->queue);
    }
}
