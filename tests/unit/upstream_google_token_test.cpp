// The local upstream's Google token endpoint (tests/upstream/google_token.cpp):
// POST /token exchanges a service account's RS256 JWT assertion for an access
// token after Google's checks (grant type, signature against the account's
// certificate, kid, iss, aud, scope, iat/exp), answering Google's OAuth errors;
// the Vertex routes then take only the tokens it issued, until they expire or
// are revoked. Assertions are signed with the library's own signer
// (src/auth/jwt) and the shared test service account.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <mbedtls/pk.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "auth/crypto.hpp"
#include "auth/jwt.hpp"
#include "upstream.hpp"
#include "upstream_client.hpp"


namespace {

using fixtures::slurp;

namespace fs = std::filesystem;
using literllm::testing::Upstream;
using literllm::testing::UpstreamGoogleAccount;
using literllm::testing::UpstreamOptions;
using std::chrono::system_clock;
using upstream_client::Answer;
namespace auth = literllm::auth;

constexpr const char* kEmail = "service-account@example.com";
constexpr const char* kJwtBearer = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
const std::string kBadSignature = "Invalid JWT Signature.";
const std::string kBadAudience = "Invalid JWT: Failed audience check.";
const std::string kBadTime =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and "
    "exp values in the JWT claim.";
const std::string kGeminiVertex =
    "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent";
const std::string kGeminiBody = R"({"contents":[{"role":"user","parts":[{"text":"hi there"}]}]})";
const std::string kAnthropicVertex =
    "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x:rawPredict";
const std::string kAnthropicBody =
    R"({"anthropic_version":"vertex-2023-10-16","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})";

fs::path auth_dir() { return fs::path(LITERLLM_FIXTURES_DIR) / "auth"; }

using upstream_client::parse;
using upstream_client::str;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(system_clock::now().time_since_epoch()).count();
}

// A request with a body of any content type ("": none).
Answer send(const Upstream& up, const std::string& path, const std::string& body, const std::string& content_type,
            const char* method = "POST") {
  return upstream_client::request(up, path, body, {}, method, content_type);
}

// Google's OAuth error: {"error":...,"error_description":...}.
void expect_oauth_error(const Answer& a, long status, const std::string& error, const std::string& description) {
  EXPECT_EQ(a.status, status) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject()) << a.body;
  EXPECT_EQ(str(d["error"]), error) << a.body;
  EXPECT_EQ(str(d["error_description"]), description) << a.body;
}

// Google's API error on a Vertex route: 401 UNAUTHENTICATED.
void expect_unauthenticated(const Answer& a, const std::string& message_start) {
  EXPECT_EQ(a.status, 401) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error") && d["error"].IsObject()) << a.body;
  EXPECT_EQ(d["error"]["code"].GetInt(), 401);
  EXPECT_EQ(str(d["error"]["status"]), "UNAUTHENTICATED");
  EXPECT_EQ(str(d["error"]["message"]).rfind(message_start, 0), 0u) << a.body;
  EXPECT_NE(str(d["error"]["message"]).find("Expected OAuth 2 access token"), std::string::npos) << a.body;
  EXPECT_EQ(a.header("www-authenticate").rfind("Bearer realm=", 0), 0u);
}

