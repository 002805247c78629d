// Exits the process while streams and chats are in flight on two clients:
// the I/O threads are parsing, calling back and reading when exit() runs.
// Usage: exit_in_flight PORT DELAY_MS. Exits 0 and prints nothing unless
// something went wrong (an abort, "pure virtual method called", a crash).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "literllm.h"

namespace {

int on_chunk(const char*, void*) { return 0; }
void on_done(llm_status, llm_response_t* r, const char*, void*) { llm_response_free(r); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: exit_in_flight PORT DELAY_MS\n");
    return 2;
  }
  std::string base = std::string("http://127.0.0.1:") + argv[1] + "/v1";
  std::string cfg = "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":\"" + base +
                    "\",\"api_key\":\"k-exit-123456\"}}}";
  const char* endless =
      "{\"model\":\"openai/m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
      "\"extra_headers\":{\"x-upstream-generate\":\"content\",\"x-upstream-generate-bytes\":\"512\"}}";
  const char* chat = "{\"model\":\"openai/m\",\"messages\":[{\"role\":\"user\",\"content\":\"a short chat\"}]}";
  llm_client_t* clients[2] = {nullptr, nullptr};
  for (auto*& c : clients) {
    if (llm_client_new(cfg.c_str(), &c) != LLM_OK) {
      std::fprintf(stderr, "llm_client_new: %s\n", llm_last_error());
      return 3;
    }
    for (int i = 0; i < 4; ++i) {
      llm_chat_stream_async(c, endless, on_chunk, on_done, nullptr, nullptr);
      llm_chat_async(c, chat, on_done, nullptr, nullptr);
    }
  }
  // A pull stream read by a thread of the program's own.
  llm_stream_t* s = nullptr;
  if (llm_chat_stream(clients[0], endless, &s) == LLM_OK) {
    std::thread([s] {
      const char* chunk = nullptr;
      while (llm_stream_next(s, &chunk) == LLM_OK && chunk) {
      }
    }).detach();
  }
  // And a blocking caller looping.
  std::thread([c = clients[1], chat] {
    for (;;) {
      llm_response_t* r = nullptr;
      if (llm_chat(c, chat, &r) == LLM_OK) llm_response_free(r);
    }
  }).detach();
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(argv[2])));
  std::exit(0);
}
