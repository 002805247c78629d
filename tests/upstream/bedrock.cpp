// The local upstream's Amazon Bedrock Converse API: SigV4 verification (with
// the library's signer, src/auth/sigv4.hpp), the checks the real API makes
// (answered in AWS's error shape), the deterministic reply, and ConverseStream's
// binary event stream (src/http/eventstream.hpp). Also InvokeModel for the
// embedding models, ListFoundationModels (GET .../foundation-models: a fixed
// catalogue, filtered by byProvider, byOutputModality, byInferenceType,
// byCustomizationType, each checked as AWS checks it) and the Agent Runtime's
// Rerank (POST /rerank: Coral's constraints on queries, sources and
// rerankingConfiguration; a relevance from shared query words, most relevant
// first, numberOfResults of them). Pure functions of the request.
#include "bedrock.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anthropic.hpp"  // shared helpers, thinking_signature
#include "embed_vectors.hpp"
#include "auth/sigv4.hpp"
#include "http/eventstream.hpp"
#include "http/url.hpp"
#include "json_util.hpp"
#include "reply.hpp"

namespace literllm::testing::detail {

namespace {

using rapidjson::Value;
using namespace json_util;  // find, sv, string_member, put, json, ...
using shared::count_words;

constexpr std::string_view kCoralService = "http://internal.amazon.com/coral/com.amazon.coral.service/";
constexpr std::string_view kCoralBedrock = "http://internal.amazon.com/coral/com.amazon.bedrock/";
constexpr std::string_view kAlternate =
    "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between "
    "user and assistant roles and try again.";
constexpr std::string_view kStartWithUser =
    "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
constexpr long kLatencyMs = 100;

// A failed check: status, AWS error type, message.
struct Fail {
  int status;
  std::string type, message;
};

[[noreturn]] void fail(std::string message) { throw Fail{400, "ValidationException", std::move(message)}; }

// ---- Coral's constraint messages (1-based member paths) ---------------------------

[[noreturn]] void constraint(const std::string& value, const std::string& at, const std::string& what) {
  fail("1 validation error detected: Value " + value + " at '" + at + "' failed to satisfy constraint: " + what);
}
[[noreturn]] void null_at(const std::string& at) { constraint("null", at, "Member must not be null"); }
// A Coral member path ("messages.1.member.content") as the JSON pointer Bedrock's schema validator
// names ("#/messages/0/content").
std::string pointer(const std::string& coral) {
  std::string out = "#";
  size_t at = 0;
  while (at <= coral.size() && !coral.empty()) {
    size_t dot = coral.find('.', at);
    std::string part = coral.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
    if (part != "member") {
      bool number = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
      out += "/" + (number ? std::to_string(std::stoul(part) - 1) : part);
    }
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  return out;
}
[[noreturn]] void extraneous(std::string_view key, const std::string& at = {}) {
  fail("Malformed input request: " + pointer(at) + ": extraneous key [" + std::string(key) +
       "] is not permitted, please reformat your input and try again.");
}
[[noreturn]] void malformed(const std::string& at, const std::string& why) {
  fail("Malformed input request: " + at + ": " + why + ", please reformat your input and try again.");
}

std::string quoted(const Value& v) {
  if (v.IsString()) return "'" + std::string(sv(v)) + "'";
  return "'" + compact(v) + "'";
}

void only_keys(const Value& obj, const std::string& at, std::initializer_list<std::string_view> keys) {
  if (!obj.IsObject()) malformed(at, "expected type: JSONObject, found: " + compact(obj));
  for (const auto& m : obj.GetObject())
    if (std::find(keys.begin(), keys.end(), sv(m.name)) == keys.end()) extraneous(sv(m.name), at);
}

const Value& need(const Value& obj, const char* key, const std::string& at) {
  const Value* v = find(obj, key);
  if (!v || v->IsNull()) null_at(at + "." + key);
  return *v;
}

std::string_view need_string(const Value& obj, const char* key, const std::string& at) {
  const Value& v = need(obj, key, at);
  if (!v.IsString()) malformed(at + "." + key, "expected type: String, found: " + compact(v));
  return sv(v);
}

// A union: exactly one member, one of `members`. Returns its name.
std::string_view union_member(const Value& obj, const std::string& at, std::initializer_list<std::string_view> members) {
  if (!obj.IsObject()) malformed(at, "expected type: JSONObject, found: " + compact(obj));
  for (const auto& m : obj.GetObject())
    if (std::find(members.begin(), members.end(), sv(m.name)) == members.end()) extraneous(sv(m.name), at);
  if (obj.MemberCount() != 1)
    fail("1 validation error detected: Value at '" + at + "' failed to satisfy constraint: Member must have exactly "
         "one member set");
  return sv(obj.MemberBegin()->name);
}

void enum_of(const Value& v, const std::string& at, std::initializer_list<std::string_view> values) {
  if (v.IsString() && std::find(values.begin(), values.end(), sv(v)) != values.end()) return;
  std::string set;
  for (std::string_view s : values) set += (set.empty() ? "" : ", ") + std::string(s);
  constraint(quoted(v), at, "Member must satisfy enum value set: [" + set + "]");
}

// ---- the request, checked ---------------------------------------------------------

using replies::Tool;

struct Request {
  std::vector<Tool> tools;
  bool tool_config = false;
  std::string choice = "auto";  // auto, any, tool
  std::string choice_name;
  long max_tokens = -1;
  std::vector<std::string> stop_sequences;
  bool thinking = false;
  long input_words = 0;
  std::string last_user_text;
  bool last_is_tool_results = false;
  bool has_tool_blocks = false;
};

std::string num(size_t i) { return std::to_string(i); }

void check_cache_point(const Value& cp, const std::string& at) {
  only_keys(cp, at, {"type", "ttl"});
  enum_of(need(cp, "type", at), at + ".type", {"default"});
  if (const Value* ttl = find(cp, "ttl")) enum_of(*ttl, at + ".ttl", {"5m", "1h"});
}

void check_image(const Value& img, const std::string& at) {
  only_keys(img, at, {"format", "source", "error"});
  enum_of(need(img, "format", at), at + ".format", {"png", "jpeg", "gif", "webp"});
  const Value& src = need(img, "source", at);
  std::string_view kind = union_member(src, at + ".source", {"bytes", "s3Location"});
  if (kind == "bytes" && !src["bytes"].IsString())
    malformed(at + ".source.bytes", "expected type: String, found: " + compact(src["bytes"]));
}

void check_document(const Value& doc, const std::string& at) {
  only_keys(doc, at, {"format", "name", "source", "context", "citations"});
  if (const Value* f = find(doc, "format"))
    enum_of(*f, at + ".format", {"pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"});
  need_string(doc, "name", at);
  const Value& src = need(doc, "source", at);
  union_member(src, at + ".source", {"bytes", "s3Location", "text", "content"});
}

// One content block of messages[i] (0-based i, j); `coral` is its 1-based path.
void check_block(const Value& b, size_t i, size_t j, bool assistant, Request& r) {
  const std::string coral = "messages." + num(i + 1) + ".member.content." + num(j + 1) + ".member";
  const std::string at = "messages." + num(i) + ".content." + num(j);
  std::string_view kind =
      union_member(b, coral,
                   {"text", "image", "document", "video", "audio", "toolUse", "toolResult", "guardContent",
                    "cachePoint", "reasoningContent", "citationsContent", "searchResult"});
  const Value& v = b.MemberBegin()->value;
  if (kind == "text") {
    if (!v.IsString()) malformed(coral + ".text", "expected type: String, found: " + compact(v));
    bool blank = std::all_of(v.GetString(), v.GetString() + v.GetStringLength(),
                             [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
    if (blank)
      fail("The text field in the ContentBlock object at " + at +
           " is blank. Add text to the text field, and try again.");
    r.input_words += static_cast<long>(count_words(sv(v)));
  } else if (kind == "image") {
    check_image(v, coral + ".image");
  } else if (kind == "document") {
    check_document(v, coral + ".document");
  } else if (kind == "toolUse") {
    std::string l = coral + ".toolUse";
    only_keys(v, l, {"toolUseId", "name", "input", "type"});
    need_string(v, "toolUseId", l);
    std::string_view name = need_string(v, "name", l);
    if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        }))
      constraint("'" + std::string(name) + "'", l + ".name",
                 "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+");
    need(v, "input", l);
    r.has_tool_blocks = true;
  } else if (kind == "toolResult") {
    std::string l = coral + ".toolResult";
    only_keys(v, l, {"toolUseId", "content", "status", "type"});
    need_string(v, "toolUseId", l);
    const Value& content = need(v, "content", l);
    if (!content.IsArray()) malformed(l + ".content", "expected type: JSONArray, found: " + compact(content));
    for (rapidjson::SizeType k = 0; k < content.Size(); ++k) {
      std::string ck = l + ".content." + num(k + 1) + ".member";
      std::string_view ckind =
          union_member(content[k], ck, {"json", "text", "image", "document", "video", "searchResult"});
      const Value& cv = content[k].MemberBegin()->value;
      if (ckind == "text") {
        if (!cv.IsString()) malformed(ck + ".text", "expected type: String, found: " + compact(cv));
        r.input_words += static_cast<long>(count_words(sv(cv)));
      } else if (ckind == "image") {
        check_image(cv, ck + ".image");
      } else if (ckind == "document") {
        check_document(cv, ck + ".document");
      }
    }
    if (const Value* st = find(v, "status")) {
      enum_of(*st, l + ".status", {"success", "error"});
      if (sv(*st) == "error" && content.Empty())
        fail("The content field at " + at + ".toolResult cannot be empty when status value is error.");
    }
    r.has_tool_blocks = true;
  } else if (kind == "cachePoint") {
    check_cache_point(v, coral + ".cachePoint");
  } else if (kind == "reasoningContent") {
    std::string l = coral + ".reasoningContent";
    std::string_view rk = union_member(v, l, {"reasoningText", "redactedContent"});
    if (rk == "reasoningText") {
      const Value& rt = v["reasoningText"];
      only_keys(rt, l + ".reasoningText", {"text", "signature"});
      std::string_view text = need_string(rt, "text", l + ".reasoningText");
      const Value* sig = find(rt, "signature");
      // The signature the upstream gave this text, unchanged (as the model checks its own).
      if (assistant && sig && sig->IsString() && sv(*sig) != thinking_signature(text))
        fail("The model returned the following errors: messages." + num(i) + ".content." + num(j) +
             ": Invalid `signature` in `thinking` block");
    }
  }
}

// The text blocks of a content list, joined by a space.
std::string texts_of(const Value& content) {
  std::string out;
  for (const Value& b : content.GetArray()) {
    const Value* t = find(b, "text");
    if (!t || !t->IsString()) continue;
    if (!out.empty()) out += ' ';
    out.append(sv(*t));
  }
  return out;
}

void check_messages(const Value* messages, Request& r) {
  if (!messages || messages->IsNull()) fail(std::string(kStartWithUser));
  if (!messages->IsArray()) malformed("messages", "expected type: JSONArray, found: " + compact(*messages));
  if (messages->Empty()) fail(std::string(kStartWithUser));
  const rapidjson::SizeType n = messages->Size();
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const Value& m = (*messages)[i];
    const std::string coral = "messages." + num(i + 1) + ".member";
    only_keys(m, coral, {"role", "content"});
    const Value& role = need(m, "role", coral);
    enum_of(role, coral + ".role", {"user", "assistant"});
    const Value& content = need(m, "content", coral);
    if (!content.IsArray()) malformed(coral + ".content", "expected type: JSONArray, found: " + compact(content));
    if (i == 0 && sv(role) != "user") fail(std::string(kStartWithUser));
    if (i > 0 && sv((*messages)[i - 1]["role"]) == sv(role)) fail(std::string(kAlternate));
    if (content.Empty())
      fail("The content field in the Message object at messages." + num(i) +
           " is empty. Add a ContentBlock object to the content field and try again.");
    const bool assistant = sv(role) == "assistant";
    for (rapidjson::SizeType j = 0; j < content.Size(); ++j) check_block(content[j], i, j, assistant, r);
  }

