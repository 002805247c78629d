// Out of memory as a tested error (issue 8): operator new is replaced so that
// the K-th allocation of the process fails (returns NULL or throws
// std::bad_alloc, as the form asks), the way SQLite tests itself. For every K
// over all the allocations one call makes, the call must end with a typed
// status (success, or LLM_ERR_OUT_OF_MEMORY; for the error scenario the
// provider's error), never abort, hang or leave the client broken: after each
// K a plain call on the same client must succeed.
//
// Usage: fault_sweep UPSTREAM_EXE SCENARIO [persist]
//   SCENARIO: client | chat | error | async | stream | stream-async
//   persist: every allocation from the K-th on fails (memory stays short)
// The upstream runs as a child process (its allocations are not ours).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "literllm.h"
#include "process.hpp"

// ------------------------------------------------------------ the shim

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_count{0};
std::atomic<long> g_fail_at{0};  // 0: none
std::atomic<long> g_failed{0};
bool g_persist = false;  // every allocation from the K-th on fails, not only the K-th

void* take(size_t n, size_t align = 0) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) {
    long k = g_count.fetch_add(1, std::memory_order_relaxed) + 1;
    long at = g_fail_at.load(std::memory_order_relaxed);
    if (at > 0 && (k == at || (g_persist && k > at))) {
      g_failed.fetch_add(1);
      return nullptr;
    }
  }
  if (n == 0) n = 1;
  if (align > alignof(std::max_align_t)) {
    void* p = nullptr;
    return posix_memalign(&p, align, n) == 0 ? p : nullptr;
  }
  return std::malloc(n);
}

