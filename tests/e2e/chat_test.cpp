// llm_chat end to end: what the library sends, what it returns, routing,
// providers, configuration and preview.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "e2e.hpp"

using namespace e2e;

TEST_F(E2E, ChatReturnsTextUsageAndStats) {
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o-mini", "hi there").c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_STREQ(llm_response_text(r), "Hello from the local upstream. You said: hi there");
  EXPECT_STREQ(llm_response_finish_reason(r), "stop");
  EXPECT_STREQ(llm_response_provider(r), "openai");
  EXPECT_STREQ(llm_response_model(r), "gpt-4o-mini");
  EXPECT_EQ(llm_response_refusal(r), nullptr);
  EXPECT_EQ(llm_response_tool_calls_json(r), nullptr);
  EXPECT_EQ(llm_response_prompt_tokens(r), 2);
  EXPECT_EQ(llm_response_completion_tokens(r), 9);
  EXPECT_EQ(llm_response_total_tokens(r), 11);
  EXPECT_EQ(llm_response_cached_tokens(r), 0);
  EXPECT_GT(llm_response_bytes_sent(r), 100u);
  EXPECT_GT(llm_response_bytes_received(r), 100u);
  auto d = parse(llm_response_json(r));
  EXPECT_STREQ(d["object"].GetString(), "chat.completion");
  EXPECT_STREQ(d["provider"].GetString(), "openai");
  EXPECT_EQ(d["stats"]["http_status"].GetInt(), 200);
  EXPECT_EQ(d["stats"]["bytes_sent"].GetUint64(), llm_response_bytes_sent(r));
  EXPECT_EQ(d["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt(), 0);
  llm_response_free(r);

  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(reqs[0].header("content-type"), "application/json");
  auto body = parse(reqs[0].body.c_str());
  EXPECT_STREQ(body["model"].GetString(), "gpt-4o-mini");  // prefix removed
  EXPECT_FALSE(body.HasMember("stream"));
}

TEST_F(E2E, RequestFieldsReachTheProviderAsOpenAISpellsThem) {
  std::string extra =
      ",\"temperature\":0.5,\"top_p\":0.9,\"max_tokens\":50,\"stop\":[\"x\"],\"seed\":7,\"user\":\"u1\","
      "\"presence_penalty\":0.1,\"frequency_penalty\":-0.1,\"logit_bias\":{\"50256\":-100},"
      "\"reasoning_effort\":\"low\",\"extra_body\":{\"custom_field\":{\"a\":1},\"top_k\":40},"
      "\"timeout_secs\":30" +
      headers("{\"x-trace\":\"abc\"}");
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o-mini", "fields", extra).c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("x-trace"), "abc");
  auto b = parse(reqs[0].body.c_str());
  EXPECT_EQ(b["temperature"].GetDouble(), 0.5);  // extra_body adds fields, never replaces the request's
  EXPECT_EQ(b["top_k"].GetInt(), 40);
  EXPECT_EQ(b["custom_field"]["a"].GetInt(), 1);
  EXPECT_EQ(b["max_completion_tokens"].GetInt(), 50);  // OpenAI's current spelling
  EXPECT_FALSE(b.HasMember("max_tokens"));
  EXPECT_EQ(b["seed"].GetInt(), 7);
  EXPECT_STREQ(b["reasoning_effort"].GetString(), "low");
  for (const char* ext : {"extra_body", "extra_headers", "timeout_secs"}) EXPECT_FALSE(b.HasMember(ext)) << ext;
}

TEST_F(E2E, ToolCallsComeBackAsOpenAIToolCalls) {
  std::string tools =
      ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}},\"required\":[\"city\"]}}}],"
      "\"tool_choice\":\"auto\"";
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "weather?", tools).c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_STREQ(llm_response_finish_reason(r), "tool_calls");
  EXPECT_EQ(llm_response_text(r), nullptr);
  auto tc = parse(llm_response_tool_calls_json(r));
  ASSERT_TRUE(tc.IsArray());
  ASSERT_EQ(tc.Size(), 1u);
  EXPECT_STREQ(tc[0]["id"].GetString(), "call_0");
  EXPECT_STREQ(tc[0]["type"].GetString(), "function");
  EXPECT_STREQ(tc[0]["function"]["name"].GetString(), "get_weather");
  auto args = parse(tc[0]["function"]["arguments"].GetString());
  EXPECT_STREQ(args["city"].GetString(), "sample");
  EXPECT_EQ(args["days"].GetInt(), 1);
  llm_response_free(r);

  // The tool result goes back as a tool message, and the model answers in text.
  std::string follow =
      "{\"model\":\"openai/gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},"
      "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_0\",\"type\":\"function\","
      "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
      "{\"role\":\"tool\",\"tool_call_id\":\"call_0\",\"content\":\"sunny\"}]" +
      tools + "}";
  ASSERT_EQ(llm_chat(client, follow.c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_STREQ(llm_response_finish_reason(r), "stop");
  llm_response_free(r);
}

TEST_F(E2E, StructuredOutputFollowsTheSchema) {
  std::string rf =
      ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\",\"strict\":true,"
      "\"schema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},"
      "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}}}";
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "who?", rf).c_str(), &r), LLM_OK) << llm_last_error();
  auto obj = parse(llm_response_text(r));
  EXPECT_STREQ(obj["name"].GetString(), "sample");
  EXPECT_EQ(obj["age"].GetInt(), 1);
  llm_response_free(r);
  auto b = parse(up.requests().at(0).body.c_str());
  EXPECT_STREQ(b["response_format"]["json_schema"]["name"].GetString(), "person");
}

