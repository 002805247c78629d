// Web-search APIs as the "search" endpoint: Brave Search (GET
// /res/v1/web/search, X-Subscription-Token), Tavily (POST /search, a bearer
// key), Exa (POST /search, x-api-key) and Perplexity's Search API (POST
// /search, a bearer key). One request shape in ({"query", "max_results",
// "include_domains", "exclude_domains", "country"}), one answer shape out:
//   {"object": "search.results", "query", "results": [{"title", "url",
//    "snippet", "published_at"?, "score"?}]}
// Each protocol serves search only: a chat to it is LLM_ERR_ENDPOINT_NOT_SUPPORTED.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

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

// An API whose answer does not repeat the query: the request's is the answer's,
// and each object of the answer's "results" becomes one result (add_result).
class QueryFromRequest : public Operation {
 public:
  json::Document parse(std::string_view body, const Target& t) const override {
    return parse_for(body, t, Value(rapidjson::kObjectType));
  }
  json::Document parse_for(std::string_view body, const Target& t, const Value& request) const override {
    json::Document d = parse_object(body, t);
    Results out(request.IsObject() ? str_of(request, "query") : std::string_view());
    const Value* results = json::find(d, "results");
    if (results && results->IsArray())
      for (auto& r : results->GetArray())
        if (r.IsObject()) add_result(out, r);
    return out.take();
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }

 protected:
  virtual void add_result(Results& out, const Value& r) const = 0;
};

// ---------------------------------------------------------------- Exa

// A snippet made from a page's text: its whitespace collapsed, at most about
// kSnippetBytes long, cut at a word (or at least a UTF-8 character) boundary.
constexpr size_t kSnippetBytes = 500;

std::string text_start(std::string_view text) {
  std::string s;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !s.empty();
      continue;
    }
    if (space) s += ' ';
    space = false;
    s += c;
    if (s.size() > kSnippetBytes + 4) break;  // enough to know it is cut
  }
  if (s.size() <= kSnippetBytes) return s;
  size_t cut = kSnippetBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  if (size_t sp = s.rfind(' ', cut); sp != std::string::npos && sp > kSnippetBytes / 2) cut = sp;
  s.resize(cut);
  return s + "\xE2\x80\xA6";  // …
}

// Exa: camelCase fields, domain filters as lists, the country as userLocation.
// Each result's page content comes as asked in "contents": highlights (the
// passages that match the query) by default, the snippet; provider_options.exa
// may ask for text or a summary instead (or as well).
class ExaSearch final : public QueryFromRequest {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember("query", json::str(str_of(req, "query"), a), a);
    body.AddMember("numResults", max_results(req, 10), a);
    for (auto [from, to] : {std::pair{"include_domains", "includeDomains"}, std::pair{"exclude_domains", "excludeDomains"}})
      if (const Value* v = json::find(req, from)) body.AddMember(rapidjson::StringRef(to), Value(*v, a), a);
    if (std::string_view c = str_of(req, "country"); !c.empty()) body.AddMember("userLocation", json::str(c, a), a);
    body.AddMember("type", "auto", a);
    Value highlights(rapidjson::kObjectType), contents(rapidjson::kObjectType);
    highlights.AddMember("maxCharacters", static_cast<uint64_t>(kSnippetBytes), a);
    contents.AddMember("highlights", highlights, a);
    body.AddMember("contents", contents, a);
    codec::finish_body(req, body, t, a, true);  // provider_options.exa (type, category, contents, ...), extra_body
    return codec::post_json(t, endpoint_url(t, Endpoint::Search, "/search"), body, "application/json");
  }

  void add_result(Results& out, const Value& r) const override {
    out.add(str_of(r, "title"), str_of(r, "url"), snippet(r), str_of(r, "publishedDate"), json::find(r, "score"));
  }

 private:
  // The highlights joined, else the summary, else the start of the text.
  static std::string snippet(const Value& r) {
    std::string s;
    if (const Value* h = json::find(r, "highlights"); h && h->IsArray())
      for (auto& x : h->GetArray())
        if (x.IsString() && x.GetStringLength() > 0) s += (s.empty() ? "" : " \xE2\x80\xA6 ") + std::string(json::sv(x));
    if (s.empty()) s = std::string(str_of(r, "summary"));
    if (s.empty()) s = text_start(str_of(r, "text"));
    return s;
  }
};

// ---------------------------------------------------------------- Perplexity

// Perplexity's Search API takes one domain list, search_domain_filter: the
// domains to keep, or (each with a leading "-") the domains to drop, not both
// kinds at once, at most 20.
constexpr size_t kPerplexityMaxDomains = 20;

class PerplexitySearch final : public QueryFromRequest {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember("query", json::str(str_of(req, "query"), a), a);
    body.AddMember("max_results", max_results(req, 10), a);
    const Value* inc = json::find(req, "include_domains");
    const Value* exc = json::find(req, "exclude_domains");
    const bool has_inc = inc && inc->IsArray() && !inc->Empty(), has_exc = exc && exc->IsArray() && !exc->Empty();
    if (has_inc && has_exc)
      codec::bad("exclude_domains", t.spec->name +
                                        " filters by the domains to keep or by those to drop, not both: give "
                                        "include_domains or exclude_domains");
    if (has_inc || has_exc) {
      const Value& list = has_inc ? *inc : *exc;
      if (list.Size() > kPerplexityMaxDomains)
        codec::bad(has_inc ? "include_domains" : "exclude_domains",
                   t.spec->name + " takes at most " + std::to_string(kPerplexityMaxDomains) + " domains, got " +
                       std::to_string(list.Size()));
      Value filter(rapidjson::kArrayType);
      for (auto& d : list.GetArray())
        filter.PushBack(json::str((has_exc ? "-" : "") + std::string(json::sv(d)), a), a);
      body.AddMember("search_domain_filter", filter, a);
    }
    if (std::string_view c = str_of(req, "country"); !c.empty()) body.AddMember("country", json::str(c, a), a);
    // provider_options.perplexity_search (max_tokens_per_page, search_recency_filter, ...), extra_body
    codec::finish_body(req, body, t, a, true);
    return codec::post_json(t, endpoint_url(t, Endpoint::Search, "/search"), body, "application/json");
  }

  void add_result(Results& out, const Value& r) const override {
    std::string_view when = str_of(r, "date");
    if (when.empty()) when = str_of(r, "last_updated");
    out.add(str_of(r, "title"), str_of(r, "url"), str_of(r, "snippet"), when, nullptr);
  }
};

template <class Op>
const Operation* search_only(Endpoint e) {
  static const Op* op = new Op;  // leaked: an I/O thread may use it during exit
  return e == Endpoint::Search ? op : nullptr;
}

}  // namespace

const Operation* brave_operation(Endpoint e) { return search_only<BraveSearch>(e); }
const Operation* tavily_operation(Endpoint e) { return search_only<TavilySearch>(e); }
const Operation* exa_operation(Endpoint e) { return search_only<ExaSearch>(e); }
const Operation* perplexity_search_operation(Endpoint e) { return search_only<PerplexitySearch>(e); }

}  // namespace literllm
