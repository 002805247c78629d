// Anthropic's Messages API (api.anthropic.com/v1/messages; the same body on
// Vertex AI's rawPredict, see AnthropicFlavor): OpenAI-shaped requests
// translated to Messages requests, and Messages answers and event streams
// translated back to chat.completion objects and chunks.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.hpp"
#include "providers/adapter.hpp"
#include "providers/anthropic.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using json::Value;
// The forced tool behind response_format json_object; its input is the answer.
// A name no caller's tool has: an answer using it is always read as the JSON.
constexpr const char* kJsonTool = "literllm_json_answer";
constexpr int kDefaultMaxTokens = 4096;
constexpr int kMaxCacheBreakpoints = 4;

using codec::bad;
using codec::split_data_url;
using codec::str_of;

// Builds the Messages body. One per call; `a` is the body's allocator.
class RequestBuilder final : codec::TurnWriter {
 public:
  RequestBuilder(json::Document& req, const Target& t, bool stream, AnthropicFlavor flavor)
      : req_(req), t_(t), stream_(stream), flavor_(flavor), body_(rapidjson::kObjectType), a_(body_.GetAllocator()) {}

  json::Document build() {
    if (flavor_ == AnthropicFlavor::Direct) body_.AddMember("model", json::str(t_.model, a_), a_);
    else body_.AddMember("anthropic_version", "vertex-2023-10-16", a_);
    messages();
    sampling();
    tools();
    output();
    if (stream_) body_.AddMember("stream", true, a_);
    if (breakpoints_ > kMaxCacheBreakpoints)
      invalid("request: " + std::to_string(breakpoints_) + " cache_control breakpoints; anthropic allows at most " +
              std::to_string(kMaxCacheBreakpoints) + " (on system, message parts and tools together)");
    codec::finish_body(req_, body_, t_, a_, true);
    return std::move(body_);
  }

 private:
  // cache_control on an OpenAI part (or tool) goes onto the block made from it.
  void copy_cache_control(const Value& from, Value& block) {
    const Value* cc = json::find(from, "cache_control");
    if (!cc || cc->IsNull()) return;
    ++breakpoints_;
    block.AddMember("cache_control", Value(*cc, a_), a_);
  }

  Value text_block(std::string_view text) {
    Value b(rapidjson::kObjectType);
    b.AddMember("type", "text", a_);
    b.AddMember("text", json::str(text, a_), a_);
    return b;
  }

  // One OpenAI content part as Anthropic blocks.
  Value part_block(const Value& part, const std::string& path) {
    std::string_view type = str_of(part, "type");
    Value b(rapidjson::kObjectType);
    if (type == "text") {
      b = text_block(str_of(part, "text"));
    } else if (type == "image_url") {
      const Value* iu = json::find(part, "image_url");
      std::string_view url = iu && iu->IsObject() ? str_of(*iu, "url") : iu && iu->IsString() ? json::sv(*iu) : "";
      b.AddMember("type", "image", a_);
      b.AddMember("source", source_of(url, path + ".image_url.url"), a_);
    } else if (type == "file") {
      const Value* f = json::find(part, "file");
      if (!f || !f->IsObject()) bad(path + ".file", "expected an object");
      b.AddMember("type", "document", a_);
      Value src(rapidjson::kObjectType);
      if (std::string_view data = str_of(*f, "file_data"); !data.empty()) {
        src = source_of(data, path + ".file.file_data");
      } else if (std::string_view id = str_of(*f, "file_id"); !id.empty()) {
        src.AddMember("type", "file", a_);
        src.AddMember("file_id", json::str(id, a_), a_);
      } else {
        bad(path + ".file", "needs file_data (a data: URL) or file_id");
      }
      b.AddMember("source", src, a_);
      if (std::string_view name = str_of(*f, "filename"); !name.empty()) b.AddMember("title", json::str(name, a_), a_);
    } else if (type == "input_audio") {
      bad(path, "anthropic does not accept audio input");
    } else {
      bad(path + ".type", "\"" + std::string(type) + "\" parts cannot be sent to anthropic");
    }
    copy_cache_control(part, b);
    return b;
  }

