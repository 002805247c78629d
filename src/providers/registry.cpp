#include "providers/registry.hpp"

#include <pthread.h>

#include <algorithm>
#include <cctype>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "http/headers.hpp"
#include "http/url.hpp"
#include "providers/adapter.hpp"

namespace literllm {

namespace {

std::shared_ptr<ProviderSpec> row(std::string name, std::vector<std::string> aliases, std::string base_url,
                std::vector<std::string> key_env, Quirks q = {}, std::string base_url_env = {}) {
  auto p = std::make_shared<ProviderSpec>();
  p->name = std::move(name);
  p->aliases = std::move(aliases);
  p->base_url = std::move(base_url);
  p->api_key_env = std::move(key_env);
  p->quirks = q;
  p->base_url_env = std::move(base_url_env);
  p->index_keys();
  return p;
}

Quirks compat() {  // a typical hosted OpenAI-compatible API
  Quirks q;
  q.developer_as_system = true;
  q.tokens = TokensField::MaxTokens;
  return q;
}
Quirks hosts_others(Quirks q) {  // serves other companies' models as "org/model"
  q.foreign_model_ids = true;
  return q;
}
Quirks local() {  // a local server: no key, Hugging Face ids ("Qwen/Qwen2.5-7B-Instruct")
  Quirks q = hosts_others(compat());
  q.key_optional = true;
  return q;
}

// A provider that speaks its own protocol, with its credential header.
std::shared_ptr<ProviderSpec> native(std::string name, std::vector<std::string> aliases, std::string base_url,
                                     Protocol protocol, AuthKind auth, std::string auth_header,
                                     std::vector<std::string> key_env, std::string base_url_env,
                                     std::vector<SettingSpec> settings = {}) {
  auto p = row(std::move(name), std::move(aliases), std::move(base_url), std::move(key_env), Quirks{},
               std::move(base_url_env));
  p->protocol = protocol;
  p->auth = auth;
  p->auth_header = std::move(auth_header);
  p->settings = std::move(settings);
  return p;
}

std::vector<ProviderPtr> make_builtins() {
  Quirks openai;
  openai.tokens = TokensField::MaxCompletionTokens;  // o-series and gpt-5 reject max_tokens
  Quirks groq = hosts_others(compat());  // "openai/gpt-oss-120b", "meta-llama/..."
  groq.tokens = TokensField::AsGiven;  // accepts both spellings
  // 400: "'messages.1' : for 'role:assistant' the following must be satisfied[('messages.1' :
  // property 'reasoning_content' is unsupported)]".
  groq.refuses_reasoning_content = true;
  Quirks mistral = compat();
  mistral.stream_usage_option = false;  // rejects stream_options; sends usage unasked
  mistral.seed_field = "random_seed";
  mistral.refuses_reasoning_content = true;  // 422 extra_forbidden: "Extra inputs are not permitted"
  // 400 wrong_api_format: "messages.2.assistant.reasoning_content: property ... is unsupported".
  Quirks cerebras = compat();
  cerebras.refuses_reasoning_content = true;
  Quirks perplexity = compat();
  perplexity.stream_usage_option = false;
  Quirks ollama = local();

  // NVIDIA's own models are "nvidia/...": the alias stays in the model sent.
  auto nim = row("nvidia_nim", {"nvidia", "nim"}, "https://integrate.api.nvidia.com/v1",
                 {"NVIDIA_NIM_API_KEY", "NVIDIA_API_KEY"}, hosts_others(compat()));
  nim->kept_prefixes = {"nvidia"};

  // Cloudflare: the account (and the gateway) are part of the URL.
  auto cloudflare = row("cloudflare", {"cloudflare_workers_ai", "workers_ai", "cf"},
                        "https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1",
                        {"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY"}, hosts_others(compat()));
  cloudflare->settings = {{"account_id", {"CLOUDFLARE_ACCOUNT_ID"}, "", false}};
  // The gateway's OpenAI-compatible endpoint takes "<provider>/<model>" ids.
  auto ai_gateway = row("cloudflare_ai_gateway", {"ai_gateway"},
                        "https://gateway.ai.cloudflare.com/v1/{account_id}/{gateway_id}/compat",
                        {"CLOUDFLARE_AI_GATEWAY_API_KEY"}, hosts_others(compat()));
  ai_gateway->settings = {{"account_id", {"CLOUDFLARE_ACCOUNT_ID"}, "", false},
                          {"gateway_id", {"CLOUDFLARE_GATEWAY_ID"}, "", false}};

  // Azure OpenAI: the model names the deployment; api-key header.
  auto azure = row("azure_openai", {"azure", "azure_open_ai"}, "", {"AZURE_OPENAI_API_KEY", "AZURE_API_KEY"}, openai,
                   "AZURE_OPENAI_ENDPOINT");
  azure->auth = AuthKind::Header;
  azure->auth_header = "api-key";
  azure->chat_path = "/openai/deployments/{model}/chat/completions?api-version={api_version}";
  azure->settings = {{"api_version", {"AZURE_API_VERSION", "OPENAI_API_VERSION"}, "2024-10-21", false},
                     {"azure_ad_token", {"AZURE_OPENAI_AD_TOKEN", "AZURE_AD_TOKEN"}, "", true}};
  azure->bearer_setting = "azure_ad_token";
  // Microsoft Foundry (Azure AI model inference): any of its models, api-key header.
  auto foundry = row("microsoft_foundry", {"ms_foundry", "azure_foundry"}, "",
                     {"AZURE_AI_API_KEY", "MICROSOFT_FOUNDRY_API_KEY"}, hosts_others(compat()), "AZURE_AI_API_BASE");
  foundry->auth = AuthKind::Header;
  foundry->auth_header = "api-key";

  std::vector<std::shared_ptr<ProviderSpec>> v = {
      row("openai", {}, "https://api.openai.com/v1", {"OPENAI_API_KEY"}, openai, "OPENAI_BASE_URL"),
      row("openrouter", {"open_router"}, "https://openrouter.ai/api/v1", {"OPENROUTER_API_KEY"}, hosts_others(compat())),
      row("groq", {}, "https://api.groq.com/openai/v1", {"GROQ_API_KEY"}, groq),
      row("mistral", {"mistral_ai", "mistralai"}, "https://api.mistral.ai/v1", {"MISTRAL_API_KEY"}, mistral),
      row("deepseek", {"deep_seek"}, "https://api.deepseek.com/v1", {"DEEPSEEK_API_KEY"}, compat()),
      row("xai", {"x_ai", "grok"}, "https://api.x.ai/v1", {"XAI_API_KEY"}, compat()),
      row("together", {"together_ai", "togetherai"}, "https://api.together.xyz/v1",
          {"TOGETHER_API_KEY", "TOGETHERAI_API_KEY"}, hosts_others(compat())),
      row("fireworks", {"fireworks_ai", "fireworksai"}, "https://api.fireworks.ai/inference/v1",
          {"FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"}, hosts_others(compat())),
      row("cerebras", {}, "https://api.cerebras.ai/v1", {"CEREBRAS_API_KEY"}, cerebras),
      row("perplexity", {"perplexity_ai", "perplexityai", "pplx"}, "https://api.perplexity.ai",
          {"PERPLEXITY_API_KEY", "PERPLEXITYAI_API_KEY"}, perplexity),
      row("sambanova", {"samba_nova"}, "https://api.sambanova.ai/v1", {"SAMBANOVA_API_KEY"}, hosts_others(compat())),
      nim,
      row("nebius", {"nebius_ai"}, "https://api.studio.nebius.com/v1", {"NEBIUS_API_KEY"}, hosts_others(compat())),
      row("moonshot", {"moonshot_ai", "moonshotai", "kimi"}, "https://api.moonshot.ai/v1", {"MOONSHOT_API_KEY"},
          compat()),
      row("dashscope", {"dash_scope", "alibaba", "alibaba_cloud", "qwen", "aliyun"},
          "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", {"DASHSCOPE_API_KEY"}, compat()),
      cloudflare,
      ai_gateway,
      row("github", {"github_models", "gh"}, "https://models.github.ai/inference", {"GITHUB_TOKEN"}, hosts_others(compat())),
      foundry,
      // Gemini's OpenAI-compatible endpoint.
      row("gemini_enterprise", {"google_gemini_enterprise", "google_openai"},
          "https://generativelanguage.googleapis.com/v1beta/openai", {"GEMINI_API_KEY", "GOOGLE_API_KEY"}, compat()),
      row("ollama", {}, "http://localhost:11434/v1", {"OLLAMA_API_KEY"}, ollama, "OLLAMA_BASE_URL"),
      row("lm_studio", {"lmstudio"}, "http://localhost:1234/v1", {"LM_STUDIO_API_KEY"}, local(),
          "LM_STUDIO_BASE_URL"),
      row("vllm", {"hosted_vllm"}, "http://localhost:8000/v1", {"VLLM_API_KEY"}, local(), "VLLM_BASE_URL"),
      row("sglang", {}, "http://localhost:30000/v1", {"SGLANG_API_KEY"}, local(), "SGLANG_BASE_URL"),
      row("llama_cpp", {"llamacpp", "llama_cpp_python", "llama.cpp"}, "http://localhost:8080/v1",
          {"LLAMACPP_API_KEY", "LLAMA_CPP_API_KEY"}, local(), "LLAMACPP_BASE_URL"),
      // Native protocols.
      native("anthropic", {"claude"}, "https://api.anthropic.com", Protocol::Anthropic, AuthKind::Header, "x-api-key",
             {"ANTHROPIC_API_KEY"}, "ANTHROPIC_BASE_URL"),
      native("gemini", {"google"}, "https://generativelanguage.googleapis.com", Protocol::Gemini, AuthKind::Header,
             "x-goog-api-key", {"GEMINI_API_KEY", "GOOGLE_API_KEY"}, "GEMINI_BASE_URL"),
      native("vertex_ai", {"vertex"}, "https://{location}-aiplatform.googleapis.com", Protocol::VertexAI,
             AuthKind::Signed, "", {}, "VERTEXAI_BASE_URL",
             {{"project", {"VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT"}, "", false},
              {"location", {"VERTEXAI_LOCATION", "GOOGLE_CLOUD_LOCATION"}, "us-central1", false},
              {"credentials_file", {"GOOGLE_APPLICATION_CREDENTIALS"}, "", false},
              {"access_token", {"VERTEXAI_ACCESS_TOKEN"}, "", true}}),
      native("bedrock", {"amazon_bedrock", "aws_bedrock"}, "https://bedrock-runtime.{region}.amazonaws.com",
             Protocol::Bedrock, AuthKind::Signed, "", {"AWS_BEARER_TOKEN_BEDROCK"}, "BEDROCK_BASE_URL",
             {{"region", {"AWS_REGION", "AWS_DEFAULT_REGION"}, "", false},
              {"aws_access_key_id", {"AWS_ACCESS_KEY_ID"}, "", false},
              {"aws_secret_access_key", {"AWS_SECRET_ACCESS_KEY"}, "", true},
              {"aws_session_token", {"AWS_SESSION_TOKEN"}, "", true}}),
      azure,
      native("cohere", {"co"}, "https://api.cohere.com", Protocol::Cohere, AuthKind::Bearer, "",
             {"COHERE_API_KEY", "CO_API_KEY"}, "COHERE_BASE_URL"),
      // Web search.
      native("brave", {"brave_search"}, "https://api.search.brave.com", Protocol::Brave, AuthKind::Header,
             "X-Subscription-Token", {"BRAVE_API_KEY", "BRAVE_SEARCH_API_KEY"}, "BRAVE_BASE_URL"),
      native("tavily", {}, "https://api.tavily.com", Protocol::Tavily, AuthKind::Bearer, "", {"TAVILY_API_KEY"},
             "TAVILY_BASE_URL"),
      native("exa", {"exa_ai"}, "https://api.exa.ai", Protocol::Exa, AuthKind::Header, "x-api-key", {"EXA_API_KEY"},
             "EXA_BASE_URL"),
      // Perplexity's Search API, beside the "perplexity" row (its chat): the same key.
      native("perplexity_search", {"pplx_search"}, "https://api.perplexity.ai", Protocol::PerplexitySearch,
             AuthKind::Bearer, "", {"PERPLEXITY_API_KEY", "PERPLEXITYAI_API_KEY"}, "PERPLEXITY_SEARCH_BASE_URL"),
  };
  // Embeddings and rerank hosts: OpenAI's embeddings shape, Cohere-like rerank.
  Quirks voyage_q = compat();
  voyage_q.top_n_field = "top_k";
  voyage_q.dimensions_field = "output_dimension";
  // They have no chat: a chat to them is LLM_ERR_ENDPOINT_NOT_SUPPORTED.
  for (auto r : {row("jina", {"jina_ai", "jinaai"}, "https://api.jina.ai/v1", {"JINA_API_KEY", "JINA_AI_API_KEY"},
                     compat()),
                 row("voyage", {"voyage_ai", "voyageai"}, "https://api.voyageai.com/v1", {"VOYAGE_API_KEY"}, voyage_q)}) {
    r->endpoints = endpoints(Endpoint::Embeddings, Endpoint::Rerank);
    v.push_back(r);
  }

  // What each OpenAI-compatible host serves beyond chat, from its API reference.
  using E = Endpoint;
  const EndpointSet audio = endpoints(E::Speech, E::Transcription, E::Translation);
  const EndpointSet files = endpoints(E::FileCreate, E::FileRetrieve, E::FileList, E::FileDelete, E::FileContent);
  const EndpointSet batches = endpoints(E::BatchCreate, E::BatchRetrieve, E::BatchList, E::BatchCancel);
  const EndpointSet responses =
      endpoints(E::ResponseCreate, E::ResponseRetrieve, E::ResponseCancel, E::ResponseDelete);
  const EndpointSet embed_list = endpoints(E::Embeddings, E::Models);
  const std::pair<const char*, EndpointSet> served[] = {
      {"openai", embed_list | endpoints(E::Images, E::Moderation) | audio | files | batches | responses},
      {"azure_openai", endpoints(E::Embeddings, E::Images) | audio | files | batches | responses},
      {"openrouter", endpoints(E::Models, E::Embeddings)},
      {"groq", endpoints(E::Models) | audio | files | batches},
      {"mistral", embed_list | endpoints(E::Moderation, E::Ocr) | files},
      {"deepseek", endpoints(E::Models)},
      {"xai", endpoints(E::Models, E::Images) | responses},
      {"together", embed_list | endpoints(E::Images, E::Speech, E::Transcription, E::Rerank) | files | batches},
      {"fireworks", embed_list},
      {"cerebras", endpoints(E::Models)},
      {"sambanova", endpoints(E::Models)},
      {"nvidia_nim", embed_list},
      {"nebius", embed_list | endpoints(E::Images)},
      {"moonshot", endpoints(E::Models) | files},
      {"dashscope", embed_list},
      {"cloudflare", endpoints(E::Embeddings)},
      {"github", endpoints(E::Embeddings)},
      {"microsoft_foundry", endpoints(E::Embeddings)},
      {"gemini_enterprise", embed_list | endpoints(E::Images)},
      {"ollama", embed_list},
      {"lm_studio", embed_list},
      {"vllm", embed_list | endpoints(E::Transcription, E::Rerank)},
      {"sglang", embed_list},
      {"llama_cpp", embed_list | endpoints(E::Rerank)},
  };
  for (auto& r : v)
    for (auto& [name, set] : served)
      if (r->name == name) r->endpoints |= set;
  // Azure OpenAI: a deployment's endpoints under its path; files, batches and
  // responses at the resource's root; the api-version on every one.
  const std::pair<Endpoint, const char*> azure_paths[] = {
      {E::Embeddings, "/openai/deployments/{model}/embeddings?api-version={api_version}"},
      {E::Images, "/openai/deployments/{model}/images/generations?api-version={api_version}"},
      {E::Speech, "/openai/deployments/{model}/audio/speech?api-version={api_version}"},
      {E::Transcription, "/openai/deployments/{model}/audio/transcriptions?api-version={api_version}"},
      {E::Translation, "/openai/deployments/{model}/audio/translations?api-version={api_version}"},
      {E::FileCreate, "/openai/files?api-version={api_version}"},
      {E::FileList, "/openai/files?api-version={api_version}"},
      {E::FileRetrieve, "/openai/files/{file_id}?api-version={api_version}"},
      {E::FileDelete, "/openai/files/{file_id}?api-version={api_version}"},
      {E::FileContent, "/openai/files/{file_id}/content?api-version={api_version}"},
      {E::BatchCreate, "/openai/batches?api-version={api_version}"},
      {E::BatchList, "/openai/batches?api-version={api_version}"},
      {E::BatchRetrieve, "/openai/batches/{batch_id}?api-version={api_version}"},
      {E::BatchCancel, "/openai/batches/{batch_id}/cancel?api-version={api_version}"},
      {E::ResponseCreate, "/openai/responses?api-version={api_version}"},
      {E::ResponseRetrieve, "/openai/responses/{response_id}?api-version={api_version}"},
      {E::ResponseCancel, "/openai/responses/{response_id}/cancel?api-version={api_version}"},
      {E::ResponseDelete, "/openai/responses/{response_id}?api-version={api_version}"},
  };
  for (auto& [e, path] : azure_paths) azure->paths.emplace_back(e, path);
  return std::vector<ProviderPtr>(v.begin(), v.end());
}

bool matches(const ProviderSpec& p, const std::string& key) {
  return std::find(p.match_keys.begin(), p.match_keys.end(), key) != p.match_keys.end();
}

const json::Value* member(const json::Value& o, const char* k) { return json::find(o, k); }

std::string req_string(const json::Value& o, const char* field) {
  const json::Value* v = member(o, field);
  if (!v) invalid(std::string("provider.") + field + ": required");
  if (!v->IsString()) invalid(std::string("provider.") + field + ": expected a string, got " + json::type_name(*v));
  if (v->GetStringLength() == 0) invalid(std::string("provider.") + field + ": must not be empty");
  return std::string(json::sv(*v));
}

}  // namespace

void ProviderSpec::index_keys() {
  match_keys.clear();
  match_keys.push_back(normalize_provider_name(name));
  for (auto& a : aliases) match_keys.push_back(normalize_provider_name(a));
  for (auto& a : prefixes) match_keys.push_back(normalize_provider_name(a));
}

const SettingSpec* find_setting(const ProviderSpec& p, std::string_view name) {
  for (auto& s : p.settings)
    if (s.name == name) return &s;
  return nullptr;
}

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::OpenAI: return "openai";
    case Protocol::Anthropic: return "anthropic";
    case Protocol::Gemini: return "gemini";
    case Protocol::VertexAI: return "vertex_ai";
    case Protocol::Bedrock: return "bedrock";
    case Protocol::Cohere: return "cohere";
    case Protocol::Brave: return "brave";
    case Protocol::Tavily: return "tavily";
    case Protocol::Exa: return "exa";
    case Protocol::PerplexitySearch: return "perplexity_search";
  }
  return "openai";
}

