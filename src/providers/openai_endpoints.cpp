// The OpenAI protocol beyond chat: embeddings, models, images, audio,
// moderations, rerank, OCR, files, batches and the Responses API, as one
// table of (endpoint, method, path, body, answer). Requests are OpenAI's own
// shape, so most go as they are; what differs is where fields go (the path,
// the query, a multipart form) and the few answers the library normalizes
// (base64 embeddings decoded to floats).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <vector>

#include "auth/crypto.hpp"
#include "core/errors.hpp"
#include "http/headers.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"

namespace literllm {

namespace {

using json::Value;

enum class BodyKind { Json, Query, Multipart };

struct Route {
  Endpoint endpoint;
  const char* method;
  const char* path;  // placeholders: {file_id}, {batch_id}, {response_id} from the request
  BodyKind body;
  bool binary = false;  // the answer is bytes
  const char* upload_kind = nullptr;  // Multipart: "audio" or "file" (what the upload may be)
};

constexpr Route kRoutes[] = {
    {Endpoint::Embeddings, "POST", "/embeddings", BodyKind::Json},
    {Endpoint::Models, "GET", "/models", BodyKind::Query},
    {Endpoint::Images, "POST", "/images/generations", BodyKind::Json},
    {Endpoint::Speech, "POST", "/audio/speech", BodyKind::Json, true},
    {Endpoint::Transcription, "POST", "/audio/transcriptions", BodyKind::Multipart, false, "audio"},
    {Endpoint::Translation, "POST", "/audio/translations", BodyKind::Multipart, false, "audio"},
    {Endpoint::Moderation, "POST", "/moderations", BodyKind::Json},
    {Endpoint::Rerank, "POST", "/rerank", BodyKind::Json},
    {Endpoint::Ocr, "POST", "/ocr", BodyKind::Json},
    {Endpoint::FileCreate, "POST", "/files", BodyKind::Multipart, false, "file"},
    {Endpoint::FileRetrieve, "GET", "/files/{file_id}", BodyKind::Query},
    {Endpoint::FileList, "GET", "/files", BodyKind::Query},
    {Endpoint::FileDelete, "DELETE", "/files/{file_id}", BodyKind::Query},
    {Endpoint::FileContent, "GET", "/files/{file_id}/content", BodyKind::Query, true},
    {Endpoint::BatchCreate, "POST", "/batches", BodyKind::Json},
    {Endpoint::BatchRetrieve, "GET", "/batches/{batch_id}", BodyKind::Query},
    {Endpoint::BatchList, "GET", "/batches", BodyKind::Query},
    {Endpoint::BatchCancel, "POST", "/batches/{batch_id}/cancel", BodyKind::Json},
    {Endpoint::ResponseCreate, "POST", "/responses", BodyKind::Json},
    {Endpoint::ResponseRetrieve, "GET", "/responses/{response_id}", BodyKind::Query},
    {Endpoint::ResponseCancel, "POST", "/responses/{response_id}/cancel", BodyKind::Json},
    {Endpoint::ResponseDelete, "DELETE", "/responses/{response_id}", BodyKind::Query},
};

// A JSON value as a form or query value: a string as it is, anything else as JSON text.
std::string form_value(const Value& v) { return v.IsString() ? std::string(json::sv(v)) : json::dump(v); }

// The Content-Type of a file by its extension ("" when unknown).
std::string_view type_by_extension(std::string_view name) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext(name.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  static const std::pair<const char*, const char*> kTypes[] = {
      {"flac", "audio/flac"}, {"mp3", "audio/mpeg"}, {"mp4", "audio/mp4"},   {"mpeg", "audio/mpeg"},
      {"mpga", "audio/mpeg"}, {"m4a", "audio/mp4"},  {"ogg", "audio/ogg"},   {"oga", "audio/ogg"},
      {"wav", "audio/wav"},   {"webm", "audio/webm"}, {"jsonl", "application/jsonl"},
      {"json", "application/json"}, {"pdf", "application/pdf"}, {"txt", "text/plain"},
      {"csv", "text/csv"},    {"png", "image/png"},   {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"},
  };
  for (auto& [e, t] : kTypes)
    if (ext == e) return t;
  return {};
}

bool is_audio(std::string_view type) {
  return type.substr(0, 6) == "audio/" || type == "video/mp4" || type == "video/webm" || type == "video/mpeg";
}

// The largest upload a provider takes for the endpoint's kind.
constexpr uint64_t kMaxAudioBytes = 25ull << 20;  // OpenAI's audio endpoints: 25 MB
constexpr uint64_t kMaxFileBytes = 512ull << 20;  // files: 512 MB

// An upload field ({"path"} or {"data"}) as a multipart part, checked: the
// file exists and can be read, its type is one the endpoint takes, its size
// within the provider's limit.
http::Part upload_part(const std::string& field, const Value& up, const Blobs& blobs, const char* kind) {
  const std::string where = "request." + field;
  http::Part part;
  part.name = field;
  const Value* path = json::find(up, "path");
  const Value* data = json::find(up, "data");
  const Value* filename = json::find(up, "filename");
  const Value* type = json::find(up, "content_type");
  uint64_t size = 0;
  if (path) {
    part.path = std::string(json::sv(*path));
    struct stat st {};
    if (::stat(part.path.c_str(), &st) != 0)
      invalid(where + ".path: cannot read " + part.path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) invalid(where + ".path: " + part.path + " is not a regular file");
    int fd = ::open(part.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) invalid(where + ".path: cannot read " + part.path + ": " + std::strerror(errno));
    ::close(fd);
    size = static_cast<uint64_t>(st.st_size);
    part.filename = filename ? std::string(json::sv(*filename)) : part.path.substr(part.path.find_last_of('/') + 1);
  } else {
    const uint64_t i = data->GetUint64();  // validated: < blobs.count
    if (!filename) invalid(where + ".filename: is required with \"data\" (the provider reads the format from it)");
    part.filename = std::string(json::sv(*filename));
    part.data = static_cast<const char*>(blobs.data[i]);
    part.size = blobs.sizes[i];
    size = part.size;
  }
  part.content_type = type ? std::string(json::sv(*type)) : std::string(type_by_extension(part.filename));
  const bool audio = std::string_view(kind) == "audio";
  if (audio && !is_audio(part.content_type))
    invalid(where + ": " + (path ? part.path : part.filename) + " is not audio the provider takes (" +
            (part.content_type.empty() ? std::string("unknown type") : part.content_type) +
            "; flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm)");
  if (part.content_type.empty()) part.content_type = "application/octet-stream";
  const uint64_t limit = audio ? kMaxAudioBytes : kMaxFileBytes;
  if (size > limit)
    invalid(where + ": " + (path ? part.path : part.filename) + " is " + std::to_string(size) +
            " bytes, more than the provider takes (" + std::to_string(limit) + ")");
  if (size == 0) invalid(where + ": " + (path ? part.path : part.filename) + " is empty");
  return part;
}

// Float32 vectors sent as base64 (encoding_format "base64") as arrays of numbers.
void decode_base64_embeddings(json::Document& d, const Target& t) {
  Value* data = nullptr;
  if (auto it = d.FindMember("data"); it != d.MemberEnd() && it->value.IsArray()) data = &it->value;
  if (!data) return;
  auto& a = d.GetAllocator();
  for (auto& item : data->GetArray()) {
    if (!item.IsObject()) continue;
    auto e = item.FindMember("embedding");
    if (e == item.MemberEnd() || !e->value.IsString()) continue;
    std::string bytes;
    try {
      bytes = auth::base64_decode(json::sv(e->value), "an embedding");
    } catch (const Error& err) {
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " embeddings answer: " + err.what());
    }
    if (bytes.size() % 4 != 0)
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " embeddings answer: a base64 embedding of " +
                                             std::to_string(bytes.size()) + " bytes is not float32 values");
    Value arr(rapidjson::kArrayType);
    arr.Reserve(static_cast<rapidjson::SizeType>(bytes.size() / 4), a);
    for (size_t i = 0; i < bytes.size(); i += 4) {
      float f;
      std::memcpy(&f, bytes.data() + i, 4);  // little-endian, as the API sends them (and as this host is)
      arr.PushBack(Value(static_cast<double>(f)), a);
    }
    e->value = std::move(arr);
  }
}

// A field the host spells another way, renamed (nothing when it spells it as OpenAI does).
void rename(json::Document& req, const char* from, std::string_view to) {
  if (to == from) return;
  auto it = req.FindMember(from);
  if (it == req.MemberEnd()) return;
  auto& a = req.GetAllocator();
  Value v(std::move(it->value), a);
  req.RemoveMember(it);
  req.AddMember(json::str(to, a), v, a);
}

// Rerank answers as one shape: {"object": "list", "results": [{"index",
// "relevance_score", "document": {"text"}?}], "model", "usage"?}, most
// relevant first. (Jina and Together answer "results" with document objects;
// Voyage answers "data" with document strings.)
void normalize_rerank(json::Document& d) {
  auto& a = d.GetAllocator();
  auto it = d.FindMember("results");
  if (it == d.MemberEnd()) {
    auto data = d.FindMember("data");
    if (data == d.MemberEnd() || !data->value.IsArray()) return;
    Value list(std::move(data->value), a);
    d.RemoveMember(data);
    d.AddMember("results", list, a);
    it = d.FindMember("results");
  }
  if (!it->value.IsArray()) return;
  for (auto& r : it->value.GetArray()) {
    if (!r.IsObject()) continue;
    if (auto doc = r.FindMember("document"); doc != r.MemberEnd() && doc->value.IsString()) {
      Value o(rapidjson::kObjectType);
      o.AddMember("text", Value(std::move(doc->value), a), a);
      doc->value = std::move(o);
    }
  }
  auto score = [](const Value& r) {
    const Value* s = r.IsObject() ? json::find(r, "relevance_score") : nullptr;
    return s && s->IsNumber() ? s->GetDouble() : -1e300;
  };
  Value& arr = it->value;
  std::stable_sort(arr.Begin(), arr.End(), [&](const Value& x, const Value& y) { return score(x) > score(y); });
  if (auto o = d.FindMember("object"); o != d.MemberEnd()) o->value.SetString("list", a);
  else d.AddMember("object", "list", a);
}

class OpenAIEndpoint final : public Operation {
 public:
  explicit OpenAIEndpoint(const Route& r) : r_(r) {}

  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    return build_with(req, t, stream, Blobs{});
  }

