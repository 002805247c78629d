// The extern "C" shims: argument checks, handle <-> object, exceptions ->
// llm_status + the thread-local message. No logic lives here.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "core/client.hpp"
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

namespace {

struct LastError {
  std::string message;
  llm_status status = LLM_OK;
  int http_status = 0;
};
thread_local LastError t_last;

llm_status set_error(llm_status st, const char* msg, int http = 0) {
  try {
    t_last.message = msg ? msg : "";
  } catch (...) {
    t_last.message.clear();
  }
  t_last.status = st;
  t_last.http_status = http;
  return st;
}

// Runs `f`, turning every exception into a status and the thread's message.
template <class F>
llm_status guard(F&& f) noexcept {
  try {
    f();
    return LLM_OK;
  } catch (const Error& e) {
    return set_error(e.status(), e.what(), e.http_status());
  } catch (const std::bad_alloc&) {
    return set_error(LLM_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return set_error(LLM_ERR_INTERNAL, e.what());
  } catch (...) {
    return set_error(LLM_ERR_INTERNAL, "unknown internal error");
  }
}

llm_status null_arg(const char* fn, const char* arg) {
  std::string m = std::string(fn) + ": " + arg + " must not be NULL";
  return set_error(LLM_ERR_INVALID_ARGUMENT, m.c_str());
}

char* dup_string(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size() + 1);
  return p;
}

const char* opt_cstr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

const char* with_length(const literllm::Str& s, size_t* len) {
  if (len) *len = s.size();
  return s.c_str();
}

literllm::Client::DoneFn wrap_done(llm_chat_done_cb cb, void* user_data) {
  return [cb, user_data](llm_status st, std::unique_ptr<literllm::Response> r, const Error* e) {
    llm_response_t* h = nullptr;
    if (r) h = new (std::nothrow) llm_response{std::move(r)};
    if (st == LLM_OK && !h) {
      cb(LLM_ERR_INTERNAL, nullptr, "out of memory", user_data);
      return;
    }
    cb(st, h, e ? e->what() : nullptr, user_data);
  };
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
  }
  return "LLM_ERR_UNKNOWN";
}

const char* llm_last_error(void) { return t_last.message.c_str(); }
llm_status llm_last_error_status(void) { return t_last.status; }
int llm_last_error_http_status(void) { return t_last.http_status; }

void llm_string_free(char* s) { std::free(s); }

llm_status llm_client_new(const char* config_json, llm_client_t** out) {
  if (!out) return null_arg("llm_client_new", "out");
  *out = nullptr;
  return guard([&] { *out = new llm_client(literllm::parse_config_json(config_json ? config_json : "")); });
}

llm_status llm_client_new_from_file(const char* path, llm_client_t** out) {
  if (!out) return null_arg("llm_client_new_from_file", "out");
  *out = nullptr;
  if (!path) return null_arg("llm_client_new_from_file", "path");
  return guard([&] { *out = new llm_client(literllm::parse_config_file(path)); });
}

void llm_client_free(llm_client_t* client) { delete client; }

llm_status llm_chat(llm_client_t* client, const char* request_json, llm_response_t** out) {
  if (!out) return null_arg("llm_chat", "out");
  *out = nullptr;
  if (!client) return null_arg("llm_chat", "client");
  if (!request_json) return null_arg("llm_chat", "request_json");
  return guard([&] {
    auto r = client->impl.chat(request_json);
    *out = new llm_response{std::move(r)};
  });
}

const char* llm_response_json(const llm_response_t* r) { return r ? r->r->json().c_str() : nullptr; }
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
  if (!out) return null_arg("llm_chat_stream", "out");
  *out = nullptr;
  if (!client) return null_arg("llm_chat_stream", "client");
  if (!request_json) return null_arg("llm_chat_stream", "request_json");
  return guard([&] {
    auto s = std::make_unique<llm_stream>();
    s->q = client->impl.stream(request_json);
    *out = s.release();
  });
}

llm_status llm_stream_next(llm_stream_t* stream, const char** chunk_json) {
  if (!chunk_json) return null_arg("llm_stream_next", "chunk_json");
  *chunk_json = nullptr;
  if (!stream) return null_arg("llm_stream_next", "stream");
  return guard([&] {
    const std::string* c = stream->q->next();
    *chunk_json = c ? c->c_str() : nullptr;
  });
}

