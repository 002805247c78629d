// Proxies from the environment: read once, when the client is made, as curl
// reads them (http_proxy, https_proxy/HTTPS_PROXY, all_proxy/ALL_PROXY,
// no_proxy/NO_PROXY). The local upstream serves as the proxy for plain http:
// it answers requests in absolute form by their path (and records the target
// as sent); to an https URL's CONNECT it answers 404, which is enough to see
// which proxy was asked.
#include <cstdlib>
#include <optional>
#include <string>

#include "e2e.hpp"

using namespace e2e;

namespace {

const char* const kProxyVars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                  "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};

// Clears the proxy variables for a test and puts back what they were.
class ProxyEnv {
 public:
  ProxyEnv() {
    for (const char* n : kProxyVars) {
      const char* v = std::getenv(n);
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      unsetenv(n);
    }
  }
  ~ProxyEnv() {
    for (const auto& [n, v] : saved_) {
      if (v) setenv(n, v->c_str(), 1);
      else unsetenv(n);
    }
  }
  ProxyEnv(const ProxyEnv&) = delete;
  ProxyEnv& operator=(const ProxyEnv&) = delete;
  void set(const char* name, const std::string& value) { setenv(name, value.c_str(), 1); }

 private:
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

// Nothing listens on port 1 of the loopback: a connection there is refused at once.
const std::string kDeadOrigin = "http://127.0.0.1:1";

class Proxy : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  void TearDown() override { up.stop(); }

  std::string upstream_origin() const { return "http://127.0.0.1:" + std::to_string(up.port()); }

  // A client whose openai provider is at `base_url`.
  static llm_client_t* client_for(const std::string& base_url) {
    std::string cfg = "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":" + q(base_url) +
                      ",\"api_key\":" + q(kKey) + "}}}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }

  // One chat; its status, and the error's text when it failed.
  static llm_status chat(llm_client_t* c, std::string* error = nullptr) {
    llm_response_t* r = nullptr;
    llm_status st = llm_chat(c, chat_req("openai/gpt-4o-mini", "via a proxy?").c_str(), &r);
    if (st != LLM_OK && error) *error = llm_last_error();
    llm_response_free(r);
    return st;
  }

  literllm::testing::Upstream up;
  ProxyEnv env;
};

TEST_F(Proxy, HttpProxyCarriesPlainHttpCalls) {
  env.set("http_proxy", upstream_origin());
  llm_client_t* c = client_for(kDeadOrigin + "/v1");
  EXPECT_EQ(chat(c), LLM_OK) << llm_last_error();
  llm_client_free(c);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].absolute_target, kDeadOrigin + "/v1/chat/completions");
  EXPECT_EQ(reqs[0].target, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].header("host"), "127.0.0.1:1");
}

TEST_F(Proxy, TheEnvironmentIsTheOneTheClientWasMadeWith) {
  env.set("http_proxy", upstream_origin());
  llm_client_t* through = client_for(kDeadOrigin + "/v1");
  unsetenv("http_proxy");
  llm_client_t* direct = client_for(upstream_origin() + "/v1");
  // Changed after both clients were made: neither sees it.
  env.set("http_proxy", kDeadOrigin);
  env.set("no_proxy", "127.0.0.1");
  EXPECT_EQ(chat(through), LLM_OK) << llm_last_error();
  EXPECT_EQ(chat(direct), LLM_OK) << llm_last_error();
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].absolute_target, kDeadOrigin + "/v1/chat/completions") << "the first client's proxy";
  EXPECT_EQ(reqs[1].absolute_target, "") << "the second client had no proxy";
  // A client made now takes the new environment: no_proxy sends it straight to the dead origin.
  llm_client_t* later = client_for(kDeadOrigin + "/v1");
  EXPECT_EQ(chat(later), LLM_ERR_NETWORK);
  EXPECT_EQ(up.requests().size(), 2u);
  llm_client_free(later);
  llm_client_free(direct);
  llm_client_free(through);
}

TEST_F(Proxy, NoProxyReachesItsHostsDirectly) {
  env.set("http_proxy", kDeadOrigin);
  env.set("NO_PROXY", "example.com,127.0.0.1");
  llm_client_t* c = client_for(upstream_origin() + "/v1");
  EXPECT_EQ(chat(c), LLM_OK) << llm_last_error();
  llm_client_free(c);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].absolute_target, "");
}

