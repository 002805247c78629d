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
#include "core/response.hpp"
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
  std::optional<Vectors> vecs = take_vectors(d, "openai");
  ASSERT_TRUE(vecs);
  EXPECT_EQ(vecs->values, std::vector<float>(v, v + 3));
  EXPECT_TRUE(d["data"][0]["embedding"].IsNull()) << "the vectors leave the document";
  auto resp = Response::from(std::move(d), "openai", CallStats{}, std::move(vecs));
  EXPECT_NE(resp->json().find(R"("data":[{"object":"embedding","index":0,"embedding":[0.5,-1.25,3]}],"model":"m")"),
            std::string::npos)
      << resp->json();
  json::Document two = emb.parse(R"({"data":[{"embedding":"AAA="}]})", t);
  EXPECT_EQ(status_of([&] { take_vectors(two, "openai"); }), LLM_ERR_SERIALIZATION) << "two bytes are no float32";
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
                           "anthropic", "brave", "tavily", "exa", "perplexity_search", "mistral", "jina", "together"}) {
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

// OCR: Mistral's own document chunks go as they are; a document given as the
// caller's bytes or as a path goes as a data URL (image_url for an image,
// document_url otherwise), its type from "content_type" or the name; what
// cannot be sent is refused naming the field.
TEST(CallEndpoints, OcrDocumentsAsDataUrls) {
  Target t = target("mistral", "mistral-ocr-latest");
  http::Request r = build(Endpoint::Ocr, t,
                          R"({"model":"mistral/mistral-ocr-latest","document":{"type":"document_url","document_url":"https://x.test/a.pdf"},"pages":[0,2],"include_image_base64":true})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.example.test/v1/ocr");
  EXPECT_EQ(r.body,
            R"({"model":"mistral-ocr-latest","document":{"type":"document_url","document_url":"https://x.test/a.pdf"},"pages":[0,2],"include_image_base64":true})");

  // Caller bytes (NUL and high bytes included), typed by content_type.
  static const char pdf[] = "%PDF-1.7\n\0\xff\xfe binary \x01";
  const std::string_view pdf_bytes(pdf, sizeof pdf - 1);
  const void* data[] = {pdf};
  const size_t sizes[] = {pdf_bytes.size()};
  r = build(Endpoint::Ocr, t, R"({"model":"m","document":{"data":0,"content_type":"application/PDF"},"pages":"0-1"})",
            Blobs{data, sizes, 1});
  json::Document b = doc(r.body.c_str());
  EXPECT_STREQ(b["model"].GetString(), "mistral-ocr-latest");
  EXPECT_STREQ(b["pages"].GetString(), "0-1");
  EXPECT_STREQ(b["document"]["type"].GetString(), "document_url");
  EXPECT_EQ(std::string(b["document"]["document_url"].GetString()),
            "data:application/pdf;base64," + auth::base64_encode(pdf_bytes));
  EXPECT_FALSE(b["document"].HasMember("document_name"));
  EXPECT_EQ(http::find_header(r.headers, "Content-Type") ? *http::find_header(r.headers, "Content-Type") : "",
            "application/json");
  // An image by its filename: image_url.
  r = build(Endpoint::Ocr, t, R"({"model":"m","document":{"data":0,"filename":"Scan.JPG"}})", Blobs{data, sizes, 1});
  b = doc(r.body.c_str());
  EXPECT_STREQ(b["document"]["type"].GetString(), "image_url");
  EXPECT_EQ(std::string(b["document"]["image_url"].GetString()), "data:image/jpeg;base64," + auth::base64_encode(pdf_bytes));
  EXPECT_EQ(b["document"].MemberCount(), 2u);

  // A path: read in pieces (more than one read's worth, not a multiple of 3), named by its file.
  const std::string dir = (std::filesystem::temp_directory_path() / "literllm-ocr-unit").string();
  std::filesystem::create_directories(dir);
  std::string big = "%PDF-1.4\n";
  for (size_t i = 0; big.size() < 3 * 65536 + 1001; ++i) big += static_cast<char>((i * 7919) >> 3);
  const std::string path = dir + "/report.pdf";
  std::ofstream(path, std::ios::binary).write(big.data(), static_cast<std::streamsize>(big.size()));
  r = build(Endpoint::Ocr, t, (R"({"model":"m","document":{"path":")" + path + R"("},"extra_body":{"image_limit":2}})").c_str());
  b = doc(r.body.c_str());
  EXPECT_EQ(b["image_limit"].GetInt(), 2);
  EXPECT_STREQ(b["document"]["document_name"].GetString(), "report.pdf");
  const std::string url = b["document"]["document_url"].GetString();
  ASSERT_EQ(url.rfind("data:application/pdf;base64,", 0), 0u) << url.substr(0, 64);
  EXPECT_EQ(auth::base64_decode(std::string_view(url).substr(28)), big);

  // Refused, naming the field.
  auto refused = [&](const std::string& request, const char* words, Blobs blobs = {}) {
    std::string msg;
    EXPECT_EQ(status_of([&] { build(Endpoint::Ocr, t, request.c_str(), blobs); }, &msg), LLM_ERR_INVALID_ARGUMENT)
        << request;
    EXPECT_NE(msg.find(words), std::string::npos) << "'" << words << "' not in: " << msg;
  };
  refused(R"({"model":"m","document":{"data":0,"filename":"a.bin"}})", "request.document.content_type", Blobs{data, sizes, 1});
  refused(R"({"model":"m","document":{"data":0}})", "request.document.content_type", Blobs{data, sizes, 1});
  refused(R"({"model":"m","document":{"data":0,"content_type":"text/plain"}})", "request.document.content_type: \"text/plain\"",
          Blobs{data, sizes, 1});
  refused(R"({"model":"m","document":{"data":1,"content_type":"application/pdf"}})", "request.document.data",
          Blobs{data, sizes, 1});
  refused(R"({"model":"m","document":{"data":0,"path":"x.pdf"}})", "exactly one", Blobs{data, sizes, 1});
  refused(R"({"model":"m","document":{"data":0,"type":"document_url"}})", "request.document.type", Blobs{data, sizes, 1});
  refused(R"({"model":"m","document":{"path":"/nonexistent/x.pdf"}})", "request.document.path: cannot read /nonexistent/x.pdf");
  refused(R"({"model":"m","document":{"path":")" + dir + R"("}})", "not a regular file");
  const size_t zero[] = {0};
  refused(R"({"model":"m","document":{"data":0,"content_type":"application/pdf"}})", "request.document: bytes 0 is empty",
          Blobs{data, zero, 1});
  const std::string huge = dir + "/huge.pdf";
  { std::ofstream create(huge); }
  std::filesystem::resize_file(huge, (50u << 20) + 1);  // sparse
  refused(R"({"model":"m","document":{"path":")" + huge + R"("}})", "52428801 bytes, more than Mistral OCR takes (52428800)");
  std::filesystem::remove_all(dir);
}

// Rerank on the OpenAI-compatible hosts: {"text"} documents go as strings
// (Voyage takes nothing else), and each result's document is there exactly
// when "return_documents" asked for it.
TEST(CallEndpoints, RerankDocumentsAsAsked) {
  http::Request r = build(Endpoint::Rerank, target("voyage"),
                          R"({"model":"m-1","query":"q","documents":["a",{"text":"b"},{"text":"c","title":"t"}],"top_n":1})");
  EXPECT_EQ(r.body, R"({"model":"m-1","query":"q","documents":["a","b","c"],"top_k":1})");
  r = build(Endpoint::Rerank, target("jina"), R"({"model":"m-1","query":"q","documents":[{"text":"b"},{"text":"c","title":"t"}]})");
  EXPECT_EQ(r.body, R"({"model":"m-1","query":"q","documents":["b",{"text":"c","title":"t"}]})");

  Target jt = target("jina");
  const Operation& op = require_operation(*jt.spec, Endpoint::Rerank);
  const char* answer =
      R"({"model":"m","usage":{"total_tokens":3},"results":[{"index":1,"document":{"text":"b"},"relevance_score":0.9},{"index":0,"relevance_score":0.1}]})";
  json::Document asked = doc(R"({"documents":["a","b"],"return_documents":true})");
  json::Document d = op.parse_for(answer, jt, asked);
  EXPECT_EQ(json::dump(d["results"]),
            R"([{"index":1,"document":{"text":"b"},"relevance_score":0.9},{"index":0,"relevance_score":0.1,"document":{"text":"a"}}])");
  json::Document not_asked = doc(R"({"documents":["a","b"]})");
  d = op.parse_for(answer, jt, not_asked);
  EXPECT_EQ(json::dump(d["results"]), R"([{"index":1,"relevance_score":0.9},{"index":0,"relevance_score":0.1}])");
  EXPECT_EQ(status_of([&] {
              op.parse_for(R"({"results":[{"index":7,"relevance_score":1}]})", jt, asked);
            }),
            LLM_ERR_SERIALIZATION);
}

// Exa and Perplexity's Search API: the one search request in each wire shape
// (Exa's camelCase with highlights asked for the snippet; Perplexity's one
// domain list, exclusions as "-domain"), their answers normalized (the query
// from the request: neither answer repeats it), search only.
TEST(CallEndpoints, ExaAndPerplexitySearch) {
  for (const char* name : {"exa", "perplexity_search"}) {
    EXPECT_EQ(status_of([&] { require_operation(*find_builtin(name), Endpoint::Search); }), LLM_OK) << name;
    EXPECT_EQ(status_of([&] { require_operation(*find_builtin(name), Endpoint::Chat); }), LLM_ERR_ENDPOINT_NOT_SUPPORTED)
        << name;
    EXPECT_EQ(status_of([&] { require_operation(*find_builtin(name), Endpoint::Embeddings); }),
              LLM_ERR_ENDPOINT_NOT_SUPPORTED)
        << name;
  }
  EXPECT_EQ(find_builtin("exa")->auth_header, "x-api-key");
  EXPECT_EQ(find_builtin("exa")->api_key_env.front(), "EXA_API_KEY");
  EXPECT_EQ(find_builtin("perplexity_search")->auth, AuthKind::Bearer);
  EXPECT_EQ(find_builtin("perplexity_search")->api_key_env.front(), "PERPLEXITY_API_KEY");
  EXPECT_EQ(find_builtin("perplexity")->protocol, Protocol::OpenAI) << "the chat row stays";
  EXPECT_EQ(find_builtin("pplx")->name, "perplexity");

  Target exa = target("exa");
  exa.base_url = "https://api.exa.ai";
  http::Request r = build(Endpoint::Search, exa,
                          R"({"provider":"exa","query":"c++ json","max_results":3,"include_domains":["a.test"],)"
                          R"("exclude_domains":["c.test"],"country":"DE","provider_options":{"exa":{"category":"news"}}})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.exa.ai/search");
  EXPECT_EQ(r.body,
            R"({"query":"c++ json","numResults":3,"includeDomains":["a.test"],"excludeDomains":["c.test"],)"
            R"("userLocation":"DE","type":"auto","contents":{"highlights":{"maxCharacters":500}},"category":"news"})");
  r = build(Endpoint::Search, exa, R"({"query":"q","provider_options":{"exa":{"type":"keyword","contents":{"text":true}}}})");
  EXPECT_EQ(r.body, R"({"query":"q","numResults":10,"type":"keyword","contents":{"highlights":{"maxCharacters":500},"text":true}})");
  const Operation& eop = require_operation(*exa.spec, Endpoint::Search);
  json::Document req = doc(R"({"provider":"exa","query":"c++ json"})");
  std::string long_text = "Line one\\n\\n  of the   page. ";  // JSON escapes: newlines in the text
  while (long_text.size() < 2000) long_text += "word \xC3\xA9t\xC3\xA9 ";
  json::Document a = eop.parse_for(
      R"({"requestId":"r1","resolvedSearchType":"neural","results":[)"
      R"({"id":"u1","title":"T1","url":"https://u1","publishedDate":"2026-01-01T00:00:00.000Z","author":"A","score":0.5,)"
      R"("highlights":["first bit","second bit"],"highlightScores":[0.9,0.4],"text":"ignored"},)"
      R"({"id":"u2","title":null,"url":"https://u2","summary":"S2"},)"
      R"({"id":"u3","title":"T3","url":"https://u3","text":")" + long_text + R"("}],"costDollars":{"total":0.005}})",
      exa, req);
  EXPECT_STREQ(a["query"].GetString(), "c++ json");
  ASSERT_EQ(a["results"].Size(), 3u);
  // The highlights joined (the text, when there are highlights, is not the snippet).
  EXPECT_EQ(json::dump(a["results"][0]), std::string(R"({"title":"T1","url":"https://u1","snippet":"first bit )") +
                                             "\xE2\x80\xA6" +
                                             R"( second bit","published_at":"2026-01-01T00:00:00.000Z","score":0.5})");
  EXPECT_EQ(json::dump(a["results"][1]), R"({"title":"","url":"https://u2","snippet":"S2"})");
  const std::string s3 = a["results"][2]["snippet"].GetString();
  EXPECT_EQ(s3.rfind("Line one of the page. word ", 0), 0u) << s3;  // whitespace collapsed
  EXPECT_LE(s3.size(), 503u);
  EXPECT_EQ(s3.substr(s3.size() - 3), "\xE2\x80\xA6");
  EXPECT_NE(s3[s3.size() - 4], ' ');
  EXPECT_EQ(status_of([&] { eop.parse_for("{\"results\":[1,null,{\"url\":5}]}", exa, req); }), LLM_OK);
  EXPECT_EQ(status_of([&] { eop.parse_for("[]", exa, req); }), LLM_ERR_SERIALIZATION);

  Target pplx = target("perplexity_search");
  pplx.base_url = "https://api.perplexity.ai";
  r = build(Endpoint::Search, pplx,
            R"({"query":"q","max_results":5,"include_domains":["a.test","b.test"],"country":"US",)"
            R"("provider_options":{"perplexity_search":{"max_tokens_per_page":256}}})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.perplexity.ai/search");
  EXPECT_EQ(r.body,
            R"({"query":"q","max_results":5,"search_domain_filter":["a.test","b.test"],"country":"US","max_tokens_per_page":256})");
  r = build(Endpoint::Search, pplx, R"({"query":"q","exclude_domains":["c.test"],"provider_options":{"pplx_search":{"search_type":"fast"}}})");
  EXPECT_EQ(r.body, R"({"query":"q","max_results":10,"search_domain_filter":["-c.test"],"search_type":"fast"})");
  std::string msg;
  EXPECT_EQ(status_of([&] { build(Endpoint::Search, pplx, R"({"query":"q","include_domains":["a"],"exclude_domains":["b"]})"); },
                      &msg),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.exclude_domains"), std::string::npos) << msg;
  std::string many = R"({"query":"q","include_domains":["d0")";
  for (int i = 1; i < 21; ++i) many += ",\"d" + std::to_string(i) + "\"";
  EXPECT_EQ(status_of([&] { build(Endpoint::Search, pplx, (many + "]}").c_str()); }, &msg), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("request.include_domains"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at most 20"), std::string::npos) << msg;
  json::Document preq = doc(R"({"query":"q"})");
  a = require_operation(*pplx.spec, Endpoint::Search)
          .parse_for(R"({"id":"0f0e","results":[{"title":"T","url":"https://u","snippet":"S","date":"2025-03-01","last_updated":"2025-04-01"},)"
                     R"({"title":"T2","url":"https://u2","snippet":"S2","date":null,"last_updated":"2025-05-01"},)"
                     R"({"title":"T3","url":"https://u3","snippet":"S3"}]})",
                     pplx, preq);
  EXPECT_EQ(json::dump(a),
            R"({"object":"search.results","query":"q","results":[{"title":"T","url":"https://u","snippet":"S","published_at":"2025-03-01"},)"
            R"({"title":"T2","url":"https://u2","snippet":"S2","published_at":"2025-05-01"},{"title":"T3","url":"https://u3","snippet":"S3"}]})");
}
