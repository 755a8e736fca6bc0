/*
 * ngx.fetch's settings (ngx_node_fetch.h): the node_fetch_* directives of http and stream
 * blocks, checked as nginx reads them, merged down the blocks with njs's defaults, and
 * numbered for the runtime. What only Node.js can judge (a cipher list, the certificates in a
 * file) is judged by the checker (src/runtime/fetch/check.ts) when nginx loads the
 * configuration.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_node_core.h"
#include "ngx_node_fetch.h"


/* njs's defaults */
#define NGX_NODE_FETCH_DEFAULT_TIMEOUT             60000
#define NGX_NODE_FETCH_DEFAULT_BUFFER_SIZE         16384
#define NGX_NODE_FETCH_DEFAULT_MAX_RESPONSE        1048576
#define NGX_NODE_FETCH_DEFAULT_VERIFY_DEPTH        100
#define NGX_NODE_FETCH_DEFAULT_KEEPALIVE_REQUESTS  1000
#define NGX_NODE_FETCH_DEFAULT_KEEPALIVE_TIME      3600000
#define NGX_NODE_FETCH_DEFAULT_KEEPALIVE_TIMEOUT   60000
#define NGX_NODE_FETCH_DEFAULT_PROXY_PORT          3128
/* nginx's resolver_timeout */
#define NGX_NODE_FETCH_DEFAULT_RESOLVER_TIMEOUT    30000

#define NGX_NODE_FETCH_TLSv1      0x0002
#define NGX_NODE_FETCH_TLSv1_1    0x0004
#define NGX_NODE_FETCH_TLSv1_2    0x0008
#define NGX_NODE_FETCH_TLSv1_3    0x0010

#define NGX_NODE_FETCH_DEFAULT_PROTOCOLS                                      \
    (NGX_CONF_BITMASK_SET|NGX_NODE_FETCH_TLSv1|NGX_NODE_FETCH_TLSv1_1         \
     |NGX_NODE_FETCH_TLSv1_2)


static char *ngx_node_fetch_conf_amount(ngx_conf_t *cf, ngx_str_t *value,
    ngx_msec_t *time, size_t *size, ngx_uint_t zero);
static char *ngx_node_fetch_conf_number(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t *number, const char *what);
static char *ngx_node_fetch_conf_text(ngx_conf_t *cf, ngx_str_t *value,
    ngx_node_fetch_text_t *text);
static char *ngx_node_fetch_conf_trusted(ngx_conf_t *cf,
    ngx_node_fetch_conf_t *fc, ngx_str_t *value);
static char *ngx_node_fetch_conf_protocols(ngx_conf_t *cf,
    ngx_node_fetch_conf_t *fc);
static char *ngx_node_fetch_conf_proxy(ngx_conf_t *cf,
    ngx_node_fetch_conf_t *fc, ngx_str_t *value);


static ngx_conf_bitmask_t  ngx_node_fetch_protocol_names[] = {
    { ngx_string("TLSv1"), NGX_NODE_FETCH_TLSv1 },
    { ngx_string("TLSv1.1"), NGX_NODE_FETCH_TLSv1_1 },
    { ngx_string("TLSv1.2"), NGX_NODE_FETCH_TLSv1_2 },
    { ngx_string("TLSv1.3"), NGX_NODE_FETCH_TLSv1_3 },
    { ngx_null_string, 0 }
};


