// HTTP/2 end to end: the client speaks HTTP/2 over TLS (ALPN) to nghttpx on
// 127.0.0.1, which forwards to the local upstream. nghttpx's access log names
// the protocol and the client's source port of every request, so the tests see
// how many connections the library opened and that calls from many threads
// were multiplexed on them.
#include <atomic>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e.hpp"
#include "local_server.hpp"

using namespace e2e;

namespace {

class Http2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_command("nghttpx")) GTEST_SKIP() << "SKIPPED: no nghttpx (Debian package nghttp2-proxy)";
    if (!have_command("openssl")) GTEST_SKIP() << "SKIPPED: no openssl command";
    ASSERT_TRUE(make_certificate(dir));
    up.start();
    port = free_port();
    proxy.emplace(std::vector<std::string>{
        "nghttpx", "--conf=/dev/null", "--single-thread", "--no-ocsp",
        "--frontend=127.0.0.1," + std::to_string(port), "--backend=127.0.0.1," + std::to_string(up.port()),
        "--backend-connections-per-host=64", "--accesslog-file=" + dir.file("access.log"),
        "--accesslog-format=$alpn $remote_port $status", "--errorlog-file=" + dir.file("error.log"),
        dir.file("key.pem"), dir.file("cert.pem")});
    ASSERT_TRUE(wait_listening(port)) << "nghttpx did not start; " << read(dir.file("error.log"));
    bundle.trust(dir.file("cert.pem"));
    client = make_client();
  }
  // A client of the proxy; `extra`: more config fields (",\"io_threads\":1").
  llm_client_t* make_client(const std::string& extra = "") {
    std::string cfg = "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":\"https://127.0.0.1:" +
                      std::to_string(port) + "/v1\",\"api_key\":" + q(kKey) + "}}" + extra + "}";
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
    return c;
  }
  void TearDown() override {
    llm_client_free(client);
    proxy.reset();
    up.stop();
  }

  static std::string read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  struct Log {
    size_t requests = 0, h2 = 0, ok = 0;
    std::set<std::string> client_ports;  // one per TCP connection the library opened
  };
  Log access_log() {
    Log l;
    std::istringstream in(read(dir.file("access.log")));
    std::string alpn, port, status;
    while (in >> alpn >> port >> status) {
      ++l.requests;
      l.h2 += alpn == "h2";
      l.ok += status == "200";
      l.client_ports.insert(port);
    }
    return l;
  }

  static std::string reply_to(const std::string& word) { return "Hello from the local upstream. You said: " + word; }

  TrustedBundle bundle;  // first: restored last
  TempDir dir{"h2"};
  literllm::testing::Upstream up;
  uint16_t port = 0;
  std::optional<Child> proxy;
  llm_client_t* client = nullptr;
};

}  // namespace

// 16 threads, each with several calls the upstream holds for 100 ms: they
// overlap, and all of them travel as HTTP/2 streams of one TLS connection per
// event loop of the client ("io_threads"; each loop keeps its own connections).
class Http2Loops : public Http2, public ::testing::WithParamInterface<int> {};

TEST_P(Http2Loops, CallsFromManyThreadsAreMultiplexedOnOneConnectionPerLoop) {
  const int loops = GetParam();
  llm_client_free(client);
  client = make_client(",\"io_threads\":" + std::to_string(loops));
  constexpr int kThreads = 16, kCalls = 6;
  std::atomic<int> ok{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string word = "h2-" + std::to_string(t) + "-" + std::to_string(i);
        llm_response_t* r = nullptr;
        if (llm_chat(client, chat_req("openai/gpt-4o", word, headers("{\"x-upstream-delay-ms\":\"100\"}")).c_str(),
                     &r) == LLM_OK &&
            llm_response_text(r) == reply_to(word))
          ++ok;
        llm_response_free(r);
      }
    });
  }
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  Log l = access_log();
  EXPECT_EQ(l.requests, static_cast<size_t>(kThreads * kCalls));
  EXPECT_EQ(l.h2, l.requests) << "every request went as HTTP/2";
  EXPECT_EQ(l.ok, l.requests);
  EXPECT_EQ(l.client_ports.size(), static_cast<size_t>(loops)) << "one connection per loop carried every thread's calls";
  // One after another they would take kThreads * kCalls * 0.1 = 9.6 s.
  EXPECT_LT(secs, 4.8) << "the calls did not overlap";
}

INSTANTIATE_TEST_SUITE_P(IoThreads, Http2Loops, ::testing::Values(1, 2));

TEST_F(Http2, SequentialCallsAndAStreamReuseTheConnection) {
  for (int i = 0; i < 5; ++i) {
    std::string word = "again-" + std::to_string(i);
    llm_response_t* r = nullptr;
    ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", word).c_str(), &r), LLM_OK) << llm_last_error();
    EXPECT_EQ(llm_response_text(r), reply_to(word));
    EXPECT_GT(llm_response_bytes_received(r), 0u);
    llm_response_free(r);
  }
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "streamed over h2").c_str(), &s), LLM_OK);
  StreamResult res = drain(s);
  EXPECT_EQ(res.status, LLM_OK) << res.error;
  EXPECT_EQ(res.content, reply_to("streamed over h2"));
  EXPECT_GT(res.chunks.size(), 3u);
  llm_response_t* fin = nullptr;
  ASSERT_EQ(llm_stream_final_response(s, &fin), LLM_OK);
  EXPECT_EQ(llm_response_text(fin), reply_to("streamed over h2"));
  llm_response_free(fin);
  llm_stream_free(s);
  Log l = access_log();
  EXPECT_EQ(l.requests, 6u);
  EXPECT_EQ(l.h2, 6u);
  EXPECT_EQ(l.client_ports.size(), 1u);
}

TEST_F(Http2, ErrorsAndCancellationOverHttp2) {
  // A provider error arrives as on HTTP/1.1; a cancelled stream resets its own
  // HTTP/2 stream only: the connection goes on serving the next call.
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-status\":\"429\"}")).c_str(), &r),
            LLM_ERR_RATE_LIMITED);
  EXPECT_EQ(llm_last_error_http_status(), 429);
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client,
                            chat_req("openai/gpt-4o", "one two three four five six",
                                     headers("{\"x-upstream-chunk-delay-ms\":\"200\"}"))
                                .c_str(),
                            &s),
            LLM_OK);
  const char* chunk = nullptr;
  ASSERT_EQ(llm_stream_next(s, &chunk), LLM_OK);
  ASSERT_NE(chunk, nullptr);
  llm_stream_cancel(s);
  EXPECT_EQ(drain(s).status, LLM_ERR_CANCELLED);
  llm_stream_free(s);
  ASSERT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "after").c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_EQ(llm_response_text(r), reply_to("after"));
  llm_response_free(r);
  // The cancelled stream's request may or may not have been logged by now.
  Log l = access_log();
  EXPECT_EQ(l.h2, l.requests);
  EXPECT_EQ(l.client_ports.size(), 1u) << "the cancel did not cost the connection";
}
