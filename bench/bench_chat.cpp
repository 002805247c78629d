// Per-call overhead of llm_chat through the public C API, against the local
// upstream on 127.0.0.1, measured beside a bare libcurl baseline in the same run.
//
// The baseline sends the SAME bytes: URL, headers and body come from
// llm_preview_request for the benchmark's request (the redacted credential is
// put back), plus the two things the library's transport adds on the wire
// ("Expect:" suppressed, curl's Accept-Encoding). Before measuring, one request
// of each kind goes to a recording upstream and the two are compared.
//
// Benchmarks (all real time, all against ONE upstream started once):
//   bare_curl_easy         one reused easy handle, kept-alive connection, the
//                          whole body read into a string: the baseline
//   llm_chat               the blocking C call, response freed each time
//   llm_chat_cancellable   the same with a cancel token made and freed per call
//   llm_chat_async/N       N calls in flight on one client (a sliding window
//                          refilled from the done callback), batches of 256
//   -- the ladder from the baseline to llm_chat, to see where time goes --
//   curl_easy_lib_opts     reused easy handle with the library's option set
//                          (VERBOSE + debug callback for byte counts, header
//                          callback, keepalive, timeouts, ...)
//   curl_multi_fresh       a fresh easy handle per call (as the library makes),
//                          library options, driven by a multi handle on the
//                          calling thread
//   curl_multi_io_thread   the same, but driven by a separate I/O thread with
//                          curl_multi_wakeup, the caller waiting on a
//                          condition variable: what llm_chat would pay if it
//                          always waited on the client's I/O thread (it runs
//                          the loop itself when the loop is idle)
//   llm_preview_request    the library's request preparation alone (parse,
//                          validate, route, build the body; plus the preview's
//                          own dump): no I/O
//   curl_multi_window/N    bare-curl throughput baseline for llm_chat_async/N:
//                          N fresh easy handles in flight on one multi handle
//
// After the Google Benchmark run (default: 3 repetitions, randomly interleaved)
// comes the interleaved pass, which gives the ratios to quote: each round runs
// a slice of calls of every variant in a fresh random order, so that all of
// them share the same moment's noise from other processes; ratios are taken
// per round (median, min, max), and between the variants' best rounds (the
// closest this machine gets to an idle one). The figure: llm_chat / bare_curl_easy.
//
//   bench_chat [--pairs=ROUNDS] [--slice=CALLS] [--only-pairs] [Google Benchmark flags]
//   bench_chat --profile=VARIANT:N      N calls of one variant and nothing else,
//                                       e.g. under valgrind --tool=callgrind
//                                       --separate-threads=yes
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <poll.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "literllm.h"
#include "upstream.hpp"

namespace {

using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

constexpr const char* kApiKey = "k-bench";
// --provider=anthropic measures Anthropic's Messages API instead (the
// upstream speaks it at the same port; the baseline sends the same native bytes).
std::string g_provider = "openai";
const char* kOpenAIRequest =
    R"({"model":"openai/gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Say hello to the benchmark."}],"temperature":0.2,"max_tokens":64})";
const char* kAnthropicRequest =
    R"({"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Say hello to the benchmark."}],"temperature":0.2,"max_tokens":64})";
const char* kRequest = kOpenAIRequest;
constexpr int kAsyncBatch = 256;

std::string client_config(const std::string& base_url) {
  std::string url = base_url;
  if (g_provider == "anthropic" && url.size() > 3 && url.compare(url.size() - 3, 3, "/v1") == 0)
    url.resize(url.size() - 3);  // Anthropic's base URL is the host: the path is /v1/messages
  return std::string(R"({"providers":{")") + g_provider + R"(":{"base_url":")" + url + R"(","api_key":")" + kApiKey +
         R"("}},"max_retries":0})";
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_chat: %s\n", what.c_str());
  std::exit(1);
}

llm_client_t* new_client(const std::string& base_url) {
  llm_client_t* c = nullptr;
  if (llm_client_new(client_config(base_url).c_str(), &c) != LLM_OK) die(std::string("llm_client_new: ") + llm_last_error());
  return c;
}

