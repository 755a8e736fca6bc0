// The execution guard: stops JavaScript that would hang the worker or take it down.
//  - CPU: a call into JavaScript (a handler, a timer or I/O callback, a promise callback,
//    a module's top-level code) that runs longer than node_cpu_timeout is stopped.
//  - Heap: when V8 nears its heap limit, the limit is raised for a while, the JavaScript that is
//    running is stopped, and the worker is retired: it finishes its other requests and exits
//    instead of aborting with "Reached heap limit" (fact 19).
// A watchdog thread asks V8 to interrupt the running code; the interrupt runs on the worker's
// thread, notes where the code was, and terminates execution, which unwinds to the host's call.
// The entries into JavaScript (Enter/Exit) cost two plain stores: the watchdog samples them.
#ifndef NGX_NODE_BRIDGE_EXECUTION_GUARD_H
#define NGX_NODE_BRIDGE_EXECUTION_GUARD_H

#include <v8.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace ngx_node {

class ExecutionGuard {
 public:
  // cpu_timeout_ms 0: no CPU limit. Starts the watchdog thread: call with signals blocked.
  // Stack frames of scripts under hidden_dir (the runtime) are left out of reports.
  void Start(v8::Isolate* isolate, uint64_t cpu_timeout_ms, const std::string& hidden_dir);
  void Stop();

  // Around every entry from nginx into JavaScript; entries nest (JS -> nginx -> JS).
  void Enter() {
    if (depth_++ == 0) {
      sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      running_.store(true, std::memory_order_relaxed);
    }
  }
  // True when the call that was running when the guard stopped it ends (the innermost one,
  // if calls nest): stop_reason() tells why and where. The isolate runs JavaScript again: a
  // caller further out sees the stopped call fail, as if it had thrown.
  bool Exit();

  // No call into JavaScript is in progress: an entry now is the outermost one.
  bool Idle() const { return depth_ == 0; }

  // Whether a stop of the current call is under way (the call has not returned yet).
  bool Stopping() const { return stop_.load(std::memory_order_acquire) != Cause::kNone; }

  // "ran longer than node_cpu_timeout (5000 ms) and was stopped at f (/file.mjs:3:7)"
  const std::string& stop_reason() const { return stop_reason_; }
  // The heap limit was reached: the worker should retire.
  bool heap_exhausted() const { return heap_exhausted_; }

 private:
  enum class Cause { kNone, kCpu, kHeap };

  void Watch();
  void RequestStop(Cause why);
  static void Interrupt(v8::Isolate* isolate, void* data);
  static size_t NearHeapLimit(void* data, size_t current_limit, size_t initial_limit);

  v8::Isolate* isolate_ = nullptr;
  uint64_t cpu_timeout_ms_ = 0;
  std::string hidden_dir_;

  // written by the worker's thread, sampled by the watchdog
  unsigned depth_ = 0;
  std::atomic<uint64_t> sequence_{0};
  std::atomic<bool> running_{false};

  // the call (by sequence) a stop was requested for, and why
  std::atomic<uint64_t> stop_sequence_{0};
  std::atomic<Cause> requested_{Cause::kNone};
  std::atomic<Cause> stop_{Cause::kNone};  // set by the interrupt on the worker's thread
  unsigned stop_depth_ = 0;                // the depth of the call it stopped
  std::string stopped_at_;
  std::string stop_reason_;

  bool heap_exhausted_ = false;
  unsigned heap_raises_ = 0;
  size_t heap_used_ = 0;
  size_t heap_initial_limit_ = 0;

  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace ngx_node

#endif
