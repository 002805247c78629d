// Cancel tokens (llm_cancel_t): blocking calls ended from another thread, end to end.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "e2e.hpp"

using namespace e2e;

namespace {
using Clock = std::chrono::steady_clock;

double secs_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string slow_chat(const std::string& word, int delay_ms = 20000) {
  return chat_req("openai/gpt-4o", word, headers("{\"x-upstream-delay-ms\":\"" + std::to_string(delay_ms) + "\"}"));
}

// The outcome of one blocking call made on its own thread.
struct TokenOutcome {
  llm_status status = LLM_OK;
  std::string message;
  llm_status error_status = LLM_OK;  // of the error object (_e form)
  std::string text;
};

TokenOutcome chat_cancellable(llm_client_t* c, const std::string& req, llm_cancel_t* tok) {
  TokenOutcome o;
  llm_response_t* r = nullptr;
  llm_error_t* e = nullptr;
  o.status = llm_chat_cancellable_e(c, req.c_str(), tok, &r, &e);
  if (e) {
    o.error_status = llm_error_status(e);
    o.message = llm_error_message(e);
    llm_error_free(e);
  }
  if (r) o.text = llm_response_text(r);
  llm_response_free(r);
  return o;
}

// Waits until the upstream has received `n` requests (or 10 s passed).
bool wait_requests(literllm::testing::Upstream& up, size_t n) {
  auto t0 = Clock::now();
  while (up.requests().size() < n) {
    if (secs_since(t0) > 10) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}
}  // namespace

TEST_F(E2E, CancelTokenEndsABlockingChatOnAnotherThread) {
  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(llm_cancel_is_triggered(tok), 0);
  TokenOutcome o;
  std::thread t([&] { o = chat_cancellable(client, slow_chat("x"), tok); });
  ASSERT_TRUE(wait_requests(up, 1)) << "the call never reached the upstream";
  auto t0 = Clock::now();
  EXPECT_EQ(llm_cancel_trigger(tok), LLM_OK);
  t.join();
  EXPECT_LT(secs_since(t0), 3.0) << "the call did not end when its token was triggered";
  EXPECT_EQ(o.status, LLM_ERR_CANCELLED) << o.message;
  EXPECT_EQ(o.error_status, LLM_ERR_CANCELLED);
  EXPECT_EQ(llm_cancel_is_triggered(tok), 1);
  // Triggering again is harmless.
  EXPECT_EQ(llm_cancel_trigger(tok), LLM_OK);
  llm_cancel_free(tok);

  // The client is unharmed.
  EXPECT_EQ(chat_cancellable(client, chat_req("openai/gpt-4o", "after"), nullptr).text,
            "Hello from the local upstream. You said: after");
}

TEST_F(E2E, CancelTokenUntriggeredChangesNothingAndServesManyCalls) {
  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  for (int i = 0; i < 3; ++i) {
    std::string word = "call" + std::to_string(i);
    TokenOutcome o = chat_cancellable(client, chat_req("openai/gpt-4o", word), tok);
    EXPECT_EQ(o.status, LLM_OK) << o.message;
    EXPECT_EQ(o.text, "Hello from the local upstream. You said: " + word);
  }
  // NULL is exactly llm_chat.
  TokenOutcome o = chat_cancellable(client, chat_req("openai/gpt-4o", "plain"), nullptr);
  EXPECT_EQ(o.status, LLM_OK) << o.message;
  EXPECT_EQ(o.text, "Hello from the local upstream. You said: plain");
  llm_cancel_free(tok);
}

TEST_F(E2E, CancelTokenTriggeredBeforeTheCallSendsNothing) {
  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  ASSERT_EQ(llm_cancel_trigger(tok), LLM_OK);
  auto t0 = Clock::now();
  TokenOutcome o = chat_cancellable(client, slow_chat("x"), tok);
  EXPECT_LT(secs_since(t0), 1.0);
  EXPECT_EQ(o.status, LLM_ERR_CANCELLED);
  EXPECT_NE(o.message.find("cancel token"), std::string::npos) << o.message;
  EXPECT_EQ(llm_last_error_status(), LLM_ERR_CANCELLED);
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_call_cancellable(client, "embeddings", R"({"model":"openai/text-embedding-3-small","input":"x"})",
                                 nullptr, nullptr, 0, tok, &r),
            LLM_ERR_CANCELLED);
  EXPECT_EQ(r, nullptr);
  EXPECT_TRUE(up.requests().empty()) << "a call with a triggered token reached the upstream";
  llm_cancel_free(tok);
}

