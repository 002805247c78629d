// The AWS event-stream decoder and encoder (src/http/eventstream.hpp): the
// AWS test vectors (fixtures/bedrock/eventstream), fed whole, split at every
// point, byte by byte and concatenated; every check on hand-made frames; the
// vercel-ai Bedrock chunks re-encoded and decoded back.
#include "http/eventstream.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

#ifndef LITERLLM_FIXTURES_DIR
#define LITERLLM_FIXTURES_DIR ""
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using literllm::http::crc32_ieee;
using literllm::http::encode_event_message;
using literllm::http::encode_exception_message;
using literllm::http::EventStreamDecoder;
using literllm::http::EventStreamHeader;
using literllm::http::EventStreamMessage;
using literllm::http::EventStreamValueType;
using VT = EventStreamValueType;

// ------------------------------------------------------------------ helpers

// A decoded message, owned.
struct Hdr {
  std::string name;
  int type = 0;
  int64_t number = 0;
  std::string bytes;
  bool operator==(const Hdr&) const = default;
};
struct Msg {
  std::vector<Hdr> headers;
  std::string payload;
  uint32_t total = 0, headers_length = 0, prelude_crc = 0, message_crc = 0;
  bool operator==(const Msg&) const = default;
};

[[maybe_unused]] void PrintTo(const Msg& m, std::ostream* os) {
  *os << "{total=" << m.total << " hlen=" << m.headers_length << " headers=[";
  for (const Hdr& h : m.headers) *os << h.name << ":" << h.type << "=" << h.number << "/" << h.bytes.size() << "B ";
  *os << "] payload=" << m.payload.size() << "B}";
}

Msg own(const EventStreamMessage& m) {
  Msg r;
  for (const EventStreamHeader& h : m.headers)
    r.headers.push_back({std::string(h.name), static_cast<int>(h.type), h.number, std::string(h.bytes)});
  r.payload = std::string(m.payload);
  r.total = static_cast<uint32_t>(m.frame.size());
  r.headers_length = m.headers_length;
  r.prelude_crc = m.prelude_crc;
  r.message_crc = m.message_crc;
  return r;
}

std::vector<size_t> whole(size_t n) { return {n}; }
std::vector<size_t> bytewise(size_t n) { return std::vector<size_t>(n, 1); }
std::vector<size_t> random_splits(size_t n, uint32_t seed, size_t max_chunk) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> dist(1, max_chunk);
  std::vector<size_t> out;
  for (size_t done = 0; done < n;) {
    size_t k = std::min(dist(rng), n - done);
    out.push_back(k);
    done += k;
  }
  return out;
}

struct Fed {
  std::vector<Msg> messages;
  bool pending = false;                // what finish() said
  std::optional<literllm::Error> error;  // what feed threw, if it did
};

// Feeds `in` in chunks of the given sizes. Each chunk is copied into its own
// heap buffer that dies right after its feed, so a view kept past its read
// shows up under AddressSanitizer.
Fed run(EventStreamDecoder& d, std::string_view in, const std::vector<size_t>& sizes) {
  Fed r;
  size_t off = 0;
  try {
    for (size_t k : sizes) {
      auto buf = std::make_unique<char[]>(k ? k : 1);
      std::memcpy(buf.get(), in.data() + off, k);
      off += k;
      bool ok = d.feed(buf.get(), k, [&](const EventStreamMessage& m) {
        r.messages.push_back(own(m));
        return true;
      });
      EXPECT_TRUE(ok);
    }
  } catch (const literllm::Error& e) {
    r.error = e;
    d.reset();
    return r;
  }
  EXPECT_EQ(off, in.size());
  r.pending = d.finish();
  return r;
}

Fed run(std::string_view in, const std::vector<size_t>& sizes, size_t limit = 0) {
  EventStreamDecoder d;
  if (limit) d.set_max_event_bytes(limit);
  return run(d, in, sizes);
}

// Every way of feeding `in`: whole, byte by byte, every single cut point, every
// pair of cut points (short input), random splits.
std::vector<std::vector<size_t>> feedings(size_t n) {
  std::vector<std::vector<size_t>> out{whole(n), bytewise(n)};
  if (n <= 400) {
    for (size_t cut = 1; cut < n; ++cut) out.push_back({cut, n - cut});
  }
  if (n <= 80) {
    for (size_t a = 1; a < n; ++a)
      for (size_t b = a + 1; b < n; ++b) out.push_back({a, b - a, n - b});
  }
  const size_t maxima[] = {2, 3, 7, 13, 16, 64, 512, 4096};
  uint32_t seed = 1;
  for (size_t m : maxima)
    for (int i = 0; i < 3; ++i) out.push_back(random_splits(n, seed++, m));
  return out;
}