  // toolUse ↔ toolResult: a user turn after an assistant's toolUse blocks answers every one of them.
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const Value& m = (*messages)[i];
    const Value& content = m["content"];
    if (sv(m["role"]) != "user") continue;
    std::vector<std::string_view> uses;
    if (i > 0)
      for (const Value& b : (*messages)[i - 1]["content"].GetArray())
        if (const Value* tu = find(b, "toolUse")) uses.push_back(string_member(*tu, "toolUseId"));
    std::vector<std::string_view> results;
    for (const Value& b : content.GetArray())
      if (const Value* tr = find(b, "toolResult")) results.push_back(string_member(*tr, "toolUseId"));
    if (results.size() > uses.size())
      fail("The number of toolResult blocks at messages." + num(i) +
           ".content exceeds the number of toolUse blocks of previous turn.");
    std::string missing;
    for (std::string_view id : uses)
      if (std::find(results.begin(), results.end(), id) == results.end())
        missing += (missing.empty() ? "" : ", ") + std::string(id);
    if (!missing.empty())
      fail("Expected toolResult blocks at messages." + num(i) + ".content for the following Ids: " + missing);
  }

  // What the reply is made of.
  for (rapidjson::SizeType i = n; i-- > 0;) {
    const Value& m = (*messages)[i];
    if (sv(m["role"]) != "user") continue;
    r.last_user_text = texts_of(m["content"]);
    if (r.last_user_text.empty())
      for (const Value& b : m["content"].GetArray())
        if (const Value* tr = find(b, "toolResult"); tr && find(*tr, "content") && (*tr)["content"].IsArray()) {
          std::string t = texts_of((*tr)["content"]);
          if (t.empty()) continue;
          if (!r.last_user_text.empty()) r.last_user_text += ' ';
          r.last_user_text += t;
        }
    break;
  }
  const Value& last = (*messages)[n - 1];
  if (sv(last["role"]) == "user")
    for (const Value& b : last["content"].GetArray())
      if (find(b, "toolResult")) r.last_is_tool_results = true;
}

void check_system(const Value& system, Request& r) {
  if (!system.IsArray()) malformed("system", "expected type: JSONArray, found: " + compact(system));
  for (rapidjson::SizeType i = 0; i < system.Size(); ++i) {
    std::string at = "system." + num(i + 1) + ".member";
    std::string_view kind = union_member(system[i], at, {"text", "guardContent", "cachePoint"});
    const Value& v = system[i].MemberBegin()->value;
    if (kind == "text") {
      if (!v.IsString()) malformed(at + ".text", "expected type: String, found: " + compact(v));
      if (v.GetStringLength() == 0)
        constraint("''", at + ".text", "Member must have length greater than or equal to 1");
      r.input_words += static_cast<long>(count_words(sv(v)));
    } else if (kind == "cachePoint") {
      check_cache_point(v, at + ".cachePoint");
    }
  }
}

void number_range(const Value& ic, const char* key, double lo, double hi) {
  const Value* v = find(ic, key);
  if (!v) return;
  std::string at = std::string("inferenceConfig.") + key;
  if (!v->IsNumber()) malformed(at, "expected type: Number, found: " + compact(*v));
  double d = v->GetDouble();
  if (d < lo) constraint("'" + compact(*v) + "'", at, "Member must have value greater than or equal to 0");
  if (d > hi) constraint("'" + compact(*v) + "'", at, "Member must have value less than or equal to 1");
}