std::string normalize_provider_name(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    else if (c == '-' || c == ' ') c = '_';
  }
  return out;
}

void ProviderTable::add(ProviderPtr p) {
  std::unique_lock lk(mu_);
  std::string key = normalize_provider_name(p->name);
  if (p->match_keys.empty()) {  // a row built by hand: index a copy
    auto indexed = std::make_shared<ProviderSpec>(*p);
    indexed->index_keys();
    p = std::move(indexed);
  }
  std::erase_if(rows_, [&](const ProviderPtr& r) { return r->match_keys.front() == key; });
  rows_.insert(rows_.begin(), std::move(p));
}

bool ProviderTable::remove(std::string_view name) {
  std::unique_lock lk(mu_);
  std::string key = normalize_provider_name(name);
  return std::erase_if(rows_, [&](const ProviderPtr& r) { return r->match_keys.front() == key; }) > 0;
}

ProviderPtr ProviderTable::find(std::string_view prefix) const {
  std::string key = normalize_provider_name(prefix);
  std::shared_lock lk(mu_);
  for (auto& r : rows_)
    if (matches(*r, key)) return r;
  return nullptr;
}

std::vector<ProviderPtr> ProviderTable::all() const {
  std::shared_lock lk(mu_);
  return rows_;
}

// Both leaked on purpose: an I/O thread may still route or list providers
// while the process exits, after static destructors have run.
ProviderTable& global_providers() {
  static ProviderTable* t = [] {
    auto* table = new ProviderTable;
    pthread_atfork([] { global_providers().lock_for_fork(); }, [] { global_providers().unlock_after_fork(); },
                   [] { global_providers().unlock_after_fork(); });
    return table;
  }();
  return *t;
}

