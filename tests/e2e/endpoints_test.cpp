// llm_call end to end: OpenAI's endpoints beyond chat (embeddings, models,
// images, audio, moderations, files, batches, the Responses API) through the
// C API against the local upstream, which checks each request as
// api.openai.com does and answers deterministically
// (tests/upstream/openai_endpoints.hpp says how). Plus the checks made before
// anything is sent: bad uploads, unknown endpoints, providers without one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <strings.h>
#include <filesystem>
#include <fstream>

#include "e2e.hpp"

#include "auth/crypto.hpp"
#include "multipart.hpp"
#include "ocr.hpp"
#include "openai_endpoints.hpp"

using namespace e2e;
namespace fs = std::filesystem;
using literllm::testing::upstream_embedding;
using literllm::testing::upstream_speech;

namespace {

// The library's own decoder (src/auth/crypto), as the upstream links it.
std::string b64decode(std::string_view in) { return literllm::auth::base64_decode(in, "b64_json"); }

uint32_t be32(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

uint32_t le32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

// One llm_call's outcome.
struct Call {
  llm_status status = LLM_OK;
  rapidjson::Document json;
  std::string error;
  std::string bytes;         // a binary answer's
  std::string content_type;  // a binary answer's
  std::vector<float> vectors;
  size_t count = 0, dims = 0;
};

class Endpoints : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    char tmpl[] = "/tmp/literllm-endpoints-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir, fs::perms::owner_all, ec);
    for (auto& e : fs::directory_iterator(dir, ec)) fs::permissions(e.path(), fs::perms::owner_all, ec);
    fs::remove_all(dir, ec);
    E2E::TearDown();
  }

  Call call(const std::string& endpoint, const std::string& req, std::vector<std::string_view> blobs = {}) {
    std::vector<const void*> data;
    std::vector<size_t> sizes;
    for (auto b : blobs) {
      data.push_back(b.data());
      sizes.push_back(b.size());
    }
    Call c;
    llm_response_t* r = nullptr;
    c.status = llm_call(client, endpoint.c_str(), req.c_str(), data.empty() ? nullptr : data.data(),
                        sizes.empty() ? nullptr : sizes.data(), data.size(), &r);
    if (c.status != LLM_OK) {
      c.error = llm_last_error();
      c.json.Parse("null");
      return c;
    }
    c.json = parse(llm_response_json(r));
    size_t len = 0;
    if (const void* b = llm_response_bytes(r, &len)) c.bytes.assign(static_cast<const char*>(b), len);
    if (const char* ct = llm_response_content_type(r)) c.content_type = ct;
    if (const float* v = llm_response_embeddings(r, &c.count, &c.dims)) c.vectors.assign(v, v + c.count * c.dims);
    llm_response_free(r);
    return c;
  }

  std::string write_file(const std::string& name, std::string_view bytes) {
    std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // The recorded requests whose target starts with `prefix`.
  std::vector<literllm::testing::RecordedRequest> sent(const std::string& prefix = "/v1/") {
    std::vector<literllm::testing::RecordedRequest> out;
    for (auto& r : up.requests())
      if (r.target.rfind(prefix, 0) == 0) out.push_back(r);
    return out;
  }

  // Expects `c` to have failed with `status` before anything was sent, its message naming `words`.
  void refused(const Call& c, llm_status status, std::initializer_list<const char*> words) {
    EXPECT_EQ(c.status, status) << llm_status_str(c.status) << ": " << c.error;
    for (const char* w : words) EXPECT_NE(c.error.find(w), std::string::npos) << "'" << w << "' not in: " << c.error;
    EXPECT_TRUE(up.requests().empty()) << up.requests().size() << " request(s) sent, first " << up.requests()[0].target;
  }

  std::string dir;
};

// ---- embeddings ------------------------------------------------------------------------

TEST_F(Endpoints, EmbeddingsBase64ByDefaultDecodedToTheUpstreamsVectors) {
  const std::string text = "The quick brown fox";
  Call c = call("embeddings", R"({"model":"openai/text-embedding-3-small","input":)" + q(text) + "}");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  // Asked as base64 (a third of the bytes) ...
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/embeddings");
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["encoding_format"].GetString(), "base64");
  EXPECT_STREQ(body["model"].GetString(), "text-embedding-3-small");
  // ... and answered as floats: exactly the upstream's vector.
  const std::vector<float> want = upstream_embedding(text, 1536);
  const auto& data = c.json["data"];
  ASSERT_EQ(data.Size(), 1u);
  const auto& emb = data[0]["embedding"];
  ASSERT_TRUE(emb.IsArray());
  ASSERT_EQ(emb.Size(), 1536u);
  for (rapidjson::SizeType i = 0; i < emb.Size(); ++i)
    ASSERT_EQ(static_cast<float>(emb[i].GetDouble()), want[i]) << "component " << i;
  // The float buffer agrees with the JSON.
  ASSERT_EQ(c.count, 1u);
  ASSERT_EQ(c.dims, 1536u);
  for (size_t i = 0; i < c.dims; ++i) ASSERT_EQ(c.vectors[i], want[i]) << "component " << i;
  EXPECT_STREQ(c.json["object"].GetString(), "list");
  EXPECT_EQ(c.json["usage"]["prompt_tokens"].GetInt(), 4);
  EXPECT_STREQ(c.json["provider"].GetString(), "openai");
}

TEST_F(Endpoints, EmbeddingsFloatsWithDimensionsForSeveralInputs) {
  Call c = call("embeddings",
                R"({"model":"openai/text-embedding-3-large","input":["alpha beta","gamma"],"encoding_format":"float","dimensions":256})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  rapidjson::Document body = parse(sent()[0].body.c_str());
  EXPECT_STREQ(body["encoding_format"].GetString(), "float");
  EXPECT_EQ(body["dimensions"].GetInt(), 256);
  ASSERT_EQ(c.count, 2u);
  ASSERT_EQ(c.dims, 256u);
  const char* texts[] = {"alpha beta", "gamma"};
  for (size_t k = 0; k < 2; ++k) {
    std::vector<float> want = upstream_embedding(texts[k], 256);
    const auto& emb = c.json["data"][static_cast<rapidjson::SizeType>(k)]["embedding"];
    EXPECT_EQ(c.json["data"][static_cast<rapidjson::SizeType>(k)]["index"].GetInt(), static_cast<int>(k));
    double norm = 0;
    for (size_t i = 0; i < 256; ++i) {
      ASSERT_EQ(c.vectors[k * 256 + i], want[i]) << "vector " << k << " component " << i;
      ASSERT_EQ(static_cast<float>(emb[static_cast<rapidjson::SizeType>(i)].GetDouble()), want[i]);
      norm += static_cast<double>(want[i]) * want[i];
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);  // shortened and normalized, as OpenAI's are
  }
  // Shortening is truncation then normalization: the 256 values point where the first 256 of 3072 do.
  std::vector<float> full = upstream_embedding("gamma", 3072);
  EXPECT_NEAR(c.vectors[256] / c.vectors[257], full[0] / full[1], 1e-4);
  EXPECT_EQ(c.json["usage"]["prompt_tokens"].GetInt(), 3);
}

TEST_F(Endpoints, EmbeddingsUpstreamChecksModelDimensionsAndUnknownArguments) {
  Call unknown_model = call("embeddings", R"({"model":"openai/text-embedding-4","input":"x"})");
  EXPECT_EQ(unknown_model.status, LLM_ERR_NOT_FOUND) << unknown_model.error;
  EXPECT_NE(unknown_model.error.find("text-embedding-4"), std::string::npos) << unknown_model.error;
  Call ada = call("embeddings", R"({"model":"openai/text-embedding-ada-002","input":"x","dimensions":8})");
  EXPECT_EQ(ada.status, LLM_ERR_BAD_REQUEST) << ada.error;
  EXPECT_NE(ada.error.find("does not support specifying dimensions"), std::string::npos) << ada.error;
  Call too_long = call("embeddings", R"({"model":"openai/text-embedding-3-small","input":"x","dimensions":2000})");
  EXPECT_EQ(too_long.status, LLM_ERR_BAD_REQUEST) << too_long.error;
  EXPECT_NE(too_long.error.find("1536"), std::string::npos) << too_long.error;
  Call extra = call("embeddings", R"({"model":"openai/text-embedding-3-small","input":"x","extra_body":{"bogus":1}})");
  EXPECT_EQ(extra.status, LLM_ERR_BAD_REQUEST) << extra.error;
  EXPECT_NE(extra.error.find("Unrecognized request argument supplied: bogus"), std::string::npos) << extra.error;
  EXPECT_EQ(sent().size(), 4u);
}

TEST_F(Endpoints, EmbeddingsBadInputIsRefusedBeforeSending) {
  refused(call("embeddings", R"({"model":"openai/text-embedding-3-small","input":5})"), LLM_ERR_INVALID_ARGUMENT,
          {"request.input"});
  refused(call("embeddings", R"({"model":"openai/text-embedding-3-small","input":"x","encoding_format":"int8"})"),
          LLM_ERR_INVALID_ARGUMENT, {"request.encoding_format", "float,base64"});
  refused(call("embeddings", R"({"input":"x"})"), LLM_ERR_INVALID_ARGUMENT, {"request.model"});
}

TEST_F(Endpoints, EmbeddingsAsync) {
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    llm_status status = LLM_ERR_INTERNAL;
    std::vector<float> v;
  } d;
  const std::string req = R"({"model":"openai/text-embedding-3-small","input":"async","dimensions":16})";
  ASSERT_EQ(llm_call_async(
                client, "embeddings", req.c_str(), nullptr, nullptr, 0,
                [](llm_status st, llm_response_t* r, const char*, void* ud) {
                  auto* d = static_cast<Done*>(ud);
                  size_t n = 0, dims = 0;
                  const float* v = r ? llm_response_embeddings(r, &n, &dims) : nullptr;
                  std::lock_guard lk(d->mu);
                  d->status = st;
                  if (v) d->v.assign(v, v + n * dims);
                  llm_response_free(r);
                  d->done = true;
                  d->cv.notify_all();
                },
                &d, nullptr),
            LLM_OK)
      << llm_last_error();
  std::unique_lock lk(d.mu);
  ASSERT_TRUE(d.cv.wait_for(lk, std::chrono::seconds(20), [&] { return d.done; }));
  EXPECT_EQ(d.status, LLM_OK);
  EXPECT_EQ(d.v, upstream_embedding("async", 16));
}

