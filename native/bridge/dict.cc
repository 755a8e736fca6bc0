#include "dict.h"

#include <cmath>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

// V8 10 has no string arguments for fast calls; Node's own installed headers lack this one
#if V8_MAJOR_VERSION >= 11 && __has_include(<v8-fast-api-calls.h>)
#define NGX_NODE_FAST_CALLS 1
#include <v8-fast-api-calls.h>
#endif

#include "values.h"

namespace ngx_node {
namespace {

using v8::FunctionCallbackInfo;
using v8::FunctionTemplate;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::String;
using v8::Value;

const ngx_node_dict_host_t* host = nullptr;

// Where the host copies a string value it read: it grows, and stays, as the largest value.
std::unique_ptr<char[]> room;
size_t room_size = 0;
bool room_failed = false;

char* Room(size_t len) {
  if (len > room_size) {
    size_t size = len < 256 ? 256 : len;
    room.reset(new (std::nothrow) char[size]);
    room_size = room ? size : 0;
    room_failed = !room;
  }
  return room.get();
}

// result[0] of binding.dict: where incr() leaves the new value
double* result = nullptr;

// The host refused (NGX_NODE_DICT_BAD): the runtime checks what users give before, so this
// is a runtime's bug, or memory.
void Refused(Isolate* isolate) {
  if (room_failed) {
    room_failed = false;
    isolate->ThrowException(v8::Exception::RangeError(String::NewFromUtf8Literal(
        isolate, "ngx-node: shared dict: no memory for the value read")));
    return;
  }
  isolate->ThrowException(v8::Exception::TypeError(String::NewFromUtf8Literal(
      isolate, "ngx-node: shared dict: no such zone, a key of over 65535 bytes, or a value "
               "not of the dict's type")));
}

unsigned Zone(const FunctionCallbackInfo<Value>& info) {
  return info[0]->IsUint32() ? info[0].As<v8::Uint32>()->Value() : ~0u;
}

// info[i] if it is a number, else `otherwise`: the runtime passes undefined for "none", which
// is told inline, without the out-of-line IsNumber()
double NumberArg(const FunctionCallbackInfo<Value>& info, int i, double otherwise) {
  Local<Value> value = info[i];
  if (value->IsUndefined()) return otherwise;
  return value->IsNumber() ? value.As<Number>()->Value() : otherwise;
}

// Returns a number: an integer that fits one as a small integer, inline; others as a heap
// number (Set(double) would make each one)
void ReturnNumber(const FunctionCallbackInfo<Value>& info, double n) {
  if (n >= INT32_MIN && n <= INT32_MAX) {  // (NaN is not)
    int32_t i = static_cast<int32_t>(n);
    if (i == n && (i != 0 || !std::signbit(n))) {
      info.GetReturnValue().Set(i);
      return;
    }
  }
  info.GetReturnValue().Set(n);
}

// Whether the key, info[1], is a string; throws if not.
bool IsKey(const FunctionCallbackInfo<Value>& info) {
  if (info[1]->IsString()) return true;
  Isolate* isolate = info.GetIsolate();
  isolate->ThrowException(v8::Exception::TypeError(
      String::NewFromUtf8Literal(isolate, "ngx-node: shared dict: a key is a string")));
  return false;
}

// Calls fn(key) with the key (info[1]) as UTF-8; throws if it is not a string, or if fn
// answers NGX_NODE_DICT_BAD.
template <typename Fn>
void WithKey(const FunctionCallbackInfo<Value>& info, Fn fn) {
  if (!IsKey(info)) return;
  Utf8Text key(info.GetIsolate(), info[1].As<String>());
  if (fn(key) == NGX_NODE_DICT_BAD) Refused(info.GetIsolate());
}

// get(zone, key) / pop(zone, key) -> value | undefined
template <unsigned kRemove>
void Get(const FunctionCallbackInfo<Value>& info) {
  WithKey(info, [&info](const Utf8Text& key) {
    ngx_node_dict_value_t value{0, nullptr, 0, 0, Room};
    int rc = host->get(Zone(info), key.data(), key.size(), kRemove, &value);
    if (rc != NGX_NODE_DICT_YES) return rc;
    if (value.text == nullptr) {
      ReturnNumber(info, value.number);
      return rc;
    }
    Local<String> text;
    if (NewText(info.GetIsolate(), value.text, value.len, value.ascii).ToLocal(&text)) {
      info.GetReturnValue().Set(text);  // else V8 threw (too long a string)
    }
    return rc;
  });
}

// has(zone, key) / delete(zone, key) -> boolean
template <unsigned kRemove>
void Has(const FunctionCallbackInfo<Value>& info) {
  WithKey(info, [&info](const Utf8Text& key) {
    int rc = host->has(Zone(info), key.data(), key.size(), kRemove);
    info.GetReturnValue().Set(rc == NGX_NODE_DICT_YES);
    return rc;
  });
}

// ttl(zone, key) -> ms | -1 | undefined
void Ttl(const FunctionCallbackInfo<Value>& info) {
  WithKey(info, [&info](const Utf8Text& key) {
    double ms;
    int rc = host->ttl(Zone(info), key.data(), key.size(), &ms);
    if (rc == NGX_NODE_DICT_YES) ReturnNumber(info, ms);
    return rc;
  });
}

// set/add/replace(zone, key, value, timeout) -> NGX_NODE_DICT_YES, NO (add found the entry,
// replace did not), FULL or BAD: answers the fast call below can give too
template <unsigned kHow>
void Store(const FunctionCallbackInfo<Value>& info) {
  if (!IsKey(info)) return;
  Utf8Text key(info.GetIsolate(), info[1].As<String>());
  Local<Value> given = info[2];
  double timeout = NumberArg(info, 3, 0);
  int rc;
  if (given->IsString()) {
    Utf8Text text(info.GetIsolate(), given.As<String>());
    ngx_node_value_t value = text.value();
    rc = host->store(Zone(info), kHow, key.data(), key.size(), &value, text.ascii(), timeout);
  } else {
    ngx_node_value_t value{NGX_NODE_UNDEFINED, 0, nullptr, 0};
    if (given->IsNumber()) value = {NGX_NODE_NUMBER, given.As<Number>()->Value(), nullptr, 0};
    rc = host->store(Zone(info), kHow, key.data(), key.size(), &value, false, timeout);
  }
  info.GetReturnValue().Set(rc);
}

// incr(zone, key, delta, init, timeout) -> NGX_NODE_DICT_YES (the new value in result[0]),
// FULL or BAD: answers the fast call below can give too, as it can neither make a value nor
// throw.
void Incr(const FunctionCallbackInfo<Value>& info) {
  if (!IsKey(info)) return;
  Utf8Text key(info.GetIsolate(), info[1].As<String>());
  info.GetReturnValue().Set(host->incr(Zone(info), key.data(), key.size(), NumberArg(info, 2, 0),
                                       NumberArg(info, 3, 0), NumberArg(info, 4, 0), result));
}

#ifdef NGX_NODE_FAST_CALLS
// Fast calls: the same, which V8 11 and later make straight from optimized code (no API
// callback, no handles) when the keys and string values are flat one-byte strings and the
// rest numbers.

int32_t FastIncr(Local<v8::Object> receiver, uint32_t zone, const v8::FastOneByteString& text,
                 double delta, double init, double timeout) {
  Utf8Text key(reinterpret_cast<const uint8_t*>(text.data), text.length);
  return host->incr(zone, key.data(), key.size(), delta, init, timeout, result);
}

// (a string dict's: a number dict's number takes the callback)
template <unsigned kHow>
int32_t FastStore(Local<v8::Object> receiver, uint32_t zone, const v8::FastOneByteString& text,
                  const v8::FastOneByteString& string, double timeout) {
  Utf8Text key(reinterpret_cast<const uint8_t*>(text.data), text.length);
  Utf8Text value(reinterpret_cast<const uint8_t*>(string.data), string.length);
  ngx_node_value_t v = value.value();
  return host->store(zone, kHow, key.data(), key.size(), &v, value.ascii(), timeout);
}

const v8::CFunction kFastIncr = v8::CFunction::Make(FastIncr);
const v8::CFunction kFastSet = v8::CFunction::Make(FastStore<NGX_NODE_DICT_SET>);
const v8::CFunction kFastAdd = v8::CFunction::Make(FastStore<NGX_NODE_DICT_ADD>);
const v8::CFunction kFastReplace = v8::CFunction::Make(FastStore<NGX_NODE_DICT_REPLACE>);
#define NGX_NODE_FAST(name) &kFast##name
#else
#define NGX_NODE_FAST(name) nullptr
#endif

// keys(zone, max) -> [key ...]; items(zone, max) -> [key, value ...]; max < 0: all
template <unsigned kItems>
void List(const FunctionCallbackInfo<Value>& info) {
  Result result(info);
  result.ReturnArray();
  if (host->list(Zone(info), kItems, NumberArg(info, 1, -1), result.abi()) == NGX_NODE_DICT_BAD) {
    Refused(info.GetIsolate());
  }
}

// size(zone), freeSpace(zone) -> number
template <double (*kHostFn)(unsigned)>
void Measure(const FunctionCallbackInfo<Value>& info) {
  double n = kHostFn(Zone(info));
  if (n < 0) {
    Refused(info.GetIsolate());
    return;
  }
  ReturnNumber(info, n);
}

double Size(unsigned zone) { return host->size(zone); }
double FreeSpace(unsigned zone) { return host->free_space(zone); }

void Clear(const FunctionCallbackInfo<Value>& info) {
  if (host->clear(Zone(info)) == NGX_NODE_DICT_BAD) Refused(info.GetIsolate());
}

}  // namespace

Local<v8::Object> MakeDictBinding(Isolate* isolate, Local<v8::Context> context,
                                  const ngx_node_dict_host_t* dict_host) {
  host = dict_host;
  struct Entry {
    const char* name;
    v8::FunctionCallback fn;
    const v8::CFunction* fast = nullptr;
  };
  const Entry entries[] = {
      {"get", Get<0>},
      {"pop", Get<1>},
      {"has", Has<0>},
      {"delete", Has<1>},
      {"ttl", Ttl},
      {"set", Store<NGX_NODE_DICT_SET>, NGX_NODE_FAST(Set)},
      {"add", Store<NGX_NODE_DICT_ADD>, NGX_NODE_FAST(Add)},
      {"replace", Store<NGX_NODE_DICT_REPLACE>, NGX_NODE_FAST(Replace)},
      {"incr", Incr, NGX_NODE_FAST(Incr)},
      {"keys", List<0>},
      {"items", List<1>},
      {"size", Measure<Size>},
      {"freeSpace", Measure<FreeSpace>},
      {"clear", Clear},
  };
  Local<v8::Object> dict = v8::Object::New(isolate);
  for (const Entry& entry : entries) {
    Local<v8::Function> fn =
        FunctionTemplate::New(isolate, entry.fn, Local<Value>(), Local<v8::Signature>(), 0,
                              v8::ConstructorBehavior::kThrow,
                              v8::SideEffectType::kHasSideEffect, entry.fast)
            ->GetFunction(context)
            .ToLocalChecked();
    dict->Set(context, String::NewFromUtf8(isolate, entry.name).ToLocalChecked(), fn).Check();
  }
  // incr()'s answer; the buffer lives as long as the runtime holds binding.dict
  Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, sizeof(double));
  result = static_cast<double*>(buffer->GetBackingStore()->Data());
  dict->Set(context, String::NewFromUtf8Literal(isolate, "result"),
            v8::Float64Array::New(buffer, 0, 1))
      .Check();
  const std::pair<const char*, int> answers[] = {
      {"YES", NGX_NODE_DICT_YES}, {"NO", NGX_NODE_DICT_NO}, {"FULL", NGX_NODE_DICT_FULL}};
  for (const auto& [name, number] : answers) {
    dict->Set(context, String::NewFromUtf8(isolate, name).ToLocalChecked(),
              v8::Integer::New(isolate, number))
        .Check();
  }
  return dict;
}

}  // namespace ngx_node
