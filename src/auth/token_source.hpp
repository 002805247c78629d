// OAuth 2.0 access tokens obtained by exchanging a signed assertion (a Google
// service account, RFC 7523), cached and shared by every call of a client.
// The auth layer has no socket: the client hands in an Exchange that sends
// the token request on its transport.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/credential.hpp"
#include "auth/jwt.hpp"
#include "core/error.hpp"
#include "http/request.hpp"

namespace literllm::auth {

// One service account's access token. One exchange at a time however many
// calls wait for it; the token is reused until kRefreshMargin before it
// expires, or until a server refuses it. Thread-safe.
class TokenSource : public std::enable_shared_from_this<TokenSource> {
 public:
  // A token is fetched anew this long before it expires.
  static constexpr std::chrono::seconds kRefreshMargin{300};

  TokenSource(ServiceAccountSigner signer, std::string scope);

  // The cached token when it is fresh at `now` (more than kRefreshMargin
  // before its expiry, and not refused), else nullopt.
  std::optional<std::string> fresh(std::chrono::system_clock::time_point now) const;
  // The token last obtained, fresh or not ("" before the first exchange).
  std::string current() const;

  // Gets a token: `ready(token, nullptr)` with the fresh cached one (before
  // get returns), or once an exchange answers; `ready(nullptr, error)` when it
  // fails (LLM_ERR_AUTHENTICATION for a refused assertion, the transport's
  // status for no answer). Callers that come while an exchange is under way
  // wait for that one. `ready` runs without the source's lock held.
  using Ready = std::function<void(const std::string* token, const Error* error)>;
  void get(const Exchange& exchange, std::chrono::system_clock::time_point now, Ready ready);

  // A server refused `token` (HTTP 401): when it is the cached one, it is
  // not used again, and the next get() exchanges anew.
  void refused(std::string_view token);

  // Exchanges started so far (successful or not).
  size_t exchanges() const;
  const std::string& token_uri() const { return signer_.token_uri(); }

 private:
  void on_answer(ExchangeResult r, std::chrono::system_clock::time_point asked);

  const ServiceAccountSigner signer_;
  const std::string scope_;
  mutable std::mutex mu_;
  std::string token_;
  std::chrono::system_clock::time_point expires_{};
  bool usable_ = false;     // token_ is neither refused nor missing
  bool fetching_ = false;
  size_t exchanges_ = 0;
  std::vector<Ready> waiting_;
};

// A client's token sources, one per service-account file: each file is read
// and its key parsed once. Thread-safe.
class TokenSources {
 public:
  // The source of `file`: a path to a service-account JSON file, or the JSON
  // itself (a value that starts with '{'). `field` names where it came from in
  // messages ("providers.vertex_ai.credentials_file"). Throws
  // Error(LLM_ERR_INVALID_ARGUMENT) naming `field` when the file cannot be
  // read or is not a service-account key; never quotes its content.
  std::shared_ptr<TokenSource> service_account(const std::string& file, std::string_view field,
                                               std::string_view scope = kCloudPlatformScope);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<TokenSource>> by_file_;
};

// The credential `Authorization: Bearer <token>` of a TokenSource: not ready
// until a fresh token is cached, refreshed when a server refuses it.
std::shared_ptr<const Credential> bearer_token_credential(std::shared_ptr<TokenSource> source);

}  // namespace literllm::auth
