#include "auth/jwt.hpp"

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "auth/crypto.hpp"
#include "core/error.hpp"
#include "core/json.hpp"

namespace literllm::auth {

namespace {

[[noreturn]] void bad(std::string message) { throw Error(LLM_ERR_INVALID_ARGUMENT, std::move(message)); }

std::string hex_code(int rc) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "-0x%04X", static_cast<unsigned>(-rc));
  return buf;
}

// A string member: nullptr when absent; throws when present but not a string.
const json::Value* string_field(const json::Value& obj, const char* where, const char* key) {
  const json::Value* v = json::find(obj, key);
  if (!v || v->IsNull()) return nullptr;
  if (!v->IsString()) bad(std::string(where) + ": " + key + " must be a string, not " + json::type_name(*v));
  return v;
}

std::string required_string(const json::Value& obj, const char* where, const char* key) {
  const json::Value* v = string_field(obj, where, key);
  if (!v) bad(std::string(where) + ": " + key + " is missing");
  if (v->GetStringLength() == 0) bad(std::string(where) + ": " + key + " is empty");
  return std::string(json::sv(*v));
}

// A message-safe copy of text from a server: control characters dropped,
// at most `max` bytes.
std::string printable(std::string_view s, size_t max = 300) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out.push_back(c);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- service account

ServiceAccount parse_service_account(std::string_view json_text) {
  static constexpr const char* kWhere = "service account JSON";
  const json::Document d = json::parse(json_text, kWhere, LLM_ERR_INVALID_ARGUMENT);
  if (!d.IsObject()) bad(std::string(kWhere) + " must be an object, not " + json::type_name(d));
  ServiceAccount sa;
  sa.type = required_string(d, kWhere, "type");
  if (sa.type != "service_account")
    bad(std::string(kWhere) + ": type must be \"service_account\" (this file is another kind of credential)");
  sa.client_email = required_string(d, kWhere, "client_email");
  if (sa.client_email.find('@') == std::string::npos) bad(std::string(kWhere) + ": client_email is not an e-mail address");
  sa.private_key = required_string(d, kWhere, "private_key");
  if (sa.private_key.find("-----BEGIN") == std::string::npos)
    bad(std::string(kWhere) + ": private_key is not a PEM key (no -----BEGIN line)");
  if (const json::Value* v = string_field(d, kWhere, "private_key_id")) sa.private_key_id = std::string(json::sv(*v));
  sa.token_uri = required_string(d, kWhere, "token_uri");
  if (sa.token_uri.rfind("https://", 0) != 0 && sa.token_uri.rfind("http://", 0) != 0)
    bad(std::string(kWhere) + ": token_uri must start with https://");
  if (const json::Value* v = string_field(d, kWhere, "project_id")) sa.project_id = std::string(json::sv(*v));
  return sa;
}

// ---------------------------------------------------------------- RSA key

struct RsaKey::Impl {
  std::mutex mu;
  mbedtls_pk_context pk;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;

  Impl() {
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
  }
  ~Impl() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_pk_free(&pk);  // zeroizes the key
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // The DRBG for blinding, seeded from the platform's entropy.
  void seed() {
    static constexpr unsigned char kPers[] = "literllm rs256";
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, kPers, sizeof kPers - 1);
    if (rc != 0) throw Error(LLM_ERR_INTERNAL, "RSA: cannot seed the random generator (mbedTLS " + hex_code(rc) + ")");
  }
  void check_rsa(std::string_view field) {
    if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA)
      bad(std::string(field) + " is not an RSA key (RS256 needs one; this key is " + mbedtls_pk_get_name(&pk) + ")");
    if (mbedtls_pk_get_bitlen(&pk) < 2048) bad(std::string(field) + " is an RSA key shorter than 2048 bits");
  }
};

