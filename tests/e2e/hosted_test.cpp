// Hosted I/O end to end through the C API: a client made with "io": "host"
// has no I/O thread; the program polls llm_client_io_fd in its own loop and
// calls llm_client_io_run, which runs every callback on the calling thread.
// The host loop below is the smallest such program: poll(2) on the descriptor
// with the timeout io_run last returned, io_run when readable or on timeout.
//
// Two ways to drive:
//  - capped: poll waits at most 50 ms whatever the library asked, so that a
//    lost wake-up costs latency, not a hung suite (most tests);
//  - strict: poll waits exactly what the library asked (-1: until the test's
//    deadline), so a timer the library forgot to report, or a wake-up it
//    forgot to signal, FAILS the test at its deadline (timers, cancel from
//    another thread, a blocking call running the loop, the fairness yield).
#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "e2e.hpp"
#include "openai_endpoints.hpp"

using namespace e2e;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kSlow = 3.0;  // sanitized builds are a few times slower at everything
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr double kSlow = 3.0;
#else
constexpr double kSlow = 1.0;
#endif
#else
constexpr double kSlow = 1.0;
#endif

constexpr int kCapMs = 50;      // capped driving: the longest a poll waits
constexpr int kStrict = -1;     // strict driving: no cap

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

const std::string kHello = "Hello from the local upstream. You said: ";

// The threads of this process right now.
size_t thread_count() {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)e;
    ++n;
  }
  return n;
}

// ------------------------------------------------------------ the host loop

struct Host {
  llm_client_t* c = nullptr;
  int fd = -1;
  int timeout = 0;  // what io_run last returned; 0 before the first run: run at once
  std::thread::id thread;
  size_t runs = 0, woke_readable = 0, woke_timeout = 0;
  bool failed = false;
  std::string failure;
  std::function<void()> after_run;  // called after every io_run (test bookkeeping)
  double longest_wait = 0;           // the longest poll, in seconds
  int longest_wait_asked = 0;        // the timeout_ms io_run had given before it
  bool longest_wait_readable = false;

  explicit Host(llm_client_t* client) : c(client) {
    llm_status st = llm_client_io_fd(c, &fd);
    if (st != LLM_OK || fd < 0) {
      failed = true;
      failure = std::string("llm_client_io_fd: ") + llm_status_str(st) + " " + llm_last_error();
      ADD_FAILURE() << failure;
    }
    thread = std::this_thread::get_id();
  }

  // One llm_client_io_run; records the timeout it asks for.
  llm_status run() {
    int t = -12345;
    llm_status st = llm_client_io_run(c, &t);
    ++runs;
    if (st != LLM_OK) {
      failed = true;
      failure = std::string("llm_client_io_run: ") + llm_status_str(st) + " " + llm_last_error();
      ADD_FAILURE() << failure;
      return st;
    }
    if (t < -1) {
      failed = true;
      failure = "llm_client_io_run gave timeout_ms " + std::to_string(t);
      ADD_FAILURE() << failure;
    }
    timeout = t;
    if (after_run) after_run();
    return st;
  }

  // Polls the descriptor: for the timeout io_run last asked for (-1: until
  // `deadline`), at most `cap_ms` when cap_ms >= 0. True when readable.
  bool wait(int cap_ms, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left < 0) left = 0;
    long ms = timeout < 0 ? left : std::min<long>(timeout, left);
    if (cap_ms >= 0) ms = std::min<long>(ms, cap_ms);
    pollfd p{fd, POLLIN, 0};
    auto t0 = Clock::now();
    int rc = ::poll(&p, 1, static_cast<int>(ms));
    double waited = since(t0);
    if (waited > longest_wait) {
      longest_wait = waited;
      longest_wait_asked = timeout;
      longest_wait_readable = rc > 0;
    }
    if (rc > 0 && (p.revents & (POLLNVAL | POLLERR))) {
      failed = true;
      failure = "the descriptor polls as invalid or in error (revents " + std::to_string(p.revents) + ")";
      ADD_FAILURE() << failure;
      return false;
    }
    bool readable = rc > 0 && (p.revents & POLLIN);
    if (readable) ++woke_readable;
    else ++woke_timeout;
    return readable;
  }

  // Runs the host loop on the calling thread until `done()` holds: true then,
  // false when `limit` (stretched for sanitized builds) passed first or io_run
  // failed. `done` is checked after every io_run, before the next poll (a
  // callback may have freed the client).
  bool drive(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s, int cap_ms = kCapMs) {
    thread = std::this_thread::get_id();
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(limit.count() * kSlow));
    for (;;) {
      if (done()) return true;
      if (failed) return false;
      if (Clock::now() >= deadline) return false;
      wait(cap_ms, deadline);
      if (run() != LLM_OK) return false;
    }
  }

  std::string stats() const {
    return "io_run calls " + std::to_string(runs) + ", woke readable " + std::to_string(woke_readable) +
           ", woke on timeout " + std::to_string(woke_timeout) + ", last timeout_ms " + std::to_string(timeout) +
           ", longest poll " + std::to_string(static_cast<int>(longest_wait * 1000)) + " ms after timeout_ms " +
           std::to_string(longest_wait_asked) + (longest_wait_readable ? " (woke readable)" : " (woke on timeout)") +
           (failure.empty() ? "" : ", " + failure);
  }
};

// ---------------------------------------------------------- call records

// How one async call went, as its callbacks saw it.
struct Rec {
  std::mutex mu;
  llm_client_t* client = nullptr;  // for callbacks that call back into the client
  int done = 0;
  llm_status status = LLM_ERR_INTERNAL;
  std::string text, message, json, error_provider;
  int http_status = 0;
  std::thread::id done_thread;
  size_t chunks = 0, chunks_after_done = 0;
  std::string content;   // streamed choices[0].delta.content joined
  size_t content_bytes = 0;
  std::vector<std::thread::id> chunk_threads;
  bool first_chunk_had_role = false;
  std::string last_finish;  // the last finish_reason a chunk carried
  bool chunk_not_json = false;
  Clock::time_point ended;
  // io_run inside the callbacks
  bool probe_io_run = false;
  llm_status io_run_in_done = LLM_OK, io_run_in_chunk = LLM_OK;
  llm_status io_run_e_in_done = LLM_OK, chat_in_done = LLM_OK;
  bool io_run_e_error_ok = false;
  size_t cancel_after = 0;  // the chunk callback asks to stop after this many chunks (0: never)

  bool finished() {
    std::lock_guard lk(mu);
    return done > 0;
  }
};

void finish(Rec* r, llm_status st, llm_response_t* resp, const char* msg) {
  if (r->probe_io_run) {
    int t = 0;
    r->io_run_in_done = llm_client_io_run(r->client, &t);
    llm_error_t* e = nullptr;
    r->io_run_e_in_done = llm_client_io_run_e(r->client, &t, &e);
    r->io_run_e_error_ok = e && llm_error_status(e) == LLM_ERR_INVALID_ARGUMENT;
    llm_error_free(e);
    llm_response_t* x = nullptr;
    r->chat_in_done = llm_chat(r->client, chat_req("openai/gpt-4o", "nested").c_str(), &x);
    llm_response_free(x);
  }
  std::lock_guard lk(r->mu);
  ++r->done;
  r->status = st;
  r->done_thread = std::this_thread::get_id();
  r->ended = Clock::now();
  if (msg) r->message = msg;
  if (resp) {
    if (const char* t = llm_response_text(resp)) r->text = t;
    if (const char* j = llm_response_json(resp)) r->json = j;
  }
  llm_response_free(resp);
}

void on_done(llm_status st, llm_response_t* resp, const char* msg, void* ud) {
  finish(static_cast<Rec*>(ud), st, resp, msg);
}

void on_done_e(llm_status st, llm_response_t* resp, const llm_error_t* err, void* ud) {
  auto* r = static_cast<Rec*>(ud);
  {
    std::lock_guard lk(r->mu);
    r->http_status = llm_error_http_status(err);
    if (const char* p = llm_error_provider(err)) r->error_provider = p;
    if (err && llm_error_status(err) != st) r->message = "error object status differs from the callback's";
  }
  finish(r, st, resp, err ? llm_error_message(err) : nullptr);
}

