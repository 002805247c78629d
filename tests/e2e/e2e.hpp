// Shared fixture for end-to-end tests: a local upstream on 127.0.0.1 and a
// client pointed at it, through the public C API only.
#pragma once
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "forms.hpp"
#include "literllm.h"
#include "upstream.hpp"

namespace e2e {

inline const char* kKey = "sk-test-e2e-secret-0123456789";

// A JSON value as compact text.
inline std::string dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

// A JSON string literal for `s` (quotes included).
inline std::string q(const std::string& s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return b.GetString();
}

inline rapidjson::Document parse(const char* text) {
  rapidjson::Document d;
  d.Parse(text ? text : "null");
  EXPECT_FALSE(d.HasParseError()) << (text ? text : "(null)");
  return d;
}

// A chat request: model, one user message, then any extra fields (",\"n\":2").
inline std::string chat_req(const std::string& model, const std::string& content, const std::string& extra = "") {
  return "{\"model\":" + q(model) + ",\"messages\":[{\"role\":\"user\",\"content\":" + q(content) + "}]" + extra + "}";
}

// `"extra_headers":{...}` fragment.
inline std::string headers(const std::string& obj) { return ",\"extra_headers\":" + obj; }

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    up.start();
    client = make_client();
  }
  void TearDown() override {
    llm_client_free(client);
    up.stop();
  }
  // A client whose openai provider is the upstream; `extra` adds config fields (",\"max_retries\":0").
  llm_client_t* make_client(const std::string& extra = ",\"max_retries\":0") {
    std::string cfg = "{\"providers\":{\"openai\":{\"base_url\":" + q(up.base_url()) + ",\"api_key\":" + q(kKey) +
                      "}}" + extra + "}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }
  literllm::testing::Upstream up;
  llm_client_t* client = nullptr;
};

// Reads a whole stream; returns the status that ended it and the chunks.
struct StreamResult {
  llm_status status = LLM_OK;
  std::vector<std::string> chunks;
  std::string content;  // choices[0].delta.content joined
  std::string error;
};

inline StreamResult drain(llm_stream_t* s) {
  StreamResult r;
  for (;;) {
    const char* chunk = nullptr;
    llm_status st = llm_stream_next(s, &chunk);
    if (st != LLM_OK) {
      r.status = st;
      r.error = llm_last_error();
      return r;
    }
    if (!chunk) return r;
    r.chunks.emplace_back(chunk);
    rapidjson::Document d = parse(chunk);
    if (d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty()) {
      const auto& delta = d["choices"][0]["delta"];
      if (delta.IsObject() && delta.HasMember("content") && delta["content"].IsString())
        r.content += delta["content"].GetString();
    }
  }
}

}  // namespace e2e
