// The Gemini generateContent codec (src/providers/gemini.cpp): requests built
// from OpenAI-shaped ones, and recorded real answers and SSE streams
// (../shared/fixtures/gemini: js-genai's recorded traffic and mock responses;
// ../shared/fixtures/vercel-ai/google) translated back.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/assembler.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/validate.hpp"
#include "http/headers.hpp"
#include "providers/adapter.hpp"
#include "providers/gemini.hpp"
#include "providers/registry.hpp"

namespace literllm {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(LITERLLM_FIXTURES_DIR);

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Target target(const std::string& model = "gemini-2.5-flash", const std::string& key = "AIzaTestKey123456") {
  Target t;
  t.spec = find_builtin("gemini");
  t.base_url = "https://generativelanguage.googleapis.test";
  t.api_key = key;
  t.secrets.add(key);
  t.model = model;
  t.credential = key_credential(*t.spec, key);
  return t;
}

json::Document parse(std::string_view text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

const Operation& op() { return *operation_for(Protocol::Gemini, Endpoint::Chat); }

// The body the operation builds for `request` (validated first, as prepare does).
json::Document body_of(const std::string& request, const std::string& model = "gemini-2.5-flash") {
  json::Document req = parse(request);
  validate_chat_request(req, false, RequestRules::Structure);
  Target t = target(model);
  http::Request r = op().build(req, t, false);
  return parse(r.body);
}

std::string msgs(const std::string& m) { return R"({"model":"gemini/gemini-2.5-flash","messages":)" + m; }
std::string s(const json::Value& v) { return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : json::dump(v); }

// ---------------------------------------------------------------- requests

TEST(GeminiBuild, UrlHeadersAndTheCredentialAfterTheBody) {
  Target t = target();
  json::Document req = parse(msgs(R"([{"role":"user","content":"hi"}]})"));
  http::Request r = op().build(req, t, false);
  EXPECT_EQ(r.url, "https://generativelanguage.googleapis.test/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(*http::find_header(r.headers, "accept"), "application/json");
  EXPECT_EQ(http::find_header(r.headers, "x-goog-api-key"), nullptr) << "the operation adds no credential";
  t.credential->apply(r, std::chrono::system_clock::now());
  EXPECT_EQ(*http::find_header(r.headers, "x-goog-api-key"), "AIzaTestKey123456");
  json::Document b = parse(r.body);
  EXPECT_FALSE(b.HasMember("model"));
  EXPECT_FALSE(b.HasMember("stream"));
  EXPECT_FALSE(b.HasMember("generationConfig")) << "nothing asked, nothing sent";

  json::Document sreq = parse(msgs(R"([{"role":"user","content":"hi"}],"stream":true})"));
  Target t2 = target("tuned/model x");
  http::Request sr = op().build(sreq, t2, true);
  EXPECT_EQ(sr.url,
            "https://generativelanguage.googleapis.test/v1beta/models/tuned%2Fmodel%20x:streamGenerateContent?alt=sse");
  EXPECT_EQ(*http::find_header(sr.headers, "accept"), "text/event-stream");
  EXPECT_FALSE(parse(sr.body).HasMember("stream"));
}

TEST(GeminiBuild, RolesSystemInstructionAndMergedTurns) {
  json::Document b = body_of(msgs(R"([
    {"role":"system","content":"Be brief."},
    {"role":"developer","content":[{"type":"text","text":"Be kind."}]},
    {"role":"user","content":"hi"},
    {"role":"user","content":[{"type":"text","text":"there"},{"type":"text","text":""}]},
    {"role":"assistant","content":"Hello!"},
    {"role":"assistant","content":""},
    {"role":"user","content":"bye"}]})"));
  const auto& si = b["systemInstruction"]["parts"];
  ASSERT_EQ(si.Size(), 2u);
  EXPECT_EQ(s(si[0]["text"]), "Be brief.");
  EXPECT_EQ(s(si[1]["text"]), "Be kind.");
  const auto& c = b["contents"];
  ASSERT_EQ(c.Size(), 3u);
  EXPECT_EQ(s(c[0]["role"]), "user");
  ASSERT_EQ(c[0]["parts"].Size(), 2u) << "consecutive user turns merged, the empty text left out";
  EXPECT_EQ(s(c[0]["parts"][1]["text"]), "there");
  EXPECT_EQ(s(c[1]["role"]), "model");
  ASSERT_EQ(c[1]["parts"].Size(), 1u);
  EXPECT_EQ(s(c[2]["role"]), "user");
}

TEST(GeminiBuild, ToolCallsResultsAndTheNameLookup) {
  json::Document b = body_of(msgs(R"([
    {"role":"user","content":"weather in Paris and Rome?"},
    {"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},
    {"role":"tool","tool_call_id":"call_a","content":"{\"temp\":18,\"unit\":\"C\"}"},
    {"role":"tool","tool_call_id":"call_b","content":[{"type":"text","text":"12:00"}]},
    {"role":"user","content":"thanks"}],
    "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}}},
             {"type":"function","function":{"name":"get_time"}}],
    "tool_choice":"required"})"));
  const auto& c = b["contents"];
  ASSERT_EQ(c.Size(), 3u);
  const auto& model = c[1]["parts"];
  ASSERT_EQ(model.Size(), 3u);
  EXPECT_EQ(s(model[0]["text"]), "Checking.");
  EXPECT_EQ(s(model[1]["functionCall"]["name"]), "get_weather");
  EXPECT_EQ(s(model[1]["functionCall"]["args"]["city"]), "Paris");
  EXPECT_TRUE(model[2]["functionCall"]["args"].IsObject()) << "no arguments: an empty object";
  EXPECT_FALSE(model[1]["functionCall"].HasMember("id")) << "the ids are ours, not Gemini's";
  const auto& results = c[2]["parts"];
  EXPECT_EQ(s(c[2]["role"]), "user");
  ASSERT_EQ(results.Size(), 3u) << "both results and the user's text in one user turn";
  EXPECT_EQ(s(results[0]["functionResponse"]["name"]), "get_weather") << "found through tool_call_id";
  EXPECT_EQ(results[0]["functionResponse"]["response"]["temp"].GetInt64(), 18) << "an object result is used as is";
  EXPECT_EQ(s(results[1]["functionResponse"]["name"]), "get_time");
  EXPECT_EQ(s(results[1]["functionResponse"]["response"]["result"]), "12:00") << "anything else is wrapped";
  EXPECT_EQ(s(results[2]["text"]), "thanks");
  const auto& decls = b["tools"][0]["functionDeclarations"];
  ASSERT_EQ(decls.Size(), 2u);
  EXPECT_EQ(s(decls[0]["description"]), "Weather");
  EXPECT_FALSE(decls[0]["parametersJsonSchema"]["additionalProperties"].GetBool()) << "full JSON Schema passes";
  EXPECT_FALSE(decls[1].HasMember("parametersJsonSchema"));
  EXPECT_EQ(s(b["toolConfig"]["functionCallingConfig"]["mode"]), "ANY");

  auto choice = [](const std::string& tc) {
    return body_of(msgs(R"([{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}],"tool_choice":)" +
                        tc + "}"));
  };
  json::Document named = choice(R"({"type":"function","function":{"name":"g"}})");
  EXPECT_EQ(s(named["toolConfig"]["functionCallingConfig"]["mode"]), "ANY");
  EXPECT_EQ(s(named["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"][0]), "g");
  EXPECT_EQ(s(choice(R"("none")")["toolConfig"]["functionCallingConfig"]["mode"]), "NONE");
  EXPECT_EQ(s(choice(R"("auto")")["toolConfig"]["functionCallingConfig"]["mode"]), "AUTO");
  json::Document must = choice(R"({"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}}]}})");
  EXPECT_EQ(s(must["toolConfig"]["functionCallingConfig"]["mode"]), "ANY");
  EXPECT_EQ(s(must["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"][0]), "f");
  json::Document may = choice(R"({"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function","function":{"name":"g"}}]}})");
  EXPECT_EQ(s(may["toolConfig"]["functionCallingConfig"]["mode"]), "AUTO");
  EXPECT_FALSE(may["toolConfig"]["functionCallingConfig"].HasMember("allowedFunctionNames")) << "only with ANY";
  ASSERT_EQ(may["tools"][0]["functionDeclarations"].Size(), 1u) << "auto among some: only those declared";
  EXPECT_EQ(s(may["tools"][0]["functionDeclarations"][0]["name"]), "g");
}

