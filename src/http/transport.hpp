// The transport: one libcurl multi handle driven by one I/O thread per client.
// Every transfer of a client runs on that thread; blocking calls wait on it.
// Connections are kept alive and reused across calls and threads (HTTP/2
// multiplexed over TLS when the server offers it). TLS verification is on.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/request.hpp"
#include "literllm.h"

namespace literllm::http {

struct TransportOptions {
  long connect_timeout_ms = 10'000;
  long idle_timeout_ms = 300'000;  // longest silence while receiving the body
};

// The outcome of one transfer, given to on_done.
struct Result {
  llm_status status = LLM_OK;  // LLM_OK when an HTTP answer arrived whole (any HTTP status);
                               // else LLM_ERR_TIMEOUT / LLM_ERR_NETWORK / LLM_ERR_CANCELLED /
                               // LLM_ERR_INVALID_HEADER / LLM_ERR_INTERNAL
  std::string error;           // curl's words when status != LLM_OK (never a header value)
  long http_status = 0;        // 0 when no response line arrived
  uint64_t bytes_sent = 0;     // request line + headers + body, as sent
  uint64_t bytes_received = 0; // status line + headers + body, as received
  double total_ms = 0;
};

struct Callbacks {
  // Once, when the response headers are complete (before any on_data).
  // `headers` are the final response's headers (after any 1xx).
  std::function<void(long http_status, const Headers& headers)> on_headers;
  // Body bytes as they arrive. Return false to abort the transfer (on_done
  // then gets LLM_ERR_CANCELLED).
  std::function<bool(const char* data, size_t len)> on_data;
  // Exactly once, last. After it returns, no callback of this transfer runs again.
  std::function<void(const Result&)> on_done;
};

class Transport {
 public:
  explicit Transport(TransportOptions opts = {});
  // Cancels every transfer still running (each on_done runs with LLM_ERR_CANCELLED)
  // and joins the I/O thread.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Queues a transfer; returns its id (never 0). Thread-safe; may be called from
  // inside a callback. `total_timeout_ms` <= 0 means none. All callbacks run on
  // the I/O thread. If the transport is shutting down, on_done runs with
  // LLM_ERR_CANCELLED (on the calling thread) and 0 is returned.
  uint64_t submit(Request req, Callbacks cb, long total_timeout_ms);

  // Cancels a transfer: its on_done runs with LLM_ERR_CANCELLED on the I/O
  // thread, unless it already ran. Unknown ids are ignored. Thread-safe.
  void cancel(uint64_t id);

  // Pauses / resumes receiving on a transfer (flow control for slow consumers).
  // Thread-safe; unknown ids are ignored.
  void pause(uint64_t id);
  void resume(uint64_t id);

  // Runs `fn` on the I/O thread after `delay_ms` (0: as soon as possible). Every
  // scheduled fn runs exactly once: if the transport shuts down first, it runs
  // during shutdown (where a submit() it makes completes as cancelled). Thread-safe.
  void schedule(long delay_ms, std::function<void()> fn);

  // True when called on this transport's I/O thread.
  bool on_io_thread() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace literllm::http
