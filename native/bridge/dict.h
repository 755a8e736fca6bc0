// binding.dict: the functions of ngx.shared's operations (src/runtime/shared-dict.ts). Unlike
// binding.call they take fixed, typed arguments and call the host's entry point for the
// operation directly (ngx_node_dict_host_t of ngx_node_abi.h): these are the calls user code
// makes in tight loops.
#ifndef NGX_NODE_BRIDGE_DICT_H
#define NGX_NODE_BRIDGE_DICT_H

#include <node.h>

#include "ngx_node_abi.h"

namespace ngx_node {

v8::Local<v8::Object> MakeDictBinding(v8::Isolate* isolate, v8::Local<v8::Context> context,
                                      const ngx_node_dict_host_t* host);

}  // namespace ngx_node

#endif
