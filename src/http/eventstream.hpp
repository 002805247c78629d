// Incremental decoder (and a small encoder) for the AWS binary event-stream
// framing, content type application/vnd.amazon.eventstream: what Bedrock's
// ConverseStream / InvokeModelWithResponseStream send.
//
// One message on the wire, all integers big-endian:
//
//   total length   u32   the whole message, these 4 bytes and the final CRC included
//   headers length u32   the header block's length
//   prelude CRC    u32   CRC-32 (IEEE, as zlib's crc32) of the 8 bytes above
//   headers        headers-length bytes, each header:
//                    name length u8, name bytes, value type u8, value:
//                      0 bool true (no bytes)     1 bool false (no bytes)
//                      2 byte      i8             3 short      i16
//                      4 integer   i32            5 long       i64
//                      6 bytes     u16 length + bytes
//                      7 string    u16 length + UTF-8 bytes
//                      8 timestamp i64, milliseconds since the epoch
//                      9 UUID      16 bytes
//   payload        total - headers - 16 bytes
//   message CRC    u32   CRC-32 of every byte before it (prelude CRC included)
//
// The decoder feels like the SSE framer (http/sse.hpp): bytes go in as they
// arrive, split anywhere; each complete message comes out through a callback,
// in order. When a message lies whole inside the buffer of the current feed()
// call, the views handed out point into that buffer (no copy); only a message
// that spans reads is assembled in a buffer of the decoder's own.
//
// Checks, in this order, each failure a literllm::Error(LLM_ERR_STREAMING) that
// says which check failed and where (stream offsets and lengths, never payload
// bytes):
//  1. the prelude CRC, as soon as 12 bytes of a message are there, so that a
//     corrupt length is caught before the decoder waits for the bytes it claims;
//  2. total length >= 16, headers length <= total - 16;
//  3. total length <= max_event_bytes(), else LLM_ERR_LIMIT_EXCEEDED (the
//     SSE framer's error and name: the client config's max_event_bytes);
//  4. the message CRC, once the whole message is there;
//  5. the header block: every header lies inside it, every value type is known.
// A corrupt frame is not recoverable (there is no way to find the next message
// boundary): after an exception the decoder refuses further input until
// reset() (or finish()).
//
// String header values are handed out as they came: not checked for UTF-8.
//
// Not thread-safe; one stream, one decoder, one thread at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/sse.hpp"  // framer_detail::call, framer_detail::throw_too_big

namespace literllm::http {

// CRC-32 as zlib's crc32() computes it (IEEE 802.3 polynomial, reflected,
// pre- and post-inverted): crc32_ieee(p, n, crc32_ieee(q, m)) is the CRC of q
// followed by p. Table-driven, slicing by 8.
uint32_t crc32_ieee(const void* data, size_t len, uint32_t crc = 0) noexcept;

enum class EventStreamValueType : uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kShort = 3,
  kInteger = 4,
  kLong = 5,
  kByteArray = 6,
  kString = 7,
  kTimestamp = 8,
  kUuid = 9,
};

// One header. In a decoded message the views point into the message's bytes
// (valid only during the callback); for the encoder they point wherever the
// caller keeps them.
struct EventStreamHeader {
  std::string_view name;
  EventStreamValueType type = EventStreamValueType::kString;
  // The value of the number types: bool (1 true, 0 false), byte, short,
  // integer, long, timestamp (ms since the epoch), sign-extended. 0 otherwise.
  int64_t number = 0;
  // The value of byte array, string and UUID (16 bytes) headers. Empty otherwise.
  std::string_view bytes;

  bool is_string() const noexcept { return type == EventStreamValueType::kString; }

