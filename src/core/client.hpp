// The client: routes a request to a provider, drives it on the transport, and
// hands back typed results. The C API (src/capi) is a thin shim over this.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
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
  json::Document request;
  Target target;
  const Adapter* adapter = nullptr;
  http::Request http;
  bool stream = false;
  long timeout_ms = 0;
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
  std::string error;
  int http_status = 0;
  std::unique_ptr<Response> final_response;
  std::function<void()> cancel;  // cleared when the call is done
  std::function<void()> resume;  // cleared when the call is done
  std::string current;           // the chunk last handed out
  bool end_returned = false;     // llm_stream_next gave the end
  bool error_returned = false;   // llm_stream_next gave the stream's error
  const void* loop = nullptr;  // the client's loop (Transport::loop_id), to refuse a read from inside it

  // llm_stream_next: the next chunk (borrowed until the next call), nullptr at
  // the end; throws the stream's Error. Blocks until one of those is known.
  const std::string* next();
  // llm_stream_cancel: any thread, any time.
  void request_cancel();
  // llm_stream_final_response: a copy of the assembled response.
  std::unique_ptr<Response> final_copy();
};

class Client {
 public:
  explicit Client(Config cfg);
  ~Client();

  using DoneFn = std::function<void(llm_status, std::unique_ptr<Response>, const Error*)>;
  using ChunkFn = std::function<bool(std::string_view chunk_json)>;  // false cancels

  PreparedCall prepare(std::string_view request_json, bool stream) const;

  // Blocking chat; throws Error.
  std::unique_ptr<Response> chat(std::string_view request_json);
  // Validation errors throw; afterwards `done` runs exactly once on the I/O thread.
  uint64_t chat_async(std::string_view request_json, DoneFn done);
  uint64_t stream_async(std::string_view request_json, ChunkFn on_chunk, DoneFn done);
  // A pull stream; throws on validation errors.
  std::shared_ptr<StreamQueue> stream(std::string_view request_json);
  void cancel(uint64_t id);

  std::string preview(std::string_view request_json, bool stream) const;
  std::string providers_json() const;
  // The global table and the built-ins (llm_providers_json with no client).
  static std::string global_providers_json();
  ProviderTable& registered() { return registered_; }

 private:
  struct Call;
  friend struct Call;
  ProviderPtr lookup(std::string_view prefix) const;
  // prepare() once the call is routed: request fields, the adapter's request, its checks.
  void finish_prepare(PreparedCall& p, bool stream) const;
  Target route(std::string_view model) const;
  uint64_t start(PreparedCall prep, ChunkFn on_chunk, DoneFn done);
  void submit_attempt(const std::shared_ptr<Call>& c);
  // The answer is complete: build the response and finish with LLM_OK.
  void succeed(const std::shared_ptr<Call>& c);
  // A stream's end event arrived (on the loop, inside a curl callback).
  void end_after_event(const std::shared_ptr<Call>& c);
  void finish(const std::shared_ptr<Call>& c, llm_status st, std::unique_ptr<Response> r, const Error* e);
  // Runs fn(transport id) for a call's running transfer, under the locks that keep
  // the id current; false when the call has none.
  bool with_transfer(uint64_t call_id, const std::function<void(uint64_t)>& fn);

  Config cfg_;
  ProviderTable registered_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> calls_;
  std::atomic<uint64_t> next_id_{1};
  http::Transport transport_;  // last: destroyed first, while the members its callbacks use still live
};

}  // namespace literllm
