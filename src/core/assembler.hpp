// Folds chat.completion.chunk objects into the chat.completion the same call
// would have answered without streaming.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/json.hpp"

namespace literllm {

class StreamAssembler {
 public:
  // `limits`: what one stream may keep (max_stream_bytes, max_choices,
  // max_tool_calls); add() throws Error(LLM_ERR_LIMIT_EXCEEDED) naming the one crossed.
  explicit StreamAssembler(const Limits& limits = {}) : limits_(limits) {}

  void add(const json::Value& chunk);
  // The assembled chat.completion (usage included when a chunk carried it).
  // Repeatable; the state is kept.
  json::Document finish() const { return build(*this); }
  // The same, releasing the assembler's memory as the document is built (it
  // is empty afterwards): the peak stays near one copy of the content.
  json::Document take() { return build(*this); }
  size_t chunks() const { return chunks_; }
  // True once every choice seen so far has a finish_reason (and there was one).
  bool all_finished() const;
  // Bytes kept so far (strings, and logprobs/annotations as held in memory).
  uint64_t retained() const {  // (RapidJSON has no const GetAllocator; Size() only reads)
    return strings_ + const_cast<json::Document&>(store_).GetAllocator().Size();
  }

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
    json::Value thinking_blocks{rapidjson::kArrayType};  // signed reasoning blocks, appended as they come
    std::string audio_id, audio_data, audio_transcript;  // audio output: data and transcript arrive in pieces
    int64_t audio_expires_at = 0;
    bool has_audio = false;
    std::string finish_reason;
    json::Value logprobs_content{rapidjson::kArrayType}, logprobs_refusal{rapidjson::kArrayType};
    bool has_logprobs = false, has_content_logprobs = false;
  };
  // finish() (Self const: copies) and take() (Self mutable: moves and releases).
  template <class Self>
  static json::Document build(Self& self);
  bool append(const json::Value& obj, const char* key, std::string& out);
  void check_retained() const;

  Limits limits_;
  json::Document store_;  // owns logprobs and annotations values
  json::Document usage_;  // the last usage seen (replaced, never accumulated)
  std::string id_, model_, fingerprint_, service_tier_;
  int64_t created_ = 0;
  std::map<int64_t, Choice> choices_;
  size_t chunks_ = 0;
  uint64_t strings_ = 0;  // bytes appended to the strings above
};

}  // namespace literllm