  // An image or document source: a data: URL becomes base64 data, any other an url source.
  Value source_of(std::string_view url, const std::string& path) {
    Value src(rapidjson::kObjectType);
    std::string_view media, data;
    if (split_data_url(url, media, data)) {
      src.AddMember("type", "base64", a_);
      src.AddMember("media_type", json::str(media, a_), a_);
      src.AddMember("data", json::str(data, a_), a_);
    } else if (url.substr(0, 8) == "https://" || url.substr(0, 7) == "http://") {
      src.AddMember("type", "url", a_);
      src.AddMember("url", json::str(url, a_), a_);
    } else {
      bad(path, "expected a data: URL (data:<media type>;base64,...) or an http(s) URL");
    }
    return src;
  }

  // Appends a message's content (string or parts) to `blocks`.
  void content_blocks(const Value& content, Value& blocks, const std::string& path) override {
    if (content.IsString()) {
      if (content.GetStringLength() > 0) blocks.PushBack(text_block(json::sv(content)), a_);
    } else if (content.IsArray()) {
      for (rapidjson::SizeType i = 0; i < content.Size(); ++i)
        blocks.PushBack(part_block(content[i], path + "[" + std::to_string(i) + "]"), a_);
    }
  }

  // The message list (codec::conversation): tool results go first in their
  // user turn; a message's cache_control goes on its last block.
  void messages() { codec::conversation(req_["messages"], *this, "anthropic", true, body_, a_); }

  // Anthropic's own blocks, as they were.
  Value thinking_block(const Value& b) override { return Value(b, a_); }

  void cache_mark(const Value& from, Value& blocks) override {
    if (!blocks.Empty()) copy_cache_control(from, blocks[blocks.Size() - 1]);
  }

  bool leads_turn(const Value& block) const override { return str_of(block, "type") == "tool_result"; }

  Value tool_use(const Value& tc, const std::string& path) override {
    const Value* fn = json::find(tc, "function");
    if (!fn || !fn->IsObject()) bad(path + ".function", "expected an object");
    Value b(rapidjson::kObjectType);
    b.AddMember("type", "tool_use", a_);
    b.AddMember("id", json::str(str_of(tc, "id"), a_), a_);
    b.AddMember("name", json::str(str_of(*fn, "name"), a_), a_);
    Value input = codec::arguments_object(str_of(*fn, "arguments"), path, "anthropic", a_);
    b.AddMember("input", input, a_);
    return b;
  }

  Value tool_result(const Value& m, const std::string& path) override {
    Value b(rapidjson::kObjectType);
    b.AddMember("type", "tool_result", a_);
    std::string_view id = str_of(m, "tool_call_id");
    if (id.empty()) id = str_of(m, "name");  // the deprecated function role
    if (id.empty()) bad(path + ".tool_call_id", "is required");
    b.AddMember("tool_use_id", json::str(id, a_), a_);
    const Value* content = json::find(m, "content");
    if (content && content->IsString()) {
      b.AddMember("content", Value(*content, a_), a_);
    } else if (content && content->IsArray()) {
      Value parts(rapidjson::kArrayType);
      content_blocks(*content, parts, path + ".content");
      b.AddMember("content", parts, a_);
    }
    if (const Value* err = json::find(m, "is_error"); err && err->IsBool()) b.AddMember("is_error", err->GetBool(), a_);
    return b;
  }

