// 1,000 concurrent streams on ONE client, against the local upstream.
//
//   bench_streams [--n N] [--delay-ms MS] [--in-process] [--no-pull]
//
// Phase 1 (callback form): N llm_chat_stream_async calls started back to back,
// each asking the upstream (x-upstream-chunk-delay-ms, through the request's
// "extra_headers") to wait MS between stream events, so that all of them are
// open at once. Counts chunks and completions, checks every assembled answer.
// Phase 2 (pull form): N llm_chat_stream handles read round-robin with
// llm_stream_next from one thread.
//
// Reports wall time, completions, peak RSS (VmHWM) and RSS growth, the largest
// number of threads seen in the process while the streams ran (/proc/self/task,
// sampled every 2 ms), and the upstream's connection counts.
//
// By default the upstream runs in a child process forked before any thread
// exists, so the RSS and thread figures are the library's (plus this program's
// main thread) and nothing else. --in-process runs it on a thread of this
// process instead (its memory and its one thread then count too).
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "literllm.h"
#include "upstream.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_streams: %s\n", what.c_str());
  std::exit(1);
}

// ------------------------------------------------------------------ /proc

int thread_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

// A "VmXXX:   1234 kB" line of /proc/self/status, in kB.
long status_kb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      v = std::strtol(line + n + 1, nullptr, 10);
      break;
    }
  std::fclose(f);
  return v;
}

int open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the directory's own descriptor
}

// CPU time (user + system, ms) of every thread of this process, by thread id.
std::map<long, double> thread_cpu_ms() {
  std::map<long, double> out;
  static const double tick_ms = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* d = opendir("/proc/self/task");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = std::string("/proc/self/task/") + e->d_name + "/stat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) continue;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const char* p = std::strrchr(buf, ')');
    if (!p) continue;
    unsigned long utime = 0, stime = 0;
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2)
      out[std::atol(e->d_name)] = static_cast<double>(utime + stime) * tick_ms;
  }
  closedir(d);
  return out;
}

// "main 120 ms, other 950 ms" for the CPU the threads used between two snapshots.
std::string cpu_delta(const std::map<long, double>& before, const std::map<long, double>& after) {
  std::string s;
  long self = static_cast<long>(getpid());
  for (auto& [tid, ms] : after) {
    auto it = before.find(tid);
    double d = ms - (it == before.end() ? 0 : it->second);
    char line[96];
    std::snprintf(line, sizeof line, "%s%s %.0f ms", s.empty() ? "" : ", ", tid == self ? "main thread" : "other thread",
                  d);
    s += line;
  }
  return s;
}

// --------------------------------------------------------------- the upstream

// The upstream either in this process or in a forked child that answers
// "accepted open" queries over a pipe.
class UpstreamHandle {
 public:
  static std::unique_ptr<UpstreamHandle> start(bool in_process) {
    auto h = std::unique_ptr<UpstreamHandle>(new UpstreamHandle);
    UpstreamOptions o;
    o.record_requests = false;  // a thousand bodies need not be kept
    if (in_process) {
      h->local_ = std::make_unique<Upstream>(o);
      h->local_->start();
      h->port_ = h->local_->port();
      return h;
    }
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) die("pipe failed");
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
      close(to_child[1]);
      close(from_child[0]);
      Upstream up(o);
      up.start();
      std::string port = std::to_string(up.port()) + "\n";
      if (write(from_child[1], port.data(), port.size()) < 0) _exit(2);
      char c;
      while (read(to_child[0], &c, 1) == 1) {
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        double cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        std::string reply = std::to_string(up.connections_accepted()) + " " + std::to_string(up.open_connections()) +
                            " " + std::to_string(cpu_ms) + "\n";
        if (write(from_child[1], reply.data(), reply.size()) < 0) break;
      }
      up.stop();
      _exit(0);
    }
    close(to_child[0]);
    close(from_child[1]);
    h->pid_ = pid;
    h->out_ = to_child[1];
    h->in_ = from_child[0];
    h->port_ = static_cast<uint16_t>(std::stoul(h->read_line()));
    return h;
  }
  ~UpstreamHandle() {
    if (pid_ > 0) {
      close(out_);  // EOF: the child stops its server and exits
      int st = 0;
      waitpid(pid_, &st, 0);
      close(in_);
    }
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  // {accepted so far, open now}
  std::pair<size_t, size_t> connections() {
    if (local_) return {local_->connections_accepted(), local_->open_connections()};
    if (write(out_, "?", 1) != 1) die("upstream child gone");
    std::string l = read_line();
    size_t a = 0, o = 0;
    std::sscanf(l.c_str(), "%zu %zu %lf", &a, &o, &child_cpu_ms_);
    return {a, o};
  }
  // CPU time the forked upstream has used so far (ms), as of the last connections(); -1 in-process.
  double child_cpu_ms() const { return local_ ? -1 : child_cpu_ms_; }
  bool forked() const { return pid_ > 0; }

 private:
  UpstreamHandle() = default;
  std::string read_line() {
    std::string s;
    char c;
    while (read(in_, &c, 1) == 1 && c != '\n') s += c;
    if (s.empty()) die("no answer from the upstream child");
    return s;
  }
  std::unique_ptr<Upstream> local_;
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  uint16_t port_ = 0;
  double child_cpu_ms_ = 0;
};

