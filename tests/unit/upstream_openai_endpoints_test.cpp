// The local upstream's OpenAI endpoints beyond chat (tests/upstream/openai_endpoints.cpp),
// spoken to directly: the checks api.openai.com makes that literllm's own
// checks never let through, answered in OpenAI's error shape and status.
#include <cstring>

#include "openai_endpoints.hpp"
#include "upstream_client.hpp"

using literllm::testing::Upstream;
using namespace upstream_client;

namespace {

const char* kForm = "multipart/form-data; boundary=XyZ";

struct FormPart {
  std::string name, value, filename = "", type = "";
};

std::string form(const std::vector<FormPart>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"";
    body += "\r\n";
    if (!p.type.empty()) body += "Content-Type: " + p.type + "\r\n";
    body += "\r\n" + p.value + "\r\n";
  }
  return body + "--XyZ--\r\n";
}

// {"error": {...}} with this status, param and code (empty: null), its message holding `words`.
void expect_error(const Answer& a, long status, const std::string& param, const std::string& code,
                  const std::string& words = "") {
  EXPECT_EQ(a.status, status) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << a.body;
  const auto& e = d["error"];
  EXPECT_TRUE(e["message"].IsString());
  EXPECT_TRUE(e["type"].IsString());
  if (param.empty()) {
    EXPECT_TRUE(e["param"].IsNull()) << a.body;
  } else {
    EXPECT_EQ(str(e["param"]), param) << a.body;
  }
  if (code.empty()) {
    EXPECT_TRUE(e["code"].IsNull()) << a.body;
  } else {
    EXPECT_EQ(str(e["code"]), code) << a.body;
  }
  if (!words.empty()) {
    EXPECT_NE(str(e["message"]).find(words), std::string::npos) << a.body;
  }
}

class UpstreamOpenAIEndpoints : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  Answer post(const std::string& path, const std::string& body, const std::string& type = "application/json") {
    return request(up, path, body, {}, "POST", type);
  }
  Upstream up;
  const std::string wav = literllm::testing::upstream_speech("hello upstream", "alloy", "wav");
};

}  // namespace

TEST_F(UpstreamOpenAIEndpoints, TranscriptionChecksTheForm) {
  // Not multipart at all.
  expect_error(post("/v1/audio/transcriptions", R"({"model":"whisper-1"})"), 400, "", "",
               "expected multipart/form-data");
  // A form that does not end.
  expect_error(post("/v1/audio/transcriptions", "--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nw", kForm),
               400, "", "", "Could not parse multipart form");
  // No file; a "file" field without a filename is no file.
  expect_error(post("/v1/audio/transcriptions", form({{"model", "whisper-1"}}), kForm), 400, "file",
               "missing_required_parameter");
  expect_error(post("/v1/audio/transcriptions", form({{"model", "whisper-1"}, {"file", wav}}), kForm), 400, "file",
               "missing_required_parameter");
  // No model; an unknown one.
  expect_error(post("/v1/audio/transcriptions", form({{"file", wav, "a.wav", "audio/wav"}}), kForm), 400, "model",
               "missing_required_parameter");
  expect_error(post("/v1/audio/transcriptions", form({{"file", wav, "a.wav", "audio/wav"}, {"model", "whisper-9"}}), kForm),
               404, "", "model_not_found", "whisper-9");
  // Not audio: by extension, by type; a .wav that is no WAV.
  expect_error(post("/v1/audio/transcriptions", form({{"file", "text", "a.txt", "text/plain"}, {"model", "whisper-1"}}), kForm),
               400, "file", "invalid_value", "Invalid file format");
  expect_error(post("/v1/audio/transcriptions", form({{"file", wav, "a.wav", "text/plain"}, {"model", "whisper-1"}}), kForm),
               400, "file", "invalid_value", "Invalid file format");
  expect_error(post("/v1/audio/transcriptions", form({{"file", std::string(100, 'x'), "a.wav", "audio/wav"}, {"model", "whisper-1"}}), kForm),
               400, "file", "invalid_value", "corrupted");
  // Granularities need verbose_json; an unknown field.
  expect_error(post("/v1/audio/transcriptions",
                    form({{"file", wav, "a.wav", "audio/wav"}, {"model", "whisper-1"}, {"timestamp_granularities[]", "word"}}), kForm),
               400, "timestamp_granularities", "invalid_value");
  expect_error(post("/v1/audio/transcriptions",
                    form({{"file", wav, "a.wav", "audio/wav"}, {"model", "whisper-1"}, {"colour", "blue"}}), kForm),
               400, "", "", "Unrecognized request argument supplied: colour");
  // Over 25 MB: 413, as OpenAI answers.
  std::string big = wav + std::string((25u << 20) + 1 - wav.size(), '\0');
  expect_error(post("/v1/audio/transcriptions", form({{"file", big, "big.wav", "audio/wav"}, {"model", "whisper-1"}}), kForm),
               413, "", "", "26214400");
}