bool iequals(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// ------------------------------------------------------- the request on the wire

struct WireRequest {
  std::string method, url, body;
  std::vector<std::pair<std::string, std::string>> headers;  // from the preview, credential restored
};

WireRequest from_preview(llm_client_t* client) {
  char* text = nullptr;
  if (llm_preview_request(client, kRequest, 0, &text) != LLM_OK) die(std::string("llm_preview_request: ") + llm_last_error());
  rapidjson::Document d;
  d.Parse(text);
  llm_string_free(text);
  if (d.HasParseError() || !d.IsObject()) die("the preview is not a JSON object");
  WireRequest w;
  w.method = d["method"].GetString();
  w.url = d["url"].GetString();
  w.body.assign(d["body"].GetString(), d["body"].GetStringLength());
  for (auto& m : d["headers"].GetObject()) {
    std::string name = m.name.GetString(), value = m.value.GetString();
    if (value == "[REDACTED]") value = iequals(name, "authorization") ? std::string("Bearer ") + kApiKey : kApiKey;
    w.headers.emplace_back(std::move(name), std::move(value));
  }
  return w;
}

curl_slist* header_list(const WireRequest& w) {
  curl_slist* l = nullptr;
  for (auto& [k, v] : w.headers) l = curl_slist_append(l, (v.empty() ? k + ";" : k + ": " + v).c_str());
  l = curl_slist_append(l, "Expect:");  // the library's transport always suppresses it
  return l;
}

size_t append_body(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

// The baseline: one easy handle, reused, the fewest options that send the same bytes.
struct BareEasy {
  CURL* e = nullptr;
  curl_slist* hl = nullptr;
  std::string resp;
  WireRequest w;

  explicit BareEasy(WireRequest wr) : w(std::move(wr)) {
    e = curl_easy_init();
    hl = header_list(w);
    curl_easy_setopt(e, CURLOPT_URL, w.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // as the library: curl's Accept-Encoding
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(w.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, w.body.data());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
  }
  ~BareEasy() {
    curl_easy_cleanup(e);
    curl_slist_free_all(hl);
  }
  // One call; "" on success, else why not.
  std::string perform() {
    resp.clear();
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK) return curl_easy_strerror(rc);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) return "HTTP " + std::to_string(code) + ": " + resp;
    return {};
  }
};

// ------------------------------------------- the library's curl work, without the library
//
// What src/http/transport.cpp does per transfer, rebuilt here so each step of
// the ladder can be timed on its own: a fresh easy handle, its header list,
// the option set, the header/body/debug callbacks, the getinfo calls at the end.

struct LibLikeTransfer {
  CURL* e = nullptr;
  curl_slist* hl = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::vector<std::pair<std::string, std::string>> resp_headers;
  std::string body;
  uint64_t wire_sent = 0, wire_received = 0;
  long status = 0;
  CURLcode result = CURLE_OK;
  // For the threaded variant.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;

  static size_t on_header(char* p, size_t size, size_t n, void* ud) {
    auto* t = static_cast<LibLikeTransfer*>(ud);
    size_t len = size * n;
    std::string_view line(p, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      t->resp_headers.clear();
    } else if (size_t c = line.find(':'); c != std::string_view::npos) {
      std::string_view v = line.substr(c + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      t->resp_headers.emplace_back(std::string(line.substr(0, c)), std::string(v));
    }
    return len;
  }
  static size_t on_body(char* p, size_t size, size_t n, void* ud) {
    static_cast<LibLikeTransfer*>(ud)->body.append(p, size * n);
    return size * n;
  }
  static int on_debug(CURL*, curl_infotype type, char*, size_t n, void* ud) {
    auto* t = static_cast<LibLikeTransfer*>(ud);
    if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) t->wire_sent += n;
    else if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN) t->wire_received += n;
    return 0;
  }

  // Sets the library's option set on `easy` (fresh or reused).
  void setup(CURL* easy, const WireRequest& w) {
    e = easy;
    hl = header_list(w);
    curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(this));
    curl_easy_setopt(e, CURLOPT_URL, w.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void*>(this));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(this));
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, &on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, static_cast<void*>(this));
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 30L);
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 60L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 600'000L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(w.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, w.body.data());
  }
  // What the library reads back when a transfer ends.
  void read_info() {
    long code = 0, req_size = 0, hdr_size = 0;
    curl_off_t up = 0, down = 0, total_us = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &hdr_size);
    curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
    status = code;
    benchmark::DoNotOptimize(req_size + hdr_size + up + down + total_us);
  }
  void release_fresh() {
    if (e) curl_easy_cleanup(e);
    e = nullptr;
    release_list();
  }
  void release_list() {
    if (hl) curl_slist_free_all(hl);
    hl = nullptr;
  }
  std::string check() const {
    if (result != CURLE_OK) return std::string(curl_easy_strerror(result)) + " " + errbuf;
    if (status != 200) return "HTTP " + std::to_string(status) + ": " + body;
    return {};
  }
};

