// The native protocols' endpoints beyond chat (embeddings, models, rerank)
// end to end through llm_call, against the local upstream, which serves each
// provider's wire format and checks requests as the provider does: Gemini's
// batchEmbedContents and model list, Vertex AI's predict and Model Garden's
// publisher models, Bedrock's InvokeModel (Titan and Cohere Embed),
// ListFoundationModels and the Agent Runtime's Rerank (all SigV4-signed),
// Cohere's v2 embed and rerank and its model list, Anthropic's model list.
#include <cmath>
#include <set>
#include <string>

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

TEST_F(NativeEndpoints, VertexModelsPageByPage) {
  llm_client_t* c = vertex();
  Answer first = call(c, "models", R"({"provider":"vertex_ai","limit":3})");
  ASSERT_EQ(first.status, LLM_OK) << first.error;
  ASSERT_EQ(first.doc["data"].Size(), 3u);
  EXPECT_STREQ(first.doc["data"][0]["id"].GetString(), "gemini-2.5-pro");
  EXPECT_STREQ(first.doc["data"][0]["object"].GetString(), "model");
  EXPECT_STREQ(first.doc["data"][0]["owned_by"].GetString(), "google");
  EXPECT_STREQ(first.doc["data"][0]["launchStage"].GetString(), "GA");
  EXPECT_STREQ(first.doc["data"][0]["name"].GetString(), "publishers/google/models/gemini-2.5-pro");
  EXPECT_TRUE(first.doc["has_more"].GetBool());
  const std::string next = first.doc["next_page_token"].GetString();
  Answer rest = call(c, "models", R"({"provider":"vertex_ai","limit":3,"after":)" + q(next) + "}");
  ASSERT_EQ(rest.status, LLM_OK) << rest.error;
  ASSERT_EQ(rest.doc["data"].Size(), 2u);
  EXPECT_STREQ(rest.doc["data"][0]["id"].GetString(), "text-embedding-005");
  EXPECT_FALSE(rest.doc["has_more"].GetBool());
  EXPECT_FALSE(rest.doc.HasMember("next_page_token"));
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/v1beta1/publishers/google/models?pageSize=3");
  EXPECT_EQ(reqs[1].target, "/v1beta1/publishers/google/models?pageSize=3&pageToken=" + next);
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);

  // Another publisher's models; one with none answers {}.
  Answer claude = call(c, "models", R"({"provider":"vertex_ai","publisher":"anthropic"})");
  ASSERT_EQ(claude.status, LLM_OK) << claude.error;
  ASSERT_EQ(claude.doc["data"].Size(), 2u);
  EXPECT_STREQ(claude.doc["data"][0]["id"].GetString(), "claude-sonnet-4-5");
  EXPECT_STREQ(claude.doc["data"][0]["owned_by"].GetString(), "anthropic");
  EXPECT_STREQ(claude.doc["data"][0]["versionId"].GetString(), "20250929");
  Answer none = call(c, "models", R"({"provider":"vertex_ai","publisher":"nobody"})");
  ASSERT_EQ(none.status, LLM_OK) << none.error;
  EXPECT_EQ(none.doc["data"].Size(), 0u);
  // A view the API does not know: its 400, typed, naming it.
  Answer bad = call(c, "models", R"({"provider":"vertex_ai","view":"EVERYTHING"})");
  EXPECT_EQ(bad.status, LLM_ERR_BAD_REQUEST) << bad.error;
  EXPECT_NE(bad.error.find("view"), std::string::npos) << bad.error;
  // A wrong token: Google's 401, typed.
  llm_client_t* wrong = client(R"("vertex_ai":{"base_url":)" + q(root()) +
                               R"(,"project":"p1","location":"us-central1","access_token":"nope"})");
  EXPECT_EQ(call(wrong, "models", R"({"provider":"vertex_ai"})").status, LLM_ERR_AUTHENTICATION);
  // Vertex AI has no rerank here: refused before anything is sent.
  up->clear_requests();
  Answer rr = call(c, "rerank", R"({"model":"vertex_ai/semantic-ranker","query":"q","documents":["a"]})");
  EXPECT_EQ(rr.status, LLM_ERR_ENDPOINT_NOT_SUPPORTED) << rr.error;
  EXPECT_TRUE(up->requests().empty());
}

