// The OpenAI protocol beyond chat: embeddings, models, images, audio,
// moderations, rerank, OCR, files, batches and the Responses API, as one
// table of (endpoint, method, path, body, answer). Requests are OpenAI's own
// shape, so most go as they are; what differs is where fields go (the path,
// the query, a multipart form), the few answers the library normalizes
// (base64 embeddings decoded to floats, rerank results), and OCR's document
// given as bytes or a path (sent as a data URL).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <optional>
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

// ---- OCR --------------------------------------------------------------------------

// Mistral OCR's limit for one document.
constexpr uint64_t kMaxOcrBytes = 50ull << 20;  // 50 MB

// The documents Mistral OCR reads, by extension: PDFs, Office documents, images.
constexpr std::pair<const char*, const char*> kOcrTypes[] = {
    {"pdf", "application/pdf"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"webp", "image/webp"},
    {"gif", "image/gif"},
    {"avif", "image/avif"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"bmp", "image/bmp"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// `type` (parameters dropped, lower case) when Mistral OCR reads it, else "".
std::string ocr_type(std::string_view type) {
  std::string t = lower(type.substr(0, type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  if (t == "image/jpg") t = "image/jpeg";
  for (auto& [e, known] : kOcrTypes)
    if (t == known) return t;
  return {};
}

std::string ocr_type_by_extension(std::string_view name) {
  size_t slash = name.find_last_of('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  const std::string ext = lower(name.substr(dot + 1));
  for (auto& [e, t] : kOcrTypes)
    if (ext == e) return t;
  return {};
}

// An OCR document given as bytes: {"data": i} (the caller's) or {"path": p}
// (a file), optional "content_type" and "filename". Sent as a data URL, its
// base64 written straight into the body.
struct OcrBytes {
  std::string type;       // the media type
  std::string name;       // document_name ("" for none)
  std::string path;       // a file, or
  std::string_view data;  // the caller's bytes
  uint64_t size = 0;
};

// The OCR document `doc` as bytes to send, checked; nothing when it is one of
// Mistral's own chunks (document_url, image_url, file), which go as they are.
std::optional<OcrBytes> ocr_bytes(const Value& doc, const Blobs& blobs) {
  const std::string where = "request.document";
  if (!doc.IsObject()) invalid(where + ": expected an object, got " + json::type_name(doc));
  const Value* path = json::find(doc, "path");
  const Value* data = json::find(doc, "data");
  if (!path && !data) return std::nullopt;
  for (auto& m : doc.GetObject()) {
    const std::string_view k = json::sv(m.name);
    if (k != "path" && k != "data" && k != "filename" && k != "content_type")
      invalid(where + "." + std::string(k) +
              ": unknown field of a document given as bytes (path, data, filename, content_type; the library "
              "sends it as a document_url or an image_url)");
  }
  if (path && data)
    invalid(where + ": needs exactly one of \"path\" (a file to read) and \"data\" (the index of bytes given to the call)");
  for (const char* k : {"path", "filename", "content_type"}) {
    const Value* v = json::find(doc, k);
    if (!v) continue;
    if (!v->IsString()) invalid(where + "." + k + ": expected a string, got " + json::type_name(*v));
    if (v->GetStringLength() == 0) invalid(where + "." + k + ": must not be empty");
  }
  OcrBytes out;
  const Value* filename = json::find(doc, "filename");
  const Value* type = json::find(doc, "content_type");
  if (filename) out.name = std::string(json::sv(*filename));
  std::string shown;  // the document as messages name it
  if (path) {
    out.path = std::string(json::sv(*path));
    shown = out.path;
    struct stat st {};
    if (::stat(out.path.c_str(), &st) != 0)
      invalid(where + ".path: cannot read " + out.path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) invalid(where + ".path: " + out.path + " is not a regular file");
    int fd = ::open(out.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) invalid(where + ".path: cannot read " + out.path + ": " + std::strerror(errno));
    ::close(fd);
    out.size = static_cast<uint64_t>(st.st_size);
    if (out.name.empty()) out.name = out.path.substr(out.path.find_last_of('/') + 1);
  } else {
    if (!data->IsUint64()) invalid(where + ".data: expected a non-negative integer, got " + json::type_name(*data));
    const uint64_t i = data->GetUint64();
    if (i >= blobs.count)
      invalid(where + ".data: names bytes " + std::to_string(i) + " but the call was given " +
              std::to_string(blobs.count));
    out.data = std::string_view(static_cast<const char*>(blobs.data[i]), blobs.sizes[i]);
    out.size = blobs.sizes[i];
    shown = out.name.empty() ? "bytes " + std::to_string(i) : out.name;
  }
  std::string accepted;
  for (auto& [e, t] : kOcrTypes)
    if (accepted.find(t) == std::string::npos) accepted += std::string(accepted.empty() ? "" : ", ") + t;
  if (type) {
    out.type = ocr_type(json::sv(*type));
    if (out.type.empty())
      invalid(where + ".content_type: \"" + std::string(json::sv(*type)).substr(0, 100) +
              "\" is not a type Mistral OCR reads (" + accepted + ")");
  } else {
    out.type = ocr_type_by_extension(out.name.empty() ? out.path : out.name);
    if (out.type.empty())
      invalid(where + ".content_type: is required: the type of " + shown +
              " cannot be told from its name (pdf, docx, pptx, png, jpg, jpeg, webp, gif, avif, tif, tiff, bmp); "
              "give one of " + accepted);
  }
  if (out.size == 0) invalid(where + ": " + shown + " is empty");
  if (out.size > kMaxOcrBytes)
    invalid(where + ": " + shown + " is " + std::to_string(out.size) + " bytes, more than Mistral OCR takes (" +
            std::to_string(kMaxOcrBytes) + ")");
  return out;
}

// Appends `doc` to `body` as Mistral's document chunk, "document": {"type":
// "image_url", "image_url": data URL} for an image, else {"type":
// "document_url", "document_url": data URL, "document_name"?}. Returns the
// chunk's URL field.
const char* append_ocr_document(std::string& body, const OcrBytes& doc) {
  const bool image = doc.type.rfind("image/", 0) == 0;
  const char* field = image ? "image_url" : "document_url";
  const std::string head = std::string("\"document\":{\"type\":\"") + field + "\",\"" + field + "\":\"data:" +
                           doc.type + ";base64,";
  body.reserve(body.size() + head.size() + (doc.size + 2) / 3 * 4 + doc.name.size() * 6 + 64);
  body += head;
  if (doc.path.empty()) {
    body += auth::base64_encode(doc.data);
  } else {
    int fd = ::open(doc.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) invalid("request.document.path: cannot read " + doc.path + ": " + std::strerror(errno));
    std::string chunk(3 * 65536, '\0');  // a multiple of 3: the pieces' base64 joins into the whole's
    uint64_t left = doc.size;             // what stat saw (and what was checked)
    while (left > 0) {
      size_t have = 0;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      while (have < want) {
        ssize_t n = ::read(fd, chunk.data() + have, want - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          const int err = errno;
          ::close(fd);
          invalid("request.document.path: cannot read " + doc.path + ": " + std::strerror(err));
        }
        if (n == 0) break;
        have += static_cast<size_t>(n);
      }
      if (have > 0) body += auth::base64_encode(std::string_view(chunk.data(), have));
      left -= have;
      if (have < want) break;  // shorter than it was: what it holds now
    }
    ::close(fd);
  }
  body += '"';
  if (!image && !doc.name.empty()) {
    json::Document n;
    body += ",\"document_name\":" + json::dump(json::str(doc.name, n.GetAllocator()));
  }
  body += '}';
  return field;
}

// ---- rerank -------------------------------------------------------------------

// Documents given as {"text": s} alone go as s (every host takes strings);
// to Voyage, which takes nothing but strings, any object goes as its text.
void flatten_documents(json::Document& req, bool strings_only) {
  auto it = req.FindMember("documents");
  if (it == req.MemberEnd() || !it->value.IsArray()) return;
  auto& a = req.GetAllocator();
  for (auto& d : it->value.GetArray()) {
    if (!d.IsObject()) continue;
    auto text = d.FindMember("text");
    if (text == d.MemberEnd() || !text->value.IsString()) continue;
    if (!strings_only && d.MemberCount() != 1) continue;
    Value s(std::move(text->value), a);
    d = std::move(s);
  }
}

// Each rerank result's "document" as the request asked: {"text"} with
// "return_documents": true (taken from the request's documents when the host
// left it out), none otherwise (Jina returns them unless told not to).
void rerank_documents(json::Document& d, const Value& request, const Target& t) {
  auto it = d.FindMember("results");
  if (it == d.MemberEnd() || !it->value.IsArray()) return;
  const Value* rd = json::find(request, "return_documents");
  const bool wanted = rd && rd->IsBool() && rd->GetBool();
  const Value* docs = json::find(request, "documents");
  auto& a = d.GetAllocator();
  rapidjson::SizeType at = 0;
  for (auto& r : it->value.GetArray()) {
    const rapidjson::SizeType i = at++;
    if (!r.IsObject()) continue;
    auto doc = r.FindMember("document");
    if (!wanted) {
      if (doc != r.MemberEnd()) r.RemoveMember(doc);
      continue;
    }
    if ((doc != r.MemberEnd() && doc->value.IsObject()) || !docs || !docs->IsArray()) continue;
    const Value* index = json::find(r, "index");
    if (!index || !index->IsUint64() || index->GetUint64() >= docs->Size())
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " rerank answer: results[" + std::to_string(i) +
                                             "] names no document of the " + std::to_string(docs->Size()) + " sent");
    const Value& src = (*docs)[static_cast<rapidjson::SizeType>(index->GetUint64())];
    const Value* text = src.IsString() ? &src : json::find(src, "text");
    Value o(rapidjson::kObjectType);
    o.AddMember("text", text && text->IsString() ? Value(*text, a) : Value(rapidjson::kNullType), a);
    if (doc != r.MemberEnd()) doc->value = std::move(o);
    else r.AddMember("document", o, a);
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

  http::Request build_with(json::Document& req, const Target& t, bool stream, const Blobs& blobs) const override {
    auto& a = req.GetAllocator();
    // Only the Responses API streams here (Client::streams); "stream" says which call this is.
    if (stream) set_member(req, "stream", Value(true), a);
    else req.RemoveMember("stream");
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
    if (r_.endpoint == Endpoint::Rerank) {
      rename(req, "top_n", q.top_n_field);
      flatten_documents(req, t.spec->name == "voyage");
    }
    // OCR of bytes or a file: the document leaves the DOM and goes into the
    // body as a data URL (base64 written once, into the body).
    std::optional<OcrBytes> ocr;
    if (r_.endpoint == Endpoint::Ocr)
      if (auto d = req.FindMember("document"); d != req.MemberEnd()) {
        ocr = ocr_bytes(d->value, blobs);
        if (ocr) req.RemoveMember(d);
      }
    if (r_.endpoint == Endpoint::Embeddings) rename(req, "dimensions", q.dimensions_field);
    if (r_.endpoint == Endpoint::Embeddings && !req.HasMember("encoding_format") &&
        (t.spec->name == "openai" || t.spec->name == "azure_openai"))
      req.AddMember("encoding_format", "base64", a);  // a third of the bytes; decoded by take_vectors
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
        if (ocr) {
          out.body.pop_back();  // '}'
          if (out.body.size() > 1) out.body += ',';
          const char* field = append_ocr_document(out.body, *ocr);
          out.body += '}';
          // What the request keeps (the answer's parse reads none of it): the chunk without its bytes.
          Value d(rapidjson::kObjectType);
          d.AddMember("type", Value(rapidjson::StringRef(field)), a);
          d.AddMember(Value(rapidjson::StringRef(field)), json::str("data:" + ocr->type + ";base64,", a), a);
          req.AddMember("document", d, a);
        }
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
    if (auto err = d.FindMember("error"); err != d.MemberEnd() && err->value.IsObject())
      throw body_error(t.spec->name + " answered 2xx with an error", d, body, t.secrets, 200, LLM_ERR_SERVER_ERROR);
    if (r_.endpoint == Endpoint::Rerank) normalize_rerank(d);
    return d;
  }

  json::Document parse_for(std::string_view body, const Target& t, const Value& request) const override {
    json::Document d = parse(body, t);
    if (r_.endpoint == Endpoint::Rerank) rerank_documents(d, request, t);
    return d;
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return r_.endpoint == Endpoint::ResponseCreate ? responses_stream_decoder(t, limits) : nullptr;
  }

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
