// Folds chat.completion.chunk objects into the chat.completion the same call
// would have answered without streaming.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace literllm {

class StreamAssembler {
 public:
  void add(const json::Value& chunk);
  // The assembled chat.completion (usage included when a chunk carried it).
  json::Document finish() const;
  size_t chunks() const { return chunks_; }
  // True once every choice seen so far has a finish_reason (and there was one).
  bool all_finished() const;

 private:
  struct ToolCall {
    std::string id, type = "function", name, arguments;
  };
  struct Choice {
    std::string role = "assistant";
    std::string content, refusal, reasoning;
    bool has_content = false, has_refusal = false, has_reasoning = false;
    std::map<int64_t, ToolCall> tool_calls;
    std::string fn_name, fn_arguments;  // the deprecated function_call
    bool has_function_call = false;
    json::Value annotations{rapidjson::kArrayType};  // url citations, appended as they come
    std::string audio_id, audio_data, audio_transcript;  // audio output: data and transcript arrive in pieces
    int64_t audio_expires_at = 0;
    bool has_audio = false;
    std::string finish_reason;
    json::Value logprobs_content{rapidjson::kArrayType}, logprobs_refusal{rapidjson::kArrayType};
    bool has_logprobs = false, has_content_logprobs = false;
  };
  json::Document store_;  // owns logprobs and usage values
  std::string id_, model_, fingerprint_, service_tier_;
  int64_t created_ = 0;
  json::Value usage_;
  std::map<int64_t, Choice> choices_;
  size_t chunks_ = 0;
};

}  // namespace literllm
