// Google service-account JWT (src/auth/jwt): the RFC 7520 §4.1 RS256 vector
// byte for byte, a signature by the test service account verified with its
// certificate's public key, the token exchange body and answer, bad inputs.
#include <gtest/gtest.h>
#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "auth/crypto.hpp"
#include "auth/jwt.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace fs = std::filesystem;
using namespace literllm;
using namespace literllm::auth;
using std::chrono::system_clock;

namespace {

using fixtures::slurp;

fs::path auth_dir() { return fs::path(LITERLLM_FIXTURES_DIR) / "auth"; }

std::string str(const json::Value& o, const char* k) {
  const json::Value* v = json::find(o, k);
  if (!v || !v->IsString()) throw std::runtime_error(std::string("fixture lacks ") + k);
  return std::string(json::sv(*v));
}

// The body of a PEM block (between the BEGIN and END lines), base64-decoded.
std::string pem_der(const std::string& pem) {
  std::istringstream in(pem);
  std::string line, b64;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("-----BEGIN", 0) == 0) inside = true;
    else if (line.rfind("-----END", 0) == 0) break;
    else if (inside) b64 += line;
  }
  return base64_decode(b64, "PEM body");
}

// The certificate's subject public key, read from its DER with the ASN.1
// parser of libmbedcrypto (the unit tests do not link libmbedx509):
// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
// serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
void cert_public_key(const std::string& der, mbedtls_pk_context* pk) {
  unsigned char* p = reinterpret_cast<unsigned char*>(const_cast<char*>(der.data()));
  const unsigned char* end = p + der.size();
  size_t len = 0;
  const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
  ASSERT_EQ(0, mbedtls_asn1_get_tag(&p, end, &len, seq));  // Certificate
  ASSERT_EQ(0, mbedtls_asn1_get_tag(&p, end, &len, seq));  // tbsCertificate
  const unsigned char* tbs_end = p + len;
  if (mbedtls_asn1_get_tag(&p, tbs_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) == 0)
    p += len;  // version
  ASSERT_EQ(0, mbedtls_asn1_get_tag(&p, tbs_end, &len, MBEDTLS_ASN1_INTEGER));  // serialNumber
  p += len;
  for (int i = 0; i < 4; ++i) {  // signature, issuer, validity, subject
    ASSERT_EQ(0, mbedtls_asn1_get_tag(&p, tbs_end, &len, seq));
    p += len;
  }
  ASSERT_EQ(0, mbedtls_pk_parse_subpubkey(&p, tbs_end, pk));
}

bool verify_rs256(mbedtls_pk_context* pk, std::string_view signing_input, const std::string& sig) {
  const Sha256Digest h = sha256(signing_input);
  return mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, h.data(), h.size(), reinterpret_cast<const unsigned char*>(sig.data()),
                           sig.size()) == 0;
}

std::vector<std::string> split_dots(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    size_t j = s.find('.', i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

// The status and message `f` throws (LLM_OK, "" when it does not).
std::pair<llm_status, std::string> thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {LLM_OK, ""};
}

// No run of 12+ characters of the key's text (a PEM line, a base64 chunk)
// appears in `msg`.
void expect_no_key_material(const std::string& msg, const std::string& key_text) {
  std::istringstream in(key_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 12 || line.rfind("-----", 0) == 0) continue;
    for (size_t i = 0; i + 12 <= line.size(); i += 6)
      ASSERT_EQ(msg.find(line.substr(i, 12)), std::string::npos) << "message quotes key material: " << msg;
  }
  EXPECT_EQ(msg.find("MII"), std::string::npos) << msg;
}

const system_clock::time_point kNow = system_clock::time_point(std::chrono::seconds(1767225600));  // 2026-01-01

}  // namespace

// ---------------------------------------------------------------- RFC 7520 §4.1

TEST(JwtRs256, Rfc7520Section41ByteForByte) {
  const fs::path vec = auth_dir() / "jose-rs256-4_1.json", keyf = auth_dir() / "jose-rsa-private-key-3_4.json";
  REQUIRE_FIXTURE(vec);
  REQUIRE_FIXTURE(keyf);
  const std::string vec_text = slurp(vec);
  const json::Document v = json::parse(vec_text, "vector", LLM_ERR_INVALID_ARGUMENT);
  const json::Value& signing = *json::find(v, "signing");
  const json::Value& input = *json::find(v, "input");
  ASSERT_EQ(str(input, "alg"), "RS256");

  const RsaKey key = RsaKey::from_jwk(slurp(keyf));
  EXPECT_EQ(key.bits(), 2048u);
  // The same key, as the vector itself embeds it.
  const RsaKey key2 = RsaKey::from_jwk(json::dump(*json::find(input, "key")));

  const std::string header = base64url_decode(str(signing, "protected_b64u"));
  EXPECT_EQ(header, R"({"alg":"RS256","kid":"bilbo.baggins@hobbiton.example"})");
  const std::string compact = jws_rs256(key, header, str(input, "payload"));
  EXPECT_EQ(compact, str(*json::find(v, "output"), "compact"));
  EXPECT_EQ(base64url_encode(key.sign_rs256(str(signing, "sig-input"))), str(signing, "sig"));
  EXPECT_EQ(base64url_encode(key2.sign_rs256(str(signing, "sig-input"))), str(signing, "sig"));
}

