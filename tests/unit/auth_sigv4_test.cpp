// AWS SigV4 (src/auth/sigv4) and the hashes under it (src/auth/crypto), against
// the botocore suite, the aws-c-auth v4 suite and the openai-python Bedrock
// fixture in the shared fixtures folder: every case each folder holds.
#include <gtest/gtest.h>
#include <mbedtls/md.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "auth/crypto.hpp"
#include "auth/sigv4.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace fs = std::filesystem;
using namespace literllm;
using namespace literllm::auth;
using std::chrono::system_clock;

namespace {

using fixtures::slurp;

fs::path sigv4_dir() { return fs::path(LITERLLM_FIXTURES_DIR) / "aws-sigv4"; }

std::string rtrim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string trim(std::string_view v) {
  size_t b = 0, e = v.size();
  while (b < e && (v[b] == ' ' || v[b] == '\t')) ++b;
  while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) --e;
  return std::string(v.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A raw HTTP/1.1 request as the suites write it: request line (the target may
// hold spaces: "GET /example space/ HTTP/1.1"), header lines ("Name:value", a
// line starting with white space continues the previous value, a name may
// repeat), an empty line, the body (the rest, byte for byte).
struct RawRequest {
  std::string method, target, version;
  http::Headers headers;
  std::string body;
};

RawRequest parse_raw(const std::string& text) {
  RawRequest r;
  size_t pos = 0;
  auto next_line = [&](std::string& line) {
    if (pos >= text.size()) return false;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = nl + 1;
    return true;
  };
  std::string line;
  if (!next_line(line)) throw std::runtime_error("empty request");
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) throw std::runtime_error("bad request line: " + line);
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  r.version = line.substr(sp2 + 1);
  while (next_line(line)) {
    if (line.empty()) {
      r.body = pos < text.size() ? text.substr(pos) : std::string();
      return r;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {  // obs-fold
      r.headers.back().second += " " + trim(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) throw std::runtime_error("bad header line: " + line);
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

// Headers compared as HTTP sees them: names without case, values trimmed, the
// order of different names free, the order of a repeated name kept.
std::vector<std::pair<std::string, std::string>> normalized(const http::Headers& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : h) out.emplace_back(lower(k), trim(v));
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string show(const std::vector<std::pair<std::string, std::string>>& h) {
  std::string s;
  for (const auto& [k, v] : h) s += "  " + k + ": " + v + "\n";
  return s;
}

// "2015-08-30T12:36:00Z" or "2025-01-02T03:04:05.000Z".
system_clock::time_point parse_iso(const std::string& s) {
  int y, mo, d, h, mi, se;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6)
    throw std::runtime_error("bad time " + s);
  using namespace std::chrono;
  sys_days day = year{y} / month{static_cast<unsigned>(mo)} / ::std::chrono::day{static_cast<unsigned>(d)};
  return system_clock::time_point(day) + hours{h} + minutes{mi} + seconds{se};
}

const system_clock::time_point kSuiteTime = parse_iso("2015-08-30T12:36:00Z");
constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string header_value(const http::Headers& h, std::string_view name) {
  const std::string* v = http::find_header(h, name);
  return v ? trim(*v) : std::string();
}

// "x-amz-security-token:<v>" in a canonical request, or "".
std::string creq_token(const std::string& creq) {
  std::istringstream in(creq);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("x-amz-security-token:", 0) == 0) return line.substr(21);
  return {};
}

}  // namespace

// ---------------------------------------------------------------- crypto

TEST(AuthCrypto, Sha256KnownAnswers) {
  EXPECT_EQ(hex_lower(sha256("")), std::string(kEmptyPayloadHash));
  EXPECT_EQ(hex_lower(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_lower(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(AuthCrypto, Sha256IncrementalMatchesOneShot) {
  std::mt19937 rng(7);
  std::string data(5000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const Sha256Digest want = sha256(data);
  Sha256 h;
  for (int round = 0; round < 20; ++round) {
    size_t pos = 0;
    while (pos < data.size()) {
      size_t n = std::min<size_t>(rng() % 200, data.size() - pos);
      h.update(std::string_view(data).substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(h.finish(), want);  // finish() resets: the next round starts afresh
  }
}

TEST(AuthCrypto, HmacRfc4231) {
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex_lower(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(AuthCrypto, HmacMatchesMbedtlsMd) {
  std::mt19937 rng(11);
  const mbedtls_md_info_t* md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  for (size_t klen : {0, 1, 32, 63, 64, 65, 200}) {
    for (size_t dlen : {0, 1, 55, 56, 64, 1000}) {
      std::string k(klen, '\0'), d(dlen, '\0');
      for (char& c : k) c = static_cast<char>(rng());
      for (char& c : d) c = static_cast<char>(rng());
      Sha256Digest want;
      ASSERT_EQ(0, mbedtls_md_hmac(md, reinterpret_cast<const unsigned char*>(k.data()), k.size(),
                                   reinterpret_cast<const unsigned char*>(d.data()), d.size(), want.data()));
      EXPECT_EQ(hmac_sha256(k, d), want) << "key " << klen << " data " << dlen;
    }
  }
}

TEST(AuthCrypto, Base64Rfc4648) {
  const std::pair<const char*, const char*> v[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    EXPECT_EQ(base64_encode(plain), enc);
    EXPECT_EQ(base64_decode(enc), plain);
    std::string url = enc;
    while (!url.empty() && url.back() == '=') url.pop_back();
    EXPECT_EQ(base64url_encode(plain), url);
    EXPECT_EQ(base64url_decode(url), plain);
  }
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64url_decode("-_8="), "\xfb\xff");
  EXPECT_EQ(hex_lower(std::string_view("\x00\x7f\x80\xff", 4)), "007f80ff");
}

TEST(AuthCrypto, Base64RejectsGarbageWithoutQuotingIt) {
  for (const char* bad : {"Zg=", "Z", "Zm9v YmFy", "Zm9v\nYmFy", "Zm$v", "=Zm9"}) {
    try {
      base64_decode(bad, "the field");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find("the field"), std::string::npos);
      EXPECT_EQ(std::string(e.what()).find(bad), std::string::npos);
    }
  }
  EXPECT_THROW(base64url_decode("a+b"), Error);
  EXPECT_THROW(base64url_decode("abcde"), Error);  // 5 mod 4 == 1: no such length
}

// ---------------------------------------------------------------- SigV4 pieces

TEST(SigV4, DerivedKeyAwsDocumentationExample) {
  // The signing-key example of the AWS General Reference (IAM, 2012-02-15).
  EXPECT_EQ(hex_lower(derive_signing_key(kSecret, "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, SigningKeyIsCachedPerDate) {
  SigV4Signer s({kAkid, kSecret, ""}, "us-east-1", "service");
  EXPECT_EQ(s.signing_key("20150830"), derive_signing_key(kSecret, "20150830", "us-east-1", "service"));
  EXPECT_EQ(s.signing_key("20150830"), derive_signing_key(kSecret, "20150830", "us-east-1", "service"));
  EXPECT_EQ(s.signing_key("20150831"), derive_signing_key(kSecret, "20150831", "us-east-1", "service"));
}

TEST(SigV4, AmzDate) {
  EXPECT_EQ(amz_date(kSuiteTime), "20150830T123600Z");
  EXPECT_EQ(amz_date(system_clock::time_point{}), "19700101T000000Z");
  EXPECT_EQ(amz_date(parse_iso("2024-02-29T23:59:59Z") + std::chrono::milliseconds(999)), "20240229T235959Z");
}

TEST(SigV4, CanonicalPathAndQuery) {
  using namespace sigv4_detail;
  EXPECT_EQ(canonical_path("", true, true), "/");
  EXPECT_EQ(canonical_path("/a/b/../c/./d//", true, true), "/a/c/d/");
  EXPECT_EQ(canonical_path("/model/anthropic.claude-v2%3A1/invoke", true, true),
            "/model/anthropic.claude-v2%253A1/invoke");  // Bedrock: the URL's %3A signed as %253A
  EXPECT_EQ(canonical_path("/my-object//example//photo.user", false, false), "/my-object//example//photo.user");
  EXPECT_EQ(canonical_path("/a b/\xe1\x88\xb4", false, true), "/a%20b/%E1%88%B4");
  EXPECT_EQ(canonical_query("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(canonical_query("k=a%20b&k2=a+b&%7e=~"), "k=a%20b&k2=a%2Bb&~=~");
  EXPECT_EQ(canonical_query("x=%zz&&y=%E1%88%B4"), "x=%25zz&y=%E1%88%B4");
}

TEST(SigV4, BadInputsAreTypedAndQuoteNoSecret) {
  auto status_of = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos);
      return e.status();
    }
    return LLM_OK;
  };
  EXPECT_EQ(status_of([] { SigV4Signer({"", kSecret, ""}, "us-east-1", "s"); }), LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(status_of([] { SigV4Signer({kAkid, "", ""}, "us-east-1", "s"); }), LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(status_of([] { SigV4Signer({kAkid, kSecret, ""}, "", "s"); }), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([] { SigV4Signer({kAkid, kSecret, ""}, "us-east-1", "a/b"); }), LLM_ERR_INVALID_ARGUMENT);
  SigV4Signer s({kAkid, kSecret, ""}, "us-east-1", "s");
  EXPECT_EQ(status_of([&] { s.sign("GET", "/relative", {}, "", kSuiteTime); }), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { s.sign("GET", "https:///x", {}, "", kSuiteTime); }), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { s.sign_payload_hash("GET", "https://h/", {}, "a\nb", kSuiteTime); }),
            LLM_ERR_INVALID_ARGUMENT);
}

TEST(SigV4, HostFromUrlDropsDefaultPortOnly) {
  SigV4Signer s({kAkid, kSecret, ""}, "us-east-1", "service");
  auto host_line = [&](const char* url) {
    std::string c = s.sign("GET", url, {}, "", kSuiteTime).canonical_request;
    size_t a = c.find("host:");
    return c.substr(a, c.find('\n', a) - a);
  };
  EXPECT_EQ(host_line("https://example.amazonaws.com/"), "host:example.amazonaws.com");
  EXPECT_EQ(host_line("https://example.amazonaws.com:443/"), "host:example.amazonaws.com");
  EXPECT_EQ(host_line("http://example.amazonaws.com:80"), "host:example.amazonaws.com");
  EXPECT_EQ(host_line("https://example.amazonaws.com:8443/x?y"), "host:example.amazonaws.com:8443");
  EXPECT_EQ(host_line("http://[::1]:8080/"), "host:[::1]:8080");
  EXPECT_EQ(host_line("http://[::1]/"), "host:[::1]");
}

TEST(SigV4, SignRequestSetsHeadersAndMarksSecrets) {
  SigV4Signer s({kAkid, kSecret, "tok"}, "us-east-1", "bedrock");
  http::Request req;
  req.url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m%3A0/converse";
  req.headers = {{"Content-Type", "application/json"}, {"Authorization", "stale"}, {"User-Agent", "x"}};
  req.body = "{}";
  s.sign_request(req, kSuiteTime);
  ASSERT_NE(http::find_header(req.headers, "authorization"), nullptr);
  EXPECT_EQ(http::find_header(req.headers, "authorization")->rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
  EXPECT_EQ(*http::find_header(req.headers, "x-amz-security-token"), "tok");
  EXPECT_EQ(*http::find_header(req.headers, "x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(std::count_if(req.headers.begin(), req.headers.end(),
                          [](auto& h) { return http::iequals(h.first, "authorization"); }),
            1);
  EXPECT_NE(std::find(req.secret_headers.begin(), req.secret_headers.end(), "Authorization"), req.secret_headers.end());
  // Signing is deterministic, and User-Agent is not signed.
  SigV4Result a = s.sign("POST", req.url, {{"Content-Type", "application/json"}}, "{}", kSuiteTime);
  SigV4Result b =
      s.sign("POST", req.url, {{"Content-Type", "application/json"}, {"user-agent", "other"}}, "{}", kSuiteTime);
  EXPECT_EQ(a.signature, b.signature);
  EXPECT_EQ(a.signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
  EXPECT_NE(a.canonical_request.find("\n/model/m%253A0/converse\n"), std::string::npos);
}

TEST(SigV4, AsACredential) {
  auto signer = std::make_shared<const SigV4Signer>(AwsCredentials{kAkid, kSecret, ""}, "us-east-1", "service");
  std::shared_ptr<const Credential> cred = sigv4_credential(signer);
  EXPECT_TRUE(cred->per_attempt());
  http::Request req;
  req.method = "GET";
  req.url = "https://example.amazonaws.com/";
  req.body = "";
  cred->apply(req, kSuiteTime);
  // get-vanilla of the AWS suite.
  EXPECT_EQ(header_value(req.headers, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_THROW(sigv4_credential(nullptr), Error);
}

TEST(SigV4, PresignKeepsTheUrlAndBoundsExpiry) {
  SigV4Signer s({kAkid, kSecret, ""}, "us-east-1", "service");
  const auto url_of = [&](const char* u) {
    return s.presign("GET", u, {}, "", std::chrono::seconds(60), kSuiteTime).presigned_url;
  };
  const std::string tail = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2F"
                           "service%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=60"
                           "&X-Amz-Signature=";
  EXPECT_EQ(url_of("https://h/p").rfind("https://h/p?" + tail, 0), 0u);
  EXPECT_EQ(url_of("https://h/p?").rfind("https://h/p?" + tail, 0), 0u);
  EXPECT_EQ(url_of("https://h/p?a=1").rfind("https://h/p?a=1&" + tail, 0), 0u);
  const std::string f = url_of("https://h/p?a=1#frag");
  EXPECT_EQ(f.rfind("https://h/p?a=1&" + tail, 0), 0u);
  EXPECT_EQ(f.substr(f.size() - 5), "#frag");
  EXPECT_THROW(s.presign("GET", "https://h/", {}, "", std::chrono::seconds(0), kSuiteTime), Error);
  EXPECT_THROW(s.presign("GET", "https://h/", {}, "", std::chrono::seconds(604801), kSuiteTime), Error);
}

// ---------------------------------------------------------------- botocore suite

// Every <case>/<case>.req under aws-sigv4/botocore (recursively): the canonical
// request, string to sign and Authorization must match byte for byte, and the
// signed request (.sreq) header for header. Conventions of the suite (botocore
// tests/unit/auth/test_sigv4.py): AKIDEXAMPLE, the example secret, region
// us-east-1, service "service", 2015-08-30T12:36:00Z; the session token is the
// x-amz-security-token the .creq signs, or, when the .sreq carries one the
// .creq does not sign (post-sts-header-after), that token added unsigned.
TEST(SigV4, BotocoreSuite) {
  const fs::path dir = sigv4_dir() / "botocore";
  REQUIRE_FIXTURE(dir);
  // A .sreq whose Authorization disagrees with the case's own .authz: a known
  // error of the suite (its .sreq was copied from get-vanilla: same signature
  // 5fa00fa3..., while .authz/.sts/.creq agree with each other and with us). The
  // rest of that .sreq is still compared. The list must stay exact.
  const std::set<std::string> kSreqAuthorizationWrong = {"get-vanilla-with-session-token"};
  std::set<std::string> sreq_wrong_seen;
  int cases = 0;
  std::vector<fs::path> reqs;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".req") reqs.push_back(e.path());
  std::sort(reqs.begin(), reqs.end());
  for (const fs::path& req_path : reqs) {
    const std::string name = req_path.stem().string();
    SCOPED_TRACE(req_path.string());
    auto sibling = [&](const char* ext) { return fs::path(req_path).replace_extension(ext); };
    bool complete = true;
    for (const char* ext : {".creq", ".sts", ".authz", ".sreq"})
      if (!fs::exists(sibling(ext))) {
        ADD_FAILURE() << "case " << name << " lacks " << ext;
        complete = false;
      }
    if (!complete) continue;
    const RawRequest req = parse_raw(slurp(req_path));
    const std::string creq = slurp(sibling(".creq"));
    const std::string sts = slurp(sibling(".sts"));
    const std::string authz = rtrim(slurp(sibling(".authz")));
    const RawRequest sreq = parse_raw(slurp(sibling(".sreq")));

    AwsCredentials creds{kAkid, kSecret, creq_token(creq)};
    SigV4Options opt;
    if (creds.session_token.empty() && !http::find_header(req.headers, "x-amz-security-token")) {
      if (const std::string* t = http::find_header(sreq.headers, "x-amz-security-token")) {
        creds.session_token = trim(*t);
        opt.sign_session_token = false;
      }
    }
    SigV4Signer signer(creds, "us-east-1", "service", opt);
    const std::string url = "https://" + header_value(req.headers, "host") + req.target;
    const SigV4Result r = signer.sign(req.method, url, req.headers, req.body, kSuiteTime);
    EXPECT_EQ(r.canonical_request, creq) << name;
    EXPECT_EQ(r.string_to_sign, sts) << name;
    EXPECT_EQ(r.authorization(), authz) << name;

    // Host from the URL instead of a Host header: the same signature.
    http::Headers no_host = req.headers;
    std::erase_if(no_host, [](auto& h) { return http::iequals(h.first, "host"); });
    EXPECT_EQ(signer.sign(req.method, url, no_host, req.body, kSuiteTime).authorization(), authz) << name;

    // The signed request.
    http::Headers ours = req.headers;
    r.apply(ours);
    http::Headers theirs = sreq.headers;
    if (header_value(theirs, "authorization") != authz) {
      sreq_wrong_seen.insert(name);
      std::erase_if(ours, [](auto& h) { return http::iequals(h.first, "authorization"); });
      std::erase_if(theirs, [](auto& h) { return http::iequals(h.first, "authorization"); });
    }
    EXPECT_EQ(sreq.method + " " + sreq.target + " " + sreq.version, req.method + " " + req.target + " " + req.version);
    EXPECT_EQ(normalized(ours), normalized(theirs)) << name << "\nours:\n"
                                                    << show(normalized(ours)) << "theirs:\n"
                                                    << show(normalized(theirs));
    EXPECT_EQ(rtrim(sreq.body), rtrim(req.body)) << name;
    ++cases;
  }
  EXPECT_EQ(sreq_wrong_seen, kSreqAuthorizationWrong);
  ASSERT_GT(cases, 0) << "no .req case under " << dir;
  std::cout << "[ botocore ] " << cases << " SigV4 cases signed and checked (.creq .sts .authz .sreq)\n";
}

// ---------------------------------------------------------------- aws-c-auth suite

// Every folder with a context.json under aws-sigv4/aws-c-auth-v4: the header
// form (header-*.txt) and the presigned-URL form (query-*.txt) are each checked
// in full: canonical request, string to sign, signature, signed request. A
// file of any other name, or a context.json key the test does not understand,
// fails the test, so that nothing new goes unchecked.
TEST(SigV4, AwsCAuthSuite) {
  const fs::path dir = sigv4_dir() / "aws-c-auth-v4";
  REQUIRE_FIXTURE(dir);
  const std::set<std::string> kHeaderFiles = {"header-canonical-request.txt", "header-string-to-sign.txt",
                                              "header-signature.txt", "header-signed-request.txt"};
  const std::set<std::string> kQueryFiles = {"query-canonical-request.txt", "query-string-to-sign.txt",
                                             "query-signature.txt", "query-signed-request.txt"};
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) cases.push_back(e.path());
  std::sort(cases.begin(), cases.end());
  int checked = 0, query_checked = 0;
  for (const fs::path& c : cases) {
    const std::string name = c.filename().string();
    SCOPED_TRACE(c.string());
    ASSERT_TRUE(fs::exists(c / "context.json")) << name << " has no context.json";
    std::set<std::string> header_seen, query_seen;
    for (const auto& f : fs::directory_iterator(c)) {
      const std::string fn = f.path().filename().string();
      if (fn == "context.json" || fn == "request.txt") continue;
      if (kHeaderFiles.count(fn)) header_seen.insert(fn);
      else if (kQueryFiles.count(fn)) query_seen.insert(fn);
      else ADD_FAILURE() << name << ": unknown file " << fn << " (the test does not check it)";
    }
    ASSERT_EQ(header_seen, kHeaderFiles) << name << " lacks a header-signing file";
    ASSERT_TRUE(query_seen.empty() || query_seen == kQueryFiles) << name << " has only some query-*.txt files";

    const std::string ctx_text = slurp(c / "context.json");
    const json::Document ctx = json::parse(ctx_text, "context.json", LLM_ERR_INVALID_ARGUMENT);
    auto str = [&](const json::Value& o, const char* k) {
      const json::Value* v = json::find(o, k);
      return v && v->IsString() ? std::string(json::sv(*v)) : std::string();
    };
    auto flag = [&](const char* k, bool dflt) {
      const json::Value* v = json::find(ctx, k);
      return v && v->IsBool() ? v->GetBool() : dflt;
    };
    const json::Value* cr = json::find(ctx, "credentials");
    ASSERT_NE(cr, nullptr);
    AwsCredentials creds{str(*cr, "access_key_id"), str(*cr, "secret_access_key"), str(*cr, "token")};
    SigV4Options opt;
    opt.normalize_path = flag("normalize", true);
    opt.content_sha256_header = flag("sign_body", false);
    opt.sign_session_token = !flag("omit_session_token", false);
    for (const auto& m : ctx.GetObject()) {
      const std::string k(m.name.GetString());
      static const std::set<std::string> kKnown = {"credentials", "expiration_in_seconds", "normalize", "region",
                                                   "service", "sign_body", "timestamp", "omit_session_token"};
      EXPECT_TRUE(kKnown.count(k)) << name << ": context.json key " << k << " is not understood by this test";
    }
    SigV4Signer signer(creds, str(ctx, "region"), str(ctx, "service"), opt);
    const RawRequest req = parse_raw(slurp(c / "request.txt"));
    const std::string url = "https://" + header_value(req.headers, "host") + req.target;
    const SigV4Result r = signer.sign(req.method, url, req.headers, req.body, parse_iso(str(ctx, "timestamp")));
    EXPECT_EQ(r.canonical_request, slurp(c / "header-canonical-request.txt")) << name;
    EXPECT_EQ(r.string_to_sign, slurp(c / "header-string-to-sign.txt")) << name;
    EXPECT_EQ(r.signature, rtrim(slurp(c / "header-signature.txt"))) << name;
    const RawRequest sreq = parse_raw(slurp(c / "header-signed-request.txt"));
    http::Headers ours = req.headers;
    r.apply(ours);
    EXPECT_EQ(sreq.method + " " + sreq.target, req.method + " " + req.target);
    EXPECT_EQ(normalized(ours), normalized(sreq.headers)) << name << "\nours:\n"
                                                          << show(normalized(ours)) << "theirs:\n"
                                                          << show(normalized(sreq.headers));
    EXPECT_EQ(rtrim(sreq.body), rtrim(req.body)) << name;
    ++checked;

    if (query_seen.empty()) continue;
    const json::Value* exp = json::find(ctx, "expiration_in_seconds");
    ASSERT_TRUE(exp && exp->IsInt()) << name << ": the query form needs expiration_in_seconds";
    const SigV4Result q = signer.presign(req.method, url, req.headers, req.body, std::chrono::seconds(exp->GetInt()),
                                         parse_iso(str(ctx, "timestamp")));
    EXPECT_TRUE(q.headers.empty());
    EXPECT_EQ(q.canonical_request, slurp(c / "query-canonical-request.txt")) << name;
    EXPECT_EQ(q.string_to_sign, slurp(c / "query-string-to-sign.txt")) << name;
    EXPECT_EQ(q.signature, rtrim(slurp(c / "query-signature.txt"))) << name;
    const RawRequest qreq = parse_raw(slurp(c / "query-signed-request.txt"));
    const std::string prefix = "https://" + header_value(req.headers, "host");
    ASSERT_EQ(q.presigned_url.rfind(prefix, 0), 0u);
    EXPECT_EQ(q.presigned_url.substr(prefix.size()), qreq.target) << name;
    EXPECT_EQ(qreq.method, req.method);
    EXPECT_EQ(normalized(req.headers), normalized(qreq.headers)) << name;  // no header added
    EXPECT_EQ(rtrim(qreq.body), rtrim(req.body)) << name;
    ++query_checked;
  }
  ASSERT_GT(checked, 0) << "no case under " << dir;
  std::cout << "[ aws-c-auth ] " << checked << " SigV4 header-signing cases and " << query_checked
            << " presigned-URL cases checked\n";
}

// ---------------------------------------------------------------- Bedrock (openai-python)

TEST(SigV4, OpenAiBedrockFixture) {
  const fs::path p = sigv4_dir() / "openai-bedrock-sigv4.json";
  if (!fs::exists(p)) GTEST_SKIP() << "\n*** FIXTURE MISSING: " << p << "; this test did NOT run ***\n";
  const std::string text = slurp(p);
  const json::Document d = json::parse(text, "fixture", LLM_ERR_INVALID_ARGUMENT);
  auto s = [](const json::Value& o, const char* k) { return std::string(json::sv(*json::find(o, k))); };
  const json::Value& cr = *json::find(d, "credentials");
  const json::Value& rq = *json::find(d, "request");
  const json::Value& ex = *json::find(d, "expected");
  SigV4Options opt;
  opt.content_sha256_header = true;  // its SignedHeaders list x-amz-content-sha256
  SigV4Signer signer({s(cr, "accessKeyId"), s(cr, "secretAccessKey"), s(cr, "sessionToken")}, s(d, "region"),
                     s(d, "service"), opt);
  const std::string body = s(rq, "body");
  const SigV4Result r = signer.sign(s(rq, "method"), s(rq, "url"), {{"Content-Type", s(rq, "contentType")}}, body,
                                    parse_iso(s(d, "signingDate")));
  EXPECT_EQ(r.amz_date, s(ex, "date"));
  EXPECT_EQ(hex_lower(sha256(body)), s(ex, "payloadHash"));
  EXPECT_EQ(hex_lower(sha256(r.canonical_request)), s(ex, "canonicalRequestHash")) << r.canonical_request;
  EXPECT_EQ(r.authorization(), s(ex, "authorization"));
  EXPECT_EQ(header_value(r.headers, "x-amz-security-token"), s(cr, "sessionToken"));
  EXPECT_EQ(header_value(r.headers, "x-amz-content-sha256"), s(ex, "payloadHash"));
}

// ---------------------------------------------------------------- speed (informative)

TEST(SigV4, TimePerSignature) {
  SigV4Signer signer({kAkid, kSecret, "token"}, "us-east-1", "bedrock");
  const http::Headers h = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  const std::string body(2000, 'x');
  const std::string url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3%3A0/converse";
  constexpr int kN = 20000;
  auto t0 = std::chrono::steady_clock::now();
  size_t sink = 0;
  for (int i = 0; i < kN; ++i) sink += signer.sign("POST", url, h, body, kSuiteTime).signature[0];
  auto dt = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kN;
  std::cout << "[ sigv4 ] " << dt << " us per signature (2 KB body, key cached; sink " << sink % 10 << ")\n";
  SUCCEED();
}