void check_inference(const Value& ic, Request& r) {
  only_keys(ic, "inferenceConfig", {"maxTokens", "temperature", "topP", "stopSequences"});
  if (const Value* mt = find(ic, "maxTokens")) {
    if (!mt->IsInt64()) malformed("inferenceConfig.maxTokens", "expected type: Integer, found: " + compact(*mt));
    if (mt->GetInt64() < 1)
      constraint("'" + compact(*mt) + "'", "inferenceConfig.maxTokens",
                 "Member must have value greater than or equal to 1");
    r.max_tokens = static_cast<long>(std::min<int64_t>(mt->GetInt64(), 1L << 40));
  }
  number_range(ic, "temperature", 0, 1);
  number_range(ic, "topP", 0, 1);
  if (const Value* ss = find(ic, "stopSequences")) {
    if (!ss->IsArray()) malformed("inferenceConfig.stopSequences", "expected type: JSONArray, found: " + compact(*ss));
    for (rapidjson::SizeType i = 0; i < ss->Size(); ++i) {
      if (!(*ss)[i].IsString())
        malformed("inferenceConfig.stopSequences." + num(i + 1), "expected type: String, found: " + compact((*ss)[i]));
      if ((*ss)[i].GetStringLength() == 0)
        constraint("''", "inferenceConfig.stopSequences." + num(i + 1) + ".member",
                   "Member must have length greater than or equal to 1");
      r.stop_sequences.emplace_back(sv((*ss)[i]));
    }
  }
}

bool valid_tool_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

void check_tool_config(const Value& tc, Request& r) {
  only_keys(tc, "toolConfig", {"tools", "toolChoice"});
  const Value& tools = need(tc, "tools", "toolConfig");
  if (!tools.IsArray()) malformed("toolConfig.tools", "expected type: JSONArray, found: " + compact(tools));
  if (tools.Empty()) constraint("'[]'", "toolConfig.tools", "Member must have length greater than or equal to 1");
  for (rapidjson::SizeType i = 0; i < tools.Size(); ++i) {
    std::string at = "toolConfig.tools." + num(i + 1) + ".member";
    std::string_view kind = union_member(tools[i], at, {"toolSpec", "systemTool", "cachePoint"});
    const Value& v = tools[i].MemberBegin()->value;
    if (kind == "cachePoint") {
      check_cache_point(v, at + ".cachePoint");
      continue;
    }
    if (kind != "toolSpec") continue;
    at += ".toolSpec";
    only_keys(v, at, {"name", "description", "inputSchema", "strict"});
    std::string_view name = need_string(v, "name", at);
    if (!valid_tool_name(name))
      constraint("'" + std::string(name) + "'", at + ".name",
                 "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+");
    if (const Value* d = find(v, "description"); d && (!d->IsString() || d->GetStringLength() == 0))
      constraint(quoted(*d), at + ".description", "Member must have length greater than or equal to 1");
    const Value& schema = need(v, "inputSchema", at);
    union_member(schema, at + ".inputSchema", {"json"});
    if (!schema["json"].IsObject())
      malformed(at + ".inputSchema.json", "expected type: JSONObject, found: " + compact(schema["json"]));
    for (const Tool& t : r.tools)
      if (t.name == name)
        fail("The model returned the following errors: tools: Tool names must be unique.");
    r.tools.push_back({std::string(name), &schema["json"]});
  }
  if (const Value* choice = find(tc, "toolChoice")) {
    std::string_view kind = union_member(*choice, "toolConfig.toolChoice", {"auto", "any", "tool"});
    const Value& v = choice->MemberBegin()->value;
    if (kind == "tool") {
      only_keys(v, "toolConfig.toolChoice.tool", {"name"});
      r.choice_name = std::string(need_string(v, "name", "toolConfig.toolChoice.tool"));
      if (std::none_of(r.tools.begin(), r.tools.end(), [&](const Tool& t) { return t.name == r.choice_name; }))
        fail("The model returned the following errors: tool_choice.tool.name: Tool '" + r.choice_name +
             "' not found in the provided `tools`.");
    } else {
      only_keys(v, "toolConfig.toolChoice." + std::string(kind), {});
    }
    r.choice = std::string(kind);
  }
  r.tool_config = true;
}

Request check(const rapidjson::Document& doc) {
  Request r;
  if (!doc.IsObject()) fail("Malformed input request, please reformat your input and try again.");
  for (const auto& m : doc.GetObject()) {
    static const std::set<std::string_view> kMembers = {
        "messages",          "system",          "inferenceConfig",
        "toolConfig",        "guardrailConfig", "additionalModelRequestFields",
        "promptVariables",   "additionalModelResponseFieldPaths",
        "requestMetadata",   "performanceConfig", "serviceTier",
        "outputConfig"};
    if (!kMembers.count(sv(m.name))) extraneous(sv(m.name));
  }
  check_messages(find(doc, "messages"), r);
  if (const Value* s = find(doc, "system")) check_system(*s, r);
  if (const Value* ic = find(doc, "inferenceConfig")) check_inference(*ic, r);
  if (const Value* tc = find(doc, "toolConfig")) check_tool_config(*tc, r);
  if (r.has_tool_blocks && !r.tool_config)
    fail("The toolConfig field must be defined when using toolUse and toolResult content blocks.");
  if (const Value* amf = find(doc, "additionalModelRequestFields")) {
    if (!amf->IsObject())
      malformed("additionalModelRequestFields", "expected type: JSONObject, found: " + compact(*amf));
    if (const Value* th = find(*amf, "thinking"); th && th->IsObject()) {
      std::string_view type = string_member(*th, "type");
      r.thinking = type == "enabled" || type == "adaptive";
      if (type == "enabled") {
        const Value* b = find(*th, "budget_tokens");
        if (!b || !b->IsInt64() || b->GetInt64() < 1024)
          fail("The model returned the following errors: thinking.enabled.budget_tokens: Input should be greater "
               "than or equal to 1024");
        if (r.max_tokens >= 0 && b->GetInt64() >= r.max_tokens)
          fail("The model returned the following errors: `max_tokens` must be greater than "
               "`thinking.budget_tokens`. Please consult our documentation at "
               "https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size");
      }
    }
  }
  if (const Value* st = find(doc, "serviceTier")) {
    only_keys(*st, "serviceTier", {"type"});
    enum_of(need(*st, "type", "serviceTier"), "serviceTier.type", {"priority", "default", "flex"});
  }
  return r;
}

// ---- the reply -----------------------------------------------------------------------

enum class Kind { text, reasoning, tool_use };

struct Block {
  Kind kind;
  std::string text;       // text, or the reasoning
  std::string signature;  // reasoning
  std::string id, name, input;
};

struct Reply {
  std::vector<Block> blocks;
  std::string stop_reason = "end_turn";
  long input_tokens = 0, output_tokens = 0, cache_read = 0, cache_write = 0;
};

void write_usage(Writer& w, const Reply& r) {
  w.StartObject();
  w.Key("inputTokens");
  w.Int64(r.input_tokens);
  w.Key("outputTokens");
  w.Int64(r.output_tokens);
  w.Key("totalTokens");
  w.Int64(r.input_tokens + r.output_tokens + r.cache_read + r.cache_write);
  w.Key("cacheReadInputTokens");
  w.Int64(r.cache_read);
  w.Key("cacheWriteInputTokens");
  w.Int64(r.cache_write);
  w.EndObject();
}

void write_metrics(Writer& w) {
  w.StartObject();
  w.Key("latencyMs");
  w.Int64(kLatencyMs);
  w.EndObject();
}

