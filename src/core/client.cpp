#include "core/client.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <chrono>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <new>
#include <optional>
#include <random>

extern char** environ;

#include "core/assembler.hpp"
#include "core/errors.hpp"
#include "core/process.hpp"
#include "core/validate.hpp"
#include "core/secrets.hpp"
#include "http/headers.hpp"
#include "http/sse.hpp"
#include "http/url.hpp"

namespace literllm {

namespace {

constexpr size_t kPauseAboveBytes = 8u << 20;        // a pull stream whose reader lags this far pauses the transfer
constexpr size_t kResumeBelowBytes = 1u << 20;
constexpr size_t kErrorBodyKeep = 1u << 20;          // of an error answer's body, the rest is not read
// After a stream's end event, how long the transfer may take to end by itself
// (the chunked body's last bytes, which keep the connection reusable). Any
// body byte in that time, or none of an end, drops the connection.
constexpr long kAfterEndGraceMs = 100;

using Clock = std::chrono::steady_clock;

// Call ids are unique in the process: an id of one client never names a call
// of another.
std::atomic<uint64_t> g_next_call_id{1};

// The error of a call abandoned for want of memory: made at load time, never
// freed, so that reporting it allocates nothing.
const Error& oom_error() {
  static const Error* e = new Error(LLM_ERR_OUT_OF_MEMORY, "out of memory");
  return *e;
}
[[maybe_unused]] const Error& g_oom_at_load = oom_error();

bool retryable_http(long s) { return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || s == 529; }

long backoff_ms(int attempt) {
  static thread_local std::minstd_rand rng{std::random_device{}()};
  double base = std::min(8000.0, 500.0 * std::pow(2.0, attempt));
  std::uniform_real_distribution<double> jitter(0.75, 1.25);
  return static_cast<long>(base * jitter(rng));
}

using EnvFn = std::function<std::string(const std::string&)>;

// A key from the environment, without the spaces and line ends that shells
// and files leave around it; one that still holds a control character cannot
// be sent (named by its variable, never shown).
std::string env_key(const EnvFn& env, const std::string& var) {
  std::string v = env(var);
  size_t b = v.find_first_not_of(" \t\r\n"), e = v.find_last_not_of(" \t\r\n");
  v = b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
  if (!http::is_valid_value(v))
    invalid("the environment variable " + var + " holds a key with a control character, which cannot be sent");
  return v;
}

// Replaces each {name} in a base URL with the provider's setting of that
// name ({region}, {project}), or else the environment variable ({VAR}).
std::string expand_placeholders(const EnvFn& env, const Target& t, const std::string& url) {
  std::string out;
  size_t i = 0;
  while (i < url.size()) {
    size_t open = url.find('{', i);
    if (open == std::string::npos) break;
    size_t close = url.find('}', open);
    if (close == std::string::npos) break;
    std::string var = url.substr(open + 1, close - open - 1);
    std::string val = find_setting(*t.spec, var) ? t.required(var) : env(var);
    if (val.empty())
      invalid("provider " + t.spec->name + " needs " + var + " in the environment (its base URL is " + redact_url(url) +
              ")");
    out.append(url, i, open - i).append(val);
    i = close + 1;
  }
  out.append(url, i, std::string::npos);
  return out;
}

// Seconds to milliseconds, rounded up: a tiny timeout must not become 0, which means none.
long secs_to_ms(double secs) { return std::max(1L, static_cast<long>(std::ceil(secs * 1000))); }

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

struct Client::Call {
  uint64_t id = 0;
  Client::Loop* loop = nullptr;  // where it runs: every transfer and timer of it
  PreparedCall prep;
  ChunkFn on_chunk;
  DoneFn done;
  CallStats stats;
  int retries = 0;
  Clock::time_point started = Clock::now();
  Clock::time_point deadline = Clock::time_point::max();  // started + the call's timeout: all attempts and waits

  // The current attempt's state; touched only on the loop's thread.
  long http_status = 0;
  http::Headers headers;
  std::string body;
  std::unique_ptr<StreamDecoder> decoder;  // a stream's framing and translation (one per attempt)
  StreamAssembler assembler;
  bool saw_done = false;        // the stream's end event arrived: the call is complete
  bool delivered = false;
  bool chunk_cancelled = false;
  bool error_body_cut = false;  // an error answer's body was cut at kErrorBodyKeep (the rest not read)
  bool not_sse = false;         // a stream answered 2xx with a body that is not an event stream
  bool oom = false;             // memory ran out in a callback: the call ends with LLM_ERR_OUT_OF_MEMORY
  std::optional<Error> failure;
  // The credential was just fetched: the next attempt applies it without
  // asking whether it is ready (a token may be short-lived).
  bool credential_fetched = false;
  bool credential_refreshed = false;  // refused once (HTTP 401) and fetched anew: not again

  void reset_attempt(const Limits& limits) {
    http_status = 0;
    headers.clear();
    std::string().swap(body);
    if (prep.stream) {
      decoder = prep.op->stream_decoder(prep.target, limits);
      assembler = StreamAssembler(limits);
    }
    saw_done = false;
    error_body_cut = false;
    not_sse = false;
    failure.reset();
  }

  // Once finished, what the call held is of no more use, although its transfer
  // may still run for a moment (kAfterEndGraceMs) and keep the Call alive.
  // What a late transfer callback reads stays: the target, the operation, the flags.
  void release() {
    prep.request.SetNull();
    prep.request.GetAllocator().Clear();
    prep.http = http::Request();
    on_chunk = nullptr;
    headers.clear();
    std::string().swap(body);
    if (prep.stream) {
      decoder.reset();
      assembler = StreamAssembler();
    }
  }

