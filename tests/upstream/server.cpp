// The local upstream's network side: one io_context on one thread, an async
// accept loop, and a session per connection that reads requests with Beast's
// parser and writes responses by hand (sized, or chunked one event per write;
// generated bodies a batch per write, made as the previous write completes).
// The only translation unit that includes Boost.Beast.
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>

#include "google_token.hpp"
#include "gzip.hpp"
#include "handler.hpp"
#include "upstream.hpp"

namespace literllm::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr uint64_t kBodyLimit = 64ull * 1024 * 1024;
constexpr uint32_t kHeaderLimit = 1u << 20;
constexpr size_t kBatchBytes = 64 * 1024;  // generated events per write

class Session;

}  // namespace

struct Upstream::Impl {
  explicit Impl(UpstreamOptions o) : opts(std::move(o)), handler(opts) {}

  UpstreamOptions opts;
  detail::Handler handler;
  net::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_retry;
  std::thread thread;
  std::mutex life_mu;  // start/stop
  bool running = false;
  std::atomic<uint16_t> port{0};
  std::atomic<size_t> accepted{0}, open{0};
  // io thread only:
  bool stopping = false;
  std::unordered_set<Session*> sessions;

  void do_accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Upstream::Impl& srv, tcp::socket sock) : srv_(srv), sock_(std::move(sock)), timer_(srv.ioc) {
    srv_.open.fetch_add(1);
    srv_.sessions.insert(this);
  }
  ~Session() {
    srv_.sessions.erase(this);
    srv_.open.fetch_sub(1);
  }

  void start() { read_request(); }

  // Server stop: abandon whatever is in flight.
  void shutdown() {
    timer_.cancel();
    error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

 private:
  void read_request() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    parser_->header_limit(kHeaderLimit);
    http::async_read_header(sock_, buf_, *parser_,
                            [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec) return on_read_error(ec);
    auto& msg = parser_->get();
    auto expect = msg[http::field::expect];
    if (expect.size() == 12 && beast::iequals(expect, "100-continue") && !parser_->is_done()) {
      out_ = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(sock_, net::buffer(out_), [self = shared_from_this()](error_code ec, size_t) {
        if (ec || self->srv_.stopping) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    http::async_read(sock_, buf_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->on_request();
    });
  }

  void on_read_error(error_code ec) {
    // The peer went away (or the server is stopping): nothing to answer.
    const auto& http_category = beast::http::make_error_code(http::error::end_of_stream).category();
    if (srv_.stopping || ec.category() != http_category || ec == http::error::end_of_stream ||
        ec == http::error::partial_message)
      return close();
    int status = 400;
    std::string why = "malformed HTTP request: " + ec.message();
    if (ec == http::error::body_limit) {
      status = 413;
      why = "request body larger than 64 MiB";
    } else if (ec == http::error::header_limit) {
      status = 431;
      why = "request headers larger than 1 MiB";
    }
    plan_ = detail::Plan{};
    plan_.status = status;
    plan_.headers.emplace_back("content-type", "application/json");
    plan_.body = detail::error_body_for_status(status, why);
    plan_.close = true;
    keep_alive_ = false;
    http11_ = true;
    send_head();
  }

  void on_request() {
    auto& msg = parser_->get();
    RecordedRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    // Absolute form (a request sent through a proxy, which this server then
    // is): routed by its path and query, and recorded as sent.
    if (size_t scheme = req.target.find("://"); scheme != std::string::npos && req.target[0] != '/') {
      req.absolute_target = req.target;
      size_t path = req.target.find_first_of("/?", scheme + 3);
      req.target = path == std::string::npos ? std::string("/") : req.target.substr(path);
      if (req.target[0] == '?') req.target.insert(0, "/");
    }
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    http11_ = msg.version() >= 11;
    parser_.reset();

    plan_ = srv_.handler.handle(std::move(req));
    if (plan_.reset) return reset();
    if (plan_.delay_ms) {
      timer_.expires_after(std::chrono::milliseconds(plan_.delay_ms));
      timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (ec || self->srv_.stopping) return self->close();
        self->send_head();
      });
      return;
    }
    send_head();
  }

  void send_head() {
    if (plan_.gzip && !plan_.stream && !plan_.generate) {
      // A body held whole is compressed whole, so its size is known.
      plan_.body = detail::gzip(plan_.body);
      plan_.gzip = false;
    }
    if (plan_.gzip) gzip_.emplace();
    // A stream, a generated body compressed on the fly, or a body asked to be chunked has no known size.
    bool sized = !plan_.stream && !plan_.chunked && !plan_.gzip;
    chunked_ = !sized && http11_ && !plan_.raw;
    if (!sized && !chunked_) keep_alive_ = false;  // HTTP/1.0: the end of the body is the close
    if (plan_.close || plan_.raw) keep_alive_ = false;
    more_ = !plan_.stream || plan_.generate || !plan_.events.empty();
    if (plan_.raw) return pump();
    out_.clear();
    out_ += http11_ ? "HTTP/1.1 " : "HTTP/1.0 ";
    out_ += std::to_string(plan_.status);
    out_ += ' ';
    out_ += detail::reason_phrase(plan_.status);
    out_ += "\r\n";
    for (const auto& [k, v] : plan_.headers) {
      out_ += k;
      out_ += ": ";
      out_ += v;
      out_ += "\r\n";
    }
    if (chunked_)
      out_ += "transfer-encoding: chunked\r\n";
    else if (sized)
      out_ += "content-length: " + std::to_string(plan_.generate ? plan_.body_size : plan_.body.size()) + "\r\n";
    out_ += keep_alive_ ? "connection: keep-alive\r\n" : "connection: close\r\n";
    out_ += "\r\n";
    if (sized && !plan_.generate) {
      out_ += plan_.body;
      net::async_write(sock_, net::buffer(out_), [self = shared_from_this()](error_code ec, size_t) {
        if (ec || self->srv_.stopping) return self->close();
        self->finish();
      });
      return;
    }
    net::async_write(sock_, net::buffer(out_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec || self->srv_.stopping) return self->close();
      self->pump();
    });
  }

  // One write of the body: the next event (or the whole held body), or as
  // many generated events as fit in kBatchBytes. The write after the last
  // event ends the body unless a cut, a stall or x-upstream-after-done says
  // otherwise.
  void pump() {
    if (reached(plan_.cut_after)) return close();  // abrupt: no end chunk
    if (reached(plan_.stall_after)) return stall();
    data_.clear();
    while (more_) {
      more_ = produce(data_);
      ++sent_;
      if (!generating() || data_.size() >= kBatchBytes || reached(plan_.cut_after) || reached(plan_.stall_after)) break;
    }
    bool ends = !more_ && plan_.after_done == detail::AfterDone::end && !reached(plan_.cut_after) &&
                !reached(plan_.stall_after);
    std::string_view payload = data_;
    if (gzip_) {
      zdata_.clear();
      gzip_->deflate(data_, zdata_, ends ? Z_FINISH : Z_SYNC_FLUSH);
      payload = zdata_;
    }
    std::string_view tail;
    frame_.clear();
    if (chunked_) {
      if (!payload.empty()) {
        char size[32];
        frame_.assign(size, static_cast<size_t>(std::snprintf(size, sizeof size, "%zx\r\n", payload.size())));
        tail = ends ? "\r\n0\r\n\r\n" : "\r\n";
      } else if (ends) {
        tail = "0\r\n\r\n";
      }
    }
    std::array<net::const_buffer, 3> buffers{net::buffer(frame_), net::buffer(payload.data(), payload.size()),
                                             net::buffer(tail.data(), tail.size())};
    net::async_write(sock_, buffers, [self = shared_from_this(), ends](error_code ec, size_t) {
      if (ec || self->srv_.stopping) return self->close();  // a write error: the peer left
      if (ends) return self->finish();
      if (!self->more_) return self->after_body();
      self->next();
    });
  }

  // Appends the next event (or piece of the body) and returns whether another follows.
  bool produce(std::string& out) {
    if (in_after_) return plan_.after(out);
    if (generating()) {
      if (plan_.generate(out)) return true;
      generated_done_ = true;
      return next_event_ < plan_.events.size();
    }
    if (!plan_.stream) {
      out += plan_.body;
      return false;
    }
    out += plan_.events[next_event_++];
    return next_event_ < plan_.events.size();
  }

  // Generated events go many to a write; held ones one each.
  bool generating() const { return in_after_ || (plan_.generate && !generated_done_); }

  bool reached(long limit) const { return plan_.stream && limit >= 0 && sent_ >= static_cast<uint64_t>(limit); }

  void next() {
    if (!plan_.chunk_delay_ms) return pump();
    timer_.expires_after(std::chrono::milliseconds(plan_.chunk_delay_ms));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->srv_.stopping) return self->close();
      self->pump();
    });
  }

  // Every event is written and the body left open: a cut or a stall falls
  // right here, or x-upstream-after-done decides what follows.
  void after_body() {
    if (reached(plan_.cut_after)) return close();
    if (reached(plan_.stall_after)) return stall();
    if (plan_.after_done == detail::AfterDone::hold) return stall();
    if (plan_.after_done == detail::AfterDone::reset) return reset();
    in_after_ = more_ = true;  // AfterDone::more
    next();
  }

  // Silent until the peer goes away or the server stops; whatever it sends is dropped.
  void stall() {
    sock_.async_read_some(net::buffer(sink_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec || self->srv_.stopping) return self->close();
      self->stall();
    });
  }

  // The response is complete: next request, or an orderly close.
  void finish() {
    const bool drop = plan_.drop_idle;  // an idle-connection timeout of zero
    plan_ = detail::Plan{};
    out_.clear();
    out_.shrink_to_fit();
    data_.clear();
    data_.shrink_to_fit();
    zdata_.clear();
    zdata_.shrink_to_fit();
    gzip_.reset();
    sent_ = next_event_ = 0;
    generated_done_ = in_after_ = false;
    if (keep_alive_ && !drop) return read_request();
    error_code ec;
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    // Drain until the peer closes, so unread request bytes do not turn the close into a reset.
    stall();
  }

  void close() {
    timer_.cancel();
    error_code ec;
    sock_.close(ec);
  }

  // A TCP RST instead of an orderly close.
  void reset() {
    timer_.cancel();
    error_code ec;
    sock_.set_option(net::socket_base::linger(true, 0), ec);
    sock_.close(ec);
  }

  Upstream::Impl& srv_;
  tcp::socket sock_;
  net::steady_timer timer_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  detail::Plan plan_;
  std::string out_;           // the response head (and a held body)
  std::string data_, zdata_;  // one write of the body, before and after gzip
  std::string frame_;         // its chunk-size line
  std::optional<detail::Gzip> gzip_;
  std::array<char, 512> sink_{};
  bool keep_alive_ = true;
  bool http11_ = true;
  bool chunked_ = false;
  // Where the body stands: events produced, the next held one, the phase.
  uint64_t sent_ = 0;
  size_t next_event_ = 0;
  bool more_ = false;            // another event (or piece) follows
  bool generated_done_ = false;  // Plan::generate has given its last
  bool in_after_ = false;        // past the last event, into Plan::after
};

}  // namespace