const std::vector<ProviderPtr>& builtin_providers() {
  static const std::vector<ProviderPtr>* v = new std::vector<ProviderPtr>(make_builtins());
  return *v;
}

ProviderPtr find_builtin(std::string_view prefix) {
  std::string key = normalize_provider_name(prefix);
  for (auto& r : builtin_providers())
    if (matches(*r, key)) return r;
  return nullptr;
}

ProviderPtr parse_provider_registration(std::string_view text) {
  json::Document d = json::parse(text, "provider", LLM_ERR_INVALID_ARGUMENT);
  if (!d.IsObject()) invalid(std::string("provider: expected a JSON object, got ") + json::type_name(d));
  if (auto dup = json::find_duplicate_key(d)) invalid("provider" + *dup + ": appears more than once");
  auto p = std::make_shared<ProviderSpec>();
  p->registered = true;
  p->endpoints = kAllEndpoints;  // whatever the host serves: it answers for the rest
  p->quirks.stream_usage_option = true;
  for (auto& m : d.GetObject()) {
    std::string_view k = json::sv(m.name);
    if (k != "name" && k != "base_url" && k != "prefixes" && k != "auth" && k != "api_key" &&
        k != "api_key_env" && k != "headers" && k != "aliases")
      invalid("provider." + std::string(k) + ": unknown field");
  }
  p->name = req_string(d, "name");
  if (p->name.find('/') != std::string::npos) invalid("provider.name: must not contain '/' (it is a model prefix)");
  p->base_url = req_string(d, "base_url");
  if (std::string why = http::url_problem(p->base_url); !why.empty()) invalid("provider.base_url: " + why);
  while (!p->base_url.empty() && p->base_url.back() == '/') p->base_url.pop_back();
  const json::Value* pre = member(d, "prefixes");
  if (!pre) invalid("provider.prefixes: required (at least one model prefix)");
  if (!pre->IsArray()) invalid(std::string("provider.prefixes: expected an array, got ") + json::type_name(*pre));
  if (pre->Empty()) invalid("provider.prefixes: must name at least one prefix");
  for (rapidjson::SizeType i = 0; i < pre->Size(); ++i) {
    const auto& e = (*pre)[i];
    std::string path = "provider.prefixes[" + std::to_string(i) + "]";
    if (!e.IsString()) invalid(path + ": expected a string, got " + json::type_name(e));
    if (e.GetStringLength() == 0) invalid(path + ": must not be empty");
    if (std::string_view(json::sv(e)).find('/') != std::string_view::npos) invalid(path + ": must not contain '/'");
    p->prefixes.emplace_back(json::sv(e));
  }
  if (const json::Value* al = member(d, "aliases")) {
    if (!al->IsArray()) invalid("provider.aliases: expected an array of strings");
    for (auto& e : al->GetArray()) {
      if (!e.IsString() || e.GetStringLength() == 0) invalid("provider.aliases: expected non-empty strings");
      if (json::sv(e).find('/') != std::string_view::npos) invalid("provider.aliases: must not contain '/'");
      p->aliases.emplace_back(json::sv(e));
    }
  }
  if (const json::Value* auth = member(d, "auth")) {
    if (auth->IsString()) {
      std::string_view a = json::sv(*auth);
      if (a == "bearer") p->auth = AuthKind::Bearer;
      else if (a == "none") p->auth = AuthKind::None;
      else invalid("provider.auth: expected \"bearer\", \"none\" or {\"header\": name}, got \"" + std::string(a) + "\"");
    } else if (auth->IsObject()) {
      const json::Value* h = member(*auth, "header");
      if (!h || !h->IsString() || h->GetStringLength() == 0)
        invalid("provider.auth.header: expected a non-empty header name");
      if (std::string why = http::header_problem(json::sv(*h), ""); !why.empty())
        throw Error(LLM_ERR_INVALID_HEADER, "provider.auth.header: " + why);
      p->auth = AuthKind::Header;
      p->auth_header = std::string(json::sv(*h));
    } else {
      invalid(std::string("provider.auth: expected a string or an object, got ") + json::type_name(*auth));
    }
  }
  if (const json::Value* k = member(d, "api_key")) {
    if (!k->IsString()) invalid("provider.api_key: expected a string");
    p->api_key = std::string(json::sv(*k));
    if (!http::is_valid_value(p->api_key))
      invalid("provider.api_key: contains a control character (CR, LF, NUL and the like cannot be sent in a header)");
  }
  if (const json::Value* k = member(d, "api_key_env")) {
    if (!k->IsString() || k->GetStringLength() == 0) invalid("provider.api_key_env: expected a non-empty string");
    p->api_key_env.emplace_back(json::sv(*k));
  }
  if (const json::Value* h = member(d, "headers")) {
    if (!h->IsObject()) invalid("provider.headers: expected an object");
    for (auto& m : h->GetObject()) {
      std::string path = "provider.headers." + http::printable(json::sv(m.name));
      if (!m.value.IsString()) throw Error(LLM_ERR_INVALID_HEADER, path + ": expected a string");
      if (std::string why = http::header_problem(json::sv(m.name), json::sv(m.value)); !why.empty())
        throw Error(LLM_ERR_INVALID_HEADER, path + ": " + why);
      p->headers.emplace_back(std::string(json::sv(m.name)), std::string(json::sv(m.value)));
    }
  }
  // A registered host is assumed to be a plain OpenAI-compatible server.
  p->quirks.key_optional = p->auth == AuthKind::None;
  p->index_keys();
  return p;
}