  // Shared with other threads (cancel).
  std::mutex mu;
  uint64_t transport_id = 0;
  uint64_t attempt_seq = 0;
  bool attempt_running = false;
  bool cancelled = false;
  bool finished = false;
  bool awaiting_credential = false;  // between await_credential and the fetch's answer
};

Client::Client(Config cfg)
    : cfg_(std::move(cfg)),
      fork_generation_(fork_generation()),
      env_([] {
        std::unordered_map<std::string, std::string> m;
        for (char** e = environ; e && *e; ++e) {
          std::string_view kv(*e);
          size_t eq = kv.find('=');
          if (eq != std::string_view::npos && eq > 0) m.emplace(kv.substr(0, eq), kv.substr(eq + 1));
        }
        return m;
      }()),
      max_loops_(cfg_.hosted_io ? 1 : cfg_.io_threads > 0 ? cfg_.io_threads : Config::auto_io_threads()),
      loop_ids_(std::make_shared<LoopIds>()) {
  loops_[0] = std::make_unique<Loop>(transport_options());
  loop_ids_->ids[0].store(loops_[0]->transport.loop_id(), std::memory_order_release);
  n_loops_.store(1, std::memory_order_release);
}

Client::~Client() {
  // Every loop is shut down before any is destroyed: a callback on one may
  // still reach another (schedule, submit), which then answers at once.
  const int n = n_loops_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) loops_[i]->transport.shutdown();
}

http::TransportOptions Client::transport_options() const {
  return http::TransportOptions{secs_to_ms(cfg_.connect_timeout_secs), secs_to_ms(cfg_.stream_idle_timeout_secs),
                                static_cast<size_t>(cfg_.limits.max_header_bytes), cfg_.hosted_io};
}

bool LoopIds::running() const {
  const void* mine = http::Transport::running_loop();
  if (!mine) return false;
  for (const auto& id : ids) {
    const void* v = id.load(std::memory_order_acquire);
    if (!v) return false;  // filled in order
    if (v == mine) return true;
  }
  return false;
}

Client::Loop* Client::pick_loop() {
  // Enough calls on one loop that a second thread's turn pays for its wake-ups.
  constexpr int kSpreadAt = 4;
  auto least = [this](int n) {
    Loop* best = loops_[0].get();
    int fewest = best->calls.load(std::memory_order_relaxed);
    for (int i = 1; i < n && fewest > 0; ++i) {
      int k = loops_[i]->calls.load(std::memory_order_relaxed);
      if (k < fewest) {
        best = loops_[i].get();
        fewest = k;
      }
    }
    return std::pair{best, fewest};
  };
  int n = n_loops_.load(std::memory_order_acquire);
  auto [best, fewest] = least(n);
  if (fewest >= kSpreadAt && n < max_loops_) {
    std::lock_guard lk(loops_mu_);
    n = n_loops_.load(std::memory_order_relaxed);
    if (n < max_loops_ && !spawn_failed_) {
      try {
        loops_[n] = std::make_unique<Loop>(transport_options());
        loop_ids_->ids[n].store(loops_[n]->transport.loop_id(), std::memory_order_release);
        n_loops_.store(n + 1, std::memory_order_release);
        best = loops_[n].get();
      } catch (...) {
        spawn_failed_ = true;  // no thread or descriptor for it: the loops there are carry on
      }
    } else {
      best = least(n).first;
    }
  }
  best->calls.fetch_add(1, std::memory_order_relaxed);
  return best;
}

void Client::defer_destroy(std::function<void()> destroy) {
  // The loop whose callback frees the client runs `destroy` once its
  // callback returns; ~Client then shuts the others down from there.
  const void* mine = http::Transport::running_loop();
  const int n = n_loops_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i)
    if (loops_[i]->transport.loop_id() == mine) return loops_[i]->transport.defer_destroy(std::move(destroy));
  std::terminate();  // only called from on_io_thread()
}

void Client::abandon() {
  const int n = n_loops_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) loops_[i]->transport.abandon();
}

bool Client::forked() const noexcept { return fork_generation_ != fork_generation(); }

std::string Client::env(const std::string& name) const {
  auto it = env_.find(name);
  return it == env_.end() ? std::string() : it->second;
}

ProviderPtr Client::lookup(std::string_view prefix) const {
  if (auto p = registered_.find(prefix)) return p;
  if (auto p = global_providers().find(prefix)) return p;
  return find_builtin(prefix);
}

Target Client::resolve(std::string_view model) const {
  Target t;
  size_t slash = model.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = model.substr(0, slash);
    t.spec = lookup(prefix);
    // A prompt goes to the company the user meant. A client whose model_hint
    // names a provider that serves other companies' models under their names
    // (foreign_model_ids: "openai/gpt-oss-120b" on Groq, "Qwen/..." on
    // Together) keeps every model id, unless its prefix is that provider, or
    // one the user declared: registered, or configured under "providers".
    if (t.spec && cfg_.model_hint_set) {
      ProviderPtr hint = lookup(cfg_.model_hint);
      bool declared = t.spec->registered || cfg_.override_for(t.spec->name, t.spec->aliases) != nullptr;
      if (hint && hint != t.spec && (hint->quirks.foreign_model_ids || hint->registered) && !declared)
        t.spec = nullptr;
    }
    if (t.spec) {
      // The prefix is stripped, unless it is part of the provider's own ids,
      // or an alias of a model_hint provider that keeps foreign ids (only its
      // canonical name is then taken for a prefix).
      std::string key = normalize_provider_name(prefix);
      bool kept = std::find(t.spec->kept_prefixes.begin(), t.spec->kept_prefixes.end(), key) !=
                  t.spec->kept_prefixes.end();
      if (cfg_.model_hint_set && t.spec->quirks.foreign_model_ids && key != normalize_provider_name(t.spec->name) &&
          lookup(cfg_.model_hint) == t.spec)
        kept = true;
      t.model = std::string(kept ? model : model.substr(slash + 1));
      if (t.model.empty()) invalid("request.model: no model name after the provider prefix \"" + std::string(prefix) + "/\"");
    } else if (!cfg_.model_hint_set) {
      std::string known;
      for (auto& p : registered_.all()) known += (known.empty() ? "" : ", ") + p->name;
      for (auto& p : global_providers().all()) known += (known.empty() ? "" : ", ") + p->name;
      for (auto& p : builtin_providers()) known += (known.empty() ? "" : ", ") + p->name;
      invalid("request.model: unknown provider \"" + std::string(prefix) + "\" in \"" + std::string(model) +
              "\"; known providers: " + known);
    }
  }
  if (!t.spec) {  // a bare model, or (with an explicit model_hint) a model whose prefix is not a provider
    t.spec = lookup(cfg_.model_hint);
    if (!t.spec) invalid("config.model_hint: unknown provider \"" + cfg_.model_hint + "\"");
    t.model = std::string(model);
  }
  return t;
}

void Client::complete_target(Target& t) const {

  const ProviderSpec& s = *t.spec;
  const EnvFn env = [this](const std::string& n) { return this->env(n); };
  const ProviderOverride* o = cfg_.override_for(s.name, s.aliases);
  bool is_hint = lookup(cfg_.model_hint) == t.spec;
  // Config and registered URLs were checked where they entered, built-in ones
  // are the library's own; what the environment supplies, or fills in, is
  // checked here, so that a preview refuses what a call would.
  bool from_env = false;
  // Settings: the config's, else the first environment variable set, else the row's default.
  for (auto& st : s.settings) {
    std::string v;
    if (o)
      for (auto& [k, val] : o->settings)
        if (k == st.name) v = val;
    if (v.empty())
      for (auto& var : st.env)
        if (v = st.secret ? env_key(env, var) : env(var); !v.empty()) break;
    if (v.empty()) v = st.fallback;
    if (st.secret) t.secrets.add(v);
    t.settings.emplace_back(st.name, std::move(v));
  }
  if (o && o->base_url) t.base_url = *o->base_url;
  else if (is_hint && cfg_.base_url) t.base_url = *cfg_.base_url;
  else if (std::string e = env(s.base_url_env); !e.empty()) t.base_url = trim_slashes(e), from_env = true;
  else t.base_url = s.base_url;
  if (t.base_url.empty())
    invalid("providers." + s.name + ".base_url: required (set it in the client config" +
            (s.base_url_env.empty() ? std::string() : " or set " + s.base_url_env) + ")");
  if (t.base_url.find('{') != std::string::npos) {
    t.base_url = expand_placeholders(env, t, t.base_url);
    from_env = true;
  }
  if (from_env)
    if (std::string why = http::url_problem(t.base_url); !why.empty())
      invalid("the base URL of provider " + s.name + " " + why);
  t.secrets.add_url(t.base_url);

  if (o && o->api_key) t.api_key = *o->api_key;
  else if (is_hint && cfg_.api_key) t.api_key = *cfg_.api_key;
  else if (!s.api_key.empty()) t.api_key = s.api_key;
  else
    for (auto& var : s.api_key_env)
      if (t.api_key = env_key(env, var); !t.api_key.empty()) break;
  t.secrets.add(t.api_key);
  const bool has_bearer = !s.bearer_setting.empty() && !t.setting(s.bearer_setting).empty();
  if (t.api_key.empty() && !has_bearer && s.auth != AuthKind::None && s.auth != AuthKind::Signed &&
      !s.quirks.key_optional) {
    std::string how = s.api_key_env.empty() ? std::string() : "set " + s.api_key_env.front() + " or ";
    throw Error(LLM_ERR_AUTHENTICATION,
                "no API key for provider " + s.name + ": " + how + "the client config providers." + s.name + ".api_key");
  }
  t.headers = s.headers;
  for (auto& h : cfg_.headers) http::set_header(t.headers, h.first, h.second);
  if (o)
    for (auto& h : o->headers) http::set_header(t.headers, h.first, h.second);
  for (auto& [name, value] : t.headers) t.secrets.add_header(name, value);
  t.credential = make_credential(t, &tokens_);
}

