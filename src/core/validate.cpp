#include "core/validate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "http/headers.hpp"

// The shapes checked here follow CreateChatCompletionRequest and the message,
// content-part, tool and response-format schemas of the OpenAI OpenAPI spec
// (../shared/specs/openai-openapi.yaml). Where the spec marks a field
// nullable, null is accepted and means "absent". Checks marked `openai` are
// api.openai.com's value limits (RequestRules::OpenAI); the rest hold for
// every provider.

namespace literllm {
namespace {

using json::Value;
using std::string_view;
using Options = std::initializer_list<string_view>;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ------------------------------------------------------------------- paths

// Where a value sits in the request. Frames live on the C++ stack, each
// pointing at its parent, so descending is free and the text is built only
// when a check fails. A frame must not outlive its parent: bind a child to a
// named variable before making a grandchild from it.
struct Path {
  enum Kind : unsigned char { kRoot, kField, kIndex, kKey };
  const Path* parent;
  Kind kind;
  string_view name;  // kField: a field name (a literal); kKey: a key taken from the request
  size_t index;      // kIndex

  Path field(string_view f) const { return Path{this, kField, f, 0}; }
  Path at(size_t i) const { return Path{this, kIndex, {}, i}; }
  Path key(string_view k) const { return Path{this, kKey, k, 0}; }
};

constexpr Path kRootPath{nullptr, Path::kRoot, {}, 0};

// Appends `s` as a quoted string, escaping quotes, backslashes and control
// characters, and cutting it (at a character boundary) after 64 bytes: text
// from the request is echoed only as much as it helps to recognise it.
void append_quoted(std::string& out, string_view s) {
  constexpr size_t kMaxEcho = 64;
  size_t n = s.size();
  bool cut = false;
  if (n > kMaxEcho) {
    n = kMaxEcho;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    cut = true;
  }
  out += '"';
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cut) out += "...";
  out += '"';
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_double(std::string& out, double v) {
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back as v
  out.append(buf, r.ptr);
}

// A JSON number as the request spelled it, near enough: integers exactly.
void append_number(std::string& out, const Value& v) {
  if (v.IsInt64()) {
    append_int(out, v.GetInt64());
  } else if (v.IsUint64()) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v.GetUint64());
    out.append(buf, r.ptr);
  } else {
    append_double(out, v.GetDouble());
  }
}

void render(const Path& p, std::string& out) {
  if (p.parent) render(*p.parent, out);
  switch (p.kind) {
    case Path::kRoot:
      out += "request";
      break;
    case Path::kField:
      out += '.';
      out += p.name;
      break;
    case Path::kIndex:
      out += '[';
      append_int(out, static_cast<int64_t>(p.index));
      out += ']';
      break;
    case Path::kKey:
      out += '[';
      append_quoted(out, p.name);
      out += ']';
      break;
  }
}

std::string path_text(const Path& p) {
  std::string s;
  render(p, s);
  return s;
}

// ---------------------------------------------------------------- failures