std::string what(const Fed& f) { return f.error ? f.error->what() : "(no error)"; }

// What `in` gives fed whole, after checking every other feeding gives the same
// messages, the same finish() answer and the same error, if any.
Fed all_ways(std::string_view in, size_t limit = 0) {
  Fed ref = run(in, whole(in.size()), limit);
  size_t n = 0;
  for (const auto& sizes : feedings(in.size())) {
    Fed r = run(in, sizes, limit);
    ++n;
    EXPECT_EQ(r.messages, ref.messages) << "feeding " << n << " (" << sizes.size() << " pieces)";
    EXPECT_EQ(r.pending, ref.pending) << "feeding " << n;
    EXPECT_EQ(what(r), what(ref)) << "feeding " << n;
    if (r.messages != ref.messages || what(r) != what(ref)) break;  // one report is enough
  }
  return ref;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Regular files in fixtures/<sub>, sorted; empty with a loud message when the
// folder is missing.
std::vector<fs::path> fixture_files(const std::string& sub, std::string_view suffix = "") {
  const fs::path dir = fs::path(LITERLLM_FIXTURES_DIR) / sub;
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::cerr << "\n*** SKIPPING: fixtures folder " << dir
              << " is missing (set the CMake cache variable LITERLLM_FIXTURES_DIR) ***\n\n";
    return out;
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool fixtures_present(const std::string& sub) {
  std::error_code ec;
  return fs::is_directory(fs::path(LITERLLM_FIXTURES_DIR) / sub, ec);
}

std::string base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// zlib's CRC-32: an implementation independent of the one under test.
uint32_t zcrc(std::string_view s, uint32_t crc = 0) {
  return static_cast<uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A frame built by hand around a raw header block, its CRCs from zlib. The
// lengths can be overridden to make frames the encoder refuses to make.
std::string raw_frame(std::string_view header_block, std::string_view payload,
                      std::optional<uint32_t> total = std::nullopt, std::optional<uint32_t> hlen = std::nullopt) {
  std::string s;
  put32(s, total.value_or(static_cast<uint32_t>(16 + header_block.size() + payload.size())));
  put32(s, hlen.value_or(static_cast<uint32_t>(header_block.size())));
  put32(s, zcrc(s));
  s.append(header_block);
  s.append(payload);
  put32(s, zcrc(s));
  return s;
}

// Expects `in` to fail, however it is fed, with `status` and a message
// containing `needle` (lowercase).
void expect_error(std::string_view in, llm_status status, std::string_view needle, size_t limit = 0) {
  Fed f = all_ways(in, limit);
  ASSERT_TRUE(f.error.has_value()) << "no error; wanted: " << needle;
  EXPECT_EQ(f.error->status(), status) << f.error->what();
  EXPECT_TRUE(contains(lower(f.error->what()), needle)) << f.error->what() << "\nwanted: " << needle;
}

// -------------------------------------------------------------------- CRC-32

TEST(EventStreamCrc, KnownValues) {
  EXPECT_EQ(crc32_ieee("", 0), 0u);
  EXPECT_EQ(crc32_ieee("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32_ieee("The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
}

TEST(EventStreamCrc, MatchesZlibAtEveryLengthAndAlignment) {
  std::mt19937 rng(42);
  std::string buf(4096 + 16, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t n = 0; n <= 300; ++n) {
      std::string_view s(buf.data() + align, n);
      ASSERT_EQ(crc32_ieee(s.data(), s.size()), zcrc(s)) << "len " << n << " align " << align;
    }
    std::string_view big(buf.data() + align, 4096);
    EXPECT_EQ(crc32_ieee(big.data(), big.size()), zcrc(big));
    // Chaining: the CRC of a + b from the CRC of a.
    const uint32_t a = crc32_ieee(big.data(), 1000);
    EXPECT_EQ(crc32_ieee(big.data() + 1000, big.size() - 1000, a), zcrc(big));
  }
}

// ---------------------------------------------------------- the AWS vectors

const char kVectors[] = "bedrock/eventstream";

// The expected message a decoded/positive file describes.
Msg expected_from_json(const std::string& text, const fs::path& path) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  EXPECT_FALSE(d.HasParseError()) << path;
  Msg m;
  if (d.HasParseError() || !d.IsObject()) return m;
  m.total = static_cast<uint32_t>(d["total_length"].GetInt64());
  m.headers_length = static_cast<uint32_t>(d["headers_length"].GetInt64());
  // The CRCs are written as signed 32-bit integers.
  m.prelude_crc = static_cast<uint32_t>(d["prelude_crc"].GetInt64());
  m.message_crc = static_cast<uint32_t>(d["message_crc"].GetInt64());
  m.payload = base64_decode(d["payload"].GetString());
  for (const auto& h : d["headers"].GetArray()) {
    Hdr x;
    x.name = h["name"].GetString();
    x.type = h["type"].GetInt();
    const auto& v = h["value"];
    switch (x.type) {
      case 0: x.number = 1; break;
      case 1: x.number = 0; break;
      case 2: case 3: case 4: case 5: case 8: x.number = v.GetInt64(); break;
      default: x.bytes = base64_decode(v.GetString()); break;  // byte array, string, UUID: base64
    }
    m.headers.push_back(std::move(x));
  }
  return m;
}

struct Vector {
  std::string name;
  std::string encoded;
  Msg expected;
};

std::vector<Vector> positive_vectors() {
  std::vector<Vector> out;
  for (const auto& path : fixture_files(std::string(kVectors) + "/encoded/positive")) {
    const fs::path json = fs::path(LITERLLM_FIXTURES_DIR) / kVectors / "decoded/positive" / path.filename();
    EXPECT_TRUE(fs::exists(json)) << "no decoded file for " << path;
    out.push_back({path.filename().string(), read_file(path), expected_from_json(read_file(json), json)});
  }
  return out;
}

TEST(EventStreamVectors, PositiveDecodeAsDescribed) {
  if (!fixtures_present(kVectors)) GTEST_SKIP() << "AWS event-stream vectors missing under " << LITERLLM_FIXTURES_DIR;
  const auto vectors = positive_vectors();
  ASSERT_GT(vectors.size(), 0u) << "no positive vectors in " << LITERLLM_FIXTURES_DIR << "/" << kVectors;
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.name);
    Fed f = all_ways(v.encoded);  // whole, every cut, every pair of cuts, byte by byte, random
    EXPECT_FALSE(f.error) << what(f);
    ASSERT_EQ(f.messages.size(), 1u);
    EXPECT_EQ(f.messages[0], v.expected);
    EXPECT_EQ(f.messages[0].total, v.encoded.size());
    EXPECT_FALSE(f.pending);
    // The encoder gives back the same bytes.
    std::vector<EventStreamHeader> hs;
    for (const Hdr& h : v.expected.headers) hs.push_back({h.name, static_cast<VT>(h.type), h.number, h.bytes});
    EXPECT_EQ(encode_event_message(hs, v.expected.payload), v.encoded);
  }
}

TEST(EventStreamVectors, PositiveConcatenated) {
  if (!fixtures_present(kVectors)) GTEST_SKIP() << "AWS event-stream vectors missing under " << LITERLLM_FIXTURES_DIR;
  const auto vectors = positive_vectors();
  ASSERT_GT(vectors.size(), 0u);
  std::string stream;
  std::vector<Msg> want;
  for (int round = 0; round < 3; ++round) {
    for (const Vector& v : vectors) {
      stream += v.encoded;
      want.push_back(v.expected);
    }
  }
  Fed f = all_ways(stream);
  EXPECT_FALSE(f.error) << what(f);
  EXPECT_EQ(f.messages, want);
  EXPECT_FALSE(f.pending);
  // Cut short anywhere inside the last message: the others come out and finish() says so.
  for (size_t cut = 1; cut < vectors.back().encoded.size(); ++cut) {
    const std::string_view part(stream.data(), stream.size() - cut);
    Fed g = run(part, random_splits(part.size(), static_cast<uint32_t>(cut), 9));
    EXPECT_EQ(g.messages.size(), want.size() - 1);
    EXPECT_TRUE(g.pending);
  }
}

TEST(EventStreamVectors, NegativeFailWithTheNamedCheck) {
  if (!fixtures_present(kVectors)) GTEST_SKIP() << "AWS event-stream vectors missing under " << LITERLLM_FIXTURES_DIR;
  const auto files = fixture_files(std::string(kVectors) + "/encoded/negative");
  ASSERT_GT(files.size(), 0u) << "no negative vectors";
  const auto positives = positive_vectors();
  ASSERT_GT(positives.size(), 0u);
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    const fs::path desc = fs::path(LITERLLM_FIXTURES_DIR) / kVectors / "decoded/negative" / path.filename();
    // The description names the failed check: "Prelude checksum mismatch", "Message checksum mismatch".
    std::string check = lower(read_file(desc));
    while (!check.empty() && std::isspace(static_cast<unsigned char>(check.back()))) check.pop_back();
    ASSERT_FALSE(check.empty()) << desc;
    const std::string bytes = read_file(path);
    expect_error(bytes, LLM_ERR_STREAMING, check);
    // After a good message: that one comes out first, then the same error.
    Fed f = all_ways(positives[0].encoded + bytes);
    ASSERT_TRUE(f.error.has_value());
    EXPECT_TRUE(contains(lower(f.error->what()), check)) << f.error->what();
    EXPECT_EQ(f.messages.size(), 1u);
    EXPECT_TRUE(contains(f.error->what(), "stream offset " + std::to_string(positives[0].encoded.size())))
        << f.error->what();
  }
}

