// Cohere beyond chat, in OpenAI's shapes:
//  - embeddings: POST {base}/v2/embed {"model", "texts", "input_type",
//    "embedding_types": ["float"], "output_dimension" (from "dimensions")}.
//    v2 requires input_type: "search_document" unless provider_options.cohere
//    gives one (search_query, classification, clustering); provider_options.
//    cohere merges into the body (truncate, max_tokens, ...), as extra_body
//    does. embeddings.float[i] become data[i].embedding (another type, when
//    embedding_types asks only for it, is read instead);
//    meta.billed_units.input_tokens the usage.
//  - models: GET {base}/v1/models (page_size from "limit", page_token from
//    "after", "endpoint" and "default_only" as they are): models[].name becomes
//    id, owned_by "cohere", created 0 (Cohere gives no date); the rest of each
//    model stays on the item; a further page is "has_more": true and
//    "next_page_token".
//  - rerank: POST {base}/v2/rerank {"model", "query", "documents" (strings; a
//    {"text"} object as its text), "top_n", "max_tokens_per_doc"}. v2 has no
//    return_documents: with "return_documents": true each result gets
//    "document": {"text"} from the request. The answer is {"object": "list",
//    "id", "results": [{"index", "relevance_score", "document"?}] (by
//    relevance, highest first), "model", "usage": {"search_units"} (and
//    "prompt_tokens", "total_tokens" when Cohere counts tokens), "meta"}.
#include <algorithm>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using json::Value;

class CohereEmbed final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    const auto texts = native::input_texts(req, t.spec->name);
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember("model", json::str(t.model, a), a);
    Value arr(rapidjson::kArrayType);
    for (std::string_view s : texts) arr.PushBack(json::str(s, a), a);
    body.AddMember("texts", arr, a);
    body.AddMember("input_type", "search_document", a);
    Value types(rapidjson::kArrayType);
    types.PushBack("float", a);
    body.AddMember("embedding_types", types, a);
    if (const Value* dims = json::find(req, "dimensions")) body.AddMember("output_dimension", Value(*dims, a), a);
    codec::finish_body(req, body, t, a, true);
    return codec::post_json(t, endpoint_url(t, Endpoint::Embeddings, "/v2/embed"), body, "application/json");
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    const std::string what = t.spec->name + " embeddings answer";
    json::Document src = native::parse_object(body, what);
    const Value* e = json::find(src, "embeddings");
    std::string kind = "float";
    if (e && e->IsObject()) {
      const Value* fl = json::find(*e, "float");
      if (!fl && e->MemberCount() > 0) {
        kind = std::string(json::sv(e->MemberBegin()->name));
        fl = &e->MemberBegin()->value;
      }
      e = fl;
    }
    if (!e || !e->IsArray()) throw Error(LLM_ERR_SERIALIZATION, what + " has no \"embeddings.float\" array");
    native::EmbeddingList out(t.model);
    for (rapidjson::SizeType i = 0; i < e->Size(); ++i)
      out.add((*e)[i], what + ": embeddings." + kind + "[" + std::to_string(i) + "]");
    int64_t tokens = 0;
    if (const Value* meta = json::find(src, "meta"))
      if (const Value* bu = json::find(*meta, "billed_units")) tokens = native::int_or(*bu, "input_tokens", 0);
    return out.build(tokens);
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

class CohereModels final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    return native::get_json(t, endpoint_url(t, Endpoint::Models, "/v1/models"),
                            {{"page_size", native::text_of(req, "limit")},
                             {"page_token", native::text_of(req, "after")},
                             {"endpoint", native::text_of(req, "endpoint")},
                             {"default_only", native::text_of(req, "default_only")}});
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document src = native::parse_object(body, t.spec->name + " models answer");
    return native::model_page(src, "cohere", "next_page_token", [](std::string_view n) { return n; });
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

class CohereRerank final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    json::Document body(rapidjson::kObjectType);
    auto& a = body.GetAllocator();
    body.AddMember("model", json::str(t.model, a), a);
    body.AddMember("query", Value(req["query"], a), a);
    Value docs(rapidjson::kArrayType);
    for (auto& d : req["documents"].GetArray())
      docs.PushBack(json::str(d.IsString() ? json::sv(d) : json::sv(d["text"]), a), a);
    body.AddMember("documents", docs, a);
    for (const char* k : {"top_n", "max_tokens_per_doc"})
      if (const Value* v = json::find(req, k)) body.AddMember(rapidjson::StringRef(k), Value(*v, a), a);
    codec::finish_body(req, body, t, a, true);
    return codec::post_json(t, endpoint_url(t, Endpoint::Rerank, "/v2/rerank"), body, "application/json");
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
    Value out = native::rerank_results(*results, "relevance_score", request, what, a,
                                       [](const Value& doc, json::Document::AllocatorType& al) { return Value(doc, al); });
    d.AddMember("object", "list", a);
    if (const Value* id = json::find(src, "id"); id && id->IsString()) d.AddMember("id", Value(*id, a), a);
    d.AddMember("results", out, a);
    d.AddMember("model", json::str(t.model, a), a);
    if (const Value* meta = json::find(src, "meta"); meta && meta->IsObject()) {
      Value usage(rapidjson::kObjectType);
      if (const Value* bu = json::find(*meta, "billed_units"))
        if (const Value* su = json::find(*bu, "search_units"); su && su->IsNumber())
          usage.AddMember("search_units", Value(*su, a), a);
      if (const Value* tk = json::find(*meta, "tokens")) {
        const int64_t in = native::int_or(*tk, "input_tokens", 0), outt = native::int_or(*tk, "output_tokens", 0);
        usage.AddMember("prompt_tokens", in, a);
        usage.AddMember("total_tokens", in + outt, a);
      }
      if (!usage.ObjectEmpty()) d.AddMember("usage", usage, a);
      d.AddMember("meta", Value(*meta, a), a);
    }
    return d;
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

}  // namespace

const Operation* cohere_endpoint_operation(Endpoint e) {
  static const Operation* embed = new CohereEmbed;  // leaked: an I/O thread may use them during exit
  static const Operation* models = new CohereModels;
  static const Operation* rerank = new CohereRerank;
  switch (e) {
    case Endpoint::Embeddings: return embed;
    case Endpoint::Models: return models;
    case Endpoint::Rerank: return rerank;
    default: return nullptr;
  }
}

}  // namespace literllm
