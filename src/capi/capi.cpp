// The extern "C" shims: argument checks, handle <-> object, exceptions ->
// llm_status + the error (thread-local, and as an object for the `_e` forms).
// No logic lives here. Every shim is noexcept: nothing C++ crosses the ABI.
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "core/client.hpp"
#include "core/process.hpp"
#include "core/utf8.hpp"
#include "literllm.h"

using literllm::Error;

struct llm_client {
  explicit llm_client(literllm::Config c) : impl(std::move(c)) {}
  literllm::Client impl;
};
struct llm_response {
  std::unique_ptr<literllm::Response> r;
};
struct llm_stream {
  std::shared_ptr<literllm::StreamQueue> q;
};
struct llm_cancel {
  literllm::CancelToken t;
};

// Plain C memory only: the static out-of-memory object below must have no
// destructor (it is valid while the process exits), and an object must be
// made without throwing.
struct llm_error {
  llm_status status;
  int http_status;
  int64_t retry_after_ms;
  int retries;
  char* message;  // never NULL
  char* provider;
  char* code;
  char* type;
  bool shared;  // the static out-of-memory object: never freed
};

namespace {

char kOomText[] = "out of memory";
llm_error g_oom_error{LLM_ERR_OUT_OF_MEMORY, 0, -1, 0, kOomText, nullptr, nullptr, nullptr, true};

char* dup_c(const char* s, size_t n) noexcept {
  char* p = static_cast<char*>(std::malloc(n + 1));
  if (!p) return nullptr;
  std::memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void free_error(llm_error* e) noexcept {
  if (!e || e->shared) return;
  std::free(e->message);
  std::free(e->provider);
  std::free(e->code);
  std::free(e->type);
  std::free(e);
}

// A new error object, or the shared out-of-memory one. Text is made valid
// UTF-8 here, whatever its source.
llm_error* make_error(llm_status st, std::string_view message, int http, const Error* from) noexcept {
  auto* e = static_cast<llm_error*>(std::calloc(1, sizeof(llm_error)));
  if (!e) return &g_oom_error;
  e->status = st;
  e->http_status = http;
  e->retry_after_ms = -1;
  bool ok = true;
  auto text = [&](std::string_view s, bool keep_empty) -> char* {
    if (s.empty() && !keep_empty) return nullptr;
    char* p = nullptr;
    if (literllm::is_valid_utf8(s)) {
      p = dup_c(s.data(), s.size());
    } else {
      try {
        std::string fixed = literllm::valid_utf8(s);
        p = dup_c(fixed.data(), fixed.size());
      } catch (...) {
      }
    }
    if (!p) ok = false;
    return p;
  };
  e->message = text(message, true);
  if (from) {
    if (from->retry_after >= 0)
      e->retry_after_ms = from->retry_after > 9e12 ? INT64_C(9000000000000000) : static_cast<int64_t>(from->retry_after * 1000);
    e->retries = from->retries;
    e->provider = text(from->provider, false);
    e->code = text(from->code, false);
    e->type = text(from->type, false);
  }
  if (!ok) {
    free_error(e);
    return &g_oom_error;
  }
  return e;
}

llm_error* clone_error(const llm_error* s) noexcept {
  if (!s) return nullptr;
  if (s->shared) return const_cast<llm_error*>(s);
  auto* e = static_cast<llm_error*>(std::calloc(1, sizeof(llm_error)));
  if (!e) return &g_oom_error;
  *e = *s;
  e->message = e->provider = e->code = e->type = nullptr;
  auto copy = [](const char* p, char*& out) {
    if (!p) return true;
    out = dup_c(p, std::strlen(p));
    return out != nullptr;
  };
  if (!copy(s->message, e->message) || !copy(s->provider, e->provider) || !copy(s->code, e->code) ||
      !copy(s->type, e->type)) {
    free_error(e);
    return &g_oom_error;
  }
  return e;
}

// ------------------------------------------------- the thread's last error

// Per-thread state behind a trivially destructible thread_local pointer, freed
// by a pthread key destructor: it stays valid for the thread's whole life,
// including other keys' destructors (C++ thread_local objects with
// destructors are gone before those run). A call after this key's destructor
// ran makes it again; glibc then runs the destructor once more.
struct ThreadState {
  llm_error* last = nullptr;
};
thread_local ThreadState* t_state = nullptr;
pthread_key_t g_state_key;
pthread_once_t g_state_once = PTHREAD_ONCE_INIT;
bool g_state_key_ok = false;

void release_state(void* p) noexcept {
  auto* st = static_cast<ThreadState*>(p);
  free_error(st->last);
  std::free(st);
  if (t_state == st) t_state = nullptr;
}

ThreadState* state() noexcept {
  if (t_state) return t_state;
  pthread_once(&g_state_once, [] { g_state_key_ok = pthread_key_create(&g_state_key, &release_state) == 0; });
  auto* st = static_cast<ThreadState*>(std::calloc(1, sizeof(ThreadState)));
  if (!st) return nullptr;
  if (!g_state_key_ok || pthread_setspecific(g_state_key, st) != 0) {
    std::free(st);
    return nullptr;
  }
  t_state = st;
  return st;
}

// Records `e` (owned) as the thread's last error and hands a copy to `out`.
llm_status record(llm_error* e, llm_error_t** out) noexcept {
  llm_status st = e->status;
  if (out) *out = clone_error(e);
  if (ThreadState* s = state()) {
    free_error(s->last);
    s->last = e;
  } else {
    free_error(e);
  }
  return st;
}

llm_status fail(llm_status st, std::string_view message, llm_error_t** out, int http = 0,
                const Error* from = nullptr) noexcept {
  return record(make_error(st, message, http, from), out);
}

llm_status fail(const Error& e, llm_error_t** out) noexcept {
  return fail(e.status(), e.what(), out, e.http_status(), &e);
}

// Runs `f`, turning every exception into a status and the error.
template <class F>
llm_status guard(llm_error_t** out, F&& f) noexcept {
  if (out) *out = nullptr;
  try {
    f();
    return LLM_OK;
  } catch (const Error& e) {
    return fail(e, out);
  } catch (const std::bad_alloc&) {
    return record(&g_oom_error, out);
  } catch (const std::exception& e) {
    return fail(LLM_ERR_INTERNAL, e.what(), out);
  } catch (...) {
    return fail(LLM_ERR_INTERNAL, "unknown internal error", out);
  }
}

llm_status null_arg(const char* fn, const char* arg, llm_error_t** out) noexcept {
  char m[160];
  std::snprintf(m, sizeof m, "%s: %s must not be NULL", fn, arg);
  return fail(LLM_ERR_INVALID_ARGUMENT, m, out);
}

// A client (or stream) of the parent used in a forked child.
llm_status forked(const char* fn, llm_error_t** out) noexcept {
  char m[200];
  std::snprintf(m, sizeof m,
                "%s: this client was made by the parent process; after fork() the child must make its own client", fn);
  return fail(LLM_ERR_INVALID_ARGUMENT, m, out);
}

char* dup_string(const std::string& s) {
  char* p = dup_c(s.data(), s.size());
  if (!p) throw std::bad_alloc();
  return p;
}

const char* opt_cstr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

const char* with_length(const literllm::Str& s, size_t* len) {
  if (len) *len = s.size();
  return s.c_str();
}

// The library's done callback, for both callback types: the error is made an
// object (which may be the shared out-of-memory one) before the call.
template <class Cb>
literllm::Client::DoneFn wrap_done(Cb cb, void* user_data) {
  return [cb, user_data](llm_status st, std::unique_ptr<literllm::Response> r, const Error* e) noexcept {
    llm_response_t* h = nullptr;
    if (r) h = new (std::nothrow) llm_response{std::move(r)};
    llm_error* err = nullptr;
    if (st == LLM_OK && !h) st = LLM_ERR_OUT_OF_MEMORY;
    if (st != LLM_OK) {
      err = e ? make_error(st, e->what(), e->http_status(), e) : make_error(st, "request failed", 0, nullptr);
      if (err->shared) st = LLM_ERR_OUT_OF_MEMORY;
    }
    if constexpr (std::is_same_v<Cb, llm_chat_done_cb>)
      cb(st, h, err ? err->message : nullptr, user_data);
    else
      cb(st, h, err, user_data);
    free_error(err);
  };
}

// ------------------------------------------------------ the calls, once

llm_status client_new(const char* config_json, llm_client_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_client_new", "out", err);
  *out = nullptr;
  return guard(err, [&] {
    literllm::global_init();
    *out = new llm_client(literllm::parse_config_json(config_json ? config_json : ""));
  });
}

llm_status client_new_from_file(const char* path, llm_client_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_client_new_from_file", "out", err);
  *out = nullptr;
  if (!path) return null_arg("llm_client_new_from_file", "path", err);
  return guard(err, [&] {
    literllm::global_init();
    *out = new llm_client(literllm::parse_config_file(path));
  });
}

llm_status chat(const char* fn, llm_client_t* client, const char* request_json, llm_cancel_t* cancel,
                llm_response_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg(fn, "out", err);
  *out = nullptr;
  if (!client) return null_arg(fn, "client", err);
  if (!request_json) return null_arg(fn, "request_json", err);
  if (client->impl.forked()) return forked(fn, err);
  return guard(err, [&] {
    auto r = client->impl.chat(request_json, cancel ? &cancel->t : nullptr);
    *out = new llm_response{std::move(r)};
  });
}

llm_status chat_stream(llm_client_t* client, const char* request_json, llm_stream_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_chat_stream", "out", err);
  *out = nullptr;
  if (!client) return null_arg("llm_chat_stream", "client", err);
  if (!request_json) return null_arg("llm_chat_stream", "request_json", err);
  if (client->impl.forked()) return forked("llm_chat_stream", err);
  return guard(err, [&] {
    auto s = std::make_unique<llm_stream>();
    s->q = client->impl.stream(request_json);
    *out = s.release();
  });
}

llm_status stream_next(llm_stream_t* stream, const char** chunk_json, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!chunk_json) return null_arg("llm_stream_next", "chunk_json", err);
  *chunk_json = nullptr;
  if (!stream) return null_arg("llm_stream_next", "stream", err);
  return guard(err, [&] {
    const std::string* c = stream->q->next();
    *chunk_json = c ? c->c_str() : nullptr;
  });
}

llm_status stream_final(llm_stream_t* stream, llm_response_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_stream_final_response", "out", err);
  *out = nullptr;
  if (!stream) return null_arg("llm_stream_final_response", "stream", err);
  return guard(err, [&] {
    auto r = stream->q->final_copy();
    *out = new llm_response{std::move(r)};
  });
}

template <class Cb>
llm_status chat_async(llm_client_t* client, const char* request_json, Cb on_done, void* user_data,
                      uint64_t* out_request_id, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (out_request_id) *out_request_id = 0;
  if (!client) return null_arg("llm_chat_async", "client", err);
  if (!request_json) return null_arg("llm_chat_async", "request_json", err);
  if (!on_done) return null_arg("llm_chat_async", "on_done", err);
  if (client->impl.forked()) return forked("llm_chat_async", err);
  return guard(err, [&] {
    uint64_t id = client->impl.chat_async(request_json, wrap_done(on_done, user_data));
    if (out_request_id) *out_request_id = id;
  });
}

// A stream's chunk callback as the client calls it (none for a NULL one).
literllm::Client::ChunkFn chunk_fn(llm_stream_chunk_cb on_chunk, void* user_data) {
  if (!on_chunk) return nullptr;
  return [on_chunk, user_data](std::string_view text) {
    std::string s(text);  // NUL-terminated for C
    return on_chunk(s.c_str(), user_data) == 0;
  };
}

template <class Cb>
llm_status chat_stream_async(llm_client_t* client, const char* request_json, llm_stream_chunk_cb on_chunk,
                             Cb on_done, void* user_data, uint64_t* out_request_id, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (out_request_id) *out_request_id = 0;
  if (!client) return null_arg("llm_chat_stream_async", "client", err);
  if (!request_json) return null_arg("llm_chat_stream_async", "request_json", err);
  if (!on_done) return null_arg("llm_chat_stream_async", "on_done", err);
  if (client->impl.forked()) return forked("llm_chat_stream_async", err);
  return guard(err, [&] {
    literllm::Client::ChunkFn chunk = chunk_fn(on_chunk, user_data);
    uint64_t id = client->impl.stream_async(request_json, std::move(chunk), wrap_done(on_done, user_data));
    if (out_request_id) *out_request_id = id;
  });
}

// llm_call's endpoint and buffers, checked.
literllm::Endpoint endpoint_of(const char* fn, const char* endpoint) {
  literllm::Endpoint e;
  if (!literllm::endpoint_from_name(endpoint, e))
    literllm::invalid(std::string(fn) + ": unknown endpoint \"" + std::string(endpoint).substr(0, 64) +
                      "\" (see llm_call for the names)");
  return e;
}

literllm::Blobs blobs_of(const char* fn, const void* const* data, const size_t* sizes, size_t count) {
  if (count > 0 && (!data || !sizes))
    literllm::invalid(std::string(fn) + ": data and data_sizes must not be NULL when data_count is " +
                      std::to_string(count));
  for (size_t i = 0; i < count; ++i)
    if (!data[i] && sizes[i] > 0) literllm::invalid(std::string(fn) + ": data[" + std::to_string(i) + "] is NULL");
  return literllm::Blobs{data, sizes, count};
}

llm_status call(const char* fn, llm_client_t* client, const char* endpoint, const char* request_json,
                const void* const* data, const size_t* sizes, size_t count, llm_cancel_t* cancel, llm_response_t** out,
                llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg(fn, "out", err);
  *out = nullptr;
  if (!client) return null_arg(fn, "client", err);
  if (!endpoint) return null_arg(fn, "endpoint", err);
  if (!request_json) return null_arg(fn, "request_json", err);
  if (client->impl.forked()) return forked(fn, err);
  return guard(err, [&] {
    auto r = client->impl.call(endpoint_of(fn, endpoint), request_json, blobs_of(fn, data, sizes, count),
                               cancel ? &cancel->t : nullptr);
    *out = new llm_response{std::move(r)};
  });
}

template <class Cb>
llm_status call_async(llm_client_t* client, const char* endpoint, const char* request_json, const void* const* data,
                      const size_t* sizes, size_t count, Cb on_done, void* user_data, uint64_t* out_request_id,
                      llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (out_request_id) *out_request_id = 0;
  if (!client) return null_arg("llm_call_async", "client", err);
  if (!endpoint) return null_arg("llm_call_async", "endpoint", err);
  if (!request_json) return null_arg("llm_call_async", "request_json", err);
  if (!on_done) return null_arg("llm_call_async", "on_done", err);
  if (client->impl.forked()) return forked("llm_call_async", err);
  return guard(err, [&] {
    uint64_t id = client->impl.call_async(endpoint_of("llm_call_async", endpoint), request_json,
                                          blobs_of("llm_call_async", data, sizes, count),
                                          wrap_done(on_done, user_data));
    if (out_request_id) *out_request_id = id;
  });
}

llm_status call_stream(llm_client_t* client, const char* endpoint, const char* request_json, const void* const* data,
                       const size_t* sizes, size_t count, llm_stream_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_call_stream", "out", err);
  *out = nullptr;
  if (!client) return null_arg("llm_call_stream", "client", err);
  if (!endpoint) return null_arg("llm_call_stream", "endpoint", err);
  if (!request_json) return null_arg("llm_call_stream", "request_json", err);
  if (client->impl.forked()) return forked("llm_call_stream", err);
  return guard(err, [&] {
    auto s = std::make_unique<llm_stream>();
    s->q = client->impl.call_stream(endpoint_of("llm_call_stream", endpoint), request_json,
                                    blobs_of("llm_call_stream", data, sizes, count));
    *out = s.release();
  });
}

template <class Cb>
llm_status call_stream_async(llm_client_t* client, const char* endpoint, const char* request_json,
                             const void* const* data, const size_t* sizes, size_t count, llm_stream_chunk_cb on_chunk,
                             Cb on_done, void* user_data, uint64_t* out_request_id, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (out_request_id) *out_request_id = 0;
  if (!client) return null_arg("llm_call_stream_async", "client", err);
  if (!endpoint) return null_arg("llm_call_stream_async", "endpoint", err);
  if (!request_json) return null_arg("llm_call_stream_async", "request_json", err);
  if (!on_done) return null_arg("llm_call_stream_async", "on_done", err);
  if (client->impl.forked()) return forked("llm_call_stream_async", err);
  return guard(err, [&] {
    literllm::Client::ChunkFn chunk = chunk_fn(on_chunk, user_data);
    uint64_t id = client->impl.call_stream_async(endpoint_of("llm_call_stream_async", endpoint), request_json,
                                                 blobs_of("llm_call_stream_async", data, sizes, count),
                                                 std::move(chunk), wrap_done(on_done, user_data));
    if (out_request_id) *out_request_id = id;
  });
}

llm_status preview_call(llm_client_t* client, const char* endpoint, const char* request_json,
                        const void* const* data, const size_t* sizes, size_t count, char** out,
                        llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_preview_call", "out", err);
  *out = nullptr;
  if (!client) return null_arg("llm_preview_call", "client", err);
  if (!endpoint) return null_arg("llm_preview_call", "endpoint", err);
  if (!request_json) return null_arg("llm_preview_call", "request_json", err);
  if (client->impl.forked()) return forked("llm_preview_call", err);
  return guard(err, [&] {
    *out = dup_string(client->impl.preview_call(endpoint_of("llm_preview_call", endpoint), request_json,
                                                blobs_of("llm_preview_call", data, sizes, count)));
  });
}

llm_status client_cancel(llm_client_t* client, uint64_t request_id, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!client) return null_arg("llm_client_cancel", "client", err);
  if (client->impl.forked()) return forked("llm_client_cancel", err);
  return guard(err, [&] { client->impl.cancel(request_id); });
}

