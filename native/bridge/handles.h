// Handles: the numbers JavaScript holds for host objects (requests, the worker). A handle
// encodes a slot and a generation, so a handle kept past its object's end is detected
// instead of reaching freed memory.
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
    uint32_t generation = 0;
    bool used = false;
  };
  static constexpr double kSlotSpan = 16777216.0;  // 2^24 slots; generations above
  std::vector<Slot> slots_{1};
  std::vector<uint32_t> free_;
};

}  // namespace ngx_node

#endif
