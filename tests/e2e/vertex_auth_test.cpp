// Vertex AI with a service-account key end to end: the library signs an RS256
// assertion, exchanges it at the key file's token_uri (the local upstream's
// token endpoint, which verifies the JWT with the account's certificate) and
// sends the token it got; one exchange shared by a client's calls, a refused
// token fetched anew once, the key file's and the endpoint's errors.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e.hpp"

using namespace e2e;
namespace fs = std::filesystem;

#ifndef LITERLLM_FIXTURES_DIR
#define LITERLLM_FIXTURES_DIR ""
#endif

namespace {

const fs::path kAuthDir = fs::path(LITERLLM_FIXTURES_DIR) / "auth";
constexpr const char* kEmail = "service-account@example.com";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class VertexAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kAuthDir / "google-service_account.json"))
      GTEST_SKIP() << "\n*** FIXTURE MISSING: " << kAuthDir
                   << " (set -DLITERLLM_FIXTURES_DIR=<shared/fixtures>); this test did NOT run ***\n";
    start_upstream(kEmail);
  }
  void TearDown() override {
    if (up) up->stop();
    if (!key_file.empty()) fs::remove(key_file);
  }
  // The upstream, knowing the test service account's certificate under `email`.
  void start_upstream(const std::string& email, int token_delay_ms = 0) {
    literllm::testing::UpstreamOptions o;
    o.require_api_key = kKey;  // a fixed access token is accepted as well
    o.google_accounts = {{email, slurp(kAuthDir / "google-public_cert.pem"), "1"}};
    o.google_token_delay_ms = token_delay_ms;
    up = std::make_unique<literllm::testing::Upstream>(o);
    up->start();
    key_file = write_key_file(token_uri());
  }
  std::string root() const { return "http://127.0.0.1:" + std::to_string(up->port()); }
  std::string token_uri() const { return root() + "/token"; }
  // The fixture's service-account file with token_uri pointed at `uri`.
  std::string write_key_file(const std::string& uri) {
    rapidjson::Document d = parse(slurp(kAuthDir / "google-service_account.json").c_str());
    d["token_uri"].SetString(uri.c_str(), static_cast<rapidjson::SizeType>(uri.size()), d.GetAllocator());
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    d.Accept(w);
    const fs::path p = fs::temp_directory_path() / ("literllm-sa-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(++files_) + ".json");
    std::ofstream(p) << b.GetString();
    return p.string();
  }
  // `top_extra`: more config fields (",\"io_threads\":2"); `providers_extra`: more providers.
  llm_client_t* client(const std::string& vertex_extra = "", const std::string& file = "",
                       const std::string& top_extra = "", const std::string& providers_extra = "") {
    std::string cfg = R"({"max_retries":0)" + top_extra + R"(,"providers":{"vertex_ai":{"base_url":)" + q(root()) +
                      R"(,"project":"p1","location":"us-central1","credentials_file":)" +
                      q(file.empty() ? key_file : file) + vertex_extra + "}" + providers_extra + "}}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }
  std::pair<llm_status, rapidjson::Document> chat(llm_client_t* c, const std::string& req) {
    llm_response_t* r = nullptr;
    llm_status st = llm_chat(c, req.c_str(), &r);
    rapidjson::Document d = parse(st == LLM_OK ? llm_response_json(r) : "null");
    last_error = st == LLM_OK ? "" : llm_last_error();
    llm_response_free(r);
    return {st, std::move(d)};
  }
  // The requests the upstream got on `path_part` (a substring of the target).
  std::vector<literllm::testing::RecordedRequest> requests_to(const std::string& path_part) const {
    std::vector<literllm::testing::RecordedRequest> out;
    for (auto& r : up->requests())
      if (r.target.find(path_part) != std::string::npos) out.push_back(r);
    return out;
  }
  size_t exchanges() const { return requests_to("/token").size(); }

  std::unique_ptr<literllm::testing::Upstream> up;
  std::string key_file;
  std::string last_error;
  int files_ = 0;
};

const std::string kGemini = "vertex_ai/gemini-2.5-pro";
const std::string kClaude = "vertex_ai/claude-sonnet-4-5@20250929";

}  // namespace

