// llm_call's pieces without a socket: endpoint names, which provider serves
// what, the OpenAI protocol's route table (paths, queries, multipart forms,
// hosts' spellings), answers normalized (base64 embeddings, rerank), web
// search (Brave, Tavily), and the request checks.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "auth/crypto.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/validate.hpp"
#include "providers/adapter.hpp"

using namespace literllm;

namespace {

Target target(const char* provider, std::string model = "m-1") {
  Target t;
  t.spec = find_builtin(provider);
  EXPECT_TRUE(t.spec) << provider;
  t.base_url = "https://api.example.test/v1";
  t.model = std::move(model);
  t.api_key = "k";
  for (auto& s : t.spec->settings) t.settings.emplace_back(s.name, s.fallback);
  return t;
}

json::Document doc(const char* text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

http::Request build(Endpoint e, const Target& t, const char* request, const Blobs& blobs = {}) {
  json::Document req = doc(request);
  return require_operation(*t.spec, e).build_with(req, t, false, blobs);
}

std::string body_member(const http::Request& r, const char* name) {
  json::Document d = doc(r.body.c_str());
  const json::Value* v = json::find(d, name);
  return v ? (v->IsString() ? std::string(json::sv(*v)) : json::dump(*v)) : std::string("<absent>");
}

llm_status status_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return LLM_OK;
}

}  // namespace

TEST(CallEndpoints, NamesRoundTrip) {
  for (int i = 0; i < kEndpointCount; ++i) {
    Endpoint e;
    ASSERT_TRUE(endpoint_from_name(endpoint_name(static_cast<Endpoint>(i)), e)) << i;
    EXPECT_EQ(static_cast<int>(e), i);
  }
  Endpoint e;
  EXPECT_FALSE(endpoint_from_name("embedding", e));
  EXPECT_FALSE(endpoint_from_name("", e));
}

TEST(CallEndpoints, WhoServesWhat) {
  std::string msg;
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("anthropic"), Endpoint::Images); }, &msg),
            LLM_ERR_ENDPOINT_NOT_SUPPORTED);
  EXPECT_NE(msg.find("anthropic"), std::string::npos);
  EXPECT_NE(msg.find("images.generations"), std::string::npos);
  // Hosts serve what their rows say; embeddings-only hosts have no chat.
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("deepseek"), Endpoint::Embeddings); }),
            LLM_ERR_ENDPOINT_NOT_SUPPORTED);
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("jina"), Endpoint::Chat); }), LLM_ERR_ENDPOINT_NOT_SUPPORTED);
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("voyage"), Endpoint::Rerank); }), LLM_OK);
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("openai"), Endpoint::Transcription); }), LLM_OK);
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("brave"), Endpoint::Search); }), LLM_OK);
  EXPECT_EQ(status_of([] { require_operation(*find_builtin("tavily"), Endpoint::Chat); }),
            LLM_ERR_ENDPOINT_NOT_SUPPORTED);
}