llm_status client_io_fd(llm_client_t* client, int* fd, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!fd) return null_arg("llm_client_io_fd", "fd", err);
  *fd = -1;
  if (!client) return null_arg("llm_client_io_fd", "client", err);
  if (client->impl.forked()) return forked("llm_client_io_fd", err);
  return guard(err, [&] { *fd = client->impl.io_fd(); });
}

llm_status client_io_run(llm_client_t* client, int* timeout_ms, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (timeout_ms) *timeout_ms = -1;
  if (!client) return null_arg("llm_client_io_run", "client", err);
  if (client->impl.forked()) return forked("llm_client_io_run", err);
  return guard(err, [&] {
    bool destroyed = false;
    int next = client->impl.io_run(destroyed);  // `client` may be gone when `destroyed`
    if (timeout_ms) *timeout_ms = next;
  });
}

llm_status preview(llm_client_t* client, const char* request_json, int stream, char** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_preview_request", "out", err);
  *out = nullptr;
  if (!client) return null_arg("llm_preview_request", "client", err);
  if (!request_json) return null_arg("llm_preview_request", "request_json", err);
  if (client->impl.forked()) return forked("llm_preview_request", err);
  return guard(err, [&] { *out = dup_string(client->impl.preview(request_json, stream != 0)); });
}

