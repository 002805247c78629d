// UTF-8 checks (src/core/utf8.hpp): validity, U+FFFD substitution of maximal
// subparts, and clipping at a character boundary.
#include "core/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace literllm {
namespace {

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

// An independent check: decode by bit pattern, then reject overlong forms,
// surrogates and code points above U+10FFFF.
bool oracle_valid(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) n = 1, cp = c;
    else if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
    else return false;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += n;
  }
  return true;
}

TEST(Utf8, ValidTextIsUntouched) {
  for (const std::string& s : {std::string(), std::string("hello"), std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
                              R, std::string("\xF4\x8F\xBF\xBF"),  // U+10FFFF
                              std::string("\xED\x9F\xBF"),          // U+D7FF
                              std::string("\xEE\x80\x80"),          // U+E000
                              std::string("\xC2\x80"), std::string("\xE0\xA0\x80"), std::string("\xF0\x90\x80\x80"),
                              std::string("a\0b", 3)}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(valid_utf8(s), s);
  }
}

TEST(Utf8, ReplacesEachMaximalSubpart) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"\xE9\xFF\xFE", R + R + R},                 // a lead without continuation, two bytes never valid
      {"x\xE9\xFF\xFEy", "x" + R + R + R + "y"},
      {"\xC0\xAF", R + R},                         // overlong '/'
      {"\xC1\xBF", R + R},
      {"\xE0\x80\xAF", R + R + R},                 // overlong, three bytes
      {"\xF0\x80\x80\xAF", R + R + R + R},         // overlong, four bytes
      {"\xED\xA0\x80", R + R + R},                 // U+D800
      {"\xED\xBF\xBF", R + R + R},                 // U+DFFF
      {"\xF4\x90\x80\x80", R + R + R + R},         // U+110000
      {"\xF5\x80\x80\x80", R + R + R + R},
      {"\xFF", R},
      {"\x80\xBF", R + R},                         // stray continuations
      {"a\xF0\x9F\x98", "a" + R},                  // a four-byte sequence cut at the end
      {"\xF0\x9F\x98" "b", R + "b"},               // ... and in the middle
      {"\xF0\x9F", R},
      {"\xE2\x82" "x", R + "x"},
      {"\xC3", R},
      {"\xF0\x9F\x98\xF0\x9F\x98\x80", R + "\xF0\x9F\x98\x80"},
      // The Unicode standard's example for maximal subparts (Table 3-8).
      {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a" + R + R + R + "b" + R + "c" + R + R + "d"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(is_valid_utf8(c.in)) << testing::PrintToString(c.in);
    EXPECT_EQ(valid_utf8(c.in), c.out) << testing::PrintToString(c.in);
    EXPECT_TRUE(is_valid_utf8(valid_utf8(c.in)));
  }
}

TEST(Utf8, AsciiFastPathAtEveryOffset) {
  // The bad byte at every position of a long ASCII run, across the 8-byte steps.
  for (size_t len = 0; len < 40; ++len)
    for (size_t at = 0; at <= len; ++at) {
      std::string s(len, 'a');
      s.insert(at, "\xFF");
      EXPECT_FALSE(is_valid_utf8(s)) << len << " " << at;
      std::string want(len, 'a');
      want.insert(at, R);
      EXPECT_EQ(valid_utf8(s), want);
      std::string ok(len, 'a');
      ok.insert(at, "\xE2\x82\xAC");
      EXPECT_TRUE(is_valid_utf8(ok));
    }
}

TEST(Utf8, AgreesWithAnIndependentDecoder) {
  std::string s;
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      s = {static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(is_valid_utf8(s), oracle_valid(s)) << testing::PrintToString(s);
    }
  for (int a = 0xE0; a <= 0xF7; ++a)
    for (int b = 0x70; b <= 0xC0; ++b)
      for (int c = 0x70; c <= 0xC0; ++c) {
        s = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
        ASSERT_EQ(is_valid_utf8(s), oracle_valid(s)) << testing::PrintToString(s);
        s += '\x80';
        ASSERT_EQ(is_valid_utf8(s), oracle_valid(s)) << testing::PrintToString(s);
      }
}

TEST(Utf8, RandomBytesComeOutValid) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 3000; ++round) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 0x80 : rng() % 256);
    const std::string out = valid_utf8(s);
    ASSERT_TRUE(oracle_valid(out)) << testing::PrintToString(s);
    ASSERT_EQ(is_valid_utf8(s), oracle_valid(s)) << testing::PrintToString(s);
    ASSERT_EQ(out == s, is_valid_utf8(s));
    ASSERT_EQ(valid_utf8(out), out);
  }
}

TEST(Utf8, ClipAtACharacterBoundary) {
  std::string s = "ab";
  clip_utf8(s, 5);
  EXPECT_EQ(s, "ab");
  s = "abcdef";
  clip_utf8(s, 3);
  EXPECT_EQ(s, "abc");
  s = "abcdef";
  clip_utf8(s, 0);
  EXPECT_EQ(s, "");
  for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"})
    for (size_t lead = 0; lead < 4; ++lead) {
      std::string text(lead, 'x');
      for (int i = 0; i < 10; ++i) text += ch;
      for (size_t max = 0; max <= text.size(); ++max) {
        std::string t = text;
        clip_utf8(t, max);
        EXPECT_LE(t.size(), max);
        EXPECT_GT(t.size() + ch.size(), max);
        EXPECT_TRUE(is_valid_utf8(t)) << ch.size() << " " << lead << " " << max;
        EXPECT_EQ(text.compare(0, t.size(), t), 0);
      }
    }
  // Ill-formed text: stray continuation bytes are not a character to keep whole.
  s = "aaa" + std::string(8, '\x80');
  clip_utf8(s, 6);
  EXPECT_EQ(s.size(), 6u);
}

}  // namespace
}  // namespace literllm
