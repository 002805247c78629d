// JSON inside literllm: simdjson reads, RapidJSON holds the document (DOM that
// adapters edit) and writes; bench/bench_json.cpp has the measurements behind
// the split. Helpers shared by every layer live here.
#pragma once
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <optional>
#include <string>
#include <string_view>

#include "literllm.h"

namespace literllm::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// Parses `text` (validating UTF-8; refusing nesting deeper than 512 levels,
// lone surrogate escapes and NUL bytes between tokens). Numbers are read
// correctly rounded. Throws Error(status) naming `what` on failure.
Document parse(std::string_view text, const char* what, llm_status status);

// The path (".a[2].b") of the first member name that an object repeats, if any.
// Iterative; O(size log size).
std::optional<std::string> find_duplicate_key(const Value& root);

// Compact serialization.
std::string dump(const Value& v);

// A JSON type name for messages: "string", "number", "object", ...
const char* type_name(const Value& v);

// Member lookup that tolerates a non-object: nullptr when absent.
inline const Value* find(const Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::StringRef(key.data(), key.size()));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

inline std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

inline Value str(std::string_view s, Allocator& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace literllm::json
