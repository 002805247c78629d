// A finished chat: the normalized JSON plus the hot fields, extracted once.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
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
  std::string provider;
  std::optional<std::string> text, finish_reason, refusal, tool_calls_json, model;
  int64_t prompt_tokens = -1, completion_tokens = -1, total_tokens = -1, cached_tokens = -1;
  CallStats stats;

  // The whole response as JSON text (a chat.completion with "provider" and
  // "stats"), serialized on first use: most callers only read the hot fields.
  // Safe to call from several threads at once.
  const std::string& json() const;

  // The response as a document (what json() serializes).
  const json::Document& doc() const { return body_->doc; }

  // Adds "provider" and "stats" to `doc` (a chat.completion), extracts the
  // fields, and keeps the document (taken from `doc`, left empty).
  static std::unique_ptr<Response> from(json::Document&& doc, const std::string& provider, const CallStats& stats);

 private:
  // Never changed once made except for `text`, written once under `dumped`;
  // copies of a Response share it, text included.
  struct Body {
    json::Document doc;
    std::once_flag dumped;
    std::string text;
  };
  std::shared_ptr<Body> body_;
};

}  // namespace literllm
