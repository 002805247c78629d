// The OpenAI chat-completions protocol, spoken by api.openai.com and by every
// OpenAI-compatible host; hosts differ only by the quirks in their registry row.
#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "http/url.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"

namespace literllm {

namespace {

void rename_member(json::Value& obj, const char* from, const char* to, json::Allocator& a) {
  auto it = obj.FindMember(from);
  if (it == obj.MemberEnd()) return;
  if (obj.HasMember(to)) {  // both given: the target spelling wins
    obj.RemoveMember(it);
    return;
  }
  json::Value v(std::move(it->value), a);
  obj.RemoveMember(it);
  obj.AddMember(json::Value(to, a), v, a);
}

}  // namespace

void set_member(json::Value& obj, const char* key, json::Value v, json::Allocator& a) {
  auto it = obj.FindMember(key);
  if (it != obj.MemberEnd()) it->value = std::move(v);
  else obj.AddMember(json::Value(key, a), v, a);
}

// The first of repeated names wins. Both are objects of one document.
void add_new_members(json::Value& obj, json::Value& extra, json::Allocator& a) {
  const size_t n = extra.MemberCount();
  if (n * (obj.MemberCount() + n) <= 4096) {  // the usual few members: look each up
    for (auto& m : extra.GetObject())
      if (obj.FindMember(m.name) == obj.MemberEnd()) obj.AddMember(m.name, m.value, a);
    return;
  }
  // Many: sort the names once. kept[i] says whether extra's member i is added.
  std::vector<std::string_view> have;
  have.reserve(obj.MemberCount() + n);
  for (auto& m : obj.GetObject()) have.push_back(json::sv(m.name));
  std::sort(have.begin(), have.end());
  std::vector<std::pair<std::string_view, size_t>> order;
  order.reserve(n);
  size_t i = 0;
  for (auto& m : extra.GetObject()) order.emplace_back(json::sv(m.name), i++);
  std::sort(order.begin(), order.end());
  std::vector<bool> kept(n, false);
  for (size_t j = 0; j < n; ++j)
    kept[order[j].second] = (j == 0 || order[j].first != order[j - 1].first) &&
                            !std::binary_search(have.begin(), have.end(), order[j].first);
  i = 0;
  for (auto& m : extra.GetObject())
    if (kept[i++]) obj.AddMember(m.name, m.value, a);
}

namespace {

// Some hosts spell cached prompt tokens their own way; one shape for all:
// usage.prompt_tokens_details.cached_tokens is always an integer.
void normalize_usage(json::Value& usage, json::Allocator& a) {
  if (!usage.IsObject()) return;
  int64_t host_cached = 0;  // DeepSeek: prompt_cache_hit_tokens
  if (auto hit = usage.FindMember("prompt_cache_hit_tokens"); hit != usage.MemberEnd() && hit->value.IsInt64())
    host_cached = hit->value.GetInt64();
  auto det = usage.FindMember("prompt_tokens_details");
  if (det == usage.MemberEnd()) {
    usage.AddMember("prompt_tokens_details", json::Value(rapidjson::kObjectType), a);
    det = usage.FindMember("prompt_tokens_details");
  } else if (!det->value.IsObject()) {
    det->value.SetObject();
  }
  auto cached = det->value.FindMember("cached_tokens");
  if (cached == det->value.MemberEnd()) det->value.AddMember("cached_tokens", host_cached, a);
  else if (!cached->value.IsInt64()) cached->value.SetInt64(host_cached);
}

// Appends the text of content parts: a string, or an array of {"type":"text","text"}.
void append_part_texts(const json::Value& v, std::string& out) {
  if (v.IsString()) {
    out.append(v.GetString(), v.GetStringLength());
  } else if (v.IsArray()) {
    for (auto& p : v.GetArray())
      if (auto* t = json::find(p, "text"); t && t->IsString()) out.append(t->GetString(), t->GetStringLength());
  }
}

// Some hosts (Mistral's reasoning models) answer with content as an array of
// parts: {"type":"text","text"} and {"type":"thinking","thinking":[parts]}.
// One shape for all: content a string, the thinking in reasoning_content.
// Returns true when `msg` (a message or a delta) was changed.
bool flatten_content_parts(json::Value& msg, json::Allocator& a) {
  if (!msg.IsObject()) return false;
  auto content = msg.FindMember("content");
  if (content == msg.MemberEnd() || !content->value.IsArray()) return false;
  std::string text, thinking;
  bool has_text = false, has_thinking = false;
  for (auto& part : content->value.GetArray()) {
    auto* type = json::find(part, "type");
    std::string_view ty = type && type->IsString() ? json::sv(*type) : std::string_view();
    if (ty == "thinking") {
      if (auto* th = json::find(part, "thinking")) append_part_texts(*th, thinking), has_thinking = true;
    } else if (auto* t = json::find(part, "text"); t && t->IsString()) {
      text.append(t->GetString(), t->GetStringLength());
      has_text = true;
    }
  }
  if (has_text || !has_thinking) content->value = json::str(text, a);
  else content->value.SetNull();
  if (has_thinking) {
    auto rc = msg.FindMember("reasoning_content");
    if (rc != msg.MemberEnd() && rc->value.IsString()) thinking.insert(0, rc->value.GetString(), rc->value.GetStringLength());
    if (rc != msg.MemberEnd()) rc->value = json::str(thinking, a);
    else msg.AddMember("reasoning_content", json::str(thinking, a), a);
  }
  return true;
}

// Applies flatten_content_parts to every choice's `key` ("message" or "delta").
bool flatten_choices(json::Document& d, const char* key) {
  bool changed = false;
  auto ch = d.FindMember("choices");
  if (ch == d.MemberEnd() || !ch->value.IsArray()) return false;
  for (auto& c : ch->value.GetArray()) {
    if (!c.IsObject()) continue;
    auto m = c.FindMember(key);
    if (m != c.MemberEnd()) changed |= flatten_content_parts(m->value, d.GetAllocator());
  }
  return changed;
}

}  // namespace

bool openai_stream_event(const http::SseEvent& ev, const Target& t, const ChunkSink& emit) {
  std::string_view data = ev.data;
  if (data == "[DONE]") return false;
  if (!ev.event.empty() && ev.event == "error")
    throw body_error(t.spec->name + " sent an error event", data, t.secrets, 0, LLM_ERR_STREAMING);
  json::Document d = json::parse(data, (t.spec->name + " stream event").c_str(), LLM_ERR_STREAMING);
  if (!d.IsObject()) throw Error(LLM_ERR_STREAMING, t.spec->name + " stream event is not a JSON object");
  if (auto err = d.FindMember("error"); err != d.MemberEnd() && !err->value.IsNull())
    throw body_error(t.spec->name + " sent an error in the stream", d, data, t.secrets, 0, LLM_ERR_STREAMING);
  // Normalizing changes the text: re-serialize only then (the common chunk passes through as sent).
  bool changed = flatten_choices(d, "delta");
  auto u = d.FindMember("usage");
  if (u != d.MemberEnd() && u->value.IsObject()) {
    normalize_usage(u->value, d.GetAllocator());
    changed = true;
  }
  if (changed) {
    std::string text = json::dump(d);
    return emit(text, d);
  }
  return emit(data, d);
}

namespace {

// The streamed answer: OpenAI's chunks pass through (normalized where a host
// differs); `data: [DONE]` ends it.
class OpenAIStream final : public SseStreamDecoder {
 public:
  OpenAIStream(const Target& t, const Limits& limits) : SseStreamDecoder(limits), t_(t) {}
  bool on_event(const http::SseEvent& ev, const ChunkSink& emit) override { return openai_stream_event(ev, t_, emit); }

