// The checks of llm_call's requests (every endpoint but chat, which
// validate.cpp checks): a table of each endpoint's fields, read by one walker.
#include <cmath>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/validate.hpp"
#include "providers/registry.hpp"

namespace literllm {

namespace {

using json::Value;

enum class Kind : unsigned char {
  String,         // a string
  Text,           // a non-empty string
  Int,            // an integer within [lo, hi]
  Number,         // a finite number within [lo, hi]
  Bool,
  Object,
  Strings,        // an array of strings (at least lo of them)
  TextOrTexts,    // a non-empty string, or a non-empty array of them
  EmbeddingInput, // a string, or an array of strings, of token ids, or of token-id arrays
  Documents,      // rerank's documents: strings or {"text": s} objects
  StringOrObject, // a string or an object (a voice)
  Upload,         // {"path": p} or {"data": i}, optional "filename" and "content_type"
  Any,            // present: anything
};

struct FieldRule {
  const char* name;
  Kind kind;
  bool required = false;
  const char* options = nullptr;  // Kind::String/Text: the allowed values, '|'-separated
  double lo = 0, hi = 0;          // Int, Number: bounds (lo > hi: unbounded); Strings: the least count
};

struct EndpointRules {
  Endpoint endpoint;
  std::initializer_list<FieldRule> fields;
};

constexpr double kNoBound = -1;

const EndpointRules kRules[] = {
    {Endpoint::Embeddings,
     {{"model", Kind::Text, true},
      {"input", Kind::EmbeddingInput, true},
      {"encoding_format", Kind::String, false, "float|base64"},
      {"dimensions", Kind::Int, false, nullptr, 1, 65536},
      {"user", Kind::String}}},
    {Endpoint::Models, {}},
    {Endpoint::Images,
     {{"prompt", Kind::Text, true},
      {"n", Kind::Int, false, nullptr, 1, 10},
      {"size", Kind::Text},
      {"quality", Kind::Text},
      {"style", Kind::Text},
      {"response_format", Kind::String, false, "url|b64_json"},
      {"user", Kind::String}}},
    {Endpoint::Speech,
     {{"model", Kind::Text, true},
      {"input", Kind::Text, true},
      {"voice", Kind::StringOrObject, true},
      {"response_format", Kind::String, false, "mp3|opus|aac|flac|wav|pcm"},
      {"speed", Kind::Number, false, nullptr, 0.25, 4},
      {"instructions", Kind::String}}},
    {Endpoint::Transcription,
     {{"model", Kind::Text, true},
      {"file", Kind::Upload, true},
      {"language", Kind::Text},
      {"prompt", Kind::String},
      {"response_format", Kind::String, false, "json|text|srt|verbose_json|vtt|diarized_json"},
      {"temperature", Kind::Number, false, nullptr, 0, 1},
      {"timestamp_granularities", Kind::Strings}}},
    {Endpoint::Translation,
     {{"model", Kind::Text, true},
      {"file", Kind::Upload, true},
      {"prompt", Kind::String},
      {"response_format", Kind::String, false, "json|text|srt|verbose_json|vtt"},
      {"temperature", Kind::Number, false, nullptr, 0, 1}}},
    {Endpoint::Moderation, {{"input", Kind::Any, true}, {"model", Kind::Text}}},
    {Endpoint::Rerank,
     {{"model", Kind::Text, true},
      {"query", Kind::Text, true},
      {"documents", Kind::Documents, true},
      {"top_n", Kind::Int, false, nullptr, 1, 100000},
      {"return_documents", Kind::Bool}}},
    {Endpoint::Search,
     {{"query", Kind::Text, true},
      {"max_results", Kind::Int, false, nullptr, 1, 100},
      {"include_domains", Kind::Strings},
      {"exclude_domains", Kind::Strings},
      {"country", Kind::Text}}},
    {Endpoint::Ocr,
     {{"model", Kind::Text, true},
      {"document", Kind::Object, true},
      {"pages", Kind::Any},
      {"include_image_base64", Kind::Bool}}},
    {Endpoint::FileCreate, {{"file", Kind::Upload, true}, {"purpose", Kind::Text, true}}},
    {Endpoint::FileRetrieve, {{"file_id", Kind::Text, true}}},
    {Endpoint::FileList,
     {{"purpose", Kind::Text}, {"limit", Kind::Int, false, nullptr, 1, 10000}, {"after", Kind::Text},
      {"order", Kind::String, false, "asc|desc"}}},
    {Endpoint::FileDelete, {{"file_id", Kind::Text, true}}},
    {Endpoint::FileContent, {{"file_id", Kind::Text, true}}},
    {Endpoint::BatchCreate,
     {{"input_file_id", Kind::Text, true},
      {"endpoint", Kind::Text, true},
      {"completion_window", Kind::Text, true},
      {"metadata", Kind::Object}}},
    {Endpoint::BatchRetrieve, {{"batch_id", Kind::Text, true}}},
    {Endpoint::BatchList, {{"limit", Kind::Int, false, nullptr, 1, 100}, {"after", Kind::Text}}},
    {Endpoint::BatchCancel, {{"batch_id", Kind::Text, true}}},
    {Endpoint::ResponseCreate,
     {{"model", Kind::Text, true},
      {"input", Kind::Any},
      {"instructions", Kind::String},
      {"stream", Kind::Bool},
      {"max_output_tokens", Kind::Int, false, nullptr, 1, kNoBound},
      {"temperature", Kind::Number, false, nullptr, 0, 2},
      {"top_p", Kind::Number, false, nullptr, 0, 1},
      {"tools", Kind::Any},
      {"previous_response_id", Kind::Text},
      {"store", Kind::Bool}}},
    {Endpoint::ResponseRetrieve, {{"response_id", Kind::Text, true}}},
    {Endpoint::ResponseCancel, {{"response_id", Kind::Text, true}}},
    {Endpoint::ResponseDelete, {{"response_id", Kind::Text, true}}},
};

const char* type_of(const Value& v) { return json::type_name(v); }

[[noreturn]] void fail(const std::string& path, const std::string& what) { invalid(path + ": " + what); }

void need(bool ok, const std::string& path, const char* expected, const Value& v) {
  if (!ok) fail(path, std::string("expected ") + expected + ", got " + type_of(v));
}

bool one_of(std::string_view s, std::string_view options) {
  while (!options.empty()) {
    size_t bar = options.find('|');
    if (options.substr(0, bar) == s) return true;
    if (bar == std::string_view::npos) break;
    options.remove_prefix(bar + 1);
  }
  return false;
}

void check_string(const Value& v, const std::string& path, bool nonempty, const char* options) {
  need(v.IsString(), path, "a string", v);
  if (nonempty && v.GetStringLength() == 0) fail(path, "must not be empty");
  if (options && !one_of(json::sv(v), options)) {
    std::string allowed(options);
    for (auto& c : allowed)
      if (c == '|') c = ',';
    fail(path, "must be one of " + allowed + ", got \"" + std::string(json::sv(v).substr(0, 64)) + "\"");
  }
}

std::string num_text(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::string s = std::to_string(d);
  while (!s.empty() && s.back() == '0') s.pop_back();
  return s;
}

void check_bounds(double x, const FieldRule& r, const std::string& path) {
  if (r.lo > r.hi) {  // a lower bound only (hi == kNoBound)
    if (x < r.lo) fail(path, "must be at least " + num_text(r.lo) + ", got " + num_text(x));
    return;
  }
  if (x < r.lo || x > r.hi)
    fail(path, "must be between " + num_text(r.lo) + " and " + num_text(r.hi) + ", got " + num_text(x));
}

void check_upload(const Value& v, const std::string& path, size_t blob_count) {
  need(v.IsObject(), path, "an object ({\"path\": ...} or {\"data\": index})", v);
  const Value* p = json::find(v, "path");
  const Value* d = json::find(v, "data");
  if (!p == !d) fail(path, "needs exactly one of \"path\" (a file to read) and \"data\" (the index of bytes given to the call)");
  if (p) check_string(*p, path + ".path", true, nullptr);
  if (d) {
    need(d->IsUint64(), path + ".data", "a non-negative integer", *d);
    if (d->GetUint64() >= blob_count)
      fail(path + ".data", "names bytes " + std::to_string(d->GetUint64()) + " but the call was given " +
                               std::to_string(blob_count));
  }
  if (const Value* f = json::find(v, "filename")) check_string(*f, path + ".filename", true, nullptr);
  if (const Value* c = json::find(v, "content_type")) check_string(*c, path + ".content_type", true, nullptr);
  for (auto& m : v.GetObject()) {
    std::string_view k = json::sv(m.name);
    if (k != "path" && k != "data" && k != "filename" && k != "content_type")
      fail(path + "." + std::string(k), "unknown field of an upload (path, data, filename, content_type)");
  }
}

void check_field(const Value& v, const FieldRule& r, const std::string& path, size_t blob_count) {
  switch (r.kind) {
    case Kind::String: check_string(v, path, false, r.options); return;
    case Kind::Text: check_string(v, path, true, r.options); return;
    case Kind::Int:
      need(v.IsInt64(), path, "an integer", v);
      check_bounds(static_cast<double>(v.GetInt64()), r, path);
      return;
    case Kind::Number:
      need(v.IsNumber() && std::isfinite(v.GetDouble()), path, "a number", v);
      check_bounds(v.GetDouble(), r, path);
      return;
    case Kind::Bool: need(v.IsBool(), path, "a boolean", v); return;
    case Kind::Object: need(v.IsObject(), path, "an object", v); return;
    case Kind::Strings: {
      need(v.IsArray(), path, "an array of strings", v);
      size_t i = 0;
      for (auto& x : v.GetArray()) check_string(x, path + "[" + std::to_string(i++) + "]", false, nullptr);
      return;
    }
    case Kind::TextOrTexts:
      if (v.IsString()) return check_string(v, path, true, nullptr);
      need(v.IsArray() && !v.Empty(), path, "a string or a non-empty array of strings", v);
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) check_string(v[i], path + "[" + std::to_string(i) + "]", true, nullptr);
      return;
    case Kind::EmbeddingInput: {
      if (v.IsString()) return;
      need(v.IsArray(), path, "a string or an array", v);
      if (v.Empty()) fail(path, "must not be empty");
      const bool strings = v[0].IsString(), tokens = v[0].IsInt64(), token_lists = v[0].IsArray();
      if (!strings && !tokens && !token_lists)
        fail(path + "[0]", std::string("expected a string, a token id or an array of token ids, got ") + type_of(v[0]));
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const std::string at = path + "[" + std::to_string(i) + "]";
        const Value& x = v[i];
        if (strings) need(x.IsString(), at, "a string (as the first element)", x);
        else if (tokens) need(x.IsInt64(), at, "a token id (as the first element)", x);
        else {
          need(x.IsArray() && !x.Empty(), at, "a non-empty array of token ids", x);
          for (auto& t : x.GetArray()) need(t.IsInt64(), at + "[]", "a token id", t);
        }
      }
      return;
    }
    case Kind::Documents: {
      need(v.IsArray() && !v.Empty(), path, "a non-empty array", v);
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const std::string at = path + "[" + std::to_string(i) + "]";
        const Value& x = v[i];
        if (x.IsString()) continue;
        need(x.IsObject(), at, "a string or an object with \"text\"", x);
        const Value* t = json::find(x, "text");
        if (!t) fail(at + ".text", "is required");
        check_string(*t, at + ".text", false, nullptr);
      }
      return;
    }
    case Kind::StringOrObject:
      need(v.IsString() || v.IsObject(), path, "a string or an object", v);
      if (v.IsString() && v.GetStringLength() == 0) fail(path, "must not be empty");
      return;
    case Kind::Upload: check_upload(v, path, blob_count); return;
    case Kind::Any: return;
  }
}

}  // namespace

void validate_endpoint_request(Endpoint e, const json::Value& req, size_t blob_count) {
  validate_call_common(req);
  for (const EndpointRules& rules : kRules) {
    if (rules.endpoint != e) continue;
    for (const FieldRule& r : rules.fields) {
      const std::string path = std::string("request.") + r.name;
      const Value* v = json::find(req, r.name);
      if (!v) {
        // The model may come from the provider's configuration only where the
        // request routes by "provider"; a routed request names it.
        if (r.required) fail(path, "is required");
        continue;
      }
      check_field(*v, r, path, blob_count);
    }
    return;
  }
}

}  // namespace literllm
