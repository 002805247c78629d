// What the native protocols' endpoints beyond chat share (gemini_endpoints.cpp,
// vertex.cpp, bedrock_endpoints.cpp, cohere_endpoints.cpp,
// anthropic_endpoints.cpp): reading an OpenAI embeddings request, and writing
// the OpenAI shapes the answers are normalized to (embedding list, model list).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "providers/adapter.hpp"

namespace literllm::native {

// request.input as texts: a string is one, an array of strings is each.
// Token ids (which only OpenAI's models read) throw LLM_ERR_INVALID_ARGUMENT
// naming request.input and `provider`.
std::vector<std::string_view> input_texts(const json::Value& req, const std::string& provider);

// obj[key] as an integer (a whole number written as a float too), or `fallback` when absent.
int64_t int_or(const json::Value& req, const char* key, int64_t fallback);

// OpenAI's embedding list: {"object":"list","data":[{"object":"embedding",
// "index":i,"embedding":[...]}],"model","usage":{"prompt_tokens","total_tokens"}}.
class EmbeddingList {
 public:
  explicit EmbeddingList(std::string_view model);
  json::Allocator& allocator() { return d_.GetAllocator(); }
  // Appends the next vector: a copy of `values` (numbers; anything else
  // throws LLM_ERR_SERIALIZATION naming `what`).
  void add(const json::Value& values, const std::string& what);
  size_t size() const { return data_.Size(); }
  // The list; `prompt_tokens` is 0 when the provider does not count them.
  json::Document build(int64_t prompt_tokens);

 private:
  json::Document d_;
  json::Value data_;
  std::string model_;
};

// An OpenAI model-list item {"id","object":"model","created","owned_by"}
// followed by the members of `extra` (copied) the item lacks.
json::Value model_item(std::string_view id, int64_t created, std::string_view owned_by, const json::Value* extra,
                       json::Allocator& a);

// A page of `src["models"]` (items with a "name") as OpenAI's model list,
// ids from `id_of(name)`, plus "has_more" and "next_page_token" from
// src[`next_key`].
json::Document model_page(const json::Value& src, std::string_view owned_by, const char* next_key,
                          std::string_view (*id_of)(std::string_view name));
// The same for a list under another key (Vertex AI's "publisherModels").
json::Document model_page(const json::Value& src, const char* list_key, std::string_view owned_by,
                          const char* next_key, std::string_view (*id_of)(std::string_view name));

// A GET of `url` plus the query `params` (name, value; empty values left out),
// with the `extra` headers, then the target's own.
http::Request get_json(const Target& t, std::string url, const std::vector<std::pair<std::string, std::string>>& params,
                       std::initializer_list<std::pair<const char*, const char*>> extra = {});

// A rerank answer's `results` (items with an integer "index" and a number
// under `score_key`) as OpenAI-style results [{"index", "relevance_score",
// "document"?}], most relevant first. "document" is {"text"} of the request's
// own document when the request asked return_documents (its "documents":
// strings or {"text"}), else `answer_document(item's "document")` when the item
// has an object there. Throws LLM_ERR_SERIALIZATION naming `what`.
json::Value rerank_results(const json::Value& results, const char* score_key, const json::Value& request,
                           const std::string& what, json::Document::AllocatorType& a,
                           json::Value (*answer_document)(const json::Value& doc, json::Document::AllocatorType& a));

// The text of request member `key` when a string, or of an integer ("" when absent).
std::string text_of(const json::Value& req, const char* key);

// Parses a 2xx JSON object answer; throws LLM_ERR_SERIALIZATION naming `what`.
json::Document parse_object(std::string_view body, const std::string& what);

// Seconds since the epoch of an RFC 3339 time ("2025-02-19T00:00:00Z"); 0 when unreadable.
int64_t rfc3339_secs(std::string_view s);

}  // namespace literllm::native

namespace literllm {
// The native protocols' operations beyond chat (nullptr for an endpoint the
// protocol does not serve here).
const Operation* gemini_endpoint_operation(Endpoint e);     // gemini_endpoints.cpp
const Operation* bedrock_endpoint_operation(Endpoint e);    // bedrock_endpoints.cpp
const Operation* cohere_endpoint_operation(Endpoint e);     // cohere_endpoints.cpp
const Operation* anthropic_endpoint_operation(Endpoint e);  // anthropic_endpoints.cpp

// The base URL of Bedrock's API `service` ("bedrock": the control plane,
// "bedrock-agent-runtime": Rerank) beside the target's runtime base URL: AWS's
// runtime host (bedrock-runtime[-fips].{region}.amazonaws.com[.cn]) with its
// first label changed; any other base URL (a proxy, a test server) as it is.
std::string bedrock_sibling_base(const Target& t, std::string_view service);  // bedrock_endpoints.cpp
}  // namespace literllm
