// The SSE and NDJSON framers (src/http/sse.hpp): every rule of the event-stream
// format, on hand-written input and on recorded provider streams, fed whole,
// byte by byte and in random splits.
#include "http/sse.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
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
using literllm::http::NdjsonFramer;
using literllm::http::SseEvent;
using literllm::http::SseFramer;

struct Ev {
  std::string event, data, id;
  bool operator==(const Ev&) const = default;
};

[[maybe_unused]] void PrintTo(const Ev& e, std::ostream* os) {
  *os << "{event=\"" << e.event << "\" data=\"" << e.data << "\" id=\"" << e.id << "\"}";
}

// Chunk sizes that cover `n` bytes.
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
  std::vector<Ev> events;
  bool pending = false;  // what finish() said
};

// Feeds `in` to `f` in chunks of the given sizes. Each chunk is copied into its
// own heap buffer that dies right after its feed, so a view kept past its read
// shows up under AddressSanitizer.
Fed run_sse(SseFramer& f, std::string_view in, const std::vector<size_t>& sizes) {
  Fed r;
  size_t off = 0;
  for (size_t k : sizes) {
    auto buf = std::make_unique<char[]>(k ? k : 1);
    std::memcpy(buf.get(), in.data() + off, k);
    bool ok = f.feed(buf.get(), k, [&](const SseEvent& e) {
      r.events.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
      return true;
    });
    EXPECT_TRUE(ok);
    off += k;
  }
  EXPECT_EQ(off, in.size());
  r.pending = f.finish();
  return r;
}

Fed run_sse(SseFramer& f, std::string_view in) { return run_sse(f, in, whole(in.size())); }

Fed run_sse(std::string_view in, const std::vector<size_t>& sizes) {
  SseFramer f;
  return run_sse(f, in, sizes);
}

std::vector<Ev> sse(std::string_view in) { return run_sse(in, whole(in.size())).events; }

// Every way of feeding `in` this suite uses: whole, byte by byte, every single
// cut point (for short input), and random splits with fixed seeds.
std::vector<std::vector<size_t>> feedings(size_t n) {
  std::vector<std::vector<size_t>> out{whole(n), bytewise(n)};
  if (n <= 300) {
    for (size_t cut = 1; cut < n; ++cut) out.push_back({cut, n - cut});
  }
  const size_t maxima[] = {2, 3, 7, 16, 64, 512, 4096};
  uint32_t seed = 1;
  for (size_t m : maxima) {
    for (int i = 0; i < 3; ++i) out.push_back(random_splits(n, seed++, m));
  }
  return out;
}

// The events `in` gives fed whole, after checking every other feeding gives the same.
Fed sse_all_ways(std::string_view in) {
  Fed ref = run_sse(in, whole(in.size()));
  for (const auto& sizes : feedings(in.size())) {
    Fed r = run_sse(in, sizes);
    EXPECT_EQ(r.events, ref.events) << "feeding in " << sizes.size() << " pieces";
    EXPECT_EQ(r.pending, ref.pending) << "feeding in " << sizes.size() << " pieces";
    if (r.events != ref.events) break;  // one report is enough
  }
  return ref;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(from, i);
    if (j == std::string_view::npos) break;
    out.append(s.substr(i, j - i)).append(to);
    i = j + from.size();
  }
  out.append(s.substr(i));
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Files in fixtures/<sub> whose names end with `suffix`, sorted; empty with a
// loud message when the folder is missing.
std::vector<fs::path> fixture_files(const std::string& sub, std::string_view suffix) {
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

bool parses_as_json(const std::string& s) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(s.data(), s.size());
  return !d.HasParseError();
}

std::string json_type_field(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  if (d.HasParseError() || !d.IsObject()) return "<not an object>";
  auto it = d.FindMember("type");
  if (it == d.MemberEnd() || !it->value.IsString()) return "<no type>";
  return it->value.GetString();
}

