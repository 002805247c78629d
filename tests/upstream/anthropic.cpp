// The local upstream's Anthropic Messages API: the checks the real API makes
// (answered in Anthropic's error shape), the deterministic reply, and its
// event stream. Direct (`/v1/messages`) and Anthropic-on-Vertex
// (`:rawPredict`, `:streamRawPredict`). Pure functions of the request.
#include "anthropic.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_util.hpp"
#include "reply.hpp"

namespace literllm::testing::detail {

namespace {

using rapidjson::Value;
using namespace json_util;  // find, sv, string_member, put, json, ...
using shared::count_words;

constexpr std::string_view kVertexVersion = "vertex-2023-10-16";
constexpr std::string_view kThinkingDocs = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking";

// A failed check: the status, Anthropic error type and message of the answer.
struct Fail {
  int status;
  std::string type, message;
};

[[noreturn]] void fail(std::string message) { throw Fail{400, "invalid_request_error", std::move(message)}; }

std::string quoted_list(std::initializer_list<std::string_view> words, std::string_view last_sep) {
  std::string out;
  size_t i = 0;
  for (std::string_view w : words) {
    if (i) out += i + 1 == words.size() ? last_sep : std::string_view(", ");
    out += "'" + std::string(w) + "'";
    ++i;
  }
  return out;
}

// ---- pydantic-style checks (the real API's wording) ---------------------------

void need_object(const Value& v, const std::string& loc) {
  if (!v.IsObject()) fail(loc + ": Input should be a valid dictionary");
}
void need_string(const Value& v, const std::string& loc) {
  if (!v.IsString()) fail(loc + ": Input should be a valid string");
}
void need_list(const Value& v, const std::string& loc) {
  if (!v.IsArray()) fail(loc + ": Input should be a valid list");
}
void need_bool(const Value& v, const std::string& loc) {
  if (!v.IsBool()) fail(loc + ": Input should be a valid boolean");
}
const Value& required(const Value& obj, const char* key, const std::string& loc) {
  const Value* v = find(obj, key);
  if (!v) fail(loc + (loc.empty() ? "" : ".") + key + ": Field required");
  return *v;
}
std::string join(const std::string& loc, std::string_view key) {
  return loc.empty() ? std::string(key) : loc + "." + std::string(key);
}
void no_extra(const Value& obj, const std::string& loc, std::initializer_list<std::string_view> allowed) {
  for (const auto& m : obj.GetObject()) {
    std::string_view k = sv(m.name);
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      fail(join(loc, k) + ": Extra inputs are not permitted");
  }
}
// The tag of a tagged union ("type"); `tags` the accepted ones.
std::string_view tag(const Value& obj, const std::string& loc, std::initializer_list<std::string_view> tags) {
  need_object(obj, loc);
  const Value* t = find(obj, "type");
  if (!t || !t->IsString()) fail(loc + ": Unable to extract tag using discriminator 'type'");
  std::string_view v = sv(*t);
  if (std::find(tags.begin(), tags.end(), v) == tags.end())
    fail(loc + ": Input tag '" + std::string(v) +
         "' found using 'type' does not match any of the expected tags: " + quoted_list(tags, ", "));
  return v;
}
void number_range(const Value& obj, const char* key, double lo, double hi) {
  const Value* v = find(obj, key);
  if (!v) return;
  if (!v->IsNumber()) fail(std::string(key) + ": Input should be a valid number");
  double d = v->GetDouble();
  if (d < lo) fail(std::string(key) + ": Input should be greater than or equal to " + (lo == 0 ? "0" : "1"));
  if (d > hi) fail(std::string(key) + ": Input should be less than or equal to " + (hi == 1 ? "1" : "2"));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool blank(std::string_view s) { return std::all_of(s.begin(), s.end(), is_space); }

// ---- the request, checked ---------------------------------------------------------

using replies::Tool;

struct Request {
  bool vertex = false, count_tokens = false;
  std::string model;
  long max_tokens = 0;
  bool stream = false;
  std::string thinking = "none";  // none, enabled, disabled, adaptive
  bool thinking_omitted = false;  // adaptive with display "omitted"
  std::vector<Tool> tools;        // custom tools
  std::string choice = "auto";    // auto, any, tool, none
  std::string choice_name;
  bool disable_parallel = false;
  const Value* output_schema = nullptr;
  std::vector<std::string> stop_sequences;
  int cache_blocks = 0;
  bool cache_1h = false;
  long input_words = 0;
  std::string last_user_text;
  bool last_is_tool_results = false;
};

void check_cache_control(const Value& block, const std::string& loc, Request& r) {
  const Value* cc = find(block, "cache_control");
  if (!cc || cc->IsNull()) return;
  std::string l = join(loc, "cache_control");
  tag(*cc, l, {"ephemeral"});
  no_extra(*cc, l + ".ephemeral", {"type", "ttl"});
  if (const Value* ttl = find(*cc, "ttl")) {
    if (!ttl->IsString() || (sv(*ttl) != "5m" && sv(*ttl) != "1h"))
      fail(l + ".ephemeral.ttl: Input should be '5m' or '1h'");
    if (sv(*ttl) == "1h") r.cache_1h = true;
  }
  ++r.cache_blocks;
}

std::string texts_of(const Value& content) {
  if (content.IsString()) return std::string(sv(content));
  std::string out;
  if (!content.IsArray()) return out;
  for (const Value& b : content.GetArray()) {
    if (string_member(b, "type") != "text") continue;
    if (!out.empty()) out += ' ';
    out += string_member(b, "text");
  }
  return out;
}

void check_source(const Value& block, const std::string& loc, std::string_view kind) {
  const Value& src = required(block, "source", loc);
  std::string l = loc + ".source";
  if (kind == "image") {
    std::string_view t = tag(src, l, {"base64", "url", "file"});
    if (t == "base64") {
      const Value& mt = required(src, "media_type", l + ".base64");
      if (!mt.IsString() ||
          (sv(mt) != "image/jpeg" && sv(mt) != "image/png" && sv(mt) != "image/gif" && sv(mt) != "image/webp"))
        fail(l + ".base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'");
      need_string(required(src, "data", l + ".base64"), l + ".base64.data");
    } else if (t == "url") {
      need_string(required(src, "url", l + ".url"), l + ".url.url");
    } else {
      need_string(required(src, "file_id", l + ".file"), l + ".file.file_id");
    }
    return;
  }
  std::string_view t = tag(src, l, {"base64", "text", "content", "url", "file"});
  if (t == "base64") {
    const Value& mt = required(src, "media_type", l + ".base64");
    if (!mt.IsString() || sv(mt) != "application/pdf")
      fail(l + ".base64.media_type: Input should be 'application/pdf'");
    need_string(required(src, "data", l + ".base64"), l + ".base64.data");
  } else if (t == "text") {
    const Value& mt = required(src, "media_type", l + ".text");
    if (!mt.IsString() || sv(mt) != "text/plain") fail(l + ".text.media_type: Input should be 'text/plain'");
    need_string(required(src, "data", l + ".text"), l + ".text.data");
  } else if (t == "content") {
    const Value& c = required(src, "content", l + ".content");
    if (!c.IsString() && !c.IsArray()) fail(l + ".content.content: Input should be a valid string or list");
  } else if (t == "url") {
    need_string(required(src, "url", l + ".url"), l + ".url.url");
  } else {
    need_string(required(src, "file_id", l + ".file"), l + ".file.file_id");
  }
}

// One content block of a message (or of a tool_result); returns its type.
std::string_view check_block(const Value& b, const std::string& loc, Request& r, bool nested) {
  std::string_view t = nested ? tag(b, loc, {"text", "image", "document", "search_result"})
                              : tag(b, loc,
                                    {"text", "image", "document", "search_result", "thinking", "redacted_thinking",
                                     "tool_use", "tool_result", "server_tool_use", "web_search_tool_result"});
  std::string l = loc + "." + std::string(t);
  if (t == "text") {
    const Value& text = required(b, "text", l);
    need_string(text, l + ".text");
    if (text.GetStringLength() == 0) fail("messages: text content blocks must be non-empty");
    if (blank(sv(text))) fail("messages: text content blocks must contain non-whitespace text");
    r.input_words += static_cast<long>(count_words(sv(text)));
  } else if (t == "image" || t == "document") {
    check_source(b, l, t);
  } else if (t == "tool_use") {
    const Value& id = required(b, "id", l);
    need_string(id, l + ".id");
    std::string_view ids = sv(id);
    if (ids.empty() || !std::all_of(ids.begin(), ids.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        }))
      fail(l + ".id: String should match pattern '^[a-zA-Z0-9_-]+$'");
    need_string(required(b, "name", l), l + ".name");
    need_object(required(b, "input", l), l + ".input");
  } else if (t == "tool_result") {
    need_string(required(b, "tool_use_id", l), l + ".tool_use_id");
    if (const Value* c = find(b, "content")) {
      if (c->IsString()) {
        r.input_words += static_cast<long>(count_words(sv(*c)));
      } else if (c->IsArray()) {
        for (rapidjson::SizeType k = 0; k < c->Size(); ++k)
          check_block((*c)[k], l + ".content." + std::to_string(k), r, true);
      } else {
        fail(l + ".content: Input should be a valid string or list");
      }
    }
    if (const Value* e = find(b, "is_error")) need_bool(*e, l + ".is_error");
  } else if (t == "thinking") {
    need_string(required(b, "thinking", l), l + ".thinking");
    need_string(required(b, "signature", l), l + ".signature");
  } else if (t == "redacted_thinking") {
    need_string(required(b, "data", l), l + ".data");
  }
  check_cache_control(b, l, r);
  return t;
}

// Whether a user message's content starts with a tool_result block.
bool starts_with_tool_result(const Value& m) {
  const Value* c = find(m, "content");
  return c && c->IsArray() && !c->Empty() && string_member((*c)[0], "type") == "tool_result";
}

void check_messages(const Value& messages, Request& r) {
  need_list(messages, "messages");
  if (messages.Empty()) fail("messages: at least one message is required");
  const rapidjson::SizeType n = messages.Size();
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const Value& m = messages[i];
    std::string loc = "messages." + std::to_string(i);
    need_object(m, loc);
    const Value& role = required(m, "role", loc);
    if (role.IsString() && sv(role) == "system")
      fail(
          "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not "
          "\"system\" as an input message role.");
    if (!role.IsString() || (sv(role) != "user" && sv(role) != "assistant"))
      fail(loc + ".role: Input should be 'user' or 'assistant'");
    no_extra(m, loc, {"role", "content"});
    const Value& content = required(m, "content", loc);
    const bool last = i + 1 == n, assistant = sv(role) == "assistant";
    if (content.IsString()) {
      if (content.GetStringLength() == 0 && !(last && assistant))
        fail(loc + ": all messages must have non-empty content except for the optional final assistant message");
      r.input_words += static_cast<long>(count_words(sv(content)));
    } else if (content.IsArray()) {
      if (content.Empty() && !(last && assistant))
        fail(loc + ": all messages must have non-empty content except for the optional final assistant message");
      for (rapidjson::SizeType j = 0; j < content.Size(); ++j) {
        std::string bl = loc + ".content." + std::to_string(j);
        std::string_view t = check_block(content[j], bl, r, false);
        if (!assistant && (t == "tool_use" || t == "thinking" || t == "redacted_thinking" || t == "server_tool_use"))
          fail(bl + ": `" + std::string(t) + "` blocks can only be in `assistant` messages");
        if (assistant && t == "tool_result") fail(bl + ": `tool_result` blocks can only be in `user` messages");
        if (assistant && t == "thinking") {
          std::string_view thinking = string_member(content[j], "thinking");
          if (string_member(content[j], "signature") != thinking_signature(thinking))
            fail(bl + ": Invalid `signature` in `thinking` block");
        }
      }
    } else {
      fail(loc + ".content: Input should be a valid string or list");
    }
    if (last && assistant) {
      std::string text = texts_of(content);
      if (!text.empty() && is_space(text.back()))
        fail("messages: final assistant content cannot end with trailing whitespace");
    }
  }

