// Cohere's v2 chat API (POST {base}/v2/chat): close to OpenAI's shape, with
// its own names (p, k, stop_sequences, tool_plan, citations, documents), its
// finish reasons and usage, and its own stream events (message-start,
// content-*, tool-plan-delta, tool-call-*, citation-*, message-end).
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"
#include "providers/cohere.hpp"

namespace literllm {

namespace {

using codec::bad;
using codec::str_of;
using json::Value;

class RequestBuilder {
 public:
  RequestBuilder(json::Document& req, const Target& t, bool stream)
      : req_(req), t_(t), stream_(stream), body_(rapidjson::kObjectType), a_(body_.GetAllocator()) {}

  json::Document build() {
    body_.AddMember("model", json::str(t_.model, a_), a_);
    messages();
    sampling();
    tools();
    output();
    if (stream_) body_.AddMember("stream", true, a_);
    codec::finish_body(req_, body_, t_, a_, true);
    return std::move(body_);
  }

 private:
  // Content as Cohere takes it: a string, or text and image_url parts.
  Value content(const Value& c, const std::string& path, bool images) {
    if (c.IsString() || c.IsNull()) return Value(c, a_);
    Value parts(rapidjson::kArrayType);
    for (rapidjson::SizeType i = 0; i < c.Size(); ++i) {
      const Value& part = c[i];
      std::string p = path + "[" + std::to_string(i) + "]";
      std::string_view type = str_of(part, "type");
      Value out(rapidjson::kObjectType);
      if (type == "text") {
        out.AddMember("type", "text", a_);
        out.AddMember("text", json::str(str_of(part, "text"), a_), a_);
      } else if (type == "image_url" && images) {
        const Value* iu = json::find(part, "image_url");
        Value img(rapidjson::kObjectType);
        img.AddMember("url", json::str(iu && iu->IsObject() ? str_of(*iu, "url") : std::string_view(), a_), a_);
        if (iu && iu->IsObject())
          if (const Value* d = json::find(*iu, "detail"); d && d->IsString()) img.AddMember("detail", Value(*d, a_), a_);
        out.AddMember("type", "image_url", a_);
        out.AddMember("image_url", img, a_);
      } else {
        bad(p + ".type", "\"" + std::string(type) + "\" parts cannot be sent to cohere here");
      }
      parts.PushBack(out, a_);
    }
    return parts;
  }

  void messages() {
    Value out(rapidjson::kArrayType);
    const Value& msgs = req_["messages"];
    for (rapidjson::SizeType i = 0; i < msgs.Size(); ++i) {
      const Value& m = msgs[i];
      std::string path = "messages[" + std::to_string(i) + "]";
      std::string_view role = str_of(m, "role");
      const Value* c = json::find(m, "content");
      Value msg(rapidjson::kObjectType);
      if (role == "system" || role == "developer") {
        msg.AddMember("role", "system", a_);
        if (c) msg.AddMember("content", content(*c, path + ".content", false), a_);
      } else if (role == "user") {
        msg.AddMember("role", "user", a_);
        if (c) msg.AddMember("content", content(*c, path + ".content", true), a_);
      } else if (role == "assistant") {
        msg.AddMember("role", "assistant", a_);
        if (c && !c->IsNull()) msg.AddMember("content", content(*c, path + ".content", false), a_);
        const Value* tcs = json::find(m, "tool_calls");
        if (tcs && tcs->IsArray() && !tcs->Empty()) {
          // The plan Cohere gave with its calls came back as reasoning_content.
          if (std::string_view plan = str_of(m, "reasoning_content"); !plan.empty())
            msg.AddMember("tool_plan", json::str(plan, a_), a_);
          Value calls(rapidjson::kArrayType);
          for (rapidjson::SizeType k = 0; k < tcs->Size(); ++k) {
            const Value& tc = (*tcs)[k];
            const Value* fn = json::find(tc, "function");
            if (!fn || !fn->IsObject()) bad(path + ".tool_calls[" + std::to_string(k) + "].function", "expected an object");
            Value call(rapidjson::kObjectType), f(rapidjson::kObjectType);
            call.AddMember("id", json::str(str_of(tc, "id"), a_), a_);
            call.AddMember("type", "function", a_);
            f.AddMember("name", json::str(str_of(*fn, "name"), a_), a_);
            f.AddMember("arguments", json::str(str_of(*fn, "arguments"), a_), a_);
            call.AddMember("function", f, a_);
            calls.PushBack(call, a_);
          }
          msg.AddMember("tool_calls", calls, a_);
        }
      } else if (role == "tool") {
        std::string_view id = str_of(m, "tool_call_id");
        if (id.empty()) bad(path + ".tool_call_id", "is required");
        msg.AddMember("role", "tool", a_);
        msg.AddMember("tool_call_id", json::str(id, a_), a_);
        msg.AddMember("content", c ? content(*c, path + ".content", false) : Value(""), a_);
      } else {
        bad(path + ".role", "\"" + std::string(role) + "\" cannot be sent to cohere");
      }
      out.PushBack(msg, a_);
    }
    body_.AddMember("messages", out, a_);
  }

