// json::parse on threads a host language runtime owns: called from pthread key
// destructors at thread exit, from many threads that then stay alive, and
// while the process exits.
#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "sanitized.hpp"

using namespace literllm;

namespace {

// A chat request of about `n` bytes.
std::string request_of(size_t n) {
  std::string t = R"({"model":"m","messages":[)";
  for (int i = 0; t.size() < n; ++i) {
    if (i) t += ',';
    t += R"({"role":"user","content":"message )" + std::to_string(i) + R"( caf\u00e9 \"q\"","n":[1,2.5,-3e2,true,null]})";
  }
  return t + "]}";
}

// Never destroyed: threads still read them while the process exits.
const std::string& big_text() {
  static const std::string& s = *new std::string(request_of(100000));
  return s;
}
const std::string& small_text() {
  static const std::string& s = *new std::string(R"({"id":"c1","choices":[{"delta":{"content":"hi"},"index":0}]})");
  return s;
}

// What a parse gave on the exiting thread, checked on the test's thread after
// the join (gtest's own per-thread state may be gone inside a key destructor).
struct Outcome {
  std::string big, small, error;
  bool state_was_gone = false;  // the thread's JSON state had been freed before the parse
  int rounds = 0;               // calls of the destructor
};

void parse_both(Outcome& o) {
  try {
    o.big = json::dump(json::parse(big_text(), "big", LLM_ERR_INVALID_ARGUMENT));
    o.small = json::dump(json::parse(small_text(), "small", LLM_ERR_INVALID_ARGUMENT));
  } catch (const std::exception& e) {
    o.error = e.what();
  }
}

void expect_parsed(const Outcome& o) {
  EXPECT_EQ(o.error, "");
  EXPECT_TRUE(o.big == json::dump(json::parse(big_text(), "big", LLM_ERR_INVALID_ARGUMENT)))
      << "the large text read differently (" << o.big.size() << " bytes)";
  EXPECT_EQ(o.small, small_text());
}

// Another runtime's key destructor that calls the library.
void runtime_key_destructor(void* p) {
  auto& o = *static_cast<Outcome*>(p);
  ++o.rounds;
  parse_both(o);
}

// Waits, if need be, for the thread's JSON state to be freed, then parses.
// glibc calls key destructors in rounds (PTHREAD_DESTRUCTOR_ITERATIONS, 4), each
// round in key order; a key set again during a round has its destructor called
// in the next one. This key is made after the thread's first parse, so it
// usually follows the JSON key; if it comes first, it sets itself again to be
// called after the JSON key's destructor.
pthread_key_t g_late_key;
void late_key_destructor(void* p) {
  auto& o = *static_cast<Outcome*>(p);
  ++o.rounds;
  if (json::thread_parser_capacity() != 0) {
    if (o.rounds < 3) pthread_setspecific(g_late_key, p);
    return;
  }
  o.state_was_gone = true;
  parse_both(o);
}

}  // namespace

TEST(JsonThreads, AnotherRuntimesKeyDestructorMayParse) {
  // C++ thread_local objects are destroyed before key destructors run: the
  // library's per-thread state must not be one (it was: a heap-use-after-free).
  pthread_key_t key;
  ASSERT_EQ(pthread_key_create(&key, runtime_key_destructor), 0);
  Outcome o;
  std::thread([&] {
    json::parse(small_text(), "small", LLM_ERR_INVALID_ARGUMENT);
    pthread_setspecific(key, &o);
  }).join();
  EXPECT_EQ(o.rounds, 1);
  expect_parsed(o);
  // A thread whose first call comes from the destructor.
  Outcome first;
  std::thread([&] { pthread_setspecific(key, &first); }).join();
  EXPECT_EQ(first.rounds, 1);
  expect_parsed(first);
  pthread_key_delete(key);
}