  void sampling() {
    int64_t max_tokens = -1;
    for (const char* k : {"max_completion_tokens", "max_tokens"})
      if (const Value* v = json::find(req_, k); v && v->IsInt64()) max_tokens = v->GetInt64();
    // Thinking: given as Anthropic's own object, or from reasoning_effort.
    if (const Value* th = json::find(req_, "thinking"); th && th->IsObject()) {
      body_.AddMember("thinking", Value(*th, a_), a_);
      if (const Value* bt = json::find(*th, "budget_tokens"); bt && bt->IsInt64()) budget_ = bt->GetInt64();
    } else if (std::string_view effort = str_of(req_, "reasoning_effort"); !effort.empty()) {
      int64_t budget = effort == "minimal" || effort == "low" ? 1024 : effort == "medium" ? 4096 : effort == "high" ? 16384 : 0;
      if (effort == "xhigh") budget = 32768;
      if (budget > 0) {
        Value th(rapidjson::kObjectType);
        th.AddMember("type", "enabled", a_);
        th.AddMember("budget_tokens", budget, a_);
        body_.AddMember("thinking", th, a_);
        budget_ = budget;
      }
    }
    if (max_tokens < 0) max_tokens = budget_ > 0 ? budget_ + kDefaultMaxTokens : kDefaultMaxTokens;
    body_.AddMember("max_tokens", max_tokens, a_);
    for (const char* k : {"temperature", "top_p", "top_k"})
      if (const Value* v = json::find(req_, k); v && v->IsNumber()) body_.AddMember(Value(k, a_), Value(*v, a_), a_);
    if (Value seqs = codec::stop_sequences(req_, a_); !seqs.Empty()) body_.AddMember("stop_sequences", seqs, a_);
    if (std::string_view user = str_of(req_, "user"); !user.empty()) {
      Value md(rapidjson::kObjectType);
      md.AddMember("user_id", json::str(user, a_), a_);
      body_.AddMember("metadata", md, a_);
    }
    if (const Value* n = json::find(req_, "n"); n && n->IsInt64() && n->GetInt64() != 1)
      bad("n", "anthropic answers with one choice; n must be 1");
    if (const Value* lp = json::find(req_, "logprobs"); lp && lp->IsTrue()) bad("logprobs", "anthropic gives no logprobs");
  }

