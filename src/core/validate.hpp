// Checks a chat-completions request (the OpenAI shape plus literllm's extensions)
// before anything is sent, so that a malformed field fails here, naming itself,
// rather than as a provider's 400 after a round trip.
#pragma once
#include "literllm.h"
#include "core/json.hpp"

namespace literllm {

// Validates `req`, the parsed request of llm_chat (streaming = false) or
// llm_chat_stream (streaming = true). Returns normally when the request is
// well formed; otherwise throws Error(LLM_ERR_INVALID_ARGUMENT) whose message
// starts with the offending field's path and says what is wrong, e.g.
//   request.messages[2].content[0].image_url.url: expected a string, got number
//   request.temperature: must be between 0 and 2, got 3.5
// A header in "extra_headers" that cannot be sent fails with
// LLM_ERR_INVALID_HEADER instead; its value never appears in the message.
//
// Fields the OpenAI schema does not name are allowed (at the top level, in
// messages and in content parts) and pass through; a content part's "type"
// must still be a known one. JSON Schema objects ("parameters", "schema") are
// opaque: only checked to be objects. Runs in time linear in the request,
// copies no string and allocates nothing unless it fails (or, for more than
// 128 tools, one array for the duplicate-name check).
void validate_chat_request(const json::Value& req, bool streaming);

}  // namespace literllm
