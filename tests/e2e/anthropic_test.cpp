// Anthropic's Messages API end to end through the C API, against the local
// upstream's Anthropic routes (which check the version header, the key, the
// body as the real API does, and the signatures of thinking blocks sent back).
#include "e2e.hpp"

using namespace e2e;

namespace {

constexpr const char* kAntKey = "sk-ant-e2e-0123456789abcdef";

class Anthropic : public ::testing::Test {
 protected:
  void SetUp() override {
    literllm::testing::UpstreamOptions o;
    o.require_api_key = kAntKey;
    up = std::make_unique<literllm::testing::Upstream>(o);
    up->start();
    client = make_client(kAntKey);
  }
  void TearDown() override {
    llm_client_free(client);
    up->stop();
  }
  llm_client_t* make_client(const std::string& key, const std::string& extra = "") {
    std::string cfg = R"({"max_retries":0,"providers":{"anthropic":{"base_url":"http://127.0.0.1:)" +
                      std::to_string(up->port()) + R"(","api_key":)" + q(key) + "}}" + extra + "}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }
  // A chat that must succeed; its response JSON.
  rapidjson::Document chat(const std::string& req, llm_client_t* c = nullptr) {
    llm_response_t* r = nullptr;
    EXPECT_EQ(llm_chat(c ? c : client, req.c_str(), &r), LLM_OK) << llm_last_error();
    rapidjson::Document d = parse(r ? llm_response_json(r) : "null");
    llm_response_free(r);
    return d;
  }
  std::pair<llm_status, std::string> chat_error(const std::string& req) {
    llm_response_t* r = nullptr;
    llm_status st = llm_chat(client, req.c_str(), &r);
    std::string msg = st == LLM_OK ? "" : llm_last_error();
    llm_response_free(r);
    return {st, msg};
  }
  // A stream read to its end; the final response's JSON.
  rapidjson::Document stream(const std::string& req, StreamResult* out = nullptr) {
    llm_stream_t* s = nullptr;
    EXPECT_EQ(llm_chat_stream(client, req.c_str(), &s), LLM_OK) << llm_last_error();
    StreamResult sr = drain(s);
    EXPECT_EQ(sr.status, LLM_OK) << sr.error;
    llm_response_t* r = nullptr;
    rapidjson::Document d;
    if (sr.status == LLM_OK && llm_stream_final_response(s, &r) == LLM_OK) d = parse(llm_response_json(r));
    llm_response_free(r);
    llm_stream_free(s);
    if (out) *out = sr;
    return d;
  }
  std::unique_ptr<literllm::testing::Upstream> up;
  llm_client_t* client = nullptr;
};

const char* kTools =
    R"(,"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather in a city",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}}}])";

}  // namespace

TEST_F(Anthropic, ChatSendsTheMessagesRequestAndReadsTheAnswer) {
  rapidjson::Document d = chat(
      R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello there"}]})");
  const auto& msg = d["choices"][0]["message"];
  EXPECT_STREQ(msg["content"].GetString(), "Hello from the local upstream. You said: hello there");
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_STREQ(d["provider"].GetString(), "anthropic");
  EXPECT_GT(d["usage"]["prompt_tokens"].GetInt64(), 0);
  EXPECT_EQ(d["usage"]["completion_tokens"].GetInt64(), 9);
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/messages");
  EXPECT_EQ(reqs[0].header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(reqs[0].header("x-api-key"), kAntKey);
  EXPECT_EQ(reqs[0].header("authorization"), "");
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["system"][0]["text"].GetString(), "Be brief.");
  EXPECT_EQ(body["max_tokens"].GetInt(), 4096);
  // The alias routes here too.
  rapidjson::Document a = chat(chat_req("claude/claude-haiku-4-5", "again"));
  EXPECT_STREQ(a["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: again");
}

TEST_F(Anthropic, AStreamJoinsToTheSameAnswer) {
  StreamResult sr;
  rapidjson::Document d = stream(chat_req("anthropic/claude-sonnet-4-5", "one two three four five", R"(,"stream":true)"), &sr);
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: one two three four five");
  EXPECT_GT(sr.chunks.size(), 4u);
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_EQ(d["usage"]["completion_tokens"].GetInt64(), 12);
  rapidjson::Document first = parse(sr.chunks.front().c_str());
  EXPECT_STREQ(first["object"].GetString(), "chat.completion.chunk");
  EXPECT_STREQ(first["choices"][0]["delta"]["role"].GetString(), "assistant");
  rapidjson::Document body = parse(up->requests().back().body.c_str());
  EXPECT_TRUE(body["stream"].GetBool());
}

TEST_F(Anthropic, ARefusalStreamedOrNotHasNoContent) {
  // Was a bug: a stream's first chunk said content "" (message_start), so the streamed final answer
  // of a refusal had content "" where llm_chat's has null (and llm_response_text gave "", not NULL).
  std::string req = R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"user","content":"no"}],)"
                    R"("extra_headers":{"x-upstream-refusal":"1"}})";
  rapidjson::Document answered = chat(req);
  rapidjson::Document streamed = stream(req);
  ASSERT_TRUE(streamed.IsObject());
  for (const rapidjson::Document* d : {&answered, &streamed}) {
    const auto& choice = (*d)["choices"][0];
    EXPECT_TRUE(choice["message"]["content"].IsNull()) << dump(*d);
    EXPECT_STREQ(choice["finish_reason"].GetString(), "content_filter");
  }
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, req.c_str(), &s), LLM_OK);
  EXPECT_EQ(drain(s).status, LLM_OK);
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_stream_final_response(s, &r), LLM_OK);
  EXPECT_EQ(llm_response_text(r), nullptr);
  llm_response_free(r);
  llm_stream_free(s);
  // A text block, even an empty one, is content: the joined stream equals the answer.
  StreamResult sr;
  rapidjson::Document text = stream(chat_req("anthropic/claude-sonnet-4-5", "words", R"(,"stream":true)"), &sr);
  EXPECT_STREQ(text["choices"][0]["message"]["content"].GetString(), sr.content.c_str());
}

