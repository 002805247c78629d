// Google's OAuth 2.0 token endpoint for service accounts, as the local
// upstream plays it: the form (or JSON) body, the jwt-bearer grant, the JWT's
// header and claims, its RS256 signature checked with the account's public key
// (mbedTLS: X.509 certificate or public key PEM), then an access token that the
// Vertex routes honour until it expires or is revoked. Errors are Google's:
// status 400, {"error":...,"error_description":...}, its wording.
#include "google_token.hpp"

#include "http/url.hpp"

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>

#include "anthropic.hpp"  // shared:: helpers of handler.cpp
#include "auth/crypto.hpp"
#include "gemini.hpp"

namespace literllm::testing::detail {

namespace {

using rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr std::string_view kCloudPlatform = "https://www.googleapis.com/auth/cloud-platform";
constexpr int64_t kMaxAssertionLifetime = 3600;  // exp - iat, seconds
constexpr int64_t kClockSkew = 60;               // how far in the future iat may be, seconds

// Google's wording.
constexpr std::string_view kBadSignature = "Invalid JWT Signature.";
constexpr std::string_view kBadAudience = "Invalid JWT: Failed audience check.";
constexpr std::string_view kBadTime =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and "
    "exp values in the JWT claim.";
constexpr std::string_view kNoAccount = "Invalid grant: account not found";
constexpr std::string_view kNoIssuer = "Invalid email or User ID.";
constexpr std::string_view kBadScope = "Invalid OAuth scope or ID token audience provided.";
constexpr std::string_view kVertexHelp =
    ". Expected OAuth 2 access token, login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.";

std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

const Value* member(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string_view string_member(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  return v && v->IsString() ? sv(*v) : std::string_view{};
}

// The token endpoint's JSON answers: application/json; charset=utf-8, never cached.
Plan oauth_json(int status, std::string body) {
  Plan p = shared::json_plan(status, std::move(body));
  p.headers[0].second = "application/json; charset=utf-8";
  p.headers.emplace_back("cache-control", "no-cache, no-store, max-age=0, must-revalidate");
  p.headers.emplace_back("pragma", "no-cache");
  return p;
}

Plan oauth_error(int status, std::string_view error, std::string_view description) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("error");
  w.String(error.data(), static_cast<rapidjson::SizeType>(error.size()));
  w.Key("error_description");
  w.String(description.data(), static_cast<rapidjson::SizeType>(description.size()));
  w.EndObject();
  return oauth_json(status, std::string(sb.GetString(), sb.GetSize()));
}

Plan invalid_grant(std::string_view description) { return oauth_error(400, "invalid_grant", description); }

// application/x-www-form-urlencoded: '+' is a space, %XX a byte.
std::string form_decode(std::string_view s) { return http::percent_decode(s, true); }

// The first value of each name.
std::map<std::string, std::string> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  for (size_t at = 0; at <= body.size();) {
    size_t amp = body.find('&', at);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(at, amp - at);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string name = form_decode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
      out.emplace(std::move(name), std::move(value));
    }
    at = amp + 1;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type) {
  return lower(shared::trim(content_type.substr(0, content_type.find(';'))));
}

bool has_scope(std::string_view list, std::string_view want) {
  for (size_t at = 0; at < list.size();) {
    size_t sp = list.find(' ', at);
    if (sp == std::string_view::npos) sp = list.size();
    if (list.substr(at, sp - at) == want) return true;
    at = sp + 1;
  }
  return false;
}

std::string bearer_of(const RecordedRequest& req, bool& given) {
  std::string header = req.header("authorization");
  std::string_view auth = shared::trim(header);
  given = !auth.empty();
  if (auth.size() > 7 && shared::iequals(auth.substr(0, 7), "bearer "))
    return std::string(shared::trim(auth.substr(7)));
  return {};
}

}  // namespace

struct GoogleTokens::Impl {
  struct Account {
    std::string email, key_id;
    std::unique_ptr<mbedtls_x509_crt, void (*)(mbedtls_x509_crt*)> crt{nullptr, nullptr};
    std::unique_ptr<mbedtls_pk_context, void (*)(mbedtls_pk_context*)> pk{nullptr, nullptr};
    mbedtls_pk_context* key() const { return crt ? &crt->pk : pk.get(); }
  };
  struct Issued {
    std::string email;
    std::chrono::steady_clock::time_point expires;
  };

  std::vector<Account> accounts;
  std::atomic<uint16_t> port{0};
  std::atomic<size_t> issued{0};
  mutable std::mutex mu;  // tokens, rng, and the keys (mbedTLS contexts are used one caller at a time)
  std::map<std::string, Issued> tokens;
  std::mt19937_64 rng{std::random_device{}()};

  const Account* find(std::string_view email) const {
    for (const Account& a : accounts)
      if (a.email == email) return &a;
    return nullptr;
  }
};

