// Framing throughput of http::SseFramer and http::NdjsonFramer on recorded
// provider streams, against a baseline measured in the same run: one memchr
// pass for '\n' over the same bytes in the same reads (the least any line
// framer has to do).
//
//   bench_sse                               all of them
//   bench_sse --benchmark_filter=OpenAI     one family
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "http/sse.hpp"

namespace {

namespace fs = std::filesystem;
using literllm::http::NdjsonFramer;
using literllm::http::SseEvent;
using literllm::http::SseFramer;

constexpr size_t kCorpusBytes = size_t{8} << 20;
constexpr size_t kReadBytes = size_t{16} << 10;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The files of fixtures/<sub> whose names end with `suffix`, concatenated in name order.
std::string concat_fixtures(const std::string& sub, const std::string& suffix) {
  const fs::path dir = fs::path(LITERLLM_FIXTURES_DIR) / sub;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::string out;
  for (const auto& f : files) {
    std::string b = read_file(f);
    out += b;
    if (!b.empty() && b.back() != '\n') out += '\n';  // keep recordings apart
    out += '\n';
  }
  return out;
}

std::string repeat_to(const std::string& unit, size_t target) {
  std::string out;
  if (unit.empty()) return out;
  out.reserve(target + unit.size());
  while (out.size() < target) out += unit;
  return out;
}

std::string replace_all(const std::string& s, char from, const std::string& to) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    if (c == from) out += to;
    else out += c;
  }
  return out;
}

const std::string& openai_lf() {
  static const std::string s = repeat_to(concat_fixtures("openai/sse", ".bin"), kCorpusBytes);
  return s;
}
const std::string& openai_crlf() {
  static const std::string s = replace_all(openai_lf(), '\n', "\r\n");
  return s;
}
const std::string& openai_cr() {
  static const std::string s = replace_all(openai_lf(), '\n', "\r");
  return s;
}
const std::string& anthropic_lf() {
  static const std::string s = repeat_to(concat_fixtures("anthropic/sse", ""), kCorpusBytes);
  return s;
}
const std::string& ndjson_lf() {
  static const std::string s =
      repeat_to(concat_fixtures("vercel-ai/amazon-bedrock", ".chunks.txt") +
                    concat_fixtures("vercel-ai/google", ".chunks.txt"),
                kCorpusBytes);
  return s;
}
// A small input for the byte-by-byte worst case: one recording (8.7 KB).
const std::string& openai_small() {
  static const std::string s = read_file(
      fs::path(LITERLLM_FIXTURES_DIR) /
      "openai/sse/e2aad469b71d1d4894ff833ea147020a9d875eb7ce644a0ff355581690a4cbfd.bin");
  return s;
}

void report(benchmark::State& state, size_t bytes, size_t events) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(state.iterations() * bytes) / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(events);
}

void sse_framing(benchmark::State& state, const std::string& in, size_t read) {
  if (in.empty()) {
    state.SkipWithError("fixtures missing: set LITERLLM_FIXTURES_DIR");
    return;
  }
  size_t events = 0;
  size_t data_bytes = 0;
  for (auto _ : state) {
    SseFramer f;
    events = 0;
    for (size_t off = 0; off < in.size(); off += read) {
      const size_t k = std::min(read, in.size() - off);
      f.feed(in.data() + off, k, [&](const SseEvent& e) {
        ++events;
        data_bytes += e.data.size();
        return true;
      });
    }
    benchmark::DoNotOptimize(f.finish());
  }
  benchmark::DoNotOptimize(data_bytes);
  report(state, in.size(), events);
}

// (a) OpenAI chat.completion.chunk streams, ~8 MiB in 16 KiB reads.
void BM_Sse_OpenAI_LF(benchmark::State& state) { sse_framing(state, openai_lf(), kReadBytes); }
// (b) the same with CRLF line ends, and with CR alone.
void BM_Sse_OpenAI_CRLF(benchmark::State& state) { sse_framing(state, openai_crlf(), kReadBytes); }
void BM_Sse_OpenAI_CR(benchmark::State& state) { sse_framing(state, openai_cr(), kReadBytes); }
// Anthropic streams carry an "event:" line per event.
void BM_Sse_Anthropic_LF(benchmark::State& state) { sse_framing(state, anthropic_lf(), kReadBytes); }
// (c) the worst case: one byte per read, so every line is carried across reads.
void BM_Sse_OpenAI_ByteSplit(benchmark::State& state) { sse_framing(state, openai_small(), 1); }
// Reads the size of a typical TCP segment payload.
void BM_Sse_OpenAI_1400B(benchmark::State& state) { sse_framing(state, openai_lf(), 1400); }

void BM_Ndjson_Vercel(benchmark::State& state) {
  const std::string& in = ndjson_lf();
  if (in.empty()) {
    state.SkipWithError("fixtures missing: set LITERLLM_FIXTURES_DIR");
    return;
  }
  size_t lines = 0;
  size_t line_bytes = 0;
  for (auto _ : state) {
    NdjsonFramer f;
    lines = 0;
    for (size_t off = 0; off < in.size(); off += kReadBytes) {
      const size_t k = std::min(kReadBytes, in.size() - off);
      f.feed(in.data() + off, k, [&](std::string_view l) {
        ++lines;
        line_bytes += l.size();
        return true;
      });
    }
    benchmark::DoNotOptimize(f.finish());
  }
  benchmark::DoNotOptimize(line_bytes);
  report(state, in.size(), lines);
}

// Baseline: count the '\n' of the OpenAI corpus with memchr, in the same reads.
void BM_Baseline_MemchrLF(benchmark::State& state) {
  const std::string& in = openai_lf();
  if (in.empty()) {
    state.SkipWithError("fixtures missing: set LITERLLM_FIXTURES_DIR");
    return;
  }
  size_t lines = 0;
  for (auto _ : state) {
    lines = 0;
    for (size_t off = 0; off < in.size(); off += kReadBytes) {
      const char* p = in.data() + off;
      const char* end = p + std::min(kReadBytes, in.size() - off);
      while (const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
        ++lines;
        p = static_cast<const char*>(nl) + 1;
      }
    }
    benchmark::DoNotOptimize(lines);
  }
  report(state, in.size(), lines);
}

}  // namespace

BENCHMARK(BM_Baseline_MemchrLF)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sse_OpenAI_LF)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sse_OpenAI_CRLF)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sse_OpenAI_CR)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sse_OpenAI_1400B)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sse_Anthropic_LF)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sse_OpenAI_ByteSplit)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ndjson_Vercel)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
