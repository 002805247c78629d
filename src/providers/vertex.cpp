// Google Vertex AI: Gemini models through generateContent and Anthropic's
// Claude models through rawPredict, both under
// {base}/v1/projects/{project}/locations/{location}/publishers/<google|anthropic>/models/{model}.
// The bodies are the Gemini and Anthropic codecs' (Anthropic's without
// "model", with "anthropic_version": "vertex-2023-10-16"); the credential is a
// Google OAuth bearer token (make_credential).
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "http/url.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/anthropic.hpp"
#include "providers/gemini.hpp"

namespace literllm {

namespace {

// Claude models are Anthropic's on Vertex ("claude-sonnet-4-5@20250929").
bool is_claude(const Target& t) { return t.model.rfind("claude", 0) == 0 || t.model.rfind("anthropic", 0) == 0; }

// The regional endpoint, or the global one for location "global" (which has
// no "global-" host).
std::string vertex_base(const Target& t) {
  const std::string& location = t.setting("location");
  if (location == "global" && t.base_url == "https://global-aiplatform.googleapis.com")
    return "https://aiplatform.googleapis.com";
  return t.base_url;
}

// A model id's version ("claude-sonnet-4-5@20250929") is sent as Google's
// own clients send it: '@' may stand in a path segment (RFC 3986 pchar).
constexpr std::string_view kModelKeeps = "@";

std::string vertex_url(const Target& t, bool stream) {
  std::string path = "/v1/projects/" + url_encode(t.required("project")) + "/locations/" +
                     url_encode(t.required("location")) + "/publishers/";
  if (is_claude(t)) path += "anthropic/models/" + url_encode(t.model, kModelKeeps) + (stream ? ":streamRawPredict" : ":rawPredict");
  else path += "google/models/" + url_encode(t.model, kModelKeeps) + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  return http::join_path(vertex_base(t), path);
}

class VertexChat final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    json::Document body = is_claude(t) ? anthropic_body(req, t, stream, AnthropicFlavor::Vertex) : gemini_body(req, t);
    http::Request r;
    r.method = "POST";
    r.url = vertex_url(t, stream);
    r.body = json::dump(body);
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
    for (auto& h : t.headers) http::set_header(r.headers, h.first, h.second);
    return r;
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    return is_claude(t) ? anthropic_response(body, t) : gemini_response(body, t);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return is_claude(t) ? anthropic_stream(t, limits) : gemini_stream(t, limits);
  }
  Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const override {
    return gemini_http_error(t, status, body, headers);
  }
};

}  // namespace

const Operation* vertex_operation(Endpoint e) { return codec::chat_only<VertexChat>(e); }

}  // namespace literllm
