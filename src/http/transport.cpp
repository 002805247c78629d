// The transport: one CURLM handle, one event loop, a command queue.
//
// Threading model
//  - One thread at a time runs the loop: the owner. It is the I/O thread, or a
//    blocking caller that found the loop parked (nothing live, no timers, no
//    commands) and took it (run_blocking). Ownership changes only under `mu_`.
//  - Every curl call on a multi-attached easy handle, every transfer callback,
//    and every access to `live`, `timers` and `next_idle_check` happens on the
//    owner's thread.
//  - Other threads talk to the owner only through `cmds` (under `mu`) followed
//    by a wake-up (the eventfd; or, when the loop is parked, by waking the I/O
//    thread). A caller running the loop hands it back to the I/O thread as soon
//    as another thread queues a command, before running that command, so user
//    callbacks never run on a blocking caller's thread.
//  - A transfer submitted from outside the loop while it is parked is sent by
//    the submitting thread itself, as owner for one turn of curl (kick());
//    that turn delivers nothing, so no callback runs there either.
//  - I/O: curl runs through its socket API only (curl_multi_socket_action),
//    never curl_multi_perform (the two must not be mixed on one multi handle).
//    One epoll set holds curl's sockets, kept in step by curl's socket
//    callback, and an eventfd that wake() signals; whoever runs the loop waits
//    on that set. A turn acts on the sockets that are ready and on curl's due
//    timer, so a turn costs what is ready, not what is live: curl_multi_perform
//    runs every live transfer's state machine, with a poll() system call each,
//    on every wake-up (3 polls per call at 16 in flight).
//  - Hosted (TransportOptions::hosted): there is no I/O thread. The program
//    polls the epoll set's descriptor and runs turns through io_run(); a
//    blocking caller drives the loop itself while nobody else does (it never
//    hands it off: there is no one to hand it to).
//  - A transfer is finished (removed from the multi handle, on_done called)
//    only from the loop itself, never from inside a curl callback. A callback
//    that wants a transfer gone marks it (`abort_status`) and makes curl fail
//    it, or queues a command that the loop picks up before it polls again.
#include "http/transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <climits>
#include <cstring>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <system_error>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/process.hpp"
#include "core/secrets.hpp"
#include "http/headers.hpp"

namespace literllm::http {

namespace {

using Clock = std::chrono::steady_clock;

// The loops alive in the process, for the exit handler: at exit() every I/O
// thread stops at a turn boundary before any static destructor runs (libcurl,
// OpenSSL and simdjson keep static state a running loop would use after its
// destruction). Leaked on purpose: valid while the process exits.
struct LoopSet {
  std::mutex mu;
  std::vector<void*> loops;  // Transport::Impl*
};
LoopSet& loop_set() {
  static LoopSet* s = [] {
    auto* set = new LoopSet;
    // Held across fork(): a child never finds it locked by a thread it lacks.
    pthread_atfork([] { loop_set().mu.lock(); }, [] { loop_set().mu.unlock(); }, [] { loop_set().mu.unlock(); });
    return set;
  }();
  return *s;
}
std::atomic<bool> g_exiting{false};

// Every asynchronous signal blocked: the process's signals go to the
// program's own threads. The synchronous ones stay (blocking them is undefined).
void block_async_signals(sigset_t* old) {
  sigset_t all;
  sigfillset(&all);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) sigdelset(&all, sig);
  pthread_sigmask(SIG_SETMASK, &all, old);
}

// What a write/header callback returns to make curl fail the transfer.
#ifdef CURL_WRITEFUNC_ERROR
constexpr size_t kWriteAbort = CURL_WRITEFUNC_ERROR;
#else
constexpr size_t kWriteAbort = 0;
#endif

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

// "host" or "host:port" of a URL, for messages (never userinfo, path or query).
std::string host_of(const std::string& url) {
  std::string out;
  CURLU* u = curl_url();
  if (!u) return out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
      out = host;
      curl_free(host);
      char* port = nullptr;
      if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port) {
        out += ':';
        out += port;
        curl_free(port);
      }
    }
  }
  curl_url_cleanup(u);
  return out;
}

llm_status map_curl_code(CURLcode rc) {
  switch (rc) {
    case CURLE_OK:
      return LLM_OK;
    case CURLE_OPERATION_TIMEDOUT:
      return LLM_ERR_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK:
      return LLM_ERR_CANCELLED;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      // A URL or scheme curl will not take (the client refuses those before a
      // call starts). UNSUPPORTED_PROTOCOL after the request went out is the
      // server's fault instead: HTTP/0.9 or an unreadable status line;
      // complete() makes that LLM_ERR_NETWORK.
      return LLM_ERR_INVALID_ARGUMENT;
    case CURLE_OUT_OF_MEMORY:
      return LLM_ERR_OUT_OF_MEMORY;
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_WRITE_ERROR:  // only ours make it fail, and those carry their own status
    case CURLE_UNKNOWN_OPTION:
      return LLM_ERR_INTERNAL;
    default:
      // resolve, connect, send/recv, TLS, partial file, got nothing, HTTP/2
      // framing, bad content encoding, proxy: the network failed us.
      return LLM_ERR_NETWORK;
  }
}

}  // namespace

// ---------------------------------------------------------------- transfer

// The bytes of a multipart part that the caller keeps (Part::data): curl
// reads them through this, without a copy.
struct PartReader {
  const char* data;
  size_t size;
  size_t pos = 0;
  static size_t read(char* buf, size_t size, size_t nitems, void* arg) {
    auto* r = static_cast<PartReader*>(arg);
    const size_t n = std::min(size * nitems, r->size - r->pos);
    std::memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return n;
  }
  static int seek(void* arg, curl_off_t offset, int origin) {
    auto* r = static_cast<PartReader*>(arg);
    if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > r->size) return CURL_SEEKFUNC_CANTSEEK;
    r->pos = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
  }
};

struct Transfer {
  uint64_t id = 0;
  void* owner = nullptr;  // the Transport::Impl running it
  Request req;  // keeps the body alive (CURLOPT_POSTFIELDS points into it)
  Callbacks cb;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  curl_mime* mime = nullptr;  // a multipart body (req.parts)
  std::vector<std::unique_ptr<PartReader>> part_readers;
  char errbuf[CURL_ERROR_SIZE] = {0};
  bool added = false;  // attached to the multi handle
  Clock::time_point started{};
  Timing timing;
  Clock::time_point deadline = Clock::time_point::max();  // started + timing.total_ms

  // A failure decided before the transfer could start (bad header, no handle).
  llm_status preset_status = LLM_OK;
  std::string preset_error;

  // Set by a callback, a cancel or an exception: the status the transfer ends
  // with, whatever curl says. No user callback but on_done runs once it is set.
  llm_status abort_status = LLM_OK;
  std::string abort_error;

  // Response headers.
  long http_status = 0;
  Headers headers;
  bool headers_done = false;       // final headers complete
  bool headers_delivered = false;  // on_headers ran
  size_t header_bytes = 0;         // every header line so far, interim blocks included
  std::string content_length;      // the first Content-Length of the final block

  // Bytes on the wire, as curl's debug callback reports them (HTTP level:
  // request line + headers + body out; status lines + headers + raw body in).
  uint64_t wire_sent = 0;
  uint64_t wire_received = 0;

  // Flow control and the idle clock.
  bool paused = false;
  // Fairness: the body bytes delivered in loop turn `turn`, and whether the
  // transfer gave way for the rest of it (see Impl::kTurnBudget).
  uint64_t turn = 0;
  size_t turn_bytes = 0;
  bool yielded = false;
  bool idle_armed = false;  // the idle clock runs (headers in, or request sent with idle_before_headers)
  Clock::time_point last_activity{};

  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (header_list) curl_slist_free_all(header_list);
    if (mime) curl_mime_free(mime);
  }
};

// ------------------------------------------------------------------- impl

struct Transport::Impl {
  enum class CmdKind { Submit, Cancel, Pause, Resume, Schedule };
  struct Cmd {
    CmdKind kind;
    uint64_t id;
    std::unique_ptr<Transfer> transfer = nullptr;  // Submit only
    // Schedule only: the timer, made by the caller so that the loop files it
    // without allocating (a timer lost to a failed allocation would leave a
    // call unfinished for good).
    std::multimap<Clock::time_point, std::function<void()>>::node_type timer{};
  };

  TransportOptions opts;
  // The network settings of the environment, read once (read_environment):
  // the CA bundle and directory, the proxy of http:// and of https:// URLs
  // ("": none) and the hosts reached directly.
  std::string ca_file, ca_dir;
  std::string proxy_http, proxy_https, no_proxy;
  // The proxies' user names and passwords: curl quotes a proxy it cannot use
  // whole in its error ("Unsupported proxy syntax in 'http://user:pw@...'").
  Secrets proxy_secrets;
  CURLM* multi = nullptr;
  std::thread thread;
  std::atomic<uint64_t> next_id{1};