// A corrupt length (the corrupted_length vector claims one byte more than it
// has) is caught by the prelude CRC as soon as 12 bytes are there: the decoder
// never waits for the bytes the length claims.
TEST(EventStreamChecks, PreludeCheckedBeforeTheLengthIsTrusted) {
  std::string f = encode_event_message("contentBlockDelta", R"({"a":1})");
  f[0] = '\x7f';  // total length ~2 GB, prelude CRC now wrong
  EventStreamDecoder d;
  d.set_max_event_bytes(size_t{4} << 30);
  auto noop = [](const EventStreamMessage&) { ADD_FAILURE() << "no message expected"; };
  EXPECT_TRUE(d.feed(f.data(), 11, noop));  // 11 bytes: not enough to judge yet
  try {
    d.feed(f.data() + 11, 1, noop);
    ADD_FAILURE() << "no exception after the 12th byte";
  } catch (const literllm::Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_STREAMING);
    EXPECT_TRUE(contains(lower(e.what()), "prelude checksum mismatch")) << e.what();
  }
}

// ------------------------------------------------------ hand-made messages

TEST(EventStreamRoundTrip, EveryValueType) {
  const std::string uuid = "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff"s;
  const std::string blob = "\x00\x01\xff\x00"s;
  const std::string long_name(255, 'n');
  const std::string long_value(65535, 'v');
  const std::vector<EventStreamHeader> hs = {
      EventStreamHeader::boolean("t", true),
      EventStreamHeader::boolean("f", false),
      EventStreamHeader::byte("b", -128),
      EventStreamHeader::int16("s", -2),
      EventStreamHeader::int16("s+", 32767),
      EventStreamHeader::int32("i", INT32_MIN),
      EventStreamHeader::int64("l", INT64_MIN),
      EventStreamHeader::int64("l+", INT64_MAX),
      EventStreamHeader::byte_array("ba", blob),
      EventStreamHeader::byte_array("empty", ""),
      EventStreamHeader::string(":message-type", "event"),
      EventStreamHeader::timestamp("ts", 1700000000123),
      EventStreamHeader::uuid("u", uuid),
      EventStreamHeader::string(long_name, long_value),
      EventStreamHeader::string("", "nameless"),
  };
  const std::string payload = "\x00payload\xff"s;
  const std::string enc = encode_event_message(hs, payload);
  // Independent check of the encoder's CRCs.
  std::string prelude(enc, 0, 8);
  put32(prelude, zcrc(prelude));
  EXPECT_EQ(enc.substr(0, 12), prelude);
  Fed f = run(enc, random_splits(enc.size(), 3, 300));
  ASSERT_FALSE(f.error) << what(f);
  ASSERT_EQ(f.messages.size(), 1u);
  const Msg& m = f.messages[0];
  ASSERT_EQ(m.headers.size(), hs.size());
  for (size_t i = 0; i < hs.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(m.headers[i].name, hs[i].name);
    EXPECT_EQ(m.headers[i].type, static_cast<int>(hs[i].type));
    EXPECT_EQ(m.headers[i].number, hs[i].number);
    EXPECT_EQ(m.headers[i].bytes, hs[i].bytes);
  }
  EXPECT_EQ(m.payload, payload);
  EXPECT_EQ(m.total, enc.size());
  EXPECT_EQ(m.message_crc, zcrc(std::string_view(enc).substr(0, enc.size() - 4)));
  // Byte by byte, too (a 66 KB message).
  EXPECT_EQ(run(enc, bytewise(enc.size())).messages, f.messages);
}

