// The local upstream's answers: routing, the deterministic chat reply, fault
// injection. Pure functions of the request (plus a few counters); no sockets.
#include "handler.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <sstream>
#include <string_view>

#include "anthropic.hpp"
#include "bedrock.hpp"
#include "cohere.hpp"
#include "search.hpp"
#include "gemini.hpp"
#include "google_token.hpp"
#include "gzip.hpp"
#include "json_util.hpp"
#include "openai_endpoints.hpp"

namespace literllm::testing {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

namespace detail {

namespace {

using rapidjson::Value;
using namespace json_util;  // find, sv, string_member, put, json, ...

constexpr int64_t kCreated = 1700000000;
constexpr const char* kFingerprint = "fp_upstream";
constexpr size_t kMaxChoices = 128;

// A non-negative integer header; false when absent or not a number.
bool header_number(const RecordedRequest& req, std::string_view name, long& out) {
  std::string v = req.header(name);
  std::string_view t = trim(v);
  if (t.empty()) return false;
  long n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || p != t.data() + t.size() || n < 0) return false;
  out = n;
  return true;
}

bool header_true(const RecordedRequest& req, std::string_view name) {
  std::string v = req.header(name);
  std::string_view t = trim(v);
  return t == "1" || iequals(t, "true") || iequals(t, "yes");
}

bool bool_member(const Value& obj, const char* key) {
  const Value* v = find(obj, key);
  return v && v->IsBool() && v->GetBool();
}

void key(Writer& w, std::string_view s) { w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

// ---- words -----------------------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// [start, end) of the first `limit` whitespace-separated words (all when limit is 0).
std::vector<std::pair<size_t, size_t>> words(std::string_view s, size_t limit = 0) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t i = 0;
  while (i < s.size() && (limit == 0 || out.size() < limit)) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    out.emplace_back(start, i);
  }
  return out;
}

size_t count_words(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = is_space(c);
    n += !space && !in_word;
    in_word = !space;
  }
  return n;
}

// Pieces of two words each whose concatenation is `s` exactly: a piece starts
// at every other word (the first at 0) and carries the whitespace after it.
std::vector<std::string> two_word_pieces(std::string_view s) {
  auto ws = words(s);
  std::vector<std::string> out;
  if (ws.empty()) {
    if (!s.empty()) out.emplace_back(s);
    return out;
  }
  size_t begin = 0;
  for (size_t k = 2; k < ws.size(); k += 2) {
    out.emplace_back(s.substr(begin, ws[k].first - begin));
    begin = ws[k].first;
  }
  out.emplace_back(s.substr(begin));
  return out;
}

// Three roughly equal pieces, never splitting a UTF-8 sequence.
std::vector<std::string> three_pieces(std::string_view s) {
  auto boundary = [&](size_t at) {
    while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
    return at;
  };
  size_t a = boundary(s.size() / 3), b = std::max(a, boundary(s.size() * 2 / 3));
  return {std::string(s.substr(0, a)), std::string(s.substr(a, b - a)), std::string(s.substr(b))};
}

// ---- messages --------------------------------------------------------------

std::string message_text(const Value& msg) {
  const Value* content = find(msg, "content");
  if (!content) return {};
  if (content->IsString()) return std::string(sv(*content));
  std::string out;
  if (content->IsArray()) {
    bool first = true;
    for (const Value& part : content->GetArray()) {
      const Value* text = find(part, "text");
      if (!text || !text->IsString()) continue;
      std::string_view type = string_member(part, "type");
      if (!type.empty() && type != "text" && type != "input_text") continue;
      if (!first) out += ' ';
      out.append(sv(*text));
      first = false;
    }
  }
  return out;
}

// ---- samples from JSON Schema ------------------------------------------------

std::string schema_type(const Value& schema) {
  const Value* t = find(schema, "type");
  if (!t) return {};
  if (t->IsString()) return std::string(sv(*t));
  if (t->IsArray()) {
    for (const Value& v : t->GetArray())
      if (v.IsString() && sv(v) != "null") return std::string(sv(v));
    return "null";
  }
  return {};
}

void write_object_sample(Writer& w, const Value& schema, bool recurse, int depth);

// string "sample", integer 1, number 1.5, boolean true, array [], object {} (or,
// with `recurse`, its properties sampled in turn), enum its first value.
void write_sample(Writer& w, const Value& schema, bool recurse, int depth) {
  if (!schema.IsObject() || depth > 32) {
    w.Null();
    return;
  }
  if (const Value* c = find(schema, "const")) {
    c->Accept(w);
    return;
  }
  if (const Value* e = find(schema, "enum"); e && e->IsArray() && !e->Empty()) {
    (*e)[0].Accept(w);
    return;
  }
  std::string type = schema_type(schema);
  if (type.empty()) {
    for (const char* k : {"anyOf", "oneOf", "allOf"}) {
      const Value* alts = find(schema, k);
      if (alts && alts->IsArray() && !alts->Empty()) {
        write_sample(w, (*alts)[0], recurse, depth + 1);
        return;
      }
    }
    if (find(schema, "properties"))
      type = "object";
    else if (find(schema, "items"))
      type = "array";
  }
  if (type == "string")
    w.String("sample");
  else if (type == "integer")
    w.Int(1);
  else if (type == "number")
    w.Double(1.5);
  else if (type == "boolean")
    w.Bool(true);
  else if (type == "array") {
    w.StartArray();
    w.EndArray();
  } else if (type == "object") {
    if (recurse) {
      write_object_sample(w, schema, true, depth + 1);
    } else {
      w.StartObject();
      w.EndObject();
    }
  } else {
    w.Null();
  }
}

void write_object_sample(Writer& w, const Value& schema, bool recurse, int depth) {
  w.StartObject();
  const Value* props = find(schema, "properties");
  if (props && props->IsObject()) {
    for (const auto& m : props->GetObject()) {
      key(w, sv(m.name));
      write_sample(w, m.value, recurse, depth + 1);
    }
  }
  w.EndObject();
}

std::string object_sample(const Value* schema, bool recurse) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  if (schema)
    write_object_sample(w, *schema, recurse, 0);
  else {
    w.StartObject();
    w.EndObject();
  }
  return done(sb);
}

std::string schema_sample(const Value& schema) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  write_sample(w, schema, true, 0);
  return done(sb);
}

// ---- replies -----------------------------------------------------------------

struct ToolCall {
  std::string name, arguments;
};

struct Reply {
  std::string id, model;
  bool tools = false;
  std::string content;          // when !tools
  std::vector<ToolCall> calls;  // when tools
  std::string reasoning;        // DeepSeek's thinking mode: the answer's reasoning_content,
  bool has_reasoning = false;   // which may be "" (x-upstream-reasoning: empty)
  std::string finish = "stop";
  size_t n = 1;
  long prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};

void write_usage(Writer& w, const Reply& r) {
  w.StartObject();
  w.Key("prompt_tokens");
  w.Int64(r.prompt_tokens);
  w.Key("completion_tokens");
  w.Int64(r.completion_tokens);
  w.Key("total_tokens");
  w.Int64(r.prompt_tokens + r.completion_tokens);
  w.Key("prompt_tokens_details");
  w.StartObject();
  w.Key("cached_tokens");
  w.Int64(r.cached_tokens);
  w.EndObject();
  w.Key("completion_tokens_details");
  w.StartObject();
  w.Key("reasoning_tokens");
  w.Uint64(count_words(r.reasoning));
  w.EndObject();
  w.EndObject();
}