TEST_F(VertexAuth, ServiceAccountTokenIsExchangedOnceAndSentOnEveryCall) {
  llm_client_t* c = client();
  auto [st, d] = chat(c, chat_req(kGemini, "hello from a service account"));
  ASSERT_EQ(st, LLM_OK) << last_error;
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(),
               "Hello from the local upstream. You said: hello from a service account");

  // Claude on Vertex, streamed, with the same token.
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(c, chat_req(kClaude, "a b c").c_str(), &s), LLM_OK) << llm_last_error();
  StreamResult sr = drain(s);
  llm_stream_free(s);
  ASSERT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_EQ(sr.content, "Hello from the local upstream. You said: a b c");

  auto [st2, d2] = chat(c, chat_req(kGemini, "again"));
  ASSERT_EQ(st2, LLM_OK) << last_error;

  auto tokens = requests_to("/token");
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].method, "POST");
  EXPECT_EQ(tokens[0].header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(up->google_tokens_issued(), 1u);
  auto calls = requests_to("/publishers/");
  ASSERT_EQ(calls.size(), 3u);
  const std::string bearer = calls[0].header("authorization");
  EXPECT_EQ(bearer.rfind("Bearer ya29.", 0), 0u) << bearer;
  for (auto& r : calls) EXPECT_EQ(r.header("authorization"), bearer);
  EXPECT_NE(calls[1].target.find("/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"),
            std::string::npos)
      << calls[1].target;
  llm_client_free(c);
}

TEST_F(VertexAuth, ConcurrentCallsShareOneExchange) {
  llm_client_t* c = client();
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0, ok = 0;
  } sh;
  auto cb = [](llm_status st, llm_response_t* r, const char*, void* ud) {
    auto* s = static_cast<Shared*>(ud);
    llm_response_free(r);
    std::lock_guard lk(s->mu);
    ++s->done;
    if (st == LLM_OK) ++s->ok;
    s->cv.notify_all();
  };
  constexpr int kCalls = 8;
  for (int i = 0; i < kCalls; ++i)
    ASSERT_EQ(llm_chat_async(c, chat_req(kGemini, "call " + std::to_string(i)).c_str(), cb, &sh, nullptr), LLM_OK)
        << llm_last_error();
  {
    std::unique_lock lk(sh.mu);
    ASSERT_TRUE(sh.cv.wait_for(lk, std::chrono::seconds(30), [&] { return sh.done == kCalls; }));
  }
  EXPECT_EQ(sh.ok, kCalls);
  EXPECT_EQ(exchanges(), 1u);
  EXPECT_EQ(requests_to("/publishers/").size(), static_cast<size_t>(kCalls));
  llm_client_free(c);
}

// A client with two loops: calls on both wait for one exchange, made on the
// loop of the call that needed it first, and each goes on on its own loop.
// Freed while they wait, every call ends (LLM_ERR_CANCELLED) before
// llm_client_free returns, whichever loop the exchange runs on: `openai_first`
// fills the first loop with slow calls of another provider, so that the
// exchange runs on the second, which is shut down after the first.
class VertexAuthLoops : public VertexAuth, public ::testing::WithParamInterface<bool> {};

