// The local upstream's Gemini generateContent (tests/upstream/gemini.cpp), on
// the Gemini API and on Vertex AI, checked over real sockets with libcurl: the
// real API's checks and Google's error shape, the deterministic reply, the SSE
// stream (CRLF framing, no [DONE]), thought signatures round trips, safety
// blocks, injected errors, API keys.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "literllm.h"
#include "upstream.hpp"
#include "upstream_client.hpp"

namespace {

using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

using upstream_client::Answer;

Answer post(const Upstream& up, const std::string& path, const std::string& body,
            const std::vector<std::string>& headers = {}) {
  return upstream_client::request(up, path, body, headers);
}

using upstream_client::parse;
using upstream_client::str;

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// Google's error: {"error":{"code","message","status"}}.
void expect_google_error(const Answer& a, long status, const std::string& name, const std::string& message_part = {}) {
  EXPECT_EQ(a.status, status) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << a.body;
  EXPECT_EQ(d["error"]["code"].GetInt(), status);
  EXPECT_EQ(str(d["error"]["status"]), name) << a.body;
  EXPECT_NE(str(d["error"]["message"]).find(message_part), std::string::npos) << a.body;
}

const std::string kFlash = "/v1beta/models/gemini-2.0-flash:generateContent";
const std::string kFlashStream = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";
const std::string kPro3 = "/v1beta/models/gemini-3-pro-preview:generateContent";
const std::string kVertex = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";
const std::string kVertexStream =
    "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse";

const std::string kHello =
    R"({"systemInstruction":{"parts":[{"text":"be brief"}]},"contents":[{"role":"user","parts":[{"text":"hi there"}]}]})";
const std::string kHelloText = "Hello from the local upstream. You said: hi there";

const std::string kTools =
    R"("tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parameters":)"
    R"({"type":"OBJECT","properties":{"city":{"type":"STRING"},"days":{"type":"INTEGER"}}}}]}])";

class UpstreamGemini : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  Upstream up;
};

// The SSE events' data, checking the CRLF framing Google's servers use.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\r\n\r\n", pos);
    EXPECT_NE(end, std::string::npos) << body.substr(pos);
    if (end == std::string::npos) break;
    std::string event = body.substr(pos, end - pos);
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    out.push_back(event.substr(6));
    pos = end + 4;
  }
  return out;
}

// ---- the reply -----------------------------------------------------------------------