class UpstreamGoogleToken : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_FIXTURE(auth_dir() / "google-service_account.json");
    REQUIRE_FIXTURE(auth_dir() / "google-public_cert.pem");
    account_ = auth::parse_service_account(slurp(auth_dir() / "google-service_account.json"));
    cert_ = slurp(auth_dir() / "google-public_cert.pem");
    ASSERT_EQ(account_.client_email, kEmail);
    ASSERT_EQ(account_.private_key_id, "1");
    opts.google_accounts = {{kEmail, cert_, "1"}};
  }

  // The server, started on first use with `opts` as the test left them.
  Upstream& up() {
    if (!up_) {
      up_ = std::make_unique<Upstream>(opts);
      up_->start();
    }
    return *up_;
  }
  std::string token_uri() { return "http://127.0.0.1:" + std::to_string(up().port()) + "/token"; }

  // The library's signer for the fixture account, its token_uri this upstream's.
  auth::ServiceAccountSigner signer(const std::string& token_uri) {
    auth::ServiceAccount a = account_;
    a.token_uri = token_uri;
    return auth::ServiceAccountSigner(a);
  }
  std::string assertion() { return signer(token_uri()).assertion(auth::kCloudPlatformScope, system_clock::now()); }

  // An assertion with the header and claims given, signed with the fixture key (or `key`).
  std::string jwt(const std::string& header, const std::string& claims, const auth::RsaKey* key = nullptr) {
    auth::RsaKey k = key ? *key : auth::RsaKey::from_pem(account_.private_key);
    return auth::jws_rs256(k, header, claims);
  }
  std::string claims(int64_t iat, int64_t exp, const std::string& scope = std::string(auth::kCloudPlatformScope),
                     const std::string& aud = {}, const std::string& iss = kEmail) {
    return R"({"iss":")" + iss + R"(","scope":")" + scope + R"(","aud":")" + (aud.empty() ? token_uri() : aud) +
           R"(","iat":)" + std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) + "}";
  }
  static std::string header(const std::string& kid = "1") {
    return R"({"alg":"RS256","typ":"JWT","kid":")" + kid + R"("})";
  }

  Answer exchange(const std::string& jwt_text) {
    return send(up(), "/token", auth::token_request_body(jwt_text), std::string(auth::kTokenRequestContentType));
  }
  // A token (the test fails when the exchange does).
  std::string token() {
    Answer a = exchange(assertion());
    EXPECT_EQ(a.status, 200) << a.body;
    return auth::parse_token_response(a.body, static_cast<int>(a.status)).access_token;
  }

  Answer gemini(const std::string& bearer, std::vector<std::string> extra = {}) {
    if (!bearer.empty()) extra.push_back("Authorization: Bearer " + bearer);
    return upstream_client::request(up(), kGeminiVertex, kGeminiBody, extra);
  }
  Answer anthropic(const std::string& bearer, std::vector<std::string> extra = {}) {
    if (!bearer.empty()) extra.push_back("Authorization: Bearer " + bearer);
    return upstream_client::request(up(), kAnthropicVertex, kAnthropicBody, extra);
  }

  UpstreamOptions opts;
  auth::ServiceAccount account_;
  std::string cert_;
  std::unique_ptr<Upstream> up_;
};

// ---- the exchange ------------------------------------------------------------------------------

TEST_F(UpstreamGoogleToken, ExchangeIssuesATokenTheVertexRoutesTake) {
  EXPECT_EQ(up().google_tokens_issued(), 0u);
  Answer a = exchange(assertion());
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json; charset=utf-8");
  auto d = parse(a.body);
  EXPECT_EQ(str(d["access_token"]).rfind("ya29.upstream-1-", 0), 0u) << a.body;
  EXPECT_EQ(d["expires_in"].GetInt(), 3599);
  EXPECT_EQ(str(d["token_type"]), "Bearer");
  EXPECT_EQ(up().google_tokens_issued(), 1u);
  // What the library's parser makes of it.
  auth::AccessToken t = auth::parse_token_response(a.body, 200);
  EXPECT_EQ(t.token_type, "Bearer");
  EXPECT_EQ(t.expires_in, 3599);

  Answer g = gemini(t.access_token);
  EXPECT_EQ(g.status, 200) << g.body;
  EXPECT_NE(g.body.find("Hello from the local upstream. You said: hi there"), std::string::npos) << g.body;
  Answer c = anthropic(t.access_token);
  EXPECT_EQ(c.status, 200) << c.body;
  EXPECT_NE(c.body.find("msg_vrtx_upstream_"), std::string::npos) << c.body;

  // A second exchange: another token, both valid.
  std::string second = token();
  EXPECT_NE(second, t.access_token);
  EXPECT_EQ(second.rfind("ya29.upstream-2-", 0), 0u) << second;
  EXPECT_EQ(gemini(second).status, 200);
  EXPECT_EQ(gemini(t.access_token).status, 200);
  EXPECT_EQ(up().google_tokens_issued(), 2u);
}

