// The AWS event-stream decoder's checks and header parsing, the encoder, and
// CRC-32. The feed loop is a template in eventstream.hpp.
#include "http/eventstream.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.hpp"

namespace literllm::http {

namespace {

// ------------------------------------------------------------------- CRC-32

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table for the reflected polynomial
// 0xEDB88320; tables[k][b] is the CRC of byte b followed by k zero bytes, so
// eight bytes fold in with eight independent look-ups.
constexpr CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}

constexpr CrcTables kCrc = make_crc_tables();
static_assert(kCrc[0][1] == 0x77073096u, "CRC-32 table");

inline uint32_t load_le32(const unsigned char* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

inline uint32_t be32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline uint16_t be16(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint64_t be64(const char* p) noexcept { return (uint64_t{be32(p)} << 32) | be32(p + 4); }

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string hex32(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 28; i >= 0; i -= 4) s.push_back(kDigits[(v >> i) & 0xF]);
  return s;
}

[[noreturn]] void corrupt(const std::string& what, uint64_t offset) {
  throw Error(LLM_ERR_STREAMING, "AWS event stream: " + what + " (message at stream offset " +
                                     std::to_string(offset) + "); the stream is corrupt and cannot be resumed");
}

// Bytes the value of a header of type t takes after the type byte, or -1 for
// the variable-length types (a u16 length first), or -2 for an unknown type.
constexpr int kValueBytes[10] = {0, 0, 1, 2, 4, 8, -1, -1, 8, 16};

}  // namespace

uint32_t crc32_ieee(const void* data, size_t len, uint32_t crc) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  while (len >= 8) {
    const uint32_t a = load_le32(p) ^ crc;
    const uint32_t b = load_le32(p + 4);
    crc = kCrc[7][a & 0xFF] ^ kCrc[6][(a >> 8) & 0xFF] ^ kCrc[5][(a >> 16) & 0xFF] ^ kCrc[4][a >> 24] ^
          kCrc[3][b & 0xFF] ^ kCrc[2][(b >> 8) & 0xFF] ^ kCrc[1][(b >> 16) & 0xFF] ^ kCrc[0][b >> 24];
    p += 8;
    len -= 8;
  }
  while (len--) crc = (crc >> 8) ^ kCrc[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

// ------------------------------------------------------- EventStreamDecoder

uint32_t EventStreamDecoder::check_prelude(const char* p) const {
  const uint32_t said = be32(p + 8);
  const uint32_t crc = crc32_ieee(p, 8);
  if (crc != said)
    corrupt("prelude checksum mismatch (computed " + hex32(crc) + ", the prelude says " + hex32(said) + ")", offset_);
  const uint32_t total = be32(p);
  const uint32_t hlen = be32(p + 4);
  if (total < kMinMessageBytes)
    corrupt("total length " + std::to_string(total) + " is below the 16-byte minimum", offset_);
  if (hlen > total - kMinMessageBytes)
    corrupt("headers length " + std::to_string(hlen) + " exceeds total length " + std::to_string(total) +
                " minus 16",
            offset_);
  if (total > max_) framer_detail::throw_too_big("AWS event stream message", max_);
  return total;
}

void EventStreamDecoder::decode(const char* p, size_t n) {
  // check_prelude has passed for these bytes: n >= 16, hlen <= n - 16.
  const uint32_t hlen = be32(p + 4);
  const uint32_t prelude_crc = be32(p + 8);
  const uint32_t said = be32(p + n - 4);
  const uint32_t crc = crc32_ieee(p + 8, n - 12, prelude_crc);  // continues the prelude's CRC
  if (crc != said)
    corrupt("message checksum mismatch over " + std::to_string(n - 4) + " bytes (computed " + hex32(crc) +
                ", the message says " + hex32(said) + ")",
            offset_);

  headers_.clear();
  const char* const block = p + kPreludeBytes;
  size_t i = 0;
  auto truncated = [&](size_t at, const char* what) {
    corrupt("header block truncated: the " + std::string(what) + " of header " + std::to_string(headers_.size()) +
                " (block offset " + std::to_string(at) + ") runs past the " + std::to_string(hlen) +
                "-byte header block",
            offset_);
  };
  while (i < hlen) {
    const size_t start = i;
    const size_t name_len = static_cast<unsigned char>(block[i++]);
    if (name_len > hlen - i) truncated(start, "name");
    EventStreamHeader h;
    h.name = std::string_view(block + i, name_len);
    i += name_len;
    if (i == hlen) truncated(start, "value type");
    const unsigned type = static_cast<unsigned char>(block[i++]);
    if (type > 9)
      corrupt("unknown header value type " + std::to_string(type) + " (header " + std::to_string(headers_.size()) +
                  " at block offset " + std::to_string(start) + ")",
              offset_);
    h.type = static_cast<EventStreamValueType>(type);
    int size = kValueBytes[type];
    if (size < 0) {
      if (hlen - i < 2) truncated(start, "value length");
      size = be16(block + i);
      i += 2;
    }
    if (static_cast<size_t>(size) > hlen - i) truncated(start, "value");
    const char* v = block + i;
    switch (h.type) {
      case EventStreamValueType::kBoolTrue: h.number = 1; break;
      case EventStreamValueType::kBoolFalse: h.number = 0; break;
      case EventStreamValueType::kByte: h.number = static_cast<int8_t>(*v); break;
      case EventStreamValueType::kShort: h.number = static_cast<int16_t>(be16(v)); break;
      case EventStreamValueType::kInteger: h.number = static_cast<int32_t>(be32(v)); break;
      case EventStreamValueType::kLong:
      case EventStreamValueType::kTimestamp: h.number = static_cast<int64_t>(be64(v)); break;
      case EventStreamValueType::kByteArray:
      case EventStreamValueType::kString:
      case EventStreamValueType::kUuid: h.bytes = std::string_view(v, static_cast<size_t>(size)); break;
    }
    i += static_cast<size_t>(size);
    headers_.push_back(h);
  }

  msg_.headers = std::span<const EventStreamHeader>(headers_.data(), headers_.size());
  msg_.payload = std::string_view(block + hlen, n - kMinMessageBytes - hlen);
  msg_.frame = std::string_view(p, n);
  msg_.headers_length = hlen;
  msg_.prelude_crc = prelude_crc;
  msg_.message_crc = said;
}

const char* EventStreamDecoder::fill_carry(const char* p, const char* end) {
  if (need_ == 0) {
    const size_t take = std::min(kPreludeBytes - carry_.size(), static_cast<size_t>(end - p));
    carry_.append(p, take);
    p += take;
    if (carry_.size() < kPreludeBytes) return p;
    need_ = check_prelude(carry_.data());
  }
  const size_t take = std::min(need_ - carry_.size(), static_cast<size_t>(end - p));
  carry_.append(p, take);
  return p + take;
}

void EventStreamDecoder::throw_failed() const {
  throw Error(LLM_ERR_STREAMING,
              "AWS event stream: the decoder failed earlier in this stream (a corrupt or oversized message, or an "
              "exception from the message callback); reset() it before feeding a new stream");
}

bool EventStreamDecoder::finish() noexcept {
  const bool pending = !carry_.empty();
  carry_.clear();
  need_ = 0;
  failed_ = false;
  return pending;
}

void EventStreamDecoder::reset() noexcept {
  finish();
  headers_.clear();
  msg_ = EventStreamMessage{};
  offset_ = 0;
  messages_ = 0;
}

// ------------------------------------------------------------------ encoder

void encode_event_message(std::string& out, std::span<const EventStreamHeader> headers, std::string_view payload) {
  size_t hlen = 0;
  for (const EventStreamHeader& h : headers) {
    if (h.name.size() > 255)
      invalid("event stream header name longer than 255 bytes (" + std::to_string(h.name.size()) + ")");
    const auto type = static_cast<unsigned>(h.type);
    if (type > 9) invalid("event stream header value type " + std::to_string(type) + " is not one of 0..9");
    hlen += 2 + h.name.size();
    if (kValueBytes[type] >= 0) {
      hlen += static_cast<size_t>(kValueBytes[type]);
    } else {
      if (h.bytes.size() > 65535)
        invalid("event stream header value longer than 65535 bytes (" + std::to_string(h.bytes.size()) + ")");
      hlen += 2 + h.bytes.size();
    }
    if (h.type == EventStreamValueType::kUuid && h.bytes.size() != 16)
      invalid("event stream UUID header value of " + std::to_string(h.bytes.size()) + " bytes (must be 16)");
  }
  const size_t total = hlen + payload.size() + EventStreamDecoder::kMinMessageBytes;
  if (total > std::numeric_limits<uint32_t>::max())
    invalid("event stream message longer than 4 GiB");

  const size_t start = out.size();
  out.reserve(start + total);
  put_be(out, total, 4);
  put_be(out, hlen, 4);
  put_be(out, crc32_ieee(out.data() + start, 8), 4);
  for (const EventStreamHeader& h : headers) {
    out.push_back(static_cast<char>(h.name.size()));
    out.append(h.name);
    out.push_back(static_cast<char>(h.type));
    const int size = kValueBytes[static_cast<unsigned>(h.type)];
    if (h.type == EventStreamValueType::kUuid) {
      out.append(h.bytes);
    } else if (size < 0) {
      put_be(out, h.bytes.size(), 2);
      out.append(h.bytes);
    } else if (size > 0) {
      put_be(out, static_cast<uint64_t>(h.number), size);  // the low `size` bytes, two's complement
    }
  }
  out.append(payload);
  put_be(out, crc32_ieee(out.data() + start, total - 4), 4);
}

std::string encode_event_message(std::span<const EventStreamHeader> headers, std::string_view payload) {
  std::string out;
  encode_event_message(out, headers, payload);
  return out;
}

std::string encode_event_message(std::initializer_list<EventStreamHeader> headers, std::string_view payload) {
  return encode_event_message(std::span<const EventStreamHeader>(headers.begin(), headers.size()), payload);
}

std::string encode_event_message(std::string_view event_type, std::string_view payload,
                                 std::string_view content_type) {
  return encode_event_message({EventStreamHeader::string(":event-type", event_type),
                               EventStreamHeader::string(":content-type", content_type),
                               EventStreamHeader::string(":message-type", "event")},
                              payload);
}

std::string encode_exception_message(std::string_view exception_type, std::string_view payload,
                                     std::string_view content_type) {
  return encode_event_message({EventStreamHeader::string(":exception-type", exception_type),
                               EventStreamHeader::string(":content-type", content_type),
                               EventStreamHeader::string(":message-type", "exception")},
                              payload);
}

}  // namespace literllm::http