void write_head(Writer& w, const Reply& r, const char* object) {
  w.Key("id");
  put(w, r.id);
  w.Key("object");
  w.String(object);
  w.Key("created");
  w.Int64(kCreated);
  w.Key("model");
  put(w, r.model);
  w.Key("system_fingerprint");
  w.String(kFingerprint);
}

std::string completion_body(const Reply& r) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  write_head(w, r, "chat.completion");
  w.Key("choices");
  w.StartArray();
  for (size_t i = 0; i < r.n; ++i) {
    w.StartObject();
    w.Key("index");
    w.Uint64(i);
    w.Key("message");
    w.StartObject();
    w.Key("role");
    w.String("assistant");
    w.Key("content");
    if (r.tools) {
      w.Null();
      w.Key("tool_calls");
      w.StartArray();
      for (size_t j = 0; j < r.calls.size(); ++j) {
        w.StartObject();
        w.Key("id");
        put(w, "call_" + std::to_string(j));
        w.Key("type");
        w.String("function");
        w.Key("function");
        w.StartObject();
        w.Key("name");
        put(w, r.calls[j].name);
        w.Key("arguments");
        put(w, r.calls[j].arguments);
        w.EndObject();
        w.EndObject();
      }
      w.EndArray();
    } else {
      put(w, r.content);
    }
    if (r.has_reasoning) {
      w.Key("reasoning_content");
      put(w, r.reasoning);
    }
    w.Key("refusal");
    w.Null();
    w.EndObject();
    w.Key("logprobs");
    w.Null();
    w.Key("finish_reason");
    put(w, r.finish);
    w.EndObject();
  }
  w.EndArray();
  w.Key("usage");
  write_usage(w, r);
  w.EndObject();
  return done(sb);
}

std::string event(const std::string& json) { return "data: " + json + "\n\n"; }

// One chunk for choice `index`; `delta` writes the delta object's members.
template <class F>
std::string chunk(const Reply& r, size_t index, F&& delta, const char* finish) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  write_head(w, r, "chat.completion.chunk");
  w.Key("choices");
  w.StartArray();
  w.StartObject();
  w.Key("index");
  w.Uint64(index);
  w.Key("delta");
  w.StartObject();
  delta(w);
  w.EndObject();
  w.Key("logprobs");
  w.Null();
  w.Key("finish_reason");
  if (finish)
    w.String(finish);
  else
    w.Null();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return event(done(sb));
}

// The tool_calls delta of call `index`: its start (id, type, function name,
// arguments "") when `start` is given, else a piece of its arguments.
void tool_calls_delta(Writer& w, size_t index, const ToolCall* start, std::string_view arguments) {
  w.Key("tool_calls");
  w.StartArray();
  tool_call_delta(w, static_cast<long>(index), start != nullptr, "call_" + std::to_string(index),
                  start ? std::string_view(start->name) : std::string_view(), arguments);
  w.EndArray();
}

std::vector<std::string> stream_events(const Reply& r, bool include_usage) {
  std::vector<std::string> ev;
  for (size_t i = 0; i < r.n; ++i)
    ev.push_back(chunk(
        r, i,
        [&](Writer& w) {
          w.Key("role");
          w.String("assistant");
          w.Key("content");
          if (r.tools)
            w.Null();
          else
            w.String("");
        },
        nullptr));
  // `text` in two-word pieces as the delta's `key`, every choice in turn; an empty text as one empty
  // piece when `even_empty`.
  auto text_deltas = [&](const char* key, const std::string& text, bool even_empty = false) {
    std::vector<std::string> pieces = two_word_pieces(text);
    if (pieces.empty() && even_empty) pieces.emplace_back();
    for (const std::string& piece : pieces)
      for (size_t i = 0; i < r.n; ++i)
        ev.push_back(chunk(
            r, i,
            [&](Writer& w) {
              w.Key(key);
              put(w, piece);
            },
            nullptr));
  };
  // The reasoning first, as DeepSeek's and xAI's streams send it; an empty one as one empty delta.
  text_deltas("reasoning_content", r.reasoning, r.has_reasoning);
  if (r.tools) {
    for (size_t j = 0; j < r.calls.size(); ++j) {
      const ToolCall& call = r.calls[j];
      for (size_t i = 0; i < r.n; ++i)
        ev.push_back(chunk(
            r, i,
            [&](Writer& w) { tool_calls_delta(w, j, &call, ""); },
            nullptr));
      for (const std::string& piece : three_pieces(call.arguments))
        for (size_t i = 0; i < r.n; ++i)
          ev.push_back(chunk(
              r, i,
              [&](Writer& w) { tool_calls_delta(w, j, nullptr, piece); },
              nullptr));
    }
  } else {
    text_deltas("content", r.content);
  }
  for (size_t i = 0; i < r.n; ++i)
    ev.push_back(chunk(
        r, i, [](Writer&) {}, r.finish.c_str()));
  if (include_usage) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    write_head(w, r, "chat.completion.chunk");
    w.Key("choices");
    w.StartArray();
    w.EndArray();
    w.Key("usage");
    write_usage(w, r);
    w.EndObject();
    ev.push_back(event(done(sb)));
  }
  ev.push_back("data: [DONE]\n\n");
  return ev;
}

Plan json_plan(int status, std::string body) {
  Plan p;
  p.status = status;
  p.headers.emplace_back("content-type", "application/json");
  p.body = std::move(body);
  return p;
}

Plan error_plan(int status, std::string_view message, std::string_view type, std::string_view code) {
  return json_plan(status, error_body(message, type, code));
}

bool is_stream_extension(const std::filesystem::path& p) {
  std::string ext = lower(p.extension().string());
  return ext == ".bin" || ext == ".sse" || ext == ".txt";
}

// Splits a recorded event stream after each blank line ("\n\n" or "\n\r\n"),
// so the pieces concatenate to the original bytes.
std::vector<std::string> split_events(const std::string& bytes) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    size_t end = 0;
    if (bytes[i] == '\n' && bytes[i + 1] == '\n')
      end = i + 2;
    else if (bytes[i] == '\n' && bytes[i + 1] == '\r' && i + 2 < bytes.size() && bytes[i + 2] == '\n')
      end = i + 3;
    if (end) {
      out.push_back(bytes.substr(begin, end - begin));
      begin = end;
      i = end - 1;
    }
  }
  if (begin < bytes.size()) out.push_back(bytes.substr(begin));
  return out;
}

}  // namespace

// ---- errors --------------------------------------------------------------------

std::string error_body(std::string_view message, std::string_view type, std::string_view code) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("message");
  put(w, message);
  w.Key("type");
  put(w, type);
  w.Key("param");
  w.Null();
  w.Key("code");
  if (code.empty())
    w.Null();
  else
    put(w, code);
  w.EndObject();
  w.EndObject();
  return done(sb);
}

