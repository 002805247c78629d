// The measurement behind literllm's JSON choice (src/core/json.hpp): RapidJSON's
// DOM (parsing with kParseValidateEncodingFlag), simdjson 3 (On-Demand and DOM),
// and the library's own json::parse (simdjson reads, a RapidJSON document is
// built from it, RapidJSON edits and writes), on two real payloads:
//  - chunk:    one chat.completion.chunk (the data of an OpenAI SSE event, ~270 B),
//              what a stream parses per token;
//  - response: a ~2.3 KB chat.completion (a recorded Mistral answer, compacted).
// Every variant reads the same fields an adapter reads (so On-Demand cannot skip
// the work), and the "+ serialize" variants write the document back out, as an
// adapter that reshapes a response does.
//
// simdjson needs SIMDJSON_PADDING readable bytes past the input. Text handed over
// by the SSE framer has none, so the "copy" variants include copying into a
// reused padded buffer; the others are the best case, padded in advance.
#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <simdjson.h>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace {

namespace fs = std::filesystem;
namespace ondemand = simdjson::ondemand;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The data of the second event of a recorded OpenAI stream: a content delta.
std::string load_chunk() {
  const std::string sse = read_file(
      fs::path(LITERLLM_FIXTURES_DIR) /
      "openai/sse/e2aad469b71d1d4894ff833ea147020a9d875eb7ce644a0ff355581690a4cbfd.bin");
  size_t at = sse.find("\n\ndata: ");
  if (at == std::string::npos) return {};
  at += 8;
  return sse.substr(at, sse.find('\n', at) - at);
}

// A recorded chat.completion, compacted as it comes over the wire.
std::string load_response() {
  const std::string pretty =
      read_file(fs::path(LITERLLM_FIXTURES_DIR) / "vercel-ai/mistral/mistral-text.json");
  rapidjson::Document d;
  d.Parse(pretty.data(), pretty.size());
  if (d.HasParseError()) return {};
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  d.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

const std::string& chunk() {
  static const std::string s = load_chunk();
  return s;
}
const std::string& response() {
  static const std::string s = load_response();
  return s;
}

enum Payload { kChunk = 0, kResponse = 1 };
const std::string& payload(int which) { return which == kChunk ? chunk() : response(); }

// What an adapter reads, summed into a checksum so nothing is optimized away.
struct Fields {
  size_t sum = 0;
  void str(std::string_view s) { sum += s.size(); }
  void num(int64_t v) { sum += static_cast<size_t>(v); }
};

bool check(benchmark::State& state, const std::string& in) {
  if (in.empty()) {
    state.SkipWithError("fixtures missing: set LITERLLM_FIXTURES_DIR");
    return false;
  }
  return true;
}

void finish(benchmark::State& state, const std::string& in, const Fields& f) {
  benchmark::DoNotOptimize(f.sum);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(state.iterations() * in.size()) / 1e6,
                                              benchmark::Counter::kIsRate);
}

// ------------------------------------------------------------------ RapidJSON

