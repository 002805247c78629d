// Peak memory of one hostile answer, measured in a process of its own
// (ru_maxrss only grows) against the local upstream in another process (so
// the server's memory is not counted). Each scenario makes one call through
// the C API and checks its outcome and that the peak added by the call stays
// within about twice the limit that applies (2.25x + 8 MiB of slack for the
// allocator and libcurl's buffers).
//
//   memory_check UPSTREAM_EXE SCENARIO     exit 0 when it holds, 1 when not
//   memory_check UPSTREAM_EXE --list       the scenarios
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "literllm.h"
#include "process.hpp"

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

double peak_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) * 1024.0 / kMiB;  // ru_maxrss is in KiB
}

std::string request(bool stream, const std::string& headers_json) {
  return std::string("{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]") +
         (stream ? ",\"stream\":true" : "") + ",\"extra_headers\":" + headers_json + "}";
}

struct Result {
  llm_status status = LLM_OK;
  std::string error;
  size_t text_len = 0;
};

Result blocking(llm_client_t* c, const std::string& req) {
  Result r;
  llm_response_t* resp = nullptr;
  r.status = llm_chat(c, req.c_str(), &resp);
  if (r.status != LLM_OK) r.error = llm_last_error();
  else llm_response_text_n(resp, &r.text_len);
  llm_response_free(resp);
  return r;
}

Result pull(llm_client_t* c, const std::string& req) {
  Result r;
  llm_stream_t* s = nullptr;
  r.status = llm_chat_stream(c, req.c_str(), &s);
  for (const char* chunk = nullptr; r.status == LLM_OK;) {
    r.status = llm_stream_next(s, &chunk);
    if (!chunk) break;
  }
  if (r.status != LLM_OK) {
    r.error = llm_last_error();
  } else {
    llm_response_t* resp = nullptr;
    r.status = llm_stream_final_response(s, &resp);
    llm_response_text_n(resp, &r.text_len);
    llm_response_free(resp);
  }
  llm_stream_free(s);
  return r;
}

Result callbacks(llm_client_t* c, const std::string& req) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Result r;
  } w;
  auto on_done = [](llm_status st, llm_response_t* resp, const char* msg, void* ud) {
    auto* w = static_cast<Wait*>(ud);
    std::lock_guard<std::mutex> lk(w->mu);
    w->r.status = st;
    if (msg) w->r.error = msg;
    if (resp) llm_response_text_n(resp, &w->r.text_len);
    llm_response_free(resp);
    w->done = true;
    w->cv.notify_all();
  };
  auto on_chunk = [](const char*, void*) { return 0; };
  llm_status st = llm_chat_stream_async(c, req.c_str(), on_chunk, on_done, &w, nullptr);
  if (st != LLM_OK) return {st, llm_last_error(), 0};
  std::unique_lock<std::mutex> lk(w.mu);
  w.cv.wait(lk, [&] { return w.done; });
  return w.r;
}

struct Scenario {
  const char* what;
  std::string limits;       // config fields
  double cap_mib;           // the limit that applies
  std::function<Result(llm_client_t*)> call;
  llm_status expect;
  size_t expect_text = 0;   // on LLM_OK: the content's length
};

