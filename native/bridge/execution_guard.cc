#include "execution_guard.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace ngx_node {

namespace {

using v8::HandleScope;
using v8::Isolate;
using v8::Local;
using v8::StackFrame;
using v8::StackTrace;

constexpr int kFramesReported = 3;
// how often the heap limit may be raised before V8 is left to abort
constexpr unsigned kHeapRaises = 3;
constexpr size_t kMB = 1024 * 1024;

std::string Utf8(Isolate* isolate, Local<v8::String> text) {
  if (text.IsEmpty() || text->Length() == 0) return "";
  return *v8::String::Utf8Value(isolate, text);
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// "f (/path/file.mjs:3:7), called from g (/path/file.mjs:9:1)": the user's frames, not those
// of Node's internals or of the runtime (unless there are no others)
std::string CurrentPlace(Isolate* isolate, const std::string& hidden_dir) {
  constexpr int kFramesSearched = 32;
  HandleScope scope(isolate);
  Local<StackTrace> trace = StackTrace::CurrentStackTrace(isolate, kFramesSearched);
  std::string place, fallback;
  int reported = 0;
  for (int i = 0; i < trace->GetFrameCount() && reported < kFramesReported; i++) {
    Local<StackFrame> frame = trace->GetFrame(isolate, i);
    std::string name = Utf8(isolate, frame->GetFunctionName());
    std::string script = Utf8(isolate, frame->GetScriptName());
    if (StartsWith(script, "file://")) script.erase(0, 7);
    std::string text = (name.empty() ? "<anonymous>" : name) + " (" +
                       (script.empty() ? "<unknown>" : script) + ":" +
                       std::to_string(frame->GetLineNumber()) + ":" +
                       std::to_string(frame->GetColumn()) + ")";
    if (fallback.empty()) fallback = text;
    if (script.empty() || StartsWith(script, "node:") || StartsWith(script, hidden_dir)) continue;
    place += (reported++ ? ", called from " : "") + text;
  }
  if (!place.empty()) return place;
  return fallback.empty() ? "native code" : fallback;
}

std::string Megabytes(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MB", static_cast<double>(bytes) / kMB);
  return text;
}

}  // namespace

void ExecutionGuard::Start(Isolate* isolate, uint64_t cpu_timeout_ms,
                           const std::string& hidden_dir) {
  isolate_ = isolate;
  cpu_timeout_ms_ = cpu_timeout_ms;
  hidden_dir_ = hidden_dir + "/";
  isolate->AddNearHeapLimitCallback(NearHeapLimit, this);
  if (cpu_timeout_ms_ > 0) watchdog_ = std::thread([this] { Watch(); });
}

void ExecutionGuard::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  if (isolate_ != nullptr) isolate_->RemoveNearHeapLimitCallback(NearHeapLimit, 0);
  isolate_ = nullptr;
}

// The watchdog thread: samples which call runs; one that runs past the limit is stopped.
// A call is timed from when the watchdog first sees it, so it is stopped between the limit
// and the limit plus one tick.
void ExecutionGuard::Watch() {
  using Clock = std::chrono::steady_clock;
  const std::chrono::milliseconds limit(cpu_timeout_ms_);
  const auto tick = std::clamp<std::chrono::milliseconds>(
      limit / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
  uint64_t watched = 0;
  Clock::time_point since;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, tick, [this] { return stopping_; })) {
    if (!running_.load(std::memory_order_relaxed)) {
      watched = 0;
      continue;
    }
    uint64_t current = sequence_.load(std::memory_order_relaxed);
    Clock::time_point now = Clock::now();
    if (current != watched) {
      watched = current;
      since = now;
      continue;
    }
    if (now - since >= limit && stop_sequence_.load() != current) {
      stop_sequence_.store(current);
      RequestStop(Cause::kCpu);
    }
  }
}

void ExecutionGuard::RequestStop(Cause why) {
  requested_.store(why);
  isolate_->RequestInterrupt(Interrupt, this);
}

// On the worker's thread, at V8's next interrupt check of the running code.
void ExecutionGuard::Interrupt(Isolate* isolate, void* data) {
  ExecutionGuard* guard = static_cast<ExecutionGuard*>(data);
  Cause why = guard->requested_.exchange(Cause::kNone);
  if (why == Cause::kNone || !guard->running_.load(std::memory_order_relaxed) ||
      guard->sequence_.load(std::memory_order_relaxed) != guard->stop_sequence_.load()) {
    return;  // the call it was meant for has returned
  }
  guard->stopped_at_ = CurrentPlace(isolate, guard->hidden_dir_);
  guard->stop_depth_ = guard->depth_;
  guard->stop_.store(why, std::memory_order_release);
  isolate->TerminateExecution();
}

// On the worker's thread, in a garbage collection that could not free enough: V8 would abort
// the process on return. The limit goes up so that the worker can finish its other requests.
size_t ExecutionGuard::NearHeapLimit(void* data, size_t current_limit, size_t initial_limit) {
  ExecutionGuard* guard = static_cast<ExecutionGuard*>(data);
  if (guard->heap_raises_ >= kHeapRaises) return current_limit;
  guard->heap_raises_++;
  guard->heap_exhausted_ = true;
  v8::HeapStatistics stats;
  guard->isolate_->GetHeapStatistics(&stats);
  guard->heap_used_ = stats.used_heap_size();
  guard->heap_initial_limit_ = initial_limit;
  if (guard->running_.load(std::memory_order_relaxed)) {
    guard->stop_sequence_.store(guard->sequence_.load(std::memory_order_relaxed));
    guard->RequestStop(Cause::kHeap);
  }
  return current_limit + std::max(current_limit / 2, 32 * kMB);
}

bool ExecutionGuard::Exit() {
  unsigned depth = depth_--;
  if (depth_ == 0) running_.store(false, std::memory_order_relaxed);
  if (depth != stop_depth_ || stop_.load(std::memory_order_acquire) == Cause::kNone) return false;
  Cause why = stop_.exchange(Cause::kNone);
  stop_depth_ = 0;
  isolate_->CancelTerminateExecution();
  if (why == Cause::kCpu) {
    stop_reason_ = "ran longer than node_cpu_timeout (" + std::to_string(cpu_timeout_ms_) +
                   " ms) and was stopped at " + stopped_at_;
  } else {
    stop_reason_ = "reached the JavaScript heap limit (" + Megabytes(heap_used_) + " used, limit " +
                   Megabytes(heap_initial_limit_) + ") and was stopped at " + stopped_at_;
  }
  return true;
}

}  // namespace ngx_node
