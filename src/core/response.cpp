#include "core/response.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "auth/crypto.hpp"
#include "core/error.hpp"
#include "core/json_fast.hpp"

namespace literllm {

namespace {
Str borrow(const json::Value* v) {
  if (v && v->IsString()) return Str(v->GetString(), v->GetStringLength());
  return Str();
}
int64_t opt_int(const json::Value* v, int64_t absent) { return v && v->IsInt64() ? v->GetInt64() : absent; }

// The bytes a base64 text decodes to, from its length alone (its characters are
// checked when it is decoded); SIZE_MAX when no base64 text has that length.
size_t base64_size(std::string_view t) {
  if (t.size() % 4 != 0) return SIZE_MAX;
  size_t pad = 0;
  while (pad < 2 && pad < t.size() && t[t.size() - 1 - pad] == '=') ++pad;
  return t.size() / 4 * 3 - pad;
}

[[noreturn]] void bad_embedding(const std::string& provider, size_t i, const std::string& why) {
  throw Error(LLM_ERR_SERIALIZATION,
              provider + " embeddings answer: data[" + std::to_string(i) + "].embedding " + why);
}

// data[i].embedding's float32 values (base64 text, little-endian as this host
// is), written to `out` (`n` of them).
void decode_row(const json::Value& e, float* out, size_t n, const std::string& provider, size_t i) {
  std::string bytes;
  try {
    bytes = auth::base64_decode(json::sv(e), "the base64 text");
  } catch (const Error& err) {
    bad_embedding(provider, i, "is not valid base64");
  }
  if (bytes.size() != n * sizeof(float)) bad_embedding(provider, i, "is not valid base64");
  if (n == 0) return;  // (`out` may be null then)
  std::memcpy(out, bytes.data(), bytes.size());
  for (size_t k = 0; k < n; ++k)
    if (!std::isfinite(out[k])) bad_embedding(provider, i, "holds a NaN or an infinity");
}

// An answer whose vectors fit no single buffer keeps them in the document: its
// base64 ones decoded into arrays of numbers there.
void decode_in_place(json::Value& data, json::Document::AllocatorType& a, const std::string& provider) {
  for (rapidjson::SizeType i = 0; i < data.Size(); ++i) {
    json::Value& item = data[i];
    if (!item.IsObject()) continue;
    auto e = item.FindMember("embedding");
    if (e == item.MemberEnd() || !e->value.IsString()) continue;
    const size_t size = base64_size(json::sv(e->value));
    if (size == SIZE_MAX || size % sizeof(float) != 0)
      bad_embedding(provider, i, "is not float32 values in base64 (" + std::to_string(e->value.GetStringLength()) +
                                     " characters)");
    std::vector<float> row(size / sizeof(float));
    decode_row(e->value, row.data(), row.size(), provider, i);
    json::Value arr(rapidjson::kArrayType);
    arr.Reserve(static_cast<rapidjson::SizeType>(row.size()), a);
    for (float f : row) arr.PushBack(json::Value(static_cast<double>(f)), a);
    e->value = std::move(arr);
  }
}

void append_row(std::string& out, const float* v, size_t n) {
  char buf[32];
  out += '[';
  for (size_t k = 0; k < n; ++k) {
    if (k) out += ',';
    // The shortest text that reads back as the same float ("-0.0", not "-0":
    // JSON readers take that for the integer 0).
    if (v[k] == 0 && std::signbit(v[k])) {
      out += "-0.0";
      continue;
    }
    const auto res = std::to_chars(buf, buf + sizeof buf, v[k]);
    out.append(buf, static_cast<size_t>(res.ptr - buf));
  }
  out += ']';
}

void append_key(std::string& out, const json::Value& name) {
  out += '"';
  json::append_escaped(out, json::sv(name));
  out += "\":";
}
}  // namespace

std::optional<Vectors> take_vectors(json::Document& doc, const std::string& provider) {
  if (!doc.IsObject()) return std::nullopt;
  auto dm = doc.FindMember("data");
  if (dm == doc.MemberEnd() || !dm->value.IsArray() || dm->value.Empty()) return std::nullopt;
  json::Value& data = dm->value;
  const size_t n = data.Size();
  // First the shape: one width, every row named once.
  Vectors v;
  v.row_of_item.resize(n);
  std::vector<bool> taken(n, false);
  bool fits = true;
  for (size_t i = 0; i < n && fits; ++i) {
    const json::Value& item = data[static_cast<rapidjson::SizeType>(i)];
    const json::Value* e = item.IsObject() ? json::find(item, "embedding") : nullptr;
    size_t width = 0;
    if (e && e->IsString()) {
      const size_t size = base64_size(json::sv(*e));
      if (size == SIZE_MAX || size % sizeof(float) != 0)
        bad_embedding(provider, i,
                      "is not float32 values in base64 (" + std::to_string(e->GetStringLength()) + " characters)");
      width = size / sizeof(float);
    } else {
      // Numbers stay in the document as the answer wrote them (a double's
      // digits would not survive a float).
      fits = false;
    }
    const json::Value* idx = e ? json::find(item, "index") : nullptr;
    const uint64_t row = idx && idx->IsUint64() ? idx->GetUint64() : (idx ? UINT64_MAX : i);
    fits = fits && width > 0 && (v.dims == 0 || width == v.dims) && row < n && !taken[row];
    if (!fits) break;
    v.dims = width;
    taken[row] = true;
    v.row_of_item[i] = row;
  }
  if (!fits) {
    decode_in_place(data, doc.GetAllocator(), provider);
    return std::nullopt;
  }
  v.rows = n;
  v.values.resize(n * v.dims);
  for (size_t i = 0; i < n; ++i) {
    json::Value& e = data[static_cast<rapidjson::SizeType>(i)]["embedding"];
    float* out = v.values.data() + v.row_of_item[i] * v.dims;
    decode_row(e, out, v.dims, provider, i);
    e.SetNull();
  }
  // The rest, rebuilt on its own: the vectors' text (or numbers) leave memory.
  json::Document small = json::parse(json::dump(doc), "embeddings answer", LLM_ERR_SERIALIZATION);
  doc.Swap(small);
  return v;
}

std::unique_ptr<Response> Response::from(json::Document&& doc, const std::string& provider, const CallStats& st,
                                         std::optional<Vectors>&& vectors) {
  auto r = std::make_unique<Response>();
  auto& a = doc.GetAllocator();
  r->provider = provider;
  r->stats = st;
  doc.RemoveMember("provider");
  doc.AddMember("provider", json::str(provider, a), a);
  json::Value s(rapidjson::kObjectType);
  s.AddMember("bytes_sent", st.bytes_sent, a);
  s.AddMember("bytes_received", st.bytes_received, a);
  s.AddMember("latency_ms", st.latency_ms, a);
  s.AddMember("http_status", static_cast<int64_t>(st.http_status), a);
  s.AddMember("retries", st.retries, a);
  doc.RemoveMember("stats");
  doc.AddMember("stats", s, a);
  // The document is final from here on: the borrowed strings point into it.
  r->body_ = std::make_shared<Body>();
  r->body_->doc = std::move(doc);
  const json::Document& d = r->body_->doc;

  r->model = borrow(json::find(d, "model"));
  if (auto* choices = json::find(d, "choices"); choices && choices->IsArray() && !choices->Empty()) {
    const json::Value& c0 = (*choices)[0];
    r->finish_reason = borrow(json::find(c0, "finish_reason"));
    if (auto* msg = json::find(c0, "message"); msg && msg->IsObject()) {
      r->text = borrow(json::find(*msg, "content"));
      r->refusal = borrow(json::find(*msg, "refusal"));
      if (auto* tc = json::find(*msg, "tool_calls"); tc && tc->IsArray() && !tc->Empty())
        r->tool_calls_json = json::dump(*tc);
    }
  }
  if (auto* u = json::find(d, "usage"); u && u->IsObject()) {
    r->prompt_tokens = opt_int(json::find(*u, "prompt_tokens"), -1);
    r->completion_tokens = opt_int(json::find(*u, "completion_tokens"), -1);
    r->total_tokens = opt_int(json::find(*u, "total_tokens"), -1);
    r->cached_tokens = 0;
    if (auto* d = json::find(*u, "prompt_tokens_details"); d && d->IsObject())
      r->cached_tokens = opt_int(json::find(*d, "cached_tokens"), 0);
  }
  if (vectors) {
    Body& b = *r->body_;
    b.floats = std::move(vectors->values);
    b.rows = vectors->rows;
    b.dims = vectors->dims;
    b.row_of_item = std::move(vectors->row_of_item);
    b.floats_made.store(true, std::memory_order_release);
  }
  return r;
}

const float* Response::embeddings(size_t* count, size_t* dims) const {
  Body* b = body_.get();
  if (!b->floats_made.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(b->mu);
    if (!b->floats_made.load(std::memory_order_relaxed)) {
      std::vector<float> out;
      size_t rows = 0, width = 0;
      const json::Value* data = json::find(b->doc, "data");
      bool ok = data && data->IsArray() && !data->Empty();
      if (ok) {
        rows = data->Size();
        std::vector<const json::Value*> by_index(rows, nullptr);
        for (rapidjson::SizeType i = 0; ok && i < data->Size(); ++i) {
          const json::Value& item = (*data)[i];
          const json::Value* idx = json::find(item, "index");
          const uint64_t at = idx && idx->IsUint64() ? idx->GetUint64() : i;
          const json::Value* e = json::find(item, "embedding");
          ok = at < rows && !by_index[at] && e && e->IsArray() && !e->Empty() && (width == 0 || e->Size() == width);
          if (ok) {
            by_index[at] = e;
            width = e->Size();
          }
        }
        if (ok) {
          out.reserve(rows * width);
          for (const json::Value* e : by_index)
            for (auto& x : e->GetArray()) {
              if (!x.IsNumber()) {
                ok = false;
                break;
              }
              out.push_back(static_cast<float>(x.GetDouble()));
            }
        }
      }
      if (ok) {
        b->floats = std::move(out);
        b->rows = rows;
        b->dims = width;
      }
      b->floats_made.store(true, std::memory_order_release);
    }
  }
  if (count) *count = b->floats.empty() ? 0 : b->rows;
  if (dims) *dims = b->floats.empty() ? 0 : b->dims;
  return b->floats.empty() ? nullptr : b->floats.data();
}

std::string Response::dump_with_vectors() const {
  // The document as json::dump writes it, data[i].embedding from the floats.
  const Body& b = *body_;
  std::string out;
  out.reserve(b.floats.size() * 12 + 4096);
  out += '{';
  bool first = true;
  for (const auto& m : b.doc.GetObject()) {
    if (!first) out += ',';
    first = false;
    append_key(out, m.name);
    if (json::sv(m.name) != "data" || !m.value.IsArray()) {
      out += json::dump(m.value);
      continue;
    }
    out += '[';
    for (rapidjson::SizeType i = 0; i < m.value.Size(); ++i) {
      if (i) out += ',';
      const json::Value& item = m.value[i];
      out += '{';
      bool first_field = true;
      for (const auto& f : item.GetObject()) {
        if (!first_field) out += ',';
        first_field = false;
        append_key(out, f.name);
        if (json::sv(f.name) == "embedding" && i < b.row_of_item.size())
          append_row(out, b.floats.data() + b.row_of_item[i] * b.dims, b.dims);
        else
          out += json::dump(f.value);
      }
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

const std::string& Response::json() const {
  Body* b = body_.get();
  if (!b->dumped.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(b->mu);
    if (!b->dumped.load(std::memory_order_relaxed)) {  // a dump that threw left it false: try again
      b->text = b->row_of_item.empty() ? json::dump(b->doc) : dump_with_vectors();
      b->dumped.store(true, std::memory_order_release);
    }
  }
  return b->text;
}

}  // namespace literllm
