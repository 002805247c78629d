// The native protocols' endpoints beyond chat (src/providers/*_endpoints.cpp,
// vertex.cpp): OpenAI-shaped requests translated to each provider's request,
// and answers (recorded real ones where ../shared/fixtures has them) translated
// back to OpenAI's shapes.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/validate.hpp"
#include "fixtures.hpp"
#include "providers/adapter.hpp"
#include "providers/native_endpoints.hpp"
#include "providers/registry.hpp"

namespace literllm {
namespace {

json::Document parse(std::string_view text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

Target target(const char* provider, const char* model) {
  Target t;
  t.spec = find_builtin(provider);
  t.base_url = "https://host.test";
  t.model = model;
  t.settings = {{"project", "p1"}, {"location", "us-central1"}, {"region", "us-east-1"}};
  return t;
}

const Operation& op(const Target& t, Endpoint e) { return require_operation(*t.spec, e); }

// The request a call sends: validated as llm_call validates it, then built.
http::Request build(const Target& t, Endpoint e, const std::string& request) {
  json::Document req = parse(request);
  validate_endpoint_request(e, req, 0);
  req.RemoveMember("provider");
  return op(t, e).build(req, t, false);
}

// The status and message of what `f` throws.
template <class F>
std::pair<llm_status, std::string> thrown(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {LLM_OK, ""};
}

std::string dump(const json::Value& v) { return json::dump(v); }

// ---- Gemini ---------------------------------------------------------------

TEST(GeminiEndpoints, EmbeddingsRequestIsBatchEmbedContents) {
  Target t = target("gemini", "gemini-embedding-001");
  http::Request r = build(t, Endpoint::Embeddings,
                          R"({"model":"gemini/gemini-embedding-001","input":["a b","c"],"dimensions":256,
                              "provider_options":{"gemini":{"task_type":"RETRIEVAL_DOCUMENT","title":"T"}}})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://host.test/v1beta/models/gemini-embedding-001:batchEmbedContents");
  json::Document b = parse(r.body);
  ASSERT_EQ(b["requests"].Size(), 2u);
  for (unsigned i = 0; i < 2; ++i) {
    const json::Value& q = b["requests"][i];
    EXPECT_STREQ(q["model"].GetString(), "models/gemini-embedding-001");
    EXPECT_EQ(q["outputDimensionality"].GetInt(), 256);
    EXPECT_STREQ(q["taskType"].GetString(), "RETRIEVAL_DOCUMENT");  // snake_case option renamed
    EXPECT_STREQ(q["title"].GetString(), "T");
    EXPECT_FALSE(q.HasMember("task_type"));
  }
  EXPECT_STREQ(b["requests"][0]["content"]["parts"][0]["text"].GetString(), "a b");
  EXPECT_STREQ(b["requests"][1]["content"]["parts"][0]["text"].GetString(), "c");
  EXPECT_FALSE(b.HasMember("provider_options"));
}

TEST(GeminiEndpoints, EmbeddingsAnswerInOpenAIShape) {
  Target t = target("gemini", "gemini-embedding-001");
  json::Document d = op(t, Endpoint::Embeddings).parse(R"({"embeddings":[{"values":[0.5,-1]},{"values":[2,3.25]}]})", t);
  EXPECT_STREQ(d["object"].GetString(), "list");
  EXPECT_STREQ(d["model"].GetString(), "gemini-embedding-001");
  ASSERT_EQ(d["data"].Size(), 2u);
  EXPECT_STREQ(d["data"][1]["object"].GetString(), "embedding");
  EXPECT_EQ(d["data"][1]["index"].GetInt(), 1);
  EXPECT_EQ(dump(d["data"][1]["embedding"]), "[2.0,3.25]");
  EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt(), 0);  // the Gemini API counts none
  auto [st, msg] = thrown([&] { op(t, Endpoint::Embeddings).parse(R"({"embeddings":[{"values":["x"]}]})", t); });
  EXPECT_EQ(st, LLM_ERR_SERIALIZATION);
  EXPECT_NE(msg.find("embeddings[0].values"), std::string::npos) << msg;
}

TEST(GeminiEndpoints, TokenIdsAreRefusedNamingInput) {
  Target t = target("gemini", "gemini-embedding-001");
  auto [st, msg] = thrown([&] { build(t, Endpoint::Embeddings, R"({"model":"m","input":[1,2,3]})"); });
  EXPECT_EQ(st, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.input"), std::string::npos) << msg;
}

TEST(GeminiEndpoints, ModelsListNormalizedWithPaging) {
  Target t = target("gemini", "");
  http::Request r = build(t, Endpoint::Models, R"({"provider":"gemini","limit":2,"after":"tok/1"})");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://host.test/v1beta/models?pageSize=2&pageToken=tok%2F1");
  EXPECT_TRUE(r.body.empty());
  json::Document d = op(t, Endpoint::Models).parse(
      R"({"models":[{"name":"models/gemini-2.5-pro","displayName":"Gemini 2.5 Pro","inputTokenLimit":1048576}],
          "nextPageToken":"NEXT"})", t);
  EXPECT_STREQ(d["object"].GetString(), "list");
  ASSERT_EQ(d["data"].Size(), 1u);
  EXPECT_STREQ(d["data"][0]["id"].GetString(), "gemini-2.5-pro");
  EXPECT_STREQ(d["data"][0]["object"].GetString(), "model");
  EXPECT_STREQ(d["data"][0]["owned_by"].GetString(), "google");
  EXPECT_EQ(d["data"][0]["created"].GetInt(), 0);
  EXPECT_EQ(d["data"][0]["inputTokenLimit"].GetInt(), 1048576);  // kept
  EXPECT_TRUE(d["has_more"].GetBool());
  EXPECT_STREQ(d["next_page_token"].GetString(), "NEXT");
}

TEST(GeminiEndpoints, ErrorsAreGoogles) {
  Target t = target("gemini", "gemini-embedding-001");
  Error e = op(t, Endpoint::Embeddings).http_error(
      t, 400, R"({"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}})", {});
  EXPECT_EQ(e.status(), LLM_ERR_BAD_REQUEST);
  EXPECT_NE(std::string(e.what()).find("API key not valid."), std::string::npos) << e.what();
}