  void sampling() {
    for (const char* k : {"max_completion_tokens", "max_tokens"})
      if (const Value* v = json::find(req_, k); v && v->IsInt64() && !body_.HasMember("max_tokens"))
        body_.AddMember("max_tokens", v->GetInt64(), a_);
    struct Rename {
      const char* from;
      const char* to;
    } names[] = {{"temperature", "temperature"}, {"top_p", "p"},  {"seed", "seed"},
                 {"frequency_penalty", "frequency_penalty"}, {"presence_penalty", "presence_penalty"}};
    for (auto& r : names)
      if (const Value* v = json::find(req_, r.from); v && v->IsNumber()) body_.AddMember(Value(r.to, a_), Value(*v, a_), a_);
    if (Value seqs = codec::stop_sequences(req_, a_); !seqs.Empty()) body_.AddMember("stop_sequences", seqs, a_);
    if (const Value* lp = json::find(req_, "logprobs"); lp && lp->IsBool()) body_.AddMember("logprobs", lp->GetBool(), a_);
    if (const Value* n = json::find(req_, "n"); n && n->IsInt64() && n->GetInt64() != 1)
      bad("n", "cohere answers with one choice; n must be 1");
    std::string_view effort = str_of(req_, "reasoning_effort");
    if (!effort.empty()) {
      Value th(rapidjson::kObjectType);
      if (effort == "none") {
        th.AddMember("type", "disabled", a_);
      } else {
        th.AddMember("type", "enabled", a_);
        th.AddMember("token_budget", effort == "medium" ? 4096 : effort == "high" || effort == "xhigh" ? 16384 : 1024, a_);
      }
      body_.AddMember("thinking", th, a_);
    }
  }

  void tools() {
    const Value* tools = json::find(req_, "tools");
    if (!tools || !tools->IsArray() || tools->Empty()) return;
    // A named tool_choice: Cohere has none; the call is required, and only that tool offered.
    std::string_view only;
    if (const Value* tc = json::find(req_, "tool_choice")) {
      if (tc->IsString() && json::sv(*tc) == "required") body_.AddMember("tool_choice", "REQUIRED", a_);
      else if (tc->IsString() && json::sv(*tc) == "none") body_.AddMember("tool_choice", "NONE", a_);
      else if (tc->IsObject()) {
        const Value* fn = json::find(*tc, "function");
        only = fn ? str_of(*fn, "name") : std::string_view();
        body_.AddMember("tool_choice", "REQUIRED", a_);
      }
    }
    Value out(rapidjson::kArrayType);
    bool strict = false;
    for (auto& tool : tools->GetArray()) {
      const Value* fn = json::find(tool, "function");
      if (!only.empty() && (!fn || str_of(*fn, "name") != only)) continue;
      if (fn)
        if (const Value* s = json::find(*fn, "strict"); s && s->IsTrue()) strict = true;
      out.PushBack(Value(tool, a_), a_);
    }
    if (out.Empty()) bad("tool_choice.function.name", "names no tool of request.tools");
    body_.AddMember("tools", out, a_);
    if (strict) body_.AddMember("strict_tools", true, a_);
  }

  void output() {
    const Value* rf = json::find(req_, "response_format");
    if (!rf || !rf->IsObject()) return;
    std::string_view type = str_of(*rf, "type");
    if (type != "json_object" && type != "json_schema") return;
    Value out(rapidjson::kObjectType);
    out.AddMember("type", "json_object", a_);
    if (type == "json_schema") {
      const Value* js = json::find(*rf, "json_schema");
      const Value* schema = js ? json::find(*js, "schema") : nullptr;
      if (!schema || !schema->IsObject()) bad("response_format.json_schema.schema", "is required for cohere");
      out.AddMember("json_schema", Value(*schema, a_), a_);
    }
    body_.AddMember("response_format", out, a_);
  }