TEST(JwtRs256, JwkInconsistentOrIncompleteIsRefused) {
  const fs::path keyf = auth_dir() / "jose-rsa-private-key-3_4.json";
  REQUIRE_FIXTURE(keyf);
  const std::string text = slurp(keyf);
  auto edit = [&](const char* field, const char* value) {
    json::Document d = json::parse(text, "jwk", LLM_ERR_INVALID_ARGUMENT);
    if (value)
      (*const_cast<json::Value*>(json::find(d, field))).SetString(value, d.GetAllocator());
    else
      d.RemoveMember(field);
    return json::dump(d);
  };
  // dp of another key: "AQAB" is a valid base64url integer, just not this key's.
  auto [s1, m1] = thrown([&] { RsaKey::from_jwk(edit("dp", "AQAB")); });
  EXPECT_EQ(s1, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(m1.find("dp"), std::string::npos) << m1;
  expect_no_key_material(m1, text);
  auto [s2, m2] = thrown([&] { RsaKey::from_jwk(edit("q", nullptr)); });
  EXPECT_EQ(s2, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(m2.find("q is missing"), std::string::npos) << m2;
  auto [s3, m3] = thrown([&] { RsaKey::from_jwk(edit("kty", "EC")); });
  EXPECT_EQ(s3, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(m3.find("kty"), std::string::npos) << m3;
  auto [s4, m4] = thrown([&] { RsaKey::from_jwk(edit("d", "not*base64")); });
  EXPECT_EQ(s4, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(m4.find("JWK d"), std::string::npos) << m4;
  expect_no_key_material(m4, text);
}

// ---------------------------------------------------------------- Google service account

TEST(JwtServiceAccount, SignsAnAssertionTheCertificateVerifies) {
  const fs::path saf = auth_dir() / "google-service_account.json", certf = auth_dir() / "google-public_cert.pem";
  REQUIRE_FIXTURE(saf);
  REQUIRE_FIXTURE(certf);
  const ServiceAccount sa = parse_service_account(slurp(saf));
  EXPECT_EQ(sa.type, "service_account");
  EXPECT_EQ(sa.client_email, "service-account@example.com");
  EXPECT_EQ(sa.private_key_id, "1");
  EXPECT_EQ(sa.token_uri, "https://accounts.google.com/o/oauth2/token");
  EXPECT_EQ(sa.project_id, "example-project");

  const ServiceAccountSigner signer(sa);
  const std::string jwt = signer.assertion(kCloudPlatformScope, kNow);
  const std::vector<std::string> parts = split_dots(jwt);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(base64url_decode(parts[0]), R"({"alg":"RS256","typ":"JWT","kid":"1"})");
  const std::string claims_text = base64url_decode(parts[1]);
  const json::Document claims = json::parse(claims_text, "claims", LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(str(claims, "iss"), "service-account@example.com");
  EXPECT_EQ(str(claims, "scope"), kCloudPlatformScope);
  EXPECT_EQ(str(claims, "aud"), "https://accounts.google.com/o/oauth2/token");
  EXPECT_EQ(json::find(claims, "iat")->GetInt64(), 1767225600);
  EXPECT_EQ(json::find(claims, "exp")->GetInt64(), 1767225600 + 3600);
  EXPECT_EQ(json::find(claims, "sub"), nullptr);
  for (const std::string& p : parts) EXPECT_EQ(p.find_first_of("+/="), std::string::npos);

  mbedtls_pk_context pub;
  mbedtls_pk_init(&pub);
  cert_public_key(pem_der(slurp(certf)), &pub);
  ASSERT_EQ(mbedtls_pk_get_type(&pub), MBEDTLS_PK_RSA);
  const std::string signing_input = parts[0] + "." + parts[1];
  std::string sig = base64url_decode(parts[2]);
  EXPECT_EQ(sig.size(), 256u);
  EXPECT_TRUE(verify_rs256(&pub, signing_input, sig));
  EXPECT_FALSE(verify_rs256(&pub, signing_input + " ", sig));
  sig[10] ^= 1;
  EXPECT_FALSE(verify_rs256(&pub, signing_input, sig));
  mbedtls_pk_free(&pub);

  // Deterministic (blinding changes nothing in the result); the PEM file holds the same key.
  EXPECT_EQ(signer.assertion(kCloudPlatformScope, kNow), jwt);
  const RsaKey same = RsaKey::from_pem(slurp(auth_dir() / "google-privatekey.pem"));
  EXPECT_EQ(base64url_encode(same.sign_rs256(signing_input)), parts[2]);

  // Subject and lifetime.
  const std::string j2 = signer.assertion("s", kNow, std::chrono::seconds(600), "user@example.com");
  const std::string c2 = base64url_decode(split_dots(j2)[1]);
  EXPECT_EQ(c2, R"({"iss":"service-account@example.com","sub":"user@example.com","scope":"s",)"
                R"("aud":"https://accounts.google.com/o/oauth2/token","iat":1767225600,"exp":1767226200})");
}

TEST(JwtServiceAccount, SigningFromManyThreadsAgrees) {
  const fs::path saf = auth_dir() / "google-service_account.json";
  REQUIRE_FIXTURE(saf);
  const ServiceAccountSigner signer = ServiceAccountSigner::from_json(slurp(saf));
  const std::string want = signer.assertion(kCloudPlatformScope, kNow);
  std::vector<std::thread> ts;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i)
        if (signer.assertion(kCloudPlatformScope, kNow) != want) ++bad[t];
    });
  for (auto& th : ts) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

TEST(JwtServiceAccount, BadInputsGiveTypedErrorsNamingTheField) {
  const fs::path saf = auth_dir() / "google-service_account.json";
  REQUIRE_FIXTURE(saf);
  const std::string text = slurp(saf);
  const json::Document orig = json::parse(text, "sa", LLM_ERR_INVALID_ARGUMENT);
  const std::string key_pem = str(orig, "private_key");
  auto with = [&](const char* field, std::function<void(json::Value&, json::Allocator&)> set) {
    json::Document d;
    d.CopyFrom(orig, d.GetAllocator());
    if (set) {
      json::Value* v = const_cast<json::Value*>(json::find(d, field));
      if (!v) {
        d.AddMember(json::str(field, d.GetAllocator()), json::Value(), d.GetAllocator());
        v = const_cast<json::Value*>(json::find(d, field));
      }
      set(*v, d.GetAllocator());
    } else {
      d.RemoveMember(field);
    }
    return json::dump(d);
  };
  auto set_str = [](const char* s) {
    return [s](json::Value& v, json::Allocator& a) { v.SetString(s, a); };
  };
  struct Case {
    std::string name, json, must_mention;
  };
  // An EC key in PEM, made here (mbedTLS writes it): a key that is not RSA.
  std::string ec_pem;
  {
    mbedtls_pk_context pk;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    ASSERT_EQ(0, mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, nullptr, 0));
    ASSERT_EQ(0, mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)));
    ASSERT_EQ(0, mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, &drbg));
    unsigned char buf[2048];
    ASSERT_EQ(0, mbedtls_pk_write_key_pem(&pk, buf, sizeof buf));
    ec_pem = reinterpret_cast<const char*>(buf);
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
  }
  ASSERT_NE(ec_pem.find("BEGIN EC PRIVATE KEY"), std::string::npos);
  // The fixture key with its middle cut out: PEM armour around bytes that are no key.
  std::string broken = key_pem.substr(0, 100) + key_pem.substr(key_pem.size() - 200);

  const std::vector<Case> cases = {
      {"missing client_email", with("client_email", nullptr), "client_email is missing"},
      {"client_email a number",
       with("client_email", [](json::Value& v, json::Allocator&) { v.SetInt(3); }), "client_email must be a string"},
      {"client_email empty", with("client_email", set_str("")), "client_email is empty"},
      {"missing private_key", with("private_key", nullptr), "private_key is missing"},
      {"missing token_uri", with("token_uri", nullptr), "token_uri is missing"},
      {"token_uri not a URL", with("token_uri", set_str("accounts.google.com")), "token_uri"},
      {"missing type", with("type", nullptr), "type is missing"},
      {"another credential type", with("type", set_str("authorized_user")), "type must be"},
      {"private_key_id an object",
       with("private_key_id", [](json::Value& v, json::Allocator&) { v.SetObject(); }), "private_key_id must be"},
      {"private_key not PEM", with("private_key", set_str("MIIEpAIBAAKCAQEA4ej0p7bQ7L")), "private_key is not a PEM"},
      {"garbage PEM",
       with("private_key", set_str("-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n")),
       "private_key is not a valid PEM private key"},
      {"truncated PEM", with("private_key", [&](json::Value& v, json::Allocator& a) { v.SetString(broken.c_str(), a); }),
       "private_key is not a valid PEM private key"},
      {"EC key", with("private_key", [&](json::Value& v, json::Allocator& a) { v.SetString(ec_pem.c_str(), a); }),
       "private_key is not an RSA key"},
      {"not JSON", "{\"type\": \"service_account\", ", "service account JSON is not valid JSON"},
      {"a JSON array", "[1,2]", "service account JSON must be an object"},
      {"empty", "", "service account JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto [status, msg] = thrown([&] { ServiceAccountSigner::from_json(c.json); });
    EXPECT_EQ(status, LLM_ERR_INVALID_ARGUMENT) << msg;
    EXPECT_NE(msg.find(c.must_mention), std::string::npos) << msg;
    expect_no_key_material(msg, key_pem);
    expect_no_key_material(msg, ec_pem);
    expect_no_key_material(msg, broken);
  }
  // The PEM alone, through RsaKey: the field named as the caller says.
  auto [status, msg] = thrown([&] { RsaKey::from_pem(ec_pem, "vertex key"); });
  EXPECT_EQ(status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("vertex key is not an RSA key"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- token exchange

TEST(JwtTokenExchange, RequestBody) {
  EXPECT_EQ(token_request_body("aaa.bbb.c-_c"),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=aaa.bbb.c-_c");
  EXPECT_EQ(token_request_body("a+b/c="), "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a%2Bb%2Fc%3D");
}

TEST(JwtTokenExchange, ParsesTheAnswer) {
  AccessToken t = parse_token_response(R"({"access_token":"ya29.abc","expires_in":3599,"token_type":"Bearer"})");
  EXPECT_EQ(t.access_token, "ya29.abc");
  EXPECT_EQ(t.expires_in, 3599);
  EXPECT_EQ(t.token_type, "Bearer");
  t = parse_token_response(R"({"access_token":"x","expires_in":"120"})");
  EXPECT_EQ(t.expires_in, 120);
  EXPECT_EQ(t.token_type, "Bearer");
  t = parse_token_response(R"({"access_token":"x"})");
  EXPECT_EQ(t.expires_in, 3600);
}

TEST(JwtTokenExchange, ErrorAnswersAreTyped) {
  const std::string assertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln";
  {
    auto [s, m] = thrown([&] {
      parse_token_response(R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})", 400);
    });
    EXPECT_EQ(s, LLM_ERR_AUTHENTICATION);
    EXPECT_NE(m.find("invalid_grant"), std::string::npos) << m;
    EXPECT_NE(m.find("Invalid JWT Signature."), std::string::npos) << m;
    EXPECT_EQ(m.find(assertion), std::string::npos);
  }
  {  // an error in a 200 answer
    auto [s, m] = thrown([] { parse_token_response(R"({"error":"invalid_scope"})", 200); });
    EXPECT_EQ(s, LLM_ERR_AUTHENTICATION);
    EXPECT_NE(m.find("invalid_scope"), std::string::npos) << m;
  }
  try {
    parse_token_response(R"({"error":"unauthorized_client","error_description":"x"})", 401);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_EQ(e.code, "unauthorized_client");
  }
  EXPECT_EQ(thrown([] { parse_token_response("<html>bad gateway</html>", 502); }).first, LLM_ERR_SERVER_ERROR);
  EXPECT_EQ(thrown([] { parse_token_response("", 503); }).first, LLM_ERR_SERVICE_UNAVAILABLE);
  EXPECT_EQ(thrown([] { parse_token_response("not json", 200); }).first, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(thrown([] { parse_token_response("[]", 200); }).first, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(thrown([] { parse_token_response(R"({"token_type":"Bearer"})", 200); }).first, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(thrown([] { parse_token_response(R"({"access_token":""})", 200); }).first, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(thrown([] { parse_token_response(R"({"access_token":"x","expires_in":true})", 200); }).first,
            LLM_ERR_SERIALIZATION);
  // The token never appears in a message.
  auto [s, m] = thrown([] { parse_token_response(R"({"access_token":"ya29.SECRET","expires_in":"soon"})", 200); });
  EXPECT_EQ(s, LLM_ERR_SERIALIZATION);
  EXPECT_EQ(m.find("ya29.SECRET"), std::string::npos) << m;
}

TEST(JwtServiceAccount, TimePerAssertion) {
  const fs::path saf = auth_dir() / "google-service_account.json";
  REQUIRE_FIXTURE(saf);
  const ServiceAccountSigner signer = ServiceAccountSigner::from_json(slurp(saf));
  constexpr int kN = 50;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) (void)signer.assertion(kCloudPlatformScope, kNow);
  auto dt = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kN;
  std::cout << "[ jwt ] " << dt << " us per RS256 assertion (2048-bit key)\n";
}