int on_chunk(const char* chunk, void* ud) {
  auto* r = static_cast<Rec*>(ud);
  if (r->probe_io_run) {
    int t = 0;
    r->io_run_in_chunk = llm_client_io_run(r->client, &t);
  }
  rapidjson::Document d;
  d.Parse(chunk ? chunk : "null");
  std::lock_guard lk(r->mu);
  if (r->done) ++r->chunks_after_done;
  if (r->chunk_threads.empty() || r->chunk_threads.back() != std::this_thread::get_id())
    r->chunk_threads.push_back(std::this_thread::get_id());
  if (d.HasParseError() || !d.IsObject()) {
    r->chunk_not_json = true;
    ++r->chunks;
    return 0;
  }
  if (r->chunks == 0 && d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty() &&
      d["choices"][0]["delta"].IsObject() && d["choices"][0]["delta"].HasMember("role"))
    r->first_chunk_had_role = true;
  ++r->chunks;
  if (d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty()) {
    const auto& c0 = d["choices"][0];
    if (c0.HasMember("delta") && c0["delta"].IsObject() && c0["delta"].HasMember("content") &&
        c0["delta"]["content"].IsString()) {
      r->content.append(c0["delta"]["content"].GetString(), c0["delta"]["content"].GetStringLength());
      r->content_bytes += c0["delta"]["content"].GetStringLength();
    }
    if (c0.HasMember("finish_reason") && c0["finish_reason"].IsString()) r->last_finish = c0["finish_reason"].GetString();
  }
  return r->cancel_after && r->chunks >= r->cancel_after ? 1 : 0;
}

// The letters a generated content stream carries, `n` of them: abc...zABC...Z, again.
std::string generated_letters(size_t n) {
  static const char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = kLetters[i % 52];
  return s;
}

// ------------------------------------------------------------ the fixture

class Hosted : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  void TearDown() override {
    // Clients first (their callbacks write into records the fixture owns).
    for (auto* c : clients_) llm_client_free(c);
    clients_.clear();
    up.stop();
  }

  std::string config(const std::string& io, const std::string& extra) {
    return "{\"providers\":{\"openai\":{\"base_url\":" + q(up.base_url()) + ",\"api_key\":" + q(kKey) + "}}" +
           (io.empty() ? "" : ",\"io\":" + io) + extra + "}";
  }
  // A client on the upstream, "io": "host" unless said; freed by TearDown unless released.
  llm_client_t* client(const std::string& extra = ",\"max_retries\":0", const std::string& io = "\"host\"") {
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(config(io, extra).c_str(), &c), LLM_OK) << llm_last_error();
    if (c) clients_.push_back(c);
    return c;
  }
  // The test frees `c` itself (or a callback does).
  void release(llm_client_t* c) {
    for (auto it = clients_.begin(); it != clients_.end(); ++it)
      if (*it == c) {
        clients_.erase(it);
        return;
      }
  }
  // Keeps `p` alive until the clients are freed (callbacks' user data).
  template <class T>
  T* keep(std::shared_ptr<T> p) {
    keep_.push_back(p);
    return p.get();
  }
  Rec& rec(llm_client_t* c = nullptr) {
    recs_.emplace_back();
    recs_.back().client = c;
    return recs_.back();
  }

  literllm::testing::Upstream up;
  std::vector<llm_client_t*> clients_;
  std::deque<Rec> recs_;  // outlive the clients (TearDown frees those first)
  std::vector<std::shared_ptr<void>> keep_;
};

std::string regex_word(const std::string& w) { return "(^|[^A-Za-z0-9_])" + w + "([^A-Za-z0-9_]|$)"; }

}  // namespace

// ===================================================== 1. configuration, arguments

TEST_F(Hosted, ConfigAcceptsHostAndThreadAndRefusesAnythingElseNamingIo) {
  for (const char* io : {"\"host\"", "\"thread\""}) {
    llm_client_t* c = nullptr;
    EXPECT_EQ(llm_client_new(config(io, "").c_str(), &c), LLM_OK) << io << ": " << llm_last_error();
    EXPECT_NE(c, nullptr);
    llm_client_free(c);
  }
  for (const char* io : {"3", "\"other\"", "\"\"", "\"HOSTED\"", "null", "true", "[\"host\"]", "{}"}) {
    llm_client_t* c = reinterpret_cast<llm_client_t*>(0x1);
    llm_error_t* e = nullptr;
    EXPECT_EQ(llm_client_new_e(config(io, "").c_str(), &c, &e), LLM_ERR_INVALID_ARGUMENT) << io;
    EXPECT_EQ(c, nullptr) << io << ": the out parameter must be NULL on failure";
    std::string msg = llm_error_message(e);
    EXPECT_EQ(llm_error_status(e), LLM_ERR_INVALID_ARGUMENT) << io;
    EXPECT_TRUE(std::regex_search(msg, std::regex(regex_word("io")))) << io << ": the message does not name io: " << msg;
    EXPECT_EQ(std::string(llm_last_error()), msg) << io;
    llm_error_free(e);
    if (c && c != reinterpret_cast<llm_client_t*>(0x1)) llm_client_free(c);
  }
  // "io" given twice is a repeated field, as any other.
  llm_client_t* c = nullptr;
  EXPECT_EQ(llm_client_new("{\"io\":\"host\",\"io\":\"host\"}", &c), LLM_ERR_INVALID_ARGUMENT);
  llm_client_free(c);
}

