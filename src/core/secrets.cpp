#include "core/secrets.hpp"

#include <algorithm>

#include "auth/crypto.hpp"
#include "http/headers.hpp"
#include "http/request.hpp"
#include "http/url.hpp"

namespace literllm {

namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of `n` hex digits at t[i...], or -1.
long hex_at(std::string_view t, size_t i, size_t n) {
  if (i + n > t.size()) return -1;
  long v = 0;
  for (size_t k = 0; k < n; ++k) {
    int d = hex_digit(t[i + k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// How many bytes of `t` at `i` spell the byte `want`: itself, a JSON escape
// (\u00XX, \/, \\, \", \n ...), a percent-encoding (%XX) or, for a space, a
// '+'. 0 when they do not.
size_t spell(std::string_view t, size_t i, unsigned char want) {
  if (i >= t.size()) return 0;
  const auto c = static_cast<unsigned char>(t[i]);
  if (c == want) return 1;
  if (c == '%') return hex_at(t, i + 1, 2) == want ? 3 : 0;
  if (c == '+') return want == ' ' ? 1 : 0;
  if (c != '\\' || i + 1 >= t.size()) return 0;
  switch (t[i + 1]) {
    case 'u': return want < 0x80 && hex_at(t, i + 2, 4) == want ? 6 : 0;
    case '/': case '\\': case '"': return static_cast<unsigned char>(t[i + 1]) == want ? 2 : 0;
    case 'b': return want == '\b' ? 2 : 0;
    case 'f': return want == '\f' ? 2 : 0;
    case 'n': return want == '\n' ? 2 : 0;
    case 'r': return want == '\r' ? 2 : 0;
    case 't': return want == '\t' ? 2 : 0;
    default: return 0;
  }
}

// Length of the spelling of `secret` starting at t[i], or 0.
size_t match_at(std::string_view t, size_t i, std::string_view secret) {
  size_t j = i;
  for (char b : secret) {
    size_t n = spell(t, j, static_cast<unsigned char>(b));
    if (n == 0) return 0;
    j += n;
  }
  return j - i;
}

std::string redact_all(std::string text, const std::vector<std::string>& secrets) {
  if (secrets.empty() || text.empty()) return text;
  std::string out;
  bool changed = false;
  size_t copied = 0;  // text[copied, i) is still to be appended
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    size_t len = 0;
    if (c == '\\' || c == '%' || c == '+') {
      for (const auto& s : secrets)
        if ((len = match_at(text, i, s)) != 0) break;
    } else {
      for (const auto& s : secrets)
        if (s.front() == c && (len = match_at(text, i, s)) != 0) break;
    }
    if (len == 0) {
      ++i;
      continue;
    }
    if (!changed) out.reserve(text.size());
    changed = true;
    out.append(text, copied, i - copied).append(kRedacted);
    i += len;
    copied = i;
  }
  if (!changed) return text;
  out.append(text, copied, std::string::npos);
  return out;
}


bool secret_query_name(std::string_view name) {
  return http::is_credential(name) || http::iequals(name, "sig") || http::iequals(name, "code");
}

// Where a URL's parts are: [authority_begin, authority_end) and the query's start (or npos).
struct UrlParts {
  size_t authority_begin = 0, authority_end = 0, query = std::string_view::npos, query_end = 0;
};

UrlParts split_url(std::string_view url) {
  UrlParts p;
  size_t scheme = url.find("://");
  p.authority_begin = scheme == std::string_view::npos ? 0 : scheme + 3;
  p.authority_end = url.find_first_of("/?#", p.authority_begin);
  if (p.authority_end == std::string_view::npos) p.authority_end = url.size();
  size_t q = url.find('?', p.authority_end);
  size_t hash = url.find('#', p.authority_end);
  if (q != std::string_view::npos && (hash == std::string_view::npos || q < hash)) {
    p.query = q + 1;
    p.query_end = hash == std::string_view::npos ? url.size() : hash;
  }
  return p;
}

// Calls fn(value_begin, value_end) for each credential-looking query value of `url`.
template <class F>
void each_secret_query_value(std::string_view url, const UrlParts& p, F&& fn) {
  if (p.query == std::string_view::npos) return;
  size_t i = p.query;
  while (i < p.query_end) {
    size_t amp = url.find('&', i);
    if (amp == std::string_view::npos || amp > p.query_end) amp = p.query_end;
    size_t eq = url.find('=', i);
    if (eq != std::string_view::npos && eq < amp && secret_query_name(http::percent_decode(url.substr(i, eq - i), true)))
      fn(eq + 1, amp);
    i = amp + 1;
  }
}

}  // namespace

void Secrets::add(std::string_view value) {
  if (value.size() < kMinLength) return;
  if (std::find(values_.begin(), values_.end(), value) != values_.end()) return;
  auto at = std::find_if(values_.begin(), values_.end(), [&](const std::string& v) { return v.size() < value.size(); });
  values_.emplace(at, value);
}

void Secrets::add_header(std::string_view name, std::string_view value) {
  if (!http::is_credential(name)) return;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  value = trim(value);
  add(value);
  if (size_t sp = value.find(' '); sp != std::string_view::npos) add(trim(value.substr(sp + 1)));  // "Bearer <token>"
  if (http::iequals(name, "cookie")) {
    size_t i = 0;
    while (i < value.size()) {
      size_t semi = value.find(';', i);
      if (semi == std::string_view::npos) semi = value.size();
      std::string_view pair = value.substr(i, semi - i);
      if (size_t eq = pair.find('='); eq != std::string_view::npos) add(trim(pair.substr(eq + 1)));
      i = semi + 1;
    }
  }
}

void Secrets::add_url(std::string_view url) {
  UrlParts p = split_url(url);
  std::string_view authority = url.substr(p.authority_begin, p.authority_end - p.authority_begin);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    add(userinfo);
    add(http::percent_decode(userinfo, true));
    if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      add(userinfo.substr(colon + 1));
      add(http::percent_decode(userinfo.substr(colon + 1), true));
    }
    // What curl sends of it, and a server (or a proxy) may echo: "Authorization: Basic
    // base64(user:password)" (or Proxy-Authorization), of the decoded userinfo.
    std::string plain = http::percent_decode(userinfo, false);
    if (plain.find(':') == std::string::npos) plain += ':';
    add(auth::base64_encode(plain));
  }
  each_secret_query_value(url, p, [&](size_t b, size_t e) {
    add(url.substr(b, e - b));
    add(http::percent_decode(url.substr(b, e - b), true));
  });
}

std::string Secrets::redact(std::string text) const { return redact_all(std::move(text), values_); }

std::string redact(std::string text, std::string_view secret) {
  if (secret.size() < Secrets::kMinLength) return text;
  return redact_all(std::move(text), {std::string(secret)});
}

std::string redact_url(std::string_view url) {
  UrlParts p = split_url(url);
  std::string out;
  std::string_view authority = url.substr(p.authority_begin, p.authority_end - p.authority_begin);
  size_t at = authority.rfind('@');
  out.append(url.substr(0, p.authority_begin));
  if (at != std::string_view::npos) out.append(kRedacted).append(authority.substr(at));
  else out.append(authority);
  size_t copied = p.authority_end;
  each_secret_query_value(url, p, [&](size_t b, size_t e) {
    out.append(url.substr(copied, b - copied)).append(kRedacted);
    copied = e;
  });
  out.append(url.substr(copied));
  return out;
}

}  // namespace literllm