  // tool_use ↔ tool_result pairing: an assistant's tool_use ids answered at the
  // start of the next (user) message, every tool_result answering the previous one.
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const Value& m = messages[i];
    const Value& content = m["content"];
    if (!content.IsArray()) continue;
    if (sv(m["role"]) == "user") {
      std::set<std::string_view> used;
      if (i > 0 && sv(messages[i - 1]["role"]) == "assistant" && messages[i - 1]["content"].IsArray())
        for (const Value& b : messages[i - 1]["content"].GetArray())
          if (string_member(b, "type") == "tool_use") used.insert(string_member(b, "id"));
      for (rapidjson::SizeType j = 0; j < content.Size(); ++j) {
        if (string_member(content[j], "type") != "tool_result") continue;
        std::string_view id = string_member(content[j], "tool_use_id");
        if (!used.count(id))
          fail("messages." + std::to_string(i) + ".content." + std::to_string(j) +
               ": unexpected `tool_use_id` found in `tool_result` blocks: " + std::string(id) +
               ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.");
      }
      continue;
    }
    std::vector<std::string_view> ids;
    for (const Value& b : content.GetArray())
      if (string_member(b, "type") == "tool_use") ids.push_back(string_member(b, "id"));
    if (ids.empty() || i + 1 == n) continue;
    const Value& next = messages[i + 1];
    std::set<std::string_view> at_start, anywhere;
    if (sv(next["role"]) == "user" && next["content"].IsArray()) {
      bool leading = true;
      for (const Value& b : next["content"].GetArray()) {
        bool result = string_member(b, "type") == "tool_result";
        leading = leading && result;
        if (result) (leading ? at_start : anywhere).insert(string_member(b, "tool_use_id"));
      }
    }
    std::string missing;
    size_t later = 0;
    for (std::string_view id : ids) {
      if (at_start.count(id)) continue;
      later += anywhere.count(id);
      missing += (missing.empty() ? "" : ", ") + std::string(id);
    }
    if (missing.empty()) continue;
    if (later)
      fail("messages." + std::to_string(i + 1) + ": Did not find " + std::to_string(ids.size()) +
           " `tool_result` block(s) at the beginning of this message. Messages following `tool_use` blocks must "
           "begin with a matching number of `tool_result` blocks.");
    fail("messages." + std::to_string(i) +
         ": `tool_use` ids were found without `tool_result` blocks immediately after: " + missing +
         ". Each `tool_use` block must have a corresponding `tool_result` block in the next message.");
  }

