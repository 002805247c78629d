// The secrets of one call (its API key, every credential header value, the
// credentials in its base URL) and their removal from any text that leaves
// the library: error messages, previews, provider listings.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace literllm {

class Secrets {
 public:
  // A set of one secret (or none, for a value too short to be one).
  static Secrets of(std::string_view value) {
    Secrets s;
    s.add(value);
    return s;
  }

  // Values shorter than this are not treated as secrets: replacing every
  // occurrence of "ab" would mangle messages and protect nothing.
  static constexpr size_t kMinLength = 4;

  // A secret value (ignored when too short; kept once).
  void add(std::string_view value);
  // A header: when its name is a credential (http::is_credential), its value,
  // the credential after an auth scheme ("Bearer <token>"), and each cookie value.
  void add_header(std::string_view name, std::string_view value);
  // A URL's userinfo and the values of its credential-looking query parameters
  // (key, token, sig, ...), as written and percent-decoded.
  void add_url(std::string_view url);

  // `text` with every secret replaced by [REDACTED], in any of the forms an
  // echo may take: raw, JSON-escaped (\u002d, \/ ...), percent-encoded (%2D,
  // '+' for space), or a mix of them.
  std::string redact(std::string text) const;

  bool empty() const { return values_.empty(); }
  const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;  // longest first, so a secret inside another goes with it
};

// `text` with `secret` replaced as Secrets::redact does (a no-op for a secret
// shorter than Secrets::kMinLength).
std::string redact(std::string text, std::string_view secret);

// `url` with its userinfo and credential-looking query values replaced by
// [REDACTED]: "https://[REDACTED]@host/v1?key=[REDACTED]&api-version=1".
std::string redact_url(std::string_view url);

}  // namespace literllm
