// The local upstream's web-search routes. Brave answers GET
// /res/v1/web/search?q=..&count=.. (X-Subscription-Token) with
// {"type":"search","query":{"original"},"web":{"results":[{"title","url",
// "description","page_age"}]}}; Tavily answers POST /search ({"query",
// "max_results", "include_domains", "exclude_domains", ...}, a bearer key)
// with {"query","results":[{"title","url","content","score"}],...}. Results
// are made from the query: result i of "q" is https://<domain>/q-i, where the
// domain is the first of the request's included domains (Brave: its site:
// operators) that is not excluded, else example-i.test.
//
// Exa answers POST /exa/search ({"query", "numResults", "includeDomains",
// "excludeDomains", "userLocation", "type", "contents": {"text",
// "highlights", "summary"}}, x-api-key) with {"requestId", "resolvedSearchType",
// "results": [{"id","title","url","publishedDate","author","score", and text /
// highlights + highlightScores / summary as "contents" asked}], "searchTime",
// "costDollars"}; its errors are {"requestId","error","tag"}. Perplexity's
// Search API answers POST /perplexity/search ({"query", "max_results",
// "search_domain_filter" (domains to keep, or "-domain"s to drop, not both),
// "country", "max_tokens_per_page", ...}, a bearer key) with {"id",
// "results": [{"title","url","snippet","date","last_updated"}]}; its
// validation errors are FastAPI's {"detail": [{"type","loc","msg"}]} (422).
#include "search.hpp"

#include <rapidjson/document.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "anthropic.hpp"  // the shared helpers of handler.cpp
#include "json_util.hpp"

namespace literllm::testing::detail {

namespace {

using json_util::put;
using json_util::Writer;

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The query string's value of `name` ("" when absent), decoded.
std::string query_param(std::string_view target, std::string_view name, bool* present = nullptr) {
  if (present) *present = false;
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      if (present) *present = true;
      return eq == std::string_view::npos ? std::string() : url_decode(kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

std::string slug(std::string_view q) {
  std::string s;
  for (char c : q) s += (std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-');
  return s.substr(0, 40);
}

struct Hit {
  std::string title, url, snippet;
  double score;
};

std::vector<Hit> hits(std::string_view query, long n, const std::vector<std::string>& include,
                      const std::vector<std::string>& exclude) {
  std::vector<std::string> domains;
  for (auto& d : include) {
    bool out = false;
    for (auto& x : exclude) out = out || x == d;
    if (!out) domains.push_back(d);
  }
  std::vector<Hit> v;
  for (long i = 0; i < n; ++i) {
    std::string domain = domains.empty() ? "example-" + std::to_string(i) + ".test"
                                         : domains[static_cast<size_t>(i) % domains.size()];
    bool excluded = false;
    for (auto& x : exclude) excluded = excluded || x == domain;
    if (excluded) domain = "other-" + std::to_string(i) + ".test";
    v.push_back({"Result " + std::to_string(i + 1) + " for " + std::string(query),
                 "https://" + domain + "/" + slug(query) + "-" + std::to_string(i + 1),
                 "What the page says about " + std::string(query) + " (" + std::to_string(i + 1) + ").",
                 1.0 - 0.05 * static_cast<double>(i)});
  }
  return v;
}

// Brave's error answer.
Plan brave_error(int status, std::string_view code, std::string_view detail) {
  return shared::json_plan(status, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("type");
    w.String("ErrorResponse");
    w.Key("error");
    w.StartObject();
    w.Key("id");
    w.String("upstream-error");
    w.Key("status");
    w.Int(status);
    w.Key("code");
    put(w, code);
    w.Key("detail");
    put(w, detail);
    w.EndObject();
    w.EndObject();
  }));
}

Plan brave(const RecordedRequest& req, const std::string& require_key) {
  std::string key(shared::trim(req.header("x-subscription-token")));
  if (key.empty() || (!require_key.empty() && key != require_key))
    return brave_error(401, "SUBSCRIPTION_TOKEN_INVALID", "The provided subscription token is invalid.");
  if (req.method != "GET") return brave_error(405, "METHOD_NOT_ALLOWED", "Use GET.");
  bool has_q = false;
  std::string q = query_param(req.target, "q", &has_q);
  if (!has_q || q.empty()) return brave_error(422, "VALIDATION", "Unable to validate request parameter(s): q");
  long count = 20;
  if (std::string c = query_param(req.target, "count"); !c.empty()) {
    try {
      count = std::stol(c);
    } catch (...) {
      count = -1;
    }
  }
  if (count < 1 || count > 20) return brave_error(422, "VALIDATION", "Unable to validate request parameter(s): count");
  // site: and -site: operators, the rest of the words the query.
  std::vector<std::string> include, exclude;
  std::string words;
  size_t i = 0;
  while (i < q.size()) {
    size_t j = q.find(' ', i);
    std::string w = q.substr(i, j == std::string::npos ? std::string::npos : j - i);
    std::string bare = w;
    while (!bare.empty() && (bare.front() == '(')) bare.erase(0, 1);
    while (!bare.empty() && (bare.back() == ')')) bare.pop_back();
    if (bare.rfind("site:", 0) == 0) include.push_back(bare.substr(5));
    else if (bare.rfind("-site:", 0) == 0) exclude.push_back(bare.substr(6));
    else if (bare != "OR" && !bare.empty()) words += (words.empty() ? "" : " ") + bare;
    if (j == std::string::npos) break;
    i = j + 1;
  }
  auto found = hits(words, count, include, exclude);
  return shared::json_plan(200, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("type");
    w.String("search");
    w.Key("query");
    w.StartObject();
    w.Key("original");
    put(w, q);
    w.Key("country");
    put(w, query_param(req.target, "country"));
    w.EndObject();
    w.Key("web");
    w.StartObject();
    w.Key("type");
    w.String("search");
    w.Key("results");
    w.StartArray();
    for (auto& h : found) {
      w.StartObject();
      w.Key("type");
      w.String("search_result");
      w.Key("title");
      put(w, h.title);
      w.Key("url");
      put(w, h.url);
      w.Key("description");
      put(w, h.snippet);
      w.Key("page_age");
      w.String("2026-11-30T12:00:00");
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
  }));
}

Plan tavily_error(int status, std::string_view message) {
  return shared::json_plan(status, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("detail");
    w.StartObject();
    w.Key("error");
    put(w, message);
    w.EndObject();
    w.EndObject();
  }));
}