// Runs finished transfers' completion from curl_multi_info_read; returns how many.
template <class F>
int drain(CURLM* m, F&& on_done) {
  int n = 0, left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    LibLikeTransfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    t->result = msg->data.result;
    t->read_info();
    curl_multi_remove_handle(m, msg->easy_handle);
    on_done(t);
    ++n;
  }
  return n;
}

// A multi handle driven by its own thread, fed through a queue + wakeup; the
// caller waits on a condition variable (the library's shape, minus the library).
class IoThread {
 public:
  IoThread() : m_(curl_multi_init()) {
    curl_multi_setopt(m_, CURLMOPT_MAXCONNECTS, 1024L);
    th_ = std::thread([this] { loop(); });
  }
  ~IoThread() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    curl_multi_wakeup(m_);
    th_.join();
    curl_multi_cleanup(m_);
  }
  void submit(LibLikeTransfer* t) {
    bool wake;
    {
      std::lock_guard lk(mu_);
      wake = q_.empty();
      q_.push_back(t);
    }
    if (wake) curl_multi_wakeup(m_);
  }

 private:
  void loop() {
    std::deque<LibLikeTransfer*> batch;
    for (;;) {
      {
        std::lock_guard lk(mu_);
        if (stop_) return;
        batch.swap(q_);
      }
      for (auto* t : batch) curl_multi_add_handle(m_, t->e);
      batch.clear();
      int running = 0;
      curl_multi_perform(m_, &running);
      drain(m_, [](LibLikeTransfer* t) {
        std::lock_guard lk(t->mu);
        t->done = true;
        t->cv.notify_all();
      });
      bool pending;
      {
        std::lock_guard lk(mu_);
        pending = !q_.empty() || stop_;
      }
      if (!pending) curl_multi_poll(m_, nullptr, 0, 1000, nullptr);
    }
  }
  CURLM* m_;
  std::thread th_;
  std::mutex mu_;
  std::deque<LibLikeTransfer*> q_;
  bool stop_ = false;
};

// ------------------------------------------------------------------------ runners
//
// Each way of making a call is a Runner: run(k) makes k calls (one at a time,
// or with a window of several in flight) and says why it failed, if it did.
// The Google Benchmark functions and the interleaved pass both use them.

class Runner {
 public:
  virtual ~Runner() = default;
  virtual std::string run(int calls) = 0;
};

class BareRunner final : public Runner {
 public:
  explicit BareRunner(const WireRequest& w) : b_(w) {}
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      if (std::string err = b_.perform(); !err.empty()) return err;
      benchmark::DoNotOptimize(b_.resp.data());
    }
    return {};
  }

 private:
  BareEasy b_;
};

class LibOptsRunner final : public Runner {
 public:
  explicit LibOptsRunner(const WireRequest& w) { t_.setup(curl_easy_init(), w); }
  ~LibOptsRunner() override { t_.release_fresh(); }
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      t_.body.clear();
      t_.resp_headers.clear();
      t_.result = curl_easy_perform(t_.e);
      t_.read_info();
      if (std::string err = t_.check(); !err.empty()) return err;
    }
    return {};
  }

 private:
  LibLikeTransfer t_;
};

class MultiFreshRunner final : public Runner {
 public:
  explicit MultiFreshRunner(const WireRequest& w) : w_(w), m_(curl_multi_init()) {
    curl_multi_setopt(m_, CURLMOPT_MAXCONNECTS, 1024L);
  }
  ~MultiFreshRunner() override { curl_multi_cleanup(m_); }
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      LibLikeTransfer t;
      t.setup(curl_easy_init(), w_);
      curl_multi_add_handle(m_, t.e);
      bool done = false;
      while (!done) {
        int running = 0;
        curl_multi_perform(m_, &running);
        drain(m_, [&](LibLikeTransfer*) { done = true; });
        if (!done) curl_multi_poll(m_, nullptr, 0, 1000, nullptr);
      }
      std::string err = t.check();
      t.release_fresh();
      if (!err.empty()) return err;
    }
    return {};
  }

 private:
  const WireRequest& w_;
  CURLM* m_;
};

class IoThreadRunner final : public Runner {
 public:
  explicit IoThreadRunner(const WireRequest& w) : w_(w) {}
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      LibLikeTransfer t;
      t.setup(curl_easy_init(), w_);
      io_.submit(&t);
      {
        std::unique_lock lk(t.mu);
        t.cv.wait(lk, [&] { return t.done; });
      }
      std::string err = t.check();
      t.release_fresh();
      if (!err.empty()) return err;
    }
    return {};
  }

 private:
  const WireRequest& w_;
  IoThread io_;
};

