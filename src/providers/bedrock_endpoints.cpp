// Amazon Bedrock beyond chat: embeddings through InvokeModel (POST
// {base}/model/{modelId}/invoke, signed like every Bedrock call), the body
// being the model family's own:
//  - Amazon Titan Text Embeddings (amazon.titan-embed-text-v1, -v2:0):
//    {"inputText", "dimensions" (from "dimensions"; v2 only)} → {"embedding",
//    "inputTextTokenCount"}. Titan embeds one text per invocation: a list of
//    more than one text is refused (LLM_ERR_INVALID_ARGUMENT naming
//    request.input) rather than sent as several billed calls behind the
//    caller's back.
//  - Cohere Embed (cohere.embed-english-v3, cohere.embed-multilingual-v3,
//    cohere.embed-v4:0): {"texts", "input_type" (default "search_document"),
//    "output_dimension" (from "dimensions"; v4 only)} → {"embeddings": [[...]]}
//    or, with embedding_types, {"embeddings": {"float": [[...]]}}. Bedrock
//    counts these tokens only in a response header: usage is 0.
// Model ids may carry an inference-profile prefix ("us.cohere.embed-v4:0").
// provider_options.bedrock merges into the model's body (normalize,
// embeddingTypes for Titan; truncate, embedding_types for Cohere), as
// extra_body does.
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using json::Value;

enum class Family { Titan, Cohere };

Family family_of(const Target& t) {
  if (t.model.find("amazon.titan-embed-text") != std::string::npos) return Family::Titan;
  if (t.model.find("cohere.embed") != std::string::npos) return Family::Cohere;
  invalid("request.model: bedrock embeddings take Amazon Titan Text Embeddings (amazon.titan-embed-text-*) or "
          "Cohere Embed (cohere.embed-*) models, not \"" + t.model + "\"");
}

class BedrockEmbed final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    const Family f = family_of(t);
    const auto texts = native::input_texts(req, t.spec->name);
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    const Value* dims = json::find(req, "dimensions");
    if (f == Family::Titan) {
      if (texts.size() != 1)
        invalid("request.input: Amazon Titan Text Embeddings (" + t.model + ") embed one text per request; got " +
                std::to_string(texts.size()) + " (send one call per text)");
      body.AddMember("inputText", json::str(texts[0], a), a);
      if (dims) {
        if (t.model.find("titan-embed-text-v1") != std::string::npos)
          invalid("request.dimensions: " + t.model + " has a fixed size (1536); dimensions needs titan-embed-text-v2");
        body.AddMember("dimensions", Value(*dims, a), a);
      }
    } else {
      Value arr(rapidjson::kArrayType);
      for (std::string_view s : texts) arr.PushBack(json::str(s, a), a);
      body.AddMember("texts", arr, a);
      body.AddMember("input_type", "search_document", a);
      if (dims) {
        if (t.model.find("-v3") != std::string::npos)
          invalid("request.dimensions: " + t.model + " has a fixed size; output dimensions need cohere.embed-v4");
        body.AddMember("output_dimension", Value(*dims, a), a);
      }
    }
    codec::finish_body(req, body, t, a, true);
    return codec::post_json(t, endpoint_url(t, Endpoint::Embeddings, "/model/{model}/invoke"), body,
                            "application/json");
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    const std::string what = t.spec->name + " embeddings answer";
    json::Document src = native::parse_object(body, what);
    native::EmbeddingList out(t.model);
    if (family_of(t) == Family::Titan) {
      const Value* e = json::find(src, "embedding");
      if (!e) {  // embeddingTypes asked for: {"embeddingsByType": {"float": [...]}}
        const Value* by = json::find(src, "embeddingsByType");
        e = by ? json::find(*by, "float") : nullptr;
      }
      if (!e) throw Error(LLM_ERR_SERIALIZATION, what + " has no \"embedding\"");
      out.add(*e, what + ": embedding");
      return out.build(native::int_or(src, "inputTextTokenCount", 0));
    }
    const Value* e = json::find(src, "embeddings");
    if (e && e->IsObject()) {  // embeddings_by_type
      const Value* fl = json::find(*e, "float");
      if (!fl && e->MemberCount() > 0) fl = &e->MemberBegin()->value;
      e = fl;
    }
    if (!e || !e->IsArray()) throw Error(LLM_ERR_SERIALIZATION, what + " has no \"embeddings\" array");
    for (rapidjson::SizeType i = 0; i < e->Size(); ++i)
      out.add((*e)[i], what + ": embeddings[" + std::to_string(i) + "]");
    return out.build(0);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

}  // namespace

const Operation* bedrock_endpoint_operation(Endpoint e) {
  static const Operation* embed = new BedrockEmbed;  // leaked: an I/O thread may use it during exit
  return e == Endpoint::Embeddings ? embed : nullptr;
}

}  // namespace literllm
