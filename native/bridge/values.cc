#include "values.h"

#include "buffer_pool.h"
#include "large_text.h"

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
using v8::MaybeLocal;
using v8::NewStringType;
using v8::Number;
using v8::String;
using v8::Value;

// Whether a run of bytes is ASCII: 64 at a time (a loop the compiler makes vector code of),
// then eight at a time.
bool IsAscii(const char* data, size_t len) {
  size_t i = 0;
  for (; i + 64 <= len; i += 64) {
    uint64_t words[8];
    memcpy(words, data + i, sizeof(words));
    uint64_t any = 0;
    for (uint64_t word : words) any |= word;
    if ((any & 0x8080808080808080ull) != 0) return false;
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    memcpy(&word, data + i, sizeof(word));
    if ((word & 0x8080808080808080ull) != 0) return false;
  }
  for (; i < len; i++) {
    if ((static_cast<unsigned char>(data[i]) & 0x80) != 0) return false;
  }
  return true;
}

namespace {

// Fills in everything but the text of strings; *text_len is the room a string needs:
// its length for one-byte strings (ASCII written as is), else its UTF-8 length.
bool Classify(Isolate* isolate, Local<Value> value, ngx_node_value_t* out, size_t* text_len) {
  *out = ngx_node_value_t{NGX_NODE_UNDEFINED, 0, nullptr, 0};
  *text_len = 0;
  // the common kinds first
  if (value->IsString()) {
    Local<String> text = value.As<String>();
    out->type = NGX_NODE_STRING;
    *text_len = text->IsOneByte() ? text->Length() : text->Utf8Length(isolate);
  } else if (value->IsNumber()) {
    out->type = NGX_NODE_NUMBER;
    out->number = value.As<Number>()->Value();
  } else if (value->IsUndefined()) {
    return true;
  } else if (value->IsBoolean()) {
    out->type = NGX_NODE_BOOLEAN;
    out->number = value->IsTrue() ? 1 : 0;
  } else if (value->IsNull()) {
    out->type = NGX_NODE_NULL;
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

size_t WriteUtf8(Isolate* isolate, Local<String> text, char* dest, size_t capacity) {
  return text->WriteUtf8(isolate, dest, static_cast<int>(capacity), nullptr,
                         String::NO_NULL_TERMINATION | String::REPLACE_INVALID_UTF8);
}

// Writes a string as UTF-8 into the `reserved` bytes Classify asked for. A one-byte string
// is copied as is, unless it holds characters past ASCII: then its UTF-8 goes to a string
// spill() provides.
template <typename Spill>
ngx_node_value_t WriteText(Isolate* isolate, Local<String> text, char* dest, size_t reserved,
                           Spill spill) {
  if (text->IsOneByte()) {
    text->WriteOneByte(isolate, reinterpret_cast<uint8_t*>(dest), 0, static_cast<int>(reserved),
                       String::NO_NULL_TERMINATION);
    if (IsAscii(dest, reserved)) return ngx_node_value_t{NGX_NODE_STRING, 0, dest, reserved};
    std::string* utf8 = spill();
    utf8->resize(text->Utf8Length(isolate));
    dest = utf8->data();
    reserved = utf8->size();
  }
  return ngx_node_value_t{NGX_NODE_STRING, 0, dest, WriteUtf8(isolate, text, dest, reserved)};
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
    values_[i] = WriteText(isolate, info[first + i].As<String>(), text, lengths[i], [this] {
      spills_.push_back(std::make_unique<std::string>());
      return spills_.back().get();
    });
    text += lengths[i];
  }
  return true;
}

Utf8Text::Utf8Text(Isolate* isolate, Local<String> text) {
  bool one_byte = text->IsOneByte();
  size_t reserved = one_byte ? text->Length() : text->Utf8Length(isolate);
  char* dest = inline_;
  if (reserved > sizeof(inline_)) {
    heap_.resize(reserved);
    dest = heap_.data();
  }
  value_ = WriteText(isolate, text, dest, reserved, [this] { return &spill_; });
  // a one-byte text is written as it is when it is all ASCII
  ascii_ = one_byte && value_.data == dest;
}

Utf8Text::Utf8Text(const uint8_t* latin1, size_t len) {
  ascii_ = IsAscii(reinterpret_cast<const char*>(latin1), len);
  if (ascii_) {
    value_ = ngx_node_value_t{NGX_NODE_STRING, 0, reinterpret_cast<const char*>(latin1), len};
    return;
  }
  size_t utf8_len = len;
  for (size_t i = 0; i < len; i++) utf8_len += latin1[i] >> 7;
  char* dest = inline_;
  if (utf8_len > sizeof(inline_)) {
    heap_.resize(utf8_len);
    dest = heap_.data();
  }
  char* p = dest;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = latin1[i];
    if (c < 0x80) {
      *p++ = static_cast<char>(c);
    } else {
      *p++ = static_cast<char>(0xc0 | (c >> 6));
      *p++ = static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  value_ = ngx_node_value_t{NGX_NODE_STRING, 0, dest, utf8_len};
}

bool ToHostValue(Isolate* isolate, Local<Value> value, ngx_node_value_t* out,
                 std::string* storage) {
  size_t text_len;
  if (!Classify(isolate, value, out, &text_len)) return false;
  if (out->type == NGX_NODE_STRING) {
    std::string spill;
    storage->resize(text_len);
    *out = WriteText(isolate, value.As<String>(), storage->data(), text_len, [&spill] { return &spill; });
    if (out->data == spill.data()) {
      storage->swap(spill);
      out->data = storage->data();
    }
  } else if (out->type == NGX_NODE_BYTES) {
    storage->assign(out->data, out->len);
    out->data = storage->data();
  }
  return true;
}

MaybeLocal<String> NewText(Isolate* isolate, const char* data, size_t len, bool ascii) {
  // ASCII (what nginx hands over, mostly) is a one-byte string as it is: V8's UTF-8 decoder
  // costs a short string some 150 instructions more
  int length = static_cast<int>(len);
  return ascii ? String::NewFromOneByte(isolate, reinterpret_cast<const uint8_t*>(data),
                                        NewStringType::kNormal, length)
               : String::NewFromUtf8(isolate, data, NewStringType::kNormal, length);
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
      return NewText(isolate, value.data, value.len, IsAscii(value.data, value.len)).ToLocal(&s)
                 ? Local<Value>(s)
                 : Local<Value>(String::Empty(isolate));
    }
    case NGX_NODE_ASCII_OR_BYTES: {
      // one copy, into the string, where a Buffer then its latin1 string would be two
      Local<String> s;
      if (value.len >= kLargeText ? NewLargeAsciiText(isolate, value.data, value.len).ToLocal(&s)
                                  : IsAscii(value.data, value.len) &&
                                        NewText(isolate, value.data, value.len, true).ToLocal(&s)) {
        return s;
      }
    }
      [[fallthrough]];
    case NGX_NODE_BYTES: {
      Local<v8::Object> buffer;
      if (NewBuffer(isolate, value.data, value.len).ToLocal(&buffer)) return buffer;
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

void Result::ReturnArray() {
  if (!array_.IsEmpty()) return;
  array_ = Array::New(info_.GetIsolate());
  info_.GetReturnValue().Set(array_);
}

void Result::Push(ngx_node_result_t* res, const ngx_node_value_t* v) {
  Result* self = static_cast<Result*>(res->bridge_data);
  Isolate* isolate = self->info_.GetIsolate();
  self->ReturnArray();
  self->array_->Set(isolate->GetCurrentContext(), self->length_++, FromHostValue(isolate, *v))
      .Check();
}

void Result::Fail(ngx_node_result_t* res, unsigned kind, const char* msg, size_t len) {
  Result* self = static_cast<Result*>(res->bridge_data);
  self->failed_ = true;
  self->failure_kind_ = kind;
  self->failure_.assign(msg, len);
}

void Result::Finish() {
  if (!failed_) return;
  Isolate* isolate = info_.GetIsolate();
  Local<String> message =
      String::NewFromUtf8(isolate, failure_.data(), NewStringType::kNormal,
                          static_cast<int>(failure_.size()))
          .FromMaybe(String::Empty(isolate));
  switch (failure_kind_) {
    case NGX_NODE_FAIL_TYPE:
      isolate->ThrowException(v8::Exception::TypeError(message));
      break;
    case NGX_NODE_FAIL_RANGE:
      isolate->ThrowException(v8::Exception::RangeError(message));
      break;
    default:
      isolate->ThrowException(v8::Exception::Error(message));
  }
}

}  // namespace ngx_node
