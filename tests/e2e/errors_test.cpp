// Error kinds, retries, timeouts, cancellation, threads and bad input, end to end.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "e2e.hpp"

using namespace e2e;

namespace {
llm_status chat_status(llm_client_t* c, const std::string& req, std::string* msg = nullptr) {
  llm_response_t* r = nullptr;
  llm_status st = llm_chat(c, req.c_str(), &r);
  if (msg) *msg = llm_last_error();
  if (st != LLM_OK) {
    EXPECT_EQ(r, nullptr);
  }
  llm_response_free(r);
  return st;
}
}  // namespace

TEST_F(E2E, HttpStatusesMapToTypedErrors) {
  struct Case {
    int status;
    const char* body;
    llm_status expect;
  } cases[] = {
      {401, nullptr, LLM_ERR_AUTHENTICATION},
      {403, nullptr, LLM_ERR_AUTHENTICATION},
      {429, nullptr, LLM_ERR_RATE_LIMITED},
      {400, nullptr, LLM_ERR_BAD_REQUEST},
      {422, nullptr, LLM_ERR_BAD_REQUEST},
      {404, nullptr, LLM_ERR_NOT_FOUND},
      {500, nullptr, LLM_ERR_SERVER_ERROR},
      {502, nullptr, LLM_ERR_SERVER_ERROR},
      {503, nullptr, LLM_ERR_SERVICE_UNAVAILABLE},
      {529, nullptr, LLM_ERR_SERVICE_UNAVAILABLE},
      {501, nullptr, LLM_ERR_ENDPOINT_NOT_SUPPORTED},
      {400,
       "{\"error\":{\"message\":\"This model's maximum context length is 128000 tokens.\",\"type\":"
       "\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}",
       LLM_ERR_CONTEXT_WINDOW_EXCEEDED},
      {400,
       "{\"error\":{\"message\":\"The response was filtered due to the prompt triggering content management policy.\","
       "\"type\":null,\"param\":\"prompt\",\"code\":\"content_filter\"}}",
       LLM_ERR_CONTENT_POLICY},
      {400, "{\"message\":\"Please reduce the length of the messages.\"}", LLM_ERR_CONTEXT_WINDOW_EXCEEDED},
  };
  for (auto& c : cases) {
    std::string h = "{\"x-upstream-status\":\"" + std::to_string(c.status) + "\"";
    if (c.body) h += ",\"x-upstream-body\":" + q(c.body);
    h += "}";
    std::string msg;
    EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", headers(h)), &msg), c.expect) << c.status << " " << msg;
    EXPECT_EQ(llm_last_error_status(), c.expect);
    EXPECT_EQ(llm_last_error_http_status(), c.status);
    EXPECT_NE(msg.find("HTTP " + std::to_string(c.status)), std::string::npos) << msg;
    EXPECT_NE(msg.find("openai"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(kKey), std::string::npos) << msg;
    if (c.body && std::string(c.body).find("maximum context length") != std::string::npos) {
      EXPECT_NE(msg.find("maximum context length is 128000"), std::string::npos) << msg;
    }
  }
}

TEST_F(E2E, KeyEchoedByTheProviderIsRedacted) {
  std::string body = std::string("{\"error\":{\"message\":\"Incorrect API key provided: ") + kKey + "\"}}";
  std::string msg;
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x",
                                         headers("{\"x-upstream-status\":\"401\",\"x-upstream-body\":" + q(body) + "}")),
                        &msg),
            LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(msg.find(kKey), std::string::npos) << msg;
  EXPECT_NE(msg.find("[REDACTED]"), std::string::npos) << msg;
}

TEST_F(E2E, TransportFailuresMapToTypedErrors) {
  std::string msg;
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-reset\":\"1\"}")), &msg),
            LLM_ERR_NETWORK)
      << msg;
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-malformed\":\"1\"}")), &msg),
            LLM_ERR_SERIALIZATION)
      << msg;
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", ",\"timeout_secs\":0.3" + headers("{\"x-upstream-delay-ms\":\"3000\"}")),
                        &msg),
            LLM_ERR_TIMEOUT)
      << msg;
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", headers("{\"x-bad\":\"a\\r\\nInjected: 1\"}")), &msg),
            LLM_ERR_INVALID_HEADER)
      << msg;
  EXPECT_EQ(msg.find("Injected"), std::string::npos) << msg;

  // Nothing listens on the port of a stopped server.
  std::string url = up.base_url();
  up.stop();
  std::string cfg = "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":" + q(url) + ",\"api_key\":\"k-123456\"}}}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK);
  EXPECT_EQ(chat_status(c, chat_req("openai/gpt-4o", "x"), &msg), LLM_ERR_NETWORK) << msg;
  llm_client_free(c);
  up.start();
}

