// The service-account token source (src/auth/token_source): one exchange for
// every caller waiting, the cache and its 5-minute margin, a refused token,
// failed exchanges, the key file's errors, and the bearer credential on it.
// The exchange is a fake here; end to end it is tests/e2e/vertex_auth_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/token_source.hpp"
#include "core/json.hpp"
#include "fixtures.hpp"

namespace fs = std::filesystem;
using namespace literllm;
using namespace literllm::auth;
using namespace std::chrono_literals;
using std::chrono::system_clock;

namespace {

using fixtures::slurp;
const fs::path kAccountFile = fixtures::path("auth/google-service_account.json");
#define REQUIRE_ACCOUNT() REQUIRE_FIXTURE(kAccountFile)

std::shared_ptr<TokenSource> make_source() {
  return std::make_shared<TokenSource>(ServiceAccountSigner::from_json(slurp(kAccountFile)),
                                       std::string(kCloudPlatformScope));
}

// A token endpoint the test answers by hand: keeps each request and its callback.
struct FakeEndpoint {
  std::mutex mu;
  std::vector<http::Request> requests;
  std::vector<std::function<void(ExchangeResult)>> pending;

  Exchange exchange() {
    return [this](http::Request req, std::function<void(ExchangeResult)> done) {
      std::lock_guard lk(mu);
      requests.push_back(std::move(req));
      pending.push_back(std::move(done));
    };
  }
  // Answers the oldest pending exchange.
  void answer(long status, std::string body) {
    ExchangeResult r;
    r.http_status = status;
    r.body = std::move(body);
    take()(std::move(r));
  }
  // The oldest pending exchange gets no answer (a transport failure).
  void fail(llm_status st, std::string words) {
    ExchangeResult r;
    r.error = Error(st, std::move(words));
    take()(std::move(r));
  }
  std::function<void(ExchangeResult)> take() {
    std::lock_guard lk(mu);
    if (pending.empty()) throw std::logic_error("no exchange is pending");
    auto done = std::move(pending.front());
    pending.erase(pending.begin());
    return done;
  }
  size_t count() {
    std::lock_guard lk(mu);
    return requests.size();
  }
};

std::string token_json(const std::string& token, int expires_in) {
  return R"({"access_token":")" + token + R"(","expires_in":)" + std::to_string(expires_in) +
         R"(,"token_type":"Bearer"})";
}

// What one get() delivered.
struct Got {
  int calls = 0;
  std::string token;
  std::optional<Error> error;
  TokenSource::Ready ready() {
    return [this](const std::string* t, const Error* e) {
      ++calls;
      if (t) token = *t;
      if (e) error = *e;
    };
  }
};

const system_clock::time_point kT0 = system_clock::time_point(std::chrono::seconds(1767225600));

}  // namespace

TEST(TokenSource, OneExchangeAnswersEveryWaiter) {
  REQUIRE_ACCOUNT();
  auto src = make_source();
  FakeEndpoint ep;
  Got a, b, c;
  src->get(ep.exchange(), kT0, a.ready());
  src->get(ep.exchange(), kT0, b.ready());
  src->get(ep.exchange(), kT0 + 1s, c.ready());
  ASSERT_EQ(ep.count(), 1u);
  EXPECT_EQ(src->exchanges(), 1u);
  EXPECT_EQ(a.calls + b.calls + c.calls, 0);  // nobody is answered before the endpoint is
  EXPECT_FALSE(src->fresh(kT0));

  // The request: a form POST to the file's token_uri with a signed assertion.
  const http::Request& req = ep.requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://accounts.google.com/o/oauth2/token");
  ASSERT_NE(http::find_header(req.headers, "content-type"), nullptr);
  EXPECT_EQ(*http::find_header(req.headers, "content-type"), "application/x-www-form-urlencoded");
  const std::string prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
  ASSERT_EQ(req.body.rfind(prefix, 0), 0u) << req.body;
  const std::string jwt = req.body.substr(prefix.size());
  EXPECT_EQ(std::count(jwt.begin(), jwt.end(), '.'), 2);

  ep.answer(200, token_json("ya29.first", 3599));
  for (Got* g : {&a, &b, &c}) {
    EXPECT_EQ(g->calls, 1);
    EXPECT_EQ(g->token, "ya29.first");
    EXPECT_FALSE(g->error);
  }
  EXPECT_EQ(src->current(), "ya29.first");
  EXPECT_EQ(src->fresh(kT0).value_or(""), "ya29.first");
}