TEST(GeminiBuild, ImagesFilesAndAudio) {
  json::Document b = body_of(msgs(R"([{"role":"user","content":[
    {"type":"text","text":"what is this?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
    {"type":"image_url","image_url":{"url":"https://example.com/cat.JPG?size=2"}},
    {"type":"image_url","image_url":{"url":"gs://bucket/img"}},
    {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}},
    {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]}]})"));
  const auto& p = b["contents"][0]["parts"];
  ASSERT_EQ(p.Size(), 6u);
  EXPECT_EQ(s(p[1]["inlineData"]["mimeType"]), "image/png");
  EXPECT_EQ(s(p[1]["inlineData"]["data"]), "iVBORw0KGgo=");
  EXPECT_EQ(s(p[2]["fileData"]["fileUri"]), "https://example.com/cat.JPG?size=2");
  EXPECT_EQ(s(p[2]["fileData"]["mimeType"]), "image/jpeg") << "from the extension";
  EXPECT_FALSE(p[3]["fileData"].HasMember("mimeType")) << "unknown: left for Gemini to sniff";
  EXPECT_EQ(s(p[4]["inlineData"]["mimeType"]), "application/pdf");
  EXPECT_EQ(s(p[5]["inlineData"]["mimeType"]), "audio/wav");
  EXPECT_EQ(s(p[5]["inlineData"]["data"]), "UklGRg==");
}

TEST(GeminiBuild, GenerationConfigResponseFormatsAndThinking) {
  json::Document b = body_of(msgs(R"([{"role":"user","content":"hi"}],
    "temperature":0.5,"top_p":0.9,"max_tokens":100,"stop":"END","n":2,"seed":7,"presence_penalty":0.1,"frequency_penalty":0.2,
    "response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}},
    "reasoning_effort":"low"})"));
  const auto& g = b["generationConfig"];
  EXPECT_DOUBLE_EQ(g["temperature"].GetDouble(), 0.5);
  EXPECT_DOUBLE_EQ(g["topP"].GetDouble(), 0.9);
  EXPECT_EQ(g["maxOutputTokens"].GetInt64(), 100);
  EXPECT_EQ(s(g["stopSequences"][0]), "END");
  EXPECT_EQ(g["candidateCount"].GetInt64(), 2);
  EXPECT_EQ(g["seed"].GetInt64(), 7);
  EXPECT_DOUBLE_EQ(g["presencePenalty"].GetDouble(), 0.1);
  EXPECT_DOUBLE_EQ(g["frequencyPenalty"].GetDouble(), 0.2);
  EXPECT_EQ(s(g["responseMimeType"]), "application/json");
  EXPECT_EQ(s(g["responseJsonSchema"]["properties"]["a"]["type"]), "integer");
  EXPECT_EQ(g["thinkingConfig"]["thinkingBudget"].GetInt64(), 1024) << "Gemini 2.5: a budget";
  EXPECT_TRUE(g["thinkingConfig"]["includeThoughts"].GetBool());

  json::Document g3 = body_of(msgs(R"([{"role":"user","content":"hi"}],"max_completion_tokens":50,"reasoning_effort":"high","response_format":{"type":"json_object"}})"),
                              "gemini-3-pro-preview");
  EXPECT_EQ(s(g3["generationConfig"]["thinkingConfig"]["thinkingLevel"]), "high") << "Gemini 3: a level";
  EXPECT_FALSE(g3["generationConfig"]["thinkingConfig"].HasMember("thinkingBudget"));
  EXPECT_EQ(g3["generationConfig"]["maxOutputTokens"].GetInt64(), 50);
  EXPECT_EQ(s(g3["generationConfig"]["responseMimeType"]), "application/json");
  EXPECT_FALSE(g3["generationConfig"].HasMember("responseJsonSchema"));

  json::Document po = body_of(msgs(R"([{"role":"user","content":"hi"}],"temperature":1,
    "provider_options":{"gemini":{"safetySettings":[{"category":"HARM_CATEGORY_HATE_SPEECH","threshold":"BLOCK_NONE"}],
                                  "generationConfig":{"topK":40,"thinkingConfig":{"thinkingBudget":-1}}},
                        "anthropic":{"x":1}},
    "extra_body":{"cachedContent":"cachedContents/abc"}})"));
  EXPECT_EQ(s(po["safetySettings"][0]["threshold"]), "BLOCK_NONE");
  EXPECT_EQ(po["generationConfig"]["topK"].GetInt64(), 40);
  EXPECT_EQ(po["generationConfig"]["thinkingConfig"]["thinkingBudget"].GetInt64(), -1);
  EXPECT_EQ(po["generationConfig"]["temperature"].GetInt64(), 1) << "merged one level deep";
  EXPECT_EQ(s(po["cachedContent"]), "cachedContents/abc");
  EXPECT_FALSE(po.HasMember("x"));
  EXPECT_FALSE(po.HasMember("provider_options"));
}

