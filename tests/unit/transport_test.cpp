// Tests of http::Transport against a tiny HTTP/1.1 server of its own (one
// thread, poll(), 127.0.0.1, a kernel-chosen port), which counts connections
// and bytes exactly and scripts each answer by its path:
//   /echo                   200, the request body back (+ padded X-Test header)
//   /delay?ms=D             200 "late" after D ms
//   /stream?n=N&gap=G&start=S&first=F
//                           chunked: headers after S ms, first chunk F ms later,
//                           then N chunks "chunk<i>\n" G ms apart
//   /stall                  Content-Length 100, sends 10 bytes, then silence
//   /continue               an unsolicited "100 Continue" block, then 200
//   /nocontent              204, no body
//   /silent                 reads the request, never answers
//   /raw?kind=K             bytes that break HTTP, then a close (see raw_answer)
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/headers.hpp"
#include "http/transport.hpp"

namespace {

using literllm::http::Callbacks;
using literllm::http::Headers;
using literllm::http::Request;
using literllm::http::Result;
using literllm::http::Transport;
using literllm::http::TransportOptions;
using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t0) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// ------------------------------------------------------------ mini server

class MiniServer {
 public:
  MiniServer() {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd_ < 0) throw std::runtime_error("socket");
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
    if (::listen(lfd_, 2048) != 0) throw std::runtime_error("listen");
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    thread_ = std::thread([this] { loop(); });
  }
  ~MiniServer() {
    stop_ = true;
    char c = 1;
    (void)!::write(wake_[1], &c, 1);
    thread_.join();
    for (auto& [fd, c2] : conns_) ::close(fd);
    ::close(lfd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  size_t connections() const { return accepted_.load(); }
  uint64_t bytes_in() const { return bytes_in_.load(); }
  uint64_t bytes_out() const { return bytes_out_.load(); }
  // bytes_out() once it reaches `expected` (or after 1 s): the server counts
  // after send() returns, which may be after the client has seen it all.
  uint64_t bytes_out_settled(uint64_t expected) const {
    for (int i = 0; i < 1000 && bytes_out() < expected; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return bytes_out();
  }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  struct Segment {
    Clock::time_point due;
    std::string data;
    bool close = false;
  };
  struct Conn {
    std::string in;
    std::string out;  // due, not yet written
    std::deque<Segment> pending;
    bool close_after_write = false;
    bool busy = false;  // an answer is under way; later requests wait
    int swallow = 0;    // requests still to take without answering (their answer went ahead)
  };

  static std::string param(const std::string& target, const std::string& key, const std::string& dflt) {
    size_t q = target.find('?');
    if (q == std::string::npos) return dflt;
    std::string qs = target.substr(q + 1);
    size_t pos = 0;
    while (pos <= qs.size()) {
      size_t amp = qs.find('&', pos);
      std::string kv = qs.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      size_t eq = kv.find('=');
      if (eq != std::string::npos && kv.substr(0, eq) == key) return kv.substr(eq + 1);
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
    return dflt;
  }

  static std::string sized(int status, const char* reason, const std::string& body, const std::string& extra = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  // Answers of servers that break HTTP.
  static std::string raw_answer(const std::string& kind) {
    if (kind == "garbage") return "FOO/1.1 twohundred OK\r\nContent-Length: 2\r\n\r\n{}";
    if (kind == "nostatus") return "{\"id\":\"x\",\"choices\":[]}";
    if (kind == "longstatus") return "HTTP/1.1 20000000000000000000 OK\r\nContent-Length: 2\r\n\r\n{}";
    if (kind == "twodigits") return "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\n{}";
    if (kind == "cut") return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    if (kind == "conflict") return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\n{}  ";
    if (kind == "longline") return "HTTP/1.1 200 OK\r\nX-Bomb: " + std::string(200 * 1024, 'a') + "\r\n\r\n";
    if (kind == "manyheaders") {
      std::string out = "HTTP/1.1 200 OK\r\n";
      for (int i = 0; i < 40; ++i) out += "X-H" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
      return out + "Content-Length: 2\r\n\r\n{}";
    }
    return "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  }

  // Turns one complete request into scheduled segments.
  void answer(Conn& c, const std::string& method, const std::string& target, const std::string& body) {
    auto now = Clock::now();
    auto at = [&](long ms) { return now + std::chrono::milliseconds(ms); };
    std::string path = target.substr(0, target.find('?'));
    c.busy = true;
    if (path == "/echo") {
      c.pending.push_back({now, sized(200, "OK", body, "X-Test:   padded  \r\nX-Method: " + method + "\r\n")});
    } else if (path == "/delay") {
      c.pending.push_back({at(std::stol(param(target, "ms", "0"))), sized(200, "OK", "late")});
    } else if (path == "/stream") {
      long n = std::stol(param(target, "n", "3")), gap = std::stol(param(target, "gap", "0"));
      long start = std::stol(param(target, "start", "0")), first = std::stol(param(target, "first", "0"));
      c.pending.push_back(
          {at(start), "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"});
      long t = start + first;
      for (long i = 0; i < n; ++i, t += gap) {
        std::string chunk = "chunk" + std::to_string(i) + "\n";
        char hex[16];
        std::snprintf(hex, sizeof hex, "%zx\r\n", chunk.size());
        c.pending.push_back({at(t), hex + chunk + "\r\n"});
      }
      c.pending.push_back({at(t - gap), "0\r\n\r\n"});
    } else if (path == "/ahead") {
      // The answer, then (once the client has surely parked the connection)
      // the answer of the next request on it, before that request is sent.
      c.pending.push_back({now, sized(200, "OK", "first")});
      c.pending.push_back({at(std::stol(param(target, "ms", "50"))), sized(200, "OK", "ahead")});
      c.swallow = 1;
    } else if (path == "/stall") {
      c.pending.push_back({now, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"});
      c.pending.push_back({Clock::time_point::max(), ""});  // never due: silence
    } else if (path == "/continue") {
      c.pending.push_back({now, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" +
                                    sized(200, "OK", "after-continue", "X-Final: 1\r\n")});
    } else if (path == "/nocontent") {
      c.pending.push_back({now, "HTTP/1.1 204 No Content\r\nX-Empty: yes\r\n\r\n"});
    } else if (path == "/silent") {
      c.pending.push_back({Clock::time_point::max(), ""});
    } else if (path == "/raw") {
      c.pending.push_back({now, raw_answer(param(target, "kind", "")), true});
    } else {
      c.pending.push_back({now, sized(404, "Not Found", "{}")});
    }
  }

  // Parses as many whole requests as `c.in` holds (one at a time).
  void parse(Conn& c) {
    if (!c.busy && !c.in.empty() && !(c.in[0] >= 'A' && c.in[0] <= 'Z')) {
      // Not HTTP (a TLS ClientHello, say): answer as a plain server would.
      c.in.clear();
      c.busy = true;
      c.pending.push_back({Clock::now(), "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", true});
      return;
    }
    while (!c.busy) {
      size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      std::string head = c.in.substr(0, end + 4);
      size_t content_length = 0;
      size_t pos = head.find("\r\n") + 2;
      while (pos < end) {
        size_t eol = head.find("\r\n", pos);
        std::string line = head.substr(pos, eol - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          if (name == "content-length") content_length = std::stoul(line.substr(colon + 1));
        }
        pos = eol + 2;
      }
      if (c.in.size() < end + 4 + content_length) return;
      std::string body = c.in.substr(end + 4, content_length);
      c.in.erase(0, end + 4 + content_length);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(head + body);
      }
      if (c.swallow > 0) {
        --c.swallow;
        continue;
      }
      std::string line = head.substr(0, head.find("\r\n"));
      std::string method = line.substr(0, line.find(' '));
      size_t t0 = line.find(' ') + 1;
      std::string target = line.substr(t0, line.find(' ', t0) - t0);
      answer(c, method, target, body);
    }
  }

  void close_conn(int fd) {
    ::close(fd);
    conns_.erase(fd);
  }

  void loop() {
    std::vector<pollfd> pfds;
    while (!stop_) {
      pfds.clear();
      pfds.push_back({wake_[0], POLLIN, 0});
      pfds.push_back({lfd_, POLLIN, 0});
      auto next = Clock::time_point::max();
      for (auto& [fd, c] : conns_) {
        short ev = POLLIN;
        if (!c.out.empty()) ev |= POLLOUT;
        pfds.push_back({fd, ev, 0});
        if (!c.pending.empty() && c.pending.front().due < next) next = c.pending.front().due;
      }
      int timeout = -1;
      if (next != Clock::time_point::max()) {
        auto d = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
        timeout = d < 0 ? 0 : static_cast<int>(d) + 1;
      }
      ::poll(pfds.data(), pfds.size(), timeout);
      if (stop_) break;
      if (pfds[1].revents & POLLIN) {
        for (;;) {
          int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns_[fd];
          ++accepted_;
        }
      }
      for (size_t i = 2; i < pfds.size(); ++i) {
        int fd = pfds[i].fd;
        auto it = conns_.find(fd);
        if (it == conns_.end()) continue;
        Conn& c = it->second;
        if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          char buf[65536];
          ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
              close_conn(fd);
              continue;
            }
          } else {
            bytes_in_ += static_cast<uint64_t>(n);
            c.in.append(buf, static_cast<size_t>(n));
            parse(c);
          }
        }
      }
      // Move what is due to the write buffers, and write.
      auto now = Clock::now();
      std::vector<int> to_close;
      for (auto& [fd, c] : conns_) {
        while (!c.pending.empty() && c.pending.front().due <= now) {
          c.out += c.pending.front().data;
          if (c.pending.front().close) c.close_after_write = true;
          c.pending.pop_front();
          if (c.pending.empty()) c.busy = false;
        }
        while (!c.out.empty()) {
          ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
          if (n <= 0) break;
          bytes_out_ += static_cast<uint64_t>(n);
          c.out.erase(0, static_cast<size_t>(n));
        }
        if (c.out.empty() && c.close_after_write) to_close.push_back(fd);
      }
      for (int fd : to_close) close_conn(fd);
      for (auto& [fd, c] : conns_)
        if (!c.busy && !c.in.empty()) parse(c);
    }
  }

  int lfd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::map<int, Conn> conns_;  // server thread only
  std::atomic<size_t> accepted_{0};
  std::atomic<uint64_t> bytes_in_{0}, bytes_out_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
};

// ------------------------------------------------------------ the outcome

// What one transfer's callbacks saw. Shared with the callbacks (they run on
// the I/O thread); read by the test under the mutex.
struct Outcome {
  std::mutex mu;
  std::condition_variable cv;
  int headers_calls = 0, data_calls = 0, done_calls = 0;
  bool data_before_headers = false, on_io_thread = true;
  // Set by a test: any callback that runs on this thread sets on_submitter.
  std::thread::id submitter{};
  bool on_submitter = false;
  long header_status = 0;
  Headers headers;
  std::string body;
  Result result;
  Clock::time_point done_at{};
  Transport* transport = nullptr;
  std::atomic<uint64_t> id{0};

  // Optional hooks, run on the I/O thread under no lock.
  std::function<bool(Outcome&, const char*, size_t)> data_hook;
  std::function<void(Outcome&)> done_hook;

  Callbacks callbacks(Transport* tr) {
    transport = tr;
    Callbacks cb;
    cb.on_headers = [this](long status, const Headers& h) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++headers_calls;
        header_status = status;
        headers = h;
        if (transport && !transport->on_io_thread()) on_io_thread = false;
        note_thread();
        cv.notify_all();  // under the lock: the waiter may destroy us once it returns
      }
    };
    cb.on_data = [this](const char* p, size_t n) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (headers_calls == 0) data_before_headers = true;
        ++data_calls;
        body.append(p, n);
        if (transport && !transport->on_io_thread()) on_io_thread = false;
        note_thread();
        cv.notify_all();
      }
      return data_hook ? data_hook(*this, p, n) : true;
    };
    cb.on_done = [this](const Result& r) {
      if (done_hook) done_hook(*this);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++done_calls;
        result = r;
        note_thread();
        done_at = Clock::now();
        cv.notify_all();
      }
    };
    return cb;
  }

  void note_thread() {  // under mu
    if (submitter != std::thread::id() && std::this_thread::get_id() == submitter) on_submitter = true;
  }

  bool wait(long ms = 3000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return done_calls > 0; });
  }
  template <class Pred>
  bool wait_for(Pred p, long ms = 3000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return p(*this); });
  }
};