RsaKey RsaKey::from_pem(std::string_view pem, std::string_view field) {
  auto impl = std::make_shared<Impl>();
  // mbedTLS reads PEM from a NUL-terminated buffer (length counting the NUL).
  std::string buf;
  buf.reserve(pem.size() + 1);
  buf.assign(pem);
  int rc = mbedtls_pk_parse_key(&impl->pk, reinterpret_cast<const unsigned char*>(buf.c_str()), buf.size() + 1,
                                nullptr, 0);
  mbedtls_platform_zeroize(buf.data(), buf.size());
  if (rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || rc == MBEDTLS_ERR_PK_PASSWORD_MISMATCH)
    bad(std::string(field) + " is an encrypted private key (an unencrypted one is needed)");
  if (rc != 0) bad(std::string(field) + " is not a valid PEM private key (mbedTLS " + hex_code(rc) + ")");
  impl->check_rsa(field);
  // PKCS#1 v1.5 padding (a parsed RSA key has it by default; set it to be sure).
  mbedtls_rsa_set_padding(mbedtls_pk_rsa(impl->pk), MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
  impl->seed();
  return RsaKey(std::move(impl));
}

RsaKey RsaKey::from_jwk(std::string_view jwk_json) {
  static constexpr const char* kWhere = "JWK";
  const json::Document d = json::parse(jwk_json, kWhere, LLM_ERR_INVALID_ARGUMENT);
  if (!d.IsObject()) bad(std::string(kWhere) + " must be an object, not " + json::type_name(d));
  if (required_string(d, kWhere, "kty") != "RSA") bad(std::string(kWhere) + ": kty must be \"RSA\"");
  auto num = [&](const char* k) {
    std::string b = base64url_decode(required_string(d, kWhere, k), (std::string(kWhere) + " " + k).c_str());
    if (b.empty()) bad(std::string(kWhere) + ": " + k + " is empty");
    return b;
  };
  std::string n = num("n"), e = num("e"), dd = num("d"), p = num("p"), q = num("q");
  std::string dp = num("dp"), dq = num("dq"), qi = num("qi");
  auto u8 = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  auto impl = std::make_shared<Impl>();
  int rc = mbedtls_pk_setup(&impl->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
  if (rc != 0) throw Error(LLM_ERR_INTERNAL, "RSA: cannot set up a key (mbedTLS " + hex_code(rc) + ")");
  mbedtls_rsa_context* rsa = mbedtls_pk_rsa(impl->pk);
  rc = mbedtls_rsa_import_raw(rsa, u8(n), n.size(), u8(p), p.size(), u8(q), q.size(), u8(dd), dd.size(), u8(e),
                              e.size());
  if (rc == 0) rc = mbedtls_rsa_complete(rsa);
  if (rc == 0) rc = mbedtls_rsa_check_privkey(rsa);
  bool crt_ok = false;
  if (rc == 0) {
    // The CRT values derived must be the ones the JWK gives.
    mbedtls_mpi gdp, gdq, gqi, mdp, mdq, mqi;
    for (mbedtls_mpi* m : {&gdp, &gdq, &gqi, &mdp, &mdq, &mqi}) mbedtls_mpi_init(m);
    rc = mbedtls_rsa_export_crt(rsa, &mdp, &mdq, &mqi);
    if (rc == 0) rc = mbedtls_mpi_read_binary(&gdp, u8(dp), dp.size());
    if (rc == 0) rc = mbedtls_mpi_read_binary(&gdq, u8(dq), dq.size());
    if (rc == 0) rc = mbedtls_mpi_read_binary(&gqi, u8(qi), qi.size());
    crt_ok = rc == 0 && mbedtls_mpi_cmp_mpi(&gdp, &mdp) == 0 && mbedtls_mpi_cmp_mpi(&gdq, &mdq) == 0 &&
             mbedtls_mpi_cmp_mpi(&gqi, &mqi) == 0;
    for (mbedtls_mpi* m : {&gdp, &gdq, &gqi, &mdp, &mdq, &mqi}) mbedtls_mpi_free(m);
  }
  for (std::string* s : {&n, &e, &dd, &p, &q, &dp, &dq, &qi}) mbedtls_platform_zeroize(s->data(), s->size());
  if (rc != 0) bad(std::string(kWhere) + " is not a consistent RSA private key (mbedTLS " + hex_code(rc) + ")");
  if (!crt_ok) bad(std::string(kWhere) + ": dp, dq or qi does not match the key's p, q and d");
  impl->check_rsa(kWhere);
  mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_SHA256);
  impl->seed();
  return RsaKey(std::move(impl));
}

size_t RsaKey::bits() const { return mbedtls_pk_get_bitlen(&impl_->pk); }

std::string RsaKey::sign_rs256(std::string_view data) const {
  const Sha256Digest h = sha256(data);
  std::string sig(mbedtls_pk_get_len(&impl_->pk), '\0');
  size_t len = 0;
  int rc;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    rc = mbedtls_pk_sign(&impl_->pk, MBEDTLS_MD_SHA256, h.data(), h.size(), reinterpret_cast<unsigned char*>(sig.data()),
                         &len, mbedtls_ctr_drbg_random, &impl_->drbg);
  }
  if (rc != 0) throw Error(LLM_ERR_INTERNAL, "RSA: signing failed (mbedTLS " + hex_code(rc) + ")");
  sig.resize(len);
  return sig;
}