TEST(GeminiBuild, RefusesWhatGeminiCannotTake) {
  auto fails = [](const std::string& req, const std::string& field) {
    try {
      body_of(req);
      ADD_FAILURE() << "no error for " << req;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  fails(msgs(R"([{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_zzz","content":"1"}]})"),
        "request.messages[1].tool_call_id");
  // The id must be an earlier call's: a later one does not count.
  fails(msgs(R"([{"role":"user","content":"x"},{"role":"tool","tool_call_id":"c1","content":"1"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}]})"),
        "request.messages[1].tool_call_id");
  fails(msgs(R"([{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{nope"}}]}]})"),
        "request.messages[0].tool_calls[0].function.arguments");
  fails(msgs(R"([{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})"),
        "request.messages[0].tool_calls[0].function.arguments");
  fails(msgs(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]})"),
        "request.messages[0].content[0].image_url.url");
  fails(msgs(R"([{"role":"system","content":"only a system message"}]})"), "request.messages");
}

// ---------------------------------------------------------------- answers

// What a GenerateContentResponse (or a list of stream events) says, for candidate 0.
struct Expected {
  std::string text, reasoning, finish;
  bool has_text = false;
  std::vector<std::string> names, args;  // args "" when it came in pieces
  size_t signatures = 0;
  const json::Value* usage = nullptr;
};

void expect_from(const json::Value& ev, Expected& e) {
  if (const json::Value* u = json::find(ev, "usageMetadata");
      u && (u->HasMember("promptTokenCount") || u->HasMember("totalTokenCount")))
    e.usage = u;
  const json::Value* cands = json::find(ev, "candidates");
  if (!cands || !cands->IsArray()) return;
  for (auto& c : cands->GetArray()) {
    if (c.HasMember("index") && c["index"].GetInt64() != 0) continue;
    if (c.HasMember("finishReason")) e.finish = s(c["finishReason"]);
    const json::Value* content = json::find(c, "content");
    const json::Value* parts = content ? json::find(*content, "parts") : nullptr;
    if (!parts) continue;
    for (auto& p : parts->GetArray()) {
      if (p.HasMember("thoughtSignature")) ++e.signatures;
      if (p.HasMember("functionCall")) {
        const auto& fc = p["functionCall"];
        if (fc.HasMember("name")) {
          e.names.push_back(s(fc["name"]));
          bool whole = !fc.HasMember("willContinue") && !fc.HasMember("partialArgs");
          e.args.push_back(whole ? (fc.HasMember("args") ? json::dump(fc["args"]) : "{}") : "");
        }
      } else if (p.HasMember("text")) {
        if (p.HasMember("thought") && p["thought"].GetBool()) e.reasoning += s(p["text"]);
        else {
          e.text += s(p["text"]);
          e.has_text = true;
        }
      }
    }
  }
}

int64_t num(const json::Value& u, const char* k) { return u.HasMember(k) ? u[k].GetInt64() : 0; }

void check_answer(const json::Value& d, const Expected& want) {
  ASSERT_TRUE(d["choices"].IsArray());
  ASSERT_GE(d["choices"].Size(), 1u);
  const auto& ch = d["choices"][0];
  const auto& msg = ch["message"];
  EXPECT_EQ(s(msg["role"]), "assistant");
  if (!want.text.empty()) { EXPECT_EQ(s(msg["content"]), want.text); }
  if (!want.reasoning.empty()) { EXPECT_EQ(s(msg["reasoning_content"]), want.reasoning); }
  size_t calls = msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0;
  ASSERT_EQ(calls, want.names.size());
  for (rapidjson::SizeType i = 0; i < calls; ++i) {
    const auto& tc = msg["tool_calls"][i];
    EXPECT_EQ(s(tc["function"]["name"]), want.names[i]);
    EXPECT_EQ(s(tc["id"]).rfind("call_", 0), 0u);
    EXPECT_TRUE(parse(s(tc["function"]["arguments"])).IsObject());
    if (!want.args[i].empty()) { EXPECT_EQ(s(tc["function"]["arguments"]), want.args[i]); }
  }
  size_t blocks = msg.HasMember("thinking_blocks") ? msg["thinking_blocks"].Size() : 0;
  EXPECT_EQ(blocks, want.signatures) << "one block per signed part";
  if (!want.finish.empty()) {
    std::string fr = s(ch["finish_reason"]);
    if (want.finish == "STOP") {
      EXPECT_EQ(fr, calls ? "tool_calls" : "stop");
    } else if (want.finish == "MAX_TOKENS") {
      EXPECT_EQ(fr, "length");
    } else if (want.finish == "SAFETY" || want.finish == "RECITATION") {
      EXPECT_EQ(fr, "content_filter");
    } else {
      EXPECT_EQ(fr, "stop") << want.finish;
    }
  }
  if (want.usage) {
    const auto& u = *want.usage;
    ASSERT_TRUE(d.HasMember("usage"));
    const auto& got = d["usage"];
    EXPECT_EQ(got["prompt_tokens"].GetInt64(), num(u, "promptTokenCount") + num(u, "toolUsePromptTokenCount"));
    EXPECT_EQ(got["completion_tokens"].GetInt64(), num(u, "candidatesTokenCount") + num(u, "thoughtsTokenCount"));
    EXPECT_EQ(got["completion_tokens_details"]["reasoning_tokens"].GetInt64(), num(u, "thoughtsTokenCount"));
    EXPECT_EQ(got["prompt_tokens_details"]["cached_tokens"].GetInt64(), num(u, "cachedContentTokenCount"));
    if (u.HasMember("totalTokenCount")) { EXPECT_EQ(got["total_tokens"].GetInt64(), num(u, "totalTokenCount")); }
  }
}

