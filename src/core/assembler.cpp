#include "core/assembler.hpp"

#include <type_traits>

#include "core/error.hpp"

namespace literllm {

namespace {
void take_string(const json::Value& obj, const char* key, std::string& out) {
  if (auto* v = json::find(obj, key); v && v->IsString() && out.empty()) out.assign(v->GetString(), v->GetStringLength());
}

[[noreturn]] void over(const char* limit, uint64_t value, const char* what) {
  throw Error(LLM_ERR_LIMIT_EXCEEDED, std::string("the stream ") + what + ", more than " + limit + " (" +
                                          std::to_string(value) + ") allows; raise " + limit +
                                          " in the client config to keep more");
}
}  // namespace

bool StreamAssembler::append(const json::Value& obj, const char* key, std::string& out) {
  auto* v = json::find(obj, key);
  if (!v || !v->IsString()) return false;
  out.append(v->GetString(), v->GetStringLength());
  strings_ += v->GetStringLength();
  return true;
}

void StreamAssembler::check_retained() const {
  if (retained() > limits_.max_stream_bytes) over("max_stream_bytes", limits_.max_stream_bytes, "kept more bytes");
}

void StreamAssembler::add(const json::Value& chunk) {
  ++chunks_;
  auto& a = store_.GetAllocator();
  take_string(chunk, "id", id_);
  take_string(chunk, "model", model_);
  take_string(chunk, "system_fingerprint", fingerprint_);
  take_string(chunk, "service_tier", service_tier_);
  if (auto* c = json::find(chunk, "created"); c && c->IsInt64() && created_ == 0) created_ = c->GetInt64();
  if (auto* u = json::find(chunk, "usage"); u && u->IsObject()) {
    json::Document fresh;  // the previous usage's memory goes with the old document
    fresh.CopyFrom(*u, fresh.GetAllocator());
    usage_.Swap(fresh);
  }
  auto* choices = json::find(chunk, "choices");
  if (!choices || !choices->IsArray()) return;
  for (auto& ch : choices->GetArray()) {
    int64_t index = 0;
    if (auto* i = json::find(ch, "index"); i && i->IsInt64()) index = i->GetInt64();
    auto [it, opened] = choices_.try_emplace(index);
    if (opened && choices_.size() > limits_.max_choices) {
      choices_.erase(it);
      over("max_choices", limits_.max_choices, "opened more choices");
    }
    Choice& c = it->second;
    if (auto* fr = json::find(ch, "finish_reason"); fr && fr->IsString()) c.finish_reason.assign(fr->GetString());
    if (auto* delta = json::find(ch, "delta"); delta && delta->IsObject()) {
      if (auto* r = json::find(*delta, "role"); r && r->IsString()) c.role.assign(r->GetString());
      c.has_content |= append(*delta, "content", c.content);
      c.has_refusal |= append(*delta, "refusal", c.refusal);
      c.has_reasoning |= append(*delta, "reasoning_content", c.reasoning);
      c.has_reasoning |= append(*delta, "reasoning", c.reasoning);
      if (auto* an = json::find(*delta, "annotations"); an && an->IsArray())
        for (auto& e : an->GetArray()) c.annotations.PushBack(json::Value(e, a), a);
      // Reasoning blocks a provider wants back verbatim (Anthropic's signed
      // thinking), each whole in one delta.
      if (auto* tb = json::find(*delta, "thinking_blocks"); tb && tb->IsArray())
        for (auto& e : tb->GetArray()) c.thinking_blocks.PushBack(json::Value(e, a), a);
      if (auto* au = json::find(*delta, "audio"); au && au->IsObject()) {
        c.has_audio = true;
        take_string(*au, "id", c.audio_id);
        append(*au, "data", c.audio_data);
        append(*au, "transcript", c.audio_transcript);
        if (auto* ex = json::find(*au, "expires_at"); ex && ex->IsInt64()) c.audio_expires_at = ex->GetInt64();
      }
      if (auto* fc = json::find(*delta, "function_call"); fc && fc->IsObject()) {
        c.has_function_call = true;
        append(*fc, "name", c.fn_name);
        append(*fc, "arguments", c.fn_arguments);
      }
      if (auto* tcs = json::find(*delta, "tool_calls"); tcs && tcs->IsArray()) {
        int64_t pos = 0;
        for (auto& tc : tcs->GetArray()) {
          int64_t ti = pos++;
          if (auto* i = json::find(tc, "index"); i && i->IsInt64()) ti = i->GetInt64();
          auto [tit, added] = c.tool_calls.try_emplace(ti);
          if (added && c.tool_calls.size() > limits_.max_tool_calls) {
            c.tool_calls.erase(tit);
            over("max_tool_calls", limits_.max_tool_calls, "opened more tool calls in one choice");
          }
          ToolCall& t = tit->second;
          take_string(tc, "id", t.id);
          if (auto* ty = json::find(tc, "type"); ty && ty->IsString()) t.type.assign(ty->GetString());
          if (auto* fn = json::find(tc, "function"); fn && fn->IsObject()) {
            append(*fn, "name", t.name);
            append(*fn, "arguments", t.arguments);
          }
        }
      }
    }
    if (auto* lp = json::find(ch, "logprobs"); lp && lp->IsObject()) {
      c.has_logprobs = true;
      if (auto* arr = json::find(*lp, "content"); arr && arr->IsArray()) {
        c.has_content_logprobs = true;
        for (auto& e : arr->GetArray()) c.logprobs_content.PushBack(json::Value(e, a), a);
      }
      if (auto* arr = json::find(*lp, "refusal"); arr && arr->IsArray())
        for (auto& e : arr->GetArray()) c.logprobs_refusal.PushBack(json::Value(e, a), a);
    }
  }
  check_retained();
}

bool StreamAssembler::all_finished() const {
  if (choices_.empty()) return false;
  for (auto& [i, c] : choices_)
    if (c.finish_reason.empty()) return false;
  return true;
}

template <class Self>
json::Document StreamAssembler::build(Self& self) {
  constexpr bool kCopy = std::is_const_v<Self>;
  // take() builds inside the store's own allocator, so the logprobs and
  // annotations it holds move into the answer instead of being copied.
  json::Document d;
  if constexpr (kCopy) d.SetObject();
  else {
    d.Swap(self.store_);
    d.SetObject();
  }
  auto& a = d.GetAllocator();
  // A string copied into the document; take() frees the original at once.
  auto str = [&a](auto& s) {
    json::Value v = json::str(s, a);
    if constexpr (!kCopy) std::string().swap(s);
    return v;
  };
  // An array of values: copied (finish) or moved (take: same allocator).
  auto values = [&a](auto& v) {
    if constexpr (kCopy) return json::Value(v, a);
    else return json::Value(std::move(v));
  };
  d.AddMember("id", json::str(self.id_, a), a);
  d.AddMember("object", "chat.completion", a);
  d.AddMember("created", self.created_, a);
  d.AddMember("model", json::str(self.model_, a), a);
  json::Value choices(rapidjson::kArrayType);
  for (auto& [index, c] : self.choices_) {
    json::Value choice(rapidjson::kObjectType);
    choice.AddMember("index", index, a);
    json::Value msg(rapidjson::kObjectType);
    msg.AddMember("role", json::str(c.role, a), a);
    if (c.has_content && !(c.content.empty() && !c.tool_calls.empty())) msg.AddMember("content", str(c.content), a);
    else msg.AddMember("content", json::Value(), a);
    if (c.has_refusal && !c.refusal.empty()) msg.AddMember("refusal", str(c.refusal), a);
    else msg.AddMember("refusal", json::Value(), a);
    if (c.has_reasoning) msg.AddMember("reasoning_content", str(c.reasoning), a);
    if (!c.tool_calls.empty()) {
      json::Value tcs(rapidjson::kArrayType);
      for (auto& [ti, t] : c.tool_calls) {
        json::Value tc(rapidjson::kObjectType);
        tc.AddMember("id", json::str(t.id, a), a);
        tc.AddMember("type", json::str(t.type, a), a);
        json::Value fn(rapidjson::kObjectType);
        fn.AddMember("name", json::str(t.name, a), a);
        fn.AddMember("arguments", str(t.arguments), a);
        tc.AddMember("function", fn, a);
        tcs.PushBack(tc, a);
      }
      msg.AddMember("tool_calls", tcs, a);
    }
    if (!c.annotations.Empty()) msg.AddMember("annotations", values(c.annotations), a);
    if (!c.thinking_blocks.Empty()) msg.AddMember("thinking_blocks", values(c.thinking_blocks), a);
    if (c.has_audio) {
      json::Value au(rapidjson::kObjectType);
      au.AddMember("id", json::str(c.audio_id, a), a);
      au.AddMember("data", str(c.audio_data), a);
      au.AddMember("transcript", str(c.audio_transcript), a);
      au.AddMember("expires_at", c.audio_expires_at, a);
      msg.AddMember("audio", au, a);
    }
    if (c.has_function_call) {
      json::Value fn(rapidjson::kObjectType);
      fn.AddMember("name", json::str(c.fn_name, a), a);
      fn.AddMember("arguments", str(c.fn_arguments), a);
      msg.AddMember("function_call", fn, a);
    }
    choice.AddMember("message", msg, a);
    if (c.has_logprobs) {
      json::Value lp(rapidjson::kObjectType);
      lp.AddMember("content", c.has_content_logprobs ? values(c.logprobs_content) : json::Value(), a);
      lp.AddMember("refusal", c.logprobs_refusal.Empty() ? json::Value() : values(c.logprobs_refusal), a);
      choice.AddMember("logprobs", lp, a);
    } else {
      choice.AddMember("logprobs", json::Value(), a);
    }
    if (c.finish_reason.empty()) choice.AddMember("finish_reason", json::Value(), a);
    else choice.AddMember("finish_reason", json::str(c.finish_reason, a), a);
    choices.PushBack(choice, a);
  }
  d.AddMember("choices", choices, a);
  if (self.usage_.IsObject()) d.AddMember("usage", json::Value(self.usage_, a), a);
  if (!self.fingerprint_.empty()) d.AddMember("system_fingerprint", json::str(self.fingerprint_, a), a);
  if (!self.service_tier_.empty()) d.AddMember("service_tier", json::str(self.service_tier_, a), a);
  if constexpr (!kCopy) {
    self.choices_.clear();
    self.strings_ = 0;
  }
  return d;
}

template json::Document StreamAssembler::build(const StreamAssembler&);
template json::Document StreamAssembler::build(StreamAssembler&);

}  // namespace literllm