Request post(const std::string& url, std::string body = "{}") {
  Request r;
  r.method = "POST";
  r.url = url;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = std::move(body);
  return r;
}

Request get(const std::string& url) {
  Request r;
  r.method = "GET";
  r.url = url;
  return r;
}

uint64_t start(Transport& tr, Outcome& o, Request req, long total_timeout_ms = 0) {
  uint64_t id = tr.submit(std::move(req), o.callbacks(&tr), total_timeout_ms);
  o.id = id;
  return id;
}

bool has_line_ci(const std::string& raw, const std::string& prefix) {
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  return lower(raw).find("\r\n" + lower(prefix)) != std::string::npos;
}

std::string header_value(const Headers& h, const std::string& name) {
  const std::string* v = literllm::http::find_header(h, name);
  return v ? *v : std::string("<absent>");
}

// ------------------------------------------------------------------ tests

TEST(Transport, SimplePost) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  Request r = post(srv.url("/echo"), R"({"model":"m","messages":[]})");
  r.headers.push_back({"X-First", "1"});
  r.headers.push_back({"X-Second", "  two  "});
  r.headers.push_back({"X-Empty", ""});
  uint64_t id = start(tr, o, std::move(r));
  EXPECT_NE(id, 0u);
  ASSERT_TRUE(o.wait());

  std::lock_guard<std::mutex> lock(o.mu);
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.result.http_status, 200);
  EXPECT_EQ(o.headers_calls, 1);
  EXPECT_EQ(o.header_status, 200);
  EXPECT_FALSE(o.data_before_headers);
  EXPECT_TRUE(o.on_io_thread);
  EXPECT_EQ(o.done_calls, 1);
  EXPECT_EQ(o.body, R"({"model":"m","messages":[]})");
  EXPECT_EQ(header_value(o.headers, "x-test"), "padded");
  EXPECT_EQ(header_value(o.headers, "X-Method"), "POST");
  ASSERT_FALSE(o.headers.empty());
  EXPECT_EQ(o.headers[0].first, "Content-Type");  // names as received
  EXPECT_GT(o.result.bytes_sent, 0u);
  EXPECT_GT(o.result.bytes_received, 0u);
  EXPECT_EQ(o.result.bytes_sent, srv.bytes_in());
  EXPECT_EQ(o.result.bytes_received, srv.bytes_out_settled(o.result.bytes_received));
  EXPECT_GT(o.result.total_ms, 0.0);
  EXPECT_TRUE(o.result.error.empty());

  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const std::string& raw = reqs[0];
  EXPECT_EQ(raw.rfind("POST /echo HTTP/1.1\r\n", 0), 0u) << raw;
  EXPECT_FALSE(has_line_ci(raw, "Expect:")) << raw;
  EXPECT_FALSE(has_line_ci(raw, "Accept:")) << raw;
  EXPECT_TRUE(has_line_ci(raw, "X-Second: two\r\n")) << raw;
  EXPECT_TRUE(has_line_ci(raw, "X-Empty:")) << raw;
  EXPECT_LT(raw.find("X-First"), raw.find("X-Second")) << raw;
  EXPECT_TRUE(has_line_ci(raw, "Content-Length: 27\r\n")) << raw;
}