// ---- Vertex AI ------------------------------------------------------------

TEST(VertexEndpoints, EmbeddingsRequestIsPredict) {
  Target t = target("vertex_ai", "text-embedding-004");
  http::Request r = build(t, Endpoint::Embeddings,
                          R"({"model":"vertex/text-embedding-004","input":"Hello world","dimensions":64,
                              "provider_options":{"vertex_ai":{"task_type":"RETRIEVAL_QUERY","parameters":{"autoTruncate":false}}}})");
  EXPECT_EQ(r.url,
            "https://host.test/v1/projects/p1/locations/us-central1/publishers/google/models/text-embedding-004:predict");
  json::Document b = parse(r.body);
  EXPECT_EQ(dump(b["instances"]), R"([{"content":"Hello world","task_type":"RETRIEVAL_QUERY"}])");
  EXPECT_EQ(dump(b["parameters"]), R"({"outputDimensionality":64,"autoTruncate":false})");
}

TEST(VertexEndpoints, RecordedPredictAnswer) {
  const auto file = fixtures::path(
      "gemini/recordings/Client_Tests_embedContent_Vertex_AI_should_embed_content_with_specified_parameters.json");
  REQUIRE_FIXTURE(file);
  json::Document rec = parse(fixtures::slurp(file));
  const json::Value& inter = rec["interactions"][0];
  // What the SDK sent is what this library sends for the same input.
  Target t = target("vertex_ai", "text-embedding-004");
  http::Request r = build(t, Endpoint::Embeddings, R"({"model":"vertex/text-embedding-004","input":"Hello world"})");
  EXPECT_EQ(parse(r.body), inter["request"]["bodySegments"][0]);
  const json::Value& answer = inter["response"]["bodySegments"][0];
  json::Document d = op(t, Endpoint::Embeddings).parse(dump(answer), t);
  const json::Value& values = answer["predictions"][0]["embeddings"]["values"];
  ASSERT_EQ(d["data"].Size(), 1u);
  ASSERT_EQ(d["data"][0]["embedding"].Size(), values.Size());
  for (rapidjson::SizeType i = 0; i < values.Size(); ++i)
    ASSERT_DOUBLE_EQ(d["data"][0]["embedding"][i].GetDouble(), values[i].GetDouble()) << i;
  EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt(), 2);  // statistics.token_count
  EXPECT_EQ(d["usage"]["total_tokens"].GetInt(), 2);
}