TEST_F(Endpoints, FaultInjectionAppliesToEndpoints) {
  // The upstream's x-upstream-* headers work on these routes as on chat; errors map to typed statuses,
  // for a binary endpoint too (the error body is JSON, not audio).
  Call busy = call("embeddings",
                   R"({"model":"openai/text-embedding-3-small","input":"x","extra_headers":{"x-upstream-status":"503"}})");
  EXPECT_EQ(busy.status, LLM_ERR_SERVICE_UNAVAILABLE) << busy.error;
  Call limited = call("audio.speech",
                      R"({"model":"openai/tts-1","input":"x","voice":"alloy","extra_headers":{"x-upstream-status":"429","x-upstream-retry-after":"0"}})");
  EXPECT_EQ(limited.status, LLM_ERR_RATE_LIMITED) << limited.error;
  EXPECT_NE(limited.error.find("injected HTTP 429"), std::string::npos) << limited.error;
  EXPECT_TRUE(limited.bytes.empty());
  EXPECT_EQ(sent().size(), 2u);
}

TEST_F(Endpoints, AnErrorInA200AnswerCarriesItsCodeAndType) {
  // A 2xx answer whose body is an OpenAI error object: its message, code and type apart, and the kind its code
  // says (was: the code folded with the type, and no type).
  llm_response_t* r = nullptr;
  llm_error_t* e = nullptr;
  ASSERT_EQ(llm_call_e(client, "embeddings",
                       R"({"model":"openai/text-embedding-3-small","input":"x","extra_headers":{"x-upstream-status":"200",)"
                       R"("x-upstream-body":"{\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"}})",
                       nullptr, nullptr, 0, &r, &e),
            LLM_ERR_RATE_LIMITED);
  EXPECT_EQ(r, nullptr);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(std::string(llm_error_message(e)).find("answered 2xx with an error: slow down"), std::string::npos)
      << llm_error_message(e);
  EXPECT_STREQ(llm_error_code(e), "rate_limit_exceeded");
  EXPECT_STREQ(llm_error_type(e), "requests");
  EXPECT_EQ(llm_error_http_status(e), 200);  // it came in an HTTP answer, as on the chat path
  llm_error_free(e);
}

// ---- models, images, moderations ---------------------------------------------------------

TEST_F(Endpoints, ModelsListedByProvider) {
  Call c = call("models", R"({"provider":"openai"})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  ASSERT_TRUE(c.json["data"].IsArray());
  std::vector<std::string> ids;
  for (auto& m : c.json["data"].GetArray()) ids.emplace_back(m["id"].GetString());
  EXPECT_EQ(ids, (std::vector<std::string>{"gpt-4o-mini", "gpt-4o", "upstream-echo"}));
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/v1/models");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
}

TEST_F(Endpoints, ImagesAsBase64PngAndAsUrl) {
  Call b64 = call("images.generations",
                  R"({"model":"openai/dall-e-2","prompt":"a red square","size":"256x256","n":2,"response_format":"b64_json"})");
  ASSERT_EQ(b64.status, LLM_OK) << b64.error;
  ASSERT_EQ(b64.json["data"].Size(), 2u);
  std::string png = b64decode(b64.json["data"][0]["b64_json"].GetString());
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(png, 16), 256u);  // width
  EXPECT_EQ(be32(png, 20), 256u);  // height
  EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");

  Call url = call("images.generations", R"({"model":"openai/dall-e-3","prompt":"a blue circle","size":"1792x1024"})");
  ASSERT_EQ(url.status, LLM_OK) << url.error;
  std::string u = url.json["data"][0]["url"].GetString();
  EXPECT_EQ(u.rfind("http://127.0.0.1:" + std::to_string(up.port()) + "/__images/", 0), 0u) << u;
  EXPECT_STREQ(url.json["data"][0]["revised_prompt"].GetString(), "a blue circle");

  // dall-e-3 makes one image a call: the upstream says so as OpenAI does.
  Call two = call("images.generations", R"({"model":"openai/dall-e-3","prompt":"x","n":2})");
  EXPECT_EQ(two.status, LLM_ERR_BAD_REQUEST) << two.error;
  EXPECT_NE(two.error.find("n=1"), std::string::npos) << two.error;
  Call size = call("images.generations", R"({"model":"openai/dall-e-2","prompt":"x","size":"1792x1024"})");
  EXPECT_EQ(size.status, LLM_ERR_BAD_REQUEST) << size.error;
  EXPECT_NE(size.error.find("1792x1024"), std::string::npos) << size.error;
  // The library's own check: an unknown response_format never leaves.
  up.clear_requests();
  refused(call("images.generations", R"({"model":"openai/dall-e-2","prompt":"x","response_format":"gif"})"),
          LLM_ERR_INVALID_ARGUMENT, {"request.response_format"});
}

TEST_F(Endpoints, ModerationsFlagByCategory) {
  Call c = call("moderations", R"({"model":"openai/omni-moderation-latest","input":["I will kill the process","a calm sentence"]})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  const auto& results = c.json["results"];
  ASSERT_EQ(results.Size(), 2u);
  EXPECT_TRUE(results[0]["flagged"].GetBool());
  EXPECT_TRUE(results[0]["categories"]["violence"].GetBool());
  EXPECT_FALSE(results[0]["categories"]["hate"].GetBool());
  EXPECT_GT(results[0]["category_scores"]["violence"].GetDouble(), 0.5);
  EXPECT_FALSE(results[1]["flagged"].GetBool());
  EXPECT_STREQ(c.json["model"].GetString(), "omni-moderation-latest");
}

// ---- audio ---------------------------------------------------------------------------------

TEST_F(Endpoints, SpeechAnswersAudioBytesWithTheirContentType) {
  const std::string input = "Hello there, general listener";
  Call wav = call("audio.speech", R"({"model":"openai/tts-1","input":)" + q(input) + R"(,"voice":"alloy","response_format":"wav"})");
  ASSERT_EQ(wav.status, LLM_OK) << wav.error;
  EXPECT_EQ(wav.content_type, "audio/wav");
  EXPECT_EQ(wav.bytes, upstream_speech(input, "alloy", "wav"));
  ASSERT_GT(wav.bytes.size(), 44u);
  EXPECT_EQ(wav.bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(le32(wav.bytes, 4), wav.bytes.size() - 8);
  EXPECT_EQ(wav.bytes.substr(8, 8), "WAVEfmt ");
  EXPECT_EQ(le32(wav.bytes, 24), 24000u);  // sample rate
  EXPECT_STREQ(wav.json["object"].GetString(), "binary");
  EXPECT_EQ(wav.json["bytes"].GetUint64(), wav.bytes.size());
  EXPECT_STREQ(wav.json["content_type"].GetString(), "audio/wav");

  Call mp3 = call("audio.speech", R"({"model":"openai/gpt-4o-mini-tts","input":"two words","voice":"coral","speed":1.5})");
  ASSERT_EQ(mp3.status, LLM_OK) << mp3.error;
  EXPECT_EQ(mp3.content_type, "audio/mpeg");
  EXPECT_EQ(mp3.bytes, upstream_speech("two words", "coral", "mp3", 1.5));
  EXPECT_EQ(static_cast<unsigned char>(mp3.bytes[0]), 0xFFu);  // an MPEG frame sync

  // Checked by the upstream as OpenAI checks it: a voice it does not have.
  Call voice = call("audio.speech", R"({"model":"openai/tts-1","input":"x","voice":"darth"})");
  EXPECT_EQ(voice.status, LLM_ERR_BAD_REQUEST) << voice.error;
  EXPECT_NE(voice.error.find("darth"), std::string::npos) << voice.error;
  // And by the library before sending.
  up.clear_requests();
  refused(call("audio.speech", R"({"model":"openai/tts-1","input":"x","voice":"alloy","speed":9})"),
          LLM_ERR_INVALID_ARGUMENT, {"request.speed"});
}

TEST_F(Endpoints, TranscriptionByPathAndByCallerBytes) {
  const std::string said = "the rain in spain stays mainly in the plain";
  const std::string audio = upstream_speech(said, "alloy", "wav");
  const std::string path = write_file("speech.wav", audio);

  Call by_path = call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"path":)" + q(path) + "}}");
  ASSERT_EQ(by_path.status, LLM_OK) << by_path.error;
  EXPECT_EQ(std::string(by_path.json["text"].GetString()), said);

  Call by_bytes = call("audio.transcriptions",
                       R"({"model":"openai/whisper-1","file":{"data":0,"filename":"mine.wav"},"language":"en"})", {audio});
  ASSERT_EQ(by_bytes.status, LLM_OK) << by_bytes.error;
  EXPECT_EQ(std::string(by_bytes.json["text"].GetString()), said);

  // On the wire: multipart/form-data, the file whole, with its name and type.
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(reqs[i].target, "/v1/audio/transcriptions");
    auto boundary = literllm::testing::multipart::boundary_of(reqs[i].header("content-type"));
    ASSERT_TRUE(boundary) << reqs[i].header("content-type");
    std::vector<literllm::testing::multipart::Part> parts;
    std::string why;
    ASSERT_TRUE(literllm::testing::multipart::parse(reqs[i].body, *boundary, parts, why)) << why;
    const literllm::testing::multipart::Part* file = nullptr;
    for (auto& p : parts)
      if (p.name == "file") file = &p;
    ASSERT_NE(file, nullptr);
    EXPECT_EQ(*file->filename, i == 0 ? "speech.wav" : "mine.wav");
    EXPECT_EQ(file->content_type, "audio/wav");
    EXPECT_EQ(file->data, audio);
  }
}