std::string jws_rs256(const RsaKey& key, std::string_view header_json, std::string_view payload) {
  std::string out = base64url_encode(header_json);
  out.push_back('.');
  out += base64url_encode(payload);
  const std::string sig = key.sign_rs256(out);
  out.push_back('.');
  out += base64url_encode(sig);
  return out;
}

// ---------------------------------------------------------------- service-account signer

ServiceAccountSigner::ServiceAccountSigner(ServiceAccount account)
    : client_email_(std::move(account.client_email)),
      token_uri_(std::move(account.token_uri)),
      key_id_(std::move(account.private_key_id)),
      key_(RsaKey::from_pem(account.private_key, "service account private_key")) {
  mbedtls_platform_zeroize(account.private_key.data(), account.private_key.size());
  if (client_email_.empty()) bad("service account: client_email is empty");
  if (token_uri_.empty()) bad("service account: token_uri is empty");
}

std::string ServiceAccountSigner::assertion(std::string_view scope, std::chrono::system_clock::time_point now,
                                            std::chrono::seconds lifetime, std::string_view subject) const {
  if (scope.empty()) bad("service account: the scope is empty");
  if (lifetime.count() <= 0 || lifetime.count() > 3600) bad("service account: the assertion lifetime must be 1..3600 s");
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json::StringBuffer hb;
  {
    json::Writer w(hb);
    w.StartObject();
    w.Key("alg");
    w.String("RS256");
    w.Key("typ");
    w.String("JWT");
    if (!key_id_.empty()) {
      w.Key("kid");
      w.String(key_id_.data(), static_cast<rapidjson::SizeType>(key_id_.size()));
    }
    w.EndObject();
  }
  json::StringBuffer cb;
  {
    json::Writer w(cb);
    w.StartObject();
    w.Key("iss");
    w.String(client_email_.data(), static_cast<rapidjson::SizeType>(client_email_.size()));
    if (!subject.empty()) {
      w.Key("sub");
      w.String(subject.data(), static_cast<rapidjson::SizeType>(subject.size()));
    }
    w.Key("scope");
    w.String(scope.data(), static_cast<rapidjson::SizeType>(scope.size()));
    w.Key("aud");
    w.String(token_uri_.data(), static_cast<rapidjson::SizeType>(token_uri_.size()));
    w.Key("iat");
    w.Int64(iat);
    w.Key("exp");
    w.Int64(iat + lifetime.count());
    w.EndObject();
  }
  return jws_rs256(key_, std::string_view(hb.GetString(), hb.GetSize()), std::string_view(cb.GetString(), cb.GetSize()));
}