TEST_F(Hosted, ConfigFilesTakeIoToo) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("literllm_hosted_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string json = (dir / "c.json").string(), toml = (dir / "c.toml").string(), bad = (dir / "bad.toml").string();
  std::ofstream(json) << config("\"host\"", "");
  std::ofstream(toml) << "io = \"host\"\nmax_retries = 0\n[providers.openai]\nbase_url = " << q(up.base_url())
                      << "\napi_key = " << q(kKey) << "\n";
  std::ofstream(bad) << "io = \"elsewhere\"\n";
  for (const std::string& path : {json, toml}) {
    llm_client_t* c = nullptr;
    ASSERT_EQ(llm_client_new_from_file(path.c_str(), &c), LLM_OK) << path << ": " << llm_last_error();
    int fd = -1;
    EXPECT_EQ(llm_client_io_fd(c, &fd), LLM_OK) << path << ": not a hosted client: " << llm_last_error();
    // And it works: a blocking call drives the loop itself.
    llm_response_t* r = nullptr;
    EXPECT_EQ(llm_chat(c, chat_req("openai/gpt-4o", "from a file").c_str(), &r), LLM_OK) << llm_last_error();
    if (r) {
      EXPECT_EQ(std::string(llm_response_text(r)), kHello + "from a file");
    }
    llm_response_free(r);
    llm_client_free(c);
  }
  llm_client_t* c = nullptr;
  EXPECT_EQ(llm_client_new_from_file(bad.c_str(), &c), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(std::regex_search(std::string(llm_last_error()), std::regex(regex_word("io")))) << llm_last_error();
  llm_client_free(c);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_F(Hosted, IoFunctionsRefuseThreadedClientsAndNulls) {
  for (const std::string& io : {std::string("\"thread\""), std::string()}) {  // explicit, and the default
    llm_client_t* threaded = client("", io);
    ASSERT_NE(threaded, nullptr);
    int fd = 77, t = 77;
    EXPECT_EQ(llm_client_io_fd(threaded, &fd), LLM_ERR_INVALID_ARGUMENT) << io;
    EXPECT_EQ(fd, -1) << io << ": a failed llm_client_io_fd must not leave a descriptor a host could poll";
    EXPECT_EQ(llm_client_io_run(threaded, &t), LLM_ERR_INVALID_ARGUMENT) << io;
    EXPECT_EQ(llm_client_io_run(threaded, nullptr), LLM_ERR_INVALID_ARGUMENT) << io;
    llm_error_t* e = nullptr;
    EXPECT_EQ(llm_client_io_fd_e(threaded, &fd, &e), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(llm_error_status(e), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_STRNE(llm_error_message(e), "");
    llm_error_free(e);
    e = nullptr;
    EXPECT_EQ(llm_client_io_run_e(threaded, &t, &e), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(llm_error_status(e), LLM_ERR_INVALID_ARGUMENT);
    llm_error_free(e);
    // The threaded client still works after being asked.
    llm_response_t* r = nullptr;
    EXPECT_EQ(llm_chat(threaded, chat_req("openai/gpt-4o", "still fine").c_str(), &r), LLM_OK) << llm_last_error();
    llm_response_free(r);
  }

  up.clear_requests();
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  int fd = -1, t = 0;
  fd = 5;
  EXPECT_EQ(llm_client_io_fd(nullptr, &fd), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(fd, -1) << "the header: *fd is -1 after a NULL argument";
  EXPECT_EQ(llm_client_io_fd(c, nullptr), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_client_io_run(nullptr, &t), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_client_io_run(nullptr, nullptr), LLM_ERR_INVALID_ARGUMENT);
  llm_error_t* e = nullptr;
  EXPECT_EQ(llm_client_io_fd_e(nullptr, &fd, &e), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_error_status(e), LLM_ERR_INVALID_ARGUMENT);
  llm_error_free(e);
  e = nullptr;
  EXPECT_EQ(llm_client_io_run_e(nullptr, &t, &e), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(llm_error_status(e), LLM_ERR_INVALID_ARGUMENT);
  llm_error_free(e);
  // The error pointer itself may be NULL, and timeout_ms may be NULL.
  EXPECT_EQ(llm_client_io_fd_e(c, &fd, nullptr), LLM_OK) << llm_last_error();
  EXPECT_EQ(llm_client_io_run(c, nullptr), LLM_OK) << llm_last_error();
  e = reinterpret_cast<llm_error_t*>(0x1);
  EXPECT_EQ(llm_client_io_run_e(c, &t, &e), LLM_OK) << llm_last_error();
  EXPECT_EQ(e, nullptr) << "the error out parameter must be NULL on success";

  // The descriptor is open, the same every time, and nothing was sent.
  int fd2 = -2;
  ASSERT_EQ(llm_client_io_fd(c, &fd), LLM_OK);
  ASSERT_EQ(llm_client_io_fd(c, &fd2), LLM_OK);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(fd, fd2);
  EXPECT_NE(fcntl(fd, F_GETFD), -1) << "the descriptor is not open";
  EXPECT_TRUE(up.requests().empty());
}

TEST_F(Hosted, AHostedClientStartsNoThreadAndAnIdleOneAsksForNoWakeUp) {
  {
    // Whatever the library starts once per process, it has started (and a
    // threaded client's own thread is joined when it is freed).
    llm_client_t* warm = client("", "\"thread\"");
    llm_response_t* r = nullptr;
    EXPECT_EQ(llm_chat(warm, chat_req("openai/gpt-4o", "warm").c_str(), &r), LLM_OK) << llm_last_error();
    llm_response_free(r);
    release(warm);
    llm_client_free(warm);
  }
  size_t before = thread_count();
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(thread_count(), before) << "a hosted client must have no I/O thread";

  Host h(c);
  // Idle: io_run says -1 (no call needed), and the descriptor settles (not readable),
  // else a host would spin. Allow a few runs for whatever the first one sets up.
  bool settled = false;
  for (int i = 0; i < 20 && !settled; ++i) {
    h.run();
    pollfd p{h.fd, POLLIN, 0};
    settled = h.timeout == -1 && ::poll(&p, 1, 0) == 0;
  }
  EXPECT_TRUE(settled) << "an idle hosted client keeps asking to be run: " << h.stats();

  // A call through the loop, and back to idle.
  Rec& r = rec();
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "idle after").c_str(), on_done, &r, nullptr), LLM_OK);
  ASSERT_TRUE(h.drive([&] { return r.finished(); })) << h.stats();
  EXPECT_EQ(r.status, LLM_OK) << r.message;
  EXPECT_EQ(thread_count(), before) << "a call on a hosted client left a thread behind";
  settled = false;
  for (int i = 0; i < 20 && !settled; ++i) {
    h.run();
    pollfd p{h.fd, POLLIN, 0};
    settled = h.timeout == -1 && ::poll(&p, 1, 0) == 0;
  }
  EXPECT_TRUE(settled) << "with nothing in flight any more, the loop still asks to be run: " << h.stats();
}

// ===================================================== 2. async chat through io_run

TEST_F(Hosted, AsyncChatCompletesOnlyThroughIoRunOnTheHostThread) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& r = rec();
  uint64_t id = 0;
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o-mini", "hosted hello").c_str(), on_done, &r, &id), LLM_OK)
      << llm_last_error();
  EXPECT_NE(id, 0u);
  // Nobody runs the loop: nothing may complete, on any thread.
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(r.finished()) << "a callback ran without llm_client_io_run";

  ASSERT_TRUE(h.drive([&] { return r.finished(); })) << h.stats();
  EXPECT_EQ(r.status, LLM_OK) << r.message;
  EXPECT_EQ(r.done_thread, std::this_thread::get_id()) << "the done callback ran on another thread than io_run's";
  EXPECT_EQ(r.text, kHello + "hosted hello");
  auto d = parse(r.json.c_str());
  EXPECT_STREQ(d["provider"].GetString(), "openai");
  EXPECT_STREQ(d["model"].GetString(), "gpt-4o-mini");
  EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop");
  EXPECT_EQ(d["usage"]["completion_tokens"].GetInt(), 9);
  EXPECT_EQ(d["stats"]["http_status"].GetInt(), 200);
  // Exactly once, even if the host keeps running the loop.
  for (int i = 0; i < 5; ++i) h.run();
  EXPECT_EQ(r.done, 1);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
}

TEST_F(Hosted, CallbacksMayStartCallsThatTheLoopThenRuns) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  struct Chain {
    llm_client_t* c = nullptr;
    Rec* second = nullptr;
    llm_status started = LLM_ERR_INTERNAL;
    Rec first;
  };
  Rec& second = rec();
  Chain* chain = keep(std::make_shared<Chain>());
  chain->c = c;
  chain->second = &second;
  ASSERT_EQ(llm_chat_async(
                c, chat_req("openai/gpt-4o", "first").c_str(),
                [](llm_status st, llm_response_t* resp, const char* msg, void* ud) {
                  auto* ch = static_cast<Chain*>(ud);
                  ch->started = llm_chat_async(ch->c, chat_req("openai/gpt-4o", "second").c_str(), on_done,
                                               ch->second, nullptr);
                  finish(&ch->first, st, resp, msg);
                },
                chain, nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return second.finished(); })) << h.stats();
  EXPECT_EQ(chain->started, LLM_OK);
  EXPECT_EQ(chain->first.text, kHello + "first");
  EXPECT_EQ(second.text, kHello + "second");
  EXPECT_EQ(second.done_thread, std::this_thread::get_id());
}

// Sequential calls on a hosted client reuse one connection. A server that
// closes an idle pooled connection (after a keep-alive answer) leaves the
// host's descriptor settled: nothing makes it readable for good, so a host
// polling it does not spin; and the next call, finding the connection dead,
// opens a new one and succeeds.
TEST_F(Hosted, PooledConnectionsAreReusedAndOnesTheServerClosesAreDropped) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  auto call = [&](const std::string& req) {
    Rec& r = rec();
    EXPECT_EQ(llm_chat_async(c, req.c_str(), on_done, &r, nullptr), LLM_OK) << llm_last_error();
    EXPECT_TRUE(h.drive([&] { return r.finished(); })) << h.stats();
    EXPECT_EQ(r.status, LLM_OK) << r.message;
    return r.text;
  };
  auto settles = [&] {
    for (int i = 0; i < 20; ++i) {
      h.run();
      pollfd p{h.fd, POLLIN, 0};
      if (h.timeout == -1 && ::poll(&p, 1, 0) == 0) return true;
    }
    return false;
  };
  size_t before = up.connections_accepted();
  for (int i = 0; i < 5; ++i) {
    std::string said = "pooled " + std::to_string(i);
    EXPECT_EQ(call(chat_req("openai/gpt-4o", said)), kHello + said);
  }
  EXPECT_EQ(up.connections_accepted() - before, 1u) << "sequential calls on a hosted client must reuse the connection";
  EXPECT_TRUE(settles()) << h.stats();

  // Each answer comes with keep-alive, then the server closes the connection,
  // which stays open on the client's side until curl next looks at it (finds
  // it dead, and closes it): each call after the first opens a new one.
  size_t opened = up.connections_accepted();
  for (int i = 0; i < 4; ++i) {
    std::string said = "dropped " + std::to_string(i);
    EXPECT_EQ(call(chat_req("openai/gpt-4o", said, headers(R"({"x-upstream-drop-idle":"1"})"))), kHello + said);
    std::this_thread::sleep_for(50ms);  // the FIN is there
    EXPECT_TRUE(settles()) << "a pooled connection the server closed keeps the descriptor readable: " << h.stats();
  }
  EXPECT_EQ(up.connections_accepted() - opened, 3u);
  // And a new connection serves the next calls, pooled again.
  opened = up.connections_accepted();
  EXPECT_EQ(call(chat_req("openai/gpt-4o", "after")), kHello + "after");
  EXPECT_EQ(call(chat_req("openai/gpt-4o", "after 2")), kHello + "after 2");
  EXPECT_EQ(up.connections_accepted() - opened, 1u);
}

