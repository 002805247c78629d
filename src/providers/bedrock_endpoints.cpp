// Amazon Bedrock beyond chat, each call signed like every Bedrock call (SigV4,
// service "bedrock", or a Bedrock API key as a bearer token):
//
// Embeddings through InvokeModel (POST {base}/model/{modelId}/invoke), the
// body being the model family's own:
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
//
// Models: ListFoundationModels, GET {control}/foundation-models, on the
// control-plane host bedrock.{region}.amazonaws.com. The request's byProvider,
// byOutputModality, byInferenceType and byCustomizationType go as they are
// into the query. The answer {"modelSummaries": [{"modelId", "modelName",
// "providerName", "inputModalities", "outputModalities",
// "responseStreamingSupported", ...}]} becomes OpenAI's list: id = modelId,
// owned_by = providerName ("bedrock" when absent), created 0 (no date is
// given), the rest of each summary kept on its item. One page holds them all
// ("has_more": false).
//
// Rerank: the Agent Runtime's Rerank, POST {agent}/rerank on
// bedrock-agent-runtime.{region}.amazonaws.com: {"queries": [{"type": "TEXT",
// "textQuery": {"text": query}}], "sources": [{"type": "INLINE",
// "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": doc}}}],
// "rerankingConfiguration": {"type": "BEDROCK_RERANKING_MODEL",
// "bedrockRerankingConfiguration": {"numberOfResults" (top_n, at most the
// number of documents; absent: every document is ranked),
// "modelConfiguration": {"modelArn": "arn:<partition>:bedrock:{region}::
// foundation-model/{model}" (a model given as an ARN goes as it is),
// "additionalModelRequestFields" (max_tokens_per_doc, and
// provider_options.bedrock.additionalModelRequestFields)}}}}; the other members
// of provider_options.bedrock (nextToken) go to the top-level body. Bedrock
// takes 1 to 1000 documents: more is LLM_ERR_INVALID_ARGUMENT naming
// request.documents, nothing sent. The answer {"results": [{"index",
// "relevanceScore", "document"?}], "nextToken"?} becomes {"object": "list",
// "results": [{"index", "relevance_score", "document": {"text"}?}] (most
// relevant first), "model", "next_token"?}; with "return_documents": true each
// result's document is the request's text; else a document Bedrock returned
// is kept as it gave it. Bedrock counts no tokens: no usage.
//
// The hosts: the base URL is the runtime's (bedrock-runtime[-fips].{region}.
// amazonaws.com[.cn]); models and rerank go to its siblings, the first label
// changed to "bedrock" or "bedrock-agent-runtime". Any other base URL (a proxy,
// a VPC endpoint, a test server) takes every call as it is.
#include <algorithm>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/url.hpp"
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

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

class BedrockModels final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    std::vector<std::pair<std::string, std::string>> query;
    for (const char* k : {"byCustomizationType", "byInferenceType", "byOutputModality", "byProvider"})
      query.emplace_back(k, native::text_of(req, k));
    return native::get_json(t, http::join_path(bedrock_sibling_base(t, "bedrock"), "/foundation-models"), query);
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    const std::string what = t.spec->name + " models answer";
    json::Document src = native::parse_object(body, what);
    const Value* models = json::find(src, "modelSummaries");
    if (!models || !models->IsArray()) throw Error(LLM_ERR_SERIALIZATION, what + " has no \"modelSummaries\" array");
    json::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    Value data(rapidjson::kArrayType);
    for (auto& m : models->GetArray()) {
      std::string_view id = codec::str_of(m, "modelId");
      if (id.empty()) continue;
      std::string_view owner = codec::str_of(m, "providerName");
      data.PushBack(native::model_item(id, 0, owner.empty() ? std::string_view("bedrock") : owner, &m, a), a);
    }
    d.AddMember("object", "list", a);
    d.AddMember("data", data, a);
    d.AddMember("has_more", false, a);
    return d;
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