PreparedCall Client::prepare(std::string_view request_json, bool stream) const {
  PreparedCall p;
  p.request = json::parse(request_json, "request", LLM_ERR_INVALID_ARGUMENT);
  // The provider's value limits apply (validate.hpp): the model is routed
  // first. A missing or malformed model is refused by the structural checks.
  const json::Value* model = json::find(p.request, "model");
  if (!model || !model->IsString() || model->GetStringLength() == 0) {
    validate_chat_request(p.request, stream, RequestRules::Structure);
    invalid("request.model: is required");  // not reached: refused above
  }
  p.target = resolve(json::sv(*model));
  validate_chat_request(p.request, stream, request_rules_for(p.target.spec->name));
  p.stream = stream;
  complete_target(p.target);
  try {
    finish_prepare(p, stream);
  } catch (const Error& e) {
    throw Error(e.status(), p.target.secrets.redact(e.what()), e.http_status());
  }
  return p;
}

PreparedCall Client::prepare_call(Endpoint e, std::string_view request_json, const Blobs& blobs, bool stream) const {
  if (e == Endpoint::Chat) return prepare(request_json, stream);
  if (stream && !streams(e))
    invalid(std::string("endpoint \"") + endpoint_name(e) +
            "\" does not stream (llm_call_stream takes \"chat\" and \"responses.create\"); use llm_call");
  PreparedCall p;
  p.endpoint = e;
  p.request = json::parse(request_json, "request", LLM_ERR_INVALID_ARGUMENT);
  validate_endpoint_request(e, p.request, blobs.count);
  // "stream" says which call this is, as in a chat.
  if (const json::Value* sv = json::find(p.request, "stream"); sv && sv->IsBool()) {
    if (!stream && sv->IsTrue()) invalid("request.stream: must be absent or false here; use llm_call_stream for a streamed call");
    if (stream && sv->IsFalse())
      invalid("request.stream: must be absent or true in a streamed call; use llm_call for an unstreamed one");
  } else if (sv && !sv->IsNull()) {
    invalid(std::string("request.stream: expected a boolean, got ") + json::type_name(*sv));
  }
  // Routing: "provider" names the provider (and "model", if any, is sent as
  // it is); else "model" routes as a chat's does; else the model_hint provider.
  if (auto pv = p.request.FindMember("provider"); pv != p.request.MemberEnd()) {
    const std::string name(json::sv(pv->value));
    p.target.spec = lookup(name);
    if (!p.target.spec) invalid("request.provider: unknown provider \"" + name + "\"");
    if (const json::Value* m = json::find(p.request, "model"); m && m->IsString()) p.target.model = std::string(json::sv(*m));
    p.request.RemoveMember(pv);
  } else if (const json::Value* m = json::find(p.request, "model"); m && m->IsString()) {
    p.target = resolve(json::sv(*m));
  } else {
    p.target.spec = lookup(cfg_.model_hint);
    if (!p.target.spec) invalid("config.model_hint: unknown provider \"" + cfg_.model_hint + "\"");
  }
  p.stream = stream;
  // Known before any key is looked for: a provider without the endpoint says so first.
  require_operation(*p.target.spec, e);
  complete_target(p.target);
  try {
    finish_prepare(p, stream, &blobs);
  } catch (const Error& err) {
    throw Error(err.status(), p.target.secrets.redact(err.what()), err.http_status());
  }
  return p;
}

void Client::finish_prepare(PreparedCall& p, bool stream, const Blobs* blobs) const {
  p.timeout_ms = secs_to_ms(cfg_.timeout_secs);
  if (auto it = p.request.FindMember("timeout_secs"); it != p.request.MemberEnd()) {
    p.timeout_ms = secs_to_ms(it->value.GetDouble());
    p.request.RemoveMember(it);
  }
  if (auto it = p.request.FindMember("extra_headers"); it != p.request.MemberEnd()) {
    for (auto& m : it->value.GetObject()) {
      p.target.secrets.add_header(json::sv(m.name), json::sv(m.value));
      http::set_header(p.target.headers, std::string(json::sv(m.name)), std::string(json::sv(m.value)));
    }
    p.request.RemoveMember(it);
  }
  // A header the caller set that a fetched credential would set is the
  // caller's credential: nothing is fetched.
  if (p.target.credential && !p.target.credential->header().empty() &&
      http::find_header(p.target.headers, p.target.credential->header()))
    p.target.credential.reset();
  // Reserved for the policy layer (fallbacks, per-request retry); refused rather
  // than forwarded to a provider that would not know them.
  for (const char* reserved : {"fallbacks", "retry"})
    if (p.request.HasMember(reserved))
      invalid(std::string("request.") + reserved + ": not supported by this version of literllm");
  p.op = &require_operation(*p.target.spec, p.endpoint);
  p.http = blobs ? p.op->build_with(p.request, p.target, stream, *blobs) : p.op->build(p.request, p.target, stream);
  // The body is final: the credential signs it (again before each later
  // attempt when it is dated, see submit_attempt).
  if (p.target.credential) {
    const auto now = std::chrono::system_clock::now();
    p.credential_ready = p.target.credential->ready(now);
    p.target.credential->apply(p.http, now);
  }
  // What the transport would refuse, refused here, so a preview agrees. Each
  // header was checked where it entered (config, registration, extra_headers,
  // the key); together they may still be too many.
  if (std::string why = http::head_size_problem(p.http.url, p.http.headers); !why.empty())
    throw Error(LLM_ERR_INVALID_HEADER, why);
}

std::string Client::preview(std::string_view request_json, bool stream) const {
  return preview_of(prepare(request_json, stream));
}