void check_whole(const std::string& body) {
  json::Document src = parse(body);
  Expected want;
  expect_from(src, want);
  json::Document d = gemini_response(body, target());
  check_answer(d, want);
  EXPECT_EQ(s(d["id"]), src.HasMember("responseId") ? s(src["responseId"]) : "");
}

// js-genai's recordings: {"interactions":[{"request":{url,...},"response":{statusCode,bodySegments}}]}.
template <class F>
size_t for_each_interaction(const std::string& kind, F&& f) {
  const fs::path dir = kFixtures / "gemini" / "recordings";
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    json::Document rec = parse(read_file(e.path()));
    for (auto& it : rec["interactions"].GetArray()) {
      std::string url = s(it["request"]["url"]);
      if (url.find(kind) == std::string::npos) continue;
      SCOPED_TRACE(e.path().filename().string() + " " + url);
      ++n;
      f(it["response"]);
    }
  }
  return n;
}

TEST(GeminiParse, RecordedJsGenaiAnswers) {
  if (!fs::exists(kFixtures / "gemini" / "recordings")) GTEST_SKIP() << "SKIPPED: fixtures not found";
  size_t ok = 0;
  size_t n = for_each_interaction(":generateContent", [&](const json::Value& resp) {
    ASSERT_EQ(resp["bodySegments"].Size(), 1u);
    std::string body = json::dump(resp["bodySegments"][0]);
    if (resp["statusCode"].GetInt64() != 200) return;
    ++ok;
    check_whole(body);
  });
  EXPECT_GE(n, 30u);
  EXPECT_GE(ok, 30u);
}

TEST(GeminiParse, MockAnswersBlocksAndErrors) {
  const fs::path dir = kFixtures / "gemini" / "mock-responses";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  size_t files = 0, blocked = 0, errors = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    std::string body = read_file(e.path());
    json::Document src = parse(body);
    if (src.HasMember("error")) {
      ++errors;
      Error err = op().http_error(target(), src["error"]["code"].GetInt64(), body, {});
      EXPECT_EQ(err.status(), LLM_ERR_BAD_REQUEST);
      EXPECT_EQ(err.type, "INVALID_ARGUMENT");
      EXPECT_NE(std::string(err.what()).find("invalid argument"), std::string::npos) << err.what();
      continue;
    }
    if (!src.HasMember("candidates")) {
      ++blocked;
      try {
        gemini_response(body, target());
        ADD_FAILURE() << "a blocked prompt parsed";
      } catch (const Error& err) {
        EXPECT_EQ(err.status(), LLM_ERR_CONTENT_POLICY);
        EXPECT_NE(std::string(err.what()).find("SAFETY"), std::string::npos) << err.what();
      }
      continue;
    }
    check_whole(body);
  }
  EXPECT_GE(files, 10u);
  EXPECT_EQ(blocked, 1u);
  EXPECT_EQ(errors, 1u);
}

TEST(GeminiParse, VercelRecordedAnswers) {
  const fs::path dir = kFixtures / "vercel-ai" / "google";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    std::string body = read_file(e.path());
    json::Document src = parse(body);
    if (src.HasMember("error")) {
      Error err = op().http_error(target(), src["error"]["code"].GetInt64(), body, {{"retry-after", "3"}});
      EXPECT_EQ(err.status(), LLM_ERR_RATE_LIMITED);
      EXPECT_EQ(err.type, "RESOURCE_EXHAUSTED");
      EXPECT_EQ(err.retry_after, 3) << "the header wins";
      EXPECT_DOUBLE_EQ(op().http_error(target(), 429, body, {}).retry_after, 34.4) << "RetryInfo.retryDelay";
      continue;
    }
    check_whole(body);
  }
  EXPECT_GE(files, 4u);
}

TEST(GeminiParse, UsageFinishReasonsAndCandidates) {
  json::Document d = gemini_response(R"({"candidates":[
      {"content":{"parts":[{"text":"thinking...","thought":true},{"text":"A"}],"role":"model"},"finishReason":"MAX_TOKENS","index":0},
      {"content":{"parts":[{"text":"B"}],"role":"model"},"finishReason":"MALFORMED_FUNCTION_CALL","index":1},
      {"finishReason":"PROHIBITED_CONTENT","index":2}],
    "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":20,"thoughtsTokenCount":30,"totalTokenCount":150},
    "modelVersion":"gemini-2.5-pro","responseId":"r1"})",
                                     target());
  EXPECT_EQ(s(d["model"]), "gemini-2.5-pro");
  EXPECT_EQ(s(d["id"]), "r1");
  ASSERT_EQ(d["choices"].Size(), 3u);
  EXPECT_EQ(s(d["choices"][0]["message"]["content"]), "A");
  EXPECT_EQ(s(d["choices"][0]["message"]["reasoning_content"]), "thinking...");
  EXPECT_EQ(s(d["choices"][0]["finish_reason"]), "length");
  EXPECT_EQ(d["choices"][1]["index"].GetInt64(), 1);
  EXPECT_EQ(s(d["choices"][1]["finish_reason"]), "stop");
  EXPECT_TRUE(d["choices"][2]["message"]["content"].IsNull());
  EXPECT_EQ(s(d["choices"][2]["finish_reason"]), "content_filter");
  const auto& u = d["usage"];
  EXPECT_EQ(u["prompt_tokens"].GetInt64(), 100);
  EXPECT_EQ(u["completion_tokens"].GetInt64(), 50);
  EXPECT_EQ(u["total_tokens"].GetInt64(), 150);
  EXPECT_EQ(u["prompt_tokens_details"]["cached_tokens"].GetInt64(), 60);
  EXPECT_EQ(u["completion_tokens_details"]["reasoning_tokens"].GetInt64(), 30);

  // Gemini's own call id is kept; without one, ids are stable and distinct.
  const char* calls = R"({"candidates":[{"content":{"parts":[
      {"functionCall":{"id":"g-1","name":"f","args":{"a":1}}},
      {"functionCall":{"name":"f","args":{"a":1}}},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"}],"responseId":"r2"})";
  json::Document c1 = gemini_response(calls, target()), c2 = gemini_response(calls, target());
  const auto& tcs = c1["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(tcs.Size(), 3u);
  EXPECT_EQ(s(tcs[0]["id"]), "g-1");
  EXPECT_NE(s(tcs[1]["id"]), s(tcs[2]["id"]));
  EXPECT_EQ(s(tcs[1]["id"]), s(c2["choices"][0]["message"]["tool_calls"][1]["id"]));
  EXPECT_EQ(s(c1["choices"][0]["finish_reason"]), "tool_calls");

  EXPECT_THROW(gemini_response("[]", target()), Error);
  try {
    gemini_response(R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})", target());
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_SERVICE_UNAVAILABLE);
  }
}

