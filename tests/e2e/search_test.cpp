// Web search through llm_call ("search") against the local upstream, which
// speaks Brave Search's, Tavily's, Exa's and Perplexity's Search APIs and
// checks their keys: results normalized to title / url / snippet, domain
// filters and counts honoured, typed errors, keys never shown. Exa and
// Perplexity sit under /exa and /perplexity on the upstream (their own path,
// /search, is Tavily's there too).
#include <map>
#include <set>

#include "e2e.hpp"

using namespace e2e;

namespace {

class Search : public ::testing::Test {
 protected:
  void SetUp() override {
    literllm::testing::UpstreamOptions o;
    o.require_api_key = kKey;
    up = std::make_unique<literllm::testing::Upstream>(o);
    up->start();
    root = "http://127.0.0.1:" + std::to_string(up->port());
  }
  void TearDown() override { up->stop(); }
  llm_client_t* client(const std::string& key = kKey) {
    std::string cfg = R"({"max_retries":0,"providers":{"brave":{"base_url":)" + q(root) + R"(,"api_key":)" + q(key) +
                      R"(},"tavily":{"base_url":)" + q(root) + R"(,"api_key":)" + q(key) +
                      R"(},"exa":{"base_url":)" + q(root + "/exa") + R"(,"api_key":)" + q(key) +
                      R"(},"perplexity_search":{"base_url":)" + q(root + "/perplexity") + R"(,"api_key":)" + q(key) +
                      "}}}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }
  std::pair<llm_status, rapidjson::Document> search(llm_client_t* c, const std::string& req) {
    llm_response_t* r = nullptr;
    llm_status st = llm_call(c, "search", req.c_str(), nullptr, nullptr, 0, &r);
    rapidjson::Document d = parse(st == LLM_OK ? llm_response_json(r) : "null");
    if (st != LLM_OK) error = llm_last_error();
    llm_response_free(r);
    return {st, std::move(d)};
  }
  std::unique_ptr<literllm::testing::Upstream> up;
  std::string root, error;
};

}  // namespace

TEST_F(Search, BraveResultsNormalized) {
  llm_client_t* c = client();
  auto [st, d] = search(c, R"({"provider":"brave","query":"rust async","max_results":3,"include_domains":["docs.rs"],)"
                           R"("exclude_domains":["blog.test"],"country":"DE"})");
  ASSERT_EQ(st, LLM_OK) << error;
  EXPECT_STREQ(d["object"].GetString(), "search.results");
  EXPECT_STREQ(d["provider"].GetString(), "brave");
  ASSERT_EQ(d["results"].Size(), 3u);
  for (auto& r : d["results"].GetArray()) {
    EXPECT_EQ(std::string(r["url"].GetString()).rfind("https://docs.rs/rust-async-", 0), 0u) << r["url"].GetString();
    EXPECT_NE(std::string(r["title"].GetString()).find("rust async"), std::string::npos);
    EXPECT_NE(std::string(r["snippet"].GetString()).find("rust async"), std::string::npos);
    EXPECT_TRUE(r.HasMember("published_at"));
  }
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].header("x-subscription-token"), kKey);
  EXPECT_NE(reqs[0].target.find("count=3"), std::string::npos) << reqs[0].target;
  EXPECT_NE(reqs[0].target.find("country=DE"), std::string::npos);
  EXPECT_NE(reqs[0].target.find("-site%3Ablog.test"), std::string::npos);
  // The key is redacted in a preview.
  char* preview = nullptr;
  ASSERT_EQ(llm_preview_call(c, "search", R"({"provider":"brave","query":"x"})", nullptr, nullptr, 0, &preview), LLM_OK);
  EXPECT_EQ(std::string(preview).find(kKey), std::string::npos);
  EXPECT_NE(std::string(preview).find("[REDACTED]"), std::string::npos);
  llm_string_free(preview);
  llm_client_free(c);
}

TEST_F(Search, TavilyResultsNormalized) {
  llm_client_t* c = client();
  auto [st, d] = search(c, R"({"provider":"tavily","query":"c++ json","max_results":2,)"
                           R"("provider_options":{"tavily":{"search_depth":"advanced"}}})");
  ASSERT_EQ(st, LLM_OK) << error;
  ASSERT_EQ(d["results"].Size(), 2u);
  EXPECT_STREQ(d["query"].GetString(), "c++ json");
  EXPECT_DOUBLE_EQ(d["results"][0]["score"].GetDouble(), 1.0);
  EXPECT_GT(d["results"][0]["score"].GetDouble(), d["results"][1]["score"].GetDouble());
  auto sent = parse(up->requests().back().body.c_str());
  EXPECT_STREQ(sent["search_depth"].GetString(), "advanced");
  EXPECT_EQ(sent["max_results"].GetInt(), 2);
  EXPECT_EQ(up->requests().back().header("authorization"), std::string("Bearer ") + kKey);
  llm_client_free(c);
}

