// multipart/form-data, parsed as RFC 2046 section 5.1.1 and RFC 7578 describe it.
#include "multipart.hpp"

#include <cctype>

namespace literllm::testing::multipart {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A header's parameters: `; name=value` with token or quoted-string values.
// Returns false when a quoted string does not end.
bool parameters(std::string_view s, std::vector<std::pair<std::string, std::string>>& out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ';' || s[i] == ' ' || s[i] == '\t')) ++i;
    if (i == s.size()) break;
    size_t eq = i;
    while (eq < s.size() && s[eq] != '=' && s[eq] != ';') ++eq;
    std::string name = lower(trim(s.substr(i, eq - i)));
    if (eq == s.size() || s[eq] == ';') {  // a bare word (the disposition type itself)
      out.emplace_back(std::move(name), std::string());
      i = eq;
      continue;
    }
    i = eq + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i++];
        if (c == '\\' && i < s.size()) {
          value += s[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) return false;
    } else {
      size_t end = i;
      while (end < s.size() && s[end] != ';') ++end;
      value = std::string(trim(s.substr(i, end - i)));
      i = end;
    }
    out.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987's ext-value: charset'language'percent-encoded (UTF-8 and ASCII only).
std::optional<std::string> ext_value(std::string_view v) {
  size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  std::string charset = lower(v.substr(0, q1));
  if (charset != "utf-8" && charset != "us-ascii") return std::nullopt;
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;
    int hi = hex(v[i + 1]), lo = hex(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool boundary_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  for (char x : std::string_view("'()+_,-./:=? "))
    if (c == x) return true;
  return false;
}

// Where the next line ends (at its CR LF or LF), and where the one after starts.
bool line_end(std::string_view s, size_t from, size_t& end, size_t& next) {
  size_t lf = s.find('\n', from);
  if (lf == std::string_view::npos) return false;
  end = lf > from && s[lf - 1] == '\r' ? lf - 1 : lf;
  next = lf + 1;
  return true;
}

}  // namespace

std::optional<std::string> boundary_of(std::string_view content_type) {
  size_t semi = content_type.find(';');
  if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data" || semi == std::string_view::npos)
    return std::nullopt;
  std::vector<std::pair<std::string, std::string>> params;
  if (!parameters(content_type.substr(semi + 1), params)) return std::nullopt;
  for (const auto& [k, v] : params) {
    if (k != "boundary") continue;
    if (v.empty() || v.size() > 70 || v.back() == ' ') return std::nullopt;
    for (char c : v)
      if (!boundary_char(c)) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

bool parse(std::string_view body, std::string_view boundary, std::vector<Part>& out, std::string& error) {
  out.clear();
  const std::string dash = "--" + std::string(boundary);
  const std::string delimiter = "\r\n" + dash;
  // The first delimiter: at the very start, or after the preamble's CRLF.
  size_t at;
  if (body.substr(0, dash.size()) == dash) {
    at = dash.size();
  } else {
    size_t d = body.find(delimiter);
    if (d == std::string_view::npos) {
      error = "multipart body has no delimiter --" + std::string(boundary);
      return false;
    }
    at = d + delimiter.size();
  }
  for (;;) {
    // Just after a delimiter: "--" closes; else padding, then a line end.
    if (body.substr(at, 2) == "--") return true;
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    size_t end, next;
    if (!line_end(body, at, end, next) || end != at) {
      error = "multipart body: a delimiter is not followed by a line end (byte " + std::to_string(at) +
              "); the closing delimiter --" + std::string(boundary) + "-- is missing";
      return false;
    }
    at = next;
    Part part;
    // Headers, up to an empty line.
    for (;;) {
      if (!line_end(body, at, end, next)) {
        error = "multipart body: part " + std::to_string(out.size()) + "'s headers do not end";
        return false;
      }
      std::string_view line = body.substr(at, end - at);
      at = next;
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        error = "multipart body: part " + std::to_string(out.size()) + " has a header line without a name: " +
                std::string(line.substr(0, 80));
        return false;
      }
      part.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    bool disposition = false;
    for (const auto& [k, v] : part.headers) {
      std::string name = lower(k);
      if (name == "content-type") {
        part.content_type = v;
      } else if (name == "content-disposition") {
        std::vector<std::pair<std::string, std::string>> params;
        if (!parameters(v, params) || params.empty() || params[0].first != "form-data" || !params[0].second.empty()) {
          error = "multipart body: part " + std::to_string(out.size()) +
                  " has a Content-Disposition that is not form-data: " + v;
          return false;
        }
        disposition = true;
        bool have_name = false;
        for (size_t i = 1; i < params.size(); ++i) {
          const auto& [pk, pv] = params[i];
          if (pk == "name") {
            part.name = pv;
            have_name = true;
          } else if (pk == "filename" && !part.filename) {
            part.filename = pv;
          } else if (pk == "filename*") {
            if (auto decoded = ext_value(pv)) part.filename = std::move(*decoded);  // wins over filename
          }
        }
        if (!have_name) {
          error = "multipart body: part " + std::to_string(out.size()) + " has no name in its Content-Disposition";
          return false;
        }
      }
    }
    if (!disposition) {
      error = "multipart body: part " + std::to_string(out.size()) + " has no Content-Disposition header";
      return false;
    }
    // The data: up to the next delimiter (the CRLF before it belongs to the delimiter).
    size_t d = body.find(delimiter, at);
    if (d == std::string_view::npos) {
      error = "multipart body: part " + std::to_string(out.size()) + " (\"" + part.name +
              "\") has no delimiter after it; the closing delimiter --" + std::string(boundary) + "-- is missing";
      return false;
    }
    part.data = body.substr(at, d - at);
    out.push_back(std::move(part));
    at = d + delimiter.size();
  }
}

}  // namespace literllm::testing::multipart
