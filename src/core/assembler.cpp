#include "core/assembler.hpp"

namespace literllm {

namespace {
void take_string(const json::Value& obj, const char* key, std::string& out) {
  if (auto* v = json::find(obj, key); v && v->IsString() && out.empty()) out.assign(v->GetString(), v->GetStringLength());
}
bool append_string(const json::Value& obj, const char* key, std::string& out) {
  auto* v = json::find(obj, key);
  if (!v || !v->IsString()) return false;
  out.append(v->GetString(), v->GetStringLength());
  return true;
}
}  // namespace

void StreamAssembler::add(const json::Value& chunk) {
  ++chunks_;
  auto& a = store_.GetAllocator();
  take_string(chunk, "id", id_);
  take_string(chunk, "model", model_);
  take_string(chunk, "system_fingerprint", fingerprint_);
  take_string(chunk, "service_tier", service_tier_);
  if (auto* c = json::find(chunk, "created"); c && c->IsInt64() && created_ == 0) created_ = c->GetInt64();
  if (auto* u = json::find(chunk, "usage"); u && u->IsObject()) usage_.CopyFrom(*u, a);
  auto* choices = json::find(chunk, "choices");
  if (!choices || !choices->IsArray()) return;
  for (auto& ch : choices->GetArray()) {
    int64_t index = 0;
    if (auto* i = json::find(ch, "index"); i && i->IsInt64()) index = i->GetInt64();
    Choice& c = choices_[index];
    if (auto* fr = json::find(ch, "finish_reason"); fr && fr->IsString()) c.finish_reason.assign(fr->GetString());
    if (auto* delta = json::find(ch, "delta"); delta && delta->IsObject()) {
      if (auto* r = json::find(*delta, "role"); r && r->IsString()) c.role.assign(r->GetString());
      c.has_content |= append_string(*delta, "content", c.content);
      c.has_refusal |= append_string(*delta, "refusal", c.refusal);
      c.has_reasoning |= append_string(*delta, "reasoning_content", c.reasoning);
      c.has_reasoning |= append_string(*delta, "reasoning", c.reasoning);
      if (auto* an = json::find(*delta, "annotations"); an && an->IsArray())
        for (auto& e : an->GetArray()) c.annotations.PushBack(json::Value(e, a), a);
      if (auto* au = json::find(*delta, "audio"); au && au->IsObject()) {
        c.has_audio = true;
        take_string(*au, "id", c.audio_id);
        append_string(*au, "data", c.audio_data);
        append_string(*au, "transcript", c.audio_transcript);
        if (auto* ex = json::find(*au, "expires_at"); ex && ex->IsInt64()) c.audio_expires_at = ex->GetInt64();
      }
      if (auto* fc = json::find(*delta, "function_call"); fc && fc->IsObject()) {
        c.has_function_call = true;
        append_string(*fc, "name", c.fn_name);
        append_string(*fc, "arguments", c.fn_arguments);
      }
      if (auto* tcs = json::find(*delta, "tool_calls"); tcs && tcs->IsArray()) {
        int64_t pos = 0;
        for (auto& tc : tcs->GetArray()) {
          int64_t ti = pos++;
          if (auto* i = json::find(tc, "index"); i && i->IsInt64()) ti = i->GetInt64();
          ToolCall& t = c.tool_calls[ti];
          take_string(tc, "id", t.id);
          if (auto* ty = json::find(tc, "type"); ty && ty->IsString()) t.type.assign(ty->GetString());
          if (auto* fn = json::find(tc, "function"); fn && fn->IsObject()) {
            append_string(*fn, "name", t.name);
            append_string(*fn, "arguments", t.arguments);
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
}

bool StreamAssembler::all_finished() const {
  if (choices_.empty()) return false;
  for (auto& [i, c] : choices_)
    if (c.finish_reason.empty()) return false;
  return true;
}

json::Document StreamAssembler::finish() const {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", json::str(id_, a), a);
  d.AddMember("object", "chat.completion", a);
  d.AddMember("created", created_, a);
  d.AddMember("model", json::str(model_, a), a);
  json::Value choices(rapidjson::kArrayType);
  for (auto& [index, c] : choices_) {
    json::Value choice(rapidjson::kObjectType);
    choice.AddMember("index", index, a);
    json::Value msg(rapidjson::kObjectType);
    msg.AddMember("role", json::str(c.role, a), a);
    if (c.has_content && !(c.content.empty() && !c.tool_calls.empty())) msg.AddMember("content", json::str(c.content, a), a);
    else msg.AddMember("content", json::Value(), a);
    if (c.has_refusal && !c.refusal.empty()) msg.AddMember("refusal", json::str(c.refusal, a), a);
    else msg.AddMember("refusal", json::Value(), a);
    if (c.has_reasoning) msg.AddMember("reasoning_content", json::str(c.reasoning, a), a);
    if (!c.tool_calls.empty()) {
      json::Value tcs(rapidjson::kArrayType);
      for (auto& [ti, t] : c.tool_calls) {
        json::Value tc(rapidjson::kObjectType);
        tc.AddMember("id", json::str(t.id, a), a);
        tc.AddMember("type", json::str(t.type, a), a);
        json::Value fn(rapidjson::kObjectType);
        fn.AddMember("name", json::str(t.name, a), a);
        fn.AddMember("arguments", json::str(t.arguments, a), a);
        tc.AddMember("function", fn, a);
        tcs.PushBack(tc, a);
      }
      msg.AddMember("tool_calls", tcs, a);
    }
    if (!c.annotations.Empty()) msg.AddMember("annotations", json::Value(c.annotations, a), a);
    if (c.has_audio) {
      json::Value au(rapidjson::kObjectType);
      au.AddMember("id", json::str(c.audio_id, a), a);
      au.AddMember("data", json::str(c.audio_data, a), a);
      au.AddMember("transcript", json::str(c.audio_transcript, a), a);
      au.AddMember("expires_at", c.audio_expires_at, a);
      msg.AddMember("audio", au, a);
    }
    if (c.has_function_call) {
      json::Value fn(rapidjson::kObjectType);
      fn.AddMember("name", json::str(c.fn_name, a), a);
      fn.AddMember("arguments", json::str(c.fn_arguments, a), a);
      msg.AddMember("function_call", fn, a);
    }
    choice.AddMember("message", msg, a);
    if (c.has_logprobs) {
      json::Value lp(rapidjson::kObjectType);
      lp.AddMember("content", c.has_content_logprobs ? json::Value(c.logprobs_content, a) : json::Value(), a);
      lp.AddMember("refusal", c.logprobs_refusal.Empty() ? json::Value() : json::Value(c.logprobs_refusal, a), a);
      choice.AddMember("logprobs", lp, a);
    } else {
      choice.AddMember("logprobs", json::Value(), a);
    }
    if (c.finish_reason.empty()) choice.AddMember("finish_reason", json::Value(), a);
    else choice.AddMember("finish_reason", json::str(c.finish_reason, a), a);
    choices.PushBack(choice, a);
  }
  d.AddMember("choices", choices, a);
  if (usage_.IsObject()) d.AddMember("usage", json::Value(usage_, a), a);
  if (!fingerprint_.empty()) d.AddMember("system_fingerprint", json::str(fingerprint_, a), a);
  if (!service_tier_.empty()) d.AddMember("service_tier", json::str(service_tier_, a), a);
  return d;
}

}  // namespace literllm
