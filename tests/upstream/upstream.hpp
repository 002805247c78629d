// The local upstream: a real HTTP/1.1 server on 127.0.0.1 that speaks the
// OpenAI chat-completions wire format (and OpenAI's endpoints beyond chat:
// openai_endpoints.cpp; Anthropic's Messages API, direct and on Vertex:
// anthropic.cpp), for end-to-end tests, benchmarks and
// the README demo. One Asio thread serves every connection (thousands of
// concurrent streams), with keep-alive, chunked or sized request bodies, and
// fault injection chosen per request by `x-upstream-*` headers (see
// tests/upstream/README.md).
//
// This header is free of Boost and RapidJSON on purpose: including it costs
// nothing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace literllm::testing {

// One request as the server received it.
struct RecordedRequest {
  std::string method, target;                                // target = path + query
  // A proxy's request: the absolute-form target as sent ("http://host:port/path?query",
  // RFC 9112 section 3.2.2); `target` is then its path and query. "" for an origin-form one.
  std::string absolute_target;
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order, names as sent
  std::string body;                                          // decoded (chunked bodies de-chunked)
  // The first header of that name, compared case-insensitively; "" if absent.
  std::string header(std::string_view name) const;
};

// AWS credentials the Bedrock routes verify SigV4 signatures against.
struct UpstreamAwsCredentials {
  std::string access_key_id;      // empty: no SigV4 verification
  std::string secret_access_key;
  std::string session_token;      // non-empty: requests must carry it (X-Amz-Security-Token)
};

// A Google service account whose JWT assertions POST /token accepts (Google's
// OAuth 2.0 token endpoint for server-to-server apps, RFC 7523 jwt-bearer).
struct UpstreamGoogleAccount {
  std::string client_email;     // the assertion's iss
  std::string certificate_pem;  // its public key: an X.509 certificate PEM ("BEGIN CERTIFICATE")
                                // or a public key PEM ("BEGIN PUBLIC KEY"); RSA
  std::string key_id;           // the JWT header's kid expected; empty: any (or none)
};

struct UpstreamOptions {
  std::string fixtures_dir;     // root for x-upstream-replay paths
  std::string require_api_key;  // non-empty: requests must carry "Authorization: Bearer <key>",
                                // "x-api-key: <key>" or "api-key: <key>", else 401 OpenAI error body
                                // (Anthropic routes: Anthropic's; Vertex: Google's)
  uint16_t port = 0;            // 0: the kernel picks a free port
  bool record_requests = true;  // false: keep no copies (long benchmarks); requests() stays empty
  // Bedrock routes (/model/{id}/converse[-stream]): with an access key id, every
  // request must be signed (SigV4, service "bedrock") with these credentials,
  // else 403 in AWS's shape (bedrock.cpp).
  UpstreamAwsCredentials aws_credentials;
  // Google service-account auth (README.md, "Google's token endpoint"). POST /token
  // exchanges a JWT assertion signed by one of these accounts for an access token,
  // checked as Google checks it. With at least one account, the Vertex routes
  // (Gemini and Anthropic on Vertex) accept only `Authorization: Bearer <token>`
  // of a token issued here, unexpired and unrevoked (or require_api_key, when
  // set), else 401 in Google's shape. A PEM that is no RSA public key makes the
  // Upstream constructor throw std::invalid_argument.
  std::vector<UpstreamGoogleAccount> google_accounts;
  int google_token_lifetime_secs = 3599;  // the expires_in issued (and how long a token is honoured)
  int google_token_delay_ms = 0;          // POST /token waits this long before answering
};

class Upstream {
 public:
  explicit Upstream(UpstreamOptions opts = {});
  ~Upstream();  // stop()
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Binds 127.0.0.1:<opts.port> and serves on its own thread. Throws
  // std::runtime_error when the port cannot be bound. A no-op when running.
  void start();
  // Closes the listener and every connection, joins the thread. Idempotent;
  // start() may be called again afterwards (on a new port when opts.port is 0).
  void stop();

  uint16_t port() const;         // 0 before start()
  std::string base_url() const;  // "http://127.0.0.1:<port>/v1"

  // Every request received so far, in order (thread-safe). GET /__requests
  // itself is not recorded.
  std::vector<RecordedRequest> requests() const;
  void clear_requests();

  size_t connections_accepted() const;  // total TCP connections accepted
  size_t open_connections() const;      // connections open right now

  // Every Google access token issued so far stops being honoured: the Vertex
  // routes answer 401 for it. Tokens issued afterwards are valid. Thread-safe.
  void revoke_google_tokens();
  // Successful POST /token exchanges so far (thread-safe).
  size_t google_tokens_issued() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace literllm::testing
