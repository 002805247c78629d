// "io_threads": a client spreads its calls over several event loops (one by
// default), each with its own I/O thread, once one loop carries several calls;
// a call stays on the loop it started on. Sequential use stays on the first
// loop; freeing the client (from outside, or from a callback on any loop) ends
// every loop's calls.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "e2e.hpp"

using namespace e2e;

namespace {

// The done callbacks of a batch of llm_chat_async calls: statuses, and the
// threads they ran on.
struct Batch {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0, cancelled = 0;
  std::set<std::thread::id> threads;
  std::vector<std::string> errors;

  static void on_done(llm_status st, llm_response_t* r, const char* msg, void* ud) {
    auto* b = static_cast<Batch*>(ud);
    llm_response_free(r);
    std::lock_guard lk(b->mu);
    ++b->done;
    if (st == LLM_OK) ++b->ok;
    else if (st == LLM_ERR_CANCELLED) ++b->cancelled;
    else b->errors.push_back(msg ? msg : "");
    b->threads.insert(std::this_thread::get_id());
    b->cv.notify_all();
  }
  bool wait(int n, int secs = 30) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(secs), [&] { return done >= n; });
  }
  void start(llm_client_t* c, const std::string& req, int n) {
    for (int i = 0; i < n; ++i) ASSERT_EQ(llm_chat_async(c, req.c_str(), on_done, this, nullptr), LLM_OK) << llm_last_error();
  }
};

std::string slow_req(int ms) {
  return chat_req("openai/gpt-4o", "slow", headers("{\"x-upstream-delay-ms\":\"" + std::to_string(ms) + "\"}"));
}

}  // namespace

TEST_F(E2E, ConcurrentCallsSpreadOverTheIoThreads) {
  llm_client_t* c = make_client(",\"max_retries\":0,\"io_threads\":2");
  {
    Batch b;
    b.start(c, slow_req(300), 16);
    ASSERT_TRUE(b.wait(16));
    EXPECT_EQ(b.ok, 16) << (b.errors.empty() ? "" : b.errors[0]);
    EXPECT_EQ(b.threads.size(), 2u) << "16 calls in flight on a client with io_threads 2";
  }
  {
    // One call at a time, each started once the last has ended: all on one
    // loop (the first), although the second exists by now.
    Batch b;
    for (int i = 0; i < 6; ++i) {
      b.start(c, chat_req("openai/gpt-4o", "one at a time"), 1);
      ASSERT_TRUE(b.wait(i + 1));
    }
    EXPECT_EQ(b.ok, 6);
    EXPECT_EQ(b.threads.size(), 1u);
  }
  {
    // Calls started from a done callback (the usual way to chain them) stay
    // on the loop of the call that ended: it counts as free again.
    struct Chain {
      llm_client_t* c = nullptr;
      std::atomic<int> left{8};
      Batch b;
      static void next(llm_status st, llm_response_t* r, const char* msg, void* ud) {
        auto* ch = static_cast<Chain*>(ud);
        if (--ch->left > 0) llm_chat_async(ch->c, chat_req("openai/gpt-4o", "chained").c_str(), next, ch, nullptr);
        Batch::on_done(st, r, msg, &ch->b);
      }
    } chain;
    chain.c = c;
    ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "chained").c_str(), Chain::next, &chain, nullptr), LLM_OK);
    ASSERT_TRUE(chain.b.wait(8));
    EXPECT_EQ(chain.b.ok, 8);
    EXPECT_EQ(chain.b.threads.size(), 1u);
  }
  llm_client_free(c);
}

TEST_F(E2E, OneIoThreadCarriesEveryCallByDefault) {
  for (const char* extra : {"", ",\"io_threads\":1"}) {
    llm_client_t* c = make_client(std::string(",\"max_retries\":0") + extra);
    Batch b;
    b.start(c, slow_req(200), 16);
    ASSERT_TRUE(b.wait(16));
    EXPECT_EQ(b.ok, 16);
    EXPECT_EQ(b.threads.size(), 1u) << extra;
    llm_client_free(c);
  }
}

TEST_F(E2E, IoThreadsZeroIsOnePerProcessor) {
  // 16 calls in flight, 4 per loop before another starts: up to 4 loops, as
  // many as the processors this process may run on allow (at most 8).
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const size_t want = std::min(4, std::min(8, CPU_COUNT(&set)));
  llm_client_t* c = make_client(",\"max_retries\":0,\"io_threads\":0");
  Batch b;
  b.start(c, slow_req(300), 16);
  ASSERT_TRUE(b.wait(16));
  EXPECT_EQ(b.ok, 16);
  EXPECT_EQ(b.threads.size(), want);
  llm_client_free(c);
}

TEST_F(E2E, BlockingCallsFromManyThreadsOnSeveralLoops) {
  llm_client_t* c = make_client(",\"max_retries\":0,\"io_threads\":3");
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 12; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        llm_response_t* r = nullptr;
        if (llm_chat(c, slow_req(20).c_str(), &r) == LLM_OK) ++ok;
        llm_response_free(r);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 60);
  // Streams too, pulled on their own threads while async calls run.
  Batch b;
  b.start(c, slow_req(100), 8);
  std::vector<std::thread> readers;
  std::atomic<int> streams_ok{0};
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      llm_stream_t* s = nullptr;
      if (llm_chat_stream(c, chat_req("openai/gpt-4o", "stream please").c_str(), &s) != LLM_OK) return;
      StreamResult r = drain(s);
      if (r.status == LLM_OK && !r.content.empty()) ++streams_ok;
      llm_stream_free(s);
    });
  for (auto& t : readers) t.join();
  ASSERT_TRUE(b.wait(8));
  EXPECT_EQ(b.ok, 8);
  EXPECT_EQ(streams_ok.load(), 4);
  llm_client_free(c);
}

