// OpenAI's endpoints beyond chat, as the local upstream serves them. The
// checks are api.openai.com's (required fields, types, enumerated values,
// bounds, unknown parameters), each answered in OpenAI's error shape
// {"error": {"message", "type", "param", "code"}} with the status OpenAI uses.
#include "openai_endpoints.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "anthropic.hpp"  // the shared helpers of handler.cpp
#include "json_util.hpp"
#include "multipart.hpp"
#include "responses_stream.hpp"
#include "ocr.hpp"

namespace literllm::testing {

namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string hex16(uint64_t v) {
  static const char* d = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = d[v & 15];
  return s;
}

void put_le(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_be32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint32_t get_le32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

// 16-bit PCM samples at 24 kHz: a tone per word, its pitch from the word.
std::string pcm_samples(std::string_view input, double speed) {
  std::string out;
  auto ws = split_words(input);
  if (ws.empty()) ws.push_back(input);
  const size_t per_word = static_cast<size_t>(6000 / speed);
  for (std::string_view w : ws) {
    const double freq = 200.0 + static_cast<double>(fnv1a(w) % 600);
    for (size_t i = 0; i < per_word; ++i) {
      double v = std::sin(2 * M_PI * freq * static_cast<double>(i) / 24000.0) * 8000.0;
      put_le(out, static_cast<uint32_t>(static_cast<int16_t>(std::lround(v))) & 0xFFFF, 2);
    }
  }
  return out;
}

}  // namespace

std::vector<float> upstream_embedding(std::string_view text, size_t dimensions) {
  uint64_t seed = fnv1a(text);
  std::vector<double> v(dimensions);
  double norm = 0;
  for (double& x : v) {
    x = static_cast<double>(splitmix64(seed) >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
    norm += x * x;
  }
  norm = std::sqrt(norm);
  std::vector<float> out(dimensions);
  for (size_t i = 0; i < dimensions; ++i) out[i] = static_cast<float>(norm > 0 ? v[i] / norm : 0);
  return out;
}

size_t upstream_embedding_length(std::string_view model) {
  if (model == "text-embedding-3-small" || model == "text-embedding-ada-002") return 1536;
  if (model == "text-embedding-3-large") return 3072;
  return 0;
}

std::string upstream_speech_content_type(std::string_view format) {
  if (format == "mp3") return "audio/mpeg";
  if (format == "opus") return "audio/ogg";
  if (format == "aac") return "audio/aac";
  if (format == "flac") return "audio/flac";
  if (format == "wav") return "audio/wav";
  if (format == "pcm") return "audio/pcm";
  return "application/octet-stream";
}

std::string upstream_speech(std::string_view input, std::string_view voice, std::string_view format, double speed) {
  if (format == "wav" || format == "pcm") {
    std::string samples = pcm_samples(input, speed);
    if (format == "pcm") return samples;
    std::string comment(input);
    comment += '\0';
    if (comment.size() % 2) comment += '\0';
    std::string list = "INFO";
    list += "ICMT";
    put_le(list, static_cast<uint32_t>(comment.size()), 4);
    list += comment;
    std::string body = "WAVE";
    body += "fmt ";
    put_le(body, 16, 4);
    put_le(body, 1, 2);          // PCM
    put_le(body, 1, 2);          // mono
    put_le(body, 24000, 4);      // sample rate
    put_le(body, 24000 * 2, 4);  // byte rate
    put_le(body, 2, 2);          // block align
    put_le(body, 16, 2);         // bits per sample
    body += "LIST";
    put_le(body, static_cast<uint32_t>(list.size()), 4);
    body += list;
    body += "data";
    put_le(body, static_cast<uint32_t>(samples.size()), 4);
    body += samples;
    std::string out = "RIFF";
    put_le(out, static_cast<uint32_t>(body.size()), 4);
    return out + body;
  }
  std::string out;
  if (format == "mp3")
    out = "\xFF\xF3\x44\xC4";
  else if (format == "opus")
    out = "OggS";
  else if (format == "aac")
    out = "\xFF\xF1\x50\x80";
  else if (format == "flac")
    out = "fLaC";
  uint64_t seed = fnv1a(std::string(voice) + "|" + std::string(input));
  size_t n = 1000 * std::max<size_t>(1, split_words(input).size());
  while (out.size() < n) put_le(out, static_cast<uint32_t>(splitmix64(seed)), 4);
  out.resize(n);
  return out;
}

std::string upstream_transcript(std::string_view audio) {
  // RIFF/WAVE: look for LIST/INFO/ICMT.
  if (audio.size() >= 12 && audio.substr(0, 4) == "RIFF" && audio.substr(8, 4) == "WAVE") {
    size_t at = 12;
    while (at + 8 <= audio.size()) {
      std::string_view id = audio.substr(at, 4);
      uint32_t size = get_le32(audio, at + 4);
      if (size > audio.size() - at - 8) break;
      if (id == "LIST" && size >= 4 && audio.substr(at + 8, 4) == "INFO") {
        size_t sub = at + 12, end = at + 8 + size;
        while (sub + 8 <= end) {
          uint32_t sz = get_le32(audio, sub + 4);
          if (sz > end - sub - 8) break;
          if (audio.substr(sub, 4) == "ICMT") {
            std::string_view text = audio.substr(sub + 8, sz);
            return std::string(text.substr(0, text.find('\0')));
          }
          sub += 8 + sz + (sz & 1);
        }
      }
      at += 8 + size + (size & 1);
    }
  }
  return std::to_string(audio.size()) + " bytes of audio, fnv1a " + hex16(fnv1a(audio));
}

namespace detail {

namespace {

using rapidjson::Value;
using namespace json_util;

constexpr int64_t kCreated = 1700000000;

// ---- errors ------------------------------------------------------------------

Plan oai_error(int status, std::string_view message, std::string_view type = "invalid_request_error",
               std::string_view param = {}, std::string_view code = {}) {
  return shared::json_plan(status, json([&](Writer& w) {
                             w.StartObject();
                             w.Key("error");
                             w.StartObject();
                             w.Key("message");
                             put(w, message);
                             w.Key("type");
                             put(w, type);
                             w.Key("param");
                             if (param.empty())
                               w.Null();
                             else
                               put(w, param);
                             w.Key("code");
                             if (code.empty())
                               w.Null();
                             else
                               put(w, code);
                             w.EndObject();
                             w.EndObject();
                           }));
}

Plan missing(std::string_view param) {
  return oai_error(400, "Missing required parameter: '" + std::string(param) + "'.", "invalid_request_error", param,
                   "missing_required_parameter");
}

Plan bad_type(std::string_view param, std::string_view expected, const Value& got) {
  const char* t = got.IsString()   ? "a string"
                  : got.IsBool()   ? "a boolean"
                  : got.IsInt64()  ? "an integer"
                  : got.IsNumber() ? "a decimal"
                  : got.IsArray()  ? "an array"
                  : got.IsObject() ? "an object"
                                   : "null";
  return oai_error(400,
                   "Invalid type for '" + std::string(param) + "': expected " + std::string(expected) + ", but got " +
                       t + " instead.",
                   "invalid_request_error", param, "invalid_type");
}

std::string supported_list(const std::vector<std::string_view>& values) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += values.size() > 2 ? ", " : " ";
    if (i && i + 1 == values.size()) s += "and ";
    s += "'" + std::string(values[i]) + "'";
  }
  return s;
}

Plan bad_value(std::string_view param, std::string_view got, const std::vector<std::string_view>& values) {
  return oai_error(400,
                   "Invalid value: '" + std::string(got.substr(0, 64)) + "'. Supported values are: " +
                       supported_list(values) + ".",
                   "invalid_request_error", param, "invalid_value");
}

std::string num(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

Plan out_of_range(std::string_view param, bool integer, bool below, double bound, double got) {
  std::string kind = integer ? "integer" : "decimal";
  return oai_error(400,
                   "Invalid '" + std::string(param) + "': " + kind + (below ? " below minimum" : " above maximum") +
                       " value. Expected a value " + (below ? ">= " : "<= ") + num(bound) + ", but got " + num(got) +
                       " instead.",
                   "invalid_request_error", param, kind + (below ? "_below_min_value" : "_above_max_value"));
}

Plan not_json() {
  return oai_error(400,
                   "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                   "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
                   "JSON.)");
}

Plan model_not_found(std::string_view model) {
  return oai_error(404, "The model `" + std::string(model) + "` does not exist or you do not have access to it.",
                   "invalid_request_error", {}, "model_not_found");
}

Plan method_not_allowed(const RecordedRequest& req, std::string_view path, std::string_view allowed) {
  return oai_error(405,
                   "Invalid method for URL (" + req.method + " " + std::string(path) + "): use " +
                       std::string(allowed) + ".",
                   "invalid_request_error", {}, "method_not_allowed");
}

// ---- field checks -------------------------------------------------------------

enum class T { Str, Int, Num, Bool, Obj, Arr, Any };

struct Field {
  const char* name;
  T type;
  bool required = false;
  std::vector<std::string_view> values = {};  // Str: the allowed ones (empty: any)
  double lo = NAN, hi = NAN;                  // Int, Num: bounds (NaN: none)
};

// Checks `doc` (an object) against `fields`: unknown parameters (OpenAI's
// wording for the endpoint: `responses_style` "Unknown parameter", else
// "Unrecognized request argument supplied"), then each field.
std::optional<Plan> check_fields(const Value& doc, const std::vector<Field>& fields, bool responses_style) {
  for (const auto& m : doc.GetObject()) {
    std::string_view k = sv(m.name);
    bool known = std::any_of(fields.begin(), fields.end(), [&](const Field& f) { return k == f.name; });
    if (known) continue;
    if (responses_style)
      return oai_error(400, "Unknown parameter: '" + std::string(k) + "'.", "invalid_request_error", k,
                       "unknown_parameter");
    return oai_error(400, "Unrecognized request argument supplied: " + std::string(k));
  }
  for (const Field& f : fields) {
    const Value* v = find(doc, f.name);
    if (!v || v->IsNull()) {
      if (f.required) return missing(f.name);
      continue;
    }
    switch (f.type) {
      case T::Str:
        if (!v->IsString()) return bad_type(f.name, "a string", *v);
        if (!f.values.empty() && std::find(f.values.begin(), f.values.end(), sv(*v)) == f.values.end())
          return bad_value(f.name, sv(*v), f.values);
        break;
      case T::Int:
      case T::Num: {
        if (f.type == T::Int ? !v->IsInt64() : !v->IsNumber())
          return bad_type(f.name, f.type == T::Int ? "an integer" : "a decimal", *v);
        double x = v->GetDouble();
        if (!std::isnan(f.lo) && x < f.lo) return out_of_range(f.name, f.type == T::Int, true, f.lo, x);
        if (!std::isnan(f.hi) && x > f.hi) return out_of_range(f.name, f.type == T::Int, false, f.hi, x);
        break;
      }
      case T::Bool:
        if (!v->IsBool()) return bad_type(f.name, "a boolean", *v);
        break;
      case T::Obj:
        if (!v->IsObject()) return bad_type(f.name, "an object", *v);
        break;
      case T::Arr:
        if (!v->IsArray()) return bad_type(f.name, "an array", *v);
        break;
      case T::Any:
        break;
    }
  }
  return std::nullopt;
}

// ---- query strings ------------------------------------------------------------------

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> query_of(const std::string& target) {
  std::map<std::string, std::string> q;
  size_t qm = target.find('?');
  if (qm == std::string::npos) return q;
  std::string_view s = std::string_view(target).substr(qm + 1);
  while (!s.empty()) {
    size_t amp = s.find('&');
    std::string_view kv = s.substr(0, amp);
    size_t eq = kv.find('=');
    q[url_decode(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return q;
}

// Unknown query parameters, and `limit` as an integer in [lo, hi].
std::optional<Plan> check_query(const std::map<std::string, std::string>& q, std::vector<std::string_view> known,
                                long lo, long hi, long& limit) {
  for (const auto& [k, v] : q)
    if (std::find(known.begin(), known.end(), k) == known.end())
      return oai_error(400, "Unrecognized request argument supplied: " + k);
  if (auto it = q.find("limit"); it != q.end()) {
    char* end = nullptr;
    long n = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end) return oai_error(400, "Invalid 'limit': expected an integer.", "invalid_request_error", "limit", "invalid_type");
    if (n < lo) return out_of_range("limit", true, true, static_cast<double>(lo), static_cast<double>(n));
    if (n > hi) return out_of_range("limit", true, false, static_cast<double>(hi), static_cast<double>(n));
    limit = n;
  }
  if (auto it = q.find("order"); it != q.end() && it->second != "asc" && it->second != "desc")
    return bad_value("order", it->second, {"asc", "desc"});
  return std::nullopt;
}

// ---- base64, PNG --------------------------------------------------------------------

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += i + 1 < in.size() ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void png_chunk(std::string& out, const char* type, const std::string& data) {
  put_be32(out, static_cast<uint32_t>(data.size()));
  std::string td = std::string(type, 4) + data;
  out += td;
  put_be32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size()))));
}

// A valid PNG of one colour (from `seed`), width x height, RGB 8-bit.
std::string png(uint32_t width, uint32_t height, uint64_t seed) {
  std::string raw;
  raw.reserve(static_cast<size_t>(height) * (1 + width * 3));
  const char rgb[3] = {static_cast<char>(seed), static_cast<char>(seed >> 8), static_cast<char>(seed >> 16)};
  for (uint32_t y = 0; y < height; ++y) {
    raw += '\0';
    for (uint32_t x = 0; x < width; ++x) raw.append(rgb, 3);
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 1);
  z.resize(zlen);
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  png_chunk(out, "IHDR", ihdr);
  png_chunk(out, "IDAT", z);
  png_chunk(out, "IEND", "");
  return out;
}

Plan bytes_plan(std::string content_type, std::string body) {
  Plan p;
  p.status = 200;
  p.headers.emplace_back("content-type", std::move(content_type));
  p.body = std::move(body);
  return p;
}

Plan text_plan(std::string body) { return bytes_plan("text/plain; charset=utf-8", std::move(body)); }

long words_of(std::string_view s) { return static_cast<long>(shared::count_words(s)); }

// The text of an input's content: a string, or its text parts joined by a space.
std::string content_text(const Value& content) {
  if (content.IsString()) return std::string(sv(content));
  std::string out;
  if (content.IsArray())
    for (const Value& part : content.GetArray()) {
      std::string_view t = string_member(part, "text");
      if (t.empty()) continue;
      if (!out.empty()) out += ' ';
      out += t;
    }
  return out;
}

}  // namespace

