/*
 * ngx_http_node_module.so's core module: node_option, node_cpu_timeout and Node's life in
 * workers, all in the shared core (ngx_node_core_module.h).
 */

#include "ngx_node_core_module.h"


ngx_module_t  ngx_http_node_core_module = { NGX_NODE_CORE_MODULE };
