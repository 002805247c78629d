// Cohere's v2 chat codec (src/providers/cohere.cpp), its answer parser
// exposed for tests.
#pragma once
#include <string_view>

#include "providers/adapter.hpp"

namespace literllm {

// A v2 chat answer as a chat.completion: tool_plan and thinking become
// reasoning_content, citations become annotations of type "citation".
json::Document cohere_response(std::string_view body, const Target& t);

}  // namespace literllm
