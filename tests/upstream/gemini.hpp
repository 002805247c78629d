// Internal to the local upstream: Google's Gemini generateContent, on the
// Gemini API (`/v1beta/models/{model}:generateContent`) and on Vertex AI
// (`/v1/projects/{p}/locations/{l}/publishers/google/models/{model}:...`). See README.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "handler.hpp"

namespace literllm::testing::detail {

enum class GeminiRoute {
  none,
  generate,         // POST .../models/{model}:generateContent
  stream,           // POST .../models/{model}:streamGenerateContent (?alt=sse: SSE, else a JSON array)
  vertex_generate,  // POST .../projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent
  vertex_stream,    // ... :streamGenerateContent
  embed,            // POST .../models/{model}:batchEmbedContents
  vertex_predict,   // POST .../projects/{p}/locations/{l}/publishers/google/models/{model}:predict (embeddings)
  models,           // GET .../v1beta/models (the model list; ?pageSize, ?pageToken)
  vertex_models,    // GET .../v1beta1/publishers/{publisher}/models (Vertex AI's Model Garden list)
};

// The route of `path` (no query); `model` gets the path's model (vertex_models: the publisher).
GeminiRoute gemini_route(std::string_view path, std::string* model = nullptr);

// Google's error shape: {"error":{"code":C,"message":...,"status":"INVALID_ARGUMENT"}}.
Plan gemini_error_plan(int status, std::string_view message, std::string_view status_name = {});
// The error Google answers with for an injected HTTP status.
Plan gemini_status_plan(int status, GeminiRoute route);

// --require-key on a Gemini route: `x-goog-api-key` (or `?key=`) on the Gemini API,
// `Authorization: Bearer` on Vertex. nullopt: accepted.
std::optional<Plan> gemini_auth(const RecordedRequest& req, GeminiRoute route, const UpstreamOptions& opts);

// A request on a Gemini route: checks as the real API, then the deterministic reply.
// `n` numbers the response id.
Plan handle_gemini(const RecordedRequest& req, GeminiRoute route, const std::string& model, uint64_t n);

// The deterministic thoughtSignature of a functionCall part (by its name) or of a
// text part (by its text), exposed for tests.
std::string gemini_call_signature(std::string_view function_name);
std::string gemini_text_signature(std::string_view text);

}  // namespace literllm::testing::detail
