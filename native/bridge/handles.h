// Handles: the numbers JavaScript holds for host objects (requests, the worker). A handle
// encodes a slot and a generation, so a handle kept past its object's end is detected
// instead of reaching freed memory. Free slots are reused oldest first, so a slot's
// generation advances once per pass over all slots, and 33 bits of it do not wrap.
#ifndef NGX_NODE_BRIDGE_HANDLES_H
#define NGX_NODE_BRIDGE_HANDLES_H

#include <cstdint>
#include <vector>

#include "ngx_node_abi.h"

namespace ngx_node {

struct HostObject {
  void* object;
  ngx_node_op_pt op;
};

class HandleTable {
 public:
  // Handle 0 is reserved for the worker object.
  void SetWorker(void* object, ngx_node_op_pt op);
  double Open(void* object, ngx_node_op_pt op);
  void Close(double handle);
  // nullptr when the handle is unknown or was closed.
  const HostObject* Find(double handle) const;

 private:
  struct Slot {
    HostObject host{nullptr, nullptr};
    uint64_t generation = 0;
    bool used = false;
  };
  std::vector<Slot> slots_{1};
  // free slots, oldest first: a ring buffer over free_ring_
  std::vector<uint32_t> free_ring_;
  size_t free_head_ = 0;
  size_t free_count_ = 0;
};

}  // namespace ngx_node

#endif
