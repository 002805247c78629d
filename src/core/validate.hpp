// Checks a chat-completions request (the OpenAI shape plus literllm's extensions)
// before anything is sent, so that a malformed field fails here, naming itself,
// rather than as a provider's 400 after a round trip.
#pragma once
#include <string_view>

#include "literllm.h"
#include "core/json.hpp"

namespace literllm {

// Which checks apply. Structure holds for every provider: JSON types, required
// fields, shapes (a tagged union's "type" must be a known tag), roles, the
// relations between fields (tool_choice names a tool, top_logprobs needs
// logprobs, stream matches the call), literllm's own extensions, and bounds
// outside which a value means nothing:
//   temperature finite and >= 0; top_p in [0, 1]; penalties, logit_bias
//   values finite; n, max_tokens, max_completion_tokens >= 1; top_logprobs
//   >= 0; seed a 64-bit integer; stop at most 64 strings; tool, function and
//   json_schema names non-empty, without control characters.
// OpenAI adds api.openai.com's value limits: ranges (temperature 0..2,
// penalties -2..2, n 1..128, top_logprobs 0..20, logit_bias -100..100
// integers), counts (stop 1..4, functions 1..128, metadata 16 keys), lengths
// (metadata keys 64 and values 512 characters, safety_identifier 64), name
// patterns (^[a-zA-Z0-9_-]{1,64}$ for function and json_schema names) and
// the values of plain settings (reasoning_effort, service_tier, verbosity,
// prompt_cache_retention, prompt_cache_options, modalities, audio.format,
// image detail, input_audio format, grammar syntax, search_context_size,
// moderation mode, prompt_cache_breakpoint mode).
enum class RequestRules : unsigned char { Structure, OpenAI };

// True for the providers whose API enforces OpenAI's value limits, by
// canonical name: "openai" ("azure_openai" too, once it is a row).
bool applies_openai_value_limits(std::string_view provider_name);

inline RequestRules request_rules_for(std::string_view provider_name) {
  return applies_openai_value_limits(provider_name) ? RequestRules::OpenAI : RequestRules::Structure;
}

// Validates `req`, the parsed request of llm_chat (streaming = false) or
// llm_chat_stream (streaming = true), under `rules`. Returns normally when the
// request is well formed; otherwise throws Error(LLM_ERR_INVALID_ARGUMENT)
// whose message starts with the offending field's path and says what is
// wrong, e.g.
//   request.messages[2].content[0].image_url.url: expected a string, got number
//   request.temperature: must be between 0 and 2, got 3.5
// A header in "extra_headers" that cannot be sent fails with
// LLM_ERR_INVALID_HEADER instead; its value never appears in the message.
//
// Fields the OpenAI schema does not name are allowed (at the top level, in
// messages and in content parts) and pass through; a content part's "type"
// must still be a known one. "extra_body" may only add such fields: a member
// that names a field this validator knows (model, messages, stream,
// temperature, ..., extra_body, extra_headers, timeout_secs, fallbacks, retry)
// or one the request also sets at the top level is refused.
// JSON Schema objects ("parameters", "schema") are opaque: only checked to be
// objects. Runs in time linear in the request (n log n for many tools or
// large extra_body), copies no string and allocates nothing unless it fails
// (or, for more than 128 tools or a large extra_body beside many top-level
// fields, one array).
void validate_chat_request(const json::Value& req, bool streaming, RequestRules rules = RequestRules::OpenAI);

// The fields every llm_call request may carry beside its endpoint's own:
// "model" and "provider" (non-empty strings), "timeout_secs" (as chat's),
// "extra_headers" (as chat's: LLM_ERR_INVALID_HEADER for one that cannot be
// sent), "provider_options" and "extra_body" (objects); no name repeated.
void validate_call_common(const json::Value& req);

enum class Endpoint;
// Validates the request of llm_call for `e` (not chat: validate_chat_request)
// before anything is sent: validate_call_common, then the endpoint's own
// fields (required ones, JSON types, enumerated values, bounds) and its
// uploads ({"path": P} or {"data": I} with I < `blob_count`, optional
// "filename" and "content_type"). Throws Error(LLM_ERR_INVALID_ARGUMENT)
// whose message starts with the field's path. Fields it does not name pass
// through to the provider.
void validate_endpoint_request(Endpoint e, const json::Value& req, size_t blob_count);

}  // namespace literllm
