#include "handles.h"

#include <cmath>

namespace ngx_node {

void HandleTable::SetWorker(void* object, ngx_node_op_pt op) {
  slots_[0].host = {object, op};
  slots_[0].used = true;
}

double HandleTable::Open(void* object, ngx_node_op_pt op) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    if (index >= kSlotSpan) return -1;
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.generation = slot.generation % 0x1fffffffu + 1;  // never 0: handle 0 is the worker
  slot.host = {object, op};
  slot.used = true;
  return slot.generation * kSlotSpan + index;
}

void HandleTable::Close(double handle) {
  if (handle <= 0 || Find(handle) == nullptr) return;
  uint32_t index = static_cast<uint32_t>(std::fmod(handle, kSlotSpan));
  slots_[index].used = false;
  slots_[index].host = {nullptr, nullptr};
  free_.push_back(index);
}

const HostObject* HandleTable::Find(double handle) const {
  if (!(handle >= 0) || handle != std::floor(handle)) return nullptr;
  double index = std::fmod(handle, kSlotSpan);
  double generation = std::floor(handle / kSlotSpan);
  if (index >= slots_.size()) return nullptr;
  const Slot& slot = slots_[static_cast<size_t>(index)];
  if (!slot.used || slot.generation != generation) return nullptr;
  return &slot.host;
}

}  // namespace ngx_node