std::string response_body(const Reply& r) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("output");
    w.StartObject();
    w.Key("message");
    w.StartObject();
    w.Key("role");
    w.String("assistant");
    w.Key("content");
    w.StartArray();
    for (const Block& b : r.blocks) {
      w.StartObject();
      if (b.kind == Kind::text) {
        w.Key("text");
        put(w, b.text);
      } else if (b.kind == Kind::reasoning) {
        w.Key("reasoningContent");
        w.StartObject();
        w.Key("reasoningText");
        w.StartObject();
        w.Key("text");
        put(w, b.text);
        w.Key("signature");
        put(w, b.signature);
        w.EndObject();
        w.EndObject();
      } else {
        w.Key("toolUse");
        w.StartObject();
        w.Key("toolUseId");
        put(w, b.id);
        w.Key("name");
        put(w, b.name);
        w.Key("input");
        w.RawValue(b.input.data(), b.input.size(), rapidjson::kObjectType);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
    w.Key("stopReason");
    put(w, r.stop_reason);
    w.Key("usage");
    write_usage(w, r);
    w.Key("metrics");
    write_metrics(w);
    w.EndObject();
  });
}

// Bedrock pads every event's payload with "p" (letters, its length varying) so that sizes say nothing
// of the content; clients ignore it. Deterministic here.
void pad(Writer& w, size_t k) {
  static constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123";
  w.Key("p");
  put(w, kLetters.substr(0, 1 + (k * 7) % (kLetters.size() - 1)));
}

std::string event(std::string_view type, const std::string& payload) {
  return http::encode_event_message(type, payload);
}

std::string delta_event(size_t index, size_t k, const std::function<void(Writer&)>& delta) {
  return event("contentBlockDelta", json([&](Writer& w) {
                 w.StartObject();
                 w.Key("contentBlockIndex");
                 w.Uint64(index);
                 w.Key("delta");
                 w.StartObject();
                 delta(w);
                 w.EndObject();
                 pad(w, k);
                 w.EndObject();
               }));
}

std::string exception_message(std::string_view type) {
  if (type == "throttlingException") return "Too many requests, please wait before trying again.";
  if (type == "serviceUnavailableException") return "Bedrock is unable to process your request.";
  if (type == "internalServerException") return "The system encountered an unexpected error during processing. Try your request again.";
  if (type == "modelStreamErrorException") return "The model stream ended unexpectedly.";
  if (type == "validationException") return "Input is too long for requested model.";
  return "local upstream: injected " + std::string(type);
}

// The events of `r`; `exception`: an exception message right after messageStart, then the end.
std::vector<std::string> stream_events(const Reply& r, std::string_view exception) {
  std::vector<std::string> ev;
  size_t k = 0;
  ev.push_back(event("messageStart", json([&](Writer& w) {
                       w.StartObject();
                       pad(w, k++);
                       w.Key("role");
                       w.String("assistant");
                       w.EndObject();
                     })));
  if (!exception.empty()) {
    ev.push_back(http::encode_exception_message(exception, json([&](Writer& w) {
                                                  w.StartObject();
                                                  w.Key("message");
                                                  put(w, exception_message(exception));
                                                  w.EndObject();
                                                })));
    return ev;
  }
  for (size_t i = 0; i < r.blocks.size(); ++i) {
    const Block& b = r.blocks[i];
    if (b.kind == Kind::tool_use) {
      ev.push_back(event("contentBlockStart", json([&](Writer& w) {
                           w.StartObject();
                           w.Key("contentBlockIndex");
                           w.Uint64(i);
                           pad(w, k++);
                           w.Key("start");
                           w.StartObject();
                           w.Key("toolUse");
                           w.StartObject();
                           w.Key("name");
                           put(w, b.name);
                           w.Key("toolUseId");
                           put(w, b.id);
                           w.EndObject();
                           w.EndObject();
                           w.EndObject();
                         })));
      for (const std::string& piece : shared::three_pieces(b.input))
        ev.push_back(delta_event(i, k++, [&](Writer& w) {
          w.Key("toolUse");
          w.StartObject();
          w.Key("input");
          put(w, piece);
          w.EndObject();
        }));
    } else if (b.kind == Kind::reasoning) {
      for (const std::string& piece : shared::two_word_pieces(b.text))
        ev.push_back(delta_event(i, k++, [&](Writer& w) {
          w.Key("reasoningContent");
          w.StartObject();
          w.Key("text");
          put(w, piece);
          w.EndObject();
        }));
      ev.push_back(delta_event(i, k++, [&](Writer& w) {
        w.Key("reasoningContent");
        w.StartObject();
        w.Key("signature");
        put(w, b.signature);
        w.EndObject();
      }));
    } else {
      for (const std::string& piece : shared::two_word_pieces(b.text))
        ev.push_back(delta_event(i, k++, [&](Writer& w) {
          w.Key("text");
          put(w, piece);
        }));
    }
    ev.push_back(event("contentBlockStop", json([&](Writer& w) {
                         w.StartObject();
                         w.Key("contentBlockIndex");
                         w.Uint64(i);
                         pad(w, k++);
                         w.EndObject();
                       })));
  }
  ev.push_back(event("messageStop", json([&](Writer& w) {
                       w.StartObject();
                       pad(w, k++);
                       w.Key("stopReason");
                       put(w, r.stop_reason);
                       w.EndObject();
                     })));
  ev.push_back(event("metadata", json([&](Writer& w) {
                       w.StartObject();
                       w.Key("metrics");
                       write_metrics(w);
                       pad(w, k++);
                       w.Key("usage");
                       write_usage(w, r);
                       w.EndObject();
                     })));
  return ev;
}

// ---- SigV4 ------------------------------------------------------------------------------

// "20150830T123600Z" as a time; false when malformed.
bool parse_amz_date(std::string_view s, std::chrono::system_clock::time_point& out) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return false;
  auto digits = [&](size_t at, size_t n, int& v) {
    v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!digits(0, 4, y) || !digits(4, 2, mo) || !digits(6, 2, d) || !digits(9, 2, h) || !digits(11, 2, mi) ||
      !digits(13, 2, se))
    return false;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return false;
  out = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
  return true;
}

std::string_view trimmed(std::string_view s) { return shared::trim(s); }

Plan auth_fail(std::string_view type, std::string_view message, std::string_view rid) {
  return bedrock_error_plan(403, type, message, rid);
}

