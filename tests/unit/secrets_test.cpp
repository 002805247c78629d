// Secrets (src/core/secrets.hpp) and the header rules (src/http/headers.hpp):
// which values are secrets, and their removal from text in every form an
// echoing server may give them: raw, JSON-escaped, percent-encoded, mixed.
#include "core/secrets.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/headers.hpp"
#include "http/url.hpp"

namespace literllm {
namespace {

const std::string kKey = "sk-proj-SECRET/abc+def=0123";

TEST(Secrets, RawJsonEscapedAndPercentEncodedFormsAreRedacted) {
  Secrets s = Secrets::of(kKey);
  EXPECT_EQ(s.redact("key " + kKey + " end"), "key [REDACTED] end");
  // JSON: \u escapes in either case, PHP's and Java's \/, and a mix.
  EXPECT_EQ(s.redact(R"({"k":"sk\u002dproj\u002dSECRET\/abc+def=0123"})"), R"({"k":"[REDACTED]"})");
  EXPECT_EQ(s.redact(R"(sk\u002Dproj-SECRET\/abc\u002bdef\u003d0123)"), "[REDACTED]");
  EXPECT_EQ(s.redact(R"(\u0073\u006b-proj-SECRET/abc+def=0123)"), "[REDACTED]");
  // Percent-encoded, upper or lower hex, partly or wholly.
  EXPECT_EQ(s.redact("key=sk-proj-SECRET%2Fabc%2Bdef%3D0123&x=1"), "key=[REDACTED]&x=1");
  EXPECT_EQ(s.redact("key=sk%2dproj%2dSECRET%2fabc%2bdef%3d0123"), "key=[REDACTED]");
  // Twice, adjacent, and nothing else touched.
  EXPECT_EQ(s.redact(kKey + kKey + " " + kKey), "[REDACTED][REDACTED] [REDACTED]");
  EXPECT_EQ(s.redact("sk-proj-SECRET/abc+def=012"), "sk-proj-SECRET/abc+def=012") << "a prefix is not the key";
  EXPECT_EQ(s.redact(""), "");
  EXPECT_EQ(s.redact("plain text"), "plain text");
}

TEST(Secrets, SpacesMayComeAsPlusOrEscapes) {
  Secrets s;
  s.add_header("Authorization", "Bearer tok-12345678");
  EXPECT_EQ(s.redact("Bearer+tok-12345678"), "[REDACTED]");
  EXPECT_EQ(s.redact(R"(Bearer\u0020tok\u002d12345678)"), "[REDACTED]");
  EXPECT_EQ(s.redact("Bearer%20tok-12345678"), "[REDACTED]");
  EXPECT_EQ(s.redact("token tok-12345678 seen"), "token [REDACTED] seen") << "the token alone is a secret too";
}

TEST(Secrets, LongerSecretsGoFirst) {
  Secrets s;
  s.add("abcd");
  s.add("abcdefgh");
  EXPECT_EQ(s.redact("abcdefgh abcd"), "[REDACTED] [REDACTED]");
  ASSERT_EQ(s.values().size(), 2u);
  EXPECT_EQ(s.values()[0], "abcdefgh");
  s.add("abcd");
  EXPECT_EQ(s.values().size(), 2u) << "kept once";
}

TEST(Secrets, ShortValuesAreNotSecrets) {
  Secrets s;
  s.add("abc");
  s.add("");
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.redact("abc abc"), "abc abc");
  EXPECT_EQ(redact("key abcd", "abcd"), "key [REDACTED]");
  EXPECT_EQ(redact("key abc", "abc"), "key abc");
}

TEST(Secrets, CredentialHeaders) {
  for (const char* name : {"Authorization", "proxy-authorization", "Cookie", "api-key", "X-Api-Key", "x-goog-api-key",
                           "X-Custom-Token", "X-My-Secret", "X-Auth-Thing", "X-Amz-Security-Token", "Idempotency-Key"})
    EXPECT_TRUE(http::is_credential(name)) << name;
  for (const char* name : {"Content-Type", "Accept", "X-Request-Id", "OpenAI-Organization", "anthropic-version"})
    EXPECT_FALSE(http::is_credential(name)) << name;

  Secrets s;
  s.add_header("X-Request-Id", "req-0123456789");  // not a credential: not a secret
  s.add_header("Cookie", "session=sess-0123456789; theme=dark-mode");
  s.add_header("x-api-key", "  xk-0123456789  ");
  EXPECT_EQ(s.redact("req-0123456789"), "req-0123456789");
  EXPECT_EQ(s.redact("sess-0123456789 / dark-mode / xk-0123456789"), "[REDACTED] / [REDACTED] / [REDACTED]");
}

TEST(Secrets, UrlCredentials) {
  Secrets s;
  s.add_url("https://user:p%40ss-word@host.test/v1?key=AIzaSECRET123&api-version=2024-02-01&sig=sig%2Bvalue99");
  EXPECT_EQ(s.redact("user:p%40ss-word"), "[REDACTED]");
  EXPECT_EQ(s.redact("p@ss-word"), "[REDACTED]") << "decoded";
  EXPECT_EQ(s.redact("AIzaSECRET123"), "[REDACTED]");
  EXPECT_EQ(s.redact("sig+value99"), "[REDACTED]");
  EXPECT_EQ(s.redact("2024-02-01"), "2024-02-01") << "not a credential";

  EXPECT_EQ(redact_url("https://user:pw@host.test:8443/v1?key=AIza123&api-version=1&access_token=t#frag"),
            "https://[REDACTED]@host.test:8443/v1?key=[REDACTED]&api-version=1&access_token=[REDACTED]#frag");
  EXPECT_EQ(redact_url("http://127.0.0.1:9/v1"), "http://127.0.0.1:9/v1");
  EXPECT_EQ(redact_url("https://h.test/a@b?x=1"), "https://h.test/a@b?x=1") << "an @ in the path is not userinfo";
}

TEST(Headers, WhatCannotBeSent) {
  for (const char* name : {"Content-Length", "transfer-encoding", "Host", "CONNECTION", "Keep-Alive", "TE", "Trailer",
                           "Upgrade", "Expect", "Accept-Encoding", "Proxy-Connection", ":path", ":authority"}) {
    EXPECT_TRUE(http::is_reserved(name)) << name;
    EXPECT_NE(http::header_problem(name, "x"), "") << name;
  }
  EXPECT_EQ(http::header_problem("X-Ok", "a value\twith tab"), "");
  EXPECT_EQ(http::header_problem("Authorization", "Bearer x"), "");
  EXPECT_NE(http::header_problem("X Bad", "v").find("not a valid header name"), std::string::npos);
  EXPECT_NE(http::header_problem("", "v").find("empty"), std::string::npos);
  EXPECT_NE(http::header_problem("X-V", "a\r\nb").find("control character"), std::string::npos);
  EXPECT_NE(http::header_problem("X-V", std::string("a\0b", 3)).find("control character"), std::string::npos);
  EXPECT_EQ(http::header_problem("X-V", "a\r\nInjected").find("Injected"), std::string::npos);
  EXPECT_EQ(http::printable("X\r\n"), "X\\x0d\\x0a");
}

TEST(Urls, BaseUrlRules) {
  EXPECT_EQ(http::url_problem("https://api.test/v1"), "");
  EXPECT_EQ(http::url_problem("HTTP://127.0.0.1:8080"), "");
  EXPECT_EQ(http::url_problem("https://u:p@h.test/v1?key=1"), "");
  EXPECT_EQ(http::url_problem("https://api.cloudflare.com/accounts/{ACCOUNT}/ai/v1"), "") << "placeholders wait";
  EXPECT_NE(http::url_problem("ftp://h.test"), "");
  EXPECT_NE(http::url_problem("http://"), "");
  EXPECT_NE(http::url_problem("https://:80/v1"), "");
  EXPECT_NE(http::url_problem("https://u@/v1"), "");
  EXPECT_NE(http::url_problem("https://h.test/a b"), "");
  EXPECT_NE(http::url_problem(std::string("https://h.test\0.evil", 20)), "");
  EXPECT_NE(http::url_problem("https://h.test/\r\nX: y"), "");
  EXPECT_NE(http::url_problem("https://[::1/v1"), "");
}

TEST(Urls, JoinPathGoesBeforeTheQuery) {
  EXPECT_EQ(http::join_path("https://h.test/v1", "/chat/completions"), "https://h.test/v1/chat/completions");
  EXPECT_EQ(http::join_path("https://h.test/v1/?key=k&a=b", "/chat/completions"),
            "https://h.test/v1/chat/completions?key=k&a=b");
  EXPECT_EQ(http::join_path("https://h.test#f", "/x"), "https://h.test/x#f");
  EXPECT_EQ(http::join_path("http://h.test:8/", "/x"), "http://h.test:8/x");
}

}  // namespace
}  // namespace literllm
