#include "auth/sigv4.hpp"

#include "http/url.hpp"

#include <mbedtls/platform_util.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.hpp"

namespace literllm::auth {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}


bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A header value trimmed, each run of whitespace inside made one space.
void append_trimmed(std::string_view v, std::string& out) {
  size_t b = 0, e = v.size();
  while (b < e && is_space(v[b])) ++b;
  while (e > b && is_space(v[e - 1])) --e;
  bool in_space = false;
  for (size_t i = b; i < e; ++i) {
    if (is_space(v[i])) {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(v[i]);
      in_space = false;
    }
  }
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool token_ok(std::string_view s) {  // region and service names: no separators in the scope
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(unreserved(c))) return false;
  return true;
}

struct UrlParts {
  std::string_view host;  // host[:port], the default port dropped
  std::string_view path;
  std::string_view query;
};

UrlParts split_url(std::string_view url) {
  UrlParts p;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0)
    throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: the URL must be absolute (scheme://host/path)");
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: the URL has no host");
  // Drop a default port (as an HTTP client's Host header does).
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    bool https = scheme.size() == 5 && http::iequals(scheme, "https");
    bool http_ = scheme.size() == 4 && http::iequals(scheme, "http");
    if (port.empty() || (https && port == "443") || (http_ && port == "80")) authority = authority.substr(0, colon);
  }
  p.host = authority;
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t q = rest.find('?');
  p.path = rest.substr(0, q);
  if (q != std::string_view::npos) p.query = rest.substr(q + 1);
  return p;
}

struct CanonHeader {
  std::string name;  // lower case
  std::string_view value;
};

// "AWS4" + secret in a buffer zeroed afterwards.
Sha256Digest derive(std::string_view secret, std::string_view date8, std::string_view region,
                    std::string_view service) {
  std::string k;
  k.reserve(4 + secret.size());
  k.append("AWS4").append(secret);
  Sha256Digest d = hmac_sha256(k, date8);
  mbedtls_platform_zeroize(k.data(), k.size());
  d = hmac_sha256(d, region);
  d = hmac_sha256(d, service);
  return hmac_sha256(d, "aws4_request");
}

}  // namespace

namespace sigv4_detail {

void uri_encode(std::string_view s, bool keep_slash, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

std::string canonical_path(std::string_view path, bool normalize, bool encode) {
  std::string out;
  if (path.empty()) return "/";
  if (!normalize) {
    if (encode) {
      out.reserve(path.size() + 16);
      uri_encode(path, true, out);
    } else {
      out.assign(path);
    }
    if (out.empty() || out[0] != '/') out.insert(out.begin(), '/');
    return out;
  }
  // Segments without empty ones and ".", ".." popping the last one.
  std::vector<std::string_view> segs;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segs.push_back(seg);
    }
    i = j + 1;
  }
  out.reserve(path.size() + 16);
  for (std::string_view seg : segs) {
    out.push_back('/');
    if (encode)
      uri_encode(seg, false, out);
    else
      out.append(seg);
  }
  // A trailing slash stays ("//example//" is "/example/").
  if (segs.empty() || path.back() == '/') out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i <= query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view part = query.substr(i, j - i);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string_view k = part.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      std::string ek, ev;
      uri_encode(http::percent_decode(k), false, ek);
      uri_encode(http::percent_decode(v), false, ev);
      params.emplace_back(std::move(ek), std::move(ev));
    }
    i = j + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(k).append("=").append(v);
  }
  return out;
}

}  // namespace sigv4_detail

void SigV4Result::apply(http::Headers& h) const {
  for (const auto& [k, v] : headers) http::set_header(h, k, v);
}

Sha256Digest derive_signing_key(std::string_view secret_access_key, std::string_view date8, std::string_view region,
                                std::string_view service) {
  return derive(secret_access_key, date8, region, service);
}