  // What the reply is made of.
  for (rapidjson::SizeType i = n; i-- > 0;) {
    if (sv(messages[i]["role"]) != "user") continue;
    const Value& content = messages[i]["content"];
    r.last_user_text = texts_of(content);
    if (r.last_user_text.empty() && content.IsArray()) {
      // Only tool results: their text.
      for (const Value& b : content.GetArray()) {
        const Value* c = find(b, "content");
        if (string_member(b, "type") != "tool_result" || !c) continue;
        std::string t = texts_of(*c);
        if (t.empty()) continue;
        if (!r.last_user_text.empty()) r.last_user_text += ' ';
        r.last_user_text += t;
      }
    }
    break;
  }
  const Value& last = messages[n - 1];
  r.last_is_tool_results = sv(last["role"]) == "user" && starts_with_tool_result(last);
}

void check_system(const Value& system, Request& r) {
  if (system.IsString()) {
    r.input_words += static_cast<long>(count_words(sv(system)));
    return;
  }
  if (!system.IsArray()) fail("system: Input should be a valid string or list");
  for (rapidjson::SizeType i = 0; i < system.Size(); ++i) {
    std::string loc = "system." + std::to_string(i);
    const Value& b = system[i];
    tag(b, loc, {"text"});
    no_extra(b, loc, {"type", "text", "cache_control", "citations"});
    const Value& text = required(b, "text", loc);
    need_string(text, loc + ".text");
    if (text.GetStringLength() == 0) fail("system: text content blocks must be non-empty");
    r.input_words += static_cast<long>(count_words(sv(text)));
    check_cache_control(b, loc, r);
  }
}

bool valid_tool_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

void check_tools(const Value& tools, Request& r) {
  need_list(tools, "tools");
  std::set<std::string_view> names;
  for (rapidjson::SizeType i = 0; i < tools.Size(); ++i) {
    const Value& t = tools[i];
    std::string loc = "tools." + std::to_string(i);
    need_object(t, loc);
    std::string_view type = string_member(t, "type");
    if (!type.empty() && type != "custom") {
      // A server tool (web_search_..., code_execution_..., ...): named, nothing more checked.
      std::string_view name = string_member(t, "name");
      if (!name.empty() && !names.insert(name).second) fail("tools: Tool names must be unique.");
      check_cache_control(t, loc, r);
      continue;
    }
    loc += ".custom";
    no_extra(t, loc,
             {"type", "name", "description", "input_schema", "cache_control", "strict", "input_examples",
              "defer_loading", "allowed_callers", "eager_input_streaming"});
    const Value& name = required(t, "name", loc);
    need_string(name, loc + ".name");
    if (!valid_tool_name(sv(name))) fail(loc + ".name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'");
    if (const Value* d = find(t, "description")) need_string(*d, loc + ".description");
    const Value& schema = required(t, "input_schema", loc);
    need_object(schema, loc + ".input_schema");
    const Value& st = required(schema, "type", loc + ".input_schema");
    if (!st.IsString() || sv(st) != "object") fail(loc + ".input_schema.type: Input should be 'object'");
    if (!names.insert(sv(name)).second) fail("tools: Tool names must be unique.");
    check_cache_control(t, loc, r);
    r.tools.push_back({std::string(sv(name)), &schema});
  }
}

void check_tool_choice(const Value& tc, bool have_tools, Request& r) {
  std::string_view type = tag(tc, "tool_choice", {"auto", "any", "tool", "none"});
  std::string loc = "tool_choice." + std::string(type);
  if (type == "tool") {
    no_extra(tc, loc, {"type", "name", "disable_parallel_tool_use"});
    const Value& name = required(tc, "name", loc);
    need_string(name, loc + ".name");
    r.choice_name = std::string(sv(name));
  } else if (type == "none") {
    no_extra(tc, loc, {"type"});
  } else {
    no_extra(tc, loc, {"type", "disable_parallel_tool_use"});
  }
  if (const Value* d = find(tc, "disable_parallel_tool_use")) {
    need_bool(*d, loc + ".disable_parallel_tool_use");
    r.disable_parallel = d->GetBool();
  }
  if (!have_tools && type != "none") fail("tool_choice may only be specified while providing tools.");
  r.choice = std::string(type);
  if (type == "tool" &&
      std::none_of(r.tools.begin(), r.tools.end(), [&](const Tool& t) { return t.name == r.choice_name; }))
    fail("tool_choice.tool.name: Tool '" + r.choice_name + "' not found in the provided `tools`.");
}

void check_thinking(const Value& th, Request& r) {
  std::string_view type = tag(th, "thinking", {"adaptive", "disabled", "enabled"});
  std::string loc = "thinking." + std::string(type);
  if (type == "enabled") {
    no_extra(th, loc, {"type", "budget_tokens", "display"});
    const Value& b = required(th, "budget_tokens", loc);
    if (!b.IsInt64()) fail(loc + ".budget_tokens: Input should be a valid integer");
    if (b.GetInt64() < 1024) fail(loc + ".budget_tokens: Input should be greater than or equal to 1024");
    if (!r.count_tokens && b.GetInt64() >= r.max_tokens)
      fail("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at " +
           std::string(kThinkingDocs) + "#max-tokens-and-context-window-size");
  } else if (type == "adaptive") {
    no_extra(th, loc, {"type", "display"});
  } else {
    no_extra(th, loc, {"type"});
  }
  if (const Value* d = find(th, "display")) {
    if (!d->IsString() || (sv(*d) != "summarized" && sv(*d) != "omitted"))
      fail(loc + ".display: Input should be 'summarized' or 'omitted'");
    r.thinking_omitted = sv(*d) == "omitted";
  }
  r.thinking = std::string(type);
}

const Value* check_format(const Value& f, const std::string& loc) {
  tag(f, loc, {"json_schema"});
  no_extra(f, loc + ".json_schema", {"type", "schema"});
  const Value& schema = required(f, "schema", loc + ".json_schema");
  need_object(schema, loc + ".json_schema.schema");
  return &schema;
}

// Checks the body as the real API does (the first failure is thrown).
Request check(const rapidjson::Document& doc, bool vertex, bool count_tokens) {
  Request r;
  r.vertex = vertex;
  r.count_tokens = count_tokens;
  if (!doc.IsObject()) fail("Input should be a valid dictionary");

  for (const auto& m : doc.GetObject()) {
    static const std::set<std::string_view> messages_keys = {"model",
                                                             "messages",
                                                             "max_tokens",
                                                             "system",
                                                             "metadata",
                                                             "stop_sequences",
                                                             "stream",
                                                             "temperature",
                                                             "top_p",
                                                             "top_k",
                                                             "tools",
                                                             "tool_choice",
                                                             "thinking",
                                                             "service_tier",
                                                             "container",
                                                             "mcp_servers",
                                                             "context_management",
                                                             "output_config",
                                                             "output_format",
                                                             "inference_geo",
                                                             "cache_control"};
    static const std::set<std::string_view> count_keys = {
        "model",    "messages",    "system",        "tools",         "tool_choice",
        "thinking", "mcp_servers", "output_config", "output_format", "context_management"};
    std::string_view k = sv(m.name);
    bool known = count_tokens ? count_keys.count(k) > 0 : messages_keys.count(k) > 0;
    if (vertex && k == "model") known = false;
    if (vertex && k == "anthropic_version") known = true;
    if (!known) fail(std::string(k) + ": Extra inputs are not permitted");
  }

  if (vertex) {
    const Value& v = required(doc, "anthropic_version", "");
    if (!v.IsString() || sv(v) != kVertexVersion)
      fail("anthropic_version: Input should be '" + std::string(kVertexVersion) + "'");
  } else {
    const Value& model = required(doc, "model", "");
    need_string(model, "model");
    r.model = std::string(sv(model));
  }
  if (!count_tokens) {
    const Value& mt = required(doc, "max_tokens", "");
    if (!mt.IsInt64()) fail("max_tokens: Input should be a valid integer");
    if (mt.GetInt64() < 0) fail("max_tokens: Input should be greater than or equal to 0");
    r.max_tokens = static_cast<long>(std::min<int64_t>(mt.GetInt64(), 1L << 40));
  }
  check_messages(required(doc, "messages", ""), r);
  if (!count_tokens) {
    // Automatic caching: a top-level cache_control (one breakpoint, moved along by the API).
    std::string none;
    check_cache_control(doc, none, r);
  }
  if (const Value* s = find(doc, "system")) check_system(*s, r);
  if (const Value* s = find(doc, "stream")) {
    need_bool(*s, "stream");
    r.stream = s->GetBool();
  }
  number_range(doc, "temperature", 0, 1);
  number_range(doc, "top_p", 0, 1);
  if (const Value* k = find(doc, "top_k")) {
    if (!k->IsInt64()) fail("top_k: Input should be a valid integer");
    if (k->GetInt64() < 0) fail("top_k: Input should be greater than or equal to 0");
  }
  if (const Value* ss = find(doc, "stop_sequences")) {
    need_list(*ss, "stop_sequences");
    for (rapidjson::SizeType i = 0; i < ss->Size(); ++i) {
      need_string((*ss)[i], "stop_sequences." + std::to_string(i));
      r.stop_sequences.emplace_back(sv((*ss)[i]));
    }
  }
  if (const Value* md = find(doc, "metadata")) {
    need_object(*md, "metadata");
    no_extra(*md, "metadata", {"user_id"});
    if (const Value* u = find(*md, "user_id"); u && !u->IsNull()) need_string(*u, "metadata.user_id");
  }
  if (const Value* st = find(doc, "service_tier")) {
    if (!st->IsString() || (sv(*st) != "auto" && sv(*st) != "standard_only"))
      fail("service_tier: Input should be 'auto' or 'standard_only'");
  }
  const Value* tools = find(doc, "tools");
  if (tools) check_tools(*tools, r);
  if (const Value* tc = find(doc, "tool_choice")) check_tool_choice(*tc, tools && !tools->Empty(), r);
  if (const Value* th = find(doc, "thinking")) check_thinking(*th, r);
  if (const Value* oc = find(doc, "output_config")) {
    need_object(*oc, "output_config");
    no_extra(*oc, "output_config", {"format", "effort", "task_budget"});
    if (const Value* e = find(*oc, "effort")) {
      if (!e->IsString() || (sv(*e) != "low" && sv(*e) != "medium" && sv(*e) != "high" && sv(*e) != "max"))
        fail("output_config.effort: Input should be 'low', 'medium', 'high' or 'max'");
    }
    if (const Value* f = find(*oc, "format"); f && !f->IsNull())
      r.output_schema = check_format(*f, "output_config.format");
  }
  if (const Value* f = find(doc, "output_format"); f && !f->IsNull()) {
    const Value* schema = check_format(*f, "output_format");
    if (!r.output_schema) r.output_schema = schema;
  }

  const bool thinking_on = r.thinking == "enabled" || r.thinking == "adaptive";
  if (thinking_on) {
    if (const Value* t = find(doc, "temperature"); t && t->IsNumber() && t->GetDouble() != 1.0)
      fail("`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at " +
           std::string(kThinkingDocs) + "#feature-compatibility");
    if (find(doc, "top_k"))
      fail("`top_k` must be unset when thinking is enabled. Please consult our documentation at " +
           std::string(kThinkingDocs) + "#feature-compatibility");
    if (r.choice == "any" || r.choice == "tool") fail("Thinking may not be enabled when tool_choice forces tool use.");
    // In a tool loop, the assistant turn being answered must keep its thinking block first.
    const Value& messages = doc["messages"];
    rapidjson::SizeType n = messages.Size();
    if (r.last_is_tool_results && n >= 2 && sv(messages[n - 2]["role"]) == "assistant") {
      const Value& c = messages[n - 2]["content"];
      std::string_view first = c.IsArray() && !c.Empty() ? string_member(c[0], "type") : std::string_view("text");
      if (first != "thinking" && first != "redacted_thinking")
        fail("messages." + std::to_string(n - 2) +
             ".content.0.type: Expected `thinking` or `redacted_thinking`, but found `" + std::string(first) +
             "`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding "
             "the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
             "previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at " +
             std::string(kThinkingDocs));
    }
  }
  if (r.cache_blocks > 4)
    fail("A maximum of 4 blocks with cache_control may be provided. Found " + std::to_string(r.cache_blocks) + ".");
  return r;
}

// ---- the reply -------------------------------------------------------------------------

enum class Kind { text, thinking, tool_use };

struct Block {
  Kind kind;
  std::string text;       // text, or the thinking
  std::string signature;  // thinking
  std::string id, name, input;
};

struct Reply {
  std::string id, model;
  std::vector<Block> blocks;
  std::string stop_reason = "end_turn";
  std::optional<std::string> stop_sequence;
  bool refusal = false;
  long input_tokens = 0, output_tokens = 0, cache_read = 0, cache_write = 0;
  bool write_1h = false;
};

void write_usage(Writer& w, const Reply& r, long output_tokens, bool start) {
  w.StartObject();
  w.Key("input_tokens");
  w.Int64(r.input_tokens);
  w.Key("cache_creation_input_tokens");
  w.Int64(r.cache_write);
  w.Key("cache_read_input_tokens");
  w.Int64(r.cache_read);
  if (start) {
    w.Key("cache_creation");
    w.StartObject();
    w.Key("ephemeral_5m_input_tokens");
    w.Int64(r.write_1h ? 0 : r.cache_write);
    w.Key("ephemeral_1h_input_tokens");
    w.Int64(r.write_1h ? r.cache_write : 0);
    w.EndObject();
  }
  w.Key("output_tokens");
  w.Int64(output_tokens);
  if (start) {
    w.Key("service_tier");
    w.String("standard");
  }
  w.EndObject();
}

void write_stop_details(Writer& w) {
  w.Key("stop_details");
  w.StartObject();
  w.Key("type");
  w.String("refusal");
  w.Key("category");
  w.Null();
  w.Key("explanation");
  w.Null();
  w.EndObject();
}

// A content block: whole, or as content_block_start carries it (`start`:
// text, thinking and signature empty, input {}; the deltas bring them).
void write_block(Writer& w, const Block& b, bool start) {
  w.StartObject();
  w.Key("type");
  if (b.kind == Kind::text) {
    w.String("text");
    w.Key("text");
    put(w, start ? std::string_view() : b.text);
  } else if (b.kind == Kind::thinking) {
    w.String("thinking");
    w.Key("thinking");
    put(w, start ? std::string_view() : b.text);
    w.Key("signature");
    put(w, start ? std::string_view() : b.signature);
  } else {
    w.String("tool_use");
    w.Key("id");
    put(w, b.id);
    w.Key("name");
    put(w, b.name);
    w.Key("input");
    if (start) {
      w.StartObject();
      w.EndObject();
    } else {
      w.RawValue(b.input.data(), b.input.size(), rapidjson::kObjectType);
    }
  }
  w.EndObject();
}

// The message object; `partial`: as message_start carries it (no content, no stop yet).
void write_message(Writer& w, const Reply& r, bool partial) {
  w.StartObject();
  w.Key("id");
  put(w, r.id);
  w.Key("type");
  w.String("message");
  w.Key("role");
  w.String("assistant");
  w.Key("model");
  put(w, r.model);
  w.Key("content");
  w.StartArray();
  if (!partial)
    for (const Block& b : r.blocks) write_block(w, b, false);
  w.EndArray();
  w.Key("stop_reason");
  if (partial)
    w.Null();
  else
    put(w, r.stop_reason);
  w.Key("stop_sequence");
  if (!partial && r.stop_sequence)
    put(w, *r.stop_sequence);
  else
    w.Null();
  if (!partial && r.refusal) write_stop_details(w);
  w.Key("usage");
  write_usage(w, r, partial ? 1 : r.output_tokens, true);
  w.EndObject();
}

std::string event(std::string_view type, const std::string& json) {
  return "event: " + std::string(type) + "\ndata: " + json + "\n\n";
}

std::string block_event(const char* type, size_t index, const std::function<void(Writer&)>& body) {
  return event(type, json([&](Writer& w) {
                 w.StartObject();
                 w.Key("type");
                 w.String(type);
                 w.Key("index");
                 w.Uint64(index);
                 body(w);
                 w.EndObject();
               }));
}

std::string delta_event(size_t index, const char* delta_type, const char* field, std::string_view value) {
  return block_event("content_block_delta", index, [&](Writer& w) {
    w.Key("delta");
    w.StartObject();
    w.Key("type");
    w.String(delta_type);
    w.Key(field);
    put(w, value);
    w.EndObject();
  });
}

constexpr const char* kPing = "event: ping\ndata: {\"type\": \"ping\"}\n\n";

std::string error_message_for(std::string_view type) {
  if (type == "overloaded_error") return "Overloaded";
  if (type == "api_error") return "Internal server error";
  if (type == "rate_limit_error") return "Rate limited";
  if (type == "timeout_error") return "Request timed out";
  return "local upstream: injected " + std::string(type);
}

constexpr std::string_view kErrorTypes[] = {
    "invalid_request_error", "authentication_error", "billing_error", "permission_error", "not_found_error",
    "request_too_large",     "rate_limit_error",     "api_error",     "timeout_error",    "overloaded_error"};

// The events of `r`; `error_type`: an error event right after message_start, then the end.
std::vector<std::string> stream_events(const Reply& r, std::string_view error_type) {
  std::vector<std::string> ev;
  ev.push_back(event("message_start", json([&](Writer& w) {
                       w.StartObject();
                       w.Key("type");
                       w.String("message_start");
                       w.Key("message");
                       write_message(w, r, true);
                       w.EndObject();
                     })));
  if (!error_type.empty()) {
    ev.push_back(event("error", json([&](Writer& w) {
                         w.StartObject();
                         w.Key("type");
                         w.String("error");
                         w.Key("error");
                         w.StartObject();
                         w.Key("type");
                         put(w, error_type);
                         w.Key("message");
                         put(w, error_message_for(error_type));
                         w.EndObject();
                         w.EndObject();
                       })));
    return ev;
  }
  if (r.blocks.empty()) ev.push_back(kPing);
  for (size_t i = 0; i < r.blocks.size(); ++i) {
    const Block& b = r.blocks[i];
    ev.push_back(block_event("content_block_start", i, [&](Writer& w) {
      w.Key("content_block");
      write_block(w, b, true);
    }));
    if (i == 0) ev.push_back(kPing);
    if (b.kind == Kind::text) {
      for (const std::string& piece : shared::two_word_pieces(b.text))
        ev.push_back(delta_event(i, "text_delta", "text", piece));
    } else if (b.kind == Kind::thinking) {
      for (const std::string& piece : shared::two_word_pieces(b.text))
        ev.push_back(delta_event(i, "thinking_delta", "thinking", piece));
      ev.push_back(delta_event(i, "signature_delta", "signature", b.signature));
    } else {
      ev.push_back(delta_event(i, "input_json_delta", "partial_json", ""));
      for (const std::string& piece : shared::three_pieces(b.input))
        ev.push_back(delta_event(i, "input_json_delta", "partial_json", piece));
    }
    ev.push_back(block_event("content_block_stop", i, [](Writer&) {}));
  }
  ev.push_back(event("message_delta", json([&](Writer& w) {
                       w.StartObject();
                       w.Key("type");
                       w.String("message_delta");
                       w.Key("delta");
                       w.StartObject();
                       w.Key("stop_reason");
                       put(w, r.stop_reason);
                       w.Key("stop_sequence");
                       if (r.stop_sequence)
                         put(w, *r.stop_sequence);
                       else
                         w.Null();
                       if (r.refusal) write_stop_details(w);
                       w.EndObject();
                       w.Key("usage");
                       write_usage(w, r, r.output_tokens, false);
                       w.EndObject();
                     })));
  ev.push_back(event("message_stop", R"({"type":"message_stop"})"));
  return ev;
}

// ---- signatures ---------------------------------------------------------------------------

uint64_t fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

std::string thinking_signature(std::string_view thinking) {
  // 24 bytes: a tag, two FNV-1a hashes of the text (different seeds), its length.
  std::string bytes = "UPSTRM01";
  for (uint64_t seed : {14695981039346656037ull, 0x9E3779B97F4A7C15ull}) {
    uint64_t h = fnv1a(thinking, fnv1a("literllm-upstream-thinking", seed));
    for (int k = 0; k < 8; ++k) bytes += static_cast<char>((h >> (8 * k)) & 0xFF);
  }
  uint32_t len = static_cast<uint32_t>(thinking.size());
  for (int k = 0; k < 4; ++k) bytes += static_cast<char>((len >> (8 * k)) & 0xFF);
  return base64(bytes);
}

AnthropicRoute anthropic_route(std::string_view path, std::string* model) {
  constexpr std::string_view kPublisher = "/publishers/anthropic/models/";
  size_t pub = path.find(kPublisher);
  if (pub != std::string_view::npos) {
    std::string_view prefix = path.substr(0, pub), rest = path.substr(pub + kPublisher.size());
    size_t pr = prefix.find("/projects/"), lo = prefix.find("/locations/");
    size_t colon = rest.rfind(':');
    if (pr == std::string_view::npos || lo == std::string_view::npos || lo < pr || colon == std::string_view::npos ||
        colon == 0 || rest.substr(0, colon).find('/') != std::string_view::npos)
      return AnthropicRoute::none;
    std::string_view verb = rest.substr(colon + 1);
    AnthropicRoute r = verb == "rawPredict"         ? AnthropicRoute::vertex_raw
                       : verb == "streamRawPredict" ? AnthropicRoute::vertex_stream
                                                    : AnthropicRoute::none;
    if (r != AnthropicRoute::none && model) *model = std::string(rest.substr(0, colon));
    return r;
  }
  auto ends = [&](std::string_view s) { return path.size() >= s.size() && path.substr(path.size() - s.size()) == s; };
  if (ends("/v1/messages/count_tokens")) return AnthropicRoute::count_tokens;
  if (ends("/v1/messages")) return AnthropicRoute::messages;
  return AnthropicRoute::none;
}

const char* anthropic_error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string anthropic_error_body(std::string_view type, std::string_view message, std::string_view request_id) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("type");
    w.String("error");
    w.Key("error");
    w.StartObject();
    w.Key("type");
    put(w, type);
    w.Key("message");
    put(w, message);
    w.EndObject();
    w.Key("request_id");
    put(w, request_id);
    w.EndObject();
  });
}