TEST_F(UpstreamGemini, TextReply) {
  Answer a = post(up, kFlash, kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json; charset=UTF-8");
  auto d = parse(a.body);
  const auto& c = d["candidates"][0];
  EXPECT_EQ(str(c["content"]["role"]), "model");
  ASSERT_EQ(c["content"]["parts"].Size(), 1u);
  EXPECT_EQ(str(c["content"]["parts"][0]["text"]), kHelloText);
  EXPECT_FALSE(c["content"]["parts"][0].HasMember("thoughtSignature"));  // 2.0 does not think
  EXPECT_EQ(str(c["finishReason"]), "STOP");
  EXPECT_EQ(c["index"].GetInt(), 0);
  EXPECT_EQ(d["usageMetadata"]["promptTokenCount"].GetInt(), 4);
  EXPECT_EQ(d["usageMetadata"]["candidatesTokenCount"].GetInt(), 9);
  EXPECT_EQ(d["usageMetadata"]["totalTokenCount"].GetInt(), 13);
  EXPECT_FALSE(d["usageMetadata"].HasMember("thoughtsTokenCount"));
  EXPECT_EQ(str(d["modelVersion"]), "gemini-2.0-flash");
  EXPECT_FALSE(str(d["responseId"]).empty());
  // Any prefix: Upstream::base_url() as the endpoint.
  EXPECT_EQ(post(up, "/v1" + kFlash, kHello).status, 200);
  // snake_case field names are the same fields (proto JSON).
  a = post(up, kFlash, R"({"contents":[{"role":"user","parts":[{"text":"x"}]}],"generation_config":{"max_output_tokens":2}})");
  d = parse(a.body);
  EXPECT_EQ(str(d["candidates"][0]["content"]["parts"][0]["text"]), "Hello from");
  EXPECT_EQ(str(d["candidates"][0]["finishReason"]), "MAX_TOKENS");
  d = parse(post(up, kFlash, kHello, {"x-upstream-cached-tokens: 3"}).body);
  EXPECT_EQ(d["usageMetadata"]["cachedContentTokenCount"].GetInt(), 3);
}

TEST_F(UpstreamGemini, StructuredOutput) {
  auto d = parse(post(up, kFlash,
                      R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",)"
                      R"("responseJsonSchema":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"object","properties":{"c":{"type":"string"}}}}}}})")
                     .body);
  EXPECT_EQ(str(d["candidates"][0]["content"]["parts"][0]["text"]), R"({"a":1,"b":{"c":"sample"}})");
  d = parse(post(up, kFlash,
                 R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",)"
                 R"("responseSchema":{"type":"OBJECT","properties":{"n":{"type":"NUMBER"}}}}})")
                .body);
  EXPECT_EQ(str(d["candidates"][0]["content"]["parts"][0]["text"]), R"({"n":1.5})");
}

TEST_F(UpstreamGemini, FunctionCallsAndResponses) {
  Answer a = post(up, kFlash, R"({"contents":[{"role":"user","parts":[{"text":"weather?"}]}],)" + kTools + "}");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  const auto& part = d["candidates"][0]["content"]["parts"][0];
  EXPECT_EQ(str(part["functionCall"]["name"]), "get_weather");
  EXPECT_EQ(to_json(part["functionCall"]["args"]), R"({"city":"sample","days":1})");
  EXPECT_EQ(str(d["candidates"][0]["finishReason"]), "STOP");
  // The response goes back in a user turn; the reply is text about it.
  std::string next = R"({"contents":[{"role":"user","parts":[{"text":"weather?"}]},)"
                     R"({"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},)"
                     R"({"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"sky":"sunny"}}}]}],)" +
                     kTools + "}";
  a = post(up, kFlash, next);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(str(parse(a.body)["candidates"][0]["content"]["parts"][0]["text"]),
            R"(Hello from the local upstream. You said: {"sky":"sunny"})");
  // Mode NONE: text.
  d = parse(post(up, kFlash,
                 R"({"contents":[{"parts":[{"text":"x"}]}],)" + kTools +
                     R"(,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}})")
                .body);
  EXPECT_TRUE(d["candidates"][0]["content"]["parts"][0].HasMember("text"));
  // A response turn with no call turn before it.
  expect_google_error(post(up, kFlash,
                           R"({"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]})"),
                      400, "INVALID_ARGUMENT",
                      "Please ensure that function response turn comes immediately after a function call turn.");
}

TEST_F(UpstreamGemini, ThoughtSignatureRoundTrip) {
  const std::string ask = R"({"contents":[{"role":"user","parts":[{"text":"weather?"}]}],)" + kTools + "}";
  Answer a = post(up, kPro3, ask);
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  const auto& part = d["candidates"][0]["content"]["parts"][0];
  ASSERT_TRUE(part.HasMember("functionCall")) << a.body;
  std::string sig = str(part["thoughtSignature"]);
  EXPECT_FALSE(sig.empty());
  EXPECT_GT(d["usageMetadata"]["thoughtsTokenCount"].GetInt(), 0);
  auto turn = [&](const std::string& signature_member) {
    return R"({"contents":[{"role":"user","parts":[{"text":"weather?"}]},)"
           R"({"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"sample","days":1}})" +
           signature_member +
           R"(}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"t":20}}}]}],)" + kTools +
           "}";
  };
  a = post(up, kPro3, turn(R"(,"thoughtSignature":")" + sig + "\""));
  EXPECT_EQ(a.status, 200) << a.body;
  // Text replies with thinking on carry the signature on their (last) text part.
  std::string text_sig = str(parse(a.body)["candidates"][0]["content"]["parts"][0]["thoughtSignature"]);
  EXPECT_FALSE(text_sig.empty());
  expect_google_error(post(up, kPro3, turn("")), 400, "INVALID_ARGUMENT",
                      "Function call is missing a thought_signature in functionCall parts. This is required for tools "
                      "to work correctly, and missing thought_signature may lead to degraded model performance. "
                      "Additional data, function call `default_api:get_weather` , position 2.");
  expect_google_error(post(up, kPro3, turn(R"(,"thoughtSignature":"AAAA)" + sig.substr(4) + "\"")), 400,
                      "INVALID_ARGUMENT", "Corrupted thought signature.");
  // Google's documented placeholder passes; older models do not insist.
  EXPECT_EQ(post(up, kPro3, turn(R"(,"thoughtSignature":"skip_thought_signature_validator")")).status, 200);
  EXPECT_EQ(post(up, "/v1beta/models/gemini-2.5-flash:generateContent", turn("")).status, 200);
  // Vertex words it its own way.
  expect_google_error(
      post(up, "/v1/projects/p/locations/global/publishers/google/models/gemini-3-pro-preview:generateContent",
           turn("")),
      400, "INVALID_ARGUMENT",
      "Unable to submit request because function call `get_weather` in the 2. content block is missing a "
      "`thought_signature`.");
}