  static EventStreamHeader boolean(std::string_view name, bool v) noexcept {
    return {name, v ? EventStreamValueType::kBoolTrue : EventStreamValueType::kBoolFalse, v ? 1 : 0, {}};
  }
  static EventStreamHeader byte(std::string_view name, int8_t v) noexcept {
    return {name, EventStreamValueType::kByte, v, {}};
  }
  static EventStreamHeader int16(std::string_view name, int16_t v) noexcept {
    return {name, EventStreamValueType::kShort, v, {}};
  }
  static EventStreamHeader int32(std::string_view name, int32_t v) noexcept {
    return {name, EventStreamValueType::kInteger, v, {}};
  }
  static EventStreamHeader int64(std::string_view name, int64_t v) noexcept {
    return {name, EventStreamValueType::kLong, v, {}};
  }
  static EventStreamHeader byte_array(std::string_view name, std::string_view v) noexcept {
    return {name, EventStreamValueType::kByteArray, 0, v};
  }
  static EventStreamHeader string(std::string_view name, std::string_view v) noexcept {
    return {name, EventStreamValueType::kString, 0, v};
  }
  static EventStreamHeader timestamp(std::string_view name, int64_t ms) noexcept {
    return {name, EventStreamValueType::kTimestamp, ms, {}};
  }
  // `v` must be 16 bytes (the encoder checks).
  static EventStreamHeader uuid(std::string_view name, std::string_view v) noexcept {
    return {name, EventStreamValueType::kUuid, 0, v};
  }
};

// One decoded message. Every view (and the header span) is valid only during
// the callback that receives it.
struct EventStreamMessage {
  std::span<const EventStreamHeader> headers;  // in wire order, duplicates kept
  std::string_view payload;
  std::string_view frame;       // the whole message as it came, prelude to CRC
  uint32_t headers_length = 0;  // frame.size() is the total length
  uint32_t prelude_crc = 0;
  uint32_t message_crc = 0;

  // The first header called `name`, or nullptr.
  const EventStreamHeader* find(std::string_view name) const noexcept {
    for (const EventStreamHeader& h : headers)
      if (h.name == name) return &h;
    return nullptr;
  }
  // The value of the first header called `name` if it is a string header,
  // else empty.
  std::string_view string_header(std::string_view name) const noexcept {
    const EventStreamHeader* h = find(name);
    return h && h->is_string() ? h->bytes : std::string_view();
  }
  // ":message-type": "event", "exception" or "error".
  std::string_view message_type() const noexcept { return string_header(":message-type"); }
  // ":event-type" of an event ("messageStart", "contentBlockDelta", ...).
  std::string_view event_type() const noexcept { return string_header(":event-type"); }
  // ":exception-type" of an exception ("throttlingException", ...).
  std::string_view exception_type() const noexcept { return string_header(":exception-type"); }
  std::string_view content_type() const noexcept { return string_header(":content-type"); }
  // ":error-code" and ":error-message" of an error message.
  std::string_view error_code() const noexcept { return string_header(":error-code"); }
  std::string_view error_message() const noexcept { return string_header(":error-message"); }
};

class EventStreamDecoder {
 public:
  static constexpr size_t kPreludeBytes = 12;
  static constexpr size_t kMinMessageBytes = 16;  // prelude + message CRC
  static constexpr size_t kDefaultMaxEventBytes = size_t{16} << 20;

  // Feeds bytes. Calls on_message(const EventStreamMessage&) for each complete
  // message, in order. on_message returns bool (or void, meaning true): false
  // stops; feed then returns false and discards the rest of this input (the
  // decoder is left at a message boundary: what a later feed gives is taken as
  // the start of a message, so stopping is for abandoning the stream). Returns
  // true when all of the input was consumed.
  // Throws literllm::Error(LLM_ERR_STREAMING) on a corrupt message and
  // literllm::Error(LLM_ERR_LIMIT_EXCEEDED) for a message longer than
  // max_event_bytes(); exceptions from on_message propagate. After any
  // exception the decoder throws LLM_ERR_STREAMING on every feed until reset()
  // or finish().
  template <class F>
  bool feed(const char* data, size_t len, F&& on_message);
  template <class F>
  bool feed(std::string_view bytes, F&& on_message) {
    return feed(bytes.data(), bytes.size(), std::forward<F>(on_message));
  }

  // Ends the stream. Returns true when bytes of an incomplete message were
  // pending (a stream cut short, for callers that care); they are dropped.
  // Afterwards the decoder is ready for a new stream (also after an exception);
  // messages() and offset() keep their values until reset().
  bool finish() noexcept;