std::string Client::preview_call(Endpoint e, std::string_view request_json, const Blobs& blobs) const {
  // "stream": true previews the streamed call (llm_call_stream), for an endpoint that streams.
  bool stream = false;
  if (streams(e)) {
    json::Document d = json::parse(request_json, "request", LLM_ERR_INVALID_ARGUMENT);
    const json::Value* sv = json::find(d, "stream");
    stream = sv && sv->IsTrue();
  }
  return preview_of(prepare_call(e, request_json, blobs, stream));
}

std::string Client::preview_of(const PreparedCall& p) {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("provider", json::str(p.target.spec->name, a), a);
  d.AddMember("method", json::str(p.http.method, a), a);
  const Secrets& secrets = p.target.secrets;
  d.AddMember("url", json::str(secrets.redact(redact_url(p.http.url)), a), a);
  json::Value headers(rapidjson::kObjectType);
  for (auto& [k, v] : p.http.headers) {
    bool secret = http::is_credential(k);
    for (auto& s : p.http.secret_headers) secret = secret || http::iequals(s, k);
    std::string shown = secret ? std::string("[REDACTED]") : secrets.redact(v);
    headers.AddMember(json::str(k, a), json::str(shown, a), a);
  }
  d.AddMember("headers", headers, a);
  d.AddMember("body", json::str(secrets.redact(p.http.body), a), a);
  if (!p.http.parts.empty()) {
    // A multipart body: each part described (a plain field's value shown, a
    // file's name, type and size), not its bytes.
    json::Value parts(rapidjson::kArrayType);
    for (const http::Part& part : p.http.parts) {
      json::Value v(rapidjson::kObjectType);
      v.AddMember("name", json::str(part.name, a), a);
      if (!part.filename.empty() || !part.path.empty() || part.data) {
        std::string filename = part.filename;
        if (filename.empty() && !part.path.empty()) filename = part.path.substr(part.path.find_last_of('/') + 1);
        v.AddMember("filename", json::str(filename, a), a);
        if (!part.content_type.empty()) v.AddMember("content_type", json::str(part.content_type, a), a);
        std::error_code ec;
        const uint64_t size = part.path.empty() ? part.size : std::filesystem::file_size(part.path, ec);
        v.AddMember("bytes", ec ? uint64_t{0} : size, a);
        if (!part.path.empty()) v.AddMember("path", json::str(part.path, a), a);
      } else {
        v.AddMember("value", json::str(secrets.redact(part.value), a), a);
      }
      parts.PushBack(v, a);
    }
    d.AddMember("parts", parts, a);
  }
  return json::dump(d);
}

namespace {
std::string list_providers(const ProviderTable* own) {
  json::Document d(rapidjson::kArrayType);
  auto& a = d.GetAllocator();
  auto add = [&](const ProviderSpec& p) {
    json::Value v;
    provider_to_json(p, v, a);
    d.PushBack(v, a);
  };
  if (own)
    for (auto& p : own->all()) add(*p);
  for (auto& p : global_providers().all()) add(*p);
  for (auto& p : builtin_providers()) add(*p);
  return json::dump(d);
}
}  // namespace

std::string Client::providers_json() const { return list_providers(&registered_); }
std::string Client::global_providers_json() { return list_providers(nullptr); }

bool StreamQueue::forked() const noexcept { return fork_generation != literllm::fork_generation(); }

void StreamQueue::throw_error() const {
  if (error) throw error->deep_copy();  // shares no buffer with `error`, which the I/O thread may free
  throw Error(status, "the stream failed (and memory ran out while its error was recorded)");
}

const std::string* StreamQueue::next() {
  if (forked())
    invalid("llm_stream_next: this stream was started by the parent process; after fork() the child must make its "
            "own client");
  if (loops && loops->running())
    invalid("llm_stream_next was called from a callback on the client's own I/O thread, where it would wait on "
            "itself; use llm_chat_stream_async there");
  std::unique_lock lk(mu);
  auto have = [&] { return cancel_requested || !chunks.empty() || ended; };
  // Hosted: the reader runs the loop while it waits, when nobody else does;
  // else it looks again now and then (the driver may let go first).
  while (host && !have()) {
    lk.unlock();
    bool got = host->drive_until([&] {
      std::lock_guard g(mu);
      return have();
    });
    lk.lock();
    if (!got) cv.wait_for(lk, std::chrono::milliseconds(5), have);
  }
  cv.wait(lk, have);
  if (end_returned) return nullptr;
  if (error_returned) throw_error();
  if (cancel_requested) throw Error(LLM_ERR_CANCELLED, "the stream was cancelled");
  if (!chunks.empty()) {
    current = std::move(chunks.front());
    chunks.pop_front();
    queued_bytes -= current.size();
    if (paused && queued_bytes < kResumeBelowBytes) {
      paused = false;
      if (resume) resume();
    }
    return &current;
  }
  if (status != LLM_OK) {
    error_returned = true;
    throw_error();
  }
  end_returned = true;
  return nullptr;
}

void StreamQueue::request_cancel() {
  std::lock_guard lk(mu);
  // A stream whose end or error the reader has seen stays as it ended.
  if (end_returned || error_returned || cancel_requested) return;
  cancel_requested = true;
  if (cancel) cancel();
  cv.notify_all();
}

std::unique_ptr<Response> StreamQueue::final_copy() {
  if (forked())
    invalid("llm_stream_final_response: this stream was started by the parent process; after fork() the child "
            "must make its own client");
  std::lock_guard lk(mu);
  if (error_returned) throw_error();
  if (cancel_requested && !end_returned) throw Error(LLM_ERR_CANCELLED, "the stream was cancelled");
  if (!ended || (status == LLM_OK && !end_returned))
    invalid("llm_stream_final_response: the stream has not ended yet (read it until llm_stream_next gives NULL)");
  if (status != LLM_OK) throw_error();
  if (!final_response) throw Error(LLM_ERR_INTERNAL, "the stream ended without a response");
  return std::make_unique<Response>(*final_response);
}

uint64_t Client::chat_async(std::string_view request_json, DoneFn done) {
  return start(prepare(request_json, false), nullptr, std::move(done));
}

uint64_t Client::stream_async(std::string_view request_json, ChunkFn on_chunk, DoneFn done) {
  return start(prepare(request_json, true), std::move(on_chunk), std::move(done));
}

int Client::io_fd() const {
  if (!cfg_.hosted_io)
    invalid("llm_client_io_fd: the client runs its own I/O thread; make it with \"io\": \"host\" to run its loop "
            "from the program's");
  return loops_[0]->transport.io_fd();
}

int Client::io_run(bool& destroyed) {
  destroyed = false;
  if (!cfg_.hosted_io)
    invalid("llm_client_io_run: the client runs its own I/O thread; make it with \"io\": \"host\" to run its loop "
            "from the program's");
  if (on_io_thread())
    invalid("llm_client_io_run was called from inside the loop it runs (a callback of this client, or a blocking "
            "call on it); return from the callback instead");
  return loops_[0]->transport.io_run(destroyed);
}