TEST(Transport, EmptyPostGetsNoDefaultContentType) {
  MiniServer srv;
  Outcome o;
  Transport tr;
  Request r;
  r.method = "POST";
  r.url = srv.url("/echo");
  start(tr, o, std::move(r));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(has_line_ci(reqs[0], "Content-Length: 0\r\n")) << reqs[0];
  EXPECT_FALSE(has_line_ci(reqs[0], "Content-Type:")) << reqs[0];
}

TEST(Transport, GetSendsNoBody) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  Request r = get(srv.url("/echo"));
  r.headers = {{"Accept", "application/json"}};
  start(tr, o, std::move(r));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.result.http_status, 200);
  EXPECT_EQ(header_value(o.headers, "X-Method"), "GET");
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].rfind("GET /echo HTTP/1.1\r\n", 0), 0u) << reqs[0];
  EXPECT_FALSE(has_line_ci(reqs[0], "Content-Length:")) << reqs[0];
  EXPECT_FALSE(has_line_ci(reqs[0], "Content-Type:")) << reqs[0];
  EXPECT_TRUE(has_line_ci(reqs[0], "Accept: application/json\r\n")) << reqs[0];
}

// An asynchronous submit on an idle transport sends its request from the
// submitting thread (kick), then hands the loop to the I/O thread. Here the
// answer is in the socket before the request leaves, so curl reads it during
// that turn: still no callback may run on the submitting thread, and the
// answer must arrive whole, headers first.
TEST(Transport, ASubmitOnAnIdleLoopRunsNoCallbackOnTheSubmittingThread) {
  MiniServer srv;
  Transport tr;
  for (int round = 0; round < 20; ++round) {
    {
      Outcome o;
      start(tr, o, get(srv.url("/ahead?ms=20")));
      ASSERT_TRUE(o.wait());
      ASSERT_EQ(o.body, "first");
    }
    // The answer ahead is sent 20 ms after the first; the loop parks meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    Outcome o;
    o.submitter = std::this_thread::get_id();
    start(tr, o, get(srv.url("/echo")));
    ASSERT_TRUE(o.wait());
    std::lock_guard<std::mutex> lock(o.mu);
    EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
    EXPECT_EQ(o.body, "ahead");
    EXPECT_EQ(o.headers_calls, 1);
    EXPECT_FALSE(o.data_before_headers);
    EXPECT_FALSE(o.on_submitter) << "round " << round;
  }
  EXPECT_EQ(srv.connections(), 1u);  // curl took the connection with the answer waiting in it
}

TEST(Transport, KeepAliveReusesOneConnection) {
  MiniServer srv;
  Transport tr;
  for (int i = 0; i < 5; ++i) {
    Outcome o;
    start(tr, o, post(srv.url("/echo"), "n" + std::to_string(i)));
    ASSERT_TRUE(o.wait());
    EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
    EXPECT_EQ(o.body, "n" + std::to_string(i));
  }
  EXPECT_EQ(srv.connections(), 1u);
  EXPECT_EQ(srv.requests().size(), 5u);
}

// Raises the soft limit on open files to at least `want` if the hard limit allows.
bool ensure_fd_limit(rlim_t want) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= want) return true;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) return false;
  rl.rlim_cur = want;
  return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