Plan anthropic_error_plan(int status, std::string_view request_id, std::string_view message, std::string_view type) {
  std::string msg(message);
  if (msg.empty()) {
    switch (status) {
      case 401:
        msg = "invalid x-api-key";
        break;
      case 402:
        msg =
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
            "purchase credits.";
        break;
      case 403:
        msg = "Your API key does not have permission to use the specified resource.";
        break;
      case 404:
        msg = "Not found";
        break;
      case 413:
        msg = "Request exceeds the maximum allowed number of bytes.";
        break;
      case 429:
        msg =
            "Number of request tokens has exceeded your per-minute rate limit "
            "(https://docs.claude.com/en/api/rate-limits); see the response headers for current usage. Please "
            "reduce the prompt length or the maximum tokens requested, or try again later.";
        break;
      case 500:
        msg = "Internal server error";
        break;
      case 529:
        msg = "Overloaded";
        break;
      default:
        msg = injected_message(status);
    }
  }
  return shared::json_plan(status,
                           anthropic_error_body(type.empty() ? anthropic_error_type(status) : type, msg, request_id));
}

Plan anthropic_auth_error(AnthropicRoute route, bool key_given, std::string_view request_id) {
  if (route == AnthropicRoute::vertex_raw || route == AnthropicRoute::vertex_stream)
    return shared::json_plan(
        401,
        R"({"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access )"
        R"(token, login cookie or other valid authentication credential. See )"
        R"(https://developers.google.com/identity/sign-in/web/devconsole-project.","status":"UNAUTHENTICATED"}})");
  return anthropic_error_plan(401, request_id, key_given ? "invalid x-api-key" : "x-api-key header is required",
                              "authentication_error");
}

