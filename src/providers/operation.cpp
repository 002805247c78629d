// What every protocol shares: the operation table, the SSE decoder's loop,
// provider settings and URLs, provider_options.
#include <algorithm>

#include "core/errors.hpp"
#include "http/headers.hpp"
#include "http/url.hpp"
#include "providers/adapter.hpp"

namespace literllm {

const char* endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::Chat: return "chat";
  }
  return "chat";
}

namespace {
const std::string kEmpty;
}

const std::string& Target::setting(std::string_view name) const {
  for (auto& [k, v] : settings)
    if (k == name) return v;
  return kEmpty;
}

const std::string& Target::required(std::string_view name) const {
  const std::string& v = setting(name);
  if (!v.empty()) return v;
  std::string how;
  if (spec)
    if (const SettingSpec* st = find_setting(*spec, name); st && !st->env.empty()) how = " or set " + st->env.front();
  invalid("providers." + (spec ? spec->name : std::string("?")) + "." + std::string(name) +
          ": required (set it in the client config" + how + ")");
}

StreamDecoder::Fed SseStreamDecoder::feed(const char* data, size_t len, const ChunkSink& emit) {
  bool stopped = false, ended = false;
  ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
    if (stopped) return false;
    if (!emit(text, chunk)) stopped = true;
    return !stopped;
  };
  framer_.feed(data, len, [&](const http::SseEvent& ev) {
    if (!on_event(ev, sink)) ended = true;
    return !ended && !stopped;
  });
  if (stopped) return Fed::Stopped;
  return ended ? Fed::Ended : Fed::More;
}

Error Operation::http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const {
  return literllm::http_error(t.spec->name, status, body, headers, t.secrets);
}

bool Operation::is_stream_content_type(const std::string* content_type) const {
  if (!content_type) return true;  // unsaid: the body decides
  std::string_view v(*content_type);
  constexpr std::string_view kSse = "text/event-stream";
  return v.size() >= kSse.size() && http::iequals(v.substr(0, kSse.size()), kSse);
}

const Operation* operation_for(Protocol p, Endpoint e) {
  switch (p) {
    case Protocol::OpenAI: return openai_operation(e);
    case Protocol::Anthropic: return anthropic_operation(e);
    case Protocol::Gemini:
    case Protocol::VertexAI:
    case Protocol::Bedrock:
    case Protocol::Cohere: return nullptr;
  }
  return nullptr;
}

const Operation& require_operation(const ProviderSpec& spec, Endpoint e) {
  if (const Operation* op = operation_for(spec.protocol, e)) return *op;
  throw Error(LLM_ERR_ENDPOINT_NOT_SUPPORTED, "provider " + spec.name + " (protocol " + protocol_name(spec.protocol) +
                                                  ") does not support the " + endpoint_name(e) +
                                                  " endpoint in this version of literllm");
}

std::shared_ptr<const auth::Credential> key_credential(const ProviderSpec& spec, const std::string& key) {
  if (key.empty()) return nullptr;
  switch (spec.auth) {
    case AuthKind::Bearer: return auth::header_key("Authorization", "Bearer ", key);
    case AuthKind::Header: return auth::header_key(spec.auth_header, "", key);
    case AuthKind::None: return nullptr;
  }
  return nullptr;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string provider_url(const Target& t, std::string_view path) {
  std::string_view tmpl = t.spec && !t.spec->chat_path.empty() ? std::string_view(t.spec->chat_path) : path;
  if (tmpl.find('{') == std::string_view::npos) return http::join_path(t.base_url, tmpl);
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find('}', open);
    if (close == std::string_view::npos) break;
    std::string_view name = tmpl.substr(open + 1, close - open - 1);
    out.append(tmpl.substr(i, open - i));
    out += url_encode(name == "model" ? std::string_view(t.model) : std::string_view(t.required(name)));
    i = close + 1;
  }
  out.append(tmpl.substr(i));
  return http::join_path(t.base_url, out);
}

void merge_provider_options(json::Value& req, json::Value& body, const Target& t, json::Allocator& a) {
  auto po = req.FindMember("provider_options");
  if (po == req.MemberEnd()) return;
  if (!po->value.IsObject())
    invalid(std::string("request.provider_options: expected an object of provider names, got ") +
            json::type_name(po->value));
  json::Value opts;
  opts.Swap(po->value);
  req.RemoveMember("provider_options");
  for (auto& m : opts.GetObject()) {
    if (!t.spec) break;
    std::string key = normalize_provider_name(json::sv(m.name));
    if (std::find(t.spec->match_keys.begin(), t.spec->match_keys.end(), key) == t.spec->match_keys.end()) continue;
    if (!m.value.IsObject())
      invalid("request.provider_options." + std::string(json::sv(m.name)) + ": expected an object, got " +
              json::type_name(m.value));
    for (auto& f : m.value.GetObject()) {
      auto have = body.FindMember(f.name);
      if (have == body.MemberEnd()) {
        body.AddMember(f.name, f.value, a);
      } else if (have->value.IsObject() && f.value.IsObject()) {
        for (auto& g : f.value.GetObject()) {  // one level deep: the option's members win
          auto inner = have->value.FindMember(g.name);
          if (inner != have->value.MemberEnd()) inner->value = g.value;
          else have->value.AddMember(g.name, g.value, a);
        }
      } else {
        have->value = f.value;  // the provider's own spelling wins over the translation
      }
    }
  }
}

}  // namespace literllm
