// The local upstream's Cohere v2 chat route (POST .../v2/chat): the checks the
// real API makes on what literllm sends, and the deterministic reply as a v2
// answer or its event stream. See README.md.
#include "cohere.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

#include "anthropic.hpp"  // the shared helpers of handler.cpp
#include "json_util.hpp"

namespace literllm::testing::detail {

namespace {

using rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string str(const Value& o, const char* k) {
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                     : std::string();
}

// Cohere's error answer: {"id": ..., "message": ...}.
Plan cohere_error(int status, const std::string& message) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("id");
  w.String("cohere-upstream-error");
  w.Key("message");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return shared::json_plan(status, sb.GetString());
}

// The text of a message's content (a string, or text parts joined by a space).
std::string text_of(const Value& m) {
  auto c = m.FindMember("content");
  if (c == m.MemberEnd()) return {};
  if (c->value.IsString()) return c->value.GetString();
  std::string out;
  if (c->value.IsArray())
    for (auto& p : c->value.GetArray())
      if (p.IsObject() && str(p, "type") == "text") out += (out.empty() ? "" : " ") + str(p, "text");
  return out;
}

struct ToolCall {
  std::string id, name, arguments;
};

struct Reply {
  std::string id, text, thinking, plan, finish = "COMPLETE";
  std::vector<ToolCall> calls;
  long input = 0, output = 0, cached = 0;
};

void write_usage(Writer& w, const Reply& r) {
  w.Key("usage");
  w.StartObject();
  for (const char* k : {"billed_units", "tokens"}) {
    w.Key(k);
    w.StartObject();
    w.Key("input_tokens");
    w.Int64(r.input);
    w.Key("output_tokens");
    w.Int64(r.output);
    w.EndObject();
  }
  w.Key("cached_tokens");
  w.Int64(r.cached);
  w.EndObject();
}

std::string body_of(const Reply& r) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("id");
  w.String(r.id.c_str());
  w.Key("finish_reason");
  w.String(r.finish.c_str());
  w.Key("message");
  w.StartObject();
  w.Key("role");
  w.String("assistant");
  if (!r.calls.empty()) {
    w.Key("tool_plan");
    w.String(r.plan.c_str());
    w.Key("tool_calls");
    w.StartArray();
    for (auto& c : r.calls) {
      w.StartObject();
      w.Key("id");
      w.String(c.id.c_str());
      w.Key("type");
      w.String("function");
      w.Key("function");
      w.StartObject();
      w.Key("name");
      w.String(c.name.c_str());
      w.Key("arguments");
      w.String(c.arguments.c_str());
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  } else {
    w.Key("content");
    w.StartArray();
    if (!r.thinking.empty()) {
      w.StartObject();
      w.Key("type");
      w.String("thinking");
      w.Key("thinking");
      w.String(r.thinking.c_str());
      w.EndObject();
    }
    w.StartObject();
    w.Key("type");
    w.String("text");
    w.Key("text");
    w.String(r.text.c_str());
    w.EndObject();
    w.EndArray();
  }
  w.EndObject();
  write_usage(w, r);
  w.EndObject();
  return sb.GetString();
}

// One stream event: "event: <type>\ndata: <json>\n\n", the JSON written by `fill` after its "type".
template <class F>
std::string event(const char* type, F&& fill) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("type");
  w.String(type);
  fill(w);
  w.EndObject();
  return std::string("event: ") + type + "\ndata: " + sb.GetString() + "\n\n";
}

// {"delta":{"message":{<key>: ...}}} with `inner` writing the value.
template <class F>
void message_delta(Writer& w, const char* key, F&& inner) {
  w.Key("delta");
  w.StartObject();
  w.Key("message");
  w.StartObject();
  w.Key(key);
  inner(w);
  w.EndObject();
  w.EndObject();
}