namespace {

struct Phrase {
  int status;
  const char* text;
};

constexpr Phrase kPhrases[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Entity"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {529, "Site Overloaded"},
};

}  // namespace

const char* reason_phrase(int status) {
  for (const Phrase& p : kPhrases)
    if (p.status == status) return p.text;
  return "Unknown";
}

namespace {

struct ErrorKind {
  const char* type;
  const char* code;
};

// The statuses with an OpenAI error type or code of their own (type null:
// the default, invalid_request_error or from 500 on server_error).
struct StatusKind {
  int status;
  const char* type;
  const char* code;
};

constexpr StatusKind kStatusKinds[] = {
    {400, nullptr, "bad_request"},
    {401, nullptr, "invalid_api_key"},
    {403, "permission_error", "permission_denied"},
    {404, nullptr, "not_found"},
    {408, "timeout_error", "request_timeout"},
    {409, nullptr, "conflict"},
    {413, nullptr, "request_too_large"},
    {422, nullptr, "unprocessable_entity"},
    {429, "rate_limit_exceeded", "rate_limit_exceeded"},
    {500, nullptr, "internal_error"},
    {502, nullptr, "bad_gateway"},
    {503, nullptr, "service_unavailable"},
    {504, nullptr, "gateway_timeout"},
    {529, "overloaded_error", "overloaded"},
};

// The type and code of the OpenAI error body for an HTTP status.
ErrorKind error_kind(int status) {
  ErrorKind k{status >= 500 ? "server_error" : "invalid_request_error", ""};
  for (const StatusKind& s : kStatusKinds)
    if (s.status == status) {
      if (s.type) k.type = s.type;
      k.code = s.code;
    }
  return k;
}

}  // namespace

std::string injected_message(int status) {
  return "local upstream: injected HTTP " + std::to_string(status) + " (" + reason_phrase(status) + ")";
}

std::string error_body_for_status(int status, std::string_view message) {
  ErrorKind kind = error_kind(status);
  std::string msg(message);
  if (msg.empty()) msg = injected_message(status);
  return error_body(msg, kind.type, kind.code);
}

// ---- generated answers -------------------------------------------------------------

namespace {

constexpr size_t kPieceBytes = 64 * 1024;       // a generated body's pieces
constexpr uint64_t kMaxEventBytes = 16u << 20;  // content of one generated event at most (an event is held whole)
constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

// The word-valued headers' words, in the order of the enums below.
constexpr std::string_view kGenerateWords[] = {"content", "choices", "tool_calls", "usage", "logprobs", "empty"};
constexpr std::string_view kAfterDoneWords[] = {"hold", "comments", "reset", "data"};
constexpr std::string_view kEchoWords[] = {"json", "raw", "escaped", "urlencoded"};
constexpr std::string_view kRawWords[] = {"garbage-status", "no-status",    "random",      "long-status",
                                          "header-bomb",    "many-headers", "headers-cut", "conflicting-length"};

enum class Step { content, choices, tool_calls, usage, logprobs, empty };
enum class After { hold, comments, reset, data };
enum class Echo { json, raw, escaped, urlencoded };
enum class Raw {
  garbage_status,
  no_status,
  random,
  long_status,
  header_bomb,
  many_headers,
  headers_cut,
  conflicting_length
};

struct WordHeader {
  std::string_view name;
  std::span<const std::string_view> words;
};

// A value outside its list is answered 400 (right after the expected-header checks).
constexpr WordHeader kWordHeaders[] = {{"x-upstream-generate", kGenerateWords},
                                       {"x-upstream-after-done", kAfterDoneWords},
                                       {"x-upstream-echo-headers", kEchoWords},
                                       {"x-upstream-raw", kRawWords}};

// The position of the header's value in `words` (case-insensitive); -1 when absent or none of them.
int word(const RecordedRequest& req, std::string_view name, std::span<const std::string_view> words) {
  std::string v = req.header(name);
  std::string_view t = trim(v);
  for (size_t i = 0; i < words.size(); ++i)
    if (iequals(t, words[i])) return static_cast<int>(i);
  return -1;
}

// `n` ASCII letters: the alphabet over and over, from position `at` of that endless text.
void append_letters(std::string& out, uint64_t at, size_t n) {
  // Whole alphabets, so that a piece takes a couple of appends.
  static const std::string run = [] {
    std::string s;
    while (s.size() < kPieceBytes) s += kLetters;
    return s;
  }();
  size_t from = at % kLetters.size();
  while (n > 0) {
    size_t take = std::min(n, run.size() - from);
    out.append(run, from, take);
    n -= take;
    from = 0;
  }
}

void append_a(std::string& out, uint64_t, size_t n) { out.append(n, 'a'); }

// `before`, `n` bytes of `fill`, `after`: a piece of up to kPieceBytes per call.
Generator padded(std::string before, uint64_t n, void (*fill)(std::string&, uint64_t, size_t), std::string after) {
  return [before = std::move(before), n, fill, after = std::move(after), pos = uint64_t{0}](std::string& out) mutable {
    const uint64_t filled = before.size() + n, total = filled + after.size();
    const uint64_t end = std::min(total, pos + kPieceBytes);
    while (pos < end) {
      if (pos < before.size()) {
        size_t take = static_cast<size_t>(std::min<uint64_t>(end, before.size()) - pos);
        out.append(before, static_cast<size_t>(pos), take);
        pos += take;
      } else if (pos < filled) {
        uint64_t stop = std::min(end, filled);
        fill(out, pos - before.size(), static_cast<size_t>(stop - pos));
        pos = stop;
      } else {
        out.append(after, static_cast<size_t>(pos - filled), static_cast<size_t>(end - pos));
        pos = end;
      }
    }
    return pos < total;
  };
}

// The members every chunk of a reply starts with, as JSON text: "id":...,"system_fingerprint":"...".
std::string chunk_head(const Reply& r) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  write_head(w, r, "chat.completion.chunk");
  w.EndObject();
  return std::string(sb.GetString() + 1, sb.GetSize() - 2);
}

// Step k (from 0) of x-upstream-generate, a complete event. Written out by
// hand: a million of them must be quick to make.
void step_event(std::string& out, std::string_view head, Step kind, uint64_t k, size_t bytes) {
  std::string n = std::to_string(k);
  out += "data: {";
  out += head;
  switch (kind) {
    case Step::content:
      out += R"(,"choices":[{"index":0,"delta":{"content":")";
      append_letters(out, k * bytes, bytes);
      out += R"("},"logprobs":null,"finish_reason":null}]})";
      break;
    case Step::choices:
      out += R"(,"choices":[{"index":)";
      out += n;
      out += R"(,"delta":{"role":"assistant","content":"x"},"logprobs":null,"finish_reason":null}]})";
      break;
    case Step::tool_calls:
      out += R"(,"choices":[{"index":0,"delta":{"tool_calls":[{"index":)";
      out += n;
      out += R"(,"id":"call_)";
      out += n;
      out +=
          R"(","type":"function","function":{"name":"f","arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]})";
      break;
    case Step::usage:
      out += R"(,"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":)";
      out += n;
      out += R"(,"total_tokens":)";
      out += std::to_string(k + 1);
      out += "}}";
      break;
    case Step::logprobs:
      out += R"(,"choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.1,)"
             R"("bytes":[120],"top_logprobs":[]}]},"finish_reason":null}]})";
      break;
    case Step::empty:
      out += R"(,"choices":[{"index":0,"delta":{}}]})";
      break;
  }
  out += "\n\n";
}