  // Who runs the loop. Parked: nobody (the I/O thread sleeps on io_cv, and
  // nothing is live); Caller: the thread `caller`, inside run_blocking() (or,
  // hosted, inside io_run()); Host: hosted, and nobody runs it right now.
  enum class Owner { Io, Parked, Caller, Host };

  std::mutex mu;
  std::deque<Cmd> cmds;  // guarded by mu
  // The loop owner's copy of the queue, swapped with `cmds` each turn: made
  // with the transport, so that running the loop never allocates it.
  std::deque<Cmd> batch;
  bool stopping = false; // guarded by mu
  bool exited = false;   // guarded by mu: the loop is gone, nothing more runs on it
  Owner owner = Owner::Io;       // guarded by mu
  std::thread::id caller;        // guarded by mu; meaningful when owner == Caller
  bool handoff = false;          // guarded by mu: another thread queued work while a caller runs the loop
  std::condition_variable io_cv; // the parked I/O thread waits here for owner == Io

  // The loop's descriptor (epoll: curl's sockets and `evfd`; hosted, the
  // program polls it) and the eventfd other threads signal.
  const bool hosted;
  int epfd = -1, evfd = -1;
  // Hosted: the loop the driving thread was running when it took this one (a
  // callback of another client may drive this one), given back when it lets go.
  const Impl* outer_loop = nullptr;
  // Hosted, guarded by mu: io_run() wants the loop that a blocking call on
  // another thread is running. That call lets go at its next turn and takes
  // it again only once io_run() is done; the host's poll would otherwise find
  // the descriptor readable while io_run() cannot act on it, and spin.
  bool host_wants = false;
  std::condition_variable drive_cv;  // hosted: shutdown waits here for a driving thread to let go
  std::shared_ptr<LoopHandle> handle;  // hosted: what blocking readers drive through

  // The loop's owner only.
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> live;
  // Body bytes one transfer may deliver in one turn of the loop before it
  // gives way to the others until the next turn. Without it one transfer can
  // hog the loop for seconds: curl reads a socket that stays readable up to
  // 100 times in a row, and a compressed body can decode each 16 KiB read into
  // megabytes (a gzip bomb starved every other call on the client).
  static constexpr size_t kTurnBudget = 256u << 10;
  uint64_t turn = 0;
  std::vector<uint64_t> yielded;  // transfers that gave way this turn, resumed at the next
  // Set while a submitting thread sends its request itself (kick): body
  // writes then give way and headers wait, so that no callback runs there.
  bool kicking = false;
  Clock::time_point next_idle_check = Clock::time_point::max();
  std::multimap<Clock::time_point, std::function<void()>> timers;  // schedule()

  explicit Impl(TransportOptions o) : opts(o), hosted(o.hosted) {
    literllm::global_init();
    register_exit_handler();
    read_environment();

    multi = curl_multi_init();
    if (!multi) throw Error(LLM_ERR_NETWORK, "cannot create the client's event loop (curl_multi_init failed)");
    init_events();
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1024L);
    {
      auto& set = loop_set();
      std::lock_guard lk(set.mu);
      try {
        set.loops.push_back(this);
      } catch (...) {
        close_events();
        curl_multi_cleanup(multi);
        throw;
      }
    }
    if (hosted) {
      owner = Owner::Host;
      return;  // no thread: the program runs the loop (io_run)
    }
    // The thread inherits the mask in force when it is made.
    sigset_t old;
    block_async_signals(&old);
    try {
      thread = std::thread([this] { thread_main(); });
    } catch (const std::system_error& e) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      unregister();
      curl_multi_cleanup(multi);
      multi = nullptr;
      close_events();
      throw Error(LLM_ERR_NETWORK, std::string("cannot start the client's I/O thread (") + e.what() + ")");
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      unregister();
      curl_multi_cleanup(multi);
      multi = nullptr;
      close_events();
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  ~Impl() {
    unregister();
    for (CURL* e : spare) curl_easy_cleanup(e);
    if (multi) curl_multi_cleanup(multi);  // before the epoll set: curl may still report sockets removed
    close_events();
  }

  // ------------------------------------------------------------ events

  void init_events() {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd >= 0) evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = evfd;
    if (epfd < 0 || evfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) {
      int err = errno;
      close_events();
      curl_multi_cleanup(multi);
      multi = nullptr;
      throw Error(LLM_ERR_NETWORK, std::string("cannot create the client's event loop descriptors (an epoll set "
                                                   "and a wake-up eventfd: ") +
                                       std::strerror(err) + ")");
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
    // No timer callback: curl reports a timeout only when it changes, so a
    // timeout acted on a little early would be lost; curl_multi_timeout() is
    // asked after every turn instead.
    if (!hosted) return;
    handle = std::make_shared<LoopHandle>();
    handle->impl = this;
  }

  void close_events() noexcept {
    if (evfd >= 0) close(evfd);
    if (epfd >= 0) close(epfd);
    evfd = epfd = -1;
  }

  // The epoll set's registrations of curl's sockets, by descriptor (the
  // loop's owner only). curl stops watching a connection's socket when its
  // transfer ends and watches it again when the next transfer reuses it: on a
  // client making calls back to back that would be an EPOLL_CTL_DEL and an
  // EPOLL_CTL_ADD per call (3-4 us here). So a connection's socket that curl
  // stops watching stays in the set, dormant, until curl closes it
  // (on_close_socket takes it out before the close, so that no registration
  // outlives its descriptor, even where a forked child keeps the socket open)
  // or until it reports (a pooled connection the server closed: it leaves the
  // set then, and curl finds the connection dead when it looks at it next).
  // Only connection sockets (kRegConn, marked by on_socket_opened): curl's
  // other descriptors (the threaded resolver's socket pair) are closed without
  // the close callback, and leave the set as soon as curl stops watching them.
  static constexpr uint8_t kRegIn = 1, kRegOut = 2;  // the events registered
  static constexpr uint8_t kRegSet = 4;              // in the epoll set
  static constexpr uint8_t kRegDormant = 8;          // in the set, unwatched by curl
  static constexpr uint8_t kRegConn = 16;            // a connection socket: its close comes to on_close_socket
  std::vector<uint8_t> reg;
  size_t watched = 0;  // registrations curl watches (in the set, not dormant)

  void reg_store(uint8_t& r, uint8_t v) noexcept {
    auto active = [](uint8_t x) { return (x & kRegSet) && !(x & kRegDormant); };
    watched += active(v);
    watched -= active(r);
    r = v;
  }

  uint8_t& reg_of(curl_socket_t s) {
    if (static_cast<size_t>(s) >= reg.size()) reg.resize(static_cast<size_t>(s) + 64, 0);
    return reg[static_cast<size_t>(s)];
  }