size_t count_lines_starting(std::string_view text, std::string_view prefix) {
  size_t n = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, prefix.size()) == prefix) ++n;
    size_t j = text.find_first_of("\r\n", i);
    if (j == std::string_view::npos) break;
    i = j + 1;
    if (text[j] == '\r' && i < text.size() && text[i] == '\n') ++i;
  }
  return n;
}

// ------------------------------------------------------------- field rules

TEST(SseFramer, SingleEvent) {
  auto ev = sse("data: hello\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (Ev{"", "hello", ""}));
}

TEST(SseFramer, OneSpaceAfterColonIsStripped) {
  auto ev = sse("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\n");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].data, "x");
  EXPECT_EQ(ev[1].data, "x");
  EXPECT_EQ(ev[2].data, " x");
  EXPECT_EQ(ev[3].data, "\tx");
}

TEST(SseFramer, MultiLineDataJoinsWithLf) {
  auto r = sse_all_ways("data: a\ndata:b\ndata\ndata: \ndata: c\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "a\nb\n\n\nc");
}

TEST(SseFramer, EmptyDataLineStillDispatches) {
  auto ev = sse("data\n\ndata:\n\ndata: \n\n");
  ASSERT_EQ(ev.size(), 3u);
  for (const auto& e : ev) EXPECT_EQ(e.data, "");
}

TEST(SseFramer, BlankLineWithoutDataDispatchesNothingButResetsType) {
  auto ev = sse("\n\n\nevent: lonely\n\ndata: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (Ev{"", "x", ""}));
}

TEST(SseFramer, EventTypeAppliesToOneEvent) {
  auto ev = sse("event: add\ndata: 1\n\ndata: 2\n\nevent: a\nevent: b\ndata: 3\n\n");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0], (Ev{"add", "1", ""}));
  EXPECT_EQ(ev[1], (Ev{"", "2", ""}));
  EXPECT_EQ(ev[2], (Ev{"b", "3", ""}));
}

TEST(SseFramer, FieldOrderWithinAnEventDoesNotMatter) {
  auto ev = sse("data: 1\nevent: late\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], (Ev{"late", "1", ""}));
}

TEST(SseFramer, IdPersistsAcrossEventsAndNulIsIgnored) {
  const std::string in = "id: 7\ndata: a\n\ndata: b\n\nid: 8\0x\ndata: c\n\nid\ndata: d\n\n"s;
  SseFramer f;
  auto r = sse_all_ways(in);
  run_sse(f, in);
  ASSERT_EQ(r.events.size(), 4u);
  EXPECT_EQ(r.events[0].id, "7");
  EXPECT_EQ(r.events[1].id, "7");
  EXPECT_EQ(r.events[2].id, "7");  // "8\0x" ignored
  EXPECT_EQ(r.events[3].id, "");   // "id" alone sets it empty
  EXPECT_EQ(f.last_event_id(), "");
}

TEST(SseFramer, IdWithNulIsIgnored) {
  const std::string in = "id: 1\n\nid: a\0b\ndata: x\n\n"s;
  auto ev = sse(in);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].id, "1");
}

TEST(SseFramer, RetryTakesDigitsOnly) {
  SseFramer f;
  EXPECT_EQ(f.retry_ms(), -1);
  auto feed = [&](std::string_view s) { f.feed(s, [](const SseEvent&) { return true; }); };
  feed("retry: 1500\n");
  EXPECT_EQ(f.retry_ms(), 1500);
  feed("retry: 12a\n");
  EXPECT_EQ(f.retry_ms(), 1500);
  feed("retry: -5\n");
  EXPECT_EQ(f.retry_ms(), 1500);
  feed("retry:\n");
  EXPECT_EQ(f.retry_ms(), 1500);
  feed("retry: 1.5\n");
  EXPECT_EQ(f.retry_ms(), 1500);
  feed("retry:  20\n");  // the second space is part of the value: not digits
  EXPECT_EQ(f.retry_ms(), 1500);
  feed("retry:0\n");
  EXPECT_EQ(f.retry_ms(), 0);
  feed("retry: 99999999999999999999999999\n");  // saturates rather than wraps
  EXPECT_GT(f.retry_ms(), 0);
  f.reset();
  EXPECT_EQ(f.retry_ms(), -1);
}