TEST_F(Hosted, CallAsyncEmbeddingsThroughIoRun) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  struct Emb {
    bool done = false;
    llm_status status = LLM_ERR_INTERNAL;
    std::vector<float> v;
    std::thread::id thread;
  };
  Emb& e = *keep(std::make_shared<Emb>());
  ASSERT_EQ(llm_call_async(
                c, "embeddings", R"({"model":"openai/text-embedding-3-small","input":"hosted","dimensions":16})",
                nullptr, nullptr, 0,
                [](llm_status st, llm_response_t* r, const char*, void* ud) {
                  auto* e = static_cast<Emb*>(ud);
                  size_t n = 0, dims = 0;
                  if (const float* v = r ? llm_response_embeddings(r, &n, &dims) : nullptr) e->v.assign(v, v + n * dims);
                  e->status = st;
                  e->thread = std::this_thread::get_id();
                  e->done = true;
                  llm_response_free(r);
                },
                &e, nullptr),
            LLM_OK)
      << llm_last_error();
  ASSERT_TRUE(h.drive([&] { return e.done; })) << h.stats();
  EXPECT_EQ(e.status, LLM_OK);
  EXPECT_EQ(e.thread, std::this_thread::get_id());
  EXPECT_EQ(e.v, literllm::testing::upstream_embedding("hosted", 16));
}

// ===================================================== 3. streams through io_run

TEST_F(Hosted, StreamAsyncDeliversChunksInOrderThenDoneOnTheHostThread) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& r = rec();
  std::string words = "one two three four five six seven eight nine ten";
  ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", words).c_str(), on_chunk, on_done, &r, nullptr), LLM_OK)
      << llm_last_error();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(r.chunks, 0u) << "a chunk callback ran without llm_client_io_run";
  ASSERT_TRUE(h.drive([&] { return r.finished(); })) << h.stats();
  for (int i = 0; i < 5; ++i) h.run();
  EXPECT_EQ(r.status, LLM_OK) << r.message;
  EXPECT_EQ(r.done, 1);
  EXPECT_EQ(r.content, kHello + words);
  EXPECT_GE(r.chunks, 4u);
  EXPECT_TRUE(r.first_chunk_had_role);
  EXPECT_EQ(r.last_finish, "stop");
  EXPECT_EQ(r.chunks_after_done, 0u) << "a chunk came after the done callback";
  EXPECT_FALSE(r.chunk_not_json);
  ASSERT_EQ(r.chunk_threads.size(), 1u) << "chunks ran on more than one thread";
  EXPECT_EQ(r.chunk_threads[0], std::this_thread::get_id());
  EXPECT_EQ(r.done_thread, std::this_thread::get_id());
  auto d = parse(r.json.c_str());
  EXPECT_EQ(std::string(d["choices"][0]["message"]["content"].GetString()), kHello + words);
  EXPECT_TRUE(d.HasMember("usage"));
}

TEST_F(Hosted, AChunkCallbackThatAsksToStopCancelsTheStream) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& r = rec();
  r.cancel_after = 2;
  ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "a b c d e f g h i j").c_str(), on_chunk, on_done, &r,
                                  nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return r.finished(); })) << h.stats();
  for (int i = 0; i < 5; ++i) h.run();
  EXPECT_EQ(r.status, LLM_ERR_CANCELLED) << r.message;
  EXPECT_EQ(r.chunks, 2u);
  EXPECT_EQ(r.done, 1);
  EXPECT_EQ(r.done_thread, std::this_thread::get_id());
}

TEST_F(Hosted, ALongStreamYieldsToTheHostAndArrivesWhole) {
  // 4000 chunks of 1000 letters (4 MB of content, more on the wire): each io_run
  // may deliver about 256 KiB of it before giving the host its thread back, and
  // the library must then ask to be run again (timeout 0 or a readable
  // descriptor). Strict driving: a yield it forgot to report hangs to the deadline.
  llm_client_t* c = client(",\"max_retries\":0,\"timeout_secs\":60");
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& r = rec();
  constexpr size_t kChunks = 4000, kBytes = 1000;
  size_t last = 0, most_in_one_run = 0, runs_with_content = 0;
  h.after_run = [&] {
    std::lock_guard lk(r.mu);
    size_t got = r.content_bytes - last;
    last = r.content_bytes;
    most_in_one_run = std::max(most_in_one_run, got);
    runs_with_content += got > 0;
  };
  std::string hdr = R"({"x-upstream-generate":"content","x-upstream-generate-bytes":")" + std::to_string(kBytes) +
                    R"(","x-upstream-generate-count":")" + std::to_string(kChunks) + "\"}";
  ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "long", headers(hdr)).c_str(), on_chunk, on_done, &r,
                                  nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return r.finished(); }, 60s, kStrict)) << "the stream stalled: " << h.stats();
  EXPECT_EQ(r.status, LLM_OK) << r.message;
  EXPECT_EQ(r.chunks, kChunks + 2);  // the role chunk, the content, the finish chunk
  EXPECT_EQ(r.content_bytes, kChunks * kBytes);
  EXPECT_TRUE(r.content == generated_letters(kChunks * kBytes)) << "the content is out of order or damaged";
  EXPECT_EQ(r.chunks_after_done, 0u);
  ASSERT_EQ(r.chunk_threads.size(), 1u);
  EXPECT_EQ(r.chunk_threads[0], std::this_thread::get_id());
  EXPECT_EQ(r.done_thread, std::this_thread::get_id());
  auto d = parse(r.json.c_str());
  EXPECT_EQ(d["choices"][0]["message"]["content"].GetStringLength(), kChunks * kBytes);
  RecordProperty("io_runs_with_content", static_cast<int>(runs_with_content));
  RecordProperty("most_content_bytes_in_one_io_run", static_cast<int>(most_in_one_run));
  RecordProperty("host_stats", h.stats());
  // The host got its thread back between slices of the stream.
  EXPECT_GT(runs_with_content, 1u);
  EXPECT_LE(most_in_one_run, 1024u * 1024u)
      << "one io_run delivered " << most_in_one_run << " bytes of content: it did not yield after 256 KiB";
}

// ===================================================== 4. many calls at once

TEST_F(Hosted, SixteenChatsAndFourStreamsAtOnceOnOneClient) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  std::vector<Rec*> chats, streams;
  std::string slow = headers(R"({"x-upstream-delay-ms":"50","x-upstream-chunk-delay-ms":"5"})");
  for (int i = 0; i < 16; ++i) {
    Rec& r = rec();
    chats.push_back(&r);
    ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "chat " + std::to_string(i), slow).c_str(), on_done, &r,
                             nullptr),
              LLM_OK)
        << llm_last_error();
  }
  for (int i = 0; i < 4; ++i) {
    Rec& r = rec();
    streams.push_back(&r);
    ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "stream " + std::to_string(i) + " a b c d e f", slow).c_str(),
                                    on_chunk, on_done, &r, nullptr),
              LLM_OK)
        << llm_last_error();
  }
  auto all_done = [&] {
    for (auto* r : chats)
      if (!r->finished()) return false;
    for (auto* r : streams)
      if (!r->finished()) return false;
    return true;
  };
  ASSERT_TRUE(h.drive(all_done, 30s)) << h.stats();
  for (int i = 0; i < 5; ++i) h.run();
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(chats[i]->status, LLM_OK) << i << " " << chats[i]->message;
    EXPECT_EQ(chats[i]->done, 1) << i;
    EXPECT_EQ(chats[i]->text, kHello + "chat " + std::to_string(i));
    EXPECT_EQ(chats[i]->done_thread, std::this_thread::get_id()) << i;
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(streams[i]->status, LLM_OK) << i << " " << streams[i]->message;
    EXPECT_EQ(streams[i]->done, 1) << i;
    EXPECT_EQ(streams[i]->content, kHello + "stream " + std::to_string(i) + " a b c d e f");
    EXPECT_EQ(streams[i]->chunks_after_done, 0u);
    EXPECT_EQ(streams[i]->done_thread, std::this_thread::get_id()) << i;
    for (auto& t : streams[i]->chunk_threads) EXPECT_EQ(t, std::this_thread::get_id()) << i;
  }
  EXPECT_EQ(up.requests().size(), 20u);
}

// ===================================================== 5. timers with io_run alone

// A call (timeout 0.6 s, answer after 5 s) started on the host's thread
// outside io_run, driven strictly: it must end as a timeout, on time, on the
// host's thread, the host sleeping meanwhile (no busy loop).
void slow_call_times_out_on_time(llm_client_t* c, Host& h, Rec& r) {
  size_t runs0 = h.runs;
  auto t0 = Clock::now();
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "slow", ",\"timeout_secs\":0.6" +
                                                                   headers(R"({"x-upstream-delay-ms":"5000"})")).c_str(),
                           on_done, &r, nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return r.finished(); }, 10s, kStrict)) << "the timeout never fired: " << h.stats();
  double secs = std::chrono::duration<double>(r.ended - t0).count();
  EXPECT_EQ(r.status, LLM_ERR_TIMEOUT) << r.message;
  EXPECT_GE(secs, 0.55);
  EXPECT_LT(secs, 0.6 + 0.4 * kSlow) << "the host was not woken when the timeout was due: " << h.stats();
  EXPECT_LT(h.runs - runs0, 300u) << h.stats();
  EXPECT_EQ(r.done_thread, std::this_thread::get_id());
}