  void tools() {
    const Value* tools = json::find(req_, "tools");
    Value out(rapidjson::kArrayType);
    if (tools && tools->IsArray()) {
      for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
        const Value& tool = (*tools)[i];
        std::string path = "tools[" + std::to_string(i) + "]";
        std::string_view type = str_of(tool, "type");
        if (type != "function") {  // Anthropic's own tools (web_search_..., bash_...) pass as given
          out.PushBack(Value(tool, a_), a_);
          continue;
        }
        const Value* fn = json::find(tool, "function");
        if (!fn || !fn->IsObject()) bad(path + ".function", "expected an object");
        Value t(rapidjson::kObjectType);
        t.AddMember("name", json::str(str_of(*fn, "name"), a_), a_);
        if (std::string_view d = str_of(*fn, "description"); !d.empty()) t.AddMember("description", json::str(d, a_), a_);
        t.AddMember("input_schema", codec::tool_schema(json::find(*fn, "parameters"), a_), a_);
        if (const Value* strict = json::find(*fn, "strict"); strict && strict->IsBool())
          t.AddMember("strict", strict->GetBool(), a_);
        copy_cache_control(tool, t);
        out.PushBack(t, a_);
      }
    }
    Value choice(rapidjson::kObjectType);
    if (const Value* tc = json::find(req_, "tool_choice")) {
      if (tc->IsString()) {
        std::string_view c = json::sv(*tc);
        choice.AddMember("type", rapidjson::StringRef(c == "required" ? "any" : c == "none" ? "none" : "auto"), a_);
      } else if (tc->IsObject()) {
        const Value* fn = json::find(*tc, "function");
        choice.AddMember("type", "tool", a_);
        choice.AddMember("name", json::str(fn ? str_of(*fn, "name") : std::string_view(), a_), a_);
      }
    }
    const bool has_tools = !out.Empty();
    if (const Value* ptc = json::find(req_, "parallel_tool_calls"); ptc && ptc->IsFalse() && has_tools) {
      if (!choice.HasMember("type")) choice.AddMember("type", "auto", a_);
      if (str_of(choice, "type") != "none") choice.AddMember("disable_parallel_tool_use", true, a_);
    }
    if (has_tools) body_.AddMember("tools", out, a_);  // moves `out`
    if (has_tools && choice.HasMember("type")) body_.AddMember("tool_choice", choice, a_);
  }

  // response_format: a json_schema is Anthropic's output_config.format; a
  // json_object is asked for through a forced tool whose input is the answer.
  void output() {
    const Value* rf = json::find(req_, "response_format");
    if (!rf || !rf->IsObject()) return;
    std::string_view type = str_of(*rf, "type");
    if (type == "json_schema") {
      const Value* js = json::find(*rf, "json_schema");
      const Value* schema = js ? json::find(*js, "schema") : nullptr;
      if (!schema || !schema->IsObject()) bad("response_format.json_schema.schema", "is required for anthropic");
      Value format(rapidjson::kObjectType);
      format.AddMember("type", "json_schema", a_);
      format.AddMember("schema", Value(*schema, a_), a_);
      Value oc(rapidjson::kObjectType);
      oc.AddMember("format", format, a_);
      body_.AddMember("output_config", oc, a_);
    } else if (type == "json_object") {
      Value t(rapidjson::kObjectType);
      t.AddMember("name", Value(kJsonTool, a_), a_);
      t.AddMember("description", "Respond with the answer as a JSON object.", a_);
      Value schema(rapidjson::kObjectType);
      schema.AddMember("type", "object", a_);
      t.AddMember("input_schema", schema, a_);
      codec::member_or_add(body_, "tools", rapidjson::kArrayType, a_).PushBack(t, a_);
      body_.RemoveMember("tool_choice");
      Value choice(rapidjson::kObjectType);
      choice.AddMember("type", "tool", a_);
      choice.AddMember("name", Value(kJsonTool, a_), a_);
      body_.AddMember("tool_choice", choice, a_);
    }
  }

  json::Document& req_;
  const Target& t_;
  bool stream_;
  AnthropicFlavor flavor_;
  json::Document body_;
  json::Allocator& a_;
  int breakpoints_ = 0;
  int64_t budget_ = 0;
};

