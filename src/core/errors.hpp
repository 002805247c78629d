// From an HTTP error answer to a typed Error: the status picks the kind, the
// provider's own message refines it (context window, content policy).
#pragma once
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/request.hpp"

namespace literllm {

// The provider's message from an error body in any of the usual shapes
// ({"error":{"message"}}, {"error":"..."}, {"message"}, {"detail"}, [{"error":{...}}]),
// or the body itself (trimmed, at most 500 bytes) when it is not JSON.
// `code` receives error.code / error.type when present. `secret`, if it appears,
// is replaced by [REDACTED] before anything is clipped.
std::string error_body_message(std::string_view body, std::string* code = nullptr, std::string_view secret = {});

// The kind for an HTTP status and the provider's message/code.
llm_status status_for_http(long http_status, std::string_view message, std::string_view code);

// Builds the Error for an HTTP error answer. `secret` (the API key), if it
// appears in the provider's message, is replaced by [REDACTED].
Error http_error(std::string_view provider, long http_status, std::string_view body,
                 const http::Headers& headers, std::string_view secret);

// Seconds from a Retry-After header (delta-seconds or HTTP-date), or -1.
double parse_retry_after(const http::Headers& headers);

// Replaces every occurrence of `secret` (when non-empty) by [REDACTED].
std::string redact(std::string s, std::string_view secret);

}  // namespace literllm