TEST_F(E2E, SeveralChoicesAndTruncation) {
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "hi", ",\"n\":3,\"max_tokens\":2").c_str(), &r), LLM_OK);
  auto d = parse(llm_response_json(r));
  ASSERT_EQ(d["choices"].Size(), 3u);
  EXPECT_STREQ(llm_response_finish_reason(r), "length");
  llm_response_free(r);
}

TEST_F(E2E, CachedTokensAreReported) {
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "hi", headers("{\"x-upstream-cached-tokens\":\"7\"}")).c_str(), &r),
            LLM_OK);
  EXPECT_EQ(llm_response_cached_tokens(r), 7);
  llm_response_free(r);
}

TEST_F(E2E, ConnectionsAreKeptAlive) {
  for (int i = 0; i < 5; ++i) {
    llm_response_t* r = nullptr;
    ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "again").c_str(), &r), LLM_OK) << llm_last_error();
    llm_response_free(r);
  }
  EXPECT_EQ(up.connections_accepted(), 1u);
}

// A client keeps a pooled connection's socket in its loop's epoll set between
// calls (dormant: curl does not watch it). Such a socket that turns readable
// (the server closed the connection) or that curl closes must never keep the
// loop busy: the client's CPU time stays low while a slow call is in flight,
// with the loop on the I/O thread (async) or on a blocking caller's thread.
// The forked child holds copies of the client's sockets, so that a socket curl
// closes stays open, and in the epoll set unless the client takes it out
// before the close: it would then report its end of file for as long as the
// child lives.
TEST_F(E2E, PooledSocketsThatCloseLeaveTheLoopIdle) {
  auto cpu_ms = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000.0 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000.0;
  };
  auto chat = [&](const std::string& req) {
    llm_response_t* r = nullptr;
    llm_status st = llm_chat(client, req.c_str(), &r);
    llm_response_free(r);
    return st;
  };
  auto chat_async = [&](const std::string& req) {
    struct Done {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      llm_status st = LLM_ERR_INTERNAL;
    } d;
    EXPECT_EQ(llm_chat_async(
                  client, req.c_str(),
                  [](llm_status st, llm_response_t* r, const char*, void* ud) {
                    llm_response_free(r);
                    auto* d = static_cast<Done*>(ud);
                    std::lock_guard<std::mutex> lk(d->mu);
                    d->st = st;
                    d->done = true;
                    d->cv.notify_all();
                  },
                  &d, nullptr),
              LLM_OK);
    std::unique_lock<std::mutex> lk(d.mu);
    d.cv.wait(lk, [&] { return d.done; });
    return d.st;
  };
  const std::string slow = chat_req("openai/gpt-4o", "slow", headers(R"({"x-upstream-delay-ms":"500"})"));
  auto idle_while_slow = [&](bool async, const char* what) {
    double c0 = cpu_ms();
    EXPECT_EQ(async ? chat_async(slow) : chat(slow), LLM_OK) << what;
    EXPECT_LT(cpu_ms() - c0, 150.0) << what << ": the loop spun while a 500 ms call was in flight";
  };

  // A slow call in flight on one connection; meanwhile a call on a second one
  // is answered with keep-alive, then the server closes that one: its pooled
  // socket turns readable, and nothing looks for a connection to reuse (which
  // would find it dead) until the slow call ends.
  for (bool async : {false, true}) {
    double c0 = 0;
    std::thread slow_call([&] {
      EXPECT_EQ(async ? chat_async(slow) : chat(slow), LLM_OK);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(chat(chat_req("openai/gpt-4o", "dropped", headers(R"({"x-upstream-drop-idle":"1"})"))), LLM_OK);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the FIN is there
    c0 = cpu_ms();
    slow_call.join();
    EXPECT_LT(cpu_ms() - c0, 150.0) << (async ? "async" : "blocking")
                                    << ": the loop spun on a closed pooled connection while a call was in flight";
  }

  // curl closes connections (a garbage answer) while a child holds their sockets.
  for (bool async : {false, true}) {
    ASSERT_EQ(chat(chat_req("openai/gpt-4o", "pooled")), LLM_OK);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      timespec t{2, 0};
      nanosleep(&t, nullptr);
      _exit(0);
    }
    for (int i = 0; i < 3; ++i)
      EXPECT_NE(chat(chat_req("openai/gpt-4o", "garbage", headers(R"({"x-upstream-raw":"garbage-status"})"))),
                LLM_OK);
    idle_while_slow(async, async ? "async, after closed connections" : "blocking, after closed connections");
    kill(child, SIGKILL);
    int wst = 0;
    waitpid(child, &wst, 0);
  }
}