TEST(SseFramer, CommentsAreCountedAndIgnored) {
  SseFramer f;
  auto r = run_sse(f, ": ping\n:\n:data: no\ndata: yes\n: inside an event\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "yes");
  EXPECT_EQ(f.comments(), 4u);
  EXPECT_FALSE(r.pending);
  f.reset();
  EXPECT_EQ(f.comments(), 0u);
}

TEST(SseFramer, CommentOnlyKeepAliveIsNotAPendingEvent) {
  SseFramer f;
  auto r = run_sse(f, ": keep-alive\n");
  EXPECT_TRUE(r.events.empty());
  EXPECT_FALSE(r.pending);
}

TEST(SseFramer, FieldWithoutColonHasEmptyValue) {
  auto ev = sse("event: x\nevent\ndata: 1\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, "");
}

TEST(SseFramer, UnknownFieldsAreIgnored) {
  auto ev = sse("foo: bar\nDATA: upper\nData: mixed\n data: lead\ndata : sp\ndata: ok\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "ok");
}

TEST(SseFramer, ValueMayContainColons) {
  auto ev = sse("data: a:b: c\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a:b: c");
}

// -------------------------------------------------------------- line ends

TEST(SseFramer, LineEndsLfCrlfCrAndMixed) {
  const std::vector<Ev> want{{"e", "1", ""}, {"", "2\n3", ""}};
  EXPECT_EQ(sse_all_ways("event: e\ndata: 1\n\ndata: 2\ndata: 3\n\n").events, want);
  EXPECT_EQ(sse_all_ways("event: e\r\ndata: 1\r\n\r\ndata: 2\r\ndata: 3\r\n\r\n").events, want);
  EXPECT_EQ(sse_all_ways("event: e\rdata: 1\r\rdata: 2\rdata: 3\r\r").events, want);
  EXPECT_EQ(sse_all_ways("event: e\r\ndata: 1\n\rdata: 2\rdata: 3\r\n\n").events, want);
}

TEST(SseFramer, CrThenLfAcrossReadsIsOneLineEnd) {
  // If the CR and the LF counted as two line ends, the blank line would
  // dispatch "1" early and "2" would become its own event.
  const std::string in = "data: 1\r\ndata: 2\r\n\r\n";
  for (size_t cut = 1; cut < in.size(); ++cut) {
    auto r = run_sse(in, {cut, in.size() - cut});
    ASSERT_EQ(r.events.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(r.events[0].data, "1\n2") << "cut at " << cut;
  }
  // CR ending one read, LF alone as the next read, then more.
  auto r = run_sse("data: 1\r\n\r\ndata: 2\r\n\r\n", {8, 1, 2, 8, 1, 2});
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].data, "2");
}

TEST(SseFramer, CrAtEndOfReadThenNonLf) {
  auto r = run_sse("data: 1\r\rdata: 2\r\r", {8, 10});
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].data, "1");
  EXPECT_EQ(r.events[1].data, "2");
}

TEST(SseFramer, TwoCrsAreTwoLineEnds) {
  auto ev = sse("data: a\r\rdata: b\r\r");
  ASSERT_EQ(ev.size(), 2u);
}

TEST(SseFramer, LfCrIsTwoLineEnds) {
  auto ev = sse("data: a\n\rdata: b\n\r");
  ASSERT_EQ(ev.size(), 2u);
}

// -------------------------------------------------------------------- BOM