llm_status providers(llm_client_t* client, char** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_providers_json", "out", err);
  *out = nullptr;
  if (client && client->impl.forked()) return forked("llm_providers_json", err);
  return guard(err, [&] {
    *out = dup_string(client ? client->impl.providers_json() : literllm::Client::global_providers_json());
  });
}

llm_status register_provider(llm_client_t* client, const char* provider_json, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!provider_json) return null_arg("llm_register_provider", "provider_json", err);
  if (client && client->impl.forked()) return forked("llm_register_provider", err);
  return guard(err, [&] {
    auto p = literllm::parse_provider_registration(provider_json);
    if (client) client->impl.registered().add(std::move(p));
    else literllm::global_providers().add(std::move(p));
  });
}

llm_status unregister_provider(llm_client_t* client, const char* name, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!name) return null_arg("llm_unregister_provider", "name", err);
  if (client && client->impl.forked()) return forked("llm_unregister_provider", err);
  return guard(err, [&] {
    bool removed = client ? client->impl.registered().remove(name) : literllm::global_providers().remove(name);
    if (removed) return;
    if (literllm::find_builtin(name))
      throw Error(LLM_ERR_INVALID_ARGUMENT, std::string("llm_unregister_provider: \"") + name +
                                                "\" is a built-in provider and cannot be removed");
    throw Error(LLM_ERR_NOT_FOUND, std::string("llm_unregister_provider: no registered provider named \"") + name + "\"");
  });
}

}  // namespace

