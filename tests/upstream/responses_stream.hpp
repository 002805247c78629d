// Internal to the local upstream: the OpenAI Responses API streamed
// (POST /v1/responses with "stream": true). See README.md.
#pragma once
#include <string_view>

#include "handler.hpp"

namespace literllm::testing::detail {

// The event stream OpenAI sends for a finished response (`response_json`: the
// body the unstreamed call answers): response.created, response.in_progress,
// then per output item its added/delta/done events (text a word at a time,
// function-call arguments in three pieces), and response.completed (or
// response.incomplete when the response is). Each event is "event: TYPE" plus
// its JSON with "type" and "sequence_number". `fail`, when not empty, is an
// error code ("server_error", "rate_limit_exceeded", ...): the stream then ends
// after the first text delta with response.failed carrying it.
Plan responses_event_stream(std::string_view response_json, std::string_view fail);

}  // namespace literllm::testing::detail
