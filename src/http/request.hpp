// What a provider adapter builds and the transport sends: plain data, no curl.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace literllm::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One part of a multipart/form-data body (an upload's form). Its content is
// `value`, or the file at `path` (read as it is sent, never loaded whole), or
// `size` bytes at `data` that the caller keeps alive and unchanged until the
// transfer ends (no copy).
struct Part {
  std::string name;          // the form field
  std::string filename;      // the part's filename ("" for a plain field)
  std::string content_type;  // "" for a plain field
  std::string value;
  std::string path;
  const char* data = nullptr;
  size_t size = 0;
};

struct Request {
  std::string method = "POST";
  std::string url;
  Headers headers;  // sent in this order; names as given
  std::string body;
  // A multipart/form-data body instead of `body` when not empty (the
  // transport writes its Content-Type, boundary included).
  std::vector<Part> parts;
  // Header names whose values are secrets (redacted in previews and messages).
  std::vector<std::string> secret_headers;
};

// ASCII case-insensitive equality, as header names compare.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Case-insensitive header lookup; nullptr when absent.
inline const std::string* find_header(const Headers& h, std::string_view name) {
  for (auto& [k, v] : h)
    if (iequals(k, name)) return &v;
  return nullptr;
}

// Sets a header, replacing every earlier one of the same name (case-insensitive).
inline void set_header(Headers& h, std::string name, std::string value) {
  std::erase_if(h, [&](const auto& kv) { return iequals(kv.first, name); });
  h.emplace_back(std::move(name), std::move(value));
}

}  // namespace literllm::http