std::string amz_date(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(when);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{secs - day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: the signing time is out of range");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", y, static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

SigV4Signer::SigV4Signer(AwsCredentials credentials, std::string region, std::string service, SigV4Options options)
    : creds_(std::move(credentials)), region_(std::move(region)), service_(std::move(service)), options_(options) {
  if (creds_.access_key_id.empty()) throw Error(LLM_ERR_AUTHENTICATION, "AWS credentials: the access key id is empty");
  if (creds_.secret_access_key.empty())
    throw Error(LLM_ERR_AUTHENTICATION, "AWS credentials: the secret access key is empty");
  for (char c : creds_.access_key_id)
    if (c == '/' || is_space(c) || c == ',')
      throw Error(LLM_ERR_AUTHENTICATION, "AWS credentials: the access key id holds a character it cannot hold");
  for (char c : creds_.session_token)
    if (c == '\r' || c == '\n' || c == '\0')
      throw Error(LLM_ERR_AUTHENTICATION, "AWS credentials: the session token holds a line break or NUL");
  if (!token_ok(region_)) throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: region must be a non-empty name ([A-Za-z0-9._~-])");
  if (!token_ok(service_))
    throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: service must be a non-empty name ([A-Za-z0-9._~-])");
}

SigV4Signer::~SigV4Signer() {
  mbedtls_platform_zeroize(creds_.secret_access_key.data(), creds_.secret_access_key.size());
  mbedtls_platform_zeroize(cached_key_.data(), cached_key_.size());
}

Sha256Digest SigV4Signer::signing_key(std::string_view date8) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && date8.size() == 8 && std::memcmp(cached_date_, date8.data(), 8) == 0) return cached_key_;
  Sha256Digest k = derive(creds_.secret_access_key, date8, region_, service_);
  if (date8.size() == 8) {
    std::memcpy(cached_date_, date8.data(), 8);
    cached_key_ = k;
    cached_ = true;
  }
  return k;
}

SigV4Result SigV4Signer::sign(std::string_view method, std::string_view url, const http::Headers& headers,
                              std::string_view body, std::chrono::system_clock::time_point when) const {
  const Sha256Digest h = sha256(body);
  char hex[64];
  hex_lower(h.data(), h.size(), hex);
  return sign_payload_hash(method, url, headers, std::string_view(hex, 64), when);
}

SigV4Result SigV4Signer::sign_payload_hash(std::string_view method, std::string_view url,
                                           const http::Headers& headers, std::string_view payload_hash,
                                           std::chrono::system_clock::time_point when) const {
  return sign_impl(method, url, headers, payload_hash, when, nullptr);
}

SigV4Result SigV4Signer::presign(std::string_view method, std::string_view url, const http::Headers& headers,
                                 std::string_view body, std::chrono::seconds expires,
                                 std::chrono::system_clock::time_point when) const {
  const Sha256Digest h = sha256(body);
  char hex[64];
  hex_lower(h.data(), h.size(), hex);
  return sign_impl(method, url, headers, std::string_view(hex, 64), when, &expires);
}

SigV4Result SigV4Signer::presign_payload_hash(std::string_view method, std::string_view url,
                                              const http::Headers& headers, std::string_view payload_hash,
                                              std::chrono::seconds expires,
                                              std::chrono::system_clock::time_point when) const {
  return sign_impl(method, url, headers, payload_hash, when, &expires);
}

