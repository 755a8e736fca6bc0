/*
 * What a protocol module's core module is made of. ngx_http_node_module.so and
 * ngx_stream_node_module.so each declare one (the same directives, the same hooks), because
 * either may be loaded alone; with both loaded, nginx hands each directive to the first and
 * calls both hooks, which do their work once per cycle and once per process.
 */

#ifndef NGX_NODE_CORE_MODULE_H_INCLUDED
#define NGX_NODE_CORE_MODULE_H_INCLUDED

#include <ngx_config.h>
#include <ngx_core.h>


extern ngx_command_t      ngx_node_core_commands[];
extern ngx_core_module_t  ngx_node_core_module_ctx;

void *ngx_node_create_conf(ngx_cycle_t *cycle);
char *ngx_node_init_conf(ngx_cycle_t *cycle, void *conf);
ngx_int_t ngx_node_init_process(ngx_cycle_t *cycle);
void ngx_node_exit_process(ngx_cycle_t *cycle);


#define NGX_NODE_CORE_MODULE                                                  \
    NGX_MODULE_V1,                                                            \
    &ngx_node_core_module_ctx,             /* module context */               \
    ngx_node_core_commands,                /* module directives */            \
    NGX_CORE_MODULE,                       /* module type */                  \
    NULL,                                  /* init master */                  \
    NULL,                                  /* init module */                  \
    ngx_node_init_process,                 /* init process */                 \
    NULL,                                  /* init thread */                  \
    NULL,                                  /* exit thread */                  \
    ngx_node_exit_process,                 /* exit process */                 \
    NULL,                                  /* exit master */                  \
    NGX_MODULE_V1_PADDING


#endif /* NGX_NODE_CORE_MODULE_H_INCLUDED */