TEST_F(Hosted, ATimeoutFiresThroughIoRunAloneAndOnTime) {
  llm_client_t* c = client(",\"max_retries\":0,\"stream_idle_timeout_secs\":0.5");
  ASSERT_NE(c, nullptr);
  Host h(c);
  // A non-streamed call whose answer comes after its timeout.
  slow_call_times_out_on_time(c, h, rec());

  // A stream that goes silent ends at the idle timeout, again by io_run alone.
  Rec& s = rec();
  size_t runs0 = h.runs;
  auto t0 = Clock::now();
  ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "a b c d e f",
                                              headers(R"({"x-upstream-stall-after":"2"})")).c_str(),
                                  on_chunk, on_done, &s, nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return s.finished(); }, 10s, kStrict)) << "the idle timeout never fired: " << h.stats();
  double secs = std::chrono::duration<double>(s.ended - t0).count();
  EXPECT_EQ(s.status, LLM_ERR_TIMEOUT) << s.message;
  EXPECT_EQ(s.chunks, 2u);
  EXPECT_GE(secs, 0.45);
  EXPECT_LT(secs, 0.5 + 0.4 * kSlow) << h.stats();
  EXPECT_LT(h.runs - runs0, 300u) << h.stats();
  EXPECT_EQ(s.done_thread, std::this_thread::get_id());
}

TEST_F(Hosted, ACallStartedWhileTheHostSleepsOnTheDescriptorAloneStillTimesOutOnTime) {
  // The host was told -1 (nothing to wait for) and polls the descriptor with
  // no timeout of its own. A call it then starts outside io_run sends its
  // request at once, and its deadline must still reach the host: through the
  // descriptor (the next io_run gives it), then on time.
  llm_client_t* c = client(",\"max_retries\":0");
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& warm = rec();  // a connection to reuse: its connect would wake the host by itself
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "warm").c_str(), on_done, &warm, nullptr), LLM_OK);
  ASSERT_TRUE(h.drive([&] { return warm.finished(); })) << h.stats();
  for (int i = 0; i < 3 && h.timeout != -1; ++i) h.run();
  ASSERT_EQ(h.timeout, -1) << "an idle client should ask for no wake-up";

  slow_call_times_out_on_time(c, h, rec());
}

TEST_F(Hosted, RetriesAfterRetryAfterAndBackoffThroughIoRunAlone) {
  llm_client_t* c = client(",\"max_retries\":2");
  ASSERT_NE(c, nullptr);
  Host h(c);
  struct Case {
    const char* name;
    std::string hdr;
    double at_least, at_most;
  } cases[] = {
      {"429 with retry-after-ms 400",
       R"({"x-upstream-fail-times":"1","x-upstream-fail-key":"h429","x-upstream-status":"429","x-upstream-retry-after-ms":"400"})",
       0.38, 0.4 + 0.5 * kSlow},
      {"503 with Retry-After 1",
       R"({"x-upstream-fail-times":"1","x-upstream-fail-key":"h503ra","x-upstream-status":"503","x-upstream-retry-after":"1"})",
       0.95, 1.0 + 0.5 * kSlow},
      {"503, backoff", R"({"x-upstream-fail-times":"1","x-upstream-fail-key":"h503","x-upstream-status":"503"})",
       0.3, 0.75 + 0.5 * kSlow},
  };
  for (auto& cs : cases) {
    up.clear_requests();
    Rec& r = rec();
    auto t0 = Clock::now();
    ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "retry", headers(cs.hdr)).c_str(), on_done, &r, nullptr),
              LLM_OK);
    ASSERT_TRUE(h.drive([&] { return r.finished(); }, 15s, kStrict)) << cs.name << ": the retry never ran: " << h.stats();
    double secs = std::chrono::duration<double>(r.ended - t0).count();
    EXPECT_EQ(r.status, LLM_OK) << cs.name << ": " << r.message;
    EXPECT_EQ(r.text, kHello + "retry") << cs.name;
    EXPECT_EQ(up.requests().size(), 2u) << cs.name;
    if (!r.json.empty()) {
      EXPECT_EQ(parse(r.json.c_str())["stats"]["retries"].GetInt(), 1) << cs.name;
    }
    EXPECT_GE(secs, cs.at_least) << cs.name << ": the wait was not honoured";
    EXPECT_LT(secs, cs.at_most) << cs.name << ": the host was not woken when the retry was due: " << h.stats();
    EXPECT_EQ(r.done_thread, std::this_thread::get_id()) << cs.name;
  }
}

// ===================================================== 6. cancel, other threads

TEST_F(Hosted, CancelFromTheHostThreadEndsTheCallInIoRun) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  for (bool stream : {false, true}) {
    Rec& r = rec();
    uint64_t id = 0;
    std::string req = chat_req("openai/gpt-4o", "a b c", headers(stream ? R"({"x-upstream-stall-after":"1"})"
                                                                        : R"({"x-upstream-delay-ms":"10000"})"));
    ASSERT_EQ(stream ? llm_chat_stream_async(c, req.c_str(), on_chunk, on_done, &r, &id)
                     : llm_chat_async(c, req.c_str(), on_done, &r, &id),
              LLM_OK);
    auto until = Clock::now() + 200ms;
    h.drive([&] { return Clock::now() >= until || r.finished(); }, 2s, kCapMs);
    ASSERT_FALSE(r.finished()) << "the call ended before it was cancelled: " << r.message;
    auto t0 = Clock::now();
    EXPECT_EQ(llm_client_cancel(c, id), LLM_OK);
    EXPECT_FALSE(r.finished()) << "the done callback ran inside llm_client_cancel, not inside llm_client_io_run";
    // Strict: the cancel must make the host's next poll return (or ask for a run at once).
    ASSERT_TRUE(h.drive([&] { return r.finished(); }, 5s, kStrict)) << "the cancel never completed: " << h.stats();
    EXPECT_LT(since(t0), 0.5 * kSlow) << "the host was not woken for the cancel: " << h.stats();
    EXPECT_EQ(r.status, LLM_ERR_CANCELLED) << r.message;
    EXPECT_EQ(r.done_thread, std::this_thread::get_id());
    EXPECT_EQ(llm_client_cancel(c, id), LLM_OK);  // a finished id is fine
    for (int i = 0; i < 3; ++i) h.run();
    EXPECT_EQ(r.done, 1);
    if (stream) {
      EXPECT_EQ(r.chunks, 1u);
    }
  }
}

TEST_F(Hosted, CancelFromAnotherThreadWakesTheHost) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& r = rec();
  uint64_t id = 0;
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-delay-ms":"10000"})")).c_str(),
                           on_done, &r, &id),
            LLM_OK);
  std::atomic<bool> cancelled{false};
  Clock::time_point cancel_at;
  std::thread other([&] {
    std::this_thread::sleep_for(300ms);
    cancel_at = Clock::now();
    EXPECT_EQ(llm_client_cancel(c, id), LLM_OK);
    cancelled = true;
  });
  // Strict driving: only the descriptor (or a timeout the library asked for) wakes the host.
  bool ok = h.drive([&] { return r.finished(); }, 10s, kStrict);
  other.join();
  ASSERT_TRUE(ok) << "the cancel from another thread never reached the host: " << h.stats();
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(r.status, LLM_ERR_CANCELLED) << r.message;
  EXPECT_EQ(r.done_thread, std::this_thread::get_id()) << "the cancelled callback ran on the cancelling thread";
  double lag = std::chrono::duration<double>(r.ended - cancel_at).count();
  EXPECT_LT(lag, 0.5 * kSlow) << "the host was not woken by the cancel: " << h.stats();
}