char *
ngx_node_fetch_conf_set(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t              *value;
    ngx_node_fetch_conf_t  *fc;

    fc = (ngx_node_fetch_conf_t *) ((u_char *) conf + cmd->offset);
    value = cf->args->elts;

    switch ((ngx_node_fetch_setting_e) (uintptr_t) cmd->post) {

    case NGX_NODE_FETCH_NONE:
        break;

    case NGX_NODE_FETCH_TIMEOUT:
        return ngx_node_fetch_conf_amount(cf, &value[1], &fc->timeout, NULL, 0);

    case NGX_NODE_FETCH_BUFFER_SIZE:
        return ngx_node_fetch_conf_amount(cf, &value[1], NULL, &fc->buffer_size,
                                          0);

    case NGX_NODE_FETCH_MAX_RESPONSE_BUFFER_SIZE:
        return ngx_node_fetch_conf_amount(cf, &value[1], NULL,
                                          &fc->max_response_buffer_size, 1);

    case NGX_NODE_FETCH_VERIFY:
        if (fc->verify != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        if (ngx_strcmp(value[1].data, "on") == 0) {
            fc->verify = 1;
            return NGX_CONF_OK;
        }

        if (ngx_strcmp(value[1].data, "off") == 0) {
            fc->verify = 0;
            return NGX_CONF_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": \"on\" or \"off\"", &value[1]);
        return NGX_CONF_ERROR;

    case NGX_NODE_FETCH_VERIFY_DEPTH:
        return ngx_node_fetch_conf_number(cf, &value[1], &fc->verify_depth,
                                          "how many intermediate CA "
                                          "certificates may stand between "
                                          "a server's certificate and a "
                                          "trusted one, 0 or more");

    case NGX_NODE_FETCH_TRUSTED_CERTIFICATE:
        return ngx_node_fetch_conf_trusted(cf, fc, &value[1]);

    case NGX_NODE_FETCH_CIPHERS:
        return ngx_node_fetch_conf_text(cf, &value[1], &fc->ciphers);

    case NGX_NODE_FETCH_PROTOCOLS:
        return ngx_node_fetch_conf_protocols(cf, fc);

    case NGX_NODE_FETCH_KEEPALIVE:
        return ngx_node_fetch_conf_number(cf, &value[1], &fc->keepalive,
                                          "how many idle connections to "
                                          "keep, 0 (the default) for none");

    case NGX_NODE_FETCH_KEEPALIVE_REQUESTS:
        return ngx_node_fetch_conf_number(cf, &value[1],
                                          &fc->keepalive_requests,
                                          "how many requests one connection "
                                          "may carry");

    case NGX_NODE_FETCH_KEEPALIVE_TIME:
        return ngx_node_fetch_conf_amount(cf, &value[1], &fc->keepalive_time,
                                          NULL, 1);

    case NGX_NODE_FETCH_KEEPALIVE_TIMEOUT:
        return ngx_node_fetch_conf_amount(cf, &value[1],
                                          &fc->keepalive_timeout, NULL, 1);

    case NGX_NODE_FETCH_PROXY:
        return ngx_node_fetch_conf_proxy(cf, fc, &value[1]);
    }

    return "is unknown";
}


/* a time ("60s") into *time, or a size ("16k") into *size; 0 only where zero allows */
static char *
ngx_node_fetch_conf_amount(ngx_conf_t *cf, ngx_str_t *value, ngx_msec_t *time,
    size_t *size, ngx_uint_t zero)
{
    ngx_int_t  n;

    if (time ? *time != NGX_CONF_UNSET_MSEC : *size != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    n = time ? (ngx_int_t) ngx_parse_time(value, 0) : ngx_parse_size(value);

    if (n == NGX_ERROR || (n == 0 && !zero)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\": %s%s",
                           value,
                           time ? "a time such as \"60s\" or \"500ms\""
                                : "a size such as \"16k\" or \"1m\"",
                           zero ? "" : ", more than 0");
        return NGX_CONF_ERROR;
    }

    if (time) {
        *time = n;

    } else {
        *size = n;
    }

    return NGX_CONF_OK;
}


static char *
ngx_node_fetch_conf_number(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t *number, const char *what)
{
    ngx_int_t  n;

    if (*number != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    n = ngx_atoi(value->data, value->len);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": a number: %s", value, what);
        return NGX_CONF_ERROR;
    }

    *number = n;

    return NGX_CONF_OK;
}


static char *
ngx_node_fetch_conf_text(ngx_conf_t *cf, ngx_str_t *value,
    ngx_node_fetch_text_t *text)
{
    if (text->value.data != NULL) {
        return "is duplicate";
    }

    text->value = *value;
    text->file = cf->conf_file->file.name;
    text->line = cf->conf_file->line;

    return NGX_CONF_OK;
}


