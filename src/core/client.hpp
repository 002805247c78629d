// The client: routes a request to a provider, drives it on the transport, and
// hands back typed results. The C API (src/capi) is a thin shim over this.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/response.hpp"
#include "http/transport.hpp"
#include "providers/adapter.hpp"

namespace literllm {

// A request checked, routed and built, ready to send.
struct PreparedCall {
  Endpoint endpoint = Endpoint::Chat;
  json::Document request;
  Target target;
  const Operation* op = nullptr;
  http::Request http;
  bool stream = false;
  long timeout_ms = 0;
  bool credential_ready = false;  // the credential prepare() applied was usable (ready())
};

// The pull side of a stream (llm_stream_t): chunks queued by the I/O thread.
struct StreamQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> chunks;
  size_t queued_bytes = 0;
  bool ended = false;
  bool paused = false;
  bool cancel_requested = false;
  llm_status status = LLM_OK;
  std::optional<Error> error;    // the stream's error, when it failed (none when memory ran out)
  std::unique_ptr<Response> final_response;
  std::function<void()> cancel;  // cleared when the call is done
  std::function<void()> resume;  // cleared when the call is done
  std::string current;           // the chunk last handed out
  bool end_returned = false;     // llm_stream_next gave the end
  bool error_returned = false;   // llm_stream_next gave the stream's error
  // The client's loops (Transport::loop_id), to refuse a read from inside one.
  std::shared_ptr<const struct LoopIds> loops;
  std::shared_ptr<http::Transport::LoopHandle> host;  // a hosted client's loop, which next() drives
  unsigned fork_generation = 0;  // of the process that made it (process.hpp)

  // The stream was made in the parent of this (forked) process.
  bool forked() const noexcept;
  // The error to throw for the stream's failure.
  [[noreturn]] void throw_error() const;

  // llm_stream_next: the next chunk (borrowed until the next call), nullptr at
  // the end; throws the stream's Error. Blocks until one of those is known.
  const std::string* next();
  // llm_stream_cancel: any thread, any time.
  void request_cancel();
  // llm_stream_final_response: a copy of the assembled response.
  std::unique_ptr<Response> final_copy();
};

// The identities of a client's loops, as many as it has started (never
// dereferenced: they stay comparable after the client is gone).
struct LoopIds {
  static constexpr int kMax = Config::kMaxIoThreads;
  std::atomic<const void*> ids[kMax] = {};
  // The calling thread runs one of them (a callback, or a blocking call driving it).
  bool running() const;
};

class Client;

// A cancel token (llm_cancel_t): cancels the blocking calls that were given it
// while they run, and refuses the ones that come after it was triggered.
// Every member may be called from any thread; nothing in it allocates.
class CancelToken {
 public:
  // A blocking call using the token: the caller's, linked in while it runs.
  struct Use {
    Client* client = nullptr;
    uint64_t id = 0;
    Use* next = nullptr;
    Use* prev = nullptr;
  };
  void trigger();
  bool triggered() const;
  // `u` (client and id set) begins to use the token; false when it was
  // already triggered (the caller cancels its call itself).
  bool add(Use& u);
  // The call ended. Once this returns no trigger() touches `u` or its client.
  void remove(Use& u);

 private:
  mutable std::mutex mu_;  // held while trigger() cancels, so remove() waits for it
  bool fired_ = false;
  Use* head_ = nullptr;
};

class Client {
 public:
  explicit Client(Config cfg);
  ~Client();

  using DoneFn = std::function<void(llm_status, std::unique_ptr<Response>, const Error*)>;
  using ChunkFn = std::function<bool(std::string_view chunk_json)>;  // false cancels

  PreparedCall prepare(std::string_view request_json, bool stream) const;

  // Blocking chat; throws Error. A triggered `cancel` (may be null) ends it
  // with LLM_ERR_CANCELLED.
  std::unique_ptr<Response> chat(std::string_view request_json, CancelToken* cancel = nullptr);
  // Any endpoint (llm_call; "chat" is llm_chat): `blobs` are the caller's
  // bytes the request's file fields name, valid until the call ends.
  // `stream`: a streamed call (llm_call_stream), for endpoints that stream
  // (streams()); LLM_ERR_INVALID_ARGUMENT for the others.
  PreparedCall prepare_call(Endpoint e, std::string_view request_json, const Blobs& blobs, bool stream = false) const;
  std::unique_ptr<Response> call(Endpoint e, std::string_view request_json, const Blobs& blobs,
                                 CancelToken* cancel = nullptr);
  uint64_t call_async(Endpoint e, std::string_view request_json, const Blobs& blobs, DoneFn done);
  std::shared_ptr<StreamQueue> call_stream(Endpoint e, std::string_view request_json, const Blobs& blobs);
  uint64_t call_stream_async(Endpoint e, std::string_view request_json, const Blobs& blobs, ChunkFn on_chunk,
                             DoneFn done);
  // Whether llm_call_stream takes `e`: chat and responses.create.
  static bool streams(Endpoint e) { return e == Endpoint::Chat || e == Endpoint::ResponseCreate; }
  std::string preview_call(Endpoint e, std::string_view request_json, const Blobs& blobs) const;
  // Validation errors throw; afterwards `done` runs exactly once on the I/O thread.
  uint64_t chat_async(std::string_view request_json, DoneFn done);
  uint64_t stream_async(std::string_view request_json, ChunkFn on_chunk, DoneFn done);
  // A pull stream; throws on validation errors.
  std::shared_ptr<StreamQueue> stream(std::string_view request_json);
  void cancel(uint64_t id);

  std::string preview(std::string_view request_json, bool stream) const;

