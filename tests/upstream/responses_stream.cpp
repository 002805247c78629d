// The Responses API's event stream, derived from the finished response: the
// events, their order and their fields as OpenAI's API reference describes
// them ("Streaming events").
#include "responses_stream.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "anthropic.hpp"  // shared helpers

namespace literllm::testing::detail {

namespace {

using rapidjson::Value;
using Doc = rapidjson::Document;

std::string dump(const Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

class Events {
 public:
  explicit Events(Plan& p) : p_(p) {}
  // One event: `fields` (an object) gets "type" and "sequence_number" first.
  void add(const char* type, Value fields, Doc::AllocatorType& a) {
    Value e(rapidjson::kObjectType);
    e.AddMember("type", Value(type, a), a);
    e.AddMember("sequence_number", seq_++, a);
    for (auto& m : fields.GetObject()) e.AddMember(Value(m.name, a), Value(m.value, a), a);
    p_.events.push_back(std::string("event: ") + type + "\ndata: " + dump(e) + "\n\n");
  }

 private:
  Plan& p_;
  int64_t seq_ = 0;
};

Value obj() { return Value(rapidjson::kObjectType); }

}  // namespace

Plan responses_event_stream(std::string_view response_json, std::string_view fail) {
  Doc final_doc;
  final_doc.Parse(response_json.data(), response_json.size());
  Plan p = shared::sse_plan();
  if (final_doc.HasParseError() || !final_doc.IsObject()) return shared::json_plan(500, "{}");
  auto& a = final_doc.GetAllocator();
  Events ev(p);
  // The response as it starts: in progress, no output, no usage yet.
  Value start(final_doc, a);
  start["status"].SetString("in_progress");
  start["output"].SetArray();
  start["usage"].SetNull();
  if (start.HasMember("incomplete_details")) start["incomplete_details"].SetNull();
  for (const char* type : {"response.created", "response.in_progress"}) {
    Value f = obj();
    f.AddMember("response", Value(start, a), a);
    ev.add(type, std::move(f), a);
  }
  const Value& output = final_doc["output"];
  bool failed = false;
  for (rapidjson::SizeType oi = 0; oi < output.Size() && !failed; ++oi) {
    const Value& item = output[oi];
    const std::string type = item["type"].GetString();
    const Value item_id(item["id"], a);
    Value added(item, a);
    if (added.HasMember("status")) added["status"].SetString("in_progress");
    if (type == "message") added["content"].SetArray();
    if (type == "function_call") added["arguments"].SetString("");
    {
      Value f = obj();
      f.AddMember("output_index", oi, a);
      f.AddMember("item", added, a);
      ev.add("response.output_item.added", std::move(f), a);
    }
    if (type == "message") {
      const Value& content = item["content"];
      for (rapidjson::SizeType ci = 0; ci < content.Size() && !failed; ++ci) {
        const Value& part = content[ci];
        Value empty(part, a);
        if (empty.HasMember("text")) empty["text"].SetString("");
        Value f = obj();
        f.AddMember("item_id", Value(item_id, a), a);
        f.AddMember("output_index", oi, a);
        f.AddMember("content_index", ci, a);
        f.AddMember("part", empty, a);
        ev.add("response.content_part.added", std::move(f), a);
        const std::string text = part.HasMember("text") ? part["text"].GetString() : "";
        for (const std::string& piece : shared::two_word_pieces(text)) {
          Value d = obj();
          d.AddMember("item_id", Value(item_id, a), a);
          d.AddMember("output_index", oi, a);
          d.AddMember("content_index", ci, a);
          d.AddMember("delta", Value(piece.c_str(), static_cast<rapidjson::SizeType>(piece.size()), a), a);
          d.AddMember("logprobs", Value(rapidjson::kArrayType), a);
          ev.add("response.output_text.delta", std::move(d), a);
          if (!fail.empty()) {
            failed = true;
            break;
          }
        }
        if (failed) break;
        Value done = obj();
        done.AddMember("item_id", Value(item_id, a), a);
        done.AddMember("output_index", oi, a);
        done.AddMember("content_index", ci, a);
        done.AddMember("text", Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), a), a);
        done.AddMember("logprobs", Value(rapidjson::kArrayType), a);
        ev.add("response.output_text.done", std::move(done), a);
        Value pd = obj();
        pd.AddMember("item_id", Value(item_id, a), a);
        pd.AddMember("output_index", oi, a);
        pd.AddMember("content_index", ci, a);
        pd.AddMember("part", Value(part, a), a);
        ev.add("response.content_part.done", std::move(pd), a);
      }
    } else if (type == "function_call") {
      const std::string args = item["arguments"].GetString();
      for (const std::string& piece : shared::three_pieces(args)) {
        Value d = obj();
        d.AddMember("item_id", Value(item_id, a), a);
        d.AddMember("output_index", oi, a);
        d.AddMember("delta", Value(piece.c_str(), static_cast<rapidjson::SizeType>(piece.size()), a), a);
        ev.add("response.function_call_arguments.delta", std::move(d), a);
      }
      Value done = obj();
      done.AddMember("item_id", Value(item_id, a), a);
      done.AddMember("output_index", oi, a);
      done.AddMember("arguments", Value(args.c_str(), static_cast<rapidjson::SizeType>(args.size()), a), a);
      ev.add("response.function_call_arguments.done", std::move(done), a);
    }
    if (failed) break;
    Value f = obj();
    f.AddMember("output_index", oi, a);
    f.AddMember("item", Value(item, a), a);
    ev.add("response.output_item.done", std::move(f), a);
  }
  if (failed) {
    Value r(start, a);
    r["status"].SetString("failed");
    Value err = obj();
    err.AddMember("code", Value(std::string(fail).c_str(), static_cast<rapidjson::SizeType>(fail.size()), a), a);
    const std::string msg = fail == "rate_limit_exceeded" ? "Rate limit reached for requests. Please try again later."
                                                          : "The model failed to generate a response.";
    err.AddMember("message", Value(msg.c_str(), static_cast<rapidjson::SizeType>(msg.size()), a), a);
    r["error"] = err;
    Value f = obj();
    f.AddMember("response", r, a);
    ev.add("response.failed", std::move(f), a);
    return p;
  }
  const bool incomplete = std::string_view(final_doc["status"].GetString()) == "incomplete";
  Value f = obj();
  f.AddMember("response", Value(final_doc, a), a);
  ev.add(incomplete ? "response.incomplete" : "response.completed", std::move(f), a);
  return p;
}

}  // namespace literllm::testing::detail