extern "C" {

const char* llm_version(void) { return LITERLLM_VERSION_STRING; }
unsigned llm_version_number(void) { return LLM_VERSION_NUMBER; }

const char* llm_status_str(llm_status status) {
  switch (status) {
    case LLM_OK: return "LLM_OK";
    case LLM_ERR_INVALID_ARGUMENT: return "LLM_ERR_INVALID_ARGUMENT";
    case LLM_ERR_AUTHENTICATION: return "LLM_ERR_AUTHENTICATION";
    case LLM_ERR_RATE_LIMITED: return "LLM_ERR_RATE_LIMITED";
    case LLM_ERR_BAD_REQUEST: return "LLM_ERR_BAD_REQUEST";
    case LLM_ERR_CONTEXT_WINDOW_EXCEEDED: return "LLM_ERR_CONTEXT_WINDOW_EXCEEDED";
    case LLM_ERR_CONTENT_POLICY: return "LLM_ERR_CONTENT_POLICY";
    case LLM_ERR_NOT_FOUND: return "LLM_ERR_NOT_FOUND";
    case LLM_ERR_SERVER_ERROR: return "LLM_ERR_SERVER_ERROR";
    case LLM_ERR_SERVICE_UNAVAILABLE: return "LLM_ERR_SERVICE_UNAVAILABLE";
    case LLM_ERR_TIMEOUT: return "LLM_ERR_TIMEOUT";
    case LLM_ERR_STREAMING: return "LLM_ERR_STREAMING";
    case LLM_ERR_ENDPOINT_NOT_SUPPORTED: return "LLM_ERR_ENDPOINT_NOT_SUPPORTED";
    case LLM_ERR_INVALID_HEADER: return "LLM_ERR_INVALID_HEADER";
    case LLM_ERR_SERIALIZATION: return "LLM_ERR_SERIALIZATION";
    case LLM_ERR_BUDGET_EXCEEDED: return "LLM_ERR_BUDGET_EXCEEDED";
    case LLM_ERR_HOOK_REJECTED: return "LLM_ERR_HOOK_REJECTED";
    case LLM_ERR_NETWORK: return "LLM_ERR_NETWORK";
    case LLM_ERR_CANCELLED: return "LLM_ERR_CANCELLED";
    case LLM_ERR_INTERNAL: return "LLM_ERR_INTERNAL";
    case LLM_ERR_LIMIT_EXCEEDED: return "LLM_ERR_LIMIT_EXCEEDED";
    case LLM_ERR_OUT_OF_MEMORY: return "LLM_ERR_OUT_OF_MEMORY";
  }
  return "LLM_ERR_UNKNOWN";
}

const char* llm_last_error(void) {
  ThreadState* s = t_state;
  return s && s->last ? s->last->message : "";
}
llm_status llm_last_error_status(void) {
  ThreadState* s = t_state;
  return s && s->last ? s->last->status : LLM_OK;
}
int llm_last_error_http_status(void) {
  ThreadState* s = t_state;
  return s && s->last ? s->last->http_status : 0;
}
llm_error_t* llm_last_error_object(void) {
  ThreadState* s = t_state;
  return s && s->last ? clone_error(s->last) : nullptr;
}

llm_status llm_error_status(const llm_error_t* e) { return e ? e->status : LLM_OK; }
const char* llm_error_message(const llm_error_t* e) { return e ? e->message : ""; }
int llm_error_http_status(const llm_error_t* e) { return e ? e->http_status : 0; }
const char* llm_error_provider(const llm_error_t* e) { return e ? e->provider : nullptr; }
const char* llm_error_code(const llm_error_t* e) { return e ? e->code : nullptr; }
const char* llm_error_type(const llm_error_t* e) { return e ? e->type : nullptr; }
int64_t llm_error_retry_after_ms(const llm_error_t* e) { return e ? e->retry_after_ms : -1; }
int llm_error_retries(const llm_error_t* e) { return e ? e->retries : 0; }
llm_error_t* llm_error_clone(const llm_error_t* e) { return clone_error(e); }
void llm_error_free(llm_error_t* e) { free_error(e); }

void llm_string_free(char* s) { std::free(s); }

llm_status llm_init(void) { return guard(nullptr, [] { literllm::global_init(); }); }
llm_status llm_init_e(llm_error_t** error) { return guard(error, [] { literllm::global_init(); }); }

llm_status llm_client_new(const char* config_json, llm_client_t** out) { return client_new(config_json, out, nullptr); }
llm_status llm_client_new_e(const char* config_json, llm_client_t** out, llm_error_t** error) {
  return client_new(config_json, out, error);
}
llm_status llm_client_new_from_file(const char* path, llm_client_t** out) {
  return client_new_from_file(path, out, nullptr);
}
llm_status llm_client_new_from_file_e(const char* path, llm_client_t** out, llm_error_t** error) {
  return client_new_from_file(path, out, error);
}

void llm_client_free(llm_client_t* client) {
  if (!client) return;
  if (client->impl.forked()) {
    // The child's copy of a parent's client: its thread does not exist here
    // and its connections are the parent's. Given up, never freed.
    client->impl.abandon();
    return;
  }
  if (client->impl.on_io_thread()) {
    // From one of its own callbacks: freed on the I/O thread once it returns.
    client->impl.defer_destroy([client] { delete client; });
    return;
  }
  delete client;
}

llm_status llm_chat(llm_client_t* client, const char* request_json, llm_response_t** out) {
  return chat("llm_chat", client, request_json, nullptr, out, nullptr);
}
llm_status llm_chat_e(llm_client_t* client, const char* request_json, llm_response_t** out, llm_error_t** error) {
  return chat("llm_chat", client, request_json, nullptr, out, error);
}
llm_status llm_chat_cancellable(llm_client_t* client, const char* request_json, llm_cancel_t* cancel,
                                llm_response_t** out) {
  return chat("llm_chat_cancellable", client, request_json, cancel, out, nullptr);
}
llm_status llm_chat_cancellable_e(llm_client_t* client, const char* request_json, llm_cancel_t* cancel,
                                  llm_response_t** out, llm_error_t** error) {
  return chat("llm_chat_cancellable", client, request_json, cancel, out, error);
}

namespace {
llm_status cancel_new(llm_cancel_t** out, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!out) return null_arg("llm_cancel_new", "out", err);
  *out = new (std::nothrow) llm_cancel;
  if (!*out) return fail(LLM_ERR_OUT_OF_MEMORY, "llm_cancel_new: out of memory", err);
  return LLM_OK;
}
llm_status cancel_trigger(llm_cancel_t* cancel, llm_error_t** err) noexcept {
  if (err) *err = nullptr;
  if (!cancel) return null_arg("llm_cancel_trigger", "cancel", err);
  return guard(err, [&] { cancel->t.trigger(); });
}
}  // namespace
llm_status llm_cancel_new(llm_cancel_t** out) { return cancel_new(out, nullptr); }
llm_status llm_cancel_new_e(llm_cancel_t** out, llm_error_t** error) { return cancel_new(out, error); }
llm_status llm_cancel_trigger(llm_cancel_t* cancel) { return cancel_trigger(cancel, nullptr); }
llm_status llm_cancel_trigger_e(llm_cancel_t* cancel, llm_error_t** error) { return cancel_trigger(cancel, error); }
int llm_cancel_is_triggered(const llm_cancel_t* cancel) { return cancel && cancel->t.triggered() ? 1 : 0; }
void llm_cancel_free(llm_cancel_t* cancel) { delete cancel; }