TEST(VertexEndpoints, ModelListIsModelGardensPublisherModels) {
  Target t = target("vertex_ai", "");
  http::Request r = build(t, Endpoint::Models,
                          R"({"provider":"vertex_ai","limit":2,"after":"tok/1","view":"PUBLISHER_MODEL_VIEW_BASIC","listAllVersions":true})");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://host.test/v1beta1/publishers/google/models?pageSize=2&pageToken=tok%2F1"
                   "&view=PUBLISHER_MODEL_VIEW_BASIC&listAllVersions=true");
  EXPECT_TRUE(r.body.empty());
  // Another publisher; the global location's host has no "global-" prefix.
  Target g = target("vertex_ai", "");
  g.base_url = "https://global-aiplatform.googleapis.com";
  g.settings = {{"location", "global"}};
  EXPECT_EQ(build(g, Endpoint::Models, R"({"provider":"vertex_ai","publisher":"anthropic"})").url,
            "https://aiplatform.googleapis.com/v1beta1/publishers/anthropic/models");

  json::Document d = op(t, Endpoint::Models).parse(
      R"({"publisherModels":[{"name":"publishers/google/models/gemini-2.5-pro","versionId":"default",
                              "openSourceCategory":"PROPRIETARY","launchStage":"GA"},
                             {"name":"publishers/google/models/text-embedding-005","versionId":"default"}],
          "nextPageToken":"NEXT"})", t);
  EXPECT_STREQ(d["object"].GetString(), "list");
  ASSERT_EQ(d["data"].Size(), 2u);
  EXPECT_STREQ(d["data"][0]["id"].GetString(), "gemini-2.5-pro");
  EXPECT_STREQ(d["data"][0]["object"].GetString(), "model");
  EXPECT_STREQ(d["data"][0]["owned_by"].GetString(), "google");
  EXPECT_EQ(d["data"][0]["created"].GetInt(), 0);
  EXPECT_STREQ(d["data"][0]["launchStage"].GetString(), "GA");  // the rest kept
  EXPECT_STREQ(d["data"][0]["name"].GetString(), "publishers/google/models/gemini-2.5-pro");
  EXPECT_STREQ(d["data"][1]["id"].GetString(), "text-embedding-005");
  EXPECT_TRUE(d["has_more"].GetBool());
  EXPECT_STREQ(d["next_page_token"].GetString(), "NEXT");
  json::Document claude = op(t, Endpoint::Models).parse(
      R"({"publisherModels":[{"name":"publishers/anthropic/models/claude-sonnet-4-5","versionId":"20250929"}]})", t);
  EXPECT_STREQ(claude["data"][0]["owned_by"].GetString(), "anthropic");
  EXPECT_FALSE(claude["has_more"].GetBool());
  // proto3 JSON leaves an empty list out.
  json::Document none = op(t, Endpoint::Models).parse("{}", t);
  EXPECT_EQ(none["data"].Size(), 0u);
  EXPECT_FALSE(none["has_more"].GetBool());
  EXPECT_EQ(thrown([&] { op(t, Endpoint::Models).parse(R"({"publisherModels":{}})", t); }).first, LLM_ERR_SERIALIZATION);
  // Errors are Google's.
  Error e = op(t, Endpoint::Models).http_error(
      t, 429, R"({"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}})", {});
  EXPECT_EQ(e.status(), LLM_ERR_RATE_LIMITED);
}

TEST(VertexEndpoints, NoRerank) {
  Target t = target("vertex_ai", "");
  auto [st, msg] = thrown([&] { require_operation(*t.spec, Endpoint::Rerank); });
  EXPECT_EQ(st, LLM_ERR_ENDPOINT_NOT_SUPPORTED);
  EXPECT_NE(msg.find("rerank"), std::string::npos) << msg;
}

