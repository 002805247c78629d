// Internal to the local upstream: the parts of the deterministic reply that the
// native protocols (anthropic.cpp, bedrock.cpp) make alike, whatever their wire
// shape: which tools it calls, where its text stops, the letters of endless
// streams.
#pragma once
#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "anthropic.hpp"  // shared::count_words, shared::first_words

namespace literllm::testing::detail::replies {

// A tool the request declares; `schema` its input schema (in the request's document).
struct Tool {
  std::string name;
  const rapidjson::Value* schema;
};

// The tools the reply calls: the one a forced choice names (`choice` "tool"),
// every one when two or more may be called at once, else the first.
inline std::vector<const Tool*> tools_to_call(const std::vector<Tool>& tools, std::string_view choice,
                                              std::string_view choice_name, bool parallel) {
  std::vector<const Tool*> calls;
  if (choice == "tool") {
    for (const Tool& t : tools)
      if (t.name == choice_name) calls.push_back(&t);
  } else if (tools.size() >= 2 && parallel) {
    for (const Tool& t : tools) calls.push_back(&t);
  } else {
    calls.push_back(&tools.front());
  }
  return calls;
}

// The reply's text, cut where whichever comes first stops it: a stop sequence
// (`stop` "stop_sequence", `sequence` the one; empty ones never match) or the
// end of `max_words` words (`stop` "max_tokens"). `stop` null: not cut.
struct Cut {
  std::string text;
  const char* stop = nullptr;
  std::string sequence;
};

inline Cut cut_text(std::string text, size_t max_words, const std::vector<std::string>& stop_sequences) {
  Cut out;
  std::string cut = shared::count_words(text) > max_words ? shared::first_words(text, max_words) : text;
  size_t best = std::string::npos;
  for (const std::string& s : stop_sequences) {
    size_t at = s.empty() ? std::string::npos : cut.find(s);
    if (at < best) {
      best = at;
      out.sequence = s;
    }
  }
  if (best != std::string::npos) {
    out.text = cut.substr(0, best);
    out.stop = "stop_sequence";
  } else if (cut.size() != text.size()) {
    out.text = std::move(cut);
    out.stop = "max_tokens";
  } else {
    out.text = std::move(text);
  }
  return out;
}

// `n` letters of the endless alphabet run, from its `k`-th letter on (what
// streams send after their end, x-upstream-after-done: more).
inline std::string letters(size_t k, size_t n) {
  static constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out += kLetters[(k + i) % kLetters.size()];
  return out;
}

}  // namespace literllm::testing::detail::replies