TEST(GeminiParse, HttpErrorsAreTyped) {
  Error key = op().http_error(target(), 400, R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}})", {});
  EXPECT_EQ(key.status(), LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(key.http_status(), 400);
  if (!fs::exists(kFixtures / "gemini" / "recordings")) return;
  size_t n = 0;
  for_each_interaction(":streamGenerateContent", [&](const json::Value& resp) {
    if (resp["statusCode"].GetInt64() == 200) return;
    ++n;
    std::string body = json::dump(resp["bodySegments"][0]);
    Error e = op().http_error(target(), resp["statusCode"].GetInt64(), body, {});
    EXPECT_EQ(e.status(), LLM_ERR_NOT_FOUND);
    EXPECT_EQ(e.type, "NOT_FOUND");
    EXPECT_NE(std::string(e.what()).find("custom-gemini-2.0-flash"), std::string::npos) << e.what();
  });
  EXPECT_EQ(n, 1u);
}

// ---------------------------------------------------------------- streams

struct Streamed {
  StreamDecoder::Fed last = StreamDecoder::Fed::More;
  StreamAssembler assembler;
  size_t chunks = 0;
};

Streamed stream(const std::string& sse, size_t step, const Target& t = target()) {
  Streamed out;
  auto dec = op().stream_decoder(t, Limits{});
  ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
    EXPECT_EQ(json::dump(parse(text)), json::dump(chunk)) << "the text is the chunk";
    ++out.chunks;
    out.assembler.add(chunk);
    return true;
  };
  for (size_t i = 0; i < sse.size() && out.last == StreamDecoder::Fed::More; i += step)
    out.last = dec->feed(sse.data() + i, std::min(step, sse.size() - i), sink);
  if (out.last == StreamDecoder::Fed::More) dec->finish(sink);
  return out;
}

std::string sse_of(const std::vector<std::string>& events, const char* eol) {
  std::string sse;
  for (auto& e : events) sse += std::string("data: ") + e + eol + eol;
  return sse;
}

// The parts of an assembled answer that must not depend on how the bytes were split.
std::string shape(const json::Value& d) { return json::dump(d["choices"]) + (d.HasMember("usage") ? json::dump(d["usage"]) : ""); }

// Every split gives the same answer, which says what the events say.
json::Document check_stream(const std::vector<std::string>& events, const std::string& sse) {
  std::vector<json::Document> docs;
  docs.reserve(events.size());  // want.usage points into them
  Expected want;
  for (auto& e : events) {
    docs.push_back(parse(e));
    expect_from(docs.back(), want);
  }
  std::string first;
  json::Document out;
  for (size_t step : {sse.size(), size_t{1}, size_t{7}, size_t{100}}) {
    SCOPED_TRACE("pieces of " + std::to_string(step));
    Streamed st = stream(sse, step);
    EXPECT_EQ(st.last, StreamDecoder::Fed::More) << "Gemini has no end event: the body's end ends the stream";
    json::Document d = st.assembler.finish();
    if (!want.finish.empty()) { EXPECT_TRUE(st.assembler.all_finished()); }
    check_answer(d, want);
    if (first.empty()) first = shape(d);
    else { EXPECT_EQ(shape(d), first); }
    if (step == sse.size()) out.CopyFrom(d, out.GetAllocator());
  }
  return out;
}

TEST(GeminiStream, RecordedJsGenaiStreams) {
  if (!fs::exists(kFixtures / "gemini" / "recordings")) GTEST_SKIP() << "SKIPPED: fixtures not found";
  size_t ok = 0;
  size_t n = for_each_interaction(":streamGenerateContent", [&](const json::Value& resp) {
    const json::Value* code = json::find(resp, "statusCode");
    const json::Value* segs = json::find(resp, "bodySegments");
    if (!code || !code->IsInt64() || code->GetInt64() != 200 || !segs || !segs->IsArray() || segs->Empty()) return;
    ++ok;
    std::vector<std::string> events;
    for (auto& seg : segs->GetArray()) events.push_back(json::dump(seg));
    check_stream(events, sse_of(events, "\r\n"));
  });
  EXPECT_GE(n, 30u);
  EXPECT_GE(ok, 30u);
}

TEST(GeminiStream, MockSseFilesWithCrlf) {
  const fs::path dir = kFixtures / "gemini" / "mock-responses";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  size_t files = 0, blocked = 0, crlf = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".txt") continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    std::string sse = read_file(e.path());
    crlf += sse.find("\r\n") != std::string::npos;
    std::vector<std::string> events;
    std::istringstream in(sse);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data: ", 0) == 0) events.push_back(line.substr(6));
    }
    ASSERT_FALSE(events.empty());
    json::Document first = parse(events[0]);
    if (!first.HasMember("candidates") && first["promptFeedback"].HasMember("blockReason")) {
      ++blocked;
      for (size_t step : {sse.size(), size_t{1}}) {
        try {
          stream(sse, step);
          ADD_FAILURE() << "a blocked prompt streamed";
        } catch (const Error& err) {
          EXPECT_EQ(err.status(), LLM_ERR_CONTENT_POLICY);
        }
      }
      continue;
    }
    check_stream(events, sse);
  }
  EXPECT_GE(files, 10u);
  EXPECT_GE(crlf, 9u) << "most of them end their lines with CRLF";
  EXPECT_EQ(blocked, 1u);
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream in(read_file(p));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

