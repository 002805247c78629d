// Bedrock (SigV4-signed, event-stream framed) and Gemini (and Gemini on
// Vertex AI) end to end through the C API, against the local upstream, which
// verifies the SigV4 signatures and checks the bodies as the real APIs do.
#include "e2e.hpp"

using namespace e2e;

namespace {

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

class Native : public ::testing::Test {
 protected:
  void SetUp() override {
    literllm::testing::UpstreamOptions o;
    o.aws_credentials = {kAkid, kSecret, ""};
    o.require_api_key = kKey;  // Gemini's x-goog-api-key, Vertex's bearer token
    up = std::make_unique<literllm::testing::Upstream>(o);
    up->start();
  }
  void TearDown() override { up->stop(); }
  std::string root() const { return "http://127.0.0.1:" + std::to_string(up->port()); }
  llm_client_t* client(const std::string& providers) {
    std::string cfg = R"({"max_retries":0,"providers":{)" + providers + "}}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }
  llm_client_t* bedrock(const std::string& secret = kSecret) {
    return client(R"("bedrock":{"base_url":)" + q(root()) + R"(,"region":"us-east-1","aws_access_key_id":)" + q(kAkid) +
                  R"(,"aws_secret_access_key":)" + q(secret) + "}");
  }
  llm_client_t* gemini() { return client(R"("gemini":{"base_url":)" + q(root()) + R"(,"api_key":)" + q(kKey) + "}"); }
  std::pair<llm_status, rapidjson::Document> chat(llm_client_t* c, const std::string& req) {
    llm_response_t* r = nullptr;
    llm_status st = llm_chat(c, req.c_str(), &r);
    rapidjson::Document d = parse(st == LLM_OK ? llm_response_json(r) : "null");
    if (st != LLM_OK) last_error = llm_last_error();
    llm_response_free(r);
    return {st, std::move(d)};
  }
  std::pair<StreamResult, rapidjson::Document> stream(llm_client_t* c, const std::string& req) {
    llm_stream_t* s = nullptr;
    EXPECT_EQ(llm_chat_stream(c, req.c_str(), &s), LLM_OK) << llm_last_error();
    StreamResult sr = drain(s);
    rapidjson::Document d;
    llm_response_t* r = nullptr;
    if (sr.status == LLM_OK && llm_stream_final_response(s, &r) == LLM_OK) d = parse(llm_response_json(r));
    llm_response_free(r);
    llm_stream_free(s);
    return {sr, std::move(d)};
  }
  std::unique_ptr<literllm::testing::Upstream> up;
  std::string last_error;
};

const char* kTools =
    R"(,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])";

}  // namespace

TEST_F(Native, BedrockChatAndStreamSignedWithSigV4) {
  llm_client_t* c = bedrock();
  const std::string model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0";
  auto [st, d] = chat(c, chat_req(model, "hello bedrock"));
  ASSERT_EQ(st, LLM_OK) << last_error;
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: hello bedrock");
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_GT(d["usage"]["completion_tokens"].GetInt64(), 0);
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
  EXPECT_EQ(reqs[0].header("authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
  auto [sr, sd] = stream(c, chat_req(model, "one two three four"));
  EXPECT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: one two three four");
  EXPECT_STREQ(sd["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_TRUE(sd.HasMember("usage"));
  EXPECT_NE(up->requests().back().target.find("/converse-stream"), std::string::npos);
  llm_client_free(c);
  // A wrong secret: the upstream's signature check refuses it, typed.
  llm_client_t* bad = bedrock("wrong-secret-0123456789abcdef");
  auto [bst, bd] = chat(bad, chat_req(model, "x"));
  EXPECT_EQ(bst, LLM_ERR_AUTHENTICATION) << last_error;
  EXPECT_EQ(last_error.find("wrong-secret"), std::string::npos) << last_error;
  llm_client_free(bad);
}

TEST_F(Native, BedrockToolsStructuredOutputAndErrors) {
  llm_client_t* c = bedrock();
  const std::string model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0";
  auto [st, d] = chat(c, chat_req(model, "weather in Paris?", kTools));
  ASSERT_EQ(st, LLM_OK) << last_error;
  const auto& tcs = d["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(tcs.Size(), 1u);
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "tool_calls");
  auto [sr, sd] = stream(c, chat_req(model, "weather in Paris?", kTools));
  ASSERT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_EQ(dump(parse(sd["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].GetString())),
            dump(parse(tcs[0]["function"]["arguments"].GetString())));
  // The result goes back; the upstream checks the pairing.
  std::string id = tcs[0]["id"].GetString();
  std::string follow = R"({"model":")" + model + R"(","messages":[{"role":"user","content":"weather in Paris?"},)"
                       R"({"role":"assistant","content":null,"tool_calls":[)" + dump(tcs[0]) + R"(]},)"
                       R"({"role":"tool","tool_call_id":)" + q(id) + R"(,"content":"18C"}])" + kTools + "}";
  auto [fst, fd] = chat(c, follow);
  EXPECT_EQ(fst, LLM_OK) << last_error;
  // Structured output through the forced tool: the answer is the content.
  auto [ost, od] = chat(c, chat_req(model, "x",
      R"(,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}}})"));
  ASSERT_EQ(ost, LLM_OK) << last_error;
  EXPECT_EQ(parse(od["choices"][0]["message"]["content"].GetString())["n"].GetInt(), 1);
  EXPECT_STREQ(od["choices"][0]["finish_reason"].GetString(), "stop");
  // Errors: HTTP statuses and an exception inside the stream.
  struct Case {
    const char* headers;
    llm_status want;
  } cases[] = {{R"({"x-upstream-status":"429"})", LLM_ERR_RATE_LIMITED},
               {R"({"x-upstream-status":"400"})", LLM_ERR_BAD_REQUEST},
               {R"({"x-upstream-status":"503"})", LLM_ERR_SERVICE_UNAVAILABLE},
               {R"({"x-upstream-context-exceeded":"1"})", LLM_ERR_CONTEXT_WINDOW_EXCEEDED}};
  for (auto& cs : cases) {
    auto [est, ed] = chat(c, chat_req(model, "x", headers(cs.headers)));
    EXPECT_EQ(est, cs.want) << cs.headers << ": " << last_error;
  }
  auto [xr, xd] = stream(c, chat_req(model, "x", headers(R"({"x-upstream-stream-exception":"throttlingException"})")));
  EXPECT_EQ(xr.status, LLM_ERR_RATE_LIMITED) << xr.error;
  llm_client_free(c);
}

TEST_F(Native, GeminiChatStreamToolsAndErrors) {
  llm_client_t* c = gemini();
  auto [st, d] = chat(c, chat_req("gemini/gemini-2.5-flash", "hello gemini"));
  ASSERT_EQ(st, LLM_OK) << last_error;
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: hello gemini");
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(reqs[0].header("x-goog-api-key"), kKey);
  auto [sr, sd] = stream(c, chat_req("google/gemini-2.5-flash", "one two three"));
  EXPECT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: one two three");
  EXPECT_EQ(up->requests().back().target, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  // Tools on a Gemini 3 model: the thought signature must come back with the call.
  auto [tst, td] = chat(c, chat_req("gemini/gemini-3-pro-preview", "weather in Paris?", kTools));
  ASSERT_EQ(tst, LLM_OK) << last_error;
  const auto& msg = td["choices"][0]["message"];
  ASSERT_EQ(msg["tool_calls"].Size(), 1u);
  std::string id = msg["tool_calls"][0]["id"].GetString();
  std::string follow = R"({"model":"gemini/gemini-3-pro-preview","messages":[{"role":"user","content":"weather in Paris?"},)" +
                       dump(msg) + R"(,{"role":"tool","tool_call_id":)" + q(id) + R"(,"content":"18C"}])" + kTools + "}";
  auto [fst, fd] = chat(c, follow);
  EXPECT_EQ(fst, LLM_OK) << last_error;
  // Without the signature the provider refuses the turn.
  rapidjson::Document stripped;
  stripped.CopyFrom(msg, stripped.GetAllocator());
  stripped.RemoveMember("thinking_blocks");
  std::string unsigned_follow = R"({"model":"gemini/gemini-3-pro-preview","messages":[{"role":"user","content":"weather in Paris?"},)" +
                                dump(stripped) + R"(,{"role":"tool","tool_call_id":)" + q(id) + R"(,"content":"18C"}])" + kTools + "}";
  auto [ust, ud] = chat(c, unsigned_follow);
  EXPECT_EQ(ust, LLM_ERR_BAD_REQUEST) << last_error;
  // Structured output, a blocked prompt, statuses.
  auto [ost, od] = chat(c, chat_req("gemini/gemini-2.5-flash", "x",
      R"(,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}})"));
  ASSERT_EQ(ost, LLM_OK) << last_error;
  EXPECT_EQ(parse(od["choices"][0]["message"]["content"].GetString())["n"].GetInt(), 1);
  auto [bst, bd] = chat(c, chat_req("gemini/gemini-2.5-flash", "x", headers(R"({"x-upstream-block":"SAFETY"})")));
  EXPECT_EQ(bst, LLM_ERR_CONTENT_POLICY) << last_error;
  auto [rst, rd] = chat(c, chat_req("gemini/gemini-2.5-flash", "x", headers(R"({"x-upstream-status":"429"})")));
  EXPECT_EQ(rst, LLM_ERR_RATE_LIMITED) << last_error;
  llm_client_free(c);
}

// Arguments Gemini streams in pieces (streamFunctionCallArguments) reach
// llm_stream_next as they come, as OpenAI streams arguments; they add up to
// the arguments the same call gets whole, and the streamed message (its
// signature included) continues the conversation.
TEST_F(Native, GeminiStreamsToolArgumentsInPieces) {
  llm_client_t* c = gemini();
  const std::string tools =
      R"(,"tools":[{"type":"function","function":{"name":"plan_trip","parameters":{"type":"object","properties":{)"
      R"("city":{"type":"string"},"days":{"type":"integer"},"stay":{"type":"object","properties":{)"
      R"("hotel":{"type":"string"},"nights":{"type":"number"},"booked":{"type":"boolean"}}}},)"
      R"("required":["city","days","stay"]}}}])";
  const std::string ask = R"(,"provider_options":{"gemini":{"toolConfig":{"functionCallingConfig":{"streamFunctionCallArguments":true}}}})";
  // Not streamed, the same call comes whole.
  auto [wst, whole] = chat(c, chat_req("gemini/gemini-3-pro-preview", "plan a trip", tools + ask));
  ASSERT_EQ(wst, LLM_OK) << last_error;
  const std::string whole_args = whole["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].GetString();
  ASSERT_NE(whole_args.find("nights"), std::string::npos) << whole_args;

  auto [sr, sd] = stream(c, chat_req("gemini/gemini-3-pro-preview", "plan a trip", tools + ask));
  ASSERT_EQ(sr.status, LLM_OK) << sr.error;
  auto sent = parse(up->requests().back().body.c_str());
  EXPECT_TRUE(sent["toolConfig"]["functionCallingConfig"]["streamFunctionCallArguments"].GetBool());
  std::vector<std::string> pieces;
  std::string id;
  for (const auto& text : sr.chunks) {
    rapidjson::Document ch = parse(text.c_str());
    if (!ch.HasMember("choices") || ch["choices"].Empty()) continue;
    const auto& delta = ch["choices"][0]["delta"];
    if (!delta.HasMember("tool_calls")) continue;
    const auto& tc = delta["tool_calls"][0];
    EXPECT_EQ(tc["index"].GetInt(), 0);
    if (pieces.empty()) {
      id = tc["id"].GetString();
      EXPECT_STREQ(tc["function"]["name"].GetString(), "plan_trip");
    } else {
      EXPECT_FALSE(tc.HasMember("id")) << text;
    }
    pieces.push_back(tc["function"]["arguments"].GetString());
  }
  ASSERT_GT(pieces.size(), 4u) << "the arguments came in pieces: " << sr.chunks.size() << " chunks, args " << whole_args;
  std::string joined;
  for (auto& p : pieces) joined += p;
  EXPECT_EQ(joined, whole_args);
  const auto& msg = sd["choices"][0]["message"];
  EXPECT_EQ(msg["tool_calls"][0]["function"]["arguments"].GetString(), whole_args);
  EXPECT_EQ(msg["tool_calls"][0]["id"].GetString(), id);
  EXPECT_STREQ(sd["choices"][0]["finish_reason"].GetString(), "tool_calls");

  std::string follow = R"({"model":"gemini/gemini-3-pro-preview","messages":[{"role":"user","content":"plan a trip"},)" +
                       dump(msg) + R"(,{"role":"tool","tool_call_id":)" + q(id) + R"(,"content":"booked"}])" + tools + "}";
  auto [fst, fd] = chat(c, follow);
  EXPECT_EQ(fst, LLM_OK) << last_error;
  llm_client_free(c);
}

TEST_F(Native, GeminiOnVertexAI) {
  llm_client_t* c = client(R"("vertex_ai":{"base_url":)" + q(root()) + R"(,"project":"p1","location":"us-central1","access_token":)" +
                           q(kKey) + "}");
  auto [st, d] = chat(c, chat_req("vertex/gemini-2.5-pro", "hello vertex"));
  ASSERT_EQ(st, LLM_OK) << last_error;
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: hello vertex");
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
  auto [sr, sd] = stream(c, chat_req("vertex/gemini-2.5-pro", "a b"));
  EXPECT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: a b");
  llm_client_free(c);
}

TEST_F(Native, CachedPromptTokensReachUsageStreamedOrNot) {
  // Bedrock's cacheReadInputTokens and Gemini's cachedContentTokenCount become
  // usage.prompt_tokens_details.cached_tokens, in a whole answer and in a
  // stream's final usage.
  const std::string cached = headers(R"({"x-upstream-cached-tokens":"6"})");
  struct Case {
    const char* name;
    llm_client_t* client;
    std::string model;
  };
  Case cases[] = {{"bedrock", bedrock(), "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"},
                  {"gemini", gemini(), "gemini/gemini-2.5-flash"}};
  for (auto& k : cases) {
    SCOPED_TRACE(k.name);
    auto [st, d] = chat(k.client, chat_req(k.model, "one two three four five six seven", cached));
    ASSERT_EQ(st, LLM_OK) << last_error;
    EXPECT_EQ(d["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt64(), 6) << dump(d["usage"]);
    EXPECT_GE(d["usage"]["prompt_tokens"].GetInt64(), 6) << dump(d["usage"]);
    auto [sr, sd] = stream(k.client, chat_req(k.model, "one two three four five six seven",
                                              cached + R"(,"stream_options":{"include_usage":true})"));
    ASSERT_EQ(sr.status, LLM_OK) << sr.error;
    EXPECT_EQ(sd["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt64(), 6) << dump(sd["usage"]);
    // Without the header: no cached tokens claimed.
    auto [st0, d0] = chat(k.client, chat_req(k.model, "x"));
    ASSERT_EQ(st0, LLM_OK) << last_error;
    const auto& u = d0["usage"];
    EXPECT_TRUE(!u.HasMember("prompt_tokens_details") || !u["prompt_tokens_details"].HasMember("cached_tokens") ||
                u["prompt_tokens_details"]["cached_tokens"].GetInt64() == 0)
        << dump(u);
    llm_client_free(k.client);
  }
}
