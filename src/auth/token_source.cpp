#include "auth/token_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace literllm::auth {

namespace {

constexpr size_t kMaxKeyFileBytes = 1u << 20;  // a service-account file is about 2.3 KB

// The content of `path`, or an Error naming `field` and why it cannot be read.
std::string read_key_file(const std::string& path, std::string_view field) {
  auto fail = [&](const std::string& why) -> std::string {
    throw Error(LLM_ERR_INVALID_ARGUMENT, std::string(field) + ": cannot read \"" + path + "\": " + why);
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail("it is a directory, not a service-account key file");
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxKeyFileBytes) return fail("larger than 1 MiB, so not a service-account key file");
  }
  return text;
}

bool is_inline_json(const std::string& v) {
  size_t i = v.find_first_not_of(" \t\r\n");
  return i != std::string::npos && v[i] == '{';
}

class BearerToken final : public Credential {
 public:
  explicit BearerToken(std::shared_ptr<TokenSource> source) : source_(std::move(source)) {}

  void apply(http::Request& req, std::chrono::system_clock::time_point) const override {
    std::string token = source_->current();
    // A preview, or a request prepared before its token came: never sent as
    // such (the client fetches first while ready() is false).
    if (token.empty()) token = "(an access token from the service-account exchange)";
    http::set_header(req.headers, "Authorization", "Bearer " + token);
    bool listed = false;
    for (const auto& s : req.secret_headers) listed = listed || http::iequals(s, "Authorization");
    if (!listed) req.secret_headers.emplace_back("Authorization");
  }
  bool per_attempt() const override { return true; }
  std::string_view header() const override { return "Authorization"; }
  bool ready(std::chrono::system_clock::time_point now) const override { return source_->fresh(now).has_value(); }
  void fetch(const Exchange& exchange, std::chrono::system_clock::time_point now, Fetched done) const override {
    source_->get(exchange, now, [done = std::move(done)](const std::string*, const Error* e) { done(e); });
  }
  bool refused(const http::Request& sent) const override {
    const std::string* h = http::find_header(sent.headers, "Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (h && h->size() > kBearer.size() && http::iequals(std::string_view(*h).substr(0, kBearer.size()), kBearer))
      source_->refused(std::string_view(*h).substr(kBearer.size()));
    return true;
  }

 private:
  std::shared_ptr<TokenSource> source_;
};

}  // namespace

TokenSource::TokenSource(ServiceAccountSigner signer, std::string scope)
    : signer_(std::move(signer)), scope_(std::move(scope)) {}

std::optional<std::string> TokenSource::fresh(std::chrono::system_clock::time_point now) const {
  std::lock_guard lk(mu_);
  if (usable_ && now + kRefreshMargin < expires_) return token_;
  return std::nullopt;
}

std::string TokenSource::current() const {
  std::lock_guard lk(mu_);
  return token_;
}

size_t TokenSource::exchanges() const {
  std::lock_guard lk(mu_);
  return exchanges_;
}

void TokenSource::refused(std::string_view token) {
  std::lock_guard lk(mu_);
  if (token == token_) usable_ = false;
}

void TokenSource::get(const Exchange& exchange, std::chrono::system_clock::time_point now, Ready ready) {
  std::string token;
  bool start = false;
  {
    std::lock_guard lk(mu_);
    if (usable_ && now + kRefreshMargin < expires_) {
      token = token_;
    } else {
      waiting_.push_back(std::move(ready));
      if (!fetching_) {
        fetching_ = true;
        ++exchanges_;
        start = true;
      }
    }
  }
  if (!token.empty()) {
    ready(&token, nullptr);
    return;
  }
  if (!start) return;  // an exchange under way answers this caller too
  http::Request req;
  try {
    req.method = "POST";
    req.url = signer_.token_uri();
    req.headers = {{"Content-Type", std::string(kTokenRequestContentType)}, {"Accept", "application/json"}};
    req.body = token_request_body(signer_.assertion(scope_, now));
  } catch (const Error& e) {
    ExchangeResult r;
    r.error = e;
    on_answer(std::move(r), now);
    return;
  }
  try {
    exchange(std::move(req), [self = shared_from_this(), now](ExchangeResult r) { self->on_answer(std::move(r), now); });
  } catch (const std::bad_alloc&) {
    // Nothing was sent (the transport queues all or nothing).
    ExchangeResult r;
    r.error = Error(LLM_ERR_OUT_OF_MEMORY, "out of memory");
    on_answer(std::move(r), now);
  }
}

void TokenSource::on_answer(ExchangeResult r, std::chrono::system_clock::time_point asked) {
  const std::string where = "the service-account token exchange at " + signer_.token_uri() + " failed: ";
  std::optional<Error> err;
  AccessToken t;
  if (r.error) {
    err.emplace(r.error->status(), where + r.error->what(), r.error->http_status());
  } else {
    try {
      t = parse_token_response(r.body, static_cast<int>(r.http_status));
    } catch (const Error& e) {
      err.emplace(e.status(), where + e.what(), e.http_status());
      err->code = e.code;
    }
  }
  std::vector<Ready> waiting;
  {
    std::lock_guard lk(mu_);
    fetching_ = false;
    if (!err) {
      token_ = t.access_token;
      // Counted from when the request left: the token cannot have lived longer.
      expires_ = asked + std::chrono::seconds(t.expires_in);
      usable_ = true;
    }
    waiting.swap(waiting_);
  }
  for (auto& w : waiting) {
    if (err) w(nullptr, &*err);
    else w(&t.access_token, nullptr);
  }
}

std::shared_ptr<TokenSource> TokenSources::service_account(const std::string& file, std::string_view field,
                                                           std::string_view scope) {
  std::string key = std::string(scope) + '\n' + file;
  std::lock_guard lk(mu_);
  if (auto it = by_file_.find(key); it != by_file_.end()) return it->second;
  const bool inline_json = is_inline_json(file);
  std::string text = inline_json ? file : read_key_file(file, field);
  std::optional<ServiceAccountSigner> signer;
  try {
    signer.emplace(ServiceAccountSigner::from_json(text));
    ::explicit_bzero(text.data(), text.size());  // the key lives on parsed, not as text
  } catch (const Error& e) {
    ::explicit_bzero(text.data(), text.size());
    throw Error(e.status(), std::string(field) + " (" + (inline_json ? std::string("inline JSON") : file) + "): " + e.what());
  }
  auto source = std::make_shared<TokenSource>(std::move(*signer), std::string(scope));
  by_file_.emplace(std::move(key), source);
  return source;
}

std::shared_ptr<const Credential> bearer_token_credential(std::shared_ptr<TokenSource> source) {
  return std::make_shared<BearerToken>(std::move(source));
}

}  // namespace literllm::auth