constexpr size_t kMaxRerankSources = 1000;  // Bedrock's RerankSourcesList

// The text of request document `d`: a string, or an object's "text".
// Bedrock's RerankDocument in an answer: its text as {"text"}, a JSON document as it is.
Value answer_document(const Value& doc, json::Document::AllocatorType& a) {
  const Value* td = json::find(doc, "textDocument");
  const Value* text = td && td->IsObject() ? json::find(*td, "text") : nullptr;
  Value dv(rapidjson::kObjectType);
  if (!text || !text->IsString()) return Value(doc, a);
  dv.AddMember("text", Value(*text, a), a);
  return dv;
}

std::string_view document_text(const Value& d) {
  if (d.IsString()) return json::sv(d);
  const Value* text = d.IsObject() ? json::find(d, "text") : nullptr;
  return text && text->IsString() ? json::sv(*text) : std::string_view();
}

class BedrockRerank final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    if (t.model.empty())
      invalid("request.model: bedrock reranks with a model (bedrock/amazon.rerank-v1:0, bedrock/cohere.rerank-v3-5:0)");
    const Value* docs = json::find(req, "documents");
    if (!docs || !docs->IsArray() || docs->Empty()) invalid("request.documents: is required (a non-empty array)");
    if (docs->Size() > kMaxRerankSources)
      invalid("request.documents: bedrock reranks at most " + std::to_string(kMaxRerankSources) +
              " documents per call; got " + std::to_string(docs->Size()));
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();

    Value queries(rapidjson::kArrayType), query(rapidjson::kObjectType), text(rapidjson::kObjectType);
    text.AddMember("text", json::str(codec::str_of(req, "query"), a), a);
    query.AddMember("type", "TEXT", a);
    query.AddMember("textQuery", text, a);
    queries.PushBack(query, a);
    body.AddMember("queries", queries, a);

    Value sources(rapidjson::kArrayType);
    for (auto& d : docs->GetArray()) {
      Value doc(rapidjson::kObjectType), inline_doc(rapidjson::kObjectType), src(rapidjson::kObjectType);
      doc.AddMember("text", json::str(document_text(d), a), a);
      inline_doc.AddMember("type", "TEXT", a);
      inline_doc.AddMember("textDocument", doc, a);
      src.AddMember("type", "INLINE", a);
      src.AddMember("inlineDocumentSource", inline_doc, a);
      sources.PushBack(src, a);
    }
    body.AddMember("sources", sources, a);

    // provider_options.bedrock: additionalModelRequestFields to the model, the rest to the body.
    Value opts(rapidjson::kObjectType);
    merge_provider_options(req, opts, t, a);
    Value model_cfg(rapidjson::kObjectType);
    model_cfg.AddMember("modelArn", json::str(model_arn(t), a), a);
    Value fields(rapidjson::kObjectType);
    if (const Value* mt = json::find(req, "max_tokens_per_doc"))
      fields.AddMember("max_tokens_per_doc", Value(*mt, a), a);
    if (auto f = opts.FindMember("additionalModelRequestFields"); f != opts.MemberEnd()) {
      if (!f->value.IsObject())
        invalid(std::string("request.provider_options.bedrock.additionalModelRequestFields: expected an object, got ") +
                json::type_name(f->value));
      for (auto& m : f->value.GetObject()) {
        if (auto have = fields.FindMember(m.name); have != fields.MemberEnd()) have->value.CopyFrom(m.value, a);
        else fields.AddMember(Value(m.name, a), Value(m.value, a), a);
      }
      opts.RemoveMember(f);
    }
    if (!fields.ObjectEmpty()) model_cfg.AddMember("additionalModelRequestFields", fields, a);
    Value bedrock_cfg(rapidjson::kObjectType);
    if (const Value* n = json::find(req, "top_n"); n && n->IsInt64())
      bedrock_cfg.AddMember("numberOfResults",
                            std::min<int64_t>(n->GetInt64(), static_cast<int64_t>(docs->Size())), a);
    bedrock_cfg.AddMember("modelConfiguration", model_cfg, a);
    Value cfg(rapidjson::kObjectType);
    cfg.AddMember("type", "BEDROCK_RERANKING_MODEL", a);
    cfg.AddMember("bedrockRerankingConfiguration", bedrock_cfg, a);
    body.AddMember("rerankingConfiguration", cfg, a);
    for (auto& m : opts.GetObject()) {
      if (auto have = body.FindMember(m.name); have != body.MemberEnd()) have->value.CopyFrom(m.value, a);
      else body.AddMember(Value(m.name, a), Value(m.value, a), a);
    }
    codec::finish_body(req, body, t, a, true);
    return codec::post_json(t, http::join_path(bedrock_sibling_base(t, "bedrock-agent-runtime"), "/rerank"), body,
                            "application/json");
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    const Value none(rapidjson::kObjectType);  // no request: no documents to add
    return parse_for(body, t, none);
  }
  json::Document parse_for(std::string_view body, const Target& t, const Value& request) const override {
    const std::string what = t.spec->name + " rerank answer";
    json::Document src = native::parse_object(body, what);
    const Value* results = json::find(src, "results");
    if (!results || !results->IsArray()) throw Error(LLM_ERR_SERIALIZATION, what + " has no \"results\" array");
    json::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    Value out = native::rerank_results(*results, "relevanceScore", request, what, a, answer_document);
    d.AddMember("object", "list", a);
    d.AddMember("results", out, a);
    d.AddMember("model", json::str(t.model, a), a);
    if (std::string_view next = codec::str_of(src, "nextToken"); !next.empty())
      d.AddMember("next_token", json::str(next, a), a);
    return d;
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }

 private:
  // The foundation model's ARN in the target's region and partition.
  static std::string model_arn(const Target& t) {
    if (t.model.rfind("arn:", 0) == 0) return t.model;
    const std::string& region = t.required("region");
    const char* partition = region.rfind("cn-", 0) == 0          ? "aws-cn"
                            : region.rfind("us-gov-", 0) == 0    ? "aws-us-gov"
                            : region.rfind("us-isob-", 0) == 0   ? "aws-iso-b"
                            : region.rfind("us-iso-", 0) == 0    ? "aws-iso"
                                                                 : "aws";
    return std::string("arn:") + partition + ":bedrock:" + region + "::foundation-model/" + t.model;
  }
};

}  // namespace

