// What a provider adapter builds and the transport sends: plain data, no curl.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace literllm::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "POST";
  std::string url;
  Headers headers;  // sent in this order; names as given
  std::string body;
  // Header names whose values are secrets (redacted in previews and messages).
  std::vector<std::string> secret_headers;
};

// Case-insensitive header lookup; nullptr when absent.
inline const std::string* find_header(const Headers& h, std::string_view name) {
  for (auto& [k, v] : h) {
    if (k.size() == name.size()) {
      bool eq = true;
      for (size_t i = 0; i < k.size() && eq; ++i) eq = (k[i] | 0x20) == (name[i] | 0x20);
      if (eq) return &v;
    }
  }
  return nullptr;
}

}  // namespace literllm::http
