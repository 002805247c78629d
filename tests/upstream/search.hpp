// Internal to the local upstream: web-search APIs, Brave Search (GET
// /res/v1/web/search), Tavily (POST /search), Exa (POST /exa/search) and
// Perplexity's Search API (POST /perplexity/search), with the checks each
// makes and deterministic results. See README.md.
//
// Exa's and Perplexity's own path is /search too, as Tavily's: here each sits
// under a prefix of its own (a test points the row's base_url at
// <root>/exa or <root>/perplexity), so that the route, and with it the
// answer to a wrong or missing key, depends on where a request goes, never on
// which credential header it happens to carry.
#pragma once
#include <string_view>

#include "handler.hpp"

namespace literllm::testing::detail {

enum class SearchRoute { none, brave, tavily, exa, perplexity };

// The search API `path` (no query) names (also under "/v1").
SearchRoute search_route(std::string_view path);
// A request on a search route. `require_key`: the key the server demands
// (empty: any non-empty key).
Plan handle_search(const RecordedRequest& req, SearchRoute route, const std::string& require_key);

}  // namespace literllm::testing::detail