  // Back to the state of a new decoder (the size limit is kept); also clears
  // the failed state an exception leaves.
  void reset() noexcept;

  // Bytes of an incomplete message held since the last feed.
  size_t pending_bytes() const noexcept { return carry_.size(); }
  // Messages delivered (or being delivered) since construction or reset().
  uint64_t messages() const noexcept { return messages_; }
  // Stream offset of the next message's first byte: bytes of whole messages
  // consumed since construction or reset(). Error texts quote it.
  uint64_t offset() const noexcept { return offset_; }

  void set_max_event_bytes(size_t n) noexcept { max_ = n; }
  size_t max_event_bytes() const noexcept { return max_; }

 private:
  // Checks the prelude at p (12 bytes) and returns the total length.
  uint32_t check_prelude(const char* p) const;
  // Checks and parses the whole message [p, p + n) (n from check_prelude).
  void decode(const char* p, size_t n);
  // Takes what the pending message still needs from [p, end); returns the new p.
  const char* fill_carry(const char* p, const char* end);
  [[noreturn]] void throw_failed() const;

  std::string carry_;                      // the start of a message that began in an earlier read
  size_t need_ = 0;                        // the pending message's total length, 0 while its prelude is incomplete
  std::vector<EventStreamHeader> headers_;  // the current message's headers (capacity reused)
  EventStreamMessage msg_;
  uint64_t offset_ = 0;
  uint64_t messages_ = 0;
  size_t max_ = kDefaultMaxEventBytes;
  bool failed_ = false;
};

// ------------------------------------------------------------------ encoder

// Appends one encoded message to `out`. Throws literllm::Error(
// LLM_ERR_INVALID_ARGUMENT) for what the format cannot carry: a header name
// longer than 255 bytes, a byte array or string longer than 65535, a UUID not
// 16 bytes, a message over 4 GiB. (Header names are not checked otherwise.)
void encode_event_message(std::string& out, std::span<const EventStreamHeader> headers, std::string_view payload);
std::string encode_event_message(std::span<const EventStreamHeader> headers, std::string_view payload);
std::string encode_event_message(std::initializer_list<EventStreamHeader> headers, std::string_view payload);
// A Bedrock-style event: ":event-type" event_type, ":content-type"
// content_type, ":message-type" "event", in that order (as Bedrock sends them).
std::string encode_event_message(std::string_view event_type, std::string_view payload,
                                 std::string_view content_type = "application/json");
// A Bedrock-style exception: ":exception-type", ":content-type", ":message-type" "exception".
std::string encode_exception_message(std::string_view exception_type, std::string_view payload,
                                     std::string_view content_type = "application/json");

// ------------------------------------------------------- EventStreamDecoder

template <class F>
bool EventStreamDecoder::feed(const char* data, size_t len, F&& on_message) {
  if (failed_) throw_failed();
  if (len == 0) return true;
  failed_ = true;  // cleared on every normal return: an exception leaves it set
  const char* p = data;
  const char* const end = data + len;
  if (!carry_.empty()) {
    p = fill_carry(p, end);
    if (need_ == 0 || carry_.size() < need_) {
      failed_ = false;
      return true;
    }
    decode(carry_.data(), carry_.size());
    offset_ += carry_.size();
    ++messages_;
    const bool go_on = framer_detail::call(on_message, static_cast<const EventStreamMessage&>(msg_));
    carry_.clear();
    need_ = 0;
    if (!go_on) {
      failed_ = false;
      return false;
    }
  }
  while (p != end) {
    const size_t avail = static_cast<size_t>(end - p);
    if (avail < kPreludeBytes) {
      carry_.assign(p, avail);
      break;
    }
    const uint32_t total = check_prelude(p);
    if (avail < total) {
      carry_.assign(p, avail);
      need_ = total;
      break;
    }
    decode(p, total);
    p += total;
    offset_ += total;
    ++messages_;
    if (!framer_detail::call(on_message, static_cast<const EventStreamMessage&>(msg_))) {
      failed_ = false;
      return false;
    }
  }
  failed_ = false;
  return true;
}

}  // namespace literllm::http