const literllm::json::Value* member(const literllm::json::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

void rapid_fields(const literllm::json::Document& d, int which, Fields& f) {
  if (auto* m = member(d, "model"); m && m->IsString()) f.str({m->GetString(), m->GetStringLength()});
  const literllm::json::Value* choices = member(d, "choices");
  if (!choices || !choices->IsArray() || choices->Empty()) return;
  const literllm::json::Value& c0 = (*choices)[0];
  if (auto* fr = member(c0, "finish_reason"); fr && fr->IsString()) f.str({fr->GetString(), fr->GetStringLength()});
  const literllm::json::Value* msg = member(c0, which == kChunk ? "delta" : "message");
  if (msg)
    if (auto* c = member(*msg, "content"); c && c->IsString()) f.str({c->GetString(), c->GetStringLength()});
  if (which == kResponse) {
    if (auto* u = member(d, "usage")) {
      if (auto* p = member(*u, "prompt_tokens"); p && p->IsInt64()) f.num(p->GetInt64());
      if (auto* c = member(*u, "completion_tokens"); c && c->IsInt64()) f.num(c->GetInt64());
    }
  }
}

// ------------------------------------------------------------------- simdjson

void ondemand_fields(ondemand::document& doc, int which, Fields& f) {
  std::string_view s;
  if (!doc["model"].get_string().get(s)) f.str(s);
  ondemand::array choices;
  if (doc["choices"].get_array().get(choices)) return;
  for (auto c0r : choices) {
    ondemand::object c0;
    if (c0r.get_object().get(c0)) return;
    if (!c0["finish_reason"].get_string().get(s)) f.str(s);
    ondemand::object msg;
    if (!c0[which == kChunk ? "delta" : "message"].get_object().get(msg)) {
      if (!msg["content"].get_string().get(s)) f.str(s);
    }
    break;  // the first choice only
  }
  if (which == kResponse) {
    ondemand::object u;
    if (!doc["usage"].get_object().get(u)) {
      int64_t n;
      if (!u["prompt_tokens"].get_int64().get(n)) f.num(n);
      if (!u["completion_tokens"].get_int64().get(n)) f.num(n);
    }
  }
}

void dom_fields(simdjson::dom::element doc, int which, Fields& f) {
  std::string_view s;
  if (!doc["model"].get_string().get(s)) f.str(s);
  simdjson::dom::element c0;
  if (doc["choices"].at(0).get(c0)) return;
  if (!c0["finish_reason"].get_string().get(s)) f.str(s);
  if (!c0[which == kChunk ? "delta" : "message"]["content"].get_string().get(s)) f.str(s);
  if (which == kResponse) {
    int64_t n;
    if (!doc["usage"]["prompt_tokens"].get_int64().get(n)) f.num(n);
    if (!doc["usage"]["completion_tokens"].get_int64().get(n)) f.num(n);
  }
}

// Same fields from every parser, checked once before timing.
bool agree() {
  for (int which : {kChunk, kResponse}) {
    const std::string& in = payload(which);
    if (in.empty()) return true;  // reported per benchmark
    Fields a, b, c;
    literllm::json::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(in.data(), in.size());
    rapid_fields(d, which, a);
    const simdjson::padded_string padded(in);
    ondemand::parser op;
    ondemand::document od;
    if (op.iterate(padded).get(od)) return false;
    ondemand_fields(od, which, b);
    simdjson::dom::parser dp;
    simdjson::dom::element de;
    if (dp.parse(padded).get(de)) return false;
    dom_fields(de, which, c);
    if (a.sum != b.sum || a.sum != c.sum || a.sum == 0) {
      std::cerr << "parsers disagree on payload " << which << ": " << a.sum << " " << b.sum << " "
                << c.sum << "\n";
      return false;
    }
  }
  return true;
}

// ----------------------------------------------------------------- the loops

// Runs one benchmark over the payload its argument names. `make(in)` does the
// untimed set-up (parsers, padded copies) and returns what one timed iteration
// runs: `(const std::string& in, int which, Fields& f)`.
template <class Make>
void bench_payload(benchmark::State& state, Make make) {
  const int which = static_cast<int>(state.range(0));
  const std::string& in = payload(which);
  if (!check(state, in)) return;
  auto once = make(in);
  Fields f;
  for (auto _ : state) once(in, which, f);
  finish(state, in, f);
}

template <unsigned Flags>
void rapid_parse(const std::string& in, int which, Fields& f, literllm::json::Document& d) {
  d.Parse<Flags>(in.data(), in.size());
  if (d.HasParseError()) std::abort();
  rapid_fields(d, which, f);
}

void BM_RapidJSON_Parse(benchmark::State& state) {
  bench_payload(state, [](const std::string&) {
    return [](const std::string& in, int which, Fields& f) {
      literllm::json::Document d;  // a fresh document per message, as the library does
      rapid_parse<rapidjson::kParseValidateEncodingFlag>(in, which, f, d);
    };
  });
}

// For scale: the same without UTF-8 validation (the library validates).
void BM_RapidJSON_ParseNoValidate(benchmark::State& state) {
  bench_payload(state, [](const std::string&) {
    return [](const std::string& in, int which, Fields& f) {
      literllm::json::Document d;
      rapid_parse<rapidjson::kParseDefaultFlags>(in, which, f, d);
    };
  });
}

void BM_RapidJSON_ParseSerialize(benchmark::State& state) {
  bench_payload(state, [](const std::string&) {
    return [](const std::string& in, int which, Fields& f) {
      literllm::json::Document d;
      rapid_parse<rapidjson::kParseValidateEncodingFlag>(in, which, f, d);
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      d.Accept(w);
      f.sum += sb.GetSize();
    };
  });
}

void BM_Simdjson_OnDemand(benchmark::State& state) {
  bench_payload(state, [](const std::string& in) {
    // Reused parser, as simdjson intends; input padded in advance.
    return [padded = simdjson::padded_string(in), parser = ondemand::parser()](
               const std::string&, int which, Fields& f) mutable {
      ondemand::document doc;
      if (parser.iterate(padded).get(doc)) std::abort();
      ondemand_fields(doc, which, f);
    };
  });
}

void BM_Simdjson_OnDemandCopy(benchmark::State& state) {
  bench_payload(state, [](const std::string& in) {
    std::string buf;
    buf.reserve(in.size() + simdjson::SIMDJSON_PADDING);
    return [buf = std::move(buf), parser = ondemand::parser()](const std::string& in, int which,
                                                                Fields& f) mutable {
      buf.assign(in);  // capacity kept: the padding is there
      ondemand::document doc;
      if (parser.iterate(buf.data(), buf.size(), buf.capacity()).get(doc)) std::abort();
      ondemand_fields(doc, which, f);
    };
  });
}

template <bool Serialize>
void simdjson_dom(benchmark::State& state) {
  bench_payload(state, [](const std::string& in) {
    return [padded = simdjson::padded_string(in), parser = simdjson::dom::parser()](
               const std::string&, int which, Fields& f) mutable {
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc)) std::abort();
      dom_fields(doc, which, f);
      if constexpr (Serialize) f.sum += simdjson::to_string(doc).size();
    };
  });
}
void BM_Simdjson_Dom(benchmark::State& state) { simdjson_dom<false>(state); }
void BM_Simdjson_DomSerialize(benchmark::State& state) { simdjson_dom<true>(state); }