TEST_F(Anthropic, ToolCallsStreamedOrNotAndTheirResultsSentBack) {
  std::string req = chat_req("anthropic/claude-sonnet-4-5", "weather in Paris?", kTools);
  rapidjson::Document d = chat(req);
  const auto& tcs = d["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(tcs.Size(), 1u);
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "tool_calls");
  EXPECT_STREQ(tcs[0]["function"]["name"].GetString(), "get_weather");
  rapidjson::Document args = parse(tcs[0]["function"]["arguments"].GetString());
  EXPECT_STREQ(args["city"].GetString(), "sample");
  EXPECT_EQ(args["days"].GetInt(), 1);
  // Streamed: the same call, its arguments assembled from the pieces.
  rapidjson::Document s = stream(chat_req("anthropic/claude-sonnet-4-5", "weather in Paris?", std::string(kTools)));
  const auto& stcs = s["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(stcs.Size(), 1u);
  EXPECT_EQ(dump(parse(stcs[0]["function"]["arguments"].GetString())), dump(args));
  EXPECT_STREQ(stcs[0]["id"].GetString(), tcs[0]["id"].GetString());
  // The result goes back; the upstream checks it answers the call it names.
  std::string id = tcs[0]["id"].GetString();
  std::string follow = R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"user","content":"weather in Paris?"},)"
                       R"({"role":"assistant","content":null,"tool_calls":[)" + dump(tcs[0]) + R"(]},)"
                       R"({"role":"tool","tool_call_id":)" + q(id) + R"(,"content":"18C and sunny"}])" + kTools + "}";
  rapidjson::Document f = chat(follow);
  EXPECT_STREQ(f["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_NE(std::string(f["choices"][0]["message"]["content"].GetString()).find("18C and sunny"), std::string::npos);
  // A result for a call that was never made is the provider's 400.
  std::string wrong = follow;
  wrong.replace(wrong.find(q(id), wrong.find("tool_call_id")), q(id).size(), q("toolu_nope"));
  auto [st, msg] = chat_error(wrong);
  EXPECT_EQ(st, LLM_ERR_BAD_REQUEST) << msg;
}

TEST_F(Anthropic, StructuredOutput) {
  rapidjson::Document d = chat(chat_req(
      "anthropic/claude-sonnet-4-5", "a city",
      R"(,"response_format":{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"name":{"type":"string"},"pop":{"type":"integer"}},"required":["name","pop"],"additionalProperties":false}}})"));
  rapidjson::Document out = parse(d["choices"][0]["message"]["content"].GetString());
  EXPECT_STREQ(out["name"].GetString(), "sample");
  EXPECT_EQ(out["pop"].GetInt(), 1);
  rapidjson::Document body = parse(up->requests().back().body.c_str());
  EXPECT_STREQ(body["output_config"]["format"]["type"].GetString(), "json_schema");
  // json_object: through the forced tool, the answer is the content.
  rapidjson::Document o = chat(chat_req("anthropic/claude-sonnet-4-5", "any object", R"(,"response_format":{"type":"json_object"})"));
  EXPECT_TRUE(parse(o["choices"][0]["message"]["content"].GetString()).IsObject());
  EXPECT_STREQ(o["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_FALSE(o["choices"][0]["message"].HasMember("tool_calls"));
  rapidjson::Document so = stream(chat_req("anthropic/claude-sonnet-4-5", "any object", R"(,"response_format":{"type":"json_object"})"));
  EXPECT_EQ(std::string(so["choices"][0]["message"]["content"].GetString()),
            std::string(o["choices"][0]["message"]["content"].GetString()));
}

TEST_F(Anthropic, ThinkingBlocksComeBackSignedAndGoBackUnchanged) {
  for (bool streamed : {false, true}) {
    SCOPED_TRACE(streamed ? "streamed" : "whole");
    std::string req = chat_req("anthropic/claude-sonnet-4-5", "why is the sky blue", R"(,"reasoning_effort":"low")");
    rapidjson::Document d = streamed ? stream(req) : chat(req);
    const auto& msg = d["choices"][0]["message"];
    ASSERT_TRUE(msg.HasMember("thinking_blocks")) << dump(d);
    EXPECT_NE(std::string(msg["reasoning_content"].GetString()).find("why is the sky blue"), std::string::npos);
    std::string sig = msg["thinking_blocks"][0]["signature"].GetString();
    EXPECT_FALSE(sig.empty());
    rapidjson::Document body = parse(up->requests().back().body.c_str());
    EXPECT_EQ(body["thinking"]["budget_tokens"].GetInt(), 1024);
    // The assistant message as it came back continues the conversation.
    std::string next = R"({"model":"anthropic/claude-sonnet-4-5","reasoning_effort":"low","messages":[{"role":"user","content":"why is the sky blue"},)" +
                       dump(msg) + R"(,{"role":"user","content":"and at sunset?"}]})";
    rapidjson::Document n = chat(next);
    EXPECT_STREQ(n["choices"][0]["finish_reason"].GetString(), "stop");
    // A signature changed on the way is refused by the provider.
    std::string tampered = next;
    tampered.replace(tampered.find(sig), sig.size(), "AAAA" + sig.substr(4));
    auto [st, m] = chat_error(tampered);
    EXPECT_EQ(st, LLM_ERR_BAD_REQUEST) << m;
  }
}

TEST_F(Anthropic, CachedTokensAndCacheControl) {
  rapidjson::Document d = chat(
      R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":[{"type":"text","text":"Long rules.","cache_control":{"type":"ephemeral","ttl":"1h"}}]},{"role":"user","content":"hi"}],"extra_headers":{"x-upstream-cached-tokens":"7","x-upstream-cache-write-tokens":"3"}})");
  EXPECT_EQ(d["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt64(), 7);
  EXPECT_EQ(d["usage"]["cache_read_input_tokens"].GetInt64(), 7);
  EXPECT_EQ(d["usage"]["cache_creation_input_tokens"].GetInt64(), 3);
  rapidjson::Document body = parse(up->requests().back().body.c_str());
  EXPECT_STREQ(body["system"][0]["cache_control"]["ttl"].GetString(), "1h");
  // Five breakpoints: refused before anything is sent.
  size_t before = up->requests().size();
  std::string parts;
  for (int i = 0; i < 5; ++i) parts += std::string(i ? "," : "") + R"({"type":"text","text":"p","cache_control":{"type":"ephemeral"}})";
  auto [st, msg] = chat_error(R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"user","content":[)" + parts + "]}]}");
  EXPECT_EQ(st, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("cache_control"), std::string::npos) << msg;
  EXPECT_EQ(up->requests().size(), before);
}

TEST_F(Anthropic, ImagesAndPdfsAreSentAsBlocks) {
  rapidjson::Document d = chat(
      R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},)"
      R"({"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},)"
      R"({"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0xLjQ=","filename":"a.pdf"}}]}]})");
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  rapidjson::Document body = parse(up->requests().back().body.c_str());
  const auto& c = body["messages"][0]["content"];
  EXPECT_STREQ(c[1]["type"].GetString(), "image");
  EXPECT_STREQ(c[2]["source"]["type"].GetString(), "url");
  EXPECT_STREQ(c[3]["type"].GetString(), "document");
}