// x-upstream-generate's events: the role chunk, `steps` steps (endless when
// negative), a finish chunk for every choice opened. The [DONE] after them is
// the plan's one held event.
class GeneratedEvents {
 public:
  GeneratedEvents(std::string head, Step kind, long steps, size_t bytes)
      : head_(std::move(head)), kind_(kind), steps_(steps), bytes_(bytes) {}

  bool operator()(std::string& out) {
    if (!started_) {
      started_ = true;
      out += "data: {" + head_ + R"(,"choices":[{"index":0,"delta":{"role":"assistant","content":)" +
             (kind_ == Step::tool_calls ? "null" : "\"\"") + R"(},"logprobs":null,"finish_reason":null}]})" + "\n\n";
      return true;
    }
    if (steps_ < 0 || k_ < static_cast<uint64_t>(steps_)) {
      step_event(out, head_, kind_, k_++, bytes_);
      return true;
    }
    uint64_t opened = kind_ == Step::choices ? std::max<uint64_t>(k_, 1) : 1;
    out += "data: {" + head_ + R"(,"choices":[{"index":)" + std::to_string(finished_++) +
           R"(,"delta":{},"logprobs":null,"finish_reason":"stop"}]})" + "\n\n";
    return finished_ < opened;
  }

 private:
  std::string head_;
  Step kind_;
  long steps_;
  size_t bytes_;
  bool started_ = false;
  uint64_t k_ = 0, finished_ = 0;
};

Plan sse_plan() {
  Plan p;
  p.stream = true;
  p.headers.emplace_back("content-type", "text/event-stream");
  p.headers.emplace_back("cache-control", "no-cache");
  return p;
}

long generate_bytes(const RecordedRequest& req) {
  long bytes = 64;
  header_number(req, "x-upstream-generate-bytes", bytes);
  return bytes;
}

// x-upstream-generate. Not a stream: one huge completion, content only.
Plan generated(const RecordedRequest& req, const Reply& r, Step kind, bool stream) {
  long bytes = generate_bytes(req);
  if (!stream) {
    if (kind != Step::content)
      return error_plan(400,
                        "x-upstream-generate: " + std::string(kGenerateWords[static_cast<int>(kind)]) +
                            " needs \"stream\": true (only content has a non-stream form)",
                        "invalid_request_error", "bad_upstream_header");
    Reply shape = r;
    shape.content.clear();
    shape.completion_tokens = bytes > 0 ? 1 : 0;  // one word, as replies count them
    std::string body = completion_body(shape);
    // The content is the first empty string value: the letters go there.
    size_t at = body.find(R"("content":"")") + 11;
    Plan p = json_plan(200, {});
    p.body_size = body.size() + static_cast<uint64_t>(bytes);
    p.generate = padded(body.substr(0, at), static_cast<uint64_t>(bytes), append_letters, body.substr(at));
    return p;
  }
  long steps = -1;
  header_number(req, "x-upstream-generate-count", steps);
  Plan p = sse_plan();
  p.generate = GeneratedEvents(chunk_head(r), kind, steps, std::min<uint64_t>(bytes, kMaxEventBytes));
  p.events.emplace_back("data: [DONE]\n\n");
  return p;
}

// x-upstream-after-done on a stream whose chunks start with `head`.
void after_done(const RecordedRequest& req, Plan& p, const std::string& head) {
  int w = word(req, "x-upstream-after-done", kAfterDoneWords);
  if (w < 0) return;
  switch (static_cast<After>(w)) {
    case After::hold:
      p.after_done = AfterDone::hold;
      break;
    case After::reset:
      p.after_done = AfterDone::reset;
      break;
    case After::comments:
      p.after_done = AfterDone::more;
      p.after = [](std::string& out) {
        out += ": keep-alive\n\n";
        return true;
      };
      break;
    case After::data:
      p.after_done = AfterDone::more;
      p.after = [head, bytes = std::min<uint64_t>(generate_bytes(req), kMaxEventBytes),
                 k = uint64_t{0}](std::string& out) mutable {
        step_event(out, head, Step::content, k++, bytes);
        return true;
      };
      break;
  }
}

// x-upstream-error-bytes: the error body for `status`, `size` bytes long (the
// message is the padding; never shorter than with an empty message).
Plan sized_error(int status, uint64_t size) {
  ErrorKind kind = error_kind(status);
  std::string skeleton = error_body("", kind.type, kind.code);
  size_t at = skeleton.find(R"("message":")") + 11;
  uint64_t pad = size > skeleton.size() ? size - skeleton.size() : 0;
  Plan p = json_plan(status, {});
  p.body_size = skeleton.size() + pad;
  p.generate = padded(skeleton.substr(0, at), pad, append_letters, skeleton.substr(at));
  return p;
}

// x-upstream-echo-headers: the request's headers, x-upstream-* ones left out,
// the way careless servers put them into error messages.
Plan echo_headers(const RecordedRequest& req, Echo kind, int status) {
  std::vector<const std::pair<std::string, std::string>*> echoed;
  for (const auto& h : req.headers)
    if (!(h.first.size() >= 11 && iequals(std::string_view(h.first).substr(0, 11), "x-upstream-")))
      echoed.push_back(&h);
  auto hex = [](std::string& out, unsigned char c, const char* digits) {
    out += digits[c >> 4];
    out += digits[c & 15];
  };
  // PHP's and Java's JSON escaping: `\/`, and \u00XX for everything but letters and digits.
  auto escaped = [&](std::string& out, std::string_view s) {
    for (unsigned char c : s) {
      if (std::isalnum(c) && c < 0x80) {
        out += static_cast<char>(c);
      } else if (c == '/') {
        out += "\\/";
      } else {
        out += "\\u00";
        hex(out, c, "0123456789abcdef");
      }
    }
  };
  auto percent = [&](std::string& out, std::string_view s) {
    for (unsigned char c : s) {
      if ((std::isalnum(c) && c < 0x80) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        hex(out, c, "0123456789ABCDEF");
      }
    }
  };
  std::string body;
  Plan p;
  switch (kind) {
    case Echo::json: {
      std::string message = "Invalid credentials. Received headers: ";
      for (size_t i = 0; i < echoed.size(); ++i)
        message += (i ? "; " : "") + echoed[i]->first + ": " + echoed[i]->second;
      return error_plan(status, message, "invalid_request_error", "invalid_api_key");
    }
    case Echo::raw:
      for (const auto* h : echoed) body += h->first + ": " + h->second + "\n";
      p.headers.emplace_back("content-type", "text/plain");
      break;
    case Echo::escaped:
      body = R"({"received":{)";
      for (size_t i = 0; i < echoed.size(); ++i) {
        body += i ? ",\"" : "\"";
        escaped(body, echoed[i]->first);
        body += "\":\"";
        escaped(body, echoed[i]->second);
        body += '"';
      }
      body += "}}";
      p.headers.emplace_back("content-type", "application/json");
      break;
    case Echo::urlencoded:
      for (size_t i = 0; i < echoed.size(); ++i) {
        if (i) body += '&';
        percent(body, echoed[i]->first);
        body += '=';
        percent(body, echoed[i]->second);
      }
      p.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
      break;
  }
  p.status = status;
  p.body = std::move(body);
  return p;
}