void Upstream::Impl::do_accept() {
  acceptor->async_accept([this](error_code ec, tcp::socket sock) {
    if (stopping || ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      std::fprintf(stderr, "literllm-upstream: accept: %s\n", ec.message().c_str());
      accept_retry->expires_after(std::chrono::milliseconds(20));
      accept_retry->async_wait([this](error_code ec) {
        if (!ec && !stopping) do_accept();
      });
      return;
    }
    accepted.fetch_add(1);
    error_code ignore;
    sock.set_option(tcp::no_delay(true), ignore);
    std::make_shared<Session>(*this, std::move(sock))->start();
    do_accept();
  });
}

Upstream::Upstream(UpstreamOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}

Upstream::~Upstream() { stop(); }

void Upstream::start() {
  std::lock_guard lock(impl_->life_mu);
  Impl& s = *impl_;
  if (s.running) return;
  s.ioc.restart();
  s.stopping = false;
  s.acceptor.emplace(s.ioc);
  tcp::endpoint ep(net::ip::make_address_v4("127.0.0.1"), s.opts.port);
  error_code ec;
  s.acceptor->open(ep.protocol(), ec);
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    s.acceptor.reset();
    throw std::runtime_error("literllm upstream: cannot listen on 127.0.0.1:" + std::to_string(s.opts.port) + ": " +
                             ec.message());
  }
  s.port = s.acceptor->local_endpoint().port();
  s.handler.google_tokens().set_port(s.port.load());  // the audience its assertions must name
  s.accept_retry.emplace(s.ioc);
  s.do_accept();
  s.thread = std::thread([&s] {
    for (;;) {
      try {
        s.ioc.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "literllm-upstream: handler threw: %s\n", e.what());
      }
    }
  });
  s.running = true;
}

void Upstream::stop() {
  std::lock_guard lock(impl_->life_mu);
  Impl& s = *impl_;
  if (!s.running) return;
  net::post(s.ioc, [&s] {
    s.stopping = true;
    error_code ec;
    s.acceptor->close(ec);
    s.accept_retry->cancel();
    std::vector<Session*> live(s.sessions.begin(), s.sessions.end());
    for (Session* session : live) session->shutdown();
  });
  // Every pending operation now completes with an error and drops its session;
  // run() returns once nothing is left.
  s.thread.join();
  s.acceptor.reset();
  s.accept_retry.reset();
  s.running = false;
}

uint16_t Upstream::port() const { return impl_->port.load(); }

std::string Upstream::base_url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/v1"; }

std::vector<RecordedRequest> Upstream::requests() const { return impl_->handler.requests(); }

void Upstream::clear_requests() { impl_->handler.clear_requests(); }

size_t Upstream::connections_accepted() const { return impl_->accepted.load(); }

size_t Upstream::open_connections() const { return impl_->open.load(); }

void Upstream::revoke_google_tokens() { impl_->handler.google_tokens().revoke_all(); }

size_t Upstream::google_tokens_issued() const { return impl_->handler.google_tokens().issued(); }

}  // namespace literllm::testing
