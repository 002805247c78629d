// The signing stage: what a request needs to be accepted, added once its body
// is final (a signature covers the body; a bearer token may be fetched). The
// provider operations never add credentials themselves.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "http/request.hpp"

namespace literllm::auth {

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
};

// The key sent as "<header>: <prefix><key>" ("Authorization: Bearer sk-...",
// "x-api-key: ...").
std::shared_ptr<const Credential> header_key(std::string header, std::string prefix, std::string key);

}  // namespace literllm::auth
