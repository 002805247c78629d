// Internal to the local upstream: Cohere's v2 chat API (POST .../v2/chat).
// See README.md.
#pragma once
#include <cstdint>
#include <string_view>

#include "handler.hpp"

namespace literllm::testing::detail {

// Whether `path` (no query) is Cohere's v2 chat.
bool is_cohere_route(std::string_view path);
// A v2 chat request: the checks the real API makes, then the deterministic
// reply (JSON, or its event stream). `n` numbers the answer id.
Plan handle_cohere(const RecordedRequest& req, uint64_t n);

}  // namespace literllm::testing::detail