// x-upstream-raw: bytes that are not a proper HTTP response, then the close.
Plan raw(Raw kind) {
  Plan p;
  p.raw = true;
  switch (kind) {
    case Raw::garbage_status:
      p.body = "FOO/1.1 twohundred OK\r\ncontent-length: 2\r\n\r\n{}";
      break;
    case Raw::no_status:
      p.body = R"({"id":"x","object":"chat.completion","choices":[]})";
      break;
    case Raw::random: {
      std::mt19937 prng(20240229);  // the standard fixes mt19937's output: the same bytes everywhere
      for (int i = 0; i < 4096; ++i) p.body += static_cast<char>(prng() & 0xFF);
      break;
    }
    case Raw::long_status:
      p.body = "HTTP/1.1 20000000000000000000 OK\r\ncontent-length: 2\r\n\r\n{}";
      break;
    case Raw::header_bomb:
      p.generate =
          padded("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-bomb: ", 10u << 20, append_a, "\r\n\r\n{}");
      break;
    case Raw::many_headers:
      // The status line, 10,240 lines of 1 KB, the end: one per call.
      p.generate = [line = 0](std::string& out) mutable {
        constexpr int kLines = 10240;
        if (line == 0) {
          out += "HTTP/1.1 200 OK\r\n";
        } else if (line <= kLines) {
          out += "x-h" + std::to_string(line - 1) + ": ";
          out.append(1000, 'a');
          out += "\r\n";
        } else {
          out += "content-length: 2\r\n\r\n{}";
          return false;
        }
        ++line;
        return true;
      };
      break;
    case Raw::headers_cut:
      p.body = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n";
      break;
    case Raw::conflicting_length: {
      std::string json = R"({"id":"x","object":"chat.completion"})";
      p.body = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 40\r\n\r\n" +
               json + std::string(40 - json.size(), ' ');
      break;
    }
  }
  return p;
}

// The endless stream of x-upstream-gzip: bomb, compressed once and shared.
Plan gzip_bomb() {
  static const GzipBomb bomb = [] {
    Reply r;
    r.id = "chatcmpl-upstream-bomb";
    r.model = "upstream-gzip-bomb";
    std::string event;
    step_event(event, chunk_head(r), Step::empty, 0, 0);
    return make_gzip_bomb(event);
  }();
  Plan p = sse_plan();
  p.headers.emplace_back("content-encoding", "gzip");
  p.generate = [started = false](std::string& out) mutable {
    out += started ? bomb.block : bomb.head;
    started = true;
    return true;
  };
  return p;
}

}  // namespace

// ---- the handler -----------------------------------------------------------------

Handler::Handler(UpstreamOptions opts)
    : opts_(std::move(opts)),
      google_(std::make_unique<GoogleTokens>(opts_.google_accounts)),
      endpoints_(std::make_unique<OpenAIEndpoints>([this](const RecordedRequest& r) { return handle_chat(r); })) {}

Handler::~Handler() = default;

std::vector<RecordedRequest> Handler::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void Handler::clear_requests() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

namespace {

// The length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = c(i);
  if (b < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (c(i + 1) < lo || c(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (c(i + k) < 0x80 || c(i + k) > 0xBF) return 0;
  return n;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (!n) return false;
    i += n;
  }
  return true;
}

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kTable[v >> 18];
    out += kTable[(v >> 12) & 63];
    out += i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kTable[v & 63] : '=';
  }
  return out;
}

}  // namespace

std::string Handler::requests_json() const {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  std::lock_guard lock(mu_);
  w.StartArray();
  for (const RecordedRequest& r : requests_) {
    w.StartObject();
    w.Key("method");
    put(w, r.method);
    w.Key("target");
    put(w, r.target);
    if (!r.absolute_target.empty()) {
      w.Key("absolute_target");
      put(w, r.absolute_target);
    }
    w.Key("headers");
    // Names lower-cased; repeated headers joined with ", " as HTTP allows.
    std::vector<std::pair<std::string, std::string>> merged;
    for (const auto& [k, v] : r.headers) {
      std::string name = lower(k);
      auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& e) { return e.first == name; });
      if (it == merged.end())
        merged.emplace_back(std::move(name), v);
      else
        it->second += ", " + v;
    }
    w.StartObject();
    for (const auto& [k, v] : merged) {
      key(w, k);
      put(w, v);
    }
    w.EndObject();
    w.Key("body");
    if (valid_utf8(r.body)) {
      put(w, r.body);
    } else {
      // Bytes that are not UTF-8 (a multipart upload's audio) cannot be a JSON
      // string: "body" holds them with U+FFFD for each invalid byte, and
      // "body_base64" the exact bytes as received.
      put(w, replace_invalid_utf8(r.body));
      w.Key("body_base64");
      put(w, base64_encode(r.body));
    }
    w.EndObject();
  }
  w.EndArray();
  return done(sb);
}

Plan Handler::replay(const RecordedRequest& req, int status) {
  namespace fs = std::filesystem;
  std::string rel(trim(req.header("x-upstream-replay")));
  if (opts_.fixtures_dir.empty())
    return error_plan(400, "x-upstream-replay needs a fixtures directory (the server has none)",
                      "invalid_request_error", "no_fixtures_dir");
  fs::path relpath(rel);
  bool escapes = rel.empty() || relpath.is_absolute() || relpath.has_root_path();
  for (const auto& part : relpath)
    if (part == "..") escapes = true;
  if (escapes)
    return error_plan(400, "x-upstream-replay path must stay inside the fixtures directory: " + rel,
                      "invalid_request_error", "bad_replay_path");
  fs::path full = fs::path(opts_.fixtures_dir) / relpath;
  std::ifstream in(full, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(full, ec))
    return error_plan(404, "x-upstream-replay fixture not found: " + rel, "invalid_request_error", "not_found");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!is_stream_extension(relpath)) return json_plan(status, std::move(bytes));
  Plan p = sse_plan();
  p.status = status;
  p.events = split_events(bytes);
  if (!req.header("x-upstream-after-done").empty()) {
    // Content chunks after the recording's end: a fresh id, the model asked for.
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    Reply r;
    r.id = "chatcmpl-upstream-" + std::to_string(++counter_);
    r.model = std::string(doc.HasParseError() ? std::string_view{} : string_member(doc, "model"));
    after_done(req, p, chunk_head(r));
  }
  return p;
}