TEST_F(UpstreamOpenAIEndpoints, TranscriptionFormatsAndTheRecordedBody) {
  const std::string body = form({{"file", wav, "a.wav", "audio/wav"}, {"model", "whisper-1"}, {"response_format", "srt"}});
  Answer srt = post("/v1/audio/transcriptions", body, kForm);
  EXPECT_EQ(srt.status, 200) << srt.body;
  EXPECT_EQ(srt.body, "1\n00:00:00,000 --> 00:00:00,500\nhello upstream\n\n");  // two words of 0.25 s
  Answer vtt = post("/v1/audio/translations",
                    form({{"file", wav, "a.wav", "audio/wav"}, {"model", "whisper-1"}, {"response_format", "vtt"}}), kForm);
  EXPECT_EQ(vtt.body, "WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nhello upstream\n\n");
  // The multipart body is recorded byte for byte, as received.
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, body);
  // Translations take whisper-1 only, and no granularities.
  expect_error(post("/v1/audio/translations", form({{"file", wav, "a.wav", "audio/wav"}, {"model", "gpt-4o-transcribe"}}), kForm),
               404, "", "model_not_found");
}

TEST_F(UpstreamOpenAIEndpoints, EmbeddingsChecks) {
  expect_error(post("/v1/embeddings", R"({"model":"text-embedding-3-small"})"), 400, "input", "missing_required_parameter");
  expect_error(post("/v1/embeddings", R"({"input":"x"})"), 400, "model", "missing_required_parameter");
  expect_error(post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":"x","encoding_format":"int8"})"), 400,
               "encoding_format", "invalid_value", "Supported values are: 'float' and 'base64'.");
  expect_error(post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":"x","dimensions":"8"})"), 400,
               "dimensions", "invalid_type", "expected an integer, but got a string");
  expect_error(post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":"x","dimensions":0})"), 400,
               "dimensions", "integer_below_min_value");
  expect_error(post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":""})"), 400, "", "", "'$.input' is invalid");
  expect_error(post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":[["a"]]})"), 400, "", "", "'$.input' is invalid");
  expect_error(post("/v1/embeddings", "not json"), 400, "", "", "could not parse the JSON body");
  expect_error(request(up, "/v1/embeddings", "", {}, "GET"), 405, "", "method_not_allowed");
  // Token ids are input too.
  Answer tokens = post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":[1,2,3],"dimensions":4})");
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  auto d = parse(tokens.body);
  auto want = literllm::testing::upstream_embedding("tokens:1,2,3,", 4);
  for (rapidjson::SizeType i = 0; i < 4; ++i)
    EXPECT_EQ(static_cast<float>(d["data"][0]["embedding"][i].GetDouble()), want[i]);
}

TEST_F(UpstreamOpenAIEndpoints, SpeechChecks) {
  expect_error(post("/v1/audio/speech", R"({"model":"tts-1","input":"x"})"), 400, "voice", "missing_required_parameter");
  expect_error(post("/v1/audio/speech", R"({"model":"tts-1","input":"x","voice":"alloy","response_format":"ogg"})"), 400,
               "response_format", "invalid_value");
  expect_error(post("/v1/audio/speech", R"({"model":"tts-1","input":"x","voice":"alloy","speed":5})"), 400, "speed",
               "decimal_above_max_value");
  expect_error(post("/v1/audio/speech", R"({"model":"tts-1","input":"x","voice":"alloy","instructions":"whisper"})"), 400,
               "instructions", "");
  expect_error(post("/v1/audio/speech", R"({"model":"tts-1","input":")" + std::string(4097, 'a') + R"(","voice":"alloy"})"),
               400, "input", "string_above_max_length");
  Answer pcm = post("/v1/audio/speech", R"({"model":"tts-1","input":"one two","voice":"alloy","response_format":"pcm"})");
  EXPECT_EQ(pcm.status, 200);
  EXPECT_EQ(pcm.header("content-type"), "audio/pcm");
  EXPECT_EQ(pcm.body.size(), 2u * 6000 * 2);  // two words, 6000 samples each, 2 bytes a sample
}