TEST(EventStreamRoundTrip, HeaderBytesOnTheWire) {
  // Every type's wire form, against bytes written out by hand.
  const std::string block = "\x01" "a" "\x00"s                             // bool true
                            "\x01" "b" "\x01"s                             // bool false
                            "\x01" "c" "\x02" "\xfe"s                      // byte -2
                            "\x01" "d" "\x03" "\x01\x02"s                  // short 0x0102
                            "\x01" "e" "\x04" "\xff\xff\xff\xfd"s          // int -3
                            "\x01" "f" "\x05" "\x00\x00\x00\x01\x00\x00\x00\x00"s  // long 2^32
                            "\x01" "g" "\x06" "\x00\x02" "\x00\x01"s       // bytes 00 01
                            "\x01" "h" "\x07" "\x00\x03" "abc"s            // string "abc"
                            "\x01" "i" "\x08" "\x00\x00\x01\x8b\xcf\xe5\x68\x00"s  // timestamp
                            "\x01" "j" "\x09" "0123456789abcdef"s;         // UUID
  const std::string frame = raw_frame(block, "{}");
  const std::string enc = encode_event_message(
      {EventStreamHeader::boolean("a", true), EventStreamHeader::boolean("b", false),
       EventStreamHeader::byte("c", -2), EventStreamHeader::int16("d", 0x0102), EventStreamHeader::int32("e", -3),
       EventStreamHeader::int64("f", int64_t{1} << 32), EventStreamHeader::byte_array("g", "\x00\x01"s),
       EventStreamHeader::string("h", "abc"), EventStreamHeader::timestamp("i", 0x18bcfe56800),
       EventStreamHeader::uuid("j", "0123456789abcdef")},
      "{}");
  EXPECT_EQ(enc, frame);
  Fed f = all_ways(frame);
  ASSERT_EQ(f.messages.size(), 1u) << what(f);
  const auto& h = f.messages[0].headers;
  ASSERT_EQ(h.size(), 10u);
  EXPECT_EQ(h[0].number, 1);
  EXPECT_EQ(h[1].number, 0);
  EXPECT_EQ(h[2].number, -2);
  EXPECT_EQ(h[3].number, 0x0102);
  EXPECT_EQ(h[4].number, -3);
  EXPECT_EQ(h[5].number, int64_t{1} << 32);
  EXPECT_EQ(h[6].bytes, "\x00\x01"s);
  EXPECT_EQ(h[7].bytes, "abc");
  EXPECT_EQ(h[8].number, 0x18bcfe56800);
  EXPECT_EQ(h[9].bytes, "0123456789abcdef");
}

