#include "handles.h"

namespace ngx_node {

namespace {

// A handle is a double holding the integer generation << 20 | slot (below 2^53, exact).
constexpr uint64_t kSlotBits = 20;
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
constexpr uint64_t kGenerationLimit = uint64_t{1} << (53 - kSlotBits);

}  // namespace

void HandleTable::SetWorker(void* object, ngx_node_op_pt op) {
  slots_[0].host = {object, op};
  slots_[0].used = true;
}

double HandleTable::Open(void* object, ngx_node_op_pt op) {
  uint32_t index;
  if (free_count_ > 0) {
    index = free_ring_[free_head_];
    free_head_ = (free_head_ + 1) % free_ring_.size();
    free_count_--;
  } else {
    index = static_cast<uint32_t>(slots_.size());
    if (index > kSlotMask) return -1;
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.generation = slot.generation % (kGenerationLimit - 1) + 1;  // never 0: handle 0 is the worker
  slot.host = {object, op};
  slot.used = true;
  return static_cast<double>((slot.generation << kSlotBits) | index);
}

void HandleTable::Close(double handle) {
  if (handle <= 0 || Find(handle) == nullptr) return;
  uint32_t index = static_cast<uint32_t>(static_cast<uint64_t>(handle) & kSlotMask);
  slots_[index].used = false;
  slots_[index].host = {nullptr, nullptr};
  if (free_count_ == free_ring_.size()) {
    // full: unroll into a larger ring, oldest first
    std::vector<uint32_t> larger(free_ring_.size() * 2 + 16);
    for (size_t i = 0; i < free_count_; i++) larger[i] = free_ring_[(free_head_ + i) % free_ring_.size()];
    free_ring_.swap(larger);
    free_head_ = 0;
  }
  free_ring_[(free_head_ + free_count_) % free_ring_.size()] = index;
  free_count_++;
}

const HostObject* HandleTable::Find(double handle) const {
  // also refuses NaN, negatives, fractions and values past 2^53
  if (!(handle >= 0 && handle < 9007199254740992.0)) return nullptr;
  uint64_t bits = static_cast<uint64_t>(handle);
  if (static_cast<double>(bits) != handle) return nullptr;
  uint64_t index = bits & kSlotMask;
  if (index >= slots_.size()) return nullptr;
  const Slot& slot = slots_[index];
  if (!slot.used || slot.generation != (bits >> kSlotBits)) return nullptr;
  return &slot.host;
}

}  // namespace ngx_node