/* the file is read now, by the master, as nginx reads its own certificates */
static char *
ngx_node_fetch_conf_trusted(ngx_conf_t *cf, ngx_node_fetch_conf_t *fc,
    ngx_str_t *value)
{
    char        *rv;
    const char  *failed;

    rv = ngx_node_fetch_conf_text(cf, value, &fc->trusted_certificate);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_conf_full_name(cf->cycle, &fc->trusted_certificate.value, 1)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_node_read_file(&fc->trusted_certificate.value, cf->pool,
                           &fc->trusted_pem, &failed)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read \"%V\", the trusted CA certificates "
                           "(PEM) for ngx.fetch: %s failed",
                           &fc->trusted_certificate.value, failed);
        return NGX_CONF_ERROR;
    }

    if (fc->trusted_pem.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is empty: name a file of trusted CA "
                           "certificates (PEM)",
                           &fc->trusted_certificate.value);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_node_fetch_conf_protocols(ngx_conf_t *cf, ngx_node_fetch_conf_t *fc)
{
    ngx_str_t           *value;
    ngx_uint_t           i;
    ngx_conf_bitmask_t  *name;

    if (fc->protocols) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        for (name = ngx_node_fetch_protocol_names; name->name.len; name++) {
            if (name->name.len == value[i].len
                && ngx_strcasecmp(name->name.data, value[i].data) == 0)
            {
                break;
            }
        }

        if (name->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid protocol \"%V\": name TLSv1, TLSv1.1, "
                               "TLSv1.2 or TLSv1.3", &value[i]);
            return NGX_CONF_ERROR;
        }

        fc->protocols |= name->mask;
    }

    fc->protocols |= NGX_CONF_BITMASK_SET;

    return NGX_CONF_OK;
}


/* "http://[user:password@]host[:port]", as njs's js_fetch_proxy takes it; kept with the
 * port (njs's default: 3128) for the runtime */
static char *
ngx_node_fetch_conf_proxy(ngx_conf_t *cf, ngx_node_fetch_conf_t *fc,
    ngx_str_t *value)
{
    u_char     *p, *at, *colon, *start, *end;
    ngx_url_t   u;

    static const char  form[] = "\"http://[user:password@]host[:port]\"";

    if (fc->proxy.data != NULL) {
        return "is duplicate";
    }

    if (ngx_strlchr(value->data, value->data + value->len, '$') != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid proxy \"%V\": variables are not supported "
                           "here; name the proxy as %s", value, form);
        return NGX_CONF_ERROR;
    }

    if (value->len <= sizeof("http://") - 1
        || ngx_strncasecmp(value->data, (u_char *) "http://",
                           sizeof("http://") - 1) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid proxy \"%V\": an HTTP proxy's URL, %s",
                           value, form);
        return NGX_CONF_ERROR;
    }

    start = value->data + sizeof("http://") - 1;
    end = value->data + value->len;

    if (end[-1] == '/') {
        end--;
    }

    at = ngx_strlchr(start, end, '@');

    if (at != NULL) {
        colon = ngx_strlchr(start, at, ':');

        if (colon == NULL || colon == start || colon + 1 == at) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid proxy \"%V\": the credentials must "
                               "be \"user:password\", neither empty; the form "
                               "is %s", value, form);
            return NGX_CONF_ERROR;
        }

        start = at + 1;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = start;
    u.url.len = end - start;
    u.default_port = NGX_NODE_FETCH_DEFAULT_PROXY_PORT;
    u.no_resolve = 1;

    if (u.url.len == 0 || ngx_parse_url(cf->pool, &u) != NGX_OK
        || u.host.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid proxy \"%V\": %s; the form is %s", value,
                           u.err ? u.err : "no host", form);
        return NGX_CONF_ERROR;
    }

    /* http://[user:password@]host:port */

    fc->proxy.len = (start - value->data) + u.host.len + sizeof(":65535") - 1;
    fc->proxy.data = ngx_pnalloc(cf->pool, fc->proxy.len);
    if (fc->proxy.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(fc->proxy.data, value->data, start - value->data);
    p = ngx_cpymem(p, u.host.data, u.host.len);
    p = ngx_sprintf(p, ":%d", (int) u.port);
    fc->proxy.len = p - fc->proxy.data;

    return NGX_CONF_OK;
}


