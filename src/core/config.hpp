// The client's configuration: llm_client_new's JSON or a TOML/JSON file.
#pragma once
#include <cstdint>
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
  // The provider's own settings given (names from its row's SettingSpec list).
  std::vector<std::pair<std::string, std::string>> settings;
};

// How much of an answer the library holds. Crossing one ends the call with
// LLM_ERR_LIMIT_EXCEEDED naming it (max_header_bytes: LLM_ERR_NETWORK, the
// server broke HTTP). The bounds of each are in config.cpp and the header.
struct Limits {
  uint64_t max_response_bytes = uint64_t{256} << 20;  // a non-streamed body, decoded
  uint64_t max_stream_bytes = uint64_t{64} << 20;     // what a stream keeps: text, arguments, logprobs, ...
  uint64_t max_event_bytes = uint64_t{16} << 20;      // one SSE line, or the data of one event
  uint64_t max_header_bytes = uint64_t{256} << 10;    // the response headers together
  uint32_t max_choices = 128;                         // choices one stream may open
  uint32_t max_tool_calls = 128;                      // tool calls per choice in one stream
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
  bool hosted_io = false;  // "io": "host": no I/O thread, the program runs the loop
  // "io_threads": the most event loops (each with its I/O thread) the client
  // spreads its calls over; 0: auto_io_threads(). A hosted client has one.
  int io_threads = 1;
  static constexpr int kMaxIoThreads = 64;  // its ceiling
  // "io_threads": 0: the processors the process may run on, at most 8.
  static int auto_io_threads();
  std::map<std::string, ProviderOverride> providers;  // key: normalize_provider_name
  http::Headers headers;
  Limits limits;

  // The override for a provider, looked up by its name and its aliases; nullptr if none.
  const ProviderOverride* override_for(std::string_view name, const std::vector<std::string>& aliases) const;
};

// Both throw Error(LLM_ERR_INVALID_ARGUMENT) naming the field (or the file and line).
// `error_line` (may be null) receives the line where a text that is not JSON stops being so.
Config parse_config_json(std::string_view text, size_t* error_line = nullptr);
Config parse_config_file(const std::string& path);

}  // namespace literllm
