// binding.callQuick: binding.call for the arguments nearly every op gets: at most four, each a
// short ASCII string (names, most values), a number, a boolean, undefined or null. Those go to
// the host as they are, the strings copied onto the stack, without the general marshalling of
// binding.call (values.cc's Arguments, which measures and converts any mix of arguments of any
// length and encoding); any other call is binding.call's, unchanged.
#ifndef NGX_NODE_BRIDGE_QUICK_CALL_H
#define NGX_NODE_BRIDGE_QUICK_CALL_H

#include <node.h>

#include "handles.h"

namespace ngx_node {

// `call` is binding.call's callback: callQuick(handle, op, ...args) takes the same arguments.
v8::Local<v8::Function> MakeQuickCall(v8::Isolate* isolate, v8::Local<v8::Context> context,
                                      const HandleTable* handles, v8::FunctionCallback call);

}  // namespace ngx_node

#endif
