// JSON fast paths for hot loops (stream codecs): a reusable writer that gives
// exactly json::dump's text, and a stream's own simdjson parser. Includes
// simdjson's header: only the files that need these include this one.
#pragma once
#include <simdjson.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace literllm::json {

// A byte buffer kept from use to use, grown without being filled.
struct Buf {
  std::unique_ptr<char[]> data;
  size_t cap = 0, len = 0;
  // Room for `n` more bytes after the first `len`.
  char* room(size_t n) {
    if (cap - len < n) [[unlikely]]
      grow(n);
    return data.get() + len;
  }
  void grow(size_t n);
};

// JSON text exactly as dump() writes it (RapidJSON's Writer: compact; '"',
// '\\' and control characters escaped, \u00XX in upper-case hex; every other
// byte as it is), without its per-character work, into a buffer kept between
// writes. Not thread-safe: one per stream.
class TextWriter {
 public:
  // Writes `v`; its text is view() until the next write. False (view() then
  // undefined) when `v` holds a NaN or an infinity, which dump() writes as
  // RapidJSON's Writer does (it stops there).
  bool write(const Value& v);
  std::string_view view() const { return {out_.data.get(), out_.len}; }
  // Frees the buffer when it has grown past `keep` bytes.
  void trim(size_t keep) {
    if (out_.cap > keep) out_ = Buf();
  }
  // `v`'s text: json::dump(v), which writes with a TextWriter of its own.
  static std::string dump(const Value& v);

 private:
  Buf out_;
};

// Appends `s` to `out` as the inside of a JSON string: escaped as dump()
// escapes it, without the quotes. For text written a piece at a time.
void append_escaped(std::string& out, std::string_view s);

// The nesting json::parse allows (it checks before it parses): a simdjson
// parser limited to it refuses whatever json::parse's checks would.
inline constexpr size_t kMaxDepth = 512;

// Gives `p` its working state, for texts up to `capacity` bytes nested up to
// `max_depth` levels. False once exit() has begun: simdjson's process-wide
// objects are then being destroyed, and a parser started after that would
// call a pure virtual function, so the caller reads with RapidJSON instead
// (json::parse). Throws std::bad_alloc. Thread-safe; fork-safe.
bool start_simdjson_parser(simdjson::dom::parser& p, size_t capacity, size_t max_depth = kMaxDepth);

// A stream's own simdjson parser, taken at its first text and given back at
// its end (each thread keeps one spare, so that streams do not each allocate
// and free a parser). Not thread-safe: one per stream.
class StreamParser {
 public:
  // Texts longer than this are left to json::parse (which keeps no more per
  // thread): a parser holds about 14 bytes per byte of its longest text.
  static constexpr size_t kMaxText = 32u << 10;

  StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;
  ~StreamParser();

  // `text` parsed into `root` (valid until the next parse) when simdjson
  // accepts it, which it does only for what json::parse accepts; false to
  // leave the text to json::parse (which words the error, and reads the
  // little JSON simdjson does not: integers past 64 bits), also for a text
  // over kMaxText or once exit() has begun. Throws std::bad_alloc.
  bool parse(std::string_view text, simdjson::dom::element& root);

  struct Slot;

 private:
  std::unique_ptr<Slot> slot_;
  bool failed_ = false;
};

}  // namespace literllm::json