const char* llm_response_json(const llm_response_t* r) {
  if (!r) return nullptr;
  const char* text = nullptr;
  guard(nullptr, [&] { text = r->r->json().c_str(); });
  return text;
}
const char* llm_response_text(const llm_response_t* r) { return r ? r->r->text.c_str() : nullptr; }
const char* llm_response_text_n(const llm_response_t* r, size_t* len) {
  return with_length(r ? r->r->text : literllm::Str(), len);
}
const char* llm_response_finish_reason(const llm_response_t* r) { return r ? r->r->finish_reason.c_str() : nullptr; }
const char* llm_response_refusal(const llm_response_t* r) { return r ? r->r->refusal.c_str() : nullptr; }
const char* llm_response_refusal_n(const llm_response_t* r, size_t* len) {
  return with_length(r ? r->r->refusal : literllm::Str(), len);
}
const char* llm_response_tool_calls_json(const llm_response_t* r) {
  return r ? opt_cstr(r->r->tool_calls_json) : nullptr;
}
const char* llm_response_model(const llm_response_t* r) { return r ? r->r->model.c_str() : nullptr; }
const char* llm_response_provider(const llm_response_t* r) {
  return r && !r->r->provider.empty() ? r->r->provider.c_str() : nullptr;
}
int64_t llm_response_prompt_tokens(const llm_response_t* r) { return r ? r->r->prompt_tokens : -1; }
int64_t llm_response_completion_tokens(const llm_response_t* r) { return r ? r->r->completion_tokens : -1; }
int64_t llm_response_total_tokens(const llm_response_t* r) { return r ? r->r->total_tokens : -1; }
int64_t llm_response_cached_tokens(const llm_response_t* r) { return r ? r->r->cached_tokens : -1; }
uint64_t llm_response_bytes_sent(const llm_response_t* r) { return r ? r->r->stats.bytes_sent : 0; }
uint64_t llm_response_bytes_received(const llm_response_t* r) { return r ? r->r->stats.bytes_received : 0; }
void llm_response_free(llm_response_t* r) { delete r; }

