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

TEST(Json, NulBytesAreRefused) {
  // RapidJSON reads a NUL as the end of the text: what follows one must not be ignored.
  std::string msg;
  EXPECT_EQ(parse_status(std::string("{\"a\":1}\0junk", 12), &msg), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("NUL"), std::string::npos) << msg;
  EXPECT_NE(msg.find("byte 7"), std::string::npos) << msg;
  EXPECT_EQ(parse_status(std::string("{\"a\":1}\0", 8)), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(parse_status(std::string("{\"a\":\"x\0y\"}", 11)), LLM_ERR_INVALID_ARGUMENT);  // inside a string
  EXPECT_EQ(parse_status(std::string("[1,\0 2]", 7)), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(parse_status("{\"a\":\"x\\u0000y\"}"), LLM_OK);  // an escaped NUL is a character like any other
}

TEST(Json, LongStringsAndNonAsciiText) {
  // Strings are skipped eight bytes at a time: quotes, escapes and the end of
  // the text at every offset, ASCII and not.
  for (size_t n = 0; n < 40; ++n) {
    SCOPED_TRACE(n);
    std::string s(n, 'x');
    EXPECT_EQ(parse_status("[\"" + s + "\"]"), LLM_OK);
    EXPECT_EQ(parse_status("[\"" + s + "\\\"" + s + "\"]"), LLM_OK);  // an escaped quote inside
    EXPECT_EQ(parse_status("[\"" + s + "\\udc00\"]"), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(parse_status("[\"" + s + "\"," + std::string(600, '[') + std::string(600, ']') + "]"),
              LLM_ERR_INVALID_ARGUMENT);  // depth counts again after the string
    EXPECT_EQ(parse_status("[\"" + s + "\xC3\xA9\"]"), LLM_OK);     // é: valid UTF-8
    EXPECT_EQ(parse_status("[\"" + s + "\xC3\x28\"]"), LLM_ERR_INVALID_ARGUMENT);  // invalid UTF-8
    EXPECT_EQ(parse_status("[\"" + s + "\xFF" + s + "\"]"), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(parse_status("[\"" + s), LLM_OK);  // unterminated
  }
  auto d = json::parse("{\"k\":\"caf\xC3\xA9 \\\"quoted\\\" \xE2\x82\xAC and more than eight bytes\"}", "doc",
                       LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(d["k"].GetString()), "caf\xC3\xA9 \"quoted\" \xE2\x82\xAC and more than eight bytes");
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