std::optional<Plan> verify_sigv4(const RecordedRequest& req, const UpstreamAwsCredentials& creds, std::string_view rid) {
  const std::string auth_header = req.header("authorization");
  const std::string_view auth = trimmed(auth_header);
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  if (auth.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (auth.size() > kAlgorithm.size() && auth[kAlgorithm.size()] != ' '))
    return auth_fail("IncompleteSignatureException",
                     "Authorization header requires 'Credential' parameter. Authorization header requires "
                     "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                     "Authorization=" + std::string(auth),
                     rid);
  // Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex
  std::string_view credential, signed_headers, signature;
  std::string_view rest = auth.substr(kAlgorithm.size());
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = trimmed(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = part.substr(0, eq), v = part.substr(eq + 1);
    if (k == "Credential") credential = v;
    if (k == "SignedHeaders") signed_headers = v;
    if (k == "Signature") signature = v;
  }
  const std::string amz_date_header = req.header("x-amz-date");
  const std::string_view amz = trimmed(amz_date_header);
  std::string missing;
  if (credential.empty()) missing += "Authorization header requires 'Credential' parameter. ";
  if (signature.empty()) missing += "Authorization header requires 'Signature' parameter. ";
  if (signed_headers.empty()) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (amz.empty()) missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  if (!missing.empty())
    return auth_fail("IncompleteSignatureException", missing + "Authorization=" + std::string(auth), rid);

  std::vector<std::string_view> scope;
  for (size_t at = 0;;) {
    size_t slash = credential.find('/', at);
    scope.push_back(credential.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request")
    return auth_fail("IncompleteSignatureException",
                     "Credential should be scoped to a valid region. ", rid);
  if (scope[0] != creds.access_key_id)
    return auth_fail("UnrecognizedClientException", "The security token included in the request is invalid.", rid);
  if (scope[3] != "bedrock")
    return auth_fail("InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'. ", rid);

  std::chrono::system_clock::time_point when;
  if (!parse_amz_date(amz, when))
    return auth_fail("IncompleteSignatureException",
                     "Date must be in ISO-8601 'basic format'. Got '" + std::string(amz) +
                         "'. See http://en.wikipedia.org/wiki/ISO_8601",
                     rid);
  if (scope[1] != amz.substr(0, 8))
    return auth_fail("InvalidSignatureException",
                     "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                         std::string(scope[1]) + "' != '" + std::string(amz.substr(0, 8)) + "', from '" +
                         std::string(amz) + "'.",
                     rid);
  const auto now = std::chrono::system_clock::now();
  const auto skew = std::chrono::minutes(5);
  if (when < now - skew)
    return auth_fail("InvalidSignatureException",
                     "Signature expired: " + std::string(amz) + " is now earlier than " + auth::amz_date(now - skew) +
                         " (" + auth::amz_date(now) + " - 5 min.)",
                     rid);
  if (when > now + skew)
    return auth_fail("InvalidSignatureException",
                     "Signature not yet current: " + std::string(amz) + " is still later than " +
                         auth::amz_date(now + skew) + " (" + auth::amz_date(now) + " + 5 min.)",
                     rid);

  const std::string token = req.header("x-amz-security-token");
  if (token != creds.session_token)
    return auth_fail("UnrecognizedClientException", "The security token included in the request is invalid.", rid);

  // The signed headers' values as received (repeats joined by the signer), those the signer adds left out.
  std::vector<std::string> names;
  for (size_t at = 0;;) {
    size_t semi = signed_headers.find(';', at);
    names.emplace_back(signed_headers.substr(at, semi == std::string_view::npos ? std::string_view::npos : semi - at));
    if (semi == std::string_view::npos) break;
    at = semi + 1;
  }
  if (std::find(names.begin(), names.end(), "host") == names.end())
    return auth_fail("InvalidSignatureException",
                     "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", rid);
  http::Headers headers;
  for (const std::string& name : names) {
    if (name == "x-amz-date" || name == "x-amz-security-token") continue;
    for (const auto& [k, v] : req.headers)
      if (shared::iequals(k, name)) headers.emplace_back(name, v);
  }
  constexpr std::string_view kMismatch =
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access "
      "Key and signing method. Consult the service documentation for details.";
  try {
    auth::SigV4Signer signer(auth::AwsCredentials{creds.access_key_id, creds.secret_access_key, creds.session_token},
                             std::string(scope[2]), "bedrock");
    std::string host = req.header("host");
    auth::SigV4Result expected =
        signer.sign(req.method, "http://" + (host.empty() ? std::string("localhost") : host) + req.target, headers,
                    req.body, when);
    if (expected.signed_headers != signed_headers || expected.signature != signature)
      return auth_fail("InvalidSignatureException", kMismatch, rid);
  } catch (const std::exception&) {
    return auth_fail("InvalidSignatureException", kMismatch, rid);
  }
  return std::nullopt;
}

}  // namespace

BedrockRoute bedrock_route(std::string_view path, std::string* model) {
  // The control plane's list (any prefix), and the Agent Runtime's Rerank (exactly: "/rerank" under
  // a prefix is other providers' rerank, as Cohere's /v2/rerank).
  constexpr std::string_view kModels = "/foundation-models";
  if (path.size() >= kModels.size() && path.substr(path.size() - kModels.size()) == kModels)
    return BedrockRoute::models;
  if (path == "/rerank") return BedrockRoute::rerank;
  // Any prefix (a base URL with a path): the last "/model/" followed by "{modelId}/{verb}".
  constexpr std::string_view kPrefix = "/model/";
  size_t at = path.rfind(kPrefix);
  while (at != std::string_view::npos && path.substr(at + kPrefix.size()).find('/') == std::string_view::npos)
    at = at == 0 ? std::string_view::npos : path.rfind(kPrefix, at - 1);
  if (at == std::string_view::npos) return BedrockRoute::none;
  std::string_view rest = path.substr(at + kPrefix.size());
  size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return BedrockRoute::none;
  std::string_view verb = rest.substr(slash + 1);
  BedrockRoute r = verb == "converse"          ? BedrockRoute::converse
                   : verb == "converse-stream" ? BedrockRoute::converse_stream
                   : verb == "invoke"          ? BedrockRoute::invoke
                                               : BedrockRoute::none;
  if (r != BedrockRoute::none && model) *model = http::percent_decode(rest.substr(0, slash));
  return r;
}

Plan bedrock_error_plan(int status, std::string_view type, std::string_view message, std::string_view request_id) {
  Plan p = shared::json_plan(status, json([&](Writer& w) {
                               w.StartObject();
                               w.Key("message");
                               put(w, message);
                               w.EndObject();
                             }));
  const bool security = type == "InvalidSignatureException" || type == "UnrecognizedClientException" ||
                        type == "MissingAuthenticationTokenException" || type == "IncompleteSignatureException";
  p.headers.emplace_back("x-amzn-ErrorType",
                         std::string(type) + ":" + std::string(security ? kCoralService : kCoralBedrock));
  p.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  return p;
}

Plan bedrock_status_plan(int status, std::string_view request_id) {
  switch (status) {
    case 400:
      return bedrock_error_plan(status, "ValidationException", "Malformed input request, please reformat your input and try again.", request_id);
    case 403:
      return bedrock_error_plan(status, "AccessDeniedException",
                                "You don't have access to the model with the specified model ID.", request_id);
    case 404:
      return bedrock_error_plan(status, "ResourceNotFoundException",
                                "Could not resolve the foundation model from the provided model identifier.",
                                request_id);
    case 408:
      return bedrock_error_plan(status, "ModelTimeoutException", "Model has timed out in processing the request. Try your request again.", request_id);
    case 424:
      return bedrock_error_plan(status, "ModelErrorException", "The system encountered an unexpected error during processing. Try your request again.", request_id);
    case 429:
      return bedrock_error_plan(status, "ThrottlingException", "Too many requests, please wait before trying again.",
                                request_id);
    case 500:
      return bedrock_error_plan(status, "InternalServerException",
                                "The system encountered an unexpected error during processing. Try your request again.",
                                request_id);
    case 503:
      return bedrock_error_plan(status, "ServiceUnavailableException", "Bedrock is unable to process your request.",
                                request_id);
    default:
      return bedrock_error_plan(status, status >= 500 ? "InternalServerException" : "ValidationException",
                                injected_message(status), request_id);
  }
}

std::optional<Plan> bedrock_auth(const RecordedRequest& req, const UpstreamOptions& opts, std::string_view rid) {
  const bool sigv4 = !opts.aws_credentials.access_key_id.empty();
  const bool key = !opts.require_api_key.empty();
  if (!sigv4 && !key) return std::nullopt;
  const std::string header = req.header("authorization");
  const std::string_view auth = trimmed(header);
  if (auth.empty())
    return auth_fail("MissingAuthenticationTokenException", "Missing Authentication Token", rid);
  if (auth.size() > 7 && shared::iequals(auth.substr(0, 7), "bearer ")) {
    // Bedrock API keys.
    if (key && trimmed(auth.substr(7)) == opts.require_api_key) return std::nullopt;
    return auth_fail("UnrecognizedClientException", "The security token included in the request is invalid.", rid);
  }
  if (!sigv4) return auth_fail("UnrecognizedClientException", "The security token included in the request is invalid.", rid);
  return verify_sigv4(req, opts.aws_credentials, rid);
}

namespace {

void put_vector(Writer& w, std::string_view text, int dims) {
  w.StartArray();
  for (double x : upstream_embedding(text, dims)) w.Double(x);
  w.EndArray();
}

[[noreturn]] void required_key(const char* key) {
  fail("Malformed input request: #: required key [" + std::string(key) +
       "] not found, please reformat your input and try again.");
}

// Amazon Titan Text Embeddings: {"inputText", "dimensions" (v2: 256, 512, 1024), "normalize", "embeddingTypes"}.
std::string titan_embed(const Value& d, bool v2) {
  if (v2) only_keys(d, "", {"inputText", "dimensions", "normalize", "embeddingTypes"});
  else only_keys(d, "", {"inputText"});
  const Value* text = find(d, "inputText");
  if (!text) required_key("inputText");
  if (!text->IsString()) malformed("#/inputText", "expected type: String, found: " + compact(*text));
  if (text->GetStringLength() == 0) malformed("#/inputText", "expected minLength: 1, actual: 0");
  int dims = v2 ? 1024 : 1536;
  if (const Value* dv = find(d, "dimensions")) {
    if (!dv->IsInt() || (dv->GetInt() != 256 && dv->GetInt() != 512 && dv->GetInt() != 1024))
      malformed("#/dimensions", compact(*dv) + " is not a valid enum value");
    dims = dv->GetInt();
  }
  if (const Value* nv = find(d, "normalize"); nv && !nv->IsBool())
    malformed("#/normalize", "expected type: Boolean, found: " + compact(*nv));
  bool by_type = false;
  if (const Value* et = find(d, "embeddingTypes")) {
    if (!et->IsArray()) malformed("#/embeddingTypes", "expected type: JSONArray, found: " + compact(*et));
    for (auto& t : et->GetArray())
      if (!t.IsString() || (sv(t) != "float" && sv(t) != "binary"))
        malformed("#/embeddingTypes", compact(t) + " is not a valid enum value");
    by_type = true;
  }
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("embedding");
    put_vector(w, sv(*text), dims);
    if (by_type) {
      w.Key("embeddingsByType");
      w.StartObject();
      w.Key("float");
      put_vector(w, sv(*text), dims);
      w.EndObject();
    }
    w.Key("inputTextTokenCount");
    w.Int64(upstream_words(sv(*text)));
    w.EndObject();
  });
}