Plan tavily(const RecordedRequest& req, const std::string& require_key) {
  std::string auth(shared::trim(req.header("authorization")));
  std::string key = auth.size() > 7 && shared::iequals(auth.substr(0, 7), "bearer ") ? auth.substr(7) : std::string();
  if (key.empty() || (!require_key.empty() && key != require_key))
    return tavily_error(401, "Unauthorized: missing or invalid API key.");
  if (req.method != "POST") return tavily_error(405, "Method Not Allowed");
  rapidjson::Document d;
  d.Parse(req.body.data(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) return tavily_error(400, "Invalid JSON body.");
  const rapidjson::Value* q = json_util::find(d, "query");
  if (!q || !q->IsString() || q->GetStringLength() == 0) return tavily_error(400, "Query is missing.");
  long n = 5;
  if (const rapidjson::Value* m = json_util::find(d, "max_results")) {
    if (!m->IsInt() || m->GetInt() < 0 || m->GetInt() > 20) return tavily_error(400, "max_results must be between 0 and 20.");
    n = m->GetInt();
  }
  std::vector<std::string> include, exclude;
  for (auto [field, out] : {std::pair{"include_domains", &include}, std::pair{"exclude_domains", &exclude}}) {
    if (const rapidjson::Value* l = json_util::find(d, field)) {
      if (!l->IsArray()) return tavily_error(400, std::string(field) + " must be a list of strings.");
      for (auto& x : l->GetArray()) {
        if (!x.IsString()) return tavily_error(400, std::string(field) + " must be a list of strings.");
        out->emplace_back(json_util::sv(x));
      }
    }
  }
  for (const char* k : {"search_depth", "topic"})
    if (const rapidjson::Value* v = json_util::find(d, k); v && !v->IsString())
      return tavily_error(400, std::string(k) + " must be a string.");
  auto found = hits(json_util::sv(*q), n, include, exclude);
  return shared::json_plan(200, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("query");
    put(w, json_util::sv(*q));
    w.Key("follow_up_questions");
    w.Null();
    w.Key("answer");
    w.Null();
    w.Key("images");
    w.StartArray();
    w.EndArray();
    w.Key("results");
    w.StartArray();
    for (auto& h : found) {
      w.StartObject();
      w.Key("title");
      put(w, h.title);
      w.Key("url");
      put(w, h.url);
      w.Key("content");
      put(w, h.snippet);
      w.Key("score");
      w.Double(h.score);
      w.Key("raw_content");
      w.Null();
      w.EndObject();
    }
    w.EndArray();
    w.Key("response_time");
    w.Double(0.42);
    w.EndObject();
  }));
}