// llm_client_free from a done callback while other calls are in flight on
// both loops: the callback's loop shuts down once it returns, and the other
// loop from there; every call's callback runs once (LLM_ERR_CANCELLED).
// `slow`: the calls started first: 5 put the freeing call on the second loop
// (the first carries 4), 8 put it on the first (4 each, a tie).
class FreeFromACallback : public E2E, public ::testing::WithParamInterface<int> {};

TEST_P(FreeFromACallback, EndsEveryLoopsCalls) {
  const int slow = GetParam();
  llm_client_t* c = make_client(",\"max_retries\":0,\"io_threads\":2");
  Batch b;
  b.start(c, slow_req(3000), slow);
  struct Freer {
    llm_client_t* c;
    Batch* b;
    std::thread::id thread;
  } f{c, &b, {}};
  ASSERT_EQ(llm_chat_async(
                c, chat_req("openai/gpt-4o", "quick").c_str(),
                [](llm_status st, llm_response_t* r, const char* msg, void* ud) {
                  auto* f = static_cast<Freer*>(ud);
                  f->thread = std::this_thread::get_id();
                  llm_client_free(f->c);
                  Batch::on_done(st, r, msg, f->b);
                },
                &f, nullptr),
            LLM_OK);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(b.wait(slow + 1, 20));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500)) << "the slow calls ran their course";
  EXPECT_EQ(b.ok, 1);
  EXPECT_EQ(b.cancelled, slow);
  EXPECT_EQ(b.threads.size(), 2u) << "each loop's calls end on that loop's thread";
  // The freeing thread (the I/O thread) is detached and ends on its own; give
  // it a moment so that a leak checker sees the process settle.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

INSTANTIATE_TEST_SUITE_P(IoThreads, FreeFromACallback, ::testing::Values(5, 8));

TEST_F(E2E, FreeingAClientEndsEveryLoopsCalls) {
  llm_client_t* c = make_client(",\"max_retries\":0,\"io_threads\":2");
  Batch b;
  b.start(c, slow_req(3000), 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  llm_client_free(c);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
  std::lock_guard lk(b.mu);
  EXPECT_EQ(b.done, 8) << "every callback ran before llm_client_free returned";
  EXPECT_EQ(b.cancelled, 8);
  EXPECT_EQ(b.threads.size(), 2u);
}

TEST_F(E2E, ReadingAStreamFromAnyLoopsCallbackIsRefused) {
  // A stream is refused inside a callback of any of the client's loops, not
  // only its own: two loops each blocked on the other's stream would never
  // wake. The calls are placed by load: 4 on the first loop, then the stream
  // starts the second, 3 more fill it to 4, and the reader (a tie) goes to
  // the first.
  llm_client_t* c = make_client(",\"max_retries\":0,\"io_threads\":2");
  Batch first, second;
  first.start(c, slow_req(1500), 4);
  struct Probe {
    llm_client_t* c = nullptr;
    llm_stream_t* s = nullptr;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    llm_status next = LLM_OK;
    std::string msg;
    std::thread::id thread;
  } p;
  p.c = c;
  ASSERT_EQ(llm_chat_stream(c, slow_req(300).c_str(), &p.s), LLM_OK);
  second.start(c, slow_req(1500), 3);
  ASSERT_EQ(llm_chat_async(
                c, chat_req("openai/gpt-4o", "reader").c_str(),
                [](llm_status, llm_response_t* r, const char*, void* ud) {
                  llm_response_free(r);
                  auto* p = static_cast<Probe*>(ud);
                  const char* chunk = nullptr;
                  llm_status st = llm_stream_next(p->s, &chunk);
                  std::lock_guard lk(p->mu);
                  p->next = st;
                  p->msg = llm_last_error();
                  p->thread = std::this_thread::get_id();
                  p->done = true;
                  p->cv.notify_all();
                },
                &p, nullptr),
            LLM_OK);
  {
    std::unique_lock lk(p.mu);
    ASSERT_TRUE(p.cv.wait_for(lk, std::chrono::seconds(20), [&] { return p.done; }));
  }
  EXPECT_EQ(p.next, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(p.msg.find("llm_stream_next"), std::string::npos) << p.msg;
  // Read from this thread, it works.
  StreamResult r = drain(p.s);
  EXPECT_EQ(r.status, LLM_OK) << r.error;
  llm_stream_free(p.s);
  ASSERT_TRUE(first.wait(4));
  ASSERT_TRUE(second.wait(3));
  EXPECT_EQ(first.threads.size(), 1u);
  EXPECT_EQ(second.threads.size(), 1u);
  EXPECT_EQ(first.threads.count(p.thread), 1u) << "the reader ran on the first loop";
  EXPECT_EQ(second.threads.count(p.thread), 0u) << "the stream's loop is the second";
  llm_client_free(c);
}

TEST(Config, IoThreadsIsCheckedWhereItEnters) {
  for (const char* bad : {"{\"io_threads\":-1}", "{\"io_threads\":65}", "{\"io_threads\":\"2\"}",
                          "{\"io_threads\":1.5}", "{\"io\":\"host\",\"io_threads\":2}"}) {
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(bad, &c), LLM_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_EQ(c, nullptr);
    EXPECT_NE(std::string(llm_last_error()).find("io_threads"), std::string::npos) << bad << ": " << llm_last_error();
  }
  for (const char* good : {"{\"io_threads\":0}", "{\"io_threads\":1}", "{\"io_threads\":64}",
                           "{\"io\":\"host\",\"io_threads\":1}", "{\"io\":\"host\",\"io_threads\":0}"}) {
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(good, &c), LLM_OK) << good << ": " << llm_last_error();
    llm_client_free(c);
  }
}