// Cohere Embed on Bedrock: {"texts", "input_type", "truncate", "embedding_types"} (v4: "output_dimension").
std::string cohere_embed(const Value& d, bool v4) {
  if (v4) only_keys(d, "", {"texts", "images", "inputs", "input_type", "truncate", "embedding_types", "output_dimension", "max_tokens"});
  else only_keys(d, "", {"texts", "images", "input_type", "truncate", "embedding_types"});
  const Value* texts = find(d, "texts");
  const Value* type = find(d, "input_type");
  if (!texts && !type)
    fail("Malformed input request: #: required key [texts] not found#: required key [input_type] not found, please "
         "reformat your input and try again.");
  if (!texts) required_key("texts");
  if (!type) required_key("input_type");
  if (!type->IsString() || (sv(*type) != "search_document" && sv(*type) != "search_query" &&
                            sv(*type) != "classification" && sv(*type) != "clustering" && sv(*type) != "image"))
    malformed("#/input_type", compact(*type) + " is not a valid enum value");
  if (!texts->IsArray()) malformed("#/texts", "expected type: JSONArray, found: " + compact(*texts));
  if (texts->Empty() || texts->Size() > 96) malformed("#/texts", "expected maxItems: 96, minItems: 1, actual: " + std::to_string(texts->Size()));
  for (rapidjson::SizeType i = 0; i < texts->Size(); ++i)
    if (!(*texts)[i].IsString()) malformed("#/texts/" + std::to_string(i), "expected type: String");
  if (const Value* tr = find(d, "truncate"))
    if (!tr->IsString() || (sv(*tr) != "NONE" && sv(*tr) != "START" && sv(*tr) != "END"))
      malformed("#/truncate", compact(*tr) + " is not a valid enum value");
  int dims = v4 ? 1536 : 1024;
  if (const Value* od = find(d, "output_dimension")) {
    if (!od->IsInt() || (od->GetInt() != 256 && od->GetInt() != 512 && od->GetInt() != 1024 && od->GetInt() != 1536))
      malformed("#/output_dimension", compact(*od) + " is not a valid enum value");
    dims = od->GetInt();
  }
  const Value* types = find(d, "embedding_types");
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("id");
    w.String("00000000-0000-4000-8000-0000000000ee");
    w.Key("texts");
    texts->Accept(w);
    w.Key("embeddings");
    if (types) {
      if (!types->IsArray()) malformed("#/embedding_types", "expected type: JSONArray, found: " + compact(*types));
      w.StartObject();
      for (auto& t : types->GetArray()) {
        if (!t.IsString() || (sv(t) != "float" && sv(t) != "int8" && sv(t) != "uint8" && sv(t) != "binary" &&
                              sv(t) != "ubinary"))
          malformed("#/embedding_types", compact(t) + " is not a valid enum value");
        put(w, sv(t));
        w.StartArray();
        for (auto& x : texts->GetArray()) {
          if (sv(t) == "float") {
            put_vector(w, sv(x), dims);
          } else {
            w.StartArray();
            for (double v : upstream_embedding(sv(x), dims)) w.Int(static_cast<int>(v * 127));
            w.EndArray();
          }
        }
        w.EndArray();
      }
      w.EndObject();
    } else {
      w.StartArray();
      for (auto& x : texts->GetArray()) put_vector(w, sv(x), dims);
      w.EndArray();
    }
    w.Key("response_type");
    w.String(types ? "embeddings_by_type" : "embeddings_floats");
    w.EndObject();
  });
}

// InvokeModel for the embedding models; other models are not served here.
Plan handle_invoke(const RecordedRequest& req, const std::string& model, const std::string& request_id) {
  try {
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    if (doc.HasParseError() || !doc.IsObject())
      fail("Malformed input request: expected type: JSONObject, please reformat your input and try again.");
    std::string body;
    if (model.find("amazon.titan-embed-text-v2") != std::string::npos) body = titan_embed(doc, true);
    else if (model.find("amazon.titan-embed-text-v1") != std::string::npos) body = titan_embed(doc, false);
    else if (model.find("cohere.embed-v4") != std::string::npos) body = cohere_embed(doc, true);
    else if (model.find("cohere.embed-") != std::string::npos) body = cohere_embed(doc, false);
    else fail("The provided model identifier is invalid.");
    Plan p = shared::json_plan(200, std::move(body));
    p.headers.emplace_back("x-amzn-RequestId", request_id);
    return p;
  } catch (const Fail& f) {
    return bedrock_error_plan(f.status, f.type, f.message, request_id);
  }
}

// ---- ListFoundationModels ----------------------------------------------------------------