// ---- state -----------------------------------------------------------------------------

struct StoredFile {
  std::string id, filename, purpose, bytes;
  int64_t created_at;
};

struct Batch {
  std::string id, endpoint, input_file_id, completion_window, status = "validating";
  std::string output_file_id, error_file_id, metadata = "null", errors = "null";
  int64_t created_at = 0;
  long total = 0, completed = 0, failed = 0;
  bool cancelled = false;
};

struct StoredResponse {
  std::string id;
  std::string body;  // the response object as JSON (complete)
  std::string queued_body;  // background: as it is while queued
  bool background = false;
  std::string status;  // background: queued, then completed (or cancelled)
};

struct OpenAIEndpoints::State {
  std::function<Plan(const RecordedRequest&)> chat;
  std::mutex mu;
  uint64_t seq = 0;
  std::vector<StoredFile> files;  // in creation order
  std::vector<Batch> batches;
  std::map<std::string, StoredResponse> responses;
  std::map<std::string, std::string> images;  // name -> PNG

  std::string next(const char* prefix) { return prefix + std::to_string(++seq); }
  StoredFile* file(std::string_view id) {
    for (auto& f : files)
      if (f.id == id) return &f;
    return nullptr;
  }
  Batch* batch(std::string_view id) {
    for (auto& b : batches)
      if (b.id == id) return &b;
    return nullptr;
  }

  Plan embeddings(const RecordedRequest& req);
  Plan embeddings_json(const Value& doc);
  Plan images_generate(const RecordedRequest& req);
  Plan speech(const RecordedRequest& req);
  Plan audio(const RecordedRequest& req, bool translate);
  Plan moderations(const RecordedRequest& req);
  Plan moderations_json(const Value& doc);
  Plan file_create(const RecordedRequest& req);
  Plan file_list(const RecordedRequest& req);
  Plan batch_create(const RecordedRequest& req);
  Plan batch_list(const RecordedRequest& req);
  void batch_run(Batch& b);
  Plan response_create(const RecordedRequest& req);
  Plan response_create_json(const Value& doc, bool batch);
};

namespace {

std::string file_json(const StoredFile& f) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("id");
    put(w, f.id);
    w.Key("object");
    w.String("file");
    w.Key("bytes");
    w.Uint64(f.bytes.size());
    w.Key("created_at");
    w.Int64(f.created_at);
    w.Key("expires_at");
    w.Null();
    w.Key("filename");
    put(w, f.filename);
    w.Key("purpose");
    put(w, f.purpose);
    w.Key("status");
    w.String("processed");
    w.Key("status_details");
    w.Null();
    w.EndObject();
  });
}

std::string batch_json(const Batch& b) {
  return json([&](Writer& w) {
    auto at = [&](const char* k, bool set) {
      w.Key(k);
      if (set)
        w.Int64(b.created_at);
      else
        w.Null();
    };
    auto id_or_null = [&](const char* k, const std::string& v) {
      w.Key(k);
      if (v.empty())
        w.Null();
      else
        put(w, v);
    };
    w.StartObject();
    w.Key("id");
    put(w, b.id);
    w.Key("object");
    w.String("batch");
    w.Key("endpoint");
    put(w, b.endpoint);
    w.Key("errors");
    w.RawValue(b.errors.data(), b.errors.size(), rapidjson::kObjectType);
    w.Key("input_file_id");
    put(w, b.input_file_id);
    w.Key("completion_window");
    put(w, b.completion_window);
    w.Key("status");
    put(w, b.status);
    id_or_null("output_file_id", b.output_file_id);
    id_or_null("error_file_id", b.error_file_id);
    w.Key("created_at");
    w.Int64(b.created_at);
    at("in_progress_at", b.status != "validating" && b.status != "failed");
    w.Key("expires_at");
    w.Int64(b.created_at + 86400);
    at("finalizing_at", b.status == "completed");
    at("completed_at", b.status == "completed");
    at("failed_at", b.status == "failed");
    at("expired_at", false);
    at("cancelling_at", b.status == "cancelling" || b.status == "cancelled");
    at("cancelled_at", b.status == "cancelled");
    w.Key("request_counts");
    w.StartObject();
    w.Key("total");
    w.Int64(b.total);
    w.Key("completed");
    w.Int64(b.completed);
    w.Key("failed");
    w.Int64(b.failed);
    w.EndObject();
    w.Key("metadata");
    w.RawValue(b.metadata.data(), b.metadata.size(), rapidjson::kObjectType);
    w.EndObject();
  });
}