TEST(EventStreamRoundTrip, EncoderRefusesWhatTheFormatCannotCarry) {
  auto status_of = [](std::initializer_list<EventStreamHeader> hs) {
    try {
      encode_event_message(hs, "");
    } catch (const literllm::Error& e) {
      return e.status();
    }
    return LLM_OK;
  };
  const std::string n256(256, 'n'), v65536(65536, 'v');
  EXPECT_EQ(status_of({EventStreamHeader::string(n256, "x")}), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({EventStreamHeader::string("a", v65536)}), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({EventStreamHeader::byte_array("a", v65536)}), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({EventStreamHeader::uuid("a", "short")}), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({EventStreamHeader{"a", static_cast<VT>(10), 0, {}}}), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({EventStreamHeader::string(std::string(255, 'n'), std::string(65535, 'v'))}), LLM_OK);
  // Appending: two messages in one string decode as two.
  std::string out;
  const EventStreamHeader h[] = {EventStreamHeader::string(":event-type", "x")};
  literllm::http::encode_event_message(out, h, "1");
  literllm::http::encode_event_message(out, h, "22");
  Fed f = all_ways(out);
  ASSERT_EQ(f.messages.size(), 2u) << what(f);
  EXPECT_EQ(f.messages[1].payload, "22");
}