TEST_F(Anthropic, EachErrorKind) {
  struct Case {
    std::string headers;
    llm_status want;
  } cases[] = {
      {R"({"x-upstream-status":"429","x-upstream-retry-after":"70"})", LLM_ERR_RATE_LIMITED},
      {R"({"x-upstream-status":"529"})", LLM_ERR_SERVICE_UNAVAILABLE},
      {R"({"x-upstream-status":"500"})", LLM_ERR_SERVER_ERROR},
      {R"({"x-upstream-status":"404"})", LLM_ERR_NOT_FOUND},
      {R"({"x-upstream-status":"400"})", LLM_ERR_BAD_REQUEST},
      {R"({"x-upstream-status":"403"})", LLM_ERR_AUTHENTICATION},
      {R"({"x-upstream-context-exceeded":"1"})", LLM_ERR_CONTEXT_WINDOW_EXCEEDED},
  };
  for (auto& c : cases) {
    auto [st, msg] = chat_error(chat_req("anthropic/claude-sonnet-4-5", "hi", headers(c.headers)));
    EXPECT_EQ(st, c.want) << c.headers << ": " << msg;
    EXPECT_EQ(msg.find(kAntKey), std::string::npos);
  }
  // A wrong key: the provider's 401, the key never shown.
  llm_client_t* bad = make_client("sk-ant-wrong-key-000000");
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(bad, chat_req("anthropic/claude-sonnet-4-5", "hi").c_str(), &r), LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(std::string(llm_last_error()).find("sk-ant-wrong-key"), std::string::npos) << llm_last_error();
  llm_client_free(bad);
  // In a stream: an error event, a cut, a stall past the idle timeout.
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("anthropic/claude-sonnet-4-5", "hi", headers(R"({"x-upstream-stream-error":"overloaded_error"})")).c_str(), &s), LLM_OK);
  StreamResult sr = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(sr.status, LLM_ERR_SERVICE_UNAVAILABLE) << sr.error;
  ASSERT_EQ(llm_chat_stream(client, chat_req("anthropic/claude-sonnet-4-5", "one two three four five six", headers(R"({"x-upstream-cut-after":"4"})")).c_str(), &s), LLM_OK);
  sr = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(sr.status, LLM_ERR_STREAMING) << sr.error;
  llm_client_t* quick = make_client(kAntKey, R"(,"stream_idle_timeout_secs":0.3)");
  ASSERT_EQ(llm_chat_stream(quick, chat_req("anthropic/claude-sonnet-4-5", "one two three", headers(R"({"x-upstream-stall-after":"3"})")).c_str(), &s), LLM_OK);
  sr = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(sr.status, LLM_ERR_TIMEOUT) << sr.error;
  llm_client_free(quick);
}

