// The transport: one libcurl multi handle, one event loop, per client.
// The loop runs on the client's I/O thread; a blocking call that finds the loop
// idle runs the same loop on its own thread for as long as it is the loop's
// only user (no thread handoff), and gives it back to the I/O thread the
// moment another thread submits work. Blocking calls thus wait on the same
// loop, through the same code, as asynchronous ones.
// Connections are kept alive and reused across calls and threads (HTTP/2
// multiplexed over TLS when the server offers it). TLS verification is on.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/secrets.hpp"
#include "http/request.hpp"
#include "literllm.h"

namespace literllm::http {

struct TransportOptions {
  long connect_timeout_ms = 10'000;
  long idle_timeout_ms = 300'000;  // longest silence while receiving the body
  size_t max_header_bytes = 256u << 10;  // response headers together; more is a broken server (LLM_ERR_NETWORK)
  // No I/O thread: the program polls io_fd() and runs the loop with io_run()
  // (and blocking callers drive it while they wait).
  bool hosted = false;
};

// The clocks of one transfer.
struct Timing {
  long total_ms = 0;  // the whole transfer, <= 0: none; also enforced while decoding what has arrived
  // The idle clock (TransportOptions::idle_timeout_ms) also runs from the
  // moment the request is sent until the response headers come (streams: a
  // server that reads the request and never answers is as dead as one that
  // goes silent mid-stream). Otherwise it starts with the headers.
  bool idle_before_headers = false;
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
  // No connection was made (resolve, connect, connect timeout): nothing was sent.
  bool connect_failed = false;
  // A failure that trying again cannot mend (TLS verification of the server).
  bool permanent = false;
};

struct Callbacks {
  // Once, when the response headers are complete (before any on_data).
  // `headers` are the final response's headers (after any 1xx).
  std::function<void(long http_status, const Headers& headers)> on_headers;
  // Body bytes as they arrive. Return false to abort the transfer (on_done
  // then gets LLM_ERR_CANCELLED); the connection is closed, never reused.
  std::function<bool(const char* data, size_t len)> on_data;
  // Exactly once, last. After it returns, no callback of this transfer runs again.
  std::function<void(const Result&)> on_done;
};

// A one-shot completion flag a blocking caller waits on (see run_blocking).
class Waiter {
 public:
  void notify();      // any thread; once
  bool ready();       // any thread
  void wait();        // blocks until notify() has run
  bool wait_for(long ms);  // as wait(), for at most `ms`: true when notified
 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

class Transport {
 public:
  // Throws Error(LLM_ERR_NETWORK) when the loop's descriptors (its epoll set
  // and wake-up eventfd) cannot be made, e.g. with no descriptor left: without
  // them there is no loop to wait on, nor a way to wake it.
  // The I/O thread blocks every asynchronous signal.
  explicit Transport(TransportOptions opts = {});
  // Cancels every transfer still running (each on_done runs with LLM_ERR_CANCELLED)
  // and joins the I/O thread. Run by `destroy` of defer_destroy(), on the I/O
  // thread itself, it detaches the thread instead.
  ~Transport();

  // Shuts the transport down as the destructor does, keeping the object: from
  // then on submit() answers LLM_ERR_CANCELLED on the calling thread and
  // schedule() runs its function there, at once. For an owner of several
  // transports whose callbacks reach into one another (each is shut down
  // before any is destroyed). Idempotent; the destructor calls it.
  void shutdown();

  // From a callback on the loop's thread: shuts the transport down as the
  // destructor would (every transfer cancelled, every scheduled function run)
  // once the callback returns, then runs `destroy` on the I/O thread, which
  // must destroy this transport (and may free what owns it). Nothing of the
  // transport may be used after this returns.
  void defer_destroy(std::function<void()> destroy);

