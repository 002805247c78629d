// The native protocols' endpoints beyond chat (embeddings, models, rerank)
// end to end through llm_call, against the local upstream, which serves each
// provider's wire format and checks requests as the provider does: Gemini's
// batchEmbedContents and model list, Vertex AI's predict, Bedrock's
// InvokeModel (Titan and Cohere Embed, SigV4-signed), Cohere's v2 embed and
// rerank and its model list, Anthropic's model list.
#include <cmath>

#include "../upstream/embed_vectors.hpp"
#include "e2e.hpp"

using namespace e2e;
using literllm::testing::detail::upstream_embedding;
using literllm::testing::detail::upstream_words;

namespace {

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Answer {
  llm_status status = LLM_OK;
  rapidjson::Document doc;
  std::string error;
  std::vector<float> floats;  // llm_response_embeddings
  size_t rows = 0, dims = 0;
  int64_t prompt_tokens = -1;
};

class NativeEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    literllm::testing::UpstreamOptions o;
    o.aws_credentials = {kAkid, kSecret, ""};
    o.require_api_key = kKey;
    up = std::make_unique<literllm::testing::Upstream>(o);
    up->start();
  }
  void TearDown() override {
    for (llm_client_t* c : clients) llm_client_free(c);
    up->stop();
  }
  std::string root() const { return "http://127.0.0.1:" + std::to_string(up->port()); }
  llm_client_t* client(const std::string& providers) {
    std::string cfg = R"({"max_retries":0,"providers":{)" + providers + "}}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    clients.push_back(c);
    return c;
  }
  llm_client_t* gemini() { return client(R"("gemini":{"base_url":)" + q(root()) + R"(,"api_key":)" + q(kKey) + "}"); }
  llm_client_t* vertex() {
    return client(R"("vertex_ai":{"base_url":)" + q(root()) +
                  R"(,"project":"p1","location":"us-central1","access_token":)" + q(kKey) + "}");
  }
  llm_client_t* bedrock() {
    return client(R"("bedrock":{"base_url":)" + q(root()) + R"(,"region":"us-east-1","aws_access_key_id":)" + q(kAkid) +
                  R"(,"aws_secret_access_key":)" + q(kSecret) + "}");
  }
  // The upstream tells Cohere's model list from OpenAI's by the /cohere prefix.
  llm_client_t* cohere() {
    return client(R"("cohere":{"base_url":)" + q(root() + "/cohere") + R"(,"api_key":)" + q(kKey) + "}");
  }
  llm_client_t* anthropic() {
    return client(R"("anthropic":{"base_url":)" + q(root()) + R"(,"api_key":)" + q(kKey) + "}");
  }
  Answer call(llm_client_t* c, const char* endpoint, const std::string& req) {
    Answer a;
    llm_response_t* r = nullptr;
    a.status = llm_call(c, endpoint, req.c_str(), nullptr, nullptr, 0, &r);
    if (a.status != LLM_OK) {
      a.error = llm_last_error();
      a.doc.SetNull();
      return a;
    }
    a.doc = parse(llm_response_json(r));
    const float* f = llm_response_embeddings(r, &a.rows, &a.dims);
    if (f) a.floats.assign(f, f + a.rows * a.dims);
    a.prompt_tokens = llm_response_prompt_tokens(r);
    llm_response_free(r);
    return a;
  }
  // The answer's vectors are the upstream's for `texts`, and llm_response_embeddings agrees.
  static void expect_vectors(const Answer& a, const std::vector<std::string>& texts, int dims) {
    ASSERT_EQ(a.status, LLM_OK) << a.error;
    EXPECT_STREQ(a.doc["object"].GetString(), "list");
    ASSERT_EQ(a.doc["data"].Size(), texts.size());
    ASSERT_EQ(a.rows, texts.size());
    ASSERT_EQ(a.dims, static_cast<size_t>(dims));
    for (size_t i = 0; i < texts.size(); ++i) {
      const auto& item = a.doc["data"][static_cast<rapidjson::SizeType>(i)];
      EXPECT_STREQ(item["object"].GetString(), "embedding");
      EXPECT_EQ(item["index"].GetUint64(), i);
      const auto want = upstream_embedding(texts[i], dims);
      ASSERT_EQ(item["embedding"].Size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        ASSERT_EQ(item["embedding"][static_cast<rapidjson::SizeType>(k)].GetDouble(), want[k]) << i << "," << k;
        ASSERT_EQ(a.floats[i * a.dims + k], static_cast<float>(want[k])) << i << "," << k;
      }
    }
  }
  std::unique_ptr<literllm::testing::Upstream> up;
  std::vector<llm_client_t*> clients;
};