TEST_F(UpstreamGoogleToken, VertexRoutesRefuseAnythingElse) {
  std::string good = token();
  expect_unauthenticated(gemini(""), "Request is missing required authentication credential");
  expect_unauthenticated(anthropic(""), "Request is missing required authentication credential");
  expect_unauthenticated(gemini("ya29.not-issued-here"), "Request had invalid authentication credentials");
  expect_unauthenticated(anthropic("ya29.not-issued-here"), "Request had invalid authentication credentials");
  expect_unauthenticated(gemini(good + "x"), "Request had invalid authentication credentials");
  // Not a bearer at all.
  expect_unauthenticated(upstream_client::request(up(), kGeminiVertex, kGeminiBody, {"Authorization: Basic " + good}),
                         "Request had invalid authentication credentials");
  // An API key in Anthropic's header is no OAuth token either.
  expect_unauthenticated(upstream_client::request(up(), kAnthropicVertex, kAnthropicBody, {"x-api-key: " + good}),
                         "Request is missing required authentication credential");
  EXPECT_EQ(gemini(good).status, 200);
  // The Gemini API (not Vertex) and the OpenAI routes are not concerned.
  EXPECT_EQ(upstream_client::request(up(), "/v1beta/models/gemini-2.0-flash:generateContent", kGeminiBody, {}).status,
            200);
  EXPECT_EQ(upstream_client::request(up(), "/v1/chat/completions",
                                     R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", {})
                .status,
            200);
}

TEST_F(UpstreamGoogleToken, FlippedSignatureByteIsRefused) {
  std::string good = assertion();
  size_t dot = good.rfind('.');
  std::string sig = auth::base64url_decode(good.substr(dot + 1));
  sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
  std::string bad = good.substr(0, dot + 1) + auth::base64url_encode(sig);
  expect_oauth_error(exchange(bad), 400, "invalid_grant", kBadSignature);
  // The claims changed under the signature: the same.
  size_t dot1 = good.find('.');
  std::string claims_json = auth::base64url_decode(good.substr(dot1 + 1, dot - dot1 - 1));
  size_t at = claims_json.find("\"iat\":");
  ASSERT_NE(at, std::string::npos);
  claims_json.insert(at + 6, "1");  // another iat
  std::string tampered = good.substr(0, dot1 + 1) + auth::base64url_encode(claims_json) + good.substr(dot);
  expect_oauth_error(exchange(tampered), 400, "invalid_grant", kBadSignature);
  // A signature cut short.
  expect_oauth_error(exchange(good.substr(0, good.size() - 4)), 400, "invalid_grant", kBadSignature);
  EXPECT_EQ(up().google_tokens_issued(), 0u);
  EXPECT_EQ(exchange(good).status, 200);  // the original still passes
}

TEST_F(UpstreamGoogleToken, AnotherKeySigningForTheAccountIsRefused) {
  REQUIRE_FIXTURE(auth_dir() / "jose-rsa-private-key-3_4.json");
  auth::RsaKey other = auth::RsaKey::from_jwk(slurp(auth_dir() / "jose-rsa-private-key-3_4.json"));
  int64_t now = unix_now();
  expect_oauth_error(exchange(jwt(header(), claims(now, now + 3600), &other)), 400, "invalid_grant", kBadSignature);
  expect_oauth_error(exchange(jwt(R"({"alg":"RS256","typ":"JWT"})", claims(now, now + 3600), &other)), 400,
                     "invalid_grant", kBadSignature);
  EXPECT_EQ(exchange(jwt(header(), claims(now, now + 3600))).status, 200);  // the account's own key
  EXPECT_EQ(up().google_tokens_issued(), 1u);
}

TEST_F(UpstreamGoogleToken, NotAnRs256Jws) {
  int64_t now = unix_now();
  std::string good = jwt(header(), claims(now, now + 3600));
  size_t dot1 = good.find('.'), dot2 = good.rfind('.');
  auto with_header = [&](const std::string& h) {
    return auth::base64url_encode(h) + good.substr(dot1, dot2 - dot1) + good.substr(dot2);
  };
  expect_oauth_error(exchange(with_header(R"({"alg":"HS256","typ":"JWT","kid":"1"})")), 400, "invalid_grant",
                     kBadSignature);
  expect_oauth_error(exchange(with_header(R"({"alg":"none"})")), 400, "invalid_grant", kBadSignature);
  expect_oauth_error(exchange(jwt(R"({"alg":"RS512","typ":"JWT"})", claims(now, now + 3600))), 400, "invalid_grant",
                     kBadSignature);
  expect_oauth_error(exchange("not-a-jwt"), 400, "invalid_grant", kBadSignature);
  expect_oauth_error(exchange(good + ".x"), 400, "invalid_grant", kBadSignature);
  expect_oauth_error(exchange("e30.e30.!!!"), 400, "invalid_grant", kBadSignature);
  EXPECT_EQ(up().google_tokens_issued(), 0u);
}

TEST_F(UpstreamGoogleToken, KidMustBeTheAccountsKey) {
  int64_t now = unix_now();
  expect_oauth_error(exchange(jwt(header("2"), claims(now, now + 3600))), 400, "invalid_grant", kBadSignature);
  expect_oauth_error(exchange(jwt(R"({"alg":"RS256","typ":"JWT","kid":1})", claims(now, now + 3600))), 400,
                     "invalid_grant", kBadSignature);
  EXPECT_EQ(exchange(jwt(header("1"), claims(now, now + 3600))).status, 200);
  // No kid: the account's keys are tried.
  EXPECT_EQ(exchange(jwt(R"({"alg":"RS256","typ":"JWT"})", claims(now, now + 3600))).status, 200);
}

TEST_F(UpstreamGoogleToken, AnyKidWhenNoneIsConfigured) {
  opts.google_accounts[0].key_id.clear();
  int64_t now = unix_now();
  EXPECT_EQ(exchange(jwt(header("some-other-kid"), claims(now, now + 3600))).status, 200);
}

TEST_F(UpstreamGoogleToken, UnknownIssuer) {
  int64_t now = unix_now();
  expect_oauth_error(exchange(jwt(header(), claims(now, now + 3600, std::string(auth::kCloudPlatformScope), {},
                                                   "someone-else@example.com"))),
                     400, "invalid_grant", "Invalid grant: account not found");
  expect_oauth_error(
      exchange(jwt(header(), R"({"scope":"https://www.googleapis.com/auth/cloud-platform","aud":")" + token_uri() +
                                 R"(","iat":)" + std::to_string(now) + R"(,"exp":)" + std::to_string(now + 60) + "}")),
      400, "invalid_grant", "Invalid email or User ID.");
  EXPECT_EQ(up().google_tokens_issued(), 0u);
}

TEST_F(UpstreamGoogleToken, WrongAudience) {
  // The file's own token_uri (Google's), the right host on another path or port, an array.
  expect_oauth_error(exchange(signer(account_.token_uri).assertion(auth::kCloudPlatformScope, system_clock::now())),
                     400, "invalid_grant", kBadAudience);
  expect_oauth_error(
      exchange(signer("https://oauth2.googleapis.com/token").assertion(auth::kCloudPlatformScope, system_clock::now())),
      400, "invalid_grant", kBadAudience);
  expect_oauth_error(exchange(signer(token_uri() + "/").assertion(auth::kCloudPlatformScope, system_clock::now())), 400,
                     "invalid_grant", kBadAudience);
  std::string other_port = "http://127.0.0.1:" + std::to_string(up().port() == 1 ? 2 : up().port() - 1) + "/token";
  expect_oauth_error(exchange(signer(other_port).assertion(auth::kCloudPlatformScope, system_clock::now())), 400,
                     "invalid_grant", kBadAudience);
  int64_t now = unix_now();
  expect_oauth_error(
      exchange(jwt(header(), R"({"iss":")" + std::string(kEmail) +
                                 R"(","scope":"https://www.googleapis.com/auth/cloud-platform","aud":[")" +
                                 token_uri() + R"("],"iat":)" + std::to_string(now) + R"(,"exp":)" +
                                 std::to_string(now + 60) + "}")),
      400, "invalid_grant", kBadAudience);
  EXPECT_EQ(up().google_tokens_issued(), 0u);
}