std::vector<std::string> events_of(const Reply& r) {
  std::vector<std::string> ev;
  ev.push_back(event("message-start", [&](Writer& w) {
    w.Key("id");
    w.String(r.id.c_str());
    message_delta(w, "role", [](Writer& x) { x.String("assistant"); });
  }));
  if (!r.calls.empty()) {
    for (auto& piece : shared::two_word_pieces(r.plan))
      ev.push_back(event("tool-plan-delta", [&](Writer& w) {
        message_delta(w, "tool_plan", [&](Writer& x) { x.String(piece.c_str()); });
      }));
    for (size_t i = 0; i < r.calls.size(); ++i) {
      const ToolCall& c = r.calls[i];
      ev.push_back(event("tool-call-start", [&](Writer& w) {
        w.Key("index");
        w.Uint64(i);
        message_delta(w, "tool_calls", [&](Writer& x) { json_util::tool_call_delta(x, -1, true, c.id, c.name, ""); });
      }));
      for (auto& piece : shared::three_pieces(c.arguments))
        ev.push_back(event("tool-call-delta", [&](Writer& w) {
          w.Key("index");
          w.Uint64(i);
          message_delta(w, "tool_calls", [&](Writer& x) { json_util::tool_call_delta(x, -1, false, "", "", piece); });
        }));
      ev.push_back(event("tool-call-end", [&](Writer& w) {
        w.Key("index");
        w.Uint64(i);
      }));
    }
  } else {
    size_t index = 0;
    auto block = [&](const char* kind, const std::string& text) {
      ev.push_back(event("content-start", [&](Writer& w) {
        w.Key("index");
        w.Uint64(index);
        message_delta(w, "content", [&](Writer& x) {
          x.StartObject();
          x.Key("type");
          x.String(kind);
          x.Key(kind);
          x.String("");
          x.EndObject();
        });
      }));
      for (auto& piece : shared::two_word_pieces(text))
        ev.push_back(event("content-delta", [&](Writer& w) {
          w.Key("index");
          w.Uint64(index);
          message_delta(w, "content", [&](Writer& x) {
            x.StartObject();
            x.Key(kind);
            x.String(piece.c_str());
            x.EndObject();
          });
        }));
      ev.push_back(event("content-end", [&](Writer& w) {
        w.Key("index");
        w.Uint64(index);
      }));
      ++index;
    };
    if (!r.thinking.empty()) block("thinking", r.thinking);
    block("text", r.text);
  }
  ev.push_back(event("message-end", [&](Writer& w) {
    w.Key("delta");
    w.StartObject();
    w.Key("finish_reason");
    w.String(r.finish.c_str());
    write_usage(w, r);
    w.EndObject();
  }));
  return ev;
}

const std::set<std::string> kFields = {"model",       "messages",          "tools",        "documents",
                                       "citation_options", "response_format", "safety_mode", "max_tokens",
                                       "stop_sequences", "temperature",    "seed",         "frequency_penalty",
                                       "presence_penalty", "k",             "p",            "logprobs",
                                       "tool_choice", "strict_tools",      "thinking",     "stream",
                                       "priority"};

}  // namespace