  http::Request build_with(json::Document& req, const Target& t, bool, const Blobs& blobs) const override {
    auto& a = req.GetAllocator();
    if (!t.model.empty() && req.HasMember("model")) set_member(req, "model", json::str(t.model, a), a);
    merge_provider_options(req, req, t, a);
    if (auto eb = req.FindMember("extra_body"); eb != req.MemberEnd()) {
      Value extra;
      extra.Swap(eb->value);
      req.RemoveMember(eb);
      if (extra.IsObject()) add_new_members(req, extra, a);
    }
    for (const char* k : {"extra_headers", "timeout_secs"}) req.RemoveMember(k);
    const Quirks& q = t.spec->quirks;
    if (r_.endpoint == Endpoint::Rerank) rename(req, "top_n", q.top_n_field);
    if (r_.endpoint == Endpoint::Embeddings) rename(req, "dimensions", q.dimensions_field);
    if (r_.endpoint == Endpoint::Embeddings && !req.HasMember("encoding_format") &&
        (t.spec->name == "openai" || t.spec->name == "azure_openai"))
      req.AddMember("encoding_format", "base64", a);  // a third of the bytes; decoded in parse()
    // The ids the path names leave the body.
    PathValues values;
    for (const char* id : {"file_id", "batch_id", "response_id"}) {
      if (std::string_view(r_.path).find(std::string("{") + id + "}") == std::string_view::npos) continue;
      auto it = req.FindMember(id);
      values.emplace_back(id, std::string(json::sv(it->value)));
      req.RemoveMember(it);
    }
    http::Request out;
    out.method = r_.method;
    out.url = endpoint_url(t, r_.endpoint, r_.path, values);
    out.headers.emplace_back("Accept", r_.binary ? "*/*" : "application/json");
    switch (r_.body) {
      case BodyKind::Json:
        out.headers.emplace_back("Content-Type", "application/json");
        out.body = json::dump(req);
        break;
      case BodyKind::Query: {
        std::string query;
        for (auto& m : req.GetObject()) {
          if (m.value.IsNull()) continue;
          query += query.empty() ? "" : "&";
          query += url_encode(json::sv(m.name)) + "=" + url_encode(form_value(m.value));
        }
        if (!query.empty()) out.url += (out.url.find('?') == std::string::npos ? "?" : "&") + query;
        break;
      }
      case BodyKind::Multipart:
        for (auto& m : req.GetObject()) {
          const std::string name(json::sv(m.name));
          if (m.value.IsObject() && (m.value.HasMember("path") || m.value.HasMember("data"))) {
            out.parts.push_back(upload_part(name, m.value, blobs, r_.upload_kind));
          } else if (m.value.IsArray()) {  // OpenAI's form convention for a list: name[] repeated
            for (auto& x : m.value.GetArray()) {
              http::Part p;
              p.name = name + "[]";
              p.value = form_value(x);
              out.parts.push_back(std::move(p));
            }
          } else if (!m.value.IsNull()) {
            http::Part p;
            p.name = name;
            p.value = form_value(m.value);
            out.parts.push_back(std::move(p));
          }
        }
        break;
    }
    for (auto& h : t.headers) http::set_header(out.headers, h.first, h.second);
    return out;
  }