TEST_F(Anthropic, PreviewShowsTheNativeRequestWithTheKeyRedacted) {
  char* out = nullptr;
  ASSERT_EQ(llm_preview_request(client, chat_req("anthropic/claude-sonnet-4-5", "hi").c_str(), 1, &out), LLM_OK)
      << llm_last_error();
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  EXPECT_STREQ(d["provider"].GetString(), "anthropic");
  EXPECT_NE(std::string(d["url"].GetString()).find("/v1/messages"), std::string::npos);
  EXPECT_STREQ(d["headers"]["x-api-key"].GetString(), "[REDACTED]");
  EXPECT_STREQ(d["headers"]["anthropic-version"].GetString(), "2023-06-01");
  rapidjson::Document body = parse(d["body"].GetString());
  EXPECT_TRUE(body["stream"].GetBool());
  EXPECT_STREQ(body["messages"][0]["content"][0]["text"].GetString(), "hi");
  EXPECT_TRUE(up->requests().empty());
}

TEST_F(Anthropic, ClaudeOnVertexAIThroughRawPredict) {
  std::string cfg = R"({"max_retries":0,"providers":{"vertex_ai":{"base_url":"http://127.0.0.1:)" + std::to_string(up->port()) +
                    R"(","project":"my-proj","location":"europe-west1","access_token":)" + q(kAntKey) + "}}}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  rapidjson::Document d = chat(chat_req("vertex/claude-sonnet-4-5@20250929", "hello vertex"), c);
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: hello vertex");
  EXPECT_STREQ(d["provider"].GetString(), "vertex_ai");
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target,
            "/v1/projects/my-proj/locations/europe-west1/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kAntKey);
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["anthropic_version"].GetString(), "vertex-2023-10-16");
  EXPECT_FALSE(body.HasMember("model"));
  // Streamed: streamRawPredict, the same answer.
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(c, chat_req("vertex_ai/claude-sonnet-4-5@20250929", "a b c d").c_str(), &s), LLM_OK);
  StreamResult sr = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: a b c d");
  EXPECT_NE(up->requests().back().target.find(":streamRawPredict"), std::string::npos);
  llm_client_free(c);
  // No project: named, before anything is sent.
  unsetenv("VERTEXAI_PROJECT");
  unsetenv("GOOGLE_CLOUD_PROJECT");
  llm_client_t* np = nullptr;
  ASSERT_EQ(llm_client_new(R"({"providers":{"vertex":{"access_token":"tok-0123456789"}}})", &np), LLM_OK);
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(np, chat_req("vertex/gemini-2.5-pro", "x").c_str(), &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("providers.vertex_ai.project"), std::string::npos) << llm_last_error();
  llm_client_free(np);
}