TEST_F(Hosted, AnAsyncCallFromAnotherThreadMakesTheDescriptorReadable) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  for (int i = 0; i < 20 && h.timeout != -1; ++i) h.run();  // idle
  ASSERT_EQ(h.timeout, -1) << h.stats();
  pollfd p{h.fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 0), 0) << "an idle client's descriptor is readable";

  Rec& r = rec();
  std::atomic<llm_status> started{LLM_ERR_INTERNAL};
  std::thread other([&] {
    std::this_thread::sleep_for(150ms);
    started = llm_chat_async(c, chat_req("openai/gpt-4o", "from elsewhere").c_str(), on_done, &r, nullptr);
  });
  auto t0 = Clock::now();
  p = pollfd{h.fd, POLLIN, 0};
  int rc = ::poll(&p, 1, static_cast<int>(5000 * kSlow));
  double waited = since(t0);
  other.join();
  ASSERT_EQ(started.load(), LLM_OK);
  EXPECT_EQ(rc, 1) << "the descriptor did not become readable when another thread started a call";
  EXPECT_TRUE(p.revents & POLLIN);
  EXPECT_LT(waited, 2.0 * kSlow);
  EXPECT_FALSE(r.finished()) << "the call completed on the thread that started it";
  h.run();
  ASSERT_TRUE(h.drive([&] { return r.finished(); }, 10s, kStrict)) << h.stats();
  EXPECT_EQ(r.status, LLM_OK) << r.message;
  EXPECT_EQ(r.text, kHello + "from elsewhere");
  EXPECT_EQ(r.done_thread, std::this_thread::get_id());
}

// ===================================================== 7. llm_client_free

TEST_F(Hosted, FreeCancelsWhatIsInFlightOnTheFreeingThread) {
  for (bool free_elsewhere : {false, true}) {
    llm_client_t* c = client();
    ASSERT_NE(c, nullptr);
    Host h(c);
    Rec& a = rec();
    Rec& b = rec();
    Rec& s = rec();
    ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-delay-ms":"10000"})")).c_str(),
                             on_done, &a, nullptr),
              LLM_OK);
    ASSERT_EQ(llm_chat_async_e(c, chat_req("openai/gpt-4o", "y", headers(R"({"x-upstream-delay-ms":"10000"})")).c_str(),
                               on_done_e, &b, nullptr, nullptr),
              LLM_OK);
    ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "a b c",
                                                headers(R"({"x-upstream-stall-after":"1"})")).c_str(),
                                    on_chunk, on_done, &s, nullptr),
              LLM_OK);
    llm_stream_t* pull = nullptr;
    ASSERT_EQ(llm_chat_stream(c, chat_req("openai/gpt-4o", "a b", headers(R"({"x-upstream-stall-after":"1"})")).c_str(),
                              &pull),
              LLM_OK);
    auto until = Clock::now() + 200ms;
    h.drive([&] { return Clock::now() >= until; }, 2s);
    EXPECT_FALSE(a.finished() || b.finished() || s.finished());

    // The host stops polling, then frees (here or on another thread).
    release(c);
    std::thread::id freer;
    auto t0 = Clock::now();
    if (free_elsewhere) {
      std::thread t([&] {
        freer = std::this_thread::get_id();
        llm_client_free(c);
        // Before llm_client_free returned, every callback ran.
        EXPECT_TRUE(a.finished() && b.finished() && s.finished()) << "llm_client_free returned before the callbacks ran";
      });
      t.join();
    } else {
      freer = std::this_thread::get_id();
      llm_client_free(c);
      EXPECT_TRUE(a.finished() && b.finished() && s.finished()) << "llm_client_free returned before the callbacks ran";
    }
    EXPECT_LT(since(t0), 2.0 * kSlow);
    for (Rec* r : {&a, &b, &s}) {
      EXPECT_EQ(r->done, 1) << free_elsewhere;
      EXPECT_EQ(r->status, LLM_ERR_CANCELLED) << free_elsewhere << " " << r->message;
      EXPECT_EQ(r->done_thread, freer) << "a cancelled callback ran on another thread than llm_client_free's ("
                                       << (free_elsewhere ? "freed on another thread" : "freed on the host thread") << ")";
    }
    // The pull stream the caller still holds answers LLM_ERR_CANCELLED, and is still freed.
    auto res = drain(pull);
    EXPECT_EQ(res.status, LLM_ERR_CANCELLED) << res.error;
    llm_stream_free(pull);
  }
}

TEST_F(Hosted, FreeFromADoneCallbackCancelsTheRestBeforeIoRunReturns) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  release(c);  // the callback frees it
  Host h(c);
  struct Freer {
    llm_client_t* c = nullptr;
    bool freed = false;
    llm_status status = LLM_ERR_INTERNAL;
    std::thread::id thread;
  };
  Freer& f = *keep(std::make_shared<Freer>());
  f.c = c;
  Rec& slow = rec();
  Rec& stalled = rec();
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-delay-ms":"10000"})")).c_str(),
                           on_done, &slow, nullptr),
            LLM_OK);
  ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "a b c", headers(R"({"x-upstream-stall-after":"1"})")).c_str(),
                                  on_chunk, on_done, &stalled, nullptr),
            LLM_OK);
  ASSERT_EQ(llm_chat_async(
                c, chat_req("openai/gpt-4o", "fast", headers(R"({"x-upstream-delay-ms":"150"})")).c_str(),
                [](llm_status st, llm_response_t* r, const char*, void* ud) {
                  auto* f = static_cast<Freer*>(ud);
                  llm_response_free(r);
                  f->status = st;
                  f->thread = std::this_thread::get_id();
                  llm_client_free(f->c);  // deferred until this callback returns
                  f->freed = true;
                },
                &f, nullptr),
            LLM_OK);
  // The loop stops the moment the callback has freed the client: no poll, no io_run after.
  bool ok = h.drive([&] { return f.freed; }, 10s);
  if (!ok) {
    ADD_FAILURE() << "the fast call never completed: " << h.stats();
    llm_client_free(c);
    return;
  }
  EXPECT_EQ(f.status, LLM_OK);
  EXPECT_EQ(f.thread, std::this_thread::get_id());
  // The io_run that ran the callback also ran the free: the others ended, cancelled, on this thread.
  for (Rec* r : {&slow, &stalled}) {
    EXPECT_EQ(r->done, 1) << "a call's callback did not run before io_run returned (the client is gone: it never will)";
    EXPECT_EQ(r->status, LLM_ERR_CANCELLED) << r->message;
    EXPECT_EQ(r->done_thread, std::this_thread::get_id());
  }
}

// ===================================================== 8. io_run from a callback

TEST_F(Hosted, IoRunFromInsideACallbackIsRefused) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& r = rec(c);
  r.probe_io_run = true;
  Rec& s = rec(c);
  s.probe_io_run = true;
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "probe").c_str(), on_done, &r, nullptr), LLM_OK);
  ASSERT_EQ(llm_chat_stream_async(c, chat_req("openai/gpt-4o", "probe stream").c_str(), on_chunk, on_done, &s, nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return r.finished() && s.finished(); })) << h.stats();
  EXPECT_EQ(r.status, LLM_OK) << r.message;
  EXPECT_EQ(r.text, kHello + "probe");
  EXPECT_EQ(r.io_run_in_done, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.io_run_e_in_done, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(r.io_run_e_error_ok);
  EXPECT_EQ(r.chat_in_done, LLM_ERR_INVALID_ARGUMENT) << "a blocking llm_chat inside a callback must be refused";
  EXPECT_EQ(s.status, LLM_OK) << s.message;
  EXPECT_EQ(s.content, kHello + "probe stream");
  EXPECT_EQ(s.io_run_in_chunk, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(s.io_run_in_done, LLM_ERR_INVALID_ARGUMENT);
  // The loop is still usable from the host afterwards.
  Rec& after = rec();
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "after").c_str(), on_done, &after, nullptr), LLM_OK);
  ASSERT_TRUE(h.drive([&] { return after.finished(); })) << h.stats();
  EXPECT_EQ(after.text, kHello + "after");
}