TEST(Transport, ThousandConcurrentTransfersOnOneThread) {
  // 1,000 client sockets plus the in-process server's 1,000.
  if (!ensure_fd_limit(2300)) GTEST_SKIP() << "RLIMIT_NOFILE too low for 2,000 sockets";
  MiniServer srv;
  std::vector<std::unique_ptr<Outcome>> outs, again;
  Transport tr;
  constexpr int kN = 1000;
  auto t0 = Clock::now();
  for (int i = 0; i < kN; ++i) {
    outs.push_back(std::make_unique<Outcome>());
    start(tr, *outs.back(), post(srv.url("/delay?ms=100"), std::to_string(i)));
  }
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(outs[i]->wait(30000)) << i;
    EXPECT_EQ(outs[i]->result.status, LLM_OK) << outs[i]->result.error;
    EXPECT_EQ(outs[i]->body, "late");
  }
  // All in flight at once: far faster than 1,000 x 100 ms one after another
  // (generous for sanitizer builds on a busy machine).
  EXPECT_LT(ms_since(t0), 20000);
  EXPECT_GE(srv.connections(), 100u);
  // The connections stay cached: a second wave opens (almost) none.
  size_t before = srv.connections();
  for (int i = 0; i < 200; ++i) {
    again.push_back(std::make_unique<Outcome>());
    start(tr, *again.back(), post(srv.url("/echo"), "x"));
  }
  for (auto& o : again) {
    ASSERT_TRUE(o->wait(20000));
    EXPECT_EQ(o->result.status, LLM_OK) << o->result.error;
  }
  EXPECT_EQ(srv.connections(), before);
}

TEST(Transport, CancelBeforeItRuns) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  auto t0 = Clock::now();
  uint64_t id = start(tr, o, post(srv.url("/delay?ms=2000")));
  tr.cancel(id);
  tr.cancel(id);        // twice: still one on_done
  tr.cancel(id + 999);  // unknown ids are ignored
  tr.cancel(0);
  ASSERT_TRUE(o.wait());
  EXPECT_LT(ms_since(t0), 5000);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard<std::mutex> lock(o.mu);
  EXPECT_EQ(o.result.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(o.done_calls, 1);
  EXPECT_EQ(o.headers_calls, 0);
}

TEST(Transport, CancelWhileRunningFromAnotherThread) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  uint64_t id = start(tr, o, post(srv.url("/delay?ms=3000")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto t0 = Clock::now();
  std::thread([&] { tr.cancel(id); }).join();
  ASSERT_TRUE(o.wait());
  EXPECT_LT(ms_since(t0), 5000);
  EXPECT_EQ(o.result.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(o.done_calls, 1);
  EXPECT_EQ(srv.connections(), 1u);
}

TEST(Transport, CancelFromInsideOnData) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  o.data_hook = [](Outcome& self, const char*, size_t) {
    self.transport->cancel(self.id.load());
    return true;
  };
  start(tr, o, get(srv.url("/stream?n=5&gap=20&start=50")));
  ASSERT_TRUE(o.wait());
  std::this_thread::sleep_for(std::chrono::milliseconds(80));  // no late data
  std::lock_guard<std::mutex> lock(o.mu);
  EXPECT_EQ(o.result.status, LLM_ERR_CANCELLED) << o.result.error;
  EXPECT_EQ(o.data_calls, 1);
  EXPECT_EQ(o.done_calls, 1);
  EXPECT_EQ(o.result.http_status, 200);
}

TEST(Transport, CancelAnotherTransferFromInsideACallback) {
  MiniServer srv;
  Outcome victim, killer;
  Transport tr;
  uint64_t victim_id = start(tr, victim, get(srv.url("/stream?n=50&gap=10")));
  killer.data_hook = [&](Outcome& self, const char*, size_t) {
    self.transport->cancel(victim_id);
    return true;
  };
  start(tr, killer, get(srv.url("/stream?n=2&gap=10&start=60")));
  ASSERT_TRUE(victim.wait());
  ASSERT_TRUE(killer.wait());
  EXPECT_EQ(victim.result.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(killer.result.status, LLM_OK) << killer.result.error;
  EXPECT_EQ(killer.body, "chunk0\nchunk1\n");
}

TEST(Transport, OnDataFalseAborts) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  o.data_hook = [](Outcome&, const char*, size_t) { return false; };
  start(tr, o, get(srv.url("/stream?n=5&gap=20")));
  ASSERT_TRUE(o.wait());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard<std::mutex> lock(o.mu);
  EXPECT_EQ(o.result.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(o.data_calls, 1);
  EXPECT_EQ(o.done_calls, 1);
}

TEST(Transport, ConnectRefusedIsANetworkError) {
  // A port with nobody listening: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);

  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  Request r = post("http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions");
  r.headers.push_back({"Authorization", "Bearer sk-secret-value"});
  start(tr, o, std::move(r));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_ERR_NETWORK) << o.result.error;
  EXPECT_EQ(o.result.http_status, 0);
  EXPECT_NE(o.result.error.find("127.0.0.1"), std::string::npos) << o.result.error;
  EXPECT_EQ(o.result.error.find("sk-secret"), std::string::npos) << o.result.error;
  EXPECT_EQ(o.headers_calls, 0);
}

TEST(Transport, TlsFailureIsANetworkError) {
  MiniServer srv;  // speaks plain HTTP: the TLS handshake cannot succeed
  Outcome o;
  Transport tr;
  std::string url = srv.url("/echo");
  url.replace(0, 4, "https");
  start(tr, o, get(url), 2000);
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_ERR_NETWORK) << o.result.error;
  EXPECT_NE(o.result.error.find("127.0.0.1"), std::string::npos) << o.result.error;
}

TEST(Transport, TotalTimeout) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  auto t0 = Clock::now();
  start(tr, o, post(srv.url("/delay?ms=3000")), 200);
  ASSERT_TRUE(o.wait());
  long took = ms_since(t0);
  EXPECT_EQ(o.result.status, LLM_ERR_TIMEOUT) << o.result.error;
  EXPECT_GE(took, 180);
  EXPECT_LT(took, 1500);
}

