#include "core/json.hpp"

#include "core/error.hpp"

namespace literllm::json {

namespace {
// Nesting deeper than this is refused before parsing: RapidJSON's writer and our
// own walkers recurse, and no real request or response nests this deep.
constexpr int kMaxDepth = 512;

// Returns the byte offset where nesting first exceeds kMaxDepth, or npos.
size_t too_deep_at(std::string_view t) {
  int depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}
}  // namespace

Document parse(std::string_view text, const char* what, llm_status status) {
  if (size_t at = too_deep_at(text); at != std::string_view::npos) {
    throw Error(status, std::string(what) + " nests deeper than " + std::to_string(kMaxDepth) +
                            " levels (at byte " + std::to_string(at) + ")");
  }
  Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (d.HasParseError()) {
    throw Error(status, std::string(what) + " is not valid JSON: " + rapidjson::GetParseError_En(d.GetParseError()) +
                            " (at byte " + std::to_string(d.GetErrorOffset()) + ")");
  }
  return d;
}

std::string dump(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

const char* type_name(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return "number";
  }
  return "unknown";
}

}  // namespace literllm::json
