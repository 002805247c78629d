// libFuzzer target for error answers: error_body_message, status_for_http,
// http_error and parse_retry_after (src/core/errors.cpp).
//
// Input: byte 0 sets the secret's length (11..34), byte 1 holds flags (bit 0:
// replace every "@@" in the body by the secret, so bodies that carry the key
// are common; bits 2..5: the HTTP status, from a table); the next bytes make
// the secret: "sk-" then one character of [A-Za-z0-9_-] per byte (a key's
// alphabet: no '[', ']' or '.', so it cannot overlap "[REDACTED]" or "...").
// The rest is the body, and also the Retry-After header value.
// Checked (any failure aborts):
//  - nothing throws (error mapping must not fail while reporting a failure);
//  - neither error_body_message's result nor http_error's what() contains the
//    secret; the message is at most 500 bytes plus "...";
//  - status_for_http gives a failure status (never LLM_OK, never out of
//    range) for every HTTP status tried, and the fixed ones (401 ->
//    AUTHENTICATION, 404 -> NOT_FOUND, 429 -> RATE_LIMITED, ...) whatever the
//    message says;
//  - http_error agrees with status_for_http and parse_retry_after, and keeps
//    the HTTP status;
//  - parse_retry_after gives -1 or a finite value >= 0, and the number itself
//    for delta-seconds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "fuzz_util.hpp"

namespace {

using namespace literllm;
using fuzz::contains;

constexpr const char* kName = "fuzz_error_body";

[[noreturn]] void fail(const char* what, std::string_view detail = {}) { fuzz::fail(kName, what, detail); }

// The statuses http_error is tried with (one per input, chosen by byte 1).
constexpr long kStatuses[] = {0, 200, 301, 400, 401, 403, 404, 405, 408, 409, 413, 422,
                              429, 499, 500, 501, 502, 503, 504, 529, 599, 999};
// The statuses status_for_http is tried with on every input: those whose answer
// the message can change, and some it must not.
constexpr long kProbeStatuses[] = {0, 400, 401, 403, 413, 422, 429, 500, 503};

void check_status(long http, std::string_view msg, std::string_view code) {
  const llm_status s = status_for_http(http, msg, code);
  if (s <= LLM_OK || s > LLM_ERR_INTERNAL) fail("status_for_http gave no failure status", msg);
  auto must = [&](llm_status want) {
    if (s != want) fail("status_for_http changed a fixed mapping", std::to_string(http) + ": " + std::string(msg));
  };
  switch (http) {
    case 401: must(LLM_ERR_AUTHENTICATION); break;
    case 404: must(LLM_ERR_NOT_FOUND); break;
    case 408: must(LLM_ERR_TIMEOUT); break;
    case 429: must(LLM_ERR_RATE_LIMITED); break;
    case 500: case 502: case 504: case 599: must(LLM_ERR_SERVER_ERROR); break;
    case 503: case 529: must(LLM_ERR_SERVICE_UNAVAILABLE); break;
    default: break;
  }
}

void check_retry_after(std::string_view value, double got) {
  if (!(got == -1 || (std::isfinite(got) && got >= 0))) fail("parse_retry_after out of range", value);
  const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits) {
    const double want = value.size() > 9 ? 1e9 : std::stod(std::string(value));
    if (got != want) fail("parse_retry_after misread delta-seconds", value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t key_len = 8 + data[0] % 24;
  const bool splice = data[1] & 1;
  const long http = kStatuses[(data[1] >> 2) % std::size(kStatuses)];
  if (size < 2 + key_len) return 0;
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  std::string secret = "sk-";
  for (size_t i = 0; i < key_len; ++i) secret += kAlphabet[data[2 + i] & 63];

  std::string body(reinterpret_cast<const char*>(data) + 2 + key_len, size - 2 - key_len);
  if (splice)
    for (size_t p = body.find("@@"); p != std::string::npos; p = body.find("@@", p + secret.size()))
      body.replace(p, 2, secret);

  try {
    // As the stream path calls it: no code, no secret.
    const std::string plain = error_body_message(body);
    if (plain.size() > 503) fail("error_body_message longer than 500 bytes plus \"...\"", plain);

    std::string code;
    const std::string msg = error_body_message(body, &code, Secrets::of(secret));
    if (contains(msg, secret)) fail("error_body_message leaks the secret", msg);
    if (msg.size() > 503) fail("error_body_message longer than 500 bytes plus \"...\"", msg);
    for (long s : kProbeStatuses) check_status(s, msg, code);

    const http::Headers headers{{"Retry-After", body}};
    const double retry = parse_retry_after(headers);
    check_retry_after(body, retry);

    const Error e = http_error("openai", http, body, headers, Secrets::of(secret));
    if (contains(e.what(), secret)) fail("http_error's message leaks the secret", e.what());
    if (e.http_status() != static_cast<int>(http)) fail("http_error lost the HTTP status");
    if (e.status() != status_for_http(http, msg, code)) fail("http_error disagrees with status_for_http", e.what());
    const double again = e.retry_after;
    if (!(again == retry || (std::isnan(again) && std::isnan(retry)))) {
      // An HTTP-date is relative to now: a second may pass between the calls.
      if (!(retry >= 0 && again >= 0 && std::fabs(again - retry) <= 2))
        fail("http_error's retry_after disagrees with parse_retry_after", body);
    }
  } catch (const Error& e) {
    fail("error mapping threw literllm::Error", e.what());
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }
  return 0;
}