TEST(GeminiStream, VercelChunkFilesWithLf) {
  const fs::path dir = kFixtures / "vercel-ai" / "google";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().string().find(".chunks.txt") == std::string::npos) continue;
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    std::vector<std::string> events = lines_of(e.path());
    check_stream(events, sse_of(events, "\n"));
  }
  EXPECT_GE(files, 5u);
}

TEST(GeminiStream, ArgumentsStreamedInPiecesAreAssembled) {
  const fs::path nested = kFixtures / "vercel-ai" / "google" / "google-vertex-stream-tool-call-arguments-nested.1.chunks.txt";
  if (!fs::exists(nested)) GTEST_SKIP() << "SKIPPED: fixtures not found";
  std::vector<std::string> events = lines_of(nested);
  json::Document d = check_stream(events, sse_of(events, "\n"));
  const auto& tcs = d["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(tcs.Size(), 1u);
  EXPECT_EQ(s(tcs[0]["function"]["name"]), "cookRecipe");
  json::Document args = parse(s(tcs[0]["function"]["arguments"]));
  const auto& recipe = args["recipe"];
  EXPECT_EQ(s(recipe["name"]), "Lasagna");
  ASSERT_EQ(recipe["ingredients"].Size(), 10u);
  EXPECT_EQ(s(recipe["ingredients"][0]["amount"]), "16 oz");
  EXPECT_EQ(s(recipe["ingredients"][9]["name"]), "Pepper");
  ASSERT_EQ(recipe["steps"].Size(), 10u);
  EXPECT_EQ(s(recipe["steps"][1]), "Cook lasagna noodles according to package directions, drain and set aside.");
  EXPECT_EQ(s(recipe["steps"][4]), "In a 9x13 baking dish, spread a thin layer of meat sauce.");
  EXPECT_EQ(s(d["choices"][0]["finish_reason"]), "tool_calls");
  // The signature came on the call's first piece: it belongs to that call.
  const auto& tb = d["choices"][0]["message"]["thinking_blocks"];
  ASSERT_EQ(tb.Size(), 1u);
  EXPECT_EQ(s(tb[0]["tool_call_id"]), s(tcs[0]["id"]));

  // Three calls in a row, one with no arguments at all.
  std::vector<std::string> three = lines_of(kFixtures / "vercel-ai" / "google" / "google-stream-no-args-tool-call.chunks.txt");
  json::Document t = check_stream(three, sse_of(three, "\n"));
  const auto& c3 = t["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(c3.Size(), 4u);
  EXPECT_EQ(s(c3[0]["function"]["arguments"]), "{}");
  EXPECT_EQ(s(c3[1]["function"]["arguments"]), R"({"id":"A"})");
  EXPECT_EQ(s(c3[3]["function"]["arguments"]), R"({"id":"C"})");

  // A whole answer with partialArgs (no willContinue): numbers kept as numbers.
  json::Document w = gemini_response(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"customDivide","partialArgs":[{"jsonPath":"$.denominator","numberValue":2},{"jsonPath":"$.numerator","numberValue":100}]},"thoughtSignature":"c2ln"}],"role":"model"},"finishReason":"STOP"}]})",
                                     target());
  EXPECT_EQ(s(w["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]), R"({"denominator":2,"numerator":100})");
}

// Each chunk's tool calls, in order: a recorder for the stream's chunks.
struct ToolDeltas {
  std::vector<std::string> ids, names, args;  // per chunk that carried a tool call
  size_t chunks = 0;
};

ToolDeltas tool_deltas(const std::string& sse) {
  ToolDeltas out;
  const Target t = target();  // the decoder keeps a reference to it
  auto dec = op().stream_decoder(t, Limits{});
  ChunkSink sink = [&](std::string_view, const json::Value& chunk) {
    ++out.chunks;
    if (!chunk["choices"].Empty())
      if (const json::Value* tcs = json::find(chunk["choices"][0]["delta"], "tool_calls"))
        for (auto& tc : tcs->GetArray()) {
          out.ids.push_back(tc.HasMember("id") ? s(tc["id"]) : "");
          out.names.push_back(tc["function"].HasMember("name") ? s(tc["function"]["name"]) : "");
          out.args.push_back(s(tc["function"]["arguments"]));
        }
    return true;
  };
  if (dec->feed(sse.data(), sse.size(), sink) == StreamDecoder::Fed::More) dec->finish(sink);
  return out;
}

// Arguments Gemini streams (partialArgs, streamFunctionCallArguments) go out
// as they come, as OpenAI streams arguments: the first chunk names the call,
// the next ones add to its arguments, and they add up to the whole answer's.
TEST(GeminiStream, ArgumentsInPiecesAreStreamedAsTheyCome) {
  const fs::path nested = kFixtures / "vercel-ai" / "google" / "google-vertex-stream-tool-call-arguments-nested.1.chunks.txt";
  if (!fs::exists(nested)) GTEST_SKIP() << "SKIPPED: fixtures not found";
  std::vector<std::string> events = lines_of(nested);
  ToolDeltas all = tool_deltas(sse_of(events, "\n"));
  ASSERT_GT(all.args.size(), 20u) << "one chunk per piece that adds to the arguments";
  EXPECT_EQ(all.names[0], "cookRecipe");
  EXPECT_EQ(all.ids[0].rfind("call_", 0), 0u);
  std::string joined;
  for (size_t i = 0; i < all.args.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(all.ids[i], "") << "only the first piece names the call";
      EXPECT_FALSE(all.args[i].empty()) << "no empty pieces";
    }
    joined += all.args[i];
  }
  json::Document args = parse(joined);
  EXPECT_EQ(s(args["recipe"]["steps"][9]), "Let stand for 15 minutes before serving.");

  // Ten events in, the first ingredient is out already.
  std::vector<std::string> first_ten(events.begin(), events.begin() + 10);
  ToolDeltas early = tool_deltas(sse_of(first_ten, "\n"));
  std::string so_far;
  for (auto& a : early.args) so_far += a;
  EXPECT_EQ(so_far, R"({"recipe":{"ingredients":[{"amount":"16 oz","name":"Lasagna noodles"},{"amount":"1 lb","name":"Ground beef)");
  EXPECT_EQ(joined.rfind(so_far, 0), 0u) << "the text only grows at its end";

  // The same parts in one whole answer: the same call, the same id.
  json::Document whole(rapidjson::kObjectType);
  auto& a = whole.GetAllocator();
  json::Value parts(rapidjson::kArrayType);
  for (auto& e : events) {
    json::Document d = parse(e);
    for (auto& p : d["candidates"][0]["content"]["parts"].GetArray()) parts.PushBack(json::Value(p, a), a);
  }
  json::Value content(rapidjson::kObjectType), cand(rapidjson::kObjectType), cands(rapidjson::kArrayType);
  content.AddMember("role", "model", a);
  content.AddMember("parts", parts, a);
  cand.AddMember("content", content, a);
  cand.AddMember("finishReason", "STOP", a);
  cands.PushBack(cand, a);
  whole.AddMember("candidates", cands, a);
  whole.AddMember("responseId", "tjXVaYaxFISTq8YP_MWiyAo", a);
  json::Document w = gemini_response(json::dump(whole), target());
  const auto& tc = w["choices"][0]["message"]["tool_calls"][0];
  EXPECT_EQ(s(tc["function"]["arguments"]), joined);
  EXPECT_EQ(s(tc["id"]), all.ids[0]);
}

// partialArgs written as text: nesting, gaps, every value type, escapes, and
// what cannot be written in order is a typed error.
TEST(GeminiStream, PartialArgumentsAsText) {
  auto call = [](const std::string& pieces, const char* whole_args = nullptr) {
    std::string fc = R"({"name":"f",)" + std::string(whole_args ? std::string(R"("args":)") + whole_args + "," : "") +
                     R"("partialArgs":[)" + pieces + "]}";
    return R"({"candidates":[{"content":{"parts":[{"functionCall":)" + fc +
           R"(}],"role":"model"},"finishReason":"STOP"}]})";
  };
  auto args_of = [&](const std::string& pieces, const char* whole_args = nullptr) {
    json::Document w = gemini_response(call(pieces, whole_args), target());
    std::string text = s(w["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]);
    // Streamed, the same text.
    ToolDeltas st = tool_deltas(sse_of({call(pieces, whole_args)}, "\n"));
    EXPECT_EQ(st.args.size(), 1u);
    if (!st.args.empty()) { EXPECT_EQ(st.args[0], text); }
    return text;
  };
  EXPECT_EQ(args_of(R"({"jsonPath":"$.a.b[0].c","stringValue":"x"},{"jsonPath":"$.a.b[2]","numberValue":1.5},)"
                    R"({"jsonPath":"$.a.d","boolValue":false},{"jsonPath":"$['e f']","nullValue":null},)"
                    R"({"jsonPath":"$.g[0][1]","numberValue":-3})"),
            R"({"a":{"b":[{"c":"x"},null,1.5],"d":false},"e f":null,"g":[[null,-3]]})");
  EXPECT_EQ(args_of(R"({"jsonPath":"$.q","stringValue":"say \"hi\"\n","willContinue":true},)"
                    R"({"jsonPath":"$.q","stringValue":"\\ done"},{"jsonPath":"$[\"k.1\"]","stringValue":""})"),
            R"({"q":"say \"hi\"\n\\ done","k.1":""})");
  EXPECT_EQ(args_of(R"({"jsonPath":"$.later","numberValue":2})", R"({"first":{"x":[1]}})"),
            R"({"first":{"x":[1]},"later":2})");
  EXPECT_EQ(args_of(R"({"jsonPath":"$.nothing"})"), "{}") << "a piece without a value says nothing";

  for (const char* bad : {R"({"jsonPath":"$.a","numberValue":1},{"jsonPath":"$.a","numberValue":2})",
                          R"({"jsonPath":"$.a.x","numberValue":1},{"jsonPath":"$.b","numberValue":1},{"jsonPath":"$.a.y","numberValue":1})",
                          R"({"jsonPath":"$.a[1]","numberValue":1},{"jsonPath":"$.a[0]","numberValue":1})",
                          R"({"jsonPath":"$.a[0]","numberValue":1},{"jsonPath":"$.a.k","numberValue":1})",
                          R"({"jsonPath":"$[0]","numberValue":1})", R"({"jsonPath":"$","numberValue":1})",
                          R"({"jsonPath":"$.first","numberValue":1})"}) {
    SCOPED_TRACE(bad);
    try {
      gemini_response(call(bad, R"({"first":0})"), target());
      ADD_FAILURE() << "parsed";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_SERIALIZATION);
      EXPECT_NE(std::string(e.what()).find("partialArgs"), std::string::npos) << e.what();
    }
    try {
      tool_deltas(sse_of({call(bad, R"({"first":0})")}, "\n"));
      ADD_FAILURE() << "streamed";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_STREAMING);
    }
  }
  std::string deep = "$";
  for (int i = 0; i < 600; ++i) deep += ".a";
  EXPECT_THROW(gemini_response(call(R"({"jsonPath":")" + deep + R"(","numberValue":1})"), target()), Error);
}

