// The shared scenario list (scenarios.json) run through the C API: the same
// list every binding's test suite runs. The upstream is a child process, as
// the bindings start it.
//
//   run_scenarios UPSTREAM_EXE SCENARIOS_JSON [NAME]
//
// Runs every scenario (or only NAME); prints one line per scenario and exits
// non-zero when any fails. An unknown scenario kind fails.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "literllm.h"
#include "process.hpp"

namespace {

using rapidjson::Document;
using rapidjson::Value;

std::string dump(const Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
  return s;
}

// One scenario's checks: the first failure is kept.
struct Check {
  std::string failure;
  void fail(const std::string& why) {
    if (failure.empty()) failure = why;
  }
  void eq(const std::string& what, const std::string& got, const std::string& want) {
    if (got != want) fail(what + ": got \"" + got + "\", want \"" + want + "\"");
  }
  void eq(const std::string& what, long long got, long long want) {
    if (got != want) fail(what + ": got " + std::to_string(got) + ", want " + std::to_string(want));
  }
};

const char* str_or(const char* s) { return s ? s : ""; }

// The outcome of a call, as the scenarios' "expect" describes it.
struct Outcome {
  llm_status status = LLM_OK;
  llm_error_t* error = nullptr;
  std::string text, finish_reason, provider, tool_calls;
  long long prompt_tokens = -1, completion_tokens = -1;
  int chunks = 0;
  ~Outcome() { llm_error_free(error); }
  void take(llm_response_t* r) {
    if (!r) return;
    text = str_or(llm_response_text(r));
    finish_reason = str_or(llm_response_finish_reason(r));
    provider = str_or(llm_response_provider(r));
    tool_calls = str_or(llm_response_tool_calls_json(r));
    prompt_tokens = llm_response_prompt_tokens(r);
    completion_tokens = llm_response_completion_tokens(r);
    llm_response_free(r);
  }
};

Outcome chat(llm_client_t* c, const std::string& req) {
  Outcome o;
  llm_response_t* r = nullptr;
  o.status = llm_chat_e(c, req.c_str(), &r, &o.error);
  o.take(r);
  return o;
}

Outcome stream(llm_client_t* c, const std::string& req) {
  Outcome o;
  llm_stream_t* s = nullptr;
  o.status = llm_chat_stream_e(c, req.c_str(), &s, &o.error);
  if (o.status != LLM_OK) return o;
  const char* chunk = nullptr;
  while ((o.status = llm_stream_next_e(s, &chunk, &o.error)) == LLM_OK && chunk) ++o.chunks;
  if (o.status == LLM_OK) {
    llm_response_t* r = nullptr;
    o.status = llm_stream_final_response_e(s, &r, &o.error);
    o.take(r);
  }
  llm_stream_free(s);
  return o;
}

// The "expect" fields every kind shares.
void expect_common(Check& k, const Value& e, const Outcome& o, const std::string& base_url) {
  k.eq("status", llm_status_str(o.status), e["status"].GetString());
  if (o.status != LLM_OK && !o.error) k.fail("no error object for a failed call");
  auto has = [&](const char* m) { return e.HasMember(m); };
  if (has("text")) k.eq("text", o.text, replace_all(e["text"].GetString(), "{base_url}", base_url));
  if (has("finish_reason")) k.eq("finish_reason", o.finish_reason, e["finish_reason"].GetString());
  if (has("provider") && o.status == LLM_OK) k.eq("provider", o.provider, e["provider"].GetString());
  if (has("provider") && o.status != LLM_OK)
    k.eq("error provider", str_or(llm_error_provider(o.error)), e["provider"].GetString());
  if (has("prompt_tokens")) k.eq("prompt_tokens", o.prompt_tokens, e["prompt_tokens"].GetInt64());
  if (has("completion_tokens")) k.eq("completion_tokens", o.completion_tokens, e["completion_tokens"].GetInt64());
  if (has("min_chunks") && o.chunks < e["min_chunks"].GetInt())
    k.fail("chunks: got " + std::to_string(o.chunks) + ", want at least " + std::to_string(e["min_chunks"].GetInt()));
  if (has("http_status")) k.eq("http_status", llm_error_http_status(o.error), e["http_status"].GetInt());
  if (has("retry_after_ms")) k.eq("retry_after_ms", llm_error_retry_after_ms(o.error), e["retry_after_ms"].GetInt64());
  if (has("code")) k.eq("code", str_or(llm_error_code(o.error)), e["code"].GetString());
  if (has("type")) k.eq("type", str_or(llm_error_type(o.error)), e["type"].GetString());
  std::string msg = llm_error_message(o.error);
  if (has("message_contains") && msg.find(e["message_contains"].GetString()) == std::string::npos)
    k.fail("message \"" + msg + "\" lacks \"" + e["message_contains"].GetString() + "\"");
  if (has("message_excludes") && msg.find(e["message_excludes"].GetString()) != std::string::npos)
    k.fail("message holds \"" + std::string(e["message_excludes"].GetString()) + "\"");
  if (has("text_json")) {
    Document got;
    got.Parse(o.text.c_str());
    if (got.HasParseError() || got != e["text_json"]) k.fail("text_json: got " + o.text + ", want " + dump(e["text_json"]));
  }
  if (has("tool_calls")) {
    // Arguments arrive as JSON text: compared parsed.
    Document got;
    got.Parse(o.tool_calls.c_str());
    const Value& want = e["tool_calls"];
    bool same = !got.HasParseError() && got.IsArray() && got.Size() == want.Size();
    for (rapidjson::SizeType i = 0; same && i < want.Size(); ++i) {
      const Value& g = got[i];
      const Value& w = want[i];
      Document args;
      args.Parse(g["function"]["arguments"].GetString());
      same = g["id"] == w["id"] && g["type"] == w["type"] && g["function"]["name"] == w["function"]["name"] &&
             !args.HasParseError() && args == w["function"]["arguments"];
    }
    if (!same) k.fail("tool_calls: got " + o.tool_calls + ", want " + dump(want));
  }
}

// Kind "call": llm_call with the scenario's endpoint and request.
void call_scenario(Check& k, llm_client_t* c, const Value& sc, const Value& e, const std::string& req,
                   const std::string& base_url) {
  Outcome o;
  llm_response_t* r = nullptr;
  o.status = llm_call_e(c, sc["endpoint"].GetString(), req.c_str(), nullptr, nullptr, 0, &r, &o.error);
  expect_common(k, e, o, base_url);
  if (!r) return;
  Document d;
  d.Parse(str_or(llm_response_json(r)));
  if (d.HasParseError() || !d.IsObject()) k.fail("the answer is not a JSON object");
  if (e.HasMember("object") && d.IsObject())
    k.eq("object", d.HasMember("object") && d["object"].IsString() ? d["object"].GetString() : "", e["object"].GetString());
  if (e.HasMember("ids_include") && d.IsObject()) {
    for (const Value& id : e["ids_include"].GetArray()) {
      bool found = false;
      if (d.HasMember("data") && d["data"].IsArray())
        for (const Value& m : d["data"].GetArray())
          found = found || (m.IsObject() && m.HasMember("id") && m["id"] == id);
      if (!found) k.fail(std::string("ids_include: no model ") + id.GetString());
    }
  }
  size_t count = 0, dims = 0;
  const float* v = llm_response_embeddings(r, &count, &dims);
  if (e.HasMember("vectors")) {
    k.eq("vectors", static_cast<long long>(count), e["vectors"].GetInt64());
    if (!v) k.fail("llm_response_embeddings gave NULL");
  }
  if (e.HasMember("dimensions")) k.eq("dimensions", static_cast<long long>(dims), e["dimensions"].GetInt64());
  size_t n = 0;
  const void* b = llm_response_bytes(r, &n);
  if (e.HasMember("content_type")) k.eq("content_type", str_or(llm_response_content_type(r)), e["content_type"].GetString());
  if (e.HasMember("min_bytes") && (!b || n < static_cast<size_t>(e["min_bytes"].GetInt64())))
    k.fail("bytes: got " + std::to_string(n) + ", want at least " + std::to_string(e["min_bytes"].GetInt64()));
  llm_response_free(r);
}

std::string run_one(const Value& sc, const Value& client_config, const std::string& base_url) {
  Check k;
  const std::string kind = sc["kind"].GetString();
  const Value& e = sc["expect"];
  Document cfg;
  cfg.CopyFrom(client_config, cfg.GetAllocator());
  if (sc.HasMember("config"))
    for (auto& m : sc["config"].GetObject()) cfg.AddMember(Value(m.name, cfg.GetAllocator()), Value(m.value, cfg.GetAllocator()), cfg.GetAllocator());
  std::string cfg_text = replace_all(dump(cfg), "{base_url}", base_url);
  std::string req = sc.HasMember("request") ? replace_all(dump(sc["request"]), "{base_url}", base_url) : "";
  llm_client_t* c = nullptr;
  llm_error_t* err = nullptr;
  if (kind == "config_file") {
    std::string path = "/tmp/literllm-scenario-" + std::to_string(getpid()) + ".toml";
    std::ofstream(path) << replace_all(sc["file"].GetString(), "{base_url}", base_url);
    llm_status st = llm_client_new_from_file_e(path.c_str(), &c, &err);
    std::remove(path.c_str());
    if (st != LLM_OK) {
      std::string m = std::string("llm_client_new_from_file: ") + llm_error_message(err);
      llm_error_free(err);
      return m;
    }
  } else if (llm_client_new_e(cfg_text.c_str(), &c, &err) != LLM_OK) {
    std::string m = std::string("llm_client_new: ") + llm_error_message(err);
    llm_error_free(err);
    return m;
  }

  if (kind == "chat" || kind == "config_file") {
    Outcome o = chat(c, req);
    expect_common(k, e, o, base_url);
  } else if (kind == "stream") {
    Outcome o = stream(c, req);
    expect_common(k, e, o, base_url);
  } else if (kind == "register") {
    std::string p = replace_all(dump(sc["provider"]), "{base_url}", base_url);
    if (llm_register_provider_e(c, p.c_str(), &err) != LLM_OK) k.fail(std::string("register: ") + llm_error_message(err));
    llm_error_free(err);
    Outcome o = chat(c, req);
    expect_common(k, e, o, base_url);
  } else if (kind == "call") {
    call_scenario(k, c, sc, e, req, base_url);
  } else if (kind == "preview") {
    char* out = nullptr;
    llm_status st = llm_preview_request_e(c, req.c_str(), 0, &out, &err);
    k.eq("status", llm_status_str(st), e["status"].GetString());
    std::string text = out ? out : "";
    llm_string_free(out);
    llm_error_free(err);
    Document d;
    d.Parse(text.c_str());
    if (d.HasParseError() || !d.IsObject()) {
      k.fail("preview is not a JSON object: " + text);
    } else {
      k.eq("provider", d["provider"].GetString(), e["provider"].GetString());
      k.eq("method", d["method"].GetString(), e["method"].GetString());
      k.eq("url", d["url"].GetString(), replace_all(e["url"].GetString(), "{base_url}", base_url));
      k.eq("Authorization", d["headers"].HasMember("Authorization") ? d["headers"]["Authorization"].GetString() : "",
           e["header_authorization"].GetString());
      if (text.find(e["excludes"].GetString()) != std::string::npos) k.fail("the preview shows the key");
      Document body;
      body.Parse(d["body"].GetString());
      k.eq("body.model", body.HasParseError() ? "" : body["model"].GetString(), e["body_model"].GetString());
    }
  } else if (kind == "cancel_stream") {
    Outcome o;
    llm_stream_t* s = nullptr;
    auto start = std::chrono::steady_clock::now();
    o.status = llm_chat_stream_e(c, req.c_str(), &s, &o.error);
    if (o.status == LLM_OK) {
      const char* chunk = nullptr;
      if ((o.status = llm_stream_next_e(s, &chunk, &o.error)) == LLM_OK && chunk) {
        ++o.chunks;
        std::thread([s] { llm_stream_cancel(s); }).join();  // from another thread
        while ((o.status = llm_stream_next_e(s, &chunk, &o.error)) == LLM_OK && chunk) ++o.chunks;
      }
      llm_stream_free(s);
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    expect_common(k, e, o, base_url);
    if (ms > e["within_ms"].GetInt()) k.fail("the cancel took " + std::to_string(ms) + " ms");
  } else if (kind == "concurrent") {
    int callers = sc["callers"].GetInt(), calls = sc["calls_each"].GetInt();
    std::vector<std::string> failures(callers);
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
      threads.emplace_back([&, i] {
        for (int j = 0; j < calls && failures[i].empty(); ++j) {
          auto fill = [&](std::string s) {
            return replace_all(replace_all(s, "{caller}", std::to_string(i)), "{call}", std::to_string(j));
          };
          Check ck;
          Outcome o = chat(c, fill(req));
          ck.eq("status", llm_status_str(o.status), e["status"].GetString());
          ck.eq("text", o.text, fill(e["text"].GetString()));
          failures[i] = ck.failure;
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& f : failures)
      if (!f.empty()) k.fail(f);
  } else {
    k.fail("unknown scenario kind \"" + kind + "\"");
  }
  llm_client_free(c);
  return k.failure;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: run_scenarios UPSTREAM_EXE SCENARIOS_JSON [NAME]\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  std::stringstream ss;
  ss << in.rdbuf();
  Document d;
  d.Parse(ss.str().c_str());
  if (d.HasParseError() || !d.HasMember("scenarios")) {
    std::fprintf(stderr, "run_scenarios: %s is not a scenario list\n", argv[2]);
    return 2;
  }
  literllm::testing::UpstreamProcess upstream(argv[1]);
  std::string base_url = "http://127.0.0.1:" + std::to_string(upstream.port()) + "/v1";
  int failed = 0, ran = 0;
  for (auto& sc : d["scenarios"].GetArray()) {
    std::string name = sc["name"].GetString();
    if (argc == 4 && name != argv[3]) continue;
    ++ran;
    std::string why = run_one(sc, d["client_config"], base_url);
    std::printf("%s %s%s%s\n", why.empty() ? "ok  " : "FAIL", name.c_str(), why.empty() ? "" : ": ", why.c_str());
    if (!why.empty()) ++failed;
  }
  if (ran == 0) {
    std::fprintf(stderr, "run_scenarios: no scenario named %s\n", argc == 4 ? argv[3] : "(any)");
    return 1;
  }
  std::printf("run_scenarios: %d of %d passed\n", ran - failed, ran);
  return failed == 0 ? 0 : 1;
}