TEST(Transport, IdleTimeoutOnAStalledBody) {
  MiniServer srv;
  TransportOptions opts;
  opts.idle_timeout_ms = 200;
  Outcome o;
  Transport tr(opts);
  auto t0 = Clock::now();
  start(tr, o, get(srv.url("/stall")));
  ASSERT_TRUE(o.wait());
  long took = ms_since(t0);
  std::lock_guard<std::mutex> lock(o.mu);
  EXPECT_EQ(o.result.status, LLM_ERR_TIMEOUT) << o.result.error;
  EXPECT_NE(o.result.error.find("idle"), std::string::npos) << o.result.error;
  EXPECT_EQ(o.result.http_status, 200);
  EXPECT_EQ(o.headers_calls, 1);
  EXPECT_EQ(o.body, "0123456789");
  EXPECT_GE(took, 190);
  EXPECT_LT(took, 5000);
}

TEST(Transport, IdleTimeoutSparesASteadyStream) {
  MiniServer srv;
  TransportOptions opts;
  opts.idle_timeout_ms = 200;
  Outcome o;
  Transport tr(opts);
  // 4 chunks 100 ms apart: 300 ms in all, never 200 ms of silence.
  start(tr, o, get(srv.url("/stream?n=4&gap=100")));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.body, "chunk0\nchunk1\nchunk2\nchunk3\n");
  // Counted as received on the wire: chunked framing included.
  EXPECT_EQ(o.result.bytes_sent, srv.bytes_in());
  EXPECT_EQ(o.result.bytes_received, srv.bytes_out_settled(o.result.bytes_received));
}

TEST(Transport, PauseInsideOnDataThenResume) {
  MiniServer srv;
  TransportOptions opts;
  opts.idle_timeout_ms = 200;  // shorter than the pause: it must not fire while paused
  Outcome o;
  Transport tr(opts);
  o.data_hook = [](Outcome& self, const char*, size_t) {
    if (self.data_calls == 1) self.transport->pause(self.id.load());
    return true;
  };
  start(tr, o, get(srv.url("/stream?n=4&gap=20&start=30")));
  ASSERT_TRUE(o.wait_for([](Outcome& s) { return s.data_calls >= 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard<std::mutex> lock(o.mu);
    EXPECT_EQ(o.data_calls, 1);
    EXPECT_EQ(o.body, "chunk0\n");
    EXPECT_EQ(o.done_calls, 0);
  }
  tr.resume(o.id.load());
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.body, "chunk0\nchunk1\nchunk2\nchunk3\n");
}

TEST(Transport, PauseAndResumeFromAnotherThread) {
  MiniServer srv;
  TransportOptions opts;
  opts.idle_timeout_ms = 200;
  Outcome o;
  Transport tr(opts);
  // Headers at once, the first chunk 100 ms later.
  uint64_t id = start(tr, o, get(srv.url("/stream?n=3&gap=10&first=100")));
  ASSERT_TRUE(o.wait_for([](Outcome& s) { return s.headers_calls == 1; }));
  tr.pause(id);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard<std::mutex> lock(o.mu);
    EXPECT_EQ(o.data_calls, 0);
    EXPECT_EQ(o.done_calls, 0);
  }
  tr.resume(id);
  tr.resume(id);  // harmless twice
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.body, "chunk0\nchunk1\nchunk2\n");
}

TEST(Transport, InvalidHeadersAreRefusedWithoutTheirValue) {
  MiniServer srv;
  Transport tr;
  struct Case {
    std::string name, value, expect_in_message;
  };
  std::vector<Case> cases = {
      {"Authorization", "Bearer sk-sekrit\r\nX-Injected: yes", "Authorization"},
      {"X-Nul", std::string("sk-sekrit\0tail", 14), "X-Nul"},
      {"X-Lf", "sk-sekrit\nmore", "X-Lf"},
      {"X Space", "sk-sekrit", "X Space"},
      {"X:Colon", "sk-sekrit", "X:Colon"},
      {"", "sk-sekrit", "empty"},
      {"X-Cr\r\nEvil", "sk-sekrit", "X-Cr"},
  };
  for (auto& c : cases) {
    Outcome o;
    Request r = post(srv.url("/echo"));
    r.headers.push_back({c.name, c.value});
    EXPECT_NE(start(tr, o, std::move(r)), 0u);
    ASSERT_TRUE(o.wait());
    std::lock_guard<std::mutex> lock(o.mu);
    EXPECT_EQ(o.result.status, LLM_ERR_INVALID_HEADER) << c.expect_in_message;
    EXPECT_NE(o.result.error.find(c.expect_in_message), std::string::npos) << o.result.error;
    EXPECT_EQ(o.result.error.find("sekrit"), std::string::npos) << o.result.error;
    EXPECT_EQ(o.result.error.find("Injected"), std::string::npos) << o.result.error;
    EXPECT_EQ(o.result.error.find('\n'), std::string::npos) << o.result.error;
    EXPECT_EQ(o.done_calls, 1);
    EXPECT_EQ(o.headers_calls, 0);
  }
  EXPECT_EQ(srv.connections(), 0u);
}

TEST(Transport, InterimResponsesAreSkipped) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  start(tr, o, get(srv.url("/continue")));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.headers_calls, 1);
  EXPECT_EQ(o.header_status, 200);
  EXPECT_EQ(header_value(o.headers, "X-Final"), "1");
  EXPECT_EQ(header_value(o.headers, "X-Interim"), "<absent>");
  EXPECT_EQ(o.body, "after-continue");
}

TEST(Transport, NoBodyStillRunsOnHeadersFirst) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  start(tr, o, get(srv.url("/nocontent")));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.result.http_status, 204);
  EXPECT_EQ(o.headers_calls, 1);
  EXPECT_EQ(o.header_status, 204);
  EXPECT_EQ(header_value(o.headers, "X-Empty"), "yes");
  EXPECT_EQ(o.data_calls, 0);
}

TEST(Transport, HttpErrorStatusIsStillOk) {
  MiniServer srv;
  Outcome o;  // declared before the transport, which may still call into it
  Transport tr;
  start(tr, o, get(srv.url("/no-such-path")));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_OK) << o.result.error;
  EXPECT_EQ(o.result.http_status, 404);
  EXPECT_EQ(o.body, "{}");
}