Plan Handler::handle(RecordedRequest req) {
  std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method == "GET" && path == "/__requests") {
    Plan p = json_plan(200, requests_json());
    return p;
  }
  if (opts_.record_requests) {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
  }

  // Anthropic's routes answer errors in Anthropic's shape, with the request id in the body.
  std::string anthropic_model, rid;
  const AnthropicRoute anthropic = anthropic_route(path, &anthropic_model);
  if (anthropic != AnthropicRoute::none) rid = "req_upstream_" + std::to_string(++seq_);
  // Bedrock's routes (bedrock.cpp): AWS's error shape, a request id like AWS's (a UUID).
  std::string bedrock_model;
  const BedrockRoute bedrock = bedrock_route(path, &bedrock_model);
  if (bedrock != BedrockRoute::none) {
    std::string n = std::to_string(++seq_);
    rid = "00000000-0000-4000-8000-" + std::string(n.size() < 12 ? 12 - n.size() : 0, '0') + n;
  }
  std::string gemini_model;  // gemini.cpp: Google's error shape
  const GeminiRoute gemini = gemini_route(path, &gemini_model);
  // Google's token endpoint (google_token.cpp); the Vertex routes take its tokens.
  const bool google_token = path == "/token";
  const SearchRoute search = search_route(path);  // search.cpp: each API checks its own key
  const bool vertex = gemini == GeminiRoute::vertex_generate || gemini == GeminiRoute::vertex_stream ||
                      anthropic == AnthropicRoute::vertex_raw || anthropic == AnthropicRoute::vertex_stream;

  auto decide = [&]() -> Plan {
    if (header_true(req, "x-upstream-reset")) {
      Plan p;
      p.reset = true;
      return p;
    }

    if (google_token || search != SearchRoute::none) {
      // The token endpoint takes no key: the assertion is the credential. The
      // search APIs check their own keys, in their own headers.
    } else if (vertex && google_->enabled()) {
      if (auto denied = google_->vertex_auth(req, opts_.require_api_key)) return *denied;
    } else if (bedrock != BedrockRoute::none) {
      if (auto denied = bedrock_auth(req, opts_, rid)) return *denied;
    } else if (gemini != GeminiRoute::none) {
      if (auto denied = gemini_auth(req, gemini, opts_)) return *denied;
    } else if (!opts_.require_api_key.empty()) {
      const std::string& want = opts_.require_api_key;
      std::string auth(trim(req.header("authorization")));
      bool ok = (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ") && trim(auth.substr(7)) == want) ||
                req.header("x-api-key") == want || req.header("api-key") == want;
      if (!ok) {
        bool any = !auth.empty() || !req.header("x-api-key").empty() || !req.header("api-key").empty();
        if (anthropic != AnthropicRoute::none) return anthropic_auth_error(anthropic, any, rid);
        return error_plan(401,
                          any ? "Incorrect API key provided."
                              : "You didn't provide an API key. Send it as \"Authorization: Bearer <key>\".",
                          "invalid_request_error", "invalid_api_key");
      }
    }

    for (const auto& [k, v] : req.headers) {
      if (!iequals(k, "x-upstream-expect-header")) continue;
      std::string_view spec = trim(v);
      size_t eq = spec.find('=');
      std::string name(trim(spec.substr(0, eq)));
      bool present = false, matches = false;
      for (const auto& [hk, hv] : req.headers) {
        if (!iequals(hk, name)) continue;
        present = true;
        if (eq == std::string_view::npos || hv == trim(spec.substr(eq + 1))) matches = true;
      }
      if (!matches) {
        std::string msg = eq == std::string_view::npos
                              ? "expected header '" + name + "' but the request has none"
                              : "expected header '" + name + ": " + std::string(trim(spec.substr(eq + 1))) +
                                    "' but the request has " +
                                    (present ? "'" + name + ": " + req.header(name) + "'" : std::string("none"));
        return error_plan(400, msg, "invalid_request_error", "expected_header_missing");
      }
    }

    for (const auto& [name, words] : kWordHeaders) {
      std::string v(trim(req.header(name)));
      if (v.empty() || word(req, name, words) >= 0) continue;
      std::string expected;
      for (std::string_view w : words) expected += (expected.empty() ? "" : "|") + std::string(w);
      return error_plan(400, std::string(name) + ": unknown value '" + v + "'; expected " + expected,
                        "invalid_request_error", "bad_upstream_header");
    }

    long status = 0;
    if (!header_number(req, "x-upstream-status", status) || status < 100 || status > 599) status = 0;
    int raw_kind = word(req, "x-upstream-raw", kRawWords);
    int echo_kind = word(req, "x-upstream-echo-headers", kEchoWords);
    long fail_times = 0;
    bool inject = status != 0 || raw_kind >= 0 || echo_kind >= 0;
    if (header_number(req, "x-upstream-fail-times", fail_times)) {
      long seen;
      {
        std::lock_guard lock(mu_);
        seen = ++fail_counts_[req.header("x-upstream-fail-key")];
      }
      inject = seen <= fail_times;
    }
    if (inject && raw_kind >= 0) return raw(static_cast<Raw>(raw_kind));
    if (inject && echo_kind >= 0) return echo_headers(req, static_cast<Echo>(echo_kind), status ? status : 401);
    if (inject && status == 0) status = 503;  // fail-times without a status
    bool has_replay = !req.header("x-upstream-replay").empty();
    bool has_body = false;
    for (const auto& h : req.headers) has_body = has_body || iequals(h.first, "x-upstream-body");
    long error_bytes = 0;
    bool has_error_bytes = header_number(req, "x-upstream-error-bytes", error_bytes);
    if (inject && (status >= 300 || has_body || has_replay || has_error_bytes)) {
      if (has_replay && !has_body) return replay(req, static_cast<int>(status));
      if (has_body) {
        std::string body = req.header("x-upstream-body");
        if (header_true(req, "x-upstream-body-latin1")) {
          // U+0080..U+00FF written as one byte each: a body that is not UTF-8.
          std::string latin1;
          for (size_t i = 0; i < body.size(); ++i) {
            unsigned char c = static_cast<unsigned char>(body[i]);
            if ((c == 0xC2 || c == 0xC3) && i + 1 < body.size()) {
              latin1 += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(body[i + 1]) & 0x3F));
              ++i;
            } else {
              latin1 += static_cast<char>(c);
            }
          }
          body = std::move(latin1);
        }
        std::string_view t = trim(body);
        Plan p;
        p.status = static_cast<int>(status);
        p.headers.emplace_back("content-type", !t.empty() && (t.front() == '{' || t.front() == '[')
                                                   ? "application/json"
                                                   : "text/plain; charset=utf-8");
        p.body = std::move(body);
        return p;
      }
      if (has_error_bytes) return sized_error(static_cast<int>(status), static_cast<uint64_t>(error_bytes));
      if (anthropic != AnthropicRoute::none) return anthropic_error_plan(static_cast<int>(status), rid);
      if (google_token) return GoogleTokens::injected_error(static_cast<int>(status));
      if (bedrock != BedrockRoute::none) return bedrock_status_plan(static_cast<int>(status), rid);
      if (gemini != GeminiRoute::none) return gemini_status_plan(static_cast<int>(status), gemini);
      return json_plan(static_cast<int>(status), error_body_for_status(static_cast<int>(status)));
    }
    if (has_replay) return replay(req, 200);

    auto ends_with = [&](std::string_view suffix) {
      return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (google_token) {
      if (req.method != "POST") {
        Plan p = GoogleTokens::injected_error(405, "Method " + req.method + " not allowed on /token; use POST");
        p.headers.emplace_back("allow", "POST");
        return p;
      }
      return google_->exchange(req, opts_.google_token_lifetime_secs);
    }
    if (bedrock != BedrockRoute::none) {
      if (req.method != (bedrock == BedrockRoute::models ? "GET" : "POST"))
        return bedrock_error_plan(404, "UnknownOperationException", "", rid);
      return handle_bedrock(req, bedrock, bedrock_model, rid);
    }
    if (gemini != GeminiRoute::none) {
      if (req.method != "POST" && gemini != GeminiRoute::models && gemini != GeminiRoute::vertex_models)
        return gemini_error_plan(404, "Method not found.", "NOT_FOUND");
      return handle_gemini(req, gemini, gemini_model, ++counter_);
    }
    if (anthropic != AnthropicRoute::none) {
      if (req.method != "POST") return anthropic_error_plan(405, rid, "Method Not Allowed");
      return handle_anthropic(req, anthropic, anthropic_model, rid, ++counter_);
    }
    if (is_cohere_route(path)) return handle_cohere(req, ++counter_);  // cohere.cpp
    if (search != SearchRoute::none) return handle_search(req, search, opts_.require_api_key);
    if (ends_with("/chat/completions")) {
      if (req.method != "POST")
        return error_plan(405, "Method " + req.method + " not allowed on " + path + "; use POST",
                          "invalid_request_error", "method_not_allowed");
      return handle_chat(req);
    }
    if (path == "/v1/models" || path == "/models") {
      if (req.method != "GET")
        return error_plan(405, "Method " + req.method + " not allowed on " + path + "; use GET",
                          "invalid_request_error", "method_not_allowed");
      if (!req.header("anthropic-version").empty()) return json_plan(200, anthropic_models_body());
      rapidjson::StringBuffer sb;
      Writer w(sb);
      w.StartObject();
      w.Key("object");
      w.String("list");
      w.Key("data");
      w.StartArray();
      for (const char* id : {"gpt-4o-mini", "gpt-4o", "upstream-echo"}) {
        w.StartObject();
        w.Key("id");
        w.String(id);
        w.Key("object");
        w.String("model");
        w.Key("created");
        w.Int64(kCreated);
        w.Key("owned_by");
        w.String("literllm-upstream");
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      return json_plan(200, done(sb));
    }
    // OpenAI's endpoints beyond chat (openai_endpoints.cpp).
    if (auto p = endpoints_->handle(req, path)) return std::move(*p);
    return error_plan(404, "Unknown request URL: " + req.method + " " + path + ".", "invalid_request_error",
                      "not_found");
  };

  Plan p = decide();
  if (p.reset) return p;
  if (google_token && opts_.google_token_delay_ms > 0) p.delay_ms = static_cast<unsigned>(opts_.google_token_delay_ms);
  long v = 0;
  if (header_number(req, "x-upstream-delay-ms", v)) p.delay_ms = static_cast<unsigned>(std::min(v, 600000L));
  if (header_number(req, "x-upstream-chunk-delay-ms", v))
    p.chunk_delay_ms = static_cast<unsigned>(std::min(v, 600000L));
  if (p.raw) return p;  // no headers of ours, nothing to count events of
  if (header_number(req, "x-upstream-cut-after", v)) p.cut_after = v;
  if (header_number(req, "x-upstream-stall-after", v)) p.stall_after = v;
  p.drop_idle = header_true(req, "x-upstream-drop-idle");
  std::string retry_after(trim(req.header("x-upstream-retry-after")));
  if (!retry_after.empty()) p.headers.emplace_back("retry-after", retry_after);
  std::string retry_after_ms(trim(req.header("x-upstream-retry-after-ms")));
  if (!retry_after_ms.empty()) p.headers.emplace_back("retry-after-ms", retry_after_ms);
  if (header_true(req, "x-upstream-gzip")) {
    p.gzip = true;
    p.headers.emplace_back("content-encoding", "gzip");
  }
  if (!p.stream && header_true(req, "x-upstream-chunked")) p.chunked = true;
  if (rid.empty()) rid = "req_upstream_" + std::to_string(++seq_);
  p.headers.emplace_back("x-request-id", rid);
  if (anthropic != AnthropicRoute::none) p.headers.emplace_back("request-id", rid);
  return p;
}