TEST(CallEndpoints, OpenAIRoutes) {
  // Embeddings: OpenAI is asked for base64 (decoded on the way back); others as given.
  http::Request r = build(Endpoint::Embeddings, target("openai", "text-embedding-3-small"),
                          R"({"model":"openai/text-embedding-3-small","input":["a","b"],"dimensions":8})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.example.test/v1/embeddings");
  EXPECT_EQ(body_member(r, "encoding_format"), "base64");
  EXPECT_EQ(body_member(r, "model"), "text-embedding-3-small");
  EXPECT_EQ(body_member(r, "dimensions"), "8");
  r = build(Endpoint::Embeddings, target("together"), R"({"model":"m-1","input":"a"})");
  EXPECT_EQ(body_member(r, "encoding_format"), "<absent>");
  // Voyage spells dimensions and top_n its own way.
  r = build(Endpoint::Embeddings, target("voyage"), R"({"model":"m-1","input":"a","dimensions":256})");
  EXPECT_EQ(body_member(r, "output_dimension"), "256");
  EXPECT_EQ(body_member(r, "dimensions"), "<absent>");
  r = build(Endpoint::Rerank, target("voyage"), R"({"model":"m-1","query":"q","documents":["x"],"top_n":2})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/rerank");
  EXPECT_EQ(body_member(r, "top_k"), "2");
  // Ids go into the path, the rest of a GET into the query.
  r = build(Endpoint::FileRetrieve, target("openai"), R"({"file_id":"file a/b"})");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "https://api.example.test/v1/files/file%20a%2Fb");
  EXPECT_TRUE(r.body.empty());
  r = build(Endpoint::FileList, target("openai"), R"({"purpose":"batch","limit":5})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/files?purpose=batch&limit=5");
  r = build(Endpoint::FileDelete, target("openai"), R"({"file_id":"f1"})");
  EXPECT_EQ(r.method, "DELETE");
  r = build(Endpoint::BatchCancel, target("openai"), R"({"batch_id":"b1"})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/batches/b1/cancel");
  EXPECT_EQ(r.body, "{}");
  EXPECT_TRUE(require_operation(*find_builtin("openai"), Endpoint::Speech).binary_answer());
  EXPECT_TRUE(require_operation(*find_builtin("openai"), Endpoint::FileContent).binary_answer());
  EXPECT_FALSE(require_operation(*find_builtin("openai"), Endpoint::Embeddings).binary_answer());
  // Azure: the deployment's path and the api-version.
  Target az = target("azure_openai", "my-embedder");
  r = build(Endpoint::Embeddings, az, R"({"model":"azure/my-embedder","input":"a"})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/openai/deployments/my-embedder/embeddings?api-version=2024-10-21");
  r = build(Endpoint::FileContent, az, R"({"file_id":"f1"})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/openai/files/f1/content?api-version=2024-10-21");
  r = build(Endpoint::FileList, az, R"({"limit":2})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/openai/files?api-version=2024-10-21&limit=2");
}

TEST(CallEndpoints, MultipartForms) {
  const std::string path = (std::filesystem::temp_directory_path() / "literllm-call-test.mp3").string();
  {
    std::ofstream f(path, std::ios::binary);
    f << "ID3-not-really-audio";
  }
  http::Request r = build(Endpoint::Transcription, target("openai", "whisper-1"),
                          (R"({"model":"openai/whisper-1","file":{"path":")" + path +
                           R"("},"language":"en","temperature":0.5,"timestamp_granularities":["word","segment"]})")
                              .c_str());
  EXPECT_TRUE(r.body.empty());
  ASSERT_EQ(r.parts.size(), 6u);
  EXPECT_EQ(r.parts[0].name, "model");
  EXPECT_EQ(r.parts[0].value, "whisper-1");
  EXPECT_EQ(r.parts[1].name, "file");
  EXPECT_EQ(r.parts[1].path, path);
  EXPECT_EQ(r.parts[1].filename, "literllm-call-test.mp3");
  EXPECT_EQ(r.parts[1].content_type, "audio/mpeg");
  EXPECT_EQ(r.parts[3].value, "0.5");
  EXPECT_EQ(r.parts[4].name, "timestamp_granularities[]");
  EXPECT_EQ(r.parts[5].value, "segment");
  EXPECT_EQ(http::find_header(r.headers, "Content-Type"), nullptr) << "curl writes the boundary";
  // Caller-owned bytes: referenced, not copied.
  static const char audio[] = "RIFF....WAVEfmt ";
  const void* data[] = {audio};
  const size_t sizes[] = {sizeof audio};
  r = build(Endpoint::Transcription, target("openai"),
            R"({"model":"whisper-1","file":{"data":0,"filename":"a.wav"}})", Blobs{data, sizes, 1});
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[1].data, audio);
  EXPECT_EQ(r.parts[1].size, sizeof audio);
  EXPECT_EQ(r.parts[1].content_type, "audio/wav");
  // What cannot be sent is refused naming the field.
  std::string msg;
  EXPECT_EQ(status_of([&] { build(Endpoint::Transcription, target("openai"), R"({"model":"w","file":{"data":0}})",
                                  Blobs{data, sizes, 1}); }, &msg),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.file.filename"), std::string::npos) << msg;
  EXPECT_EQ(status_of([&] { build(Endpoint::Transcription, target("openai"),
                                  R"({"model":"w","file":{"path":"/nonexistent/x.mp3"}})"); }, &msg),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.file.path"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/nonexistent/x.mp3"), std::string::npos) << msg;
  const std::string txt = (std::filesystem::temp_directory_path() / "literllm-call-test.txt").string();
  std::ofstream(txt) << "hello";
  EXPECT_EQ(status_of([&] { build(Endpoint::Transcription, target("openai"),
                                  (R"({"model":"w","file":{"path":")" + txt + R"("}})").c_str()); }, &msg),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("not audio"), std::string::npos) << msg;
  // A file upload takes any type.
  r = build(Endpoint::FileCreate, target("openai"), (R"({"purpose":"batch","file":{"path":")" + txt + R"("}})").c_str());
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[1].content_type, "text/plain");
  std::filesystem::remove(path);
  std::filesystem::remove(txt);
}