TEST(GeminiStream, IdsAgreeWithTheWholeAnswerAndUsageComesOnce) {
  const fs::path p = kFixtures / "vercel-ai" / "google" / "google-tool-call.json";
  if (!fs::exists(p)) GTEST_SKIP() << "SKIPPED: fixtures not found";
  std::string body = read_file(p);
  json::Document whole = gemini_response(body, target());
  std::string event = json::dump(parse(body));
  Streamed st = stream(sse_of({event}, "\r\n"), 5);
  json::Document streamed = st.assembler.finish();
  EXPECT_EQ(json::dump(streamed["choices"][0]["message"]["tool_calls"]), json::dump(whole["choices"][0]["message"]["tool_calls"]));
  EXPECT_EQ(json::dump(streamed["choices"][0]["message"]["thinking_blocks"]),
            json::dump(whole["choices"][0]["message"]["thinking_blocks"]));
  EXPECT_EQ(json::dump(streamed["usage"]), json::dump(whole["usage"]));
  EXPECT_EQ(s(streamed["choices"][0]["finish_reason"]), s(whole["choices"][0]["finish_reason"]));

  // Usage events arrive with every event; one usage chunk goes out, at the end.
  std::string sse = sse_of({R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":1,"totalTokenCount":2}})",
                            R"({"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"totalTokenCount":3}})"},
                           "\n");
  Streamed u = stream(sse, sse.size());
  EXPECT_EQ(u.chunks, 4u) << "a, b, the finish, the usage";
  json::Document d = u.assembler.finish();
  EXPECT_EQ(s(d["choices"][0]["message"]["content"]), "ab");
  EXPECT_EQ(d["usage"]["total_tokens"].GetInt64(), 3);
}