GoogleTokens::GoogleTokens(const std::vector<UpstreamGoogleAccount>& accounts) : impl_(std::make_unique<Impl>()) {
  for (const UpstreamGoogleAccount& in : accounts) {
    Impl::Account a;
    a.email = in.client_email;
    a.key_id = in.key_id;
    const std::string pem = in.certificate_pem;  // mbedTLS wants the terminating NUL counted
    const auto* bytes = reinterpret_cast<const unsigned char*>(pem.c_str());
    auto fail = [&](const char* why) {
      throw std::invalid_argument("literllm upstream: google account '" + in.client_email + "': " + why);
    };
    if (pem.find("BEGIN CERTIFICATE") != std::string::npos) {
      a.crt = {new mbedtls_x509_crt, [](mbedtls_x509_crt* c) {
                 mbedtls_x509_crt_free(c);
                 delete c;
               }};
      mbedtls_x509_crt_init(a.crt.get());
      if (mbedtls_x509_crt_parse(a.crt.get(), bytes, pem.size() + 1) != 0)
        fail("certificate_pem is not a valid X.509 certificate");
    } else {
      a.pk = {new mbedtls_pk_context, [](mbedtls_pk_context* k) {
                mbedtls_pk_free(k);
                delete k;
              }};
      mbedtls_pk_init(a.pk.get());
      if (mbedtls_pk_parse_public_key(a.pk.get(), bytes, pem.size() + 1) != 0)
        fail("certificate_pem is neither an X.509 certificate nor a public key PEM");
    }
    if (!mbedtls_pk_can_do(a.key(), MBEDTLS_PK_RSA)) fail("the key is not RSA (RS256 needs one)");
    impl_->accounts.push_back(std::move(a));
  }
}

GoogleTokens::~GoogleTokens() = default;

bool GoogleTokens::enabled() const { return !impl_->accounts.empty(); }

void GoogleTokens::set_port(uint16_t port) { impl_->port = port; }

Plan GoogleTokens::injected_error(int status, std::string_view message) {
  std::string description =
      !message.empty() ? std::string(message)
                       : "local upstream: injected HTTP " + std::to_string(status) + " (" + reason_phrase(status) + ")";
  if (status >= 500) return oauth_error(status, "internal_failure", description);
  if (status == 429) return oauth_error(status, "rate_limit_exceeded", description);
  if (status == 401) return oauth_error(status, "invalid_client", description);
  return oauth_error(status, "invalid_request", description);
}