TEST_F(Endpoints, TranscriptionVerboseJsonWithWordsAndSegments) {
  const std::string said = "one two three four five six seven eight nine ten eleven twelve";
  const std::string audio = upstream_speech(said, "alloy", "wav");
  Call c = call("audio.transcriptions",
                R"({"model":"openai/whisper-1","file":{"data":0,"filename":"a.wav"},"response_format":"verbose_json","timestamp_granularities":["word","segment"]})",
                {audio});
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  EXPECT_STREQ(c.json["task"].GetString(), "transcribe");
  EXPECT_EQ(std::string(c.json["text"].GetString()), said);
  // 12 words of 0.25 s each at 24 kHz.
  EXPECT_NEAR(c.json["duration"].GetDouble(), 3.0, 1e-9);
  const auto& words = c.json["words"];
  ASSERT_EQ(words.Size(), 12u);
  EXPECT_STREQ(words[0]["word"].GetString(), "one");
  EXPECT_STREQ(words[11]["word"].GetString(), "twelve");
  EXPECT_NEAR(words[11]["end"].GetDouble(), 3.0, 1e-9);
  const auto& segments = c.json["segments"];
  ASSERT_EQ(segments.Size(), 2u);
  EXPECT_STREQ(segments[1]["text"].GetString(), " eleven twelve");
  // The list went as OpenAI's form lists go: timestamp_granularities[] repeated.
  const std::string body = sent()[0].body;  // a copy: sent() gives a temporary
  EXPECT_NE(body.find("name=\"timestamp_granularities[]\"\r\n\r\nword\r\n"), std::string::npos);
  EXPECT_NE(body.find("name=\"timestamp_granularities[]\"\r\n\r\nsegment\r\n"), std::string::npos);

  // Only whisper-1 has verbose_json: the upstream refuses it for gpt-4o-transcribe.
  Call no = call("audio.transcriptions",
                 R"({"model":"openai/gpt-4o-transcribe","file":{"data":0,"filename":"a.wav"},"response_format":"verbose_json"})",
                 {audio});
  EXPECT_EQ(no.status, LLM_ERR_BAD_REQUEST) << no.error;
  EXPECT_NE(no.error.find("verbose_json"), std::string::npos) << no.error;
}

TEST_F(Endpoints, TranscriptionAsPlainText) {
  const std::string audio = upstream_speech("plain words", "alloy", "wav");
  Call c = call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"data":0,"filename":"a.wav"},"response_format":"text"})",
                {audio});
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  EXPECT_EQ(std::string(c.json["text"].GetString()), "plain words\n");
}

TEST_F(Endpoints, TranslationOfCallerBytes) {
  // Bytes that are no WAV the upstream can read text from: it hears their size and hash.
  std::string mp3 = upstream_speech("bonjour tout le monde", "alloy", "mp3");
  Call c = call("audio.translations",
                R"({"model":"openai/whisper-1","file":{"data":0,"filename":"fr.mp3"},"response_format":"verbose_json"})",
                {mp3});
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  EXPECT_STREQ(c.json["task"].GetString(), "translate");
  EXPECT_EQ(std::string(c.json["text"].GetString()), literllm::testing::upstream_transcript(mp3));
  EXPECT_NE(std::string(c.json["text"].GetString()).find(std::to_string(mp3.size()) + " bytes"), std::string::npos);
}

TEST_F(Endpoints, BadUploadsAreRefusedBeforeSending) {
  const std::string audio = upstream_speech("x", "alloy", "wav");
  // A file that does not exist.
  refused(call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"path":)" + q(dir + "/nope.wav") + "}}"),
          LLM_ERR_INVALID_ARGUMENT, {"request.file", "nope.wav"});
  // Not audio.
  std::string txt = write_file("notes.txt", "not audio at all");
  refused(call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"path":)" + q(txt) + "}}"),
          LLM_ERR_INVALID_ARGUMENT, {"request.file", "notes.txt", "text/plain"});
  // Too large: 26 MB (sparse), over OpenAI's 25 MB.
  std::string big = dir + "/big.mp3";
  {
    int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 26 << 20), 0);
    ::close(fd);
  }
  refused(call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"path":)" + q(big) + "}}"),
          LLM_ERR_INVALID_ARGUMENT, {"request.file", "big.mp3", "26214400"});
  // A data index past the buffers given.
  refused(call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"data":1,"filename":"a.wav"}})", {audio}),
          LLM_ERR_INVALID_ARGUMENT, {"request.file.data", "1"});
  // Bytes without a filename.
  refused(call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"data":0}})", {audio}),
          LLM_ERR_INVALID_ARGUMENT, {"request.file.filename"});
  // No file at all.
  refused(call("audio.transcriptions", R"({"model":"openai/whisper-1"})"), LLM_ERR_INVALID_ARGUMENT, {"request.file"});
  // A file that cannot be read (root reads anything: skipped then).
  if (::geteuid() != 0) {
    std::string locked = write_file("locked.wav", audio);
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
    refused(call("audio.transcriptions", R"({"model":"openai/whisper-1","file":{"path":)" + q(locked) + "}}"),
            LLM_ERR_INVALID_ARGUMENT, {"request.file", "locked.wav"});
  }
}

TEST_F(Endpoints, UnknownEndpointAndProviderWithoutIt) {
  refused(call("images.edits", R"({"model":"openai/dall-e-2","prompt":"x"})"), LLM_ERR_INVALID_ARGUMENT,
          {"images.edits"});
  llm_client_free(client);
  const std::string cfg = R"({"max_retries":0,"providers":{"openai":{"base_url":)" + q(up.base_url()) +
                          R"(,"api_key":)" + q(kKey) + R"(},"anthropic":{"base_url":)" + q(up.base_url()) +
                          R"(,"api_key":)" + q(kKey) + "}}}";
  client = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &client), LLM_OK) << llm_last_error();
  refused(call("images.generations", R"({"model":"anthropic/claude-3-5-sonnet-latest","prompt":"x"})"),
          LLM_ERR_ENDPOINT_NOT_SUPPORTED, {"anthropic", "images.generations"});
}

