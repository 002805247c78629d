// What every protocol shares: the operation table, the SSE decoder's loop,
// provider settings and URLs, provider_options.
#include <algorithm>

#include "auth/sigv4.hpp"
#include "core/errors.hpp"
#include "http/headers.hpp"
#include "http/url.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"

namespace literllm {

namespace {
constexpr const char* kEndpointNames[kEndpointCount] = {
    "chat",           "embeddings",       "models",          "images.generations", "audio.speech",
    "audio.transcriptions", "audio.translations", "moderations", "rerank",       "search",
    "ocr",            "files.create",     "files.retrieve",  "files.list",         "files.delete",
    "files.content",  "batches.create",   "batches.retrieve", "batches.list",      "batches.cancel",
    "responses.create", "responses.retrieve", "responses.cancel", "responses.delete",
};
}  // namespace

const char* endpoint_name(Endpoint e) {
  const int i = static_cast<int>(e);
  return i >= 0 && i < kEndpointCount ? kEndpointNames[i] : "chat";
}

bool endpoint_from_name(std::string_view name, Endpoint& out) {
  for (int i = 0; i < kEndpointCount; ++i)
    if (name == kEndpointNames[i]) {
      out = static_cast<Endpoint>(i);
      return true;
    }
  return false;
}

namespace {
// Never freed: no static destructor (see tests/pkg/check_no_static_destructors.cmake).
const std::string& kEmpty = *new std::string();
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
    case Protocol::Bedrock: return bedrock_operation(e);
    case Protocol::Gemini: return gemini_operation(e);
    case Protocol::Cohere: return cohere_operation(e);
    case Protocol::VertexAI: return vertex_operation(e);
    case Protocol::Brave: return brave_operation(e);
    case Protocol::Tavily: return tavily_operation(e);
    case Protocol::Exa: return exa_operation(e);
    case Protocol::PerplexitySearch: return perplexity_search_operation(e);
  }
  return nullptr;
}

const Operation& require_operation(const ProviderSpec& spec, Endpoint e) {
  const Operation* op = operation_for(spec.protocol, e);
  // An OpenAI-compatible host serves what its row says.
  if (op && (spec.protocol != Protocol::OpenAI || spec.serves(e))) return *op;
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
    case AuthKind::Signed: return auth::header_key("Authorization", "Bearer ", key);  // a bearer key instead
  }
  return nullptr;
}

std::shared_ptr<const auth::Credential> make_credential(const Target& t, auth::TokenSources* tokens) {
  const ProviderSpec& s = *t.spec;
  if (t.api_key.empty() && !s.bearer_setting.empty())
    if (const std::string& token = t.setting(s.bearer_setting); !token.empty())
      return auth::header_key("Authorization", "Bearer ", token);
  if (s.auth != AuthKind::Signed || !t.api_key.empty()) return key_credential(s, t.api_key);
  if (s.protocol == Protocol::Bedrock) {
    const std::string& id = t.setting("aws_access_key_id");
    const std::string& secret = t.setting("aws_secret_access_key");
    if (id.empty() || secret.empty())
      throw Error(LLM_ERR_AUTHENTICATION,
                  "no AWS credentials for provider bedrock: set providers.bedrock.aws_access_key_id and "
                  "aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or an API key in "
                  "providers.bedrock.api_key (or AWS_BEARER_TOKEN_BEDROCK)");
    auto signer = std::make_shared<const auth::SigV4Signer>(
        auth::AwsCredentials{id, secret, t.setting("aws_session_token")}, t.required("region"), "bedrock");
    return auth::sigv4_credential(std::move(signer));
  }
  if (s.protocol == Protocol::VertexAI) {
    if (const std::string& token = t.setting("access_token"); !token.empty())
      return auth::header_key("Authorization", "Bearer ", token);
    if (const std::string& file = t.setting("credentials_file"); !file.empty() && tokens)
      return auth::bearer_token_credential(
          tokens->service_account(file, "providers.vertex_ai.credentials_file (or GOOGLE_APPLICATION_CREDENTIALS)"));
    throw Error(LLM_ERR_AUTHENTICATION,
                "no credentials for provider vertex_ai: set providers.vertex_ai.credentials_file (or "
                "GOOGLE_APPLICATION_CREDENTIALS) to a service-account key file, or providers.vertex_ai.access_token "
                "(or VERTEXAI_ACCESS_TOKEN)");
  }
  throw Error(LLM_ERR_AUTHENTICATION, "provider " + s.name + " has no way to sign its requests");
}