TEST_F(Search, TypedErrors) {
  llm_client_t* bad = client("not-the-key");
  auto [st, d] = search(bad, R"({"provider":"brave","query":"x"})");
  EXPECT_EQ(st, LLM_ERR_AUTHENTICATION) << error;
  EXPECT_EQ(error.find("not-the-key"), std::string::npos);
  auto [tst, td] = search(bad, R"({"provider":"tavily","query":"x"})");
  EXPECT_EQ(tst, LLM_ERR_AUTHENTICATION) << error;
  llm_client_free(bad);

  llm_client_t* c = client();
  const size_t before = up->requests().size();
  auto [mst, md] = search(c, R"({"provider":"brave","query":"x","max_results":50})");
  EXPECT_EQ(mst, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error.find("request.max_results"), std::string::npos) << error;
  auto [qst, qd] = search(c, R"({"provider":"tavily"})");
  EXPECT_EQ(qst, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error.find("request.query: is required"), std::string::npos) << error;
  // A search API has no chat.
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(c, chat_req("brave/any", "hi").c_str(), &r), LLM_ERR_ENDPOINT_NOT_SUPPORTED);
  EXPECT_NE(std::string(llm_last_error()).find("brave"), std::string::npos);
  EXPECT_EQ(up->requests().size(), before) << "nothing sent";
  // The provider's own refusal (Tavily: more than 20 results) is a bad request.
  auto [pst, pd] = search(c, R"({"provider":"tavily","query":"x","max_results":30})");
  EXPECT_EQ(pst, LLM_ERR_BAD_REQUEST) << error;
  llm_client_free(c);
}

TEST_F(Search, ExaResultsNormalized) {
  llm_client_t* c = client();
  auto [st, d] = search(c, R"({"provider":"exa","query":"rust async","max_results":3,"include_domains":["docs.rs"],)"
                           R"("exclude_domains":["blog.test"],"country":"DE"})");
  ASSERT_EQ(st, LLM_OK) << error;
  EXPECT_STREQ(d["object"].GetString(), "search.results");
  EXPECT_STREQ(d["provider"].GetString(), "exa");
  EXPECT_STREQ(d["query"].GetString(), "rust async") << "Exa does not repeat the query: the request's";
  ASSERT_EQ(d["results"].Size(), 3u);
  for (auto& r : d["results"].GetArray()) {
    EXPECT_EQ(std::string(r["url"].GetString()).rfind("https://docs.rs/rust-async-", 0), 0u) << r["url"].GetString();
    EXPECT_NE(std::string(r["title"].GetString()).find("rust async"), std::string::npos);
    // The snippet: the highlights joined.
    const std::string snippet = r["snippet"].GetString();
    EXPECT_EQ(snippet.rfind("What the page says about rust async", 0), 0u) << snippet;
    EXPECT_NE(snippet.find(" \xE2\x80\xA6 Also on https://docs.rs/"), std::string::npos) << snippet;
    EXPECT_EQ(std::string(r["published_at"].GetString()).rfind("2026-11-", 0), 0u);
    EXPECT_TRUE(r["score"].IsNumber());
  }
  EXPECT_GT(d["results"][0]["score"].GetDouble(), d["results"][2]["score"].GetDouble());
  auto reqs = up->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/exa/search");
  EXPECT_EQ(reqs[0].header("x-api-key"), kKey);
  EXPECT_EQ(reqs[0].header("authorization"), "");
  auto sent = parse(reqs[0].body.c_str());
  EXPECT_STREQ(sent["query"].GetString(), "rust async");
  EXPECT_EQ(sent["numResults"].GetInt(), 3);
  EXPECT_STREQ(sent["includeDomains"][0].GetString(), "docs.rs");
  EXPECT_STREQ(sent["excludeDomains"][0].GetString(), "blog.test");
  EXPECT_STREQ(sent["userLocation"].GetString(), "DE");
  EXPECT_STREQ(sent["type"].GetString(), "auto");
  EXPECT_TRUE(sent["contents"]["highlights"].IsObject());
  EXPECT_FALSE(sent.HasMember("max_results"));
  EXPECT_FALSE(sent.HasMember("include_domains"));

  // provider_options.exa: the page's text instead of highlights (the snippet is its start), another type.
  auto [tst, td] = search(c, R"({"provider":"exa","query":"c++ json","max_results":1,)"
                             R"("provider_options":{"exa":{"type":"neural","contents":{"highlights":false,"text":{"maxCharacters":900}}}}})");
  ASSERT_EQ(tst, LLM_OK) << error;
  auto sent2 = parse(up->requests().back().body.c_str());
  EXPECT_STREQ(sent2["type"].GetString(), "neural");
  EXPECT_EQ(sent2["contents"]["text"]["maxCharacters"].GetInt(), 900);
  const std::string snippet = td["results"][0]["snippet"].GetString();
  EXPECT_EQ(snippet.rfind("Result 1 for c++ json What the page says", 0), 0u) << snippet;
  EXPECT_LE(snippet.size(), 503u) << "the start of the text, not all of it";
  EXPECT_EQ(snippet.substr(snippet.size() - 3), "\xE2\x80\xA6");

  // The key is redacted in a preview.
  char* preview = nullptr;
  ASSERT_EQ(llm_preview_call(c, "search", R"({"provider":"exa","query":"x"})", nullptr, nullptr, 0, &preview), LLM_OK);
  EXPECT_EQ(std::string(preview).find(kKey), std::string::npos);
  EXPECT_NE(std::string(preview).find("[REDACTED]"), std::string::npos);
  llm_string_free(preview);
  llm_client_free(c);
}