TEST_F(UpstreamGoogleToken, ScopeMustIncludeCloudPlatform) {
  int64_t now = unix_now();
  const std::string desc = "Invalid OAuth scope or ID token audience provided.";
  expect_oauth_error(
      exchange(jwt(header(), R"({"iss":")" + std::string(kEmail) + R"(","aud":")" + token_uri() + R"(","iat":)" +
                                 std::to_string(now) + R"(,"exp":)" + std::to_string(now + 60) + "}")),
      400, "invalid_scope", desc);
  expect_oauth_error(exchange(jwt(header(), claims(now, now + 60, ""))), 400, "invalid_scope", desc);
  expect_oauth_error(exchange(jwt(header(), claims(now, now + 60, "https://www.googleapis.com/auth/drive"))), 400,
                     "invalid_scope", desc);
  expect_oauth_error(
      exchange(jwt(header(), claims(now, now + 60, "https://www.googleapis.com/auth/cloud-platform.read-only"))), 400,
      "invalid_scope", desc);
  // One of a space-separated list.
  EXPECT_EQ(exchange(jwt(header(), claims(now, now + 60,
                                          "openid https://www.googleapis.com/auth/cloud-platform "
                                          "https://www.googleapis.com/auth/drive")))
                .status,
            200);
  EXPECT_EQ(up().google_tokens_issued(), 1u);
}