  // `curl_watches`: curl asked for `want` (the descriptor is curl's now). Else
  // (a socket curl stopped watching, kept dormant) the descriptor may already
  // be closed: curl closes a socket it is still connecting without the
  // close-socket callback, and reports CURL_POLL_REMOVE afterwards, by which
  // time another thread may have been given the same number. Such a number
  // is never added to the set.
  bool reg_set(curl_socket_t s, uint8_t& r, uint8_t want, bool curl_watches = true) noexcept {
    epoll_event ev{};
    ev.data.fd = s;
    if (want & kRegIn) ev.events |= EPOLLIN;
    if (want & kRegOut) ev.events |= EPOLLOUT;
    int op = (r & kRegSet) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epfd, op, s, &ev) != 0) {
      // ENOENT: a descriptor closed behind curl's back left the set with it;
      // the number, if curl asks for it, is a new socket of curl's.
      if (errno == ENOENT && !curl_watches) {
        reg_store(r, 0);  // closed: forgotten (and no DEL on a number that is someone else's now)
        return false;
      }
      int retry = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
      if (retry < 0 || epoll_ctl(epfd, retry, s, &ev) != 0) {
        // Out of the set for sure: a registration left as it was (a socket
        // watched for writing) would report every turn, to nobody.
        epoll_ctl(epfd, EPOLL_CTL_DEL, s, nullptr);
        reg_store(r, r & kRegConn);
        return false;
      }
    }
    reg_store(r, static_cast<uint8_t>((r & kRegConn) | kRegSet | want));
    return true;
  }

  // Out of the set; `closing`: the descriptor is about to be closed (forget it).
  void reg_drop(curl_socket_t s, bool closing) noexcept {
    if (s < 0 || static_cast<size_t>(s) >= reg.size()) return;
    uint8_t& r = reg[static_cast<size_t>(s)];
    if (r & kRegSet) epoll_ctl(epfd, EPOLL_CTL_DEL, s, nullptr);
    reg_store(r, closing ? 0 : (r & kRegConn));
  }

  // curl's socket callback: keeps the epoll set in step with curl's sockets.
  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) noexcept {
    auto* self = static_cast<Impl*>(userp);
    if (s < 0) return -1;
    try {
      uint8_t& r = self->reg_of(s);
      if (what == CURL_POLL_REMOVE) {
        if (!(r & kRegSet)) return 0;
        if (!(r & kRegConn)) {
          self->reg_drop(s, false);
          return 0;
        }
        // Dormant; a socket left watched for writing would report at once, every turn.
        if ((r & kRegOut) && !self->reg_set(s, r, kRegIn, false)) return 0;
        self->reg_store(r, r | kRegDormant);
        return 0;
      }
      uint8_t want = ((what & CURL_POLL_IN) ? kRegIn : 0) | ((what & CURL_POLL_OUT) ? kRegOut : 0);
      if ((r & kRegSet) && (r & (kRegIn | kRegOut)) == want) {
        self->reg_store(r, r & ~kRegDormant);  // a pooled connection reused: in the set as it needs
        return 0;
      }
      return self->reg_set(s, r, want) ? 0 : -1;  // -1: curl fails what uses the socket
    } catch (...) {
      return -1;
    }
  }

  // curl's socket-options callback: a connection's socket, just made.
  static int on_socket_opened(void* userp, curl_socket_t s, curlsocktype purpose) noexcept {
    if (purpose != CURLSOCKTYPE_IPCXN || s < 0) return CURL_SOCKOPT_OK;
    auto* self = static_cast<Impl*>(userp);
    try {
      uint8_t& r = self->reg_of(s);
      self->reg_store(r, 0);  // a descriptor number closed behind curl's back, if any, is new now
      r = kRegConn;
    } catch (...) {
      // Unmarked: the socket leaves the set whenever curl stops watching it.
    }
    return CURL_SOCKOPT_OK;
  }

  // curl's close-socket callback (a connection's socket).
  static int on_close_socket(void* userp, curl_socket_t s) noexcept {
    static_cast<Impl*>(userp)->reg_drop(s, true);
    return close(s);
  }

  // Once, on the thread making the client: curl would read the proxy
  // variables with getenv on every transfer, on the loop's thread (racing a
  // setenv on another). curl's rules (url.c, detect_proxy and the no_proxy
  // check): the first of the names that is set and not empty (curl_getenv
  // takes "" for unset); http:// never takes HTTP_PROXY (a CGI program's
  // environment carries the request's "Proxy:" header under that name);
  // all_proxy when the scheme's own is not set.
  void read_environment() {
    auto first_set = [](std::initializer_list<const char*> names) -> std::string {
      for (const char* n : names)
        if (const char* v = std::getenv(n); v && *v) return v;
      return {};
    };
    ca_file = first_set({"CURL_CA_BUNDLE", "SSL_CERT_FILE"});
    ca_dir = first_set({"SSL_CERT_DIR"});
    std::string all = first_set({"all_proxy", "ALL_PROXY"});
    proxy_http = first_set({"http_proxy"});
    if (proxy_http.empty()) proxy_http = all;
    proxy_https = first_set({"https_proxy", "HTTPS_PROXY"});
    if (proxy_https.empty()) proxy_https = all;
    no_proxy = first_set({"no_proxy", "NO_PROXY"});
    proxy_secrets.add_url(proxy_http);
    proxy_secrets.add_url(proxy_https);
  }

  // Wakes whoever runs the loop (hosted, also the program polling epfd).
  // Under mu. The eventfd is written only when it is not already signalled,
  // and read only when it is (a system call saved on each side).
  bool wake_pending = false;  // guarded by mu: evfd is signalled
  void wake() noexcept {
    if (wake_pending) return;
    wake_pending = true;
    uint64_t one = 1;
    ssize_t n = write(evfd, &one, sizeof one);
    (void)n;
  }

  void drain_wake() noexcept {
    std::lock_guard<std::mutex> lock(mu);
    if (!wake_pending) return;
    wake_pending = false;
    uint64_t v;
    ssize_t n = read(evfd, &v, sizeof v);
    (void)n;
  }

  // What the last wait_for_io() found ready, for the next turn (which then
  // saves asking again): -1 nothing kept. Events may be stale by then (the
  // turn's commands may have ended a transfer): curl ignores a socket it does
  // not know, and one reported readable in vain reads nothing.
  epoll_event ready[64];
  int n_ready = -1;

  // One turn through curl's socket API, without waiting: acts on the sockets
  // that are ready and on curl's due timer.
  void socket_io() {
    int n = n_ready;
    n_ready = -1;
    // With no socket watched, nothing is for curl: the wake-up and dormant
    // sockets wait for the next epoll_wait (level-triggered).
    if (n < 0) n = watched ? epoll_wait(epfd, ready, 64, 0) : 0;
    int running = 0;
    for (int i = 0; i < n; ++i) {
      int fd = ready[i].data.fd;
      if (fd == evfd) {
        drain_wake();
        continue;
      }
      if (static_cast<size_t>(fd) < reg.size() && (reg[static_cast<size_t>(fd)] & kRegDormant)) {
        reg_drop(fd, false);  // a pooled connection's socket spoke (closed, mostly): curl looks at it on reuse
        continue;
      }
      int mask = 0;
      if (ready[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (ready[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (ready[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi, fd, mask, &running);
    }
    long due = -1;
    curl_multi_timeout(multi, &due);
    if (due == 0) curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }

  void unregister() noexcept {
    auto& set = loop_set();
    std::lock_guard lk(set.mu);
    std::erase(set.loops, static_cast<void*>(this));
  }

  // ------------------------------------------------------------- exit()

  // Set by the exit handler; the loop's thread answers by stopping for good.
  std::atomic<bool> halted{false};

  static void register_exit_handler() {
    static std::once_flag once;  // trivially destructible
    std::call_once(once, [] {
      // Registered after what a loop uses is initialized (libcurl and its TLS
      // library by global_init, simdjson by a first parse), so that the
      // handler runs before their static destructors (atexit order is LIFO).
      (void)literllm::json::parse("{}", "init", LLM_ERR_INTERNAL);
      std::atexit(&Impl::on_exit);
    });
  }

  // At exit: every loop stops at a turn boundary, and the handler waits (up
  // to 2 s in all, for a callback that takes long) until each has stopped or
  // is parked (a parked loop, and a blocking caller's, stop when they wake).
  static void on_exit() noexcept {
    g_exiting.store(true);
    auto& set = loop_set();
    std::lock_guard lk(set.mu);
    for (void* p : set.loops) {
      auto* self = static_cast<Impl*>(p);
      std::lock_guard ml(self->mu);
      self->wake();
    }
    const auto until = Clock::now() + std::chrono::seconds(2);
    for (void* p : set.loops) {
      auto* self = static_cast<Impl*>(p);
      for (;;) {
        bool parked;
        {
          std::lock_guard ml(self->mu);
          parked = self->owner != Owner::Io || self->exited;
        }
        if (parked || self->halted.load() || Clock::now() >= until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }

  // Called by a loop between turns: at exit, stop here for good.
  void halt_if_exiting() {
    if (!g_exiting.load(std::memory_order_relaxed)) return;
    tl_loop = nullptr;
    halted.store(true);
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }

  // ------------------------------------------------- free from a callback

  std::function<void()> self_destroy;  // set by defer_destroy, run by thread_main
  bool destroying_self = false;        // the I/O thread is running self_destroy

  void thread_main() {
    run();
    if (self_destroy) {
      destroying_self = true;
      auto destroy = std::move(self_destroy);
      destroy();  // destroys this Impl: nothing of it may be touched afterwards
    }
  }

  // Easy handles of finished transfers, reset and kept for the next ones
  // (curl_easy_init costs more than curl_easy_reset).
  static constexpr size_t kMaxSpare = 64;
  std::mutex spare_mu;
  std::vector<CURL*> spare;  // guarded by spare_mu

  CURL* take_easy() {
    {
      std::lock_guard<std::mutex> lock(spare_mu);
      if (!spare.empty()) {
        CURL* e = spare.back();
        spare.pop_back();
        return e;
      }
    }
    return curl_easy_init();
  }

  // `e` must not be attached to the multi handle.
  void give_easy(CURL* e) {
    curl_easy_reset(e);
    {
      std::lock_guard<std::mutex> lock(spare_mu);
      if (spare.size() < kMaxSpare) {
        spare.push_back(e);
        return;
      }
    }
    curl_easy_cleanup(e);
  }

  // The transport whose loop this thread is running, if any.
  static inline thread_local const Impl* tl_loop = nullptr;

  bool on_io_thread() const { return tl_loop == this; }

  // Queues a command; false when the transport is shutting down.
  // The command is moved from only when it was accepted. Once shutdown has
  // begun only scheduled functions are still taken (they run during shutdown).
  bool push(Cmd&& cmd) {
    bool wake_io = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping && (cmd.kind != CmdKind::Schedule || exited)) return false;
      bool was_empty = cmds.empty();
      cmds.push_back(std::move(cmd));
      switch (owner) {
        case Owner::Io:
          // From the loop's own thread (a callback) no wakeup is needed: the loop
          // looks at the queue before it polls again.
          if (was_empty && tl_loop != this) wake();
          break;
        case Owner::Host:
          if (was_empty) wake();  // the program polls epfd, then runs io_run()
          break;
        case Owner::Parked:
          owner = Owner::Io;
          wake_io = true;
          break;
        case Owner::Caller:
          if (hosted) {
            // Whoever drives takes every command (there is no one to hand the loop to).
            if (was_empty && tl_loop != this) wake();
            break;
          }
          // The caller's own commands wait for its next turn; anyone else's
          // make it give the loop back first.
          if (std::this_thread::get_id() != caller && !handoff) {
            handoff = true;
            wake();
          }
          break;
      }
    }
    // Woken outside the lock, so that the I/O thread does not wake only to
    // wait for `mu` (a futex call on each side per command).
    if (wake_io) io_cv.notify_one();
    return true;
  }

  void shutdown() {
    if (hosted) {
      shutdown_hosted();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
      if (owner == Owner::Parked) {
        owner = Owner::Io;
        io_cv.notify_one();
      } else {
        wake();  // a caller running the loop sees `stopping` and gives it back
      }
    }
    if (thread.joinable()) {
      if (destroying_self) {
        thread.detach();  // this very thread, which returns once the transport is gone
        return;
      }
      if (on_io_thread()) {
        // A callback destroying its own transport goes through defer_destroy.
        std::terminate();
      }
      thread.join();
    }
  }

  // ---------------------------------------------------------- building

  std::unique_ptr<Transfer> build(uint64_t id, Request req, Callbacks cb, Timing timing) {
    auto t = std::make_unique<Transfer>();
    t->id = id;
    t->owner = this;
    t->req = std::move(req);
    t->cb = std::move(cb);
    t->timing = timing;
    const Request& r = t->req;

    if (!is_token(r.method)) {
      t->preset_status = LLM_ERR_INVALID_ARGUMENT;
      t->preset_error = "invalid HTTP method \"" + printable(r.method) + "\"";
      return t;
    }
    // The client checks headers where they enter; this is the last guard, for
    // every caller of the transport.
    bool has_accept = false, has_content_type = false;
    for (auto& [name, value] : r.headers) {
      if (std::string why = header_problem(name, value); !why.empty()) {
        t->preset_status = LLM_ERR_INVALID_HEADER;
        t->preset_error = "header \"" + printable(name) + "\" " + why;
        return t;
      }
      if (iequals(name, "Accept")) has_accept = true;
      else if (iequals(name, "Content-Type")) has_content_type = true;
    }
    if (std::string why = head_size_problem(r.url, r.headers); !why.empty()) {
      t->preset_status = LLM_ERR_INVALID_HEADER;
      t->preset_error = std::move(why);
      return t;
    }

    CURL* e = take_easy();
    if (!e) {
      t->preset_status = LLM_ERR_INTERNAL;
      t->preset_error = "curl_easy_init failed";
      return t;
    }
    t->easy = e;

    // Header list: the caller's, in order; then suppress what curl would add.
    std::string line;
    auto append = [&](const std::string& l) -> bool {
      curl_slist* n = curl_slist_append(t->header_list, l.c_str());
      if (!n) return false;
      t->header_list = n;
      return true;
    };
    bool ok = true;
    for (auto& [name, value] : r.headers) {
      std::string_view v = trim(value);
      line.assign(name);
      if (v.empty()) {
        line += ';';  // curl's way of sending "Name:" with no value
      } else {
        line += ": ";
        line += v;
      }
      ok = ok && append(line);
    }
    ok = ok && append("Expect:");
    if (!has_accept) ok = ok && append("Accept:");
    // curl would send "application/x-www-form-urlencoded" with any POST body,
    // even an empty one; send none unless the caller names one. A multipart
    // body's is curl's own (multipart/form-data; boundary=...): removing it
    // would leave "Content-Type: ; boundary=...".
    if (!has_content_type && r.parts.empty()) ok = ok && append("Content-Type:");
    if (!ok) {
      t->preset_status = LLM_ERR_INTERNAL;
      t->preset_error = "out of memory building the header list";
      return t;
    }

    bool https = r.url.size() >= 8 && iequals(std::string_view(r.url).substr(0, 8), "https://");
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption o, auto v) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(e, o, v);
    };
    set(CURLOPT_PRIVATE, static_cast<void*>(t.get()));
    set(CURLOPT_URL, r.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_ERRORBUFFER, t->errbuf);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_HTTPHEADER, t->header_list);
    set(CURLOPT_HEADERFUNCTION, &Impl::on_header_line);
    set(CURLOPT_HEADERDATA, static_cast<void*>(t.get()));
    set(CURLOPT_WRITEFUNCTION, &Impl::on_body);
    set(CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
    // Byte counts: in curl 7.88 CURLINFO_REQUEST_SIZE already includes a small
    // POST body sent along with the headers (and SIZE_UPLOAD counts it again),
    // so count what curl hands to the socket layer instead. With a debug
    // function set, VERBOSE prints nothing.
    set(CURLOPT_SOCKOPTFUNCTION, &Impl::on_socket_opened);
    set(CURLOPT_SOCKOPTDATA, static_cast<void*>(this));
    set(CURLOPT_CLOSESOCKETFUNCTION, &Impl::on_close_socket);
    set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
    set(CURLOPT_DEBUGFUNCTION, &Impl::on_debug);
    set(CURLOPT_DEBUGDATA, static_cast<void*>(t.get()));
    set(CURLOPT_VERBOSE, 1L);
    set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    set(CURLOPT_FOLLOWLOCATION, 0L);
    // Best effort (a platform or build may lack them; the transfer works without).
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 30L);
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 60L);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    // The proxy as the client was made ("" also keeps curl from reading the environment).
    set(CURLOPT_PROXY, https ? proxy_https.c_str() : proxy_http.c_str());
    set(CURLOPT_NOPROXY, no_proxy.c_str());
    if (!ca_file.empty()) set(CURLOPT_CAINFO, ca_file.c_str());
    if (!ca_dir.empty()) set(CURLOPT_CAPATH, ca_dir.c_str());
    // HTTP/2 over TLS when the server offers it (ALPN); plain http stays
    // HTTP/1.1 (no h2c prior knowledge: broken with reuse in curl 7.88.1).
    // Best effort too: a libcurl without nghttp2 refuses it and speaks HTTP/1.1.
    if (curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS)) == CURLE_OK && https)
      curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // wait to multiplex rather than open a new connection
    set(CURLOPT_ACCEPT_ENCODING, "");  // curl offers and decodes what it can
    if (opts.connect_timeout_ms > 0) set(CURLOPT_CONNECTTIMEOUT_MS, opts.connect_timeout_ms);
    if (timing.total_ms > 0) set(CURLOPT_TIMEOUT_MS, timing.total_ms);

    const std::string& m = r.method;
    if (!r.parts.empty()) {
      t->mime = curl_mime_init(e);
      if (!t->mime) {
        t->preset_status = LLM_ERR_OUT_OF_MEMORY;
        t->preset_error = "out of memory making a multipart body";
        return t;
      }
      for (const Part& p : r.parts) {
        curl_mimepart* mp = curl_mime_addpart(t->mime);
        if (!mp) {
          rc = CURLE_OUT_OF_MEMORY;
          break;
        }
        CURLcode pc = curl_mime_name(mp, p.name.c_str());
        if (pc == CURLE_OK) {
          if (!p.path.empty()) {
            pc = curl_mime_filedata(mp, p.path.c_str());  // read as it is sent
          } else if (p.data) {
            t->part_readers.push_back(std::make_unique<PartReader>(PartReader{p.data, p.size}));
            pc = curl_mime_data_cb(mp, static_cast<curl_off_t>(p.size), &PartReader::read, &PartReader::seek, nullptr,
                                   t->part_readers.back().get());
          } else {
            pc = curl_mime_data(mp, p.value.data(), p.value.size());
          }
        }
        // (A file's name is its path's last component unless the part names one.)
        if (pc == CURLE_OK && !p.filename.empty()) pc = curl_mime_filename(mp, p.filename.c_str());
        if (pc == CURLE_OK && !p.content_type.empty()) pc = curl_mime_type(mp, p.content_type.c_str());
        if (pc != CURLE_OK) {
          rc = pc;
          break;
        }
      }
      set(CURLOPT_MIMEPOST, t->mime);
      if (m != "POST") set(CURLOPT_CUSTOMREQUEST, m.c_str());
    } else if (m == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else if (r.body.empty() && m != "POST" && m != "PUT" && m != "PATCH") {
      set(CURLOPT_HTTPGET, 1L);  // no body, no Content-Length
      if (m != "GET") set(CURLOPT_CUSTOMREQUEST, m.c_str());
    } else {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      set(CURLOPT_POSTFIELDS, r.body.data());
      if (m != "POST") set(CURLOPT_CUSTOMREQUEST, m.c_str());
    }
    if (rc != CURLE_OK) {
      t->preset_status = LLM_ERR_INTERNAL;
      t->preset_error = std::string("curl_easy_setopt failed: ") + curl_easy_strerror(rc);
    }
    return t;
  }

  // ---------------------------------------------------- curl callbacks

  static void abort_with(Transfer* t, llm_status st, std::string_view msg) noexcept {
    if (t->abort_status != LLM_OK) return;
    t->abort_status = st;
    try {
      t->abort_error.assign(msg);
    } catch (...) {
      t->abort_error.clear();  // the status says what happened
    }
  }
  // As abort_with, for a message still to be made (which may itself fail).
  template <class MakeMessage>
  static void abort_making(Transfer* t, llm_status st, MakeMessage&& make) noexcept {
    if (t->abort_status != LLM_OK) return;
    t->abort_status = st;
    try {
      t->abort_error = make();
    } catch (...) {
      t->abort_status = LLM_ERR_OUT_OF_MEMORY;  // the message could not be made: say what happened
    }
  }
  // What a curl callback does with an exception: the transfer ends with it.
  static void abort_on_exception(Transfer* t, const char* where) noexcept {
    try {
      throw;
    } catch (const std::bad_alloc&) {
      abort_with(t, LLM_ERR_OUT_OF_MEMORY, std::string_view());
    } catch (const Error& e) {
      abort_making(t, e.status(), [&] { return std::string(e.what()); });
    } catch (const std::exception& ex) {
      abort_making(t, LLM_ERR_INTERNAL, [&] { return std::string("exception in ") + where + ": " + ex.what(); });
    } catch (...) {
      abort_making(t, LLM_ERR_INTERNAL, [&] { return std::string("unknown exception in ") + where; });
    }
  }

  // Runs on_headers once; false if it threw or the transfer was cancelled.
  static bool deliver_headers(Transfer* t) noexcept {
    if (t->headers_delivered) return t->abort_status == LLM_OK;
    t->headers_delivered = true;
    if (t->cb.on_headers) {
      try {
        t->cb.on_headers(t->http_status, t->headers);
      } catch (...) {
        abort_on_exception(t, "on_headers");
      }
    }
    return t->abort_status == LLM_OK;
  }

  static int on_debug(CURL*, curl_infotype type, char*, size_t size, void* ud) noexcept {
    auto* t = static_cast<Transfer*>(ud);
    switch (type) {
      case CURLINFO_HEADER_OUT:
      case CURLINFO_DATA_OUT:
        t->wire_sent += size;
        if (t->timing.idle_before_headers && !t->headers_done) {
          // Sending counts as activity: the silence that matters is the server's.
          t->last_activity = Clock::now();
          if (!t->idle_armed) {
            t->idle_armed = true;
            static_cast<Impl*>(t->owner)->note_idle_deadline(t->last_activity);
          }
        }
        break;
      case CURLINFO_HEADER_IN:
      case CURLINFO_DATA_IN:
        t->wire_received += size;
        break;
      default:
        break;
    }
    return 0;
  }

  // The final headers are in: the idle clock starts.
  static void mark_headers_done(Transfer* t) noexcept {
    t->headers_done = true;
    t->idle_armed = true;
    t->last_activity = Clock::now();
    static_cast<Impl*>(t->owner)->note_idle_deadline(t->last_activity);
  }

  // True (and the transfer marked) once the whole-transfer deadline has
  // passed: curl checks it between reads only, and one read of a compressed
  // body can decode into gigabytes. (Headers need no such check: they are
  // capped by max_header_bytes.)
  static bool past_deadline(Transfer* t, Clock::time_point now) noexcept {
    if (now < t->deadline) return false;
    abort_making(t, LLM_ERR_TIMEOUT, [&] {
      return "timeout: the transfer took longer than its " + std::to_string(t->timing.total_ms) + " ms";
    });
    return true;
  }

  // The status code of a status line ("HTTP/1.1 200 OK"), or -1 when it has
  // none of exactly three digits.
  static long status_code(std::string_view line) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return -1;
    size_t i = sp + 1;
    while (i < line.size() && line[i] == ' ') ++i;
    size_t b = i;
    long code = 0;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9' && i - b < 4; ++i) code = code * 10 + (line[i] - '0');
    if (i - b != 3 || (i < line.size() && line[i] != ' ')) return -1;
    return code;
  }

  // Every function handed to libcurl is noexcept: an exception must never
  // unwind through curl (the multi handle would stay "inside a callback" for
  // good). A failure aborts the transfer with its status instead.
  static size_t on_header_line(char* buf, size_t size, size_t n, void* ud) noexcept {
    auto* t = static_cast<Transfer*>(ud);
    try {
      return header_line(t, buf, size * n);
    } catch (...) {
      abort_on_exception(t, "on_header_line");
      return kWriteAbort;
    }
  }

  static size_t header_line(Transfer* t, char* buf, size_t len) {
    if (t->abort_status != LLM_OK) return kWriteAbort;
    if (t->headers_done) return len;  // trailers: not ours to report
    auto* self = static_cast<Impl*>(t->owner);
    t->header_bytes += len;
    if (t->header_bytes > self->opts.max_header_bytes) {
      abort_with(t, LLM_ERR_NETWORK,
                 "the server's response headers exceed max_header_bytes (" +
                     std::to_string(self->opts.max_header_bytes) + " bytes)");
      return kWriteAbort;
    }
    std::string_view line(buf, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);

    if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
      // A new status line: a new header block begins (after any 1xx).
      t->headers.clear();
      t->content_length.clear();
      t->http_status = status_code(line);
      if (t->http_status < 100) {
        t->http_status = 0;
        abort_with(t, LLM_ERR_NETWORK, "the server sent a malformed HTTP status line");
        return kWriteAbort;
      }
      return len;
    }
    if (line.empty()) {
      if (t->http_status >= 100 && t->http_status < 200) {
        t->headers.clear();  // an interim block ends; the final one follows
        return len;
      }
      mark_headers_done(t);
      // In a kick the first body write (or the end of the transfer) delivers them, on the loop's thread.
      if (self->kicking) return len;
      return deliver_headers(t) ? len : kWriteAbort;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !t->headers.empty()) {
      std::string_view more = trim(line);  // obsolete line folding
      auto& v = t->headers.back().second;
      if (!more.empty()) {
        if (!v.empty()) v += ' ';
        v.append(more);
      }
      return len;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return len;  // not a header; ignore
    std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      // Two different lengths: no way to tell where this answer ends and the
      // next begins (RFC 9112 6.3: unrecoverable).
      if (!t->content_length.empty() && t->content_length != value) {
        abort_with(t, LLM_ERR_NETWORK, "the server sent conflicting Content-Length headers");
        return kWriteAbort;
      }
      t->content_length = value;
    }
    t->headers.emplace_back(std::string(name), std::string(value));
    return len;
  }

  // Pauses `t` until the next turn of the loop, which resumes it.
  size_t give_way(Transfer* t) noexcept {
    if (!t->yielded) {
      try {
        yielded.push_back(t->id);
      } catch (...) {
        abort_with(t, LLM_ERR_OUT_OF_MEMORY, std::string_view());
        return kWriteAbort;
      }
      t->yielded = true;
    }
    return CURL_WRITEFUNC_PAUSE;  // curl keeps these bytes; the next turn resumes it
  }

  static size_t on_body(char* data, size_t size, size_t n, void* ud) noexcept {
    auto* t = static_cast<Transfer*>(ud);
    size_t len = size * n;
    if (t->abort_status != LLM_OK) return kWriteAbort;
    if (t->paused) return CURL_WRITEFUNC_PAUSE;  // curl keeps these bytes for later
    auto* self = static_cast<Impl*>(t->owner);
    // A kick's turn (see kick()): the bytes wait for the I/O thread's next turn.
    if (self->kicking) return self->give_way(t);
    const auto now = Clock::now();  // one clock read per write: the deadline and the idle clock
    if (past_deadline(t, now)) return kWriteAbort;
    if (!t->headers_delivered) {
      if (!t->headers_done) mark_headers_done(t);
      if (!deliver_headers(t)) return kWriteAbort;
    }
    if (t->turn != self->turn) {
      t->turn = self->turn;
      t->turn_bytes = 0;
    }
    if (t->turn_bytes >= kTurnBudget) return self->give_way(t);
    t->turn_bytes += len;
    t->last_activity = now;
    if (!t->cb.on_data || len == 0) return len;
    bool go_on = false;
    try {
      go_on = t->cb.on_data(data, len);
    } catch (...) {
      abort_on_exception(t, "on_data");
      return kWriteAbort;
    }
    if (!go_on) {
      abort_with(t, LLM_ERR_CANCELLED, "transfer aborted by the receiver");
      return kWriteAbort;
    }
    if (t->abort_status != LLM_OK) return kWriteAbort;  // cancelled from inside on_data
    return len;
  }

  // ----------------------------------------------------------- finishing

  std::string with_host(std::string text, const Transfer& t) const {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (std::string host = host_of(t.req.url); !host.empty()) text += " (host " + host + ")";
    return text;
  }

  // Detaches the transfer, fills the result and runs on_done. Loop only,
  // never from inside a curl callback.
  void finish(uint64_t id, llm_status status, std::string error, CURLcode rc = CURLE_OK) noexcept {
    auto it = live.find(id);
    if (it == live.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    live.erase(it);
    complete(std::move(t), status, std::move(error), rc);
  }

  // Never throws: what cannot be said for want of memory is left unsaid (the
  // status stays), and on_done runs whatever happens.
  void complete(std::unique_ptr<Transfer> t, llm_status status, std::string error, CURLcode rc) noexcept {
    Result res;
    res.http_status = t->http_status;
    bool connected = true;
    if (t->easy && t->added) {
      curl_off_t connect_us = 0;
      if (curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect_us) == CURLE_OK && connect_us == 0 &&
          t->wire_sent == 0)
        connected = false;
      long code = 0, req_size = 0, hdr_size = 0;
      curl_off_t up = 0, down = 0, total_us = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
      curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &req_size);
      curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &up);
      curl_easy_getinfo(t->easy, CURLINFO_HEADER_SIZE, &hdr_size);
      curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
      curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
      if (res.http_status == 0) res.http_status = code;
      res.bytes_sent = t->wire_sent;
      res.bytes_received = t->wire_received;
      if (res.bytes_sent == 0)  // no debug callback: curl's own (coarser) counters
        res.bytes_sent = static_cast<uint64_t>(std::max<long>(req_size, 0)) + static_cast<uint64_t>(std::max<curl_off_t>(up, 0));
      if (res.bytes_received == 0)
        res.bytes_received = static_cast<uint64_t>(std::max<long>(hdr_size, 0)) + static_cast<uint64_t>(std::max<curl_off_t>(down, 0));
      res.total_ms = static_cast<double>(total_us) / 1000.0;
      if (res.total_ms <= 0)
        res.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t->started).count();
      curl_multi_remove_handle(multi, t->easy);
      t->added = false;
    }
    if (status == LLM_ERR_NETWORK || status == LLM_ERR_TIMEOUT) {
      // Whether trying again can help: a server whose certificate does not
      // verify never will; a connection that was never made (refused, not
      // resolved, connect timeout) sent nothing and may be made next time.
      switch (rc) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
          res.permanent = true;
          break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
          res.connect_failed = true;
          break;
        case CURLE_OPERATION_TIMEDOUT:
          res.connect_failed = !connected && t->abort_status == LLM_OK;
          break;
        default:
          break;
      }
    }
    res.status = status;
    try {
      describe(*t, status, error, rc, res);
    } catch (...) {
      res.error.clear();  // no memory for words: the status says it
    }
    finish_result(std::move(t), res);
  }

  // The result's status and words (may allocate).
  void describe(Transfer& tr, llm_status status, std::string& error, CURLcode rc, Result& res) {
    Transfer* t = &tr;
    if (status == LLM_OK && t->http_status != 0 && !t->headers_done) {
      status = res.status = LLM_ERR_NETWORK;
      error = "the connection closed before the response headers were complete";
      res.http_status = 0;
    } else if (t->abort_status == LLM_OK && t->wire_sent > 0 && !t->headers_done &&
               (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_OUT_OF_MEMORY)) {
      // What curl says of a reply it cannot read as HTTP: HTTP/0.9 (no status
      // line), a status code it does not accept, a header line over its 100 KB.
      status = res.status = LLM_ERR_NETWORK;
      if (error.empty())
        error = std::string("the server's reply is not valid HTTP (") +
                (t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc)) + ")";
    }
    res.status = status;
    if (status == LLM_ERR_OUT_OF_MEMORY && error.empty()) return;
    if (status != LLM_OK) {
      if (error.empty()) {
        error = t->errbuf[0] ? std::string(t->errbuf) : std::string(curl_easy_strerror(rc));
      }
      res.error = with_host(std::move(error), *t);
      if (!proxy_secrets.empty()) res.error = proxy_secrets.redact(std::move(res.error));
    }
  }

  void finish_result(std::unique_ptr<Transfer> t, Result& res) noexcept {
    // Free curl's resources before the callback runs: on_done may submit more.
    if (t->easy) {
      give_easy(t->easy);
      t->easy = nullptr;
    }
    if (t->header_list) {
      curl_slist_free_all(t->header_list);
      t->header_list = nullptr;
    }
    if (t->mime) {
      curl_mime_free(t->mime);
      t->mime = nullptr;
    }
    if (res.status == LLM_OK && t->http_status != 0 && !t->headers_delivered) {
      // A response with no body: on_headers still runs, before on_done.
      if (!deliver_headers(t.get())) {
        res.status = t->abort_status;
        try {
          res.error = with_host(t->abort_error, *t);
        } catch (...) {
          res.error.clear();
        }
      }
    }
    Callbacks cb = std::move(t->cb);
    t.reset();
    if (cb.on_done) {
      try {
        cb.on_done(res);
      } catch (...) {
        // Nothing left to report it to; the transfer is over either way.
      }
    }
  }

  // ---------------------------------------------------------- the loop

  // Words for a transfer about to complete, or none when memory is short: a
  // transfer must reach complete() whatever happens (its on_done would never run).
  static std::string words(std::string_view text) noexcept {
    try {
      return std::string(text);
    } catch (...) {
      return std::string();
    }
  }

  void start_transfer(std::unique_ptr<Transfer> t) noexcept {
    if (t->preset_status != LLM_OK) {
      llm_status st = t->preset_status;
      std::string msg = std::move(t->preset_error);
      complete(std::move(t), st, std::move(msg), CURLE_OK);
      return;
    }
    std::string why;
    llm_status st = attach(t, why);
    if (st != LLM_OK) complete(std::move(t), st, std::move(why), CURLE_OK);
  }

  // Adds `t` to the multi handle and to `live` (then `t` is empty). On failure
  // nothing is attached and `t` is still the caller's, with the status and why.
  llm_status attach(std::unique_ptr<Transfer>& t, std::string& why) noexcept {
    uint64_t id = t->id;
    t->started = Clock::now();
    if (t->timing.total_ms > 0) t->deadline = t->started + std::chrono::milliseconds(t->timing.total_ms);
    // Room for it first: once attached, the transfer must be in `live`.
    try {
      live.reserve(live.size() + 1);
    } catch (...) {
      return LLM_ERR_OUT_OF_MEMORY;
    }
    CURLMcode mc = curl_multi_add_handle(multi, t->easy);
    if (mc != CURLM_OK) {
      why = words(curl_multi_strerror(mc));
      return LLM_ERR_INTERNAL;
    }
    t->added = true;
    try {
      live.emplace(id, std::move(t));  // no rehash (reserved): only the node can fail, before t is moved
    } catch (...) {
      curl_multi_remove_handle(multi, t->easy);
      t->added = false;
      return LLM_ERR_OUT_OF_MEMORY;
    }
    return LLM_OK;
  }

  // A transfer submitted from outside the loop while the loop is parked (an
  // async call on an idle client): the submitting thread attaches it and runs
  // one turn of curl itself, which sends the request, then hands the loop to
  // the I/O thread. Waking that thread then overlaps the server's work instead
  // of coming before the request leaves. Nothing completes in that turn
  // (finished transfers stay in curl's message queue for the I/O thread), body
  // writes give way and the end of the headers is not delivered (`kicking`):
  // no callback of the transfer runs on the submitting thread. False (and
  // `cmd` untouched) when the loop is not parked or anything fails: then the
  // command goes through the queue as before.
  // Hosted, the same from any thread that finds nobody running the loop (the
  // host's own thread outside io_run, typically): the request leaves at once,
  // and the descriptor is signalled so that the host's next io_run() (while
  // the server works) arms the transfer's timers.
  bool kick(Cmd& cmd) noexcept {
    if (cmd.transfer->preset_status != LLM_OK || !begin_drive()) return false;
    halt_if_exiting();
    std::string why;
    bool attached = attach(cmd.transfer, why) == LLM_OK;
    if (attached) {
      kicking = true;
      int running = 0;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);  // attach() set its timer to now
      kicking = false;
    }
    end_drive();
    return attached;
  }

  void note_idle_deadline(Clock::time_point last) {
    if (opts.idle_timeout_ms <= 0) return;
    auto deadline = last + std::chrono::milliseconds(opts.idle_timeout_ms);
    if (deadline < next_idle_check) next_idle_check = deadline;
  }

  void run_command(Cmd& c, bool stop) {
    switch (c.kind) {
      case CmdKind::Submit: {
        auto t = std::move(c.transfer);
        if (stop && t->preset_status == LLM_OK) {
          complete(std::move(t), LLM_ERR_CANCELLED, words("transfer cancelled: the transport is shutting down"),
                   CURLE_OK);
        } else {
          start_transfer(std::move(t));
        }
        break;
      }
      case CmdKind::Cancel: {
        auto it = live.find(c.id);
        if (it != live.end()) {
          Transfer* t = it->second.get();
          llm_status st = t->abort_status != LLM_OK ? t->abort_status : LLM_ERR_CANCELLED;
          std::string msg;
          if (t->abort_status != LLM_OK) msg = std::move(t->abort_error);
          else try {
              msg = "transfer cancelled";
            } catch (...) {
            }
          finish(c.id, st, std::move(msg));
        }
        break;
      }
      case CmdKind::Pause: {
        auto it = live.find(c.id);
        if (it != live.end()) it->second->paused = true;
        break;
      }
      case CmdKind::Resume: {
        auto it = live.find(c.id);
        if (it != live.end() && it->second->paused) {
          Transfer* t = it->second.get();
          t->paused = false;
          t->last_activity = Clock::now();
          if (t->headers_done) note_idle_deadline(t->last_activity);
          // May deliver bytes curl held back, running on_data right here;
          // those callbacks only mark or queue, so this is safe.
          curl_easy_pause(t->easy, CURLPAUSE_CONT);
        }
        break;
      }
      case CmdKind::Schedule:
        timers.insert(std::move(c.timer));
        break;
    }
  }

  static void run_guarded(std::function<void()>& fn) {
    if (!fn) return;
    try {
      fn();
    } catch (...) {
      // A scheduled function has no one to report to.
    }
  }

  // Runs the scheduled functions that are due (all of them when `all`), in
  // due order. New ones they schedule arrive through the queue, next turn.
  void run_timers(bool all) {
    auto now = Clock::now();
    while (!timers.empty() && (all || timers.begin()->first <= now)) {
      auto fn = std::move(timers.begin()->second);
      timers.erase(timers.begin());
      run_guarded(fn);
    }
  }

  void drain_messages() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      if (!t) continue;
      CURLcode rc = m->data.result;
      uint64_t id = t->id;
      if (t->abort_status != LLM_OK) {
        finish(id, t->abort_status, std::move(t->abort_error), rc);
      } else {
        llm_status st = map_curl_code(rc);
        finish(id, st, std::string(), rc);
      }
    }
  }

  void check_idle() {
    if (opts.idle_timeout_ms <= 0) return;
    auto now = Clock::now();
    if (now < next_idle_check) return;
    auto idle = std::chrono::milliseconds(opts.idle_timeout_ms);
    next_idle_check = Clock::time_point::max();
    std::vector<uint64_t> expired;
    try {
      for (auto& [id, t] : live) {
        if (!t->idle_armed || t->paused || t->abort_status != LLM_OK) continue;
        auto deadline = t->last_activity + idle;
        if (deadline <= now) expired.push_back(id);
        else if (deadline < next_idle_check) next_idle_check = deadline;
      }
    } catch (...) {
      next_idle_check = now + std::chrono::milliseconds(10);  // out of memory: look again soon
    }
    for (uint64_t id : expired) {
      std::string msg;
      try {
        msg = "idle timeout: no data received for " + std::to_string(opts.idle_timeout_ms) + " ms";
      } catch (...) {
      }
      finish(id, LLM_ERR_TIMEOUT, std::move(msg));
    }
  }

  // Wait for the poll, in ms: curl's own timer, the idle timer, and at most a
  // minute (a wakeup cuts any wait short).
  int poll_timeout() {
    if (!yielded.empty()) return 0;  // work is waiting in curl's hands, not on a socket
    long curl_ms = -1;
    curl_multi_timeout(multi, &curl_ms);
    long ms = 60'000;
    if (curl_ms >= 0) ms = std::min(ms, curl_ms);
    if (next_idle_check != Clock::time_point::max()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(next_idle_check - Clock::now()).count();
      // Round up so we wake at or just after the deadline, never spin before it.
      until = std::max<long>(0, static_cast<long>(until) + 1);
      ms = std::min<long>(ms, until);
    }
    if (!timers.empty()) {
      auto until = std::chrono::duration_cast<std::chrono::milliseconds>(timers.begin()->first - Clock::now()).count();
      until = std::max<long>(0, static_cast<long>(until) + 1);
      ms = std::min<long>(ms, until);
    }
    return static_cast<int>(ms);
  }

  // One turn of the loop after the commands: transfers advance, finished ones
  // complete, idle ones time out, due timers run.
  // Transfers that gave way last turn go on (unless paused by their reader
  // meanwhile). Resuming may deliver what curl kept, right here.
  void resume_yielded() {
    if (yielded.empty()) return;
    std::vector<uint64_t> ids;
    ids.swap(yielded);
    for (uint64_t id : ids) {
      auto it = live.find(id);
      if (it == live.end() || !it->second->yielded) continue;
      Transfer* t = it->second.get();
      t->yielded = false;
      if (!t->paused) curl_easy_pause(t->easy, CURLPAUSE_CONT);
    }
  }

  void step() {
    ++turn;
    resume_yielded();
    socket_io();
    drain_messages();
    check_idle();
    run_timers(false);
  }

  // Waits for sockets, timers or a wakeup; `give_up` (read under mu) skips the wait.
  template <typename Pred>
  void wait_for_io(Pred give_up) {
    int wait_ms = poll_timeout();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!cmds.empty() || give_up()) wait_ms = 0;
    }
    if (wait_ms <= 0) return;
    // Level-triggered: what is not acted on stays reported to the next epoll_wait.
    // A push() meanwhile signals evfd, which ends the wait.
    int n = epoll_wait(epfd, ready, 64, wait_ms);
    n_ready = n < 0 ? -1 : n;
  }

  // ------------------------------------------------ a caller runs the loop

  // Takes the loop for the calling thread if it is parked; false otherwise.
  // `for_host`: io_run() (which may take the loop while host_wants).
  bool begin_drive(bool for_host = false) {
    if (hosted ? tl_loop == this : tl_loop != nullptr) return false;
    std::lock_guard<std::mutex> lock(mu);
    if (hosted ? (owner != Owner::Host || stopping || (host_wants && !for_host))
               : (owner != Owner::Parked || stopping || !cmds.empty()))
      return false;
    outer_loop = tl_loop;
    owner = Owner::Caller;
    caller = std::this_thread::get_id();
    handoff = false;
    tl_loop = this;
    return true;
  }

  // Gives the loop back: to the I/O thread if anything is left for it, else parked.
  void end_drive(bool signal_host = true) {
    tl_loop = outer_loop;  // nullptr but for a hosted loop driven from another loop's callback
    outer_loop = nullptr;
    if (hosted) {
      {
        std::lock_guard<std::mutex> lock(mu);
        owner = Owner::Host;
        // The program's poll learns there is work (and re-reads io_run's timeout).
        if (signal_host && (!cmds.empty() || !live.empty() || !timers.empty() || stopping)) wake();
      }
      drive_cv.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      handoff = false;
      if (cmds.empty() && !stopping && live.empty() && timers.empty()) {
        owner = Owner::Parked;
        return;
      }
      owner = Owner::Io;
    }
    io_cv.notify_one();  // outside the lock, as in push()
  }

  // Runs the loop on the calling thread (which begin_drive() made its owner)
  // until `w` is ready, or until another thread queues work or shutdown begins.
  // True when `w` became ready. Always gives the loop back.
  bool drive(Waiter& w) {
    return drive_until([&] { return w.ready(); });
  }

  template <class Ready>
  bool drive_until(Ready ready) {
    struct Release {
      Impl* self;
      ~Release() { self->end_drive(); }
    } release{this};
    // Hosted, io_run() on another thread may want the loop: give it up then.
    auto give_up = [&] { return stopping || (hosted ? host_wants : handoff); };
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (give_up()) return ready();
        batch.swap(cmds);
      }
      run_batch(false);
      if (ready()) return true;
      step_guarded();
      if (ready()) return true;
      wait_for_io(give_up);
    }
  }

  // Runs the commands a caller swapped into `batch` under `mu`, outside the
  // lock; `stop`: shutting down (submits are answered, not started).
  void run_batch(bool stop) {
    halt_if_exiting();
    for (auto& c : batch) run_command_guarded(c, stop);
    batch.clear();
  }

  // One command, or one turn: an exception (out of memory where nothing
  // better could be done) ends there, never the loop.
  void run_command_guarded(Cmd& c, bool stop) noexcept {
    try {
      run_command(c, stop);
    } catch (...) {
    }
  }
  void step_guarded() noexcept {
    try {
      step();
    } catch (...) {
    }
  }

  void run() {
    tl_loop = this;
    for (;;) {
      bool stop;
      {
        std::unique_lock<std::mutex> lock(mu);
        // Nothing to do: park, leaving the loop free for a blocking caller.
        if (owner == Owner::Io && cmds.empty() && !stopping && live.empty() && timers.empty())
          owner = Owner::Parked;
        io_cv.wait(lock, [&] { return owner == Owner::Io; });
        batch.swap(cmds);
        stop = stopping;
      }
      run_batch(stop);
      if (stop) break;
      step_guarded();
      halt_if_exiting();
      // With nothing live and no timer, go round and park instead of polling.
      if (live.empty() && timers.empty()) continue;
      wait_for_io([&] { return stopping; });
    }

    run_shutdown();
  }

  // Shutting down: nothing new can be queued but scheduled functions
  // (submit sees `stopping` and answers on the spot; cancel/pause/resume are
  // ignored). Every scheduled function still runs, then every live transfer
  // is cancelled; callbacks may schedule more, so go round until all is quiet.
  void run_shutdown() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        batch.swap(cmds);
        if (batch.empty() && timers.empty() && live.empty()) {
          exited = true;
          break;
        }
      }
      run_batch(true);
      run_timers(true);
      // One at a time (finishing may change `live`); nothing here allocates
      // but the message, which may go unsaid.
      while (!live.empty()) {
        uint64_t id = live.begin()->first;
        std::string msg;
        try {
          msg = "transfer cancelled: the transport is shutting down";
        } catch (...) {
        }
        finish(id, LLM_ERR_CANCELLED, std::move(msg));
      }
    }
  }

  // ---------------------------------------------------- hosted: the program's turns

  // One run of the loop on the calling thread, without blocking: the commands,
  // what the sockets and timers have ready, the completions (callbacks run
  // here), and again while callbacks queued more (a few rounds). Returns when
  // to run again: -1 not needed, 0 at once, else ms. When another thread runs
  // the loop it returns -1 at once: that thread signals evfd when it lets go.
  // `destroyed`: a callback freed the transport (defer_destroy), which is now
  // gone; nothing of it may be touched.
  int io_run(bool& destroyed) {
    destroyed = false;
    bool asked = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      if (owner == Owner::Caller && !stopping && tl_loop != this) {
        // A blocking call on another thread is running the loop: it lets go
        // at its next turn (woken now).
        host_wants = asked = true;
        wake();
        drive_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return owner != Owner::Caller || stopping; });
      }
    }
    bool took = begin_drive(true);
    if (asked) {
      std::lock_guard<std::mutex> lock(mu);
      host_wants = false;
    }
    if (!took) return -1;
    drain_wake();  // before the queue is read: a push() after this signals again
    // What made the host's poll return (a dormant socket, even with no socket watched).
    int n = epoll_wait(epfd, ready, 64, 0);
    n_ready = n < 0 ? -1 : n;
    for (int round = 0; round < 4; ++round) {
      bool stop;
      {
        std::lock_guard<std::mutex> lock(mu);
        batch.swap(cmds);
        stop = stopping;
      }
      run_batch(false);
      if (stop) break;
      step_guarded();
      halt_if_exiting();
      std::lock_guard<std::mutex> lock(mu);
      if (cmds.empty() || stopping) break;
    }
    std::function<void()> destroy;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping && self_destroy) destroy = std::move(self_destroy);
    }
    if (destroy) {
      // A callback freed the client: shut down here, on the host's thread,
      // then free (the destructor finds it done).
      destroying_self = true;
      run_shutdown();
      tl_loop = outer_loop;
      {
        std::lock_guard<std::mutex> gate(handle->mu);
        handle->impl = nullptr;
      }
      destroyed = true;
      destroy();
      return -1;
    }
    int next;
    {
      std::lock_guard<std::mutex> lock(mu);
      bool queued = !cmds.empty() || stopping;
      next = queued ? 0 : (live.empty() && timers.empty() ? -1 : poll_timeout());
    }
    end_drive(false);
    return next;
  }

  // The destructor's work, hosted: the calling thread waits for a thread
  // driving the loop to let go, then runs the shutdown itself.
  void shutdown_hosted() {
    std::unique_lock<std::mutex> lock(mu);
    if (destroying_self) return;  // io_run() shut it down already, on this thread
    if (tl_loop == this) std::terminate();  // a callback freeing its transport goes through defer_destroy
    stopping = true;
    wake();
    drive_cv.wait(lock, [&] { return owner != Owner::Caller; });
    owner = Owner::Caller;
    caller = std::this_thread::get_id();
    lock.unlock();
    const Impl* outer = tl_loop;  // freed from another loop's callback: that loop goes on afterwards
    tl_loop = this;
    run_shutdown();
    tl_loop = outer;
    lock.lock();
    owner = Owner::Host;
    lock.unlock();
    std::lock_guard<std::mutex> gate(handle->mu);
    handle->impl = nullptr;
  }
};