TEST_F(UpstreamGemini, ThoughtsIncluded) {
  auto d = parse(post(up, "/v1beta/models/gemini-2.5-flash:generateContent",
                      R"({"contents":[{"parts":[{"text":"why"}]}],"generationConfig":{"thinkingConfig":{"includeThoughts":true,"thinkingBudget":1024}}})")
                     .body);
  const auto& parts = d["candidates"][0]["content"]["parts"];
  ASSERT_EQ(parts.Size(), 2u);
  EXPECT_EQ(str(parts[0]["text"]), "Thinking about: why");
  EXPECT_TRUE(parts[0]["thought"].GetBool());
  EXPECT_EQ(str(parts[1]["text"]), "Hello from the local upstream. You said: why");
  EXPECT_EQ(d["usageMetadata"]["thoughtsTokenCount"].GetInt(), 3);
  // thinkingBudget 0 turns 2.5's thinking off.
  d = parse(post(up, "/v1beta/models/gemini-2.5-flash:generateContent",
                 R"({"contents":[{"parts":[{"text":"why"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}})")
                .body);
  EXPECT_FALSE(d["usageMetadata"].HasMember("thoughtsTokenCount"));
  EXPECT_FALSE(d["candidates"][0]["content"]["parts"][0].HasMember("thoughtSignature"));
}

TEST_F(UpstreamGemini, SafetyBlockAndFinish) {
  Answer a = post(up, kFlash, kHello, {"x-upstream-block: SAFETY"});
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_FALSE(d.HasMember("candidates"));
  EXPECT_EQ(str(d["promptFeedback"]["blockReason"]), "SAFETY");
  EXPECT_TRUE(d["promptFeedback"]["safetyRatings"].IsArray());
  a = post(up, kFlash, kHello, {"x-upstream-finish: SAFETY"});
  d = parse(a.body);
  EXPECT_EQ(str(d["candidates"][0]["finishReason"]), "SAFETY");
  EXPECT_FALSE(d["candidates"][0].HasMember("content"));
  // Streamed: one event that says so.
  auto events = sse_data(post(up, kFlashStream, kHello, {"x-upstream-block: SAFETY"}).body);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(str(parse(events[0])["promptFeedback"]["blockReason"]), "SAFETY");
}

// ---- the stream --------------------------------------------------------------------------

TEST_F(UpstreamGemini, StreamText) {
  Answer a = post(up, kFlashStream, kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "text/event-stream");
  EXPECT_EQ(a.body.find("[DONE]"), std::string::npos);
  auto events = sse_data(a.body);
  ASSERT_EQ(events.size(), 5u);  // two words an event
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    auto d = parse(events[i]);
    const auto& c = d["candidates"][0];
    text += str(c["content"]["parts"][0]["text"]);
    EXPECT_EQ(str(c["content"]["role"]), "model");
    EXPECT_EQ(c.HasMember("finishReason"), i + 1 == events.size());
    EXPECT_EQ(d["usageMetadata"].HasMember("candidatesTokenCount"), i + 1 == events.size());
    EXPECT_EQ(d["usageMetadata"]["promptTokenCount"].GetInt(), 4);
    EXPECT_EQ(str(d["modelVersion"]), "gemini-2.0-flash");
  }
  EXPECT_EQ(text, kHelloText);
  auto last = parse(events.back());
  EXPECT_EQ(str(last["candidates"][0]["finishReason"]), "STOP");
  EXPECT_EQ(last["usageMetadata"]["totalTokenCount"].GetInt(), 13);
}

TEST_F(UpstreamGemini, StreamWithoutAltSseIsAJsonArray) {
  Answer a = post(up, "/v1beta/models/gemini-2.0-flash:streamGenerateContent", kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsArray());
  EXPECT_EQ(d.Size(), 5u);
}

