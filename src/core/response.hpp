// A finished chat: the normalized JSON plus the hot fields, extracted once.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace literllm {

struct CallStats {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  double latency_ms = 0;
  long http_status = 0;
  int retries = 0;
};

// A string borrowed from a response's document (NUL-terminated, and it may
// hold NUL bytes: size() counts them all), or none.
class Str {
 public:
  Str() = default;
  Str(const char* data, size_t size) : data_(data), size_(size) {}
  bool has_value() const { return data_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  std::string_view operator*() const { return {data_, size_}; }
  const char* c_str() const { return data_; }  // nullptr when none
  size_t size() const { return size_; }
  friend bool operator==(const Str& a, std::string_view b) { return a.has_value() && *a == b; }
  friend bool operator==(const Str& a, const std::string& b) { return a == std::string_view(b); }
  friend bool operator==(const Str& a, const char* b) { return a == std::string_view(b); }
  friend bool operator==(const Str& a, const std::optional<std::string>& b) {
    return a.has_value() == b.has_value() && (!b || *a == *b);
  }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// An embeddings answer's vectors, held apart from its document: one row-major
// buffer of floats (row r is the vector of data[i] with index r), and for each
// item of "data" in document order the row it holds.
struct Vectors {
  std::vector<float> values;
  size_t rows = 0, dims = 0;
  std::vector<size_t> row_of_item;
};

// Takes an embeddings answer's vectors out of `doc` when every data[i].embedding
// is float32 values in base64 (the OpenAI API's encoding_format "base64",
// little-endian), all of one length, and every "index" names a row once. The
// document is then rebuilt without them (data[i].embedding becomes null), so
// that a large answer is held once, as floats; Response::json() writes them
// back, each as the shortest text that reads back as the same float. Nothing
// is taken when the rows do not fit one buffer or are numbers (kept as the
// answer wrote them): the document keeps its vectors, base64 ones decoded into
// arrays of numbers. Throws Error(LLM_ERR_SERIALIZATION) naming `provider` for a
// base64 embedding that is not float32 values, or a NaN or infinity in one.
std::optional<Vectors> take_vectors(json::Document& doc, const std::string& provider);

struct Response {
  std::string provider;
  // The first choice's strings and the model, borrowed from doc() (no copy:
  // an answer of hundreds of megabytes is held once).
  Str text, finish_reason, refusal, model;
  std::optional<std::string> tool_calls_json;
  int64_t prompt_tokens = -1, completion_tokens = -1, total_tokens = -1, cached_tokens = -1;
  CallStats stats;
  // A binary answer (speech audio, a file's content): its bytes and the
  // Content-Type the provider gave. Empty for a JSON answer.
  std::string bytes;
  std::string content_type;
  bool binary = false;

  // An embeddings answer's vectors (data[i].embedding, in the order of
  // data[i].index) as one row-major buffer of floats, made on first use;
  // nullptr (with count and dims 0) when the answer has no vectors of one
  // length. Safe to call from several threads at once. When the answer's
  // vectors were taken apart (take_vectors), this is that buffer, made at once.
  const float* embeddings(size_t* count, size_t* dims) const;

  // The whole response as JSON text (a chat.completion with "provider" and
  // "stats"), serialized on first use: most callers only read the hot fields.
  // Safe to call from several threads at once.
  const std::string& json() const;

  // The response as a document (what json() serializes).
  const json::Document& doc() const { return body_->doc; }

  // Adds "provider" and "stats" to `doc` (a chat.completion), extracts the
  // fields, and keeps the document (taken from `doc`, left empty).
  // With `vectors` (from take_vectors on `doc`): the response holds them, and
  // json() writes them into data[i].embedding.
  static std::unique_ptr<Response> from(json::Document&& doc, const std::string& provider, const CallStats& stats,
                                        std::optional<Vectors>&& vectors = std::nullopt);

 private:
  // Never changed once made except for `text`, written once under `mu` and
  // published by `dumped`; copies of a Response share it, text included. (Not
  // std::call_once: glibc's pthread_once makes a futex system call every time
  // it runs an initializer, contended or not.)
  std::string dump_with_vectors() const;

  struct Body {
    json::Document doc;
    std::mutex mu;
    std::atomic<bool> dumped{false};
    std::string text;
    std::atomic<bool> floats_made{false};
    std::vector<float> floats;
    size_t rows = 0, dims = 0;
    std::vector<size_t> row_of_item;  // non-empty when the vectors are held apart from doc
  };
  std::shared_ptr<Body> body_;
};

}  // namespace literllm
