// Internal to the local upstream: OpenAI's endpoints beyond chat (see
// README.md, "OpenAI endpoints beyond chat"): embeddings, images, audio
// (speech, transcriptions, translations), moderations, files, batches and the
// Responses API, each checking its request the way api.openai.com does and
// answering in its shape. Files, batches and stored responses live in memory,
// per server.
//
// The deterministic parts of the answers are functions here, so a test can
// compute what the upstream answers.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handler.hpp"

namespace literllm::testing {

// The embedding of `text` (`dimensions` floats, unit length): the first
// `dimensions` values of a pseudo-random sequence seeded by the FNV-1a hash of
// the text, normalized. Taking fewer dimensions is OpenAI's shortening:
// truncation, then normalization.
std::vector<float> upstream_embedding(std::string_view text, size_t dimensions);
// A model's native embedding length (text-embedding-3-small 1536, -large
// 3072, ada-002 1536); 0 for a model the upstream does not know.
size_t upstream_embedding_length(std::string_view model);

// The audio POST /v1/audio/speech answers for `input` in `format` (mp3, opus,
// aac, flac, wav, pcm), and its Content-Type. wav: a RIFF/WAVE file, 24 kHz
// mono 16-bit PCM, a tone per word (0.25 s each, divided by `speed`), the
// input text in a LIST/INFO/ICMT chunk (so a transcription of it hears the
// text back); pcm: the same samples without a header; the others: bytes
// derived from the input behind the format's magic number.
std::string upstream_speech(std::string_view input, std::string_view voice, std::string_view format, double speed = 1);
std::string upstream_speech_content_type(std::string_view format);

// What the transcription routes hear in an audio file: the ICMT text of a WAV
// that has one, else "<n> bytes of audio, fnv1a <16 hex digits>".
std::string upstream_transcript(std::string_view audio);

namespace detail {

class OpenAIEndpoints {
 public:
  // `chat` answers a chat-completions request (the batches run their lines through it).
  explicit OpenAIEndpoints(std::function<Plan(const RecordedRequest&)> chat);
  ~OpenAIEndpoints();
  OpenAIEndpoints(const OpenAIEndpoints&) = delete;
  OpenAIEndpoints& operator=(const OpenAIEndpoints&) = delete;

  // The answer when `path` (no query; with or without /v1) is one of these
  // routes, else nullopt. Thread-safe.
  std::optional<Plan> handle(const RecordedRequest& req, std::string_view path);

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace detail
}  // namespace literllm::testing
