// Every protocol's stream decoder holds one event to max_event_bytes: an event
// larger than the limit ends the stream with LLM_ERR_LIMIT_EXCEEDED naming it,
// before the event is held whole, and an event within it goes through.
#include <gtest/gtest.h>

#include <string>

#include "http/eventstream.hpp"
#include "providers/adapter.hpp"
#include "providers/registry.hpp"

using namespace literllm;

namespace {

struct Case {
  const char* provider;
  const char* model;
  // One event whose text content is `text`, framed as the protocol frames it.
  std::string (*event)(const std::string& text);
};

std::string sse(const std::string& data) { return "data: " + data + "\n\n"; }

const Case kCases[] = {
    {"openai", "gpt-4o",
     [](const std::string& t) {
       return sse(R"({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":")" +
                  t + R"("},"finish_reason":null}]})");
     }},
    {"anthropic", "claude-sonnet-4-5",
     [](const std::string& t) {
       return "event: message_start\n" +
              sse(R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":1,"output_tokens":0}}})") +
              "event: content_block_delta\n" +
              sse(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" + t + R"("}})");
     }},
    {"gemini", "gemini-2.5-flash",
     [](const std::string& t) {
       return sse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":")" + t + R"("}]},"index":0}],"modelVersion":"m"})");
     }},
    {"cohere", "command-a-03-2025",
     [](const std::string& t) {
       return "event: message-start\n" + sse(R"({"type":"message-start","id":"x","delta":{"message":{"role":"assistant"}}})") +
              "event: content-delta\n" +
              sse(R"({"type":"content-delta","index":0,"delta":{"message":{"content":{"text":")" + t + R"("}}}})");
     }},
    {"bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0",
     [](const std::string& t) {
       return http::encode_event_message("messageStart", R"({"role":"assistant"})") +
              http::encode_event_message("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":")" + t + R"("}})");
     }},
};

Target target_for(const Case& k) {
  Target t;
  t.spec = find_builtin(k.provider);
  t.base_url = t.spec->base_url;
  t.model = k.model;
  t.settings = {{"region", "us-east-1"}, {"project", "p"}, {"location", "us-central1"}};
  return t;
}

// Feeds `bytes` in pieces of `step`; returns the text content the decoder emitted.
std::string feed_all(StreamDecoder& d, const std::string& bytes, size_t step) {
  std::string text;
  ChunkSink sink = [&](std::string_view, const json::Value& chunk) {
    const json::Value* choices = json::find(chunk, "choices");
    if (choices && choices->IsArray() && !choices->Empty()) {
      const json::Value* delta = json::find((*choices)[0], "delta");
      const json::Value* content = delta ? json::find(*delta, "content") : nullptr;
      if (content && content->IsString()) text += json::sv(*content);
    }
    return true;
  };
  for (size_t at = 0; at < bytes.size(); at += step)
    d.feed(bytes.data() + at, std::min(step, bytes.size() - at), sink);
  return text;
}

}  // namespace

TEST(NativeStreamLimits, AnEventOverMaxEventBytesIsRefusedByEveryProtocol) {
  Limits limits;
  limits.max_event_bytes = 1024;
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.provider);
    const Target t = target_for(k);
    const Operation& op = require_operation(*t.spec, Endpoint::Chat);
    // Within the limit: delivered.
    auto ok = op.stream_decoder(t, limits);
    EXPECT_EQ(feed_all(*ok, k.event(std::string(600, 'a')), 97), std::string(600, 'a'));
    // Over it, whole or in pieces: refused, naming the limit.
    for (size_t step : {size_t{1} << 20, size_t{113}}) {
      auto big = op.stream_decoder(t, limits);
      try {
        feed_all(*big, k.event(std::string(4000, 'b')), step);
        ADD_FAILURE() << "an event of 4000 bytes passed max_event_bytes 1024 (step " << step << ")";
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), LLM_ERR_LIMIT_EXCEEDED) << e.what();
        EXPECT_NE(std::string(e.what()).find("max_event_bytes"), std::string::npos) << e.what();
      }
    }
  }
}
