// Amazon Bedrock's Converse API (POST {base}/model/{modelId}/converse) and
// ConverseStream (/converse-stream, an application/vnd.amazon.eventstream
// body): OpenAI-shaped requests translated to Converse, answers and stream
// events translated back. Requests are signed with SigV4 by the credential
// (src/auth), after the body is final.
#include <string>
#include <string_view>
#include <vector>

#include "core/errors.hpp"
#include "http/eventstream.hpp"
#include "providers/adapter.hpp"
#include "providers/bedrock.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using codec::bad;
using codec::str_of;
using json::Value;

// The forced tool behind response_format (json_schema and json_object): its
// input is the answer. A name no caller's tool has.
constexpr const char* kJsonTool = "literllm_json_answer";

// "image/png" → "png"; Converse names formats, not media types.
std::string_view format_of(std::string_view media_type) {
  size_t slash = media_type.find('/');
  std::string_view f = slash == std::string_view::npos ? media_type : media_type.substr(slash + 1);
  if (f == "jpg") return "jpeg";
  if (f == "vnd.openxmlformats-officedocument.wordprocessingml.document") return "docx";
  if (f == "vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
  if (f == "vnd.ms-excel") return "xls";
  if (f == "msword") return "doc";
  if (f == "plain") return "txt";
  if (f == "markdown") return "md";
  return f;
}

class RequestBuilder final : codec::TurnWriter {
 public:
  RequestBuilder(json::Document& req, const Target& t)
      : req_(req), t_(t), body_(rapidjson::kObjectType), a_(body_.GetAllocator()) {}

  json::Document build() {
    messages();
    inference();
    tools();
    output();
    reasoning();
    codec::finish_body(req_, body_, t_, a_, false);
    return std::move(body_);
  }

 private:
  // A cachePoint block after the blocks made from `from` when it has cache_control.
  void cache_mark(const Value& from, Value& blocks) override {
    const Value* cc = json::find(from, "cache_control");
    if (!cc || cc->IsNull()) return;
    Value cp(rapidjson::kObjectType), type(rapidjson::kObjectType);
    type.AddMember("type", "default", a_);
    cp.AddMember("cachePoint", type, a_);
    blocks.PushBack(cp, a_);
  }

  Value text_block(std::string_view text) {
    Value b(rapidjson::kObjectType);
    b.AddMember("text", json::str(text, a_), a_);
    return b;
  }

  // An image or a document from a data: URL: {"image"|"document": {format, source: {bytes}}}.
  Value media_block(std::string_view url, const char* kind, std::string_view name, const std::string& path) {
    std::string_view media, data;
    if (!codec::split_data_url(url, media, data))
      bad(path, std::string("bedrock takes ") + kind + "s as data: URLs (data:<media type>;base64,...)");
    Value inner(rapidjson::kObjectType);
    inner.AddMember("format", json::str(format_of(media), a_), a_);
    if (std::string_view(kind) == "document")
      inner.AddMember("name", json::str(name.empty() ? std::string_view("document") : name, a_), a_);
    Value src(rapidjson::kObjectType);
    src.AddMember("bytes", json::str(data, a_), a_);
    inner.AddMember("source", src, a_);
    Value b(rapidjson::kObjectType);
    b.AddMember(Value(kind, a_), inner, a_);
    return b;
  }

  void content_blocks(const Value& content, Value& blocks, const std::string& path) override {
    if (content.IsString()) {
      if (content.GetStringLength() > 0) blocks.PushBack(text_block(json::sv(content)), a_);
      return;
    }
    if (!content.IsArray()) return;
    for (rapidjson::SizeType i = 0; i < content.Size(); ++i) {
      const Value& part = content[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      std::string_view type = str_of(part, "type");
      if (type == "text") {
        blocks.PushBack(text_block(str_of(part, "text")), a_);
      } else if (type == "image_url") {
        const Value* iu = json::find(part, "image_url");
        std::string_view url = iu && iu->IsObject() ? str_of(*iu, "url") : std::string_view();
        blocks.PushBack(media_block(url, "image", "", p + ".image_url.url"), a_);
      } else if (type == "file") {
        const Value* f = json::find(part, "file");
        if (!f || !f->IsObject()) bad(p + ".file", "expected an object");
        // Converse takes a document name of letters, digits, spaces, hyphens and brackets.
        std::string name;
        for (char c : str_of(*f, "filename"))
          if (std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '(' || c == ')' || c == '[' ||
              c == ']')
            name.push_back(c);
        blocks.PushBack(media_block(str_of(*f, "file_data"), "document", name, p + ".file.file_data"), a_);
      } else {
        bad(p + ".type", "\"" + std::string(type) + "\" parts cannot be sent to bedrock");
      }
      cache_mark(part, blocks);
    }
  }

  // The message list (codec::conversation): merged turns keep their order; a
  // message's cache_control is a cachePoint after its blocks.
  void messages() { codec::conversation(req_["messages"], *this, "bedrock", false, body_, a_); }

  // Signed reasoning, kept in Anthropic's shape on our messages, as reasoningContent.
  Value thinking_block(const Value& b) override {
    Value out(rapidjson::kObjectType), rc(rapidjson::kObjectType);
    if (str_of(b, "type") == "redacted_thinking") {
      rc.AddMember("redactedContent", json::str(str_of(b, "data"), a_), a_);
    } else {
      Value text(rapidjson::kObjectType);
      text.AddMember("text", json::str(str_of(b, "thinking"), a_), a_);
      if (std::string_view sig = str_of(b, "signature"); !sig.empty()) text.AddMember("signature", json::str(sig, a_), a_);
      rc.AddMember("reasoningText", text, a_);
    }
    out.AddMember("reasoningContent", rc, a_);
    return out;
  }

  Value tool_use(const Value& tc, const std::string& path) override {
    const Value* fn = json::find(tc, "function");
    if (!fn || !fn->IsObject()) bad(path + ".function", "expected an object");
    Value inner(rapidjson::kObjectType);
    inner.AddMember("toolUseId", json::str(str_of(tc, "id"), a_), a_);
    inner.AddMember("name", json::str(str_of(*fn, "name"), a_), a_);
    Value input = codec::arguments_object(str_of(*fn, "arguments"), path, "bedrock", a_);
    inner.AddMember("input", input, a_);
    Value b(rapidjson::kObjectType);
    b.AddMember("toolUse", inner, a_);
    return b;
  }

  Value tool_result(const Value& m, const std::string& path) override {
    std::string_view id = str_of(m, "tool_call_id");
    if (id.empty()) bad(path + ".tool_call_id", "is required");
    Value inner(rapidjson::kObjectType);
    inner.AddMember("toolUseId", json::str(id, a_), a_);
    Value parts(rapidjson::kArrayType);
    if (const Value* content = json::find(m, "content")) content_blocks(*content, parts, path + ".content");
    if (parts.Empty()) parts.PushBack(text_block(""), a_);
    inner.AddMember("content", parts, a_);
    Value b(rapidjson::kObjectType);
    b.AddMember("toolResult", inner, a_);
    return b;
  }

  void inference() {
    Value ic(rapidjson::kObjectType);
    for (const char* k : {"max_completion_tokens", "max_tokens"})
      if (const Value* v = json::find(req_, k); v && v->IsInt64() && !ic.HasMember("maxTokens"))
        ic.AddMember("maxTokens", v->GetInt64(), a_);
    if (const Value* v = json::find(req_, "temperature"); v && v->IsNumber()) ic.AddMember("temperature", Value(*v, a_), a_);
    if (const Value* v = json::find(req_, "top_p"); v && v->IsNumber()) ic.AddMember("topP", Value(*v, a_), a_);
    if (Value seqs = codec::stop_sequences(req_, a_); !seqs.Empty()) ic.AddMember("stopSequences", seqs, a_);
    if (!ic.ObjectEmpty()) body_.AddMember("inferenceConfig", ic, a_);
    if (const Value* n = json::find(req_, "n"); n && n->IsInt64() && n->GetInt64() != 1)
      bad("n", "bedrock answers with one choice; n must be 1");
    if (const Value* lp = json::find(req_, "logprobs"); lp && lp->IsTrue()) bad("logprobs", "bedrock gives no logprobs");
  }

  Value tool_spec(std::string_view name, std::string_view description, const Value* schema) {
    Value spec(rapidjson::kObjectType);
    spec.AddMember("name", json::str(name, a_), a_);
    if (!description.empty()) spec.AddMember("description", json::str(description, a_), a_);
    Value input(rapidjson::kObjectType);
    input.AddMember("json", codec::tool_schema(schema, a_), a_);
    spec.AddMember("inputSchema", input, a_);
    Value t(rapidjson::kObjectType);
    t.AddMember("toolSpec", spec, a_);
    return t;
  }

  // toolConfig, with its tools array.
  Value& tool_config() {
    Value& cfg = codec::member_or_add(body_, "toolConfig", rapidjson::kObjectType, a_);
    codec::member_or_add(cfg, "tools", rapidjson::kArrayType, a_);
    return cfg;
  }

  void tools() {
    const Value* tools = json::find(req_, "tools");
    if (!tools || !tools->IsArray() || tools->Empty()) return;
    Value& cfg = tool_config();
    for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
      const Value& tool = (*tools)[i];
      const Value* fn = json::find(tool, "function");
      if (!fn || !fn->IsObject()) bad("tools[" + std::to_string(i) + "].function", "expected an object");
      cfg["tools"].PushBack(tool_spec(str_of(*fn, "name"), str_of(*fn, "description"), json::find(*fn, "parameters")), a_);
      cache_mark(tool, cfg["tools"]);
    }
    if (const Value* tc = json::find(req_, "tool_choice")) {
      Value choice(rapidjson::kObjectType);
      if (tc->IsString()) {
        std::string_view c = json::sv(*tc);
        if (c == "required") choice.AddMember("any", Value(rapidjson::kObjectType), a_);
        else if (c == "auto") choice.AddMember("auto", Value(rapidjson::kObjectType), a_);
        // "none": Converse has no such choice; the tools stay declared (earlier
        // turns may use them) and the model is not asked to call one.
      } else if (tc->IsObject()) {
        const Value* fn = json::find(*tc, "function");
        Value named(rapidjson::kObjectType);
        named.AddMember("name", json::str(fn ? str_of(*fn, "name") : std::string_view(), a_), a_);
        choice.AddMember("tool", named, a_);
      }
      if (!choice.ObjectEmpty()) cfg.AddMember("toolChoice", choice, a_);
    }
  }

  // response_format: a forced tool whose input is the answer.
  void output() {
    const Value* rf = json::find(req_, "response_format");
    if (!rf || !rf->IsObject()) return;
    std::string_view type = str_of(*rf, "type");
    const Value* schema = nullptr;
    if (type == "json_schema") {
      const Value* js = json::find(*rf, "json_schema");
      schema = js ? json::find(*js, "schema") : nullptr;
      if (!schema || !schema->IsObject()) bad("response_format.json_schema.schema", "is required for bedrock");
    } else if (type != "json_object") {
      return;
    }
    Value obj(rapidjson::kObjectType);
    obj.AddMember("type", "object", a_);
    Value& cfg = tool_config();
    cfg["tools"].PushBack(tool_spec(kJsonTool, "Respond with the answer as a JSON object.", schema ? schema : &obj), a_);
    cfg.RemoveMember("toolChoice");
    Value named(rapidjson::kObjectType), choice(rapidjson::kObjectType);
    named.AddMember("name", Value(kJsonTool, a_), a_);
    choice.AddMember("tool", named, a_);
    cfg.AddMember("toolChoice", choice, a_);
  }

  // reasoning_effort, for the Anthropic models Bedrock serves: their thinking
  // budget, through additionalModelRequestFields.
  void reasoning() {
    std::string_view effort = str_of(req_, "reasoning_effort");
    if (effort.empty() || effort == "none") return;
    if (t_.model.find("anthropic.") == std::string::npos && t_.model.find("claude") == std::string::npos) return;
    int64_t budget = effort == "medium" ? 4096 : effort == "high" ? 16384 : effort == "xhigh" ? 32768 : 1024;
    Value th(rapidjson::kObjectType);
    th.AddMember("type", "enabled", a_);
    th.AddMember("budget_tokens", budget, a_);
    codec::member_or_add(body_, "additionalModelRequestFields", rapidjson::kObjectType, a_).AddMember("thinking", th, a_);
    Value& ic = codec::member_or_add(body_, "inferenceConfig", rapidjson::kObjectType, a_);
    if (!ic.HasMember("maxTokens")) ic.AddMember("maxTokens", budget + 4096, a_);
  }

  json::Document& req_;
  const Target& t_;
  json::Document body_;
  json::Allocator& a_;
};

const char* finish_reason(std::string_view stop) {
  if (stop == "max_tokens" || stop == "model_context_window_exceeded") return "length";
  if (stop == "tool_use") return "tool_calls";
  if (stop == "guardrail_intervened" || stop == "content_filtered") return "content_filter";
  return "stop";
}

Value usage_of(const Value& u, json::Allocator& a) {
  return codec::usage_of(u, {"inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"}, a);
}

// A stream's exception message (":message-type: exception") as its error kind.
llm_status status_for_exception(std::string_view type, std::string_view message) {
  if (type == "throttlingException") return LLM_ERR_RATE_LIMITED;
  if (type == "validationException") return status_for_http(400, message, type);
  if (type == "accessDeniedException") return LLM_ERR_AUTHENTICATION;
  if (type == "resourceNotFoundException") return LLM_ERR_NOT_FOUND;
  if (type == "serviceUnavailableException" || type == "modelNotReadyException") return LLM_ERR_SERVICE_UNAVAILABLE;
  if (type == "modelTimeoutException") return LLM_ERR_TIMEOUT;
  return LLM_ERR_STREAMING;  // internalServerException, modelStreamErrorException, and the unknown
}

// One ConverseStream event (its :event-type and JSON payload) as chunks.
class EventTranslator {
 public:
  explicit EventTranslator(const Target& t) : t_(t) {
    head_.id = "bedrock-" + std::to_string(codec::now_secs());
    head_.model = t.model;
    head_.created = codec::now_secs();
  }

  // Returns false once the stream is over (metadata, the last event, came).
  bool on_event(std::string_view type, const json::Document& d, const ChunkSink& emit) {
    if (type == "messageStart") {
      return chunk(emit, [](Value& delta, json::Allocator& a) {
        delta.AddMember("role", "assistant", a);
        delta.AddMember("content", "", a);
      });
    }
    if (type == "contentBlockStart") {
      const Value* start = json::find(d, "start");
      const Value* tu = start ? json::find(*start, "toolUse") : nullptr;
      if (!tu) return true;
      Block& b = block(d);
      if (str_of(*tu, "name") == kJsonTool) {
        b.json_answer = true;
        json_answered_ = true;
        return true;
      }
      b.tool_index = next_tool_++;
      return codec::emit_tool_call(emit, head_, b.tool_index, str_of(*tu, "toolUseId"), str_of(*tu, "name"), "");
    }
    if (type == "contentBlockDelta") {
      const Value* delta = json::find(d, "delta");
      if (!delta || !delta->IsObject()) throw Error(LLM_ERR_STREAMING, "bedrock contentBlockDelta has no delta");
      Block& b = block(d);
      if (const Value* text = json::find(*delta, "text"); text && text->IsString())
        return chunk(emit, [&](Value& out, json::Allocator& a) { out.AddMember("content", Value(*text, a), a); });
      if (const Value* tu = json::find(*delta, "toolUse"); tu && tu->IsObject()) {
        std::string_view input = str_of(*tu, "input");
        if (input.empty()) return true;
        if (b.json_answer)
          return chunk(emit, [&](Value& out, json::Allocator& a) { out.AddMember("content", json::str(input, a), a); });
        if (b.tool_index < 0) return true;
        return codec::emit_tool_call(emit, head_, b.tool_index, "", "", input);
      }
      if (const Value* rc = json::find(*delta, "reasoningContent"); rc && rc->IsObject()) {
        b.reasoning = true;
        if (std::string_view text = str_of(*rc, "text"); !text.empty()) {
          b.thinking.append(text);
          return chunk(emit,
                       [&](Value& out, json::Allocator& a) { out.AddMember("reasoning_content", json::str(text, a), a); });
        }
        b.signature.append(str_of(*rc, "signature"));
        if (std::string_view redacted = str_of(*rc, "redactedContent"); !redacted.empty()) b.redacted.append(redacted);
      }
      return true;
    }
    if (type == "contentBlockStop") {
      Block& b = block(d);
      if (!b.reasoning) return true;
      // The whole signed block, in Anthropic's shape, to be sent back next turn.
      return chunk(emit, [&](Value& out, json::Allocator& a) {
        Value tb(rapidjson::kArrayType), blk(rapidjson::kObjectType);
        if (!b.redacted.empty()) {
          blk.AddMember("type", "redacted_thinking", a);
          blk.AddMember("data", json::str(b.redacted, a), a);
        } else {
          blk.AddMember("type", "thinking", a);
          blk.AddMember("thinking", json::str(b.thinking, a), a);
          blk.AddMember("signature", json::str(b.signature, a), a);
        }
        tb.PushBack(blk, a);
        out.AddMember("thinking_blocks", tb, a);
      });
    }
    if (type == "messageStop") {
      std::string_view stop = str_of(d, "stopReason");
      const char* fr = stop == "tool_use" && json_answered_ && next_tool_ == 0 ? "stop" : finish_reason(stop);
      return chunk(emit, [](Value&, json::Allocator&) {}, fr);
    }
    if (type == "metadata") {
      if (const Value* u = json::find(d, "usage"); u && u->IsObject()) {
        json::Document ud;
        codec::emit_usage(emit, head_, usage_of(*u, ud.GetAllocator()));
      }
      return false;
    }
    return true;  // event types added later
  }

 private:
  struct Block {
    int64_t tool_index = -1;
    bool json_answer = false, reasoning = false;
    std::string thinking, signature, redacted;
  };

  template <class F>
  bool chunk(const ChunkSink& emit, F&& fill, const char* finish = nullptr) {
    return codec::emit_chunk(emit, head_, std::forward<F>(fill), finish);
  }

  Block& block(const json::Document& d) {
    const Value* i = json::find(d, "contentBlockIndex");
    int64_t index = i && i->IsInt64() ? i->GetInt64() : 0;
    if (index < 0 || index > 4096) throw Error(LLM_ERR_STREAMING, "bedrock stream event has a bad contentBlockIndex");
    if (static_cast<size_t>(index) >= blocks_.size()) blocks_.resize(static_cast<size_t>(index) + 1);
    return blocks_[static_cast<size_t>(index)];
  }

  const Target& t_;
  codec::ChunkHead head_;
  int64_t next_tool_ = 0;
  bool json_answered_ = false;
  std::vector<Block> blocks_;
};

class BedrockStream final : public StreamDecoder {
 public:
  BedrockStream(const Target& t, const Limits& limits) : t_(t), events_(t) {
    frames_.set_max_event_bytes(limits.max_event_bytes);
  }

  Fed feed(const char* data, size_t len, const ChunkSink& emit) override {
    bool stopped = false, ended = false;
    ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
      if (stopped) return false;
      if (!emit(text, chunk)) stopped = true;
      return !stopped;
    };
    frames_.feed(data, len, [&](const http::EventStreamMessage& m) {
      std::string_view kind = m.message_type();
      if (kind == "exception" || kind == "error") {
        std::string_view type = kind == "error" ? m.error_code() : m.exception_type();
        std::string message = kind == "error" ? std::string(m.error_message()) : std::string();
        if (message.empty()) {
          try {
            json::Document d = json::parse(m.payload, "bedrock exception", LLM_ERR_STREAMING);
            message = std::string(str_of(d, "message"));
          } catch (const Error&) {
          }
        }
        Error e(status_for_exception(type, message),
                "bedrock sent " + std::string(type.empty() ? "an error" : type) + " in the stream" +
                    (message.empty() ? std::string() : ": " + t_.secrets.redact(message)));
        e.code = std::string(type);
        throw e;
      }
      if (kind != "event") return true;
      json::Document d = json::parse(m.payload, "bedrock stream event", LLM_ERR_STREAMING);
      if (!d.IsObject()) throw Error(LLM_ERR_STREAMING, "bedrock stream event is not a JSON object");
      if (!events_.on_event(m.event_type(), d, sink)) ended = true;
      return !ended && !stopped;
    });
    if (stopped) return Fed::Stopped;
    return ended ? Fed::Ended : Fed::More;
  }

  void finish(const ChunkSink&) override { frames_.finish(); }

 private:
  const Target& t_;
  http::EventStreamDecoder frames_;
  EventTranslator events_;
};

