// Internal to the local upstream: Amazon Bedrock's Converse and ConverseStream
// (`POST /model/{modelId}/converse`, `/converse-stream`), with SigV4
// verification and the binary event stream; InvokeModel for embeddings;
// ListFoundationModels (`GET .../foundation-models`) and the Agent Runtime's
// Rerank (`POST /rerank`). See README.md.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "handler.hpp"

namespace literllm::testing::detail {

enum class BedrockRoute {
  none,
  converse,         // POST /model/{modelId}/converse
  converse_stream,  // POST /model/{modelId}/converse-stream
  invoke,           // POST /model/{modelId}/invoke (InvokeModel: the embedding models' own bodies)
  models,           // GET .../foundation-models (ListFoundationModels, the control plane's)
  rerank,           // POST /rerank, exactly (the Agent Runtime's Rerank)
};

// The route of `path` (no query); `model` gets the decoded model id.
BedrockRoute bedrock_route(std::string_view path, std::string* model = nullptr);

// An AWS JSON error: status, body {"message": ...}, header x-amzn-ErrorType
// "<type>:http://internal.amazon.com/coral/<namespace>/", x-amzn-RequestId.
Plan bedrock_error_plan(int status, std::string_view type, std::string_view message, std::string_view request_id);
// The error Bedrock answers with for an HTTP status (429 ThrottlingException, ...).
Plan bedrock_status_plan(int status, std::string_view request_id);

// Authentication on a Bedrock route: SigV4 when opts.aws_credentials has a key
// id, `Authorization: Bearer <key>` (Bedrock API keys) with require_api_key.
// nullopt: accepted; else the 403 to answer (signatures dated more than 5 minutes from now refused).
std::optional<Plan> bedrock_auth(const RecordedRequest& req, const UpstreamOptions& opts,
                                 std::string_view request_id);

// A request on a Bedrock route: checks as the real API, then the deterministic reply.
// (The handler lets only GET reach the models route and only POST the others.)
Plan handle_bedrock(const RecordedRequest& req, BedrockRoute route, const std::string& model,
                    const std::string& request_id);

}  // namespace literllm::testing::detail