bool is_cohere_route(std::string_view path) {
  constexpr std::string_view kSuffix = "/v2/chat";
  return path.size() >= kSuffix.size() && path.compare(path.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

Plan handle_cohere(const RecordedRequest& req, uint64_t n) {
  if (req.method != "POST") return cohere_error(405, "method not allowed");
  rapidjson::Document d;
  d.Parse(req.body.c_str(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) return cohere_error(400, "invalid request: body is not a JSON object");
  for (auto& m : d.GetObject())
    if (!kFields.count(m.name.GetString()))
      return cohere_error(400, std::string("invalid request: unknown field: parameter '") + m.name.GetString() +
                                   "' is not a valid field");
  if (str(d, "model").empty()) return cohere_error(400, "invalid request: model must be a non-empty string");
  auto msgs = d.FindMember("messages");
  if (msgs == d.MemberEnd() || !msgs->value.IsArray() || msgs->value.Empty())
    return cohere_error(400, "invalid request: messages cannot be empty");
  std::set<std::string> call_ids;
  std::string last_user, last_tool;
  long input = 0;
  for (auto& m : msgs->value.GetArray()) {
    if (!m.IsObject()) return cohere_error(400, "invalid request: each message must be an object");
    std::string role = str(m, "role");
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      return cohere_error(400, "invalid request: role must be one of system, user, assistant, tool");
    input += static_cast<long>(shared::count_words(text_of(m)));
    if (role == "assistant") {
      if (auto tcs = m.FindMember("tool_calls"); tcs != m.MemberEnd() && tcs->value.IsArray())
        for (auto& tc : tcs->value.GetArray()) call_ids.insert(str(tc, "id"));
    } else if (role == "tool") {
      if (!call_ids.count(str(m, "tool_call_id")))
        return cohere_error(400, "invalid request: tool message's tool_call_id '" + str(m, "tool_call_id") +
                                     "' matches no tool call of an earlier assistant message");
      last_tool = text_of(m);
    } else if (role == "user") {
      last_user = text_of(m);
      last_tool.clear();
    }
  }
  Reply r;
  r.id = "cohere-upstream-" + std::to_string(n);
  r.input = input;
  long cached = 0;
  if (shared::header_number(req, "x-upstream-cached-tokens", cached)) r.cached = cached;
  r.text = "Hello from the local upstream. You said: " + (last_tool.empty() ? last_user : last_tool);
  auto tools = d.FindMember("tools");
  std::string choice = str(d, "tool_choice");
  if (tools != d.MemberEnd() && tools->value.IsArray() && !tools->value.Empty() && choice != "NONE" &&
      last_tool.empty()) {
    r.plan = "I will call the tools to answer.";
    size_t k = 0;
    for (auto& t : tools->value.GetArray()) {
      auto fn = t.FindMember("function");
      if (fn == t.MemberEnd() || !fn->value.IsObject()) return cohere_error(400, "invalid request: tools[].function is required");
      auto params = fn->value.FindMember("parameters");
      ToolCall c;
      c.id = str(fn->value, "name") + "_upstream" + std::to_string(k++);
      c.name = str(fn->value, "name");
      c.arguments = shared::object_sample(params != fn->value.MemberEnd() ? &params->value : nullptr, true);
      r.calls.push_back(c);
    }
    r.finish = "TOOL_CALL";
    r.output = 5;
  } else {
    if (auto rf = d.FindMember("response_format"); rf != d.MemberEnd() && rf->value.IsObject()) {
      if (str(rf->value, "type") != "json_object" && str(rf->value, "type") != "text")
        return cohere_error(400, "invalid request: response_format.type must be text or json_object");
      if (auto js = rf->value.FindMember("json_schema"); js != rf->value.MemberEnd())
        r.text = shared::schema_sample(js->value);
      else if (str(rf->value, "type") == "json_object")
        r.text = "{\"ok\":true}";
    }
    if (auto th = d.FindMember("thinking"); th != d.MemberEnd() && th->value.IsObject() && str(th->value, "type") == "enabled")
      r.thinking = "Thinking about: " + last_user;
    long max_tokens = 0;
    if (auto mt = d.FindMember("max_tokens"); mt != d.MemberEnd() && mt->value.IsInt64()) max_tokens = mt->value.GetInt64();
    if (max_tokens > 0 && shared::count_words(r.text) > static_cast<size_t>(max_tokens)) {
      r.text = shared::first_words(r.text, static_cast<size_t>(max_tokens));
      r.finish = "MAX_TOKENS";
    }
    r.output = static_cast<long>(shared::count_words(r.text));
  }
  auto stream = d.FindMember("stream");
  if (stream != d.MemberEnd() && stream->value.IsTrue()) {
    Plan p = shared::sse_plan();
    p.events = events_of(r);
    return p;
  }
  return shared::json_plan(200, body_of(r));
}

}  // namespace literllm::testing::detail