const char* finish_reason(std::string_view stop) {
  if (stop == "max_tokens" || stop == "model_context_window_exceeded") return "length";
  if (stop == "tool_use") return "tool_calls";
  if (stop == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn
}

// Anthropic's usage as OpenAI's: prompt tokens count the cached ones too.
Value usage_of(const Value& u, json::Allocator& a) {
  return codec::usage_of(u, {"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"},
                         a);
}

// The status of an error named by its Anthropic type (HTTP errors carry the status itself).
llm_status status_for_type(std::string_view type, std::string_view message) {
  if (type == "overloaded_error") return LLM_ERR_SERVICE_UNAVAILABLE;
  if (type == "rate_limit_error") return LLM_ERR_RATE_LIMITED;
  if (type == "authentication_error") return LLM_ERR_AUTHENTICATION;
  if (type == "not_found_error") return LLM_ERR_NOT_FOUND;
  if (type == "invalid_request_error" || type == "request_too_large")
    return status_for_http(400, message, type);
  return LLM_ERR_STREAMING;  // api_error and the unknown: the stream broke
}

class AnthropicStream final : public SseStreamDecoder {
 public:
  AnthropicStream(const Target& t, const Limits& limits, bool json_tool)
      : SseStreamDecoder(limits), t_(t), json_tool_(json_tool) {}

  bool on_event(const http::SseEvent& ev, const ChunkSink& emit) override {
    json::Document d = json::parse(ev.data, "anthropic stream event", LLM_ERR_STREAMING);
    if (!d.IsObject()) throw Error(LLM_ERR_STREAMING, "anthropic stream event is not a JSON object");
    std::string_view type = str_of(d, "type");
    if (type.empty()) type = ev.event;
    if (type == "message_start") return message_start(d, emit);
    if (type == "content_block_start") return block_start(d, emit);
    if (type == "content_block_delta") return block_delta(d, emit);
    if (type == "content_block_stop") return block_stop(d, emit);
    if (type == "message_delta") return message_delta(d, emit);
    if (type == "message_stop") return false;
    if (type == "error") {
      const Value* err = json::find(d, "error");
      std::string_view etype = err ? str_of(*err, "type") : std::string_view();
      std::string msg(err ? str_of(*err, "message") : std::string_view());
      Error e(status_for_type(etype, msg), "anthropic sent an error in the stream: " +
                                               t_.secrets.redact(msg.empty() ? std::string(etype) : msg));
      e.code = std::string(etype);
      e.type = std::string(etype);
      throw e;
    }
    return true;  // ping, and event types added later
  }

 private:
  struct Block {
    std::string type;        // text, tool_use, thinking, redacted_thinking, ...
    int64_t tool_index = -1;  // for tool_use: the OpenAI tool call index
    bool json_answer = false;  // the forced json_object tool: its input is the content
    std::string thinking, signature;
  };

  template <class F>
  bool chunk(const ChunkSink& emit, F&& fill, const char* finish = nullptr) {
    return codec::emit_chunk(emit, head_, std::forward<F>(fill), finish);
  }

  bool message_start(const json::Document& d, const ChunkSink& emit) {
    const Value* m = json::find(d, "message");
    if (!m || !m->IsObject()) throw Error(LLM_ERR_STREAMING, "anthropic message_start has no message");
    head_.id = std::string(str_of(*m, "id"));
    head_.model = std::string(str_of(*m, "model"));
    head_.created = codec::now_secs();
    if (const Value* u = json::find(*m, "usage"); u && u->IsObject()) usage_.CopyFrom(*u, usage_.GetAllocator());
    // The role alone: content comes with a text block (a message with none, a
    // refusal or only tool calls, has content null, as llm_chat gives it).
    if (!chunk(emit, [](Value& delta, json::Allocator& a) { delta.AddMember("role", "assistant", a); })) return true;
    // A message may start with whole blocks (a tool call made from inside
    // Anthropic's code execution): each is passed on whole.
    if (const Value* content = json::find(*m, "content"); content && content->IsArray())
      for (auto& b : content->GetArray()) {
        std::string_view type = str_of(b, "type");
        if (type == "text") {
          std::string_view text = str_of(b, "text");
          if (!chunk(emit, [&](Value& delta, json::Allocator& a) { delta.AddMember("content", json::str(text, a), a); }))
            return true;
        } else if (type == "tool_use") {
          const Value* input = json::find(b, "input");
          if (!tool_call(emit, next_tool_++, str_of(b, "id"), str_of(b, "name"), input ? json::dump(*input) : "{}"))
            return true;
        }
      }
    return true;
  }

  bool tool_call(const ChunkSink& emit, int64_t index, std::string_view id, std::string_view name,
                 std::string_view arguments) {
    return codec::emit_tool_call(emit, head_, index, id, name, arguments);
  }

  Block& block_at(const json::Document& d) {
    const Value* i = json::find(d, "index");
    int64_t index = i && i->IsInt64() ? i->GetInt64() : 0;
    if (index < 0 || index > 4096) throw Error(LLM_ERR_STREAMING, "anthropic stream event has a bad block index");
    if (static_cast<size_t>(index) >= blocks_.size()) blocks_.resize(static_cast<size_t>(index) + 1);
    return blocks_[static_cast<size_t>(index)];
  }

  bool block_start(const json::Document& d, const ChunkSink& emit) {
    Block& b = block_at(d);
    const Value* cb = json::find(d, "content_block");
    if (!cb || !cb->IsObject()) throw Error(LLM_ERR_STREAMING, "anthropic content_block_start has no content_block");
    b.type = std::string(str_of(*cb, "type"));
    if (b.type == "text") {  // even empty: the message has content
      std::string_view text = str_of(*cb, "text");
      return chunk(emit, [&](Value& delta, json::Allocator& a) { delta.AddMember("content", json::str(text, a), a); });
    } else if (b.type == "tool_use") {
      std::string_view name = str_of(*cb, "name");
      if (json_tool_ && name == kJsonTool) {
        b.json_answer = true;
        json_answered_ = true;
        return true;
      }
      b.tool_index = next_tool_++;
      return tool_call(emit, b.tool_index, str_of(*cb, "id"), name, "");
    } else if (b.type == "thinking") {
      b.thinking = std::string(str_of(*cb, "thinking"));
      b.signature = std::string(str_of(*cb, "signature"));
    } else if (b.type == "redacted_thinking") {
      // Whole at its start: kept for the next turn.
      return chunk(emit, [&](Value& delta, json::Allocator& a) {
        Value tb(rapidjson::kArrayType);
        tb.PushBack(Value(*cb, a), a);
        delta.AddMember("thinking_blocks", tb, a);
      });
    }
    return true;
  }

  bool block_delta(const json::Document& d, const ChunkSink& emit) {
    Block& b = block_at(d);
    const Value* delta = json::find(d, "delta");
    if (!delta || !delta->IsObject()) throw Error(LLM_ERR_STREAMING, "anthropic content_block_delta has no delta");
    std::string_view type = str_of(*delta, "type");
    if (type == "text_delta") {
      std::string_view text = str_of(*delta, "text");
      return chunk(emit, [&](Value& out, json::Allocator& a) { out.AddMember("content", json::str(text, a), a); });
    }
    if (type == "input_json_delta") {
      std::string_view part = str_of(*delta, "partial_json");
      if (part.empty()) return true;
      if (b.json_answer)
        return chunk(emit, [&](Value& out, json::Allocator& a) { out.AddMember("content", json::str(part, a), a); });
      if (b.tool_index < 0) return true;  // a server tool's input: not a call for the caller to make
      return tool_call(emit, b.tool_index, "", "", part);
    }
    if (type == "thinking_delta") {
      std::string_view text = str_of(*delta, "thinking");
      b.thinking.append(text);
      return chunk(emit,
                   [&](Value& out, json::Allocator& a) { out.AddMember("reasoning_content", json::str(text, a), a); });
    }
    if (type == "signature_delta") {
      b.signature.append(str_of(*delta, "signature"));
      return true;
    }
    return true;  // citations_delta and kinds added later
  }

  bool block_stop(const json::Document& d, const ChunkSink& emit) {
    Block& b = block_at(d);
    if (b.type != "thinking") return true;
    // The whole signed block, to be sent back unchanged on the next turn.
    bool go = chunk(emit, [&](Value& out, json::Allocator& a) {
      Value tb(rapidjson::kArrayType);
      Value block(rapidjson::kObjectType);
      block.AddMember("type", "thinking", a);
      block.AddMember("thinking", json::str(b.thinking, a), a);
      block.AddMember("signature", json::str(b.signature, a), a);
      tb.PushBack(block, a);
      out.AddMember("thinking_blocks", tb, a);
    });
    std::string().swap(b.thinking);
    return go;
  }

  bool message_delta(const json::Document& d, const ChunkSink& emit) {
    const Value* delta = json::find(d, "delta");
    std::string_view stop = delta ? str_of(*delta, "stop_reason") : std::string_view();
    // The usage so far: message_start's input counts, updated by this event's (cumulative) counts.
    if (const Value* u = json::find(d, "usage"); u && u->IsObject())
      for (auto& m : u->GetObject()) {
        if (m.value.IsNull()) continue;
        auto have = usage_.FindMember(m.name);
        if (have != usage_.MemberEnd()) have->value.CopyFrom(m.value, usage_.GetAllocator());
        else usage_.AddMember(Value(m.name, usage_.GetAllocator()), Value(m.value, usage_.GetAllocator()), usage_.GetAllocator());
      }
    if (!stop.empty()) {
      // The forced JSON tool alone: the answer is the content, and the model stopped.
      const char* fr = stop == "tool_use" && json_answered_ && next_tool_ == 0 ? "stop" : finish_reason(stop);
      if (!chunk(emit, [](Value&, json::Allocator&) {}, fr)) return true;
    }
    json::Document u;
    return codec::emit_usage(emit, head_, usage_of(usage_, u.GetAllocator()));
  }

  const Target& t_;
  bool json_tool_;
  codec::ChunkHead head_;
  int64_t next_tool_ = 0;
  bool json_answered_ = false;
  std::vector<Block> blocks_;
  json::Document usage_{rapidjson::kObjectType};
};

}  // namespace

