#include "core/json.hpp"

#include <pthread.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "core/error.hpp"
#include "core/json_fast.hpp"

namespace literllm::json {

namespace {
// Nesting deeper than kMaxDepth (json_fast.hpp) is refused: RapidJSON's writer
// and our own walkers recurse, and no real request or response nests this deep.

int hex4(std::string_view t, size_t i) {  // the 4 hex digits at t[i..i+4), or -1
  if (i + 4 > t.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = t[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Eight bytes at a time: does any byte of `w` equal `c`? (the classic SWAR test)
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;
inline uint64_t has_byte(uint64_t w, unsigned char c) {
  uint64_t x = w ^ (kOnes * c);
  return (x - kOnes) & ~x & kHighs;
}

// What RapidJSON's parser does not refuse by itself, found in one pass over the
// text: nesting deeper than kMaxDepth (its parser and writer recurse), a \u
// escape of a low surrogate standing alone (it would store bytes that are not
// UTF-8), and a NUL byte between tokens (it would end the text there, ignoring
// the rest; inside a string RapidJSON refuses it). Returns a message and sets `at`, or returns nullptr. Also tells
// whether any byte is outside ASCII (only then must the parser check UTF-8).
const char* prescan(std::string_view t, size_t& at, bool& non_ascii) {
  int depth = 0;
  bool in_str = false;
  const size_t n = t.size();
  uint64_t high = 0;
  for (size_t i = 0; i < n; ++i) {
    if (in_str) {
      // Skip string content eight bytes at a time up to a quote or backslash.
      while (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, t.data() + i, 8);
        if (has_byte(w, '"') | has_byte(w, '\\')) break;
        high |= w;
        i += 8;
      }
      if (i >= n) break;
    }
    unsigned char c = static_cast<unsigned char>(t[i]);
    high |= c;
    if (in_str) {
      if (c == '"') {
        in_str = false;
      } else if (c == '\\' && i + 1 < n) {
        if (t[i + 1] == 'u') {
          int u = hex4(t, i + 2);
          if (u >= 0xD800 && u <= 0xDBFF && i + 7 < n && t[i + 6] == '\\' && t[i + 7] == 'u') {
            i += 6;  // a pair: RapidJSON checks the low half; step over the high half
          } else if (u >= 0xDC00 && u <= 0xDFFF) {
            at = i;
            return "has a lone low-surrogate escape (not a Unicode character)";
          }
        }
        ++i;
      }
    } else if (c == '"') {
      in_str = true;
    } else if (c == 0) {
      at = i;  // RapidJSON would take it for the end of the text and ignore what follows
      return "has a NUL byte outside a string";
    } else if (c == '[' || c == '{') {
      if (++depth > static_cast<int>(kMaxDepth)) {
        at = i;
        return "nests deeper than 512 levels";
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  non_ascii = (high & kHighs) != 0;
  return nullptr;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RapidJSON 1.1's correctly rounded reader hands a zero significand with a
// large exponent ("0e400", "-0.00E+99") to __builtin_clzll(0), which is
// undefined behaviour. Whatever the exponent, the value is zero: the exponent
// is blanked out (spaces end the number where it would have ended, and keep
// every offset). Numbers outside strings only; a text that is not JSON stays
// not JSON.
void blank_zero_exponents(char* p, size_t n) {
  bool in_str = false;
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') {
      in_str = true;
      continue;
    }
    if (c != '-' && !is_digit(c)) continue;
    size_t j = i + (c == '-');
    bool digits = false, zero = true;
    for (; j < n && is_digit(p[j]); ++j) digits = true, zero = zero && p[j] == '0';
    if (j < n && p[j] == '.')
      for (++j; j < n && is_digit(p[j]); ++j) zero = zero && p[j] == '0';
    if (digits && zero && j < n && (p[j] == 'e' || p[j] == 'E')) {
      size_t k = j + 1;
      if (k < n && (p[k] == '+' || p[k] == '-')) ++k;
      const size_t first = k;
      while (k < n && is_digit(p[k])) ++k;
      if (k > first) {
        std::memset(p + j, ' ', k - j);
        j = k;
      }
    }
    i = j - 1;  // on past the number
  }
}

// Texts longer than this go to RapidJSON alone (in place): simdjson's buffers
// take about 14 bytes per byte of text, grown for one parse and given back
// after it, and past this size faulting those pages in costs more than
// simdjson saves (1 MB: 27 ms against RapidJSON's 1.9 ms, measured here).
constexpr size_t kFastParseMax = 256u << 10;
// What a thread keeps between parses: a parser sized for texts up to this
// (about 260 KiB of simdjson buffers, plus the padded copy). A longer text grows
// it for that parse only.
constexpr size_t kKeepMax = 16u << 10;

// The RapidJSON value of a simdjson element. Recursion is bounded: the parser
// refused anything nested deeper than kMaxDepth.
void convert(simdjson::dom::element e, Value& out, Allocator& a) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::OBJECT: {
      simdjson::dom::object fields = e.get_object().value_unsafe();  // a copy: the result is a temporary
      out.SetObject();
      for (auto field : fields) {
        Value name(field.key.data(), static_cast<rapidjson::SizeType>(field.key.size()), a);
        Value v;
        convert(field.value, v, a);
        out.AddMember(name, v, a);
      }
      return;
    }
    case Type::ARRAY: {
      simdjson::dom::array items = e.get_array().value_unsafe();
      out.SetArray();
      out.Reserve(static_cast<rapidjson::SizeType>(items.size()), a);  // size() may saturate: a hint only
      for (simdjson::dom::element item : items) {
        Value v;
        convert(item, v, a);
        out.PushBack(v, a);
      }
      return;
    }
    case Type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
      return;
    }
    case Type::INT64:
      out.SetInt64(e.get_int64().value_unsafe());
      return;
    case Type::UINT64:
      out.SetUint64(e.get_uint64().value_unsafe());
      return;
    case Type::DOUBLE:
      out.SetDouble(e.get_double().value_unsafe());
      return;
    case Type::BOOL:
      out.SetBool(e.get_bool().value_unsafe());
      return;
    case Type::NULL_VALUE:
      out.SetNull();
      return;
  }
}

// simdjson gives a parser its working state through process-wide objects that
// exit() destroys; a parser started after that calls a pure virtual function.
// Parsers start under start_lock, and an exit handler, registered once those
// objects exist (so it runs before their destructors), stops the starting: a
// parser that has not started then leaves its texts to RapidJSON.
pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
bool exiting = false;           // under start_lock
bool exit_handler_set = false;  // under start_lock

void lock_starts() { pthread_mutex_lock(&start_lock); }
void unlock_starts() { pthread_mutex_unlock(&start_lock); }
void stop_starts() {
  lock_starts();
  exiting = true;
  unlock_starts();
}

}  // namespace

bool start_simdjson_parser(simdjson::dom::parser& p, size_t capacity, size_t max_depth) {
  // Fork handlers that leave start_lock unlocked in a child, set before it is first taken.
  static const bool fork_handlers = pthread_atfork(lock_starts, unlock_starts, unlock_starts) == 0;
  (void)fork_handlers;
  lock_starts();
  bool ok = false;
  simdjson::error_code e = simdjson::SUCCESS;
  if (!exiting) {
    e = p.allocate(capacity, max_depth);
    ok = e == simdjson::SUCCESS;
    if (!exit_handler_set) {  // simdjson's objects exist now
      exit_handler_set = true;
      if (std::atexit(stop_starts) != 0) exiting = true;  // no handler: start no more parsers
    }
  }
  unlock_starts();
  if (e == simdjson::MEMALLOC) throw std::bad_alloc();
  return ok;
}

namespace {

// A thread's simdjson parser, its document and the padded copy of the text.
struct ParseState {
  simdjson::dom::parser parser{kFastParseMax};
  simdjson::dom::document doc;
  std::string padded;
  bool started = false;  // the parser has its working state (see start)
};

// The calling thread's state: on the heap behind a trivially destructible
// pointer, freed by a pthread key's destructor. (A thread_local object would be
// destroyed before the key destructors run, and a language runtime's own key
// destructor may call the library after that.)
thread_local ParseState* t_state = nullptr;

void free_state(void* p) {
  t_state = nullptr;
  delete static_cast<ParseState*>(p);
}

// Once per process (never undone): the key. Trivially destructible.
struct Setup {
  pthread_key_t key;
  bool key_ok;
};
const Setup& setup() {
  static const Setup s = [] {
    Setup r{};
    r.key_ok = pthread_key_create(&r.key, free_state) == 0;
    return r;
  }();
  return s;
}

// The calling thread's state, made on first use; nullptr when no key could be
// had. Called again after the key's destructor ran (from another key's
// destructor), it makes a new state and sets the key again, and glibc runs the
// destructor in its next round; past the last round (PTHREAD_DESTRUCTOR_ITERATIONS)
// that one state is leaked.
ParseState* thread_state() {
  if (t_state) return t_state;
  const Setup& s = setup();
  if (!s.key_ok) return nullptr;
  auto* st = new ParseState;
  if (pthread_setspecific(s.key, st) != 0) {
    delete st;
    return nullptr;
  }
  t_state = st;
  return st;
}

// Gives `st.parser` its working state, for texts of `len` bytes. False once
// exit() has begun (see start_simdjson_parser).
bool start(ParseState& st, size_t len) {
  if (!st.started)
    st.started =
        start_simdjson_parser(st.parser, std::max(len, simdjson::dom::MINIMAL_DOCUMENT_CAPACITY), kMaxDepth);
  return st.started;
}

// After a text longer than kKeepMax: the parser and document shrunk back to
// their size before it, the padded copy freed.
struct Trim {
  ParseState& st;
  size_t before;
  ~Trim() {
    if (st.parser.capacity() > kKeepMax || st.doc.capacity() > kKeepMax) {
      const size_t keep = std::clamp(before, simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kKeepMax);
      // On failure each is left empty, and grows again on the next parse.
      // The depth limit given again: allocate() alone would reset it to
      // simdjson's default (1024), and the parser would then accept what
      // json::parse must refuse.
      simdjson::error_code e1 = st.parser.allocate(keep, kMaxDepth);
      simdjson::error_code e2 = st.doc.allocate(keep);
      (void)e1;
      (void)e2;
    }
    if (st.padded.capacity() > kKeepMax + simdjson::SIMDJSON_PADDING) std::string().swap(st.padded);
  }
};

// simdjson finds the structure (several times faster than RapidJSON's reader,
// bench/bench_json) and the RapidJSON document is built from it: RapidJSON
// stays for editing and writing. False, with `d` untouched, when simdjson
// refuses the text or it is too long; RapidJSON then decides, and words the
// error. (It also reads what simdjson refuses but JSON allows: integers past
// 64 bits.) simdjson running out of memory throws std::bad_alloc.
bool fast_parse(std::string_view text, Document& d) {
  if (text.size() > kFastParseMax) return false;
  std::unique_ptr<ParseState> local;  // when the thread can hold no state
  ParseState* st = thread_state();
  if (!st) {
    local = std::make_unique<ParseState>();
    st = local.get();
  }
  const size_t before = std::min(st->parser.capacity(), st->doc.capacity());
  if (!start(*st, text.size())) return false;
  Trim trim{*st, before};
  st->padded.assign(text.data(), text.size());
  st->padded.append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::dom::element root;
  simdjson::error_code e = st->parser.parse_into_document(st->doc, st->padded.data(), text.size(), false).get(root);
  if (e == simdjson::MEMALLOC) throw std::bad_alloc();
  if (e != simdjson::SUCCESS) return false;
  convert(root, d, d.GetAllocator());
  return true;
}
}  // namespace

Document parse(std::string_view text, const char* what, llm_status status) {
  return parse(text, what, status, nullptr);
}

Document parse(std::string_view text, const char* what, llm_status status, size_t* error_at) {
  // simdjson, limited to kMaxDepth levels, accepts nothing that prescan
  // refuses (deep nesting, a lone low surrogate, a NUL between tokens): what
  // it accepts needs no prescan.
  Document d;
  if (fast_parse(text, d)) return d;
  size_t at = 0;
  bool non_ascii = false;
  if (const char* why = prescan(text, at, non_ascii)) {
    if (error_at) *error_at = at;
    throw Error(status, std::string(what) + " " + why + " (at byte " + std::to_string(at) + ")");
  }
  // RapidJSON decides. The text is copied once into the document's own memory
  // and parsed there in place: its strings stay where they are (a plain parse
  // would hold each string twice more, on the reader's stack then in the
  // document: a huge answer four times over at its peak), and the copy can be
  // mended where RapidJSON would misbehave (blank_zero_exponents).
  char* own = static_cast<char*>(d.GetAllocator().Malloc(text.size() + 1));
  if (!own) throw std::bad_alloc();
  std::memcpy(own, text.data(), text.size());
  own[text.size()] = '\0';  // the in-place reader's end (prescan refused any NUL between tokens)
  blank_zero_exponents(own, text.size());
  // Full precision: numbers read as simdjson reads them (correctly rounded).
  // ASCII text is valid UTF-8 as it stands: the (slower) encoding check is
  // needed only when a byte is not ASCII.
  constexpr unsigned kFlags = rapidjson::kParseFullPrecisionFlag;
  if (non_ascii)
    d.ParseInsitu<kFlags | rapidjson::kParseValidateEncodingFlag>(own);
  else
    d.ParseInsitu<kFlags>(own);
  if (d.HasParseError()) {
    if (error_at) *error_at = d.GetErrorOffset();
    throw Error(status, std::string(what) + " is not valid JSON: " + rapidjson::GetParseError_En(d.GetParseError()) +
                            " (at byte " + std::to_string(d.GetErrorOffset()) + ")");
  }
  return d;
}

std::optional<std::string> find_duplicate_key(const Value& root) {
  // Iterative: every container is a frame; a path is built only on failure.
  struct Frame {
    const Value* v;
    long parent;
    const Value* key;  // member name in the parent object, or nullptr
    rapidjson::SizeType index;
  };
  std::vector<Frame> frames{{&root, -1, nullptr, 0}};
  std::vector<std::string_view> seen;
  for (size_t f = 0; f < frames.size(); ++f) {
    const Value& v = *frames[f].v;
    if (v.IsObject()) {
      seen.clear();
      for (auto& m : v.GetObject()) seen.push_back(sv(m.name));
      std::sort(seen.begin(), seen.end());
      auto dup = std::adjacent_find(seen.begin(), seen.end());
      if (dup != seen.end()) {
        // Frames from this object up to the root, then the path written root first.
        std::vector<const Frame*> up;
        for (long p = static_cast<long>(f); frames[p].parent >= 0; p = frames[p].parent) up.push_back(&frames[p]);
        std::string path;
        for (auto it = up.rbegin(); it != up.rend(); ++it) {
          if ((*it)->key) {
            path += '.';
            path += sv(*(*it)->key);
          } else {
            path += '[';
            path += std::to_string((*it)->index);
            path += ']';
          }
        }
        path += '.';
        path += *dup;
        return path;
      }
      for (auto& m : v.GetObject())
        if (m.value.IsObject() || m.value.IsArray()) frames.push_back({&m.value, static_cast<long>(f), &m.name, 0});
    } else if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
        if (v[i].IsObject() || v[i].IsArray()) frames.push_back({&v[i], static_cast<long>(f), nullptr, i});
    }
  }
  return std::nullopt;
}

std::string dump(const Value& v) {
  if (TextWriter fast; fast.write(v)) return std::string(fast.view());
  StringBuffer buf;  // what the fast writer refuses: RapidJSON's Writer says how it fails
  Writer w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

size_t thread_parser_capacity() { return t_state ? t_state->parser.capacity() : 0; }

const char* type_name(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return "number";
  }
  return "unknown";
}

}  // namespace literllm::json
