// The OpenAI Responses API streamed (POST /responses with "stream": true):
// Server-Sent Events, each a typed event ({"type": "response.created", ...,
// "sequence_number"}). Every event passes through to the caller as the host
// sent it. The stream ends at its terminal event: "response.completed" or
// "response.incomplete" (a budget ran out: not an error), whose "response"
// is the whole answer the call ends with; "response.failed" and "error"
// events are the stream's typed error. There is no "data: [DONE]" (one is
// taken as the end, as some compatible hosts send it: the stream is then
// complete only if a terminal event came first).
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/errors.hpp"
#include "providers/adapter.hpp"

namespace literllm {

namespace {

// An error the stream carries: its status from the code and the message, as an
// HTTP error's would be (a server failure mid-stream is LLM_ERR_STREAMING).
// `parsed`: the body's JSON when the caller has it, else null.
[[noreturn]] void stream_error(const Target& t, std::string_view body, const char* what,
                               const json::Value* parsed = nullptr) {
  std::string prefix = t.spec->name + " " + what;
  Error e = parsed ? body_error(prefix, *parsed, body, t.secrets, 0, LLM_ERR_STREAMING)
                   : body_error(prefix, body, t.secrets, 0, LLM_ERR_STREAMING);
  e.provider = t.spec->name;
  throw e;
}

class ResponsesStreamDecoder final : public SseStreamDecoder {
 public:
  ResponsesStreamDecoder(const Target& t, const Limits& limits) : SseStreamDecoder(limits), t_(t) {}

  bool on_event(const http::SseEvent& ev, const ChunkSink& emit) override {
    const std::string_view data = ev.data;
    if (data == "[DONE]") return false;
    json::Document d = json::parse(data, (t_.spec->name + " stream event").c_str(), LLM_ERR_STREAMING);
    if (!d.IsObject()) throw Error(LLM_ERR_STREAMING, t_.spec->name + " stream event is not a JSON object");
    const json::Value* type = json::find(d, "type");
    std::string_view kind = type && type->IsString() ? json::sv(*type) : std::string_view(ev.event);
    if (kind.empty())
      throw Error(LLM_ERR_STREAMING, t_.spec->name + " stream event has no \"type\" (a Responses API event has one)");
    if (kind == "error") stream_error(t_, data, "sent an error event", &d);
    const bool terminal = kind == "response.completed" || kind == "response.incomplete";
    json::Value* response = nullptr;
    if (terminal || kind == "response.failed") {
      auto r = d.FindMember("response");
      if (r == d.MemberEnd() || !r->value.IsObject())
        throw Error(LLM_ERR_STREAMING, t_.spec->name + " stream event " + std::string(kind) + " has no \"response\" object");
      response = &r->value;
    }
    if (kind == "response.failed") {
      const json::Value* err = json::find(*response, "error");
      std::string body = err && err->IsObject() ? "{\"error\":" + json::dump(*err) + "}" : std::string("{}");
      stream_error(t_, body, "response failed");
    }
    if (!emit(data, d)) return false;
    if (!terminal) return true;
    // The answer: the document's root becomes its "response" (in its own memory).
    json::Value answer;
    answer.Swap(*response);
    static_cast<json::Value&>(d).Swap(answer);
    answer_ = std::move(d);
    complete_ = true;
    return false;
  }

  bool keeps_answer() const override { return true; }
  bool complete() const override { return complete_; }
  json::Document take_answer() override { return std::move(answer_); }

 private:
  const Target& t_;
  json::Document answer_;
  bool complete_ = false;
};

}  // namespace

std::unique_ptr<StreamDecoder> responses_stream_decoder(const Target& t, const Limits& limits) {
  return std::make_unique<ResponsesStreamDecoder>(t, limits);
}

}  // namespace literllm