TEST_F(E2E, HostQuirksAreApplied) {
  // Mistral: seed is random_seed, no stream_options, no developer role, max_tokens.
  std::string cfg = "{\"providers\":{\"mistral\":{\"base_url\":" + q(up.base_url()) + ",\"api_key\":\"m-key\"}}}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  std::string req =
      "{\"model\":\"mistral/mistral-small-latest\",\"seed\":3,\"max_completion_tokens\":9,\"messages\":["
      "{\"role\":\"developer\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}";
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(c, req.c_str(), &s), LLM_OK) << llm_last_error();
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_OK) << res.error;
  llm_stream_free(s);
  auto b = parse(up.requests().at(0).body.c_str());
  EXPECT_EQ(b["random_seed"].GetInt(), 3);
  EXPECT_FALSE(b.HasMember("seed"));
  EXPECT_FALSE(b.HasMember("stream_options"));
  EXPECT_EQ(b["max_tokens"].GetInt(), 9);
  EXPECT_STREQ(b["messages"][0]["role"].GetString(), "system");
  EXPECT_TRUE(b["stream"].GetBool());
  llm_client_free(c);
}

TEST_F(E2E, RegisteredProviderIsUsedBeforeBuiltIns) {
  std::string p = "{\"name\":\"myhost\",\"base_url\":" + q(up.base_url()) +
                  ",\"prefixes\":[\"mh\",\"groq\"],\"auth\":{\"header\":\"x-api-key\"},\"api_key\":\"my-secret-key\"}";
  ASSERT_EQ(llm_register_provider(client, p.c_str()), LLM_OK) << llm_last_error();
  for (const char* model : {"mh/some-model", "myhost/some-model", "groq/llama"}) {
    llm_response_t* r = nullptr;
    ASSERT_EQ(llm_chat(client, chat_req(model, "reg").c_str(), &r), LLM_OK) << model << ": " << llm_last_error();
    EXPECT_STREQ(llm_response_provider(r), "myhost");
    llm_response_free(r);
  }
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("x-api-key"), "my-secret-key");
  EXPECT_EQ(reqs[0].header("authorization"), "");

  char* list = nullptr;
  ASSERT_EQ(llm_providers_json(client, &list), LLM_OK);
  auto l = parse(list);
  EXPECT_STREQ(l[0]["name"].GetString(), "myhost");
  EXPECT_TRUE(l[0]["registered"].GetBool());
  llm_string_free(list);

  ASSERT_EQ(llm_unregister_provider(client, "myhost"), LLM_OK);
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(client, chat_req("mh/some-model", "reg").c_str(), &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_unregister_provider(client, "myhost"), LLM_ERR_NOT_FOUND);
  EXPECT_EQ(llm_unregister_provider(client, "openai"), LLM_ERR_INVALID_ARGUMENT);
}

