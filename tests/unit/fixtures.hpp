// The recorded traffic and test vectors in ../shared/fixtures (README there),
// for unit tests: where they are, reading one, and skipping loudly when the
// checkout has none beside it.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#ifndef LITERLLM_FIXTURES_DIR
#define LITERLLM_FIXTURES_DIR ""
#endif

namespace fixtures {

// <fixtures>/<sub>.
inline std::filesystem::path path(const std::string& sub) { return std::filesystem::path(LITERLLM_FIXTURES_DIR) / sub; }

// A whole file; throws std::runtime_error when it cannot be read.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace fixtures

// Skips the test, saying so in capitals, when `p` (a file or a folder) is missing.
#define REQUIRE_FIXTURE(p)                                                                             \
  do {                                                                                                 \
    if (!std::filesystem::exists(p))                                                                   \
      GTEST_SKIP() << "\n*** FIXTURE MISSING: " << (p)                                                 \
                   << " (set -DLITERLLM_FIXTURES_DIR=<shared/fixtures>); this test did NOT run ***\n"; \
  } while (0)
