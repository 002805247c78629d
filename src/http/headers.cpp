#include "http/headers.hpp"

#include "http/request.hpp"

namespace literllm::http {

namespace {

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  return false;
}

}  // namespace

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

bool is_valid_value(std::string_view v) {
  for (unsigned char c : v)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

bool is_reserved(std::string_view name) {
  if (!name.empty() && name.front() == ':') return true;
  static constexpr std::string_view kReserved[] = {"content-length", "transfer-encoding", "host", "connection",
                                                   "keep-alive", "te", "trailer", "upgrade", "expect",
                                                   "accept-encoding", "proxy-connection"};
  for (std::string_view r : kReserved)
    if (iequals(name, r)) return true;  // lengths first: most names differ there
  return false;
}

std::string header_problem(std::string_view name, std::string_view value) {
  if (name.empty()) return "is not a valid header name (it is empty)";
  if (name.front() == ':') return "is an HTTP/2 pseudo-header, which the library sets itself";
  if (!is_token(name)) return "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
  if (is_reserved(name))
    return "is reserved: it frames the message or the connection, and the library sets it itself";
  if (!is_valid_value(value))
    return "the header value contains a control character (CR, LF, NUL and the like cannot be sent)";
  return {};
}

std::string head_size_problem(std::string_view url, const Headers& headers) {
  size_t bytes = url.size();
  for (auto& [name, value] : headers) bytes += name.size() + value.size() + 4;  // ": " and CRLF
  if (bytes <= kMaxRequestHeaderBytes) return {};
  return "the request's URL and headers come to " + std::to_string(bytes) + " bytes, more than the limit of " +
         std::to_string(kMaxRequestHeaderBytes);
}

bool is_credential(std::string_view name) {
  for (const char* w : {"key", "auth", "token", "secret", "cookie", "signature", "credential", "password"})
    if (icontains(name, w)) return true;
  return false;
}

std::string printable(std::string_view name) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : name.substr(0, 128)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (name.size() > 128) out += "...";
  return out;
}

}  // namespace literllm::http
