#include "quick_call.h"

#include "values.h"

namespace ngx_node {
namespace {

using v8::FunctionCallbackInfo;
using v8::Local;
using v8::Value;

const HandleTable* handles = nullptr;
v8::FunctionCallback general = nullptr;

constexpr int kMaxArgs = 4;
constexpr size_t kTextRoom = 512;

// Converts one argument as binding.call would, if it is of the quick kinds; a string is
// copied to text[*used...] when it is one-byte, all ASCII and fits.
bool Quick(v8::Isolate* isolate, Local<Value> value, char* text, size_t* used,
           ngx_node_value_t* out) {
  if (value->IsString()) {
    Local<v8::String> string = value.As<v8::String>();
    size_t length = static_cast<size_t>(string->Length());
    if (length > kTextRoom - *used || !string->IsOneByte()) return false;
    char* dest = text + *used;
    string->WriteOneByte(isolate, reinterpret_cast<uint8_t*>(dest), 0, static_cast<int>(length),
                         v8::String::NO_NULL_TERMINATION);
    if (!IsAscii(dest, length)) return false;
    *used += length;
    *out = ngx_node_value_t{NGX_NODE_STRING, 0, dest, length};
  } else if (value->IsNumber()) {
    *out = ngx_node_value_t{NGX_NODE_NUMBER, value.As<v8::Number>()->Value(), nullptr, 0};
  } else if (value->IsUndefined()) {
    *out = ngx_node_value_t{NGX_NODE_UNDEFINED, 0, nullptr, 0};
  } else if (value->IsBoolean()) {
    *out = ngx_node_value_t{NGX_NODE_BOOLEAN, value->IsTrue() ? 1.0 : 0.0, nullptr, 0};
  } else if (value->IsNull()) {
    *out = ngx_node_value_t{NGX_NODE_NULL, 0, nullptr, 0};
  } else {
    return false;
  }
  return true;
}

// callQuick(handle, op, ...args): what binding.call(handle, op, ...args) does
void CallQuick(const FunctionCallbackInfo<Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  int argc = info.Length();
  char text[kTextRoom];
  size_t used = 0;
  ngx_node_value_t args[kMaxArgs];
  const HostObject* host = nullptr;
  if (argc >= 2 && argc - 2 <= kMaxArgs && info[1]->IsInt32() && info[0]->IsNumber()) {
    int i = 2;
    while (i < argc && Quick(isolate, info[i], text, &used, &args[i - 2])) i++;
    if (i == argc) host = handles->Find(info[0].As<v8::Number>()->Value());
  }
  if (host == nullptr) {
    // an ended request's error, arguments of other kinds: as binding.call has them
    general(info);
    return;
  }
  unsigned op = static_cast<unsigned>(info[1].As<v8::Int32>()->Value());
  Result result(info);
  host->op(host->object, op, args, static_cast<unsigned>(argc - 2), result.abi());
  result.Finish();
}

}  // namespace

Local<v8::Function> MakeQuickCall(v8::Isolate* isolate, Local<v8::Context> context,
                                  const HandleTable* table, v8::FunctionCallback call) {
  handles = table;
  general = call;
  return v8::FunctionTemplate::New(isolate, CallQuick, Local<Value>(), Local<v8::Signature>(), 0,
                                   v8::ConstructorBehavior::kThrow,
                                   v8::SideEffectType::kHasSideEffect)
      ->GetFunction(context)
      .ToLocalChecked();
}

}  // namespace ngx_node