[[noreturn, gnu::cold, gnu::noinline]] void fail(const Path& p, string_view what,
                                                 llm_status status = LLM_ERR_INVALID_ARGUMENT) {
  std::string msg = path_text(p);
  msg += ": ";
  msg += what;
  throw Error(status, std::move(msg));
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_type(const Path& p, string_view expected, const Value& got) {
  std::string w = "expected ";
  w += expected;
  w += ", got ";
  w += json::type_name(got);
  fail(p, w);
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_required(const Path& p) { fail(p, "is required"); }

void append_options(std::string& out, Options opts) {
  bool first = true;
  for (string_view o : opts) {
    if (!first) out += ", ";
    out += o;
    first = false;
  }
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_enum(const Path& p, Options opts, string_view got) {
  std::string w = "must be one of ";
  append_options(w, opts);
  w += "; got ";
  append_quoted(w, got);
  fail(p, w);
}

// "must be between 0 and 2, got 3.5"; an infinite bound is left unsaid.
[[noreturn, gnu::cold, gnu::noinline]] void fail_range(const Path& p, double lo, double hi, const Value& got) {
  std::string w;
  if (lo == -kInf && hi == kInf) {
    w = "must be a finite number";
  } else if (hi == kInf) {
    w = "must be a finite number of at least ";
    append_double(w, lo);
  } else {
    w = "must be between ";
    append_double(w, lo);
    w += " and ";
    append_double(w, hi);
  }
  w += ", got ";
  append_number(w, got);
  fail(p, w);
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_int_range(const Path& p, int64_t lo, int64_t hi, const Value& got) {
  std::string w;
  if (lo == kInt64Min && hi == kInt64Max) {
    w = "must be a 64-bit signed integer";
  } else if (hi == kInt64Max) {
    w = "must be at least ";
    append_int(w, lo);
  } else {
    w = "must be between ";
    append_int(w, lo);
    w += " and ";
    append_int(w, hi);
  }
  w += ", got ";
  append_number(w, got);
  fail(p, w);
}

// ------------------------------------------------------------ basic checks

using json::sv;  // (also found by argument-dependent lookup: Value's allocator is json's)

// The member `key` of `obj`, or nullptr. `obj` is known to be an object.
inline const Value* member(const Value& obj, string_view key) {
  auto it = obj.FindMember(rapidjson::StringRef(key.data(), key.size()));
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// The member `key` of `obj` (at `p`), failing when it is absent.
inline const Value& required(const Value& obj, string_view key, const Path& p) {
  const Value* v = member(obj, key);
  if (!v) fail_required(p.field(key));
  return *v;
}

inline void need_object(const Value& v, const Path& p) {
  if (!v.IsObject()) fail_type(p, "an object", v);
}
inline void need_array(const Value& v, const Path& p) {
  if (!v.IsArray()) fail_type(p, "an array", v);
}
inline void need_string(const Value& v, const Path& p) {
  if (!v.IsString()) fail_type(p, "a string", v);
}
inline void need_nonempty_string(const Value& v, const Path& p) {
  need_string(v, p);
  if (v.GetStringLength() == 0) fail(p, "must not be empty");
}
inline void need_bool(const Value& v, const Path& p) {
  if (!v.IsBool()) fail_type(p, "a boolean", v);
}
inline void need_bool_or_null(const Value& v, const Path& p) {
  if (!v.IsBool() && !v.IsNull()) fail_type(p, "a boolean or null", v);
}
inline void need_string_or_null(const Value& v, const Path& p) {
  if (!v.IsString() && !v.IsNull()) fail_type(p, "a string or null", v);
}

// Optional members: checked when present.
inline void opt_string(const Value& obj, string_view key, const Path& p) {
  if (const Value* v = member(obj, key)) need_string(*v, p.field(key));
}
inline void opt_object(const Value& obj, string_view key, const Path& p) {
  if (const Value* v = member(obj, key)) need_object(*v, p.field(key));
}
inline void opt_bool_or_null(const Value& obj, string_view key, const Path& p) {
  if (const Value* v = member(obj, key)) need_bool_or_null(*v, p.field(key));
}

inline bool one_of(string_view s, Options opts) {
  for (string_view o : opts)
    if (s == o) return true;
  return false;
}

void check_enum(const Value& v, const Path& p, Options opts) {
  need_string(v, p);
  if (!one_of(sv(v), opts)) fail_enum(p, opts, sv(v));
}

void check_enum_or_null(const Value& v, const Path& p, Options opts) {
  if (v.IsNull()) return;
  if (!v.IsString()) fail_type(p, "a string or null", v);
  if (!one_of(sv(v), opts)) fail_enum(p, opts, sv(v));
}

// A finite number in [lo, hi] (a bound may be infinite).
void check_number(const Value& v, const Path& p, double lo, double hi, bool nullable) {
  if (nullable && v.IsNull()) return;
  if (!v.IsNumber()) fail_type(p, nullable ? "a number or null" : "a number", v);
  const double d = v.GetDouble();
  if (!(d >= lo && d <= hi) || !std::isfinite(d)) fail_range(p, lo, hi, v);
}

// An integer in [lo, hi]. JSON does not tell 1 from 1.0, so an integral
// number written with a fraction or exponent is accepted; 1.5 is not, nor is
// anything beyond the 64-bit range.
void check_int(const Value& v, const Path& p, int64_t lo, int64_t hi, bool nullable) {
  if (nullable && v.IsNull()) return;
  if (!v.IsNumber()) fail_type(p, nullable ? "an integer or null" : "an integer", v);
  int64_t n;
  if (v.IsInt64()) {
    n = v.GetInt64();
  } else if (v.IsUint64()) {
    fail_int_range(p, lo, hi, v);  // above INT64_MAX
  } else {
    const double d = v.GetDouble();
    if (std::trunc(d) != d) {
      std::string w = "expected an integer, got ";
      append_number(w, v);
      fail(p, w);
    }
    // A literal within the int64 range arrives as an integer (IsInt64 above),
    // so a double at or beyond +-2^63 is one that overflowed (rounded to it).
    if (d <= -9223372036854775808.0 || d >= 9223372036854775808.0) fail_int_range(p, lo, hi, v);
    n = static_cast<int64_t>(d);
  }
  if (n < lo || n > hi) fail_int_range(p, lo, hi, v);
}

// Characters (code points) in a string already known to be valid UTF-8.
size_t utf8_length(string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// ^[a-zA-Z0-9_-]{1,64}$, the rule for function and response-format names.
bool is_identifier64(string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool has_control_character(string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// A tool, function or json_schema name: a non-empty string without control
// characters; `openai`: ^[a-zA-Z0-9_-]{1,64}$.
void check_name(const Value& v, const Path& p, bool openai) {
  need_string(v, p);
  if (openai) {
    if (!is_identifier64(sv(v))) {
      std::string w = "must be 1 to 64 characters from a-z, A-Z, 0-9, _ and -; got ";
      append_quoted(w, sv(v));
      fail(p, w);
    }
    return;
  }
  if (v.GetStringLength() == 0) fail(p, "must not be empty");
  if (has_control_character(sv(v))) {
    std::string w = "must not contain control characters; got ";
    append_quoted(w, sv(v));
    fail(p, w);
  }
}

// A string whose value is checked against `opts` only under `openai`.
inline void check_setting(const Value& v, const Path& p, Options opts, bool openai) {
  if (openai) check_enum(v, p, opts);
  else need_string(v, p);
}

inline void check_setting_or_null(const Value& v, const Path& p, Options opts, bool openai) {
  if (openai) check_enum_or_null(v, p, opts);
  else need_string_or_null(v, p);
}

// ----------------------------------------------------------- content parts

enum PartKind : unsigned {
  kPartText = 1u << 0,
  kPartImage = 1u << 1,
  kPartAudio = 1u << 2,
  kPartFile = 1u << 3,
  kPartDocument = 1u << 4,
  kPartRefusal = 1u << 5,
};

// Which parts a content array may hold, and how to name its owner in messages.
struct PartRules {
  unsigned allowed;
  const char* owner;  // "a system message", ...
  const char* names;  // the allowed type names, for the message
};

constexpr PartRules kTextOnlySystem{kPartText, "a system message", "text"};
constexpr PartRules kTextOnlyDeveloper{kPartText, "a developer message", "text"};
constexpr PartRules kTextOnlyTool{kPartText, "a tool message", "text"};
constexpr PartRules kTextOnlyPrediction{kPartText, "predicted content", "text"};
constexpr PartRules kUserParts{kPartText | kPartImage | kPartAudio | kPartFile | kPartDocument, "a user message",
                               "text, image_url, input_audio, file, document"};
constexpr PartRules kAssistantParts{kPartText | kPartRefusal, "an assistant message", "text, refusal"};

unsigned part_kind(string_view t) {
  if (t == "text") return kPartText;
  if (t == "image_url") return kPartImage;
  if (t == "input_audio") return kPartAudio;
  if (t == "file") return kPartFile;
  if (t == "document") return kPartDocument;
  if (t == "refusal") return kPartRefusal;
  return 0;
}

// { "type": "image_url", "image_url": { "url": "...", "detail": "auto" } }
void check_image_part(const Value& part, const Path& p, bool openai) {
  const Path pi = p.field("image_url");
  const Value& img = required(part, "image_url", p);
  need_object(img, pi);
  const Path pu = pi.field("url");
  need_nonempty_string(required(img, "url", pi), pu);
  if (const Value* d = member(img, "detail")) check_setting(*d, pi.field("detail"), {"auto", "low", "high"}, openai);
}

// { "type": "input_audio", "input_audio": { "data": base64, "format": "wav" | "mp3" } }
void check_audio_part(const Value& part, const Path& p, bool openai) {
  const Path pa = p.field("input_audio");
  const Value& audio = required(part, "input_audio", p);
  need_object(audio, pa);
  need_string(required(audio, "data", pa), pa.field("data"));
  check_setting(required(audio, "format", pa), pa.field("format"), {"wav", "mp3"}, openai);
}

// Checks that the listed optional members of `obj` are strings when present,
// and that at least one of the first two is present and non-empty.
void check_either(const Value& obj, const Path& p, string_view a, string_view b, string_view c) {
  bool have = false;
  for (string_view k : {a, b, c}) {
    const Value* v = member(obj, k);
    if (!v) continue;
    need_string(*v, p.field(k));
    if (k != c && v->GetStringLength() > 0) have = true;
  }
  if (!have) {
    std::string w = "needs a non-empty ";
    w += a;
    w += " or ";
    w += b;
    fail(p, w);
  }
}

// { "type": "file", "file": { "file_data"?: base64, "file_id"?: s, "filename"?: s } }
void check_file_part(const Value& part, const Path& p) {
  const Path pf = p.field("file");
  const Value& file = required(part, "file", p);
  need_object(file, pf);
  check_either(file, pf, "file_data", "file_id", "filename");
}

// literllm's extension for providers that take documents:
// { "type": "document", "document": { "data"?: base64, "url"?: s, "media_type"?: s } }
void check_document_part(const Value& part, const Path& p) {
  const Path pd = p.field("document");
  const Value& doc = required(part, "document", p);
  need_object(doc, pd);
  check_either(doc, pd, "data", "url", "media_type");
}

void check_part(const Value& part, const Path& p, const PartRules& rules, bool openai) {
  if (!part.IsObject()) fail_type(p, "an object (a content part)", part);
  const Path pt = p.field("type");
  const Value& type = required(part, "type", p);
  need_string(type, pt);
  const unsigned kind = part_kind(sv(type));
  if (!(kind & rules.allowed)) {
    std::string w;
    if (kind) {
      append_quoted(w, sv(type));
      w += " parts are not allowed in ";
      w += rules.owner;
      w += " (allowed: ";
    } else {
      w = "unknown content part type ";
      append_quoted(w, sv(type));
      w += " (allowed in ";
      w += rules.owner;
      w += ": ";
    }
    w += rules.names;
    w += ')';
    fail(pt, w);
  }
  switch (kind) {
    case kPartText:
      need_string(required(part, "text", p), p.field("text"));
      break;
    case kPartRefusal:
      need_string(required(part, "refusal", p), p.field("refusal"));
      break;
    case kPartImage:
      check_image_part(part, p, openai);
      break;
    case kPartAudio:
      check_audio_part(part, p, openai);
      break;
    case kPartFile:
      check_file_part(part, p);
      break;
    case kPartDocument:
      check_document_part(part, p);
      break;
  }
  if (const Value* bp = member(part, "prompt_cache_breakpoint")) {
    const Path pb = p.field("prompt_cache_breakpoint");
    need_object(*bp, pb);
    check_setting(required(*bp, "mode", pb), pb.field("mode"), {"explicit"}, openai);
  }
}

// A string, or a non-empty array of parts the rules allow.
void check_content(const Value& c, const Path& p, const PartRules& rules, bool openai) {
  if (c.IsString()) return;
  if (!c.IsArray()) fail_type(p, "a string or an array of content parts", c);
  if (c.Empty()) fail(p, "must not be an empty array");
  size_t i = 0;
  for (const Value& part : c.GetArray()) check_part(part, p.at(i++), rules, openai);
}

// ---------------------------------------------------------------- messages

// { "id": s, "type": "function", "function": { "name": s, "arguments": s } }
// or { "id": s, "type": "custom", "custom": { "name": s, "input": s } }
void check_tool_call(const Value& tc, const Path& p) {
  if (!tc.IsObject()) fail_type(p, "an object (a tool call)", tc);
  need_string(required(tc, "id", p), p.field("id"));
  const Path pt = p.field("type");
  const Value& type = required(tc, "type", p);
  check_enum(type, pt, {"function", "custom"});
  const bool custom = sv(type) == "custom";
  const string_view body_key = custom ? "custom" : "function";
  const Path pb = p.field(body_key);
  const Value& body = required(tc, body_key, p);
  need_object(body, pb);
  need_string(required(body, "name", pb), pb.field("name"));
  const string_view arg_key = custom ? "input" : "arguments";
  need_string(required(body, arg_key, pb), pb.field(arg_key));
}

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool, kFunction };

Role parse_role(const Value& v, const Path& p) {
  need_string(v, p);
  const string_view r = sv(v);
  if (r == "user") return Role::kUser;
  if (r == "assistant") return Role::kAssistant;
  if (r == "system") return Role::kSystem;
  if (r == "tool") return Role::kTool;
  if (r == "developer") return Role::kDeveloper;
  if (r == "function") return Role::kFunction;
  fail_enum(p, {"system", "developer", "user", "assistant", "tool", "function"}, r);
}

void check_assistant(const Value& m, const Path& p, const Value* content, bool openai) {
  bool answered_otherwise = false;  // something stands in for the content

  if (const Value* calls = member(m, "tool_calls")) {
    const Path pc = p.field("tool_calls");
    need_array(*calls, pc);
    size_t i = 0;
    for (const Value& tc : calls->GetArray()) check_tool_call(tc, pc.at(i++));
    if (i > 0) answered_otherwise = true;
  }
  if (const Value* fc = member(m, "function_call")) {  // deprecated form of tool_calls
    const Path pf = p.field("function_call");
    if (!fc->IsNull()) {
      if (!fc->IsObject()) fail_type(pf, "an object or null", *fc);
      need_string(required(*fc, "name", pf), pf.field("name"));
      need_string(required(*fc, "arguments", pf), pf.field("arguments"));
      answered_otherwise = true;
    }
  }
  if (const Value* refusal = member(m, "refusal")) {
    need_string_or_null(*refusal, p.field("refusal"));
    if (refusal->IsString()) answered_otherwise = true;
  }
  if (const Value* audio = member(m, "audio")) {  // a previous audio answer, referenced by id
    const Path pa = p.field("audio");
    if (!audio->IsNull()) {
      if (!audio->IsObject()) fail_type(pa, "an object or null", *audio);
      need_string(required(*audio, "id", pa), pa.field("id"));
      answered_otherwise = true;
    }
  }
  if (const Value* rc = member(m, "reasoning_content")) need_string_or_null(*rc, p.field("reasoning_content"));

  const Path pc = p.field("content");
  if (content && !content->IsNull()) {
    check_content(*content, pc, kAssistantParts, openai);
  } else if (!answered_otherwise) {
    fail(pc, content ? "must not be null unless the message has tool_calls (or function_call, refusal, audio)"
                     : "is required unless the message has tool_calls (or function_call, refusal, audio)");
  }
}

void check_message(const Value& m, const Path& p, bool openai) {
  if (!m.IsObject()) fail_type(p, "an object (a message)", m);
  const Role role = parse_role(required(m, "role", p), p.field("role"));
  const Value* content = member(m, "content");
  const Value* name = member(m, "name");
  if (name) need_string(*name, p.field("name"));

  switch (role) {
    case Role::kSystem:
    case Role::kDeveloper:
      if (!content) fail_required(p.field("content"));
      check_content(*content, p.field("content"), role == Role::kSystem ? kTextOnlySystem : kTextOnlyDeveloper,
                    openai);
      break;
    case Role::kUser:
      if (!content) fail_required(p.field("content"));
      check_content(*content, p.field("content"), kUserParts, openai);
      break;
    case Role::kTool:
      need_string(required(m, "tool_call_id", p), p.field("tool_call_id"));
      if (!content) fail_required(p.field("content"));
      check_content(*content, p.field("content"), kTextOnlyTool, openai);
      break;
    case Role::kFunction:  // deprecated: the answer to a function_call
      if (!name) fail_required(p.field("name"));
      if (!content) fail_required(p.field("content"));
      need_string_or_null(*content, p.field("content"));
      break;
    case Role::kAssistant:
      check_assistant(m, p, content, openai);
      break;
  }
}

void check_messages(const Value& msgs, const Path& p, bool openai) {
  need_array(msgs, p);
  if (msgs.Empty()) fail(p, "must not be an empty array");
  size_t i = 0;
  for (const Value& m : msgs.GetArray()) check_message(m, p.at(i++), openai);
}

// ------------------------------------------------------------------- tools

// Trivially constructible, so an array of them costs nothing until filled.
struct ToolName {
  const char* data;
  uint32_t size;
  uint32_t index;
  bool custom;
  string_view name() const { return {data, size}; }
};

// A validated tool's name: function.name or custom.name.
ToolName tool_name(const Value& tool, uint32_t index) {
  const bool custom = sv(*member(tool, "type")) == "custom";
  const Value& name = *member(*member(tool, custom ? "custom" : "function"), "name");
  return ToolName{name.GetString(), name.GetStringLength(), index, custom};
}

// { "type": "function", "function": { "name", "description"?, "parameters"?, "strict"? } }
// { "type": "custom", "custom": { "name", "description"?, "format"? } }
void check_tool(const Value& tool, const Path& p, bool openai) {
  if (!tool.IsObject()) fail_type(p, "an object (a tool)", tool);
  const Value& type = required(tool, "type", p);
  check_enum(type, p.field("type"), {"function", "custom"});
  if (sv(type) == "function") {
    const Path pf = p.field("function");
    const Value& fn = required(tool, "function", p);
    need_object(fn, pf);
    check_name(required(fn, "name", pf), pf.field("name"), openai);
    opt_string(fn, "description", pf);
    opt_object(fn, "parameters", pf);  // a JSON Schema: opaque
    opt_bool_or_null(fn, "strict", pf);
    return;
  }
  const Path pc = p.field("custom");
  const Value& custom = required(tool, "custom", p);
  need_object(custom, pc);
  check_name(required(custom, "name", pc), pc.field("name"), false);  // OpenAI sets no pattern here
  opt_string(custom, "description", pc);
  if (const Value* format = member(custom, "format")) {
    const Path pfmt = pc.field("format");
    need_object(*format, pfmt);
    const Value& ftype = required(*format, "type", pfmt);
    check_enum(ftype, pfmt.field("type"), {"text", "grammar"});
    if (sv(ftype) == "grammar") {
      const Path pg = pfmt.field("grammar");
      const Value& grammar = required(*format, "grammar", pfmt);
      need_object(grammar, pg);
      need_string(required(grammar, "definition", pg), pg.field("definition"));
      check_setting(required(grammar, "syntax", pg), pg.field("syntax"), {"lark", "regex"}, openai);
    }
  }
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_duplicate(const Path& tools, const ToolName& first,
                                                           const ToolName& dup) {
  const Path pt = tools.at(dup.index);
  const Path pb = pt.field(dup.custom ? "custom" : "function");
  std::string w = "duplicate tool name ";
  append_quoted(w, dup.name());
  w += " (also at ";
  render(tools, w);
  w += '[';
  append_int(w, first.index);
  w += "])";
  fail(pb.field("name"), w);
}

void check_tools(const Value& tools, const Path& p, bool openai) {
  need_array(tools, p);
  const size_t n = tools.Size();
  for (size_t i = 0; i < n; ++i) check_tool(tools[static_cast<rapidjson::SizeType>(i)], p.at(i), openai);
  if (n < 2) return;

  // Duplicate names: sort (name, index) pairs and compare neighbours. Up to 128
  // tools (OpenAI's own limit) the pairs live on the stack.
  ToolName small[128];
  std::vector<ToolName> large;
  ToolName* names = small;
  if (n > std::size(small)) {
    large.resize(n);
    names = large.data();
  }
  for (size_t i = 0; i < n; ++i)
    names[i] = tool_name(tools[static_cast<rapidjson::SizeType>(i)], static_cast<uint32_t>(i));
  std::sort(names, names + n, [](const ToolName& a, const ToolName& b) {
    const int c = a.name().compare(b.name());
    return c != 0 ? c < 0 : a.index < b.index;
  });
  const ToolName* first = nullptr;
  const ToolName* dup = nullptr;  // the duplicate earliest in the request
  for (size_t i = 1; i < n; ++i) {
    if (names[i].name() != names[i - 1].name()) continue;
    size_t j = i - 1;  // the first occurrence of this name
    while (j > 0 && names[j - 1].name() == names[i].name()) --j;
    if (!dup || names[i].index < dup->index) {
      dup = &names[i];
      first = &names[j];
    }
  }
  if (dup) fail_duplicate(p, *first, *dup);
}

bool has_tool(const Value* tools, string_view name, bool custom) {
  if (!tools) return false;
  for (const Value& t : tools->GetArray()) {
    const ToolName tn = tool_name(t, 0);
    if (tn.custom == custom && tn.name() == name) return true;
  }
  return false;
}

// "none" | "auto" | "required" | {"type": "function", "function": {"name"}} |
// {"type": "custom", "custom": {"name"}} |
// {"type": "allowed_tools", "allowed_tools": {"mode": "auto" | "required", "tools": [...]}}
// `tools` is the validated request.tools, or nullptr when absent.
void check_tool_choice(const Value& tc, const Path& p, const Value* tools) {
  const bool have_tools = tools && !tools->Empty();
  if (tc.IsString()) {
    check_enum(tc, p, {"none", "auto", "required"});
    if (sv(tc) == "required" && !have_tools) fail(p, "\"required\" needs tools, but request.tools is absent or empty");
    return;
  }
  if (!tc.IsObject()) fail_type(p, "a string or an object", tc);
  const Value& type = required(tc, "type", p);
  check_enum(type, p.field("type"), {"function", "custom", "allowed_tools"});
  const string_view t = sv(type);
  if (t == "allowed_tools") {
    const Path pa = p.field("allowed_tools");
    const Value& allowed = required(tc, "allowed_tools", p);
    need_object(allowed, pa);
    check_enum(required(allowed, "mode", pa), pa.field("mode"), {"auto", "required"});
    const Path pt = pa.field("tools");
    const Value& list = required(allowed, "tools", pa);
    need_array(list, pt);
    size_t i = 0;
    for (const Value& item : list.GetArray()) {
      if (!item.IsObject()) fail_type(pt.at(i), "an object", item);
      ++i;
    }
    if (!have_tools) fail(p, "allowed_tools needs tools, but request.tools is absent or empty");
    return;
  }
  const bool custom = t == "custom";
  const Path pb = p.field(t);
  const Value& body = required(tc, t, p);
  need_object(body, pb);
  const Path pn = pb.field("name");
  const Value& name = required(body, "name", pb);
  need_string(name, pn);
  if (!has_tool(tools, sv(name), custom)) {
    std::string w = custom ? "no custom tool named " : "no function tool named ";
    append_quoted(w, sv(name));
    w += " in request.tools";
    fail(pn, w);
  }
}

// { "type": "text" } | { "type": "json_object" } |
// { "type": "json_schema", "json_schema": { "name", "description"?, "schema"?, "strict"? } }
void check_response_format(const Value& rf, const Path& p, bool openai) {
  need_object(rf, p);
  const Value& type = required(rf, "type", p);
  check_enum(type, p.field("type"), {"text", "json_object", "json_schema"});
  if (sv(type) != "json_schema") return;
  const Path pj = p.field("json_schema");
  const Value& js = required(rf, "json_schema", p);
  need_object(js, pj);
  check_name(required(js, "name", pj), pj.field("name"), openai);
  opt_string(js, "description", pj);
  opt_object(js, "schema", pj);  // a JSON Schema: opaque
  opt_bool_or_null(js, "strict", pj);
}

// Deprecated "functions": [{ "name", "description"?, "parameters"? }]; `openai`: 1..128 of them.
void check_functions(const Value& fns, const Path& p, bool openai) {
  need_array(fns, p);
  if (openai && (fns.Empty() || fns.Size() > 128)) fail(p, "must hold 1 to 128 functions");
  size_t i = 0;
  for (const Value& fn : fns.GetArray()) {
    const Path pf = p.at(i++);
    need_object(fn, pf);
    check_name(required(fn, "name", pf), pf.field("name"), openai);
    opt_string(fn, "description", pf);
    opt_object(fn, "parameters", pf);
  }
}

// Deprecated "function_call": "none" | "auto" | { "name" }.
void check_function_call(const Value& fc, const Path& p) {
  if (fc.IsString()) return check_enum(fc, p, {"none", "auto"});
  if (!fc.IsObject()) fail_type(p, "a string or an object", fc);
  need_string(required(fc, "name", p), p.field("name"));
}

// ------------------------------------------------------------ other fields

// null | string | up to 64 strings; `openai`: 1..4 strings
void check_stop(const Value& v, const Path& p, bool openai) {
  if (v.IsNull() || v.IsString()) return;
  if (!v.IsArray()) fail_type(p, "a string, an array of strings or null", v);
  if (openai) {
    if (v.Empty() || v.Size() > 4) fail(p, "must hold 1 to 4 strings");
  } else if (v.Size() > 64) {
    fail(p, "must hold at most 64 strings");
  }
  size_t i = 0;
  for (const Value& s : v.GetArray()) need_string(s, p.at(i++));
}

// null | { token id (decimal): number }; `openai`: the numbers integers -100..100
void check_logit_bias(const Value& v, const Path& p, bool openai) {
  if (v.IsNull()) return;
  if (!v.IsObject()) fail_type(p, "an object or null", v);
  for (const auto& m : v.GetObject()) {
    const string_view k = sv(m.name);
    const Path pk = p.key(k);
    bool digits = !k.empty() && k.size() <= 18;
    for (char c : k) digits = digits && c >= '0' && c <= '9';
    if (!digits) fail(pk, "the key must be a token id (decimal digits)");
    if (openai) check_int(m.value, pk, -100, 100, false);
    else check_number(m.value, pk, -kInf, kInf, false);
  }
}

// null | { key: string }; `openai`: up to 16 keys of <= 64 characters, values <= 512
void check_metadata(const Value& v, const Path& p, bool openai) {
  if (v.IsNull()) return;
  if (!v.IsObject()) fail_type(p, "an object or null", v);
  if (!openai) {
    for (const auto& m : v.GetObject()) need_string(m.value, p.key(sv(m.name)));
    return;
  }
  if (v.MemberCount() > 16) {
    std::string w = "must have at most 16 keys, got ";
    append_int(w, v.MemberCount());
    fail(p, w);
  }
  for (const auto& m : v.GetObject()) {
    const Path pk = p.key(sv(m.name));
    if (utf8_length(sv(m.name)) > 64) fail(pk, "the key must be at most 64 characters");
    need_string(m.value, pk);
    if (utf8_length(sv(m.value)) > 512) fail(pk, "must be at most 512 characters");
  }
}

// null | [string, ...]; `openai`: "text" | "audio"
void check_modalities(const Value& v, const Path& p, bool openai) {
  if (v.IsNull()) return;
  if (!v.IsArray()) fail_type(p, "an array or null", v);
  size_t i = 0;
  for (const Value& m : v.GetArray()) check_setting(m, p.at(i++), {"text", "audio"}, openai);
}

// null | { "voice": string | { "id" }, "format": wav | aac | mp3 | flac | opus | pcm16 }
void check_audio_output(const Value& v, const Path& p, bool openai) {
  if (v.IsNull()) return;
  if (!v.IsObject()) fail_type(p, "an object or null", v);
  const Path pv = p.field("voice");
  const Value& voice = required(v, "voice", p);
  if (voice.IsObject()) {
    need_string(required(voice, "id", pv), pv.field("id"));
  } else if (!voice.IsString()) {
    fail_type(pv, "a string or an object", voice);
  }
  check_setting(required(v, "format", p), p.field("format"), {"wav", "aac", "mp3", "flac", "opus", "pcm16"}, openai);
}

// null | { "type": "content", "content": string | [text parts] }
void check_prediction(const Value& v, const Path& p, bool openai) {
  if (v.IsNull()) return;
  if (!v.IsObject()) fail_type(p, "an object or null", v);
  check_enum(required(v, "type", p), p.field("type"), {"content"});
  check_content(required(v, "content", p), p.field("content"), kTextOnlyPrediction, openai);
}

// { "user_location"?: null | { "type": "approximate", "approximate": {...} },
//   "search_context_size"?: low | medium | high }
void check_web_search(const Value& v, const Path& p, bool openai) {
  need_object(v, p);
  if (const Value* loc = member(v, "user_location")) {
    const Path pl = p.field("user_location");
    if (!loc->IsNull()) {
      if (!loc->IsObject()) fail_type(pl, "an object or null", *loc);
      check_enum(required(*loc, "type", pl), pl.field("type"), {"approximate"});
      const Path pa = pl.field("approximate");
      const Value& approx = required(*loc, "approximate", pl);
      need_object(approx, pa);
      for (string_view k : {"country", "region", "city", "timezone"}) opt_string(approx, k, pa);
    }
  }
  if (const Value* size = member(v, "search_context_size"))
    check_setting(*size, p.field("search_context_size"), {"low", "medium", "high"}, openai);
}

// null | { "model": string, "policy"?: null | { "input"?, "output"?: null | { "mode" } } }
void check_moderation(const Value& v, const Path& p, bool openai) {
  if (v.IsNull()) return;
  if (!v.IsObject()) fail_type(p, "an object or null", v);
  need_string(required(v, "model", p), p.field("model"));
  const Value* policy = member(v, "policy");
  if (!policy || policy->IsNull()) return;
  const Path pp = p.field("policy");
  need_object(*policy, pp);
  for (string_view k : {"input", "output"}) {
    const Value* side = member(*policy, k);
    if (!side || side->IsNull()) continue;
    const Path ps = pp.field(k);
    need_object(*side, ps);
    check_setting(required(*side, "mode", ps), ps.field("mode"), {"score", "block"}, openai);
  }
}

void check_prompt_cache_options(const Value& v, const Path& p, bool openai) {
  need_object(v, p);
  if (const Value* ttl = member(v, "ttl")) check_setting(*ttl, p.field("ttl"), {"30m"}, openai);
  if (const Value* mode = member(v, "mode")) check_setting(*mode, p.field("mode"), {"implicit", "explicit"}, openai);
}

void check_stream_options(const Value& v, const Path& p) {
  if (v.IsNull()) return;
  if (!v.IsObject()) fail_type(p, "an object or null", v);
  if (const Value* u = member(v, "include_usage")) need_bool(*u, p.field("include_usage"));
  if (const Value* o = member(v, "include_obfuscation")) need_bool(*o, p.field("include_obfuscation"));
}

// { name: value } that can be sent (http::header_problem: a token name, not one
// the library owns, no control character in the value). Every failure about
// one header is LLM_ERR_INVALID_HEADER and never shows the value.
void check_extra_headers(const Value& v, const Path& p) {
  need_object(v, p);
  for (const auto& m : v.GetObject()) {
    const Path ph = p.key(sv(m.name));
    if (!m.value.IsString()) {
      std::string w = "the header value must be a string, got ";
      w += json::type_name(m.value);
      fail(ph, w, LLM_ERR_INVALID_HEADER);
    }
    if (std::string why = http::header_problem(sv(m.name), sv(m.value)); !why.empty())
      fail(ph, why, LLM_ERR_INVALID_HEADER);
  }
}

// literllm's "fallbacks": models to try in turn, each a non-empty string.
void check_fallbacks(const Value& v, const Path& p) {
  need_array(v, p);
  size_t i = 0;
  for (const Value& m : v.GetArray()) need_nonempty_string(m, p.at(i++));
}

// ---------------------------------------------------------------- the root

enum class Field {
  kModel, kMessages, kTemperature, kTopP, kN, kStop, kMaxTokens, kMaxCompletionTokens, kPresencePenalty,
  kFrequencyPenalty, kLogitBias, kLogprobs, kTopLogprobs, kSeed, kUser, kReasoningEffort, kServiceTier, kStore,
  kMetadata, kModalities, kAudio, kPrediction, kWebSearchOptions, kVerbosity, kStream, kStreamOptions, kTools,
  kToolChoice, kParallelToolCalls, kResponseFormat, kFunctions, kFunctionCall, kSafetyIdentifier, kPromptCacheKey,
  kPromptCacheRetention, kPromptCacheOptions, kModeration, kExtraBody, kExtraHeaders, kTimeoutSecs, kFallbacks,
  kRetry, kUnknown,
};

struct FieldName {
  string_view name;
  Field field;
};

constexpr FieldName kFields[] = {
    {"model", Field::kModel},
    {"messages", Field::kMessages},
    {"temperature", Field::kTemperature},
    {"top_p", Field::kTopP},
    {"n", Field::kN},
    {"stop", Field::kStop},
    {"max_tokens", Field::kMaxTokens},
    {"max_completion_tokens", Field::kMaxCompletionTokens},
    {"presence_penalty", Field::kPresencePenalty},
    {"frequency_penalty", Field::kFrequencyPenalty},
    {"logit_bias", Field::kLogitBias},
    {"logprobs", Field::kLogprobs},
    {"top_logprobs", Field::kTopLogprobs},
    {"seed", Field::kSeed},
    {"user", Field::kUser},
    {"reasoning_effort", Field::kReasoningEffort},
    {"service_tier", Field::kServiceTier},
    {"store", Field::kStore},
    {"metadata", Field::kMetadata},
    {"modalities", Field::kModalities},
    {"audio", Field::kAudio},
    {"prediction", Field::kPrediction},
    {"web_search_options", Field::kWebSearchOptions},
    {"verbosity", Field::kVerbosity},
    {"stream", Field::kStream},
    {"stream_options", Field::kStreamOptions},
    {"tools", Field::kTools},
    {"tool_choice", Field::kToolChoice},
    {"parallel_tool_calls", Field::kParallelToolCalls},
    {"response_format", Field::kResponseFormat},
    {"functions", Field::kFunctions},
    {"function_call", Field::kFunctionCall},
    {"safety_identifier", Field::kSafetyIdentifier},
    {"prompt_cache_key", Field::kPromptCacheKey},
    {"prompt_cache_retention", Field::kPromptCacheRetention},
    {"prompt_cache_options", Field::kPromptCacheOptions},
    {"moderation", Field::kModeration},
    {"extra_body", Field::kExtraBody},
    {"extra_headers", Field::kExtraHeaders},
    {"timeout_secs", Field::kTimeoutSecs},
    {"fallbacks", Field::kFallbacks},
    {"retry", Field::kRetry},
};

Field field_of(string_view key) {
  if (key.empty()) return Field::kUnknown;
  for (const FieldName& f : kFields)  // length and first letter first: few full compares
    if (f.name.size() == key.size() && f.name[0] == key[0] && f.name == key) return f.field;
  return Field::kUnknown;
}

[[noreturn, gnu::cold, gnu::noinline]] void fail_extra_duplicate(const Path& p, string_view key) {
  fail(p.key(key), "is also set at the top level of the request; set it in one place");
}

// "extra_body" adds fields the validator does not know. One it knows was
// checked at the top level (or is literllm's own), so setting it here would
// bypass that; one the top level also sets would be sent twice.
void check_extra_body(const Value& req, const Value& extra, const Path& p) {
  const size_t n = extra.MemberCount();
  if (n == 0) return;
  for (const auto& m : extra.GetObject()) {
    const string_view k = sv(m.name);
    if (field_of(k) != Field::kUnknown) fail(p.field(k), "sets a field literllm owns; put it in the request itself");
  }
  const size_t top = req.MemberCount();
  if (n * top <= 4096) {  // the usual few fields: compare directly
    for (const auto& m : extra.GetObject())
      if (member(req, sv(m.name))) fail_extra_duplicate(p, sv(m.name));
    return;
  }
  std::vector<string_view> names;
  names.reserve(top);
  for (const auto& m : req.GetObject()) names.push_back(sv(m.name));
  std::sort(names.begin(), names.end());
  for (const auto& m : extra.GetObject())
    if (std::binary_search(names.begin(), names.end(), sv(m.name))) fail_extra_duplicate(p, sv(m.name));
}

}  // namespace

bool applies_openai_value_limits(string_view provider_name) {
  return provider_name == "openai" || provider_name == "azure_openai";
}

void validate_call_common(const Value& req) {
  const Path& root = kRootPath;
  if (!req.IsObject()) fail_type(root, "an object", req);
  if (auto dup = json::find_duplicate_key(req)) literllm::invalid("request" + *dup + ": appears more than once");
  for (const auto& m : req.GetObject()) {
    const string_view key = sv(m.name);
    const Value& v = m.value;
    const Path p = root.field(key);
    if (key == "model" || key == "provider") {
      need_nonempty_string(v, p);
    } else if (key == "extra_headers") {
      check_extra_headers(v, p);
    } else if (key == "provider_options" || key == "extra_body") {
      need_object(v, p);
    } else if (key == "timeout_secs") {
      if (!v.IsNumber()) fail_type(p, "a number", v);
      if (!(v.GetDouble() > 0 && v.GetDouble() <= 86400)) {
        std::string w = "must be greater than 0 and at most 86400 (seconds), got ";
        append_number(w, v);
        fail(p, w);
      }
    }
  }
}

void validate_chat_request(const Value& req, bool streaming, RequestRules rules) {
  const bool openai = rules == RequestRules::OpenAI;
  const Path& root = kRootPath;
  if (!req.IsObject()) fail_type(root, "an object", req);
  // A repeated name is ambiguous (the checks and the provider could read different copies): refused.
  if (auto dup = json::find_duplicate_key(req)) literllm::invalid("request" + *dup + ": appears more than once");

  // One pass over the members checks each field on its own; the fields that
  // depend on one another are remembered (first occurrence) and related after.
  const Value* model = nullptr;
  const Value* messages = nullptr;
  const Value* tools = nullptr;
  const Value* tool_choice = nullptr;
  const Value* logprobs = nullptr;
  const Value* top_logprobs = nullptr;
  const Value* stream = nullptr;
  const Value* stream_options = nullptr;
  const Value* extra_body = nullptr;

  for (const auto& m : req.GetObject()) {
    const string_view key = sv(m.name);
    const Value& v = m.value;
    const Field f = field_of(key);
    if (f == Field::kUnknown) continue;  // passes through to the provider
    const Path p = root.field(key);
    switch (f) {
      case Field::kModel:
        need_nonempty_string(v, p);
        if (!model) model = &v;
        break;
      case Field::kMessages:
        check_messages(v, p, openai);
        if (!messages) messages = &v;
        break;
      case Field::kTemperature: check_number(v, p, 0, openai ? 2 : kInf, true); break;
      case Field::kTopP: check_number(v, p, 0, 1, true); break;
      case Field::kN: check_int(v, p, 1, openai ? 128 : kInt64Max, true); break;
      case Field::kStop: check_stop(v, p, openai); break;
      case Field::kMaxTokens:
      case Field::kMaxCompletionTokens: check_int(v, p, 1, kInt64Max, true); break;
      case Field::kPresencePenalty:
      case Field::kFrequencyPenalty:
        if (openai) check_number(v, p, -2, 2, true);
        else check_number(v, p, -kInf, kInf, true);
        break;
      case Field::kLogitBias: check_logit_bias(v, p, openai); break;
      case Field::kLogprobs:
        need_bool_or_null(v, p);
        if (!logprobs) logprobs = &v;
        break;
      case Field::kTopLogprobs:
        check_int(v, p, 0, openai ? 20 : kInt64Max, true);
        if (!top_logprobs) top_logprobs = &v;
        break;
      case Field::kSeed: check_int(v, p, kInt64Min, kInt64Max, true); break;
      case Field::kUser: need_string(v, p); break;
      case Field::kReasoningEffort:
        check_setting_or_null(v, p, {"none", "minimal", "low", "medium", "high", "xhigh", "max"}, openai);
        break;
      case Field::kServiceTier:
        check_setting_or_null(v, p, {"auto", "default", "flex", "scale", "priority", "fast"}, openai);
        break;
      case Field::kStore: need_bool_or_null(v, p); break;
      case Field::kMetadata: check_metadata(v, p, openai); break;
      case Field::kModalities: check_modalities(v, p, openai); break;
      case Field::kAudio: check_audio_output(v, p, openai); break;
      case Field::kPrediction: check_prediction(v, p, openai); break;
      case Field::kWebSearchOptions: check_web_search(v, p, openai); break;
      case Field::kVerbosity: check_setting_or_null(v, p, {"low", "medium", "high"}, openai); break;
      case Field::kStream:
        need_bool_or_null(v, p);
        if (!stream) stream = &v;
        break;
      case Field::kStreamOptions:
        check_stream_options(v, p);
        if (!stream_options) stream_options = &v;
        break;
      case Field::kTools:
        check_tools(v, p, openai);
        if (!tools) tools = &v;
        break;
      case Field::kToolChoice:
        if (!tool_choice) tool_choice = &v;  // checked below, once the tools are known
        break;
      case Field::kParallelToolCalls: need_bool(v, p); break;
      case Field::kResponseFormat: check_response_format(v, p, openai); break;
      case Field::kFunctions: check_functions(v, p, openai); break;
      case Field::kFunctionCall: check_function_call(v, p); break;
      case Field::kSafetyIdentifier:
        need_string_or_null(v, p);
        if (openai && v.IsString() && utf8_length(sv(v)) > 64) fail(p, "must be at most 64 characters");
        break;
      case Field::kPromptCacheKey: need_string_or_null(v, p); break;
      case Field::kPromptCacheRetention: check_setting_or_null(v, p, {"in_memory", "24h"}, openai); break;
      case Field::kPromptCacheOptions: check_prompt_cache_options(v, p, openai); break;
      case Field::kModeration: check_moderation(v, p, openai); break;
      case Field::kExtraBody:
        need_object(v, p);
        if (!extra_body) extra_body = &v;
        break;
      case Field::kExtraHeaders: check_extra_headers(v, p); break;
      case Field::kTimeoutSecs:
        if (!v.IsNumber()) fail_type(p, "a number", v);
        if (!(v.GetDouble() > 0 && v.GetDouble() <= 86400)) {
          std::string w = "must be greater than 0 and at most 86400 (seconds), got ";
          append_number(w, v);
          fail(p, w);
        }
        break;
      case Field::kFallbacks: check_fallbacks(v, p); break;
      case Field::kRetry: need_object(v, p); break;
      case Field::kUnknown: break;
    }
  }

  if (!model) fail_required(root.field("model"));
  if (!messages) fail_required(root.field("messages"));
  if (extra_body) check_extra_body(req, *extra_body, root.field("extra_body"));

  if (tool_choice) check_tool_choice(*tool_choice, root.field("tool_choice"), tools);

  if (top_logprobs && !top_logprobs->IsNull() && !(logprobs && logprobs->IsTrue()))
    fail(root.field("top_logprobs"), "needs request.logprobs set to true");

  if (stream && stream->IsBool()) {
    if (!streaming && stream->IsTrue())
      fail(root.field("stream"), "must be absent or false here; use llm_chat_stream for a streamed call");
    if (streaming && stream->IsFalse())
      fail(root.field("stream"), "must be absent or true in a streamed call; use llm_chat for an unstreamed one");
  }
  if (!streaming && stream_options && !stream_options->IsNull())
    fail(root.field("stream_options"), "is only allowed in a streamed call (llm_chat_stream)");
}

}  // namespace literllm