  json::Document& req_;
  const Target& t_;
  bool stream_;
  json::Document body_;
  json::Allocator& a_;
};

// COMPLETE, STOP_SEQUENCE → stop; MAX_TOKENS → length; TOOL_CALL → tool_calls;
// ERROR and TIMEOUT are failures, not finishes.
const char* finish_reason(std::string_view fr, const std::string& provider) {
  if (fr == "MAX_TOKENS") return "length";
  if (fr == "TOOL_CALL") return "tool_calls";
  if (fr == "ERROR") throw Error(LLM_ERR_SERVER_ERROR, provider + " ended the answer with finish_reason ERROR");
  if (fr == "TIMEOUT") throw Error(LLM_ERR_TIMEOUT, provider + " ended the answer with finish_reason TIMEOUT");
  return "stop";
}

// Cohere's usage: "tokens" are what the model saw (billed_units when absent);
// cached_tokens are part of the input.
Value usage_of(const Value& u, json::Allocator& a) {
  const Value* tokens = json::find(u, "tokens");
  if (!tokens || !tokens->IsObject()) tokens = json::find(u, "billed_units");
  auto num = [](const Value* o, const char* k) -> int64_t {
    const Value* v = o && o->IsObject() ? json::find(*o, k) : nullptr;
    return v && v->IsNumber() ? static_cast<int64_t>(v->GetDouble()) : 0;
  };
  int64_t in = num(tokens, "input_tokens"), out = num(tokens, "output_tokens"), cached = num(&u, "cached_tokens");
  Value r(rapidjson::kObjectType);
  r.AddMember("prompt_tokens", in, a);
  r.AddMember("completion_tokens", out, a);
  r.AddMember("total_tokens", in + out, a);
  Value details(rapidjson::kObjectType);
  details.AddMember("cached_tokens", cached, a);
  r.AddMember("prompt_tokens_details", details, a);
  return r;
}

Value citation_annotation(const Value& c, json::Allocator& a) {
  Value an(rapidjson::kObjectType);
  an.AddMember("type", "citation", a);
  an.AddMember("citation", Value(c, a), a);
  return an;
}

class CohereStream final : public SseStreamDecoder {
 public:
  CohereStream(const Target& t, const Limits& limits) : SseStreamDecoder(limits), t_(t) {
    head_.model = t.model;
    head_.created = codec::now_secs();
  }

  bool on_event(const http::SseEvent& ev, const ChunkSink& emit) override {
    if (ev.data == "[DONE]") return false;
    json::Document d = json::parse(ev.data, "cohere stream event", LLM_ERR_STREAMING);
    if (!d.IsObject()) throw Error(LLM_ERR_STREAMING, "cohere stream event is not a JSON object");
    std::string_view type = str_of(d, "type");
    if (type.empty()) type = ev.event;
    const Value* msg = nullptr;
    if (const Value* delta = json::find(d, "delta"); delta && delta->IsObject()) msg = json::find(*delta, "message");
    const Value* index = json::find(d, "index");
    int64_t i = index && index->IsInt64() ? index->GetInt64() : 0;
    if (type == "message-start") {
      head_.id = std::string(str_of(d, "id"));
      return chunk(emit, [](Value& delta, json::Allocator& a) {
        delta.AddMember("role", "assistant", a);
        delta.AddMember("content", "", a);
      });
    }
    if (type == "content-delta" && msg) {
      const Value* c = json::find(*msg, "content");
      if (!c || !c->IsObject()) return true;
      if (const Value* text = json::find(*c, "text"); text && text->IsString())
        return chunk(emit, [&](Value& delta, json::Allocator& a) { delta.AddMember("content", Value(*text, a), a); });
      if (const Value* th = json::find(*c, "thinking"); th && th->IsString())
        return chunk(emit, [&](Value& delta, json::Allocator& a) { delta.AddMember("reasoning_content", Value(*th, a), a); });
      return true;
    }
    if (type == "tool-plan-delta" && msg) {
      std::string_view plan = str_of(*msg, "tool_plan");
      if (plan.empty()) return true;
      return chunk(emit, [&](Value& delta, json::Allocator& a) { delta.AddMember("reasoning_content", json::str(plan, a), a); });
    }
    if ((type == "tool-call-start" || type == "tool-call-delta") && msg) {
      const Value* tc = json::find(*msg, "tool_calls");
      if (!tc || !tc->IsObject()) return true;
      const Value* fn = json::find(*tc, "function");
      std::string_view args = fn && fn->IsObject() ? str_of(*fn, "arguments") : std::string_view();
      if (type == "tool-call-start")
        return codec::emit_tool_call(emit, head_, i, str_of(*tc, "id"), fn && fn->IsObject() ? str_of(*fn, "name") : "", args);
      if (args.empty()) return true;
      return codec::emit_tool_call(emit, head_, i, "", "", args);
    }
    if (type == "citation-start" && msg) {
      const Value* c = json::find(*msg, "citations");
      if (!c || !c->IsObject()) return true;
      return chunk(emit, [&](Value& delta, json::Allocator& a) {
        Value ans(rapidjson::kArrayType);
        ans.PushBack(citation_annotation(*c, a), a);
        delta.AddMember("annotations", ans, a);
      });
    }
    if (type == "message-end") {
      const Value* delta = json::find(d, "delta");
      std::string_view fr = delta ? str_of(*delta, "finish_reason") : std::string_view();
      if (!fr.empty() && !chunk(emit, [](Value&, json::Allocator&) {}, finish_reason(fr, t_.spec->name))) return false;
      if (const Value* u = delta ? json::find(*delta, "usage") : nullptr; u && u->IsObject()) {
        json::Document ud;
        codec::emit_usage(emit, head_, usage_of(*u, ud.GetAllocator()));
      }
      return false;
    }
    return true;  // content-start/-end, tool-call-end, citation-end, debug, and kinds added later
  }