bool Transport::LoopHandle::drive_until(const std::function<bool()>& ready) {
  std::unique_lock<std::mutex> lock(mu, std::try_to_lock);
  if (!lock.owns_lock() || impl == nullptr) return false;
  auto* self = static_cast<Transport::Impl*>(impl);
  if (!self->begin_drive()) return false;
  return self->drive_until([&] { return ready(); });
}

// ------------------------------------------------------------- the facade

Transport::Transport(TransportOptions opts) : impl_(std::make_unique<Impl>(opts)) {}

Transport::~Transport() { shutdown(); }

void Transport::shutdown() {
  if (impl_ && !shut_) {
    shut_ = true;
    impl_->shutdown();
  }
}

void Transport::defer_destroy(std::function<void()> destroy) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->self_destroy = std::move(destroy);
  impl_->stopping = true;  // the loop sees it once the running callback returns
}

void Transport::abandon() { (void)impl_.release(); }

uint64_t Transport::new_id() { return impl_->next_id.fetch_add(1, std::memory_order_relaxed); }

uint64_t Transport::submit(Request req, Callbacks cb, Timing timing, uint64_t id) {
  if (id == 0) id = new_id();
  auto t = impl_->build(id, std::move(req), std::move(cb), timing);
  Impl::Cmd cmd{Impl::CmdKind::Submit, id, std::move(t)};
  if (impl_->kick(cmd) || impl_->push(std::move(cmd))) return id;
  // Shutting down: push() did not take the command, so it is still ours.
  auto& tr = cmd.transfer;
  Result res;
  res.status = LLM_ERR_CANCELLED;
  res.error = "transfer cancelled: the transport is shutting down";
  if (std::string host = host_of(tr->req.url); !host.empty()) res.error += " (host " + host + ")";
  Callbacks done = std::move(tr->cb);
  tr.reset();
  if (done.on_done) {
    try {
      done.on_done(res);
    } catch (...) {
    }
  }
  return 0;
}