// ---------------------------------------------------------------- Exa

// A deterministic id from text (FNV-1a), as 32 hex digits.
std::string hex_id(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  static const char* d = "0123456789abcdef";
  std::string out;
  for (uint64_t x : {h, h * 31 + 7})
    for (int i = 60; i >= 0; i -= 4) out += d[(x >> i) & 0xF];
  return out;
}

Plan exa_error(int status, std::string_view tag, std::string_view message) {
  return shared::json_plan(status, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("requestId");
    w.String("exa-error-0000");
    w.Key("error");
    put(w, message);
    w.Key("tag");
    put(w, tag);
    w.EndObject();
  }));
}

// A page's text: what the hit says, then more of it, `n` characters long.
std::string page_text(const Hit& h, size_t n) {
  std::string t = h.title + "\n\n" + h.snippet;
  while (t.size() < 1200) t += " More about " + h.title + ", paragraph " + std::to_string(t.size() / 100) + ".";
  return t.substr(0, n);
}

// contents.<name>: absent, true/false, or an object with an optional positive
// integer maxCharacters. Empty when valid.
std::string exa_contents_field(const rapidjson::Value& contents, const char* name, bool& on, long& max_chars) {
  on = false;
  const rapidjson::Value* v = json_util::find(contents, name);
  if (!v) return {};
  if (v->IsBool()) {
    on = v->GetBool();
    return {};
  }
  if (!v->IsObject()) return std::string("contents.") + name + ": expected a boolean or an object";
  on = true;
  if (const rapidjson::Value* m = json_util::find(*v, "maxCharacters")) {
    if (!m->IsInt() || m->GetInt() < 1) return std::string("contents.") + name + ".maxCharacters: expected a positive integer";
    max_chars = m->GetInt();
  }
  return {};
}

Plan exa(const RecordedRequest& req, const std::string& require_key) {
  std::string key(shared::trim(req.header("x-api-key")));
  if (key.empty()) return exa_error(401, "INVALID_API_KEY", "Missing API key: send it in the x-api-key header.");
  if (!require_key.empty() && key != require_key) return exa_error(401, "INVALID_API_KEY", "Invalid API key");
  if (req.method != "POST") return exa_error(405, "METHOD_NOT_ALLOWED", "Use POST.");
  rapidjson::Document d;
  d.Parse(req.body.data(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) return exa_error(400, "INVALID_REQUEST_BODY", "Invalid JSON body.");
  const rapidjson::Value* q = json_util::find(d, "query");
  if (!q || !q->IsString() || q->GetStringLength() == 0)
    return exa_error(400, "INVALID_REQUEST_BODY", "query: Required, a non-empty string");
  long n = 10;
  if (const rapidjson::Value* m = json_util::find(d, "numResults")) {
    if (!m->IsInt() || m->GetInt() < 1 || m->GetInt() > 100)
      return exa_error(400, "INVALID_REQUEST_BODY", "numResults: Number must be between 1 and 100");
    n = m->GetInt();
  }
  std::vector<std::string> include, exclude;
  for (auto [field, out] : {std::pair{"includeDomains", &include}, std::pair{"excludeDomains", &exclude}}) {
    if (const rapidjson::Value* l = json_util::find(d, field)) {
      if (!l->IsArray()) return exa_error(400, "INVALID_REQUEST_BODY", std::string(field) + ": Expected array");
      for (auto& x : l->GetArray()) {
        if (!x.IsString()) return exa_error(400, "INVALID_REQUEST_BODY", std::string(field) + ": Expected string items");
        out->emplace_back(json_util::sv(x));
      }
    }
  }
  if (const rapidjson::Value* u = json_util::find(d, "userLocation");
      u && (!u->IsString() || u->GetStringLength() != 2))
    return exa_error(400, "INVALID_REQUEST_BODY", "userLocation: a two-letter ISO country code");
  if (const rapidjson::Value* t = json_util::find(d, "type")) {
    bool known = false;
    if (t->IsString())
      for (const char* k : {"auto", "neural", "keyword", "hybrid", "fast", "instant", "deep-lite", "deep", "deep-reasoning"})
        known = known || json_util::sv(*t) == k;
    if (!known) return exa_error(400, "INVALID_REQUEST_BODY", "type: Invalid enum value");
  }
  bool text = false, highlights = false, summary = false;
  long text_chars = 10000, highlight_chars = 200;
  if (const rapidjson::Value* c = json_util::find(d, "contents")) {
    if (!c->IsObject()) return exa_error(400, "INVALID_REQUEST_BODY", "contents: Expected object");
    long unused = 0;
    for (auto& msg : {exa_contents_field(*c, "text", text, text_chars),
                      exa_contents_field(*c, "highlights", highlights, highlight_chars),
                      exa_contents_field(*c, "summary", summary, unused)})
      if (!msg.empty()) return exa_error(400, "INVALID_REQUEST_BODY", msg);
  }
  const std::string query(json_util::sv(*q));
  auto found = hits(query, n, include, exclude);
  return shared::json_plan(200, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("requestId");
    put(w, hex_id(query));
    w.Key("resolvedSearchType");
    w.String("neural");
    w.Key("results");
    w.StartArray();
    for (size_t i = 0; i < found.size(); ++i) {
      const Hit& h = found[i];
      w.StartObject();
      w.Key("id");
      put(w, h.url);
      w.Key("title");
      put(w, h.title);
      w.Key("url");
      put(w, h.url);
      w.Key("publishedDate");
      put(w, "2026-11-" + std::to_string(10 + i % 20) + "T00:00:00.000Z");
      w.Key("author");
      put(w, "Author " + std::to_string(i + 1));
      w.Key("score");
      w.Double(h.score);
      if (text) {
        w.Key("text");
        put(w, page_text(h, static_cast<size_t>(text_chars)));
      }
      if (highlights) {
        w.Key("highlights");
        w.StartArray();
        put(w, h.snippet.substr(0, static_cast<size_t>(highlight_chars)));
        put(w, ("Also on " + h.url).substr(0, static_cast<size_t>(highlight_chars)));
        w.EndArray();
        w.Key("highlightScores");
        w.StartArray();
        w.Double(0.9);
        w.Double(0.5);
        w.EndArray();
      }
      if (summary) {
        w.Key("summary");
        put(w, "In short: " + h.title + ".");
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("searchTime");
    w.Double(12.5);
    w.Key("costDollars");
    w.StartObject();
    w.Key("total");
    w.Double(0.005);
    w.Key("search");
    w.StartObject();
    w.Key("neural");
    w.Double(0.005);
    w.EndObject();
    w.EndObject();
    w.EndObject();
  }));
}

// ---------------------------------------------------------------- Perplexity

Plan perplexity_auth_error() {
  return shared::json_plan(401, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("error");
    w.StartObject();
    w.Key("message");
    w.String("Invalid API key provided.");
    w.Key("type");
    w.String("invalid_api_key");
    w.Key("code");
    w.Int(401);
    w.EndObject();
    w.EndObject();
  }));
}