TEST_F(Endpoints, PreviewShowsMultipartParts) {
  const std::string audio = upstream_speech("preview me", "alloy", "wav");
  const std::string path = write_file("p.wav", audio);
  char* out = nullptr;
  const std::string req = R"({"model":"openai/whisper-1","file":{"path":)" + q(path) +
                          R"(},"response_format":"verbose_json","timestamp_granularities":["word"],"temperature":0.2})";
  ASSERT_EQ(llm_preview_call(client, "audio.transcriptions", req.c_str(), nullptr, nullptr, 0, &out), LLM_OK)
      << llm_last_error();
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  EXPECT_STREQ(d["method"].GetString(), "POST");
  EXPECT_EQ(std::string(d["url"].GetString()), up.base_url() + "/audio/transcriptions");
  std::string auth;
  for (auto& h : d["headers"].GetObject())
    if (strcasecmp(h.name.GetString(), "authorization") == 0) auth = h.value.GetString();
  EXPECT_EQ(auth, "[REDACTED]") << dump(d["headers"]);
  EXPECT_EQ(std::string(dump(d)).find(kKey), std::string::npos);
  const auto& parts = d["parts"];
  ASSERT_TRUE(parts.IsArray()) << dump(d);
  std::map<std::string, const rapidjson::Value*> by_name;
  for (auto& p : parts.GetArray()) by_name[p["name"].GetString()] = &p;
  ASSERT_TRUE(by_name.count("file")) << dump(parts);
  const auto& file = *by_name["file"];
  EXPECT_STREQ(file["filename"].GetString(), "p.wav");
  EXPECT_STREQ(file["content_type"].GetString(), "audio/wav");
  EXPECT_EQ(file["bytes"].GetUint64(), audio.size());
  EXPECT_EQ(std::string(file["path"].GetString()), path);
  EXPECT_STREQ((*by_name["model"])["value"].GetString(), "whisper-1");
  EXPECT_STREQ((*by_name["response_format"])["value"].GetString(), "verbose_json");
  EXPECT_STREQ((*by_name["timestamp_granularities[]"])["value"].GetString(), "word");
  EXPECT_STREQ((*by_name["temperature"])["value"].GetString(), "0.2");
  // Caller-owned bytes: described, not read.
  const void* data[] = {audio.data()};
  const size_t sizes[] = {audio.size()};
  const std::string req2 = R"({"model":"openai/whisper-1","file":{"data":0,"filename":"b.ogg"}})";
  ASSERT_EQ(llm_preview_call(client, "audio.transcriptions", req2.c_str(), data, sizes, 1, &out), LLM_OK)
      << llm_last_error();
  rapidjson::Document d2 = parse(out);
  llm_string_free(out);
  ASSERT_TRUE(d2["parts"].IsArray()) << dump(d2);
  const rapidjson::Value* file2 = nullptr;
  for (auto& p : d2["parts"].GetArray())
    if (std::string(p["name"].GetString()) == "file") file2 = &p;
  ASSERT_NE(file2, nullptr) << dump(d2);
  EXPECT_STREQ((*file2)["filename"].GetString(), "b.ogg");
  EXPECT_STREQ((*file2)["content_type"].GetString(), "audio/ogg");
  EXPECT_EQ((*file2)["bytes"].GetUint64(), audio.size());
  EXPECT_FALSE(file2->HasMember("path"));
  EXPECT_TRUE(up.requests().empty());
}

// ---- files and batches ---------------------------------------------------------------------

TEST_F(Endpoints, FilesRoundTrip) {
  const std::string content = "{\"a\":1}\n{\"b\":2}\n";
  Call created = call("files.create", R"({"provider":"openai","purpose":"user_data","file":{"data":0,"filename":"rows.jsonl"}})",
                      {content});
  ASSERT_EQ(created.status, LLM_OK) << created.error;
  const std::string id = created.json["id"].GetString();
  EXPECT_STREQ(created.json["object"].GetString(), "file");
  EXPECT_EQ(created.json["bytes"].GetUint64(), content.size());
  EXPECT_STREQ(created.json["filename"].GetString(), "rows.jsonl");
  EXPECT_STREQ(created.json["purpose"].GetString(), "user_data");

  Call got = call("files.retrieve", R"({"provider":"openai","file_id":)" + q(id) + "}");
  ASSERT_EQ(got.status, LLM_OK) << got.error;
  EXPECT_EQ(std::string(got.json["id"].GetString()), id);

  Call listed = call("files.list", R"({"provider":"openai","purpose":"user_data","limit":5})");
  ASSERT_EQ(listed.status, LLM_OK) << listed.error;
  ASSERT_EQ(listed.json["data"].Size(), 1u);
  EXPECT_EQ(std::string(listed.json["data"][0]["id"].GetString()), id);
  EXPECT_FALSE(listed.json["has_more"].GetBool());
  bool query_sent = false;
  for (auto& r : sent("/v1/files?"))
    query_sent = query_sent || (r.target.find("purpose=user_data") != std::string::npos && r.target.find("limit=5") != std::string::npos);
  EXPECT_TRUE(query_sent);

  Call bytes = call("files.content", R"({"provider":"openai","file_id":)" + q(id) + "}");
  ASSERT_EQ(bytes.status, LLM_OK) << bytes.error;
  EXPECT_EQ(bytes.bytes, content);
  EXPECT_EQ(bytes.content_type, "application/octet-stream");

  Call deleted = call("files.delete", R"({"provider":"openai","file_id":)" + q(id) + "}");
  ASSERT_EQ(deleted.status, LLM_OK) << deleted.error;
  EXPECT_TRUE(deleted.json["deleted"].GetBool());
  EXPECT_EQ(sent().back().method, "DELETE");

  Call gone = call("files.retrieve", R"({"provider":"openai","file_id":)" + q(id) + "}");
  EXPECT_EQ(gone.status, LLM_ERR_NOT_FOUND) << gone.error;
  EXPECT_NE(gone.error.find(id), std::string::npos) << gone.error;

  // Batch input must be .jsonl: the upstream refuses other files for purpose batch.
  Call wrong = call("files.create", R"({"provider":"openai","purpose":"batch","file":{"data":0,"filename":"rows.csv"}})", {content});
  EXPECT_EQ(wrong.status, LLM_ERR_BAD_REQUEST) << wrong.error;
  EXPECT_NE(wrong.error.find(".jsonl"), std::string::npos) << wrong.error;
}

TEST_F(Endpoints, BatchOfChatRequestsCompletesWithTheChatAnswers) {
  const char* questions[] = {"first question", "second question", "third one"};
  std::string jsonl;
  for (int i = 0; i < 3; ++i)
    jsonl += R"({"custom_id":"req-)" + std::to_string(i) +
             R"(","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":)" +
             q(questions[i]) + "}]}}\n";
  const std::string path = write_file("batch.jsonl", jsonl);
  Call file = call("files.create", R"({"provider":"openai","purpose":"batch","file":{"path":)" + q(path) + "}}");
  ASSERT_EQ(file.status, LLM_OK) << file.error;
  const std::string file_id = file.json["id"].GetString();

  Call created = call("batches.create", R"({"provider":"openai","input_file_id":)" + q(file_id) +
                                            R"(,"endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"job":"e2e"}})");
  ASSERT_EQ(created.status, LLM_OK) << created.error;
  const std::string batch_id = created.json["id"].GetString();
  EXPECT_STREQ(created.json["status"].GetString(), "validating");
  EXPECT_STREQ(created.json["metadata"]["job"].GetString(), "e2e");

  Call done = call("batches.retrieve", R"({"provider":"openai","batch_id":)" + q(batch_id) + "}");
  ASSERT_EQ(done.status, LLM_OK) << done.error;
  EXPECT_STREQ(done.json["status"].GetString(), "completed");
  EXPECT_EQ(done.json["request_counts"]["total"].GetInt(), 3);
  EXPECT_EQ(done.json["request_counts"]["completed"].GetInt(), 3);
  EXPECT_EQ(done.json["request_counts"]["failed"].GetInt(), 0);
  ASSERT_TRUE(done.json["output_file_id"].IsString());

  Call out = call("files.content", R"({"provider":"openai","file_id":)" + q(done.json["output_file_id"].GetString()) + "}");
  ASSERT_EQ(out.status, LLM_OK) << out.error;
  std::vector<std::string> lines;
  for (size_t at = 0; at < out.bytes.size();) {
    size_t nl = out.bytes.find('\n', at);
    lines.push_back(out.bytes.substr(at, nl - at));
    at = nl == std::string::npos ? out.bytes.size() : nl + 1;
  }
  ASSERT_EQ(lines.size(), 3u) << out.bytes;
  for (int i = 0; i < 3; ++i) {
    rapidjson::Document line = parse(lines[static_cast<size_t>(i)].c_str());
    EXPECT_EQ(std::string(line["custom_id"].GetString()), "req-" + std::to_string(i));
    EXPECT_EQ(line["response"]["status_code"].GetInt(), 200);
    const auto& msg = line["response"]["body"]["choices"][0]["message"];
    EXPECT_EQ(std::string(msg["content"].GetString()),
              std::string("Hello from the local upstream. You said: ") + questions[i]);
  }

  Call list = call("batches.list", R"({"provider":"openai","limit":10})");
  ASSERT_EQ(list.status, LLM_OK) << list.error;
  ASSERT_EQ(list.json["data"].Size(), 1u);
  EXPECT_EQ(std::string(list.json["data"][0]["id"].GetString()), batch_id);

  // A finished batch cannot be cancelled; one not yet looked at can.
  Call late = call("batches.cancel", R"({"provider":"openai","batch_id":)" + q(batch_id) + "}");
  EXPECT_NE(late.status, LLM_OK);
  EXPECT_NE(late.error.find("completed"), std::string::npos) << late.error;
  Call second = call("batches.create", R"({"provider":"openai","input_file_id":)" + q(file_id) +
                                           R"(,"endpoint":"/v1/chat/completions","completion_window":"24h"})");
  ASSERT_EQ(second.status, LLM_OK) << second.error;
  const std::string second_id = second.json["id"].GetString();
  Call cancel = call("batches.cancel", R"({"provider":"openai","batch_id":)" + q(second_id) + "}");
  ASSERT_EQ(cancel.status, LLM_OK) << cancel.error;
  EXPECT_STREQ(cancel.json["status"].GetString(), "cancelling");
  EXPECT_EQ(sent("/v1/batches/" + second_id + "/cancel").back().method, "POST");
  Call after = call("batches.retrieve", R"({"provider":"openai","batch_id":)" + q(second_id) + "}");
  ASSERT_EQ(after.status, LLM_OK) << after.error;
  EXPECT_STREQ(after.json["status"].GetString(), "cancelled");
  EXPECT_TRUE(after.json["output_file_id"].IsNull());
}