// ---- Bedrock --------------------------------------------------------------

TEST(BedrockEndpoints, TitanOneTextPerInvocation) {
  Target t = target("bedrock", "amazon.titan-embed-text-v2:0");
  http::Request r = build(t, Endpoint::Embeddings,
                          R"({"model":"bedrock/amazon.titan-embed-text-v2:0","input":["only"],"dimensions":256,
                              "provider_options":{"bedrock":{"normalize":true}}})");
  EXPECT_EQ(r.url, "https://host.test/model/amazon.titan-embed-text-v2%3A0/invoke");
  EXPECT_EQ(r.body, R"({"inputText":"only","dimensions":256,"normalize":true})");
  auto [st, msg] = thrown([&] { build(t, Endpoint::Embeddings, R"({"model":"m","input":["a","b"]})"); });
  EXPECT_EQ(st, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.input"), std::string::npos) << msg;
  json::Document d = op(t, Endpoint::Embeddings).parse(R"({"embedding":[0.25,-0.5],"inputTextTokenCount":7})", t);
  EXPECT_EQ(dump(d["data"]), R"([{"object":"embedding","index":0,"embedding":[0.25,-0.5]}])");
  EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt(), 7);
  EXPECT_STREQ(d["model"].GetString(), "amazon.titan-embed-text-v2:0");
}

