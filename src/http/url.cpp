#include "http/url.hpp"

#include <curl/curl.h>

#include <memory>
#include <new>

#include "http/request.hpp"

namespace literllm::http {

std::string url_problem(std::string_view url) {
  for (unsigned char c : url) {
    if (c == 0) return "contains a NUL character";
    if (c < 0x20 || c == 0x7f) return "contains a control character (CR, LF, tab and the like)";
    if (c == ' ') return "contains a space (percent-encode it as %20)";
  }
  size_t scheme = 0;
  if (url.size() >= 7 && iequals(url.substr(0, 7), "http://")) scheme = 7;
  else if (url.size() >= 8 && iequals(url.substr(0, 8), "https://")) scheme = 8;
  else return "must start with http:// or https://";
  size_t end = url.find_first_of("/?#", scheme);
  std::string_view authority = url.substr(scheme, end == std::string_view::npos ? std::string_view::npos : end - scheme);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty() || authority.front() == ':') return "has no host name";
  if (url.find('{') != std::string_view::npos) return {};  // placeholders: judged once filled in
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  if (!u) throw std::bad_alloc();
  std::string text(url);
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0);
  if (rc != CURLUE_OK) return std::string("is not a valid URL (") + curl_url_strerror(rc) + ")";
  char* host = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
    curl_free(host);
    return "has no host name";
  }
  curl_free(host);
  return {};
}

std::string join_path(std::string_view base, std::string_view path) {
  size_t scheme = base.find("://");
  size_t tail = base.find_first_of("?#", scheme == std::string_view::npos ? 0 : scheme + 3);
  if (tail == std::string_view::npos) tail = base.size();
  std::string out(base.substr(0, tail));
  size_t keep = scheme == std::string_view::npos ? 0 : scheme + 3;
  while (out.size() > keep && out.back() == '/') out.pop_back();
  out.append(path).append(base.substr(tail));
  return out;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex(s[i + 1])) >= 0 && (lo = hex(s[i + 2])) >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

}  // namespace literllm::http