TEST_F(UpstreamGoogleToken, AssertionTimes) {
  int64_t now = unix_now();
  expect_oauth_error(exchange(jwt(header(), claims(now - 7200, now - 3600))), 400, "invalid_grant",
                     kBadTime);  // expired
  expect_oauth_error(exchange(jwt(header(), claims(now - 3700, now - 100))), 400, "invalid_grant", kBadTime);
  expect_oauth_error(exchange(jwt(header(), claims(now, now + 3601))), 400, "invalid_grant", kBadTime);  // too long
  expect_oauth_error(exchange(jwt(header(), claims(now + 600, now + 1200))), 400, "invalid_grant", kBadTime);  // future
  expect_oauth_error(exchange(jwt(header(), claims(now, now))), 400, "invalid_grant", kBadTime);  // exp == iat
  expect_oauth_error(exchange(jwt(header(), claims(now + 10, now))), 400, "invalid_grant", kBadTime);
  // Not integers, or absent.
  auto custom = [&](const std::string& times) {
    return jwt(header(), R"({"iss":")" + std::string(kEmail) +
                             R"(","scope":"https://www.googleapis.com/auth/cloud-platform","aud":")" + token_uri() +
                             "\"," + times + "}");
  };
  expect_oauth_error(exchange(custom(R"("iat":")" + std::to_string(now) + R"(","exp":)" + std::to_string(now + 60))),
                     400, "invalid_grant", kBadTime);
  expect_oauth_error(exchange(custom(R"("iat":)" + std::to_string(now) + ".5,\"exp\":" + std::to_string(now + 60))),
                     400, "invalid_grant", kBadTime);
  expect_oauth_error(exchange(custom(R"("exp":)" + std::to_string(now + 60))), 400, "invalid_grant", kBadTime);
  EXPECT_EQ(up().google_tokens_issued(), 0u);
  // The edges that pass: exactly an hour, iat a little ahead (clock skew), a minute left.
  EXPECT_EQ(exchange(jwt(header(), claims(now, now + 3600))).status, 200);
  EXPECT_EQ(exchange(jwt(header(), claims(now + 20, now + 600))).status, 200);
  EXPECT_EQ(exchange(jwt(header(), claims(now - 3540, now + 60))).status, 200);
  EXPECT_EQ(up().google_tokens_issued(), 3u);
}