TEST_F(E2E, RetriesRecoverFromTransientFailures) {
  llm_client_free(client);
  client = make_client(",\"max_retries\":2");
  std::string h = "{\"x-upstream-fail-times\":\"2\",\"x-upstream-fail-key\":\"k1\",\"x-upstream-status\":\"503\","
                  "\"x-upstream-retry-after\":\"0\"}";
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "retry", headers(h)).c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_EQ(parse(llm_response_json(r))["stats"]["retries"].GetInt(), 2);
  EXPECT_GT(llm_response_bytes_sent(r), 3 * 100u);  // all three attempts counted
  llm_response_free(r);
  EXPECT_EQ(up.requests().size(), 3u);

  // One failure more than the retries allow: the provider's error comes back.
  h = "{\"x-upstream-fail-times\":\"3\",\"x-upstream-fail-key\":\"k2\",\"x-upstream-status\":\"429\","
      "\"x-upstream-retry-after\":\"0\"}";
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "retry", headers(h))), LLM_ERR_RATE_LIMITED);
  // Not retried: a 400.
  up.clear_requests();
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-status\":\"400\"}"))),
            LLM_ERR_BAD_REQUEST);
  EXPECT_EQ(up.requests().size(), 1u);
  // Retried: a connection reset, then success.
  up.clear_requests();
  h = "{\"x-upstream-fail-times\":\"1\",\"x-upstream-fail-key\":\"k3\",\"x-upstream-status\":\"502\","
      "\"x-upstream-retry-after\":\"0\"}";
  EXPECT_EQ(chat_status(client, chat_req("openai/gpt-4o", "x", headers(h))), LLM_OK);
}

namespace {
struct Done {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  llm_status status = LLM_OK;
  std::string text;
};
void on_done(llm_status st, llm_response_t* r, const char*, void* ud) {
  auto* d = static_cast<Done*>(ud);
  std::lock_guard lk(d->mu);
  d->status = st;
  if (r && llm_response_text(r)) d->text = llm_response_text(r);
  llm_response_free(r);
  ++d->calls;
  d->cv.notify_all();
}
bool wait(Done& d, int calls = 1) {
  std::unique_lock lk(d.mu);
  return d.cv.wait_for(lk, std::chrono::seconds(20), [&] { return d.calls >= calls; });
}
}  // namespace

TEST_F(E2E, AsyncChatAndCancel) {
  Done ok;
  ASSERT_EQ(llm_chat_async(client, chat_req("openai/gpt-4o", "async").c_str(), on_done, &ok, nullptr), LLM_OK);
  ASSERT_TRUE(wait(ok));
  EXPECT_EQ(ok.status, LLM_OK);
  EXPECT_EQ(ok.text, "Hello from the local upstream. You said: async");

  Done slow;
  uint64_t id = 0;
  ASSERT_EQ(llm_chat_async(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-delay-ms\":\"5000\"}")).c_str(),
                           on_done, &slow, &id),
            LLM_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(llm_client_cancel(client, id), LLM_OK);
  ASSERT_TRUE(wait(slow));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 3.0);
  EXPECT_EQ(slow.status, LLM_ERR_CANCELLED);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(slow.calls, 1);

  // Invalid requests fail at once, and their callback never runs.
  Done never;
  EXPECT_EQ(llm_chat_async(client, "{\"model\":1}", on_done, &never, &id), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(never.calls, 0);
}

