#include "core/json.hpp"

#include "core/error.hpp"

namespace literllm::json {

Document parse(std::string_view text, const char* what, llm_status status) {
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
