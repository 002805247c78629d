// Internal to the local upstream: web-search APIs, Brave Search (GET
// /res/v1/web/search) and Tavily (POST /search), with the checks each makes
// and deterministic results. See README.md.
#pragma once
#include <string_view>

#include "handler.hpp"

namespace literllm::testing::detail {

enum class SearchRoute { none, brave, tavily };

// The search API `path` (no query) names.
SearchRoute search_route(std::string_view path);
// A request on a search route. `require_key`: the key the server demands
// (empty: any non-empty key).
Plan handle_search(const RecordedRequest& req, SearchRoute route, const std::string& require_key);

}  // namespace literllm::testing::detail
