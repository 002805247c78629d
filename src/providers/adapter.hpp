// A provider adapter: one wire protocol, pure (bytes in, typed model out, and the
// reverse), testable with no socket. The model is the OpenAI chat shape as a
// RapidJSON DOM: requests come in as that, responses and chunks go out as that.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/secrets.hpp"
#include "http/request.hpp"
#include "http/sse.hpp"
#include "providers/registry.hpp"

namespace literllm {

// Where one call goes: the provider row plus everything resolved for this call.
struct Target {
  ProviderPtr spec;
  std::string base_url;  // no trailing slash
  std::string api_key;   // may be empty (key-optional providers)
  std::string model;     // the model name as the provider knows it (prefix removed)
  http::Headers headers; // extra headers: provider row, config, then the request's own
  Secrets secrets;       // the key, every credential header value, the base URL's credentials
};

// Receives each chunk a stream event yields: its JSON text (an OpenAI
// chat.completion.chunk) and the same, parsed.
using ChunkSink = std::function<void(std::string_view chunk_json, const json::Value& chunk)>;

class Adapter {
 public:
  virtual ~Adapter() = default;
  // Builds the HTTP request for a validated request DOM (the adapter may modify
  // `req`, which the caller owns and will not reuse).
  virtual http::Request build_chat(json::Document& req, const Target& t, bool stream) const = 0;
  // Parses a 2xx body into a chat.completion DOM. Throws Error(LLM_ERR_SERIALIZATION).
  virtual json::Document parse_chat_response(std::string_view body, const Target& t) const = 0;
  // Handles one stream event, calling `emit` for each chunk it yields. Returns
  // false once the event marks the end of the stream. Throws Error on an error
  // event or a malformed one.
  virtual bool on_stream_event(const http::SseEvent& ev, const Target& t, const ChunkSink& emit) const = 0;
  // The typed error for an HTTP error answer.
  virtual Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const;
};

const Adapter& adapter_for(Protocol p);

// Adds the provider's credential header to `req` (and marks it secret).
void add_auth(http::Request& req, const Target& t);

}  // namespace literllm