TEST(SseFramer, LeadingBomIsSkipped) {
  auto r = sse_all_ways("\xEF\xBB\xBF" "data: x\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "x");
}

TEST(SseFramer, OnlyOneBomAndOnlyAtTheStart) {
  // A second BOM belongs to the first line's field name: unknown field.
  auto r = sse_all_ways("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "y");
  // Not at the start: part of the value.
  auto ev = sse("data: \xEF\xBB\xBFz\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "\xEF\xBB\xBFz");
}

TEST(SseFramer, PartialBomIsNotLost) {
  // The bytes of a BOM prefix that turns out not to be one stay in the line.
  auto r = sse_all_ways("\xEF\xBB:comment\ndata: x\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  SseFramer f;
  f.feed("\xEF\xBB", 2, [](const SseEvent&) { return true; });
  EXPECT_TRUE(f.finish());  // two bytes of a line were pending
  // After finish the framer expects a new stream, BOM and all.
  auto r2 = run_sse(f, "\xEF\xBB\xBF" "data: again\n\n");
  ASSERT_EQ(r2.events.size(), 1u);
  EXPECT_EQ(r2.events[0].data, "again");
}

TEST(SseFramer, BomAloneThenStream) {
  auto r = run_sse("\xEF\xBB\xBF" "data: x\n\n", {1, 1, 1, 9});
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_FALSE(r.pending);
}

// ------------------------------------------------------ splits and UTF-8

TEST(SseFramer, Utf8SplitAnywhere) {
  const std::string text = "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80!";
  const std::string in = "event: \xE2\x9C\x93\ndata: " + text + "\ndata: " + text + "\n\n";
  auto r = sse_all_ways(in);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].event, "\xE2\x9C\x93");
  EXPECT_EQ(r.events[0].data, text + "\n" + text);
}

TEST(SseFramer, SplitInsideFieldName) {
  auto r = run_sse("data: ab\n\n", {1, 1, 1, 1, 1, 5});
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "ab");
}

TEST(SseFramer, EventSpanningManyReadsKeepsEarlierData) {
  // The first data line lies whole in the first read (handed around as a view
  // until the read ends); it must survive that buffer's reuse.
  SseFramer f;
  std::vector<std::string> got;
  auto cb = [&](const SseEvent& e) { got.emplace_back(e.data); };
  std::string buf = "data: first\nda";
  f.feed(buf, cb);
  buf.assign("XXXXXXXXXXXXXX");  // the caller reuses its buffer
  f.feed("ta: second\n", 11, cb);
  f.feed("\n", 1, cb);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "first\nsecond");
}

TEST(SseFramer, ZeroCopyWhenTheEventLiesInTheInput) {
  const std::string in = "event: e\ndata: payload\n\ndata: a\ndata: b\n\n";
  SseFramer f;
  std::vector<bool> inside;
  f.feed(in, [&](const SseEvent& e) {
    inside.push_back(e.data.data() >= in.data() && e.data.data() < in.data() + in.size());
  });
  ASSERT_EQ(inside.size(), 2u);
  EXPECT_TRUE(inside[0]);   // one data line: a view into the input
  EXPECT_FALSE(inside[1]);  // two lines, joined: a copy
}

// --------------------------------------------------- finish, stop, reset

TEST(SseFramer, UnterminatedFinalEventIsDiscarded) {
  for (std::string_view in : {"data: 1\n\ndata: 2", "data: 1\n\ndata: 2\n", "data: 1\n\nevent: x\n",
                              "data: 1\n\nid: 3\n", "data: 1\n\ndata: 2\r", "data: 1\n\nda"}) {
    auto r = sse_all_ways(in);
    ASSERT_EQ(r.events.size(), 1u) << in;
    EXPECT_EQ(r.events[0].data, "1");
    // "data: 2\r" ends a line: the event lacks its blank line, so it is pending too.
    EXPECT_TRUE(r.pending) << in;
  }
  for (std::string_view in : {"data: 1\n\n", "data: 1\r\n\r\n", "data: 1\r\r", "data: 1\n\n: c\n", ""}) {
    auto r = sse_all_ways(in);
    EXPECT_FALSE(r.pending) << in;
  }
}