llm_status llm_chat_stream(llm_client_t* client, const char* request_json, llm_stream_t** out) {
  return chat_stream(client, request_json, out, nullptr);
}
llm_status llm_chat_stream_e(llm_client_t* client, const char* request_json, llm_stream_t** out,
                             llm_error_t** error) {
  return chat_stream(client, request_json, out, error);
}

llm_status llm_stream_next(llm_stream_t* stream, const char** chunk_json) {
  return stream_next(stream, chunk_json, nullptr);
}
llm_status llm_stream_next_e(llm_stream_t* stream, const char** chunk_json, llm_error_t** error) {
  return stream_next(stream, chunk_json, error);
}

void llm_stream_cancel(llm_stream_t* stream) {
  if (!stream || stream->q->forked()) return;
  guard(nullptr, [&] { stream->q->request_cancel(); });
}

llm_status llm_stream_final_response(llm_stream_t* stream, llm_response_t** out) {
  return stream_final(stream, out, nullptr);
}
llm_status llm_stream_final_response_e(llm_stream_t* stream, llm_response_t** out, llm_error_t** error) {
  return stream_final(stream, out, error);
}

void llm_stream_free(llm_stream_t* stream) {
  if (!stream) return;
  if (stream->q->forked()) {
    // The parent's stream: its lock may have been held when the process
    // forked. Given up, never touched.
    return;
  }
  guard(nullptr, [&] { stream->q->request_cancel(); });
  delete stream;
}

