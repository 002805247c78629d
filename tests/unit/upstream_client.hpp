// What the local upstream's protocol tests (upstream_*_test.cpp) send it: one
// HTTP request over a real socket with libcurl, the answer whole.
#pragma once
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <strings.h>

#include <string>
#include <string_view>
#include <vector>

#include "upstream.hpp"

namespace upstream_client {

struct Answer {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::string> headers;  // raw header lines

  // The first header of that name (case-insensitive), trimmed; "" when absent.
  std::string header(const std::string& name) const {
    for (const std::string& line : headers) {
      auto colon = line.find(':');
      if (colon != name.size() || strncasecmp(line.c_str(), name.c_str(), name.size()) != 0) continue;
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      return v;
    }
    return {};
  }
};

inline size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

inline size_t on_header(char* data, size_t size, size_t n, void* user) {
  static_cast<std::vector<std::string>*>(user)->emplace_back(data, size * n);
  return size * n;
}

// `method` "GET" sends no body; any other sends `body` with `content_type`
// (empty: no Content-Type header at all). `headers` are "name: value" lines,
// added after Content-Type.
inline Answer request(const literllm::testing::Upstream& up, const std::string& path, const std::string& body,
                      const std::vector<std::string>& headers, const char* method = "POST",
                      const std::string& content_type = "application/json") {
  CURL* easy = curl_easy_init();
  Answer a;
  std::string url = "http://127.0.0.1:" + std::to_string(up.port()) + path;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  if (std::string_view(method) != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  curl_slist* list =
      curl_slist_append(nullptr, content_type.empty() ? "Content-Type:" : ("Content-Type: " + content_type).c_str());
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &a.headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  a.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &a.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(easy);
  return a;
}

// An answer's JSON (a parse error fails the test).
inline rapidjson::Document parse(std::string_view text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

inline std::string str(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "<not a string>";
}

}  // namespace upstream_client