TEST_F(Search, PerplexityResultsNormalized) {
  llm_client_t* c = client();
  auto [st, d] = search(c, R"({"provider":"perplexity_search","query":"c++ json","max_results":4,)"
                           R"("include_domains":["a.test","b.test"],"country":"GB",)"
                           R"("provider_options":{"perplexity_search":{"max_tokens_per_page":512}}})");
  ASSERT_EQ(st, LLM_OK) << error;
  EXPECT_STREQ(d["provider"].GetString(), "perplexity_search");
  EXPECT_STREQ(d["query"].GetString(), "c++ json");
  ASSERT_EQ(d["results"].Size(), 4u);
  for (rapidjson::SizeType i = 0; i < 4; ++i) {
    auto& r = d["results"][i];
    const std::string url = r["url"].GetString();
    EXPECT_TRUE(url.rfind("https://a.test/", 0) == 0 || url.rfind("https://b.test/", 0) == 0) << url;
    EXPECT_NE(std::string(r["snippet"].GetString()).find("c++ json"), std::string::npos);
    // date, else last_updated; Perplexity gives no score.
    EXPECT_STREQ(r["published_at"].GetString(), i % 2 == 0 ? (i == 0 ? "2026-10-10" : "2026-10-12") : "2026-11-30");
    EXPECT_FALSE(r.HasMember("score"));
  }
  auto req = up->requests().back();
  EXPECT_EQ(req.target, "/perplexity/search");
  EXPECT_EQ(req.header("authorization"), std::string("Bearer ") + kKey);
  auto sent = parse(req.body.c_str());
  EXPECT_EQ(sent["max_results"].GetInt(), 4);
  ASSERT_EQ(sent["search_domain_filter"].Size(), 2u);
  EXPECT_STREQ(sent["search_domain_filter"][1].GetString(), "b.test");
  EXPECT_STREQ(sent["country"].GetString(), "GB");
  EXPECT_EQ(sent["max_tokens_per_page"].GetInt(), 512);

  // Exclusions go as "-domain".
  auto [xst, xd] = search(c, R"({"provider":"perplexity_search","query":"q","max_results":2,"exclude_domains":["example-0.test"]})");
  ASSERT_EQ(xst, LLM_OK) << error;
  auto sent2 = parse(up->requests().back().body.c_str());
  EXPECT_STREQ(sent2["search_domain_filter"][0].GetString(), "-example-0.test");
  for (auto& r : xd["results"].GetArray())
    EXPECT_EQ(std::string(r["url"].GetString()).find("example-0.test"), std::string::npos) << r["url"].GetString();

  // The chat row "perplexity" is still Perplexity's chat, on the same key.
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_call(c, "search", R"({"provider":"perplexity","query":"q"})", nullptr, nullptr, 0, &r),
            LLM_ERR_ENDPOINT_NOT_SUPPORTED);
  llm_client_free(c);
}