TEST(TokenSource, CachedUntilFiveMinutesBeforeExpiry) {
  REQUIRE_ACCOUNT();
  auto src = make_source();
  FakeEndpoint ep;
  Got first;
  src->get(ep.exchange(), kT0, first.ready());
  ep.answer(200, token_json("ya29.one", 3600));
  ASSERT_EQ(first.token, "ya29.one");

  // Until 5 minutes before expiry: from the cache, at once, without an exchange.
  Got cached;
  src->get(ep.exchange(), kT0 + 3600s - 301s, cached.ready());
  EXPECT_EQ(cached.calls, 1);
  EXPECT_EQ(cached.token, "ya29.one");
  EXPECT_EQ(ep.count(), 1u);
  EXPECT_TRUE(src->fresh(kT0 + 3299s));
  EXPECT_FALSE(src->fresh(kT0 + 3300s));

  // From then on: a new exchange.
  Got renewed;
  src->get(ep.exchange(), kT0 + 3300s, renewed.ready());
  EXPECT_EQ(renewed.calls, 0);
  ASSERT_EQ(ep.count(), 2u);
  ep.answer(200, token_json("ya29.two", 3600));
  EXPECT_EQ(renewed.token, "ya29.two");
  EXPECT_EQ(src->exchanges(), 2u);
}

TEST(TokenSource, ARefusedTokenIsExchangedAnewButAnOlderRefusalDoesNotDropTheNewOne) {
  REQUIRE_ACCOUNT();
  auto src = make_source();
  FakeEndpoint ep;
  Got g1;
  src->get(ep.exchange(), kT0, g1.ready());
  ep.answer(200, token_json("ya29.old", 3599));
  src->refused("ya29.old");
  EXPECT_FALSE(src->fresh(kT0));
  EXPECT_EQ(src->current(), "ya29.old");  // what a request already prepared still carries

  Got g2;
  src->get(ep.exchange(), kT0, g2.ready());
  ASSERT_EQ(ep.count(), 2u);
  ep.answer(200, token_json("ya29.new", 3599));
  EXPECT_EQ(g2.token, "ya29.new");
  // A late 401 for the old token (another call's) leaves the new one alone.
  src->refused("ya29.old");
  EXPECT_EQ(src->fresh(kT0).value_or(""), "ya29.new");
}

TEST(TokenSource, AFailedExchangeReachesEveryWaiterAndTheNextGetTriesAgain) {
  REQUIRE_ACCOUNT();
  auto src = make_source();
  FakeEndpoint ep;
  Got a, b;
  src->get(ep.exchange(), kT0, a.ready());
  src->get(ep.exchange(), kT0, b.ready());
  ep.answer(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})");
  for (Got* g : {&a, &b}) {
    ASSERT_EQ(g->calls, 1);
    ASSERT_TRUE(g->error);
    EXPECT_EQ(g->error->status(), LLM_ERR_AUTHENTICATION);
    const std::string msg = g->error->what();
    EXPECT_NE(msg.find("https://accounts.google.com/o/oauth2/token"), std::string::npos) << msg;
    EXPECT_NE(msg.find("invalid_grant"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Invalid JWT Signature."), std::string::npos) << msg;
    EXPECT_EQ(msg.find("eyJ"), std::string::npos) << "the assertion must not be quoted: " << msg;
    EXPECT_EQ(g->error->code, "invalid_grant");
  }
  EXPECT_FALSE(src->fresh(kT0));

  // No answer at all: the transport's status, and its words.
  Got c;
  src->get(ep.exchange(), kT0, c.ready());
  ASSERT_EQ(ep.count(), 2u);
  ep.fail(LLM_ERR_NETWORK, "Couldn't connect to server");
  ASSERT_TRUE(c.error);
  EXPECT_EQ(c.error->status(), LLM_ERR_NETWORK);
  EXPECT_NE(std::string(c.error->what()).find("Couldn't connect to server"), std::string::npos);

  // An endpoint that is down (503) says so as a typed status.
  Got d;
  src->get(ep.exchange(), kT0, d.ready());
  ep.answer(503, R"({"error":"temporarily_unavailable"})");
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->status(), LLM_ERR_SERVICE_UNAVAILABLE);

  Got e;
  src->get(ep.exchange(), kT0, e.ready());
  ep.answer(200, token_json("ya29.finally", 3599));
  EXPECT_EQ(e.token, "ya29.finally");
  EXPECT_EQ(src->exchanges(), 4u);
}