// ---------------------------------------------------------------- sampling

struct Peaks {
  int threads = 0;
  long rss_kb = 0;
  size_t open_conns = 0;
  int fds = 0;
  void sample(UpstreamHandle& up, bool with_conns) {
    threads = std::max(threads, thread_count());
    rss_kb = std::max(rss_kb, status_kb("VmRSS"));
    fds = std::max(fds, open_fds());
    if (with_conns) open_conns = std::max(open_conns, up.connections().second);
  }
};

std::string request_for(int i, int delay_ms) {
  return R"({"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"stream number )" + std::to_string(i) +
         R"( says hello"}],"extra_headers":{"x-upstream-chunk-delay-ms":")" + std::to_string(delay_ms) + R"("}})";
}
std::string expected_text(int i) {
  return "Hello from the local upstream. You said: stream number " + std::to_string(i) + " says hello";
}

struct Percentiles {
  double min = 0, p50 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.min = v.front();
  p.max = v.back();
  p.p50 = v[v.size() / 2];
  p.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  return p;
}

// ------------------------------------------------------------ phase 1: callbacks

struct Shared;
struct StreamCtx {
  Shared* sh = nullptr;
  int index = 0;
  int chunks = 0;  // touched on the I/O thread only
  Clock::time_point started;
  double ms = 0;
  llm_status status = LLM_OK;
  bool text_ok = false;
};

struct Shared {
  std::atomic<long> chunks{0};
  std::atomic<int> completed{0}, ok{0};
  std::atomic<int> total{0};  // lowered by the main thread if a start fails
  std::mutex mu;
  std::condition_variable cv;
  std::string first_error;
};

int on_chunk(const char* chunk_json, void* ud) {
  auto* c = static_cast<StreamCtx*>(ud);
  if (chunk_json && *chunk_json) {
    ++c->chunks;
    c->sh->chunks.fetch_add(1, std::memory_order_relaxed);
  }
  return 0;
}

void on_done(llm_status st, llm_response_t* r, const char* msg, void* ud) {
  auto* c = static_cast<StreamCtx*>(ud);
  c->ms = ms_since(c->started);
  c->status = st;
  if (st == LLM_OK) {
    const char* t = llm_response_text(r);
    c->text_ok = t && expected_text(c->index) == t;
    if (c->text_ok) c->sh->ok.fetch_add(1);
  }
  if (st != LLM_OK || !c->text_ok) {
    std::lock_guard lk(c->sh->mu);
    if (c->sh->first_error.empty())
      c->sh->first_error = st != LLM_OK ? std::string(llm_status_str(st)) + ": " + (msg ? msg : "")
                                        : "stream " + std::to_string(c->index) + ": wrong assembled text";
  }
  llm_response_free(r);
  if (c->sh->completed.fetch_add(1) + 1 == c->sh->total) {
    std::lock_guard lk(c->sh->mu);
    c->sh->cv.notify_all();
  }
}