TEST_F(UpstreamGemini, StreamSignaturesCutsAndErrors) {
  auto events = sse_data(post(up, "/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse",
                              R"({"contents":[{"role":"user","parts":[{"text":"weather?"}]}],)" + kTools + "}")
                             .body);
  ASSERT_EQ(events.size(), 1u);
  auto d = parse(events[0]);
  const auto& part = d["candidates"][0]["content"]["parts"][0];
  EXPECT_EQ(str(part["functionCall"]["name"]), "get_weather");
  EXPECT_FALSE(str(part["thoughtSignature"]).empty());
  // x-upstream-cut-after counts events.
  Answer a = post(up, kFlashStream, kHello, {"x-upstream-cut-after: 2"});
  EXPECT_EQ(a.body.find("finishReason"), std::string::npos);
  EXPECT_EQ(sse_data(a.body).size(), 2u);
  // An error in the stream: Google's error object as the last event.
  events = sse_data(post(up, kFlashStream, kHello, {"x-upstream-stream-error: 503"}).body);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(str(parse(events[1])["error"]["status"]), "UNAVAILABLE");
}

// ---- the checks ----------------------------------------------------------------------------

TEST_F(UpstreamGemini, RequestChecks) {
  struct Case {
    std::string body, message;
  };
  const std::vector<Case> cases = {
      {"{not json", "Invalid JSON payload received."},
      {R"({})", "* GenerateContentRequest.contents: contents is not specified"},
      {R"({"contents":[]})", "* GenerateContentRequest.contents: contents is not specified"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"temperature":1})",
       R"(Invalid JSON payload received. Unknown name "temperature": Cannot find field.)"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxTokens":5}})",
       R"(Invalid JSON payload received. Unknown name "maxTokens" at 'generation_config': Cannot find field.)"},
      {R"({"contents":[{"parts":[{"text":"x","type":"text"}]}]})",
       R"(Unknown name "type" at 'contents[0].parts[0]': Cannot find field.)"},
      {R"({"contents":[{"role":"assistant","parts":[{"text":"x"}]}]})", "Please use a valid role: user, model."},
      {R"({"contents":[{"role":"user","parts":[]}]})",
       "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty."},
      {R"({"contents":[{"role":"user","parts":[{"thought":true}]}]})",
       "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":3}})",
       "generation_config.temperature"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}})",
       R"(Invalid value at 'generation_config.temperature' (TYPE_FLOAT), "hot")"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"1bad"}]}]})",
       "* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name."},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}})",
       "Invalid value at 'tool_config.function_calling_config.mode'"},
      {R"({"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"text":"y"}]},)"
       R"({"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]}]})",
       "Please ensure that function call turn comes immediately after a user turn or after a function response turn."},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    expect_google_error(post(up, kFlash, c.body), 400, "INVALID_ARGUMENT", c.message);
  }
  expect_google_error(post(up, kFlashStream, R"({"contents":[]})"), 400, "INVALID_ARGUMENT");
}

TEST_F(UpstreamGemini, InjectedStatusesAndContextExceeded) {
  const std::vector<std::tuple<long, std::string>> cases = {{400, "INVALID_ARGUMENT"}, {403, "PERMISSION_DENIED"},
                                                            {404, "NOT_FOUND"},        {429, "RESOURCE_EXHAUSTED"},
                                                            {500, "INTERNAL"},         {503, "UNAVAILABLE"},
                                                            {504, "DEADLINE_EXCEEDED"}};
  for (const auto& [status, name] : cases) {
    SCOPED_TRACE(name);
    expect_google_error(post(up, kFlash, kHello, {"x-upstream-status: " + std::to_string(status)}), status, name);
  }
  expect_google_error(post(up, kFlash, kHello, {"x-upstream-context-exceeded: 1"}), 400, "INVALID_ARGUMENT",
                      "exceeds the maximum number of tokens allowed");
}