TEST(CallEndpoints, AnswersNormalized) {
  const float v[] = {0.5f, -1.25f, 3.0f};
  std::string b64 = auth::base64_encode(std::string_view(reinterpret_cast<const char*>(v), sizeof v));
  Target t = target("openai");
  const Operation& emb = require_operation(*t.spec, Endpoint::Embeddings);
  json::Document d = emb.parse(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":")" + b64 +
                                   R"("}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}})",
                               t);
  EXPECT_EQ(json::dump(d["data"][0]["embedding"]), "[0.5,-1.25,3.0]");
  EXPECT_EQ(status_of([&] { emb.parse(R"({"data":[{"embedding":"AAA="}]})", t); }), LLM_ERR_SERIALIZATION)
      << "two bytes are no float32";
  // Rerank: Voyage's "data" with string documents, most relevant first.
  Target vt = target("voyage");
  json::Document rr = require_operation(*vt.spec, Endpoint::Rerank)
                          .parse(R"({"object":"list","data":[{"relevance_score":0.2,"index":0,"document":"a"},)"
                                 R"({"relevance_score":0.9,"index":1,"document":"b"}],"model":"rerank-2"})",
                                 vt);
  EXPECT_EQ(json::dump(rr["results"]),
            R"([{"relevance_score":0.9,"index":1,"document":{"text":"b"}},{"relevance_score":0.2,"index":0,"document":{"text":"a"}}])");
  EXPECT_STREQ(rr["object"].GetString(), "list");
}