TEST(SseFramer, FinishStartsAFreshStream) {
  SseFramer f;
  auto a = run_sse(f, "event: x\ndata: cut");
  EXPECT_TRUE(a.pending);
  auto b = run_sse(f, "data: new\n\n");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0], (Ev{"", "new", ""}));  // neither "x" nor "cut" leaked
}

TEST(SseFramer, CallbackFalseStopsAndDropsTheRest) {
  SseFramer f;
  std::vector<std::string> got;
  const std::string in = "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4";
  bool ok = f.feed(in, [&](const SseEvent& e) {
    got.emplace_back(e.data);
    return e.data != "2";
  });
  EXPECT_FALSE(ok);
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2"}));
  // The framer goes on with the next input, at a line start.
  ok = f.feed("data: 5\n\n", 9, [&](const SseEvent& e) {
    got.emplace_back(e.data);
    return true;
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(got.back(), "5");
  EXPECT_FALSE(f.finish());
}

TEST(SseFramer, CallbackMayReturnVoid) {
  SseFramer f;
  int n = 0;
  EXPECT_TRUE(f.feed("data: 1\n\ndata: 2\n\n", 18, [&](const SseEvent&) { ++n; }));
  EXPECT_EQ(n, 2);
}

TEST(SseFramer, CallbackExceptionPropagates) {
  SseFramer f;
  EXPECT_THROW(f.feed("data: 1\n\n", 9, [](const SseEvent&) -> bool { throw std::runtime_error("x"); }),
               std::runtime_error);
  f.reset();
  auto r = run_sse(f, "data: 2\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "2");
}

TEST(SseFramer, ResetClearsEverything) {
  SseFramer f;
  f.feed("retry: 5\nid: 9\n: c\ndata: half", 29, [](const SseEvent&) { return true; });
  f.reset();
  EXPECT_EQ(f.retry_ms(), -1);
  EXPECT_EQ(f.comments(), 0u);
  EXPECT_EQ(f.last_event_id(), "");
  EXPECT_FALSE(f.finish());
}

TEST(SseFramer, EmptyFeedIsHarmless) {
  SseFramer f;
  EXPECT_TRUE(f.feed(nullptr, 0, [](const SseEvent&) { return true; }));
  EXPECT_FALSE(f.finish());
}

// -------------------------------------------------------------- the limit

void expect_limit_error(const std::function<void()>& fn) {
  try {
    fn();
    ADD_FAILURE() << "no exception";
  } catch (const literllm::Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_LIMIT_EXCEEDED);
    EXPECT_NE(std::string(e.what()).find("max_event_bytes (100 bytes)"), std::string::npos) << e.what();
  }
}

TEST(SseFramer, LineLongerThanTheLimitThrows) {
  const std::string line = "data: " + std::string(200, 'x') + "\n\n";
  expect_limit_error([&] {
    SseFramer f;
    f.set_max_event_bytes(100);
    f.feed(line, [](const SseEvent&) { return true; });
  });
  expect_limit_error([&] {  // across reads
    SseFramer f;
    f.set_max_event_bytes(100);
    for (size_t i = 0; i < line.size(); i += 10)
      f.feed(line.data() + i, std::min<size_t>(10, line.size() - i), [](const SseEvent&) { return true; });
  });
  expect_limit_error([&] {  // no line end at all: must not buffer without bound
    SseFramer f;
    f.set_max_event_bytes(100);
    const std::string junk(1000, 'y');
    for (int i = 0; i < 10; ++i) f.feed(junk, [](const SseEvent&) { return true; });
  });
  expect_limit_error([&] {  // a comment line counts too
    SseFramer f;
    f.set_max_event_bytes(100);
    f.feed(":" + std::string(150, 'c') + "\n", [](const SseEvent&) { return true; });
  });
}

TEST(SseFramer, EventDataLongerThanTheLimitThrows) {
  std::string in;
  for (int i = 0; i < 20; ++i) in += "data: 0123456789\n";
  in += "\n";
  expect_limit_error([&] {
    SseFramer f;
    f.set_max_event_bytes(100);
    f.feed(in, [](const SseEvent&) { return true; });
  });
}

TEST(SseFramer, AtTheLimitIsFine) {
  SseFramer f;
  f.set_max_event_bytes(100);
  EXPECT_EQ(f.max_event_bytes(), 100u);
  const std::string in = "data: " + std::string(94, 'x') + "\n\n";  // a 100-byte line
  auto r2 = run_sse(f, in, bytewise(in.size()));
  ASSERT_EQ(r2.events.size(), 1u);
  EXPECT_EQ(r2.events[0].data.size(), 94u);
  EXPECT_EQ(SseFramer().max_event_bytes(), size_t{16} << 20);
}

// ----------------------------------------------------- recorded streams

void check_same_all_ways(const std::string& bytes, const Fed& ref, const std::string& name) {
  for (const auto& sizes : feedings(bytes.size())) {
    Fed r = run_sse(bytes, sizes);
    ASSERT_EQ(r.events, ref.events) << name << " fed in " << sizes.size() << " pieces";
    ASSERT_EQ(r.pending, ref.pending) << name << " fed in " << sizes.size() << " pieces";
  }
}

TEST(SseFixtures, OpenAI) {
  auto files = fixture_files("openai/sse", ".bin");
  if (files.empty()) GTEST_SKIP() << "OpenAI SSE fixtures missing under " << LITERLLM_FIXTURES_DIR;
  size_t total = 0;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::string bytes = read_file(path);
    Fed ref = run_sse(bytes, whole(bytes.size()));
    EXPECT_FALSE(ref.pending) << name;
    ASSERT_EQ(ref.events.size(), count_lines_starting(bytes, "data:")) << name;
    ASSERT_FALSE(ref.events.empty()) << name;
    EXPECT_EQ(ref.events.back().data, "[DONE]") << name;
    for (size_t i = 0; i < ref.events.size(); ++i) {
      const Ev& e = ref.events[i];
      EXPECT_EQ(e.event, "") << name;
      if (e.data == "[DONE]") {
        EXPECT_EQ(i + 1, ref.events.size()) << name << ": [DONE] before the end";
      } else {
        EXPECT_TRUE(parses_as_json(e.data)) << name << " event " << i << ": " << e.data;
        EXPECT_NE(e.data.find("\"chat.completion.chunk\""), std::string::npos) << name;
      }
    }
    total += ref.events.size();
    check_same_all_ways(bytes, ref, name);
    // The same stream with other line ends gives the same events.
    check_same_all_ways(replace_all(bytes, "\n", "\r\n"), ref, name + " (CRLF)");
    check_same_all_ways(replace_all(bytes, "\n", "\r"), ref, name + " (CR)");
    check_same_all_ways("\xEF\xBB\xBF" + bytes, ref, name + " (BOM)");
  }
  // 9 recordings, 302 events in all (checked by hand against grep -c '^data:').
  EXPECT_EQ(files.size(), 9u);
  EXPECT_EQ(total, 302u);
}

TEST(SseFixtures, OpenAIStreamsBackToBackInOneFramer) {
  auto files = fixture_files("openai/sse", ".bin");
  if (files.empty()) GTEST_SKIP() << "OpenAI SSE fixtures missing under " << LITERLLM_FIXTURES_DIR;
  std::string all;
  size_t want = 0;
  for (const auto& p : files) {
    std::string b = read_file(p);
    want += count_lines_starting(b, "data:");
    all += b;
  }
  for (uint32_t seed = 100; seed < 104; ++seed) {
    Fed r = run_sse(all, random_splits(all.size(), seed, 16 << 10));
    EXPECT_EQ(r.events.size(), want);
    EXPECT_FALSE(r.pending);
  }
}

TEST(SseFixtures, Anthropic) {
  auto files = fixture_files("anthropic/sse", "");
  if (files.empty()) GTEST_SKIP() << "Anthropic SSE fixtures missing under " << LITERLLM_FIXTURES_DIR;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::string bytes = read_file(path);
    Fed ref = run_sse(bytes, whole(bytes.size()));
    // Some recordings stop right after the last data line, without the blank
    // line that would dispatch it: that event is discarded and finish() says so.
    const bool closed = bytes.size() >= 2 && bytes.compare(bytes.size() - 2, 2, "\n\n") == 0;
    EXPECT_EQ(ref.pending, !closed) << name;
    const size_t events = count_lines_starting(bytes, "event:");
    EXPECT_EQ(ref.events.size(), closed ? events : events - 1) << name;
    ASSERT_FALSE(ref.events.empty()) << name;
    EXPECT_EQ(ref.events.front().event, "message_start") << name;
    for (const auto& e : ref.events) {
      // Anthropic repeats the event type inside the data.
      EXPECT_TRUE(parses_as_json(e.data)) << name << ": " << e.data;
      EXPECT_EQ(json_type_field(e.data), e.event) << name;
    }
    check_same_all_ways(bytes, ref, name);
    check_same_all_ways(replace_all(bytes, "\n", "\r\n"), ref, name + " (CRLF)");
    check_same_all_ways(replace_all(bytes, "\n", "\r"), ref, name + " (CR)");
  }
}

