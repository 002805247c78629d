// Anthropic beyond chat: the model list, GET {base}/v1/models (x-api-key,
// anthropic-version), in OpenAI's shape: data[].id as Anthropic gives it,
// created from created_at (RFC 3339), owned_by "anthropic", display_name and
// type kept on each item. One page per call: "limit" and "after" (after_id)
// and "before" (before_id) page explicitly; the answer's "has_more",
// "first_id" and "last_id" say where the next page starts (give last_id back
// as "after").
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using json::Value;

class AnthropicModels final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool) const override {
    return native::get_json(t, endpoint_url(t, Endpoint::Models, "/v1/models"),
                            {{"limit", native::text_of(req, "limit")},
                             {"after_id", native::text_of(req, "after")},
                             {"before_id", native::text_of(req, "before")}},
                            {{"anthropic-version", "2023-06-01"}});
  }
  json::Document parse(std::string_view body, const Target& t) const override {
    json::Document src = native::parse_object(body, t.spec->name + " models answer");
    const Value* models = json::find(src, "data");
    if (!models || !models->IsArray())
      throw Error(LLM_ERR_SERIALIZATION, t.spec->name + " models answer has no \"data\" array");
    json::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    Value data(rapidjson::kArrayType);
    for (auto& m : models->GetArray()) {
      std::string_view id = codec::str_of(m, "id");
      if (id.empty()) continue;
      data.PushBack(native::model_item(id, native::rfc3339_secs(codec::str_of(m, "created_at")), "anthropic", &m, a), a);
    }
    d.AddMember("object", "list", a);
    d.AddMember("data", data, a);
    const Value* more = json::find(src, "has_more");
    d.AddMember("has_more", more && more->IsBool() && more->GetBool(), a);
    for (const char* k : {"first_id", "last_id"})
      if (const Value* v = json::find(src, k); v && v->IsString()) d.AddMember(rapidjson::StringRef(k), Value(*v, a), a);
    return d;
  }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target&, const Limits&) const override { return nullptr; }
};

}  // namespace

const Operation* anthropic_endpoint_operation(Endpoint e) {
  static const Operation* models = new AnthropicModels;  // leaked: an I/O thread may use it during exit
  return e == Endpoint::Models ? models : nullptr;
}

}  // namespace literllm
