// The one exception type inside literllm. The C shims (src/capi) turn it into
// an llm_status plus the thread-local message; nothing else crosses the ABI.
#pragma once
#include <stdexcept>
#include <string>

#include "literllm.h"

namespace literllm {

class Error : public std::runtime_error {
 public:
  Error(llm_status status, std::string message, int http_status = 0)
      : std::runtime_error(std::move(message)), status_(status), http_status_(http_status) {}
  llm_status status() const noexcept { return status_; }
  // The provider's HTTP status when the error came from an HTTP answer, else 0.
  int http_status() const noexcept { return http_status_; }
  // Seconds the provider asked to wait (Retry-After / retry-after-ms), or -1.
  double retry_after = -1;
  // Where the error came from, for llm_error_t: the provider's name (empty when
  // the error is the library's own), and the provider's own error code and
  // type as its error body gives them (error.code, error.type), else empty.
  std::string provider;
  std::string code;
  std::string type;
  // Retries the call made before this error ended it.
  int retries = 0;

  // A copy that shares no memory with this one. (Copies of a
  // std::runtime_error share one message buffer, whose count is not one a
  // thread sanitizer sees: an error handed to another thread is copied deeply.)
  Error deep_copy() const {
    Error e(status_, std::string(what()), http_status_);
    e.retry_after = retry_after;
    e.provider = provider;
    e.code = code;
    e.type = type;
    e.retries = retries;
    return e;
  }

 private:
  llm_status status_;
  int http_status_;
};

// Shorthand for the common case: an invalid argument naming its field.
[[noreturn]] inline void invalid(const std::string& message) {
  throw Error(LLM_ERR_INVALID_ARGUMENT, message);
}

}  // namespace literllm
