// Providers as data. Every OpenAI-compatible host is a row of the built-in
// table (registry.cpp); providers registered at run time are rows too. Lookup
// order: the client's registrations, the global registrations, the built-ins.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "http/request.hpp"

namespace literllm {

// What a call asks of a provider. The names (endpoint_name) are the C API's
// (llm_call): "chat", "embeddings", "models", ...
enum class Endpoint {
  Chat,
  Embeddings,
  Models,
  Images,
  Speech,
  Transcription,
  Translation,
  Moderation,
  Rerank,
  Search,
  Ocr,
  FileCreate,
  FileRetrieve,
  FileList,
  FileDelete,
  FileContent,
  BatchCreate,
  BatchRetrieve,
  BatchList,
  BatchCancel,
  ResponseCreate,
  ResponseRetrieve,
  ResponseCancel,
  ResponseDelete,
};
inline constexpr int kEndpointCount = static_cast<int>(Endpoint::ResponseDelete) + 1;
const char* endpoint_name(Endpoint e);
// The endpoint of a name as endpoint_name gives it; false for none.
bool endpoint_from_name(std::string_view name, Endpoint& out);

// A set of endpoints, a bit each.
using EndpointSet = uint32_t;
constexpr EndpointSet endpoint_bit(Endpoint e) { return EndpointSet{1} << static_cast<int>(e); }
template <class... E>
constexpr EndpointSet endpoints(E... e) {
  return (endpoint_bit(e) | ...);
}
constexpr EndpointSet kAllEndpoints = (EndpointSet{1} << kEndpointCount) - 1;

// Which wire protocol the provider speaks (src/providers/<protocol>.cpp).
enum class Protocol { OpenAI, Anthropic, Gemini, VertexAI, Bedrock, Cohere, Brave, Tavily, Exa, PerplexitySearch };
// "openai", "anthropic", "gemini", "vertex_ai", "bedrock", "cohere", "brave", "tavily", "exa",
// "perplexity_search"
const char* protocol_name(Protocol p);

// A provider setting beyond api_key/base_url/headers (a Vertex project, an AWS
// region): set under providers.<name>.<setting> in the client config, else
// read from the first environment variable of `env` that is set, else
// `fallback`.
struct SettingSpec {
  std::string name;
  std::vector<std::string> env;
  std::string fallback;
  bool secret = false;  // redacted wherever it could show (an AWS secret key, a token)
};
using Settings = std::vector<std::pair<std::string, std::string>>;

// How the key is sent: "Authorization: Bearer", a header of the provider's
// own, not at all, or by a signature the protocol makes (Bedrock's SigV4,
// Vertex AI's OAuth tokens: see make_credential).
enum class AuthKind { Bearer, Header, None, Signed };

// How a host spells the token limit.
enum class TokensField { AsGiven, MaxTokens, MaxCompletionTokens };

// What a host does differently from api.openai.com, as data.
struct Quirks {
  bool stream_usage_option = true;   // send stream_options.include_usage when streaming
  TokensField tokens = TokensField::AsGiven;
  bool developer_as_system = false;  // the host knows no "developer" role
  // The host refuses "reasoning_content" on a request's messages (a 400 or 422
  // naming it), where others want it back (DeepSeek's thinking tool loops) or
  // let it pass: the codec drops it for such a host.
  bool refuses_reasoning_content = false;
  const char* seed_field = "seed";   // name of the sampling-seed field
  bool key_optional = false;         // local servers: no key needed
  // Serves other companies' models under their names ("openai/gpt-oss-120b",
  // "Qwen/Qwen2.5-72B-Instruct-Turbo"): as a client's model_hint, such a
  // provider keeps every model id (see Client::route).
  bool foreign_model_ids = false;
  // How the host spells rerank's result count and embeddings' size (Voyage:
  // top_k, output_dimension).
  const char* top_n_field = "top_n";
  const char* dimensions_field = "dimensions";
};

struct ProviderSpec {
  std::string name;                   // canonical, lower case
  std::vector<std::string> aliases;   // other names people type (matched case-insensitively)
  std::string base_url;               // may contain {ENV_VAR} placeholders
  Protocol protocol = Protocol::OpenAI;
  AuthKind auth = AuthKind::Bearer;
  std::string auth_header;            // for AuthKind::Header
  std::vector<std::string> api_key_env;  // first one set wins
  std::string base_url_env;           // optional environment override of base_url
  std::vector<std::string> prefixes;  // extra model prefixes beyond name and aliases
  // Aliases that are also the first part of the provider's own model ids
  // ("nvidia/llama-3.1-nemotron-70b-instruct" on NVIDIA NIM): they route here,
  // and stay in the model sent. Normalized.
  std::vector<std::string> kept_prefixes;
  Quirks quirks;
  // The chat path after base_url when it is not the protocol's own
  // ("/chat/completions" for OpenAI). May hold {model} and {setting} placeholders.
  std::string chat_path;
  // OpenAI-protocol rows: the endpoints the host serves (chat always; a
  // registered provider: every one the protocol has), and the paths that
  // differ from the protocol's own ("/embeddings", ...), placeholders as in
  // chat_path. Native protocols serve what their operations cover.
  EndpointSet endpoints = endpoint_bit(Endpoint::Chat);
  std::vector<std::pair<Endpoint, std::string>> paths;
  bool serves(Endpoint e) const { return (endpoints & endpoint_bit(e)) != 0; }
  // The row's path for `e`, or nullptr for the protocol's own.
  const std::string* path_for(Endpoint e) const {
    for (auto& [k, v] : paths)
      if (k == e) return &v;
    return nullptr;
  }
  std::vector<SettingSpec> settings;
  // A setting holding a bearer token sent instead of the key when no key is
  // given (Azure's Entra ID token). Empty: none.
  std::string bearer_setting;
  // Normalized name, aliases and prefixes (normalize_provider_name), computed
  // once by index_keys() so that routing compares without allocating.
  std::vector<std::string> match_keys;
  void index_keys();
  // Registered rows only:
  bool registered = false;
  std::string api_key;
  http::Headers headers;
};

using ProviderPtr = std::shared_ptr<const ProviderSpec>;

// The row's setting of that name, or nullptr.
const SettingSpec* find_setting(const ProviderSpec& p, std::string_view name);

// Lower-cases ASCII and maps '-' and ' ' to '_', so "Mistral-AI" finds "mistral_ai".
std::string normalize_provider_name(std::string_view s);

// A set of registered providers (one global, one per client).
class ProviderTable {
 public:
  void add(ProviderPtr p);              // replaces a row of the same name
  bool remove(std::string_view name);   // false when absent
  ProviderPtr find(std::string_view prefix) const;  // by name, alias or prefix
  std::vector<ProviderPtr> all() const;
  // Held by the thread that calls fork() while it forks (the global table's
  // fork handlers), so that a child never finds it held by a thread it lacks.
  void lock_for_fork() const { mu_.lock(); }
  void unlock_after_fork() const { mu_.unlock(); }

 private:
  mutable std::shared_mutex mu_;
  std::vector<ProviderPtr> rows_;
};

ProviderTable& global_providers();
const std::vector<ProviderPtr>& builtin_providers();
ProviderPtr find_builtin(std::string_view prefix);

// Parses llm_register_provider's JSON; throws Error(LLM_ERR_INVALID_ARGUMENT) naming the field.
ProviderPtr parse_provider_registration(std::string_view json_text);

// {"name","aliases","base_url","auth","api_key_env","prefixes","protocol","settings","registered"}
void provider_to_json(const ProviderSpec& p, json::Value& out, json::Allocator& a);

}  // namespace literllm