TEST(SseFixtures, GeminiCrlf) {
  auto files = fixture_files("gemini/mock-responses", ".txt");  // the streaming ones; *.json are unary
  if (files.empty()) GTEST_SKIP() << "Gemini mock responses missing under " << LITERLLM_FIXTURES_DIR;
  size_t crlf_files = 0;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::string bytes = read_file(path);
    if (bytes.find("\r\n") != std::string::npos) ++crlf_files;
    Fed ref = run_sse(bytes, whole(bytes.size()));
    EXPECT_FALSE(ref.pending) << name;
    EXPECT_EQ(ref.events.size(), count_lines_starting(bytes, "data:")) << name;
    ASSERT_FALSE(ref.events.empty()) << name;
    for (const auto& e : ref.events) {
      EXPECT_TRUE(parses_as_json(e.data)) << name << ": " << e.data;
      EXPECT_EQ(e.data.find('\r'), std::string::npos) << name;
    }
    check_same_all_ways(bytes, ref, name);
    const std::string lf = replace_all(bytes, "\r\n", "\n");
    check_same_all_ways(lf, ref, name + " (LF)");
    check_same_all_ways(replace_all(lf, "\n", "\r"), ref, name + " (CR)");
  }
  EXPECT_GE(crlf_files, 5u) << "expected most Gemini recordings to use CRLF framing";
}

