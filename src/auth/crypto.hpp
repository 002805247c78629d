// Hashing and encodings the auth layer needs (SigV4, JWT), on mbedTLS 2.28.
// SHA-256 and HMAC-SHA256 run on stack contexts: no allocation.
#pragma once
#include <mbedtls/sha256.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace literllm::auth {

using Sha256Digest = std::array<unsigned char, 32>;

inline std::string_view as_view(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// SHA-256 of `data`, one shot.
Sha256Digest sha256(std::string_view data);

// SHA-256 fed in pieces. Not copyable (the context is the state).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(std::string_view data);
  // The digest; the object is then reset and can hash anew.
  Sha256Digest finish();

 private:
  mbedtls_sha256_context ctx_;
};

// HMAC-SHA256 (RFC 2104) of `data` under `key` (any length; bytes).
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);
inline Sha256Digest hmac_sha256(const Sha256Digest& key, std::string_view data) {
  return hmac_sha256(as_view(key), data);
}

// Lower-case hex. The char* form writes exactly 2*n chars to `out` (no NUL).
void hex_lower(const unsigned char* bytes, size_t n, char* out);
std::string hex_lower(std::string_view bytes);
inline std::string hex_lower(const Sha256Digest& d) { return hex_lower(as_view(d)); }

// Base64 (RFC 4648 §4, padded) and base64url (§5, without padding).
std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);
// Decodes base64 (padding required) or base64url (padding optional). Whitespace
// is not accepted. Throws Error(LLM_ERR_INVALID_ARGUMENT) naming `what`,
// never quoting the text (it may be key material).
std::string base64_decode(std::string_view text, const char* what = "base64 text");
std::string base64url_decode(std::string_view text, const char* what = "base64url text");

}  // namespace literllm::auth