bool run_callbacks(llm_client_t* client, UpstreamHandle& up, int n, int delay_ms) {
  std::printf("\n== callback form: %d x llm_chat_stream_async, %d ms between events ==\n", n, delay_ms);
  std::vector<std::string> reqs;
  for (int i = 0; i < n; ++i) reqs.push_back(request_for(i, delay_ms));
  Shared sh;
  sh.total = n;
  std::vector<StreamCtx> ctx(static_cast<size_t>(n));
  auto conns_before = up.connections().first;
  double up_cpu0 = up.child_cpu_ms();
  long rss_before = status_kb("VmRSS");
  Peaks pk;
  pk.sample(up, true);

  auto cpu0 = thread_cpu_ms();
  auto t0 = Clock::now();
  int started = 0;
  for (int i = 0; i < n; ++i) {
    ctx[i].sh = &sh;
    ctx[i].index = i;
    ctx[i].started = Clock::now();
    if (llm_chat_stream_async(client, reqs[i].c_str(), &on_chunk, &on_done, &ctx[i], nullptr) != LLM_OK) {
      std::printf("start %d failed: %s\n", i, llm_last_error());
      sh.total = started;  // the ones that did start are still waited for
      if (sh.completed.load() == started) sh.cv.notify_all();
      break;
    }
    ++started;
  }
  double submit_ms = ms_since(t0);
  auto cpu_submit = thread_cpu_ms();

  // Wait, sampling threads / RSS / fds every 2 ms and the upstream's open connections every 10 ms.
  int tick = 0;
  bool timed_out = false;
  {
    std::unique_lock lk(sh.mu);
    while (sh.completed.load() < sh.total) {
      lk.unlock();
      pk.sample(up, tick++ % 5 == 0);
      lk.lock();
      sh.cv.wait_for(lk, std::chrono::milliseconds(2));
      if (ms_since(t0) > 120'000) {
        timed_out = true;
        break;
      }
    }
  }
  double wall_ms = ms_since(t0);
  auto cpu1 = thread_cpu_ms();
  auto conns_after = up.connections().first;

  std::vector<double> durations;
  int min_chunks = 1 << 30, max_chunks = 0;
  for (int i = 0; i < started; ++i) {
    durations.push_back(ctx[i].ms);
    min_chunks = std::min(min_chunks, ctx[i].chunks);
    max_chunks = std::max(max_chunks, ctx[i].chunks);
  }
  Percentiles p = percentiles(durations);
  std::printf("started %d, completed %d, completed OK with the right text %d%s\n", started, sh.completed.load(),
              sh.ok.load(), timed_out ? "  (TIMED OUT after 120 s)" : "");
  if (!sh.first_error.empty()) std::printf("first error: %s\n", sh.first_error.c_str());
  std::printf("chunks delivered: %ld (per stream %d .. %d)\n", sh.chunks.load(), min_chunks, max_chunks);
  std::printf("wall time: %.1f ms (submitting all: %.1f ms, %.1f us per start)\n", wall_ms, submit_ms,
              submit_ms * 1000.0 / std::max(started, 1));
  std::printf("per-stream time: min %.1f  p50 %.1f  p99 %.1f  max %.1f ms\n", p.min, p.p50, p.p99, p.max);
  std::printf("threads in the process: peak %d\n", pk.threads);
  std::printf("CPU time while submitting: %s\n", cpu_delta(cpu0, cpu_submit).c_str());
  std::printf("CPU time during the phase: %s (the main thread's includes the 2 ms sampling)\n",
              cpu_delta(cpu0, cpu1).c_str());
  if (up.forked()) std::printf("CPU time of the upstream process during the phase: %.0f ms\n", up.child_cpu_ms() - up_cpu0);
  std::printf("RSS: before %ld kB, peak sampled %ld kB (+%ld kB, %.1f kB per stream); VmHWM so far %ld kB\n",
              rss_before, pk.rss_kb, pk.rss_kb - rss_before, double(pk.rss_kb - rss_before) / std::max(started, 1),
              status_kb("VmHWM"));
  std::printf("file descriptors: peak %d\n", pk.fds);
  std::printf("upstream: %zu connections accepted during the phase, peak %zu open at once\n",
              conns_after - conns_before, pk.open_conns);
  return !timed_out && sh.ok.load() == n;
}

// ---------------------------------------------------------------- phase 2: pull

