// What the native codecs (anthropic, bedrock, gemini, cohere) share: reading
// OpenAI-shaped requests, and writing chat.completion.chunk objects.
#pragma once
#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.hpp"
#include "core/json.hpp"
#include "providers/adapter.hpp"

namespace literllm::codec {

// obj[key] when it is a string, else "".
inline std::string_view str_of(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsString() ? json::sv(*v) : std::string_view();
}

// A "data:<media type>;base64,<data>" URL split in two; false for any other URL.
inline bool split_data_url(std::string_view url, std::string_view& media_type, std::string_view& data) {
  if (url.substr(0, 5) != "data:") return false;
  size_t semi = url.find(";base64,");
  if (semi == std::string_view::npos) return false;
  media_type = url.substr(5, semi - 5);
  data = url.substr(semi + 8);
  return true;
}

// obj[key] (`key` a literal: not copied), added as an empty `type` (an object
// or an array) when absent.
inline json::Value& member_or_add(json::Value& obj, const char* key, rapidjson::Type type, json::Allocator& a) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    obj.AddMember(rapidjson::StringRef(key), json::Value(type), a);
    it = obj.FindMember(key);
  }
  return it->value;
}

// Throws LLM_ERR_INVALID_ARGUMENT: "request.<path>: <why>".
[[noreturn]] inline void bad(const std::string& path, const std::string& why) { invalid("request." + path + ": " + why); }

inline int64_t now_secs() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The head every chunk of one stream repeats.
struct ChunkHead {
  std::string id, model;
  int64_t created = 0;
};

// Emits one chat.completion.chunk with choice `index` whose delta `fill(delta,
// allocator)` writes, and the finish reason when given. Returns emit's answer.
// A chat.completion.chunk object with the head's members, to be filled.
inline json::Document chunk_of(const ChunkHead& h) {
  json::Document c(rapidjson::kObjectType);
  auto& a = c.GetAllocator();
  c.AddMember("id", json::str(h.id, a), a);
  c.AddMember("object", "chat.completion.chunk", a);
  c.AddMember("created", h.created, a);
  c.AddMember("model", json::str(h.model, a), a);
  return c;
}

template <class F>
bool emit_chunk(const ChunkSink& emit, const ChunkHead& h, F&& fill, const char* finish = nullptr, int64_t index = 0) {
  json::Document c = chunk_of(h);
  auto& a = c.GetAllocator();
  json::Value choices(rapidjson::kArrayType);
  json::Value ch(rapidjson::kObjectType);
  ch.AddMember("index", index, a);
  json::Value delta(rapidjson::kObjectType);
  fill(delta, a);
  ch.AddMember("delta", delta, a);
  if (finish) ch.AddMember("finish_reason", json::Value(finish, a), a);
  else ch.AddMember("finish_reason", json::Value(), a);
  choices.PushBack(ch, a);
  c.AddMember("choices", choices, a);
  return emit(json::dump(c), c);
}

// Emits the usage chunk (no choices), as OpenAI's include_usage does.
bool emit_usage(const ChunkSink& emit, const ChunkHead& h, const json::Value& usage);

// Emits a tool call's delta: with `id` and `name` when they are non-empty (its
// first chunk), and `arguments` (the whole or a piece).
bool emit_tool_call(const ChunkSink& emit, const ChunkHead& h, int64_t tool_index, std::string_view id,
                    std::string_view name, std::string_view arguments, int64_t choice = 0);

// OpenAI usage from the counts a provider gives: prompt tokens include the
// cached ones read and written.
json::Value usage(int64_t input, int64_t output, int64_t cache_read, int64_t cache_write, json::Allocator& a);

// The names a provider gives its four usage counts.
struct UsageNames {
  const char* input;
  const char* output;
  const char* cache_read;
  const char* cache_write;
};
// usage() of the counts of a provider's usage object `u` (an integer member each; absent: 0).
json::Value usage_of(const json::Value& u, const UsageNames& names, json::Allocator& a);

