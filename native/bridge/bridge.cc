// The bridge: starts Node.js on the nginx worker's thread, loads the TypeScript runtime, and
// exposes the C function table of ngx_node_abi.h. See ARCHITECTURE.md for the facts this
// code follows (numbered "fact N" below).

#include <node.h>
#include <uv.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "buffer_pool.h"
#include "dict.h"
#include "execution_guard.h"
#include "handles.h"
#include "ngx_node_abi.h"
#include "quick_call.h"
#include "values.h"

namespace ngx_node {
namespace {

using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::FunctionTemplate;
using v8::Global;
using v8::HandleScope;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::MaybeLocal;
using v8::Number;
using v8::Object;
using v8::Promise;
using v8::String;
using v8::TryCatch;
using v8::Value;

// nginx log levels
constexpr unsigned kLogEmerg = 1;
constexpr unsigned kLogAlert = 2;
constexpr unsigned kLogErr = 4;
constexpr unsigned kLogWarn = 5;

// how long a worker waits for its modules' top-level code (including top-level await)
constexpr uint64_t kLoadTimeoutMs = 30000;

struct Runtime {
  const ngx_node_init_t* host = nullptr;
  // a unique_ptr up to Node 20, a shared_ptr from Node 22 on
  decltype(node::InitializeOncePerProcess(std::vector<std::string>())) process;
  std::unique_ptr<node::CommonEnvironmentSetup> setup;
  Isolate* isolate = nullptr;
  uv_loop_t* loop = nullptr;
  std::unique_ptr<v8::Locker> locker;
  std::unique_ptr<Isolate::Scope> isolate_scope;
  // The worker's own scope, as Node's main runs its event loop in one: a HandleScope that lasts
  // as long as the worker, holding the context (entered for good) and the functions every call
  // uses. Each call's own HandleScope then opens inside a live handle block, and enters nothing:
  // callgrind counted ~190 instructions a call for making a handle block and handing it back,
  // entering and leaving the context, and making these handles again from their Globals.
  std::optional<HandleScope> worker_handles;  // (V8 does not let a HandleScope be new'd)
  std::optional<Context::Scope> worker_context;
  Local<Object> worker_runtime;
  Local<Function> worker_dispatch;
  Local<Function> worker_resume;
  Local<Context> worker_context_handle;
  Global<Object> runtime;     // the object the runtime's start() returned
  Global<Function> dispatch;  // runtime.dispatch(kind, handler, handle, arg, flags, outermost)
  Global<Function> resume;    // runtime.resume(token, failed, value, outermost)
  Global<Function> recover;   // runtime.recover(): after a call the execution guard stopped
  Global<Value> async_hooks;  // Node's internal/async_hooks, for runtime.recover()
  uv_async_t keepalive;       // fact 3
  bool keepalive_open = false;
  bool stopped = false;       // process.exit() or shutdown: no more calls into JS
  ExecutionGuard guard;       // node_cpu_timeout, the heap limit
  bool retired = false;       // the heap limit was reached: the host was told
  HandleTable handles;
  std::string ret_storage;
};

Runtime* rt = nullptr;

void Log(unsigned level, const std::string& message) {
  rt->host->log(level, message.data(), message.size());
}

// Ends an entry into JavaScript (after rt->guard.Enter()); true when the execution guard stopped
// it. `what` names code no handler owns (a timer, a callback): its stop is logged here.
bool Leave(const char* what) {
  bool stopped = rt->guard.Exit();
  if (stopped && !rt->recover.IsEmpty()) {
    // the stopped code skipped the ends of Node's async contexts: the runtime resets them
    HandleScope scope(rt->isolate);
    TryCatch tc(rt->isolate);
    MaybeLocal<Value> ignored = rt->recover.Get(rt->isolate)->Call(
        rt->worker_context_handle, v8::Undefined(rt->isolate), 0, nullptr);
    (void) ignored;
  }
  if (stopped && what != nullptr) {
    Log(kLogErr, std::string("ngx-node: ") + what + " " + rt->guard.stop_reason());
  }
  if (rt->guard.heap_exhausted() && !rt->retired) {
    rt->retired = true;
    rt->host->retire();
  }
  return stopped;
}

std::string Describe(Isolate* isolate, Local<Context> context, const TryCatch& tc) {
  if (tc.HasTerminated()) return "execution terminated";
  Local<Value> exception = tc.Exception();
  if (exception.IsEmpty()) return "unknown error";
  Local<Value> stack;
  if (exception->IsObject() &&
      exception.As<Object>()->Get(context, String::NewFromUtf8Literal(isolate, "stack"))
          .ToLocal(&stack) &&
      stack->IsString()) {
    return *String::Utf8Value(isolate, stack);
  }
  return *String::Utf8Value(isolate, exception);
}

Local<String> Str(Isolate* isolate, const char* s) {
  return String::NewFromUtf8(isolate, s).ToLocalChecked();
}

// binding.call(handle, op, ...args): the one way JavaScript reaches nginx
void BindingCall(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  const HostObject* host = info[0]->IsNumber()
                               ? rt->handles.Find(info[0].As<Number>()->Value())
                               : nullptr;
  if (host == nullptr) {
    // code NGX_NODE_ENDED: the runtime tells this consequence of an ended request (the
    // client went away, node_timeout) from a handler's own failures
    Local<Value> error = v8::Exception::Error(
        Str(isolate, "ngx-node: this request has already finished; its object cannot be used"));
    error.As<Object>()
        ->Set(isolate->GetCurrentContext(), Str(isolate, "code"), Str(isolate, "NGX_NODE_ENDED"))
        .Check();
    isolate->ThrowException(error);
    return;
  }
  Arguments args;
  if (!args.Convert(info, 2)) return;
  Result result(info);
  unsigned op = info[1]->IsInt32() ? static_cast<unsigned>(info[1].As<v8::Int32>()->Value()) : ~0u;
  host->op(host->object, op, args.values(), args.count(), result.abi());
  result.Finish();
}

#define NGX_NODE_WORKER_OP_ENTRY(NAME, name) \
  ops->Set(context, Str(isolate, #name), Integer::New(isolate, NGX_NODE_WORKER_OP_##NAME)).Check();
#define NGX_NODE_HTTP_OP_ENTRY(NAME, name) \
  ops->Set(context, Str(isolate, #name), Integer::New(isolate, NGX_NODE_HTTP_OP_##NAME)).Check();
#define NGX_NODE_LUA_OP_ENTRY(NAME, name) \
  ops->Set(context, Str(isolate, #name), Integer::New(isolate, NGX_NODE_LUA_OP_##NAME)).Check();
#define NGX_NODE_PERIODIC_OP_ENTRY(NAME, name) \
  ops->Set(context, Str(isolate, #name), Integer::New(isolate, NGX_NODE_PERIODIC_OP_##NAME)).Check();
#define NGX_NODE_STREAM_OP_ENTRY(NAME, name) \
  ops->Set(context, Str(isolate, #name), Integer::New(isolate, NGX_NODE_STREAM_OP_##NAME)).Check();
#define NGX_NODE_METRICS_OP_ENTRY(NAME, name) \
  ops->Set(context, Str(isolate, #name), Integer::New(isolate, NGX_NODE_METRICS_OP_##NAME)).Check();

Local<Object> MakeBinding(Isolate* isolate, Local<Context> context) {
  Local<Object> binding = Object::New(isolate);
  binding
      ->Set(context, Str(isolate, "call"),
            FunctionTemplate::New(isolate, BindingCall)->GetFunction(context).ToLocalChecked())
      .Check();
  binding
      ->Set(context, Str(isolate, "callQuick"),
            MakeQuickCall(isolate, context, &rt->handles, BindingCall))
      .Check();
  Local<Object> ops = Object::New(isolate);
  NGX_NODE_WORKER_OPS(NGX_NODE_WORKER_OP_ENTRY)
  binding->Set(context, Str(isolate, "workerOps"), ops).Check();
  ops = Object::New(isolate);
  NGX_NODE_HTTP_OPS(NGX_NODE_HTTP_OP_ENTRY)
  binding->Set(context, Str(isolate, "httpOps"), ops).Check();
  ops = Object::New(isolate);
  NGX_NODE_LUA_OPS(NGX_NODE_LUA_OP_ENTRY)
  binding->Set(context, Str(isolate, "luaOps"), ops).Check();
  ops = Object::New(isolate);
  NGX_NODE_STREAM_OPS(NGX_NODE_STREAM_OP_ENTRY)
  binding->Set(context, Str(isolate, "streamOps"), ops).Check();
  binding->Set(context, Str(isolate, "dict"), MakeDictBinding(isolate, context, rt->host->dict))
      .Check();
  ops = Object::New(isolate);
  NGX_NODE_PERIODIC_OPS(NGX_NODE_PERIODIC_OP_ENTRY)
  binding->Set(context, Str(isolate, "periodicOps"), ops).Check();
  ops = Object::New(isolate);
  NGX_NODE_METRICS_OPS(NGX_NODE_METRICS_OP_ENTRY)
  binding->Set(context, Str(isolate, "metricsOps"), ops).Check();
  return binding;
}

#undef NGX_NODE_WORKER_OP_ENTRY
#undef NGX_NODE_HTTP_OP_ENTRY
#undef NGX_NODE_LUA_OP_ENTRY
#undef NGX_NODE_STREAM_OP_ENTRY
#undef NGX_NODE_PERIODIC_OP_ENTRY
#undef NGX_NODE_METRICS_OP_ENTRY

// Runs fn with all signals blocked in this thread, so that threads Node starts meanwhile
// (platform workers, the libuv threadpool, threads of module top-level code) never take
// nginx's signals (fact 2).
template <typename Fn>
auto WithSignalsBlocked(Fn fn) {
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  auto result = fn();
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  return result;
}

void StartThreadpool(uv_loop_t* loop) {
  static uv_work_t work;
  uv_queue_work(loop, &work, [](uv_work_t*) {}, [](uv_work_t*, int) {});
}

// Loads build/runtime/bootstrap.js through Node's own CommonJS loader.
MaybeLocal<Value> LoadRuntimeModule(const node::StartExecutionCallbackInfo& info) {
  Isolate* isolate = rt->isolate;
  Local<Context> context = isolate->GetCurrentContext();
  std::string entry = std::string(rt->host->runtime_dir) + "/bootstrap.js";
  Local<Value> module_name = Str(isolate, "module");
  Local<Value> module;
  if (!info.native_require->Call(context, v8::Null(isolate), 1, &module_name).ToLocal(&module)) {
    return {};
  }
  Local<Value> create_require;
  if (!module.As<Object>()->Get(context, Str(isolate, "createRequire")).ToLocal(&create_require)) {
    return {};
  }
  {
    // what runtime.recover() needs of Node's internals, where this Node has it
    TryCatch tc(isolate);
    Local<Value> id = Str(isolate, "internal/async_hooks");
    Local<Value> async_hooks;
    if (info.native_require->Call(context, v8::Null(isolate), 1, &id).ToLocal(&async_hooks)) {
      rt->async_hooks.Reset(isolate, async_hooks);
    }
  }
  Local<Value> entry_path = Str(isolate, entry.c_str());
  Local<Value> require;
  if (!create_require.As<Function>()->Call(context, module, 1, &entry_path).ToLocal(&require)) {
    return {};
  }
  return require.As<Function>()->Call(context, v8::Null(isolate), 1, &entry_path);
}

int LoopNeedsPoll();
void RunLoopNoWait();

enum class Awaited { kSettled, kTimedOut, kStopped };

// Runs libuv until the promise settles or the deadline passes. JavaScript runs under the
// execution guard (a stop ends the wait); the waits between runs do not count.
Awaited AwaitPromise(Local<Promise> promise, uint64_t timeout_ms) {
  constexpr int kPollMs = 10;
  uint64_t deadline = uv_now(rt->loop) + timeout_ms;
  while (promise->State() == Promise::kPending && !rt->stopped) {
    rt->guard.Enter();
    RunLoopNoWait();
    if (Leave("module top-level code")) return Awaited::kStopped;
    if (promise->State() != Promise::kPending || uv_now(rt->loop) >= deadline) break;
    if (!LoopNeedsPoll()) {
      int timeout = uv_backend_timeout(rt->loop);
      pollfd backend = {uv_backend_fd(rt->loop), POLLIN, 0};
      poll(&backend, 1, timeout < 0 || timeout > kPollMs ? kPollMs : timeout);
    }
    uv_update_time(rt->loop);
  }
  return promise->State() != Promise::kPending ? Awaited::kSettled : Awaited::kTimedOut;
}

bool StartRuntime() {
  Isolate* isolate = rt->isolate;
  HandleScope scope(isolate);
  Local<Context> context = rt->setup->context();
  Context::Scope context_scope(context);
  TryCatch tc(isolate);

  MaybeLocal<Value> loaded = node::LoadEnvironment(rt->setup->env(), LoadRuntimeModule);
  Local<Value> runtime_module;
  if (!loaded.ToLocal(&runtime_module) || !runtime_module->IsObject()) {
    Log(kLogEmerg, "ngx-node: cannot load the runtime from " +
                       std::string(rt->host->runtime_dir) + ": " +
                       Describe(isolate, context, tc));
    return false;
  }

  Local<Value> start;
  if (!runtime_module.As<Object>()->Get(context, Str(isolate, "start")).ToLocal(&start) ||
      !start->IsFunction()) {
    Log(kLogEmerg, "ngx-node: the runtime has no start() function");
    return false;
  }
  Local<Object> binding = MakeBinding(isolate, context);
  if (!rt->async_hooks.IsEmpty()) {
    binding->Set(context, Str(isolate, "nodeAsyncHooks"), rt->async_hooks.Get(isolate)).Check();
  }
  Local<Value> argv[] = {
      binding,
      String::NewFromUtf8(isolate, rt->host->config_json, v8::NewStringType::kNormal,
                          static_cast<int>(rt->host->config_json_len))
          .ToLocalChecked(),
  };
  Local<Value> started;
  rt->guard.Enter();
  MaybeLocal<Value> result =
      node::MakeCallback(isolate, runtime_module.As<Object>(), start.As<Function>(), 2, argv, {0, 0});
  if (Leave("module top-level code")) return false;
  if (!result.ToLocal(&started) || tc.HasCaught() || !started->IsObject()) {
    Log(kLogEmerg, "ngx-node: the runtime failed to start: " + Describe(isolate, context, tc));
    return false;
  }
  Local<Object> runtime = started.As<Object>();
  Local<Value> dispatch, resume, recover, ready;
  if (!runtime->Get(context, Str(isolate, "dispatch")).ToLocal(&dispatch) ||
      !dispatch->IsFunction() ||
      !runtime->Get(context, Str(isolate, "resume")).ToLocal(&resume) ||
      !resume->IsFunction() ||
      !runtime->Get(context, Str(isolate, "recover")).ToLocal(&recover) ||
      !recover->IsFunction() ||
      !runtime->Get(context, Str(isolate, "ready")).ToLocal(&ready) || !ready->IsPromise()) {
    Log(kLogEmerg, "ngx-node: the runtime's start() returned an incomplete object");
    return false;
  }
  rt->runtime.Reset(isolate, runtime);
  rt->dispatch.Reset(isolate, dispatch.As<Function>());
  rt->resume.Reset(isolate, resume.As<Function>());
  rt->recover.Reset(isolate, recover.As<Function>());
  Local<Value> new_buffer_pool;
  if (runtime->Get(context, Str(isolate, "newBufferPool")).ToLocal(&new_buffer_pool) &&
      new_buffer_pool->IsFunction()) {
    SetBufferPoolMaker(isolate, new_buffer_pool.As<Function>());
  }

  // Modules load asynchronously (ESM, top-level await): let libuv run until they are in.
  // The runtime reports load errors itself, per module.
  switch (AwaitPromise(ready.As<Promise>(), kLoadTimeoutMs)) {
    case Awaited::kSettled:
      break;
    case Awaited::kTimedOut:
      Log(kLogErr, "ngx-node: modules did not finish loading within " +
                       std::to_string(kLoadTimeoutMs / 1000) +
                       "s (top-level await that never settles?); their handlers answer 500");
      break;
    case Awaited::kStopped:
      Log(kLogErr, "ngx-node: modules did not finish loading (their top-level code was stopped); "
                   "their handlers answer 500");
      break;
  }

  // The runtime's own warm-up (fetch's implementation, compiled on first use: fact 18) runs
  // outside the execution guard: node_cpu_timeout bounds the user's code, not the start-up's.
  Local<Value> warm_up;
  if (!rt->stopped && runtime->Get(context, Str(isolate, "warmUp")).ToLocal(&warm_up) &&
      warm_up->IsFunction()) {
    TryCatch warm_tc(isolate);
    if (node::MakeCallback(isolate, runtime, warm_up.As<Function>(), 0, nullptr, {0, 0})
            .IsEmpty()) {
      Log(kLogWarn, "ngx-node: warming up fetch failed: " + Describe(isolate, context, warm_tc));
    }
  }
  return true;
}

int Init(const ngx_node_init_t* host) {
  rt = new Runtime();
  rt->host = host;

  // A call the execution guard stops may leave Node's async context stack unbalanced, which
  // Node's checks turn into exit(1); runtime.recover() resets the stack instead.
  std::vector<std::string> args{"nginx", "--no-force-async-hooks-checks"};
  for (unsigned i = 0; i < host->nexec_args; i++) args.emplace_back(host->exec_args[i]);

  bool ok = WithSignalsBlocked([&]() -> bool {
    // fact 1
    rt->process = node::InitializeOncePerProcess(
        args, static_cast<node::ProcessInitializationFlags::Flags>(
                  node::ProcessInitializationFlags::kNoDefaultSignalHandling |
                  node::ProcessInitializationFlags::kNoStdioInitialization |
                  node::ProcessInitializationFlags::kDisableNodeOptionsEnv |
                  node::ProcessInitializationFlags::kNoAdjustResourceLimits |
                  node::ProcessInitializationFlags::kNoPrintHelpOrVersionOutput));
    for (const std::string& error : rt->process->errors()) {
      Log(rt->process->early_return() ? kLogEmerg : kLogErr, "ngx-node: node_option: " + error);
    }
    if (rt->process->early_return()) return false;

    std::vector<std::string> errors;
    rt->setup = node::CommonEnvironmentSetup::Create(
        rt->process->platform(), &errors, rt->process->args(), rt->process->exec_args(),
        static_cast<node::EnvironmentFlags::Flags>(node::EnvironmentFlags::kNoCreateInspector));
    if (!rt->setup) {
      for (const std::string& error : errors) Log(kLogEmerg, "ngx-node: " + error);
      return false;
    }
    rt->isolate = rt->setup->isolate();
    rt->loop = rt->setup->event_loop();
    // its thread, too, never takes a signal; places in the runtime are not the user's
    rt->guard.Start(rt->isolate, host->cpu_timeout, host->runtime_dir);
    rt->locker = std::make_unique<v8::Locker>(rt->isolate);
    rt->isolate_scope = std::make_unique<Isolate::Scope>(rt->isolate);
    rt->worker_handles.emplace(rt->isolate);
    rt->worker_context_handle = rt->setup->context();
    rt->worker_context.emplace(rt->worker_context_handle);
    StartThreadpool(rt->loop);  // fact 2

    uv_async_init(rt->loop, &rt->keepalive, [](uv_async_t*) {});  // fact 3
    rt->keepalive_open = true;

    node::SetProcessExitHandler(rt->setup->env(), [](node::Environment* env, int code) {
      // fact 9: stop JS, let the host end the worker its own way
      rt->stopped = true;
      node::Stop(env);
      rt->host->exit(code);
    });

    // the runtime logs through the worker object from its first line on
    rt->handles.SetWorker(host->worker, host->worker_op);
    if (!StartRuntime()) return false;
    rt->worker_runtime = rt->runtime.Get(rt->isolate);
    rt->worker_dispatch = rt->dispatch.Get(rt->isolate);
    rt->worker_resume = rt->resume.Get(rt->isolate);
    return true;
  });

  return ok ? NGX_NODE_OK : NGX_NODE_ERROR;
}

void Shutdown() {  // fact 8
  if (rt == nullptr || !rt->setup) return;
  {
    HandleScope scope(rt->isolate);
    rt->runtime.Reset();
    rt->dispatch.Reset();
    rt->resume.Reset();
    rt->recover.Reset();
    rt->async_hooks.Reset();
    ReleaseBufferPool();
  }
  if (rt->keepalive_open) {
    uv_close(reinterpret_cast<uv_handle_t*>(&rt->keepalive), nullptr);
    rt->keepalive_open = false;
  }
  rt->stopped = true;
  rt->guard.Stop();
  node::Stop(rt->setup->env());
  rt->worker_context.reset();
  rt->worker_handles.reset();
  rt->isolate_scope.reset();
  rt->locker.reset();
  rt->setup.reset();
  node::TearDownOncePerProcess();
  rt->process.reset();
}

// Converts the dispatcher's return value; strings and bytes are copied to ret_storage.
void StoreReturn(Isolate* isolate, Local<Value> value, ngx_node_value_t* ret) {
  if (!ToHostValue(isolate, value, ret, &rt->ret_storage)) {
    *ret = ngx_node_value_t{NGX_NODE_UNDEFINED, 0, nullptr, 0};
  }
}

// Calls runtime.<fn>(argv..., outermost). The runtime's dispatch and resume take a last
// argument, `outermost`: true when no other call into JavaScript is in progress, and then they
// run what the call queued (process.nextTick callbacks, promise reactions) before they return,
// as the close of a callback scope would. They are called directly, without node::MakeCallback:
// its scope cost 800 of the 5,800 instructions a sync handler call costs (callgrind), for an
// async context that is always {0, 0}. What else that scope did is done here: the context is
// entered, WeakRef targets kept for the call are released afterwards (as Node does at the end
// of each callback), and where AsyncLocalStorage keeps its context in V8's continuation data
// (Node 24's AsyncContextFrame) it is put back as it was, so that enterWith() in one request
// does not reach the next. A call nested inside JavaScript leaves the queues to the call or
// callback scope around it, as a nested scope would.
MaybeLocal<Value> CallRuntime(Local<Function> fn, int argc, Local<Value>* argv, TryCatch* tc,
                              const char* what) {
  Isolate* isolate = rt->isolate;
  Local<Context> context = rt->worker_context_handle;
  bool outermost = rt->guard.Idle();
  argv[argc - 1] = v8::Boolean::New(isolate, outermost);
#if V8_MAJOR_VERSION >= 12
  Local<Value> frame = isolate->GetContinuationPreservedEmbedderData();
#endif
  rt->guard.Enter();
  MaybeLocal<Value> result = fn->Call(context, rt->worker_runtime, argc, argv);
#if V8_MAJOR_VERSION >= 12
  isolate->SetContinuationPreservedEmbedderData(frame);
#endif
  if (outermost) isolate->ClearKeptObjects();
  // fact 6: HasCaught() is what tells a throwing callee. A call the execution guard stopped
  // is reported by whoever made it.
  if (tc->HasCaught() && !rt->stopped && !rt->guard.Stopping()) {
    Log(kLogAlert, std::string("ngx-node: ") + what + " failed: " + Describe(isolate, context, *tc));
  }
  return tc->HasCaught() ? MaybeLocal<Value>() : result;
}

int Call(unsigned kind, unsigned handler, double handle, const ngx_node_value_t* arg,
         unsigned flags, ngx_node_value_t* ret) {
  *ret = ngx_node_value_t{NGX_NODE_UNDEFINED, 0, nullptr, 0};
  if (rt->stopped) return NGX_NODE_ERROR;
  Isolate* isolate = rt->isolate;
  HandleScope scope(isolate);
  TryCatch tc(isolate);
  // (a Buffer needs the context entered to be made: it is, for good)
  Local<Value> argument = arg != nullptr ? FromHostValue(isolate, *arg) : v8::Undefined(isolate).As<Value>();
  Local<Value> argv[] = {Integer::New(isolate, static_cast<int32_t>(kind)),
                         Integer::New(isolate, static_cast<int32_t>(handler)),
                         Number::New(isolate, handle), argument,
                         Integer::New(isolate, static_cast<int32_t>(flags)), Local<Value>()};
  MaybeLocal<Value> result = CallRuntime(rt->worker_dispatch, 6, argv, &tc, "dispatch");
  if (Leave(nullptr)) return NGX_NODE_CALL_STOPPED;
  Local<Value> value;
  if (!result.ToLocal(&value)) return NGX_NODE_ERROR;
  StoreReturn(isolate, value, ret);
  return NGX_NODE_OK;
}

const char* StopReason() { return rt->guard.stop_reason().c_str(); }

void Resume(double token, int failed, const ngx_node_value_t* value) {
  if (rt->stopped) return;
  Isolate* isolate = rt->isolate;
  HandleScope scope(isolate);
  TryCatch tc(isolate);
  Local<Value> argv[] = {Number::New(isolate, token), v8::Boolean::New(isolate, failed != 0),
                         FromHostValue(isolate, *value), Local<Value>()};
  CallRuntime(rt->worker_resume, 4, argv, &tc, "resume");
  Leave("JavaScript resumed by nginx (a request body, a subrequest)");
}

double Open(void* object, ngx_node_op_pt op) { return rt->handles.Open(object, op); }

void Close(double handle) { rt->handles.Close(handle); }

int LoopFd() { return uv_backend_fd(rt->loop); }

int LoopTimeout() {
  uv_update_time(rt->loop);  // fact 4
  return uv_backend_timeout(rt->loop);
}

// New watchers reach epoll only inside uv_run (ARCHITECTURE.md, the event-loop design), so
// after anything that may have made one the module runs the loop once more. libuv's queue of
// new watchers is private (and changed type in libuv 1.45), so what is watched instead is an
// activity signature made of uv_loop_t's public fields: starting a socket, timer or request
// changes the count of active handles or requests. A change since the end of the last LoopRun()
// means JS made work that uv_run has not seen. And uv_run itself registers new watchers in its
// poll phase only: a callback that runs later in the same iteration (setImmediate, a close
// callback) and opens a socket leaves a watcher that epoll learns at the next uv_run only; so
// when the signature changed during uv_run, the next LoopNeedsPoll() asks for one more run.
// Counts do not see an unreferenced handle start, nor a handle opened as another one closes.
uint64_t LoopSignature() {
  return (static_cast<uint64_t>(rt->loop->active_handles) << 32) | rt->loop->active_reqs.count;
}

uint64_t loop_signature = 0;   // at the end of the last LoopRun()
bool loop_changed_in_run = false;

int LoopNeedsPoll() { return loop_changed_in_run || LoopSignature() != loop_signature; }

// One uv_run(NOWAIT), noting the signature before and after it.
void RunLoopNoWait() {
  uint64_t before = LoopSignature();
  uv_run(rt->loop, UV_RUN_NOWAIT);
  loop_signature = LoopSignature();
  loop_changed_in_run = loop_signature != before;
}

void LoopRun() {
  if (rt->stopped) return;
  rt->guard.Enter();
  RunLoopNoWait();
  Leave("a timer, I/O or promise callback");
}

const ngx_node_bridge_t kBridge = {
    NGX_NODE_ABI_VERSION,
    Init,
    Shutdown,
    Open,
    Close,
    Call,
    StopReason,
    Resume,
    LoopFd,
    LoopTimeout,
    LoopNeedsPoll,
    LoopRun,
};

}  // namespace
}  // namespace ngx_node

extern "C" __attribute__((visibility("default"))) const ngx_node_bridge_t* ngx_node_bridge_get() {
  return &ngx_node::kBridge;
}