TEST(BedrockEndpoints, CohereEmbedBodiesAndBothAnswerShapes) {
  Target t = target("bedrock", "cohere.embed-english-v3");
  http::Request r = build(t, Endpoint::Embeddings,
                          R"({"model":"m","input":["x","y z"],"provider_options":{"bedrock":{"input_type":"search_query","truncate":"END"}}})");
  EXPECT_EQ(r.body, R"({"texts":["x","y z"],"input_type":"search_query","truncate":"END"})");
  auto [st, msg] = thrown([&] { build(t, Endpoint::Embeddings, R"({"model":"m","input":"x","dimensions":256})"); });
  EXPECT_EQ(st, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.dimensions"), std::string::npos) << msg;
  json::Document floats = op(t, Endpoint::Embeddings).parse(
      R"({"id":"i","texts":["x","y z"],"embeddings":[[1,2],[3,4]],"response_type":"embeddings_floats"})", t);
  EXPECT_EQ(dump(floats["data"][1]["embedding"]), "[3.0,4.0]");
  json::Document by_type = op(t, Endpoint::Embeddings).parse(
      R"({"id":"i","embeddings":{"float":[[5,6]]},"response_type":"embeddings_by_type"})", t);
  EXPECT_EQ(dump(by_type["data"][0]["embedding"]), "[5.0,6.0]");
  Target other = target("bedrock", "meta.llama3-8b-instruct-v1:0");
  auto [st2, msg2] = thrown([&] { build(other, Endpoint::Embeddings, R"({"model":"m","input":"x"})"); });
  EXPECT_EQ(st2, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg2.find("request.model"), std::string::npos) << msg2;
}

TEST(BedrockEndpoints, SiblingHostsOfTheRuntimes) {
  Target t = target("bedrock", "");
  auto sibling = [&](const char* base, const char* service) {
    t.base_url = base;
    return bedrock_sibling_base(t, service);
  };
  EXPECT_EQ(sibling("https://bedrock-runtime.us-east-1.amazonaws.com", "bedrock"), "https://bedrock.us-east-1.amazonaws.com");
  EXPECT_EQ(sibling("https://bedrock-runtime.eu-west-3.amazonaws.com", "bedrock-agent-runtime"),
            "https://bedrock-agent-runtime.eu-west-3.amazonaws.com");
  EXPECT_EQ(sibling("https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com", "bedrock"),
            "https://bedrock-fips.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(sibling("https://bedrock-runtime.cn-north-1.amazonaws.com.cn", "bedrock-agent-runtime"),
            "https://bedrock-agent-runtime.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(sibling("https://bedrock-runtime.us-east-1.amazonaws.com:443/x", "bedrock"),
            "https://bedrock.us-east-1.amazonaws.com:443/x");
  // Anything else is taken as it is: a proxy, a VPC endpoint, a look-alike, a test server.
  for (const char* base : {"http://127.0.0.1:8080", "https://proxy.example/bedrock-runtime.us-east-1.amazonaws.com",
                           "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
                           "https://bedrock-runtimex.us-east-1.amazonaws.com", "https://bedrock-runtime.example.com"})
    EXPECT_EQ(sibling(base, "bedrock"), base);
}

TEST(BedrockEndpoints, ModelListIsListFoundationModels) {
  Target t = target("bedrock", "");
  t.base_url = "https://bedrock-runtime.us-west-2.amazonaws.com";
  http::Request r = build(t, Endpoint::Models,
                          R"({"provider":"bedrock","byProvider":"Anthropic","byOutputModality":"TEXT","limit":5})");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://bedrock.us-west-2.amazonaws.com/foundation-models?byOutputModality=TEXT&byProvider=Anthropic");
  EXPECT_TRUE(r.body.empty());
  Target local = target("bedrock", "");
  EXPECT_EQ(build(local, Endpoint::Models, R"({"provider":"bedrock"})").url, "https://host.test/foundation-models");

  json::Document d = op(t, Endpoint::Models).parse(
      R"({"modelSummaries":[
           {"modelArn":"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
            "modelId":"anthropic.claude-3-haiku-20240307-v1:0","modelName":"Claude 3 Haiku","providerName":"Anthropic",
            "inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],"responseStreamingSupported":true,
            "customizationsSupported":[],"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}},
           {"modelId":"amazon.titan-embed-text-v2:0","inputModalities":["TEXT"],"outputModalities":["EMBEDDING"]},
           {"modelName":"no id"}]})", t);
  EXPECT_STREQ(d["object"].GetString(), "list");
  ASSERT_EQ(d["data"].Size(), 2u);
  const json::Value& m = d["data"][0];
  EXPECT_STREQ(m["id"].GetString(), "anthropic.claude-3-haiku-20240307-v1:0");
  EXPECT_STREQ(m["object"].GetString(), "model");
  EXPECT_EQ(m["created"].GetInt(), 0);
  EXPECT_STREQ(m["owned_by"].GetString(), "Anthropic");
  EXPECT_STREQ(m["modelName"].GetString(), "Claude 3 Haiku");  // the rest kept
  EXPECT_TRUE(m["responseStreamingSupported"].GetBool());
  EXPECT_STREQ(d["data"][1]["owned_by"].GetString(), "bedrock");  // no providerName
  EXPECT_FALSE(d["has_more"].GetBool());
  auto [st, msg] = thrown([&] { op(t, Endpoint::Models).parse(R"({"models":[]})", t); });
  EXPECT_EQ(st, LLM_ERR_SERIALIZATION);
  EXPECT_NE(msg.find("modelSummaries"), std::string::npos) << msg;
}

