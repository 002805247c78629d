// A finished chat: the normalized JSON plus the hot fields, extracted once.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/json.hpp"

namespace literllm {

struct CallStats {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  double latency_ms = 0;
  long http_status = 0;
  int retries = 0;
};

struct Response {
  std::string json;
  std::string provider;
  std::optional<std::string> text, finish_reason, refusal, tool_calls_json, model;
  int64_t prompt_tokens = -1, completion_tokens = -1, total_tokens = -1, cached_tokens = -1;
  CallStats stats;

  // Adds "provider" and "stats" to `doc` (a chat.completion) and extracts the fields.
  static std::unique_ptr<Response> from(json::Document& doc, const std::string& provider, const CallStats& stats);
};

}  // namespace literllm
