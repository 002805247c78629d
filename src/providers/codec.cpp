// The codec helpers of codec.hpp that are not inline: native bodies' common
// ending, their HTTP request, and the turn ordering of Messages-style
// conversations.
#include "providers/codec.hpp"

#include "http/headers.hpp"

namespace literllm::codec {

void finish_body(json::Value& req, json::Value& body, const Target& t, json::Allocator& a, bool drop_stream) {
  merge_provider_options(req, body, t, a);
  if (auto eb = req.FindMember("extra_body"); eb != req.MemberEnd() && eb->value.IsObject()) {
    json::Value extra(eb->value, a);
    if (drop_stream)
      while (extra.RemoveMember("stream")) {}
    add_new_members(body, extra, a);
  }
}

http::Request post_json(const Target& t, std::string url, const json::Value& body, const char* accept,
                        std::initializer_list<std::pair<const char*, const char*>> extra) {
  http::Request r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = json::dump(body);
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Accept", accept);
  for (auto& [name, value] : extra) r.headers.emplace_back(name, value);
  for (auto& h : t.headers) http::set_header(r.headers, h.first, h.second);
  return r;
}

json::Value tool_schema(const json::Value* parameters, json::Allocator& a) {
  if (parameters && parameters->IsObject()) return json::Value(*parameters, a);
  json::Value schema(rapidjson::kObjectType);
  schema.AddMember("type", "object", a);
  schema.AddMember("properties", json::Value(rapidjson::kObjectType), a);
  return schema;
}

json::Value usage_of(const json::Value& u, const UsageNames& names, json::Allocator& a) {
  auto num = [&](const char* k) -> int64_t {
    const json::Value* v = json::find(u, k);
    return v && v->IsInt64() ? v->GetInt64() : 0;
  };
  return usage(num(names.input), num(names.output), num(names.cache_read), num(names.cache_write), a);
}

void conversation(const json::Value& msgs, TurnWriter& w, const char* provider, bool function_role,
                  json::Value& body, json::Allocator& a) {
  json::Value system(rapidjson::kArrayType);
  json::Value out(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < msgs.Size(); ++i) {
    const json::Value& m = msgs[i];
    std::string path = "messages[" + std::to_string(i) + "]";
    std::string_view role = str_of(m, "role");
    const json::Value* content = json::find(m, "content");
    if (role == "system" || role == "developer") {
      if (content) w.content_blocks(*content, system, path + ".content");
      w.cache_mark(m, system);
      continue;
    }
    json::Value blocks(rapidjson::kArrayType);
    std::string_view turn = "user";
    if (role == "user") {
      if (content) w.content_blocks(*content, blocks, path + ".content");
    } else if (role == "assistant") {
      turn = "assistant";
      // Signed reasoning (Anthropic's shape on our messages; another provider's is not sent) goes first.
      if (const json::Value* tb = json::find(m, "thinking_blocks"); tb && tb->IsArray())
        for (auto& b : tb->GetArray())
          if (str_of(b, "type") == "thinking" || str_of(b, "type") == "redacted_thinking")
            blocks.PushBack(w.thinking_block(b), a);
      if (content) w.content_blocks(*content, blocks, path + ".content");
      if (const json::Value* tcs = json::find(m, "tool_calls"); tcs && tcs->IsArray())
        for (rapidjson::SizeType k = 0; k < tcs->Size(); ++k)
          blocks.PushBack(w.tool_use((*tcs)[k], path + ".tool_calls[" + std::to_string(k) + "]"), a);
    } else if (role == "tool" || (function_role && role == "function")) {
      blocks.PushBack(w.tool_result(m, path), a);
    } else {
      bad(path + ".role", "\"" + std::string(role) + "\" cannot be sent to " + provider);
    }
    w.cache_mark(m, blocks);
    if (blocks.Empty()) continue;  // an empty turn (the APIs refuse empty content)
    if (!out.Empty() && str_of(out[out.Size() - 1], "role") == turn) {
      json::Value& prev = out[out.Size() - 1]["content"];
      if (w.leads_turn(blocks[0])) {
        json::Value merged(rapidjson::kArrayType);
        for (auto& b : prev.GetArray())
          if (w.leads_turn(b)) merged.PushBack(b, a);
        for (auto& b : blocks.GetArray()) merged.PushBack(b, a);
        for (auto& b : prev.GetArray())
          if (!b.IsNull() && !w.leads_turn(b)) merged.PushBack(b, a);
        prev = merged;
      } else {
        for (auto& b : blocks.GetArray()) prev.PushBack(b, a);
      }
      continue;
    }
    json::Value msg(rapidjson::kObjectType);
    msg.AddMember("role", json::str(turn, a), a);
    msg.AddMember("content", blocks, a);
    out.PushBack(msg, a);
  }
  if (!system.Empty()) body.AddMember("system", system, a);
  if (out.Empty()) invalid(std::string("request.messages: ") + provider + " needs at least one user or assistant message");
  body.AddMember("messages", out, a);
}

}  // namespace literllm::codec
