// Wire protocols as operations. Each protocol (src/providers/<protocol>.cpp)
// offers one Operation per endpoint it serves; an operation is pure: JSON and
// bytes in, JSON out, no socket, testable on recorded traffic. The model is
// the OpenAI shape as a RapidJSON DOM: requests come in as that, responses
// and chunks go out as that.
//
// A call runs: Operation::build (the provider's request, body final), then
// the target's Credential (src/auth: a key header, a SigV4 signature, a bearer
// token) signs it, before each attempt; the answer goes to Operation::parse,
// or, streamed, through the StreamDecoder the operation makes (framing and
// translation, one per attempt); an error answer to Operation::http_error.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/credential.hpp"
#include "auth/token_source.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/secrets.hpp"
#include "http/request.hpp"
#include "http/sse.hpp"
#include "providers/registry.hpp"

namespace literllm {



// Caller-owned bytes a call uploads without a copy (llm_call's `data`): a
// request names one by its index ({"data": 0}). They stay valid until the
// call ends.
struct Blobs {
  const void* const* data = nullptr;
  const size_t* sizes = nullptr;
  size_t count = 0;
};

// Where one call goes: the provider row plus everything resolved for this call.
struct Target {
  ProviderPtr spec;
  std::string base_url;  // no trailing slash
  std::string api_key;   // may be empty (key-optional providers, or signed ones)
  std::string model;     // the model name as the provider knows it (prefix removed)
  http::Headers headers; // extra headers: provider row, config, then the request's own
  Settings settings;     // the provider's settings (config, then environment, then defaults)
  std::shared_ptr<const auth::Credential> credential;  // signs each attempt; null: nothing to add
  Secrets secrets;       // the key, every credential header value, the base URL's credentials

  // A setting's value, or "" when unset.
  const std::string& setting(std::string_view name) const;
  // A setting the call cannot do without: throws LLM_ERR_INVALID_ARGUMENT
  // naming providers.<name>.<setting> and its environment variable.
  const std::string& required(std::string_view name) const;
};

// Receives each chunk a stream yields: its JSON text (an OpenAI
// chat.completion.chunk) and the same, parsed. Returns false to stop.
using ChunkSink = std::function<bool(std::string_view chunk_json, const json::Value& chunk)>;

// The streamed answer of one attempt: bytes in as they arrive, chunks out.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  enum class Fed { More, Ended, Stopped };
  // Ended: the protocol's end event came (no chunk follows); Stopped: the sink
  // returned false. Throws Error on an error event or a malformed stream.
  virtual Fed feed(const char* data, size_t len, const ChunkSink& emit) = 0;
  // The body ended without an end event. May emit what was held back.
  virtual void finish(const ChunkSink& emit) = 0;
  // A stream whose events are not chat.completion.chunks (the Responses API's)
  // keeps its answer itself: the client then assembles no chat from them.
  virtual bool keeps_answer() const { return false; }
  // keeps_answer(): whether the stream reached its answer (its terminal event),
  // and that answer, taken once.
  virtual bool complete() const { return false; }
  virtual json::Document take_answer() { return json::Document(); }
};

// A stream framed as Server-Sent Events; subclasses translate each event.
class SseStreamDecoder : public StreamDecoder {
 public:
  explicit SseStreamDecoder(const Limits& limits) { framer_.set_max_event_bytes(limits.max_event_bytes); }
  Fed feed(const char* data, size_t len, const ChunkSink& emit) final;
  void finish(const ChunkSink& emit) override {
    (void)emit;
    framer_.finish();
  }
  // Translates one event; returns false once it marks the end of the stream.
  // Once emit has returned false, the rest of the stream is not read.
  virtual bool on_event(const http::SseEvent& ev, const ChunkSink& emit) = 0;

 private:
  http::SseFramer framer_;
};

class Operation {
 public:
  virtual ~Operation() = default;
  // The HTTP request for a validated request DOM (the operation may modify
  // `req`, which the caller owns and will not reuse). No credential yet:
  // the target's Credential adds it once the body is final.
  virtual http::Request build(json::Document& req, const Target& t, bool stream) const = 0;
  // The same for a call that may upload (`blobs`: the caller's bytes a file
  // field names by index). Operations that take files override it.
  virtual http::Request build_with(json::Document& req, const Target& t, bool stream, const Blobs& blobs) const {
    (void)blobs;
    return build(req, t, stream);
  }
  // Whether a 2xx answer is bytes (speech audio, a file's content) rather than
  // JSON: the response then holds them with their Content-Type, and parse()
  // is given only their description (see Client::succeed).
  virtual bool binary_answer() const { return false; }
  // Parses a 2xx body. Throws Error (LLM_ERR_SERIALIZATION for what it cannot read).
  virtual json::Document parse(std::string_view body, const Target& t) const = 0;
  // parse() given also the request it answers (what build left of it), for an
  // answer normalized with what only the request holds (the documents of a
  // rerank). By default parse(body, t).
  virtual json::Document parse_for(std::string_view body, const Target& t, const json::Value& request) const {
    (void)request;
    return parse(body, t);
  }
  // The decoder of one streamed answer.
  virtual std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const = 0;
  // The typed error for an HTTP error answer.
  virtual Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const;
  // Whether a 2xx streamed answer's Content-Type is the protocol's stream format.
  virtual bool is_stream_content_type(const std::string* content_type) const;
};