SigV4Result SigV4Signer::sign_impl(std::string_view method, std::string_view url, const http::Headers& headers,
                                   std::string_view payload_hash, std::chrono::system_clock::time_point when,
                                   const std::chrono::seconds* presign_expires) const {
  if (method.empty()) throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: the method is empty");
  if (payload_hash.empty()) throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: the payload hash is empty");
  for (char ch : payload_hash)
    if (ch <= ' ' || ch > '~') throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: the payload hash holds a character it cannot hold");
  const bool presign = presign_expires != nullptr;
  if (presign && (presign_expires->count() < 1 || presign_expires->count() > 604800))
    throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: a presigned URL expires in 1 to 604800 seconds");
  const UrlParts url_parts = split_url(url);
  SigV4Result r;
  r.amz_date = amz_date(when);
  const std::string_view date8(r.amz_date.data(), 8);
  r.scope.reserve(8 + region_.size() + service_.size() + 16);
  r.scope.append(date8).append("/").append(region_).append("/").append(service_).append("/aws4_request");

  const bool has_token = !creds_.session_token.empty();
  const bool sign_token = has_token && options_.sign_session_token;
  const bool content_header = options_.content_sha256_header && !presign;

  // The headers to sign: the caller's (less those replaced or never signed),
  // then the signer's own.
  std::vector<CanonHeader> hs;
  hs.reserve(headers.size() + 4);
  bool has_host = false;
  for (const auto& [name, value] : headers) {
    if (name.empty()) continue;
    std::string n = lowered(name);
    if (n == "authorization" || n == "x-amz-date" || n == "user-agent" || n == "x-amzn-trace-id" || n == "expect")
      continue;
    if (has_token && n == "x-amz-security-token") continue;
    if (content_header && n == "x-amz-content-sha256") continue;
    if (n == "host") has_host = true;
    hs.push_back({std::move(n), value});
  }
  if (!has_host) hs.push_back({"host", url_parts.host});
  if (!presign) {
    hs.push_back({"x-amz-date", r.amz_date});
    if (sign_token) hs.push_back({"x-amz-security-token", creds_.session_token});
    if (content_header) hs.push_back({"x-amz-content-sha256", payload_hash});
  }
  std::stable_sort(hs.begin(), hs.end(), [](const CanonHeader& a, const CanonHeader& b) { return a.name < b.name; });
  r.signed_headers.reserve(16 * hs.size());
  for (size_t i = 0; i < hs.size(); ++i) {
    if (i > 0 && hs[i].name == hs[i - 1].name) continue;
    if (!r.signed_headers.empty()) r.signed_headers.push_back(';');
    r.signed_headers.append(hs[i].name);
  }

  // The query parameters of a presigned URL, in the order they are appended
  // (the signature comes last, once known); the token signed or not.
  std::string added;
  if (presign) {
    added.reserve(256 + creds_.session_token.size() * 3);
    added.append("X-Amz-Algorithm=").append(kAlgorithm);
    added.append("&X-Amz-Credential=");
    sigv4_detail::uri_encode(creds_.access_key_id, false, added);
    added.append("%2F");
    sigv4_detail::uri_encode(r.scope, false, added);
    added.append("&X-Amz-Date=").append(r.amz_date);
    added.append("&X-Amz-SignedHeaders=");
    sigv4_detail::uri_encode(r.signed_headers, false, added);
    added.append("&X-Amz-Expires=").append(std::to_string(presign_expires->count()));
    if (sign_token) {
      added.append("&X-Amz-Security-Token=");
      sigv4_detail::uri_encode(creds_.session_token, false, added);
    }
  }

  // Canonical request.
  std::string& c = r.canonical_request;
  c.reserve(256 + url.size() + added.size() + 64 * hs.size());
  c.append(method).push_back('\n');
  c.append(sigv4_detail::canonical_path(url_parts.path, options_.normalize_path, options_.uri_encode_path));
  c.push_back('\n');
  if (presign) {
    std::string q(url_parts.query);
    if (!q.empty()) q.push_back('&');
    q.append(added);
    c.append(sigv4_detail::canonical_query(q));
  } else {
    c.append(sigv4_detail::canonical_query(url_parts.query));
  }
  c.push_back('\n');
  for (size_t i = 0; i < hs.size();) {
    c.append(hs[i].name).push_back(':');
    append_trimmed(hs[i].value, c);
    size_t j = i + 1;
    for (; j < hs.size() && hs[j].name == hs[i].name; ++j) {  // a repeated header: values joined with ','
      c.push_back(',');
      append_trimmed(hs[j].value, c);
    }
    c.push_back('\n');
    i = j;
  }
  c.push_back('\n');
  c.append(r.signed_headers).push_back('\n');
  c.append(payload_hash);

  // String to sign, signature.
  char hex[64];
  const Sha256Digest creq_hash = sha256(c);
  hex_lower(creq_hash.data(), creq_hash.size(), hex);
  std::string& s = r.string_to_sign;
  s.reserve(kAlgorithm.size() + r.amz_date.size() + r.scope.size() + 64 + 3);
  s.append(kAlgorithm).append("\n").append(r.amz_date).append("\n").append(r.scope).append("\n").append(hex, 64);
  const Sha256Digest sig = hmac_sha256(signing_key(date8), s);
  r.signature.resize(64);
  hex_lower(sig.data(), sig.size(), r.signature.data());

  if (presign) {
    // The URL as given, its query extended (before any fragment).
    const size_t hash = url.find('#');
    const std::string_view base = url.substr(0, hash);
    std::string& u = r.presigned_url;
    u.reserve(url.size() + added.size() + creds_.session_token.size() * 3 + 100);
    u.append(base);
    if (base.find('?') == std::string_view::npos)
      u.push_back('?');
    else if (base.back() != '?' && base.back() != '&')
      u.push_back('&');
    u.append(added);
    if (has_token && !sign_token) {
      u.append("&X-Amz-Security-Token=");
      sigv4_detail::uri_encode(creds_.session_token, false, u);
    }
    u.append("&X-Amz-Signature=").append(r.signature);
    if (hash != std::string_view::npos) u.append(url.substr(hash));
    return r;
  }

  std::string authz;
  authz.reserve(kAlgorithm.size() + creds_.access_key_id.size() + r.scope.size() + r.signed_headers.size() + 120);
  authz.append(kAlgorithm)
      .append(" Credential=")
      .append(creds_.access_key_id)
      .append("/")
      .append(r.scope)
      .append(", SignedHeaders=")
      .append(r.signed_headers)
      .append(", Signature=")
      .append(r.signature);

  r.headers.reserve(4);
  if (has_token) r.headers.emplace_back("X-Amz-Security-Token", creds_.session_token);
  r.headers.emplace_back("X-Amz-Date", r.amz_date);
  if (content_header) r.headers.emplace_back("x-amz-content-sha256", std::string(payload_hash));
  r.headers.emplace_back("Authorization", std::move(authz));
  return r;
}

void SigV4Signer::sign_request(http::Request& req, std::chrono::system_clock::time_point when) const {
  SigV4Result r = sign(req.method, req.url, req.headers, req.body, when);
  r.apply(req.headers);
  for (const char* secret : {"Authorization", "X-Amz-Security-Token"}) {
    bool listed = false;
    for (const auto& s : req.secret_headers) listed = listed || http::iequals(s, secret);
    if (!listed) req.secret_headers.emplace_back(secret);
  }
}

namespace {
class SigV4Credential final : public Credential {
 public:
  explicit SigV4Credential(std::shared_ptr<const SigV4Signer> signer) : signer_(std::move(signer)) {}
  void apply(http::Request& req, std::chrono::system_clock::time_point now) const override {
    signer_->sign_request(req, now);
  }
  bool per_attempt() const override { return true; }

 private:
  std::shared_ptr<const SigV4Signer> signer_;
};
}  // namespace

std::shared_ptr<const Credential> sigv4_credential(std::shared_ptr<const SigV4Signer> signer) {
  if (!signer) throw Error(LLM_ERR_INVALID_ARGUMENT, "SigV4: no signer");
  return std::make_shared<SigV4Credential>(std::move(signer));
}

}  // namespace literllm::auth
