// JSON inside literllm: simdjson reads, RapidJSON holds the document (DOM that
// adapters edit) and writes; bench/bench_json.cpp has the measurements behind
// the split. Helpers shared by every layer live here.
#pragma once
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "literllm.h"

namespace literllm::json {

// RapidJSON's memory, through ::operator new: std::bad_alloc where RapidJSON's
// CrtAllocator returns NULL (which RapidJSON then writes through: its asserts
// are compiled out). The CrtAllocator interface. In a namespace of its own: the
// types below must not bring json's functions into argument-dependent lookup.
namespace alloc {
class NewAllocator {
 public:
  static const bool kNeedFree = true;
  void* Malloc(size_t size) { return size ? ::operator new(size) : nullptr; }
  // A new block, the old contents copied, the old block freed; size 0 frees.
  void* Realloc(void* p, size_t old_size, size_t new_size) {
    if (new_size == 0) {
      Free(p);
      return nullptr;
    }
    void* q = ::operator new(new_size);
    if (p) {
      std::memcpy(q, p, std::min(old_size, new_size));
      ::operator delete(p);
    }
    return q;
  }
  static void Free(void* p) { ::operator delete(p); }
};
}  // namespace alloc
using alloc::NewAllocator;
namespace alloc {

// RapidJSON's pool, in 8 KiB chunks rather than its default 64 KiB: a stream
// makes a small document or two per event (the event parsed, the chunk
// built), and two or three 64 KiB pools freed together at the top of the heap
// crossed glibc's trim threshold, so that every event paid brk() calls and
// page faults (measured: 25-40x the per-chunk time, bench/bench_native).
// A large document simply takes more chunks (each as large as a string that
// needs it).
class PoolAllocator : public rapidjson::MemoryPoolAllocator<NewAllocator> {
 public:
  static constexpr size_t kChunkBytes = 8u << 10;
  explicit PoolAllocator(size_t chunk_size = kChunkBytes, NewAllocator* base = nullptr)
      : rapidjson::MemoryPoolAllocator<NewAllocator>(chunk_size, base) {}
};
}  // namespace alloc
using Allocator = alloc::PoolAllocator;
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator, NewAllocator>;
using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Allocator>;
using StringBuffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, NewAllocator>;
using Writer = rapidjson::Writer<StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, NewAllocator>;

// Parses `text` (validating UTF-8; refusing nesting deeper than 512 levels,
// lone surrogate escapes and NUL bytes between tokens). Numbers are read
// correctly rounded. Throws Error(status) naming `what` on failure, and
// std::bad_alloc when memory runs out.
Document parse(std::string_view text, const char* what, llm_status status);
// As parse; a text that is not JSON also gives the byte where it stops being so.
Document parse(std::string_view text, const char* what, llm_status status, size_t* error_at);

// The path (".a[2].b") of the first member name that an object repeats, if any.
// Iterative; O(size log size).
std::optional<std::string> find_duplicate_key(const Value& root);

// Compact serialization.
std::string dump(const Value& v);

// For tests: the text capacity of the calling thread's cached simdjson parser
// (0 when the thread holds none).
size_t thread_parser_capacity();

// A JSON type name for messages: "string", "number", "object", ...
const char* type_name(const Value& v);

// Member lookup that tolerates a non-object: nullptr when absent.
inline const Value* find(const Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  // Through a Value: a StringRef alone would convert to const char* and be
  // measured with strlen (past the view's end, or short at a NUL in the key).
  const Value name(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

inline std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

// A string value holding a copy of `s` (an empty view may have no data: "" then).
inline Value str(std::string_view s, Allocator& a) {
  return Value(s.data() ? s.data() : "", static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace literllm::json