llm_status llm_chat_async(llm_client_t* client, const char* request_json, llm_chat_done_cb on_done, void* user_data,
                          uint64_t* out_request_id) {
  return chat_async(client, request_json, on_done, user_data, out_request_id, nullptr);
}
llm_status llm_chat_async_e(llm_client_t* client, const char* request_json, llm_chat_done_e_cb on_done,
                            void* user_data, uint64_t* out_request_id, llm_error_t** error) {
  return chat_async(client, request_json, on_done, user_data, out_request_id, error);
}

llm_status llm_chat_stream_async(llm_client_t* client, const char* request_json, llm_stream_chunk_cb on_chunk,
                                 llm_chat_done_cb on_done, void* user_data, uint64_t* out_request_id) {
  return chat_stream_async(client, request_json, on_chunk, on_done, user_data, out_request_id, nullptr);
}
llm_status llm_chat_stream_async_e(llm_client_t* client, const char* request_json, llm_stream_chunk_cb on_chunk,
                                   llm_chat_done_e_cb on_done, void* user_data, uint64_t* out_request_id,
                                   llm_error_t** error) {
  return chat_stream_async(client, request_json, on_chunk, on_done, user_data, out_request_id, error);
}

llm_status llm_client_cancel(llm_client_t* client, uint64_t request_id) {
  return client_cancel(client, request_id, nullptr);
}
llm_status llm_client_cancel_e(llm_client_t* client, uint64_t request_id, llm_error_t** error) {
  return client_cancel(client, request_id, error);
}

llm_status llm_client_io_fd(llm_client_t* client, int* fd) { return client_io_fd(client, fd, nullptr); }
llm_status llm_client_io_fd_e(llm_client_t* client, int* fd, llm_error_t** error) {
  return client_io_fd(client, fd, error);
}
llm_status llm_client_io_run(llm_client_t* client, int* timeout_ms) {
  return client_io_run(client, timeout_ms, nullptr);
}
llm_status llm_client_io_run_e(llm_client_t* client, int* timeout_ms, llm_error_t** error) {
  return client_io_run(client, timeout_ms, error);
}

llm_status llm_preview_request(llm_client_t* client, const char* request_json, int stream, char** out) {
  return preview(client, request_json, stream, out, nullptr);
}
llm_status llm_preview_request_e(llm_client_t* client, const char* request_json, int stream, char** out,
                                 llm_error_t** error) {
  return preview(client, request_json, stream, out, error);
}

llm_status llm_providers_json(llm_client_t* client, char** out) { return providers(client, out, nullptr); }
llm_status llm_providers_json_e(llm_client_t* client, char** out, llm_error_t** error) {
  return providers(client, out, error);
}

llm_status llm_register_provider(llm_client_t* client, const char* provider_json) {
  return register_provider(client, provider_json, nullptr);
}
llm_status llm_register_provider_e(llm_client_t* client, const char* provider_json, llm_error_t** error) {
  return register_provider(client, provider_json, error);
}

llm_status llm_unregister_provider(llm_client_t* client, const char* name) {
  return unregister_provider(client, name, nullptr);
}
llm_status llm_unregister_provider_e(llm_client_t* client, const char* name, llm_error_t** error) {
  return unregister_provider(client, name, error);
}


