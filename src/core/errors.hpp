// From an HTTP error answer to a typed Error: the status picks the kind, the
// provider's own message refines it (context window, content policy).
#pragma once
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "http/request.hpp"

namespace literllm {

// The provider's message from an error body in any of the usual shapes
// ({"error":{"message"}}, {"error":"..."}, {"message"}, {"detail"}, [{"error":{...}}]),
// or the body itself (trimmed, at most 500 bytes) when it is not JSON.
// `code` receives error.code / error.type when present. Every secret is
// replaced by [REDACTED] before anything is clipped.
std::string error_body_message(std::string_view body, std::string* code = nullptr, const Secrets& secrets = {});

// The kind for an HTTP status and the provider's message/code.
llm_status status_for_http(long http_status, std::string_view message, std::string_view code);

// Builds the Error for an HTTP error answer. Every secret that appears in the
// provider's message (raw or escaped) is replaced by [REDACTED].
Error http_error(std::string_view provider, long http_status, std::string_view body,
                 const http::Headers& headers, const Secrets& secrets);

// Seconds from a Retry-After header (delta-seconds or HTTP-date), or -1.
double parse_retry_after(const http::Headers& headers);

}  // namespace literllm
