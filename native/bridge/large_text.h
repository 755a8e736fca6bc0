// Large ASCII text from nginx (a stream filter's chunk) as an external V8 string.
#ifndef NGX_NODE_BRIDGE_LARGE_TEXT_H
#define NGX_NODE_BRIDGE_LARGE_TEXT_H

#include <v8.h>

#include <cstddef>

namespace ngx_node {

// From this length on, V8 would put a sequential string in a large-object page of its own:
// memory fresh from the kernel, page-faulted and cleared for each string, then unmapped.
constexpr size_t kLargeText = 128 * 1024;

// The bytes as a one-byte string if they are all ASCII, else empty. The string is external:
// its characters are in a block of ours, counted as V8's external memory (so that garbage
// collection lets go of such strings in time), which goes back to a small pool for the next
// string once V8 lets the string go.
v8::MaybeLocal<v8::String> NewLargeAsciiText(v8::Isolate* isolate, const char* data, size_t len);

}  // namespace ngx_node

#endif  // NGX_NODE_BRIDGE_LARGE_TEXT_H
