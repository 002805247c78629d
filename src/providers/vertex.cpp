// Google Vertex AI: Gemini models through generateContent and Anthropic's
// Claude models through rawPredict, both under
// {base}/v1/projects/{project}/locations/{location}/publishers/<google|anthropic>/models/{model}.
// The bodies are the Gemini and Anthropic codecs' (Anthropic's without
// "model", with "anthropic_version": "vertex-2023-10-16"); the credential is a
// Google OAuth bearer token (make_credential). Beyond chat: embeddings through
// :predict (VertexEmbed, below) and the model list: Model Garden's publisher
// models, GET {base}/v1beta1/publishers/{publisher}/models (publisher
// "google" unless the request names another in "publisher"; pageSize from
// "limit", pageToken from "after"; filter, view, orderBy, languageCode and
// listAllVersions as they are). The answer {"publisherModels": [{"name":
// "publishers/google/models/gemini-2.5-pro", "versionId", "launchStage",
// ...}], "nextPageToken"} becomes OpenAI's list: id = the name's last segment,
// owned_by the publisher, created 0, the rest of each model kept on its item;
// a further page is "has_more": true and "next_page_token" (give it back as
// "after"). The list is global (no project in the path), served by the
// location's host.
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "http/url.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/anthropic.hpp"
#include "providers/gemini.hpp"
#include "providers/native_endpoints.hpp"

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

// Embeddings of Google's embedding models (gemini-embedding-001,
// text-embedding-005, text-multilingual-embedding-002, ...): POST
// .../publishers/google/models/{model}:predict with {"instances": [{"content":
// text}, ...], "parameters": {"outputDimensionality"}} ("dimensions"). The
// members of provider_options.vertex_ai named task_type or title go into every
// instance; "parameters" (autoTruncate, ...) merges with the body's; others go
// to the top-level body. The answer's predictions[i].embeddings.values become
// data[i].embedding, and the sum of their statistics.token_count the usage.
class VertexEmbed final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    const auto texts = native::input_texts(req, t.spec->name);
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    json::Value opts(rapidjson::kObjectType);
    merge_provider_options(req, opts, t, a);
    json::Value instances(rapidjson::kArrayType);
    for (std::string_view text : texts) {
      json::Value in(rapidjson::kObjectType);
      in.AddMember("content", json::str(text, a), a);
      for (const char* k : {"task_type", "title"})
        if (const json::Value* v = json::find(opts, k)) in.AddMember(rapidjson::StringRef(k), json::Value(*v, a), a);
      instances.PushBack(in, a);
    }
    body.AddMember("instances", instances, a);
    json::Value params(rapidjson::kObjectType);
    if (const json::Value* dims = json::find(req, "dimensions"))
      params.AddMember("outputDimensionality", json::Value(*dims, a), a);
    for (auto& m : opts.GetObject()) {
      std::string_view k = json::sv(m.name);
      if (k == "task_type" || k == "title") continue;
      if (k == "parameters" && m.value.IsObject()) {
        for (auto& p : m.value.GetObject()) {
          auto have = params.FindMember(p.name);
          if (have != params.MemberEnd()) have->value.CopyFrom(p.value, a);
          else params.AddMember(json::Value(p.name, a), json::Value(p.value, a), a);
        }
        continue;
      }
      body.AddMember(json::Value(m.name, a), json::Value(m.value, a), a);
    }
    if (!params.ObjectEmpty()) body.AddMember("parameters", params, a);
    codec::finish_body(req, body, t, a, true);
    const std::string path = "/v1/projects/" + url_encode(t.required("project")) + "/locations/" +
                             url_encode(t.required("location")) + "/publishers/google/models/" +
                             url_encode(t.model, kModelKeeps) + ":predict";
    return codec::post_json(t, http::join_path(vertex_base(t), path), body, "application/json");
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document src = native::parse_object(body, t.spec->name + " embeddings answer");
    const json::Value* preds = json::find(src, "predictions");
    if (!preds || !preds->IsArray())
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " embeddings answer has no \"predictions\" array");
    native::EmbeddingList out(t.model);
    int64_t tokens = 0;
    for (rapidjson::SizeType i = 0; i < preds->Size(); ++i) {
      const std::string what = t.spec->name + " embeddings answer: predictions[" + std::to_string(i) + "].embeddings";
      const json::Value* e = json::find((*preds)[i], "embeddings");
      const json::Value* values = e ? json::find(*e, "values") : nullptr;
      if (!values) throw Error(LLM_ERR_SERIALIZATION, what + ".values is missing");
      out.add(*values, what + ".values");
      if (const json::Value* st = json::find(*e, "statistics")) tokens += native::int_or(*st, "token_count", 0);
    }
    return out.build(tokens);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
  Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const override {
    return gemini_http_error(t, status, body, headers);
  }
};

// The publisher models of Model Garden (see the top of this file).
class VertexModels final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    std::string publisher = native::text_of(req, "publisher");
    if (publisher.empty()) publisher = "google";
    const std::string path = "/v1beta1/publishers/" + url_encode(publisher) + "/models";
    return native::get_json(t, http::join_path(vertex_base(t), path),
                            {{"pageSize", native::text_of(req, "limit")},
                             {"pageToken", native::text_of(req, "after")},
                             {"filter", native::text_of(req, "filter")},
                             {"view", native::text_of(req, "view")},
                             {"orderBy", native::text_of(req, "orderBy")},
                             {"languageCode", native::text_of(req, "languageCode")},
                             {"listAllVersions", native::text_of(req, "listAllVersions")}});
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document src = native::parse_object(body, t.spec->name + " models answer");
    const json::Value* models = json::find(src, "publisherModels");
    if (models && !models->IsArray())
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " models answer: \"publisherModels\" is not an array");
    // The publisher: the second segment of the first name ("publishers/google/models/...").
    std::string owner = "google";
    if (models && !models->Empty()) {
      std::string_view name = codec::str_of((*models)[0], "name");
      constexpr std::string_view kPub = "publishers/";
      if (name.substr(0, kPub.size()) == kPub) {
        std::string_view rest = name.substr(kPub.size());
        owner = std::string(rest.substr(0, rest.find('/')));
      }
    }
    return native::model_page(src, "publisherModels", owner, "nextPageToken", [](std::string_view name) {
      const size_t slash = name.rfind('/');
      return slash == std::string_view::npos ? name : name.substr(slash + 1);
    });
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
  Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const override {
    return gemini_http_error(t, status, body, headers);
  }
};

}  // namespace

const Operation* vertex_operation(Endpoint e) {
  static const Operation* embed = new VertexEmbed;  // leaked: an I/O thread may use them during exit
  static const Operation* models = new VertexModels;
  if (e == Endpoint::Embeddings) return embed;
  if (e == Endpoint::Models) return models;
  return codec::chat_only<VertexChat>(e);
}

}  // namespace literllm