llm_status llm_call(llm_client_t* client, const char* endpoint, const char* request_json, const void* const* data,
                    const size_t* data_sizes, size_t data_count, llm_response_t** out) {
  return call("llm_call", client, endpoint, request_json, data, data_sizes, data_count, nullptr, out, nullptr);
}
llm_status llm_call_e(llm_client_t* client, const char* endpoint, const char* request_json, const void* const* data,
                      const size_t* data_sizes, size_t data_count, llm_response_t** out, llm_error_t** error) {
  return call("llm_call", client, endpoint, request_json, data, data_sizes, data_count, nullptr, out, error);
}
llm_status llm_call_cancellable(llm_client_t* client, const char* endpoint, const char* request_json,
                                const void* const* data, const size_t* data_sizes, size_t data_count,
                                llm_cancel_t* cancel, llm_response_t** out) {
  return call("llm_call_cancellable", client, endpoint, request_json, data, data_sizes, data_count, cancel, out,
              nullptr);
}
llm_status llm_call_cancellable_e(llm_client_t* client, const char* endpoint, const char* request_json,
                                  const void* const* data, const size_t* data_sizes, size_t data_count,
                                  llm_cancel_t* cancel, llm_response_t** out, llm_error_t** error) {
  return call("llm_call_cancellable", client, endpoint, request_json, data, data_sizes, data_count, cancel, out,
              error);
}
llm_status llm_call_async(llm_client_t* client, const char* endpoint, const char* request_json,
                          const void* const* data, const size_t* data_sizes, size_t data_count,
                          llm_chat_done_cb on_done, void* user_data, uint64_t* out_request_id) {
  return call_async(client, endpoint, request_json, data, data_sizes, data_count, on_done, user_data,
                    out_request_id, nullptr);
}
llm_status llm_call_async_e(llm_client_t* client, const char* endpoint, const char* request_json,
                            const void* const* data, const size_t* data_sizes, size_t data_count,
                            llm_chat_done_e_cb on_done, void* user_data, uint64_t* out_request_id,
                            llm_error_t** error) {
  return call_async(client, endpoint, request_json, data, data_sizes, data_count, on_done, user_data,
                    out_request_id, error);
}
llm_status llm_preview_call(llm_client_t* client, const char* endpoint, const char* request_json,
                            const void* const* data, const size_t* data_sizes, size_t data_count, char** out) {
  return preview_call(client, endpoint, request_json, data, data_sizes, data_count, out, nullptr);
}
llm_status llm_preview_call_e(llm_client_t* client, const char* endpoint, const char* request_json,
                              const void* const* data, const size_t* data_sizes, size_t data_count, char** out,
                              llm_error_t** error) {
  return preview_call(client, endpoint, request_json, data, data_sizes, data_count, out, error);
}
llm_status llm_call_stream(llm_client_t* client, const char* endpoint, const char* request_json,
                           const void* const* data, const size_t* data_sizes, size_t data_count, llm_stream_t** out) {
  return call_stream(client, endpoint, request_json, data, data_sizes, data_count, out, nullptr);
}
llm_status llm_call_stream_e(llm_client_t* client, const char* endpoint, const char* request_json,
                             const void* const* data, const size_t* data_sizes, size_t data_count, llm_stream_t** out,
                             llm_error_t** error) {
  return call_stream(client, endpoint, request_json, data, data_sizes, data_count, out, error);
}
llm_status llm_call_stream_async(llm_client_t* client, const char* endpoint, const char* request_json,
                                 const void* const* data, const size_t* data_sizes, size_t data_count,
                                 llm_stream_chunk_cb on_chunk, llm_chat_done_cb on_done, void* user_data,
                                 uint64_t* out_request_id) {
  return call_stream_async(client, endpoint, request_json, data, data_sizes, data_count, on_chunk, on_done, user_data,
                           out_request_id, nullptr);
}
llm_status llm_call_stream_async_e(llm_client_t* client, const char* endpoint, const char* request_json,
                                   const void* const* data, const size_t* data_sizes, size_t data_count,
                                   llm_stream_chunk_cb on_chunk, llm_chat_done_e_cb on_done, void* user_data,
                                   uint64_t* out_request_id, llm_error_t** error) {
  return call_stream_async(client, endpoint, request_json, data, data_sizes, data_count, on_chunk, on_done, user_data,
                           out_request_id, error);
}
const void* llm_response_bytes(const llm_response_t* r, size_t* len) {
  if (len) *len = 0;
  if (!r || !r->r->binary) return nullptr;
  if (len) *len = r->r->bytes.size();
  return r->r->bytes.data();
}
const char* llm_response_content_type(const llm_response_t* r) {
  return r && r->r->binary ? r->r->content_type.c_str() : nullptr;
}
const float* llm_response_embeddings(const llm_response_t* r, size_t* count, size_t* dimensions) {
  if (count) *count = 0;
  if (dimensions) *dimensions = 0;
  if (!r) return nullptr;
  const float* f = nullptr;
  guard(nullptr, [&] { f = r->r->embeddings(count, dimensions); });
  return f;
}

}  // extern "C"