TEST(EventStreamMessage, Accessors) {
  const std::string stream =
      encode_event_message("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})") +
      encode_exception_message("throttlingException", R"({"message":"slow down"})") +
      encode_event_message({EventStreamHeader::string(":message-type", "error"),
                            EventStreamHeader::string(":error-code", "InternalFailure"),
                            EventStreamHeader::string(":error-message", "boom"),
                            EventStreamHeader::int32(":event-type", 7)},  // not a string: not reported
                           "");
  std::vector<std::vector<std::string>> got;
  EventStreamDecoder d;
  d.feed(stream, [&](const EventStreamMessage& m) {
    got.push_back({std::string(m.message_type()), std::string(m.event_type()), std::string(m.exception_type()),
                   std::string(m.content_type()), std::string(m.error_code()), std::string(m.error_message()),
                   std::string(m.payload)});
    EXPECT_EQ(m.find(":nope"), nullptr);
  });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (std::vector<std::string>{"event", "contentBlockDelta", "", "application/json", "", "",
                                              R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"exception", "", "throttlingException", "application/json", "", "",
                                              R"({"message":"slow down"})"}));
  EXPECT_EQ(got[2], (std::vector<std::string>{"error", "", "", "", "InternalFailure", "boom", ""}));
  EXPECT_EQ(d.messages(), 3u);
  EXPECT_EQ(d.offset(), stream.size());
}

// ------------------------------------------------------------------ checks

TEST(EventStreamChecks, EveryCorruptByteIsCaught) {
  const std::string good = encode_event_message("contentBlockDelta", R"({"delta":{"text":"hello"}})");
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      SCOPED_TRACE("byte " + std::to_string(i) + " ^ " + std::to_string(flip));
      Fed f = run(bad, whole(bad.size()));
      if (i < 12) {
        // The prelude, its CRC included: always the prelude check.
        ASSERT_TRUE(f.error.has_value());
        EXPECT_TRUE(contains(lower(f.error->what()), "prelude checksum mismatch")) << f.error->what();
      } else {
        ASSERT_TRUE(f.error.has_value());
        EXPECT_TRUE(contains(lower(f.error->what()), "message checksum mismatch")) << f.error->what();
      }
      EXPECT_EQ(f.error->status(), LLM_ERR_STREAMING);
      EXPECT_TRUE(f.messages.empty());
      if (i % 7 == 0) {
        EXPECT_EQ(what(run(bad, bytewise(bad.size()))), what(f));
      }
    }
  }
}

TEST(EventStreamChecks, Lengths) {
  // Valid prelude CRCs around impossible lengths.
  std::string s;
  put32(s, 15);
  put32(s, 0);
  put32(s, zcrc(s));
  put32(s, 0);
  expect_error(s, LLM_ERR_STREAMING, "total length 15 is below the 16-byte minimum");
  expect_error(raw_frame("", "", 0), LLM_ERR_STREAMING, "total length 0 is below");
  expect_error(raw_frame("", "abcd", std::nullopt, 5), LLM_ERR_STREAMING,
               "headers length 5 exceeds total length 20 minus 16");
  expect_error(raw_frame("", "", std::nullopt, 0xffffffff), LLM_ERR_STREAMING, "headers length 4294967295 exceeds");
  // Headers length exactly total - 16 is fine (no payload).
  const std::string block = "\x01" "a" "\x00"s;
  Fed ok = all_ways(raw_frame(block, ""));
  ASSERT_EQ(ok.messages.size(), 1u) << what(ok);
  EXPECT_TRUE(ok.messages[0].payload.empty());
}

TEST(EventStreamChecks, SizeLimit) {
  const std::string m = encode_event_message("contentBlockDelta", std::string(100, 'x'));
  // At the limit: fine. One byte over: LLM_ERR_LIMIT_EXCEEDED, the SSE framer's message.
  EXPECT_EQ(all_ways(m, m.size()).messages.size(), 1u);
  expect_error(m, LLM_ERR_LIMIT_EXCEEDED, "longer than max_event_bytes", m.size() - 1);
  // Thrown from the prelude, before the rest arrives.
  EventStreamDecoder d;
  d.set_max_event_bytes(64);
  EXPECT_EQ(d.max_event_bytes(), 64u);
  try {
    d.feed(m.data(), 12, [](const EventStreamMessage&) {});
    ADD_FAILURE() << "no exception";
  } catch (const literllm::Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_LIMIT_EXCEEDED);
  }
  EXPECT_EQ(EventStreamDecoder().max_event_bytes(), EventStreamDecoder::kDefaultMaxEventBytes);
}

