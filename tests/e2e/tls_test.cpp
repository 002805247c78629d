// TLS verification is on: a server whose certificate nobody trusts is refused,
// and the same server is accepted once its certificate is trusted (CURL_CA_BUNDLE). The server is
// `openssl s_server` on 127.0.0.1 with a certificate made for this test.
#include <string>

#include "e2e.hpp"
#include "local_server.hpp"

using namespace e2e;

namespace {

class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_command("openssl")) GTEST_SKIP() << "SKIPPED: no openssl command";
    ASSERT_TRUE(make_certificate(dir));
    cert = dir.file("cert.pem");
    port = free_port();
    server.emplace(std::vector<std::string>{"openssl", "s_server", "-quiet", "-www", "-accept",
                                            "127.0.0.1:" + std::to_string(port), "-cert", cert, "-key",
                                            dir.file("key.pem")});
    ASSERT_TRUE(wait_listening(port)) << "openssl s_server did not start";
  }
  llm_status chat_over_tls(std::string* msg) {
    std::string cfg = "{\"max_retries\":0,\"timeout_secs\":2,\"providers\":{\"openai\":{\"base_url\":\"https://127.0.0.1:" +
                      std::to_string(port) + "/v1\",\"api_key\":\"k-tls-123456\"}}}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK);
    llm_response_t* r = nullptr;
    llm_status st = llm_chat(c, chat_req("openai/gpt-4o", "tls").c_str(), &r);
    *msg = llm_last_error();
    llm_response_free(r);
    llm_client_free(c);
    return st;
  }
  TrustedBundle bundle;  // first: restored last
  TempDir dir{"tls"};
  std::string cert;
  uint16_t port = 0;
  std::optional<Child> server;
};

}  // namespace

TEST_F(TlsServer, AnUntrustedCertificateIsRefused) {
  std::string msg;
  EXPECT_EQ(chat_over_tls(&msg), LLM_ERR_NETWORK) << msg;
  EXPECT_NE(msg.find("certificate"), std::string::npos) << msg;
}

TEST_F(TlsServer, ATrustedCertificateIsAccepted) {
  // CURL_CA_BUNDLE, then SSL_CERT_FILE, name the trusted CAs (read when the client is made).
  bundle.trust(cert);
  std::string msg;
  llm_status st = chat_over_tls(&msg);
  // The handshake succeeds; what follows is s_server's idea of HTTP, not a chat answer.
  EXPECT_NE(st, LLM_OK);
  EXPECT_EQ(msg.find("certificate"), std::string::npos) << llm_status_str(st) << ": " << msg;
  EXPECT_EQ(msg.find("SSL"), std::string::npos) << llm_status_str(st) << ": " << msg;
}

TEST_F(TlsServer, AnUntrustedCertificateIsNeverRetried) {
  // Was a bug: a TLS verification failure was retried (it can never succeed).
  std::string cfg = "{\"max_retries\":2,\"timeout_secs\":10,\"providers\":{\"openai\":{\"base_url\":"
                    "\"https://127.0.0.1:" +
                    std::to_string(port) + "/v1\",\"api_key\":\"k-tls-123456\"}}}";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK);
  llm_response_t* r = nullptr;
  llm_error_t* err = nullptr;
  EXPECT_EQ(llm_chat_e(c, chat_req("openai/gpt-4o", "tls").c_str(), &r, &err), LLM_ERR_NETWORK);
  EXPECT_EQ(llm_error_retries(err), 0) << llm_error_message(err);
  EXPECT_NE(std::string(llm_error_message(err)).find("certificate"), std::string::npos) << llm_error_message(err);
  llm_error_free(err);
  llm_client_free(c);
}