Plan Handler::handle_chat(const RecordedRequest& req) {
  // In situ: one copy of the body, no growing string stack (large bodies stay cheap).
  std::string text = req.body;
  text.push_back('\0');
  rapidjson::Document doc;
  doc.ParseInsitu(text.data());
  bool parsed = !doc.HasParseError() && doc.IsObject();
  bool echo = header_true(req, "x-upstream-echo");
  if (!parsed && !echo)
    return error_plan(400,
                      "We could not parse the JSON body of your request. The local upstream expects a JSON "
                      "object (chat-completions request).",
                      "invalid_request_error", "invalid_json");
  if (!parsed) doc.SetObject();

  const Value* messages = find(doc, "messages");
  if (!echo) {
    if (!find(doc, "model") || !find(doc, "model")->IsString())
      return error_plan(400, "you must provide a model parameter", "invalid_request_error", "missing_model");
    if (!messages || !messages->IsArray())
      return error_plan(400, "'messages' is a required property and must be an array", "invalid_request_error",
                        "invalid_messages");
  }

  Reply r;
  r.id = "chatcmpl-upstream-" + std::to_string(++counter_);
  r.model = std::string(string_member(doc, "model"));
  // DeepSeek's thinking mode (deepseek-reasoner, the V4 models unless "thinking" is disabled, any
  // deepseek model with it enabled): an answer carries reasoning_content, and an assistant turn with
  // tool calls must carry its reasoning_content back in every later request.
  const bool thinking = [&] {
    if (echo || r.model.rfind("deepseek", 0) != 0) return false;
    const Value* th = find(doc, "thinking");
    std::string_view type = th ? string_member(*th, "type") : std::string_view{};
    if (type == "disabled") return false;
    return type == "enabled" || r.model == "deepseek-reasoner" || r.model.rfind("deepseek-v4", 0) == 0;
  }();
  if (thinking && messages && messages->IsArray()) {
    // Between two user messages, once the model called a tool, every assistant turn's reasoning_content
    // (a string, "" too) must come back.
    auto segment_fails = [](auto begin, auto end) {
      bool tools = false, lacking = false;
      for (auto it = begin; it != end; ++it) {
        if (string_member(*it, "role") != "assistant") continue;
        const Value* calls = find(*it, "tool_calls");
        const Value* rc = find(*it, "reasoning_content");
        tools |= calls && calls->IsArray() && !calls->Empty();
        lacking |= !(rc && rc->IsString());
      }
      return tools && lacking;
    };
    auto all = messages->GetArray();
    for (auto from = all.Begin(); from != all.End();) {
      auto to = std::find_if(from + 1, all.End(), [](const Value& m) { return string_member(m, "role") == "user"; });
      if (segment_fails(from, to))
        return error_plan(400, "The `reasoning_content` in the thinking mode must be passed back to the API.",
                          "invalid_request_error", "invalid_request_error");
      from = to;
    }
  }
  bool stream = bool_member(doc, "stream");
  const Value* so = find(doc, "stream_options");
  bool include_usage = so && bool_member(*so, "include_usage");
  if (const Value* n = find(doc, "n"); n && n->IsInt64() && n->GetInt64() > 1)
    r.n = static_cast<size_t>(std::min<int64_t>(n->GetInt64(), kMaxChoices));

  if (header_true(req, "x-upstream-malformed") && !stream) {
    Plan p = json_plan(200, R"({"id": "broken",)");
    return p;
  }

  // Prompt text.
  std::string last_user;
  const Value* last_message = nullptr;
  if (messages && messages->IsArray()) {
    for (const Value& m : messages->GetArray()) {
      std::string text = message_text(m);
      r.prompt_tokens += static_cast<long>(count_words(text));
      if (string_member(m, "role") == "user") last_user = std::move(text);
      last_message = &m;
    }
  }
  long cached = 0;
  if (header_number(req, "x-upstream-cached-tokens", cached)) r.cached_tokens = cached;

  if (iequals(trim(req.header("x-upstream-gzip")), "bomb")) {
    if (!stream)
      return error_plan(400, "x-upstream-gzip: bomb needs \"stream\": true", "invalid_request_error",
                        "bad_upstream_header");
    return gzip_bomb();
  }
  if (int kind = word(req, "x-upstream-generate", kGenerateWords); kind >= 0) {
    Plan p = generated(req, r, static_cast<Step>(kind), stream);
    if (p.stream) after_done(req, p, chunk_head(r));
    return p;
  }

  // Tool calls?
  const Value* tools = find(doc, "tools");
  const Value* choice = find(doc, "tool_choice");
  std::string choice_mode = "auto", choice_name;
  if (choice && choice->IsString())
    choice_mode = std::string(sv(*choice));
  else if (choice && choice->IsObject()) {
    const Value* fn = find(*choice, "function");
    choice_name = std::string(fn ? string_member(*fn, "name") : string_member(*choice, "name"));
    if (!choice_name.empty()) choice_mode = "named";
  }
  bool last_is_tool = last_message && string_member(*last_message, "role") == "tool";
  if (!echo && tools && tools->IsArray() && !tools->Empty() && choice_mode != "none" && !last_is_tool) {
    struct Fn {
      std::string name;
      const Value* parameters;
    };
    std::vector<Fn> fns;
    for (const Value& t : tools->GetArray()) {
      const Value* fn = find(t, "function");
      const Value& src = fn ? *fn : t;
      std::string_view name = string_member(src, "name");
      if (!name.empty()) fns.push_back({std::string(name), find(src, "parameters")});
    }
    if (!fns.empty()) {
      auto call_of = [](const Fn& f) {
        const Value* props = f.parameters;
        return ToolCall{f.name, object_sample(props, false)};
      };
      if (choice_mode == "named") {
        auto it = std::find_if(fns.begin(), fns.end(), [&](const Fn& f) { return f.name == choice_name; });
        if (it == fns.end())
          return error_plan(400, "tool_choice names function '" + choice_name + "', which is not in tools",
                            "invalid_request_error", "invalid_tool_choice");
        r.calls.push_back(call_of(*it));
      } else if (bool_member(doc, "parallel_tool_calls") && fns.size() >= 2) {
        for (const Fn& f : fns) r.calls.push_back(call_of(f));
      } else {
        r.calls.push_back(call_of(fns.front()));
      }
      r.tools = true;
      r.finish = "tool_calls";
      r.completion_tokens = 5;
    }
  }

  if (thinking) {
    r.has_reasoning = true;
    if (!iequals(trim(req.header("x-upstream-reasoning")), "empty"))
      r.reasoning = r.tools ? "The user asks for a tool's answer: call it." : "The user said: " + last_user + ". Reply.";
  }

  if (!r.tools) {
    const Value* rf = find(doc, "response_format");
    std::string_view rf_type = rf ? string_member(*rf, "type") : std::string_view{};
    if (echo) {
      r.content = req.body;
    } else if (rf_type == "json_schema") {
      const Value* js = find(*rf, "json_schema");
      const Value* schema = js ? find(*js, "schema") : nullptr;
      r.content = schema ? schema_sample(*schema) : std::string("{}");
    } else if (rf_type == "json_object") {
      r.content = R"({"ok":true})";
    } else {
      r.content = "Hello from the local upstream. You said: " + last_user;
    }
    if (!echo) {
      long limit = -1;
      for (const char* k : {"max_completion_tokens", "max_tokens"}) {
        const Value* v = find(doc, k);
        if (v && v->IsInt64() && v->GetInt64() >= 0) {
          limit = static_cast<long>(v->GetInt64());
          break;
        }
      }
      if (limit >= 0 && static_cast<size_t>(limit) < count_words(r.content)) {
        r.content = limit == 0 ? std::string() : r.content.substr(0, words(r.content, limit).back().second);
        r.finish = "length";
      }
    }
    r.completion_tokens = static_cast<long>(count_words(r.content));
  }

  r.completion_tokens += static_cast<long>(count_words(r.reasoning));  // reasoning tokens count as completion
  if (!stream) return json_plan(200, completion_body(r));

  Plan p = sse_plan();
  p.events = stream_events(r, include_usage);
  if (header_true(req, "x-upstream-malformed") && p.events.size() > 1) p.events[1] = "data: {not json\n\n";
  after_done(req, p, chunk_head(r));
  return p;
}