TEST(EventStreamChecks, HeaderBlock) {
  struct Case {
    std::string block;
    const char* error;
  };
  const Case cases[] = {
      {"\x05" "ab"s, "the name of header 0 (block offset 0) runs past the 3-byte header block"},
      {"\x02" "ab"s, "the value type of header 0"},
      {"\x01" "a" "\x00" "\x01" "b"s, "the value type of header 1 (block offset 3)"},
      {"\x01" "a" "\x07" "\x00"s, "the value length of header 0"},
      {"\x01" "a" "\x07" "\x00\x05" "abcd"s, "the value of header 0"},
      {"\x01" "a" "\x06" "\xff\xff" "abcd"s, "the value of header 0"},
      {"\x01" "a" "\x04" "\x00\x00\x00"s, "the value of header 0"},
      {"\x01" "a" "\x05" "\x00\x00\x00\x00\x00\x00\x00"s, "the value of header 0"},
      {"\x01" "a" "\x09" "0123456789abcde"s, "the value of header 0"},
      {"\x01" "a" "\x02"s, "the value of header 0"},
      {"\x01" "a" "\x0a"s, "unknown header value type 10 (header 0 at block offset 0)"},
      {"\x01" "a" "\x00" "\x01" "b" "\xff"s, "unknown header value type 255 (header 1 at block offset 3)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    // The payload after the block must not be read as headers.
    expect_error(raw_frame(c.block, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"s), LLM_ERR_STREAMING, c.error);
  }
}

TEST(EventStreamChecks, ErrorsNeverQuotePayloadBytes) {
  const std::string secret = "sk-SECRET-abcdef0123456789";
  std::string m = encode_event_message("contentBlockDelta", secret);
  m[m.size() - 1] ^= 1;
  Fed f = run(m, whole(m.size()));
  ASSERT_TRUE(f.error.has_value());
  EXPECT_FALSE(contains(f.error->what(), "SECRET")) << f.error->what();
  // Nor header values.
  const std::string h = raw_frame("\x01" "a" "\x07" "\x00\x10" "sk-SECRET"s, "");
  f = run(h, whole(h.size()));
  ASSERT_TRUE(f.error.has_value());
  EXPECT_FALSE(contains(f.error->what(), "SECRET")) << f.error->what();
}

// ------------------------------------------------------------------- state

TEST(EventStreamDecoder, ZeroCopyOnlyWhenTheMessageLiesInTheInput) {
  const std::string m = encode_event_message("contentBlockDelta", R"({"delta":{"text":"x"}})");
  const std::string two = m + m;
  EventStreamDecoder d;
  std::vector<bool> inside;
  auto cb = [&](const EventStreamMessage& e) {
    inside.push_back(e.payload.data() >= two.data() && e.payload.data() < two.data() + two.size());
    EXPECT_EQ(e.frame.data() <= e.payload.data(), true);
  };
  d.feed(two, cb);
  EXPECT_EQ(inside, (std::vector<bool>{true, true}));
  inside.clear();
  // First feed ends mid-message: that one is assembled; the next lies in the second input.
  d.feed(two.data(), m.size() - 3, cb);
  d.feed(two.data() + m.size() - 3, m.size() + 3, cb);
  EXPECT_EQ(inside, (std::vector<bool>{false, true}));
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(EventStreamDecoder, CallbackStops) {
  const std::string m = encode_event_message("a", "1") + encode_event_message("b", "2") + encode_event_message("c", "3");
  EventStreamDecoder d;
  std::vector<std::string> seen;
  EXPECT_FALSE(d.feed(m, [&](const EventStreamMessage& e) {
    seen.emplace_back(e.event_type());
    return seen.size() < 2;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.pending_bytes(), 0u);
  // Stopping on a message assembled across reads.
  EventStreamDecoder e;
  seen.clear();
  EXPECT_TRUE(e.feed(m.data(), 5, [&](const EventStreamMessage&) { return false; }));
  EXPECT_FALSE(e.feed(m.data() + 5, m.size() - 5, [&](const EventStreamMessage& x) {
    seen.emplace_back(x.event_type());
    return false;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"a"}));
  EXPECT_FALSE(e.finish());
}

TEST(EventStreamDecoder, FinishAndReset) {
  const std::string m = encode_event_message("messageStart", R"({"role":"assistant"})");
  EventStreamDecoder d;
  int n = 0;
  auto cb = [&](const EventStreamMessage&) { ++n; };
  EXPECT_FALSE(d.finish());
  d.feed(m.data(), 5, cb);
  EXPECT_EQ(d.pending_bytes(), 5u);
  EXPECT_TRUE(d.finish());  // cut inside the prelude
  d.feed(m.data(), 20, cb);
  EXPECT_TRUE(d.finish());  // cut after it
  d.feed(m, cb);
  EXPECT_FALSE(d.finish());
  EXPECT_EQ(n, 1);
  EXPECT_EQ(d.messages(), 1u);
  EXPECT_TRUE(d.feed("", 0, cb));

  // After an error the decoder refuses input until reset().
  std::string bad = m;
  bad[3] ^= 1;
  EXPECT_THROW(d.feed(bad, cb), literllm::Error);
  try {
    d.feed(m, cb);
    ADD_FAILURE() << "fed after an error";
  } catch (const literllm::Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_STREAMING);
    EXPECT_TRUE(contains(e.what(), "reset()")) << e.what();
  }
  d.reset();
  EXPECT_EQ(d.messages(), 0u);
  EXPECT_EQ(d.offset(), 0u);
  d.feed(m, cb);
  EXPECT_EQ(n, 2);

  // So does it after the callback threw.
  EXPECT_THROW(d.feed(m, [](const EventStreamMessage&) { throw std::runtime_error("cb"); }), std::runtime_error);
  EXPECT_THROW(d.feed(m, cb), literllm::Error);
  d.reset();
  d.feed(m, cb);
  EXPECT_EQ(n, 3);
}

// -------------------------------------------- the vercel-ai Bedrock streams

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

TEST(EventStreamFixtures, VercelBedrockChunksRoundTrip) {
  const auto files = fixture_files("vercel-ai/amazon-bedrock", ".chunks.txt");
  if (files.empty()) GTEST_SKIP() << "vercel-ai Bedrock fixtures missing under " << LITERLLM_FIXTURES_DIR;
  size_t total_events = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    // Each line is one ConverseStream event: {"<event type>": <payload>}.
    const std::string text = read_file(path);
    std::string stream;
    std::vector<std::pair<std::string, std::string>> want;  // event type, payload
    for (size_t i = 0; i < text.size();) {
      size_t j = text.find('\n', i);
      if (j == std::string::npos) j = text.size();
      const std::string line = text.substr(i, j - i);
      i = j + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      rapidjson::Document d;
      d.Parse(line.data(), line.size());
      ASSERT_FALSE(d.HasParseError()) << line;
      ASSERT_TRUE(d.IsObject() && d.MemberCount() == 1) << line;
      const auto& member = *d.MemberBegin();
      want.emplace_back(member.name.GetString(), to_json(member.value));
      stream += encode_event_message(want.back().first, want.back().second);
    }
    ASSERT_FALSE(want.empty());
    total_events += want.size();
    // Decoded every way, the events come back.
    Fed f = all_ways(stream);
    ASSERT_FALSE(f.error) << what(f);
    ASSERT_EQ(f.messages.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      const Msg& m = f.messages[k];
      ASSERT_EQ(m.headers.size(), 3u);
      EXPECT_EQ(m.headers[0].name, ":event-type");
      EXPECT_EQ(m.headers[0].bytes, want[k].first);
      EXPECT_EQ(m.headers[1].bytes, "application/json");
      EXPECT_EQ(m.headers[2].name, ":message-type");
      EXPECT_EQ(m.headers[2].bytes, "event");
      EXPECT_EQ(m.payload, want[k].second);
    }
    // Independent check of every frame's CRCs with zlib.
    size_t off = 0;
    for (const Msg& m : f.messages) {
      const std::string_view fr(stream.data() + off, m.total);
      EXPECT_EQ(m.prelude_crc, zcrc(fr.substr(0, 8)));
      EXPECT_EQ(m.message_crc, zcrc(fr.substr(0, fr.size() - 4)));
      off += m.total;
    }
    EXPECT_EQ(off, stream.size());
  }
  EXPECT_GT(total_events, 0u);
}

}  // namespace
