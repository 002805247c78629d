#include "core/json_fast.hpp"

#include <pthread.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

#include <rapidjson/internal/dtoa.h>
#include <rapidjson/internal/ieee754.h>

namespace literllm::json {

void Buf::grow(size_t n) {
  size_t c = std::max(len + n, 2 * cap);
  std::unique_ptr<char[]> d(new char[c]);
  if (len) std::memcpy(d.get(), data.get(), len);
  data = std::move(d);
  cap = c;
}

// A started parser with its padded copy of the text. A stream takes one for
// its life and gives it back: each thread keeps one spare, so that streams
// do not each allocate and free a parser's buffers (freed together they can
// cross glibc's trim threshold, and every stream then pays brk() calls and
// page faults). The spare is held through a trivially destructible pointer
// and freed by a pthread key's destructor (see core/json.cpp for why not a
// thread_local object).
struct StreamParser::Slot {
  simdjson::dom::parser parser{kMaxText};
  Buf padded;
};

namespace {

// ------------------------------------------------------------------ writer
// Runs that need no escape are found 16 (SSE2) or 8 bytes at a time and
// copied whole.
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;
inline uint64_t zero_byte(uint64_t x) { return (x - kOnes) & ~x & kHighs; }
// The high bit of each byte of `w` (little-endian) that is '"', '\\' or below
// 0x20: the lowest one set is exact (above it, borrows may mark more).
inline uint64_t escape_mask(uint64_t w) {
  return zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) | ((w - kOnes * 0x20) & ~w & kHighs);
}

void put(Buf& b, const char* s, size_t n) {
  std::memcpy(b.room(n), s, n);
  b.len += n;
}
void put(Buf& b, char c) {
  *b.room(1) = c;
  ++b.len;
}

// Writes the escape of `c` (a byte escape_mask marks) at `o`; returns the end.
inline char* put_escape(char* o, unsigned char c) {
  static const char kHex[] = "0123456789ABCDEF";
  *o++ = '\\';
  switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\t': *o++ = 't'; break;
    case '\n': *o++ = 'n'; break;
    case '\f': *o++ = 'f'; break;
    case '\r': *o++ = 'r'; break;
    default:
      *o++ = 'u';
      *o++ = '0';
      *o++ = '0';
      *o++ = kHex[c >> 4];
      *o++ = kHex[c & 15];
  }
  return o;
}

void write_string(Buf& out, const char* s, size_t n) {
  // Room for the worst case (every byte as \u00XX), and 16 bytes to spare:
  // blocks are stored whole, then the end moves only past what they hold.
  char* o = out.room(6 * n + 2 + 16);
  char* const begin = o;
  *o++ = '"';
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1f);
  while (n - i >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i marked = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                        _mm_cmpeq_epi8(_mm_min_epu8(x, control), x));  // x <= 0x1f
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(marked));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), x);
    if (m == 0) {
      o += 16;
      i += 16;
      continue;
    }
    const size_t j = static_cast<size_t>(std::countr_zero(m));
    o = put_escape(o + j, static_cast<unsigned char>(s[i + j]));
    i += j + 1;
  }
#endif
  while (i < n) {
    const size_t k = n - i < 8 ? n - i : 8;
    uint64_t w = kOnes * 'a';  // a short tail padded with bytes that need no escape
    std::memcpy(&w, s + i, k);
    const uint64_t m = escape_mask(w);
    std::memcpy(o, &w, 8);
    if (m == 0) {
      o += k;
      i += k;
      continue;
    }
    size_t j = 0;  // the first byte to escape (j < k)
    if constexpr (std::endian::native == std::endian::little) {
      j = static_cast<size_t>(std::countr_zero(m)) >> 3;
    } else {
      while (static_cast<unsigned char>(s[i + j]) >= 0x20 && s[i + j] != '"' && s[i + j] != '\\') ++j;
    }
    o = put_escape(o + j, static_cast<unsigned char>(s[i + j]));
    i += j + 1;
  }
  *o++ = '"';
  out.len += static_cast<size_t>(o - begin);
}

}  // namespace

void append_escaped(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x20 && s[j] != '"' && s[j] != '\\') ++j;
    out.append(s.data() + i, j - i);
    if (j == s.size()) break;
    char esc[8];
    out.append(esc, static_cast<size_t>(put_escape(esc, static_cast<unsigned char>(s[j])) - esc));
    i = j + 1;
  }
}

