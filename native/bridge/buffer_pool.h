// Short bytes from nginx (a body filter's chunk, a request body, a Lua call's payload) as Node
// Buffers made the way Node's own Buffer.from() makes short ones: views of a shared pool.
#ifndef NGX_NODE_BRIDGE_BUFFER_POOL_H
#define NGX_NODE_BRIDGE_BUFFER_POOL_H

#include <node.h>

#include <cstddef>

namespace ngx_node {

// Below this length a Buffer is a view of the pool (Buffer.from()'s own bound: half the pool);
// from it on, a Buffer of its own.
constexpr size_t kPooledBytes = 4096;

// The runtime's function that makes a pool: newBufferPool(size), an ArrayBuffer marked
// untransferable (src/runtime/buffer-pool.ts). Without one, every Buffer is a Buffer of its own.
void SetBufferPoolMaker(v8::Isolate* isolate, v8::Local<v8::Function> maker);

// A Buffer holding a copy of the bytes. node::Buffer::Copy makes a backing store and an
// ArrayBuffer for each Buffer, which costs several times what the copy does for short ones.
v8::MaybeLocal<v8::Object> NewBuffer(v8::Isolate* isolate, const char* data, size_t len);

// Before the isolate goes: the handles of the pool and its maker let go.
void ReleaseBufferPool();

}  // namespace ngx_node

#endif  // NGX_NODE_BRIDGE_BUFFER_POOL_H