TEST_P(VertexAuthLoops, CallsOnSeveralLoopsShareOneExchange) {
  const bool openai_first = GetParam();
  up->stop();
  start_upstream(kEmail, /*token_delay_ms=*/300);
  const std::string openai = R"(,"openai":{"base_url":)" + q(up->base_url()) + R"(,"api_key":)" + q(kKey) + "}";
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    int done = 0, ok = 0, cancelled = 0;
    std::set<std::thread::id> threads;
    std::string error;
  };
  auto cb = [](llm_status st, llm_response_t* r, const char* msg, void* ud) {
    auto* s = static_cast<Shared*>(ud);
    llm_response_free(r);
    std::lock_guard lk(s->mu);
    ++s->done;
    if (st == LLM_OK) ++s->ok;
    else if (st == LLM_ERR_CANCELLED) ++s->cancelled;
    else s->error = msg ? msg : "";
    s->threads.insert(std::this_thread::get_id());
    s->cv.notify_all();
  };
  const std::string slow_openai = chat_req("openai/gpt-4o", "slow", headers(R"({"x-upstream-delay-ms":"3000"})"));
  auto start = [&](llm_client_t* c, Shared& sh, Shared& other, int n) {
    for (int i = 0; openai_first && i < 4; ++i)
      ASSERT_EQ(llm_chat_async(c, slow_openai.c_str(), cb, &other, nullptr), LLM_OK);
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(llm_chat_async(c, chat_req(kGemini, "call " + std::to_string(i)).c_str(), cb, &sh, nullptr), LLM_OK)
          << llm_last_error();
  };
  {
    llm_client_t* c = client("", "", R"(,"io_threads":2)", openai);
    Shared sh, other;
    start(c, sh, other, 8);
    {
      std::unique_lock lk(sh.mu);
      ASSERT_TRUE(sh.cv.wait_for(lk, std::chrono::seconds(30), [&] { return sh.done == 8; }));
    }
    EXPECT_EQ(sh.ok, 8) << sh.error;
    EXPECT_EQ(sh.threads.size(), 2u);
    EXPECT_EQ(exchanges(), 1u);
    llm_client_free(c);
    EXPECT_EQ(other.done, openai_first ? 4 : 0);
    EXPECT_EQ(other.cancelled, other.done);
  }
  up->stop();
  start_upstream(kEmail, /*token_delay_ms=*/1500);
  {
    llm_client_t* c = client("", "", R"(,"io_threads":2)", openai);
    Shared sh, other;
    start(c, sh, other, 8);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto t0 = std::chrono::steady_clock::now();
    llm_client_free(c);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1300)) << "it waited for the exchange";
    std::lock_guard lk(sh.mu);
    EXPECT_EQ(sh.done, 8);
    EXPECT_EQ(sh.cancelled, 8) << sh.error;
    EXPECT_EQ(other.done, openai_first ? 4 : 0);
    EXPECT_TRUE(requests_to("/publishers/").empty());
  }
}

INSTANTIATE_TEST_SUITE_P(IoThreads, VertexAuthLoops, ::testing::Bool());

TEST_F(VertexAuth, ARevokedTokenIsExchangedAnewAndTheCallSucceeds) {
  llm_client_t* c = client();  // max_retries 0: the refresh is not a retry
  ASSERT_EQ(chat(c, chat_req(kGemini, "one")).first, LLM_OK) << last_error;
  up->revoke_google_tokens();
  auto [st, d] = chat(c, chat_req(kGemini, "two"));
  ASSERT_EQ(st, LLM_OK) << last_error;
  EXPECT_STREQ(d["choices"][0]["message"]["content"].GetString(), "Hello from the local upstream. You said: two");
  EXPECT_EQ(exchanges(), 2u);
  auto calls = requests_to("/publishers/");
  ASSERT_EQ(calls.size(), 3u);  // one, two (refused), two again
  EXPECT_EQ(calls[0].header("authorization"), calls[1].header("authorization"));
  EXPECT_NE(calls[1].header("authorization"), calls[2].header("authorization"));
  // The next call uses the new token without another exchange.
  ASSERT_EQ(chat(c, chat_req(kGemini, "three")).first, LLM_OK) << last_error;
  EXPECT_EQ(exchanges(), 2u);
  llm_client_free(c);
}

TEST_F(VertexAuth, ATokenRefusedTwiceEndsTheCallAfterOneRefresh) {
  llm_client_t* c = client();
  auto [st, d] =
      chat(c, chat_req(kClaude, "refused", headers(R"({"x-upstream-revoke-token":"1"})")));
  EXPECT_EQ(st, LLM_ERR_AUTHENTICATION) << last_error;
  EXPECT_NE(last_error.find("401"), std::string::npos) << last_error;
  EXPECT_EQ(last_error.find("ya29."), std::string::npos) << "a token in the message: " << last_error;
  EXPECT_EQ(exchanges(), 2u);
  EXPECT_EQ(requests_to("/publishers/").size(), 2u);
  llm_client_free(c);
}