std::string url_encode(std::string_view s, std::string_view keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || keep.find(static_cast<char>(c)) != std::string_view::npos) {
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
  return fill_url(t, t.spec && !t.spec->chat_path.empty() ? std::string_view(t.spec->chat_path) : path);
}

std::string endpoint_url(const Target& t, Endpoint e, std::string_view path, const PathValues& values) {
  const std::string* row = t.spec ? t.spec->path_for(e) : nullptr;
  return fill_url(t, row ? std::string_view(*row) : path, values);
}

std::string fill_url(const Target& t, std::string_view tmpl, const PathValues& values) {
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
    const std::string* given = nullptr;
    for (auto& [k, v] : values)
      if (k == name) given = &v;
    out += url_encode(given ? std::string_view(*given)
                      : name == "model" ? std::string_view(t.model)
                                        : std::string_view(t.required(name)));
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
    // Copies, not moves: `body` may be another document than `req` (a native
    // body), whose allocator must own what it holds.
    for (auto& f : m.value.GetObject()) {
      auto have = body.FindMember(f.name);
      if (have == body.MemberEnd()) {
        body.AddMember(json::Value(f.name, a), json::Value(f.value, a), a);
      } else if (have->value.IsObject() && f.value.IsObject()) {
        for (auto& g : f.value.GetObject()) {  // one level deep: the option's members win
          auto inner = have->value.FindMember(g.name);
          if (inner != have->value.MemberEnd()) inner->value.CopyFrom(g.value, a);
          else have->value.AddMember(json::Value(g.name, a), json::Value(g.value, a), a);
        }
      } else {
        have->value.CopyFrom(f.value, a);  // the provider's own spelling wins over the translation
      }
    }
  }
}

}  // namespace literllm

