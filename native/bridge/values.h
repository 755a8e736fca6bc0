// Marshalling between V8 values and the ABI's ngx_node_value_t.
#ifndef NGX_NODE_BRIDGE_VALUES_H
#define NGX_NODE_BRIDGE_VALUES_H

#include <node.h>

#include <memory>
#include <string>
#include <vector>

#include "ngx_node_abi.h"

namespace ngx_node {

// Whether a run of bytes is all ASCII.
bool IsAscii(const char* data, size_t len);

// The arguments of one binding call, converted for a host op. Strings are written as UTF-8
// into storage owned by this object; byte arguments point into the JS buffers, which stay
// alive for the duration of the call. One instance per call: host ops may re-enter JS.
class Arguments {
 public:
  static constexpr unsigned kMax = 8;

  // Converts info[first...]. On an unsupported argument, throws a TypeError and returns false.
  bool Convert(const v8::FunctionCallbackInfo<v8::Value>& info, int first);
  const ngx_node_value_t* values() const { return values_; }
  unsigned count() const { return count_; }

 private:
  ngx_node_value_t values_[kMax];
  unsigned count_ = 0;
  char inline_text_[512];
  std::unique_ptr<char[]> heap_text_;
  std::vector<std::unique_ptr<std::string>> spills_;  // UTF-8 of one-byte strings past ASCII
};

// A string as UTF-8 for the host, in an inline buffer when it is short. Built on the stack by
// a native function that takes a string argument.
class Utf8Text {
 public:
  Utf8Text(v8::Isolate* isolate, v8::Local<v8::String> text);
  // the characters of a one-byte string (Latin-1); ASCII is used in place, not copied
  Utf8Text(const uint8_t* latin1, size_t len);
  const char* data() const { return value_.data; }
  size_t size() const { return value_.len; }
  ngx_node_value_t value() const { return value_; }
  // false: not all ASCII, or not known to be
  bool ascii() const { return ascii_; }

 private:
  ngx_node_value_t value_;
  bool ascii_;
  char inline_[256];
  std::string heap_;   // a longer text
  std::string spill_;  // the UTF-8 of a one-byte text past ASCII
};

// Converts one value for the host; strings are copied into *storage.
bool ToHostValue(v8::Isolate* isolate, v8::Local<v8::Value> value,
                 ngx_node_value_t* out, std::string* storage);

// A V8 string of UTF-8 text; `ascii` (the caller knows it) makes a one-byte copy, not decoded.
v8::MaybeLocal<v8::String> NewText(v8::Isolate* isolate, const char* data, size_t len, bool ascii);

v8::Local<v8::Value> FromHostValue(v8::Isolate* isolate, const ngx_node_value_t& value);

// The result object a host op fills in; applies itself to the call's return value.
class Result {
 public:
  explicit Result(const v8::FunctionCallbackInfo<v8::Value>& info);
  ngx_node_result_t* abi() { return &abi_; }
  // The call returns an array, empty unless the host push()es.
  void ReturnArray();
  // Sets the JS return value or throws the recorded failure.
  void Finish();

 private:
  static void Set(ngx_node_result_t* res, const ngx_node_value_t* v);
  static void Push(ngx_node_result_t* res, const ngx_node_value_t* v);
  static void Fail(ngx_node_result_t* res, unsigned kind, const char* msg, size_t len);

  const v8::FunctionCallbackInfo<v8::Value>& info_;
  ngx_node_result_t abi_;
  v8::Local<v8::Array> array_;
  uint32_t length_ = 0;
  bool failed_ = false;
  unsigned failure_kind_ = NGX_NODE_FAIL_ERROR;
  std::string failure_;
};

}  // namespace ngx_node

#endif
