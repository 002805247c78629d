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

#include <algorithm>
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
  std::string message;    // choices[0].message as JSON
  std::string reasoning;  // its reasoning_content, "" when it has none
  long long prompt_tokens = -1, completion_tokens = -1;
  int chunks = 0;
  ~Outcome() { llm_error_free(error); }
  void take(llm_response_t* r) {
    if (!r) return;
    Document d;
    d.Parse(llm_response_json(r));
    if (!d.HasParseError() && d.IsObject() && d.HasMember("choices") && d["choices"].IsArray() &&
        !d["choices"].Empty() && d["choices"][0].HasMember("message")) {
      const Value& m = d["choices"][0]["message"];
      message = dump(m);
      if (m.IsObject() && m.HasMember("reasoning_content") && m["reasoning_content"].IsString())
        reasoning = m["reasoning_content"].GetString();
    }
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
  if (has("reasoning_content")) k.eq("reasoning_content", o.reasoning, e["reasoning_content"].GetString());
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

std::string base64_decode(const std::string& in) {
  auto val = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char ch : in) {
    int v = val(ch);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// The value at a path "a.0.b" (digits index arrays), or nullptr.
const Value* at_path(const Value& root, const std::string& path) {
  const Value* v = &root;
  size_t start = 0;
  while (v && start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string seg = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v->IsArray() && !seg.empty() && seg.find_first_not_of("0123456789") == std::string::npos) {
      size_t i = std::stoul(seg);
      v = i < v->Size() ? &(*v)[static_cast<rapidjson::SizeType>(i)] : nullptr;
    } else if (v->IsObject() && v->HasMember(seg.c_str())) {
      v = &(*v)[seg.c_str()];
    } else {
      v = nullptr;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return v;
}

// Expect fields "fields" and "lengths" against an answer's JSON.
void expect_paths(Check& k, const Value& e, const Value& d) {
  if (e.HasMember("fields"))
    for (auto& m : e["fields"].GetObject()) {
      const Value* v = at_path(d, m.name.GetString());
      if (!v || *v != m.value) k.fail(std::string("fields.") + m.name.GetString() + ": got " + (v ? dump(*v) : "nothing") + ", want " + dump(m.value));
    }
  if (e.HasMember("lengths"))
    for (auto& m : e["lengths"].GetObject()) {
      const Value* v = at_path(d, m.name.GetString());
      long long n = v && v->IsArray() ? v->Size() : -1;
      k.eq(std::string("lengths.") + m.name.GetString(), n, m.value.GetInt64());
    }
}

// The text of a Responses API response: its "output_text" parts joined.
std::string responses_text(const Value& d) {
  std::string text;
  if (!d.IsObject() || !d.HasMember("output") || !d["output"].IsArray()) return text;
  for (const Value& item : d["output"].GetArray()) {
    if (!item.IsObject() || !item.HasMember("content") || !item["content"].IsArray()) continue;
    for (const Value& part : item["content"].GetArray())
      if (part.IsObject() && part.HasMember("type") && part["type"] == "output_text" && part.HasMember("text") && part["text"].IsString())
        text += part["text"].GetString();
  }
  return text;
}

// Kind "call": llm_call with the scenario's endpoint and request.
void call_scenario(Check& k, llm_client_t* c, const Value& sc, const Value& e, const std::string& req,
                   const std::string& base_url) {
  Outcome o;
  llm_response_t* r = nullptr;
  std::vector<std::string> bufs;
  if (sc.HasMember("uploads"))
    for (const Value& u : sc["uploads"].GetArray())
      bufs.push_back(u.HasMember("base64") ? base64_decode(u["base64"].GetString()) : u["text"].GetString());
  std::vector<const void*> data;
  std::vector<size_t> sizes;
  for (auto& b : bufs) {
    data.push_back(b.data());
    sizes.push_back(b.size());
  }
  o.status = llm_call_e(c, sc["endpoint"].GetString(), req.c_str(), bufs.empty() ? nullptr : data.data(),
                        bufs.empty() ? nullptr : sizes.data(), bufs.size(), &r, &o.error);
  expect_common(k, e, o, base_url);
  if (!r) return;
  Document d;
  d.Parse(str_or(llm_response_json(r)));
  if (d.HasParseError() || !d.IsObject()) k.fail("the answer is not a JSON object");
  if (d.IsObject()) expect_paths(k, e, d);
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

// Kind "call_stream": llm_call_stream; events checked, deltas joined.
void call_stream_scenario(Check& k, llm_client_t* c, const Value& sc, const Value& e, const std::string& req,
                          const std::string& base_url) {
  Outcome o;
  llm_stream_t* s = nullptr;
  std::vector<std::string> types;
  std::string final_json;
  o.status = llm_call_stream_e(c, sc["endpoint"].GetString(), req.c_str(), nullptr, nullptr, 0, &s, &o.error);
  if (o.status == LLM_OK) {
    const char* chunk = nullptr;
    long long last_seq = -1;
    while ((o.status = llm_stream_next_e(s, &chunk, &o.error)) == LLM_OK && chunk) {
      ++o.chunks;
      Document ev;
      ev.Parse(chunk);
      if (ev.HasParseError() || !ev.IsObject() || !ev.HasMember("type") || !ev["type"].IsString() ||
          !ev.HasMember("sequence_number") || !ev["sequence_number"].IsInt64()) {
        k.fail(std::string("an event without type or sequence_number: ") + chunk);
        continue;
      }
      if (ev["sequence_number"].GetInt64() <= last_seq) k.fail("sequence_number did not increase");
      last_seq = ev["sequence_number"].GetInt64();
      types.push_back(ev["type"].GetString());
      if (types.back() == "response.output_text.delta" && ev.HasMember("delta") && ev["delta"].IsString())
        o.text += ev["delta"].GetString();
    }
    if (o.status == LLM_OK) {
      llm_response_t* r = nullptr;
      o.status = llm_stream_final_response_e(s, &r, &o.error);
      if (r) final_json = str_or(llm_response_json(r));
      llm_response_free(r);
    }
    llm_stream_free(s);
  }
  expect_common(k, e, o, base_url);
  if (o.status != LLM_OK) return;
  Document d;
  d.Parse(final_json.c_str());
  if (d.HasParseError() || !d.IsObject()) return k.fail("the final response is not a JSON object");
  k.eq("final response text", responses_text(d), o.text);
  if (e.HasMember("final_status"))
    k.eq("final_status", d.HasMember("status") && d["status"].IsString() ? d["status"].GetString() : "", e["final_status"].GetString());
  if (e.HasMember("event_types"))
    for (const Value& t : e["event_types"].GetArray())
      if (std::find(types.begin(), types.end(), t.GetString()) == types.end()) k.fail(std::string("no event ") + t.GetString());
  expect_paths(k, e, d);
}

// Kind "batch": files.create, batches.create, batches.retrieve until done, files.content.
void batch_scenario(Check& k, llm_client_t* c, const Value& sc, const Value& e, const std::string& base_url) {
  Outcome o;
  const std::string provider = sc["provider"].GetString();
  auto call = [&](const char* endpoint, Document& req, const std::string* upload, Document& out,
                  std::string* bytes) -> bool {
    llm_response_t* r = nullptr;
    const void* data[1] = {upload ? upload->data() : nullptr};
    size_t sizes[1] = {upload ? upload->size() : 0};
    req.AddMember("provider", Value(provider.c_str(), req.GetAllocator()), req.GetAllocator());
    o.status = llm_call_e(c, endpoint, dump(req).c_str(), upload ? data : nullptr, upload ? sizes : nullptr,
                          upload ? 1 : 0, &r, &o.error);
    if (o.status != LLM_OK) return false;
    out.Parse(str_or(llm_response_json(r)));
    if (bytes) {
      size_t n = 0;
      const void* b = llm_response_bytes(r, &n);
      bytes->assign(b ? static_cast<const char*>(b) : "", b ? n : 0);
    }
    llm_response_free(r);
    return !out.HasParseError() && out.IsObject();
  };
  auto str = [](const Value& d, const char* m) -> std::string {
    return d.IsObject() && d.HasMember(m) && d[m].IsString() ? d[m].GetString() : "";
  };
  const Value& up = sc["upload"];
  std::string content = up["content"].GetString(), output, batch_status;
  Document req, ans;
  req.Parse(R"({"file": {"data": 0}})");
  req["file"].AddMember("filename", Value(up["filename"].GetString(), req.GetAllocator()), req.GetAllocator());
  req.AddMember("purpose", Value(up["purpose"].GetString(), req.GetAllocator()), req.GetAllocator());
  if (call("files.create", req, &content, ans, nullptr)) {
    std::string file_id = str(ans, "id");
    Document breq;
    breq.CopyFrom(sc["batch"], breq.GetAllocator());
    breq.AddMember("input_file_id", Value(file_id.c_str(), breq.GetAllocator()), breq.GetAllocator());
    Document batch;
    if (call("batches.create", breq, nullptr, batch, nullptr)) {
      std::string batch_id = str(batch, "id");
      for (int i = 0; i < sc["max_polls"].GetInt(); ++i) {
        Document rreq;
        rreq.SetObject();
        rreq.AddMember("batch_id", Value(batch_id.c_str(), rreq.GetAllocator()), rreq.GetAllocator());
        if (!call("batches.retrieve", rreq, nullptr, batch, nullptr)) break;
        batch_status = str(batch, "status");
        if (batch_status == "completed" || batch_status == "failed" || batch_status == "expired" ||
            batch_status == "cancelled")
          break;
      }
      if (o.status == LLM_OK && batch_status == "completed") {
        Document creq, cans;
        creq.SetObject();
        creq.AddMember("file_id", Value(str(batch, "output_file_id").c_str(), creq.GetAllocator()), creq.GetAllocator());
        call("files.content", creq, nullptr, cans, &output);
      }
    }
  }
  expect_common(k, e, o, base_url);
  if (o.status != LLM_OK) return;
  k.eq("batch_status", batch_status, e["batch_status"].GetString());
  long long lines = 0;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++lines;
  if (e.HasMember("output_lines")) k.eq("output_lines", lines, e["output_lines"].GetInt64());
  if (e.HasMember("output_contains"))
    for (const Value& t : e["output_contains"].GetArray())
      if (output.find(t.GetString()) == std::string::npos) k.fail(std::string("the output lacks ") + t.GetString());
}

// Kind "tool_loop": the answer's message goes back as it came, with one tool message per call.
void tool_loop_scenario(Check& k, llm_client_t* c, const Value& sc, const Value& e, const std::string& req,
                        const std::string& base_url) {
  Outcome first = chat(c, req);
  Check k1;
  expect_common(k1, sc["first_expect"], first, base_url);
  if (!k1.failure.empty()) return k.fail("first answer: " + k1.failure);
  Document next;
  next.Parse(req.c_str());
  auto& a = next.GetAllocator();
  Document msg(&a), calls(&a);
  msg.Parse(first.message.c_str());
  calls.Parse(first.tool_calls.c_str());
  if (msg.HasParseError() || calls.HasParseError() || !calls.IsArray())
    return k.fail("first answer: no message or tool calls: " + first.message);
  next["messages"].PushBack(Value(msg, a), a);
  for (const Value& call : calls.GetArray()) {
    Value tool(rapidjson::kObjectType);
    tool.AddMember("role", "tool", a);
    tool.AddMember("tool_call_id", Value(call["id"], a), a);
    tool.AddMember("content", Value(sc["tool_result"], a), a);
    next["messages"].PushBack(tool, a);
  }
  Outcome second = chat(c, dump(next));
  expect_common(k, e, second, base_url);
}

std::string run_one(const Value& sc, const Value& client_config, const std::string& base_url) {
  Check k;
  const std::string kind = sc["kind"].GetString();
  const Value& e = sc["expect"];
  Document cfg;
  cfg.CopyFrom(client_config, cfg.GetAllocator());
  if (sc.HasMember("config"))
    for (auto& m : sc["config"].GetObject()) {  // a scenario's field replaces the shared one
      cfg.RemoveMember(m.name);
      cfg.AddMember(Value(m.name, cfg.GetAllocator()), Value(m.value, cfg.GetAllocator()), cfg.GetAllocator());
    }
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
  } else if (kind == "tool_loop") {
    tool_loop_scenario(k, c, sc, e, req, base_url);
  } else if (kind == "register") {
    std::string p = replace_all(dump(sc["provider"]), "{base_url}", base_url);
    if (llm_register_provider_e(c, p.c_str(), &err) != LLM_OK) k.fail(std::string("register: ") + llm_error_message(err));
    llm_error_free(err);
    Outcome o = chat(c, req);
    expect_common(k, e, o, base_url);
  } else if (kind == "call") {
    call_scenario(k, c, sc, e, req, base_url);
  } else if (kind == "call_stream") {
    call_stream_scenario(k, c, sc, e, req, base_url);
  } else if (kind == "batch") {
    batch_scenario(k, c, sc, e, base_url);
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