TEST(Transport, ExceptionsInCallbacksBecomeInternalErrors) {
  MiniServer srv;
  Transport tr;
  {
    Outcome o;
    o.data_hook = [](Outcome&, const char*, size_t) -> bool { throw std::runtime_error("boom in data"); };
    start(tr, o, get(srv.url("/stream?n=3&gap=10")));
    ASSERT_TRUE(o.wait());
    EXPECT_EQ(o.result.status, LLM_ERR_INTERNAL);
    EXPECT_NE(o.result.error.find("boom in data"), std::string::npos) << o.result.error;
    EXPECT_EQ(o.data_calls, 1);
  }
  {
    Outcome o;
    Callbacks cb = o.callbacks(&tr);
    cb.on_headers = [](long, const Headers&) { throw std::runtime_error("boom in headers"); };
    tr.submit(get(srv.url("/echo")), std::move(cb), 0);
    ASSERT_TRUE(o.wait());
    EXPECT_EQ(o.result.status, LLM_ERR_INTERNAL);
    EXPECT_NE(o.result.error.find("boom in headers"), std::string::npos) << o.result.error;
    EXPECT_EQ(o.data_calls, 0);
  }
  {
    // A throwing on_done is contained; the transport goes on working.
    std::atomic<bool> ran{false};
    Callbacks cb;
    cb.on_done = [&](const Result&) {
      ran = true;
      throw std::runtime_error("boom in done");
    };
    tr.submit(get(srv.url("/echo")), std::move(cb), 0);
    Outcome o;
    start(tr, o, get(srv.url("/echo")));
    ASSERT_TRUE(o.wait());
    EXPECT_EQ(o.result.status, LLM_OK);
    for (int i = 0; i < 100 && !ran; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(ran);
  }
}

TEST(Transport, SubmitFromInsideACallback) {
  MiniServer srv;
  Outcome second, first;
  Transport tr;
  first.done_hook = [&](Outcome& self) {
    self.transport->submit(post(srv.url("/echo"), "second"), second.callbacks(self.transport), 0);
  };
  start(tr, first, post(srv.url("/echo"), "first"));
  ASSERT_TRUE(first.wait());
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(first.body, "first");
  EXPECT_EQ(second.body, "second");
  EXPECT_EQ(second.result.status, LLM_OK) << second.result.error;
  EXPECT_EQ(srv.connections(), 1u);  // the second reused the first's connection
}

TEST(Transport, DestructorCancelsEverythingInFlight) {
  MiniServer srv;
  constexpr int kN = 20;
  std::vector<std::unique_ptr<Outcome>> outs;
  Outcome late;  // submitted from an on_done while the transport shuts down
  std::atomic<uint64_t> late_id{12345};
  std::atomic<bool> late_on_same_thread{false};
  auto t0 = Clock::now();
  {
    auto tr = std::make_unique<Transport>();
    for (int i = 0; i < kN; ++i) {
      outs.push_back(std::make_unique<Outcome>());
      start(*tr, *outs.back(), post(srv.url("/delay?ms=5000")));
    }
    outs[0]->done_hook = [&](Outcome& self) {
      Callbacks cb = late.callbacks(nullptr);
      auto done = cb.on_done;
      auto me = std::this_thread::get_id();
      cb.on_done = [&, done, me](const Result& r) {
        late_on_same_thread = std::this_thread::get_id() == me;
        done(r);
      };
      late_id = self.transport->submit(post(srv.url("/echo")), std::move(cb), 0);
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // and some queued at the very end
    for (int i = 0; i < 5; ++i) {
      outs.push_back(std::make_unique<Outcome>());
      start(*tr, *outs.back(), post(srv.url("/delay?ms=5000")));
    }
    tr.reset();
  }
  EXPECT_LT(ms_since(t0), 5000);
  for (auto& o : outs) {
    std::lock_guard<std::mutex> lock(o->mu);
    EXPECT_EQ(o->done_calls, 1);
    EXPECT_EQ(o->result.status, LLM_ERR_CANCELLED);
  }
  EXPECT_EQ(late_id.load(), 0u);
  EXPECT_EQ(late.done_calls, 1);
  EXPECT_EQ(late.result.status, LLM_ERR_CANCELLED);
  EXPECT_TRUE(late_on_same_thread.load());
}

TEST(Transport, BadUrlsAreInvalidArguments) {
  Outcome a, b;
  Transport tr;
  start(tr, a, get("ftp://127.0.0.1/file"));
  start(tr, b, get("http://[::1"));
  ASSERT_TRUE(a.wait());
  ASSERT_TRUE(b.wait());
  EXPECT_EQ(a.result.status, LLM_ERR_INVALID_ARGUMENT) << a.result.error;
  EXPECT_EQ(b.result.status, LLM_ERR_INVALID_ARGUMENT) << b.result.error;
  EXPECT_FALSE(a.result.error.empty());
}

TEST(Transport, AServerThatBreaksHttpIsANetworkError) {
  // Was a bug (fixed): these came back as LLM_ERR_INVALID_ARGUMENT (the caller's fault),
  // LLM_ERR_INTERNAL (a library bug) or LLM_OK with a 200 and no body.
  MiniServer srv;
  Transport tr;
  for (const char* kind : {"garbage", "nostatus", "longstatus", "twodigits", "cut", "conflict", "longline"}) {
    Outcome o;
    start(tr, o, post(srv.url(std::string("/raw?kind=") + kind)));
    ASSERT_TRUE(o.wait()) << kind;
    std::lock_guard<std::mutex> lock(o.mu);
    EXPECT_EQ(o.result.status, LLM_ERR_NETWORK) << kind << ": " << o.result.error;
    EXPECT_FALSE(o.result.error.empty()) << kind;
    EXPECT_EQ(o.data_calls, 0) << kind;
  }
}

TEST(Transport, ResponseHeadersAreCapped) {
  MiniServer srv;
  TransportOptions opts;
  opts.max_header_bytes = 2048;  // the answer has about 4.4 KB of headers
  Transport tr(opts);
  Outcome o;
  start(tr, o, post(srv.url("/raw?kind=manyheaders")));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_ERR_NETWORK) << o.result.error;
  EXPECT_NE(o.result.error.find("max_header_bytes (2048 bytes)"), std::string::npos) << o.result.error;
  Transport roomy;  // the default (256 KiB) takes them
  Outcome ok;
  start(roomy, ok, post(srv.url("/raw?kind=manyheaders")));
  ASSERT_TRUE(ok.wait());
  EXPECT_EQ(ok.result.status, LLM_OK) << ok.result.error;
  EXPECT_EQ(ok.body, "{}");
}

TEST(Transport, TheIdleClockCanCoverTheWaitForHeaders) {
  MiniServer srv;
  TransportOptions opts;
  opts.idle_timeout_ms = 200;
  Transport tr(opts);
  Outcome streamed, plain;
  auto t0 = Clock::now();
  tr.submit(post(srv.url("/silent")), streamed.callbacks(&tr), literllm::http::Timing{5000, true});
  tr.submit(post(srv.url("/silent")), plain.callbacks(&tr), literllm::http::Timing{900, false});
  ASSERT_TRUE(streamed.wait());
  long took = ms_since(t0);
  EXPECT_EQ(streamed.result.status, LLM_ERR_TIMEOUT) << streamed.result.error;
  EXPECT_NE(streamed.result.error.find("idle"), std::string::npos) << streamed.result.error;
  EXPECT_GE(took, 190);
  EXPECT_LT(took, 800);
  // Without it, only the total timeout ends the wait.
  ASSERT_TRUE(plain.wait());
  EXPECT_EQ(plain.result.status, LLM_ERR_TIMEOUT) << plain.result.error;
  EXPECT_GE(ms_since(t0), 850);
}

TEST(Transport, ReservedAndOversizedHeadersAreRefusedBeforeSending) {
  MiniServer srv;
  Transport tr;
  for (const char* name : {"Content-Length", "Transfer-Encoding", "Host", "Expect", "Accept-Encoding", ":path"}) {
    Outcome o;
    Request r = post(srv.url("/echo"));
    r.headers.push_back({name, "1"});
    start(tr, o, std::move(r));
    ASSERT_TRUE(o.wait());
    EXPECT_EQ(o.result.status, LLM_ERR_INVALID_HEADER) << name;
    EXPECT_NE(o.result.error.find(name), std::string::npos) << o.result.error;
  }
  Outcome big;
  Request r = post(srv.url("/echo"));
  r.headers.push_back({"X-Big", std::string(literllm::http::kMaxRequestHeaderBytes, 'v')});
  start(tr, big, std::move(r));
  ASSERT_TRUE(big.wait());
  EXPECT_EQ(big.result.status, LLM_ERR_INVALID_HEADER);
  EXPECT_NE(big.result.error.find("more than the limit"), std::string::npos) << big.result.error;
  EXPECT_EQ(srv.connections(), 0u);
}

TEST(Transport, TheDeadlineHoldsWhileDataKeepsComing) {
  // 400 chunks 5 ms apart: always something to read, never idle; the total
  // timeout still ends it on time.
  MiniServer srv;
  Transport tr;
  Outcome o;
  auto t0 = Clock::now();
  start(tr, o, get(srv.url("/stream?n=400&gap=5")), 300);
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.status, LLM_ERR_TIMEOUT) << o.result.error;
  EXPECT_LT(ms_since(t0), 1000);
  EXPECT_GT(o.data_calls, 5);
}