TEST_F(Endpoints, BatchWithBadLinesFailsWithTheirErrors) {
  const std::string jsonl =
      R"({"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":"x"}})"
      "\nnot json\n";
  Call file = call("files.create", R"({"provider":"openai","purpose":"batch","file":{"data":0,"filename":"b.jsonl"}})", {jsonl});
  ASSERT_EQ(file.status, LLM_OK) << file.error;
  Call created = call("batches.create", R"({"provider":"openai","input_file_id":)" + q(file.json["id"].GetString()) +
                                            R"(,"endpoint":"/v1/chat/completions","completion_window":"24h"})");
  ASSERT_EQ(created.status, LLM_OK) << created.error;
  Call failed = call("batches.retrieve", R"({"provider":"openai","batch_id":)" + q(created.json["id"].GetString()) + "}");
  ASSERT_EQ(failed.status, LLM_OK) << failed.error;
  EXPECT_STREQ(failed.json["status"].GetString(), "failed");
  const auto& errors = failed.json["errors"]["data"];
  ASSERT_EQ(errors.Size(), 2u) << dump(failed.json);
  EXPECT_STREQ(errors[0]["code"].GetString(), "mismatched_endpoint");
  EXPECT_EQ(errors[0]["line"].GetInt(), 1);
  EXPECT_STREQ(errors[1]["code"].GetString(), "invalid_json_line");
  EXPECT_EQ(errors[1]["line"].GetInt(), 2);
  // A missing input file, and a completion window OpenAI does not offer.
  Call missing = call("batches.create", R"({"provider":"openai","input_file_id":"file-nope","endpoint":"/v1/chat/completions","completion_window":"24h"})");
  EXPECT_EQ(missing.status, LLM_ERR_NOT_FOUND) << missing.error;
  Call window = call("batches.create", R"({"provider":"openai","input_file_id":)" + q(file.json["id"].GetString()) +
                                           R"(,"endpoint":"/v1/chat/completions","completion_window":"1h"})");
  EXPECT_EQ(window.status, LLM_ERR_BAD_REQUEST) << window.error;
  EXPECT_NE(window.error.find("24h"), std::string::npos) << window.error;
}

// ---- the Responses API ---------------------------------------------------------------------

TEST_F(Endpoints, ResponsesLifecycle) {
  Call created = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":"tell me something","instructions":"be brief"})");
  ASSERT_EQ(created.status, LLM_OK) << created.error;
  const std::string id = created.json["id"].GetString();
  EXPECT_STREQ(created.json["object"].GetString(), "response");
  EXPECT_STREQ(created.json["status"].GetString(), "completed");
  const auto& out = created.json["output"];
  ASSERT_EQ(out.Size(), 1u);
  EXPECT_STREQ(out[0]["type"].GetString(), "message");
  EXPECT_STREQ(out[0]["content"][0]["type"].GetString(), "output_text");
  EXPECT_STREQ(out[0]["content"][0]["text"].GetString(), "Hello from the local upstream. You said: tell me something");
  EXPECT_EQ(created.json["usage"]["input_tokens"].GetInt(), 5);
  EXPECT_EQ(created.json["usage"]["output_tokens"].GetInt(), 10);

  Call got = call("responses.retrieve", R"({"provider":"openai","response_id":)" + q(id) + "}");
  ASSERT_EQ(got.status, LLM_OK) << got.error;
  EXPECT_EQ(std::string(got.json["id"].GetString()), id);
  EXPECT_STREQ(got.json["output"][0]["content"][0]["text"].GetString(),
               "Hello from the local upstream. You said: tell me something");

  // A follow-up names it; an unknown previous response is refused.
  Call next = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":"more","previous_response_id":)" + q(id) + "}");
  ASSERT_EQ(next.status, LLM_OK) << next.error;
  EXPECT_EQ(std::string(next.json["previous_response_id"].GetString()), id);
  Call orphan = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":"more","previous_response_id":"resp_nope"})");
  EXPECT_EQ(orphan.status, LLM_ERR_BAD_REQUEST) << orphan.error;
  EXPECT_NE(orphan.error.find("resp_nope"), std::string::npos) << orphan.error;

  // Only a background response can be cancelled.
  Call not_bg = call("responses.cancel", R"({"provider":"openai","response_id":)" + q(id) + "}");
  EXPECT_EQ(not_bg.status, LLM_ERR_BAD_REQUEST) << not_bg.error;
  EXPECT_NE(not_bg.error.find("background"), std::string::npos) << not_bg.error;

  Call deleted = call("responses.delete", R"({"provider":"openai","response_id":)" + q(id) + "}");
  ASSERT_EQ(deleted.status, LLM_OK) << deleted.error;
  EXPECT_TRUE(deleted.json["deleted"].GetBool());
  Call gone = call("responses.retrieve", R"({"provider":"openai","response_id":)" + q(id) + "}");
  EXPECT_EQ(gone.status, LLM_ERR_NOT_FOUND) << gone.error;
}

