// Google service-account auth: the service-account file, an RS256-signed JWT
// assertion, the token-exchange request body and the token endpoint's answer
// (RFC 7523 / Google OAuth 2.0 for server-to-server). Pure: no socket; the
// clock is a parameter. RSA on mbedTLS 2.28.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace literllm::auth {

// The fields of a service-account key file that signing needs.
struct ServiceAccount {
  std::string type;            // "service_account"
  std::string project_id;      // may be empty
  std::string client_email;    // the JWT's iss
  std::string private_key;     // PEM (PKCS#8 or PKCS#1)
  std::string private_key_id;  // the JWT header's kid; may be empty (then no kid)
  std::string token_uri;       // the JWT's aud and where the assertion goes
};

// Parses a service-account JSON file's content. Throws
// Error(LLM_ERR_INVALID_ARGUMENT) naming the missing or malformed field
// ("service account JSON: client_email is missing"); never quotes a value.
ServiceAccount parse_service_account(std::string_view json_text);

// An RSA private key that signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256:
// deterministic; mbedTLS blinds the private operation with a CTR-DRBG the key
// owns). Copies share the key. Thread-safe: signing is serialized per key.
class RsaKey {
 public:
  // A PEM private key ("BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY",
  // unencrypted). Throws Error(LLM_ERR_INVALID_ARGUMENT) naming `field`
  // when it is not one, is encrypted, or is not RSA; never quotes the key.
  static RsaKey from_pem(std::string_view pem, std::string_view field = "private_key");
  // An RSA private JWK (RFC 7517/7518: kty "RSA", n e d p q dp dq qi in
  // base64url). The CRT values given must agree with those derived from p, q, d.
  static RsaKey from_jwk(std::string_view jwk_json);

  // The RS256 signature of `data` (key-size bytes).
  std::string sign_rs256(std::string_view data) const;
  size_t bits() const;

 private:
  struct Impl;
  explicit RsaKey(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// A compact JWS: base64url(header_json) "." base64url(payload) "." base64url(RS256 signature).
std::string jws_rs256(const RsaKey& key, std::string_view header_json, std::string_view payload);

// Vertex AI's scope.
inline constexpr std::string_view kCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";
inline constexpr std::chrono::seconds kAssertionLifetime{3600};

// Signs assertions for one service account (the key is parsed once).
class ServiceAccountSigner {
 public:
  // Throws as parse_service_account / RsaKey::from_pem.
  explicit ServiceAccountSigner(ServiceAccount account);
  static ServiceAccountSigner from_json(std::string_view json_text) {
    return ServiceAccountSigner(parse_service_account(json_text));
  }

  // The JWT: header {"alg":"RS256","typ":"JWT","kid":private_key_id}, claims
  // {"iss":client_email,"scope":scope,"aud":token_uri,"iat":now,"exp":now+lifetime}
  // (and "sub" when `subject` is not empty: domain-wide delegation).
  std::string assertion(std::string_view scope, std::chrono::system_clock::time_point now,
                        std::chrono::seconds lifetime = kAssertionLifetime, std::string_view subject = {}) const;

  const std::string& client_email() const { return client_email_; }
  const std::string& token_uri() const { return token_uri_; }
  const std::string& key_id() const { return key_id_; }

 private:
  std::string client_email_, token_uri_, key_id_;
  RsaKey key_;
};

// The token-exchange form body:
// grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<jwt>
// (to POST to token_uri with Content-Type application/x-www-form-urlencoded).
std::string token_request_body(std::string_view assertion);
inline constexpr std::string_view kTokenRequestContentType = "application/x-www-form-urlencoded";

struct AccessToken {
  std::string access_token;
  std::string token_type;  // "Bearer"
  int64_t expires_in = 0;  // seconds
};

// The token endpoint's answer. {"access_token","expires_in","token_type"}
// gives the token; an error answer {"error","error_description"} (or any HTTP
// status other than 2xx) throws Error(LLM_ERR_AUTHENTICATION) with the
// error and its description (5xx: LLM_ERR_SERVER_ERROR / 503:
// LLM_ERR_SERVICE_UNAVAILABLE); an answer that is not JSON, or lacks
// access_token, throws Error(LLM_ERR_SERIALIZATION). No message quotes a token.
AccessToken parse_token_response(std::string_view body, int http_status = 200);

}  // namespace literllm::auth