 private:
  template <class F>
  bool chunk(const ChunkSink& emit, F&& fill, const char* finish = nullptr) {
    return codec::emit_chunk(emit, head_, std::forward<F>(fill), finish);
  }

  const Target& t_;
  codec::ChunkHead head_;
};

class CohereChat final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    return codec::post_json(t, provider_url(t, "/v2/chat"), RequestBuilder(req, t, stream).build(),
                            stream ? "text/event-stream" : "application/json");
  }

  json::Document parse(std::string_view text, const Target& t) const override { return cohere_response(text, t); }

  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return std::make_unique<CohereStream>(t, limits);
  }
};

}  // namespace

json::Document cohere_response(std::string_view text, const Target& t) {
  json::Document src = json::parse(text, "cohere response", LLM_ERR_SERIALIZATION);
  if (!src.IsObject()) throw Error(LLM_ERR_SERIALIZATION, "cohere response is not a JSON object");
  const Value* msg = json::find(src, "message");
  if (!msg || !msg->IsObject()) throw Error(LLM_ERR_SERIALIZATION, "cohere response has no \"message\" object");
  codec::Completion out;
  auto& a = out.allocator();
  std::string reasoning(str_of(*msg, "tool_plan"));
  if (const Value* content = json::find(*msg, "content"); content && content->IsArray())
    for (auto& c : content->GetArray()) {
      std::string_view type = str_of(c, "type");
      if (type == "text") out.add_text(str_of(c, "text"));
      else if (type == "thinking") reasoning.append(str_of(c, "thinking"));
    }
  if (const Value* tcs = json::find(*msg, "tool_calls"); tcs && tcs->IsArray())
    for (auto& tc : tcs->GetArray()) {
      const Value* fn = json::find(tc, "function");
      out.add_tool_call(str_of(tc, "id"), fn ? str_of(*fn, "name") : "",
                        std::string(fn ? str_of(*fn, "arguments") : std::string_view()));
    }
  const char* fr = finish_reason(str_of(src, "finish_reason"), t.spec ? t.spec->name : "cohere");
  const Value* u = json::find(src, "usage");
  json::Document d = out.build(str_of(src, "id"), t.model, fr, u && u->IsObject() ? usage_of(*u, a) : Value());
  auto& da = d.GetAllocator();
  Value& m = d["choices"][0]["message"];
  if (!reasoning.empty()) m.AddMember("reasoning_content", json::str(reasoning, da), da);
  if (const Value* cites = json::find(*msg, "citations"); cites && cites->IsArray() && !cites->Empty()) {
    Value ans(rapidjson::kArrayType);
    for (auto& c : cites->GetArray()) ans.PushBack(citation_annotation(c, da), da);
    m.AddMember("annotations", ans, da);
  }
  return d;
}

const Operation* cohere_operation(Endpoint e) {
  return e == Endpoint::Chat ? codec::chat_only<CohereChat>(e) : cohere_endpoint_operation(e);
}

}  // namespace literllm
