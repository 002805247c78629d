// Cohere's v2 chat end to end through the C API, against the local upstream's
// /v2/chat route (which checks what the real API checks).
#include "e2e.hpp"

using namespace e2e;

namespace {

llm_client_t* cohere_client(literllm::testing::Upstream& up) {
  std::string cfg = R"({"max_retries":0,"providers":{"cohere":{"base_url":"http://127.0.0.1:)" +
                    std::to_string(up.port()) + R"(","api_key":")" + kKey + R"("}}})";
  llm_client_t* c = nullptr;
  EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  return c;
}

rapidjson::Document chat_json(llm_client_t* c, const std::string& req) {
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(c, req.c_str(), &r), LLM_OK) << llm_last_error();
  rapidjson::Document d = parse(r ? llm_response_json(r) : "null");
  llm_response_free(r);
  return d;
}

rapidjson::Document stream_json(llm_client_t* c, const std::string& req, StreamResult* out = nullptr) {
  llm_stream_t* s = nullptr;
  EXPECT_EQ(llm_chat_stream(c, req.c_str(), &s), LLM_OK) << llm_last_error();
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

const char* kTools =
    R"(,"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";

}  // namespace

TEST_F(E2E, CohereChatStreamToolsAndStructuredOutput) {
  llm_client_t* c = cohere_client(up);
  rapidjson::Document d = chat_json(c, chat_req("cohere/command-a-03-2025", "hello cohere", R"(,"extra_headers":{"x-upstream-cached-tokens":"3"})"));
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: hello cohere");
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_EQ(d["usage"]["completion_tokens"].GetInt64(), 9);
  EXPECT_EQ(d["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt64(), 3);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v2/chat");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);

  StreamResult sr;
  rapidjson::Document s = stream_json(c, chat_req("co/command-a-03-2025", "one two three"), &sr);
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: one two three");
  EXPECT_STREQ(s["choices"][0]["finish_reason"].GetString(), "stop");

  // Tools: the plan comes back as reasoning_content, the calls as tool_calls, streamed or not.
  rapidjson::Document t = chat_json(c, chat_req("cohere/command-a-03-2025", "weather?", kTools));
  const auto& msg = t["choices"][0]["message"];
  ASSERT_EQ(msg["tool_calls"].Size(), 1u);
  EXPECT_STREQ(t["choices"][0]["finish_reason"].GetString(), "tool_calls");
  EXPECT_STREQ(msg["reasoning_content"].GetString(), "I will call the tools to answer.");
  rapidjson::Document ts = stream_json(c, chat_req("cohere/command-a-03-2025", "weather?", kTools));
  EXPECT_STREQ(ts["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].GetString(),
               msg["tool_calls"][0]["function"]["arguments"].GetString());
  // The result goes back (the upstream checks it answers a call that was made).
  std::string id = msg["tool_calls"][0]["id"].GetString();
  std::string follow = R"({"model":"cohere/command-a-03-2025","messages":[{"role":"user","content":"weather?"},)"
                       R"({"role":"assistant","content":null,"reasoning_content":"I will call the tools to answer.","tool_calls":[{"id":)" +
                       q(id) + R"(,"type":"function","function":{"name":"weather","arguments":"{}"}}]},)"
                       R"({"role":"tool","tool_call_id":)" + q(id) + R"(,"content":"sunny"}])" + kTools + "}";
  rapidjson::Document f = chat_json(c, follow);
  EXPECT_STREQ(f["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: sunny");
  rapidjson::Document sent = parse(up.requests().back().body.c_str());
  EXPECT_STREQ(sent["messages"][1]["tool_plan"].GetString(), "I will call the tools to answer.");

  // Structured output: the schema's sample.
  rapidjson::Document so = chat_json(c, chat_req("cohere/command-a-03-2025", "x",
      R"(,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"n":{"type":"integer"}}}}})"));
  EXPECT_EQ(parse(so["choices"][0]["message"]["content"].GetString())["n"].GetInt(), 1);
  llm_client_free(c);
}

TEST_F(E2E, CohereErrors) {
  llm_client_t* c = cohere_client(up);
  struct Case {
    std::string extra;
    llm_status want;
  } cases[] = {
      {headers(R"({"x-upstream-status":"429"})"), LLM_ERR_RATE_LIMITED},
      {headers(R"({"x-upstream-status":"401"})"), LLM_ERR_AUTHENTICATION},
      {headers(R"({"x-upstream-status":"500"})"), LLM_ERR_SERVER_ERROR},
      {R"(,"provider_options":{"cohere":{"bogus_field":1}})", LLM_ERR_BAD_REQUEST},
  };
  for (auto& cs : cases) {
    llm_response_t* r = nullptr;
    EXPECT_EQ(llm_chat(c, chat_req("cohere/command-a-03-2025", "x", cs.extra).c_str(), &r), cs.want) << cs.extra << " "
                                                                                                     << llm_last_error();
    llm_response_free(r);
  }
  // A cut stream.
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(c, chat_req("cohere/command-a-03-2025", "a b c d e f", headers(R"({"x-upstream-cut-after":"3"})")).c_str(), &s), LLM_OK);
  StreamResult sr = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(sr.status, LLM_ERR_STREAMING) << sr.error;
  llm_client_free(c);
}