// ---- helpers shared with anthropic.cpp ----------------------------------------

namespace shared {
bool header_number(const RecordedRequest& req, std::string_view name, long& out) {
  return detail::header_number(req, name, out);
}
bool header_true(const RecordedRequest& req, std::string_view name) { return detail::header_true(req, name); }
bool iequals(std::string_view a, std::string_view b) { return testing::iequals(a, b); }
std::string_view trim(std::string_view s) { return testing::trim(s); }
std::string query_param(const RecordedRequest& req, std::string_view name) {
  size_t q = req.target.find('?');
  if (q == std::string::npos) return {};
  std::string_view query = std::string_view(req.target).substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    if (kv.size() > name.size() && kv.substr(0, name.size()) == name && kv[name.size()] == '=')
      return std::string(kv.substr(name.size() + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}
size_t count_words(std::string_view s) { return detail::count_words(s); }
std::string first_words(std::string_view s, size_t n) {
  auto ws = detail::words(s, n);
  return n == 0 || ws.empty() ? std::string() : std::string(s.substr(0, ws.back().second));
}
std::vector<std::string> two_word_pieces(std::string_view s) { return detail::two_word_pieces(s); }
std::vector<std::string> three_pieces(std::string_view s) { return detail::three_pieces(s); }
std::string object_sample(const rapidjson::Value* schema, bool recurse) {
  return detail::object_sample(schema, recurse);
}
std::string schema_sample(const rapidjson::Value& schema) { return detail::schema_sample(schema); }
Plan json_plan(int status, std::string body) { return detail::json_plan(status, std::move(body)); }
Plan sse_plan() { return detail::sse_plan(); }
void after_done(const RecordedRequest& req, Plan& p) { detail::after_done(req, p, {}); }
}  // namespace shared

}  // namespace detail
}  // namespace literllm::testing
