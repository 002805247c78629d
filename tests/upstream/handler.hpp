// Internal to the local upstream: what to answer to one request, decided with
// no socket in sight. The server (server.cpp, the only Beast translation unit)
// carries out the Plan: delays, chunked events, generated bodies, gzip, cuts,
// stalls, resets.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "upstream.hpp"

namespace literllm::testing::detail {

// Appends the next piece of an answer made on demand (in a stream: one event)
// and returns whether another follows. The server asks for pieces as its
// writes complete, up to 64 KiB a write, so huge and endless answers cost it
// no memory.
using Generator = std::function<bool(std::string&)>;

// What a stream does once its last event (normally `data: [DONE]`) is written.
enum class AfterDone {
  end,    // end the body (the last chunk), as a stream should
  hold,   // nothing more; the body never ends
  reset,  // a TCP RST
  more,   // the events of Plan::after, endlessly
};

struct Plan {
  bool reset = false;  // answer nothing: close with a TCP RST
  bool raw = false;    // the body is the whole answer (no status line, no headers of ours), then close
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // content-type included
  // A body (stream == false), or events sent one chunk each (stream == true).
  bool stream = false;
  std::string body;
  std::vector<std::string> events;  // each complete on the wire, e.g. "data: {...}\n\n"
  // Stream: events that come before `events`, many to a write. Otherwise: the
  // body, in place of `body`, `body_size` bytes in all.
  Generator generate;
  uint64_t body_size = 0;
  bool chunked = false;  // not a stream: chunked transfer encoding, not content-length
  bool gzip = false;     // compress the body (content-encoding is in `headers`), flushed at every write
  AfterDone after_done = AfterDone::end;
  Generator after;              // after_done == more: what follows the last event
  unsigned delay_ms = 0;        // before the response headers
  unsigned chunk_delay_ms = 0;  // between writes (held events: one each)
  long cut_after = -1;          // stream: close abruptly after this many events
  long stall_after = -1;        // stream: go silent after this many events
  bool close = false;           // close the connection after this response
  bool drop_idle = false;       // keep-alive promised, then closed (FIN) as soon as the response is out
};

// An OpenAI-shaped error body: {"error":{"message","type","param":null,"code"}}.
std::string error_body(std::string_view message, std::string_view type, std::string_view code);
// The default error body for an HTTP status (type and code chosen to match it).
std::string error_body_for_status(int status, std::string_view message = {});
// "Not Found" for 404 and so on; "Unknown" when there is none.
const char* reason_phrase(int status);
// The message of an error answer injected for `status` with none given:
// "local upstream: injected HTTP 503 (Service Unavailable)".
std::string injected_message(int status);

class GoogleTokens;      // google_token.hpp
class OpenAIEndpoints;   // openai_endpoints.hpp

class Handler {
 public:
  // Throws std::invalid_argument for a Google account whose PEM is no RSA public key.
  explicit Handler(UpstreamOptions opts);
  ~Handler();

  // Decides the answer to one complete request and records it. Thread-safe.
  Plan handle(RecordedRequest req);

  std::vector<RecordedRequest> requests() const;
  void clear_requests();

  // Google's token endpoint (google_token.cpp): its tokens, the port its audience names.
  GoogleTokens& google_tokens() { return *google_; }

 private:
  Plan handle_chat(const RecordedRequest& req);
  Plan replay(const RecordedRequest& req, int status);
  std::string requests_json() const;

  UpstreamOptions opts_;
  std::unique_ptr<GoogleTokens> google_;
  std::unique_ptr<OpenAIEndpoints> endpoints_;  // embeddings, audio, files, batches, responses, ...
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;
  std::map<std::string, long> fail_counts_;
  std::atomic<uint64_t> counter_{0};  // chat completion ids
  std::atomic<uint64_t> seq_{0};      // x-request-id of every answer
};

}  // namespace literllm::testing::detail