TEST_F(E2E, CancelDuringRetryWait) {
  llm_client_free(client);
  client = make_client(",\"max_retries\":5");
  Done d;
  uint64_t id = 0;
  std::string h = "{\"x-upstream-fail-times\":\"10\",\"x-upstream-fail-key\":\"cw\",\"x-upstream-status\":\"503\","
                  "\"x-upstream-retry-after\":\"30\"}";
  ASSERT_EQ(llm_chat_async(client, chat_req("openai/gpt-4o", "x", headers(h)).c_str(), on_done, &d, &id), LLM_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  llm_client_cancel(client, id);
  ASSERT_TRUE(wait(d));
  EXPECT_EQ(d.status, LLM_ERR_CANCELLED);
}

TEST_F(E2E, FreeingTheClientCancelsWhatIsInFlight) {
  llm_client_t* c = make_client();
  Done d;
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-delay-ms\":\"10000\"}")).c_str(), on_done,
                           &d, nullptr),
            LLM_OK);
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(c, chat_req("openai/gpt-4o", "a b", headers("{\"x-upstream-stall-after\":\"1\"}")).c_str(), &s),
            LLM_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  llm_client_free(c);
  EXPECT_EQ(d.calls, 1);  // ran before llm_client_free returned
  EXPECT_EQ(d.status, LLM_ERR_CANCELLED);
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_ERR_CANCELLED);
  llm_stream_free(s);
}

TEST_F(E2E, SixteenThreadsShareOneClient) {
  constexpr int kThreads = 16, kCalls = 25;
  std::atomic<int> ok{0}, streamed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string word = "t" + std::to_string(t) + "c" + std::to_string(i);
        if (i % 5 == 4) {
          llm_stream_t* s = nullptr;
          if (llm_chat_stream(client, chat_req("openai/gpt-4o", word).c_str(), &s) != LLM_OK) continue;
          auto res = drain(s);
          if (res.status == LLM_OK && res.content == "Hello from the local upstream. You said: " + word) ++streamed;
          llm_stream_free(s);
          continue;
        }
        llm_response_t* r = nullptr;
        if (llm_chat(client, chat_req("openai/gpt-4o", word).c_str(), &r) == LLM_OK &&
            std::string(llm_response_text(r)) == "Hello from the local upstream. You said: " + word)
          ++ok;
        llm_response_free(r);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls * 4 / 5);
  EXPECT_EQ(streamed.load(), kThreads * kCalls / 5);
  EXPECT_LE(up.connections_accepted(), static_cast<size_t>(kThreads) * 2);  // connections are reused
}

TEST_F(E2E, AsyncCallbacksNeverRunOnABlockingCallersThread) {
  // llm_chat runs the client's loop on its own thread while it is the loop's
  // only user; callbacks of llm_chat_async / llm_chat_stream_async must still
  // come from the library's I/O thread, whatever llm_chat is doing meanwhile.
  std::atomic<bool> stop{false};
  std::atomic<int> blocking_ok{0}, blocking_calls{0};
  std::thread::id blocking_thread;
  std::mutex id_mu;
  std::thread blocker([&] {
    {
      std::lock_guard lk(id_mu);
      blocking_thread = std::this_thread::get_id();
    }
    while (!stop.load()) {
      llm_response_t* r = nullptr;
      ++blocking_calls;
      std::string req = chat_req("openai/gpt-4o", "blocking", headers("{\"x-upstream-delay-ms\":\"20\"}"));
      if (llm_chat(client, req.c_str(), &r) == LLM_OK &&
          std::string(llm_response_text(r)) == "Hello from the local upstream. You said: blocking")
        ++blocking_ok;
      llm_response_free(r);
    }
  });
  struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::thread::id> threads;
    int done = 0, ok = 0;
  } seen;
  llm_chat_done_cb chat_done = [](llm_status st, llm_response_t* r, const char*, void* ud) {
    auto* s = static_cast<Seen*>(ud);
    std::lock_guard lk(s->mu);
    s->threads.push_back(std::this_thread::get_id());
    s->ok += st == LLM_OK;
    ++s->done;
    llm_response_free(r);
    s->cv.notify_all();
  };
  llm_stream_chunk_cb chunk = [](const char*, void* ud) -> int {
    auto* s = static_cast<Seen*>(ud);
    std::lock_guard lk(s->mu);
    s->threads.push_back(std::this_thread::get_id());
    return 0;  // go on
  };
  constexpr int kCalls = 40;
  for (int i = 0; i < kCalls; ++i) {
    std::string req = chat_req("openai/gpt-4o", "async " + std::to_string(i));
    if (i % 2)
      ASSERT_EQ(llm_chat_stream_async(client, req.c_str(), chunk, chat_done, &seen, nullptr), LLM_OK) << llm_last_error();
    else
      ASSERT_EQ(llm_chat_async(client, req.c_str(), chat_done, &seen, nullptr), LLM_OK) << llm_last_error();
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  {
    std::unique_lock lk(seen.mu);
    ASSERT_TRUE(seen.cv.wait_for(lk, std::chrono::seconds(20), [&] { return seen.done == kCalls; }));
  }
  stop = true;
  blocker.join();
  EXPECT_EQ(seen.ok, kCalls);
  EXPECT_GT(blocking_calls.load(), 0);
  EXPECT_EQ(blocking_ok.load(), blocking_calls.load());
  std::lock_guard lk(seen.mu);
  EXPECT_GT(seen.threads.size(), static_cast<size_t>(kCalls));
  for (auto& t : seen.threads) {
    EXPECT_NE(t, blocking_thread) << "a callback ran on the thread inside llm_chat";
    EXPECT_NE(t, std::this_thread::get_id());
  }
}

