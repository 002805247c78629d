// Internal to the local upstream: Anthropic's Messages API (direct
// `/v1/messages` and Anthropic-on-Vertex `:rawPredict`/`:streamRawPredict`),
// and the few helpers of handler.cpp it shares. See README.md.
#pragma once
#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "handler.hpp"

namespace literllm::testing::detail {

// Helpers defined in handler.cpp, shared with anthropic.cpp.
namespace shared {
bool header_number(const RecordedRequest& req, std::string_view name, long& out);
bool header_true(const RecordedRequest& req, std::string_view name);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::string query_param(const RecordedRequest& req, std::string_view name);  // its value undecoded, or ""
size_t count_words(std::string_view s);
std::string first_words(std::string_view s, size_t n);         // the first n words (text up to the n-th word's end)
std::vector<std::string> two_word_pieces(std::string_view s);  // concatenation == s
std::vector<std::string> three_pieces(std::string_view s);     // concatenation == s
std::string object_sample(const rapidjson::Value* schema, bool recurse);
std::string schema_sample(const rapidjson::Value& schema);
Plan json_plan(int status, std::string body);
Plan sse_plan();
// x-upstream-after-done on a stream (its `data` kind makes OpenAI chunks: replace Plan::after for others).
void after_done(const RecordedRequest& req, Plan& p);
}  // namespace shared

// Which Anthropic endpoint a path names.
enum class AnthropicRoute {
  none,
  messages,       // POST .../v1/messages
  count_tokens,   // POST .../v1/messages/count_tokens
  vertex_raw,     // POST .../publishers/anthropic/models/{model}:rawPredict
  vertex_stream,  // POST .../publishers/anthropic/models/{model}:streamRawPredict
};

// The route of `path` (no query); `model` gets the Vertex path's model.
AnthropicRoute anthropic_route(std::string_view path, std::string* model = nullptr);

// {"type":"error","error":{"type":<type>,"message":<message>},"request_id":<request_id>}
std::string anthropic_error_body(std::string_view type, std::string_view message, std::string_view request_id);
// The error type Anthropic uses for an HTTP status (400 invalid_request_error, 529 overloaded_error, ...).
const char* anthropic_error_type(int status);
// An Anthropic error answer for `status` (message: the default one for it when empty).
Plan anthropic_error_plan(int status, std::string_view request_id, std::string_view message = {},
                          std::string_view type = {});
// The 401 of --require-key on an Anthropic route (Vertex: Google's error shape, as its front end answers).
Plan anthropic_auth_error(AnthropicRoute route, bool key_given, std::string_view request_id);

// A request on an Anthropic route: checks as the real API, then the deterministic reply.
// `n` numbers the message id.
Plan handle_anthropic(const RecordedRequest& req, AnthropicRoute route, const std::string& path_model,
                      const std::string& request_id, uint64_t n);

// GET /v1/models with an `anthropic-version` header: Anthropic's list shape.
std::string anthropic_models_body();

// The deterministic thinking signature (base64), exposed for tests.
std::string thinking_signature(std::string_view thinking);

}  // namespace literllm::testing::detail