TEST(CallEndpoints, WebSearch) {
  Target brave = target("brave");
  brave.base_url = "https://api.search.brave.com";
  http::Request r = build(Endpoint::Search, brave,
                          R"({"provider":"brave","query":"c++ json","max_results":3,"include_domains":["a.test","b.test"],)"
                          R"("exclude_domains":["c.test"],"country":"DE","provider_options":{"brave":{"safesearch":"off"}}})");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url,
            "https://api.search.brave.com/res/v1/web/search?q=c%2B%2B%20json%20%28site%3Aa.test%20OR%20site%3Ab.test%29"
            "%20-site%3Ac.test&count=3&country=DE&safesearch=off");
  std::string msg;
  EXPECT_EQ(status_of([&] { build(Endpoint::Search, brave, R"({"query":"q","max_results":50})"); }, &msg),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.max_results"), std::string::npos);
  json::Document a = require_operation(*brave.spec, Endpoint::Search)
                         .parse(R"({"type":"search","query":{"original":"q"},"web":{"results":[{"title":"T","url":"https://u",)"
                                R"("description":"D","page_age":"2026-01-01"}]}})",
                                brave);
  EXPECT_EQ(json::dump(a),
            R"({"object":"search.results","query":"q","results":[{"title":"T","url":"https://u","snippet":"D","published_at":"2026-01-01"}]})");

  Target tav = target("tavily");
  r = build(Endpoint::Search, tav, R"({"query":"q","include_domains":["a.test"],"provider_options":{"tavily":{"topic":"news"}}})");
  EXPECT_EQ(r.url, "https://api.example.test/v1/search");
  EXPECT_EQ(r.body, R"({"query":"q","max_results":5,"include_domains":["a.test"],"topic":"news"})");
  a = require_operation(*tav.spec, Endpoint::Search)
          .parse(R"({"query":"q","results":[{"title":"T","url":"https://u","content":"C","score":0.75}],"response_time":1})",
                 tav);
  EXPECT_EQ(json::dump(a), R"({"object":"search.results","query":"q","results":[{"title":"T","url":"https://u","snippet":"C","score":0.75}]})");
}

TEST(CallEndpoints, RequestChecks) {
  auto check = [](Endpoint e, const char* text, size_t blobs = 0) {
    std::string msg;
    json::Document d = doc(text);
    status_of([&] { validate_endpoint_request(e, d, blobs); }, &msg);
    return msg;
  };
  EXPECT_EQ(check(Endpoint::Embeddings, R"({"model":"m","input":"x"})"), "");
  EXPECT_EQ(check(Endpoint::Embeddings, R"({"model":"m","input":[[1,2],[3]]})"), "");
  EXPECT_NE(check(Endpoint::Embeddings, R"({"model":"m"})").find("request.input: is required"), std::string::npos);
  EXPECT_NE(check(Endpoint::Embeddings, R"({"model":"m","input":["a",1]})").find("request.input[1]"), std::string::npos);
  EXPECT_NE(check(Endpoint::Embeddings, R"({"model":"m","input":[]})").find("must not be empty"), std::string::npos);
  EXPECT_NE(check(Endpoint::Embeddings, R"({"model":"m","input":"x","encoding_format":"int8"})")
                .find("request.encoding_format: must be one of float,base64"),
            std::string::npos);
  EXPECT_NE(check(Endpoint::Speech, R"({"model":"m","input":"x","voice":"v","speed":9})").find("request.speed"),
            std::string::npos);
  EXPECT_NE(check(Endpoint::Transcription, R"({"model":"m","file":{"path":"a","data":0}})", 1).find("exactly one"),
            std::string::npos);
  EXPECT_NE(check(Endpoint::Transcription, R"({"model":"m","file":{"data":1,"filename":"a.wav"}})", 1)
                .find("request.file.data"),
            std::string::npos);
  EXPECT_NE(check(Endpoint::Rerank, R"({"model":"m","query":"q","documents":[{"title":"x"}]})")
                .find("request.documents[0].text"),
            std::string::npos);
  EXPECT_NE(check(Endpoint::FileRetrieve, R"({})").find("request.file_id: is required"), std::string::npos);
  EXPECT_NE(check(Endpoint::Models, R"({"provider":""})").find("request.provider"), std::string::npos);
  EXPECT_NE(check(Endpoint::Models, R"({"provider":"a","provider":"b"})").find("more than once"), std::string::npos);
  EXPECT_NE(check(Endpoint::Search, R"({"query":"q","timeout_secs":0})").find("request.timeout_secs"), std::string::npos);
}

// A hostile or broken server: every endpoint's parser, on garbage, answers
// with a typed error or a normalized document, never a crash.
TEST(CallEndpoints, GarbageAnswersAreTypedErrors) {
  const char* bodies[] = {"", "nope", "[]", "null", "{\"data\":5}", "{\"data\":[5,{\"embedding\":\"@@@\"}]}",
                          "{\"results\":{\"x\":1}}", "{\"models\":[1,{\"name\":7}]}", "{\"web\":{\"results\":[null]}}",
                          "{\"embeddings\":{\"float\":[[\"x\"]]}}", "{\"predictions\":[{\"embeddings\":5}]}",
                          "{\"error\":{\"message\":\"m\"}}", "{\"embedding\":[1,\"a\"]}"};
  size_t tried = 0;
  for (const char* name : {"openai", "azure_openai", "voyage", "jina", "gemini", "vertex_ai", "bedrock", "cohere",
                           "anthropic", "brave", "tavily"}) {
    Target t = target(name, "amazon.titan-embed-text-v2:0");
    for (int i = 0; i < kEndpointCount; ++i) {
      const auto e = static_cast<Endpoint>(i);
      if (e == Endpoint::Chat) continue;
      const Operation* op = operation_for(t.spec->protocol, e);
      if (!op || op->binary_answer()) continue;
      json::Document req = doc(R"({"model":"m","input":"x","query":"q","documents":["a"],"return_documents":true})");
      for (const char* body : bodies) {
        SCOPED_TRACE(std::string(name) + " " + endpoint_name(e) + ": " + body);
        ++tried;
        try {
          json::Document d = op->parse_for(body, t, req);
          EXPECT_TRUE(d.IsObject());
        } catch (const Error& err) {
          EXPECT_NE(err.status(), LLM_ERR_INTERNAL) << err.what();
          EXPECT_NE(err.status(), LLM_OK);
        }
      }
    }
  }
  EXPECT_GT(tried, 200u);
}