void* take_or_throw(size_t n, size_t align = 0) {
  void* p = take(n, align);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(size_t n) { return take_or_throw(n); }
void* operator new[](size_t n) { return take_or_throw(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return take(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return take(n); }
void* operator new(size_t n, std::align_val_t a) { return take_or_throw(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) { return take_or_throw(n, static_cast<size_t>(a)); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return take(n, static_cast<size_t>(a));
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return take(n, static_cast<size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

// ------------------------------------------------------------ the sweep

namespace {

long g_current_k = 0;
const char* g_scenario = "";

void on_alarm(int) {
  char m[160];
  int n = std::snprintf(m, sizeof m, "fault_sweep %s: HANG with allocation %ld failing (no answer in 60 s)\n",
                        g_scenario, g_current_k);
  (void)!write(2, m, static_cast<size_t>(n));
  _exit(1);
}

void arm(long k) {
  g_count.store(0);
  g_fail_at.store(k);
  g_counting.store(true);
}
long disarm() {
  g_counting.store(false);
  g_fail_at.store(0);
  return g_count.load();
}

// The callbacks' side: no allocation, a condition variable to wait on.
struct Done {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  llm_status status = LLM_OK;
  char message[256] = {0};
  void reset() {
    std::lock_guard lk(mu);
    done = false;
    status = LLM_OK;
    message[0] = 0;
  }
  bool wait(int secs) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(secs), [&] { return done; });
  }
};

void done_cb(llm_status st, llm_response_t* r, const char* msg, void* ud) {
  auto* d = static_cast<Done*>(ud);
  llm_response_free(r);
  std::lock_guard lk(d->mu);
  d->status = st;
  std::snprintf(d->message, sizeof d->message, "%s", msg ? msg : "");
  d->done = true;
  d->cv.notify_all();
}
int chunk_cb(const char*, void*) { return 0; }

struct Tally {
  long ok = 0, oom = 0, expected_error = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 4 && std::strcmp(argv[3], "persist") == 0)) {
    std::fprintf(stderr, "usage: fault_sweep UPSTREAM_EXE client|chat|error|async|stream|stream-async [persist]\n");
    return 2;
  }
  g_persist = argc == 4;
  const std::string scenario = argv[2];
  g_scenario = argv[2];
  signal(SIGALRM, on_alarm);
  literllm::testing::UpstreamProcess upstream(argv[1]);
  const std::string cfg = "{\"max_retries\":0,\"timeout_secs\":20,\"providers\":{\"openai\":{\"base_url\":"
                          "\"http://127.0.0.1:" +
                          std::to_string(upstream.port()) + "/v1\",\"api_key\":\"k-fault-123456\"}}}";
  const std::string chat = R"({"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"fault sweep"}]})";
  const std::string error_chat =
      R"({"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}],)"
      R"("extra_headers":{"x-upstream-status":"429","x-upstream-retry-after":"1"}})";
  llm_status expected_error = scenario == "error" ? LLM_ERR_RATE_LIMITED : LLM_OK;
  const char* request = scenario == "error" ? error_chat.c_str() : chat.c_str();

  llm_client_t* client = nullptr;
  if (llm_client_new(cfg.c_str(), &client) != LLM_OK) {
    std::fprintf(stderr, "llm_client_new: %s\n", llm_last_error());
    return 1;
  }
  Done done;

  // One run of the scenario with allocation `k` failing (0: none). Returns the status.
  auto once = [&](long k, char* msg, size_t msg_size) -> llm_status {
    llm_status st = LLM_OK;
    msg[0] = 0;
    arm(k);
    if (scenario == "client") {
      llm_client_t* c = nullptr;
      st = llm_client_new(cfg.c_str(), &c);
      llm_client_free(c);
    } else if (scenario == "chat" || scenario == "error") {
      llm_response_t* r = nullptr;
      st = llm_chat(client, request, &r);
      if (st == LLM_OK && !llm_response_json(r) && llm_last_error_status() != LLM_ERR_OUT_OF_MEMORY)
        st = LLM_ERR_INTERNAL;  // NULL JSON must mean out of memory
      llm_response_free(r);
    } else if (scenario == "async" || scenario == "stream-async") {
      done.reset();
      st = scenario == "async" ? llm_chat_async(client, request, done_cb, &done, nullptr)
                               : llm_chat_stream_async(client, request, chunk_cb, done_cb, &done, nullptr);
      if (st == LLM_OK) {
        if (!done.wait(50)) st = LLM_ERR_TIMEOUT;
        else {
          std::lock_guard lk(done.mu);
          st = done.status;
          std::snprintf(msg, msg_size, "%s", done.message);
        }
      }
    } else if (scenario == "stream") {
      llm_stream_t* s = nullptr;
      st = llm_chat_stream(client, request, &s);
      const char* chunk = nullptr;
      while (st == LLM_OK && (st = llm_stream_next(s, &chunk)) == LLM_OK && chunk) {
      }
      if (st == LLM_OK) {
        llm_response_t* r = nullptr;
        st = llm_stream_final_response(s, &r);
        llm_response_free(r);
      }
      llm_stream_free(s);
    }
    disarm();
    if (st != LLM_OK && msg[0] == 0) std::snprintf(msg, msg_size, "%s", llm_last_error());
    return st;
  };

  char msg[512];
  // How many allocations the scenario makes when none fails (the most of a few runs).
  long total = 0;
  for (int i = 0; i < 3; ++i) {
    llm_status st = once(0, msg, sizeof msg);
    if (st != expected_error) {
      std::fprintf(stderr, "fault_sweep %s: the plain run failed: %s: %s\n", g_scenario, llm_status_str(st), msg);
      return 1;
    }
    total = std::max(total, g_count.load());
  }
  Tally tally;
  int failures = 0;
  const long last = total + 8;
  for (long k = 1; k <= last; ++k) {
    g_current_k = k;
    alarm(60);
    llm_status st = once(k, msg, sizeof msg);
    if (st == expected_error) ++tally.ok;
    else if (st == LLM_ERR_OUT_OF_MEMORY) ++tally.oom;
    else {
      ++failures;
      std::fprintf(stderr, "fault_sweep %s: allocation %ld failing gave %s: %s\n", g_scenario, k, llm_status_str(st),
                   msg);
    }
    // The client stays usable.
    llm_response_t* r = nullptr;
    llm_status after = llm_chat(client, chat.c_str(), &r);
    llm_response_free(r);
    if (after != LLM_OK) {
      ++failures;
      std::fprintf(stderr, "fault_sweep %s: after allocation %ld failed, a plain chat gave %s: %s\n", g_scenario, k,
                   llm_status_str(after), llm_last_error());
    }
    if (failures > 20) break;
  }
  alarm(0);
  llm_client_free(client);
  std::printf("fault_sweep %s%s: %ld allocations per call; K = 1..%ld: %ld ended as without failure, %ld with "
              "LLM_ERR_OUT_OF_MEMORY, %d otherwise\n",
              g_scenario, g_persist ? " (persist)" : "", total, last, tally.ok, tally.oom, failures);
  return failures == 0 ? 0 : 1;
}
