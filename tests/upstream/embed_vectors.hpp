// Internal to the local upstream: the deterministic embedding vectors its
// native embedding routes answer with (gemini.cpp, bedrock.cpp, cohere.cpp),
// so that a test can compute what a text's vector must be.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace literllm::testing::detail {

// `dims` values in [-1, 1) from an FNV-1a hash of `text` and each position:
// value k is ((fnv1a(text) ^ k·0x9E3779B97F4A7C15) mixed) mapped to [-1, 1),
// rounded to a multiple of 1/1024 (exact in a float and in JSON).
inline std::vector<double> upstream_embedding(std::string_view text, int dims) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::vector<double> out;
  out.reserve(static_cast<size_t>(dims));
  for (int k = 0; k < dims; ++k) {
    uint64_t x = h ^ (static_cast<uint64_t>(k + 1) * 0x9E3779B97F4A7C15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    out.push_back(static_cast<double>(static_cast<int64_t>(x % 2048) - 1024) / 1024.0);
  }
  return out;
}

// Words of `text` (runs of non-space characters): the token counts the routes report.
inline long upstream_words(std::string_view text) {
  long n = 0;
  bool in = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in) ++n;
    in = !space;
  }
  return n;
}

}  // namespace literllm::testing::detail
