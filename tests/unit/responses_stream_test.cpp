// The Responses API's event stream decoder (src/providers/responses_stream.cpp)
// on hand-made bytes: what passes through, where the stream ends, and each
// way it fails.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "providers/adapter.hpp"
#include "providers/registry.hpp"

using namespace literllm;

namespace {

Target openai() {
  Target t;
  t.spec = find_builtin("openai");
  t.model = "gpt-4o-mini";
  return t;
}

struct Fed {
  StreamDecoder::Fed how = StreamDecoder::Fed::More;
  std::vector<std::string> texts;
  llm_status error = LLM_OK;
  std::string message;
};

// Feeds `bytes` in pieces of `step` bytes.
Fed feed(StreamDecoder& d, const std::string& bytes, size_t step = 7) {
  Fed f;
  ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
    EXPECT_TRUE(chunk.IsObject());
    f.texts.emplace_back(text);
    return true;
  };
  try {
    for (size_t at = 0; at < bytes.size() && f.how == StreamDecoder::Fed::More; at += step)
      f.how = d.feed(bytes.data() + at, std::min(step, bytes.size() - at), sink);
    if (f.how == StreamDecoder::Fed::More) d.finish(sink);
  } catch (const Error& e) {
    f.error = e.status();
    f.message = e.what();
  }
  return f;
}

std::string event(const std::string& type, const std::string& fields) {
  return "event: " + type + "\ndata: {\"type\":\"" + type + "\"" + (fields.empty() ? "" : "," + fields) + "}\n\n";
}

const std::string kResponse = R"("response":{"id":"resp_1","object":"response","status":"completed","output":[]})";

}  // namespace

TEST(ResponsesDecoder, EventsPassThroughUntilTheTerminalOne) {
  Target t = openai();
  auto d = responses_stream_decoder(t, Limits{});
  const std::string created = event("response.created", R"("sequence_number":0,)" + kResponse);
  const std::string delta = event("response.output_text.delta", R"("sequence_number":1,"delta":"Hi \u00e9")");
  const std::string done = event("response.completed", R"("sequence_number":2,)" + kResponse);
  Fed f = feed(*d, created + delta + done + event("response.output_text.delta", R"("delta":"after the end")"));
  ASSERT_EQ(f.error, LLM_OK) << f.message;
  EXPECT_EQ(f.how, StreamDecoder::Fed::Ended);
  ASSERT_EQ(f.texts.size(), 3u) << "nothing after the terminal event";
  EXPECT_EQ(f.texts[1], R"({"type":"response.output_text.delta","sequence_number":1,"delta":"Hi \u00e9"})")
      << "as the host sent it";
  ASSERT_TRUE(d->keeps_answer());
  ASSERT_TRUE(d->complete());
  json::Document answer = d->take_answer();
  EXPECT_EQ(json::dump(answer), R"({"id":"resp_1","object":"response","status":"completed","output":[]})");
}

TEST(ResponsesDecoder, IncompleteEndsTheStreamWithItsResponse) {
  Target t = openai();
  auto d = responses_stream_decoder(t, Limits{});
  Fed f = feed(*d, event("response.incomplete",
                         R"("response":{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}})"));
  EXPECT_EQ(f.how, StreamDecoder::Fed::Ended);
  ASSERT_TRUE(d->complete());
  EXPECT_EQ(d->take_answer()["status"], "incomplete");
}

TEST(ResponsesDecoder, EndWithoutTheTerminalEventIsIncomplete) {
  Target t = openai();
  // Cut short, or a [DONE] first (as some compatible hosts send one).
  for (const std::string& tail : {std::string(), std::string("data: [DONE]\n\n")}) {
    auto d = responses_stream_decoder(t, Limits{});
    Fed f = feed(*d, event("response.created", kResponse) + tail);
    EXPECT_EQ(f.error, LLM_OK);
    EXPECT_FALSE(d->complete()) << "the client then fails the call with LLM_ERR_STREAMING";
  }
}

TEST(ResponsesDecoder, FailuresAreTypedErrors) {
  Target t = openai();
  struct Case {
    std::string bytes;
    llm_status status;
    const char* says;
  } cases[] = {
      // The status its code says (the header): a rate limit, not a broken stream.
      {event("error", R"("code":"rate_limit_exceeded","message":"Rate limit reached","param":null)"),
       LLM_ERR_RATE_LIMITED, "Rate limit reached"},
      {event("error", R"("code":"server_overloaded","message":"Overloaded")"), LLM_ERR_SERVICE_UNAVAILABLE,
       "Overloaded"},
      {event("error", R"("code":"context_length_exceeded","message":"Your input exceeds the context window")"),
       LLM_ERR_CONTEXT_WINDOW_EXCEEDED, "context window"},
      {event("response.failed", R"("response":{"id":"r","status":"failed","error":{"code":"server_error","message":"The model failed"}})"),
       LLM_ERR_STREAMING, "response failed: The model failed"},
      {event("response.failed", R"("response":{"id":"r","status":"failed","error":null})"), LLM_ERR_STREAMING,
       "response failed"},
      {event("response.completed", R"("sequence_number":3)"), LLM_ERR_STREAMING, "has no \"response\" object"},
      {"data: {\"sequence_number\":1}\n\n", LLM_ERR_STREAMING, "has no \"type\""},
      {"data: {\"type\":\n\n", LLM_ERR_STREAMING, "stream event"},
      {"data: [1,2]\n\n", LLM_ERR_STREAMING, "not a JSON object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.bytes);
    auto d = responses_stream_decoder(t, Limits{});
    Fed f = feed(*d, c.bytes);
    EXPECT_EQ(f.error, c.status) << f.message;
    EXPECT_NE(f.message.find(c.says), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("openai"), std::string::npos) << "names the provider: " << f.message;
  }
}

TEST(ResponsesDecoder, TheEventNameStandsInForAMissingType) {
  Target t = openai();
  auto d = responses_stream_decoder(t, Limits{});
  Fed f = feed(*d, "event: response.completed\ndata: {" + kResponse + "}\n\n");
  EXPECT_EQ(f.how, StreamDecoder::Fed::Ended) << f.message;
  EXPECT_TRUE(d->complete());
}