std::string bedrock_sibling_base(const Target& t, std::string_view service) {
  const std::string& b = t.base_url;
  const size_t scheme = b.find("://");
  const size_t host_at = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t host_end = std::min(b.find('/', host_at), b.find(':', host_at));
  const std::string_view host = std::string_view(b).substr(host_at, host_end == std::string::npos ? std::string::npos
                                                                                                  : host_end - host_at);
  constexpr std::string_view kRuntime = "bedrock-runtime";
  if (host.substr(0, kRuntime.size()) != kRuntime) return b;
  const std::string_view rest = host.substr(kRuntime.size());  // "[-fips].{region}.amazonaws.com[.cn]"
  if (rest.empty() || (rest[0] != '.' && rest.substr(0, 6) != "-fips.") ||
      !(ends_with(rest, ".amazonaws.com") || ends_with(rest, ".amazonaws.com.cn")))
    return b;
  return b.substr(0, host_at) + std::string(service) + std::string(rest) + b.substr(host_at + host.size());
}

const Operation* bedrock_endpoint_operation(Endpoint e) {
  static const Operation* embed = new BedrockEmbed;  // leaked: an I/O thread may use them during exit
  static const Operation* models = new BedrockModels;
  static const Operation* rerank = new BedrockRerank;
  switch (e) {
    case Endpoint::Embeddings: return embed;
    case Endpoint::Models: return models;
    case Endpoint::Rerank: return rerank;
    default: return nullptr;
  }
}

}  // namespace literllm