std::string anthropic_models_body() {
  struct Model {
    const char *id, *name, *created;
  };
  static constexpr Model kModels[] = {{"claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"},
                                      {"claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"},
                                      {"upstream-echo", "Local upstream", "2023-11-14T22:13:20Z"}};
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (const Model& m : kModels) {
      w.StartObject();
      w.Key("type");
      w.String("model");
      w.Key("id");
      w.String(m.id);
      w.Key("display_name");
      w.String(m.name);
      w.Key("created_at");
      w.String(m.created);
      w.EndObject();
    }
    w.EndArray();
    w.Key("has_more");
    w.Bool(false);
    w.Key("first_id");
    w.String(kModels[0].id);
    w.Key("last_id");
    w.String(std::end(kModels)[-1].id);
    w.EndObject();
  });
}

Plan handle_anthropic(const RecordedRequest& req, AnthropicRoute route, const std::string& path_model,
                      const std::string& request_id, uint64_t n) {
  const bool vertex = route == AnthropicRoute::vertex_raw || route == AnthropicRoute::vertex_stream;
  const bool counting = route == AnthropicRoute::count_tokens;
  try {
    if (!vertex) {
      // Repeats joined as HTTP joins them (the real API then refuses "2023-06-01, 2023-06-01").
      std::string version;
      for (const auto& [k, v] : req.headers)
        if (shared::iequals(k, "anthropic-version"))
          version += (version.empty() ? "" : ", ") + std::string(shared::trim(v));
      if (version.empty()) fail("anthropic-version: header is required");
      if (version != "2023-06-01" && version != "2023-01-01")
        fail("anthropic-version: \"" + version + "\" is not a valid version");
    }
    const std::string stream_error_header = req.header("x-upstream-stream-error");
    const std::string_view stream_error = shared::trim(stream_error_header);
    if (!stream_error.empty() &&
        std::find(std::begin(kErrorTypes), std::end(kErrorTypes), stream_error) == std::end(kErrorTypes)) {
      std::string words;
      for (std::string_view w : kErrorTypes) words += (words.empty() ? "" : "|") + std::string(w);
      fail("x-upstream-stream-error: unknown value '" + std::string(stream_error) + "'; expected " + words);
    }

    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    const bool echo = shared::header_true(req, "x-upstream-echo");
    Request r;
    if (echo) {
      // The reply's text is the raw body: no checks.
      if (!doc.HasParseError() && doc.IsObject()) {
        r.model = std::string(string_member(doc, "model"));
        const Value* s = find(doc, "stream");
        r.stream = s && s->IsBool() && s->GetBool();
      }
    } else {
      if (doc.HasParseError()) {
        // As the real API words it: "The request body is not valid JSON: <why>: line L column C (char O)".
        size_t at = std::min(doc.GetErrorOffset(), req.body.size()), line = 1, column = 1;
        for (size_t i = 0; i < at; ++i) {
          if (req.body[i] == '\n') {
            ++line;
            column = 1;
          } else {
            ++column;
          }
        }
        std::string why = rapidjson::GetParseError_En(doc.GetParseError());
        if (!why.empty() && why.back() == '.') why.pop_back();
        if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
        fail("The request body is not valid JSON: " + why + ": line " + std::to_string(line) + " column " +
             std::to_string(column) + " (char " + std::to_string(at) + ")");
      }
      r = check(doc, vertex, counting);
    }
    if (vertex) r.model = path_model;
    if (shared::header_true(req, "x-upstream-context-exceeded"))
      fail("prompt is too long: 250000 tokens > 200000 maximum");

    if (counting) return shared::json_plan(200, "{\"input_tokens\":" + std::to_string(r.input_words) + "}");

    Reply reply;
    reply.id = (vertex ? "msg_vrtx_upstream_" : "msg_upstream_") + std::to_string(n);
    reply.model = r.model;
    reply.input_tokens = r.input_words;
    long v = 0;
    if (shared::header_number(req, "x-upstream-cached-tokens", v)) reply.cache_read = v;
    if (shared::header_number(req, "x-upstream-cache-write-tokens", v)) reply.cache_write = v;
    reply.write_1h = r.cache_1h;

    if (shared::header_true(req, "x-upstream-malformed") && !r.stream)
      return shared::json_plan(200, R"({"id": "broken",)");

    if (shared::header_true(req, "x-upstream-refusal")) {
      reply.refusal = true;
      reply.stop_reason = "refusal";
    } else {
      if (r.thinking == "enabled" || r.thinking == "adaptive") {
        Block b{
            Kind::thinking, r.thinking_omitted ? std::string() : "Thinking about: " + r.last_user_text, {}, {}, {}, {}};
        b.signature = thinking_signature(b.text);
        reply.output_tokens += static_cast<long>(count_words(b.text));
        reply.blocks.push_back(std::move(b));
      }
      if (!echo && !r.tools.empty() && r.choice != "none" && !r.last_is_tool_results) {
        std::vector<const Tool*> calls = replies::tools_to_call(r.tools, r.choice, r.choice_name, !r.disable_parallel);
        for (size_t k = 0; k < calls.size(); ++k)
          reply.blocks.push_back(Block{Kind::tool_use,
                                       {},
                                       {},
                                       "toolu_upstream_" + std::to_string(k),
                                       calls[k]->name,
                                       shared::object_sample(calls[k]->schema, false)});
        reply.stop_reason = "tool_use";
        reply.output_tokens += 5;
      } else {
        std::string text = echo              ? req.body
                           : r.output_schema ? shared::schema_sample(*r.output_schema)
                                             : "Hello from the local upstream. You said: " + r.last_user_text;
        if (!echo) {
          replies::Cut cut = replies::cut_text(std::move(text), static_cast<size_t>(r.max_tokens), r.stop_sequences);
          text = std::move(cut.text);
          if (cut.stop) reply.stop_reason = cut.stop;
          if (!cut.sequence.empty()) reply.stop_sequence = std::move(cut.sequence);
        }
        reply.output_tokens += static_cast<long>(count_words(text));
        // max_tokens 0 (cache pre-warming): no block at all.
        if (echo || r.max_tokens > 0) reply.blocks.push_back(Block{Kind::text, std::move(text), {}, {}, {}, {}});
      }
    }

    if (!r.stream) return shared::json_plan(200, json([&](Writer& w) { write_message(w, reply, false); }));
    Plan p = shared::sse_plan();
    p.events = stream_events(reply, stream_error);
    if (shared::header_true(req, "x-upstream-malformed") && p.events.size() > 1)
      p.events[1] = "event: content_block_start\ndata: {not json\n\n";
    shared::after_done(req, p);
    if (p.after_done == AfterDone::more && shared::iequals(shared::trim(req.header("x-upstream-after-done")), "data")) {
      // Text deltas after message_stop, endlessly (x-upstream-generate-bytes letters each).
      long bytes = 64;
      shared::header_number(req, "x-upstream-generate-bytes", bytes);
      std::string head = R"(event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")";
      p.after = [head, bytes = static_cast<size_t>(std::min(bytes, 16L << 20)),
                 k = size_t{0}](std::string& out) mutable {
        out += head;
        out += replies::letters(k, bytes);
        k += bytes;
        out += "\"}}\n\n";
        return true;
      };
    }
    return p;
  } catch (const Fail& f) {
    return anthropic_error_plan(f.status, request_id, f.message, f.type);
  }
}

}  // namespace literllm::testing::detail