namespace {
[[noreturn]] void cancelled_before_start() {
  throw Error(LLM_ERR_CANCELLED, "the request was cancelled: its cancel token was triggered before the call began");
}
}  // namespace

std::unique_ptr<Response> Client::chat(std::string_view request_json, CancelToken* cancel) {
  if (on_io_thread())
    invalid("llm_chat was called from a callback on the client's own I/O thread, where it would wait on itself; "
            "use llm_chat_async there");
  if (cancel && cancel->triggered()) cancelled_before_start();
  return run(prepare(request_json, false), cancel);
}

std::unique_ptr<Response> Client::call(Endpoint e, std::string_view request_json, const Blobs& blobs,
                                       CancelToken* cancel) {
  if (on_io_thread())
    invalid("llm_call was called from a callback on the client's own I/O thread, where it would wait on itself; "
            "use llm_call_async there");
  if (cancel && cancel->triggered()) cancelled_before_start();
  return run(prepare_call(e, request_json, blobs), cancel);
}

uint64_t Client::call_async(Endpoint e, std::string_view request_json, const Blobs& blobs, DoneFn done) {
  return start(prepare_call(e, request_json, blobs), nullptr, std::move(done));
}

std::shared_ptr<StreamQueue> Client::call_stream(Endpoint e, std::string_view request_json, const Blobs& blobs) {
  return queue_stream(prepare_call(e, request_json, blobs, true));
}

uint64_t Client::call_stream_async(Endpoint e, std::string_view request_json, const Blobs& blobs, ChunkFn on_chunk,
                                   DoneFn done) {
  return start(prepare_call(e, request_json, blobs, true), std::move(on_chunk), std::move(done));
}

std::unique_ptr<Response> Client::run(PreparedCall prep, CancelToken* cancel) {
  // The result outlives this frame if the call ends on another thread just as
  // the wait returns: shared. The waiter is woken whatever happens, without
  // allocating; an error that cannot be copied for want of memory becomes
  // LLM_ERR_OUT_OF_MEMORY.
  struct Result {
    http::Waiter waiter;
    llm_status st = LLM_OK;
    std::unique_ptr<Response> r;
    std::optional<Error> err;
  };
  auto res = std::make_shared<Result>();
  // Linked into the token while the call runs; unlinked however this frame ends.
  struct TokenUse : CancelToken::Use {
    CancelToken* token = nullptr;
    ~TokenUse() {
      if (token) token->remove(*this);
    }
  } use;
  Loop* loop = pick_loop();
  loop->transport.run_blocking(
      [&] {
        uint64_t id = start(
            std::move(prep), nullptr,
            [res](llm_status st, std::unique_ptr<Response> r, const Error* e) {
          res->st = st;
          res->r = std::move(r);
          if (e) {
            try {
              res->err.emplace(e->deep_copy());
            } catch (...) {
              res->st = LLM_ERR_OUT_OF_MEMORY;
            }
          }
          res->waiter.notify();
            },
            loop);
        if (cancel) {
          use.client = this;
          use.id = id;
          if (cancel->add(use)) use.token = cancel;
          else this->cancel(id);  // triggered since the check before prepare()
        }
      },
      res->waiter);
  if (res->st != LLM_OK) {
    // A deep copy: a plain one would share its message buffer with res->err,
    // which the I/O thread may be the one to free.
    if (res->err && res->st == res->err->status()) throw res->err->deep_copy();
    throw oom_error();
  }
  return std::move(res->r);
}

std::shared_ptr<StreamQueue> Client::stream(std::string_view request_json) {
  return queue_stream(prepare(request_json, true));
}

std::shared_ptr<StreamQueue> Client::queue_stream(PreparedCall prep) {
  auto q = std::make_shared<StreamQueue>();
  q->loops = loop_ids_;
  q->fork_generation = fork_generation_;
  Loop* loop = pick_loop();
  try {
    q->host = loop->transport.loop_handle();
  } catch (...) {
    loop->calls.fetch_sub(1, std::memory_order_relaxed);
    throw;
  }
  // The chunk callback runs on the I/O thread: it only queues, and pauses the
  // transfer when the reader falls behind (llm_stream_next resumes it).
  auto call_id = std::make_shared<std::atomic<uint64_t>>(0);
  auto on_chunk = [this, q, call_id](std::string_view chunk) {
    std::lock_guard lk(q->mu);
    q->queued_bytes += chunk.size();
    q->chunks.emplace_back(chunk);
    if (q->queued_bytes > kPauseAboveBytes && !q->paused)
      q->paused = with_transfer(call_id->load(), [](http::Transport& t, uint64_t tid) { t.pause(tid); });
    q->cv.notify_one();
    return true;
  };
  auto done = [q](llm_status st, std::unique_ptr<Response> r, const Error* e) {
    std::lock_guard lk(q->mu);
    q->ended = true;
    q->status = st;
    if (e) {
      try {
        q->error.emplace(e->deep_copy());
      } catch (...) {
        q->error.reset();  // throw_error() says what it can
      }
    }
    q->final_response = std::move(r);
    q->cancel = nullptr;
    q->resume = nullptr;
    q->cv.notify_all();
  };
  // Set before the call starts (the done callback clears them, and may run at any time
  // after); until the id is known, a cancel is remembered in cancel_requested.
  q->cancel = [this, call_id] {
    if (uint64_t id = call_id->load()) cancel(id);
  };
  q->resume = [this, call_id] {
    with_transfer(call_id->load(), [](http::Transport& t, uint64_t tid) { t.resume(tid); });
  };
  uint64_t id = start(std::move(prep), on_chunk, done, loop);
  call_id->store(id);
  bool cancel_now;
  {
    std::lock_guard lk(q->mu);
    cancel_now = q->cancel_requested && !q->ended;
  }
  if (cancel_now) cancel(id);
  return q;
}

bool Client::with_transfer(uint64_t call_id, const std::function<void(http::Transport&, uint64_t)>& fn) {
  std::lock_guard ck(mu_);
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return false;
  std::lock_guard cl(it->second->mu);
  if (!it->second->transport_id) return false;
  fn(it->second->loop->transport, it->second->transport_id);
  return true;
}

uint64_t Client::start(PreparedCall prep, ChunkFn on_chunk, DoneFn done, Loop* loop) {
  if (!loop) loop = pick_loop();
  std::shared_ptr<Call> c;
  try {
    c = std::make_shared<Call>();
  } catch (...) {
    loop->calls.fetch_sub(1, std::memory_order_relaxed);
    throw;
  }
  c->loop = loop;
  c->id = g_next_call_id.fetch_add(1, std::memory_order_relaxed);
  c->prep = std::move(prep);
  c->on_chunk = std::move(on_chunk);
  c->done = std::move(done);
  c->deadline = c->started + std::chrono::milliseconds(c->prep.timeout_ms);
  try {
    {
      std::lock_guard lk(mu_);
      calls_.emplace(c->id, c);
    }
    submit_attempt(c, true);
  } catch (...) {
    // Nothing was queued: the call never was.
    {
      std::lock_guard lk(c->mu);
      c->finished = true;
    }
    loop->calls.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lk(mu_);
    calls_.erase(c->id);
    throw;
  }
  return c->id;
}

