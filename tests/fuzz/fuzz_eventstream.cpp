// libFuzzer target for http::EventStreamDecoder (the AWS binary event-stream
// framing) and encode_event_message.
//
// Input: byte 0 picks a cut point, byte 1 holds flags, byte 2 seeds a random
// split into small pieces and picks the message at which a callback stops; the
// rest is the stream. Flags:
//   bit 0  fix the CRCs up before decoding (so the fuzzer gets past them and
//          into the header parser: without this almost every input stops at
//          the first prelude CRC);
//   bit 1  with bit 0, also force each frame's lengths into range;
//   bit 2  a small size limit (16..271 bytes, from byte 2).
// Checked, with the decoder fed whole, split in two at the cut, in random small
// pieces and byte by byte (each piece in a heap buffer of its own, freed after
// its feed, so a view kept across reads is a use-after-free ASan reports):
//  - all feedings give the same messages, the same error text (or none) and
//    the same finish() answer;
//  - they equal a deliberately naive reference decoder written from the format
//    (whole buffer, bit-at-a-time CRC), including which check failed;
//  - every decoded message re-encodes (encode_event_message) to its exact bytes;
//  - a callback returning false stops at once: feed returns false.
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
#include "http/eventstream.hpp"

namespace {

using literllm::http::encode_event_message;
using literllm::http::EventStreamDecoder;
using literllm::http::EventStreamHeader;
using literllm::http::EventStreamMessage;
using literllm::http::EventStreamValueType;

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_eventstream: %s\n", what);
  if (!detail.empty()) std::fprintf(stderr, "  detail: %s\n", detail.c_str());
  std::abort();
}

enum class Err { kNone, kPrelude, kTotal, kHeadersLength, kLimit, kMessageCrc, kTruncated, kType, kOther };

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
  std::string frame;
  bool operator==(const Msg&) const = default;
};
struct Outcome {
  std::vector<Msg> messages;
  Err err = Err::kNone;
  std::string text;  // the error's message
  bool pending = false;
};

// ---------------------------------------------------------- the reference

