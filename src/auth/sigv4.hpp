// AWS Signature Version 4, for Bedrock and any AWS JSON service: the header
// form (Authorization) and the presigned-URL form (X-Amz-* query parameters).
// Pure: bytes in, headers out; the clock is a parameter. Checked against every
// case of the botocore and aws-c-auth v4 suites (tests/unit/auth_sigv4_test.cpp).
//
// What is signed: the method; the URL's path (normalized and URI-encoded once,
// per options); its query (each name and value percent-decoded then encoded
// with the RFC 3986 unreserved set, sorted by name then value); every header
// given except Authorization, User-Agent, X-Amzn-Trace-Id and Expect (which a
// transport or proxy may change), plus Host (from the URL, unless a Host header
// is given), X-Amz-Date and, per options, X-Amz-Security-Token and
// x-amz-content-sha256; and the payload's SHA-256 (or a hash given).
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include <memory>

#include "auth/credential.hpp"
#include "auth/crypto.hpp"
#include "http/request.hpp"

namespace literllm::auth {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials, no token
};

struct SigV4Options {
  // Remove empty, "." and ".." segments from the path before signing (every
  // service but S3; aws-c-auth's "normalize").
  bool normalize_path = true;
  // URI-encode each path segment of the URL's path as it stands (so a "%3A"
  // already in the URL is signed as "%253A": AWS's "encode twice", which
  // Bedrock's model ids with ':' need). false for S3: the path is signed as is.
  bool uri_encode_path = true;
  // Add and sign x-amz-content-sha256 with the payload hash (S3; aws-c-auth's
  // "sign_body"). Bedrock does not need it.
  bool content_sha256_header = false;
  // With a session token: sign X-Amz-Security-Token (true), or add it after
  // signing, unsigned (false; aws-c-auth's "omit_session_token").
  bool sign_session_token = true;
};

// The result of one signature. `headers` are to be set on the request
// (replacing any header of the same name); the rest is for tests and logs
// (none of it holds the secret key; `headers` and `canonical_request` hold
// the session token when there is one).
struct SigV4Result {
  http::Headers headers;  // [X-Amz-Security-Token], X-Amz-Date, [x-amz-content-sha256], Authorization
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;       // 64 hex digits
  std::string amz_date;        // "20150830T123600Z"
  std::string scope;           // "20150830/us-east-1/service/aws4_request"
  std::string presigned_url;   // presign() only: the URL with the X-Amz-* query parameters

  // The Authorization value ("" for a presigned URL).
  const std::string& authorization() const {
    static const std::string none;
    return headers.empty() ? none : headers.back().second;
  }
  // Sets each of `headers` on `h` (replacing same-named ones).
  void apply(http::Headers& h) const;
};

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date8), region), service), "aws4_request").
Sha256Digest derive_signing_key(std::string_view secret_access_key, std::string_view date8, std::string_view region,
                                std::string_view service);

// "20150830T123600Z" for a time (UTC). Throws for years outside 0000..9999.
std::string amz_date(std::chrono::system_clock::time_point when);

// Hex SHA-256 of the empty payload.
inline constexpr std::string_view kEmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// The payload hash that leaves the body unsigned (S3 and a few others accept it).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// A signer for one set of credentials, region and service. Thread-safe: sign()
// is const; the derived signing key is cached for the last date seen (one
// derivation a day instead of four HMACs a request), under a mutex.
// Throws Error(LLM_ERR_AUTHENTICATION) on empty credentials and
// Error(LLM_ERR_INVALID_ARGUMENT) on a bad region, service or URL; no message
// holds a secret.
class SigV4Signer {
 public:
  SigV4Signer(AwsCredentials credentials, std::string region, std::string service, SigV4Options options = {});
  ~SigV4Signer();
  SigV4Signer(const SigV4Signer&) = delete;
  SigV4Signer& operator=(const SigV4Signer&) = delete;

  // `url` is scheme://host[:port]/path?query (the path as sent: already
  // percent-encoded where it needs to be); `headers` as the request will carry
  // them; `body` the payload.
  SigV4Result sign(std::string_view method, std::string_view url, const http::Headers& headers, std::string_view body,
                   std::chrono::system_clock::time_point when) const;
  // The same with the payload's hex SHA-256 given (a streamed or large body),
  // or kUnsignedPayload.
  SigV4Result sign_payload_hash(std::string_view method, std::string_view url, const http::Headers& headers,
                                std::string_view payload_hash, std::chrono::system_clock::time_point when) const;
  // A presigned URL (the query form): X-Amz-Algorithm, -Credential, -Date,
  // -SignedHeaders, -Expires, [-Security-Token], -Signature appended to the
  // URL's query; `headers` are those the request will carry (signed as in
  // sign(), without X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256).
  // The result's `headers` is empty; `presigned_url` is the URL to use.
  // `expires` is 1 s .. 7 days.
  SigV4Result presign(std::string_view method, std::string_view url, const http::Headers& headers,
                      std::string_view body, std::chrono::seconds expires,
                      std::chrono::system_clock::time_point when) const;
  SigV4Result presign_payload_hash(std::string_view method, std::string_view url, const http::Headers& headers,
                                   std::string_view payload_hash, std::chrono::seconds expires,
                                   std::chrono::system_clock::time_point when) const;
  // Signs `req` (its method, url, headers, body) and sets the headers on it.
  void sign_request(http::Request& req, std::chrono::system_clock::time_point when) const;

  // The signing key for `date8` (YYYYMMDD), from the cache when the date matches.
  Sha256Digest signing_key(std::string_view date8) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }
  const SigV4Options& options() const { return options_; }

 private:
  SigV4Result sign_impl(std::string_view method, std::string_view url, const http::Headers& headers,
                        std::string_view payload_hash, std::chrono::system_clock::time_point when,
                        const std::chrono::seconds* presign_expires) const;
  AwsCredentials creds_;
  std::string region_;
  std::string service_;
  SigV4Options options_;
  mutable std::mutex mu_;
  mutable char cached_date_[8] = {};
  mutable Sha256Digest cached_key_{};
  mutable bool cached_ = false;
};

// The signer as the signing stage's Credential (auth/credential.hpp): apply()
// is sign_request(); per_attempt() is true (a signature is dated, and AWS
// refuses one more than 5 minutes off).
std::shared_ptr<const Credential> sigv4_credential(std::shared_ptr<const SigV4Signer> signer);

// The pieces of a canonical request, exposed for tests.
namespace sigv4_detail {
// URI-encodes every byte outside A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash),
// upper-case hex, appended to `out`.
void uri_encode(std::string_view s, bool keep_slash, std::string& out);
// The canonical URI of a URL path (without query), per the options.
std::string canonical_path(std::string_view path, bool normalize, bool encode);
// The canonical query string of a raw query (without '?').
std::string canonical_query(std::string_view query);
}  // namespace sigv4_detail

}  // namespace literllm::auth
