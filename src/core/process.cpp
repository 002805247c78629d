#include "core/process.hpp"

#include <curl/curl.h>
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.hpp"

namespace literllm {

namespace {

std::atomic<unsigned> g_fork_generation{0};
std::mutex g_init_mu;  // trivially destructible in libstdc++ (no destructor runs at exit)
bool g_initialized = false;

void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

unsigned fork_generation() noexcept { return g_fork_generation.load(std::memory_order_relaxed); }

void global_init() {
  std::lock_guard lk(g_init_mu);
  if (g_initialized) return;
  CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    if (rc == CURLE_OUT_OF_MEMORY) throw Error(LLM_ERR_OUT_OF_MEMORY, "out of memory initializing libcurl");
    throw Error(LLM_ERR_INTERNAL, std::string("libcurl could not initialize: ") + curl_easy_strerror(rc));
  }
  if (int err = pthread_atfork(nullptr, nullptr, &on_fork_child); err != 0) {
    curl_global_cleanup();
    throw Error(LLM_ERR_OUT_OF_MEMORY, "out of memory registering the fork handler");
  }
  g_initialized = true;
}

}  // namespace literllm