json::Document anthropic_body(json::Document& req, const Target& t, bool stream, AnthropicFlavor flavor) {
  return RequestBuilder(req, t, stream, flavor).build();
}

json::Document anthropic_response(std::string_view text, const Target& t) {
  constexpr bool json_tool = true;
  json::Document src = json::parse(text, "anthropic response", LLM_ERR_SERIALIZATION);
  if (!src.IsObject()) throw Error(LLM_ERR_SERIALIZATION, "anthropic response is not a JSON object");
  if (str_of(src, "type") == "error") {
    const Value* err = json::find(src, "error");
    std::string msg(err ? str_of(*err, "message") : std::string_view());
    throw Error(status_for_type(err ? str_of(*err, "type") : "", msg),
                "anthropic answered 200 with an error: " + t.secrets.redact(msg));
  }
  const Value* content = json::find(src, "content");
  if (!content || !content->IsArray()) throw Error(LLM_ERR_SERIALIZATION, "anthropic response has no \"content\" array");
  codec::Completion out;
  auto& a = out.allocator();
  bool json_answered = false;
  for (auto& b : content->GetArray()) {
    std::string_view type = str_of(b, "type");
    if (type == "text") {
      out.add_text(str_of(b, "text"));
    } else if (type == "tool_use") {
      const Value* input = json::find(b, "input");
      std::string args = input ? json::dump(*input) : "{}";
      if (json_tool && str_of(b, "name") == kJsonTool) {
        out.add_text(args);
        json_answered = true;
      } else {
        out.add_tool_call(str_of(b, "id"), str_of(b, "name"), std::move(args));
      }
    } else if (type == "thinking" || type == "redacted_thinking") {
      out.add_thinking(Value(b, a), str_of(b, "thinking"));
    }
  }
  std::string_view stop = str_of(src, "stop_reason");
  const char* fr = stop == "tool_use" && json_answered && !out.has_tool_calls() ? "stop" : finish_reason(stop);
  const Value* u = json::find(src, "usage");
  return out.build(str_of(src, "id"), str_of(src, "model"), fr, u && u->IsObject() ? usage_of(*u, a) : Value());
}

std::unique_ptr<StreamDecoder> anthropic_stream(const Target& t, const Limits& limits) {
  return std::make_unique<AnthropicStream>(t, limits, true);
}

namespace {

class AnthropicChat final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    return codec::post_json(t, provider_url(t, "/v1/messages"), anthropic_body(req, t, stream, AnthropicFlavor::Direct),
                            stream ? "text/event-stream" : "application/json", {{"anthropic-version", "2023-06-01"}});
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    return anthropic_response(body, t);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return anthropic_stream(t, limits);
  }
};

}  // namespace

const Operation* anthropic_operation(Endpoint e) {
  return e == Endpoint::Chat ? codec::chat_only<AnthropicChat>(e) : anthropic_endpoint_operation(e);
}

}  // namespace literllm