TEST_F(UpstreamOpenAIEndpoints, FilesAndBatchesChecks) {
  expect_error(post("/v1/files", form({{"file", "x", "a.jsonl", "application/jsonl"}}), kForm), 400, "purpose",
               "missing_required_parameter");
  expect_error(post("/v1/files", form({{"file", "x", "a.jsonl"}, {"purpose", "memes"}}), kForm), 400, "purpose",
               "invalid_value");
  expect_error(request(up, "/v1/files/file-nope", "", {}, "DELETE"), 404, "id", "", "file-nope");
  expect_error(request(up, "/v1/files?colour=blue", "", {}, "GET"), 400, "", "", "colour");
  expect_error(request(up, "/v1/files?limit=0", "", {}, "GET"), 400, "limit", "integer_below_min_value");
  // Listing: newest first unless order=asc.
  for (const char* name : {"1.txt", "2.txt"})
    ASSERT_EQ(post("/v1/files", form({{"file", "x", name}, {"purpose", "user_data"}}), kForm).status, 200);
  auto desc = parse(request(up, "/v1/files", "", {}, "GET").body);
  auto asc = parse(request(up, "/v1/files?order=asc&limit=1", "", {}, "GET").body);
  EXPECT_EQ(str(desc["data"][0]["filename"]), "2.txt");
  EXPECT_EQ(str(asc["data"][0]["filename"]), "1.txt");
  EXPECT_TRUE(asc["has_more"].GetBool());
  // Batches: required fields, the file's purpose, the window.
  expect_error(post("/v1/batches", R"({"endpoint":"/v1/chat/completions","completion_window":"24h"})"), 400,
               "input_file_id", "missing_required_parameter");
  const std::string id = str(asc["data"][0]["id"]);
  expect_error(post("/v1/batches", R"({"input_file_id":")" + id + R"(","endpoint":"/v1/chat/completions","completion_window":"24h"})"),
               400, "input_file_id", "invalid_value", "purpose 'batch'");
  expect_error(post("/v1/batches", R"({"input_file_id":")" + id + R"(","endpoint":"/v2/chat","completion_window":"24h"})"),
               400, "endpoint", "invalid_value");
  expect_error(request(up, "/v1/batches/batch_nope", "", {}, "GET"), 404, "", "not_found");
}

TEST_F(UpstreamOpenAIEndpoints, ResponsesChecks) {
  expect_error(post("/v1/responses", R"({"input":"x"})"), 400, "model", "missing_required_parameter");
  expect_error(post("/v1/responses", R"({"model":"m","input":"x","max_output_tokens":8})"), 400, "max_output_tokens",
               "integer_below_min_value");
  expect_error(post("/v1/responses", R"({"model":"m","input":"x","store":false,"background":true})"), 400, "background",
               "unsupported_value");
  expect_error(post("/v1/responses", R"({"model":"m","input":[{"role":"user","content":[{"type":"text","text":"x"}]}]})"),
               400, "input[0].content[0].type", "invalid_value");
  Answer unstored = post("/v1/responses", R"({"model":"m","input":"x","store":false})");
  ASSERT_EQ(unstored.status, 200) << unstored.body;
  const std::string id = str(parse(unstored.body)["id"]);
  expect_error(request(up, "/v1/responses/" + id, "", {}, "GET"), 404, "", "not_found", id);
}

TEST_F(UpstreamOpenAIEndpoints, RecordedMultipartBodiesSurviveGetRequests) {
  // A WAV's samples are no UTF-8: GET /__requests gives them exactly in body_base64.
  const std::string body = form({{"file", wav, "a.wav", "audio/wav"}, {"model", "whisper-1"}});
  ASSERT_EQ(post("/v1/audio/transcriptions", body, kForm).status, 200);
  ASSERT_EQ(post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":"caf\u00e9 ☕"})").status, 200);
  Answer got = request(up, "/__requests", "", {}, "GET");
  auto d = parse(got.body);
  ASSERT_TRUE(d.IsArray() && d.Size() == 2u) << got.body.substr(0, 200);
  ASSERT_TRUE(d[0].HasMember("body_base64"));
  const std::string b64 = str(d[0]["body_base64"]);
  std::string decoded;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* at = c ? std::strchr(table, c) : nullptr;
    if (!at) continue;  // '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(at - table);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  EXPECT_EQ(decoded, body);
  EXPECT_NE(str(d[0]["body"]).find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD where bytes were no UTF-8
  // A UTF-8 body stays as it is, with no base64 beside it.
  EXPECT_FALSE(d[1].HasMember("body_base64"));
  EXPECT_EQ(str(d[1]["body"]), up.requests()[1].body);
}