class MultiWindowRunner final : public Runner {
 public:
  MultiWindowRunner(const WireRequest& w, int window)
      : w_(w), m_(curl_multi_init()), slots_(static_cast<size_t>(window)) {
    curl_multi_setopt(m_, CURLMOPT_MAXCONNECTS, 1024L);
  }
  ~MultiWindowRunner() override { curl_multi_cleanup(m_); }
  std::string run(int calls) override {
    std::vector<LibLikeTransfer*> free_slots;
    for (auto& s : slots_) free_slots.push_back(&s);
    int started = 0, done = 0;
    std::string err;
    while (done < calls) {
      while (started < calls && !free_slots.empty()) {
        LibLikeTransfer* t = free_slots.back();
        free_slots.pop_back();
        t->body.clear();
        t->resp_headers.clear();
        t->setup(curl_easy_init(), w_);
        curl_multi_add_handle(m_, t->e);
        ++started;
      }
      int running = 0;
      curl_multi_perform(m_, &running);
      int finished = drain(m_, [&](LibLikeTransfer* t) {
        if (err.empty()) err = t->check();
        t->release_fresh();
        free_slots.push_back(t);
      });
      done += finished;
      // Refill the window before waiting again.
      if (finished == 0 && done < calls) curl_multi_poll(m_, nullptr, 0, 1000, nullptr);
    }
    return err;
  }

 private:
  const WireRequest& w_;
  CURLM* m_;
  std::vector<LibLikeTransfer> slots_;
};

class LlmChatRunner final : public Runner {
 public:
  explicit LlmChatRunner(llm_client_t* c) : c_(c) {}
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      llm_response_t* r = nullptr;
      if (llm_chat(c_, kRequest, &r) != LLM_OK) return llm_last_error();
      benchmark::DoNotOptimize(llm_response_text(r));
      llm_response_free(r);
    }
    return {};
  }

 private:
  llm_client_t* c_;
};

// llm_chat_cancellable with a cancel token made and freed per call, never
// triggered: what a binding pays to make a blocking call cancellable.
class LlmChatCancellableRunner final : public Runner {
 public:
  explicit LlmChatCancellableRunner(llm_client_t* c) : c_(c) {}
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      llm_cancel_t* tok = nullptr;
      if (llm_cancel_new(&tok) != LLM_OK) return llm_last_error();
      llm_response_t* r = nullptr;
      llm_status st = llm_chat_cancellable(c_, kRequest, tok, &r);
      llm_cancel_free(tok);
      if (st != LLM_OK) return llm_last_error();
      benchmark::DoNotOptimize(llm_response_text(r));
      llm_response_free(r);
    }
    return {};
  }

 private:
  llm_client_t* c_;
};

// `total` llm_chat_async calls, `window` in flight, the window refilled from
// the done callback on the client's I/O thread (as an event-loop caller would).
struct AsyncWindow {
  llm_client_t* client = nullptr;
  int total = 0;
  std::atomic<int> started{0}, done{0}, failed{0};
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::string first_error;

  void fail(const char* msg) {
    std::lock_guard lk(mu);
    if (failed.fetch_add(1) == 0) first_error = msg ? msg : "?";
  }
  void complete_one() {
    if (done.fetch_add(1) + 1 == total) {
      std::lock_guard lk(mu);
      finished = true;
      cv.notify_all();
    }
  }
  void start_next() {
    if (started.fetch_add(1) >= total) return;
    if (llm_chat_async(client, kRequest, &AsyncWindow::on_done, this, nullptr) != LLM_OK) {
      fail(llm_last_error());
      complete_one();
    }
  }
  static void on_done(llm_status s, llm_response_t* r, const char* msg, void* ud) {
    auto* w = static_cast<AsyncWindow*>(ud);
    if (s != LLM_OK) w->fail(msg);
    llm_response_free(r);
    w->start_next();
    w->complete_one();
  }
};

class LlmAsyncRunner final : public Runner {
 public:
  LlmAsyncRunner(llm_client_t* c, int window) : c_(c), window_(window) {}
  std::string run(int calls) override {
    AsyncWindow w;
    w.client = c_;
    w.total = calls;
    for (int i = 0; i < std::min(window_, calls); ++i) w.start_next();
    std::unique_lock lk(w.mu);
    w.cv.wait(lk, [&] { return w.finished; });
    return w.failed ? w.first_error : std::string();
  }

 private:
  llm_client_t* c_;
  int window_;
};

