// Web-search APIs as the "search" endpoint: Brave Search (GET
// /res/v1/web/search, X-Subscription-Token) and Tavily (POST /search, a
// bearer key). One request shape in ({"query", "max_results",
// "include_domains", "exclude_domains", "country"}), one answer shape out:
//   {"object": "search.results", "query", "results": [{"title", "url",
//    "snippet", "published_at"?, "score"?}]}
// Each protocol serves search only: a chat to it is LLM_ERR_ENDPOINT_NOT_SUPPORTED.
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "http/headers.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"

namespace literllm {

namespace {

using json::Value;
using codec::str_of;

// The normalized answer, built result by result.
class Results {
 public:
  explicit Results(std::string_view query) : d_(rapidjson::kObjectType), list_(rapidjson::kArrayType) {
    auto& a = d_.GetAllocator();
    d_.AddMember("object", "search.results", a);
    d_.AddMember("query", json::str(query, a), a);
  }
  void add(std::string_view title, std::string_view url, std::string_view snippet, std::string_view published,
           const Value* score) {
    auto& a = d_.GetAllocator();
    Value r(rapidjson::kObjectType);
    r.AddMember("title", json::str(title, a), a);
    r.AddMember("url", json::str(url, a), a);
    r.AddMember("snippet", json::str(snippet, a), a);
    if (!published.empty()) r.AddMember("published_at", json::str(published, a), a);
    if (score && score->IsNumber()) r.AddMember("score", score->GetDouble(), a);
    list_.PushBack(r, a);
  }
  json::Document take() {
    d_.AddMember("results", list_, d_.GetAllocator());
    return std::move(d_);
  }

 private:
  json::Document d_;
  Value list_;
};

json::Document parse_object(std::string_view body, const Target& t) {
  json::Document d = json::parse(body, (t.spec->name + " response").c_str(), LLM_ERR_SERIALIZATION);
  if (!d.IsObject()) throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " response is not a JSON object");
  return d;
}

int64_t max_results(const Value& req, int64_t fallback) {
  const Value* m = json::find(req, "max_results");
  return m && m->IsInt64() ? m->GetInt64() : fallback;
}

// ---------------------------------------------------------------- Brave

// Brave takes domain filters as query operators (site:, -site:) and at most
// 20 results per request.
constexpr int64_t kBraveMaxCount = 20;

class BraveSearch final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    std::string q(str_of(req, "query"));
    // Any of the included sites, none of the excluded ones.
    if (const Value* inc = json::find(req, "include_domains"); inc && inc->IsArray() && !inc->Empty()) {
      std::string any;
      for (auto& d : inc->GetArray()) any += (any.empty() ? "site:" : " OR site:") + std::string(json::sv(d));
      q += inc->Size() > 1 ? " (" + any + ")" : " " + any;
    }
    if (const Value* exc = json::find(req, "exclude_domains"); exc && exc->IsArray())
      for (auto& d : exc->GetArray()) q += " -site:" + std::string(json::sv(d));
    const int64_t n = max_results(req, 10);
    if (n > kBraveMaxCount)
      invalid("request.max_results: brave returns at most " + std::to_string(kBraveMaxCount) + " results, got " +
              std::to_string(n));
    std::string query = "q=" + url_encode(q) + "&count=" + std::to_string(n);
    if (std::string_view c = str_of(req, "country"); !c.empty()) query += "&country=" + url_encode(c);
    // provider_options.brave: more query parameters (safesearch, freshness, search_lang, ...).
    json::Value extra(rapidjson::kObjectType);
    merge_provider_options(req, extra, t, req.GetAllocator());
    for (auto& m : extra.GetObject())
      query += "&" + url_encode(json::sv(m.name)) + "=" +
               url_encode(m.value.IsString() ? std::string(json::sv(m.value)) : json::dump(m.value));
    http::Request r;
    r.method = "GET";
    r.url = endpoint_url(t, Endpoint::Search, "/res/v1/web/search") + "?" + query;
    r.headers.emplace_back("Accept", "application/json");
    for (auto& h : t.headers) http::set_header(r.headers, h.first, h.second);
    return r;
  }

  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document d = parse_object(body, t);
    const Value* q = json::find(d, "query");
    Results out(q ? str_of(*q, "original") : std::string_view());
    const Value* web = json::find(d, "web");
    const Value* results = web ? json::find(*web, "results") : nullptr;
    if (results && results->IsArray())
      for (auto& r : results->GetArray())
        out.add(str_of(r, "title"), str_of(r, "url"), str_of(r, "description"), str_of(r, "page_age"), nullptr);
    return out.take();
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

// ---------------------------------------------------------------- Tavily

class TavilySearch final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember("query", json::str(str_of(req, "query"), a), a);
    body.AddMember("max_results", max_results(req, 5), a);
    for (const char* f : {"include_domains", "exclude_domains"})
      if (const Value* v = json::find(req, f)) body.AddMember(rapidjson::StringRef(f), Value(*v, a), a);
    if (std::string_view c = str_of(req, "country"); !c.empty()) body.AddMember("country", json::str(c, a), a);
    codec::finish_body(req, body, t, a, true);  // provider_options.tavily (search_depth, topic, ...), extra_body
    return codec::post_json(t, endpoint_url(t, Endpoint::Search, "/search"), body, "application/json");
  }

  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document d = parse_object(body, t);
    Results out(str_of(d, "query"));
    const Value* results = json::find(d, "results");
    if (results && results->IsArray())
      for (auto& r : results->GetArray())
        out.add(str_of(r, "title"), str_of(r, "url"), str_of(r, "content"), str_of(r, "published_date"),
                json::find(r, "score"));
    return out.take();
  }

  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

template <class Op>
const Operation* search_only(Endpoint e) {
  static const Op* op = new Op;  // leaked: an I/O thread may use it during exit
  return e == Endpoint::Search ? op : nullptr;
}

}  // namespace

const Operation* brave_operation(Endpoint e) { return search_only<BraveSearch>(e); }
const Operation* tavily_operation(Endpoint e) { return search_only<TavilySearch>(e); }

}  // namespace literllm