  // The client was made in the parent of this (forked) process: every call fails.
  bool forked() const noexcept;
  // llm_client_free from inside one of this client's callbacks (on its loop's
  // thread): `destroy` (which deletes this client) runs on the I/O thread once
  // the callback has returned and every other call has ended.
  bool on_io_thread() const { return loop_ids_->running(); }
  // Hosted I/O ("io": "host"): the descriptor to poll and one run of the loop
  // (see Transport::io_fd, io_run). Both refuse a client that is not hosted.
  int io_fd() const;
  int io_run(bool& destroyed);
  void defer_destroy(std::function<void()> destroy);
  // In a forked child: give the client up without touching the parent's threads
  // or connections (see Transport::abandon); the object may then be leaked.
  void abandon();
  std::string providers_json() const;
  // The global table and the built-ins (llm_providers_json with no client).
  static std::string global_providers_json();
  ProviderTable& registered() { return registered_; }

 private:
  struct Call;
  friend struct Call;
  // One event loop: a transport and the calls it carries (each call stays on
  // the loop it started on: its transfers, retries and timers).
  struct Loop {
    explicit Loop(const http::TransportOptions& o) : transport(o) {}
    http::Transport transport;
    std::atomic<int> calls{0};  // started and not finished
  };
  // The loop a new call goes to: the one with the fewest calls, the first of
  // those on a tie; another loop starts (up to io_threads) when every loop
  // has kSpreadAt calls or more. Counts the call in.
  Loop* pick_loop();
  http::TransportOptions transport_options() const;
  ProviderPtr lookup(std::string_view prefix) const;
  // prepare() once the call is routed: request fields, the adapter's request, its checks.
  void finish_prepare(PreparedCall& p, bool stream, const Blobs* blobs = nullptr) const;
  // A pull stream of a prepared streamed call.
  std::shared_ptr<StreamQueue> queue_stream(PreparedCall prep);
  // Runs a prepared call on the calling thread (or the loop's) until it ends; throws Error.
  std::unique_ptr<Response> run(PreparedCall prep, CancelToken* cancel = nullptr);
  // The preview of a prepared call.
  static std::string preview_of(const PreparedCall& p);
  // The provider `model` routes to and the model id it knows (spec, model);
  // throws LLM_ERR_INVALID_ARGUMENT for an unknown provider.
  Target resolve(std::string_view model) const;
  // The rest of a resolved target: base URL, key, headers. Throws
  // LLM_ERR_AUTHENTICATION when the provider needs a key and has none.
  void complete_target(Target& t) const;
  // `loop`: pick_loop()'s choice for it, or null to pick one now.
  uint64_t start(PreparedCall prep, ChunkFn on_chunk, DoneFn done, Loop* loop = nullptr);
  // Submits the call's next attempt. From start() (the caller's thread) a
  // failure to submit throws, and no callback runs; from the loop (a retry) it
  // finishes the call instead.
  void submit_attempt(const std::shared_ptr<Call>& c, bool from_start = false);
  // The transfer callbacks of an attempt (on the loop's thread).
  bool on_data(const std::shared_ptr<Call>& c, const char* data, size_t len);
  // What a stream's decoder emits into: the assembler, then the caller.
  static ChunkSink chunk_sink(const std::shared_ptr<Call>& c);
  void on_done(const std::shared_ptr<Call>& c, const http::Result& r);
  // Ends the call with LLM_ERR_OUT_OF_MEMORY (allocates nothing).
  void fail_oom(const std::shared_ptr<Call>& c) noexcept;
  // Another attempt after `delay_ms`, if retries are left and the wait ends
  // before the call's deadline; else the call ends with `e`. On the loop.
  void retry_or_fail(const std::shared_ptr<Call>& c, const Error& e, long delay_ms);
  // The call's credential is not ready (an access token to fetch): fetches it
  // on the transport, then submits the attempt (or ends the call with the
  // exchange's error).
  void await_credential(const std::shared_ptr<Call>& c);
  // How a credential reaches its token endpoint: a request on this client's transport.
  auth::Exchange token_exchange(Loop* loop);
  // The answer is complete: build the response and finish with LLM_OK.
  void succeed(const std::shared_ptr<Call>& c);
  // A stream's end event arrived (on the loop, inside a curl callback).
  void end_after_event(const std::shared_ptr<Call>& c);
  void finish(const std::shared_ptr<Call>& c, llm_status st, std::unique_ptr<Response> r, const Error* e) noexcept;
  // Runs fn(its loop's transport, transfer id) for a call's running transfer, under the locks that keep
  // the id current; false when the call has none.
  bool with_transfer(uint64_t call_id, const std::function<void(http::Transport&, uint64_t)>& fn);

  // The environment as it was when the client was made (getenv is not safe
  // against a setenv on another thread, and costs a scan per variable).
  std::string env(const std::string& name) const;

  Config cfg_;
  unsigned fork_generation_;
  std::unordered_map<std::string, std::string> env_;
  ProviderTable registered_;
  mutable auth::TokenSources tokens_;  // service-account tokens, shared by the calls (make_credential)
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> calls_;
  // The loops: loops_[0] made with the client, the others when load calls for
  // them (never more than max_loops_). Each is shut down (~Client) before any
  // is destroyed, since a callback of one may reach another (a token exchange
  // answering calls on several loops).
  int max_loops_;
  std::mutex loops_mu_;  // taken to add a loop
  std::atomic<int> n_loops_{0};
  std::unique_ptr<Loop> loops_[LoopIds::kMax];
  std::shared_ptr<LoopIds> loop_ids_;
  bool spawn_failed_ = false;  // a loop could not be made (no thread or descriptor): no more are tried
};

}  // namespace literllm