TEST(BedrockEndpoints, RerankRequestIsTheAgentRuntimes) {
  Target t = target("bedrock", "cohere.rerank-v3-5:0");
  t.base_url = "https://bedrock-runtime.us-east-1.amazonaws.com";
  http::Request r = build(t, Endpoint::Rerank,
                          R"({"model":"bedrock/cohere.rerank-v3-5:0","query":"q w","documents":["a",{"text":"b"},"c"],
                              "top_n":5,"return_documents":true,"max_tokens_per_doc":512,
                              "provider_options":{"bedrock":{"nextToken":"N","additionalModelRequestFields":{"x":1}}}})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://bedrock-agent-runtime.us-east-1.amazonaws.com/rerank");
  EXPECT_EQ(r.body,
            R"({"queries":[{"type":"TEXT","textQuery":{"text":"q w"}}],)"
            R"("sources":[{"type":"INLINE","inlineDocumentSource":{"type":"TEXT","textDocument":{"text":"a"}}},)"
            R"({"type":"INLINE","inlineDocumentSource":{"type":"TEXT","textDocument":{"text":"b"}}},)"
            R"({"type":"INLINE","inlineDocumentSource":{"type":"TEXT","textDocument":{"text":"c"}}}],)"
            R"("rerankingConfiguration":{"type":"BEDROCK_RERANKING_MODEL","bedrockRerankingConfiguration":)"
            R"({"numberOfResults":3,"modelConfiguration":)"
            R"({"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/cohere.rerank-v3-5:0",)"
            R"("additionalModelRequestFields":{"max_tokens_per_doc":512,"x":1}}}},"nextToken":"N"})");
  // No top_n: no numberOfResults (every document ranked); other partitions; a model given as its ARN.
  Target cn = target("bedrock", "amazon.rerank-v1:0");
  cn.settings = {{"region", "cn-north-1"}};
  json::Document b = parse(build(cn, Endpoint::Rerank, R"({"model":"m","query":"q","documents":["a"]})").body);
  const json::Value& bc = b["rerankingConfiguration"]["bedrockRerankingConfiguration"];
  EXPECT_FALSE(bc.HasMember("numberOfResults"));
  EXPECT_STREQ(bc["modelConfiguration"]["modelArn"].GetString(),
               "arn:aws-cn:bedrock:cn-north-1::foundation-model/amazon.rerank-v1:0");
  EXPECT_FALSE(bc["modelConfiguration"].HasMember("additionalModelRequestFields"));
  Target arn = target("bedrock", "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0");
  json::Document ba = parse(build(arn, Endpoint::Rerank, R"({"model":"m","query":"q","documents":["a"]})").body);
  EXPECT_STREQ(ba["rerankingConfiguration"]["bedrockRerankingConfiguration"]["modelConfiguration"]["modelArn"].GetString(),
               "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0");
  // More documents than Bedrock takes: refused naming request.documents.
  std::string many = R"({"model":"m","query":"q","documents":[)";
  for (int i = 0; i < 1001; ++i) many += (i ? ",\"d\"" : "\"d\"");
  many += "]}";
  auto [st, msg] = thrown([&] { build(t, Endpoint::Rerank, many); });
  EXPECT_EQ(st, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.documents"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1000"), std::string::npos) << msg;
  auto [st2, msg2] = thrown([&] {
    build(t, Endpoint::Rerank,
          R"({"model":"m","query":"q","documents":["a"],"provider_options":{"bedrock":{"additionalModelRequestFields":3}}})");
  });
  EXPECT_EQ(st2, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg2.find("additionalModelRequestFields"), std::string::npos) << msg2;
}