void
ngx_node_fetch_conf_init(ngx_node_fetch_conf_t *fc)
{
    ngx_memzero(fc, sizeof(ngx_node_fetch_conf_t));

    /*
     * set by ngx_memzero():
     *
     *     fc->trusted_certificate = { { 0, NULL }, ... };
     *     fc->ciphers = { { 0, NULL }, ... };
     *     fc->protocols = 0;
     *     fc->proxy = { 0, NULL };
     *     fc->resolver = NULL;
     */

    fc->timeout = NGX_CONF_UNSET_MSEC;
    fc->buffer_size = NGX_CONF_UNSET_SIZE;
    fc->max_response_buffer_size = NGX_CONF_UNSET_SIZE;
    fc->verify = NGX_CONF_UNSET;
    fc->verify_depth = NGX_CONF_UNSET_UINT;
    fc->keepalive = NGX_CONF_UNSET_UINT;
    fc->keepalive_requests = NGX_CONF_UNSET_UINT;
    fc->keepalive_time = NGX_CONF_UNSET_MSEC;
    fc->keepalive_timeout = NGX_CONF_UNSET_MSEC;
    fc->resolver_timeout = NGX_CONF_UNSET_MSEC;
}


static void
ngx_node_fetch_merge_values(ngx_node_fetch_conf_t *conf,
    ngx_node_fetch_conf_t *prev)
{
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout,
                              NGX_NODE_FETCH_DEFAULT_TIMEOUT);
    ngx_conf_merge_size_value(conf->buffer_size, prev->buffer_size,
                              NGX_NODE_FETCH_DEFAULT_BUFFER_SIZE);
    ngx_conf_merge_size_value(conf->max_response_buffer_size,
                              prev->max_response_buffer_size,
                              NGX_NODE_FETCH_DEFAULT_MAX_RESPONSE);
    ngx_conf_merge_value(conf->verify, prev->verify, 1);
    ngx_conf_merge_uint_value(conf->verify_depth, prev->verify_depth,
                              NGX_NODE_FETCH_DEFAULT_VERIFY_DEPTH);

    if (conf->trusted_certificate.value.data == NULL) {
        conf->trusted_certificate = prev->trusted_certificate;
        conf->trusted_pem = prev->trusted_pem;
    }

    if (conf->ciphers.value.data == NULL) {
        conf->ciphers = prev->ciphers;

        if (conf->ciphers.value.data == NULL) {
            ngx_str_set(&conf->ciphers.value, "DEFAULT");
        }
    }

    ngx_conf_merge_bitmask_value(conf->protocols, prev->protocols,
                                 NGX_NODE_FETCH_DEFAULT_PROTOCOLS);
    ngx_conf_merge_uint_value(conf->keepalive, prev->keepalive, 0);
    ngx_conf_merge_uint_value(conf->keepalive_requests,
                              prev->keepalive_requests,
                              NGX_NODE_FETCH_DEFAULT_KEEPALIVE_REQUESTS);
    ngx_conf_merge_msec_value(conf->keepalive_time, prev->keepalive_time,
                              NGX_NODE_FETCH_DEFAULT_KEEPALIVE_TIME);
    ngx_conf_merge_msec_value(conf->keepalive_timeout, prev->keepalive_timeout,
                              NGX_NODE_FETCH_DEFAULT_KEEPALIVE_TIMEOUT);
    ngx_conf_merge_str_value(conf->proxy, prev->proxy, "");
}


static ngx_uint_t
ngx_node_fetch_str_equal(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len && ngx_memcmp(a->data, b->data, a->len) == 0;
}


static ngx_uint_t
ngx_node_fetch_text_equal(ngx_node_fetch_text_t *a, ngx_node_fetch_text_t *b)
{
    return ngx_node_fetch_str_equal(&a->value, &b->value)
           && ngx_node_fetch_str_equal(&a->file, &b->file)
           && a->line == b->line;
}


static ngx_uint_t
ngx_node_fetch_equal(ngx_node_fetch_conf_t *a, ngx_node_fetch_conf_t *b)
{
    return a->timeout == b->timeout
           && a->buffer_size == b->buffer_size
           && a->max_response_buffer_size == b->max_response_buffer_size
           && a->verify == b->verify
           && a->verify_depth == b->verify_depth
           && ngx_node_fetch_text_equal(&a->trusted_certificate,
                                        &b->trusted_certificate)
           && ngx_node_fetch_text_equal(&a->ciphers, &b->ciphers)
           && a->protocols == b->protocols
           && a->keepalive == b->keepalive
           && a->keepalive_requests == b->keepalive_requests
           && a->keepalive_time == b->keepalive_time
           && a->keepalive_timeout == b->keepalive_timeout
           && ngx_node_fetch_str_equal(&a->proxy, &b->proxy)
           && a->resolver == b->resolver
           && (a->resolver == NULL || a->resolver_timeout == b->resolver_timeout);
}