TEST_F(NativeEndpoints, GeminiEmbeddings) {
  llm_client_t* c = gemini();
  Answer a = call(c, "embeddings",
                  R"({"model":"gemini/gemini-embedding-001","input":["hello world","bye"],"dimensions":16,
                      "provider_options":{"gemini":{"task_type":"RETRIEVAL_DOCUMENT","title":"greetings"}}})");
  expect_vectors(a, {"hello world", "bye"}, 16);
  EXPECT_STREQ(a.doc["model"].GetString(), "gemini-embedding-001");
  EXPECT_EQ(a.doc["usage"]["prompt_tokens"].GetInt(), 0);
  EXPECT_STREQ(a.doc["provider"].GetString(), "gemini");
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
  EXPECT_EQ(reqs[0].header("x-goog-api-key"), kKey);

  // A task type Gemini does not know: its 400, typed.
  Answer bad = call(c, "embeddings",
                    R"({"model":"gemini/gemini-embedding-001","input":"x","provider_options":{"gemini":{"taskType":"NOPE"}}})");
  EXPECT_EQ(bad.status, LLM_ERR_BAD_REQUEST) << bad.error;
  EXPECT_NE(bad.error.find("TaskType"), std::string::npos) << bad.error;
  // An injected rate limit in Google's shape.
  Answer limited = call(c, "embeddings",
                        R"({"model":"gemini/gemini-embedding-001","input":"x","extra_headers":{"x-upstream-status":"429"}})");
  EXPECT_EQ(limited.status, LLM_ERR_RATE_LIMITED) << limited.error;
}

TEST_F(NativeEndpoints, GeminiModelsPageByPage) {
  llm_client_t* c = gemini();
  Answer first = call(c, "models", R"({"provider":"gemini","limit":2})");
  ASSERT_EQ(first.status, LLM_OK) << first.error;
  ASSERT_EQ(first.doc["data"].Size(), 2u);
  EXPECT_STREQ(first.doc["data"][0]["id"].GetString(), "gemini-2.5-pro");
  EXPECT_STREQ(first.doc["data"][0]["object"].GetString(), "model");
  EXPECT_STREQ(first.doc["data"][0]["owned_by"].GetString(), "google");
  EXPECT_STREQ(first.doc["data"][1]["displayName"].GetString(), "Gemini 2.5 Flash");
  EXPECT_TRUE(first.doc["has_more"].GetBool());
  const std::string next = first.doc["next_page_token"].GetString();
  Answer rest = call(c, "models", R"({"provider":"gemini","limit":2,"after":)" + q(next) + "}");
  ASSERT_EQ(rest.status, LLM_OK) << rest.error;
  ASSERT_EQ(rest.doc["data"].Size(), 1u);
  EXPECT_STREQ(rest.doc["data"][0]["id"].GetString(), "gemini-embedding-001");
  EXPECT_FALSE(rest.doc["has_more"].GetBool());
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[1].target, "/v1beta/models?pageSize=2&pageToken=" + next);
}

TEST_F(NativeEndpoints, VertexEmbeddingsCountTokens) {
  llm_client_t* c = vertex();
  Answer a = call(c, "embeddings",
                  R"({"model":"vertex/text-embedding-005","input":["one two three","four"],"dimensions":32,
                      "provider_options":{"vertex_ai":{"task_type":"RETRIEVAL_QUERY"}}})");
  expect_vectors(a, {"one two three", "four"}, 32);
  EXPECT_EQ(a.doc["usage"]["prompt_tokens"].GetInt(), 4);
  EXPECT_EQ(a.prompt_tokens, 4);
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/projects/p1/locations/us-central1/publishers/google/models/text-embedding-005:predict");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
}

