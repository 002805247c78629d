// The local upstream's web-search routes. Brave answers GET
// /res/v1/web/search?q=..&count=.. (X-Subscription-Token) with
// {"type":"search","query":{"original"},"web":{"results":[{"title","url",
// "description","page_age"}]}}; Tavily answers POST /search ({"query",
// "max_results", "include_domains", "exclude_domains", ...}, a bearer key)
// with {"query","results":[{"title","url","content","score"}],...}. Results
// are made from the query: result i of "q" is https://<domain>/q-i, where the
// domain is the first of the request's included domains (Brave: its site:
// operators) that is not excluded, else example-i.test.
#include "search.hpp"

#include <rapidjson/document.h>

#include <cctype>
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

}  // namespace

SearchRoute search_route(std::string_view path) {
  if (path == "/res/v1/web/search") return SearchRoute::brave;
  if (path == "/search") return SearchRoute::tavily;
  return SearchRoute::none;
}

Plan handle_search(const RecordedRequest& req, SearchRoute route, const std::string& require_key) {
  return route == SearchRoute::brave ? brave(req, require_key) : tavily(req, require_key);
}

}  // namespace literllm::testing::detail
