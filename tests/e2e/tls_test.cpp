// TLS verification is on: a server whose certificate nobody trusts is refused,
// and the same server is accepted once its certificate is trusted (CURL_CA_BUNDLE). The server is
// `openssl s_server` on 127.0.0.1 with a certificate made for this test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "e2e.hpp"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

uint16_t free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

bool can_connect(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

class TlsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("CURL_CA_BUNDLE")) saved_bundle = v;
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "SKIPPED: no openssl command";
    dir = fs::path(::testing::TempDir()) / ("literllm_tls_" + std::to_string(getpid()));
    fs::create_directories(dir);
    cert = (dir / "cert.pem").string();
    std::string key = (dir / "key.pem").string();
    std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + cert +
                      "' -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
    ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
    port = free_port();
    pid = fork();
    if (pid == 0) {
      std::string accept = "127.0.0.1:" + std::to_string(port);
      execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(), "-cert", cert.c_str(),
             "-key", key.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && !can_connect(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_TRUE(can_connect(port)) << "openssl s_server did not start";
  }
  void TearDown() override {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    if (saved_bundle) setenv("CURL_CA_BUNDLE", saved_bundle->c_str(), 1);
    else unsetenv("CURL_CA_BUNDLE");
    std::error_code ec;
    fs::remove_all(dir, ec);
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
  fs::path dir;
  std::string cert;
  uint16_t port = 0;
  pid_t pid = -1;
  std::optional<std::string> saved_bundle;
};

}  // namespace

TEST_F(TlsServer, AnUntrustedCertificateIsRefused) {
  std::string msg;
  EXPECT_EQ(chat_over_tls(&msg), LLM_ERR_NETWORK) << msg;
  EXPECT_NE(msg.find("certificate"), std::string::npos) << msg;
}

TEST_F(TlsServer, ATrustedCertificateIsAccepted) {
  // CURL_CA_BUNDLE, then SSL_CERT_FILE, name the trusted CAs (read when the client is made).
  setenv("CURL_CA_BUNDLE", cert.c_str(), 1);
  std::string msg;
  llm_status st = chat_over_tls(&msg);
  // The handshake succeeds; what follows is s_server's idea of HTTP, not a chat answer.
  EXPECT_NE(st, LLM_OK);
  EXPECT_EQ(msg.find("certificate"), std::string::npos) << llm_status_str(st) << ": " << msg;
  EXPECT_EQ(msg.find("SSL"), std::string::npos) << llm_status_str(st) << ": " << msg;
}