TEST_F(Endpoints, ResponsesBackgroundCancelToolCallsAndLimits) {
  Call bg = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":"slow job","background":true})");
  ASSERT_EQ(bg.status, LLM_OK) << bg.error;
  EXPECT_STREQ(bg.json["status"].GetString(), "queued");
  EXPECT_EQ(bg.json["output"].Size(), 0u);
  const std::string id = bg.json["id"].GetString();
  Call cancelled = call("responses.cancel", R"({"provider":"openai","response_id":)" + q(id) + "}");
  ASSERT_EQ(cancelled.status, LLM_OK) << cancelled.error;
  EXPECT_STREQ(cancelled.json["status"].GetString(), "cancelled");
  EXPECT_EQ(sent("/v1/responses/" + id + "/cancel").size(), 1u);
  Call after = call("responses.retrieve", R"({"provider":"openai","response_id":)" + q(id) + "}");
  ASSERT_EQ(after.status, LLM_OK) << after.error;
  EXPECT_STREQ(after.json["status"].GetString(), "cancelled");

  // A background response left alone completes.
  Call bg2 = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":"later","background":true})");
  ASSERT_EQ(bg2.status, LLM_OK) << bg2.error;
  Call done = call("responses.retrieve", R"({"provider":"openai","response_id":)" + q(bg2.json["id"].GetString()) + "}");
  ASSERT_EQ(done.status, LLM_OK) << done.error;
  EXPECT_STREQ(done.json["status"].GetString(), "completed");
  EXPECT_STREQ(done.json["output"][0]["content"][0]["text"].GetString(), "Hello from the local upstream. You said: later");

  // Function tools: a function_call item with arguments sampled from the schema.
  Call tool = call("responses.create",
                   R"({"model":"openai/gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_text","text":"weather?"}]}],"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]})");
  ASSERT_EQ(tool.status, LLM_OK) << tool.error;
  EXPECT_STREQ(tool.json["output"][0]["type"].GetString(), "function_call");
  EXPECT_STREQ(tool.json["output"][0]["name"].GetString(), "get_weather");
  EXPECT_STREQ(tool.json["output"][0]["arguments"].GetString(), R"({"city":"sample"})");

  // max_output_tokens cuts the text: status incomplete.
  Call cut = call("responses.create",
                  R"({"model":"openai/gpt-4o-mini","input":"one two three four five six seven eight nine ten eleven twelve thirteen fourteen","max_output_tokens":16})");
  ASSERT_EQ(cut.status, LLM_OK) << cut.error;
  EXPECT_STREQ(cut.json["status"].GetString(), "incomplete");
  EXPECT_STREQ(cut.json["incomplete_details"]["reason"].GetString(), "max_output_tokens");
  EXPECT_EQ(cut.json["usage"]["output_tokens"].GetInt(), 16);

  // The upstream's own checks: an unknown parameter, a bad role.
  Call unknown = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":"x","extra_body":{"frobnicate":true}})");
  EXPECT_EQ(unknown.status, LLM_ERR_BAD_REQUEST) << unknown.error;
  EXPECT_NE(unknown.error.find("Unknown parameter: 'frobnicate'"), std::string::npos) << unknown.error;
  Call role = call("responses.create", R"({"model":"openai/gpt-4o-mini","input":[{"role":"robot","content":"x"}]})");
  EXPECT_EQ(role.status, LLM_ERR_BAD_REQUEST) << role.error;
  EXPECT_NE(role.error.find("robot"), std::string::npos) << role.error;
}

// ---- OCR (Mistral) and rerank on the OpenAI-compatible hosts ------------------------------

using literllm::testing::upstream_ocr_markdown;

// The client of these tests: mistral, jina, voyage and together (and openai) all at the upstream.
llm_client_t* hosts_client(const literllm::testing::Upstream& up) {
  std::string providers;
  for (const char* p : {"openai", "mistral", "jina", "voyage", "together"})
    providers += std::string(providers.empty() ? "" : ",") + q(p) + ":{\"base_url\":" + q(up.base_url()) +
                 ",\"api_key\":" + q(kKey) + "}";
  llm_client_t* c = nullptr;
  EXPECT_EQ(llm_client_new(("{\"max_retries\":0,\"providers\":{" + providers + "}}").c_str(), &c), LLM_OK)
      << llm_last_error();
  return c;
}

// A PDF-looking document of `pages` pages, with bytes a text round trip would break (NUL, 0xFF, CR).
std::string fake_pdf(int pages) {
  std::string pdf = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Pages /Count " + std::to_string(pages) + " >>\n";
  for (int i = 0; i < pages; ++i) pdf += std::to_string(i + 2) + " 0 obj << /Type /Page /Parent 1 0 R >>\n";
  static const char tail[] = "stream\0\xff\r\n\x80\x01 binary\nendstream\n%%EOF\n";
  pdf.append(tail, sizeof tail - 1);
  return pdf;
}

// The markdown the upstream writes for a page (ocr.hpp), with its image reference.
std::string page_markdown(std::string_view what, std::string_view type, size_t i, size_t n) {
  return upstream_ocr_markdown(what, type, i, n) + "![img-" + std::to_string(i) + ".jpeg](img-" + std::to_string(i) +
         ".jpeg)";
}

TEST_F(Endpoints, OcrOfADocumentUrlAndAnImageUrl) {
  llm_client_free(client);
  client = hosts_client(up);
  const std::string url = "https://arxiv.example/paper.pdf";
  Call c = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"type":"document_url","document_url":)" +
                           q(url) + "}}");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/ocr");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(reqs[0].body, R"({"model":"mistral-ocr-latest","document":{"type":"document_url","document_url":)" + q(url) + "}}");
  // Mistral's answer, as it is: pages with markdown, images and dimensions; model; usage_info.
  ASSERT_EQ(c.json["pages"].Size(), 3u);
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    const auto& p = c.json["pages"][i];
    EXPECT_EQ(p["index"].GetInt(), static_cast<int>(i));
    EXPECT_EQ(std::string(p["markdown"].GetString()), page_markdown(url, "", i, 3));
    EXPECT_EQ(p["dimensions"]["dpi"].GetInt(), 200);
    EXPECT_EQ(p["dimensions"]["height"].GetInt(), 2200);
    EXPECT_EQ(p["dimensions"]["width"].GetInt(), 1700);
    ASSERT_EQ(p["images"].Size(), 1u);
    EXPECT_TRUE(p["images"][0]["image_base64"].IsNull());
  }
  EXPECT_STREQ(c.json["model"].GetString(), "mistral-ocr-latest");
  EXPECT_EQ(c.json["usage_info"]["pages_processed"].GetInt(), 3);
  EXPECT_TRUE(c.json["usage_info"]["doc_size_bytes"].IsNull());
  EXPECT_STREQ(c.json["provider"].GetString(), "mistral");

  // An image by URL: one page, as Mistral's image_url chunk ({"url"} form too).
  Call img = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"type":"image_url","image_url":{"url":"https://x.example/r.png"}},"include_image_base64":true})");
  ASSERT_EQ(img.status, LLM_OK) << img.error;
  ASSERT_EQ(img.json["pages"].Size(), 1u);
  EXPECT_EQ(img.json["pages"][0]["dimensions"]["width"].GetInt(), 1024);
  EXPECT_EQ(std::string(img.json["pages"][0]["images"][0]["image_base64"].GetString()).rfind("data:image/jpeg;base64,", 0), 0u);
}

TEST_F(Endpoints, OcrOfCallerBytesArrivesIntactAsADataUrl) {
  llm_client_free(client);
  client = hosts_client(up);
  const std::string pdf = fake_pdf(2);
  ASSERT_NE(pdf.find('\0'), std::string::npos);
  Call c = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"data":0,"content_type":"application/pdf"}})",
                {pdf});
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["document"]["type"].GetString(), "document_url");
  EXPECT_FALSE(body["document"].HasMember("document_name"));
  const std::string url = body["document"]["document_url"].GetString();
  ASSERT_EQ(url.rfind("data:application/pdf;base64,", 0), 0u) << url.substr(0, 40);
  EXPECT_EQ(b64decode(std::string_view(url).substr(28)), pdf);
  // The upstream read the same bytes: their length, hash and first bytes in each page's markdown.
  ASSERT_EQ(c.json["pages"].Size(), 2u);
  for (rapidjson::SizeType i = 0; i < 2; ++i)
    EXPECT_EQ(std::string(c.json["pages"][i]["markdown"].GetString()), page_markdown(pdf, "application/pdf", i, 2));
  EXPECT_EQ(c.json["usage_info"]["doc_size_bytes"].GetUint64(), pdf.size());
  EXPECT_EQ(c.json["usage_info"]["pages_processed"].GetInt(), 2);

  // An image by its filename: sent as an image_url; the PNG's own dimensions come back.
  std::string png = "\x89PNG\r\n\x1a\n";
  static const char ihdr[] = "\0\0\0\x0dIHDR\0\0\x02\x80\0\0\x01\xe0\x08\x06\0\0\0\x01\x02\x03\x04";  // 640 x 480
  static const char iend[] = "\0\0\0\0IEND\xae\x42\x60\x82";
  png.append(ihdr, sizeof ihdr - 1);
  png.append(iend, sizeof iend - 1);
  up.clear_requests();
  Call shot = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"data":0,"filename":"shot.PNG"}})", {png});
  ASSERT_EQ(shot.status, LLM_OK) << shot.error;
  reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["document"]["type"].GetString(), "image_url");
  EXPECT_EQ(std::string(body["document"]["image_url"].GetString()), "data:image/png;base64," + literllm::auth::base64_encode(png));
  ASSERT_EQ(shot.json["pages"].Size(), 1u);
  EXPECT_EQ(std::string(shot.json["pages"][0]["markdown"].GetString()), page_markdown(png, "image/png", 0, 1));
  EXPECT_EQ(shot.json["pages"][0]["dimensions"]["width"].GetInt(), 640);
  EXPECT_EQ(shot.json["pages"][0]["dimensions"]["height"].GetInt(), 480);
}