void Client::fail_oom(const std::shared_ptr<Call>& c) noexcept { finish(c, LLM_ERR_OUT_OF_MEMORY, nullptr, &oom_error()); }

void Client::submit_attempt(const std::shared_ptr<Call>& c, bool from_start) {
  if (!from_start) {
    try {
      submit_attempt(c, true);
    } catch (...) {
      fail_oom(c);  // a retry that cannot be made for want of memory
    }
    return;
  }
  const auto& cred = c->prep.target.credential;
  const auto now = cred ? std::chrono::system_clock::now() : std::chrono::system_clock::time_point();
  uint64_t seq = 0;
  bool cancelled = false;
  {
    std::lock_guard lk(c->mu);
    if (c->finished) return;
    cancelled = c->cancelled;
  }
  if (!cancelled && cred && !c->credential_fetched && !cred->ready(now)) return await_credential(c);
  {
    std::lock_guard lk(c->mu);
    if (c->finished) return;
    cancelled = c->cancelled;
    if (!cancelled) {
      seq = ++c->attempt_seq;
      c->attempt_running = true;
    }
  }
  if (cancelled) {
    Error e(LLM_ERR_CANCELLED, "the request was cancelled");
    finish(c, LLM_ERR_CANCELLED, nullptr, &e);
    return;
  }
  c->reset_attempt(cfg_.limits);
  // Applied anew unless prepare() applied a usable one: a token another call
  // fetched since (ready now, not then) was not in the request yet.
  if (cred && cred->per_attempt() && (seq > 1 || c->credential_fetched || !c->prep.credential_ready)) {
    cred->apply(c->prep.http, now);
    // A fetched token is a secret of this call from now on.
    if (!cred->header().empty())
      if (const std::string* v = http::find_header(c->prep.http.headers, cred->header()))
        c->prep.target.secrets.add_header(cred->header(), *v);
  }
  c->credential_fetched = false;

  http::Callbacks cb;
  cb.on_headers = [this, c](long status, const http::Headers& h) {
    c->http_status = status;
    c->headers = h;
    // A stream answered with something else (a JSON answer or error page sent
    // with 200): read it as an error body, and report it.
    if (c->prep.stream && status >= 200 && status < 300 &&
        !c->prep.op->is_stream_content_type(http::find_header(h, "content-type")))
      c->not_sse = true;
    // A sized answer is read into a buffer of its size: no growth by doubling,
    // which would hold up to three times the answer for a moment.
    if (!c->prep.stream && status >= 200 && status < 300)
      if (const std::string* cl = http::find_header(h, "content-length")) {
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
        if (ec == std::errc() && end == cl->data() + cl->size() && n <= cfg_.limits.max_response_bytes)
          c->body.reserve(static_cast<size_t>(n));
      }
  };
  cb.on_data = [this, c](const char* data, size_t len) -> bool {
    try {
      return on_data(c, data, len);
    } catch (const std::bad_alloc&) {
      c->oom = true;
      return false;
    }
  };
  cb.on_done = [this, c](const http::Result& r) {
    try {
      on_done(c, r);
    } catch (...) {
      fail_oom(c);  // the answer could not be handled for want of memory
    }
  };

  long remaining = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline - Clock::now()).count();
  http::Timing timing{std::max(1L, remaining), c->prep.stream};
  // The id is the call's before the transfer is queued: its callbacks (the
  // stream's end event above all) may run on the loop before submit returns.
  const uint64_t tid = c->loop->transport.new_id();
  {
    std::lock_guard lk(c->mu);
    c->transport_id = tid;
  }
  try {
    c->loop->transport.submit(c->prep.http, std::move(cb), timing, tid);
  } catch (...) {
    std::lock_guard lk(c->mu);
    c->transport_id = 0;
    c->attempt_running = false;
    throw;
  }
  // A cancel that came before the transfer was queued found nothing to cancel.
  bool cancel_now = false;
  {
    std::lock_guard lk(c->mu);
    cancel_now = c->attempt_seq == seq && c->attempt_running && c->cancelled;
  }
  if (cancel_now) {
    try {
      c->loop->transport.cancel(tid);
    } catch (...) {
      // No memory to queue the cancel: the call runs its course.
    }
  }
}

void Client::retry_or_fail(const std::shared_ptr<Call>& c, const Error& e, long delay_ms) {
  if (c->retries >= cfg_.max_retries || Clock::now() + std::chrono::milliseconds(delay_ms) >= c->deadline)
    return finish(c, e.status(), nullptr, &e);
  ++c->retries;
  c->loop->transport.schedule(delay_ms, [this, c] { submit_attempt(c); });
}

void Client::await_credential(const std::shared_ptr<Call>& c) {
  {
    std::lock_guard lk(c->mu);
    c->awaiting_credential = true;
  }
  // The exchange is shared and timed by the client's timeout: the call's own
  // deadline ends its wait.
  const long remaining = std::chrono::ceil<std::chrono::milliseconds>(c->deadline - Clock::now()).count() + 1;
  c->loop->transport.schedule(std::max(1L, remaining), [this, c] {
    bool waiting;
    {
      std::lock_guard lk(c->mu);
      waiting = c->awaiting_credential && !c->finished;
    }
    // Run early by a shutdown (the client freed): the exchange's cancel ends the call instead.
    if (!waiting || Clock::now() < c->deadline) return;
    Error e(LLM_ERR_TIMEOUT, c->prep.target.spec->name + ": the call's timeout passed while it waited for an access "
                                                          "token from the service-account token exchange");
    finish(c, LLM_ERR_TIMEOUT, nullptr, &e);
  });
  auto answered = [c] {
    std::lock_guard lk(c->mu);
    c->awaiting_credential = false;
  };
  // The answer may come at once (another call fetched meanwhile) or from the
  // loop: the attempt is submitted from the loop either way, as callbacks are.
  c->prep.target.credential->fetch(token_exchange(c->loop), std::chrono::system_clock::now(), [this, c, answered](const Error* e) {
    try {
      if (!e) {
        c->loop->transport.schedule(0, [this, c, answered] {
          answered();
          c->credential_fetched = true;
          submit_attempt(c);
        });
        return;
      }
      Error err(e->status(), c->prep.target.spec->name + ": " + e->what(), e->http_status());
      err.code = e->code;
      const llm_status st = e->status();
      const bool again = st == LLM_ERR_NETWORK || st == LLM_ERR_TIMEOUT || st == LLM_ERR_SERVER_ERROR ||
                         st == LLM_ERR_SERVICE_UNAVAILABLE || st == LLM_ERR_RATE_LIMITED;
      c->loop->transport.schedule(0, [this, c, err, again, answered] {
        answered();
        if (again) retry_or_fail(c, err, backoff_ms(c->retries));
        else finish(c, err.status(), nullptr, &err);
      });
    } catch (...) {
      fail_oom(c);  // no memory to go on: the call ends (from the loop, where the exchange answered)
    }
  });
}

