#include "auth/crypto.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

#include <cstring>

#include "core/error.hpp"

namespace literllm::auth {

namespace {
void check(int rc, const char* what) {
  if (rc != 0) throw Error(LLM_ERR_INTERNAL, std::string("mbedTLS ") + what + " failed (" + std::to_string(rc) + ")");
}
const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
}  // namespace

Sha256Digest sha256(std::string_view data) {
  Sha256Digest d;
  check(mbedtls_sha256_ret(u8(data), data.size(), d.data(), 0), "SHA-256");
  return d;
}

Sha256::Sha256() {
  mbedtls_sha256_init(&ctx_);
  check(mbedtls_sha256_starts_ret(&ctx_, 0), "SHA-256");
}
Sha256::~Sha256() { mbedtls_sha256_free(&ctx_); }

Sha256& Sha256::update(std::string_view data) {
  check(mbedtls_sha256_update_ret(&ctx_, u8(data), data.size()), "SHA-256");
  return *this;
}

Sha256Digest Sha256::finish() {
  Sha256Digest d;
  check(mbedtls_sha256_finish_ret(&ctx_, d.data()), "SHA-256");
  check(mbedtls_sha256_starts_ret(&ctx_, 0), "SHA-256");
  return d;
}

// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' = K padded to the
// 64-byte block (hashed first when longer). Stack contexts only: the md.h
// HMAC would allocate a context per call, and SigV4 needs five per signature.
Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char block[64] = {};
  if (key.size() > sizeof block) {
    Sha256Digest k = sha256(key);
    std::memcpy(block, k.data(), k.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[64];
  for (size_t i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
  mbedtls_sha256_context c;
  mbedtls_sha256_init(&c);
  Sha256Digest inner;
  int rc = mbedtls_sha256_starts_ret(&c, 0);
  if (!rc) rc = mbedtls_sha256_update_ret(&c, pad, 64);
  if (!rc) rc = mbedtls_sha256_update_ret(&c, u8(data), data.size());
  if (!rc) rc = mbedtls_sha256_finish_ret(&c, inner.data());
  for (size_t i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
  Sha256Digest out;
  if (!rc) rc = mbedtls_sha256_starts_ret(&c, 0);
  if (!rc) rc = mbedtls_sha256_update_ret(&c, pad, 64);
  if (!rc) rc = mbedtls_sha256_update_ret(&c, inner.data(), inner.size());
  if (!rc) rc = mbedtls_sha256_finish_ret(&c, out.data());
  mbedtls_sha256_free(&c);
  // The key's traces (a SigV4 signing key, a secret) are not left on the stack.
  mbedtls_platform_zeroize(block, sizeof block);
  mbedtls_platform_zeroize(pad, sizeof pad);
  check(rc, "HMAC-SHA256");
  return out;
}

void hex_lower(const unsigned char* bytes, size_t n, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
}

std::string hex_lower(std::string_view bytes) {
  std::string s(bytes.size() * 2, '\0');
  hex_lower(u8(bytes), bytes.size(), s.data());
  return s;
}

std::string base64_encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // mbedTLS writes a NUL too
  size_t olen = 0;
  check(mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &olen, u8(bytes), bytes.size()),
        "base64 encode");
  out.resize(olen);
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string s = base64_encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return s;
}

std::string base64_decode(std::string_view text, const char* what) {
  // mbedTLS skips line breaks and spaces inside base64; this decoder takes only
  // the alphabet and the final padding.
  for (char c : text) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
          c == '='))
      throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid base64");
  }
  if (text.size() % 4 != 0) throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid base64 (length)");
  std::string out(text.size() / 4 * 3, '\0');
  size_t olen = 0;
  int rc = mbedtls_base64_decode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &olen, u8(text), text.size());
  if (rc != 0) throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid base64");
  out.resize(olen);
  return out;
}

std::string base64url_decode(std::string_view text, const char* what) {
  std::string t;
  t.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') t.push_back('+');
    else if (c == '_') t.push_back('/');
    else if (c == '+' || c == '/') throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid base64url");
    else t.push_back(c);
  }
  if (t.find('=') == std::string::npos) {
    if (t.size() % 4 == 1) throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid base64url (length)");
    while (t.size() % 4) t.push_back('=');
  }
  try {
    return base64_decode(t, what);
  } catch (const Error&) {
    throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(what) + " is not valid base64url");
  }
}

}  // namespace literllm::auth