TEST_F(E2E, BlockingCallsFromACallbackAreRefused) {
  // On the client's own I/O thread llm_chat and llm_stream_next would wait on
  // the thread they block: both refuse; the callback forms still work there.
  struct Probe {
    llm_client_t* client = nullptr;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    llm_status chat = LLM_OK, stream_start = LLM_OK, stream_next = LLM_OK, async = LLM_ERR_INTERNAL;
    std::string chat_msg, next_msg;
  } p;
  p.client = client;
  static llm_chat_done_cb inner = [](llm_status, llm_response_t* r, const char*, void*) { llm_response_free(r); };
  llm_chat_done_cb outer = [](llm_status, llm_response_t* r, const char*, void* ud) {
    llm_response_free(r);
    auto* p = static_cast<Probe*>(ud);
    std::string req = chat_req("openai/gpt-4o", "inside");
    llm_response_t* resp = nullptr;
    llm_status chat = llm_chat(p->client, req.c_str(), &resp);
    std::string chat_msg = llm_last_error();
    llm_response_free(resp);
    llm_stream_t* s = nullptr;
    llm_status start = llm_chat_stream(p->client, req.c_str(), &s);
    const char* chunk = nullptr;
    llm_status next = s ? llm_stream_next(s, &chunk) : LLM_ERR_INTERNAL;
    std::string next_msg = llm_last_error();
    llm_stream_free(s);
    llm_status async = llm_chat_async(p->client, req.c_str(), inner, nullptr, nullptr);
    std::lock_guard lk(p->mu);
    p->chat = chat;
    p->chat_msg = chat_msg;
    p->stream_start = start;
    p->stream_next = next;
    p->next_msg = next_msg;
    p->async = async;
    p->done = true;
    p->cv.notify_all();
  };
  ASSERT_EQ(llm_chat_async(client, chat_req("openai/gpt-4o", "outer").c_str(), outer, &p, nullptr), LLM_OK);
  std::unique_lock lk(p.mu);
  ASSERT_TRUE(p.cv.wait_for(lk, std::chrono::seconds(20), [&] { return p.done; }));
  EXPECT_EQ(p.chat, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(p.chat_msg.find("llm_chat_async"), std::string::npos) << p.chat_msg;
  EXPECT_EQ(p.stream_start, LLM_OK);
  EXPECT_EQ(p.stream_next, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(p.next_msg.find("llm_stream_next"), std::string::npos) << p.next_msg;
  EXPECT_EQ(p.async, LLM_OK);
}

TEST_F(E2E, NullArgumentsAreInvalidArguments) {
  llm_response_t* r = nullptr;
  llm_stream_t* s = nullptr;
  char* out = nullptr;
  const char* chunk = nullptr;
  std::string req = chat_req("openai/gpt-4o", "x");
  EXPECT_EQ(llm_client_new("{}", nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("out"), std::string::npos);
  EXPECT_EQ(llm_client_new_from_file(nullptr, reinterpret_cast<llm_client_t**>(&out)), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_chat(nullptr, req.c_str(), &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_chat(client, nullptr, &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("request_json"), std::string::npos);
  EXPECT_EQ(llm_chat(client, req.c_str(), nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_chat_stream(nullptr, req.c_str(), &s), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_chat_stream(client, nullptr, &s), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_stream_next(nullptr, &chunk), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_stream_final_response(nullptr, &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_preview_request(client, nullptr, 0, &out), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_preview_request(nullptr, req.c_str(), 0, &out), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_providers_json(nullptr, nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_register_provider(client, nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_unregister_provider(client, nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_chat_async(client, req.c_str(), nullptr, nullptr, nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_client_cancel(nullptr, 1), LLM_ERR_INVALID_ARGUMENT);
  llm_stream_cancel(nullptr);
  llm_stream_free(nullptr);
  llm_response_free(nullptr);
  llm_client_free(nullptr);
  llm_string_free(nullptr);
  EXPECT_EQ(llm_response_text(nullptr), nullptr);
  EXPECT_EQ(llm_response_json(nullptr), nullptr);
  EXPECT_EQ(llm_response_total_tokens(nullptr), -1);
  EXPECT_EQ(llm_response_bytes_sent(nullptr), 0u);
  char* list = nullptr;
  ASSERT_EQ(llm_providers_json(nullptr, &list), LLM_OK);
  EXPECT_NE(std::string(list).find("\"groq\""), std::string::npos);
  llm_string_free(list);
  EXPECT_EQ(up.requests().size(), 0u);
}

TEST_F(E2E, BadRequestsAreRefusedBeforeAnythingIsSent) {
  struct Case {
    std::string req;
    llm_status st;
    const char* needle;
  } cases[] = {
      {"", LLM_ERR_INVALID_ARGUMENT, "request"},
      {"{", LLM_ERR_INVALID_ARGUMENT, "not valid JSON"},
      {"[]", LLM_ERR_INVALID_ARGUMENT, "request"},
      {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", LLM_ERR_INVALID_ARGUMENT, "model"},
      {"{\"model\":5,\"messages\":[]}", LLM_ERR_INVALID_ARGUMENT, "model"},
      {"{\"model\":\"openai/x\",\"messages\":[]}", LLM_ERR_INVALID_ARGUMENT, "messages"},
      {chat_req("openai/x", "y", ",\"temperature\":\"hot\""), LLM_ERR_INVALID_ARGUMENT, "temperature"},
      {chat_req("openai/x", "y", ",\"temperature\":3"), LLM_ERR_INVALID_ARGUMENT, "temperature"},
      {chat_req("openai/x", "y", ",\"n\":0"), LLM_ERR_INVALID_ARGUMENT, "n"},
      {chat_req("openai/x", "y", ",\"max_tokens\":1.5"), LLM_ERR_INVALID_ARGUMENT, "max_tokens"},
      {chat_req("openai/x", "y", ",\"stop\":[1]"), LLM_ERR_INVALID_ARGUMENT, "stop"},
      {chat_req("openai/x", "y", ",\"tool_choice\":\"required\""), LLM_ERR_INVALID_ARGUMENT, "tool_choice"},
      {chat_req("openai/x", "y", ",\"stream\":true"), LLM_ERR_INVALID_ARGUMENT, "stream"},
      {"{\"model\":\"openai/x\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", LLM_ERR_INVALID_ARGUMENT,
       "messages[0].role"},
      {"{\"model\":\"openai/x\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":3}}]}]}",
       LLM_ERR_INVALID_ARGUMENT, "messages[0].content[0].image_url.url"},
      {std::string("{\"model\":\"openai/x\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}"),
       LLM_ERR_INVALID_ARGUMENT, "request"},
      {std::string(100000, '[') + std::string(100000, ']'), LLM_ERR_INVALID_ARGUMENT, "deeper"},
  };
  for (auto& c : cases) {
    std::string msg;
    EXPECT_EQ(chat_status(client, c.req, &msg), c.st) << c.req.substr(0, 200);
    EXPECT_NE(msg.find(c.needle), std::string::npos) << c.req.substr(0, 200) << " → " << msg;
    llm_stream_t* s = nullptr;
    if (c.req.find("\"stream\":true") == std::string::npos) {
      EXPECT_EQ(llm_chat_stream(client, c.req.c_str(), &s), c.st);
      EXPECT_EQ(s, nullptr);
    }
  }
  EXPECT_EQ(up.requests().size(), 0u);
}

TEST_F(E2E, HugeRequestsGoThrough) {
  std::string big(8 << 20, 'a');  // 8 MiB of text in one message
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", big, headers("{\"x-upstream-echo\":\"1\"}")).c_str(), &r), LLM_OK)
      << llm_last_error();
  EXPECT_GT(llm_response_bytes_sent(r), 8u << 20);
  EXPECT_EQ(up.requests().at(0).body.size(), std::string(llm_response_text(r)).size());
  llm_response_free(r);
}