 private:
  const Target& t_;
};

class OpenAIChat final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    auto& a = req.GetAllocator();
    const Quirks& q = t.spec->quirks;
    set_member(req, "model", json::str(t.model, a), a);
    if (stream) {
      set_member(req, "stream", json::Value(true), a);
      if (q.stream_usage_option) {
        auto so = req.FindMember("stream_options");
        if (so == req.MemberEnd() || !so->value.IsObject()) {
          json::Value o(rapidjson::kObjectType);
          set_member(req, "stream_options", std::move(o), a);
          so = req.FindMember("stream_options");
        }
        set_member(so->value, "include_usage", json::Value(true), a);
      } else {
        req.RemoveMember("stream_options");
      }
    } else {
      req.RemoveMember("stream");
      req.RemoveMember("stream_options");
    }
    if (q.tokens == TokensField::MaxCompletionTokens) rename_member(req, "max_tokens", "max_completion_tokens", a);
    else if (q.tokens == TokensField::MaxTokens) rename_member(req, "max_completion_tokens", "max_tokens", a);
    if (std::string_view(q.seed_field) != "seed") rename_member(req, "seed", q.seed_field, a);
    for (auto& m : req["messages"].GetArray()) {
      if (!m.IsObject()) continue;
      if (q.developer_as_system) {
        auto role = m.FindMember("role");
        if (role != m.MemberEnd() && role->value.IsString() && json::sv(role->value) == "developer")
          role->value.SetString("system", a);
      }
      // thinking_blocks is literllm's own field (a native provider's signed reasoning, sent back
      // to that provider): an answer's message sent back as it came, or one a fallback carries
      // from a native provider, must not reach a host that refuses fields it does not know.
      m.RemoveMember("thinking_blocks");
      // The reasoning's text stays (DeepSeek refuses a tool loop without it), unless the host
      // refuses the field.
      if (q.refuses_reasoning_content) m.RemoveMember("reasoning_content");
    }
    merge_provider_options(req, req, t, a);
    // extra_body: its members are added, never replace one the request has,
    // nor set the call's own stream flags (validation refuses both; skipped
    // here as well).
    if (auto eb = req.FindMember("extra_body"); eb != req.MemberEnd()) {
      json::Value extra;
      extra.Swap(eb->value);
      req.RemoveMember(eb);
      if (extra.IsObject()) {
        while (extra.RemoveMember("stream")) {}
        while (extra.RemoveMember("stream_options")) {}
        add_new_members(req, extra, a);
      }
    }

    http::Request r;
    r.method = "POST";
    r.url = provider_url(t, "/chat/completions");
    r.body = json::dump(req);
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
    for (auto& h : t.headers) http::set_header(r.headers, h.first, h.second);
    return r;
  }

  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document d = json::parse(body, (t.spec->name + " response").c_str(), LLM_ERR_SERIALIZATION);
    if (!d.IsObject()) throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " response is not a JSON object");
    if (auto err = d.FindMember("error"); err != d.MemberEnd() && !err->value.IsNull())
      throw body_error(t.spec->name + " answered 200 with an error", d, body, t.secrets, 200, LLM_ERR_SERVER_ERROR);
    auto ch = d.FindMember("choices");
    if (ch == d.MemberEnd() || !ch->value.IsArray())
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " response has no \"choices\" array");
    if (auto u = d.FindMember("usage"); u != d.MemberEnd()) normalize_usage(u->value, d.GetAllocator());
    flatten_choices(d, "message");
    return d;
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return std::make_unique<OpenAIStream>(t, limits);
  }
};

}  // namespace

const Operation* openai_operation(Endpoint e) {
  return e == Endpoint::Chat ? codec::chat_only<OpenAIChat>(e) : openai_endpoint_operation(e);
}

}  // namespace literllm