std::map<std::string, Scenario> scenarios() {
  const std::string endless_content = R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"4000"})";
  return {
      {"body", {"a 60 MB answer under a 64 MiB max_response_bytes", R"("max_response_bytes":67108864)", 64,
                [](llm_client_t* c) {
                  return blocking(c, request(false, R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"60000000"})"));
                },
                LLM_OK, 60000000}},
      {"body-200mb", {"the 200 MB answer of the report, default limits (256 MiB)", "", 256,
                      [](llm_client_t* c) {
                        return blocking(c, request(false, R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"200000000"})"));
                      },
                      LLM_OK, 200000000}},
      {"body-over-chunked", {"a chunked 100 MB answer over a 64 MiB max_response_bytes", R"("max_response_bytes":67108864)", 64,
                             [](llm_client_t* c) {
                               return blocking(c, request(false, R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"100000000","x-upstream-chunked":"1"})"));
                             },
                             LLM_ERR_LIMIT_EXCEEDED}},
      {"body-over-sized", {"a sized 100 MB answer over a 64 MiB max_response_bytes", R"("max_response_bytes":67108864)", 64,
                           [](llm_client_t* c) {
                             return blocking(c, request(false, R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"100000000"})"));
                           },
                           LLM_ERR_LIMIT_EXCEEDED}},
      {"stream-endless", {"an endless stream, callback form, 16 MiB max_stream_bytes", R"("max_stream_bytes":16777216)", 16,
                          [=](llm_client_t* c) { return callbacks(c, request(true, endless_content)); },
                          LLM_ERR_LIMIT_EXCEEDED}},
      {"stream-endless-pull", {"an endless stream read as fast as it comes, 16 MiB max_stream_bytes (+8 MiB queue)",
                               R"("max_stream_bytes":16777216)", 16 + 8,
                               [=](llm_client_t* c) { return pull(c, request(true, endless_content)); },
                               LLM_ERR_LIMIT_EXCEEDED}},
      {"stream-final", {"a 15 MB stream assembled whole under a 16 MiB max_stream_bytes", R"("max_stream_bytes":16777216)", 16,
                        [](llm_client_t* c) {
                          return callbacks(c, request(true, R"({"x-upstream-generate":"content","x-upstream-generate-bytes":"3000","x-upstream-generate-count":"5000"})"));
                        },
                        LLM_OK, 15000000}},
      {"stream-choices", {"1,000,000 events, each a new choice (default max_choices 128)", "", 8,
                          [](llm_client_t* c) {
                            return callbacks(c, request(true, R"({"x-upstream-generate":"choices","x-upstream-generate-count":"1000000"})"));
                          },
                          LLM_ERR_LIMIT_EXCEEDED}},
      {"stream-tool-calls", {"1,000,000 events, each a new tool call (default max_tool_calls 128)", "", 8,
                             [](llm_client_t* c) {
                               return callbacks(c, request(true, R"({"x-upstream-generate":"tool_calls","x-upstream-generate-count":"1000000"})"));
                             },
                             LLM_ERR_LIMIT_EXCEEDED}},
      {"stream-logprobs", {"endless logprobs, 16 MiB max_stream_bytes", R"("max_stream_bytes":16777216)", 16,
                           [](llm_client_t* c) {
                             return callbacks(c, request(true, R"({"x-upstream-generate":"logprobs"})"));
                           },
                           LLM_ERR_LIMIT_EXCEEDED}},
      {"error-body", {"a streamed 400 with a 300 MB body (1 MiB is read)", "", 1,
                      [](llm_client_t* c) {
                        return pull(c, request(true, R"({"x-upstream-status":"400","x-upstream-error-bytes":"300000000","x-upstream-chunked":"1"})"));
                      },
                      LLM_ERR_BAD_REQUEST}},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: memory_check UPSTREAM_EXE SCENARIO|--list\n");
    return 2;
  }
  auto all = scenarios();
  if (std::strcmp(argv[2], "--list") == 0) {
    for (auto& [name, s] : all) std::printf("%s\t%s\n", name.c_str(), s.what);
    return 0;
  }
  auto it = all.find(argv[2]);
  if (it == all.end()) {
    std::fprintf(stderr, "memory_check: unknown scenario %s\n", argv[2]);
    return 2;
  }
  const Scenario& s = it->second;
  literllm::testing::UpstreamProcess up(argv[1]);
  std::string cfg = "{\"providers\":{\"openai\":{\"base_url\":\"" + up.base_url() +
                    "\",\"api_key\":\"sk-memory\"}},\"max_retries\":0,\"timeout_secs\":120" +
                    (s.limits.empty() ? "" : "," + s.limits) + "}";
  llm_client_t* c = nullptr;
  if (llm_client_new(cfg.c_str(), &c) != LLM_OK) {
    std::fprintf(stderr, "memory_check: %s\n", llm_last_error());
    return 1;
  }
  // Warm up every path (connection, TLS-less HTTP, JSON, streams) before the baseline.
  blocking(c, request(false, "{}"));
  callbacks(c, request(true, "{}"));
  double base = peak_mib();
  auto t0 = std::chrono::steady_clock::now();
  Result r = s.call(c);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double added = peak_mib() - base;
  llm_client_free(c);

  double allowed = 2.25 * s.cap_mib + 8;
  bool status_ok = r.status == s.expect && (s.expect != LLM_OK || r.text_len == s.expect_text);
  bool memory_ok = added <= allowed;
  std::printf("%-20s %-24s peak +%7.1f MiB (cap %5.0f MiB, %.2fx; allowed %.0f) in %.2f s  %s\n", argv[2],
              llm_status_str(r.status), added, s.cap_mib, added / s.cap_mib, allowed, secs,
              status_ok && memory_ok ? "ok" : "FAILED");
  if (!status_ok)
    std::printf("  expected %s (text %zu bytes), got %s (text %zu bytes): %s\n", llm_status_str(s.expect), s.expect_text,
                llm_status_str(r.status), r.text_len, r.error.c_str());
  else if (r.status != LLM_OK)
    std::printf("  %s\n", r.error.substr(0, 200).c_str());
  return status_ok && memory_ok ? 0 : 1;
}