TEST_F(Proxy, PlainHttpNeverTakesHTTP_PROXYButTakesAllProxy) {
  // HTTP_PROXY is what a CGI program's environment makes of a request's "Proxy:" header.
  env.set("HTTP_PROXY", upstream_origin());
  llm_client_t* c = client_for(kDeadOrigin + "/v1");
  EXPECT_EQ(chat(c), LLM_ERR_NETWORK) << "HTTP_PROXY was taken";
  llm_client_free(c);
  EXPECT_TRUE(up.requests().empty());

  env.set("ALL_PROXY", upstream_origin());
  c = client_for(kDeadOrigin + "/v1");
  EXPECT_EQ(chat(c), LLM_OK) << llm_last_error();
  llm_client_free(c);
  ASSERT_EQ(up.requests().size(), 1u);

  // An empty variable counts as unset (as curl, Python and Go read them): all_proxy still applies.
  env.set("http_proxy", "");
  c = client_for(kDeadOrigin + "/v1");
  EXPECT_EQ(chat(c), LLM_OK) << llm_last_error();
  llm_client_free(c);
  EXPECT_EQ(up.requests().size(), 2u);

  // A scheme's own variable wins over all_proxy.
  env.set("http_proxy", kDeadOrigin);
  c = client_for(upstream_origin() + "/v1");
  EXPECT_EQ(chat(c), LLM_ERR_NETWORK) << "all_proxy was taken over http_proxy";
  llm_client_free(c);
  EXPECT_EQ(up.requests().size(), 2u);
}

TEST_F(Proxy, HttpsCallsAskTheHttpsProxyForATunnel) {
  env.set("http_proxy", kDeadOrigin);
  env.set("HTTPS_PROXY", upstream_origin());
  llm_client_t* c = client_for("https://127.0.0.1:1/v1");
  std::string error;
  EXPECT_NE(chat(c, &error), LLM_OK);  // the "proxy" refuses the tunnel (404)
  llm_client_free(c);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u) << error;
  EXPECT_EQ(reqs[0].method, "CONNECT");
  EXPECT_EQ(reqs[0].target, "127.0.0.1:1");
}

// curl quotes a proxy it cannot parse or use whole in its error: the credentials go, the rest stays.
TEST_F(Proxy, AMalformedProxyIsANetworkErrorThatNamesItWithoutItsPassword) {
  const std::string bad[] = {"http://someone:pw-hunter2-proxy@exa mple.com",
                             "someone:pw-hunter2-proxy@[::1",
                             "gopher://someone:pw-hunter2-proxy@127.0.0.1:1",
                             "http://[::1", std::string("http://a\x01b")};
  for (const std::string& value : bad) {
    env.set("http_proxy", value);
    llm_client_t* c = client_for(upstream_origin() + "/v1");
    std::string error;
    EXPECT_EQ(chat(c, &error), LLM_ERR_NETWORK) << value;
    EXPECT_NE(error.find("proxy"), std::string::npos) << error;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
    EXPECT_EQ(error.find('\x01'), std::string::npos) << error;
    if (value.find("hunter2") != std::string::npos) {
      EXPECT_NE(error.find("[REDACTED]"), std::string::npos) << error;
    }
    llm_client_free(c);
  }
  EXPECT_TRUE(up.requests().empty());
}

TEST_F(Proxy, AProxyPasswordNeverShowsInErrors) {
  env.set("http_proxy", "http://someone:pw-hunter2-proxy@127.0.0.1:1");
  llm_client_t* c = client_for(upstream_origin() + "/v1");
  std::string error;
  EXPECT_EQ(chat(c, &error), LLM_ERR_NETWORK);
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_EQ(error.find("someone"), std::string::npos) << error;
  llm_client_free(c);
  EXPECT_TRUE(up.requests().empty());
}

TEST_F(Proxy, TheProxyAuthorizationCurlSendsIsRedactedWhereAServerEchoesIt) {
  // Was a bug: the proxy's user and password were redacted only as written in its URL, and the
  // Proxy-Authorization curl makes of them (Basic base64("someone:pw hunter2"), decoded) came back
  // in an error that echoed the request's headers, in every form of echo.
  env.set("http_proxy", "http://some%6Fne:pw%20hunter2-proxy@" + upstream_origin().substr(7));
  llm_client_t* c = client_for(kDeadOrigin + "/v1");
  const std::string basic = "c29tZW9uZTpwdyBodW50ZXIyLXByb3h5";  // base64 of "someone:pw hunter2-proxy"
  for (const char* form : {"json", "raw", "escaped", "urlencoded"}) {
    SCOPED_TRACE(form);
    for (bool stream : {false, true}) {
      std::string req = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        "\"extra_headers\":{\"x-upstream-echo-headers\":\"" + std::string(form) + "\"}}";
      std::string error;
      if (stream) {
        llm_stream_t* s = nullptr;
        llm_status st = llm_chat_stream(c, req.c_str(), &s);
        const char* chunk = nullptr;
        if (st == LLM_OK) st = llm_stream_next(s, &chunk);
        EXPECT_EQ(st, LLM_ERR_AUTHENTICATION);
        error = llm_last_error();
        llm_stream_free(s);
      } else {
        llm_response_t* r = nullptr;
        EXPECT_EQ(llm_chat(c, req.c_str(), &r), LLM_ERR_AUTHENTICATION);
        error = llm_last_error();
        llm_response_free(r);
      }
      EXPECT_NE(error.find("Proxy"), std::string::npos) << "the echo came back: " << error;
      EXPECT_EQ(error.find(basic), std::string::npos) << error;
      EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
      EXPECT_NE(error.find("[REDACTED]"), std::string::npos) << error;
    }
  }
  llm_client_free(c);
}

}  // namespace