TEST_F(Endpoints, OcrOfAPathWithPageSelection) {
  llm_client_free(client);
  client = hosts_client(up);
  const std::string pdf = fake_pdf(4);
  const std::string path = write_file("minutes.pdf", pdf);
  Call c = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"path":)" + q(path) +
                           R"(},"pages":[3,1],"include_image_base64":true})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["document"]["document_name"].GetString(), "minutes.pdf");
  EXPECT_EQ(dump(body["pages"]), "[3,1]");
  EXPECT_TRUE(body["include_image_base64"].GetBool());
  ASSERT_EQ(c.json["pages"].Size(), 2u);
  EXPECT_EQ(c.json["pages"][0]["index"].GetInt(), 1);
  EXPECT_EQ(c.json["pages"][1]["index"].GetInt(), 3);
  EXPECT_EQ(std::string(c.json["pages"][1]["markdown"].GetString()), page_markdown(pdf, "application/pdf", 3, 4));
  EXPECT_TRUE(c.json["pages"][0]["images"][0]["image_base64"].IsString());
  EXPECT_EQ(c.json["usage_info"]["pages_processed"].GetInt(), 2);
  // Mistral's other spelling of pages: a string of numbers and ranges.
  Call range = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"path":)" + q(path) + R"(},"pages":"0-1,3"})");
  ASSERT_EQ(range.status, LLM_OK) << range.error;
  ASSERT_EQ(range.json["pages"].Size(), 3u);
  EXPECT_EQ(range.json["pages"][2]["index"].GetInt(), 3);
  // A page the document does not have: the upstream's 400, as Mistral's.
  Call past = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"path":)" + q(path) + R"(},"pages":[4]})");
  EXPECT_EQ(past.status, LLM_ERR_BAD_REQUEST) << past.error;
  EXPECT_NE(past.error.find("out of range"), std::string::npos) << past.error;
}

TEST_F(Endpoints, OcrPreviewShowsTheDataUrlAndSendsNothing) {
  llm_client_free(client);
  client = hosts_client(up);
  const std::string pdf = fake_pdf(1);
  const void* data[] = {pdf.data()};
  const size_t sizes[] = {pdf.size()};
  char* out = nullptr;
  ASSERT_EQ(llm_preview_call(client, "ocr",
                             R"({"model":"mistral/mistral-ocr-latest","document":{"data":0,"filename":"a.pdf"},"pages":[0]})",
                             data, sizes, 1, &out),
            LLM_OK)
      << llm_last_error();
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  EXPECT_EQ(std::string(d["url"].GetString()), up.base_url() + "/ocr");
  rapidjson::Document body = parse(d["body"].GetString());
  EXPECT_STREQ(body["model"].GetString(), "mistral-ocr-latest");
  EXPECT_STREQ(body["document"]["document_name"].GetString(), "a.pdf");
  EXPECT_EQ(std::string(body["document"]["document_url"].GetString()),
            "data:application/pdf;base64," + literllm::auth::base64_encode(pdf));
  EXPECT_TRUE(up.requests().empty());
}

TEST_F(Endpoints, OcrBadDocumentsAreRefusedBeforeSending) {
  llm_client_free(client);
  client = hosts_client(up);
  const std::string m = R"({"model":"mistral/mistral-ocr-latest","document":)";
  const std::string pdf = fake_pdf(1);
  // No such file.
  refused(call("ocr", m + R"({"path":)" + q(dir + "/nope.pdf") + "}}"), LLM_ERR_INVALID_ARGUMENT,
          {"request.document.path", "nope.pdf"});
  // A type Mistral OCR does not read: by extension, or named.
  const std::string txt = write_file("notes.txt", "plain text");
  refused(call("ocr", m + R"({"path":)" + q(txt) + "}}"), LLM_ERR_INVALID_ARGUMENT,
          {"request.document.content_type", "notes.txt"});
  refused(call("ocr", m + R"({"data":0,"content_type":"text/html"}})", {pdf}), LLM_ERR_INVALID_ARGUMENT,
          {"request.document.content_type", "text/html"});
  // Bytes without a type or a name to tell it by.
  refused(call("ocr", m + R"({"data":0}})", {pdf}), LLM_ERR_INVALID_ARGUMENT, {"request.document.content_type"});
  // Empty: a file, bytes.
  const std::string empty = write_file("empty.pdf", "");
  refused(call("ocr", m + R"({"path":)" + q(empty) + "}}"), LLM_ERR_INVALID_ARGUMENT,
          {"request.document", "empty.pdf", "is empty"});
  refused(call("ocr", m + R"({"data":0,"filename":"a.pdf"}})", {std::string_view("", 0)}), LLM_ERR_INVALID_ARGUMENT,
          {"request.document", "a.pdf", "is empty"});
  // Over Mistral's 50 MB (sparse: nothing is read).
  const std::string big = dir + "/big.pdf";
  {
    int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, (50 << 20) + 1), 0);
    ::close(fd);
  }
  refused(call("ocr", m + R"({"path":)" + q(big) + "}}"), LLM_ERR_INVALID_ARGUMENT,
          {"request.document", "big.pdf", "52428801", "52428800"});
  // Bytes the call was not given; both forms at once; a chunk's field mixed in.
  refused(call("ocr", m + R"({"data":1,"content_type":"application/pdf"}})", {pdf}), LLM_ERR_INVALID_ARGUMENT,
          {"request.document.data", "1"});
  refused(call("ocr", m + R"({"data":0,"path":"a.pdf"}})", {pdf}), LLM_ERR_INVALID_ARGUMENT,
          {"request.document", "exactly one"});
  refused(call("ocr", m + R"({"type":"document_url","data":0,"content_type":"application/pdf"}})", {pdf}),
          LLM_ERR_INVALID_ARGUMENT, {"request.document.type"});
  // A directory; a file that cannot be read (root reads anything: skipped then).
  refused(call("ocr", m + R"({"path":)" + q(dir) + "}}"), LLM_ERR_INVALID_ARGUMENT, {"request.document.path"});
  if (::geteuid() != 0) {
    const std::string locked = write_file("locked.pdf", pdf);
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
    refused(call("ocr", m + R"({"path":)" + q(locked) + "}}"), LLM_ERR_INVALID_ARGUMENT,
            {"request.document.path", "locked.pdf"});
  }
  // No document at all; OCR on a provider without it.
  refused(call("ocr", R"({"model":"mistral/mistral-ocr-latest"})"), LLM_ERR_INVALID_ARGUMENT, {"request.document"});
  refused(call("ocr", R"({"model":"openai/gpt-4o","document":{"type":"document_url","document_url":"https://x"}})"),
          LLM_ERR_ENDPOINT_NOT_SUPPORTED, {"openai", "ocr"});
}

TEST_F(Endpoints, OcrUpstreamChecksTheRequestAsMistralDoes) {
  llm_client_free(client);
  client = hosts_client(up);
  const std::string doc = R"("document":{"type":"document_url","document_url":"https://x.example/a.pdf"})";
  Call model = call("ocr", R"({"model":"mistral/mistral-ocr-9999",)" + doc + "}");
  EXPECT_EQ(model.status, LLM_ERR_BAD_REQUEST) << model.error;
  EXPECT_NE(model.error.find("Invalid model: mistral-ocr-9999"), std::string::npos) << model.error;
  Call extra = call("ocr", R"({"model":"mistral/mistral-ocr-latest",)" + doc + R"(,"extra_body":{"dpi":300}})");
  EXPECT_EQ(extra.status, LLM_ERR_BAD_REQUEST) << extra.error;
  EXPECT_NE(extra.error.find("Extra inputs are not permitted"), std::string::npos) << extra.error;
  EXPECT_NE(extra.error.find("dpi"), std::string::npos) << extra.error;
  // A document type Mistral does not have: refused before anything is sent.
  const size_t before = up.requests().size();
  Call tag = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"type":"pdf_url","pdf_url":"https://x"}})");
  EXPECT_EQ(tag.status, LLM_ERR_INVALID_ARGUMENT) << tag.error;
  EXPECT_NE(tag.error.find("request.document.type"), std::string::npos) << tag.error;
  EXPECT_NE(tag.error.find("pdf_url"), std::string::npos) << tag.error;
  EXPECT_EQ(up.requests().size(), before);
  // Bytes that are not what the caller said they are: the upstream reads them and refuses.
  Call lie = call("ocr", R"({"model":"mistral/mistral-ocr-latest","document":{"data":0,"content_type":"application/pdf"}})",
                  {std::string_view("GIF89a not a pdf")});
  EXPECT_EQ(lie.status, LLM_ERR_BAD_REQUEST) << lie.error;
  EXPECT_NE(lie.error.find("application/pdf"), std::string::npos) << lie.error;
}