std::optional<rapidjson::Document> parse_object(const RecordedRequest& req, Plan& error) {
  rapidjson::Document doc;
  doc.Parse(req.body.data(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    error = not_json();
    return std::nullopt;
  }
  return doc;
}

// The request's multipart form, or the error OpenAI answers for a body that is none.
bool parse_form(const RecordedRequest& req, std::vector<multipart::Part>& parts, Plan& error) {
  std::string ct = req.header("content-type");
  auto boundary = multipart::boundary_of(ct);
  if (!boundary) {
    error = oai_error(400, "Invalid Content-Type header (" + (ct.empty() ? std::string("none") : ct) +
                               "), expected multipart/form-data. (HINT: If you're using curl, you can pass -H "
                               "'Content-Type: multipart/form-data')");
    return false;
  }
  std::string why;
  if (!multipart::parse(req.body, *boundary, parts, why)) {
    error = oai_error(400, "Could not parse multipart form: " + why);
    return false;
  }
  return true;
}

const multipart::Part* form_field(const std::vector<multipart::Part>& parts, std::string_view name) {
  for (const auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

// A plain form field's value; nullopt when absent.
std::optional<std::string> form_value(const std::vector<multipart::Part>& parts, std::string_view name) {
  const multipart::Part* p = form_field(parts, name);
  if (!p || p->filename) return std::nullopt;
  return std::string(p->data);
}

std::string lower_ext(std::string_view filename) {
  size_t dot = filename.rfind('.');
  std::string ext(dot == std::string_view::npos ? std::string_view{} : filename.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

constexpr uint64_t kMaxAudioBytes = 25ull << 20;

std::string clock_time(double secs, char sep) {
  long ms = std::lround(secs * 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, sep,
                ms % 1000);
  return buf;
}

// One page of an OpenAI list ({"object": "list", "data", "first_id",
// "last_id", "has_more"}): the items of `list` after q["after"], at most `limit`.
template <class T, class ToJson>
Plan page(std::vector<const T*> list, std::map<std::string, std::string>& q, long limit, ToJson&& to_json) {
  if (q.count("after")) {
    auto it = std::find_if(list.begin(), list.end(), [&](const T* x) { return x->id == q["after"]; });
    list.erase(list.begin(), it == list.end() ? list.end() : it + 1);
  }
  const bool more = list.size() > static_cast<size_t>(limit);
  if (more) list.resize(static_cast<size_t>(limit));
  return shared::json_plan(200, json([&](Writer& w) {
    w.StartObject();
    w.Key("object");
    w.String("list");
    w.Key("data");
    w.StartArray();
    for (const T* x : list) {
      std::string j = to_json(*x);
      w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
    }
    w.EndArray();
    w.Key("first_id");
    if (list.empty()) w.Null(); else put(w, list.front()->id);
    w.Key("last_id");
    if (list.empty()) w.Null(); else put(w, list.back()->id);
    w.Key("has_more");
    w.Bool(more);
    w.EndObject();
  }));
}

}  // namespace

// ---- embeddings ------------------------------------------------------------------------

Plan OpenAIEndpoints::State::embeddings(const RecordedRequest& req) {
  Plan err;
  auto doc = parse_object(req, err);
  if (!doc) return err;
  return embeddings_json(*doc);
}

Plan OpenAIEndpoints::State::embeddings_json(const Value& doc) {
  if (auto e = check_fields(doc,
                            {{"model", T::Str, true},
                             {"input", T::Any, true},
                             {"encoding_format", T::Str, false, {"float", "base64"}},
                             {"dimensions", T::Int, false, {}, 1},
                             {"user", T::Str}},
                            false))
    return *e;
  std::string model(string_member(doc, "model"));
  size_t length = upstream_embedding_length(model);
  if (!length) return model_not_found(model);
  size_t dims = length;
  if (const Value* d = find(doc, "dimensions"); d && !d->IsNull()) {
    if (model == "text-embedding-ada-002")
      return oai_error(400, "This model does not support specifying dimensions.", "invalid_request_error",
                       "dimensions");
    if (d->GetInt64() > static_cast<int64_t>(length))
      return out_of_range("dimensions", true, false, static_cast<double>(length), d->GetDouble());
    dims = static_cast<size_t>(d->GetInt64());
  }
  const Value& input = doc["input"];
  std::vector<std::string> texts;
  auto invalid_input = [] {
    return oai_error(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
  };
  auto tokens_text = [](const Value& arr) {
    std::string s = "tokens:";
    for (const Value& t : arr.GetArray()) s += std::to_string(t.GetInt64()) + ",";
    return s;
  };
  if (input.IsString()) {
    if (input.GetStringLength() == 0) return invalid_input();
    texts.emplace_back(sv(input));
  } else if (input.IsArray() && !input.Empty() && input.Size() <= 2048) {
    if (input[0].IsInt64()) {
      for (const Value& t : input.GetArray())
        if (!t.IsInt64() || t.GetInt64() < 0) return invalid_input();
      texts.push_back(tokens_text(input));
    } else {
      for (const Value& x : input.GetArray()) {
        if (x.IsString() && x.GetStringLength() > 0) {
          texts.emplace_back(sv(x));
        } else if (x.IsArray() && !x.Empty()) {
          for (const Value& t : x.GetArray())
            if (!t.IsInt64() || t.GetInt64() < 0) return invalid_input();
          texts.push_back(tokens_text(x));
        } else {
          return invalid_input();
        }
      }
    }
  } else {
    return invalid_input();
  }
  const bool b64 = string_member(doc, "encoding_format") == "base64";
  long tokens = 0;
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("object");
    w.String("list");
    w.Key("data");
    w.StartArray();
    for (size_t i = 0; i < texts.size(); ++i) {
      std::vector<float> v = upstream_embedding(texts[i], dims);
      tokens += std::max(1L, words_of(texts[i]));
      w.StartObject();
      w.Key("object");
      w.String("embedding");
      w.Key("index");
      w.Uint64(i);
      w.Key("embedding");
      if (b64) {
        std::string raw(v.size() * 4, '\0');
        std::memcpy(raw.data(), v.data(), raw.size());  // float32, little-endian (as this host is)
        put(w, base64(raw));
      } else {
        w.StartArray();
        for (float f : v) w.Double(static_cast<double>(f));
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("model");
    put(w, model);
    w.Key("usage");
    w.StartObject();
    w.Key("prompt_tokens");
    w.Int64(tokens);
    w.Key("total_tokens");
    w.Int64(tokens);
    w.EndObject();
    w.EndObject();
  });
  return shared::json_plan(200, std::move(body));
}

// ---- images ------------------------------------------------------------------------------

Plan OpenAIEndpoints::State::images_generate(const RecordedRequest& req) {
  Plan err;
  auto doc = parse_object(req, err);
  if (!doc) return err;
  std::string model(string_member(*doc, "model"));
  if (const Value* m = find(*doc, "model"); m && !m->IsString() && !m->IsNull()) return bad_type("model", "a string", *m);
  if (model.empty()) model = "dall-e-2";
  if (model != "dall-e-2" && model != "dall-e-3" && model != "gpt-image-1") return model_not_found(model);
  const bool d3 = model == "dall-e-3", gi = model == "gpt-image-1";
  std::vector<std::string_view> sizes = d3   ? std::vector<std::string_view>{"1024x1024", "1792x1024", "1024x1792"}
                                        : gi ? std::vector<std::string_view>{"1024x1024", "1536x1024", "1024x1536", "auto"}
                                             : std::vector<std::string_view>{"256x256", "512x512", "1024x1024"};
  std::vector<Field> fields = {{"model", T::Str},
                               {"prompt", T::Str, true},
                               {"n", T::Int, false, {}, 1, 10},
                               {"size", T::Str, false, sizes},
                               {"user", T::Str}};
  if (d3) {
    fields.push_back({"quality", T::Str, false, {"standard", "hd"}});
    fields.push_back({"style", T::Str, false, {"vivid", "natural"}});
  } else if (gi) {
    fields.push_back({"quality", T::Str, false, {"low", "medium", "high", "auto"}});
    fields.push_back({"background", T::Str, false, {"transparent", "opaque", "auto"}});
    fields.push_back({"output_format", T::Str, false, {"png", "jpeg", "webp"}});
    fields.push_back({"moderation", T::Str, false, {"low", "auto"}});
  } else {
    fields.push_back({"quality", T::Str, false, {"standard"}});
  }
  if (!gi) fields.push_back({"response_format", T::Str, false, {"url", "b64_json"}});
  if (auto e = check_fields(*doc, fields, false)) return *e;
  std::string_view prompt = string_member(*doc, "prompt");
  const size_t max_prompt = d3 ? 4000 : gi ? 32000 : 1000;
  if (prompt.empty()) return missing("prompt");
  if (prompt.size() > max_prompt)
    return oai_error(400,
                     "Invalid 'prompt': string too long. Expected a string with maximum length " +
                         std::to_string(max_prompt) + ", but got a string with length " + std::to_string(prompt.size()) +
                         " instead.",
                     "invalid_request_error", "prompt", "string_above_max_length");
  int64_t n = 1;
  if (const Value* v = find(*doc, "n"); v && v->IsInt64()) n = v->GetInt64();
  if (d3 && n != 1) return oai_error(400, "You must provide n=1 for this model.", "invalid_request_error", "n");
  std::string size(string_member(*doc, "size"));
  if (size.empty() || size == "auto") size = "1024x1024";
  uint32_t width = static_cast<uint32_t>(std::stoul(size)), height = static_cast<uint32_t>(std::stoul(size.substr(size.find('x') + 1)));
  const bool b64 = gi || string_member(*doc, "response_format") == "b64_json";
  std::string host = req.header("host");
  if (host.empty()) host = "127.0.0.1";
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("created");
    w.Int64(kCreated);
    w.Key("data");
    w.StartArray();
    for (int64_t i = 0; i < n; ++i) {
      std::string image = png(width, height, fnv1a(std::string(prompt) + "#" + std::to_string(i)));
      w.StartObject();
      if (b64) {
        w.Key("b64_json");
        put(w, base64(image));
      } else {
        std::string name = next("img-") + ".png";
        images[name] = std::move(image);
        w.Key("url");
        put(w, "http://" + host + "/__images/" + name);
      }
      if (d3) {
        w.Key("revised_prompt");
        put(w, prompt);
      }
      w.EndObject();
    }
    w.EndArray();
    if (gi) {
      w.Key("usage");
      w.StartObject();
      w.Key("input_tokens");
      w.Int64(words_of(prompt));
      w.Key("output_tokens");
      w.Int64(272 * n);
      w.Key("total_tokens");
      w.Int64(words_of(prompt) + 272 * n);
      w.EndObject();
    }
    w.EndObject();
  });
  return shared::json_plan(200, std::move(body));
}

// ---- audio -------------------------------------------------------------------------------

Plan OpenAIEndpoints::State::speech(const RecordedRequest& req) {
  Plan err;
  auto doc = parse_object(req, err);
  if (!doc) return err;
  if (auto e = check_fields(*doc,
                            {{"model", T::Str, true},
                             {"input", T::Str, true},
                             {"voice", T::Any, true},
                             {"instructions", T::Str},
                             {"response_format", T::Str, false, {"mp3", "opus", "aac", "flac", "wav", "pcm"}},
                             {"speed", T::Num, false, {}, 0.25, 4.0},
                             {"stream_format", T::Str, false, {"sse", "audio"}}},
                            false))
    return *e;
  std::string model(string_member(*doc, "model"));
  if (model != "tts-1" && model != "tts-1-hd" && model != "gpt-4o-mini-tts") return model_not_found(model);
  std::string_view input = string_member(*doc, "input");
  if (input.empty()) return oai_error(400, "Invalid 'input': string too short. Expected a string with minimum length 1, but got an empty string instead.", "invalid_request_error", "input", "string_below_min_length");
  if (input.size() > 4096)
    return oai_error(400,
                     "Invalid 'input': string too long. Expected a string with maximum length 4096, but got a string "
                     "with length " + std::to_string(input.size()) + " instead.",
                     "invalid_request_error", "input", "string_above_max_length");
  const Value& voice = (*doc)["voice"];
  std::string voice_name;
  static const std::vector<std::string_view> kVoices = {"alloy", "ash",   "ballad", "coral",   "echo",  "fable",
                                                        "onyx",  "nova",  "sage",   "shimmer", "verse", "marin",
                                                        "cedar"};
  if (voice.IsString()) {
    voice_name = std::string(sv(voice));
    if (std::find(kVoices.begin(), kVoices.end(), voice_name) == kVoices.end())
      return bad_value("voice", voice_name, kVoices);
  } else if (voice.IsObject() && find(voice, "id") && find(voice, "id")->IsString()) {
    voice_name = std::string(string_member(voice, "id"));
  } else {
    return bad_type("voice", "a string", voice);
  }
  if (find(*doc, "instructions") && model != "gpt-4o-mini-tts")
    return oai_error(400, "Instructions are not supported for tts-1 or tts-1-hd.", "invalid_request_error",
                     "instructions");
  std::string format(string_member(*doc, "response_format"));
  if (format.empty()) format = "mp3";
  double speed = 1;
  if (const Value* s = find(*doc, "speed"); s && s->IsNumber()) speed = s->GetDouble();
  return bytes_plan(upstream_speech_content_type(format), upstream_speech(input, voice_name, format, speed));
}

Plan OpenAIEndpoints::State::audio(const RecordedRequest& req, bool translate) {
  std::vector<multipart::Part> parts;
  Plan err;
  if (!parse_form(req, parts, err)) return err;
  // Known fields (a list's values come as name[] parts).
  static const std::vector<std::string_view> kTranscribe = {
      "file", "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities[]",
      "include[]", "stream", "chunking_strategy"};
  static const std::vector<std::string_view> kTranslate = {"file", "model", "prompt", "response_format",
                                                           "temperature"};
  const auto& known = translate ? kTranslate : kTranscribe;
  for (const auto& p : parts)
    if (std::find(known.begin(), known.end(), p.name) == known.end())
      return oai_error(400, "Unrecognized request argument supplied: " + p.name);
  const multipart::Part* file = form_field(parts, "file");
  if (!file || !file->filename) return missing("file");
  auto model = form_value(parts, "model");
  if (!model) return missing("model");
  static const std::vector<std::string_view> kTranscribeModels = {"whisper-1", "gpt-4o-transcribe",
                                                                  "gpt-4o-mini-transcribe"};
  if (translate ? *model != "whisper-1"
                : std::find(kTranscribeModels.begin(), kTranscribeModels.end(), *model) == kTranscribeModels.end())
    return model_not_found(*model);
  static const std::vector<std::string_view> kFormats = {"flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"};
  const std::string ext = lower_ext(*file->filename);
  std::string type = file->content_type;
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool audio_type = type.empty() || type.rfind("audio/", 0) == 0 || type == "video/mp4" ||
                          type == "video/webm" || type == "video/mpeg" || type == "application/octet-stream";
  if (std::find(kFormats.begin(), kFormats.end(), ext) == kFormats.end() || !audio_type)
    return oai_error(400,
                     "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', "
                     "'ogg', 'wav', 'webm']",
                     "invalid_request_error", "file", "invalid_value");
  if (file->data.size() > kMaxAudioBytes)
    return oai_error(413,
                     "Maximum content size limit (" + std::to_string(kMaxAudioBytes) + ") exceeded (" +
                         std::to_string(file->data.size()) + " bytes read)",
                     "server_error");
  if (file->data.empty() ||
      (ext == "wav" && (file->data.size() < 44 || file->data.substr(0, 4) != "RIFF" || file->data.substr(8, 4) != "WAVE")))
    return oai_error(400, "Audio file might be corrupted or unsupported", "invalid_request_error", "file",
                     "invalid_value");
  std::string format = form_value(parts, "response_format").value_or("json");
  std::vector<std::string_view> formats = {"json", "text", "srt", "verbose_json", "vtt"};
  if (!translate && *model != "whisper-1") formats = {"json", "text"};
  if (std::find(formats.begin(), formats.end(), format) == formats.end()) {
    if (!translate && *model != "whisper-1" && (format == "srt" || format == "vtt" || format == "verbose_json"))
      return oai_error(400,
                       "response_format '" + format + "' is not compatible with model '" + *model +
                           "'. Use 'json' or 'text' instead.",
                       "invalid_request_error", "response_format", "unsupported_value");
    return bad_value("response_format", format, formats);
  }
  if (auto t = form_value(parts, "temperature")) {
    char* end = nullptr;
    double x = std::strtod(t->c_str(), &end);
    if (t->empty() || *end) return oai_error(400, "Invalid type for 'temperature': expected a decimal, but got a string instead.", "invalid_request_error", "temperature", "invalid_type");
    if (x < 0) return out_of_range("temperature", false, true, 0, x);
    if (x > 1) return out_of_range("temperature", false, false, 1, x);
  }
  bool want_words = false, want_segments = false, granularities = false;
  for (const auto& p : parts) {
    if (p.name != "timestamp_granularities[]") continue;
    granularities = true;
    if (p.data == "word")
      want_words = true;
    else if (p.data == "segment")
      want_segments = true;
    else
      return bad_value("timestamp_granularities", p.data, {"word", "segment"});
  }
  if (granularities && format != "verbose_json")
    return oai_error(400, "timestamp_granularities is only supported with response_format=verbose_json.",
                     "invalid_request_error", "timestamp_granularities", "invalid_value");
  if (!granularities) want_segments = true;

  const std::string text = upstream_transcript(file->data);
  auto ws = split_words(text);
  double duration = static_cast<double>(ws.size()) * 0.5;
  if (ext == "wav") {
    // The data chunk's length at 24 kHz... or whatever the header says.
    std::string_view a = file->data;
    size_t at = 12;
    uint32_t rate = 0;
    while (at + 8 <= a.size()) {
      uint32_t sz = get_le32(a, at + 4);
      if (a.substr(at, 4) == "fmt " && sz >= 12 && at + 16 <= a.size()) rate = get_le32(a, at + 16);
      if (a.substr(at, 4) == "data" && rate) {
        duration = static_cast<double>(std::min<size_t>(sz, a.size() - at - 8)) / rate;
        break;
      }
      if (sz > a.size()) break;
      at += 8 + sz + (sz & 1);
    }
  }
  const double per_word = ws.empty() ? 0 : duration / static_cast<double>(ws.size());
  struct Segment {
    size_t first, last;  // words [first, last)
    std::string text;
  };
  std::vector<Segment> segments;
  for (size_t i = 0; i < ws.size(); i += 10) {
    size_t last = std::min(ws.size(), i + 10);
    std::string t;
    for (size_t k = i; k < last; ++k) t += " " + std::string(ws[k]);
    segments.push_back({i, last, t});
  }
  if (format == "text") return text_plan(text + "\n");
  if (format == "srt" || format == "vtt") {
    std::string out = format == "vtt" ? "WEBVTT\n\n" : "";
    for (size_t i = 0; i < segments.size(); ++i) {
      const char sep = format == "vtt" ? '.' : ',';
      if (format == "srt") out += std::to_string(i + 1) + "\n";
      out += clock_time(per_word * segments[i].first, sep) + " --> " + clock_time(per_word * segments[i].last, sep) +
             "\n" + segments[i].text.substr(1) + "\n\n";
    }
    return text_plan(out);
  }
  std::string body = json([&](Writer& w) {
    w.StartObject();
    if (format == "verbose_json") {
      w.Key("task");
      w.String(translate ? "translate" : "transcribe");
      w.Key("language");
      w.String("english");
      w.Key("duration");
      w.Double(duration);
    }
    w.Key("text");
    put(w, text);
    if (format == "verbose_json") {
      if (want_words) {
        w.Key("words");
        w.StartArray();
        for (size_t i = 0; i < ws.size(); ++i) {
          w.StartObject();
          w.Key("word");
          put(w, ws[i]);
          w.Key("start");
          w.Double(per_word * static_cast<double>(i));
          w.Key("end");
          w.Double(per_word * static_cast<double>(i + 1));
          w.EndObject();
        }
        w.EndArray();
      }
      if (want_segments) {
        w.Key("segments");
        w.StartArray();
        for (size_t i = 0; i < segments.size(); ++i) {
          const Segment& s = segments[i];
          w.StartObject();
          w.Key("id");
          w.Uint64(i);
          w.Key("seek");
          w.Int64(0);
          w.Key("start");
          w.Double(per_word * static_cast<double>(s.first));
          w.Key("end");
          w.Double(per_word * static_cast<double>(s.last));
          w.Key("text");
          put(w, s.text);
          w.Key("tokens");
          w.StartArray();
          for (size_t k = s.first; k < s.last; ++k) w.Uint64(50000 + fnv1a(ws[k]) % 1000);
          w.EndArray();
          w.Key("temperature");
          w.Double(0.0);
          w.Key("avg_logprob");
          w.Double(-0.25);
          w.Key("compression_ratio");
          w.Double(1.0);
          w.Key("no_speech_prob");
          w.Double(0.01);
          w.EndObject();
        }
        w.EndArray();
      }
    }
    if (!translate) {
      w.Key("usage");
      w.StartObject();
      w.Key("type");
      w.String("duration");
      w.Key("seconds");
      w.Int64(static_cast<int64_t>(std::ceil(duration)));
      w.EndObject();
    }
    w.EndObject();
  });
  return shared::json_plan(200, std::move(body));
}

// ---- moderations ---------------------------------------------------------------------------

namespace {

constexpr const char* kCategories[] = {"harassment", "harassment/threatening", "hate", "hate/threatening",
                                       "illicit", "illicit/violent", "self-harm", "self-harm/intent",
                                       "self-harm/instructions", "sexual", "sexual/minors", "violence",
                                       "violence/graphic"};

// The categories a text is flagged for: by trigger words.
std::vector<std::string> flagged_categories(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> out;
  auto has = [&](const char* w) { return text.find(w) != std::string::npos; };
  if (has("kill") || has("attack")) out.push_back("violence");
  if (has("hate")) out.push_back("hate");
  if (has("harass") || has("idiot")) out.push_back("harassment");
  if (has("hurt myself")) out.push_back("self-harm");
  if (has("steal")) out.push_back("illicit");
  return out;
}

}  // namespace

Plan OpenAIEndpoints::State::moderations(const RecordedRequest& req) {
  Plan err;
  auto doc = parse_object(req, err);
  if (!doc) return err;
  return moderations_json(*doc);
}

Plan OpenAIEndpoints::State::moderations_json(const Value& doc) {
  if (auto e = check_fields(doc, {{"input", T::Any, true}, {"model", T::Str}}, false)) return *e;
  std::string model(string_member(doc, "model"));
  if (model.empty()) model = "omni-moderation-latest";
  const bool omni = model.rfind("omni-moderation-", 0) == 0;
  if (!omni && model != "text-moderation-latest" && model != "text-moderation-stable") return model_not_found(model);
  const Value& input = doc["input"];
  struct Item {
    std::string text;
    bool image = false;
  };
  std::vector<std::vector<Item>> results;  // one result per string (or one for a multimodal array)
  if (input.IsString()) {
    results.push_back({{std::string(sv(input))}});
  } else if (input.IsArray() && !input.Empty() && input[0].IsString()) {
    for (const Value& x : input.GetArray()) {
      if (!x.IsString()) return bad_type("input", "a string or an array of strings", x);
      results.push_back({{std::string(sv(x))}});
    }
  } else if (input.IsArray() && !input.Empty() && input[0].IsObject()) {
    if (!omni)
      return oai_error(400, "Model '" + model + "' does not support multimodal inputs.", "invalid_request_error",
                       "input");
    std::vector<Item> items;
    for (rapidjson::SizeType i = 0; i < input.Size(); ++i) {
      const Value& x = input[i];
      std::string_view type = string_member(x, "type");
      std::string at = "input[" + std::to_string(i) + "]";
      if (type == "text") {
        if (!find(x, "text") || !find(x, "text")->IsString()) return missing(at + ".text");
        items.push_back({std::string(string_member(x, "text"))});
      } else if (type == "image_url") {
        const Value* iu = find(x, "image_url");
        if (!iu || string_member(*iu, "url").empty()) return missing(at + ".image_url.url");
        items.push_back({"", true});
      } else {
        return bad_value(at + ".type", type, {"text", "image_url"});
      }
    }
    results.push_back(std::move(items));
  } else {
    return bad_type("input", "a string, an array of strings or an array of multimodal inputs", input);
  }
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("id");
    put(w, next("modr-upstream-"));
    w.Key("model");
    put(w, model);
    w.Key("results");
    w.StartArray();
    for (const auto& items : results) {
      std::string text;
      bool image = false;
      for (const Item& it : items) {
        text += it.text + " ";
        image = image || it.image;
      }
      auto flagged = flagged_categories(text);
      auto is = [&](const char* c) { return std::find(flagged.begin(), flagged.end(), c) != flagged.end(); };
      w.StartObject();
      w.Key("flagged");
      w.Bool(!flagged.empty());
      w.Key("categories");
      w.StartObject();
      for (const char* c : kCategories) {
        w.Key(c);
        w.Bool(is(c));
      }
      w.EndObject();
      w.Key("category_scores");
      w.StartObject();
      for (const char* c : kCategories) {
        w.Key(c);
        w.Double(is(c) ? 0.9 : static_cast<double>(fnv1a(text + c) % 100) / 100000.0);
      }
      w.EndObject();
      if (omni) {
        w.Key("category_applied_input_types");
        w.StartObject();
        for (const char* c : kCategories) {
          w.Key(c);
          w.StartArray();
          w.String("text");
          bool image_category = std::strncmp(c, "violence", 8) == 0 || std::strncmp(c, "self-harm", 9) == 0 ||
                                std::strcmp(c, "sexual") == 0;
          if (image && image_category) w.String("image");
          w.EndArray();
        }
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
  return shared::json_plan(200, std::move(body));
}

// ---- files ---------------------------------------------------------------------------------

Plan OpenAIEndpoints::State::file_create(const RecordedRequest& req) {
  std::vector<multipart::Part> parts;
  Plan err;
  if (!parse_form(req, parts, err)) return err;
  for (const auto& p : parts)
    if (p.name != "file" && p.name != "purpose" && p.name != "expires_after[anchor]" &&
        p.name != "expires_after[seconds]")
      return oai_error(400, "Unrecognized request argument supplied: " + p.name);
  const multipart::Part* file = form_field(parts, "file");
  if (!file || !file->filename) return missing("file");
  auto purpose = form_value(parts, "purpose");
  if (!purpose) return missing("purpose");
  static const std::vector<std::string_view> kPurposes = {"assistants", "batch",     "fine-tune",
                                                          "vision",     "user_data", "evals"};
  if (std::find(kPurposes.begin(), kPurposes.end(), *purpose) == kPurposes.end())
    return bad_value("purpose", *purpose, kPurposes);
  if (file->data.size() > (512ull << 20))
    return oai_error(413, "File is too large. The maximum file size is 512 MB.", "invalid_request_error", "file");
  if (file->data.empty()) return oai_error(400, "File is empty.", "invalid_request_error", "file");
  const std::string ext = lower_ext(*file->filename);
  if (*purpose == "batch" && ext != "jsonl")
    return oai_error(400, "Invalid file format for Batch API. Must be .jsonl", "invalid_request_error", "file");
  if (*purpose == "fine-tune" && ext != "jsonl")
    return oai_error(400, "Invalid file format for Fine-Tuning API. Must be .jsonl", "invalid_request_error", "file");
  StoredFile f{next("file-upstream"), *file->filename, *purpose, std::string(file->data), kCreated + static_cast<int64_t>(seq)};
  files.push_back(f);
  return shared::json_plan(200, file_json(f));
}

Plan OpenAIEndpoints::State::file_list(const RecordedRequest& req) {
  auto q = query_of(req.target);
  long limit = 10000;
  if (auto e = check_query(q, {"purpose", "limit", "order", "after"}, 1, 10000, limit)) return *e;
  std::vector<const StoredFile*> list;
  for (const auto& f : files)
    if (!q.count("purpose") || f.purpose == q["purpose"]) list.push_back(&f);
  if (q["order"] != "asc") std::reverse(list.begin(), list.end());  // default: newest first
  return page(list, q, limit, file_json);
}

// ---- batches -------------------------------------------------------------------------------

Plan OpenAIEndpoints::State::batch_create(const RecordedRequest& req) {
  Plan err;
  auto doc = parse_object(req, err);
  if (!doc) return err;
  static const std::vector<std::string_view> kEndpoints = {"/v1/responses", "/v1/chat/completions", "/v1/embeddings",
                                                           "/v1/completions", "/v1/moderations"};
  if (auto e = check_fields(*doc,
                            {{"input_file_id", T::Str, true},
                             {"endpoint", T::Str, true, kEndpoints},
                             {"completion_window", T::Str, true, {"24h"}},
                             {"metadata", T::Obj},
                             {"output_expires_after", T::Obj}},
                            false))
    return *e;
  if (const Value* md = find(*doc, "metadata"); md && md->IsObject()) {
    if (md->MemberCount() > 16)
      return oai_error(400, "Invalid 'metadata': too many properties. Expected an object with at most 16 properties.",
                       "invalid_request_error", "metadata", "object_above_max_properties");
    for (const auto& m : md->GetObject())
      if (!m.value.IsString())
        return bad_type("metadata." + std::string(sv(m.name)), "a string", m.value);
  }
  std::string input(string_member(*doc, "input_file_id"));
  StoredFile* f = file(input);
  if (!f) return oai_error(404, "No such File object: " + input, "invalid_request_error", "input_file_id");
  if (f->purpose != "batch")
    return oai_error(400, "The input file must have purpose 'batch' (" + input + " has '" + f->purpose + "').",
                     "invalid_request_error", "input_file_id", "invalid_value");
  Batch b;
  b.id = next("batch_upstream");
  b.endpoint = std::string(string_member(*doc, "endpoint"));
  b.input_file_id = input;
  b.completion_window = "24h";
  b.created_at = kCreated + static_cast<int64_t>(seq);
  if (const Value* md = find(*doc, "metadata"); md && md->IsObject()) b.metadata = compact(*md);
  batches.push_back(b);
  return shared::json_plan(200, batch_json(b));
}

// Runs a batch's lines (its first retrieve after creation): the output and
// error files, or the validation errors that fail it.
void OpenAIEndpoints::State::batch_run(Batch& b) {
  const StoredFile* in = file(b.input_file_id);
  std::string bytes = in ? in->bytes : std::string();
  std::vector<std::string> errors;  // JSON objects
  auto line_error = [&](const char* code, const std::string& message, long line, const char* param) {
    errors.push_back(json([&](Writer& w) {
      w.StartObject();
      w.Key("code");
      w.String(code);
      w.Key("message");
      put(w, message);
      w.Key("param");
      if (param) w.String(param); else w.Null();
      w.Key("line");
      w.Int64(line);
      w.EndObject();
    }));
  };
  struct Line {
    std::string custom_id, body;
  };
  std::vector<Line> lines;
  std::vector<std::string> seen;
  size_t at = 0;
  long n = 0;
  while (at < bytes.size()) {
    size_t nl = bytes.find('\n', at);
    std::string text = bytes.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? bytes.size() : nl + 1;
    ++n;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject()) {
      line_error("invalid_json_line", "This line is not parseable as valid JSON.", n, nullptr);
      continue;
    }
    std::string custom_id(string_member(d, "custom_id"));
    const Value* body = find(d, "body");
    if (custom_id.empty()) {
      line_error("missing_required_parameter", "Missing required parameter: 'custom_id'.", n, "custom_id");
    } else if (string_member(d, "method") != "POST") {
      line_error("invalid_method", "The method must be POST.", n, "method");
    } else if (string_member(d, "url") != b.endpoint) {
      line_error("mismatched_endpoint",
                 "The URL provided for this request does not match the batch endpoint (" + b.endpoint + ").", n,
                 "url");
    } else if (!body || !body->IsObject()) {
      line_error("missing_required_parameter", "Missing required parameter: 'body'.", n, "body");
    } else if (std::find(seen.begin(), seen.end(), custom_id) != seen.end()) {
      line_error("duplicate_custom_id", "The custom_id for this request is a duplicate of another request.", n,
                 "custom_id");
    } else {
      seen.push_back(custom_id);
      lines.push_back({custom_id, compact(*body)});
    }
  }
  if (lines.empty() && errors.empty()) line_error("empty_file", "The input file is empty.", 0, nullptr);
  if (!errors.empty()) {
    b.status = "failed";
    b.errors = "{\"object\":\"list\",\"data\":[";
    for (size_t i = 0; i < errors.size(); ++i) b.errors += (i ? "," : "") + errors[i];
    b.errors += "]}";
    return;
  }
  std::string output, failures;
  b.total = static_cast<long>(lines.size());
  for (const Line& l : lines) {
    Plan p;
    rapidjson::Document body;
    body.Parse(l.body.data(), l.body.size());
    if (b.endpoint == "/v1/chat/completions") {
      if (find(body, "stream") && find(body, "stream")->IsBool() && body["stream"].GetBool()) {
        p = oai_error(400, "Streaming is not supported in the Batch API.", "invalid_request_error", "stream");
      } else {
        RecordedRequest r;
        r.method = "POST";
        r.target = "/v1/chat/completions";
        r.headers.emplace_back("content-type", "application/json");
        r.body = l.body;
        p = chat(r);
      }
    } else if (b.endpoint == "/v1/embeddings") {
      p = embeddings_json(body);
    } else if (b.endpoint == "/v1/moderations") {
      p = moderations_json(body);
    } else if (b.endpoint == "/v1/responses") {
      p = response_create_json(body, true);
    } else {
      p = oai_error(404, "The local upstream does not serve " + b.endpoint + ".", "invalid_request_error", {}, "not_found");
    }
    const bool ok = p.status >= 200 && p.status < 300;
    std::string rid = next("req_upstream_batch_");
    std::string line = json([&](Writer& w) {
      w.StartObject();
      w.Key("id");
      put(w, next("batch_req_upstream"));
      w.Key("custom_id");
      put(w, l.custom_id);
      w.Key("response");
      w.StartObject();
      w.Key("status_code");
      w.Int(p.status);
      w.Key("request_id");
      put(w, rid);
      w.Key("body");
      w.RawValue(p.body.data(), p.body.size(), rapidjson::kObjectType);
      w.EndObject();
      w.Key("error");
      w.Null();
      w.EndObject();
    });
    (ok ? output : failures) += line + "\n";
    (ok ? b.completed : b.failed) += 1;
  }
  auto store = [&](std::string content, const char* kind) {
    StoredFile f{next("file-upstream"), b.id + "_" + kind + ".jsonl", "batch_output", std::move(content),
                 b.created_at};
    files.push_back(f);
    return f.id;
  };
  if (!output.empty()) b.output_file_id = store(std::move(output), "output");
  if (!failures.empty()) b.error_file_id = store(std::move(failures), "error");
  b.status = "completed";
}

Plan OpenAIEndpoints::State::batch_list(const RecordedRequest& req) {
  auto q = query_of(req.target);
  long limit = 20;
  if (auto e = check_query(q, {"limit", "after"}, 1, 100, limit)) return *e;
  std::vector<const Batch*> list;
  for (auto it = batches.rbegin(); it != batches.rend(); ++it) list.push_back(&*it);
  return page(list, q, limit, batch_json);
}

// ---- the Responses API ----------------------------------------------------------------------

Plan OpenAIEndpoints::State::response_create(const RecordedRequest& req) {
  Plan err;
  auto doc = parse_object(req, err);
  if (!doc) return err;
  Plan p = response_create_json(*doc, false);
  // Streamed: the same response as events (x-upstream-stream-error: a code it fails with).
  if (p.status == 200 && find(*doc, "stream") && (*doc)["stream"].IsTrue())
    return responses_event_stream(p.body, shared::trim(req.header("x-upstream-stream-error")));
  return p;
}

Plan OpenAIEndpoints::State::response_create_json(const Value& doc, bool batch) {
  if (auto e = check_fields(doc,
                            {{"model", T::Str, true},
                             {"input", T::Any},
                             {"instructions", T::Str},
                             {"max_output_tokens", T::Int, false, {}, 16},
                             {"max_tool_calls", T::Int, false, {}, 1},
                             {"temperature", T::Num, false, {}, 0, 2},
                             {"top_p", T::Num, false, {}, 0, 1},
                             {"top_logprobs", T::Int, false, {}, 0, 20},
                             {"store", T::Bool},
                             {"background", T::Bool},
                             {"stream", T::Bool},
                             {"stream_options", T::Obj},
                             {"previous_response_id", T::Str},
                             {"conversation", T::Any},
                             {"metadata", T::Obj},
                             {"tools", T::Arr},
                             {"tool_choice", T::Any},
                             {"parallel_tool_calls", T::Bool},
                             {"text", T::Obj},
                             {"reasoning", T::Obj},
                             {"truncation", T::Str, false, {"auto", "disabled"}},
                             {"include", T::Arr},
                             {"user", T::Str},
                             {"safety_identifier", T::Str},
                             {"prompt_cache_key", T::Str},
                             {"prompt", T::Obj},
                             {"service_tier", T::Str, false, {"auto", "default", "flex", "scale", "priority"}}},
                            true))
    return *e;
  const bool store = !find(doc, "store") || !doc["store"].IsBool() || doc["store"].GetBool();
  const bool background = find(doc, "background") && doc["background"].IsBool() && doc["background"].GetBool();
  if (background && !store)
    return oai_error(400, "Background mode requires store=true.", "invalid_request_error", "background",
                     "unsupported_value");
  if (batch && background)
    return oai_error(400, "Background mode is not supported in the Batch API.", "invalid_request_error", "background");
  if (batch && find(doc, "stream") && doc["stream"].IsTrue())
    return oai_error(400, "Streaming is not supported in the Batch API.", "invalid_request_error", "stream");
  if (background && find(doc, "stream") && doc["stream"].IsTrue())
    return oai_error(400, "The local upstream does not stream background responses.", "invalid_request_error",
                     "stream", "unsupported_value");
  std::string previous(string_member(doc, "previous_response_id"));
  if (!previous.empty() && !responses.count(previous))
    return oai_error(400, "Previous response with id '" + previous + "' not found.", "invalid_request_error",
                     "previous_response_id", "previous_response_not_found");
  // The input: a string (a user message) or a list of items.
  std::string last_user;
  long input_tokens = words_of(string_member(doc, "instructions"));
  bool last_is_tool_output = false;
  if (const Value* input = find(doc, "input"); input && !input->IsNull()) {
    if (input->IsString()) {
      last_user = std::string(sv(*input));
      input_tokens += words_of(last_user);
    } else if (input->IsArray()) {
      for (rapidjson::SizeType i = 0; i < input->Size(); ++i) {
        const Value& item = (*input)[i];
        const std::string at = "input[" + std::to_string(i) + "]";
        if (!item.IsObject()) return bad_type(at, "an object", item);
        std::string_view type = string_member(item, "type");
        if (type == "function_call_output") {
          if (string_member(item, "call_id").empty()) return missing(at + ".call_id");
          if (!find(item, "output")) return missing(at + ".output");
          last_is_tool_output = true;
          continue;
        }
        if (type == "function_call" || type == "reasoning") continue;
        if (!type.empty() && type != "message") return bad_value(at + ".type", type, {"message", "function_call", "function_call_output", "reasoning"});
        std::string_view role = string_member(item, "role");
        if (!find(item, "role")) return missing(at + ".role");
        if (role != "user" && role != "assistant" && role != "system" && role != "developer")
          return bad_value(at + ".role", role, {"user", "assistant", "system", "developer"});
        const Value* content = find(item, "content");
        if (!content) return missing(at + ".content");
        if (!content->IsString() && !content->IsArray()) return bad_type(at + ".content", "a string or an array", *content);
        if (content->IsArray())
          for (rapidjson::SizeType k = 0; k < content->Size(); ++k) {
            std::string_view pt = string_member((*content)[k], "type");
            static const std::vector<std::string_view> kParts = {"input_text", "input_image", "input_file",
                                                                 "output_text", "refusal"};
            if (std::find(kParts.begin(), kParts.end(), pt) == kParts.end())
              return bad_value(at + ".content[" + std::to_string(k) + "].type", pt, kParts);
          }
        std::string text = content_text(*content);
        input_tokens += words_of(text);
        if (role == "user") last_user = std::move(text);
        last_is_tool_output = false;
      }
    } else {
      return bad_type("input", "a string or an array", *input);
    }
  }
  // A function tool is called unless the choice is "none" or a tool's output was just given.
  const Value* tools = find(doc, "tools");
  const Value* fn_tool = nullptr;
  if (tools && tools->IsArray()) {
    for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
      const Value& t = (*tools)[i];
      std::string_view type = string_member(t, "type");
      if (type.empty()) return missing("tools[" + std::to_string(i) + "].type");
      if (type == "function") {
        if (string_member(t, "name").empty()) return missing("tools[" + std::to_string(i) + "].name");
        if (!fn_tool) fn_tool = &t;
      }
    }
  }
  const Value* choice = find(doc, "tool_choice");
  const bool call_tool = fn_tool && !last_is_tool_output && !(choice && choice->IsString() && sv(*choice) == "none");

  std::string text = "Hello from the local upstream. You said: " + last_user;
  std::string status = "completed";
  bool cut = false;
  if (const Value* m = find(doc, "max_output_tokens"); m && m->IsInt64() && !call_tool &&
                                                       static_cast<size_t>(m->GetInt64()) < shared::count_words(text)) {
    text = shared::first_words(text, static_cast<size_t>(m->GetInt64()));
    status = "incomplete";
    cut = true;
  }
  const std::string id = next("resp_upstream");
  const long output_tokens = call_tool ? 5 : words_of(text);
  auto write = [&](Writer& w, const std::string& st, bool with_output) {
    w.StartObject();
    w.Key("id");
    put(w, id);
    w.Key("object");
    w.String("response");
    w.Key("created_at");
    w.Int64(kCreated);
    w.Key("status");
    put(w, st);
    w.Key("background");
    w.Bool(background);
    w.Key("error");
    w.Null();
    w.Key("incomplete_details");
    if (cut && with_output) {
      w.StartObject();
      w.Key("reason");
      w.String("max_output_tokens");
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("instructions");
    if (find(doc, "instructions") && doc["instructions"].IsString()) doc["instructions"].Accept(w); else w.Null();
    w.Key("max_output_tokens");
    if (find(doc, "max_output_tokens") && doc["max_output_tokens"].IsInt64()) doc["max_output_tokens"].Accept(w); else w.Null();
    w.Key("model");
    put(w, string_member(doc, "model"));
    w.Key("output");
    w.StartArray();
    if (with_output) {
      if (call_tool) {
        w.StartObject();
        w.Key("type");
        w.String("function_call");
        w.Key("id");
        put(w, "fc_" + id.substr(5));
        w.Key("call_id");
        put(w, "call_" + id.substr(5));
        w.Key("name");
        put(w, string_member(*fn_tool, "name"));
        w.Key("arguments");
        put(w, shared::object_sample(find(*fn_tool, "parameters"), false));
        w.Key("status");
        w.String("completed");
        w.EndObject();
      } else {
        w.StartObject();
        w.Key("type");
        w.String("message");
        w.Key("id");
        put(w, "msg_" + id.substr(5));
        w.Key("status");
        put(w, st);
        w.Key("role");
        w.String("assistant");
        w.Key("content");
        w.StartArray();
        w.StartObject();
        w.Key("type");
        w.String("output_text");
        w.Key("text");
        put(w, text);
        w.Key("annotations");
        w.StartArray();
        w.EndArray();
        w.Key("logprobs");
        w.StartArray();
        w.EndArray();
        w.EndObject();
        w.EndArray();
        w.EndObject();
      }
    }
    w.EndArray();
    w.Key("parallel_tool_calls");
    w.Bool(!find(doc, "parallel_tool_calls") || !doc["parallel_tool_calls"].IsBool() || doc["parallel_tool_calls"].GetBool());
    w.Key("previous_response_id");
    if (previous.empty()) w.Null(); else put(w, previous);
    w.Key("store");
    w.Bool(store);
    w.Key("temperature");
    if (find(doc, "temperature") && doc["temperature"].IsNumber()) w.Double(doc["temperature"].GetDouble()); else w.Double(1.0);
    w.Key("top_p");
    if (find(doc, "top_p") && doc["top_p"].IsNumber()) w.Double(doc["top_p"].GetDouble()); else w.Double(1.0);
    w.Key("text");
    if (find(doc, "text") && doc["text"].IsObject()) doc["text"].Accept(w); else w.RawValue(R"({"format":{"type":"text"}})", 26, rapidjson::kObjectType);
    w.Key("tool_choice");
    if (choice) choice->Accept(w); else w.String("auto");
    w.Key("tools");
    if (tools && tools->IsArray()) tools->Accept(w); else { w.StartArray(); w.EndArray(); }
    w.Key("truncation");
    w.String(find(doc, "truncation") && doc["truncation"].IsString() ? doc["truncation"].GetString() : "disabled");
    w.Key("usage");
    if (with_output) {
      w.StartObject();
      w.Key("input_tokens");
      w.Int64(input_tokens);
      w.Key("input_tokens_details");
      w.StartObject();
      w.Key("cached_tokens");
      w.Int(0);
      w.EndObject();
      w.Key("output_tokens");
      w.Int64(output_tokens);
      w.Key("output_tokens_details");
      w.StartObject();
      w.Key("reasoning_tokens");
      w.Int(0);
      w.EndObject();
      w.Key("total_tokens");
      w.Int64(input_tokens + output_tokens);
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("user");
    if (find(doc, "user") && doc["user"].IsString()) doc["user"].Accept(w); else w.Null();
    w.Key("metadata");
    if (find(doc, "metadata") && doc["metadata"].IsObject()) doc["metadata"].Accept(w); else { w.StartObject(); w.EndObject(); }
    w.EndObject();
  };
  StoredResponse r;
  r.id = id;
  r.background = background;
  r.body = json([&](Writer& w) { write(w, status, true); });
  if (background) {
    r.status = "queued";
    r.queued_body = json([&](Writer& w) { write(w, "queued", false); });
    // What a cancel makes of it.
    r.status = "queued";
  }
  if (store) responses[id] = r;
  return shared::json_plan(200, background ? r.queued_body : r.body);
}

// ---- rerank (Jina, Voyage, Together) ---------------------------------------------------
//
// One route, POST /v1/rerank, for the hosts whose rows serve rerank; which
// host answers is told by the model, as each real host knows only its own:
// jina-reranker-* and jina-colbert-* (Jina), rerank-2.5, rerank-2, ...
// (Voyage), org/name (Together). Each checks the request its way and answers
// in its own shape, most relevant first:
//   Jina     {"model", "usage": {"total_tokens"}, "results": [{"index",
//            "document": {"text"}, "relevance_score"}]}, documents unless
//            "return_documents": false; errors {"detail"} (FastAPI's).
//   Voyage   {"object": "list", "data": [{"relevance_score", "index",
//            "document"?: string}], "model", "usage": {"total_tokens"}};
//            "top_k", not "top_n"; documents only with "return_documents":
//            true; strings only; errors {"detail": "..."}.
//   Together {"object": "rerank", "id", "model", "results": [{"index",
//            "relevance_score", "document"?: {"text"}}], "usage"}; OpenAI's
//            error shape.
// A document's score: the share of the query's words it contains (case
// folded), less index/1000 (ties go to the earlier document), at least 0.

namespace {

enum class RerankHost { Jina, Voyage, Together };

Plan detail_error(int status, std::string_view message) {
  return shared::json_plan(status, json([&](Writer& w) {
                             w.StartObject();
                             w.Key("detail");
                             put(w, message);
                             w.EndObject();
                           }));
}

// FastAPI's 422: {"detail": [{"type", "loc": ["body", field], "msg", "input"}]}.
Plan detail_422(std::string_view type, std::string_view field, std::string_view msg, const Value* input) {
  return shared::json_plan(422, json([&](Writer& w) {
                             w.StartObject();
                             w.Key("detail");
                             w.StartArray();
                             w.StartObject();
                             w.Key("type");
                             put(w, type);
                             w.Key("loc");
                             w.StartArray();
                             w.String("body");
                             if (!field.empty()) put(w, field);
                             w.EndArray();
                             w.Key("msg");
                             put(w, msg);
                             w.Key("input");
                             if (input)
                               input->Accept(w);
                             else
                               w.Null();
                             w.EndObject();
                             w.EndArray();
                             w.EndObject();
                           }));
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Plan rerank(const RecordedRequest& req) {
  rapidjson::Document d;
  d.Parse(req.body.c_str(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) return detail_422("json_invalid", {}, "JSON decode error", nullptr);
  static const std::set<std::string_view> kVoyage = {"rerank-2.5", "rerank-2.5-lite", "rerank-2", "rerank-2-lite",
                                                     "rerank-1",   "rerank-lite-1"};
  static const std::set<std::string_view> kTogether = {"Salesforce/Llama-Rank-V1", "mixedbread-ai/Mxbai-Rerank-Large-V2"};
  const Value* mv = find(d, "model");
  if (!mv) return detail_422("missing", "model", "Field required", &d);
  if (!mv->IsString()) return detail_422("string_type", "model", "Input should be a valid string", mv);
  const std::string model(sv(*mv));
  RerankHost host;
  if (model.rfind("jina-reranker", 0) == 0 || model.rfind("jina-colbert", 0) == 0) host = RerankHost::Jina;
  else if (kVoyage.count(model)) host = RerankHost::Voyage;
  else if (model.find('/') != std::string::npos) host = RerankHost::Together;
  else if (model.rfind("rerank-", 0) == 0)
    return detail_error(400, "Model " + model + " is not supported. Supported models are rerank-2.5, rerank-2.5-lite, "
                             "rerank-2, rerank-2-lite, rerank-1 and rerank-lite-1.");
  else
    return detail_error(404, "Model '" + model + "' not found");
  if (host == RerankHost::Together && !kTogether.count(model)) return model_not_found(model);
  // Unknown fields, each host its way.
  const std::set<std::string_view> fields =
      host == RerankHost::Jina     ? std::set<std::string_view>{"model", "query", "documents", "top_n", "return_documents"}
      : host == RerankHost::Voyage ? std::set<std::string_view>{"model", "query", "documents", "top_k", "return_documents",
                                                                "truncation"}
                                   : std::set<std::string_view>{"model", "query", "documents", "top_n", "return_documents",
                                                                "rank_fields"};
  for (auto& m : d.GetObject()) {
    if (fields.count(sv(m.name))) continue;
    const std::string k(sv(m.name));
    if (host == RerankHost::Jina) return detail_422("extra_forbidden", k, "Extra inputs are not permitted", &m.value);
    if (host == RerankHost::Voyage)
      return detail_error(400, "Request body has an unexpected field '" + k +
                                   "'. Expected fields: query, documents, model, top_k, return_documents, truncation.");
    return oai_error(400, "Unrecognized request argument supplied: " + k);
  }
  auto bad = [&](std::string_view field, std::string_view type, std::string_view msg, const Value* v) {
    if (host == RerankHost::Jina) return detail_422(type, field, msg, v);
    if (host == RerankHost::Voyage) return detail_error(400, std::string(field) + ": " + std::string(msg));
    return oai_error(400, std::string(field) + ": " + std::string(msg), "invalid_request_error", field);
  };
  const Value* query = find(d, "query");
  if (!query) return bad("query", "missing", "Field required", &d);
  if (!query->IsString()) return bad("query", "string_type", "Input should be a valid string", query);
  const Value* docs = find(d, "documents");
  if (!docs) return bad("documents", "missing", "Field required", &d);
  if (!docs->IsArray() || docs->Empty())
    return bad("documents", "list_type", "Input should be a non-empty list", docs);
  if (host == RerankHost::Voyage && docs->Size() > 1000)
    return bad("documents", "too_long", "The number of documents cannot exceed 1000", nullptr);
  std::vector<std::string> rank_fields;
  if (const Value* rf = find(d, "rank_fields")) {
    if (!rf->IsArray()) return bad("rank_fields", "list_type", "Input should be a valid list", rf);
    for (auto& f : rf->GetArray()) {
      if (!f.IsString()) return bad("rank_fields", "string_type", "Input should be a valid string", &f);
      rank_fields.emplace_back(sv(f));
    }
  }
  std::vector<std::string> texts;
  for (rapidjson::SizeType i = 0; i < docs->Size(); ++i) {
    const Value& x = (*docs)[i];
    const std::string at = "documents." + std::to_string(i);
    if (x.IsString()) {
      texts.emplace_back(sv(x));
      continue;
    }
    if (host == RerankHost::Voyage || !x.IsObject())
      return bad(at, "string_type", "Input should be a valid string", &x);
    if (host == RerankHost::Jina) {
      const Value* t = find(x, "text");
      if (!t || !t->IsString()) return bad(at + ".text", "missing", "Field required", &x);
      texts.emplace_back(sv(*t));
      continue;
    }
    // Together: the rank_fields of an object ("text" by default), joined.
    std::string joined;
    for (auto& f : rank_fields.empty() ? std::vector<std::string>{"text"} : rank_fields) {
      const Value* v = find(x, f.c_str());
      if (!v || !v->IsString()) return bad(at, "missing", "a document lacks the rank field '" + f + "'", &x);
      joined += (joined.empty() ? "" : " ") + std::string(sv(*v));
    }
    texts.push_back(std::move(joined));
  }
  const char* top_name = host == RerankHost::Voyage ? "top_k" : "top_n";
  size_t top = texts.size();
  if (const Value* t = find(d, top_name); t && !t->IsNull()) {
    if (!t->IsInt64()) return bad(top_name, "int_type", "Input should be a valid integer", t);
    if (t->GetInt64() < 1) return bad(top_name, "greater_than_equal", "Input should be greater than or equal to 1", t);
    top = std::min<size_t>(top, static_cast<size_t>(t->GetInt64()));
  }
  const Value* rd = find(d, "return_documents");
  if (rd && !rd->IsBool()) return bad("return_documents", "bool_type", "Input should be a valid boolean", rd);
  if (const Value* tr = find(d, "truncation"); tr && !tr->IsBool())
    return bad("truncation", "bool_type", "Input should be a valid boolean", tr);
  const bool with_docs = rd ? rd->GetBool() : host == RerankHost::Jina;
  // Scores.
  std::vector<std::string> qwords;
  for (std::string_view w : split_words(sv(*query))) qwords.push_back(lowered(w));
  std::vector<std::pair<double, size_t>> scored;
  long tokens = words_of(sv(*query)) * static_cast<long>(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string text = lowered(texts[i]);
    size_t hits = 0;
    for (auto& q : qwords) hits += text.find(q) != std::string::npos;
    double score = qwords.empty() ? 0 : static_cast<double>(hits) / static_cast<double>(qwords.size());
    score = std::max(0.0, score - static_cast<double>(i) / 1000.0);
    scored.emplace_back(score, i);
    tokens += words_of(texts[i]);
  }
  std::stable_sort(scored.begin(), scored.end(), [](auto& x, auto& y) { return x.first > y.first; });
  scored.resize(top);
  return shared::json_plan(200, json([&](Writer& w) {
    auto result = [&](double score, size_t i) {
      w.StartObject();
      if (host == RerankHost::Voyage) {
        w.Key("relevance_score");
        w.Double(score);
        w.Key("index");
        w.Uint64(i);
        if (with_docs) {
          w.Key("document");
          put(w, texts[i]);
        }
      } else {
        w.Key("index");
        w.Uint64(i);
        if (with_docs) {
          w.Key("document");
          w.StartObject();
          w.Key("text");
          put(w, texts[i]);
          w.EndObject();
        }
        w.Key("relevance_score");
        w.Double(score);
      }
      w.EndObject();
    };
    w.StartObject();
    if (host == RerankHost::Voyage) {
      w.Key("object");
      w.String("list");
      w.Key("data");
    } else {
      if (host == RerankHost::Together) {
        w.Key("object");
        w.String("rerank");
        w.Key("id");
        put(w, "rr-upstream-" + hex16(fnv1a(req.body)));
      }
      w.Key("model");
      put(w, model);
      if (host == RerankHost::Jina) {
        w.Key("usage");
        w.StartObject();
        w.Key("total_tokens");
        w.Int64(tokens);
        w.EndObject();
      }
      w.Key("results");
    }
    w.StartArray();
    for (auto& [score, i] : scored) result(score, i);
    w.EndArray();
    if (host == RerankHost::Voyage) {
      w.Key("model");
      put(w, model);
    }
    if (host != RerankHost::Jina) {
      w.Key("usage");
      w.StartObject();
      if (host == RerankHost::Together) {
        w.Key("prompt_tokens");
        w.Int64(tokens);
        w.Key("completion_tokens");
        w.Int(0);
      }
      w.Key("total_tokens");
      w.Int64(tokens);
      w.EndObject();
    }
    w.EndObject();
  }));
}

}  // namespace

// ---- routing --------------------------------------------------------------------------------

OpenAIEndpoints::OpenAIEndpoints(std::function<Plan(const RecordedRequest&)> chat) : s_(std::make_unique<State>()) {
  s_->chat = std::move(chat);
}

OpenAIEndpoints::~OpenAIEndpoints() = default;

std::optional<Plan> OpenAIEndpoints::handle(const RecordedRequest& req, std::string_view full_path) {
  std::string_view path = full_path;
  if (path.rfind("/v1/", 0) == 0) path.remove_prefix(3);
  auto segs = [&] {
    std::vector<std::string_view> out;
    std::string_view p = path.substr(1);
    while (!p.empty()) {
      size_t slash = p.find('/');
      out.push_back(p.substr(0, slash));
      if (slash == std::string_view::npos) break;
      p.remove_prefix(slash + 1);
    }
    return out;
  }();
  if (segs.empty()) return std::nullopt;
  const std::string& m = req.method;
  auto only = [&](const char* method) -> std::optional<Plan> {
    if (m == method) return std::nullopt;
    return method_not_allowed(req, full_path, method);
  };
  State& s = *s_;
  std::lock_guard lock(s.mu);
  const std::string_view head = segs[0];
  if (head == "__images" && segs.size() == 2) {
    auto it = s.images.find(std::string(segs[1]));
    if (it == s.images.end()) return oai_error(404, "No such image: " + std::string(segs[1]));
    return bytes_plan("image/png", it->second);
  }
  if (head == "embeddings" && segs.size() == 1) {
    if (auto e = only("POST")) return e;
    return s.embeddings(req);
  }
  if (head == "images" && segs.size() == 2 && segs[1] == "generations") {
    if (auto e = only("POST")) return e;
    return s.images_generate(req);
  }
  if (head == "audio" && segs.size() == 2) {
    if (segs[1] != "speech" && segs[1] != "transcriptions" && segs[1] != "translations") return std::nullopt;
    if (auto e = only("POST")) return e;
    if (segs[1] == "speech") return s.speech(req);
    return s.audio(req, segs[1] == "translations");
  }
  if (head == "moderations" && segs.size() == 1) {
    if (auto e = only("POST")) return e;
    return s.moderations(req);
  }
  if (head == "rerank" && segs.size() == 1) {  // Jina, Voyage, Together (by the model)
    if (auto e = only("POST")) return e;
    return rerank(req);
  }
  if (head == "ocr" && segs.size() == 1) {  // Mistral (ocr.cpp); a file chunk reads an uploaded file
    if (auto e = only("POST")) return e;
    return mistral_ocr(req, [&](std::string_view id, std::string& bytes, std::string& filename) {
      const StoredFile* f = s.file(id);
      if (!f) return false;
      bytes = f->bytes;
      filename = f->filename;
      return true;
    });
  }
  if (head == "files") {
    if (segs.size() == 1) {
      if (m == "POST") return s.file_create(req);
      if (m == "GET") return s.file_list(req);
      return method_not_allowed(req, full_path, "GET or POST");
    }
    StoredFile* f = s.file(segs[1]);
    auto not_found = [&] {
      return oai_error(404, "No such File object: " + std::string(segs[1]), "invalid_request_error", "id");
    };
    if (segs.size() == 2) {
      if (m != "GET" && m != "DELETE") return method_not_allowed(req, full_path, "GET or DELETE");
      if (!f) return not_found();
      if (m == "GET") return shared::json_plan(200, file_json(*f));
      std::string id = f->id;
      s.files.erase(s.files.begin() + (f - s.files.data()));
      return shared::json_plan(200, R"({"id":")" + id + R"(","object":"file","deleted":true})");
    }
    if (segs.size() == 3 && segs[2] == "content") {
      if (auto e = only("GET")) return e;
      if (!f) return not_found();
      return bytes_plan("application/octet-stream", f->bytes);
    }
    return std::nullopt;
  }
  if (head == "batches") {
    if (segs.size() == 1) {
      if (m == "POST") return s.batch_create(req);
      if (m == "GET") return s.batch_list(req);
      return method_not_allowed(req, full_path, "GET or POST");
    }
    Batch* b = s.batch(segs[1]);
    auto not_found = [&] {
      return oai_error(404, "No batch found with id '" + std::string(segs[1]) + "'.", "invalid_request_error", {},
                       "not_found");
    };
    if (segs.size() == 2) {
      if (auto e = only("GET")) return e;
      if (!b) return not_found();
      // Processing happens between creation and the first look at the batch.
      if (b->status == "validating") s.batch_run(*b);
      if (b->status == "cancelling") b->status = "cancelled";
      return shared::json_plan(200, batch_json(*b));
    }
    if (segs.size() == 3 && segs[2] == "cancel") {
      if (auto e = only("POST")) return e;
      if (!b) return not_found();
      if (b->status == "validating" || b->status == "in_progress") {
        b->status = "cancelling";
      } else if (b->status != "cancelling" && b->status != "cancelled") {
        return oai_error(409, "Cannot cancel a batch with status '" + b->status + "'.", "invalid_request_error", {},
                         "batch_not_cancellable");
      }
      return shared::json_plan(200, batch_json(*b));
    }
    return std::nullopt;
  }
  if (head == "responses") {
    if (segs.size() == 1) {
      if (auto e = only("POST")) return e;
      return s.response_create(req);
    }
    auto it = s.responses.find(std::string(segs[1]));
    auto not_found = [&] {
      return oai_error(404, "Response with id '" + std::string(segs[1]) + "' not found.", "invalid_request_error", {},
                       "not_found");
    };
    if (segs.size() == 2) {
      if (m != "GET" && m != "DELETE") return method_not_allowed(req, full_path, "GET or DELETE");
      if (it == s.responses.end()) return not_found();
      if (m == "DELETE") {
        s.responses.erase(it);
        return shared::json_plan(200, R"({"id":")" + std::string(segs[1]) + R"(","object":"response","deleted":true})");
      }
      StoredResponse& r = it->second;
      if (r.background && r.status == "queued") r.status = "completed";  // done by the time anyone looks
      return shared::json_plan(200, r.background && r.status == "cancelled" ? r.queued_body : r.body);
    }
    if (segs.size() == 3 && segs[2] == "cancel") {
      if (auto e = only("POST")) return e;
      if (it == s.responses.end()) return not_found();
      StoredResponse& r = it->second;
      if (!r.background)
        return oai_error(400, "Only responses created with background=true can be cancelled.", "invalid_request_error",
                         {}, "unsupported_value");
      if (r.status == "completed")
        return oai_error(400, "Cannot cancel a completed response.", "invalid_request_error", {}, "invalid_state");
      if (r.status == "queued") {
        r.status = "cancelled";
        const std::string from = R"("status":"queued")", to = R"("status":"cancelled")";
        r.queued_body.replace(r.queued_body.find(from), from.size(), to);
      }
      return shared::json_plan(200, r.queued_body);
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace detail
}  // namespace literllm::testing