TEST_F(E2E, GlobalRegistrationReachesClients) {
  std::string p = "{\"name\":\"globalhost\",\"base_url\":" + q(up.base_url()) + ",\"prefixes\":[\"gh2\"],\"auth\":\"none\"}";
  ASSERT_EQ(llm_register_provider(nullptr, p.c_str()), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(client, chat_req("gh2/m", "x").c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  EXPECT_EQ(up.requests().at(0).header("authorization"), "");
  ASSERT_EQ(llm_unregister_provider(nullptr, "globalhost"), LLM_OK);
}

TEST_F(E2E, InvalidRegistrationsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {"{\"name\":\"\",\"base_url\":\"http://x\",\"prefixes\":[\"a\"]}", "provider.name"},
      {"{\"base_url\":\"http://x\",\"prefixes\":[\"a\"]}", "provider.name"},
      {"{\"name\":\"a\",\"base_url\":\"\",\"prefixes\":[\"a\"]}", "provider.base_url"},
      {"{\"name\":\"a\",\"base_url\":\"ftp://x\",\"prefixes\":[\"a\"]}", "provider.base_url"},
      {"{\"name\":\"a\",\"base_url\":\"http://x\"}", "provider.prefixes"},
      {"{\"name\":\"a\",\"base_url\":\"http://x\",\"prefixes\":[]}", "provider.prefixes"},
      {"{\"name\":\"a\",\"base_url\":\"http://x\",\"prefixes\":[\"\"]}", "provider.prefixes[0]"},
      {"{\"name\":\"a\",\"base_url\":\"http://x\",\"prefixes\":[\"a\"],\"auth\":\"magic\"}", "provider.auth"},
      {"{\"name\":\"a\",\"base_url\":\"http://x\",\"prefixes\":[\"a\"],\"colour\":1}", "provider.colour"},
      {"[1]", "provider"},
      {"{", "provider"},
  };
  for (auto& c : cases) {
    EXPECT_EQ(llm_register_provider(client, c.json), LLM_ERR_INVALID_ARGUMENT) << c.json;
    EXPECT_NE(std::string(llm_last_error()).find(c.field), std::string::npos) << c.json << " → " << llm_last_error();
  }
}

TEST_F(E2E, RoutingByPrefixAliasAndHint) {
  setenv("MISTRAL_API_KEY", "k1", 1);
  setenv("XAI_API_KEY", "k2", 1);
  setenv("MOONSHOT_API_KEY", "k3", 1);
  setenv("DASHSCOPE_API_KEY", "k4", 1);
  setenv("GROQ_API_KEY", "k5", 1);
  // The environment is read when a client is made.
  llm_client_free(client);
  client = make_client();
  struct Case {
    const char* model;
    const char* provider;
    const char* url;
  } cases[] = {
      {"MISTRAL_AI/mistral-large", "mistral", "https://api.mistral.ai/v1/chat/completions"},
      {"Grok/grok-4", "xai", "https://api.x.ai/v1/chat/completions"},
      {"KIMI/kimi-k2", "moonshot", "https://api.moonshot.ai/v1/chat/completions"},
      {"qwen/qwen-max", "dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions"},
      {"groq/openai/gpt-oss-20b", "groq", "https://api.groq.com/openai/v1/chat/completions"},
      {"gpt-4o-mini", "openai", nullptr},  // bare: model_hint (openai, pointed at the upstream)
  };
  for (auto& c : cases) {
    char* out = nullptr;
    ASSERT_EQ(llm_preview_request(client, chat_req(c.model, "x").c_str(), 0, &out), LLM_OK) << c.model << llm_last_error();
    auto d = parse(out);
    EXPECT_STREQ(d["provider"].GetString(), c.provider) << c.model;
    if (c.url) {
      EXPECT_STREQ(d["url"].GetString(), c.url) << c.model;
    }
    llm_string_free(out);
  }
  // "groq/openai/gpt-oss-20b" keeps everything after the first slash as the model.
  char* out = nullptr;
  ASSERT_EQ(llm_preview_request(client, chat_req("groq/openai/gpt-oss-20b", "x").c_str(), 0, &out), LLM_OK);
  auto b = parse(parse(out)["body"].GetString());
  EXPECT_STREQ(b["model"].GetString(), "openai/gpt-oss-20b");
  llm_string_free(out);

  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(client, chat_req("nosuch/model", "x").c_str(), &r), LLM_ERR_INVALID_ARGUMENT);
  std::string msg = llm_last_error();
  EXPECT_NE(msg.find("nosuch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("groq"), std::string::npos) << msg;  // lists the known providers
  EXPECT_EQ(up.requests().size(), 0u);
}

TEST_F(E2E, ModelHintPicksTheProviderOfBareModels) {
  std::string cfg = "{\"model_hint\":\"Groq\",\"api_key\":\"hint-key-123\",\"base_url\":" + q(up.base_url()) + "}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, chat_req("llama-3.1-8b-instant", "hint").c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_STREQ(llm_response_provider(r), "groq");
  llm_response_free(r);
  EXPECT_EQ(up.requests().at(0).header("authorization"), "Bearer hint-key-123");
  llm_client_free(c);
}

TEST_F(E2E, MissingKeyIsAnAuthenticationErrorNamingTheVariable) {
  unsetenv("CEREBRAS_API_KEY");
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(client, chat_req("cerebras/llama3.1-8b", "x").c_str(), &r), LLM_ERR_AUTHENTICATION);
  EXPECT_NE(std::string(llm_last_error()).find("CEREBRAS_API_KEY"), std::string::npos) << llm_last_error();
  // A local server needs no key.
  char* out = nullptr;
  unsetenv("OLLAMA_API_KEY");
  EXPECT_EQ(llm_preview_request(client, chat_req("ollama/llama3.2", "x").c_str(), 0, &out), LLM_OK) << llm_last_error();
  auto d = parse(out);
  EXPECT_STREQ(d["url"].GetString(), "http://localhost:11434/v1/chat/completions");
  EXPECT_FALSE(d["headers"].HasMember("Authorization"));
  llm_string_free(out);
}

TEST_F(E2E, KeysComeFromTheEnvironment) {
  setenv("OPENAI_API_KEY", "sk-from-env-abcdef", 1);
  std::string cfg = "{\"providers\":{\"openai\":{\"base_url\":" + q(up.base_url()) + "}}}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK);
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, chat_req("openai/gpt-4o", "env").c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  EXPECT_EQ(up.requests().at(0).header("authorization"), "Bearer sk-from-env-abcdef");
  llm_client_free(c);
  unsetenv("OPENAI_API_KEY");
}

TEST_F(E2E, PreviewShowsTheExactRequestWithSecretsRedacted) {
  char* out = nullptr;
  std::string req = chat_req("openai/gpt-4o-mini", "preview me", headers("{\"X-Api-Key-Extra\":\"hidden-value\"}"));
  ASSERT_EQ(llm_preview_request(client, req.c_str(), 1, &out), LLM_OK) << llm_last_error();
  std::string text = out;
  EXPECT_EQ(text.find(kKey), std::string::npos);
  EXPECT_EQ(text.find("hidden-value"), std::string::npos);
  auto d = parse(out);
  EXPECT_STREQ(d["method"].GetString(), "POST");
  EXPECT_EQ(std::string(d["url"].GetString()), up.base_url() + "/chat/completions");
  EXPECT_STREQ(d["headers"]["Authorization"].GetString(), "[REDACTED]");
  EXPECT_STREQ(d["headers"]["Accept"].GetString(), "text/event-stream");
  auto body = parse(d["body"].GetString());
  EXPECT_TRUE(body["stream"].GetBool());
  EXPECT_TRUE(body["stream_options"]["include_usage"].GetBool());
  llm_string_free(out);
  EXPECT_EQ(up.requests().size(), 0u);  // nothing was sent

  // The preview body is exactly what llm_chat sends.
  ASSERT_EQ(llm_preview_request(client, chat_req("openai/gpt-4o-mini", "same").c_str(), 0, &out), LLM_OK);
  std::string previewed = parse(out)["body"].GetString();
  llm_string_free(out);
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o-mini", "same").c_str(), &r), LLM_OK);
  llm_response_free(r);
  EXPECT_EQ(up.requests().at(0).body, previewed);
}

TEST_F(E2E, ConfigFilesTomlAndJson) {
  std::string dir = ::testing::TempDir();
  std::string toml = dir + "/literllm_e2e.toml";
  {
    std::ofstream f(toml);
    f << "timeout_secs = 30\nmax_retries = 1\n\n[providers.openai]\nbase_url = \"" << up.base_url()
      << "\"\napi_key = \"toml-key-123\"\n\n[headers]\nx-from-config = \"yes\"\n";
  }
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new_from_file(toml.c_str(), &c), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, chat_req("openai/gpt-4o", "toml").c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  llm_client_free(c);
  auto req = up.requests().at(0);
  EXPECT_EQ(req.header("authorization"), "Bearer toml-key-123");
  EXPECT_EQ(req.header("x-from-config"), "yes");

  std::string bad = dir + "/literllm_bad.toml";
  {
    std::ofstream f(bad);
    f << "timeout_secs = 30\n[providers.openai\n";
  }
  EXPECT_EQ(llm_client_new_from_file(bad.c_str(), &c), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("line 2"), std::string::npos) << llm_last_error();
  EXPECT_EQ(c, nullptr);

  std::string js = dir + "/literllm_e2e.json";
  {
    std::ofstream f(js);
    f << "{\"max_retries\": 3, \"typo_field\": 1}";
  }
  EXPECT_EQ(llm_client_new_from_file(js.c_str(), &c), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("typo_field"), std::string::npos);
  EXPECT_EQ(llm_client_new_from_file((dir + "/does-not-exist.toml").c_str(), &c), LLM_ERR_INVALID_ARGUMENT);
}

TEST(Config, UnknownAndIllTypedFieldsAreNamed) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {"{\"bogus\":1}", "bogus"},
      {"{\"timeout_secs\":\"10\"}", "timeout_secs"},
      {"{\"timeout_secs\":-1}", "timeout_secs"},
      {"{\"max_retries\":1.5}", "max_retries"},
      {"{\"max_retries\":99}", "max_retries"},
      {"{\"providers\":{\"openai\":{\"api_key\":5}}}", "providers.openai.api_key"},
      {"{\"providers\":{\"openai\":{\"colour\":\"x\"}}}", "providers.openai.colour"},
      {"{\"base_url\":\"not a url\"}", "base_url"},
      {"{\"headers\":[1]}", "headers"},
      {"[]", "config"},
      {"{\"api_key\":", "config"},
  };
  for (auto& c : cases) {
    llm_client_t* cl = reinterpret_cast<llm_client_t*>(0x1);
    EXPECT_EQ(llm_client_new(c.json, &cl), LLM_ERR_INVALID_ARGUMENT) << c.json;
    EXPECT_EQ(cl, nullptr);
    EXPECT_NE(std::string(llm_last_error()).find(c.field), std::string::npos) << c.json << " → " << llm_last_error();
  }
  llm_client_t* cl = nullptr;
  ASSERT_EQ(llm_client_new(nullptr, &cl), LLM_OK);
  llm_client_free(cl);
  ASSERT_EQ(llm_client_new("", &cl), LLM_OK);
  llm_client_free(cl);
}

TEST(Version, MatchesTheHeader) {
  EXPECT_EQ(llm_version_number(), static_cast<unsigned>(LLM_VERSION_NUMBER));
  char expect[32];
  std::snprintf(expect, sizeof expect, "%d.%d.%d", LLM_VERSION_MAJOR, LLM_VERSION_MINOR, LLM_VERSION_PATCH);
  EXPECT_STREQ(llm_version(), expect);
  EXPECT_STREQ(llm_status_str(LLM_ERR_TIMEOUT), "LLM_ERR_TIMEOUT");
  EXPECT_STREQ(llm_status_str(static_cast<llm_status>(999)), "LLM_ERR_UNKNOWN");
}