  json::Document parse(std::string_view body, const Target& t) const override {
    if (r_.endpoint == Endpoint::Transcription || r_.endpoint == Endpoint::Translation) {
      // response_format text, srt and vtt answer plain text: given as {"text": body}.
      const size_t first = body.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos || body[first] != '{') {
        json::Document d(rapidjson::kObjectType);
        d.AddMember("text", json::str(body, d.GetAllocator()), d.GetAllocator());
        return d;
      }
    }
    json::Document d = json::parse(body, (t.spec->name + " response").c_str(), LLM_ERR_SERIALIZATION);
    if (!d.IsObject()) throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " response is not a JSON object");
    if (auto err = d.FindMember("error"); err != d.MemberEnd() && err->value.IsObject()) {
      std::string code;
      std::string msg = error_body_message(body, &code, t.secrets);
      throw Error(status_for_http(0, msg, code), t.spec->name + " answered 2xx with an error: " + msg);
    }
    if (r_.endpoint == Endpoint::Embeddings) decode_base64_embeddings(d, t);
    if (r_.endpoint == Endpoint::Rerank) normalize_rerank(d);
    return d;
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }

  bool binary_answer() const override { return r_.binary; }

 private:
  const Route& r_;
};

}  // namespace

const Operation* openai_endpoint_operation(Endpoint e) {
  // Made on first use and leaked (an I/O thread may use them during exit).
  static const std::vector<const Operation*>* ops = [] {
    auto* v = new std::vector<const Operation*>(kEndpointCount, nullptr);
    for (const Route& r : kRoutes) (*v)[static_cast<size_t>(r.endpoint)] = new OpenAIEndpoint(r);
    return v;
  }();
  const auto i = static_cast<size_t>(e);
  return i < ops->size() ? (*ops)[i] : nullptr;
}

}  // namespace literllm