// What the library runs on every request, response and stream event: prescan
// (depth, lone surrogates, NUL), simdjson, then the RapidJSON document; the
// "+ serialize" variant also writes it back out with json::dump.
template <bool Serialize>
void library_parse(benchmark::State& state) {
  bench_payload(state, [](const std::string&) {
    return [](const std::string& in, int which, Fields& f) {
      literllm::json::Document d = literllm::json::parse(in, "payload", LLM_ERR_SERIALIZATION);
      rapid_fields(d, which, f);
      if constexpr (Serialize) f.sum += literllm::json::dump(d).size();
    };
  });
}
void BM_Library_Parse(benchmark::State& state) { library_parse<false>(state); }
void BM_Library_ParseSerialize(benchmark::State& state) { library_parse<true>(state); }

}  // namespace

// payload:0 is the chunk, payload:1 the response.
#define LITERLLM_JSON_BENCH(fn) BENCHMARK(fn)->ArgName("payload")->Arg(kChunk)->Arg(kResponse)
LITERLLM_JSON_BENCH(BM_RapidJSON_Parse);
LITERLLM_JSON_BENCH(BM_RapidJSON_ParseNoValidate);
LITERLLM_JSON_BENCH(BM_RapidJSON_ParseSerialize);
LITERLLM_JSON_BENCH(BM_Simdjson_OnDemand);
LITERLLM_JSON_BENCH(BM_Simdjson_OnDemandCopy);
LITERLLM_JSON_BENCH(BM_Simdjson_Dom);
LITERLLM_JSON_BENCH(BM_Simdjson_DomSerialize);
LITERLLM_JSON_BENCH(BM_Library_Parse);
LITERLLM_JSON_BENCH(BM_Library_ParseSerialize);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::cerr << "payloads: chunk " << chunk().size() << " B, response " << response().size() << " B\n";
  if (!agree()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
