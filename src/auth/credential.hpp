// The signing stage: what a request needs to be accepted, added once its body
// is final (a signature covers the body; a bearer token may be fetched). The
// provider operations never add credentials themselves.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/request.hpp"

namespace literllm::auth {

// What a token endpoint answered: its HTTP status and body, or (error set)
// why no answer came (a connection refused, a timeout, a cancel).
struct ExchangeResult {
  long http_status = 0;
  std::string body;
  std::optional<Error> error;
};
// Sends `req` and calls `done` exactly once with the outcome, on any thread
// (the client's loop). May call `done` before it returns.
using Exchange = std::function<void(http::Request req, std::function<void(ExchangeResult)> done)>;

class Credential {
 public:
  virtual ~Credential() = default;
  // Adds the credential to `req`, whose method, URL, headers and body are
  // final, and names each header it adds that holds a secret in
  // req.secret_headers. `now` dates a signature. Throws Error.
  virtual void apply(http::Request& req, std::chrono::system_clock::time_point now) const = 0;
  // True when apply() must run again before each attempt (a signature is
  // dated; a token expires). False: the request signed once is reused.
  virtual bool per_attempt() const { return false; }

  // Credentials fetched from elsewhere (an OAuth access token):
  // The header this credential alone sets; a caller's own header of that name
  // (config headers, extra_headers) is the caller's credential and replaces
  // it. Empty: none such.
  virtual std::string_view header() const { return {}; }
  // True when apply() can add a usable credential now. False: fetch() first.
  virtual bool ready(std::chrono::system_clock::time_point) const { return true; }
  // Obtains what apply() needs, then calls done(nullptr) (apply() may then
  // run once, whatever ready() says by then) or done(error). Uses `exchange`
  // to reach a token endpoint; `done` may run before fetch returns.
  using Fetched = std::function<void(const Error* error)>;
  virtual void fetch(const Exchange& exchange, std::chrono::system_clock::time_point now, Fetched done) const;
  // The server refused the credential that `sent` carried (HTTP 401): true
  // when a new one can be fetched (ready() is then false unless another call
  // has fetched one already), false when trying again cannot help.
  virtual bool refused(const http::Request&) const { return false; }
};

// The key sent as "<header>: <prefix><key>" ("Authorization: Bearer sk-...",
// "x-api-key: ...").
std::shared_ptr<const Credential> header_key(std::string header, std::string prefix, std::string key);

}  // namespace literllm::auth
