// json::TextWriter writes exactly json::dump's text (its fast escape scan
// checked at every alignment), and json::StreamParser accepts only what
// json::parse accepts.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/json.hpp"
#include "core/json_fast.hpp"

using namespace literllm;

namespace {

json::Document doc(std::string_view text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

}  // namespace

// RapidJSON's own Writer: what dump() used to write, and the reference.
std::string rapid(const json::Value& v) {
  json::StringBuffer buf;
  json::Writer w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

TEST(JsonTextWriter, WritesWhatRapidJsonsWriterWrites) {
  json::TextWriter w;
  for (const char* text : {R"({})", R"([])", R"(null)", R"(true)", R"(false)", R"(-9223372036854775808)",
                           R"(18446744073709551615)", R"({"a":[1,{"b":null}],"c":"d","e":[]})",
                           R"("caf\u00e9 \u2603 \ud83d\ude00")", R"({"k\"ey":"v\\al\/ue"})"}) {
    SCOPED_TRACE(text);
    json::Document d = doc(text);
    ASSERT_TRUE(w.write(d));
    EXPECT_EQ(w.view(), rapid(d));
    EXPECT_EQ(json::dump(d), rapid(d));
  }
  // Every byte that needs an escape, at every offset of strings long enough for the 16- and 8-byte scans.
  for (int c = 0; c < 0x20 + 3; ++c) {
    const char special = c < 0x20 ? static_cast<char>(c) : c == 0x20 ? '"' : c == 0x21 ? '\\' : '/';
    for (size_t len : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 33u}) {
      for (size_t at = 0; at < len; ++at) {
        std::string s(len, 'x');
        s[at] = special;
        json::Document d(rapidjson::kObjectType);
        d.AddMember("s", json::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), d.GetAllocator()),
                    d.GetAllocator());
        ASSERT_TRUE(w.write(d));
        ASSERT_EQ(w.view(), rapid(d)) << "byte " << c << " at " << at << " of " << len;
      }
    }
  }
  // Doubles in their shortest form, as the Writer writes them.
  for (double x : {3.25, 0.1, -0.0, 1e300, -2.5e-300, 5e-324, 1.7976931348623157e308, 123456789.125, 1e21, 1.0 / 3}) {
    json::Document d(rapidjson::kArrayType);
    d.PushBack(json::Value(x), d.GetAllocator());
    ASSERT_TRUE(w.write(d));
    EXPECT_EQ(w.view(), rapid(d)) << x;
  }
  json::Document pi = doc(R"({"x":3.25})");
  EXPECT_EQ(json::TextWriter::dump(pi), R"({"x":3.25})");
  // What the Writer refuses (a NaN, an infinity): dump() writes what the Writer wrote before it stopped.
  json::Document nan(rapidjson::kArrayType);
  nan.PushBack(1, nan.GetAllocator()).PushBack(json::Value(std::numeric_limits<double>::infinity()), nan.GetAllocator());
  EXPECT_FALSE(w.write(nan));
  EXPECT_EQ(json::dump(nan), rapid(nan));
  // The buffer is dropped past the size it may keep, and writing goes on.
  std::string big(100000, 'y');
  json::Document b(rapidjson::kStringType);
  b.SetString(big.data(), static_cast<rapidjson::SizeType>(big.size()), b.GetAllocator());
  ASSERT_TRUE(w.write(b));
  w.trim(1024);
  ASSERT_TRUE(w.write(pi["x"].SetInt(3)));
  EXPECT_EQ(w.view(), "3");
}

TEST(JsonStreamParser, AcceptsWhatJsonParseAcceptsAndLeavesTheRestToIt) {
  json::StreamParser p;
  simdjson::dom::element root;
  ASSERT_TRUE(p.parse(R"({"a":[1,2,{"b":"c"}]})", root));
  EXPECT_EQ(std::string_view(root["a"].at(2)["b"].get_string().value()), "c");
  // Again on the same parser (the last element is no longer valid then).
  ASSERT_TRUE(p.parse(R"([true])", root));
  EXPECT_TRUE(root.at(0).get_bool().value());
  // Refused: broken JSON, a lone surrogate, nesting past json::parse's limit, a text over kMaxText.
  EXPECT_FALSE(p.parse(R"({"a":)", root));
  EXPECT_FALSE(p.parse(R"("\udc00")", root));
  EXPECT_FALSE(p.parse(std::string(json::kMaxDepth + 1, '[') + std::string(json::kMaxDepth + 1, ']'), root));
  EXPECT_TRUE(p.parse(std::string(json::kMaxDepth, '[') + std::string(json::kMaxDepth, ']'), root));
  EXPECT_FALSE(p.parse("\"" + std::string(json::StreamParser::kMaxText, 'z') + "\"", root));
  // Integers past 64 bits: simdjson refuses, RapidJSON reads them.
  EXPECT_FALSE(p.parse("123456789012345678901234567890", root));
}

TEST(JsonFind, ComparesTheViewNotUpToANul) {
  json::Document d = doc(R"({"ab":1,"a":2,"a\u0000b":3})");
  const std::string text = "abc";
  // A view that is not NUL-terminated at its end.
  ASSERT_NE(json::find(d, std::string_view(text).substr(0, 1)), nullptr);
  EXPECT_EQ(json::find(d, std::string_view(text).substr(0, 1))->GetInt(), 2);
  EXPECT_EQ(json::find(d, std::string_view(text).substr(0, 2))->GetInt(), 1);
  EXPECT_EQ(json::find(d, std::string_view("a\0b", 3))->GetInt(), 3);
  EXPECT_EQ(json::find(d, std::string_view("abc")), nullptr);
}

// A string written a piece at a time is the string dump() writes.
TEST(JsonAppendEscaped, PiecesMakeWhatDumpWrites) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  all += "tail \"quoted\" \\ back";
  json::Document d;
  d.SetString(all.data(), static_cast<rapidjson::SizeType>(all.size()), d.GetAllocator());
  const std::string want = json::dump(d);
  for (size_t step : {size_t{1}, size_t{3}, size_t{17}, all.size()}) {
    std::string out = "\"";
    for (size_t i = 0; i < all.size(); i += step) json::append_escaped(out, std::string_view(all).substr(i, step));
    out += '"';
    EXPECT_EQ(out, want) << "pieces of " << step;
  }
}