bool run_pull(llm_client_t* client, UpstreamHandle& up, int n, int delay_ms) {
  std::printf("\n== pull form: %d x llm_chat_stream, read round-robin from one thread ==\n", n);
  std::vector<std::string> reqs;
  for (int i = 0; i < n; ++i) reqs.push_back(request_for(i, delay_ms));
  auto conns_before = up.connections().first;
  double up_cpu0 = up.child_cpu_ms();
  long rss_before = status_kb("VmRSS");
  Peaks pk;
  pk.sample(up, true);

  auto cpu0 = thread_cpu_ms();
  auto t0 = Clock::now();
  std::vector<llm_stream_t*> streams(static_cast<size_t>(n), nullptr);
  for (int i = 0; i < n; ++i)
    if (llm_chat_stream(client, reqs[i].c_str(), &streams[i]) != LLM_OK)
      die("llm_chat_stream " + std::to_string(i) + ": " + llm_last_error());
  double submit_ms = ms_since(t0);

  std::vector<int> active(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) active[i] = i;
  long chunks = 0;
  int ok = 0, failed = 0;
  std::string first_error;
  auto last_sample = Clock::now();
  int tick = 0;
  while (!active.empty()) {
    std::vector<int> still;
    still.reserve(active.size());
    for (int i : active) {
      const char* chunk = nullptr;
      llm_status st = llm_stream_next(streams[i], &chunk);
      if (st == LLM_OK && chunk) {
        ++chunks;
        still.push_back(i);
      } else if (st == LLM_OK) {
        llm_response_t* r = nullptr;
        if (llm_stream_final_response(streams[i], &r) == LLM_OK && llm_response_text(r) &&
            expected_text(i) == llm_response_text(r))
          ++ok;
        else if (first_error.empty())
          first_error = "stream " + std::to_string(i) + ": wrong or missing final response";
        llm_response_free(r);
      } else {
        ++failed;
        if (first_error.empty()) first_error = std::string(llm_status_str(st)) + ": " + llm_last_error();
      }
      if (ms_since(last_sample) >= 2) {
        pk.sample(up, tick++ % 5 == 0);
        last_sample = Clock::now();
      }
    }
    active.swap(still);
  }
  double wall_ms = ms_since(t0);
  auto cpu1 = thread_cpu_ms();
  auto conns_after = up.connections().first;
  for (auto* s : streams) llm_stream_free(s);

  std::printf("completed OK with the right text %d of %d, failed %d\n", ok, n, failed);
  if (!first_error.empty()) std::printf("first error: %s\n", first_error.c_str());
  std::printf("chunks read: %ld\n", chunks);
  std::printf("wall time: %.1f ms (submitting all: %.1f ms)\n", wall_ms, submit_ms);
  std::printf("threads in the process: peak %d\n", pk.threads);
  std::printf("CPU time during the phase: %s\n", cpu_delta(cpu0, cpu1).c_str());
  if (up.forked()) std::printf("CPU time of the upstream process during the phase: %.0f ms\n", up.child_cpu_ms() - up_cpu0);
  std::printf("RSS: before %ld kB, peak sampled %ld kB (+%ld kB); VmHWM so far %ld kB\n", rss_before, pk.rss_kb,
              pk.rss_kb - rss_before, status_kb("VmHWM"));
  std::printf("file descriptors: peak %d\n", pk.fds);
  std::printf("upstream: %zu connections accepted during the phase (kept-alive ones reused), peak %zu open\n",
              conns_after - conns_before, pk.open_conns);
  return ok == n;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 1000, delay_ms = 20;
  bool in_process = false, pull = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (a == "--delay-ms" && i + 1 < argc) delay_ms = std::atoi(argv[++i]);
    else if (a == "--in-process") in_process = true;
    else if (a == "--no-pull") pull = false;
    else {
      std::fprintf(stderr, "usage: %s [--n N] [--delay-ms MS] [--in-process] [--no-pull]\n", argv[0]);
      return 2;
    }
  }
  if (n <= 0) die("--n must be positive");

  // Each stream is one connection (HTTP/1.1 on plain http), each connection a
  // descriptor on both ends when the upstream is in-process: raise the soft limit.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = static_cast<rlim_t>(2 * n + 256);
    if (rl.rlim_cur < want) {
      rl.rlim_cur = std::min(want, rl.rlim_max);
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
    }
    std::printf("open-file limit: soft %llu, hard %llu\n", static_cast<unsigned long long>(rl.rlim_cur),
                static_cast<unsigned long long>(rl.rlim_max));
    if (rl.rlim_cur < want) std::printf("warning: fewer descriptors than %d streams need\n", n);
  }

  // Fork the upstream (if asked) before this process has any thread.
  auto up = UpstreamHandle::start(in_process);
  std::printf("upstream %s (%s); llm %s\n", up->base_url().c_str(), up->forked() ? "forked child process" : "in-process",
              llm_version());
  std::printf("threads before the client: %d; VmRSS %ld kB\n", thread_count(), status_kb("VmRSS"));

  std::string cfg = R"({"providers":{"openai":{"base_url":")" + up->base_url() + R"(","api_key":"k-bench"}}})";
  llm_client_t* client = nullptr;
  if (llm_client_new(cfg.c_str(), &client) != LLM_OK) die(std::string("llm_client_new: ") + llm_last_error());
  std::printf("threads with the client idle: %d; VmRSS %ld kB\n", thread_count(), status_kb("VmRSS"));

  bool ok = run_callbacks(client, *up, n, delay_ms);
  if (pull) ok = run_pull(client, *up, n, delay_ms) && ok;

  auto t0 = Clock::now();
  llm_client_free(client);
  std::printf("\nllm_client_free: %.1f ms; VmHWM (peak RSS of the whole run) %ld kB; threads after %d\n", ms_since(t0),
              status_kb("VmHWM"), thread_count());
  // The upstream notices the closed connections asynchronously: give it a moment.
  auto [accepted, open] = up->connections();
  for (auto w = Clock::now(); open > 0 && ms_since(w) < 3000;) {
    usleep(20'000);
    open = up->connections().second;
  }
  std::printf("upstream: %zu connections accepted in all, %zu still open after the client was freed\n", accepted,
              open);
  std::printf("%s\n", ok ? "RESULT: all streams completed OK" : "RESULT: FAILURES (see above)");
  return ok ? 0 : 1;
}
