// libFuzzer target for http::SseFramer and http::NdjsonFramer.
//
// Input: byte 0 picks a split point, byte 1 picks the framer (bit 0) and a small
// size limit (the other bits); the rest is the stream. Checked, with the framer
// fed whole, split in two at the chosen point, and byte by byte:
//  - all three give the same events, the same finish() answer and the same
//    counters, and each equals a deliberately naive reference parser written
//    from the spec (character by character, no buffers shared with the framer);
//  - with a small size limit, all three feedings throw or not alike, after the
//    same events.
// Any difference aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "http/sse.hpp"

namespace {

using literllm::http::NdjsonFramer;
using literllm::http::SseEvent;
using literllm::http::SseFramer;

struct Ev {
  std::string event, data, id;
  bool operator==(const Ev&) const = default;
};

struct Outcome {
  std::vector<Ev> events;
  std::vector<std::string> lines;  // NDJSON
  bool pending = false;
  bool threw = false;
  size_t comments = 0;
  long retry = -1;
  std::string last_id;
  bool operator==(const Outcome&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_sse: %s\n", what);
  std::abort();
}

// ---------------------------------------------------------- the reference

Outcome reference_sse(std::string_view s) {
  Outcome o;
  size_t i = 0;
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  std::vector<std::string> lines;
  std::string cur;
  bool partial = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\r' || c == '\n') {
      lines.push_back(cur);
      cur.clear();
      partial = false;
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      cur += c;
      partial = true;
    }
  }
  std::string data, type, id;
  bool in_event = false;
  for (const std::string& line : lines) {
    if (line.empty()) {
      if (!data.empty()) {
        data.pop_back();  // the "\n" after the last data line
        o.events.push_back({type, data, id});
      }
      data.clear();
      type.clear();
      in_event = false;
      continue;
    }
    if (line[0] == ':') {
      ++o.comments;
      continue;
    }
    in_event = true;
    std::string name = line, value;
    if (size_t colon = line.find(':'); colon != std::string::npos) {
      name = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    }
    if (name == "event") {
      type = value;
    } else if (name == "data") {
      data += value;
      data += '\n';
    } else if (name == "id") {
      if (value.find('\0') == std::string::npos) id = value;
    } else if (name == "retry") {
      bool digits = !value.empty();
      for (char c : value) digits = digits && c >= '0' && c <= '9';
      if (digits && value.size() < 15) o.retry = std::stol(value);
      else if (digits) o.retry = -2;  // huge: only "positive" is compared below
    }
  }
  o.pending = partial || in_event;
  o.last_id = id;
  return o;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

Outcome reference_ndjson(std::string_view s) {
  Outcome o;
  size_t i = 0;
  while (i < s.size()) {
    size_t nl = s.find('\n', i);
    std::string_view line = s.substr(i, nl == std::string_view::npos ? std::string_view::npos : nl - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (nl == std::string_view::npos) {
      o.pending = !blank(line);
      break;
    }
    if (!blank(line)) o.lines.emplace_back(line);
    i = nl + 1;
  }
  return o;
}

// ----------------------------------------------------------- the framers

// Each piece is copied into its own heap buffer, freed right after its feed,
// so a view kept across reads is a use-after-free ASan reports.
template <class Framer, class Cb>
bool feed_piece(Framer& f, std::string_view piece, Cb&& cb) {
  std::unique_ptr<char[]> buf(new char[piece.size() ? piece.size() : 1]);
  if (!piece.empty()) std::memcpy(buf.get(), piece.data(), piece.size());
  return f.feed(buf.get(), piece.size(), cb);
}

Outcome run_sse(std::string_view s, const std::vector<size_t>& cuts, size_t limit) {
  Outcome o;
  SseFramer f;
  if (limit) f.set_max_event_bytes(limit);
  auto cb = [&](const SseEvent& e) {
    o.events.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
    return true;
  };
  try {
    size_t at = 0;
    for (size_t cut : cuts) {
      if (!feed_piece(f, s.substr(at, cut - at), cb)) fail("feed returned false");
      at = cut;
    }
    if (!feed_piece(f, s.substr(at), cb)) fail("feed returned false");
  } catch (const literllm::Error& e) {
    if (e.status() != LLM_ERR_LIMIT_EXCEEDED) fail("wrong error status (a framer only throws for max_event_bytes)");
    o.threw = true;
    return o;
  }
  o.comments = f.comments();
  o.retry = f.retry_ms();
  o.last_id = std::string(f.last_event_id());
  o.pending = f.finish();
  return o;
}

Outcome run_ndjson(std::string_view s, const std::vector<size_t>& cuts, size_t limit) {
  Outcome o;
  NdjsonFramer f;
  if (limit) f.set_max_event_bytes(limit);
  auto cb = [&](std::string_view line) {
    o.lines.emplace_back(line);
    return true;
  };
  try {
    size_t at = 0;
    for (size_t cut : cuts) {
      if (!feed_piece(f, s.substr(at, cut - at), cb)) fail("feed returned false");
      at = cut;
    }
    if (!feed_piece(f, s.substr(at), cb)) fail("feed returned false");
  } catch (const literllm::Error& e) {
    if (e.status() != LLM_ERR_LIMIT_EXCEEDED) fail("wrong error status (a framer only throws for max_event_bytes)");
    o.threw = true;
    return o;
  }
  o.pending = f.finish();
  return o;
}

void same(const Outcome& a, const Outcome& b, const char* what) {
  if (a.events != b.events) fail(what);
  if (a.lines != b.lines) fail(what);
  if (a.pending != b.pending || a.threw != b.threw) fail(what);
  if (a.comments != b.comments || a.last_id != b.last_id) fail(what);
  if (a.retry == -2 || b.retry == -2) {  // a huge retry value: saturated, just positive
    if ((a.retry == -1) != (b.retry == -1)) fail(what);
  } else if (a.retry != b.retry) {
    fail(what);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view s(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t cut = s.empty() ? 0 : (static_cast<size_t>(data[0]) * s.size()) / 255;
  const bool ndjson = data[1] & 1;
  const size_t small_limit = 1 + (data[1] >> 1);  // 1..128

  std::vector<size_t> bytewise;
  for (size_t i = 1; i < s.size(); ++i) bytewise.push_back(i);
  const std::vector<size_t> whole, split{cut};

  auto run = ndjson ? run_ndjson : run_sse;
  const Outcome ref = ndjson ? reference_ndjson(s) : reference_sse(s);
  const Outcome a = run(s, whole, 0);
  same(ref, a, "whole feed differs from the reference");
  same(a, run(s, split, 0), "split feed differs from whole");
  same(a, run(s, bytewise, 0), "byte-by-byte feed differs from whole");

  const Outcome la = run(s, whole, small_limit);
  const Outcome lb = run(s, split, small_limit);
  const Outcome lc = run(s, bytewise, small_limit);
  if (la.threw != lb.threw || la.threw != lc.threw) fail("limit: feedings disagree on throwing");
  if (la.events != lb.events || la.events != lc.events) fail("limit: events differ");
  if (la.lines != lb.lines || la.lines != lc.lines) fail("limit: lines differ");
  if (!la.threw) same(a, la, "limit not reached yet the outcome differs");
  return 0;
}