// FastAPI's validation error: {"detail": [{"type", "loc": ["body", field], "msg"}]}.
Plan perplexity_invalid(std::string_view field, std::string_view type, std::string_view msg) {
  return shared::json_plan(422, json_util::json([&](Writer& w) {
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
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }));
}

Plan perplexity(const RecordedRequest& req, const std::string& require_key) {
  std::string auth(shared::trim(req.header("authorization")));
  std::string key = auth.size() > 7 && shared::iequals(auth.substr(0, 7), "bearer ") ? auth.substr(7) : std::string();
  if (key.empty() || (!require_key.empty() && key != require_key)) return perplexity_auth_error();
  if (req.method != "POST") return shared::json_plan(405, R"({"detail":"Method Not Allowed"})");
  rapidjson::Document d;
  d.Parse(req.body.data(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) return perplexity_invalid("", "json_invalid", "JSON decode error");
  // The query: a string, or a list of them (each searched; the results one list here).
  std::vector<std::string> queries;
  const rapidjson::Value* q = json_util::find(d, "query");
  if (!q) return perplexity_invalid("query", "missing", "Field required");
  if (q->IsString()) {
    queries.emplace_back(json_util::sv(*q));
  } else if (q->IsArray()) {
    for (auto& x : q->GetArray()) {
      if (!x.IsString()) return perplexity_invalid("query", "string_type", "Input should be a valid string");
      queries.emplace_back(json_util::sv(x));
    }
  } else {
    return perplexity_invalid("query", "string_type", "Input should be a valid string");
  }
  if (queries.empty() || queries.size() > 5) return perplexity_invalid("query", "value_error", "between 1 and 5 queries");
  for (auto& s : queries)
    if (s.empty()) return perplexity_invalid("query", "string_too_short", "String should have at least 1 character");
  const bool people = json_util::string_member(d, "search_type") == "people";
  if (const rapidjson::Value* t = json_util::find(d, "search_type");
      t && !(t->IsString() && (json_util::sv(*t) == "web" || json_util::sv(*t) == "fast" || people)))
    return perplexity_invalid("search_type", "enum", "Input should be 'web', 'fast' or 'people'");
  long n = 10;
  if (const rapidjson::Value* m = json_util::find(d, "max_results")) {
    const long most = people ? 50 : 20;
    if (!m->IsInt()) return perplexity_invalid("max_results", "int_type", "Input should be a valid integer");
    if (m->GetInt() < 1) return perplexity_invalid("max_results", "greater_than_equal", "Input should be greater than or equal to 1");
    if (m->GetInt() > most)
      return perplexity_invalid("max_results", "less_than_equal",
                                "Input should be less than or equal to " + std::to_string(most) +
                                    (people ? "" : " (above 20 only with search_type people)"));
    n = m->GetInt();
  }
  for (const char* k : {"max_tokens_per_page", "max_tokens"})
    if (const rapidjson::Value* v = json_util::find(d, k); v && (!v->IsInt() || v->GetInt() < 1))
      return perplexity_invalid(k, "greater_than_equal", "Input should be a positive integer");
  if (const rapidjson::Value* c = json_util::find(d, "country"); c && !c->IsNull()) {
    if (!c->IsString() || c->GetStringLength() != 2)
      return perplexity_invalid("country", "string_length", "String should have exactly 2 characters");
  }
  std::vector<std::string> include, exclude;
  if (const rapidjson::Value* f = json_util::find(d, "search_domain_filter"); f && !f->IsNull()) {
    if (!f->IsArray()) return perplexity_invalid("search_domain_filter", "list_type", "Input should be a valid list");
    if (f->Size() > 20)
      return perplexity_invalid("search_domain_filter", "too_long", "List should have at most 20 items");
    for (auto& x : f->GetArray()) {
      if (!x.IsString() || x.GetStringLength() == 0)
        return perplexity_invalid("search_domain_filter", "string_type", "Input should be a non-empty string");
      std::string_view s = json_util::sv(x);
      if (s[0] == '-') exclude.emplace_back(s.substr(1));
      else include.emplace_back(s);
    }
    if (!include.empty() && !exclude.empty())
      return perplexity_invalid("search_domain_filter", "value_error",
                                "search_domain_filter cannot mix allowlist and denylist (\"-\") entries");
  }
  std::string joined;
  for (auto& s : queries) joined += (joined.empty() ? "" : " ") + s;
  auto found = hits(joined, n, include, exclude);
  const std::string id = hex_id(joined);
  return shared::json_plan(200, json_util::json([&](Writer& w) {
    w.StartObject();
    w.Key("id");
    put(w, id.substr(0, 8) + "-" + id.substr(8, 4) + "-4" + id.substr(13, 3) + "-8" + id.substr(17, 3) + "-" +
               id.substr(20, 12));
    w.Key("results");
    w.StartArray();
    for (size_t i = 0; i < found.size(); ++i) {
      const Hit& h = found[i];
      w.StartObject();
      w.Key("title");
      put(w, h.title);
      w.Key("url");
      put(w, h.url);
      w.Key("snippet");
      put(w, h.snippet);
      w.Key("date");
      if (i % 2 == 0) put(w, "2026-10-" + std::to_string(10 + i % 20));
      else w.Null();  // not every page has a date
      w.Key("last_updated");
      w.String("2026-11-30");
      w.EndObject();
    }
    w.EndArray();
    w.Key("server_time");
    w.Null();
    w.EndObject();
  }));
}

}  // namespace

SearchRoute search_route(std::string_view path) {
  // Also under /v1 (a base URL that ends with it, as the shared scenarios' does): OpenAI has no such path.
  if (path.substr(0, 4) == "/v1/") path.remove_prefix(3);
  if (path == "/res/v1/web/search") return SearchRoute::brave;
  if (path == "/search") return SearchRoute::tavily;
  if (path == "/exa/search") return SearchRoute::exa;
  if (path == "/perplexity/search") return SearchRoute::perplexity;
  return SearchRoute::none;
}

Plan handle_search(const RecordedRequest& req, SearchRoute route, const std::string& require_key) {
  switch (route) {
    case SearchRoute::brave: return brave(req, require_key);
    case SearchRoute::exa: return exa(req, require_key);
    case SearchRoute::perplexity: return perplexity(req, require_key);
    case SearchRoute::tavily:
    case SearchRoute::none: break;
  }
  return tavily(req, require_key);
}

}  // namespace literllm::testing::detail