TEST(GeminiStream, ErrorEventsAreTyped) {
  std::string sse = sse_of({R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})",
                            R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}})"},
                           "\r\n");
  try {
    stream(sse, 3);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_RATE_LIMITED);
    EXPECT_NE(std::string(e.what()).find("exhausted"), std::string::npos);
  }
  EXPECT_THROW(stream("data: {nope\n\n", 100), Error);
  for (const char* path : {"$.a[99999999]", "$.a[]", "$.a[x]", "nope", "$.a[1"}) {
    SCOPED_TRACE(path);
    std::string ev = std::string(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","partialArgs":[{"jsonPath":")") +
                     path + R"(","numberValue":1}]}}]},"finishReason":"STOP"}]})";
    try {
      stream(sse_of({ev}, "\n"), 100);
      ADD_FAILURE() << "a malformed jsonPath streamed";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_STREAMING);
    }
    try {
      gemini_response(ev, target());
      ADD_FAILURE() << "a malformed jsonPath parsed";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_SERIALIZATION);
    }
  }
}

// Any prefix of a recorded stream decodes or fails with a typed Error, never worse.
TEST(GeminiStream, EveryPrefixOfARecordedStream) {
  const fs::path p = kFixtures / "vercel-ai" / "google" / "google-stream-no-args-tool-call.chunks.txt";
  if (!fs::exists(p)) GTEST_SKIP() << "SKIPPED: fixtures not found";
  std::string sse = sse_of(lines_of(p), "\r\n");
  for (size_t cut = 0; cut < sse.size(); cut += 97) {
    try {
      stream(sse.substr(0, cut), 13);
    } catch (const Error& e) {
      ADD_FAILURE() << "cut at " << cut << ": " << e.what();  // a prefix is just a shorter stream
    }
  }
}

// ---------------------------------------------------------------- round trip

// The assistant message of an answer, sent back on the next turn after a tool result.
json::Document next_turn(const json::Value& message, const std::string& model = "gemini-3-pro-preview") {
  json::Document req = parse(msgs(R"([{"role":"user","content":"weather in SF?"}]})"));
  auto& a = req.GetAllocator();
  req["messages"].PushBack(json::Value(message, a), a);
  if (message.HasMember("tool_calls"))
    for (auto& tc : message["tool_calls"].GetArray()) {
      json::Value tool(rapidjson::kObjectType);
      tool.AddMember("role", "tool", a);
      tool.AddMember("tool_call_id", json::Value(tc["id"], a), a);
      tool.AddMember("content", "sunny", a);
      req["messages"].PushBack(tool, a);
    }
  return body_of(json::dump(req), model);
}

TEST(GeminiRoundTrip, ThoughtSignaturesGoBackOnTheirParts) {
  const fs::path dir = kFixtures / "vercel-ai" / "google";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  json::Document src = parse(read_file(dir / "google-tool-call.json"));
  std::string sig = s(src["candidates"][0]["content"]["parts"][0]["thoughtSignature"]);

  // From the whole answer.
  json::Document whole = gemini_response(read_file(dir / "google-tool-call.json"), target());
  json::Document b = next_turn(whole["choices"][0]["message"]);
  const auto& model = b["contents"][1];
  EXPECT_EQ(s(model["role"]), "model");
  ASSERT_EQ(model["parts"].Size(), 1u);
  EXPECT_EQ(s(model["parts"][0]["functionCall"]["name"]), "weather");
  EXPECT_EQ(s(model["parts"][0]["functionCall"]["args"]["location"]), "San Francisco");
  EXPECT_EQ(s(model["parts"][0]["thoughtSignature"]), sig);
  EXPECT_EQ(s(b["contents"][2]["parts"][0]["functionResponse"]["name"]), "weather");

  // From the assembled stream.
  std::vector<std::string> events = lines_of(dir / "google-tool-call-gemini3.chunks.txt");
  std::string ssig = s(parse(events[0])["candidates"][0]["content"]["parts"][0]["thoughtSignature"]);
  json::Document streamed = stream(sse_of(events, "\n"), 64).assembler.finish();
  json::Document sb = next_turn(streamed["choices"][0]["message"]);
  EXPECT_EQ(s(sb["contents"][1]["parts"][0]["thoughtSignature"]), ssig);
  EXPECT_EQ(s(sb["contents"][2]["parts"][0]["functionResponse"]["name"]), "weather");

  // A text answer's signature goes back on its text.
  json::Document text = gemini_response(read_file(dir / "google-text.json"), target());
  std::string tsig = s(parse(read_file(dir / "google-text.json"))["candidates"][0]["content"]["parts"][0]["thoughtSignature"]);
  json::Document tb = next_turn(text["choices"][0]["message"]);
  const auto& tp = tb["contents"][1]["parts"];
  ASSERT_EQ(tp.Size(), 1u);
  EXPECT_EQ(s(tp[0]["thoughtSignature"]), tsig);
  EXPECT_EQ(s(tp[0]["text"]), s(text["choices"][0]["message"]["content"]));

  // The streamed text answer: the signature came on an empty last part.
  std::vector<std::string> tev = lines_of(dir / "google-text.chunks.txt");
  json::Document ts = stream(sse_of(tev, "\n"), 100).assembler.finish();
  json::Document tsb = next_turn(ts["choices"][0]["message"]);
  EXPECT_FALSE(s(tsb["contents"][1]["parts"][0]["thoughtSignature"]).empty());

  // Google's OpenAI-compatible spelling is read too.
  json::Document ec = next_turn(parse(R"({"role":"assistant","content":null,"tool_calls":[{"id":"x1","type":"function",
      "function":{"name":"weather","arguments":"{}"},"extra_content":{"google":{"thought_signature":"c2ln"}}}]})"));
  EXPECT_EQ(s(ec["contents"][1]["parts"][0]["thoughtSignature"]), "c2ln");
}

}  // namespace
}  // namespace literllm
