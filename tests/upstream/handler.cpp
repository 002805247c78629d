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
#include <sstream>
#include <string_view>

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
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

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

const Value* find(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string_view string_member(const Value& obj, const char* key) {
  const Value* v = find(obj, key);
  return v && v->IsString() ? sv(*v) : std::string_view{};
}

bool bool_member(const Value& obj, const char* key) {
  const Value* v = find(obj, key);
  return v && v->IsBool() && v->GetBool();
}

void put(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void key(Writer& w, std::string_view s) { w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

std::string done(rapidjson::StringBuffer& sb) { return std::string(sb.GetString(), sb.GetSize()); }

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
  w.Int(0);
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
  if (r.tools) {
    for (size_t j = 0; j < r.calls.size(); ++j) {
      const ToolCall& call = r.calls[j];
      for (size_t i = 0; i < r.n; ++i)
        ev.push_back(chunk(
            r, i,
            [&](Writer& w) {
              w.Key("tool_calls");
              w.StartArray();
              w.StartObject();
              w.Key("index");
              w.Uint64(j);
              w.Key("id");
              put(w, "call_" + std::to_string(j));
              w.Key("type");
              w.String("function");
              w.Key("function");
              w.StartObject();
              w.Key("name");
              put(w, call.name);
              w.Key("arguments");
              w.String("");
              w.EndObject();
              w.EndObject();
              w.EndArray();
            },
            nullptr));
      for (const std::string& piece : three_pieces(call.arguments))
        for (size_t i = 0; i < r.n; ++i)
          ev.push_back(chunk(
              r, i,
              [&](Writer& w) {
                w.Key("tool_calls");
                w.StartArray();
                w.StartObject();
                w.Key("index");
                w.Uint64(j);
                w.Key("function");
                w.StartObject();
                w.Key("arguments");
                put(w, piece);
                w.EndObject();
                w.EndObject();
                w.EndArray();
              },
              nullptr));
    }
  } else {
    for (const std::string& piece : two_word_pieces(r.content))
      for (size_t i = 0; i < r.n; ++i)
        ev.push_back(chunk(
            r, i,
            [&](Writer& w) {
              w.Key("content");
              put(w, piece);
            },
            nullptr));
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

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 529:
      return "Site Overloaded";
    default:
      return "Unknown";
  }
}

std::string error_body_for_status(int status, std::string_view message) {
  const char* type = status >= 500 ? "server_error" : "invalid_request_error";
  const char* code = "";
  switch (status) {
    case 400:
      code = "bad_request";
      break;
    case 401:
      code = "invalid_api_key";
      break;
    case 403:
      type = "permission_error";
      code = "permission_denied";
      break;
    case 404:
      code = "not_found";
      break;
    case 408:
      type = "timeout_error";
      code = "request_timeout";
      break;
    case 409:
      code = "conflict";
      break;
    case 413:
      code = "request_too_large";
      break;
    case 422:
      code = "unprocessable_entity";
      break;
    case 429:
      type = "rate_limit_exceeded";
      code = "rate_limit_exceeded";
      break;
    case 500:
      code = "internal_error";
      break;
    case 502:
      code = "bad_gateway";
      break;
    case 503:
      code = "service_unavailable";
      break;
    case 504:
      code = "gateway_timeout";
      break;
    case 529:
      type = "overloaded_error";
      code = "overloaded";
      break;
    default:
      break;
  }
  std::string msg(message);
  if (msg.empty()) msg = "local upstream: injected HTTP " + std::to_string(status) + " (" + reason_phrase(status) + ")";
  return error_body(msg, type, code);
}

// ---- the handler -----------------------------------------------------------------

std::vector<RecordedRequest> Handler::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void Handler::clear_requests() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

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
    put(w, r.body);
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
  Plan p;
  p.status = status;
  if (is_stream_extension(relpath)) {
    p.stream = true;
    p.headers.emplace_back("content-type", "text/event-stream");
    p.headers.emplace_back("cache-control", "no-cache");
    p.events = split_events(bytes);
  } else {
    p.headers.emplace_back("content-type", "application/json");
    p.body = std::move(bytes);
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

  auto decide = [&]() -> Plan {
    if (header_true(req, "x-upstream-reset")) {
      Plan p;
      p.reset = true;
      return p;
    }

    if (!opts_.require_api_key.empty()) {
      const std::string& want = opts_.require_api_key;
      std::string auth(trim(req.header("authorization")));
      bool ok = (auth.size() > 7 && iequals(auth.substr(0, 7), "bearer ") && trim(auth.substr(7)) == want) ||
                req.header("x-api-key") == want || req.header("api-key") == want;
      if (!ok) {
        bool any = !auth.empty() || !req.header("x-api-key").empty() || !req.header("api-key").empty();
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

    long status = 0;
    if (!header_number(req, "x-upstream-status", status) || status < 100 || status > 599) status = 0;
    long fail_times = 0;
    bool inject = status != 0;
    if (header_number(req, "x-upstream-fail-times", fail_times)) {
      long seen;
      {
        std::lock_guard lock(mu_);
        seen = ++fail_counts_[req.header("x-upstream-fail-key")];
      }
      inject = seen <= fail_times;
      if (inject && status == 0) status = 503;
    }
    bool has_replay = !req.header("x-upstream-replay").empty();
    bool has_body = false;
    for (const auto& h : req.headers) has_body = has_body || iequals(h.first, "x-upstream-body");
    if (inject && (status >= 300 || has_body || has_replay)) {
      if (has_replay && !has_body) return replay(req, static_cast<int>(status));
      if (has_body) {
        std::string body = req.header("x-upstream-body");
        std::string_view t = trim(body);
        Plan p;
        p.status = static_cast<int>(status);
        p.headers.emplace_back("content-type", !t.empty() && (t.front() == '{' || t.front() == '[')
                                                   ? "application/json"
                                                   : "text/plain; charset=utf-8");
        p.body = std::move(body);
        return p;
      }
      return json_plan(static_cast<int>(status), error_body_for_status(static_cast<int>(status)));
    }
    if (has_replay) return replay(req, 200);

    auto ends_with = [&](std::string_view suffix) {
      return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
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
    return error_plan(404, "Unknown request URL: " + req.method + " " + path + ".", "invalid_request_error",
                      "not_found");
  };

  Plan p = decide();
  if (p.reset) return p;
  long v = 0;
  if (header_number(req, "x-upstream-delay-ms", v)) p.delay_ms = static_cast<unsigned>(std::min(v, 600000L));
  if (header_number(req, "x-upstream-chunk-delay-ms", v))
    p.chunk_delay_ms = static_cast<unsigned>(std::min(v, 600000L));
  if (header_number(req, "x-upstream-cut-after", v)) p.cut_after = v;
  if (header_number(req, "x-upstream-stall-after", v)) p.stall_after = v;
  std::string retry_after(trim(req.header("x-upstream-retry-after")));
  if (!retry_after.empty()) p.headers.emplace_back("retry-after", retry_after);
  p.headers.emplace_back("x-request-id", "req_upstream_" + std::to_string(++seq_));
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

  if (!stream) return json_plan(200, completion_body(r));

  Plan p;
  p.stream = true;
  p.headers.emplace_back("content-type", "text/event-stream");
  p.headers.emplace_back("cache-control", "no-cache");
  p.events = stream_events(r, include_usage);
  if (header_true(req, "x-upstream-malformed") && p.events.size() > 1) p.events[1] = "data: {not json\n\n";
  return p;
}

}  // namespace detail
}  // namespace literllm::testing
