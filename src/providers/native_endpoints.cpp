// The shared pieces of the native protocols' endpoints beyond chat (see
// native_endpoints.hpp).
#include <algorithm>
#include "providers/native_endpoints.hpp"

#include <ctime>

#include "core/error.hpp"
#include "http/headers.hpp"
#include "providers/codec.hpp"

namespace literllm::native {

std::vector<std::string_view> input_texts(const json::Value& req, const std::string& provider) {
  std::vector<std::string_view> out;
  const json::Value* in = json::find(req, "input");
  if (!in) invalid("request.input: is required");
  if (in->IsString()) {
    out.push_back(json::sv(*in));
    return out;
  }
  if (in->IsArray())
    for (auto& x : in->GetArray()) {
      if (!x.IsString()) break;
      out.push_back(json::sv(x));
    }
  if (!in->IsArray() || out.size() != in->Size())
    invalid("request.input: " + provider + " embeds text: a string or an array of strings (token ids are OpenAI's)");
  return out;
}

int64_t int_or(const json::Value& req, const char* key, int64_t fallback) {
  const json::Value* v = json::find(req, key);
  if (v && v->IsInt64()) return v->GetInt64();
  if (v && v->IsNumber() && v->GetDouble() >= 0 && v->GetDouble() < 9e15) return static_cast<int64_t>(v->GetDouble());
  return fallback;  // (a count sent as 2.0 is read as 2)
}

std::string text_of(const json::Value& req, const char* key) {
  const json::Value* v = json::find(req, key);
  if (!v) return {};
  if (v->IsString()) return std::string(json::sv(*v));
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  return json::dump(*v);
}

EmbeddingList::EmbeddingList(std::string_view model)
    : d_(rapidjson::kObjectType), data_(rapidjson::kArrayType), model_(model) {}

void EmbeddingList::add(const json::Value& values, const std::string& what) {
  auto& a = d_.GetAllocator();
  if (!values.IsArray() || values.Empty())
    throw Error(LLM_ERR_SERIALIZATION, what + " is not a non-empty array of numbers");
  json::Value vec(rapidjson::kArrayType);
  vec.Reserve(values.Size(), a);
  for (auto& x : values.GetArray()) {
    if (!x.IsNumber()) throw Error(LLM_ERR_SERIALIZATION, what + " holds " + json::type_name(x) + ", not a number");
    vec.PushBack(json::Value(x.GetDouble()), a);
  }
  json::Value item(rapidjson::kObjectType);
  item.AddMember("object", "embedding", a);
  item.AddMember("index", static_cast<uint64_t>(data_.Size()), a);
  item.AddMember("embedding", vec, a);
  data_.PushBack(item, a);
}

json::Document EmbeddingList::build(int64_t prompt_tokens) {
  auto& a = d_.GetAllocator();
  d_.AddMember("object", "list", a);
  d_.AddMember("data", data_, a);
  d_.AddMember("model", json::str(model_, a), a);
  json::Value usage(rapidjson::kObjectType);
  usage.AddMember("prompt_tokens", prompt_tokens, a);
  usage.AddMember("total_tokens", prompt_tokens, a);
  d_.AddMember("usage", usage, a);
  return std::move(d_);
}

json::Value model_item(std::string_view id, int64_t created, std::string_view owned_by, const json::Value* extra,
                       json::Allocator& a) {
  json::Value item(rapidjson::kObjectType);
  item.AddMember("id", json::str(id, a), a);
  item.AddMember("object", "model", a);
  item.AddMember("created", created, a);
  item.AddMember("owned_by", json::str(owned_by, a), a);
  if (extra && extra->IsObject())
    for (auto& m : extra->GetObject())
      if (!item.HasMember(m.name)) item.AddMember(json::Value(m.name, a), json::Value(m.value, a), a);
  return item;
}

http::Request get_json(const Target& t, std::string url, const std::vector<std::pair<std::string, std::string>>& params,
                       std::initializer_list<std::pair<const char*, const char*>> extra) {
  http::Request r;
  r.method = "GET";
  std::string query;
  for (auto& [k, v] : params) {
    if (v.empty()) continue;
    query += query.empty() ? "" : "&";
    query += url_encode(k) + "=" + url_encode(v);
  }
  if (!query.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + query;
  r.url = std::move(url);
  r.headers.emplace_back("Accept", "application/json");
  for (auto& [name, value] : extra) r.headers.emplace_back(name, value);
  for (auto& h : t.headers) http::set_header(r.headers, h.first, h.second);
  return r;
}

json::Document parse_object(std::string_view body, const std::string& what) {
  json::Document d = json::parse(body, what.c_str(), LLM_ERR_SERIALIZATION);
  if (!d.IsObject()) throw Error(LLM_ERR_SERIALIZATION, what + " is not a JSON object");
  return d;
}

int64_t rfc3339_secs(std::string_view s) {
  if (s.size() < 19) return 0;
  std::tm tm{};
  auto num = [&](size_t at, size_t n, int& out) {
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) || (s[10] != 'T' && s[10] != ' ') ||
      !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, se))
    return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  return static_cast<int64_t>(timegm(&tm));  // offsets other than Z are read as Z (model dates are UTC)
}