char *
ngx_node_fetch_conf_merge(ngx_conf_t *cf, ngx_node_fetch_conf_t *conf,
    ngx_node_fetch_conf_t *prev, ngx_resolver_t *resolver,
    ngx_msec_t resolver_timeout)
{
    ngx_uint_t               i;
    ngx_array_t             *list;
    ngx_node_fetch_conf_t  **known;

    ngx_node_fetch_merge_values(conf, prev);

    /* nginx gives blocks without "resolver" one that has no servers */
    if (resolver != NULL && resolver->connections.nelts > 0) {
        conf->resolver = resolver;
        conf->resolver_timeout = resolver_timeout;
        ngx_conf_init_msec_value(conf->resolver_timeout,
                                 NGX_NODE_FETCH_DEFAULT_RESOLVER_TIMEOUT);
    }

    list = &ngx_node_conf(cf)->fetches;
    known = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (ngx_node_fetch_equal(known[i], conf)) {
            conf->index = i;
            return NGX_CONF_OK;
        }
    }

    known = ngx_array_push(list);
    if (known == NULL) {
        return NGX_CONF_ERROR;
    }

    *known = conf;
    conf->index = list->nelts - 1;

    return NGX_CONF_OK;
}


char *
ngx_node_fetch_conf_outside(ngx_conf_t *cf, ngx_node_fetch_conf_t *conf,
    ngx_resolver_t *resolver, ngx_msec_t resolver_timeout, ngx_uint_t http)
{
    ngx_node_conf_t        *ncf;
    ngx_node_fetch_conf_t   unset;

    ngx_node_fetch_conf_init(&unset);

    if (ngx_node_fetch_conf_merge(cf, conf, &unset, resolver, resolver_timeout)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ncf = ngx_node_conf(cf);

    if (http || ncf->fetch_outside == NGX_CONF_UNSET_UINT) {
        ncf->fetch_outside = conf->index;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_node_fetch_list_init(ngx_pool_t *pool, ngx_array_t *list)
{
    return ngx_array_init(list, pool, 4, sizeof(ngx_node_fetch_conf_t *));
}


ngx_int_t
ngx_node_fetch_list_done(ngx_pool_t *pool, ngx_array_t *list)
{
    ngx_node_fetch_conf_t   unset, **defaults;

    if (list->nelts) {
        return NGX_OK;
    }

    defaults = ngx_array_push(list);
    if (defaults == NULL) {
        return NGX_ERROR;
    }

    *defaults = ngx_palloc(pool, sizeof(ngx_node_fetch_conf_t));
    if (*defaults == NULL) {
        return NGX_ERROR;
    }

    ngx_node_fetch_conf_init(*defaults);
    ngx_node_fetch_conf_init(&unset);
    ngx_node_fetch_merge_values(*defaults, &unset);

    return NGX_OK;
}


static void
ngx_node_fetch_json_place(ngx_node_json_t *j, ngx_node_fetch_text_t *text)
{
    ngx_node_json_key(j, "file", 0);
    ngx_node_json_str(j, &text->file);
    ngx_node_json_key(j, "line", 0);
    ngx_node_json_num(j, text->line);
}


static void
ngx_node_fetch_json_resolver(ngx_node_json_t *j, ngx_node_fetch_conf_t *fc)
{
    u_char                      text[NGX_SOCKADDR_STRLEN];
    ngx_str_t                   server;
    ngx_uint_t                  i;
    ngx_resolver_connection_t  *rec;

    ngx_node_json_raw(j, "{", 1);
    ngx_node_json_key(j, "servers", 1);
    ngx_node_json_raw(j, "[", 1);

    rec = fc->resolver->connections.elts;

    for (i = 0; i < fc->resolver->connections.nelts; i++) {
        if (i) {
            ngx_node_json_raw(j, ",", 1);
        }

        server.data = text;
        server.len = ngx_sock_ntop(rec[i].sockaddr, rec[i].socklen, text,
                                   NGX_SOCKADDR_STRLEN, 1);
        ngx_node_json_str(j, &server);
    }

    ngx_node_json_raw(j, "]", 1);
    ngx_node_json_key(j, "timeout", 0);
    ngx_node_json_num(j, fc->resolver_timeout);
    ngx_node_json_key(j, "ipv6", 0);
#if (NGX_HAVE_INET6)
    ngx_node_json_bool(j, fc->resolver->ipv6);
#else
    ngx_node_json_bool(j, 0);
#endif
    ngx_node_json_raw(j, "}", 1);
}


static void
ngx_node_fetch_json_one(ngx_node_json_t *j, ngx_node_fetch_conf_t *fc)
{
    ngx_uint_t           first;
    ngx_conf_bitmask_t  *name;

    ngx_node_json_raw(j, "{", 1);
    ngx_node_json_key(j, "timeout", 1);
    ngx_node_json_num(j, fc->timeout);
    ngx_node_json_key(j, "bufferSize", 0);
    ngx_node_json_num(j, fc->buffer_size);
    ngx_node_json_key(j, "maxResponseBufferSize", 0);
    ngx_node_json_num(j, fc->max_response_buffer_size);
    ngx_node_json_key(j, "verify", 0);
    ngx_node_json_bool(j, fc->verify);
    ngx_node_json_key(j, "verifyDepth", 0);
    ngx_node_json_num(j, fc->verify_depth);

    if (fc->trusted_certificate.value.data != NULL) {
        ngx_node_json_key(j, "trustedCertificate", 0);
        ngx_node_json_raw(j, "{", 1);
        ngx_node_json_key(j, "path", 1);
        ngx_node_json_str(j, &fc->trusted_certificate.value);
        ngx_node_json_key(j, "pem", 0);
        ngx_node_json_str(j, &fc->trusted_pem);
        ngx_node_fetch_json_place(j, &fc->trusted_certificate);
        ngx_node_json_raw(j, "}", 1);
    }

    ngx_node_json_key(j, "ciphers", 0);
    ngx_node_json_raw(j, "{", 1);
    ngx_node_json_key(j, "value", 1);
    ngx_node_json_str(j, &fc->ciphers.value);

    if (fc->ciphers.file.data != NULL) {
        ngx_node_fetch_json_place(j, &fc->ciphers);
    }

    ngx_node_json_raw(j, "}", 1);

    ngx_node_json_key(j, "protocols", 0);
    ngx_node_json_raw(j, "[", 1);
    first = 1;

    for (name = ngx_node_fetch_protocol_names; name->name.len; name++) {
        if (fc->protocols & name->mask) {
            if (!first) {
                ngx_node_json_raw(j, ",", 1);
            }

            ngx_node_json_str(j, &name->name);
            first = 0;
        }
    }

    ngx_node_json_raw(j, "]", 1);

    ngx_node_json_key(j, "keepalive", 0);
    ngx_node_json_num(j, fc->keepalive);
    ngx_node_json_key(j, "keepaliveRequests", 0);
    ngx_node_json_num(j, fc->keepalive_requests);
    ngx_node_json_key(j, "keepaliveTime", 0);
    ngx_node_json_num(j, fc->keepalive_time);
    ngx_node_json_key(j, "keepaliveTimeout", 0);
    ngx_node_json_num(j, fc->keepalive_timeout);

    if (fc->proxy.len) {
        ngx_node_json_key(j, "proxy", 0);
        ngx_node_json_str(j, &fc->proxy);
    }

    if (fc->resolver != NULL) {
        ngx_node_json_key(j, "resolver", 0);
        ngx_node_fetch_json_resolver(j, fc);
    }

    ngx_node_json_raw(j, "}", 1);
}


void
ngx_node_fetch_json(ngx_node_json_t *j, ngx_array_t *list)
{
    ngx_uint_t               i;
    ngx_node_fetch_conf_t  **fc;

    ngx_node_json_raw(j, "[", 1);
    fc = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (i) {
            ngx_node_json_raw(j, ",", 1);
        }

        ngx_node_fetch_json_one(j, fc[i]);
    }

    ngx_node_json_raw(j, "]", 1);
}
