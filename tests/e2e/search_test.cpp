// Web search through llm_call ("search") against the local upstream, which
// speaks Brave Search's and Tavily's APIs and checks their keys: results
// normalized to title / url / snippet, domain filters and counts honoured,
// typed errors, keys never shown.
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
                      R"(},"tavily":{"base_url":)" + q(root) + R"(,"api_key":)" + q(key) + "}}}";
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
