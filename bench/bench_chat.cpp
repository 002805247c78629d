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
//                          condition variable (the library's threading model)
//   llm_preview_request    the library's request preparation alone (parse,
//                          validate, route, build the body; plus the preview's
//                          own dump): no I/O
//   curl_multi_window/N    bare-curl throughput baseline for llm_chat_async/N:
//                          N fresh easy handles in flight on one multi handle
//
// After the run a summary prints µs per call and the ratio llm_chat / bare
// curl for every repetition (default: 3 repetitions, interleaved).
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "literllm.h"
#include "upstream.hpp"

namespace {

using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

constexpr const char* kApiKey = "k-bench";
constexpr const char* kRequest =
    R"({"model":"openai/gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Say hello to the benchmark."}],"temperature":0.2,"max_tokens":64})";
constexpr int kAsyncBatch = 256;

std::string client_config(const std::string& base_url) {
  return std::string(R"({"providers":{"openai":{"base_url":")") + base_url + R"(","api_key":")" + kApiKey +
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

// ------------------------------------------------------------------- the shared state

struct Env {
  std::unique_ptr<Upstream> up;
  llm_client_t* client = nullptr;
  WireRequest wire;
  std::unique_ptr<BareEasy> bare;
};
Env* g = nullptr;

// ------------------------------------------------------------------------ benchmarks

void BM_bare_curl_easy(benchmark::State& st) {
  for (auto _ : st) {
    std::string err = g->bare->perform();
    if (!err.empty()) {
      st.SkipWithError(err.c_str());
      break;
    }
    benchmark::DoNotOptimize(g->bare->resp.data());
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_llm_chat(benchmark::State& st) {
  for (auto _ : st) {
    llm_response_t* r = nullptr;
    if (llm_chat(g->client, kRequest, &r) != LLM_OK) {
      st.SkipWithError(llm_last_error());
      break;
    }
    benchmark::DoNotOptimize(llm_response_text(r));
    llm_response_free(r);
  }
  st.SetItemsProcessed(st.iterations());
}

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
  // Starts the next call if any is left; false when none was.
  bool start_next();
  static void on_done(llm_status s, llm_response_t* r, const char* msg, void* ud) {
    auto* w = static_cast<AsyncWindow*>(ud);
    if (s != LLM_OK) w->fail(msg);
    llm_response_free(r);
    w->start_next();  // refill the window from the I/O thread, as an event-loop caller would
    w->complete_one();
  }
};

bool AsyncWindow::start_next() {
  if (started.fetch_add(1) >= total) return false;
  if (llm_chat_async(client, kRequest, &AsyncWindow::on_done, this, nullptr) != LLM_OK) {
    fail(llm_last_error());
    complete_one();
  }
  return true;
}

void BM_llm_chat_async(benchmark::State& st) {
  const int window = static_cast<int>(st.range(0));
  for (auto _ : st) {
    AsyncWindow w;
    w.client = g->client;
    w.total = kAsyncBatch;
    for (int i = 0; i < window; ++i) w.start_next();
    std::unique_lock lk(w.mu);
    w.cv.wait(lk, [&] { return w.finished; });
    if (w.failed) {
      st.SkipWithError(w.first_error.c_str());
      break;
    }
  }
  st.SetItemsProcessed(st.iterations() * kAsyncBatch);
}

void BM_curl_easy_lib_opts(benchmark::State& st) {
  CURL* e = curl_easy_init();
  LibLikeTransfer t;
  t.setup(e, g->wire);
  for (auto _ : st) {
    t.body.clear();
    t.resp_headers.clear();
    t.result = curl_easy_perform(e);
    t.read_info();
    if (std::string err = t.check(); !err.empty()) {
      st.SkipWithError(err.c_str());
      break;
    }
  }
  t.release_fresh();
  st.SetItemsProcessed(st.iterations());
}

void BM_curl_multi_fresh(benchmark::State& st) {
  CURLM* m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1024L);
  for (auto _ : st) {
    LibLikeTransfer t;
    t.setup(curl_easy_init(), g->wire);
    curl_multi_add_handle(m, t.e);
    bool done = false;
    while (!done) {
      int running = 0;
      curl_multi_perform(m, &running);
      drain(m, [&](LibLikeTransfer*) { done = true; });
      if (!done) curl_multi_poll(m, nullptr, 0, 1000, nullptr);
    }
    std::string err = t.check();
    t.release_fresh();
    if (!err.empty()) {
      st.SkipWithError(err.c_str());
      break;
    }
  }
  curl_multi_cleanup(m);
  st.SetItemsProcessed(st.iterations());
}

void BM_curl_multi_io_thread(benchmark::State& st) {
  IoThread io;
  for (auto _ : st) {
    LibLikeTransfer t;
    t.setup(curl_easy_init(), g->wire);
    io.submit(&t);
    {
      std::unique_lock lk(t.mu);
      t.cv.wait(lk, [&] { return t.done; });
    }
    std::string err = t.check();
    t.release_fresh();
    if (!err.empty()) {
      st.SkipWithError(err.c_str());
      break;
    }
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_curl_multi_window(benchmark::State& st) {
  const int window = static_cast<int>(st.range(0));
  CURLM* m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 1024L);
  std::vector<LibLikeTransfer> slots(static_cast<size_t>(window));
  std::vector<LibLikeTransfer*> free_slots;
  for (auto _ : st) {
    free_slots.clear();
    for (auto& s : slots) free_slots.push_back(&s);
    int started = 0, done = 0;
    std::string err;
    while (done < kAsyncBatch) {
      while (started < kAsyncBatch && !free_slots.empty()) {
        LibLikeTransfer* t = free_slots.back();
        free_slots.pop_back();
        t->body.clear();
        t->resp_headers.clear();
        t->setup(curl_easy_init(), g->wire);
        curl_multi_add_handle(m, t->e);
        ++started;
      }
      int running = 0;
      curl_multi_perform(m, &running);
      done += drain(m, [&](LibLikeTransfer* t) {
        if (err.empty()) err = t->check();
        t->release_fresh();
        free_slots.push_back(t);
      });
      if (done < kAsyncBatch) curl_multi_poll(m, nullptr, 0, 1000, nullptr);
    }
    if (!err.empty()) {
      st.SkipWithError(err.c_str());
      break;
    }
  }
  curl_multi_cleanup(m);
  st.SetItemsProcessed(st.iterations() * kAsyncBatch);
}

void BM_llm_preview_request(benchmark::State& st) {
  for (auto _ : st) {
    char* out = nullptr;
    if (llm_preview_request(g->client, kRequest, 0, &out) != LLM_OK) {
      st.SkipWithError(llm_last_error());
      break;
    }
    benchmark::DoNotOptimize(out);
    llm_string_free(out);
  }
  st.SetItemsProcessed(st.iterations());
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
      double ips = it->second.value;
      figs[r.run_name.function_name + (r.run_name.args.empty() ? "" : "/" + r.run_name.args)].push_back(
          {1e6 / ips, ips});
    }
  }
};

struct Stats {
  double mean = 0, min = 0, max = 0;
};
Stats stats_of(const std::vector<double>& v) {
  Stats s;
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  return s;
}

void summary(const Collector& c, size_t connections) {
  auto get = [&](const std::string& n) -> const std::vector<Collector::Fig>* {
    auto it = c.figs.find(n);
    return it == c.figs.end() ? nullptr : &it->second;
  };
  std::printf("\n==== summary (mean over repetitions [min .. max]) ====\n");
  std::printf("%-28s %12s %26s %14s\n", "benchmark", "us/call", "", "calls/s");
  for (auto& [name, v] : c.figs) {
    std::vector<double> us, ips;
    for (auto& f : v) {
      us.push_back(f.us_per_call);
      ips.push_back(f.items_per_s);
    }
    Stats u = stats_of(us), i = stats_of(ips);
    std::printf("%-28s %12.1f   [%9.1f .. %9.1f] %14.0f\n", name.c_str(), u.mean, u.min, u.max, i.mean);
  }
  auto ratio = [&](const char* num, const char* den) {
    auto* a = get(num);
    auto* b = get(den);
    if (!a || !b || a->empty() || b->empty()) return;
    std::vector<double> rs;
    for (size_t k = 0; k < std::min(a->size(), b->size()); ++k) rs.push_back((*a)[k].us_per_call / (*b)[k].us_per_call);
    Stats s = stats_of(rs);
    std::printf("ratio %-22s / %-22s = %.3f  [%.3f .. %.3f] over %zu paired repetitions\n", num, den, s.mean, s.min,
                s.max, rs.size());
  };
  std::printf("\n");
  ratio("llm_chat", "bare_curl_easy");
  ratio("curl_easy_lib_opts", "bare_curl_easy");
  ratio("curl_multi_fresh", "curl_easy_lib_opts");
  ratio("curl_multi_io_thread", "curl_multi_fresh");
  ratio("llm_chat", "curl_multi_io_thread");
  for (int n : {1, 4, 16, 64}) {
    std::string a = "llm_chat_async/" + std::to_string(n), b = "curl_multi_window/" + std::to_string(n);
    ratio(a.c_str(), b.c_str());
  }
  std::printf("target: llm_chat / bare_curl_easy <= 1.2\n");
  std::printf("upstream connections accepted during the run: %zu\n", connections);
}

}  // namespace

