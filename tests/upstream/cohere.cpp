// The local upstream's Cohere v2 chat route (POST .../v2/chat): the checks the
// real API makes on what literllm sends, and the deterministic reply as a v2
// answer or its event stream. See README.md.
#include "cohere.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

#include "embed_vectors.hpp"

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

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The path of a request's target (no query).
std::string_view path_of(const RecordedRequest& req) {
  std::string_view t(req.target);
  return t.substr(0, t.find('?'));
}


// The JSON body as an object, or the error Cohere answers.
std::optional<Plan> read_body(const RecordedRequest& req, rapidjson::Document& d, const std::set<std::string>& fields) {
  d.Parse(req.body.c_str(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) return cohere_error(400, "invalid request: body is not a JSON object");
  for (auto& m : d.GetObject())
    if (!fields.count(m.name.GetString()))
      return cohere_error(400, std::string("invalid request: unknown field: parameter '") + m.name.GetString() +
                                   "' is not a valid field");
  if (str(d, "model").empty()) return cohere_error(400, "invalid request: model must be a non-empty string");
  return std::nullopt;
}

// POST /v2/embed: texts, input_type (required), embedding_types; vectors of
// upstream_embedding (output_dimension long, else 8), billed input tokens the texts' words.
Plan cohere_embed(const RecordedRequest& req) {
  static const std::set<std::string> kEmbedFields = {"model",     "texts",           "images",     "inputs",
                                                     "input_type", "embedding_types", "truncate",   "output_dimension",
                                                     "max_tokens", "priority"};
  rapidjson::Document d;
  if (auto bad = read_body(req, d, kEmbedFields)) return *bad;
  static const std::set<std::string> kInputTypes = {"search_document", "search_query", "classification", "clustering",
                                                    "image"};
  if (!kInputTypes.count(str(d, "input_type")))
    return cohere_error(400, "invalid request: valid input_type must be provided with the provided model");
  auto texts = d.FindMember("texts");
  if (texts == d.MemberEnd() || !texts->value.IsArray() || texts->value.Empty())
    return cohere_error(400, "invalid request: texts must be a non-empty list of strings");
  if (texts->value.Size() > 96) return cohere_error(400, "invalid request: texts must contain at most 96 items");
  for (auto& t : texts->value.GetArray())
    if (!t.IsString()) return cohere_error(400, "invalid request: texts must be a list of strings");
  std::vector<std::string> types;
  if (auto et = d.FindMember("embedding_types"); et != d.MemberEnd()) {
    if (!et->value.IsArray()) return cohere_error(400, "invalid request: embedding_types must be a list");
    for (auto& t : et->value.GetArray()) {
      std::string ty = t.IsString() ? t.GetString() : "";
      if (ty != "float" && ty != "int8" && ty != "uint8" && ty != "binary" && ty != "ubinary" && ty != "base64")
        return cohere_error(400, "invalid request: embedding_types must be one of float, int8, uint8, binary, "
                                 "ubinary, base64");
      types.push_back(ty);
    }
  }
  if (types.empty()) types.push_back("float");
  int dims = 8;
  if (auto od = d.FindMember("output_dimension"); od != d.MemberEnd()) {
    if (!od->value.IsInt() || (od->value.GetInt() != 256 && od->value.GetInt() != 512 &&
                               od->value.GetInt() != 1024 && od->value.GetInt() != 1536))
      return cohere_error(400, "invalid request: output_dimension must be one of 256, 512, 1024, 1536");
    dims = od->value.GetInt();
  }
  long words = 0;
  for (auto& t : texts->value.GetArray()) words += upstream_words(t.GetString());
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("id");
  w.String("cohere-upstream-embed");
  w.Key("texts");
  texts->value.Accept(w);
  w.Key("embeddings");
  w.StartObject();
  for (const std::string& ty : types) {
    w.Key(ty.c_str());
    w.StartArray();
    for (auto& t : texts->value.GetArray()) {
      w.StartArray();
      for (double x : upstream_embedding(t.GetString(), dims)) {
        if (ty == "float") w.Double(x);
        else w.Int(static_cast<int>(x * 127));
      }
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("meta");
  w.StartObject();
  w.Key("api_version");
  w.StartObject();
  w.Key("version");
  w.String("2");
  w.EndObject();
  w.Key("billed_units");
  w.StartObject();
  w.Key("input_tokens");
  w.Int64(words);
  w.EndObject();
  w.EndObject();
  w.Key("response_type");
  w.String("embeddings_by_type");
  w.EndObject();
  return shared::json_plan(200, sb.GetString());
}

// POST /v2/rerank: documents are strings (v2); relevance of a document: the
// share of the query's words it contains, less its index / 1000 (so ties
// break by order); results by relevance, top_n of them.
Plan cohere_rerank(const RecordedRequest& req) {
  static const std::set<std::string> kRerankFields = {"model", "query", "documents", "top_n", "max_tokens_per_doc",
                                                      "priority"};
  rapidjson::Document d;
  if (auto bad = read_body(req, d, kRerankFields)) return *bad;
  std::string query = str(d, "query");
  if (query.empty()) return cohere_error(400, "invalid request: query must be a non-empty string");
  auto docs = d.FindMember("documents");
  if (docs == d.MemberEnd() || !docs->value.IsArray() || docs->value.Empty())
    return cohere_error(400, "invalid request: documents must be a non-empty list");
  std::vector<std::string> qwords;
  for (size_t at = 0; at < query.size();) {
    size_t sp = query.find(' ', at);
    std::string wd = query.substr(at, sp == std::string::npos ? std::string::npos : sp - at);
    if (!wd.empty()) qwords.push_back(wd);
    if (sp == std::string::npos) break;
    at = sp + 1;
  }
  std::vector<std::pair<double, size_t>> scored;
  for (rapidjson::SizeType i = 0; i < docs->value.Size(); ++i) {
    const Value& doc = docs->value[i];
    if (!doc.IsString())
      return cohere_error(400, "invalid request: documents must be a list of strings (v2 takes no objects)");
    std::string text = doc.GetString();
    size_t hits = 0;
    for (auto& q : qwords) hits += text.find(q) != std::string::npos;
    double score = static_cast<double>(hits) / static_cast<double>(qwords.size()) - static_cast<double>(i) / 1000.0;
    scored.emplace_back(score < 0 ? 0 : score, i);
  }
  std::stable_sort(scored.begin(), scored.end(), [](auto& x, auto& y) { return x.first > y.first; });
  if (auto tn = d.FindMember("top_n"); tn != d.MemberEnd()) {
    if (!tn->value.IsInt() || tn->value.GetInt() < 1) return cohere_error(400, "invalid request: top_n must be positive");
    if (static_cast<size_t>(tn->value.GetInt()) < scored.size()) scored.resize(static_cast<size_t>(tn->value.GetInt()));
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("results");
  w.StartArray();
  for (auto& [score, i] : scored) {
    w.StartObject();
    w.Key("index");
    w.Uint64(i);
    w.Key("relevance_score");
    w.Double(score);
    w.EndObject();
  }
  w.EndArray();
  w.Key("id");
  w.String("cohere-upstream-rerank");
  w.Key("meta");
  w.StartObject();
  w.Key("api_version");
  w.StartObject();
  w.Key("version");
  w.String("2");
  w.EndObject();
  w.Key("billed_units");
  w.StartObject();
  w.Key("search_units");
  w.Int(1);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return shared::json_plan(200, sb.GetString());
}

// GET /cohere/v1/models: two models a page (page_size), page_token the index to start at.
Plan cohere_models(const RecordedRequest& req) {
  struct Model {
    const char* name;
    const char* endpoint;
    int context;
  };
  static constexpr Model kModels[] = {{"command-a-03-2025", "chat", 256000},
                                      {"embed-v4.0", "embed", 128000},
                                      {"rerank-v3.5", "rerank", 4096}};
  const std::string endpoint = shared::query_param(req, "endpoint");
  std::vector<const Model*> all;
  for (const Model& m : kModels)
    if (endpoint.empty() || endpoint == m.endpoint) all.push_back(&m);
  size_t start = 0, size = 1000;
  if (std::string t = shared::query_param(req, "page_token"); !t.empty()) start = std::strtoul(t.c_str(), nullptr, 10);
  if (std::string ps = shared::query_param(req, "page_size"); !ps.empty()) size = std::strtoul(ps.c_str(), nullptr, 10);
  if (size == 0) return cohere_error(400, "invalid request: page_size must be at least 1");
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("models");
  w.StartArray();
  size_t i = start;
  for (; i < all.size() && i < start + size; ++i) {
    w.StartObject();
    w.Key("name");
    w.String(all[i]->name);
    w.Key("endpoints");
    w.StartArray();
    w.String(all[i]->endpoint);
    w.EndArray();
    w.Key("finetuned");
    w.Bool(false);
    w.Key("context_length");
    w.Int(all[i]->context);
    w.Key("features");
    w.Null();
    w.EndObject();
  }
  w.EndArray();
  if (i < all.size()) {
    w.Key("next_page_token");
    std::string next = std::to_string(i);
    w.String(next.c_str());
  }
  w.EndObject();
  return shared::json_plan(200, sb.GetString());
}

}  // namespace

bool is_cohere_route(std::string_view path) {
  return ends_with(path, "/v2/chat") || ends_with(path, "/v2/embed") || ends_with(path, "/v2/rerank") ||
         ends_with(path, "/cohere/v1/models");
}

Plan handle_cohere(const RecordedRequest& req, uint64_t n) {
  const std::string_view path = path_of(req);
  if (ends_with(path, "/v1/models")) {
    if (req.method != "GET") return cohere_error(405, "method not allowed");
    return cohere_models(req);
  }
  if (req.method != "POST") return cohere_error(405, "method not allowed");
  if (ends_with(path, "/v2/embed")) return cohere_embed(req);
  if (ends_with(path, "/v2/rerank")) return cohere_rerank(req);
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