auth::Exchange Client::token_exchange(Loop* loop) {
  return [this, loop](http::Request req, std::function<void(auth::ExchangeResult)> done) {
    constexpr size_t kMaxTokenAnswer = 64u << 10;
    auto answer = std::make_shared<auth::ExchangeResult>();
    http::Callbacks cb;
    cb.on_headers = [answer](long status, const http::Headers&) { answer->http_status = status; };
    cb.on_data = [answer](const char* data, size_t len) {
      if (answer->body.size() + len > kMaxTokenAnswer) return false;
      answer->body.append(data, len);
      return true;
    };
    cb.on_done = [answer, done = std::move(done)](const http::Result& r) {
      if (r.status != LLM_OK)
        answer->error.emplace(r.status == LLM_ERR_CANCELLED && answer->body.size() >= kMaxTokenAnswer
                                  ? Error(LLM_ERR_SERIALIZATION, "the token endpoint answered with more than 64 KiB")
                                  : Error(r.status, r.error));
      else if (!answer->http_status)
        answer->http_status = r.http_status;
      done(std::move(*answer));
    };
    loop->transport.submit(std::move(req), std::move(cb), http::Timing{secs_to_ms(std::min(cfg_.timeout_secs, 60.0))});
  };
}

ChunkSink Client::chunk_sink(const std::shared_ptr<Call>& c) {
  // A reference to the call: the sink lives only as long as one feed.
  Call* call = c.get();
  return [call](std::string_view text, const json::Value& chunk) {
    if (!call->decoder->keeps_answer()) call->assembler.add(chunk);
    call->delivered = true;
    if (call->on_chunk && !call->on_chunk(text)) {
      call->chunk_cancelled = true;
      return false;
    }
    return true;
  };
}

bool Client::on_data(const std::shared_ptr<Call>& c, const char* data, size_t len) {
  {
    const std::string& provider = c->prep.target.spec->name;
    bool ok_status = c->http_status >= 200 && c->http_status < 300 && !c->not_sse;
    if (c->prep.stream && ok_status) {
      if (c->saw_done) return false;  // bytes after the end event are never read: drop the connection
      try {
        auto fed = c->decoder->feed(data, len, chunk_sink(c));
        if (fed == StreamDecoder::Fed::Ended) {
          c->saw_done = true;
          end_after_event(c);
        }
        // After the end event the body's last bytes (the chunked terminator)
        // are still read, so that the connection stays reusable.
        return fed != StreamDecoder::Fed::Stopped;
      } catch (const Error& e) {
        c->failure = e;
        return false;
      }
    }
    if (!ok_status) {
      // An error answer: its first kErrorBodyKeep bytes say all there is to say.
      size_t room = kErrorBodyKeep - std::min(kErrorBodyKeep, c->body.size());
      c->body.append(data, std::min(len, room));
      if (len <= room) return true;
      c->error_body_cut = true;
      return false;
    }
    if (c->body.size() + len > cfg_.limits.max_response_bytes) {
      c->failure = Error(LLM_ERR_LIMIT_EXCEEDED, provider + " answered with more than max_response_bytes (" +
                                                     std::to_string(cfg_.limits.max_response_bytes) +
                                                     " bytes); raise max_response_bytes in the client config");
      return false;
    }
    c->body.append(data, len);
    return true;
  }
}

void Client::on_done(const std::shared_ptr<Call>& c, const http::Result& r) {
  {
    const std::string& provider = c->prep.target.spec->name;
    {
      std::lock_guard lk(c->mu);
      c->transport_id = 0;
      c->attempt_running = false;
      if (c->finished) return;  // ended already (by the stream's end event, or a cancel)
    }
    c->stats.bytes_sent += r.bytes_sent;
    c->stats.bytes_received += r.bytes_received;
    c->stats.http_status = c->http_status ? c->http_status : r.http_status;

    auto fail = [&](const Error& e) { finish(c, e.status(), nullptr, &e); };

    if (c->oom || r.status == LLM_ERR_OUT_OF_MEMORY) return fail_oom(c);
    if (c->failure) return fail(*c->failure);
    if (c->saw_done) return succeed(c);  // whatever came after the end event
    if (c->chunk_cancelled || (r.status == LLM_ERR_CANCELLED && !c->error_body_cut))
      return fail(Error(LLM_ERR_CANCELLED, "the request was cancelled"));
    if (r.status != LLM_OK && !c->error_body_cut) {
      if (c->prep.stream && c->delivered) {
        llm_status st = r.status == LLM_ERR_TIMEOUT ? LLM_ERR_TIMEOUT : LLM_ERR_STREAMING;
        return fail(Error(st, provider + " stream broke after " + std::to_string(c->assembler.chunks()) +
                                  " chunks: " + r.error));
      }
      Error e(r.status, provider + ": " + r.error);
      // A connection that was never made (refused, unresolved, timed out) is
      // tried again, as is one that broke; a certificate that does not verify
      // will not verify next time.
      if (!r.permanent && (r.connect_failed || r.status == LLM_ERR_NETWORK))
        return retry_or_fail(c, e, backoff_ms(c->retries));
      return fail(e);
    }
    long s = c->http_status ? c->http_status : r.http_status;
    if (s < 200 || s >= 300) {
      Error e = c->prep.op->http_error(c->prep.target, s, c->body, c->headers);
      // A refused token is fetched anew, once per call (not a retry: the
      // call may allow none).
      const auto& cred = c->prep.target.credential;
      if (s == 401 && cred && !c->credential_refreshed && cred->refused(c->prep.http)) {
        c->credential_refreshed = true;
        return c->loop->transport.schedule(0, [this, c] { submit_attempt(c); });
      }
      if (!retryable_http(s) || e.retry_after > 60) return fail(e);
      return retry_or_fail(c, e, e.retry_after >= 0 ? static_cast<long>(e.retry_after * 1000) : backoff_ms(c->retries));
    }
    if (c->not_sse) {
      // What was meant as a stream came back whole: say what it said.
      const std::string* ct = http::find_header(c->headers, "content-type");
      const Secrets& secrets = c->prep.target.secrets;
      Error e = body_error(provider + " answered a streamed request with HTTP " + std::to_string(s) +
                               " and Content-Type " + http::printable(ct ? *ct : std::string()) +
                               " instead of an event stream",
                           c->body, secrets, static_cast<int>(s), LLM_ERR_STREAMING);
      e.provider = provider;
      return fail(e);
    }
    if (c->prep.stream) {
      try {
        c->decoder->finish(chunk_sink(c));
      } catch (const Error& e) {
        return fail(e);
      }
      if (c->chunk_cancelled) return fail(Error(LLM_ERR_CANCELLED, "the request was cancelled"));
      if (c->decoder->keeps_answer() ? !c->decoder->complete() : !c->assembler.all_finished())
        return fail(Error(LLM_ERR_STREAMING, provider + " stream ended before it was complete (no end event after " +
                                                 std::to_string(c->assembler.chunks()) + " chunks)"));
    }
    succeed(c);
  }
}