// ---- the request -------------------------------------------------------------------------------

TEST_F(UpstreamGoogleToken, GrantType) {
  std::string jwt_text = assertion();
  const std::string form = "application/x-www-form-urlencoded";
  expect_oauth_error(send(up(), "/token", "grant_type=client_credentials&assertion=" + jwt_text, form), 400,
                     "unsupported_grant_type", "Invalid grant_type: client_credentials");
  expect_oauth_error(send(up(), "/token", "assertion=" + jwt_text, form), 400, "unsupported_grant_type",
                     "Invalid grant_type: ");
  // '+' is a space in a form.
  expect_oauth_error(
      send(up(), "/token", "grant_type=urn:ietf:params:oauth:grant-type:jwt+bearer&assertion=" + jwt_text, form), 400,
      "unsupported_grant_type", "Invalid grant_type: urn:ietf:params:oauth:grant-type:jwt bearer");
  expect_oauth_error(send(up(), "/token", std::string("grant_type=") + kJwtBearer, form), 400, "invalid_request",
                     "Missing required parameter: assertion");
  EXPECT_EQ(up().google_tokens_issued(), 0u);
  // Percent-decoding (lower-case hex too, or none), parameters in any order, a charset parameter.
  EXPECT_EQ(send(up(), "/token",
                 "assertion=" + jwt_text + "&grant_type=urn%3aietf%3aparams%3aoauth%3agrant-type%3ajwt-bearer", form)
                .status,
            200);
  EXPECT_EQ(send(up(), "/token", "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=" + jwt_text,
                 "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
                .status,
            200);
  EXPECT_EQ(up().google_tokens_issued(), 2u);
}

TEST_F(UpstreamGoogleToken, ContentType) {
  std::string body = auth::token_request_body(assertion());
  // A form sent as JSON: Google's JSON parser answers.
  Answer j = send(up(), "/token", body, "application/json");
  EXPECT_EQ(j.status, 400) << j.body;
  auto d = parse(j.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error") && d["error"].IsObject()) << j.body;
  EXPECT_EQ(str(d["error"]["status"]), "INVALID_ARGUMENT");
  EXPECT_EQ(str(d["error"]["message"]).rfind("Invalid JSON payload received.", 0), 0u) << j.body;
  // Another type, or none: no parameters are read.
  expect_oauth_error(send(up(), "/token", body, "text/plain"), 400, "unsupported_grant_type", "Invalid grant_type: ");
  expect_oauth_error(send(up(), "/token", body, ""), 400, "unsupported_grant_type", "Invalid grant_type: ");
  EXPECT_EQ(up().google_tokens_issued(), 0u);
  // JSON parameters, which Google's endpoint takes too.
  EXPECT_EQ(send(up(), "/token",
                 R"({"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":")" + assertion() + "\"}",
                 "application/json")
                .status,
            200);
  // Only POST.
  Answer g = send(up(), "/token", "", "", "GET");
  EXPECT_EQ(g.status, 405) << g.body;
  EXPECT_EQ(g.header("allow"), "POST");
  EXPECT_EQ(up().google_tokens_issued(), 1u);
}

TEST_F(UpstreamGoogleToken, FaultHeadersApply) {
  std::string body = auth::token_request_body(assertion());
  Answer a = upstream_client::request(up(), "/token", body,
                                      {"Content-Type: application/x-www-form-urlencoded", "x-upstream-status: 503"});
  EXPECT_EQ(a.status, 503) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(str(d["error"]), "internal_failure");
  EXPECT_TRUE(d["error_description"].IsString());
  EXPECT_EQ(up().google_tokens_issued(), 0u);
}

// ---- tokens ------------------------------------------------------------------------------------

TEST_F(UpstreamGoogleToken, RevokeEveryToken) {
  std::string a = token(), b = token();
  EXPECT_EQ(gemini(a).status, 200);
  up().revoke_google_tokens();
  expect_unauthenticated(gemini(a), "Request had invalid authentication credentials");
  expect_unauthenticated(anthropic(b), "Request had invalid authentication credentials");
  // Tokens issued afterwards are good.
  std::string c = token();
  EXPECT_EQ(gemini(c).status, 200);
  EXPECT_EQ(anthropic(c).status, 200);
  EXPECT_EQ(up().google_tokens_issued(), 3u);  // revoking does not uncount
}

TEST_F(UpstreamGoogleToken, RevokeTokenHeader) {
  std::string a = token(), b = token();
  // The header revokes the token it comes with, then the request is refused with it.
  expect_unauthenticated(gemini(a, {"x-upstream-revoke-token: 1"}), "Request had invalid authentication credentials");
  expect_unauthenticated(gemini(a), "Request had invalid authentication credentials");
  expect_unauthenticated(anthropic(a), "Request had invalid authentication credentials");
  EXPECT_EQ(gemini(b).status, 200);  // the other token is untouched
  // Every request carrying it is refused: a refreshed token too.
  std::string c = token();
  expect_unauthenticated(anthropic(c, {"x-upstream-revoke-token: 1"}),
                         "Request had invalid authentication credentials");
  std::string d = token();
  expect_unauthenticated(anthropic(d, {"x-upstream-revoke-token: 1"}),
                         "Request had invalid authentication credentials");
  EXPECT_EQ(gemini(b).status, 200);
  EXPECT_EQ(gemini(a, {"x-upstream-revoke-token: 0"}).status, 401);
  EXPECT_EQ(gemini(b, {"x-upstream-revoke-token: 0"}).status, 200);
}

TEST_F(UpstreamGoogleToken, TokenExpiresAfterItsLifetime) {
  opts.google_token_lifetime_secs = 1;
  Answer a = exchange(assertion());
  ASSERT_EQ(a.status, 200) << a.body;
  auth::AccessToken t = auth::parse_token_response(a.body, 200);
  EXPECT_EQ(t.expires_in, 1);
  EXPECT_EQ(gemini(t.access_token).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  expect_unauthenticated(gemini(t.access_token), "Request had invalid authentication credentials");
  expect_unauthenticated(anthropic(t.access_token), "Request had invalid authentication credentials");
  EXPECT_EQ(gemini(token()).status, 200);  // a new one is good again
}

TEST_F(UpstreamGoogleToken, IssuedCountsSuccessfulExchangesOnly) {
  EXPECT_EQ(up().google_tokens_issued(), 0u);
  token();
  int64_t now = unix_now();
  exchange(jwt(header("2"), claims(now, now + 60)));
  exchange(jwt(header(), claims(now, now + 7200)));
  send(up(), "/token", "grant_type=x", "application/x-www-form-urlencoded");
  EXPECT_EQ(up().google_tokens_issued(), 1u);
  token();
  token();
  EXPECT_EQ(up().google_tokens_issued(), 3u);
}

TEST_F(UpstreamGoogleToken, DelayHoldsTheAnswerNotTheServer) {
  opts.google_token_delay_ms = 400;
  std::string jwt_text = assertion();
  std::atomic<long> status{0};
  std::atomic<long> token_ms{0};
  std::thread slow([&] {
    auto t0 = std::chrono::steady_clock::now();
    status = exchange(jwt_text).status;
    token_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Meanwhile the server answers others at once.
  auto t0 = std::chrono::steady_clock::now();
  Answer m = upstream_client::request(up(), "/v1/models", "", {}, "GET");
  auto other_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  slow.join();
  EXPECT_EQ(m.status, 200);
  EXPECT_LT(other_ms, 300);
  EXPECT_EQ(status.load(), 200);
  EXPECT_GE(token_ms.load(), 400);
  EXPECT_EQ(up().google_tokens_issued(), 1u);
}

TEST_F(UpstreamGoogleToken, NoDelayByDefault) {
  std::string jwt_text = assertion();
  exchange(jwt_text);  // warm up
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(exchange(jwt_text).status, 200);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count(), 300);
}

// ---- configuration -----------------------------------------------------------------------------

TEST_F(UpstreamGoogleToken, FixedAccessTokenFromConfigStillWorks) {
  opts.require_api_key = "fixed-access-token";
  EXPECT_EQ(gemini("fixed-access-token").status, 200);
  EXPECT_EQ(anthropic("fixed-access-token").status, 200);
  // The token endpoint wants no key; its tokens pass too.
  std::string t = token();
  EXPECT_EQ(gemini(t).status, 200);
  expect_unauthenticated(gemini("wrong"), "Request had invalid authentication credentials");
  // Other routes still want the key.
  EXPECT_EQ(upstream_client::request(up(), "/v1/chat/completions",
                                     R"({"model":"m","messages":[{"role":"user","content":"hi"}]})",
                                     {"Authorization: Bearer " + t})
                .status,
            401);
}

TEST_F(UpstreamGoogleToken, PublicKeyPem) {
  // The account's key as "BEGIN PUBLIC KEY" instead of a certificate.
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  ASSERT_EQ(mbedtls_pk_parse_key(&pk, reinterpret_cast<const unsigned char*>(account_.private_key.c_str()),
                                 account_.private_key.size() + 1, nullptr, 0),
            0);
  unsigned char buf[4096];
  ASSERT_EQ(mbedtls_pk_write_pubkey_pem(&pk, buf, sizeof buf), 0);
  mbedtls_pk_free(&pk);
  std::string pem(reinterpret_cast<const char*>(buf));
  ASSERT_NE(pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  opts.google_accounts = {{"other@example.com", cert_, ""}, {kEmail, pem, "1"}};
  EXPECT_EQ(exchange(assertion()).status, 200);
  // The other account's certificate is the same key, but the iss decides whose key is used.
  int64_t now = unix_now();
  EXPECT_EQ(
      exchange(jwt(header(), claims(now, now + 60, std::string(auth::kCloudPlatformScope), {}, "other@example.com")))
          .status,
      200);
}

TEST_F(UpstreamGoogleToken, BadPemIsRefusedAtConstruction) {
  UpstreamOptions o;
  o.google_accounts = {{kEmail, "not a pem", ""}};
  EXPECT_THROW(Upstream{o}, std::invalid_argument);
  o.google_accounts = {{kEmail, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", ""}};
  EXPECT_THROW(Upstream{o}, std::invalid_argument);
}

TEST(UpstreamGoogleTokenOff, WithoutAccountsVertexIsUnchanged) {
  UpstreamOptions o;
  o.require_api_key = "k";
  Upstream up(o);
  up.start();
  EXPECT_EQ(upstream_client::request(up, kGeminiVertex, kGeminiBody, {"Authorization: Bearer k"}).status, 200);
  EXPECT_EQ(upstream_client::request(up, kGeminiVertex, kGeminiBody, {"Authorization: Bearer ya29.x"}).status, 401);
  // Anthropic on Vertex keeps taking the key in x-api-key too, as before.
  EXPECT_EQ(upstream_client::request(up, kAnthropicVertex, kAnthropicBody, {"x-api-key: k"}).status, 200);
  // The token endpoint answers (no account is known), needing no key.
  Answer a = send(up, "/token", "grant_type=" + std::string(kJwtBearer) + "&assertion=e30.e30.AAAA",
                  "application/x-www-form-urlencoded");
  expect_oauth_error(a, 400, "invalid_grant", kBadSignature);
  EXPECT_EQ(up.google_tokens_issued(), 0u);
  up.revoke_google_tokens();  // harmless
  Upstream open_up;
  open_up.start();
  EXPECT_EQ(upstream_client::request(open_up, kGeminiVertex, kGeminiBody, {}).status, 200);
  EXPECT_EQ(upstream_client::request(open_up, kAnthropicVertex, kAnthropicBody, {}).status, 200);
}

}  // namespace