void Transport::cancel(uint64_t id) {
  if (id == 0) return;
  if (impl_->on_io_thread()) {
    // Possibly inside a curl callback of this very transfer: mark it now so no
    // more data reaches the caller; the loop removes it once curl returns.
    auto it = impl_->live.find(id);
    if (it != impl_->live.end()) Impl::abort_with(it->second.get(), LLM_ERR_CANCELLED, "transfer cancelled");
  }
  impl_->push({Impl::CmdKind::Cancel, id, nullptr});
}

void Transport::pause(uint64_t id) {
  if (id == 0) return;
  if (impl_->on_io_thread()) {
    auto it = impl_->live.find(id);
    if (it != impl_->live.end()) {
      it->second->paused = true;  // the next body write answers CURL_WRITEFUNC_PAUSE
      return;
    }
  }
  impl_->push({Impl::CmdKind::Pause, id, nullptr});
}

void Transport::resume(uint64_t id) {
  if (id == 0) return;
  // Always through the queue: curl_easy_pause(CONT) may run write callbacks
  // at once, which must not happen inside another curl callback.
  impl_->push({Impl::CmdKind::Resume, id, nullptr});
}

void Transport::schedule(long delay_ms, std::function<void()> fn) {
  if (!fn) return;
  Impl::Cmd cmd{Impl::CmdKind::Schedule, 0};
  {
    std::multimap<Clock::time_point, std::function<void()>> one;
    one.emplace(Clock::now() + std::chrono::milliseconds(std::max<long>(delay_ms, 0)), std::move(fn));
    cmd.timer = one.extract(one.begin());
  }
  if (impl_->push(std::move(cmd))) return;
  // The loop has already exited (only a caller racing the destructor gets
  // here): keep the promise that it runs once, here and now.
  Impl::run_guarded(cmd.timer.mapped());
}