TEST(JsonThreads, ParsesAfterItsOwnStateWasFreed) {
  Outcome o;
  bool created = false;
  std::thread([&] {
    json::parse(small_text(), "small", LLM_ERR_INVALID_ARGUMENT);  // the JSON key exists from here on
    created = pthread_key_create(&g_late_key, late_key_destructor) == 0;
    if (created) pthread_setspecific(g_late_key, &o);
  }).join();
  ASSERT_TRUE(created);
  EXPECT_TRUE(o.state_was_gone) << "the thread's JSON state was still held in round " << o.rounds;
  expect_parsed(o);
  pthread_key_delete(g_late_key);
  // The state made again in the destructor was freed in glibc's next round
  // (LeakSanitizer reports it otherwise).
}

TEST(JsonThreads, ThreadsKeepLittleAfterALargeParse) {
  // Each thread used to keep simdjson's buffers for the largest text it had
  // read (about 14 bytes per byte: 15 MiB after 1 MB) until it exited.
  constexpr int kThreads = 16;
  const std::string text = request_of(1000000);
  const std::string want = json::dump(json::parse(text, "doc", LLM_ERR_INVALID_ARGUMENT));
  auto in_use = [] {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;  // large blocks are mapped on their own and counted in hblkhd only
  };
  const size_t before = in_use();
  std::barrier parsed(kThreads + 1), done(kThreads + 1);
  std::atomic<int> same{0};
  std::atomic<size_t> largest_kept{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      if (json::dump(json::parse(text, "doc", LLM_ERR_INVALID_ARGUMENT)) == want) ++same;
      size_t kept = json::thread_parser_capacity(), seen = largest_kept.load();
      while (kept > seen && !largest_kept.compare_exchange_weak(seen, kept)) {
      }
      parsed.arrive_and_wait();
      done.arrive_and_wait();
    });
  parsed.arrive_and_wait();
  const size_t after = in_use();
  done.arrive_and_wait();
  for (auto& t : threads) t.join();
  EXPECT_EQ(same.load(), kThreads);
  EXPECT_LE(largest_kept.load(), 16u << 10) << "a thread's parser kept its capacity for the large text";
#ifdef LITERLLM_SANITIZED
  GTEST_SKIP() << "SKIPPED: mallinfo2 does not see the sanitizer's allocator (capacities checked above)";
#else
  const size_t kept = after > before ? after - before : 0;
  EXPECT_LT(kept, kThreads * (512u << 10)) << "16 threads keep " << kept / 1024 << " KiB after a 1 MB parse";
#endif
}

namespace {
// Starts threads that each parse once (so each starts a new simdjson parser)
// until the process ends. Each is created detached and waited for through a
// flag, not joined: exit() can come between a thread's end and its join, and
// ThreadSanitizer reports such a finished, unjoined thread as a leak (exit
// code 66 instead of the 7 the test expects; seen once in CI).
void* parse_once(void* arg) {
  json::parse(small_text(), "small", LLM_ERR_INVALID_ARGUMENT);
  json::parse(big_text(), "big", LLM_ERR_INVALID_ARGUMENT);
  static_cast<std::atomic<bool>*>(arg)->store(true);
  return nullptr;
}

void start_parsing_threads() {
  for (int i = 0; i < 2; ++i)
    std::thread([] {
      pthread_attr_t attr;
      pthread_attr_init(&attr);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      for (;;) {
        std::atomic<bool> done{false};
        pthread_t t;
        if (pthread_create(&t, &attr, parse_once, &done) != 0) continue;
        while (!done.load()) std::this_thread::yield();
      }
    }).detach();
}
}  // namespace

TEST(JsonThreads, ExitWhileThreadsParse) {
  // simdjson's process-wide objects are destroyed by exit(); a parser started
  // after that called a pure virtual function and aborted. The handler below is
  // registered before those objects exist, so it runs after their destructors,
  // and holds the process there while threads keep starting parsers.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atexit([] { usleep(200000); });
        big_text();
        start_parsing_threads();
        usleep(50000);
        std::exit(7);
      },
      testing::ExitedWithCode(7), "");
}