void llm_stream_cancel(llm_stream_t* stream) {
  if (!stream) return;
  guard([&] { stream->q->request_cancel(); });
}

llm_status llm_stream_final_response(llm_stream_t* stream, llm_response_t** out) {
  if (!out) return null_arg("llm_stream_final_response", "out");
  *out = nullptr;
  if (!stream) return null_arg("llm_stream_final_response", "stream");
  return guard([&] {
    auto r = stream->q->final_copy();
    *out = new llm_response{std::move(r)};
  });
}

void llm_stream_free(llm_stream_t* stream) {
  if (!stream) return;
  guard([&] { stream->q->request_cancel(); });
  delete stream;
}

llm_status llm_chat_async(llm_client_t* client, const char* request_json, llm_chat_done_cb on_done,
                          void* user_data, uint64_t* out_request_id) {
  if (out_request_id) *out_request_id = 0;
  if (!client) return null_arg("llm_chat_async", "client");
  if (!request_json) return null_arg("llm_chat_async", "request_json");
  if (!on_done) return null_arg("llm_chat_async", "on_done");
  return guard([&] {
    uint64_t id = client->impl.chat_async(request_json, wrap_done(on_done, user_data));
    if (out_request_id) *out_request_id = id;
  });
}

llm_status llm_chat_stream_async(llm_client_t* client, const char* request_json, llm_stream_chunk_cb on_chunk,
                                 llm_chat_done_cb on_done, void* user_data, uint64_t* out_request_id) {
  if (out_request_id) *out_request_id = 0;
  if (!client) return null_arg("llm_chat_stream_async", "client");
  if (!request_json) return null_arg("llm_chat_stream_async", "request_json");
  if (!on_done) return null_arg("llm_chat_stream_async", "on_done");
  return guard([&] {
    literllm::Client::ChunkFn chunk;
    if (on_chunk) {
      chunk = [on_chunk, user_data](std::string_view text) {
        std::string s(text);  // NUL-terminated for C
        return on_chunk(s.c_str(), user_data) == 0;
      };
    }
    uint64_t id = client->impl.stream_async(request_json, std::move(chunk), wrap_done(on_done, user_data));
    if (out_request_id) *out_request_id = id;
  });
}

llm_status llm_client_cancel(llm_client_t* client, uint64_t request_id) {
  if (!client) return null_arg("llm_client_cancel", "client");
  return guard([&] { client->impl.cancel(request_id); });
}

llm_status llm_preview_request(llm_client_t* client, const char* request_json, int stream, char** out) {
  if (!out) return null_arg("llm_preview_request", "out");
  *out = nullptr;
  if (!client) return null_arg("llm_preview_request", "client");
  if (!request_json) return null_arg("llm_preview_request", "request_json");
  return guard([&] { *out = dup_string(client->impl.preview(request_json, stream != 0)); });
}

llm_status llm_providers_json(llm_client_t* client, char** out) {
  if (!out) return null_arg("llm_providers_json", "out");
  *out = nullptr;
  return guard([&] {
    *out = dup_string(client ? client->impl.providers_json() : literllm::Client::global_providers_json());
  });
}

llm_status llm_register_provider(llm_client_t* client, const char* provider_json) {
  if (!provider_json) return null_arg("llm_register_provider", "provider_json");
  return guard([&] {
    auto p = literllm::parse_provider_registration(provider_json);
    if (client) client->impl.registered().add(std::move(p));
    else literllm::global_providers().add(std::move(p));
  });
}

llm_status llm_unregister_provider(llm_client_t* client, const char* name) {
  if (!name) return null_arg("llm_unregister_provider", "name");
  return guard([&] {
    bool removed = client ? client->impl.registered().remove(name) : literllm::global_providers().remove(name);
    if (removed) return;
    if (literllm::find_builtin(name))
      throw Error(LLM_ERR_INVALID_ARGUMENT, std::string("llm_unregister_provider: \"") + name +
                                                "\" is a built-in provider and cannot be removed");
    throw Error(LLM_ERR_NOT_FOUND, std::string("llm_unregister_provider: no registered provider named \"") + name + "\"");
  });
}

}  // extern "C"