const Secrets& Transport::proxy_secrets() const { return impl_->proxy_secrets; }

bool Transport::wire_bytes(uint64_t id, uint64_t& sent, uint64_t& received) const {
  sent = received = 0;
  auto it = impl_->live.find(id);
  if (it == impl_->live.end()) return false;
  sent = it->second->wire_sent;
  received = it->second->wire_received;
  return true;
}

bool Transport::on_io_thread() const { return impl_->on_io_thread(); }

int Transport::io_fd() const { return impl_->hosted ? impl_->epfd : -1; }

int Transport::io_run(bool& destroyed) { return impl_->io_run(destroyed); }

std::shared_ptr<Transport::LoopHandle> Transport::loop_handle() const { return impl_->handle; }

const void* Transport::loop_id() const { return impl_.get(); }

const void* Transport::running_loop() { return Impl::tl_loop; }

void Transport::run_blocking(const std::function<void()>& start, Waiter& w) {
  if (impl_->hosted) {
    // Hosted: drive while nobody else does; else wait a little and look again
    // (the driver may let go before this call's answer comes).
    bool driving = impl_->begin_drive();
    try {
      start();
    } catch (...) {
      if (driving) impl_->end_drive();
      throw;
    }
    if (driving && impl_->drive(w)) return;
    while (!w.ready()) {
      if (impl_->handle->drive_until([&] { return w.ready(); })) return;
      w.wait_for(5);
    }
    return;
  }
  if (!impl_->begin_drive()) {
    start();
    w.wait();
    return;
  }
  try {
    start();
  } catch (...) {
    impl_->end_drive();
    throw;
  }
  if (!impl_->drive(w)) w.wait();
}

void Waiter::notify() {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

bool Waiter::ready() {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

void Waiter::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_; });
}

bool Waiter::wait_for(long ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return done_; });
}

}  // namespace literllm::http