namespace {

// False for what RapidJSON's Writer refuses (a NaN or an infinity): dump()
// then writes what the Writer writes.
bool write_json(Buf& out, const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: put(out, "null", 4); return true;
    case rapidjson::kFalseType: put(out, "false", 5); return true;
    case rapidjson::kTrueType: put(out, "true", 4); return true;
    case rapidjson::kStringType: write_string(out, v.GetString(), v.GetStringLength()); return true;
    case rapidjson::kNumberType: {
      if (v.IsDouble()) {
        const double d = v.GetDouble();
        if (rapidjson::internal::Double(d).IsNanOrInf()) return false;
        char* p = out.room(32);  // the Writer's own shortest form, by its own function
        out.len += static_cast<size_t>(rapidjson::internal::dtoa(d, p) - p);
        return true;
      }
      char* p = out.room(24);
      auto r = v.IsInt64() ? std::to_chars(p, p + 24, v.GetInt64()) : std::to_chars(p, p + 24, v.GetUint64());
      out.len += static_cast<size_t>(r.ptr - p);
      return true;
    }
    case rapidjson::kObjectType: {
      put(out, '{');
      bool first = true;
      for (auto& m : v.GetObject()) {
        if (!first) put(out, ',');
        first = false;
        write_string(out, m.name.GetString(), m.name.GetStringLength());
        put(out, ':');
        if (!write_json(out, m.value)) return false;
      }
      put(out, '}');
      return true;
    }
    case rapidjson::kArrayType: {
      put(out, '[');
      bool first = true;
      for (auto& x : v.GetArray()) {
        if (!first) put(out, ',');
        first = false;
        if (!write_json(out, x)) return false;
      }
      put(out, ']');
      return true;
    }
  }
  return false;
}

// ------------------------------------------------------------------ parser
constexpr size_t kSpareMax = 16u << 10;  // a spare parser for texts up to this is kept
thread_local StreamParser::Slot* t_spare = nullptr;

void free_spare(void* p) {
  if (t_spare == p) t_spare = nullptr;
  delete static_cast<StreamParser::Slot*>(p);
}

struct SpareKey {
  pthread_key_t key;
  bool ok;
};
const SpareKey& spare_key() {
  static const SpareKey k = [] {
    SpareKey r{};
    r.ok = pthread_key_create(&r.key, free_spare) == 0;
    return r;
  }();
  return k;
}

// The thread's spare, or a new parser; nullptr once exit() has begun.
std::unique_ptr<StreamParser::Slot> take_parser(size_t capacity) {
  if (StreamParser::Slot* s = t_spare) {
    t_spare = nullptr;
    pthread_setspecific(spare_key().key, nullptr);
    return std::unique_ptr<StreamParser::Slot>(s);
  }
  auto s = std::make_unique<StreamParser::Slot>();
  if (!json::start_simdjson_parser(s->parser, capacity, kMaxDepth)) return nullptr;
  return s;
}

void give_back(std::unique_ptr<StreamParser::Slot> s) {
  if (t_spare || s->parser.capacity() > kSpareMax) return;  // freed
  const SpareKey& k = spare_key();
  if (!k.ok || pthread_setspecific(k.key, s.get()) != 0) return;
  t_spare = s.release();
}

}  // namespace

bool TextWriter::write(const Value& v) {
  out_.len = 0;
  return write_json(out_, v);
}

std::string TextWriter::dump(const Value& v) { return json::dump(v); }

StreamParser::StreamParser() = default;

StreamParser::~StreamParser() {
  if (slot_) give_back(std::move(slot_));
}

bool StreamParser::parse(std::string_view text, simdjson::dom::element& root) {
  if (text.size() > kMaxText) return false;
  if (!slot_) {
    if (failed_) return false;
    slot_ = take_parser(std::max<size_t>(text.size(), 4096));
    if (!slot_) {
      failed_ = true;
      return false;
    }
  }
  char* padded = slot_->padded.room(text.size() + simdjson::SIMDJSON_PADDING);  // len stays 0
  std::memcpy(padded, text.data(), text.size());
  simdjson::error_code err = slot_->parser.parse(padded, text.size(), false).get(root);
  if (err == simdjson::MEMALLOC) throw std::bad_alloc();
  return err == simdjson::SUCCESS;
}

}  // namespace literllm::json