void provider_to_json(const ProviderSpec& p, json::Value& out, json::Allocator& a) {
  out.SetObject();
  out.AddMember("name", json::str(p.name, a), a);
  json::Value aliases(rapidjson::kArrayType);
  for (auto& s : p.aliases) aliases.PushBack(json::str(s, a), a);
  out.AddMember("aliases", aliases, a);
  out.AddMember("base_url", json::str(redact_url(p.base_url), a), a);
  std::string auth = p.auth == AuthKind::Bearer   ? "bearer"
                     : p.auth == AuthKind::None   ? "none"
                     : p.auth == AuthKind::Signed ? "signed"
                                                  : "header:" + p.auth_header;
  out.AddMember("auth", json::str(auth, a), a);
  if (p.api_key_env.empty()) out.AddMember("api_key_env", json::Value(), a);
  else out.AddMember("api_key_env", json::str(p.api_key_env.front(), a), a);
  json::Value prefixes(rapidjson::kArrayType);
  prefixes.PushBack(json::str(p.name, a), a);
  for (auto& s : p.aliases) prefixes.PushBack(json::str(s, a), a);
  for (auto& s : p.prefixes) prefixes.PushBack(json::str(s, a), a);
  out.AddMember("prefixes", prefixes, a);
  out.AddMember("protocol", json::str(protocol_name(p.protocol), a), a);
  json::Value settings(rapidjson::kArrayType);
  for (auto& st : p.settings) settings.PushBack(json::str(st.name, a), a);
  out.AddMember("settings", settings, a);
  out.AddMember("registered", p.registered, a);
  json::Value eps(rapidjson::kArrayType);
  for (int i = 0; i < kEndpointCount; ++i) {
    const auto e = static_cast<Endpoint>(i);
    if (operation_for(p.protocol, e) && (p.protocol != Protocol::OpenAI || p.serves(e)))
      eps.PushBack(rapidjson::StringRef(endpoint_name(e)), a);
  }
  out.AddMember("endpoints", eps, a);
}

}  // namespace literllm