// The same window on a hosted client ("io": "host"): this thread polls the
// client's descriptor and runs its loop, so the done callbacks (and the next
// calls they start) run here: what an event-loop program (Node) pays.
class LlmHostedRunner final : public Runner {
 public:
  LlmHostedRunner(llm_client_t* c, int window) : c_(c), window_(window) {
    if (llm_client_io_fd(c_, &fd_) != LLM_OK) die(std::string("llm_client_io_fd: ") + llm_last_error());
  }
  std::string run(int calls) override {
    AsyncWindow w;
    w.client = c_;
    w.total = calls;
    for (int i = 0; i < std::min(window_, calls); ++i) w.start_next();
    int timeout_ms = 0;
    while (w.done.load() < calls) {
      pollfd p{fd_, POLLIN, 0};
      if (timeout_ms != 0) ::poll(&p, 1, timeout_ms < 0 ? 1000 : timeout_ms);
      if (llm_client_io_run(c_, &timeout_ms) != LLM_OK) return llm_last_error();
    }
    return w.failed ? w.first_error : std::string();
  }

 private:
  llm_client_t* c_;
  int window_;
  int fd_ = -1;
};

class PreviewRunner final : public Runner {
 public:
  explicit PreviewRunner(llm_client_t* c) : c_(c) {}
  std::string run(int calls) override {
    for (int i = 0; i < calls; ++i) {
      char* out = nullptr;
      if (llm_preview_request(c_, kRequest, 0, &out) != LLM_OK) return llm_last_error();
      benchmark::DoNotOptimize(out);
      llm_string_free(out);
    }
    return {};
  }

 private:
  llm_client_t* c_;
};

// ------------------------------------------------------------------- the shared state

struct Env {
  std::unique_ptr<Upstream> up;
  llm_client_t* client = nullptr;
  llm_client_t* hosted = nullptr;  // "io": "host"
  WireRequest wire;
};
Env* g = nullptr;

// Every variant by name; `batch` is how many calls one benchmark iteration makes.
struct Variant {
  std::string name;
  int batch;
  std::function<std::unique_ptr<Runner>()> make;
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  v.push_back({"bare_curl_easy", 1, [] { return std::make_unique<BareRunner>(g->wire); }});
  v.push_back({"llm_chat", 1, [] { return std::make_unique<LlmChatRunner>(g->client); }});
  v.push_back({"llm_chat_cancellable", 1, [] { return std::make_unique<LlmChatCancellableRunner>(g->client); }});
  for (int n : {1, 4, 16, 64})
    v.push_back({"llm_chat_async/" + std::to_string(n), kAsyncBatch,
                 [n] { return std::make_unique<LlmAsyncRunner>(g->client, n); }});
  for (int n : {1, 16})
    v.push_back({"llm_chat_hosted/" + std::to_string(n), kAsyncBatch,
                 [n] { return std::make_unique<LlmHostedRunner>(g->hosted, n); }});
  v.push_back({"curl_easy_lib_opts", 1, [] { return std::make_unique<LibOptsRunner>(g->wire); }});
  v.push_back({"curl_multi_fresh", 1, [] { return std::make_unique<MultiFreshRunner>(g->wire); }});
  v.push_back({"curl_multi_io_thread", 1, [] { return std::make_unique<IoThreadRunner>(g->wire); }});
  for (int n : {1, 4, 16, 64})
    v.push_back({"curl_multi_window/" + std::to_string(n), kAsyncBatch,
                 [n] { return std::make_unique<MultiWindowRunner>(g->wire, n); }});
  v.push_back({"llm_preview_request", 1, [] { return std::make_unique<PreviewRunner>(g->client); }});
  return v;
}

void run_benchmark(benchmark::State& st, const Variant& v) {
  auto r = v.make();
  for (auto _ : st) {
    if (std::string err = r->run(v.batch); !err.empty()) {
      st.SkipWithError(err.c_str());
      break;
    }
  }
  st.SetItemsProcessed(st.iterations() * v.batch);
}

// ---------------------------------------------------------------- the wire check