class BedrockConverse final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    return codec::post_json(t, provider_url(t, stream ? "/model/{model}/converse-stream" : "/model/{model}/converse"),
                            bedrock_body(req, t), stream ? "application/vnd.amazon.eventstream" : "application/json");
  }
  json::Document parse(std::string_view body, const Target& t) const override { return bedrock_response(body, t); }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return bedrock_stream(t, limits);
  }
  bool is_stream_content_type(const std::string* content_type) const override {
    if (!content_type) return true;
    constexpr std::string_view kType = "application/vnd.amazon.eventstream";
    return content_type->size() >= kType.size() && http::iequals(std::string_view(*content_type).substr(0, kType.size()), kType);
  }
};

}  // namespace

json::Document bedrock_body(json::Document& req, const Target& t) { return RequestBuilder(req, t).build(); }

json::Document bedrock_response(std::string_view text, const Target& t) {
  json::Document src = json::parse(text, "bedrock response", LLM_ERR_SERIALIZATION);
  if (!src.IsObject()) throw Error(LLM_ERR_SERIALIZATION, "bedrock response is not a JSON object");
  const Value* output = json::find(src, "output");
  const Value* message = output ? json::find(*output, "message") : nullptr;
  const Value* content = message ? json::find(*message, "content") : nullptr;
  if (!content || !content->IsArray())
    throw Error(LLM_ERR_SERIALIZATION, "bedrock response has no \"output.message.content\" array");
  codec::Completion out;
  auto& a = out.allocator();
  bool json_answered = false;
  for (auto& b : content->GetArray()) {
    if (const Value* tx = json::find(b, "text"); tx && tx->IsString()) {
      out.add_text(json::sv(*tx));
    } else if (const Value* tu = json::find(b, "toolUse"); tu && tu->IsObject()) {
      const Value* input = json::find(*tu, "input");
      std::string args = input ? json::dump(*input) : "{}";
      if (str_of(*tu, "name") == kJsonTool) {
        out.add_text(args);
        json_answered = true;
      } else {
        out.add_tool_call(str_of(*tu, "toolUseId"), str_of(*tu, "name"), std::move(args));
      }
    } else if (const Value* rc = json::find(b, "reasoningContent"); rc && rc->IsObject()) {
      Value blk(rapidjson::kObjectType);
      std::string_view text;
      if (const Value* rt = json::find(*rc, "reasoningText"); rt && rt->IsObject()) {
        text = str_of(*rt, "text");
        blk.AddMember("type", "thinking", a);
        blk.AddMember("thinking", json::str(text, a), a);
        blk.AddMember("signature", json::str(str_of(*rt, "signature"), a), a);
      } else {
        blk.AddMember("type", "redacted_thinking", a);
        blk.AddMember("data", json::str(str_of(*rc, "redactedContent"), a), a);
      }
      out.add_thinking(std::move(blk), text);
    }
  }
  std::string_view stop = str_of(src, "stopReason");
  const char* fr = stop == "tool_use" && json_answered && !out.has_tool_calls() ? "stop" : finish_reason(stop);
  const Value* u = json::find(src, "usage");
  return out.build("bedrock-" + std::to_string(codec::now_secs()), t.model, fr,
                   u && u->IsObject() ? usage_of(*u, a) : Value());
}

std::unique_ptr<StreamDecoder> bedrock_stream(const Target& t, const Limits& limits) {
  return std::make_unique<BedrockStream>(t, limits);
}

struct BedrockEvents::Impl {
  explicit Impl(const Target& t) : events(t) {}
  EventTranslator events;
};

BedrockEvents::BedrockEvents(const Target& t) : impl_(std::make_unique<Impl>(t)) {}
BedrockEvents::~BedrockEvents() = default;

bool BedrockEvents::on_event(std::string_view type, std::string_view payload, const ChunkSink& emit) {
  json::Document d = json::parse(payload, "bedrock stream event", LLM_ERR_STREAMING);
  if (!d.IsObject()) throw Error(LLM_ERR_STREAMING, "bedrock stream event is not a JSON object");
  return impl_->events.on_event(type, d, emit);
}

const Operation* bedrock_operation(Endpoint e) {
  return e == Endpoint::Chat ? codec::chat_only<BedrockConverse>(e) : bedrock_endpoint_operation(e);
}

}  // namespace literllm