TEST_F(Search, ExaAndPerplexityTypedErrors) {
  // A wrong key: authentication, the key nowhere in the message.
  llm_client_t* bad = client("not-the-key");
  for (const char* p : {"exa", "perplexity_search"}) {
    SCOPED_TRACE(p);
    auto [st, d] = search(bad, std::string(R"({"provider":")") + p + R"(","query":"x"})");
    EXPECT_EQ(st, LLM_ERR_AUTHENTICATION) << error;
    EXPECT_EQ(error.find("not-the-key"), std::string::npos) << error;
    EXPECT_NE(error.find(p), std::string::npos) << error;
  }
  llm_client_free(bad);

  llm_client_t* c = client();
  const size_t before = up->requests().size();
  // Bad requests are refused before anything is sent, naming the field.
  auto [mst, md] = search(c, R"({"provider":"exa","query":"x","max_results":0})");
  EXPECT_EQ(mst, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error.find("request.max_results"), std::string::npos) << error;
  auto [dst, dd] = search(c, R"({"provider":"exa","query":"x","include_domains":["a.test",7]})");
  EXPECT_EQ(dst, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error.find("request.include_domains"), std::string::npos) << error;
  auto [qst, qd] = search(c, R"({"provider":"perplexity_search","query":""})");
  EXPECT_EQ(qst, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error.find("request.query"), std::string::npos) << error;
  // Perplexity keeps some domains or drops some, not both.
  auto [bst, bd] = search(c, R"({"provider":"perplexity_search","query":"x","include_domains":["a.test"],"exclude_domains":["b.test"]})");
  EXPECT_EQ(bst, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(error.find("request.exclude_domains"), std::string::npos) << error;
  // A search API has no chat.
  for (const char* m : {"exa/any", "perplexity_search/sonar"}) {
    llm_response_t* r = nullptr;
    EXPECT_EQ(llm_chat(c, chat_req(m, "hi").c_str(), &r), LLM_ERR_ENDPOINT_NOT_SUPPORTED) << m;
    EXPECT_NE(std::string(llm_last_error()).find("does not support the chat"), std::string::npos) << llm_last_error();
  }
  EXPECT_EQ(up->requests().size(), before) << "nothing sent";

  // The providers' own refusals are bad requests with their messages: Perplexity
  // takes at most 20 results (but for people search), Exa knows its types.
  auto [pst, pd] = search(c, R"({"provider":"perplexity_search","query":"x","max_results":30})");
  EXPECT_EQ(pst, LLM_ERR_BAD_REQUEST) << error;
  EXPECT_NE(error.find("max_results"), std::string::npos) << error;
  auto [ost, od] = search(c, R"({"provider":"perplexity_search","query":"x","max_results":30,)"
                             R"("provider_options":{"perplexity_search":{"search_type":"people"}}})");
  EXPECT_EQ(ost, LLM_OK) << error;
  EXPECT_EQ(od["results"].Size(), 30u);
  auto [est, ed] = search(c, R"({"provider":"exa","query":"x","provider_options":{"exa":{"type":"sideways"}}})");
  EXPECT_EQ(est, LLM_ERR_BAD_REQUEST) << error;
  EXPECT_NE(error.find("type"), std::string::npos) << error;
  llm_client_free(c);
}

TEST_F(Search, ProvidersJsonListsSearchForEach) {
  char* out = nullptr;
  ASSERT_EQ(llm_providers_json(nullptr, &out), LLM_OK);
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  std::map<std::string, std::set<std::string>> serves;
  std::map<std::string, std::string> protocol, auth;
  for (auto& p : d.GetArray()) {
    for (auto& e : p["endpoints"].GetArray()) serves[p["name"].GetString()].insert(e.GetString());
    protocol[p["name"].GetString()] = p["protocol"].GetString();
    auth[p["name"].GetString()] = p["auth"].GetString();
  }
  for (const char* name : {"brave", "tavily", "exa", "perplexity_search"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(serves[name], std::set<std::string>{"search"});
  }
  EXPECT_EQ(protocol["exa"], "exa");
  EXPECT_EQ(auth["exa"], "header:x-api-key");
  EXPECT_EQ(protocol["perplexity_search"], "perplexity_search");
  EXPECT_EQ(auth["perplexity_search"], "bearer");
  // Perplexity's chat row is as it was.
  EXPECT_TRUE(serves["perplexity"].count("chat"));
  EXPECT_FALSE(serves["perplexity"].count("search"));
  EXPECT_EQ(protocol["perplexity"], "openai");
}