void Client::succeed(const std::shared_ptr<Call>& c) {
  std::optional<json::Document> doc;
  std::optional<Vectors> vectors;
  std::string bytes, content_type;
  const bool binary = !c->prep.stream && c->prep.op->binary_answer();
  try {
    if (c->prep.stream) {
      doc = c->decoder->keeps_answer() ? c->decoder->take_answer() : c->assembler.take();
    } else if (binary) {
      // Bytes (audio, a file's content): kept as they came, described in the JSON.
      const std::string* ct = http::find_header(c->headers, "content-type");
      content_type = ct ? *ct : std::string("application/octet-stream");
      bytes.swap(c->body);
      json::Document d(rapidjson::kObjectType);
      auto& a = d.GetAllocator();
      d.AddMember("object", "binary", a);
      d.AddMember("content_type", json::str(content_type, a), a);
      d.AddMember("bytes", static_cast<uint64_t>(bytes.size()), a);
      doc = std::move(d);
    } else {
      doc = c->prep.op->parse_for(c->body, c->prep.target, c->prep.request);
      std::string().swap(c->body);  // the document holds the answer now: one copy, not two
      // Vectors as floats, out of the document (a 2,048-input batch: 12.6 MB
      // of floats instead of 50 MB of JSON values).
      if (c->prep.endpoint == Endpoint::Embeddings) vectors = take_vectors(*doc, c->prep.target.spec->name);
    }
  } catch (const Error& e) {
    finish(c, e.status(), nullptr, &e);
    return;
  } catch (...) {
    fail_oom(c);
    return;
  }
  c->stats.retries = c->retries;
  c->stats.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - c->started).count();
  std::unique_ptr<Response> r;
  try {
    r = Response::from(std::move(*doc), c->prep.target.spec->name, c->stats, std::move(vectors));
    if (binary) {
      r->binary = true;
      r->bytes = std::move(bytes);
      r->content_type = std::move(content_type);
    }
  } catch (...) {
    fail_oom(c);
    return;
  }
  finish(c, LLM_OK, std::move(r), nullptr);
}

void Client::end_after_event(const std::shared_ptr<Call>& c) {
  // Called inside a curl callback: the call ends on the loop's next turn, by
  // which time a transfer whose body ended right after the event (the usual
  // case) has completed and been kept for reuse. One that has not is given
  // kAfterEndGraceMs, then dropped, connection and all.
  c->loop->transport.schedule(0, [this, c]() noexcept {
    bool finished;
    uint64_t tid;
    {
      std::lock_guard lk(c->mu);
      finished = c->finished;
      tid = c->transport_id;
    }
    if (tid) {
      // Still running: the call ends without waiting for it. Only the
      // transfer's id is kept for the grace period, not the call (an id the
      // transfer outlived is ignored).
      if (!finished) {
        uint64_t sent = 0, received = 0;
        c->loop->transport.wire_bytes(tid, sent, received);
        c->stats.bytes_sent += sent;
        c->stats.bytes_received += received;
        c->stats.http_status = c->http_status;
      }
      try {
        http::Transport* t = &c->loop->transport;
        t->schedule(kAfterEndGraceMs, [t, tid] { t->cancel(tid); });
      } catch (...) {
        c->loop->transport.cancel(tid);  // no memory for the grace period: drop the connection now (best effort)
      }
    }
    if (!finished) succeed(c);
  });
}

void Client::finish(const std::shared_ptr<Call>& c, llm_status st, std::unique_ptr<Response> r,
                    const Error* e) noexcept {
  {
    std::lock_guard lk(c->mu);
    if (c->finished) return;
    c->finished = true;
  }
  {
    std::lock_guard lk(mu_);
    calls_.erase(c->id);
  }
  // Counted out before its callback: a call the callback starts sees this loop free again.
  c->loop->calls.fetch_sub(1, std::memory_order_relaxed);
  // What the caller learns of an error: the last guard against a secret in a
  // message (a provider's echo is redacted where it is parsed; curl's words
  // never should hold one), and where the error came from. An error that
  // cannot be made for want of memory becomes LLM_ERR_OUT_OF_MEMORY (never
  // the unredacted original).
  std::optional<Error> full;
  if (e) {
    try {
      const Secrets& secrets = c->prep.target.secrets;
      std::string message = secrets.empty() ? std::string(e->what()) : secrets.redact(e->what());
      if (const Secrets& proxy = c->loop->transport.proxy_secrets(); !proxy.empty())
        message = proxy.redact(std::move(message));
      full.emplace(e->status(), std::move(message), e->http_status());
      full->retry_after = e->retry_after;
      full->code = e->code;
      full->type = e->type;
      full->provider = !e->provider.empty() ? e->provider
                       : c->prep.target.spec ? c->prep.target.spec->name
                                             : std::string();
      full->retries = c->retries;
      e = &*full;
    } catch (...) {
      st = LLM_ERR_OUT_OF_MEMORY;
      e = &oom_error();
    }
  }
  DoneFn done = std::move(c->done);
  try {
    c->release();
  } catch (...) {
    // What the call held goes with the call instead.
  }
  try {
    done(st, std::move(r), e);
  } catch (...) {
    // A callback's exception must not unwind into the I/O loop.
  }
}

void CancelToken::trigger() {
  // Under the lock: a call's remove() then waits until its cancel is made,
  // and its client cannot be freed before. Client::cancel only queues work
  // for the loop (it never waits on a blocking caller), and no lock it takes
  // is held by anything that takes this one.
  std::lock_guard lk(mu_);
  if (fired_) return;
  fired_ = true;
  // Every call is cancelled even if one cancel fails (out of memory queuing
  // it); the first failure is then thrown.
  std::exception_ptr first;
  for (Use* u = head_; u; u = u->next) {
    try {
      u->client->cancel(u->id);
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

bool CancelToken::triggered() const {
  std::lock_guard lk(mu_);
  return fired_;
}

bool CancelToken::add(Use& u) {
  std::lock_guard lk(mu_);
  if (fired_) return false;
  u.prev = nullptr;
  u.next = head_;
  if (head_) head_->prev = &u;
  head_ = &u;
  return true;
}

void CancelToken::remove(Use& u) {
  std::lock_guard lk(mu_);
  if (u.prev) u.prev->next = u.next;
  else if (head_ == &u) head_ = u.next;
  else return;  // never added
  if (u.next) u.next->prev = u.prev;
  u.next = u.prev = nullptr;
}

void Client::cancel(uint64_t id) {
  std::shared_ptr<Call> c;
  {
    std::lock_guard lk(mu_);
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    c = it->second;
  }
  uint64_t tid = 0;
  {
    std::lock_guard lk(c->mu);
    if (c->finished || c->cancelled) return;
    c->cancelled = true;
    tid = c->transport_id;
  }
  if (tid) {
    c->loop->transport.cancel(tid);
  } else {
    // Between attempts (waiting to retry) or not yet submitted: finish it on the I/O thread.
    c->loop->transport.schedule(0, [this, c] {
      Error e(LLM_ERR_CANCELLED, "the request was cancelled");
      finish(c, LLM_ERR_CANCELLED, nullptr, &e);
    });
  }
}

}  // namespace literllm