// The region a request is signed for (its credential scope), else us-east-1.
std::string signed_region(const RecordedRequest& req) {
  const std::string auth = req.header("authorization");
  const size_t at = auth.find("Credential=");
  if (at == std::string::npos) return "us-east-1";
  std::string_view scope(auth);
  scope = scope.substr(at + 11);
  scope = scope.substr(0, scope.find_first_of(", "));
  std::vector<std::string_view> parts;
  for (size_t i = 0;;) {
    size_t slash = scope.find('/', i);
    parts.push_back(scope.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return parts.size() == 5 && !parts[2].empty() ? std::string(parts[2]) : "us-east-1";
}

struct Foundation {
  const char *id, *name, *provider;
  std::initializer_list<const char*> in, out;
  bool streaming;  // responseStreamingSupported (absent for embedding and rerank models)
  std::initializer_list<const char*> customizations;
};

const Foundation kFoundationModels[] = {
    {"amazon.titan-embed-text-v2:0", "Titan Text Embeddings V2", "Amazon", {"TEXT"}, {"EMBEDDING"}, false, {}},
    {"amazon.nova-pro-v1:0", "Nova Pro", "Amazon", {"TEXT", "IMAGE", "VIDEO"}, {"TEXT"}, true, {"DISTILLATION"}},
    {"amazon.rerank-v1:0", "Rerank 1.0", "Amazon", {"TEXT"}, {"TEXT"}, false, {}},
    {"anthropic.claude-3-5-sonnet-20240620-v1:0", "Claude 3.5 Sonnet", "Anthropic", {"TEXT", "IMAGE"}, {"TEXT"}, true, {}},
    {"anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku", "Anthropic", {"TEXT", "IMAGE"}, {"TEXT"}, true,
     {"FINE_TUNING"}},
    {"cohere.embed-english-v3", "Embed English", "Cohere", {"TEXT"}, {"EMBEDDING"}, false, {}},
    {"cohere.rerank-v3-5:0", "Rerank 3.5", "Cohere", {"TEXT"}, {"TEXT"}, false, {}},
    {"meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B Instruct", "Meta", {"TEXT"}, {"TEXT"}, true, {"FINE_TUNING"}},
};

bool has(std::initializer_list<const char*> list, std::string_view v) {
  for (const char* x : list)
    if (v == x) return true;
  return false;
}

// A query parameter's value, percent-decoded.
std::string query_value(const RecordedRequest& req, std::string_view name) {
  return http::percent_decode(shared::query_param(req, name), true);
}

void check_query_enum(const std::string& v, const char* at, std::initializer_list<std::string_view> values) {
  if (v.empty() || std::find(values.begin(), values.end(), v) != values.end()) return;
  std::string set;
  for (std::string_view s : values) set += (set.empty() ? "" : ", ") + std::string(s);
  constraint("'" + v + "'", at, "Member must satisfy enum value set: [" + set + "]");
}

Plan handle_models(const RecordedRequest& req, const std::string& request_id) {
  try {
    const std::string provider = query_value(req, "byProvider");
    const std::string modality = query_value(req, "byOutputModality");
    const std::string inference = query_value(req, "byInferenceType");
    const std::string customization = query_value(req, "byCustomizationType");
    if (!provider.empty() &&
        (provider.size() > 63 || !std::all_of(provider.begin(), provider.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ' ';
        })))
      constraint("'" + provider + "'", "byProvider",
                 "Member must satisfy regular expression pattern: ^[A-Za-z0-9- ]{1,63}$");
    check_query_enum(modality, "byOutputModality", {"TEXT", "IMAGE", "EMBEDDING"});
    check_query_enum(inference, "byInferenceType", {"ON_DEMAND", "PROVISIONED"});
    check_query_enum(customization, "byCustomizationType", {"FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"});
    const std::string region = signed_region(req);
    Plan p = shared::json_plan(200, json([&](Writer& w) {
      w.StartObject();
      w.Key("modelSummaries");
      w.StartArray();
      for (const Foundation& m : kFoundationModels) {
        if (!provider.empty() && !shared::iequals(provider, m.provider)) continue;
        if (!modality.empty() && !has(m.out, modality)) continue;
        if (inference == "PROVISIONED") continue;  // all of these are on demand
        if (!customization.empty() && !has(m.customizations, customization)) continue;
        w.StartObject();
        w.Key("modelArn");
        put(w, "arn:aws:bedrock:" + region + "::foundation-model/" + m.id);
        w.Key("modelId");
        w.String(m.id);
        w.Key("modelName");
        w.String(m.name);
        w.Key("providerName");
        w.String(m.provider);
        w.Key("inputModalities");
        w.StartArray();
        for (const char* x : m.in) w.String(x);
        w.EndArray();
        w.Key("outputModalities");
        w.StartArray();
        for (const char* x : m.out) w.String(x);
        w.EndArray();
        if (m.streaming) {
          w.Key("responseStreamingSupported");
          w.Bool(true);
        }
        w.Key("customizationsSupported");
        w.StartArray();
        for (const char* x : m.customizations) w.String(x);
        w.EndArray();
        w.Key("inferenceTypesSupported");
        w.StartArray();
        w.String("ON_DEMAND");
        w.EndArray();
        w.Key("modelLifecycle");
        w.StartObject();
        w.Key("status");
        w.String("ACTIVE");
        w.EndObject();
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }));
    p.headers.emplace_back("x-amzn-RequestId", request_id);
    return p;
  } catch (const Fail& f) {
    return bedrock_error_plan(f.status, f.type, f.message, request_id);
  }
}

// ---- Rerank (the Agent Runtime) ------------------------------------------------------------

// A Coral member path: "queries.1.member.textQuery".
std::string member(const std::string& at, std::string_view key) { return at.empty() ? std::string(key) : at + "." + std::string(key); }
std::string nth(const std::string& at, size_t i) { return at + "." + std::to_string(i + 1) + ".member"; }

[[noreturn]] void serialization() {
  throw Fail{400, "SerializationException", "Start of structure or map found where not expected."};
}

const Value& required(const Value& obj, std::string_view key, const std::string& at) {
  const Value* v = find(obj, std::string(key).c_str());
  if (!v || v->IsNull()) null_at(member(at, key));
  return *v;
}

const Value& required_object(const Value& obj, std::string_view key, const std::string& at) {
  const Value& v = required(obj, key, at);
  if (!v.IsObject()) serialization();
  return v;
}

const Value& required_list(const Value& obj, std::string_view key, const std::string& at, size_t lo, size_t hi) {
  const Value& v = required(obj, key, at);
  if (!v.IsArray()) serialization();
  if (v.Size() < lo)
    constraint("'[]'", member(at, key), "Member must have length greater than or equal to " + std::to_string(lo));
  if (v.Size() > hi)
    constraint("'[...]'", member(at, key), "Member must have length less than or equal to " + std::to_string(hi));
  return v;
}

std::string_view text_of(const Value& obj, const std::string& at) {  // {"text"}: 1 to 32000 characters
  const Value& t = required(obj, "text", at);
  if (!t.IsString()) serialization();
  if (t.GetStringLength() == 0)
    constraint("''", member(at, "text"), "Member must have length greater than or equal to 1");
  if (t.GetStringLength() > 32000)
    constraint("'...'", member(at, "text"), "Member must have length less than or equal to 32000");
  return sv(t);
}

std::vector<std::string> lower_words(std::string_view s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!w.empty()) {
      out.push_back(std::move(w));
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(std::move(w));
  return out;
}

// The share of the query's words the document has, a little less for later documents (ties break by order).
double relevance(std::string_view query, std::string_view doc, size_t index) {
  const auto q = lower_words(query), d = lower_words(doc);
  size_t hit = 0;
  for (const std::string& w : q) hit += std::find(d.begin(), d.end(), w) != d.end();
  const double share = q.empty() ? 0 : static_cast<double>(hit) / static_cast<double>(q.size());
  return share * 0.97 + 0.02 / static_cast<double>(index + 1);
}

Plan handle_rerank(const RecordedRequest& req, const std::string& request_id) {
  try {
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    if (doc.HasParseError() || !doc.IsObject()) serialization();
    const Value& queries = required_list(doc, "queries", "", 1, 1);
    const std::string q_at = nth("queries", 0);
    if (!queries[0].IsObject()) serialization();
    enum_of(required(queries[0], "type", q_at), member(q_at, "type"), {"TEXT"});
    const std::string_view query = text_of(required_object(queries[0], "textQuery", q_at), member(q_at, "textQuery"));
    const Value& sources = required_list(doc, "sources", "", 1, 1000);
    std::vector<std::string> texts;
    for (rapidjson::SizeType i = 0; i < sources.Size(); ++i) {
      const std::string at = nth("sources", i);
      if (!sources[i].IsObject()) serialization();
      enum_of(required(sources[i], "type", at), member(at, "type"), {"INLINE"});
      const Value& inl = required_object(sources[i], "inlineDocumentSource", at);
      const std::string in_at = member(at, "inlineDocumentSource");
      const Value& type = required(inl, "type", in_at);
      enum_of(type, member(in_at, "type"), {"TEXT", "JSON"});
      if (sv(type) == "TEXT") {
        if (!find(inl, "textDocument"))
          fail("textDocument must be provided when the inlineDocumentSource type is TEXT (sources[" +
               std::to_string(i) + "])");
        texts.emplace_back(text_of(required_object(inl, "textDocument", in_at), member(in_at, "textDocument")));
      } else {
        const Value* j = find(inl, "jsonDocument");
        if (!j || j->IsNull())
          fail("jsonDocument must be provided when the inlineDocumentSource type is JSON (sources[" +
               std::to_string(i) + "])");
        texts.push_back(compact(*j));
      }
    }
    const Value& cfg = required_object(doc, "rerankingConfiguration", "");
    enum_of(required(cfg, "type", "rerankingConfiguration"), "rerankingConfiguration.type", {"BEDROCK_RERANKING_MODEL"});
    const std::string b_at = "rerankingConfiguration.bedrockRerankingConfiguration";
    const Value& bcfg = required_object(cfg, "bedrockRerankingConfiguration", "rerankingConfiguration");
    size_t top = texts.size();
    if (const Value* n = find(bcfg, "numberOfResults"); n && !n->IsNull()) {
      if (!n->IsInt()) serialization();
      if (n->GetInt() < 1)
        constraint("'" + std::to_string(n->GetInt()) + "'", member(b_at, "numberOfResults"),
                   "Member must have value greater than or equal to 1");
      if (n->GetInt() > 1000)
        constraint("'" + std::to_string(n->GetInt()) + "'", member(b_at, "numberOfResults"),
                   "Member must have value less than or equal to 1000");
      top = std::min(top, static_cast<size_t>(n->GetInt()));
    }
    const Value& mcfg = required_object(bcfg, "modelConfiguration", b_at);
    const std::string m_at = member(b_at, "modelConfiguration");
    const Value& arn = required(mcfg, "modelArn", m_at);
    if (!arn.IsString()) serialization();
    // arn:aws[-partition]:bedrock:{region}::foundation-model/{model}
    const std::string_view a = sv(arn);
    constexpr std::string_view kFoundation = "::foundation-model/";
    const size_t fm = a.find(kFoundation);
    const bool arn_ok = a.substr(0, 7) == "arn:aws" && a.find(":bedrock:") != std::string_view::npos &&
                        fm != std::string_view::npos && fm + kFoundation.size() < a.size();
    if (!arn_ok)
      constraint("'" + std::string(a) + "'", member(m_at, "modelArn"),
                 "Member must satisfy regular expression pattern: "
                 "^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/(.*)?$");
    const std::string_view model = a.substr(fm + kFoundation.size());
    if (model != "amazon.rerank-v1:0" && model != "cohere.rerank-v3-5:0")
      fail("The provided model identifier is invalid.");
    if (const Value* extra = find(mcfg, "additionalModelRequestFields"); extra && !extra->IsObject()) serialization();

    std::vector<std::pair<double, size_t>> ranked;
    for (size_t i = 0; i < texts.size(); ++i) ranked.emplace_back(relevance(query, texts[i], i), i);
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    ranked.resize(top);
    Plan p = shared::json_plan(200, json([&](Writer& w) {
      w.StartObject();
      w.Key("results");
      w.StartArray();
      for (const auto& [score, index] : ranked) {
        w.StartObject();
        w.Key("index");
        w.Uint64(index);
        w.Key("relevanceScore");
        w.Double(score);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }));
    p.headers.emplace_back("x-amzn-RequestId", request_id);
    return p;
  } catch (const Fail& f) {
    return bedrock_error_plan(f.status, f.type, f.message, request_id);
  }
}

}  // namespace

Plan handle_bedrock(const RecordedRequest& req, BedrockRoute route, const std::string& model,
                    const std::string& request_id) {
  if (route == BedrockRoute::invoke) return handle_invoke(req, model, request_id);
  if (route == BedrockRoute::models) return handle_models(req, request_id);
  if (route == BedrockRoute::rerank) return handle_rerank(req, request_id);
  const bool stream = route == BedrockRoute::converse_stream;
  try {
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    const bool echo = shared::header_true(req, "x-upstream-echo");
    Request r;
    if (!echo) {
      if (doc.HasParseError()) fail("Malformed input request, please reformat your input and try again.");
      r = check(doc);
    }
    if (shared::header_true(req, "x-upstream-context-exceeded")) fail("Input is too long for requested model.");

    Reply reply;
    reply.input_tokens = r.input_words;
    long v = 0;
    if (shared::header_number(req, "x-upstream-cached-tokens", v)) reply.cache_read = v;
    if (shared::header_number(req, "x-upstream-cache-write-tokens", v)) reply.cache_write = v;
    if (shared::header_true(req, "x-upstream-malformed") && !stream) {
      Plan p = shared::json_plan(200, R"({"output": {"message":)");
      p.headers.emplace_back("x-amzn-RequestId", request_id);
      return p;
    }

    if (r.thinking) {
      Block b{Kind::reasoning, "Thinking about: " + r.last_user_text, {}, {}, {}, {}};
      b.signature = thinking_signature(b.text);
      reply.output_tokens += static_cast<long>(count_words(b.text));
      reply.blocks.push_back(std::move(b));
    }
    if (!echo && !r.tools.empty() && !r.last_is_tool_results) {
      std::vector<const Tool*> calls = replies::tools_to_call(r.tools, r.choice, r.choice_name, true);
      for (size_t k = 0; k < calls.size(); ++k)
        reply.blocks.push_back(Block{Kind::tool_use,
                                     {},
                                     {},
                                     "tooluse_upstream_" + std::to_string(k),
                                     calls[k]->name,
                                     shared::object_sample(calls[k]->schema, false)});
      reply.stop_reason = "tool_use";
      reply.output_tokens += 5;
    } else {
      std::string text = echo ? req.body : "Hello from the local upstream. You said: " + r.last_user_text;
      if (!echo) {
        // Whichever comes first: a stop sequence (the check refuses empty ones), or maxTokens words.
        replies::Cut cut = replies::cut_text(std::move(text), r.max_tokens < 0 ? SIZE_MAX : static_cast<size_t>(r.max_tokens),
                                         r.stop_sequences);
        text = std::move(cut.text);
        if (cut.stop) reply.stop_reason = cut.stop;
      }
      reply.output_tokens += static_cast<long>(count_words(text));
      reply.blocks.push_back(Block{Kind::text, std::move(text), {}, {}, {}, {}});
    }

    if (!stream) {
      Plan p = shared::json_plan(200, response_body(reply));
      p.headers.emplace_back("x-amzn-RequestId", request_id);
      return p;
    }
    const std::string exception_header = req.header("x-upstream-stream-exception");
    Plan p;
    p.stream = true;
    p.headers.emplace_back("content-type", "application/vnd.amazon.eventstream");
    p.headers.emplace_back("x-amzn-RequestId", request_id);
    p.events = stream_events(reply, trimmed(exception_header));
    if (shared::header_true(req, "x-upstream-malformed") && p.events.size() > 1)
      p.events[1] = event("contentBlockDelta", "{not json");
    shared::after_done(req, p);
    if (p.after_done == AfterDone::more) {
      // Text deltas after metadata, endlessly (x-upstream-generate-bytes letters each).
      long bytes = 64;
      shared::header_number(req, "x-upstream-generate-bytes", bytes);
      p.after = [bytes = static_cast<size_t>(std::min(bytes, 16L << 20)), k = size_t{0}](std::string& out) mutable {
        std::string text = replies::letters(k, bytes);
        k += bytes;
        out += event("contentBlockDelta", json([&](Writer& w) {
                       w.StartObject();
                       w.Key("contentBlockIndex");
                       w.Uint64(0);
                       w.Key("delta");
                       w.StartObject();
                       w.Key("text");
                       put(w, text);
                       w.EndObject();
                       w.EndObject();
                     }));
        return true;
      };
    }
    return p;
  } catch (const Fail& f) {
    return bedrock_error_plan(f.status, f.type, f.message, request_id);
  }
}

}  // namespace literllm::testing::detail
