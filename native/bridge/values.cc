#include "values.h"

#include <node_buffer.h>

#include <cstring>

namespace ngx_node {

using v8::Array;
using v8::ArrayBuffer;
using v8::ArrayBufferView;
using v8::Boolean;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::NewStringType;
using v8::Number;
using v8::String;
using v8::Value;

namespace {

// Fills in everything but the text of strings; returns the UTF-8 length a string needs.
bool Classify(Isolate* isolate, Local<Value> value, ngx_node_value_t* out, size_t* text_len) {
  *out = ngx_node_value_t{NGX_NODE_UNDEFINED, 0, nullptr, 0};
  *text_len = 0;
  if (value->IsUndefined()) return true;
  if (value->IsNull()) {
    out->type = NGX_NODE_NULL;
  } else if (value->IsBoolean()) {
    out->type = NGX_NODE_BOOLEAN;
    out->number = value->IsTrue() ? 1 : 0;
  } else if (value->IsNumber()) {
    out->type = NGX_NODE_NUMBER;
    out->number = value.As<Number>()->Value();
  } else if (value->IsString()) {
    out->type = NGX_NODE_STRING;
    *text_len = value.As<String>()->Utf8Length(isolate);
  } else if (value->IsArrayBufferView()) {
    out->type = NGX_NODE_BYTES;
    out->data = node::Buffer::Data(value);
    out->len = node::Buffer::Length(value);
  } else if (value->IsArrayBuffer()) {
    Local<ArrayBuffer> buffer = value.As<ArrayBuffer>();
    out->type = NGX_NODE_BYTES;
    out->data = static_cast<const char*>(buffer->GetBackingStore()->Data());
    out->len = buffer->ByteLength();
  } else {
    return false;
  }
  return true;
}

size_t WriteText(Isolate* isolate, Local<Value> value, char* dest, size_t capacity) {
  return value.As<String>()->WriteUtf8(
      isolate, dest, static_cast<int>(capacity), nullptr,
      String::NO_NULL_TERMINATION | String::REPLACE_INVALID_UTF8);
}

}  // namespace

bool Arguments::Convert(const FunctionCallbackInfo<Value>& info, int first) {
  Isolate* isolate = info.GetIsolate();
  size_t lengths[kMax];
  size_t total = 0;
  count_ = 0;
  if (info.Length() - first > static_cast<int>(kMax)) {
    isolate->ThrowException(v8::Exception::RangeError(
        String::NewFromUtf8Literal(isolate, "ngx-node: too many arguments")));
    return false;
  }
  for (int i = first; i < info.Length(); i++, count_++) {
    if (!Classify(isolate, info[i], &values_[count_], &lengths[count_])) {
      isolate->ThrowException(v8::Exception::TypeError(
          String::NewFromUtf8Literal(isolate, "ngx-node: unsupported argument type")));
      return false;
    }
    total += lengths[count_];
  }
  char* text = inline_text_;
  if (total > sizeof(inline_text_)) {
    heap_text_.reset(new char[total]);
    text = heap_text_.get();
  }
  for (unsigned i = 0; i < count_; i++) {
    if (values_[i].type != NGX_NODE_STRING) continue;
    values_[i].data = text;
    values_[i].len = WriteText(isolate, info[first + i], text, lengths[i]);
    text += lengths[i];
  }
  return true;
}

bool ToHostValue(Isolate* isolate, Local<Value> value, ngx_node_value_t* out,
                 std::string* storage) {
  size_t text_len;
  if (!Classify(isolate, value, out, &text_len)) return false;
  if (out->type == NGX_NODE_STRING) {
    storage->resize(text_len);
    out->len = WriteText(isolate, value, storage->data(), text_len);
    out->data = storage->data();
  } else if (out->type == NGX_NODE_BYTES) {
    storage->assign(out->data, out->len);
    out->data = storage->data();
  }
  return true;
}

Local<Value> FromHostValue(Isolate* isolate, const ngx_node_value_t& value) {
  switch (value.type) {
    case NGX_NODE_NULL:
      return v8::Null(isolate);
    case NGX_NODE_BOOLEAN:
      return Boolean::New(isolate, value.number != 0);
    case NGX_NODE_NUMBER:
      return Number::New(isolate, value.number);
    case NGX_NODE_STRING: {
      Local<String> s;
      if (String::NewFromUtf8(isolate, value.data, NewStringType::kNormal,
                              static_cast<int>(value.len)).ToLocal(&s)) {
        return s;
      }
      return v8::String::Empty(isolate);
    }
    case NGX_NODE_BYTES: {
      Local<v8::Object> buffer;
      if (node::Buffer::Copy(isolate, value.data, value.len).ToLocal(&buffer)) return buffer;
      return v8::Undefined(isolate);
    }
    default:
      return v8::Undefined(isolate);
  }
}

Result::Result(const FunctionCallbackInfo<Value>& info) : info_(info) {
  abi_.bridge_data = this;
  abi_.set = Set;
  abi_.push = Push;
  abi_.fail = Fail;
}

void Result::Set(ngx_node_result_t* res, const ngx_node_value_t* v) {
  Result* self = static_cast<Result*>(res->bridge_data);
  self->info_.GetReturnValue().Set(FromHostValue(self->info_.GetIsolate(), *v));
}

void Result::Push(ngx_node_result_t* res, const ngx_node_value_t* v) {
  Result* self = static_cast<Result*>(res->bridge_data);
  Isolate* isolate = self->info_.GetIsolate();
  if (self->array_.IsEmpty()) {
    self->array_ = Array::New(isolate);
    self->info_.GetReturnValue().Set(self->array_);
  }
  self->array_->Set(isolate->GetCurrentContext(), self->length_++, FromHostValue(isolate, *v))
      .Check();
}

void Result::Fail(ngx_node_result_t* res, const char* msg, size_t len) {
  Result* self = static_cast<Result*>(res->bridge_data);
  self->failed_ = true;
  self->failure_.assign(msg, len);
}

void Result::Finish() {
  if (!failed_) return;
  Isolate* isolate = info_.GetIsolate();
  Local<String> message =
      String::NewFromUtf8(isolate, failure_.data(), NewStringType::kNormal,
                          static_cast<int>(failure_.size()))
          .FromMaybe(String::Empty(isolate));
  isolate->ThrowException(v8::Exception::Error(message));
}

}  // namespace ngx_node