// ------------------------------------------------------------ NdjsonFramer

struct NdFed {
  std::vector<std::string> lines;
  bool pending = false;
};

NdFed run_nd(std::string_view in, const std::vector<size_t>& sizes, size_t limit = 0) {
  NdjsonFramer f;
  if (limit) f.set_max_event_bytes(limit);
  NdFed r;
  size_t off = 0;
  for (size_t k : sizes) {
    auto buf = std::make_unique<char[]>(k ? k : 1);
    std::memcpy(buf.get(), in.data() + off, k);
    EXPECT_TRUE(f.feed(buf.get(), k, [&](std::string_view l) {
      r.lines.emplace_back(l);
      return true;
    }));
    off += k;
  }
  r.pending = f.finish();
  return r;
}

NdFed nd_all_ways(std::string_view in) {
  NdFed ref = run_nd(in, whole(in.size()));
  for (const auto& sizes : feedings(in.size())) {
    NdFed r = run_nd(in, sizes);
    EXPECT_EQ(r.lines, ref.lines) << "feeding in " << sizes.size() << " pieces";
    EXPECT_EQ(r.pending, ref.pending);
    if (r.lines != ref.lines) break;
  }
  return ref;
}

TEST(NdjsonFramer, LinesLfAndCrlfBlankSkipped) {
  auto r = nd_all_ways("{\"a\":1}\n\n{\"b\":2}\r\n\r\n  \t\r\n{\"c\":3}\n");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_FALSE(r.pending);
}