std::string token_request_body(std::string_view assertion) {
  static constexpr std::string_view kPrefix =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
  std::string out;
  out.reserve(kPrefix.size() + assertion.size());
  out.append(kPrefix);
  // A JWT is base64url and dots: nothing to escape. Anything else is escaped
  // as a form value.
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : assertion) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

AccessToken parse_token_response(std::string_view body, int http_status) {
  static constexpr const char* kWhere = "token endpoint answer";
  const bool ok_status = http_status >= 200 && http_status < 300;
  const llm_status fail = http_status == 503 ? LLM_ERR_SERVICE_UNAVAILABLE
                          : http_status >= 500 ? LLM_ERR_SERVER_ERROR
                                               : LLM_ERR_AUTHENTICATION;
  json::Document d;
  try {
    d = json::parse(body, kWhere, LLM_ERR_SERIALIZATION);
  } catch (const Error&) {
    if (!ok_status)
      throw Error(fail, "token endpoint: HTTP " + std::to_string(http_status) + " (the answer is not JSON)",
                  http_status);
    throw;
  }
  if (!d.IsObject()) {
    if (!ok_status) throw Error(fail, "token endpoint: HTTP " + std::to_string(http_status), http_status);
    throw Error(LLM_ERR_SERIALIZATION, std::string(kWhere) + " must be an object, not " + json::type_name(d));
  }
  const json::Value* err = json::find(d, "error");
  if (err || !ok_status) {
    std::string msg = "token endpoint: ";
    if (err && err->IsString()) {
      msg += printable(json::sv(*err), 100);
    } else if (err && err->IsObject()) {  // {"error":{"message":...}} as some Google endpoints answer
      const json::Value* m = json::find(*err, "message");
      msg += m && m->IsString() ? printable(json::sv(*m)) : std::string("error");
    } else {
      msg += "HTTP " + std::to_string(http_status);
    }
    const json::Value* desc = json::find(d, "error_description");
    if (desc && desc->IsString() && desc->GetStringLength()) msg += ": " + printable(json::sv(*desc));
    Error e(ok_status ? LLM_ERR_AUTHENTICATION : fail, std::move(msg), ok_status ? 0 : http_status);
    if (err && err->IsString()) e.code = printable(json::sv(*err), 100);
    throw e;
  }
  AccessToken t;
  const json::Value* at = json::find(d, "access_token");
  if (!at) throw Error(LLM_ERR_SERIALIZATION, std::string(kWhere) + ": access_token is missing");
  if (!at->IsString() || at->GetStringLength() == 0)
    throw Error(LLM_ERR_SERIALIZATION, std::string(kWhere) + ": access_token must be a non-empty string");
  t.access_token = std::string(json::sv(*at));
  const json::Value* tt = json::find(d, "token_type");
  if (tt && !tt->IsString())
    throw Error(LLM_ERR_SERIALIZATION, std::string(kWhere) + ": token_type must be a string, not " + json::type_name(*tt));
  t.token_type = tt ? std::string(json::sv(*tt)) : "Bearer";
  const json::Value* ex = json::find(d, "expires_in");
  if (ex) {
    if (ex->IsInt64()) {
      t.expires_in = ex->GetInt64();
    } else if (ex->IsNumber() && ex->GetDouble() >= 0 && ex->GetDouble() < 1e12) {
      t.expires_in = static_cast<int64_t>(ex->GetDouble());
    } else if (ex->IsString()) {  // some proxies send it as a string
      const std::string s(json::sv(*ex));
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0')
        throw Error(LLM_ERR_SERIALIZATION, std::string(kWhere) + ": expires_in is not a number");
      t.expires_in = v;
    } else {
      throw Error(LLM_ERR_SERIALIZATION,
                  std::string(kWhere) + ": expires_in must be a number, not " + json::type_name(*ex));
    }
    if (t.expires_in < 0) throw Error(LLM_ERR_SERIALIZATION, std::string(kWhere) + ": expires_in is negative");
  } else {
    t.expires_in = 3600;  // the documented lifetime when an endpoint leaves it out
  }
  return t;
}

}  // namespace literllm::auth