// One llm_chat and one bare-curl request to a recording upstream: they must
// carry the same method, target, headers (in order) and body.
bool wire_check() {
  UpstreamOptions o;
  o.record_requests = true;
  Upstream rec(o);
  rec.start();
  llm_client_t* c = new_client(rec.base_url());
  llm_response_t* r = nullptr;
  if (llm_chat(c, kRequest, &r) != LLM_OK) die(std::string("wire check, llm_chat: ") + llm_last_error());
  llm_response_free(r);
  {
    BareEasy b(from_preview(c));
    if (std::string err = b.perform(); !err.empty()) die("wire check, bare curl: " + err);
  }
  llm_client_free(c);
  auto reqs = rec.requests();
  rec.stop();
  if (reqs.size() != 2) die("wire check: the recording upstream saw " + std::to_string(reqs.size()) + " requests");
  auto& a = reqs[0];
  auto& b = reqs[1];
  bool same = true;
  auto differ = [&](const std::string& what, const std::string& x, const std::string& y) {
    std::printf("wire check: %s differs:\n  llm_chat:  %s\n  bare curl: %s\n", what.c_str(), x.c_str(), y.c_str());
    same = false;
  };
  if (a.method != b.method) differ("method", a.method, b.method);
  if (a.target != b.target) differ("target", a.target, b.target);
  if (a.body != b.body) differ("body", a.body, b.body);
  auto join = [](const auto& h) {
    std::string s;
    for (auto& [k, v] : h) s += k + ": " + v + " | ";
    return s;
  };
  if (a.headers != b.headers) differ("headers", join(a.headers), join(b.headers));
  if (same)
    std::printf("wire check: llm_chat and bare curl sent identical requests (%zu headers, %zu-byte body)\n",
                a.headers.size(), a.body.size());
  return same;
}

// -------------------------------------------------------------- reporting

// Keeps every iteration run's figures for the summary printed after the run.
class Collector : public benchmark::ConsoleReporter {
 public:
  struct Fig {
    double us_per_call;
    double items_per_s;
  };
  std::map<std::string, std::vector<Fig>> figs;  // by benchmark name, one entry per repetition

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      auto it = r.counters.find("items_per_second");
      if (it == r.counters.end() || it->second.value <= 0) continue;
      figs[r.run_name.function_name].push_back({1e6 / it->second.value, it->second.value});
    }
  }
};

struct Stats {
  double mean = 0, median = 0, min = 0, max = 0;
};
Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

void gbench_summary(const Collector& c) {
  if (c.figs.empty()) return;
  std::printf("\n==== Google Benchmark figures: mean over repetitions [min .. max] ====\n");
  std::printf("%-24s %10s  %-24s %12s\n", "benchmark", "us/call", "", "calls/s");
  for (auto& [name, v] : c.figs) {
    std::vector<double> us, ips;
    for (auto& f : v) {
      us.push_back(f.us_per_call);
      ips.push_back(f.items_per_s);
    }
    Stats u = stats_of(us), i = stats_of(ips);
    std::printf("%-24s %10.1f  [%9.1f .. %9.1f] %12.0f\n", name.c_str(), u.mean, u.min, u.max, i.mean);
  }
  auto it_a = c.figs.find("llm_chat"), it_b = c.figs.find("bare_curl_easy");
  if (it_a != c.figs.end() && it_b != c.figs.end()) {
    std::vector<double> a, b;
    for (auto& f : it_a->second) a.push_back(f.us_per_call);
    for (auto& f : it_b->second) b.push_back(f.us_per_call);
    std::printf("ratio of means llm_chat / bare_curl_easy = %.3f (repetitions run at different moments: see the\n"
                "interleaved pass for the ratio measured side by side)\n",
                stats_of(a).mean / stats_of(b).mean);
  }
}

