// Amazon Bedrock's Converse codec (src/providers/bedrock.cpp), its pieces
// exposed for tests and fuzzing.
#pragma once
#include <memory>
#include <string_view>

#include "providers/adapter.hpp"

namespace literllm {

// The Converse request body for a validated OpenAI-shaped request. Throws
// LLM_ERR_INVALID_ARGUMENT naming a field Bedrock cannot take.
json::Document bedrock_body(json::Document& req, const Target& t);
// A Converse answer as a chat.completion.
json::Document bedrock_response(std::string_view body, const Target& t);
// The decoder of a ConverseStream body (AWS event-stream frames in).
std::unique_ptr<StreamDecoder> bedrock_stream(const Target& t, const Limits& limits);

// ConverseStream events without their framing (the :event-type and the JSON
// payload of each), translated to chunks. Returns false after the last event
// (metadata). Throws Error on a malformed event.
class BedrockEvents {
 public:
  explicit BedrockEvents(const Target& t);
  ~BedrockEvents();
  bool on_event(std::string_view event_type, std::string_view payload, const ChunkSink& emit);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace literllm