int main(int argc, char** argv) {
  // Defaults a plain run should have: three repetitions, interleaved so that a
  // burst of noise from other processes hits every benchmark alike.
  std::vector<char*> args(argv, argv + argc);
  bool has_reps = false, has_interleave = false;
  for (int i = 1; i < argc; ++i) {
    has_reps = has_reps || std::strncmp(argv[i], "--benchmark_repetitions", 23) == 0;
    has_interleave = has_interleave || std::strncmp(argv[i], "--benchmark_enable_random_interleaving", 38) == 0;
  }
  std::string reps = "--benchmark_repetitions=3", inter = "--benchmark_enable_random_interleaving=true";
  if (!has_reps) args.push_back(reps.data());
  if (!has_interleave) args.push_back(inter.data());
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  wire_check();

  Env env;
  g = &env;
  UpstreamOptions o;
  o.record_requests = false;
  env.up = std::make_unique<Upstream>(o);
  env.up->start();
  env.client = new_client(env.up->base_url());
  env.wire = from_preview(env.client);
  env.bare = std::make_unique<BareEasy>(env.wire);
  std::printf("upstream %s; request body %zu bytes; llm %s, %s\n", env.up->base_url().c_str(), env.wire.body.size(),
              llm_version(), curl_version());

  benchmark::RegisterBenchmark("bare_curl_easy", BM_bare_curl_easy)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("llm_chat", BM_llm_chat)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("llm_chat_async", BM_llm_chat_async)
      ->Arg(1)->Arg(4)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("curl_easy_lib_opts", BM_curl_easy_lib_opts)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("curl_multi_fresh", BM_curl_multi_fresh)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("curl_multi_io_thread", BM_curl_multi_io_thread)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("curl_multi_window", BM_curl_multi_window)
      ->Arg(1)->Arg(4)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("llm_preview_request", BM_llm_preview_request)->UseRealTime()->Unit(benchmark::kMicrosecond);

  Collector rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  summary(rep, env.up->connections_accepted());

  env.bare.reset();
  llm_client_free(env.client);
  env.up->stop();
  benchmark::Shutdown();
  curl_global_cleanup();
  return 0;
}