json::Document model_page(const json::Value& src, std::string_view owned_by, const char* next_key,
                          std::string_view (*id_of)(std::string_view name)) {
  return model_page(src, "models", owned_by, next_key, id_of);
}

json::Document model_page(const json::Value& src, const char* list_key, std::string_view owned_by,
                          const char* next_key, std::string_view (*id_of)(std::string_view name)) {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  json::Value data(rapidjson::kArrayType);
  if (const json::Value* models = json::find(src, list_key); models && models->IsArray())
    for (auto& m : models->GetArray()) {
      std::string_view name = codec::str_of(m, "name");
      if (!name.empty()) data.PushBack(model_item(id_of(name), 0, owned_by, &m, a), a);
    }
  d.AddMember("object", "list", a);
  d.AddMember("data", data, a);
  std::string_view next = codec::str_of(src, next_key);
  d.AddMember("has_more", !next.empty(), a);
  if (!next.empty()) d.AddMember("next_page_token", json::str(next, a), a);
  return d;
}

json::Value rerank_results(const json::Value& results, const char* score_key, const json::Value& request,
                           const std::string& what, json::Document::AllocatorType& a,
                           json::Value (*answer_document)(const json::Value& doc, json::Document::AllocatorType& a)) {
  const json::Value* docs = json::find(request, "documents");
  const json::Value* rd = json::find(request, "return_documents");
  const bool with_docs = rd && rd->IsBool() && rd->GetBool() && docs && docs->IsArray();
  json::Value out(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < results.Size(); ++i) {
    const json::Value& r = results[i];
    const json::Value* index = json::find(r, "index");
    const json::Value* score = json::find(r, score_key);
    if (!index || !index->IsUint64() || !score || !score->IsNumber())
      throw Error(LLM_ERR_SERIALIZATION, what + ": results[" + std::to_string(i) + "] lacks an integer index or a " +
                                             score_key);
    json::Value item(rapidjson::kObjectType);
    item.AddMember("index", index->GetUint64(), a);
    item.AddMember("relevance_score", score->GetDouble(), a);
    if (with_docs) {
      if (index->GetUint64() >= docs->Size())
        throw Error(LLM_ERR_SERIALIZATION, what + ": results[" + std::to_string(i) + "].index " +
                                               std::to_string(index->GetUint64()) + " names no document of the " +
                                               std::to_string(docs->Size()) + " sent");
      const json::Value& sent = (*docs)[static_cast<rapidjson::SizeType>(index->GetUint64())];
      const json::Value* text = sent.IsString() ? &sent : json::find(sent, "text");
      json::Value dv(rapidjson::kObjectType);
      dv.AddMember("text", text && text->IsString() ? json::Value(*text, a) : json::Value(""), a);
      item.AddMember("document", dv, a);
    } else if (const json::Value* doc = json::find(r, "document"); doc && doc->IsObject()) {
      item.AddMember("document", answer_document(*doc, a), a);
    }
    out.PushBack(item, a);
  }
  auto arr = out.GetArray();
  std::stable_sort(arr.begin(), arr.end(), [](const json::Value& x, const json::Value& y) {
    return x["relevance_score"].GetDouble() > y["relevance_score"].GetDouble();
  });
  return out;
}

}  // namespace literllm::native