// The operation `p` offers for `e`; nullptr when the protocol has none.
const Operation* operation_for(Protocol p, Endpoint e);
// The same, or throws LLM_ERR_ENDPOINT_NOT_SUPPORTED naming the provider and the endpoint.
const Operation& require_operation(const ProviderSpec& spec, Endpoint e);

// The protocols' operations, one function per protocol file.
const Operation* openai_operation(Endpoint e);
const Operation* anthropic_operation(Endpoint e);
const Operation* bedrock_operation(Endpoint e);
const Operation* cohere_operation(Endpoint e);
const Operation* vertex_operation(Endpoint e);
const Operation* gemini_operation(Endpoint e);
// Web search (search.cpp).
const Operation* brave_operation(Endpoint e);
const Operation* tavily_operation(Endpoint e);
const Operation* exa_operation(Endpoint e);
const Operation* perplexity_search_operation(Endpoint e);
// The OpenAI protocol's endpoints beyond chat (openai_endpoints.cpp).
const Operation* openai_endpoint_operation(Endpoint e);

// The OpenAI Responses API's event stream (responses_stream.cpp).
std::unique_ptr<StreamDecoder> responses_stream_decoder(const Target& t, const Limits& limits);

// One OpenAI stream event: its chunk passes through (normalized where a host
// differs). Returns false at `data: [DONE]`. Throws Error on an error event.
bool openai_stream_event(const http::SseEvent& ev, const Target& t, const ChunkSink& emit);

// The credential of a provider's key, by its row's auth kind (Authorization:
// Bearer, or the row's header); null when there is no key or no auth.
std::shared_ptr<const auth::Credential> key_credential(const ProviderSpec& spec, const std::string& key);
// The credential of a resolved target: its key's, or for a protocol that signs
// (AuthKind::Signed) the signer its settings make (Bedrock: SigV4 from the AWS
// keys and region; Vertex AI: a fixed access token, or one exchanged for a
// service-account key, whose source `tokens` keeps). Throws
// LLM_ERR_AUTHENTICATION naming what is missing, LLM_ERR_INVALID_ARGUMENT
// naming a key file that cannot be read or used.
std::shared_ptr<const auth::Credential> make_credential(const Target& t, auth::TokenSources* tokens = nullptr);

// base_url + `path`, or + the row's chat_path when it has one; {model} (URL-
// encoded) and {setting} placeholders filled in. Throws LLM_ERR_INVALID_ARGUMENT
// naming a required setting that is unset.
std::string provider_url(const Target& t, std::string_view path);
// Values for a path's placeholders beyond the model and the settings ({file_id}, ...).
using PathValues = std::vector<std::pair<std::string_view, std::string>>;
// The URL of endpoint `e`: base_url + the row's path for it (ProviderSpec::
// paths) or `path`, every placeholder filled (URL-encoded): `values` first,
// then {model}, then the settings. Throws as provider_url.
std::string endpoint_url(const Target& t, Endpoint e, std::string_view path, const PathValues& values = {});
// base_url + `tmpl`, its placeholders filled as endpoint_url fills them.
std::string fill_url(const Target& t, std::string_view tmpl, const PathValues& values = {});
// Percent-encodes everything but RFC 3986's unreserved characters and those in `keep`.
std::string url_encode(std::string_view s, std::string_view keep = {});

// Shared by the OpenAI-shaped codecs (openai.cpp).
void set_member(json::Value& obj, const char* key, json::Value v, json::Allocator& a);
// Moves each member of `extra` into `obj` unless `obj` already has that name.
void add_new_members(json::Value& obj, json::Value& extra, json::Allocator& a);
// Moves provider_options.<provider> (any spelling of the provider's names)
// into `body` (members the body lacks are added; objects are merged one level
// deep), and removes provider_options from `req`. Throws LLM_ERR_INVALID_ARGUMENT
// when provider_options is not an object.
void merge_provider_options(json::Value& req, json::Value& body, const Target& t, json::Allocator& a);

}  // namespace literllm
