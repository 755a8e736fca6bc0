#include "buffer_pool.h"

#include <node_buffer.h>

#include <cstring>
#include <memory>

namespace ngx_node {

namespace {

using v8::ArrayBuffer;
using v8::Isolate;
using v8::Local;
using v8::MaybeLocal;

// Node's Buffer.poolSize: a short Buffer a script keeps holds on to no more memory than one
// from Buffer.from() would.
constexpr size_t kPoolSize = 8 * 1024;

// The pool is filled front to back; a full one is left to the Buffers that view it (the
// collector frees it with the last of them) and a new one is made.
struct Pool {
  v8::Global<v8::Function> maker;
  v8::Global<ArrayBuffer> buffer;
  // kept as well as the ArrayBuffer: its memory stays ours even if the ArrayBuffer is detached
  // after all (it is marked untransferable), and a detached one is not filled any more
  std::shared_ptr<v8::BackingStore> memory;
  size_t used = kPoolSize;
};

Pool pool;

// A new pool from the runtime's maker; false if there is none or it failed.
bool Refill(Isolate* isolate, Local<ArrayBuffer>* buffer) {
  if (pool.maker.IsEmpty()) return false;
  v8::TryCatch tc(isolate);
  Local<v8::Context> context = isolate->GetCurrentContext();
  Local<v8::Value> size = v8::Integer::NewFromUnsigned(isolate, kPoolSize);
  Local<v8::Value> made;
  if (!pool.maker.Get(isolate)->Call(context, v8::Undefined(isolate), 1, &size).ToLocal(&made) ||
      !made->IsArrayBuffer() || made.As<ArrayBuffer>()->ByteLength() != kPoolSize) {
    return false;
  }
  *buffer = made.As<ArrayBuffer>();
  pool.buffer.Reset(isolate, *buffer);
  pool.memory = (*buffer)->GetBackingStore();
  pool.used = 0;
  return true;
}

}  // namespace

void SetBufferPoolMaker(Isolate* isolate, Local<v8::Function> maker) {
  pool.maker.Reset(isolate, maker);
}

MaybeLocal<v8::Object> NewBuffer(Isolate* isolate, const char* data, size_t len) {
  if (len >= kPooledBytes) return node::Buffer::Copy(isolate, data, len);
  Local<ArrayBuffer> buffer;
  if (pool.used + len > kPoolSize || pool.buffer.IsEmpty() ||
      (buffer = pool.buffer.Get(isolate))->WasDetached()) {
    if (!Refill(isolate, &buffer)) return node::Buffer::Copy(isolate, data, len);
  }
  size_t offset = pool.used;
  if (len > 0) memcpy(static_cast<char*>(pool.memory->Data()) + offset, data, len);
  pool.used += (len + 7) & ~size_t{7};  // 8-byte aligned, as Node's pool keeps them
  MaybeLocal<v8::Uint8Array> view = node::Buffer::New(isolate, buffer, offset, len);
  Local<v8::Uint8Array> made;
  if (!view.ToLocal(&made)) return MaybeLocal<v8::Object>();
  return made;
}

void ReleaseBufferPool() {
  pool.maker.Reset();
  pool.buffer.Reset();
  pool.memory.reset();
  pool.used = kPoolSize;
}

}  // namespace ngx_node
