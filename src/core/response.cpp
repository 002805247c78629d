#include "core/response.hpp"

namespace literllm {

namespace {
Str borrow(const json::Value* v) {
  if (v && v->IsString()) return Str(v->GetString(), v->GetStringLength());
  return Str();
}
int64_t opt_int(const json::Value* v, int64_t absent) { return v && v->IsInt64() ? v->GetInt64() : absent; }
}  // namespace

std::unique_ptr<Response> Response::from(json::Document&& doc, const std::string& provider, const CallStats& st) {
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

const std::string& Response::json() const {
  Body* b = body_.get();
  if (!b->dumped.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(b->mu);
    if (!b->dumped.load(std::memory_order_relaxed)) {  // a dump that threw left it false: try again
      b->text = json::dump(b->doc);
      b->dumped.store(true, std::memory_order_release);
    }
  }
  return b->text;
}

}  // namespace literllm