TEST(BedrockEndpoints, RerankAnswerSortedWithTheRequestsDocuments) {
  Target t = target("bedrock", "amazon.rerank-v1:0");
  const Operation& rr = op(t, Endpoint::Rerank);
  json::Document req = parse(R"({"query":"q","documents":["zero",{"text":"one"},"two"],"return_documents":true})");
  const char* answer = R"({"results":[{"index":2,"relevanceScore":0.25},{"index":0,"relevanceScore":0.75},
                                      {"index":1,"relevanceScore":0.5}],"nextToken":"more"})";
  json::Document d = rr.parse_for(answer, t, req);
  EXPECT_STREQ(d["object"].GetString(), "list");
  EXPECT_STREQ(d["model"].GetString(), "amazon.rerank-v1:0");
  EXPECT_EQ(dump(d["results"]),
            R"([{"index":0,"relevance_score":0.75,"document":{"text":"zero"}},)"
            R"({"index":1,"relevance_score":0.5,"document":{"text":"one"}},)"
            R"({"index":2,"relevance_score":0.25,"document":{"text":"two"}}])");
  EXPECT_STREQ(d["next_token"].GetString(), "more");
  EXPECT_FALSE(d.HasMember("usage"));  // Bedrock counts nothing
  // Without return_documents: none added; a document Bedrock gave back is kept ({"text"} for a text one).
  json::Document plain = rr.parse(
      R"({"results":[{"index":1,"relevanceScore":0.1},
                     {"index":0,"relevanceScore":0.9,"document":{"type":"TEXT","textDocument":{"text":"zero"}}}]})", t);
  EXPECT_EQ(dump(plain["results"]),
            R"([{"index":0,"relevance_score":0.9,"document":{"text":"zero"}},{"index":1,"relevance_score":0.1}])");
  EXPECT_FALSE(plain.HasMember("next_token"));
  // What cannot be read.
  EXPECT_EQ(thrown([&] { rr.parse(R"({"results":[{"index":"0","relevanceScore":1}]})", t); }).first, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(thrown([&] { rr.parse(R"({"items":[]})", t); }).first, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(thrown([&] { rr.parse_for(R"({"results":[{"index":7,"relevanceScore":1}]})", t, req); }).first,
            LLM_ERR_SERIALIZATION);
}

// ---- Cohere ---------------------------------------------------------------

TEST(CohereEndpoints, EmbedRequestDefaultsInputType) {
  Target t = target("cohere", "embed-v4.0");
  http::Request r = build(t, Endpoint::Embeddings, R"({"model":"cohere/embed-v4.0","input":"hi","dimensions":512})");
  EXPECT_EQ(r.url, "https://host.test/v2/embed");
  EXPECT_EQ(r.body,
            R"({"model":"embed-v4.0","texts":["hi"],"input_type":"search_document","embedding_types":["float"],"output_dimension":512})");
  http::Request q = build(t, Endpoint::Embeddings,
                          R"({"model":"m","input":["a"],"provider_options":{"cohere":{"input_type":"search_query"}}})");
  EXPECT_EQ(parse(q.body)["input_type"], "search_query");
}

TEST(CohereEndpoints, RecordedEmbedAnswer) {
  const auto file = fixtures::path("vercel-ai/cohere/cohere-embedding.json");
  REQUIRE_FIXTURE(file);
  Target t = target("cohere", "embed-english-v3.0");
  json::Document d = op(t, Endpoint::Embeddings).parse(fixtures::slurp(file), t);
  ASSERT_EQ(d["data"].Size(), 2u);
  EXPECT_EQ(dump(d["data"][0]["embedding"]), "[0.03302002,0.020904541,-0.019744873,-0.0625,0.04437256]");
  EXPECT_EQ(d["data"][1]["index"].GetInt(), 1);
  EXPECT_DOUBLE_EQ(d["data"][1]["embedding"][4].GetDouble(), -0.010360718);
  EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt(), 10);  // meta.billed_units.input_tokens
}

TEST(CohereEndpoints, RerankSortsAndAddsDocumentsFromTheRequest) {
  Target t = target("cohere", "rerank-v3.5");
  const std::string request =
      R"({"model":"cohere/rerank-v3.5","query":"q","documents":["zero",{"text":"one"},"two"],"top_n":2,"return_documents":true})";
  http::Request r = build(t, Endpoint::Rerank, request);
  EXPECT_EQ(r.url, "https://host.test/v2/rerank");
  EXPECT_EQ(r.body, R"({"model":"rerank-v3.5","query":"q","documents":["zero","one","two"],"top_n":2})");
  json::Document req = parse(request);
  const std::string answer =
      R"({"id":"r1","results":[{"index":2,"relevance_score":0.1},{"index":1,"relevance_score":0.9}],
          "meta":{"api_version":{"version":"2"},"billed_units":{"search_units":1}}})";
  json::Document d = op(t, Endpoint::Rerank).parse_for(answer, t, req);
  EXPECT_STREQ(d["object"].GetString(), "list");
  EXPECT_STREQ(d["model"].GetString(), "rerank-v3.5");
  ASSERT_EQ(d["results"].Size(), 2u);
  EXPECT_EQ(dump(d["results"][0]), R"({"index":1,"relevance_score":0.9,"document":{"text":"one"}})");
  EXPECT_EQ(dump(d["results"][1]), R"({"index":2,"relevance_score":0.1,"document":{"text":"two"}})");
  EXPECT_EQ(d["usage"]["search_units"].GetInt(), 1);
  // Without return_documents: no documents.
  json::Document plain = op(t, Endpoint::Rerank).parse(answer, t);
  EXPECT_FALSE(plain["results"][0].HasMember("document"));
  // An index outside the documents sent is the answer's fault.
  auto [st, msg] = thrown([&] {
    op(t, Endpoint::Rerank).parse_for(R"({"results":[{"index":9,"relevance_score":1}]})", t, req);
  });
  EXPECT_EQ(st, LLM_ERR_SERIALIZATION);
}