TEST_F(UpstreamGemini, Vertex) {
  Answer a = post(up, kVertex, kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_EQ(str(d["candidates"][0]["content"]["parts"][0]["text"]), kHelloText);
  EXPECT_TRUE(d.HasMember("createTime"));
  auto events = sse_data(post(up, kVertexStream, kHello).body);
  EXPECT_EQ(events.size(), 5u);
}

TEST(UpstreamGeminiAuth, ApiKeys) {
  UpstreamOptions opts;
  opts.require_api_key = "AIza-test";
  Upstream up(opts);
  up.start();
  EXPECT_EQ(post(up, kFlash, kHello, {"x-goog-api-key: AIza-test"}).status, 200);
  EXPECT_EQ(post(up, kFlash + "?key=AIza-test", kHello).status, 200);
  expect_google_error(post(up, kFlash, kHello), 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers");
  Answer bad = post(up, kFlash, kHello, {"x-goog-api-key: nope"});
  expect_google_error(bad, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.");
  EXPECT_EQ(str(parse(bad.body)["error"]["details"][0]["reason"]), "API_KEY_INVALID");
  // Vertex: an OAuth bearer token (the key stands for it).
  EXPECT_EQ(post(up, kVertex, kHello, {"Authorization: Bearer AIza-test"}).status, 200);
  expect_google_error(post(up, kVertex, kHello, {"x-goog-api-key: AIza-test"}), 401, "UNAUTHENTICATED",
                      "Request is missing required authentication credential");
  expect_google_error(post(up, kVertex, kHello, {"Authorization: Bearer nope"}), 401, "UNAUTHENTICATED",
                      "Request had invalid authentication credentials");
}

// The content of a stream through the library, deltas joined.
std::string library_stream_text(llm_client_t* c, const std::string& req) {
  llm_stream_t* s = nullptr;
  EXPECT_EQ(llm_chat_stream(c, req.c_str(), &s), LLM_OK) << llm_last_error();
  if (!s) return {};
  std::string text;
  for (;;) {
    const char* chunk = nullptr;
    if (llm_stream_next(s, &chunk) != LLM_OK) {
      ADD_FAILURE() << llm_last_error();
      break;
    }
    if (!chunk) break;
    auto d = parse(chunk);
    if (d.IsObject() && d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty()) {
      const auto& delta = d["choices"][0]["delta"];
      if (delta.HasMember("content") && delta["content"].IsString()) text += delta["content"].GetString();
    }
  }
  llm_stream_free(s);
  return text;
}

// The library's own Gemini provider against the upstream: its body accepted, the answer read back.
TEST(UpstreamGeminiLibrary, TheLibrarysRequestsAreAccepted) {
  UpstreamOptions opts;
  opts.require_api_key = "AIza-test";
  Upstream up(opts);
  up.start();
  std::string cfg = R"({"max_retries":0,"providers":{"gemini":{"base_url":"http://127.0.0.1:)" +
                    std::to_string(up.port()) + R"(","api_key":"AIza-test"}}})";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c,
                     R"({"model":"gemini/gemini-2.0-flash","messages":[{"role":"system","content":"be brief"},)"
                     R"({"role":"user","content":"hi there"}]})",
                     &r),
            LLM_OK)
      << llm_last_error();
  EXPECT_STREQ(llm_response_text(r), kHelloText.c_str());
  llm_response_free(r);
  // Streamed: the event stream decoded by the library gives the same text.
  EXPECT_EQ(library_stream_text(c, R"({"model":"gemini/gemini-2.0-flash","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi there"}]})"), kHelloText);
  llm_client_free(c);
}

// The library's Vertex AI provider: Gemini on Vertex, the access token as the bearer.
TEST(UpstreamGeminiLibrary, VertexRequestsAreAccepted) {
  UpstreamOptions opts;
  opts.require_api_key = "ya29.test-token";
  Upstream up(opts);
  up.start();
  std::string cfg = R"({"max_retries":0,"providers":{"vertex_ai":{"base_url":"http://127.0.0.1:)" +
                    std::to_string(up.port()) +
                    R"(","project":"p","location":"us-central1","access_token":"ya29.test-token"}}})";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, R"({"model":"vertex_ai/gemini-2.0-flash","messages":[{"role":"user","content":"hi there"}]})", &r),
            LLM_OK)
      << llm_last_error();
  EXPECT_STREQ(llm_response_text(r), kHelloText.c_str());
  llm_response_free(r);
  llm_client_free(c);
  auto reqs = up.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_NE(reqs.back().target.find("/publishers/google/models/gemini-2.0-flash:generateContent"), std::string::npos)
      << reqs.back().target;
}

}  // namespace
