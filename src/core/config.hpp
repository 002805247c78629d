// The client's configuration: llm_client_new's JSON or a TOML/JSON file.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace literllm {

struct ProviderOverride {
  std::optional<std::string> api_key;
  std::optional<std::string> base_url;
  http::Headers headers;
};

struct Config {
  std::optional<std::string> api_key;   // for the model_hint provider
  std::optional<std::string> base_url;  // for the model_hint provider
  std::string model_hint = "openai";
  bool model_hint_set = false;
  double timeout_secs = 600;
  double connect_timeout_secs = 10;
  double stream_idle_timeout_secs = 300;
  int max_retries = 2;
  std::map<std::string, ProviderOverride> providers;  // key: normalize_provider_name
  http::Headers headers;

  // The override for a provider, looked up by its name and its aliases; nullptr if none.
  const ProviderOverride* override_for(std::string_view name, const std::vector<std::string>& aliases) const;
};

// Both throw Error(LLM_ERR_INVALID_ARGUMENT) naming the field (or the file and line).
Config parse_config_json(std::string_view text);
Config parse_config_file(const std::string& path);

}  // namespace literllm
