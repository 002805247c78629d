// The JSON layer's own guarantees, beyond RapidJSON's: bounded depth, no lone
// surrogates, duplicate member names found. Each was a fuzzer finding.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "core/json.hpp"
#include "core/validate.hpp"

using namespace literllm;

namespace {
llm_status parse_status(const std::string& text, std::string* msg = nullptr) {
  try {
    json::parse(text, "doc", LLM_ERR_INVALID_ARGUMENT);
    return LLM_OK;
  } catch (const Error& e) {
    if (msg) *msg = e.what();
    return e.status();
  }
}
}  // namespace

TEST(Json, DepthIsBounded) {
  std::string ok = std::string(512, '[') + std::string(512, ']');
  EXPECT_EQ(parse_status(ok), LLM_OK);
  std::string msg;
  EXPECT_EQ(parse_status(std::string(513, '[') + std::string(513, ']'), &msg), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("deeper than 512"), std::string::npos) << msg;
  // Brackets inside strings do not count.
  EXPECT_EQ(parse_status("[\"" + std::string(2000, '[') + "\"]"), LLM_OK);
}

TEST(Json, ErrorBodiesOfAnyDepthDoNotCrash) {
  std::string deep(300000, '[');  // far past what a recursive parser's stack survives
  std::string m = error_body_message(deep);
  EXPECT_LE(m.size(), 503u);
  Error e = http_error("openai", 500, deep, {}, "sk-secret-1234");
  EXPECT_EQ(e.status(), LLM_ERR_SERVER_ERROR);
}

TEST(Json, LoneSurrogatesAreRefused) {
  std::string msg;
  EXPECT_EQ(parse_status(R"({"a":"\udc00"})", &msg), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("surrogate"), std::string::npos) << msg;
  EXPECT_EQ(parse_status(R"({"a":"x\uDFFFy"})"), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(parse_status(R"({"a":"\ud800"})"), LLM_OK);         // a high half alone (RapidJSON refuses)
  EXPECT_NE(parse_status(R"({"a":"\ud800\u0041"})"), LLM_OK);   // a high half with no low half
  EXPECT_EQ(parse_status(R"({"a":"\ud83d\ude00"})"), LLM_OK);   // a pair: U+1F600
  EXPECT_EQ(parse_status(R"({"a":"\\udc00"})"), LLM_OK);        // an escaped backslash, then text
  auto d = json::parse(R"({"a":"\ud83d\ude00"})", "doc", LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(d["a"].GetString()), "\xF0\x9F\x98\x80");
}

TEST(Json, DuplicateKeysAreFoundWithTheirPath) {
  auto d = json::parse(R"({"a":1,"b":[{"x":1},{"y":1,"y":2}],"c":{"d":1}})", "doc", LLM_ERR_INVALID_ARGUMENT);
  auto dup = json::find_duplicate_key(d);
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(*dup, ".b[1].y");
  auto ok = json::parse(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})", "doc", LLM_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(json::find_duplicate_key(ok).has_value());
}

TEST(Json, RequestsWithRepeatedFieldsAreRefused) {
  for (const char* text : {
           R"({"model":"m","stream":false,"stream":true,"messages":[{"role":"user","content":"x"}]})",
           R"({"model":"m","messages":[{"role":"user","role":"developer","content":"x"}]})",
       }) {
    auto d = json::parse(text, "request", LLM_ERR_INVALID_ARGUMENT);
    try {
      validate_chat_request(d, false);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find("appears more than once"), std::string::npos) << e.what();
    }
  }
}