TEST(NdjsonFramer, LeadingWhitespaceIsKept) {
  auto r = nd_all_ways("  {\"a\":1}\n");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"  {\"a\":1}"}));
}

TEST(NdjsonFramer, CrLfSplitAcrossReads) {
  auto r = run_nd("{\"a\":1}\r\n{\"b\":2}\r\n", {8, 1, 9});
  EXPECT_EQ(r.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(NdjsonFramer, UnterminatedLastLine) {
  auto r = nd_all_ways("{\"a\":1}\n{\"b\"");
  EXPECT_EQ(r.lines.size(), 1u);
  EXPECT_TRUE(r.pending);
  EXPECT_FALSE(nd_all_ways("{\"a\":1}\n  \r").pending);

  NdjsonFramer f;
  std::vector<std::string> got;
  auto cb = [&](std::string_view l) { got.emplace_back(l); };
  f.feed("{\"a\":1}\n{\"b\":2}\r", 16, cb);
  EXPECT_TRUE(f.finish(cb));  // the lenient form hands the last line over
  EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_FALSE(f.finish(cb));
}

TEST(NdjsonFramer, StopAndLimit) {
  NdjsonFramer f;
  int n = 0;
  EXPECT_FALSE(f.feed("1\n2\n3\n", 6, [&](std::string_view) { return ++n < 2; }));
  EXPECT_EQ(n, 2);

  try {
    NdjsonFramer g;
    g.set_max_event_bytes(100);
    const std::string big(300, 'x');
    g.feed(big, [](std::string_view) {});
    ADD_FAILURE() << "no exception";
  } catch (const literllm::Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_LIMIT_EXCEEDED);
  }
  auto ok = run_nd(std::string(100, 'x') + "\r\n", bytewise(102), 101);  // CR counts until stripped
  EXPECT_EQ(ok.lines.size(), 1u);
}

TEST(NdjsonFramer, ZeroCopyWhenTheLineLiesInTheInput) {
  const std::string in = "{\"a\":1}\n";
  NdjsonFramer f;
  bool inside = false;
  f.feed(in, [&](std::string_view l) { inside = l.data() == in.data(); });
  EXPECT_TRUE(inside);
}

TEST(NdjsonFixtures, VercelChunks) {
  const char* subs[] = {"amazon-bedrock", "anthropic", "cohere", "google", "groq", "mistral", "xai"};
  size_t files = 0;
  for (const char* sub : subs) {
    for (const auto& path : fixture_files(std::string("vercel-ai/") + sub, ".chunks.txt")) {
      ++files;
      const std::string bytes = read_file(path);
      NdFed ref = nd_all_ways(bytes);
      size_t want = 0;
      for (size_t i = 0; i < bytes.size();) {  // non-blank lines
        size_t j = bytes.find('\n', i);
        if (j == std::string::npos) j = bytes.size();
        if (bytes.find_first_not_of(" \t\r", i) < j) ++want;
        i = j + 1;
      }
      EXPECT_EQ(ref.lines.size() + (ref.pending ? 1 : 0), want) << path;
      for (const auto& l : ref.lines) EXPECT_TRUE(parses_as_json(l)) << path << ": " << l;
      // CRLF gives the same lines.
      const std::string crlf_bytes = replace_all(bytes, "\n", "\r\n");
      NdFed crlf = run_nd(crlf_bytes, random_splits(crlf_bytes.size(), 7, 33));
      EXPECT_EQ(crlf.lines, ref.lines) << path;
    }
  }
  if (files == 0) GTEST_SKIP() << "vercel-ai fixtures missing under " << LITERLLM_FIXTURES_DIR;
}

}  // namespace