TEST(TokenSource, AShortLivedTokenIsDeliveredButNotCached) {
  REQUIRE_ACCOUNT();
  auto src = make_source();
  FakeEndpoint ep;
  Got a;
  src->get(ep.exchange(), kT0, a.ready());
  ep.answer(200, token_json("ya29.brief", 120));  // less than the 5-minute margin
  EXPECT_EQ(a.token, "ya29.brief");
  EXPECT_FALSE(src->fresh(kT0));
  Got b;
  src->get(ep.exchange(), kT0, b.ready());
  EXPECT_EQ(ep.count(), 2u);
}

TEST(TokenSource, ConcurrentCallersMakeOneExchange) {
  REQUIRE_ACCOUNT();
  auto src = make_source();
  FakeEndpoint ep;
  std::atomic<int> answered{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      src->get(ep.exchange(), kT0, [&](const std::string* t, const Error*) {
        if (t && *t == "ya29.shared") ++answered;
      });
    });
  go = true;
  for (auto& t : threads) t.join();
  ASSERT_EQ(ep.count(), 1u);
  std::thread answerer([&] { ep.answer(200, token_json("ya29.shared", 3599)); });
  answerer.join();
  EXPECT_EQ(answered.load(), 8);
}

TEST(TokenSources, OneSourcePerFileAndTypedErrorsNamingTheSetting) {
  REQUIRE_ACCOUNT();
  TokenSources sources;
  const std::string field = "providers.vertex_ai.credentials_file";
  auto a = sources.service_account(kAccountFile.string(), field);
  auto b = sources.service_account(kAccountFile.string(), field);
  EXPECT_EQ(a.get(), b.get());
  // The file's JSON itself works as the value too.
  auto inline_src = sources.service_account(slurp(kAccountFile), field);
  EXPECT_NE(inline_src.get(), a.get());
  EXPECT_EQ(inline_src->token_uri(), "https://accounts.google.com/o/oauth2/token");

  auto error_of = [&](const std::string& value) -> Error {
    try {
      sources.service_account(value, field);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error for " << value.substr(0, 40);
    return Error(LLM_OK, "");
  };
  const fs::path dir = fs::temp_directory_path() / ("literllm-token-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    Error e = error_of((dir / "missing.json").string());
    EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  {
    Error e = error_of(dir.string());
    EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos) << e.what();
  }
  {
    // A key file without its key: named, and nothing of the file quoted.
    std::string text = slurp(kAccountFile);
    json::Document d = json::parse(text, "fixture", LLM_ERR_INVALID_ARGUMENT);
    d.RemoveMember("client_email");
    std::ofstream(dir / "no-email.json") << json::dump(d);
    Error e = error_of((dir / "no-email.json").string());
    EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("client_email"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("PRIVATE KEY"), std::string::npos) << e.what();
  }
  {
    Error e = error_of(R"({"type":"authorized_user","client_id":"x","refresh_token":"secret-refresh"})");
    EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("inline JSON"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("secret-refresh"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(TokenSources, BearerCredentialWaitsForItsTokenAndDropsARefusedOne) {
  REQUIRE_ACCOUNT();
  TokenSources sources;
  auto src = sources.service_account(kAccountFile.string(), "credentials_file");
  auto cred = bearer_token_credential(src);
  EXPECT_EQ(cred->header(), "Authorization");
  EXPECT_TRUE(cred->per_attempt());
  EXPECT_FALSE(cred->ready(kT0));

  // Applied before any token (a preview): a placeholder, listed as a secret.
  http::Request preview;
  cred->apply(preview, kT0);
  ASSERT_NE(http::find_header(preview.headers, "authorization"), nullptr);
  ASSERT_EQ(preview.secret_headers.size(), 1u);

  FakeEndpoint ep;
  int done = 0;
  cred->fetch(ep.exchange(), kT0, [&](const Error* e) {
    EXPECT_EQ(e, nullptr);
    ++done;
  });
  ep.answer(200, token_json("ya29.cred", 3599));
  EXPECT_EQ(done, 1);
  EXPECT_TRUE(cred->ready(kT0));
  http::Request req;
  req.headers = {{"Authorization", "Bearer stale"}};
  cred->apply(req, kT0);
  cred->apply(req, kT0);  // again before a retry: still one header, one secret name
  ASSERT_EQ(req.headers.size(), 1u);
  EXPECT_EQ(req.headers[0].second, "Bearer ya29.cred");
  EXPECT_EQ(req.secret_headers.size(), 1u);

  EXPECT_TRUE(cred->refused(req));
  EXPECT_FALSE(cred->ready(kT0));
}