namespace literllm::codec {

bool emit_usage(const ChunkSink& emit, const ChunkHead& h, const json::Value& usage) {
  json::Document c = chunk_of(h);
  auto& a = c.GetAllocator();
  c.AddMember("choices", json::Value(rapidjson::kArrayType), a);
  c.AddMember("usage", json::Value(usage, a), a);
  return emit(json::dump(c), c);
}

bool emit_tool_call(const ChunkSink& emit, const ChunkHead& h, int64_t tool_index, std::string_view id,
                    std::string_view name, std::string_view arguments, int64_t choice) {
  return emit_chunk(
      emit, h,
      [&](json::Value& delta, json::Allocator& a) {
        json::Value tcs(rapidjson::kArrayType);
        json::Value tc(rapidjson::kObjectType);
        tc.AddMember("index", tool_index, a);
        if (!id.empty()) {
          tc.AddMember("id", json::str(id, a), a);
          tc.AddMember("type", "function", a);
        }
        json::Value fn(rapidjson::kObjectType);
        if (!name.empty()) fn.AddMember("name", json::str(name, a), a);
        fn.AddMember("arguments", json::str(arguments, a), a);
        tc.AddMember("function", fn, a);
        tcs.PushBack(tc, a);
        delta.AddMember("tool_calls", tcs, a);
      },
      nullptr, choice);
}

json::Value usage(int64_t input, int64_t output, int64_t cache_read, int64_t cache_write, json::Allocator& a) {
  json::Value r(rapidjson::kObjectType);
  r.AddMember("prompt_tokens", input + cache_read + cache_write, a);
  r.AddMember("completion_tokens", output, a);
  r.AddMember("total_tokens", input + cache_read + cache_write + output, a);
  json::Value details(rapidjson::kObjectType);
  details.AddMember("cached_tokens", cache_read, a);
  r.AddMember("prompt_tokens_details", details, a);
  r.AddMember("cache_creation_input_tokens", cache_write, a);
  r.AddMember("cache_read_input_tokens", cache_read, a);
  return r;
}

json::Value arguments_object(std::string_view arguments, const std::string& path, const char* provider,
                             json::Allocator& a) {
  json::Value input(rapidjson::kObjectType);
  if (arguments.empty()) return input;
  json::Document parsed;
  try {
    parsed = json::parse(arguments, "arguments", LLM_ERR_INVALID_ARGUMENT);
  } catch (const Error&) {
    bad(path + ".function.arguments", std::string("is not valid JSON (") + provider + " takes the arguments as an object)");
  }
  if (!parsed.IsObject()) bad(path + ".function.arguments", std::string("must be a JSON object for ") + provider);
  input.CopyFrom(parsed, a);
  return input;
}

json::Value stop_sequences(const json::Value& req, json::Allocator& a) {
  json::Value seqs(rapidjson::kArrayType);
  if (const json::Value* stop = json::find(req, "stop")) {
    if (stop->IsString()) seqs.PushBack(json::Value(*stop, a), a);
    else if (stop->IsArray())
      for (auto& s : stop->GetArray()) seqs.PushBack(json::Value(s, a), a);
  }
  return seqs;
}

void Completion::add_tool_call(std::string_view id, std::string_view name, std::string arguments) {
  auto& a = d_.GetAllocator();
  json::Value tc(rapidjson::kObjectType);
  tc.AddMember("id", json::str(id, a), a);
  tc.AddMember("type", "function", a);
  json::Value fn(rapidjson::kObjectType);
  fn.AddMember("name", json::str(name, a), a);
  fn.AddMember("arguments", json::str(arguments, a), a);
  tc.AddMember("function", fn, a);
  tool_calls_.PushBack(tc, a);
}

void Completion::add_thinking(json::Value block, std::string_view text) {
  reasoning_.append(text);
  thinking_.PushBack(block, d_.GetAllocator());
}

json::Document Completion::build(std::string_view id, std::string_view model, const char* finish_reason,
                                 json::Value usage) {
  auto& a = d_.GetAllocator();
  d_.AddMember("id", json::str(id, a), a);
  d_.AddMember("object", "chat.completion", a);
  d_.AddMember("created", now_secs(), a);
  d_.AddMember("model", json::str(model, a), a);
  json::Value msg(rapidjson::kObjectType);
  msg.AddMember("role", "assistant", a);
  if (has_text_) msg.AddMember("content", json::str(text_, a), a);
  else msg.AddMember("content", json::Value(), a);
  msg.AddMember("refusal", json::Value(), a);
  if (!thinking_.Empty()) {
    msg.AddMember("reasoning_content", json::str(reasoning_, a), a);
    msg.AddMember("thinking_blocks", thinking_, a);
  }
  if (!tool_calls_.Empty()) msg.AddMember("tool_calls", tool_calls_, a);
  json::Value choice(rapidjson::kObjectType);
  choice.AddMember("index", 0, a);
  choice.AddMember("message", msg, a);
  choice.AddMember("finish_reason", json::Value(finish_reason, a), a);
  choice.AddMember("logprobs", json::Value(), a);
  json::Value choices(rapidjson::kArrayType);
  choices.PushBack(choice, a);
  d_.AddMember("choices", choices, a);
  if (!usage.IsNull()) d_.AddMember("usage", usage, a);
  return std::move(d_);
}

}  // namespace literllm::codec