TEST_F(Endpoints, RerankThroughJina) {
  llm_client_free(client);
  client = hosts_client(up);
  Call c = call("rerank", R"({"model":"jina/jina-reranker-v2-base-multilingual","query":"cat sat",)"
                          R"("documents":["dog ran",{"text":"the cat sat"},"cat only"],"return_documents":true})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/rerank");
  EXPECT_EQ(reqs[0].body,
            R"({"model":"jina-reranker-v2-base-multilingual","query":"cat sat","documents":["dog ran","the cat sat","cat only"],"return_documents":true})");
  ASSERT_EQ(c.json["results"].Size(), 3u);
  const int order[] = {1, 2, 0};
  const char* texts[] = {"the cat sat", "cat only", "dog ran"};
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    EXPECT_EQ(c.json["results"][i]["index"].GetInt(), order[i]);
    EXPECT_STREQ(c.json["results"][i]["document"]["text"].GetString(), texts[i]);
    if (i) {
      EXPECT_GE(c.json["results"][i - 1]["relevance_score"].GetDouble(), c.json["results"][i]["relevance_score"].GetDouble());
    }
  }
  EXPECT_STREQ(c.json["object"].GetString(), "list");
  EXPECT_EQ(c.json["usage"]["total_tokens"].GetInt(), 2 * 3 + 2 + 3 + 2);
  // top_n; no return_documents: none (Jina sends them unless told not to; the library keeps to what was asked).
  Call top = call("rerank", R"({"model":"jina/jina-reranker-v2-base-multilingual","query":"cat","documents":["a","cat"],"top_n":1})");
  ASSERT_EQ(top.status, LLM_OK) << top.error;
  ASSERT_EQ(top.json["results"].Size(), 1u);
  EXPECT_EQ(top.json["results"][0]["index"].GetInt(), 1);
  EXPECT_FALSE(top.json["results"][0].HasMember("document"));
  Call off = call("rerank", R"({"model":"jina/jina-reranker-v2-base-multilingual","query":"cat","documents":["a","cat"],"return_documents":false})");
  ASSERT_EQ(off.status, LLM_OK) << off.error;
  ASSERT_EQ(off.json["results"].Size(), 2u);
  EXPECT_FALSE(off.json["results"][0].HasMember("document"));
  // Voyage's spelling is not Jina's: the upstream refuses it as Jina does (422).
  Call k = call("rerank", R"({"model":"jina/jina-reranker-v2-base-multilingual","query":"cat","documents":["a"],"extra_body":{"top_k":1}})");
  EXPECT_EQ(k.status, LLM_ERR_BAD_REQUEST) << k.error;
  EXPECT_NE(k.error.find("top_k"), std::string::npos) << k.error;
}

TEST_F(Endpoints, RerankThroughVoyage) {
  llm_client_free(client);
  client = hosts_client(up);
  Call c = call("rerank", R"({"model":"voyage/rerank-2.5","query":"sunny beach",)"
                          R"("documents":["rainy city",{"text":"a sunny day at the beach","title":"t"},"sunny"],"top_n":2,"return_documents":true})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  // top_k, not top_n; every document a string.
  EXPECT_EQ(reqs[0].body,
            R"({"model":"rerank-2.5","query":"sunny beach","documents":["rainy city","a sunny day at the beach","sunny"],"return_documents":true,"top_k":2})");
  // Voyage's "data" with document strings, as the one shape.
  ASSERT_TRUE(c.json["results"].IsArray()) << dump(c.json);
  EXPECT_FALSE(c.json.HasMember("data"));
  ASSERT_EQ(c.json["results"].Size(), 2u);
  EXPECT_EQ(c.json["results"][0]["index"].GetInt(), 1);
  EXPECT_STREQ(c.json["results"][0]["document"]["text"].GetString(), "a sunny day at the beach");
  EXPECT_EQ(c.json["results"][1]["index"].GetInt(), 2);
  EXPECT_STREQ(c.json["results"][1]["document"]["text"].GetString(), "sunny");
  EXPECT_GT(c.json["results"][0]["relevance_score"].GetDouble(), c.json["results"][1]["relevance_score"].GetDouble());
  EXPECT_STREQ(c.json["model"].GetString(), "rerank-2.5");
  EXPECT_GT(c.json["usage"]["total_tokens"].GetInt(), 0);
  // Without return_documents: none.
  Call plain = call("rerank", R"({"model":"voyage/rerank-2.5","query":"sunny","documents":["rain","sunny"]})");
  ASSERT_EQ(plain.status, LLM_OK) << plain.error;
  ASSERT_EQ(plain.json["results"].Size(), 2u);
  EXPECT_EQ(plain.json["results"][0]["index"].GetInt(), 1);
  EXPECT_FALSE(plain.json["results"][0].HasMember("document"));
  // A field Voyage does not take: its 400.
  Call n = call("rerank", R"({"model":"voyage/rerank-2.5","query":"q","documents":["a"],"extra_body":{"rank_fields":["x"]}})");
  EXPECT_EQ(n.status, LLM_ERR_BAD_REQUEST) << n.error;
  EXPECT_NE(n.error.find("rank_fields"), std::string::npos) << n.error;
  // A model Voyage does not have.
  Call model = call("rerank", R"({"model":"voyage/rerank-9","query":"q","documents":["a"]})");
  EXPECT_EQ(model.status, LLM_ERR_BAD_REQUEST) << model.error;
  EXPECT_NE(model.error.find("rerank-9"), std::string::npos) << model.error;
}

TEST_F(Endpoints, RerankThroughTogether) {
  llm_client_free(client);
  client = hosts_client(up);
  Call c = call("rerank", R"({"model":"together/Salesforce/Llama-Rank-V1","query":"green tea",)"
                          R"("documents":["black coffee","green tea leaves","tea"],"top_n":2,"return_documents":true})");
  ASSERT_EQ(c.status, LLM_OK) << c.error;
  auto reqs = sent();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body,
            R"({"model":"Salesforce/Llama-Rank-V1","query":"green tea","documents":["black coffee","green tea leaves","tea"],"top_n":2,"return_documents":true})");
  ASSERT_EQ(c.json["results"].Size(), 2u);
  EXPECT_EQ(c.json["results"][0]["index"].GetInt(), 1);
  EXPECT_STREQ(c.json["results"][0]["document"]["text"].GetString(), "green tea leaves");
  EXPECT_EQ(c.json["results"][1]["index"].GetInt(), 2);
  EXPECT_STREQ(c.json["object"].GetString(), "list");
}

// What llm_providers_json says each host serves is what llm_call does: an
// endpoint listed goes out; one not listed is refused before anything is sent.
TEST_F(Endpoints, ProviderListingAgreesWithRerankAndOcr) {
  llm_client_free(client);
  client = hosts_client(up);
  char* out = nullptr;
  ASSERT_EQ(llm_providers_json(client, &out), LLM_OK) << llm_last_error();
  rapidjson::Document list = parse(out);
  llm_string_free(out);
  std::map<std::string, std::set<std::string>> serves;
  for (auto& p : list.GetArray())
    for (auto& e : p["endpoints"].GetArray()) serves[p["name"].GetString()].insert(e.GetString());
  for (const char* name : {"jina", "voyage"}) {
    EXPECT_TRUE(serves[name].count("rerank")) << name;
    EXPECT_TRUE(serves[name].count("embeddings")) << name;
    EXPECT_FALSE(serves[name].count("chat")) << name;
  }
  EXPECT_TRUE(serves["together"].count("rerank"));
  EXPECT_TRUE(serves["mistral"].count("ocr"));
  EXPECT_FALSE(serves["mistral"].count("rerank"));
  EXPECT_FALSE(serves["openai"].count("ocr"));
  const std::map<std::string, std::string> model = {{"jina", "jina-reranker-v2-base-multilingual"},
                                                    {"voyage", "rerank-2"},
                                                    {"together", "mixedbread-ai/Mxbai-Rerank-Large-V2"},
                                                    {"mistral", "mistral-ocr-latest"},
                                                    {"openai", "gpt-4o"}};
  for (auto& [name, m] : model) {
    for (const char* endpoint : {"rerank", "ocr"}) {
      SCOPED_TRACE(name + " " + endpoint);
      up.clear_requests();
      const std::string req = std::string(endpoint) == "rerank"
                                  ? R"({"model":)" + q(name + "/" + m) + R"(,"query":"q","documents":["q"]})"
                                  : R"({"model":)" + q(name + "/" + m) +
                                        R"(,"document":{"type":"document_url","document_url":"https://x.example/a.pdf"}})";
      Call c = call(endpoint, req);
      if (serves[name].count(endpoint)) {
        EXPECT_EQ(c.status, LLM_OK) << c.error;
        EXPECT_EQ(sent().size(), 1u);
      } else {
        refused(c, LLM_ERR_ENDPOINT_NOT_SUPPORTED, {name.c_str(), endpoint});
      }
    }
  }
}

}  // namespace