TEST_F(E2E, OneCancelTokenEndsCallsOnSeveralThreadsAndClients) {
  llm_client_t* other = make_client();
  llm_client_t* hosted = make_client(",\"max_retries\":0,\"io\":\"host\"");
  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  llm_client_t* clients[] = {client, client, other, other, hosted};
  constexpr int kCalls = 5;
  std::vector<TokenOutcome> out(kCalls);
  std::vector<std::thread> ts;
  for (int i = 0; i < kCalls; ++i)
    ts.emplace_back([&, i] { out[i] = chat_cancellable(clients[i], slow_chat("c" + std::to_string(i)), tok); });
  ASSERT_TRUE(wait_requests(up, kCalls));
  auto t0 = Clock::now();
  EXPECT_EQ(llm_cancel_trigger(tok), LLM_OK);
  for (auto& t : ts) t.join();
  EXPECT_LT(secs_since(t0), 3.0);
  for (int i = 0; i < kCalls; ++i) EXPECT_EQ(out[i].status, LLM_ERR_CANCELLED) << i << ": " << out[i].message;
  llm_cancel_free(tok);
  // Freeing the clients right after the calls returned is safe: the trigger is done with them.
  llm_client_free(hosted);
  llm_client_free(other);
}

TEST_F(E2E, CancelTokenEndsABlockingCall) {
  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  llm_status st = LLM_OK;
  std::string msg;
  std::thread t([&] {
    llm_response_t* r = nullptr;
    llm_error_t* e = nullptr;
    std::string req = R"({"model":"openai/text-embedding-3-small","input":"x","extra_headers":{"x-upstream-delay-ms":"20000"}})";
    st = llm_call_cancellable_e(client, "embeddings", req.c_str(), nullptr, nullptr, 0, tok, &r, &e);
    if (e) msg = llm_error_message(e);
    llm_error_free(e);
    llm_response_free(r);
  });
  ASSERT_TRUE(wait_requests(up, 1));
  auto t0 = Clock::now();
  EXPECT_EQ(llm_cancel_trigger(tok), LLM_OK);
  t.join();
  EXPECT_LT(secs_since(t0), 3.0);
  EXPECT_EQ(st, LLM_ERR_CANCELLED) << msg;
  llm_cancel_free(tok);
}