TEST(CohereEndpoints, ModelsListNormalized) {
  Target t = target("cohere", "");
  http::Request r = build(t, Endpoint::Models, R"({"provider":"cohere","limit":1,"endpoint":"embed"})");
  EXPECT_EQ(r.url, "https://host.test/v1/models?page_size=1&endpoint=embed");
  json::Document d = op(t, Endpoint::Models).parse(
      R"({"models":[{"name":"embed-v4.0","endpoints":["embed"],"context_length":128000}],"next_page_token":"2"})", t);
  EXPECT_STREQ(d["data"][0]["id"].GetString(), "embed-v4.0");
  EXPECT_STREQ(d["data"][0]["owned_by"].GetString(), "cohere");
  EXPECT_EQ(d["data"][0]["context_length"].GetInt(), 128000);
  EXPECT_TRUE(d["has_more"].GetBool());
}

// ---- Anthropic ------------------------------------------------------------

TEST(AnthropicEndpoints, ModelsListNormalized) {
  Target t = target("anthropic", "");
  http::Request r = build(t, Endpoint::Models, R"({"provider":"anthropic","limit":5,"after":"claude-x"})");
  EXPECT_EQ(r.url, "https://host.test/v1/models?limit=5&after_id=claude-x");
  bool version = false;
  for (auto& [k, v] : r.headers) version = version || (k == "anthropic-version" && v == "2023-06-01");
  EXPECT_TRUE(version);
  json::Document d = op(t, Endpoint::Models).parse(
      R"({"data":[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5",
          "created_at":"2025-09-29T00:00:00Z"}],"has_more":true,"first_id":"claude-sonnet-4-5-20250929",
          "last_id":"claude-sonnet-4-5-20250929"})", t);
  EXPECT_STREQ(d["data"][0]["id"].GetString(), "claude-sonnet-4-5-20250929");
  EXPECT_EQ(d["data"][0]["created"].GetInt64(), 1759104000);
  EXPECT_STREQ(d["data"][0]["owned_by"].GetString(), "anthropic");
  EXPECT_STREQ(d["data"][0]["display_name"].GetString(), "Claude Sonnet 4.5");
  EXPECT_TRUE(d["has_more"].GetBool());
  EXPECT_STREQ(d["last_id"].GetString(), "claude-sonnet-4-5-20250929");
  EXPECT_EQ(op(t, Endpoint::Models).http_error(t, 401,
            R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})", {}).status(),
            LLM_ERR_AUTHENTICATION);
}

TEST(NativeEndpoints, WhatEachProtocolServes) {
  auto serves = [](const char* p, Endpoint e) { return operation_for(find_builtin(p)->protocol, e) != nullptr; };
  EXPECT_TRUE(serves("anthropic", Endpoint::Models));
  EXPECT_FALSE(serves("anthropic", Endpoint::Embeddings));
  EXPECT_TRUE(serves("gemini", Endpoint::Embeddings));
  EXPECT_TRUE(serves("gemini", Endpoint::Models));
  EXPECT_TRUE(serves("vertex_ai", Endpoint::Embeddings));
  EXPECT_TRUE(serves("vertex_ai", Endpoint::Models));
  EXPECT_FALSE(serves("vertex_ai", Endpoint::Rerank));
  EXPECT_TRUE(serves("bedrock", Endpoint::Embeddings));
  EXPECT_TRUE(serves("bedrock", Endpoint::Models));
  EXPECT_TRUE(serves("bedrock", Endpoint::Rerank));
  EXPECT_FALSE(serves("bedrock", Endpoint::Images));
  EXPECT_TRUE(serves("cohere", Endpoint::Rerank));
  EXPECT_TRUE(serves("cohere", Endpoint::Models));
  EXPECT_FALSE(serves("cohere", Endpoint::Images));
}

}  // namespace
}  // namespace literllm
