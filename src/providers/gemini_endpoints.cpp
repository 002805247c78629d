// The Gemini API beyond chat, in OpenAI's shapes:
//  - embeddings: POST {base}/v1beta/models/{model}:batchEmbedContents, one
//    request per input text: {"model": "models/{model}", "content": {"parts":
//    [{"text"}]}, "outputDimensionality" (from "dimensions")}. The members of
//    provider_options.gemini go into every one of those requests (taskType or
//    task_type, title, outputDimensionality; snake_case names are converted);
//    extra_body's into the top-level body. The answer's embeddings[i].values
//    become data[i].embedding; the Gemini API counts no tokens for
//    embeddings: usage is 0 unless the answer has usageMetadata.
//  - models: GET {base}/v1beta/models (pageSize from "limit", pageToken from
//    "after"): models[].name "models/x" becomes id "x", owned_by "google",
//    created 0 (Google gives no date); the rest of each model (displayName,
//    inputTokenLimit, supportedGenerationMethods, ...) stays on the item. A
//    further page is said by "has_more": true and "next_page_token" (give it
//    back as "after").
// Errors are Google's ({"error": {"code", "message", "status"}}: gemini_http_error).
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/gemini.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using json::Value;

// "models/x" as "x" (the URL names the model once).
std::string_view bare_model(std::string_view m) { return m.substr(0, 7) == "models/" ? m.substr(7) : m; }

// snake_case names of EmbedContentRequest fields as the API spells them.
std::string camel(std::string_view k) {
  if (k == "task_type") return "taskType";
  if (k == "output_dimensionality") return "outputDimensionality";
  return std::string(k);
}

class GeminiEmbed final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    const auto texts = native::input_texts(req, t.spec->name);
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    // Each request's own fields: dimensions, then provider_options.gemini.
    Value common(rapidjson::kObjectType);
    if (const Value* dims = json::find(req, "dimensions")) common.AddMember("outputDimensionality", Value(*dims, a), a);
    Value opts(rapidjson::kObjectType);
    merge_provider_options(req, opts, t, a);
    for (auto& m : opts.GetObject()) {
      const std::string k = camel(json::sv(m.name));
      auto have = common.FindMember(k.c_str());
      if (have != common.MemberEnd()) have->value = m.value;  // the provider's own spelling wins
      else common.AddMember(json::str(k, a), m.value, a);
    }
    const std::string model = "models/" + std::string(bare_model(t.model));
    Value requests(rapidjson::kArrayType);
    for (std::string_view text : texts) {
      Value r(rapidjson::kObjectType);
      r.AddMember("model", json::str(model, a), a);
      Value part(rapidjson::kObjectType);
      part.AddMember("text", json::str(text, a), a);
      Value parts(rapidjson::kArrayType);
      parts.PushBack(part, a);
      Value content(rapidjson::kObjectType);
      content.AddMember("parts", parts, a);
      r.AddMember("content", content, a);
      for (auto& m : common.GetObject()) r.AddMember(Value(m.name, a), Value(m.value, a), a);
      requests.PushBack(r, a);
    }
    body.AddMember("requests", requests, a);
    codec::finish_body(req, body, t, a, true);
    Target bare = t;
    bare.model = std::string(bare_model(t.model));
    return codec::post_json(t, endpoint_url(bare, Endpoint::Embeddings, "/v1beta/models/{model}:batchEmbedContents"),
                            body, "application/json");
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document src = native::parse_object(body, t.spec->name + " embeddings answer");
    const Value* embs = json::find(src, "embeddings");
    if (!embs || !embs->IsArray())
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " embeddings answer has no \"embeddings\" array");
    native::EmbeddingList out(bare_model(t.model));
    for (rapidjson::SizeType i = 0; i < embs->Size(); ++i) {
      const Value* values = json::find((*embs)[i], "values");
      const std::string what = t.spec->name + " embeddings answer: embeddings[" + std::to_string(i) + "].values";
      if (!values) throw Error(LLM_ERR_SERIALIZATION, what + " is missing");
      out.add(*values, what);
    }
    int64_t tokens = 0;
    if (const Value* um = json::find(src, "usageMetadata")) tokens = native::int_or(*um, "promptTokenCount", 0);
    return out.build(tokens);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
  Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const override {
    return gemini_http_error(t, status, body, headers);
  }
};

class GeminiModels final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    return native::get_json(t, endpoint_url(t, Endpoint::Models, "/v1beta/models"),
                            {{"pageSize", native::text_of(req, "limit")}, {"pageToken", native::text_of(req, "after")}});
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document src = native::parse_object(body, t.spec->name + " models answer");
    return native::model_page(src, "google", "nextPageToken", bare_model);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
  Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const override {
    return gemini_http_error(t, status, body, headers);
  }
};

}  // namespace

const Operation* gemini_endpoint_operation(Endpoint e) {
  static const Operation* embed = new GeminiEmbed;  // leaked: an I/O thread may use them during exit
  static const Operation* models = new GeminiModels;
  switch (e) {
    case Endpoint::Embeddings: return embed;
    case Endpoint::Models: return models;
    default: return nullptr;
  }
}

}  // namespace literllm