uint32_t slow_crc(const unsigned char* p, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

uint64_t rd(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void wr(unsigned char* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<unsigned char>(v & 0xFF);
}

Outcome reference(std::string_view in, size_t limit) {
  Outcome o;
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  size_t pos = 0;
  while (pos < in.size()) {
    const unsigned char* f = s + pos;
    const size_t left = in.size() - pos;
    if (left < 12) {
      o.pending = true;
      return o;
    }
    if (slow_crc(f, 8) != rd(f + 8, 4)) return o.err = Err::kPrelude, o;
    const uint64_t total = rd(f, 4), hlen = rd(f + 4, 4);
    if (total < 16) return o.err = Err::kTotal, o;
    if (hlen + 16 > total) return o.err = Err::kHeadersLength, o;
    if (total > limit) return o.err = Err::kLimit, o;
    if (left < total) {
      o.pending = true;
      return o;
    }
    if (slow_crc(f, total - 4) != rd(f + total - 4, 4)) return o.err = Err::kMessageCrc, o;
    Msg m;
    const unsigned char* h = f + 12;
    size_t i = 0;
    while (i < hlen) {
      Hdr x;
      const size_t nl = h[i];
      i += 1;
      if (i + nl > hlen) return o.err = Err::kTruncated, o;
      x.name.assign(reinterpret_cast<const char*>(h + i), nl);
      i += nl;
      if (i + 1 > hlen) return o.err = Err::kTruncated, o;
      x.type = h[i];
      i += 1;
      size_t len = 0;
      switch (x.type) {
        case 0: x.number = 1; break;
        case 1: x.number = 0; break;
        case 2: len = 1; break;
        case 3: len = 2; break;
        case 4: len = 4; break;
        case 5: case 8: len = 8; break;
        case 6: case 7:
          if (i + 2 > hlen) return o.err = Err::kTruncated, o;
          len = static_cast<size_t>(rd(h + i, 2));
          i += 2;
          break;
        case 9: len = 16; break;
        default: return o.err = Err::kType, o;
      }
      if (i + len > hlen) return o.err = Err::kTruncated, o;
      if ((x.type >= 2 && x.type <= 5) || x.type == 8) {
        const uint64_t u = rd(h + i, static_cast<int>(len));
        const int shift = 64 - 8 * static_cast<int>(len);
        x.number = static_cast<int64_t>(u << shift) >> shift;  // sign-extend
      } else if (len) {
        x.bytes.assign(reinterpret_cast<const char*>(h + i), len);
      }
      i += len;
      m.headers.push_back(std::move(x));
    }
    m.payload.assign(reinterpret_cast<const char*>(f + 12 + hlen), total - 16 - hlen);
    m.frame.assign(reinterpret_cast<const char*>(f), total);
    o.messages.push_back(std::move(m));
    pos += total;
  }
  return o;
}

// Rewrites the CRCs (and, with `lengths`, the lengths) of the frames in s so
// that they pass the checks, frame after frame, as far as the bytes go.
void fix_up(std::string& str, bool lengths) {
  auto* s = reinterpret_cast<unsigned char*>(str.data());
  size_t pos = 0;
  while (str.size() - pos >= 16) {
    unsigned char* f = s + pos;
    const size_t left = str.size() - pos;
    uint64_t total = rd(f, 4), hlen = rd(f + 4, 4);
    if (lengths) {
      if (total < 16 || total > left) total = 16 + total % (left - 15);
      if (hlen + 16 > total) hlen %= total - 15;
      wr(f, total, 4);
      wr(f + 4, hlen, 4);
    }
    wr(f + 8, slow_crc(f, 8), 4);
    if (total < 16 || total > left || hlen + 16 > total) return;
    wr(f + total - 4, slow_crc(f, total - 4), 4);
    pos += total;
  }
}

// ----------------------------------------------------------- the decoder

Err classify(const literllm::Error& e) {
  const std::string_view w = e.what();
  if (e.status() == LLM_ERR_LIMIT_EXCEEDED) return Err::kLimit;
  if (e.status() != LLM_ERR_STREAMING) return Err::kOther;
  if (w.find("prelude checksum mismatch") != w.npos) return Err::kPrelude;
  if (w.find("headers length") != w.npos) return Err::kHeadersLength;  // (its text names the total length too)
  if (w.find("total length") != w.npos) return Err::kTotal;
  if (w.find("message checksum mismatch") != w.npos) return Err::kMessageCrc;
  if (w.find("header block truncated") != w.npos) return Err::kTruncated;
  if (w.find("unknown header value type") != w.npos) return Err::kType;
  return Err::kOther;
}

Msg own(const EventStreamMessage& m) {
  Msg r;
  for (const EventStreamHeader& h : m.headers)
    r.headers.push_back({std::string(h.name), static_cast<int>(h.type), h.number, std::string(h.bytes)});
  r.payload = std::string(m.payload);
  r.frame = std::string(m.frame);
  if (m.frame.size() < 16 || m.payload.data() < m.frame.data() ||
      m.payload.data() + m.payload.size() != m.frame.data() + m.frame.size() - 4)
    fail("payload view not inside the frame");
  return r;
}

// Feeds s in pieces ending at the given cut offsets (ascending), then the rest.
Outcome run(std::string_view s, const std::vector<size_t>& cuts, size_t limit) {
  Outcome o;
  EventStreamDecoder d;
  d.set_max_event_bytes(limit);
  auto cb = [&](const EventStreamMessage& m) {
    o.messages.push_back(own(m));
    return true;
  };
  auto piece = [&](size_t from, size_t to) {
    std::unique_ptr<char[]> buf(new char[to > from ? to - from : 1]);
    if (to > from) std::memcpy(buf.get(), s.data() + from, to - from);
    if (!d.feed(buf.get(), to - from, cb)) fail("feed returned false");
  };
  try {
    size_t at = 0;
    for (size_t cut : cuts) {
      piece(at, cut);
      at = cut;
    }
    piece(at, s.size());
  } catch (const literllm::Error& e) {
    o.err = classify(e);
    o.text = e.what();
    if (o.err == Err::kOther) fail("unexpected error", o.text);
    // The decoder refuses input until reset().
    bool refused = false;
    try {
      d.feed("x", 1, cb);
    } catch (const literllm::Error&) {
      refused = true;
    }
    if (!refused) fail("fed after an error without reset()");
    d.reset();
    return o;
  }
  if (d.offset() + d.pending_bytes() != s.size()) fail("offset + pending_bytes != bytes fed");
  o.pending = d.finish();
  return o;
}

void same(const Outcome& a, const Outcome& b, const char* what) {
  if (a.messages != b.messages) fail(what, "messages differ");
  if (a.err != b.err) fail(what, "errors differ: " + a.text + " | " + b.text);
  if (a.text != b.text) fail(what, "error texts differ: " + a.text + " | " + b.text);
  if (a.pending != b.pending) fail(what, "finish() differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  std::string s(reinterpret_cast<const char*>(data) + 3, size - 3);
  const uint8_t flags = data[1];
  if (flags & 1) fix_up(s, flags & 2);
  const size_t limit = (flags & 4) ? 16 + data[2] : EventStreamDecoder::kDefaultMaxEventBytes;

  const Outcome ref = reference(s, limit);
  const Outcome whole = run(s, {}, limit);
  if (whole.messages != ref.messages) fail("decoder and reference disagree on the messages");
  if (whole.err != ref.err) fail("decoder and reference disagree on the error", whole.text);
  if (whole.pending != ref.pending) fail("decoder and reference disagree on finish()");

  const size_t cut = s.empty() ? 0 : (static_cast<size_t>(data[0]) * s.size()) / 255;
  same(whole, run(s, {cut}, limit), "split feed differs from whole");
  std::vector<size_t> cuts;
  uint32_t x = data[2] * 2654435761u + 1;
  for (size_t at = 0;;) {
    x = x * 1103515245u + 12345u;
    at += 1 + (x >> 16) % 23;
    if (at >= s.size()) break;
    cuts.push_back(at);
  }
  same(whole, run(s, cuts, limit), "random small pieces differ from whole");
  if (s.size() <= 4096) {
    cuts.clear();
    for (size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
    same(whole, run(s, cuts, limit), "byte-by-byte feed differs from whole");
  }

  // Every message re-encodes to its exact bytes.
  for (const Msg& m : whole.messages) {
    std::vector<EventStreamHeader> hs;
    for (const Hdr& h : m.headers)
      hs.push_back({h.name, static_cast<EventStreamValueType>(h.type), h.number, h.bytes});
    if (encode_event_message(hs, m.payload) != m.frame) fail("re-encoding differs from the frame");
  }

  // A callback returning false stops at once.
  const size_t stop_after = data[2] % 4;
  if (whole.messages.size() > stop_after) {
    EventStreamDecoder d;
    d.set_max_event_bytes(limit);
    size_t n = 0;
    bool go_on = true;
    try {
      go_on = d.feed(s, [&](const EventStreamMessage&) { return n++ < stop_after; });
    } catch (const literllm::Error&) {
      fail("threw although the callback stopped before the error");
    }
    if (go_on || n != stop_after + 1) fail("a callback returning false did not stop the feed");
    if (d.pending_bytes() != 0) fail("bytes kept after a stop");
  }
  return 0;
}