Plan GoogleTokens::exchange(const RecordedRequest& req, int lifetime_secs) {
  Impl& s = *impl_;
  // The parameters: a form body (what RFC 6749 prescribes), or JSON, which
  // Google's endpoint takes too (a body that is not JSON under that type gets
  // its parse error). Any other type: no parameters are read from the body.
  std::string type = media_type(req.header("content-type"));
  std::string grant_type, assertion;
  if (type == "application/x-www-form-urlencoded") {
    auto form = parse_form(req.body);
    if (auto it = form.find("grant_type"); it != form.end()) grant_type = it->second;
    if (auto it = form.find("assertion"); it != form.end()) assertion = it->second;
  } else if (type == "application/json") {
    rapidjson::Document doc;
    doc.Parse(req.body.c_str(), req.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      std::string line = req.body.substr(0, std::min(req.body.find('\n'), size_t{64}));
      return gemini_error_plan(400, "Invalid JSON payload received. Unexpected token.\n" + line + "\n^",
                               "INVALID_ARGUMENT");
    }
    grant_type = std::string(string_member(doc, "grant_type"));
    assertion = std::string(string_member(doc, "assertion"));
  }

  if (grant_type != kJwtBearer) return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type);
  if (assertion.empty()) return oauth_error(400, "invalid_request", "Missing required parameter: assertion");

  // A compact JWS: three base64url parts, a JSON header and claims.
  size_t dot1 = assertion.find('.');
  size_t dot2 = dot1 == std::string::npos ? std::string::npos : assertion.find('.', dot1 + 1);
  if (dot2 == std::string::npos || assertion.find('.', dot2 + 1) != std::string::npos)
    return invalid_grant(kBadSignature);
  std::string header_json, claims_json, signature;
  try {
    header_json = auth::base64url_decode(std::string_view(assertion).substr(0, dot1), "JWT header");
    claims_json = auth::base64url_decode(std::string_view(assertion).substr(dot1 + 1, dot2 - dot1 - 1), "JWT claims");
    signature = auth::base64url_decode(std::string_view(assertion).substr(dot2 + 1), "JWT signature");
  } catch (const std::exception&) {
    return invalid_grant(kBadSignature);
  }
  rapidjson::Document header, claims;
  header.Parse(header_json.c_str(), header_json.size());
  claims.Parse(claims_json.c_str(), claims_json.size());
  if (header.HasParseError() || !header.IsObject() || claims.HasParseError() || !claims.IsObject())
    return invalid_grant(kBadSignature);
  // RS256 only ("none", HS256 and the rest are refused as a bad signature is).
  if (string_member(header, "alg") != "RS256") return invalid_grant(kBadSignature);
  if (const Value* typ = member(header, "typ"); typ && (!typ->IsString() || !shared::iequals(sv(*typ), "JWT")))
    return invalid_grant(kBadSignature);

  // The issuer names the account, whose key must have signed.
  const Value* iss = member(claims, "iss");
  if (!iss || !iss->IsString() || iss->GetStringLength() == 0) return invalid_grant(kNoIssuer);
  const Impl::Account* account = s.find(sv(*iss));
  if (!account) return invalid_grant(kNoAccount);
  if (const Value* kid = member(header, "kid"); kid && !account->key_id.empty()) {
    // A kid names one of the account's keys; another one is no key of it.
    if (!kid->IsString() || sv(*kid) != account->key_id) return invalid_grant(kBadSignature);
  }
  {
    auth::Sha256Digest digest = auth::sha256(std::string_view(assertion).substr(0, dot2));
    std::lock_guard lock(s.mu);
    mbedtls_pk_context* key = account->key();
    if (signature.size() != mbedtls_pk_get_len(key) ||
        mbedtls_pk_verify(key, MBEDTLS_MD_SHA256, digest.data(), digest.size(),
                          reinterpret_cast<const unsigned char*>(signature.data()), signature.size()) != 0)
      return invalid_grant(kBadSignature);
  }

  // The audience is this endpoint, exactly (a string, not an array).
  const std::string want_aud = "http://127.0.0.1:" + std::to_string(s.port.load()) + "/token";
  const Value* aud = member(claims, "aud");
  if (!aud || !aud->IsString() || sv(*aud) != want_aud) return invalid_grant(kBadAudience);

  // Short-lived, and now: integers, exp after iat by at most an hour, iat not
  // ahead of the clock by more than the skew, exp not past.
  const Value* iat = member(claims, "iat");
  const Value* exp = member(claims, "exp");
  if (!iat || !exp || !iat->IsInt64() || !exp->IsInt64()) return invalid_grant(kBadTime);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t i = iat->GetInt64(), e = exp->GetInt64();
  if (e <= i || e - i > kMaxAssertionLifetime || i > now + kClockSkew || e <= now) return invalid_grant(kBadTime);

  // Vertex needs cloud-platform among the space-separated scopes.
  const Value* scope = member(claims, "scope");
  if (!scope || !scope->IsString() || !has_scope(sv(*scope), kCloudPlatform))
    return oauth_error(400, "invalid_scope", kBadScope);

  // The token: ya29.upstream-<n>-<16 random hex digits>.
  const size_t n = ++s.issued;
  const int lifetime = lifetime_secs > 0 ? lifetime_secs : 0;
  std::string token;
  {
    std::lock_guard lock(s.mu);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(s.rng()));
    token = "ya29.upstream-" + std::to_string(n) + "-" + hex;
    s.tokens[token] = {account->email, std::chrono::steady_clock::now() + std::chrono::seconds(lifetime)};
  }
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("access_token");
  w.String(token.c_str(), static_cast<rapidjson::SizeType>(token.size()));
  w.Key("expires_in");
  w.Int(lifetime);
  w.Key("token_type");
  w.String("Bearer");
  w.EndObject();
  return oauth_json(200, std::string(sb.GetString(), sb.GetSize()));
}

std::optional<Plan> GoogleTokens::vertex_auth(const RecordedRequest& req, const std::string& fixed_token) {
  Impl& s = *impl_;
  bool given = false;
  const std::string token = bearer_of(req, given);
  bool ok = false;
  if (shared::header_true(req, "x-upstream-revoke-token")) {
    std::lock_guard lock(s.mu);
    if (!token.empty()) s.tokens.erase(token);
  } else if (!token.empty()) {
    if (!fixed_token.empty() && token == fixed_token) return std::nullopt;
    std::lock_guard lock(s.mu);
    auto it = s.tokens.find(token);
    ok = it != s.tokens.end() && std::chrono::steady_clock::now() < it->second.expires;
  }
  if (ok) return std::nullopt;
  Plan p = gemini_error_plan(401,
                             std::string(given ? "Request had invalid authentication credentials"
                                               : "Request is missing required authentication credential") +
                                 std::string(kVertexHelp),
                             "UNAUTHENTICATED");
  p.headers.emplace_back("www-authenticate",
                         given ? R"(Bearer realm="https://accounts.google.com/", error="invalid_token")"
                               : R"(Bearer realm="https://accounts.google.com/")");
  return p;
}

void GoogleTokens::revoke_all() {
  std::lock_guard lock(impl_->mu);
  impl_->tokens.clear();
}

size_t GoogleTokens::issued() const { return impl_->issued.load(); }

}  // namespace literllm::testing::detail