TEST_F(VertexAuth, TheTokenEndpointRefusingTheAssertionIsAnAuthenticationError) {
  up->stop();
  start_upstream("someone-else@example.com");  // does not know the key file's account
  llm_client_t* c = client();
  auto [st, d] = chat(c, chat_req(kGemini, "hi"));
  EXPECT_EQ(st, LLM_ERR_AUTHENTICATION);
  EXPECT_NE(last_error.find("vertex_ai"), std::string::npos) << last_error;
  EXPECT_NE(last_error.find(token_uri()), std::string::npos) << last_error;
  EXPECT_NE(last_error.find("invalid_grant"), std::string::npos) << last_error;
  EXPECT_EQ(last_error.find("eyJ"), std::string::npos) << "the JWT in the message: " << last_error;
  EXPECT_EQ(exchanges(), 1u);
  EXPECT_TRUE(requests_to("/publishers/").empty());
  // Not cached: the next call asks again.
  EXPECT_EQ(chat(c, chat_req(kGemini, "hi")).first, LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(exchanges(), 2u);
  llm_client_free(c);
}

TEST_F(VertexAuth, NoTokenEndpointIsANetworkErrorAfterTheRetries) {
  // Port 9 (discard): nothing listens there on a test machine.
  const std::string dead = write_key_file("http://127.0.0.1:9/token");
  std::string cfg = R"({"max_retries":1,"providers":{"vertex_ai":{"base_url":)" + q(root()) +
                    R"(,"project":"p","location":"l","credentials_file":)" + q(dead) + "}}}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  llm_error_t* err = nullptr;
  EXPECT_EQ(llm_chat_e(c, chat_req(kGemini, "x").c_str(), &r, &err), LLM_ERR_NETWORK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(llm_error_message(err)).find("token exchange"), std::string::npos) << llm_error_message(err);
  EXPECT_EQ(llm_error_retries(err), 1);
  llm_error_free(err);
  llm_client_free(c);
  fs::remove(dead);
  EXPECT_TRUE(up->requests().empty());
}

TEST_F(VertexAuth, KeyFileErrorsAreTypedAndNameTheSettingAtPreviewAsAtChat) {
  const std::string missing = (fs::temp_directory_path() / "literllm-no-such-key.json").string();
  llm_client_t* c = client("", missing);
  char* preview = nullptr;
  EXPECT_EQ(llm_preview_request(c, chat_req(kGemini, "x").c_str(), 0, &preview), LLM_ERR_INVALID_ARGUMENT);
  std::string msg = llm_last_error();
  EXPECT_NE(msg.find("providers.vertex_ai.credentials_file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("literllm-no-such-key.json"), std::string::npos) << msg;
  EXPECT_EQ(chat(c, chat_req(kGemini, "x")).first, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error.find("providers.vertex_ai.credentials_file"), std::string::npos) << last_error;
  llm_client_free(c);

  // A file that is not a service-account key: named, its content never quoted.
  const fs::path other = fs::temp_directory_path() / ("literllm-user-cred-" + std::to_string(::getpid()) + ".json");
  std::ofstream(other) << R"({"type":"authorized_user","client_id":"id","client_secret":"shh-0123456789abcdef","refresh_token":"r"})";
  c = client("", other.string());
  EXPECT_EQ(chat(c, chat_req(kGemini, "x")).first, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(last_error.find("service_account"), std::string::npos) << last_error;
  EXPECT_EQ(last_error.find("shh-"), std::string::npos) << last_error;
  llm_client_free(c);
  fs::remove(other);
  EXPECT_TRUE(up->requests().empty());
}

TEST_F(VertexAuth, PreviewShowsTheBearerRedactedAndExchangesNothing) {
  llm_client_t* c = client();
  char* preview = nullptr;
  ASSERT_EQ(llm_preview_request(c, chat_req(kGemini, "x").c_str(), 0, &preview), LLM_OK) << llm_last_error();
  rapidjson::Document d = parse(preview);
  llm_string_free(preview);
  ASSERT_TRUE(d["headers"].HasMember("Authorization")) << preview;
  EXPECT_STREQ(d["headers"]["Authorization"].GetString(), "[REDACTED]");
  EXPECT_TRUE(up->requests().empty());

  // After a call the token exists; a preview still shows it redacted.
  ASSERT_EQ(chat(c, chat_req(kGemini, "x")).first, LLM_OK) << last_error;
  ASSERT_EQ(llm_preview_request(c, chat_req(kGemini, "x").c_str(), 1, &preview), LLM_OK) << llm_last_error();
  EXPECT_EQ(std::string(preview).find("ya29."), std::string::npos) << preview;
  llm_string_free(preview);
  llm_client_free(c);
}

TEST_F(VertexAuth, ACallWaitingForItsTokenCanBeCancelledAndTheClientFreed) {
  up->stop();
  start_upstream(kEmail, /*token_delay_ms=*/1500);
  llm_client_t* c = client();
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    llm_status st = LLM_OK;
  } dn;
  uint64_t id = 0;
  ASSERT_EQ(llm_chat_async(
                c, chat_req(kGemini, "x").c_str(),
                [](llm_status st, llm_response_t* r, const char*, void* ud) {
                  auto* d = static_cast<Done*>(ud);
                  llm_response_free(r);
                  std::lock_guard lk(d->mu);
                  d->done = true;
                  d->st = st;
                  d->cv.notify_all();
                },
                &dn, &id),
            LLM_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(llm_client_cancel(c, id), LLM_OK);
  {
    std::unique_lock lk(dn.mu);
    ASSERT_TRUE(dn.cv.wait_for(lk, std::chrono::milliseconds(1200), [&] { return dn.done; }))
        << "the cancel waited for the token endpoint";
    EXPECT_EQ(dn.st, LLM_ERR_CANCELLED);
  }
  // Another call waits for the same exchange; freeing the client ends it.
  ASSERT_EQ(llm_chat_async(
                c, chat_req(kGemini, "y").c_str(),
                [](llm_status, llm_response_t* r, const char*, void*) { llm_response_free(r); }, nullptr, nullptr),
            LLM_OK);
  llm_client_free(c);
  EXPECT_TRUE(requests_to("/publishers/").empty());
}

TEST_F(VertexAuth, TheEnvironmentVariableNamesTheKeyFile) {
  ::setenv("GOOGLE_APPLICATION_CREDENTIALS", key_file.c_str(), 1);
  std::string cfg = R"({"max_retries":0,"providers":{"vertex_ai":{"base_url":)" + q(root()) +
                    R"(,"project":"p1","location":"us-central1"}}})";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  ::unsetenv("GOOGLE_APPLICATION_CREDENTIALS");  // the client read its environment when it was made
  ASSERT_EQ(chat(c, chat_req(kGemini, "from the environment")).first, LLM_OK) << last_error;
  EXPECT_EQ(exchanges(), 1u);
  llm_client_free(c);
}

TEST_F(VertexAuth, ACallersOwnAuthorizationHeaderIsUsedInstead) {
  llm_client_t* c = client(R"(,"headers":{"Authorization":"Bearer )" + std::string(kKey) + "\"}");
  ASSERT_EQ(chat(c, chat_req(kGemini, "mine")).first, LLM_OK) << last_error;
  EXPECT_EQ(exchanges(), 0u);
  auto calls = requests_to("/publishers/");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].header("authorization"), "Bearer " + std::string(kKey));
  llm_client_free(c);
}

TEST_F(VertexAuth, ACallsOwnTimeoutEndsItsWaitForTheToken) {
  up->stop();
  start_upstream(kEmail, /*token_delay_ms=*/1500);
  llm_client_t* c = client();
  const auto t0 = std::chrono::steady_clock::now();
  auto [st, d] = chat(c, chat_req(kGemini, "x", R"(,"timeout_secs":0.3)"));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(st, LLM_ERR_TIMEOUT) << last_error;
  EXPECT_NE(last_error.find("access token"), std::string::npos) << last_error;
  EXPECT_LT(secs, 1.2) << "the call waited for the token endpoint past its own timeout";
  // A call with time enough gets the token the exchange brings.
  auto [st2, d2] = chat(c, chat_req(kGemini, "y"));
  EXPECT_EQ(st2, LLM_OK) << last_error;
  EXPECT_EQ(exchanges(), 1u);
  llm_client_free(c);
}