// The interleaved pass: every round runs `slice` calls of each variant, in a
// fresh random order, so that the variants share the same moment's noise
// (other processes on the machine). Ratios are taken per round, then summarized.
void interleaved(int rounds, int slice) {
  const std::vector<std::string> names = {"bare_curl_easy",   "curl_easy_lib_opts",  "curl_multi_fresh",
                                          "curl_multi_io_thread", "llm_chat",          "llm_chat_async/1",
                                          "llm_chat_async/16", "curl_multi_window/16", "llm_chat_hosted/1",
                                          "llm_chat_hosted/16",  "llm_chat_cancellable"};
  auto all = variants();
  std::vector<std::pair<std::string, std::unique_ptr<Runner>>> rs;
  for (auto& n : names)
    for (auto& v : all)
      if (v.name == n) rs.emplace_back(n, v.make());
  for (auto& [n, r] : rs)
    if (std::string err = r->run(20); !err.empty()) die(n + ": " + err);

  std::map<std::string, std::vector<double>> us;        // per round
  std::map<std::string, std::vector<double>> per_call;  // every single call's latency
  std::mt19937 rng(12345);
  std::vector<size_t> order(rs.size());
  std::iota(order.begin(), order.end(), 0);
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t k : order) {
      const std::string& name = rs[k].first;
      Runner& r = *rs[k].second;
      auto t0 = std::chrono::steady_clock::now();
      if (name.find("async") != std::string::npos || name.find("window") != std::string::npos) {
        // Calls overlap, or the next one starts from the done callback: time the slice only.
        if (std::string err = r.run(slice); !err.empty()) die(name + ": " + err);
      } else {
        auto& lat = per_call[name];
        for (int i = 0; i < slice; ++i) {
          auto c0 = std::chrono::steady_clock::now();
          if (std::string err = r.run(1); !err.empty()) die(name + ": " + err);
          lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - c0).count());
        }
      }
      double el = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      us[name].push_back(el / slice);
    }
  }

  std::printf("\n==== interleaved pass: %d rounds x %d calls per variant ====\n", rounds, slice);
  std::printf("%-22s %-30s   %s\n", "", "us/call per round: median [min .. max]", "single-call latency us: p10 / p50 / p90 / p99");
  auto pct = [](std::vector<double>& v, double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))]; };
  for (auto& n : names) {
    Stats s = stats_of(us[n]);
    std::printf("%-22s %8.1f  [%8.1f .. %8.1f]", n.c_str(), s.median, s.min, s.max);
    if (auto& v = per_call[n]; !v.empty()) {
      std::sort(v.begin(), v.end());
      std::printf("      %6.1f / %6.1f / %6.1f / %7.1f", pct(v, .10), pct(v, .50), pct(v, .90), pct(v, .99));
    }
    std::printf("\n");
  }
  if (!per_call["llm_chat"].empty() && !per_call["bare_curl_easy"].empty()) {
    auto& a = per_call["llm_chat"];
    auto& b = per_call["bare_curl_easy"];
    std::printf("single-call latency llm_chat / bare_curl_easy: p10 %.3f, p50 %.3f, p90 %.3f\n", pct(a, .10) / pct(b, .10),
                pct(a, .50) / pct(b, .50), pct(a, .90) / pct(b, .90));
  }
  auto ratio = [&](const std::string& a, const std::string& b, const char* what) {
    std::vector<double> r;
    for (size_t i = 0; i < us[a].size(); ++i) r.push_back(us[a][i] / us[b][i]);
    Stats s = stats_of(r);
    double sa = std::accumulate(us[a].begin(), us[a].end(), 0.0), sb = std::accumulate(us[b].begin(), us[b].end(), 0.0);
    double best = stats_of(us[a]).min / stats_of(us[b]).min;
    std::printf("%-20s / %-20s  median %6.3f [%6.3f .. %7.3f]  all rounds %6.3f  best rounds %6.3f  %s\n", a.c_str(),
                b.c_str(), s.median, s.min, s.max, sa / sb, best, what);
  };
  std::printf("ratios (per round: median [min .. max]; all rounds: total time / total time; best rounds: fastest\n"
              "round of one / fastest round of the other):\n");
  ratio("llm_chat", "bare_curl_easy", "<- the figure (target <= 1.2)");
  ratio("curl_easy_lib_opts", "bare_curl_easy", "library's curl options (VERBOSE+debug cb, ...)");
  ratio("curl_multi_fresh", "curl_easy_lib_opts", "multi handle + a fresh easy handle per call");
  ratio("llm_chat", "curl_multi_fresh", "the library itself (JSON, bookkeeping), same thread");
  ratio("curl_multi_io_thread", "curl_multi_fresh", "an I/O-thread hop (llm_chat skips it when the loop is idle)");
  ratio("llm_chat_async/1", "bare_curl_easy", "library on its I/O thread, next call from the done callback");
  ratio("llm_chat", "llm_chat_async/1", "blocking call on the caller's thread / async on the I/O thread");
  ratio("llm_chat_cancellable", "llm_chat", "a cancel token per call (never triggered) / none");
  ratio("llm_chat_async/16", "curl_multi_window/16", "throughput, 16 in flight on one client / one multi");
  ratio("llm_chat_hosted/1", "llm_chat", "hosted (\"io\": \"host\"), this thread's poll loop / blocking call");
  ratio("llm_chat_hosted/1", "llm_chat_async/1", "hosted / async on the client's I/O thread");
  ratio("llm_chat_hosted/16", "llm_chat_async/16", "16 in flight: hosted / on the client's I/O thread");
  auto diff = [&](const std::string& a, const std::string& b) {
    return stats_of(us[a]).median - stats_of(us[b]).median;
  };
  auto diff_best = [&](const std::string& a, const std::string& b) {
    return stats_of(us[a]).min - stats_of(us[b]).min;
  };
  using Diff = std::function<double(const std::string&, const std::string&)>;
  for (auto& [label, d] : {std::pair<const char*, Diff>{"medians", diff}, std::pair<const char*, Diff>{"best rounds", diff_best}})
    std::printf("ladder (differences of %s, us per call): options %+.1f, multi+fresh easy %+.1f, "
                "library %+.1f; total llm_chat - bare %+.1f (an I/O-thread hop would add %+.1f)\n",
                label, d("curl_easy_lib_opts", "bare_curl_easy"), d("curl_multi_fresh", "curl_easy_lib_opts"),
                d("llm_chat", "curl_multi_fresh"), d("llm_chat", "bare_curl_easy"),
                d("curl_multi_io_thread", "curl_multi_fresh"));
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flags first (Google Benchmark refuses ones it does not know).
  int rounds = 40, slice = 100;
  bool gbench = true;
  std::string profile;  // "name:N"
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--pairs=", 0) == 0) rounds = std::atoi(a.c_str() + 8);
    else if (a.rfind("--slice=", 0) == 0) slice = std::max(1, std::atoi(a.c_str() + 8));
    else if (a == "--only-pairs") gbench = false;
    else if (a == "--provider=anthropic") g_provider = "anthropic", kRequest = kAnthropicRequest;
    else if (a == "--provider=openai") g_provider = "openai", kRequest = kOpenAIRequest;
    else if (a.rfind("--profile=", 0) == 0) profile = a.substr(10);
    else if (a == "--help" || a == "-h") {
      std::printf("usage: %s [--pairs=ROUNDS (default 40; 0: none)] [--slice=CALLS (default 100)] [--only-pairs]\n"
                  "          [--provider=openai|anthropic (the wire format measured; default openai)]\n"
                  "          [--profile=VARIANT:N (run N calls of one variant, nothing else: for valgrind)]\n"
                  "          [Google Benchmark flags]\n",
                  argv[0]);
      return 0;
    } else args.push_back(argv[i]);
  }
  // Defaults a plain run should have: three repetitions, interleaved so that a
  // burst of noise from other processes hits every benchmark alike.
  bool has_reps = false, has_interleave = false;
  for (char* a : args) {
    has_reps = has_reps || std::strncmp(a, "--benchmark_repetitions", 23) == 0;
    has_interleave = has_interleave || std::strncmp(a, "--benchmark_enable_random_interleaving", 38) == 0;
  }
  std::string reps = "--benchmark_repetitions=3", inter = "--benchmark_enable_random_interleaving=true";
  if (!has_reps) args.push_back(reps.data());
  if (!has_interleave) args.push_back(inter.data());
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (profile.empty()) wire_check();

  Env env;
  g = &env;
  UpstreamOptions o;
  o.record_requests = false;
  env.up = std::make_unique<Upstream>(o);
  env.up->start();
  env.client = new_client(env.up->base_url());
  if (llm_client_new(("{\"io\":\"host\"," + client_config(env.up->base_url()).substr(1)).c_str(), &env.hosted) != LLM_OK)
    die(std::string("llm_client_new (hosted): ") + llm_last_error());
  env.wire = from_preview(env.client);

  if (!profile.empty()) {
    size_t colon = profile.rfind(':');
    std::string name = profile.substr(0, colon);
    int calls = colon == std::string::npos ? 1000 : std::atoi(profile.c_str() + colon + 1);
    for (auto& v : variants())
      if (v.name == name) {
        auto r = v.make();
        if (std::string err = r->run(calls); !err.empty()) die(name + ": " + err);
        std::printf("profile: %d calls of %s done\n", calls, name.c_str());
        llm_client_free(env.client);
        llm_client_free(env.hosted);
        env.up->stop();
        return 0;
      }
    die("--profile: no variant named " + name);
  }

  std::printf("upstream %s; request body %zu bytes; literllm %s; %s\n", env.up->base_url().c_str(),
              env.wire.body.size(), llm_version(), curl_version());

  auto all = variants();
  Collector rep;
  if (gbench) {
    for (auto& v : all) {
      auto* b = benchmark::RegisterBenchmark(v.name.c_str(), [&v](benchmark::State& st) { run_benchmark(st, v); });
      b->UseRealTime()->Unit(v.batch > 1 ? benchmark::kMillisecond : benchmark::kMicrosecond);
    }
    benchmark::RunSpecifiedBenchmarks(&rep);
    gbench_summary(rep);
  }
  if (rounds > 0) interleaved(rounds, slice);
  std::printf("\nupstream connections accepted during the run: %zu\n", env.up->connections_accepted());

  llm_client_free(env.client);
  llm_client_free(env.hosted);
  env.up->stop();
  benchmark::Shutdown();
  curl_global_cleanup();
  return 0;
}
