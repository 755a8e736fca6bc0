#include "large_text.h"

#include "values.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ngx_node {

namespace {

// what the pool keeps at most: a few chunks' worth (proxy_buffer_size is 1 MB at most, usually)
constexpr size_t kPoolBytes = 8 * 1024 * 1024;

// Blocks of strings V8 let go, for the next strings (V8 disposes of a string on the thread of
// its isolate, as Node.js's own external strings assume).
class BlockPool {
 public:
  // A block of at least len bytes; *capacity is its size. nullptr: out of memory.
  char* Take(size_t len, size_t* capacity) {
    for (size_t i = 0; i < blocks_.size(); i++) {
      if (blocks_[i].second < len) continue;
      char* block = blocks_[i].first;
      *capacity = blocks_[i].second;
      pooled_ -= *capacity;
      blocks_[i] = blocks_.back();
      blocks_.pop_back();
      return block;
    }
    // sizes in powers of two, so that a block fits many of the chunks that come later
    size_t size = kLargeText;
    while (size < len) size <<= 1;
    *capacity = size;
    return static_cast<char*>(malloc(size));
  }

  void Give(char* block, size_t capacity) {
    if (pooled_ + capacity <= kPoolBytes) {
      blocks_.emplace_back(block, capacity);
      pooled_ += capacity;
      return;
    }
    free(block);
  }

 private:
  std::vector<std::pair<char*, size_t>> blocks_;
  size_t pooled_ = 0;
};

BlockPool pool;

class PooledText : public v8::String::ExternalOneByteStringResource {
 public:
  PooledText(v8::Isolate* isolate, char* block, size_t length, size_t capacity)
      : isolate_(isolate), block_(block), length_(length), capacity_(capacity) {
    isolate_->AdjustAmountOfExternalAllocatedMemory(static_cast<int64_t>(capacity_));
  }
  ~PooledText() override {
    isolate_->AdjustAmountOfExternalAllocatedMemory(-static_cast<int64_t>(capacity_));
    pool.Give(block_, capacity_);
  }
  PooledText(const PooledText&) = delete;
  PooledText& operator=(const PooledText&) = delete;

  const char* data() const override { return block_; }
  size_t length() const override { return length_; }

 private:
  v8::Isolate* isolate_;
  char* block_;
  size_t length_;
  size_t capacity_;
};

// Copies len bytes if they are all ASCII (else false, with some copied): one pass over the
// source, 64 bytes at a time.
bool CopyAscii(char* to, const char* from, size_t len) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 64 <= len; i += 64) {
    const __m128i* source = reinterpret_cast<const __m128i*>(from + i);
    __m128i a = _mm_loadu_si128(source);
    __m128i b = _mm_loadu_si128(source + 1);
    __m128i c = _mm_loadu_si128(source + 2);
    __m128i d = _mm_loadu_si128(source + 3);
    // the top bit of each byte: set past ASCII
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) return false;
    __m128i* dest = reinterpret_cast<__m128i*>(to + i);
    _mm_storeu_si128(dest, a);
    _mm_storeu_si128(dest + 1, b);
    _mm_storeu_si128(dest + 2, c);
    _mm_storeu_si128(dest + 3, d);
  }
#endif
  if (!IsAscii(from + i, len - i)) return false;
  memcpy(to + i, from + i, len - i);
  return true;
}

}  // namespace

v8::MaybeLocal<v8::String> NewLargeAsciiText(v8::Isolate* isolate, const char* data, size_t len) {
  size_t capacity;
  char* block = pool.Take(len, &capacity);
  if (block == nullptr) return v8::MaybeLocal<v8::String>();
  if (!CopyAscii(block, data, len)) {
    pool.Give(block, capacity);
    return v8::MaybeLocal<v8::String>();
  }
  PooledText* text = new PooledText(isolate, block, len, capacity);
  v8::MaybeLocal<v8::String> string = v8::String::NewExternalOneByte(isolate, text);
  // (V8 owns the resource once the string is made; not when it refuses, e.g. a text too long)
  if (string.IsEmpty()) delete text;
  return string;
}

}  // namespace ngx_node