TEST(Transport, ScheduleRunsOnTheIoThreadInDueOrder) {
  std::mutex mu;
  std::vector<std::string> order;
  std::vector<long> at_ms;
  bool all_on_io = true;
  Transport tr;
  auto t0 = Clock::now();
  auto note = [&](const char* what) {
    return [&, what] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(what);
      at_ms.push_back(ms_since(t0));
      all_on_io = all_on_io && tr.on_io_thread();
    };
  };
  tr.schedule(120, note("late"));
  tr.schedule(0, note("now"));
  tr.schedule(40, note("soon"));
  tr.schedule(-5, note("negative"));  // as 0
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (order.size() == 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0], "now");
  EXPECT_EQ(order[1], "negative");
  EXPECT_EQ(order[2], "soon");
  EXPECT_EQ(order[3], "late");
  EXPECT_GE(at_ms[2], 40);
  EXPECT_GE(at_ms[3], 120);
  EXPECT_LT(at_ms[3], 5000);
  EXPECT_TRUE(all_on_io);
}

TEST(Transport, ScheduledFunctionsRunOnceDuringShutdown) {
  MiniServer srv;
  std::atomic<int> runs{0};
  std::atomic<uint64_t> inner_id{99};
  Outcome inner;
  auto t0 = Clock::now();
  {
    Transport tr;
    tr.schedule(10'000, [&] {
      ++runs;
      // During shutdown: a submit completes as cancelled, on the spot.
      inner_id = tr.submit(post(srv.url("/echo")), inner.callbacks(nullptr), 0);
    });
  }
  EXPECT_LT(ms_since(t0), 5000);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(inner_id.load(), 0u);
  EXPECT_EQ(inner.done_calls, 1);
  EXPECT_EQ(inner.result.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(srv.connections(), 0u);
}

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST(Transport, IdleLoopUsesNoCpu) {
  MiniServer srv;
  TransportOptions opts;
  opts.idle_timeout_ms = 5000;
  // One transfer stalled mid-body (the idle timer is armed), one paused.
  Outcome stalled, paused;
  Transport tr(opts);
  start(tr, stalled, get(srv.url("/stall")));
  uint64_t pid = start(tr, paused, get(srv.url("/stream?n=3&first=50")));
  ASSERT_TRUE(paused.wait_for([](Outcome& s) { return s.headers_calls == 1; }));
  tr.pause(pid);
  ASSERT_TRUE(stalled.wait_for([](Outcome& s) { return s.data_calls == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  double c0 = cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double used = cpu_seconds() - c0;
  EXPECT_LT(used, 0.15) << "CPU seconds used while idle: " << used;
  tr.resume(pid);
  ASSERT_TRUE(paused.wait());
  EXPECT_EQ(paused.result.status, LLM_OK) << paused.result.error;
}

// ------------------------------------------------------------ run_blocking

// The I/O thread parks once it has nothing to do; give it the moment it needs
// after the transport starts (or after its last transfer), so that a blocking
// caller finds the loop idle.
void let_loop_park() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

// One transfer through run_blocking, and what its callbacks saw.
struct Blocked {
  Result res;
  std::string body;
  std::thread::id done_on;
  bool on_loop_thread = false;  // tr.on_io_thread() inside on_done
};

Blocked run_blocking(Transport& tr, Request req) {
  Blocked b;
  literllm::http::Waiter w;
  tr.run_blocking(
      [&] {
        Callbacks cb;
        cb.on_data = [&](const char* p, size_t n) {
          b.body.append(p, n);
          return true;
        };
        cb.on_done = [&](const Result& r) {
          b.res = r;
          b.done_on = std::this_thread::get_id();
          b.on_loop_thread = tr.on_io_thread();
          w.notify();
        };
        tr.submit(std::move(req), std::move(cb), 0);
      },
      w);
  return b;
}

TEST(TransportRunBlocking, RunsTheLoopOnTheCallerWhenIdle) {
  MiniServer srv;
  Transport tr;
  let_loop_park();
  for (int round = 0; round < 3; ++round) {  // again and again: the loop parks after each
    SCOPED_TRACE(round);
    Blocked b = run_blocking(tr, post(srv.url("/echo"), "ping"));
    EXPECT_EQ(b.res.status, LLM_OK) << b.res.error;
    EXPECT_EQ(b.body, "ping");
    EXPECT_EQ(b.done_on, std::this_thread::get_id()) << "the caller ran the loop itself";
    EXPECT_TRUE(b.on_loop_thread);
    EXPECT_FALSE(tr.on_io_thread()) << "and gave it back";
  }
  EXPECT_EQ(srv.connections(), 1u) << "one kept-alive connection, whichever thread ran the loop";
}

TEST(TransportRunBlocking, TimersAndRetriesRunOnTheCallersLoop) {
  MiniServer srv;
  Transport tr;
  let_loop_park();
  literllm::http::Waiter w;
  std::vector<std::thread::id> threads;
  std::vector<llm_status> statuses;
  auto t0 = Clock::now();
  std::function<void(int)> attempt = [&](int n) {
    Callbacks cb;
    cb.on_done = [&, n](const Result& r) {
      threads.push_back(std::this_thread::get_id());
      statuses.push_back(r.status);
      if (n < 2) {
        tr.schedule(30, [&, n] { attempt(n + 1); });  // a retry after a backoff
      } else {
        w.notify();
      }
    };
    tr.submit(get(srv.url("/echo")), std::move(cb), 0);
  };
  tr.run_blocking([&] { attempt(0); }, w);
  EXPECT_GE(ms_since(t0), 60);
  ASSERT_EQ(threads.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(statuses[i], LLM_OK);
    EXPECT_EQ(threads[i], std::this_thread::get_id());
  }
}

TEST(TransportRunBlocking, GivesTheLoopBackWhenAnotherThreadSubmits) {
  MiniServer srv;
  Transport tr;
  let_loop_park();
  literllm::http::Waiter w;
  Result slow;
  Clock::time_point slow_done{};
  Outcome other;
  std::thread::id other_data_on, other_done_on;
  other.data_hook = [&](Outcome&, const char*, size_t) {
    other_data_on = std::this_thread::get_id();
    return true;
  };
  other.done_hook = [&](Outcome&) { other_done_on = std::this_thread::get_id(); };
  std::thread submitter;
  tr.run_blocking(
      [&] {
        Callbacks cb;
        cb.on_done = [&](const Result& r) {
          slow = r;
          slow_done = Clock::now();
          w.notify();
        };
        tr.submit(get(srv.url("/delay?ms=400")), std::move(cb), 0);
        // While this thread runs the loop for the slow transfer, another submits.
        submitter = std::thread([&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          start(tr, other, post(srv.url("/echo"), "other"));
        });
      },
      w);
  submitter.join();
  ASSERT_TRUE(other.wait());
  EXPECT_EQ(slow.status, LLM_OK) << slow.error;
  EXPECT_EQ(other.result.status, LLM_OK) << other.result.error;
  EXPECT_EQ(other.body, "other");
  EXPECT_TRUE(other.on_io_thread);
  EXPECT_NE(other_data_on, std::this_thread::get_id()) << "another thread's callbacks never run on a blocking caller";
  EXPECT_NE(other_done_on, std::this_thread::get_id());
  EXPECT_LT(other.done_at, slow_done) << "the other transfer did not wait for the blocking one";
}

TEST(TransportRunBlocking, WaitsOnTheIoThreadWhenTheLoopIsBusy) {
  MiniServer srv;
  Transport tr;
  Outcome busy;
  start(tr, busy, get(srv.url("/delay?ms=300")));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the I/O thread is running it
  Blocked b = run_blocking(tr, post(srv.url("/echo")));
  EXPECT_EQ(b.res.status, LLM_OK) << b.res.error;
  EXPECT_NE(b.done_on, std::this_thread::get_id()) << "the I/O thread ran it";
  ASSERT_TRUE(busy.wait());
  EXPECT_EQ(busy.result.status, LLM_OK);
}

TEST(TransportRunBlocking, CancelFromAnotherThreadEndsTheCallersTransfer) {
  MiniServer srv;
  Transport tr;
  let_loop_park();
  literllm::http::Waiter w;
  Result res;
  std::atomic<uint64_t> id{0};
  std::thread canceller;
  auto t0 = Clock::now();
  tr.run_blocking(
      [&] {
        Callbacks cb;
        cb.on_done = [&](const Result& r) {
          res = r;
          w.notify();
        };
        id = tr.submit(get(srv.url("/stall")), std::move(cb), 0);
        canceller = std::thread([&] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          tr.cancel(id);
        });
      },
      w);
  canceller.join();
  EXPECT_EQ(res.status, LLM_ERR_CANCELLED);
  EXPECT_LT(ms_since(t0), 3000);
}

TEST(TransportRunBlocking, AStartThatThrowsLeavesTheLoopUsable) {
  MiniServer srv;
  Transport tr;
  let_loop_park();
  literllm::http::Waiter never;
  EXPECT_THROW(tr.run_blocking([] { throw std::runtime_error("refused"); }, never), std::runtime_error);
  Outcome o;
  start(tr, o, post(srv.url("/echo"), "after"));
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.body, "after");
  let_loop_park();
  EXPECT_EQ(run_blocking(tr, post(srv.url("/echo"))).res.status, LLM_OK);
}

TEST(TransportRunBlocking, ManyThreadsAtOnce) {
  MiniServer srv;
  Transport tr;
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 8; ++k) {
    ts.emplace_back([&, k] {
      for (int i = 0; i < 25; ++i) {
        std::string want = std::to_string(k) + ":" + std::to_string(i);
        Blocked b = run_blocking(tr, post(srv.url("/echo"), want));
        if (b.res.status == LLM_OK && b.body == want) ++ok;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