// A tool call's "arguments" text as the JSON object native APIs take. Throws
// LLM_ERR_INVALID_ARGUMENT naming request.<path>.function.arguments.
json::Value arguments_object(std::string_view arguments, const std::string& path, const char* provider,
                             json::Allocator& a);

// A function tool's input schema: its `parameters` (may be null) when an
// object, else the schema of an object of no properties.
json::Value tool_schema(const json::Value* parameters, json::Allocator& a);

// OpenAI "stop" (a string or an array) as an array of stop sequences; empty when absent.
json::Value stop_sequences(const json::Value& req, json::Allocator& a);

// The end of every native body: request.provider_options merged into `body`,
// then the members of request.extra_body that `body` lacks ("stream" left out
// when `drop_stream`: streaming is the operation's choice).
void finish_body(json::Value& req, json::Value& body, const Target& t, json::Allocator& a, bool drop_stream);

// A POST of a JSON body: Content-Type, Accept, the `extra` headers, then the
// target's own headers (which win).
http::Request post_json(const Target& t, std::string url, const json::Value& body, const char* accept,
                        std::initializer_list<std::pair<const char*, const char*>> extra = {});

// The operation table of a protocol that serves chat only: one `Op`, made on
// first use and leaked (an I/O thread may use it during exit).
template <class Op>
const Operation* chat_only(Endpoint e) {
  static const Op* chat = new Op;
  return e == Endpoint::Chat ? chat : nullptr;
}

// ---- conversations of system blocks and alternating turns ----------------
// (Anthropic's Messages, Bedrock's Converse.) The codec writes the blocks;
// conversation() orders them into turns.
class TurnWriter {
 public:
  virtual ~TurnWriter() = default;
  // Appends a message's content (a string or parts) to `blocks`.
  virtual void content_blocks(const json::Value& content, json::Value& blocks, const std::string& path) = 0;
  // One of an assistant message's thinking_blocks (Anthropic's shape: thinking or redacted_thinking).
  virtual json::Value thinking_block(const json::Value& block) = 0;
  // One of an assistant message's tool_calls.
  virtual json::Value tool_use(const json::Value& call, const std::string& path) = 0;
  // A tool message as the block that answers its call.
  virtual json::Value tool_result(const json::Value& msg, const std::string& path) = 0;
  // Marks the cache_control of `from` (a message) on the blocks just made from it.
  virtual void cache_mark(const json::Value& from, json::Value& blocks) = 0;
  // Whether `block` is a tool result that goes first in its user turn when
  // turns merge (no block by default: merged turns keep their order).
  virtual bool leads_turn(const json::Value& /*block*/) const { return false; }
};

// OpenAI messages as body.system (system and developer messages; left out
// when empty) and body.messages ({"role": "user"|"assistant", "content":
// [blocks]}): tool results are user turns, consecutive turns of one role
// become one, empty turns are dropped. `function_role`: the deprecated
// "function" role is a tool result too. Throws LLM_ERR_INVALID_ARGUMENT (naming
// `provider`) for another role, or when no turn is left.
void conversation(const json::Value& msgs, TurnWriter& w, const char* provider, bool function_role,
                  json::Value& body, json::Allocator& a);

// A whole (not streamed) answer, collected block by block, then built into
// a chat.completion with one choice.
class Completion {
 public:
  Completion() : d_(rapidjson::kObjectType), tool_calls_(rapidjson::kArrayType), thinking_(rapidjson::kArrayType) {}
  json::Allocator& allocator() { return d_.GetAllocator(); }
  void add_text(std::string_view text) {
    text_.append(text);
    has_text_ = true;
  }
  void add_tool_call(std::string_view id, std::string_view name, std::string arguments);
  // A reasoning block to keep verbatim (thinking_blocks), with its text.
  void add_thinking(json::Value block, std::string_view text);
  bool has_tool_calls() const { return !tool_calls_.Empty(); }
  // The chat.completion; `usage` (of this completion's allocator) may be null.
  json::Document build(std::string_view id, std::string_view model, const char* finish_reason, json::Value usage);

 private:
  json::Document d_;
  std::string text_, reasoning_;
  bool has_text_ = false;
  json::Value tool_calls_, thinking_;
};

}  // namespace literllm::codec
