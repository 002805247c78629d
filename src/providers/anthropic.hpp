// Anthropic's Messages codec, shared by the anthropic provider and Anthropic
// models on Vertex AI (which take the same body without "model", with
// "anthropic_version" instead).
#pragma once
#include <memory>
#include <string_view>

#include "providers/adapter.hpp"

namespace literllm {

enum class AnthropicFlavor { Direct, Vertex };

// The Messages request body for a validated OpenAI-shaped request. Throws
// LLM_ERR_INVALID_ARGUMENT naming a field Anthropic cannot take.
json::Document anthropic_body(json::Document& req, const Target& t, bool stream, AnthropicFlavor flavor);
// A Messages answer as a chat.completion.
json::Document anthropic_response(std::string_view body, const Target& t);
// The decoder of a Messages event stream (chat.completion.chunk out).
std::unique_ptr<StreamDecoder> anthropic_stream(const Target& t, const Limits& limits);

}  // namespace literllm