TEST_F(Hosted, IoRunOfAnotherClientFromACallbackWorksAndTheOwnStaysRefused) {
  // Only a client's own callbacks are refused: a callback of client A may run
  // client B's loop, and afterwards A's own loop is still refused there.
  llm_client_t* a = client();
  llm_client_t* b = client();
  ASSERT_TRUE(a && b);
  Host ha(a);
  Rec& rb = rec();
  ASSERT_EQ(llm_chat_async(b, chat_req("openai/gpt-4o", "b").c_str(), on_done, &rb, nullptr), LLM_OK);
  struct Nest {
    llm_client_t *a = nullptr, *b = nullptr;
    bool done = false;
    llm_status run_b = LLM_ERR_INTERNAL, run_a_after = LLM_OK, chat_a_after = LLM_OK;
  };
  Nest& n = *keep(std::make_shared<Nest>());
  n.a = a;
  n.b = b;
  ASSERT_EQ(llm_chat_async(
                a, chat_req("openai/gpt-4o", "a").c_str(),
                [](llm_status, llm_response_t* r, const char*, void* ud) {
                  llm_response_free(r);
                  auto* n = static_cast<Nest*>(ud);
                  int t = 0;
                  n->run_b = llm_client_io_run(n->b, &t);
                  n->run_a_after = llm_client_io_run(n->a, &t);
                  llm_response_t* x = nullptr;
                  n->chat_a_after = llm_chat(n->a, chat_req("openai/gpt-4o", "nested").c_str(), &x);
                  llm_response_free(x);
                  n->done = true;
                },
                &n, nullptr),
            LLM_OK);
  ASSERT_TRUE(ha.drive([&] { return n.done; })) << ha.stats();
  EXPECT_EQ(n.run_b, LLM_OK) << "io_run of another client from a callback";
  EXPECT_EQ(n.run_a_after, LLM_ERR_INVALID_ARGUMENT) << "after running another loop, the callback's own loop must stay refused";
  EXPECT_EQ(n.chat_a_after, LLM_ERR_INVALID_ARGUMENT);
  Host hb(b);
  ASSERT_TRUE(hb.drive([&] { return rb.finished(); })) << hb.stats();
  EXPECT_EQ(rb.text, kHello + "b");
  EXPECT_EQ(rb.done_thread, std::this_thread::get_id());
  // Both loops still work from the host.
  Rec& ra2 = rec();
  ASSERT_EQ(llm_chat_async(a, chat_req("openai/gpt-4o", "a again").c_str(), on_done, &ra2, nullptr), LLM_OK);
  ASSERT_TRUE(ha.drive([&] { return ra2.finished(); })) << ha.stats();
  EXPECT_EQ(ra2.text, kHello + "a again");
}

// ===================================================== 9. blocking calls on a hosted client

TEST_F(Hosted, BlockingCallsWorkWithoutAnyHostLoop) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, chat_req("openai/gpt-4o", "blocking").c_str(), &r), LLM_OK) << llm_last_error();
  EXPECT_EQ(std::string(llm_response_text(r)), kHello + "blocking");
  llm_response_free(r);

  llm_stream_t* s = nullptr;
  std::string words = "w1 w2 w3 w4 w5 w6 w7";
  ASSERT_EQ(llm_chat_stream(c, chat_req("openai/gpt-4o", words).c_str(), &s), LLM_OK) << llm_last_error();
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_OK) << res.error;
  EXPECT_EQ(res.content, kHello + words);
  r = nullptr;
  ASSERT_EQ(llm_stream_final_response(s, &r), LLM_OK) << llm_last_error();
  EXPECT_EQ(std::string(llm_response_text(r)), kHello + words);
  llm_response_free(r);
  llm_stream_free(s);

  // A long pull stream: the reader drives the loop through every yield.
  ASSERT_EQ(llm_chat_stream(c, chat_req("openai/gpt-4o", "long",
                                        headers(R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"500",)"
                                                R"("x-upstream-generate-count":"2000"})")).c_str(),
                            &s),
            LLM_OK);
  res = drain(s);
  EXPECT_EQ(res.status, LLM_OK) << res.error;
  EXPECT_EQ(res.chunks.size(), 2002u);
  EXPECT_TRUE(res.content == generated_letters(2000 * 500));
  llm_stream_free(s);

  r = nullptr;
  ASSERT_EQ(llm_call(c, "embeddings", R"({"model":"openai/text-embedding-3-small","input":"hosted blocking","dimensions":8})",
                     nullptr, nullptr, 0, &r),
            LLM_OK)
      << llm_last_error();
  size_t n = 0, dims = 0;
  const float* v = llm_response_embeddings(r, &n, &dims);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(std::vector<float>(v, v + n * dims), literllm::testing::upstream_embedding("hosted blocking", 8));
  llm_response_free(r);

  // A timeout and an HTTP error keep their kinds.
  r = nullptr;
  EXPECT_EQ(llm_chat(c, chat_req("openai/gpt-4o", "x", ",\"timeout_secs\":0.3" + headers(R"({"x-upstream-delay-ms":"3000"})")).c_str(),
                     &r),
            LLM_ERR_TIMEOUT)
      << llm_last_error();
  EXPECT_EQ(llm_chat(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-status":"401"})")).c_str(), &r),
            LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(llm_last_error_http_status(), 401);
  EXPECT_FALSE(has(llm_last_error(), kKey)) << llm_last_error();
}

TEST_F(Hosted, SeveralThreadsBlockingAtOnceWithoutAHostLoop) {
  // Only one thread at a time can run the loop; the others wait and must be
  // handed their answers (or the loop) when it finishes. A lost hand-off hangs.
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    int finished = 0, ok = 0;
  };
  auto sh = std::make_shared<Shared>();
  constexpr int kThreads = 4, kCalls = 8;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([c, sh, t] {
      int ok = 0;
      for (int i = 0; i < kCalls; ++i) {
        std::string word = "t" + std::to_string(t) + "c" + std::to_string(i);
        llm_response_t* r = nullptr;
        std::string req = chat_req("openai/gpt-4o", word, headers(R"({"x-upstream-delay-ms":"20"})"));
        if (i % 3 == 2) {
          llm_stream_t* s = nullptr;
          if (llm_chat_stream(c, req.c_str(), &s) == LLM_OK) {
            auto res = drain(s);
            ok += res.status == LLM_OK && res.content == kHello + word;
          }
          llm_stream_free(s);
          continue;
        }
        ok += llm_chat(c, req.c_str(), &r) == LLM_OK && std::string(llm_response_text(r)) == kHello + word;
        llm_response_free(r);
      }
      std::lock_guard lk(sh->mu);
      sh->ok += ok;
      ++sh->finished;
      sh->cv.notify_all();
    });
  bool all;
  {
    std::unique_lock lk(sh->mu);
    all = sh->cv.wait_for(lk, std::chrono::duration<double>(30 * kSlow), [&] { return sh->finished == kThreads; });
  }
  if (!all) {
    for (auto& t : ts) t.detach();  // stuck inside the library: leave them (and the client) be
    release(c);
    FAIL() << "blocking calls on a hosted client hung (a lost hand-off of the loop); " << sh->finished << " of "
           << kThreads << " threads finished";
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(sh->ok, kThreads * kCalls);
}

TEST_F(Hosted, ABlockingCallWhileTheHostDrivesAsyncCalls) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    int ok = 0, calls = 0;
    std::thread::id thread;
  };
  auto sh = std::make_shared<Shared>();
  std::thread blocker([c, sh] {
    {
      std::lock_guard lk(sh->mu);
      sh->thread = std::this_thread::get_id();
    }
    int ok = 0;
    for (int i = 0; i < 15; ++i) {
      std::string word = "blocking " + std::to_string(i);
      llm_response_t* r = nullptr;
      ok += llm_chat(c, chat_req("openai/gpt-4o", word, headers(R"({"x-upstream-delay-ms":"20"})")).c_str(), &r) ==
                LLM_OK &&
            std::string(llm_response_text(r)) == kHello + word;
      llm_response_free(r);
    }
    std::lock_guard lk(sh->mu);
    sh->ok = ok;
    sh->calls = 15;
    sh->finished = true;
    sh->cv.notify_all();
  });
  std::vector<Rec*> recs;
  for (int i = 0; i < 20; ++i) {
    Rec& r = rec();
    recs.push_back(&r);
    std::string req = chat_req("openai/gpt-4o", "async " + std::to_string(i), headers(R"({"x-upstream-delay-ms":"20"})"));
    ASSERT_EQ(i % 4 == 3 ? llm_chat_stream_async(c, req.c_str(), on_chunk, on_done, &r, nullptr)
                         : llm_chat_async(c, req.c_str(), on_done, &r, nullptr),
              LLM_OK);
    // Start them over time, driving between, so both threads want the loop at once.
    auto until = Clock::now() + 10ms;
    h.drive([&] { return Clock::now() >= until; }, 2s, 10);
  }
  // Capped: the async calls may all end inside the blocking calls (their
  // callbacks then run there), leaving the host nothing to be woken for; the
  // hand-off itself is checked strictly by the next test.
  bool ok = h.drive(
      [&] {
        for (auto* r : recs)
          if (!r->finished()) return false;
        return true;
      },
      30s, kCapMs);
  bool blocker_done;
  {
    std::unique_lock lk(sh->mu);
    blocker_done = sh->cv.wait_for(lk, std::chrono::duration<double>(30 * kSlow), [&] { return sh->finished; });
  }
  if (!blocker_done) {
    blocker.detach();
    release(c);
    FAIL() << "the blocking llm_chat hung while the host ran the loop; " << h.stats();
  }
  blocker.join();
  ASSERT_TRUE(ok) << "async calls did not complete while a blocking call ran: " << h.stats();
  EXPECT_EQ(sh->ok, sh->calls);
  int on_host = 0, on_blocker = 0;
  for (int i = 0; i < 20; ++i) {
    Rec& r = *recs[i];
    EXPECT_EQ(r.status, LLM_OK) << i << " " << r.message;
    EXPECT_EQ(r.done, 1) << i;
    if (i % 4 == 3) {
      EXPECT_EQ(r.content, kHello + "async " + std::to_string(i));
    } else {
      EXPECT_EQ(r.text, kHello + "async " + std::to_string(i));
    }
    // A hosted client has no thread of its own: a callback runs in io_run, or (as the
    // spec allows) in a blocking call that was running the loop.
    EXPECT_TRUE(r.done_thread == std::this_thread::get_id() || r.done_thread == sh->thread) << i;
    on_host += r.done_thread == std::this_thread::get_id();
    on_blocker += r.done_thread == sh->thread;
  }
  RecordProperty("host", h.stats());
  RecordProperty("callbacks_on_host", on_host);
  RecordProperty("callbacks_on_blocking_thread", on_blocker);
}