TEST_F(NativeEndpoints, BedrockTitanAndCohereEmbed) {
  llm_client_t* c = bedrock();
  Answer titan = call(c, "embeddings", R"({"model":"bedrock/amazon.titan-embed-text-v2:0","input":"a b c","dimensions":256})");
  expect_vectors(titan, {"a b c"}, 256);
  EXPECT_EQ(titan.doc["usage"]["prompt_tokens"].GetInt(), 3);  // inputTextTokenCount
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/model/amazon.titan-embed-text-v2%3A0/invoke");
  EXPECT_NE(reqs[0].header("authorization").find("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), std::string::npos);

  // Titan takes one text: a list of two is refused before anything is sent.
  up->clear_requests();
  Answer list = call(c, "embeddings", R"({"model":"bedrock/amazon.titan-embed-text-v2:0","input":["a","b"]})");
  EXPECT_EQ(list.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(list.error.find("request.input"), std::string::npos) << list.error;
  EXPECT_TRUE(up->requests().empty());

  Answer co = call(c, "embeddings", R"({"model":"bedrock/cohere.embed-english-v3","input":["x y","z"]})");
  expect_vectors(co, {"x y", "z"}, 1024);
  // A value Bedrock's schema refuses: its ValidationException, typed.
  Answer bad = call(c, "embeddings",
                    R"({"model":"bedrock/cohere.embed-english-v3","input":"x","provider_options":{"bedrock":{"truncate":"SIDEWAYS"}}})");
  EXPECT_EQ(bad.status, LLM_ERR_BAD_REQUEST) << bad.error;
  EXPECT_NE(bad.error.find("truncate"), std::string::npos) << bad.error;
}

TEST_F(NativeEndpoints, CohereEmbedRerankAndModels) {
  llm_client_t* c = cohere();
  Answer e = call(c, "embeddings", R"({"model":"cohere/embed-v4.0","input":["sunny day","at the beach"],"dimensions":256})");
  expect_vectors(e, {"sunny day", "at the beach"}, 256);
  EXPECT_EQ(e.doc["usage"]["prompt_tokens"].GetInt(), 5);
  // An input_type Cohere does not take: its 400, with its message.
  Answer bad = call(c, "embeddings",
                    R"({"model":"cohere/embed-v4.0","input":"x","provider_options":{"cohere":{"input_type":"essay"}}})");
  EXPECT_EQ(bad.status, LLM_ERR_BAD_REQUEST) << bad.error;
  EXPECT_NE(bad.error.find("valid input_type must be provided"), std::string::npos) << bad.error;

  Answer r = call(c, "rerank",
                  R"({"model":"cohere/rerank-v3.5","query":"cat sat","documents":["dog ran",{"text":"the cat sat"},"cat only"],
                      "return_documents":true})");
  ASSERT_EQ(r.status, LLM_OK) << r.error;
  ASSERT_EQ(r.doc["results"].Size(), 3u);
  const int order[] = {1, 2, 0};
  const char* texts[] = {"the cat sat", "cat only", "dog ran"};
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    EXPECT_EQ(r.doc["results"][i]["index"].GetInt(), order[i]);
    EXPECT_STREQ(r.doc["results"][i]["document"]["text"].GetString(), texts[i]);
    if (i) {
      EXPECT_GE(r.doc["results"][i - 1]["relevance_score"].GetDouble(), r.doc["results"][i]["relevance_score"].GetDouble());
    }
  }
  EXPECT_EQ(r.doc["usage"]["search_units"].GetInt(), 1);
  Answer top = call(c, "rerank", R"({"model":"cohere/rerank-v3.5","query":"cat","documents":["a","cat"],"top_n":1})");
  ASSERT_EQ(top.status, LLM_OK) << top.error;
  ASSERT_EQ(top.doc["results"].Size(), 1u);
  EXPECT_EQ(top.doc["results"][0]["index"].GetInt(), 1);
  EXPECT_FALSE(top.doc["results"][0].HasMember("document"));

  Answer m = call(c, "models", R"({"provider":"cohere","limit":2})");
  ASSERT_EQ(m.status, LLM_OK) << m.error;
  ASSERT_EQ(m.doc["data"].Size(), 2u);
  EXPECT_STREQ(m.doc["data"][0]["id"].GetString(), "command-a-03-2025");
  EXPECT_STREQ(m.doc["data"][1]["owned_by"].GetString(), "cohere");
  EXPECT_TRUE(m.doc["has_more"].GetBool());
  Answer only = call(c, "models", R"({"provider":"cohere","endpoint":"rerank"})");
  ASSERT_EQ(only.status, LLM_OK) << only.error;
  ASSERT_EQ(only.doc["data"].Size(), 1u);
  EXPECT_STREQ(only.doc["data"][0]["id"].GetString(), "rerank-v3.5");
  EXPECT_FALSE(only.doc["has_more"].GetBool());
}

TEST_F(NativeEndpoints, AnthropicModels) {
  llm_client_t* c = anthropic();
  Answer m = call(c, "models", R"({"provider":"anthropic"})");
  ASSERT_EQ(m.status, LLM_OK) << m.error;
  ASSERT_GE(m.doc["data"].Size(), 2u);
  EXPECT_STREQ(m.doc["data"][0]["id"].GetString(), "claude-sonnet-4-5-20250929");
  EXPECT_EQ(m.doc["data"][0]["created"].GetInt64(), 1759104000);  // 2025-09-29T00:00:00Z
  EXPECT_STREQ(m.doc["data"][0]["owned_by"].GetString(), "anthropic");
  EXPECT_FALSE(m.doc["has_more"].GetBool());
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(reqs[0].header("x-api-key"), kKey);
  // Anthropic has no embeddings: refused before anything is sent.
  Answer none = call(c, "embeddings", R"({"model":"anthropic/claude-x","input":"x"})");
  EXPECT_EQ(none.status, LLM_ERR_ENDPOINT_NOT_SUPPORTED) << none.error;
}

}  // namespace
