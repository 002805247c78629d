// Internal to the local upstream: Google's OAuth 2.0 token endpoint for
// service accounts (POST /token, grant type jwt-bearer, RFC 7523) with the
// checks Google makes of the JWT assertion, and the access tokens it issued,
// which the Vertex routes then demand. See README.md, "Google's token endpoint".
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handler.hpp"

namespace literllm::testing::detail {

class GoogleTokens {
 public:
  // Parses every account's public key. Throws std::invalid_argument naming the
  // account when its PEM is neither an X.509 certificate nor a public key, or
  // is not RSA.
  explicit GoogleTokens(const std::vector<UpstreamGoogleAccount>& accounts);
  ~GoogleTokens();
  GoogleTokens(const GoogleTokens&) = delete;
  GoogleTokens& operator=(const GoogleTokens&) = delete;

  // Accounts are configured: the Vertex routes demand issued tokens.
  bool enabled() const;
  // The port the server listens on: the assertion's aud must be http://127.0.0.1:<port>/token.
  void set_port(uint16_t port);

  // POST /token: the exchange, answered as Google answers (200 with a token, or
  // 400 {"error","error_description"}). `lifetime_secs` is the expires_in issued.
  Plan exchange(const RecordedRequest& req, int lifetime_secs);
  // An error of ours on /token (an injected status, a wrong method) in the OAuth
  // error shape; `message` empty: one naming the injected status.
  static Plan injected_error(int status, std::string_view message = {});

  // A Vertex request's credentials. nullopt: accepted (a token issued here that
  // has neither expired nor been revoked, or a bearer equal to `fixed_token`
  // when that is not empty). `x-upstream-revoke-token: 1` revokes the token
  // presented first (so the request is refused). Else 401 in Google's shape.
  std::optional<Plan> vertex_auth(const RecordedRequest& req, const std::string& fixed_token);

  void revoke_all();
  size_t issued() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace literllm::testing::detail
