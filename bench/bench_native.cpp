// The native protocols' costs, in-process (no socket): stream translation per
// chunk delivered (framing + translation + the chunk's JSON text, as
// llm_stream_next hands it out) on recorded real traffic, against the OpenAI
// pass-through; and SigV4 signing per request.
//
//   bench_native [--benchmark_filter=...]
//   bench_native --profile=PROVIDER:N   N passes over PROVIDER's recordings and
//                                       nothing else (for valgrind: instructions
//                                       per chunk from two runs' difference)
// Each stream benchmark reports ns per chunk emitted (items_per_second's inverse).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "auth/sigv4.hpp"
#include "core/json.hpp"
#include "http/eventstream.hpp"
#include "providers/adapter.hpp"
#include "providers/registry.hpp"

namespace {

using namespace literllm;
namespace fs = std::filesystem;
const fs::path kFixtures = LITERLLM_FIXTURES_DIR;

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Target target(const char* provider) {
  Target t;
  t.spec = find_builtin(provider);
  t.base_url = "https://llm.example.test";
  t.model = "model-1";
  t.settings = {{"region", "us-east-1"}};
  return t;
}

// The recorded streams of one provider, as the bytes its server sends.
std::vector<std::string> streams(const char* provider) {
  std::vector<std::string> out;
  auto add_dir = [&](const fs::path& dir, auto&& to_wire) {
    if (!fs::exists(dir)) return;
    std::vector<fs::path> files;
    for (auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& p : files)
      if (std::string w = to_wire(p); !w.empty()) out.push_back(std::move(w));
  };
  auto chunk_lines = [](const fs::path& p) {
    std::vector<std::string> lines;
    std::istringstream in(read_file(p));
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) lines.push_back(l);
    return lines;
  };
  std::string name = provider;
  if (name == "openai") {
    add_dir(kFixtures / "openai" / "sse", [](const fs::path& p) { return read_file(p); });
  } else if (name == "anthropic") {
    add_dir(kFixtures / "anthropic" / "sse", [](const fs::path& p) {
      std::string s = read_file(p);
      while (s.size() < 2 || s.compare(s.size() - 2, 2, "\n\n") != 0) s += '\n';
      return s;
    });
  } else if (name == "cohere" || name == "gemini") {
    const char* dir = name == "cohere" ? "cohere" : "google";
    add_dir(kFixtures / "vercel-ai" / dir, [&](const fs::path& p) {
      if (p.string().find(".chunks.txt") == std::string::npos) return std::string();
      std::string s;
      for (auto& l : chunk_lines(p)) s += "data: " + l + "\n\n";
      return s;
    });
  } else if (name == "bedrock") {
    add_dir(kFixtures / "vercel-ai" / "amazon-bedrock", [&](const fs::path& p) {
      if (p.string().find(".chunks.txt") == std::string::npos) return std::string();
      std::string s;
      for (auto& l : chunk_lines(p)) {
        json::Document d = json::parse(l, "fixture", LLM_ERR_INTERNAL);
        auto m = d.MemberBegin();
        s += http::encode_event_message(json::sv(m->name), json::dump(m->value));
      }
      return s;
    });
  }
  return out;
}

// One pass over a provider's recordings, as the library decodes a body.
struct Pass {
  Target t;
  const Operation* op = nullptr;
  std::vector<std::string> wires;
  size_t chunks = 0, bytes = 0;
  ChunkSink sink = [this](std::string_view text, const json::Value&) {
    // What llm_stream_next hands out: the chunk's text, owned by the queue.
    std::string owned(text);
    benchmark::DoNotOptimize(owned.data());
    ++chunks;
    return true;
  };
  explicit Pass(const char* provider) : t(target(provider)), wires(streams(provider)) {
    op = operation_for(t.spec->protocol, Endpoint::Chat);
  }
  void run() {
    for (auto& w : wires) {
      auto dec = op->stream_decoder(t, Limits{});
      try {
        // The transport hands the body over in pieces of up to 16 KiB.
        for (size_t i = 0; i < w.size(); i += 16384)
          if (dec->feed(w.data() + i, std::min<size_t>(16384, w.size() - i), sink) != StreamDecoder::Fed::More) break;
      } catch (const Error&) {
        // a recorded error event: counted like the rest
      }
      bytes += w.size();
    }
  }
};

void BM_Stream(benchmark::State& state, const char* provider) {
  Pass pass(provider);
  if (pass.wires.empty()) {
    state.SkipWithError("no recorded streams (LITERLLM_FIXTURES_DIR)");
    return;
  }
  if (!pass.op) {
    state.SkipWithError("no chat operation for this protocol yet");
    return;
  }
  for (auto _ : state) pass.run();
  const size_t chunks = pass.chunks, bytes = pass.bytes;
  state.SetItemsProcessed(static_cast<int64_t>(chunks));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["ns_per_chunk"] = benchmark::Counter(static_cast<double>(chunks),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(BM_Stream, openai_passthrough, "openai");
BENCHMARK_CAPTURE(BM_Stream, anthropic, "anthropic");
BENCHMARK_CAPTURE(BM_Stream, gemini, "gemini");
BENCHMARK_CAPTURE(BM_Stream, bedrock, "bedrock");
BENCHMARK_CAPTURE(BM_Stream, cohere, "cohere");

void BM_SigV4(benchmark::State& state) {
  auto signer = std::make_shared<const auth::SigV4Signer>(
      auth::AwsCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token"}, "us-east-1",
      "bedrock");
  http::Request r;
  r.url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
  r.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  r.body = std::string(static_cast<size_t>(state.range(0)), 'x');
  auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    http::Request copy = r;
    signer->sign_request(copy, now);
    benchmark::DoNotOptimize(copy.headers.data());
  }
}
BENCHMARK(BM_SigV4)->Arg(200)->Arg(2048)->Arg(65536);

}  // namespace


namespace {
// A small parse on a thread that once parsed a large text.
void BM_SmallParseAfterLarge(benchmark::State& state) {
  std::string big = "[";
  for (int i = 0; i < 5000; ++i) big += std::string(i ? "," : "") + "{\"k\":\"vvvvvvvvvv\"}";
  big += "]";
  if (state.range(0)) literllm::json::parse(big, "big", LLM_ERR_INTERNAL);
  std::string small = R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello"}})";
  for (auto _ : state) benchmark::DoNotOptimize(literllm::json::parse(small, "small", LLM_ERR_INTERNAL));
  state.counters["capacity"] = static_cast<double>(literllm::json::thread_parser_capacity());
}
BENCHMARK(BM_SmallParseAfterLarge)->Arg(0)->Arg(1);
}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--profile=", 0) != 0) continue;
    std::string spec = a.substr(10);
    size_t colon = spec.rfind(':');
    std::string provider = spec.substr(0, colon);
    long passes = colon == std::string::npos ? 100 : std::atol(spec.c_str() + colon + 1);
    Pass pass(provider.c_str());
    if (pass.wires.empty() || !pass.op) {
      std::fprintf(stderr, "--profile: no recorded streams or no chat operation for %s\n", provider.c_str());
      return 2;
    }
    for (long k = 0; k < passes; ++k) pass.run();
    std::printf("profile: %ld passes over %zu recordings of %s: %zu chunks, %zu bytes\n", passes, pass.wires.size(),
                provider.c_str(), pass.chunks, pass.bytes);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
