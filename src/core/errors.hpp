// From an HTTP error answer to a typed Error: the status picks the kind, the
// provider's own message refines it (context window, content policy).
#pragma once
#include <ctime>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/secrets.hpp"
#include "http/request.hpp"

namespace literllm {

// The provider's message from an error body in any of the usual shapes
// ({"error":{"message"}}, {"error":"..."}, {"message"}, {"detail"}, [{"error":{...}}]),
// or the body itself (trimmed, at most 500 bytes) when it is not JSON. The
// result is valid UTF-8 (ill-formed bytes become U+FFFD). `code` receives
// error.code (a number as text), else error.type; `type` receives error.type;
// each is left as it is when absent, and given as the body has it. Every
// secret is replaced by [REDACTED] before anything is clipped.
std::string error_body_message(std::string_view body, std::string* code = nullptr, const Secrets& secrets = {},
                               std::string* type = nullptr);

// The kind for an HTTP status and the provider's message/code. Status 0 (an
// error a provider put in a 200 answer or in a stream) is read from the code
// and message alone: rate limits, overload, context window, content policy;
// anything else is LLM_ERR_SERVER_ERROR.
llm_status status_for_http(long http_status, std::string_view message, std::string_view code);

// An error a provider put in a body that is not an HTTP error (a 200 answer,
// a stream event): "<what>: <its message>", its kind from its code or type
// and message (`otherwise` when they say nothing known), its code and type,
// and `http_status` (0 for an error inside a stream).
Error body_error(std::string_view what, std::string_view body, const Secrets& secrets, int http_status,
                 llm_status otherwise);
// The same, of a body the caller has parsed already (`parsed` is `body`'s JSON).
Error body_error(std::string_view what, const json::Value& parsed, std::string_view body, const Secrets& secrets,
                 int http_status, llm_status otherwise);

// Builds the Error for an HTTP error answer, with `provider` and the body's
// error.code and error.type (redacted, valid UTF-8, at most 100 bytes each;
// empty when absent). Every secret that appears in the provider's message
// (raw or escaped) is replaced by [REDACTED].
Error http_error(std::string_view provider, long http_status, std::string_view body,
                 const http::Headers& headers, const Secrets& secrets);

// Seconds to wait from retry-after-ms (milliseconds, a fraction allowed; it
// wins over Retry-After unless malformed) or Retry-After (delta-seconds or an
// HTTP-date: IMF-fixdate, RFC 850, asctime), or -1 when absent or malformed.
// A past date gives 0; at most 1e9. `now` is the current time.
double parse_retry_after(const http::Headers& headers, std::time_t now);
// The same at std::time(nullptr).
double parse_retry_after(const http::Headers& headers);

}  // namespace literllm