  // In a forked child: the loop's thread does not exist there, and its
  // connections are the parent's. Gives the transport up without joining,
  // closing or freeing anything (the child's copy of the memory stays).
  void abandon();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Queues a transfer; returns its id (never 0). Thread-safe; may be called from
  // inside a callback. Throws std::bad_alloc (before anything is queued: no
  // callback then runs) when memory runs out. All callbacks run on
  // the loop's thread: the I/O thread, or (for transfers a run_blocking() start
  // function submits, and only while they are alone on the loop) the thread
  // inside run_blocking(). If the transport is shutting down, on_done runs with
  // LLM_ERR_CANCELLED (on the calling thread) and 0 is returned. Called from
  // outside the loop while the loop is idle, it sends the request from the
  // calling thread before returning (one turn of curl that delivers nothing)
  // and then hands the loop to the I/O thread.
  // `id`: 0 for a fresh one, or one from new_id(), for a caller that must
  // know the id before any callback of the transfer can run.
  uint64_t submit(Request req, Callbacks cb, Timing timing, uint64_t id = 0);
  uint64_t new_id();
  uint64_t submit(Request req, Callbacks cb, long total_timeout_ms) {
    return submit(std::move(req), std::move(cb), Timing{total_timeout_ms});
  }

  // Cancels a transfer: its on_done runs with LLM_ERR_CANCELLED on the loop's
  // thread, unless it already ran. Unknown ids are ignored. Thread-safe.
  void cancel(uint64_t id);

  // Pauses / resumes receiving on a transfer (flow control for slow consumers).
  // Thread-safe; unknown ids are ignored.
  void pause(uint64_t id);
  void resume(uint64_t id);

  // The bytes a running transfer has sent and received so far (as Result
  // counts them). On the loop's thread only; false (and 0s) for an unknown id.
  bool wire_bytes(uint64_t id, uint64_t& sent, uint64_t& received) const;
  // The proxies' credentials (their userinfo, as written, decoded and as curl's
  // Basic authorization), to redact from any text a call's error carries: a
  // proxy or a server may echo the Proxy-Authorization curl sent.
  const Secrets& proxy_secrets() const;

  // Runs `fn` on the loop's thread after `delay_ms` (0: as soon as possible). Every
  // scheduled fn runs exactly once: if the transport shuts down first, it runs
  // during shutdown (where a submit() it makes completes as cancelled). Thread-safe.
  // Throws std::bad_alloc when memory runs out (then `fn` never runs); once
  // queued, running it allocates nothing.
  void schedule(long delay_ms, std::function<void()> fn);

  // Runs `start` (which submits transfers whose completion notifies `w`), then
  // returns once `w` is ready. When the loop is idle the calling thread runs it
  // itself until `w` is ready, unless another thread submits work meanwhile:
  // then the loop goes back to the I/O thread and this thread waits on `w`.
  // Must not be called from a callback (the loop's own thread).
  void run_blocking(const std::function<void()>& start, Waiter& w);

  // True when called on the thread currently running this transport's loop
  // (the I/O thread, or a thread inside run_blocking() running it).
  bool on_io_thread() const;

  // An identity of this transport's loop that stays comparable (never
  // dereferenced) after the transport is gone, and the loop the calling thread
  // is running, if any: on_io_thread() == (running_loop() == loop_id()).
  const void* loop_id() const;
  static const void* running_loop();

  // ---- hosted (TransportOptions::hosted) only

  // The descriptor the program polls for reading (-1 when not hosted); the
  // transport owns it.
  int io_fd() const;
  // One run of the loop on the calling thread, without blocking (every
  // callback that is due runs here). Returns when to run it again: -1 not
  // needed, 0 at once, else ms. Not from a callback. `destroyed`: a callback
  // freed this transport (defer_destroy); it is gone.
  int io_run(bool& destroyed);

  // The loop as a blocking reader that may outlive the transport (a stream)
  // sees it: drive_until runs the loop on the calling thread until `ready()`
  // (asked between turns), when nobody else runs it; false when it could not
  // (another thread runs the loop, or the transport is shutting down or gone).
  class LoopHandle {
   public:
    bool drive_until(const std::function<bool()>& ready);
    std::mutex mu;          // held while driving; the transport nulls `impl` under it when it goes
    void* impl = nullptr;   // the transport's Impl
  };
  // Null when not hosted.
  std::shared_ptr<LoopHandle> loop_handle() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool shut_ = false;  // shutdown() has run (by the owner's thread)
};

}  // namespace literllm::http