TEST_F(NativeEndpoints, BedrockModelsFromTheControlPlane) {
  llm_client_t* c = bedrock();
  Answer all = call(c, "models", R"({"provider":"bedrock"})");
  ASSERT_EQ(all.status, LLM_OK) << all.error;
  ASSERT_GE(all.doc["data"].Size(), 5u);
  EXPECT_FALSE(all.doc["has_more"].GetBool());
  const auto& titan = all.doc["data"][0];
  EXPECT_STREQ(titan["id"].GetString(), "amazon.titan-embed-text-v2:0");
  EXPECT_STREQ(titan["object"].GetString(), "model");
  EXPECT_STREQ(titan["owned_by"].GetString(), "Amazon");
  EXPECT_STREQ(titan["modelArn"].GetString(), "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0");
  EXPECT_STREQ(titan["outputModalities"][0].GetString(), "EMBEDDING");

  Answer some = call(c, "models", R"({"provider":"bedrock","byProvider":"anthropic","byOutputModality":"TEXT"})");
  ASSERT_EQ(some.status, LLM_OK) << some.error;
  ASSERT_EQ(some.doc["data"].Size(), 2u);
  for (auto& m : some.doc["data"].GetArray()) {
    EXPECT_STREQ(m["owned_by"].GetString(), "Anthropic");
    EXPECT_TRUE(m["responseStreamingSupported"].GetBool());
  }
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/foundation-models");
  EXPECT_EQ(reqs[1].target, "/foundation-models?byOutputModality=TEXT&byProvider=anthropic");
  EXPECT_NE(reqs[1].header("authorization").find("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), std::string::npos);
  EXPECT_NE(reqs[1].header("authorization").find("/us-east-1/bedrock/aws4_request"), std::string::npos);

  // A modality AWS does not know: its ValidationException, typed, naming the parameter.
  Answer bad = call(c, "models", R"({"provider":"bedrock","byOutputModality":"SMELL"})");
  EXPECT_EQ(bad.status, LLM_ERR_BAD_REQUEST) << bad.error;
  EXPECT_NE(bad.error.find("byOutputModality"), std::string::npos) << bad.error;
  // A secret that does not sign: AWS's signature refusal, typed.
  llm_client_t* wrong = client(R"("bedrock":{"base_url":)" + q(root()) +
                               R"(,"region":"us-east-1","aws_access_key_id":)" + q(kAkid) +
                               R"(,"aws_secret_access_key":"not-the-secret"})");
  EXPECT_EQ(call(wrong, "models", R"({"provider":"bedrock"})").status, LLM_ERR_AUTHENTICATION);
}

TEST_F(NativeEndpoints, BedrockRerankThroughTheAgentRuntime) {
  llm_client_t* c = bedrock();
  Answer r = call(c, "rerank",
                  R"({"model":"bedrock/cohere.rerank-v3-5:0","query":"cat sat","documents":["dog ran",{"text":"the cat sat"},"cat only"],
                      "return_documents":true})");
  ASSERT_EQ(r.status, LLM_OK) << r.error;
  EXPECT_STREQ(r.doc["object"].GetString(), "list");
  EXPECT_STREQ(r.doc["model"].GetString(), "cohere.rerank-v3-5:0");
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
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/rerank");
  EXPECT_NE(reqs[0].header("authorization").find("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), std::string::npos);
  rapidjson::Document sent = parse(reqs[0].body.c_str());
  EXPECT_STREQ(sent["queries"][0]["textQuery"]["text"].GetString(), "cat sat");
  EXPECT_EQ(sent["sources"].Size(), 3u);
  EXPECT_STREQ(sent["rerankingConfiguration"]["bedrockRerankingConfiguration"]["modelConfiguration"]["modelArn"].GetString(),
               "arn:aws:bedrock:us-east-1::foundation-model/cohere.rerank-v3-5:0");

  // top_n → numberOfResults; no documents unless asked for.
  up->clear_requests();
  Answer top = call(c, "rerank", R"({"model":"bedrock/amazon.rerank-v1:0","query":"cat","documents":["a","cat","b"],"top_n":1})");
  ASSERT_EQ(top.status, LLM_OK) << top.error;
  ASSERT_EQ(top.doc["results"].Size(), 1u);
  EXPECT_EQ(top.doc["results"][0]["index"].GetInt(), 1);
  EXPECT_FALSE(top.doc["results"][0].HasMember("document"));
  reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(parse(reqs[0].body.c_str())["rerankingConfiguration"]["bedrockRerankingConfiguration"]["numberOfResults"].GetInt(), 1);

  // Bad requests, typed and naming the field: top_n out of bounds (refused before sending), an empty
  // document (Bedrock's constraint, with its member path), a model that does not rerank.
  up->clear_requests();
  Answer zero = call(c, "rerank", R"({"model":"bedrock/amazon.rerank-v1:0","query":"q","documents":["a"],"top_n":0})");
  EXPECT_EQ(zero.status, LLM_ERR_INVALID_ARGUMENT) << zero.error;
  EXPECT_NE(zero.error.find("request.top_n"), std::string::npos) << zero.error;
  EXPECT_TRUE(up->requests().empty());
  Answer empty = call(c, "rerank", R"({"model":"bedrock/amazon.rerank-v1:0","query":"q","documents":["a",""]})");
  EXPECT_EQ(empty.status, LLM_ERR_BAD_REQUEST) << empty.error;
  EXPECT_NE(empty.error.find("sources.2.member.inlineDocumentSource.textDocument.text"), std::string::npos) << empty.error;
  Answer chat_model = call(c, "rerank", R"({"model":"bedrock/anthropic.claude-3-haiku-20240307-v1:0","query":"q","documents":["a"]})");
  EXPECT_EQ(chat_model.status, LLM_ERR_BAD_REQUEST) << chat_model.error;
  EXPECT_NE(chat_model.error.find("model identifier"), std::string::npos) << chat_model.error;
  // An injected throttle in AWS's shape.
  Answer limited = call(c, "rerank",
                        R"({"model":"bedrock/amazon.rerank-v1:0","query":"q","documents":["a"],"extra_headers":{"x-upstream-status":"429"}})");
  EXPECT_EQ(limited.status, LLM_ERR_RATE_LIMITED) << limited.error;
}

TEST_F(NativeEndpoints, BedrockSiblingHostsInAPreview) {
  // With AWS's own runtime host, models and rerank go to the control plane's and the agent runtime's.
  llm_client_t* c = client(R"("bedrock":{"region":"eu-west-3","aws_access_key_id":)" + q(kAkid) +
                           R"(,"aws_secret_access_key":)" + q(kSecret) + "}");
  auto url_of = [&](const char* endpoint, const char* req) {
    char* out = nullptr;
    EXPECT_EQ(llm_preview_call(c, endpoint, req, nullptr, nullptr, 0, &out), LLM_OK) << llm_last_error();
    if (!out) return std::string();
    rapidjson::Document d = parse(out);
    llm_string_free(out);
    return std::string(d["url"].GetString());
  };
  EXPECT_EQ(url_of("models", R"({"provider":"bedrock"})"), "https://bedrock.eu-west-3.amazonaws.com/foundation-models");
  EXPECT_EQ(url_of("rerank", R"({"model":"bedrock/amazon.rerank-v1:0","query":"q","documents":["a"]})"),
            "https://bedrock-agent-runtime.eu-west-3.amazonaws.com/rerank");
  EXPECT_EQ(url_of("embeddings", R"({"model":"bedrock/amazon.titan-embed-text-v2:0","input":"a"})"),
            "https://bedrock-runtime.eu-west-3.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke");
}

TEST_F(NativeEndpoints, ProvidersJsonListsTheNewEndpoints) {
  char* out = nullptr;
  ASSERT_EQ(llm_providers_json(nullptr, &out), LLM_OK);
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  auto endpoints = [&](const char* name) {
    std::set<std::string> e;
    for (auto& p : d.GetArray())
      if (std::string(p["name"].GetString()) == name)
        for (auto& x : p["endpoints"].GetArray()) e.insert(x.GetString());
    return e;
  };
  const auto bedrock = endpoints("bedrock"), vertex = endpoints("vertex_ai");
  for (const char* e : {"chat", "embeddings", "models", "rerank"}) EXPECT_TRUE(bedrock.count(e)) << e;
  EXPECT_FALSE(bedrock.count("images.generations"));
  for (const char* e : {"chat", "embeddings", "models"}) EXPECT_TRUE(vertex.count(e)) << e;
  EXPECT_FALSE(vertex.count("rerank"));
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