// A token triggered from a callback on the client's I/O thread ends a blocking call on another thread.
TEST_F(E2E, CancelTokenTriggeredFromACallback) {
  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  TokenOutcome o;
  std::thread t([&] { o = chat_cancellable(client, slow_chat("blocked"), tok); });
  ASSERT_TRUE(wait_requests(up, 1));
  struct Ctx {
    llm_cancel_t* tok;
    std::atomic<int> done{0};
    llm_status trigger = LLM_ERR_INTERNAL;
  } ctx{tok};
  auto on_done = [](llm_status, llm_response_t* r, const char*, void* ud) {
    auto* c = static_cast<Ctx*>(ud);
    llm_response_free(r);
    c->trigger = llm_cancel_trigger(c->tok);
    c->done = 1;
  };
  ASSERT_EQ(llm_chat_async(client, chat_req("openai/gpt-4o", "quick").c_str(), on_done, &ctx, nullptr), LLM_OK);
  t.join();
  EXPECT_EQ(o.status, LLM_ERR_CANCELLED) << o.message;
  while (!ctx.done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(ctx.trigger, LLM_OK);
  llm_cancel_free(tok);
}

// Triggers at every moment around the start of a call: each call ends, cancelled or answered, and none hangs.
TEST_F(E2E, CancelTokenRacesWithTheStartOfACall) {
  constexpr int kRounds = 60;
  int cancelled = 0, answered = 0;
  for (int i = 0; i < kRounds; ++i) {
    llm_cancel_t* tok = nullptr;
    ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
    TokenOutcome o;
    std::thread t([&] { o = chat_cancellable(client, slow_chat("r", 30), tok); });
    std::this_thread::sleep_for(std::chrono::microseconds(i * 500));
    llm_cancel_trigger(tok);
    t.join();
    if (o.status == LLM_ERR_CANCELLED) ++cancelled;
    else if (o.status == LLM_OK) ++answered;
    else ADD_FAILURE() << i << ": " << llm_status_str(o.status) << " " << o.message;
    llm_cancel_free(tok);
  }
  EXPECT_GT(cancelled, 0);
  EXPECT_EQ(cancelled + answered, kRounds);
}

TEST_F(E2E, CancelTokenBadArguments) {
  EXPECT_EQ(llm_cancel_new(nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("out"), std::string::npos) << llm_last_error();
  EXPECT_EQ(llm_cancel_trigger(nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("cancel"), std::string::npos) << llm_last_error();
  EXPECT_EQ(llm_cancel_is_triggered(nullptr), 0);
  llm_cancel_free(nullptr);

  llm_cancel_t* tok = nullptr;
  ASSERT_EQ(llm_cancel_new(&tok), LLM_OK);
  llm_response_t* r = nullptr;
  llm_error_t* e = nullptr;
  EXPECT_EQ(llm_chat_cancellable_e(client, chat_req("openai/gpt-4o", "x").c_str(), tok, nullptr, &e),
            LLM_ERR_INVALID_ARGUMENT);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(std::string(llm_error_message(e)).find("llm_chat_cancellable: out"), std::string::npos)
      << llm_error_message(e);
  llm_error_free(e);
  EXPECT_EQ(llm_chat_cancellable(nullptr, "{}", tok, &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("client"), std::string::npos) << llm_last_error();
  EXPECT_EQ(llm_chat_cancellable(client, "{\"model\":1}", tok, &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(llm_call_cancellable(client, "no.such.endpoint", "{}", nullptr, nullptr, 0, tok, &r),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("no.such.endpoint"), std::string::npos) << llm_last_error();
  EXPECT_EQ(llm_cancel_is_triggered(tok), 0);
  llm_cancel_free(tok);
}

TEST_F(E2E, CancelTokenErrorObjects) {
  llm_error_t* e = nullptr;
  EXPECT_EQ(llm_cancel_new_e(nullptr, &e), LLM_ERR_INVALID_ARGUMENT);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(llm_error_status(e), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_error_message(e)).find("llm_cancel_new: out"), std::string::npos) << llm_error_message(e);
  llm_error_free(e);
  e = nullptr;
  EXPECT_EQ(llm_cancel_trigger_e(nullptr, &e), LLM_ERR_INVALID_ARGUMENT);
  ASSERT_NE(e, nullptr);
  EXPECT_NE(std::string(llm_error_message(e)).find("llm_cancel_trigger: cancel"), std::string::npos)
      << llm_error_message(e);
  llm_error_free(e);
  llm_cancel_t* tok = nullptr;
  e = reinterpret_cast<llm_error_t*>(1);  // overwritten with NULL on success
  ASSERT_EQ(llm_cancel_new_e(&tok, &e), LLM_OK);
  EXPECT_EQ(e, nullptr);
  e = reinterpret_cast<llm_error_t*>(1);
  EXPECT_EQ(llm_cancel_trigger_e(tok, &e), LLM_OK);
  EXPECT_EQ(e, nullptr);
  EXPECT_EQ(llm_cancel_is_triggered(tok), 1);
  llm_cancel_free(tok);
}
