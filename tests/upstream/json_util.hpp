// Internal to the local upstream: the RapidJSON reading and writing helpers
// its protocol files (handler.cpp, anthropic.cpp, bedrock.cpp, ...) share.
#pragma once
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace literllm::testing::detail::json_util {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// obj[key]; null when `obj` is no object or has no such member.
inline const rapidjson::Value* find(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

inline std::string_view sv(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// obj[key] when it is a string, else "".
inline std::string_view string_member(const rapidjson::Value& obj, const char* key) {
  const rapidjson::Value* v = find(obj, key);
  return v && v->IsString() ? sv(*v) : std::string_view{};
}

inline void put(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

inline std::string done(rapidjson::StringBuffer& sb) { return std::string(sb.GetString(), sb.GetSize()); }

// The JSON text `f(writer)` writes.
template <class F>
std::string json(F&& f) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  f(w);
  return done(sb);
}

// `v` as compact JSON text.
inline std::string compact(const rapidjson::Value& v) {
  return json([&](Writer& w) { v.Accept(w); });
}

// One OpenAI-shaped tool call of a stream: its first delta when `start` (id,
// type "function", function name; `arguments` then "") or a later one (a
// piece of the arguments). `index` >= 0 is written first (OpenAI's chunks;
// Cohere's events carry the index outside).
inline void tool_call_delta(Writer& w, long index, bool start, std::string_view id, std::string_view name,
                            std::string_view arguments) {
  w.StartObject();
  if (index >= 0) {
    w.Key("index");
    w.Uint64(static_cast<uint64_t>(index));
  }
  if (start) {
    w.Key("id");
    put(w, id);
    w.Key("type");
    w.String("function");
  }
  w.Key("function");
  w.StartObject();
  if (start) {
    w.Key("name");
    put(w, name);
  }
  w.Key("arguments");
  put(w, arguments);
  w.EndObject();
  w.EndObject();
}

}  // namespace literllm::testing::detail::json_util