TEST_F(Hosted, WhenABlockingCallLetsGoOfTheLoopTheHostIsWokenAndDoesNotSpin) {
  // Async calls that outlast a short burst of blocking calls on another thread.
  // While the blocking thread runs the loop, io_run answers -1 at once; when it
  // lets go, it must make the descriptor readable so the host takes over the
  // calls still in flight. Strict driving: a lost hand-off hangs to the
  // deadline. And while the host waits for its turn, it must not spin (a
  // descriptor that stays readable while io_run keeps answering -1 at once).
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  std::vector<Rec*> recs;
  auto t0 = Clock::now();
  for (int i = 0; i < 4; ++i) {
    Rec& r = rec();
    recs.push_back(&r);
    std::string req = chat_req("openai/gpt-4o", "outlast " + std::to_string(i), headers(R"({"x-upstream-delay-ms":"800"})"));
    ASSERT_EQ(i % 2 ? llm_chat_stream_async(c, req.c_str(), on_chunk, on_done, &r, nullptr)
                    : llm_chat_async(c, req.c_str(), on_done, &r, nullptr),
              LLM_OK);
  }
  h.run();  // the requests go out
  auto sh = std::make_shared<std::atomic<int>>(0);
  auto blocker_end = std::make_shared<std::atomic<int64_t>>(0);
  std::thread blocker([c, sh, blocker_end] {
    for (int i = 0; i < 6; ++i) {
      llm_response_t* r = nullptr;
      std::string word = "short " + std::to_string(i);
      *sh += llm_chat(c, chat_req("openai/gpt-4o", word, headers(R"({"x-upstream-delay-ms":"25"})")).c_str(), &r) ==
                 LLM_OK &&
             std::string(llm_response_text(r)) == kHello + word;
      llm_response_free(r);
    }
    *blocker_end = Clock::now().time_since_epoch().count();
  });
  bool ok = h.drive(
      [&] {
        for (auto* r : recs)
          if (!r->finished()) return false;
        return true;
      },
      10s, kStrict);
  blocker.join();
  ASSERT_TRUE(ok) << "the host was never handed the loop back: " << h.stats();
  EXPECT_EQ(sh->load(), 6);
  EXPECT_LT(since(t0), 0.8 + 1.0 * kSlow) << h.stats();
  Clock::time_point bend{Clock::duration(blocker_end->load())};
  for (int i = 0; i < 4; ++i) {
    Rec& r = *recs[i];
    EXPECT_EQ(r.status, LLM_OK) << i << " " << r.message;
    EXPECT_EQ(i % 2 ? r.content : r.text, kHello + "outlast " + std::to_string(i));
    if (r.ended > bend) {
      EXPECT_EQ(r.done_thread, std::this_thread::get_id()) << i << ": ended after the blocking calls, not on the host";
    }
  }
  // About 1 s of waiting: a host that sleeps as told needs tens of io_run calls
  // (each answer, each timer), not thousands.
  RecordProperty("host", h.stats());
  EXPECT_LT(h.runs, 500u) << "the host spun while another thread held the loop: " << h.stats();
}

// ===================================================== 10. errors keep their types

TEST_F(Hosted, ErrorsKeepTheirKindsThroughIoRunAndNeverShowTheKey) {
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  Host h(c);
  Rec& auth = rec();
  Rec& echoed = rec();
  Rec& cut = rec();
  Rec& limited = rec();
  ASSERT_EQ(llm_chat_async_e(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-status":"401"})")).c_str(),
                             on_done_e, &auth, nullptr, nullptr),
            LLM_OK);
  ASSERT_EQ(llm_chat_async_e(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-echo-headers":"json"})")).c_str(),
                             on_done_e, &echoed, nullptr, nullptr),
            LLM_OK);
  ASSERT_EQ(llm_chat_stream_async_e(c, chat_req("openai/gpt-4o", "one two three four five six seven",
                                                headers(R"({"x-upstream-cut-after":"3"})")).c_str(),
                                    on_chunk, on_done_e, &cut, nullptr, nullptr),
            LLM_OK);
  ASSERT_EQ(llm_chat_async(c, chat_req("openai/gpt-4o", "x", headers(R"({"x-upstream-status":"429"})")).c_str(), on_done,
                           &limited, nullptr),
            LLM_OK);
  ASSERT_TRUE(h.drive([&] { return auth.finished() && echoed.finished() && cut.finished() && limited.finished(); }))
      << h.stats();
  EXPECT_EQ(auth.status, LLM_ERR_AUTHENTICATION) << auth.message;
  EXPECT_EQ(auth.http_status, 401);
  EXPECT_EQ(auth.error_provider, "openai");
  EXPECT_TRUE(has(auth.message, "401")) << auth.message;
  EXPECT_EQ(echoed.status, LLM_ERR_AUTHENTICATION) << echoed.message;
  EXPECT_TRUE(has(echoed.message, "[REDACTED]")) << echoed.message;
  EXPECT_EQ(cut.status, LLM_ERR_STREAMING) << cut.message;
  EXPECT_EQ(cut.chunks, 3u);
  EXPECT_EQ(limited.status, LLM_ERR_RATE_LIMITED) << limited.message;
  for (Rec* r : {&auth, &echoed, &cut, &limited}) {
    EXPECT_FALSE(r->message.empty());
    EXPECT_FALSE(has(r->message, kKey)) << r->message;
    EXPECT_EQ(r->done_thread, std::this_thread::get_id());
  }
  // Nothing leaked into the host thread's own last error either.
  EXPECT_FALSE(has(llm_last_error(), kKey));
}

// ===================================================== two hosts on one client

TEST_F(Hosted, TwoThreadsCallingIoRunAtOnceShareTheLoop) {
  // io_run while another thread runs the loop returns at once with -1: two hosts
  // on one client (unusual, but allowed) both get through, every callback once.
  // Capped: with two pollers on one descriptor, one may take the wake-up meant
  // for the other.
  llm_client_t* c = client();
  ASSERT_NE(c, nullptr);
  std::vector<Rec*> recs;
  for (int i = 0; i < 24; ++i) {
    Rec& r = rec();
    recs.push_back(&r);
    std::string req = chat_req("openai/gpt-4o", "shared " + std::to_string(i), headers(R"({"x-upstream-delay-ms":"30"})"));
    ASSERT_EQ(i % 3 == 2 ? llm_chat_stream_async(c, req.c_str(), on_chunk, on_done, &r, nullptr)
                         : llm_chat_async(c, req.c_str(), on_done, &r, nullptr),
              LLM_OK);
  }
  auto all_done = [&] {
    for (auto* r : recs)
      if (!r->finished()) return false;
    return true;
  };
  std::thread::id second_id;
  std::atomic<bool> second_ok{false};
  std::string second_stats;
  std::thread second([&] {
    Host h2(c);
    second_id = std::this_thread::get_id();
    second_ok = h2.drive(all_done, 20s, kCapMs);
    second_stats = h2.stats();
  });
  Host h(c);
  bool ok = h.drive(all_done, 20s, kCapMs);
  second.join();
  ASSERT_TRUE(ok) << h.stats();
  ASSERT_TRUE(second_ok) << second_stats;
  RecordProperty("host1", h.stats());
  RecordProperty("host2", second_stats);
  for (int i = 0; i < 24; ++i) {
    Rec& r = *recs[i];
    EXPECT_EQ(r.status, LLM_OK) << i << " " << r.message;
    EXPECT_EQ(r.done, 1) << i;
    EXPECT_EQ(i % 3 == 2 ? r.content : r.text, kHello + "shared " + std::to_string(i));
    EXPECT_TRUE(r.done_thread == std::this_thread::get_id() || r.done_thread == second_id) << i;
  }
}
