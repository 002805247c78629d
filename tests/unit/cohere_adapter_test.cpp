// Cohere's v2 chat codec (src/providers/cohere.cpp): requests built from
// OpenAI-shaped ones, and recorded real answers and stream events
// (../shared/fixtures/vercel-ai/cohere) translated back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/assembler.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/validate.hpp"
#include "providers/adapter.hpp"
#include "providers/cohere.hpp"
#include "providers/registry.hpp"

namespace literllm {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(LITERLLM_FIXTURES_DIR) / "vercel-ai" / "cohere";

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json::Document parse(std::string_view text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

Target target() {
  Target t;
  t.spec = find_builtin("cohere");
  t.base_url = "https://api.cohere.test";
  t.model = "command-a-03-2025";
  return t;
}

http::Request build(const std::string& request, bool stream = false) {
  json::Document req = parse(request);
  validate_chat_request(req, stream, RequestRules::Structure);
  return operation_for(Protocol::Cohere, Endpoint::Chat)->build(req, target(), stream);
}

std::string msgs(const std::string& m) { return R"({"model":"cohere/command-a-03-2025","messages":)" + m; }

TEST(CohereBuild, V2ChatBody) {
  http::Request r = build(msgs(R"([
    {"role":"developer","content":"Be brief."},
    {"role":"user","content":[{"type":"text","text":"what is in it?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}]},
    {"role":"assistant","content":null,"reasoning_content":"I will look it up.","tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"a cat"}],
    "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"},"strict":true}},{"type":"function","function":{"name":"other"}}],
    "tool_choice":{"type":"function","function":{"name":"lookup"}},
    "top_p":0.5,"stop":"END","max_completion_tokens":77,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},
    "reasoning_effort":"medium"})"),
                          true);
  EXPECT_EQ(r.url, "https://api.cohere.test/v2/chat");
  json::Document b = parse(r.body);
  EXPECT_STREQ(b["model"].GetString(), "command-a-03-2025");
  EXPECT_TRUE(b["stream"].GetBool());
  const auto& m = b["messages"];
  EXPECT_STREQ(m[0]["role"].GetString(), "system");
  EXPECT_STREQ(m[1]["content"][1]["type"].GetString(), "image_url");
  EXPECT_STREQ(m[2]["tool_plan"].GetString(), "I will look it up.");
  EXPECT_STREQ(m[2]["tool_calls"][0]["function"]["arguments"].GetString(), "{\"q\":\"x\"}");
  EXPECT_STREQ(m[3]["role"].GetString(), "tool");
  EXPECT_STREQ(m[3]["tool_call_id"].GetString(), "c1");
  EXPECT_EQ(b["tools"].Size(), 1u) << "a named choice offers only that tool";
  EXPECT_STREQ(b["tool_choice"].GetString(), "REQUIRED");
  EXPECT_TRUE(b["strict_tools"].GetBool());
  EXPECT_EQ(b["p"].GetDouble(), 0.5);
  EXPECT_STREQ(b["stop_sequences"][0].GetString(), "END");
  EXPECT_EQ(b["max_tokens"].GetInt(), 77);
  EXPECT_STREQ(b["response_format"]["type"].GetString(), "json_object");
  EXPECT_TRUE(b["response_format"]["json_schema"].IsObject());
  EXPECT_EQ(b["thinking"]["token_budget"].GetInt(), 4096);
}

TEST(CohereBuild, RefusesWhatCohereCannotTake) {
  for (auto [req, field] : std::vector<std::pair<std::string, std::string>>{
           {msgs(R"([{"role":"user","content":"x"}],"n":2})"), "request.n"},
           {msgs(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]})"),
            "request.messages[0].content[0].type"},
           {msgs(R"([{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}})"),
            "request.tool_choice.function.name"}}) {
    try {
      build(req);
      ADD_FAILURE() << req;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}

TEST(CohereParse, RecordedAnswers) {
  if (!fs::exists(kDir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << kDir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() != ".json") continue;
    json::Document src = parse(read_file(e.path()));
    if (!src.HasMember("message")) continue;  // the embedding answer
    SCOPED_TRACE(e.path().filename().string());
    ++files;
    json::Document d = cohere_response(read_file(e.path()), target());
    const auto& msg = d["choices"][0]["message"];
    std::string text;
    if (src["message"].HasMember("content"))
      for (auto& c : src["message"]["content"].GetArray())
        if (std::string(c["type"].GetString()) == "text") text += c["text"].GetString();
    if (!text.empty()) { EXPECT_EQ(std::string(msg["content"].GetString()), text); }
    size_t calls = src["message"].HasMember("tool_calls") ? src["message"]["tool_calls"].Size() : 0;
    EXPECT_EQ(msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0u, calls);
    if (calls) {
      EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "tool_calls");
      EXPECT_STREQ(msg["reasoning_content"].GetString(), src["message"]["tool_plan"].GetString());
    }
    if (src["message"].HasMember("citations")) {
      EXPECT_EQ(msg["annotations"].Size(), src["message"]["citations"].Size());
    }
    EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt64(), src["usage"]["tokens"]["input_tokens"].GetInt64());
    EXPECT_EQ(d["usage"]["completion_tokens"].GetInt64(), src["usage"]["tokens"]["output_tokens"].GetInt64());
  }
  EXPECT_GE(files, 3u);
}

TEST(CohereStream, RecordedEventsSplitAnywhere) {
  if (!fs::exists(kDir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << kDir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(kDir)) {
    if (e.path().string().find(".chunks.txt") == std::string::npos) continue;
    SCOPED_TRACE(e.path().filename().string());
    ++files;
    std::string sse, text, thinking, plan, finish;
    std::map<int64_t, std::string> args;
    int64_t cached = -1;
    std::istringstream in(read_file(e.path()));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      json::Document d = parse(line);
      std::string type = d["type"].GetString();
      sse += "event: " + type + "\ndata: " + line + "\n\n";
      if (!d.HasMember("delta") || !d["delta"].HasMember("message")) {
        if (type == "message-end") {
          finish = d["delta"]["finish_reason"].GetString();
          if (d["delta"]["usage"].HasMember("cached_tokens")) cached = d["delta"]["usage"]["cached_tokens"].GetInt64();
        }
        continue;
      }
      const auto& m = d["delta"]["message"];
      if (type == "content-delta" && m["content"].HasMember("text")) text += m["content"]["text"].GetString();
      if (type == "content-delta" && m["content"].HasMember("thinking")) thinking += m["content"]["thinking"].GetString();
      if (type == "tool-plan-delta") plan += m["tool_plan"].GetString();
      if (type == "tool-call-start" || type == "tool-call-delta")
        args[d["index"].GetInt64()] += m["tool_calls"]["function"]["arguments"].GetString();
    }
    for (size_t step : {sse.size(), size_t{1}, size_t{11}, size_t{150}}) {
      SCOPED_TRACE("pieces of " + std::to_string(step));
      Target t = target();
      auto dec = operation_for(Protocol::Cohere, Endpoint::Chat)->stream_decoder(t, Limits{});
      StreamAssembler a;
      ChunkSink sink = [&](std::string_view txt, const json::Value& c) {
        EXPECT_EQ(json::dump(parse(txt)), json::dump(c));
        a.add(c);
        return true;
      };
      StreamDecoder::Fed last = StreamDecoder::Fed::More;
      for (size_t i = 0; i < sse.size() && last == StreamDecoder::Fed::More; i += step)
        last = dec->feed(sse.data() + i, std::min(step, sse.size() - i), sink);
      EXPECT_EQ(last, StreamDecoder::Fed::Ended);
      json::Document d = a.finish();
      const auto& msg = d["choices"][0]["message"];
      if (!text.empty()) { EXPECT_EQ(std::string(msg["content"].GetString()), text); }
      if (!thinking.empty() || !plan.empty()) { EXPECT_EQ(std::string(msg["reasoning_content"].GetString()), plan + thinking); }
      ASSERT_EQ(msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0u, args.size());
      size_t k = 0;
      for (auto& [i, want] : args)
        EXPECT_EQ(std::string(msg["tool_calls"][static_cast<rapidjson::SizeType>(k++)]["function"]["arguments"].GetString()), want);
      if (finish == "TOOL_CALL") { EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "tool_calls"); }
      if (finish == "COMPLETE") { EXPECT_STREQ(d["choices"][0]["finish_reason"].GetString(), "stop"); }
      if (cached >= 0) { EXPECT_EQ(d["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt64(), cached); }
    }
  }
  EXPECT_GE(files, 3u);
}

TEST(CohereParse, ErrorFinishesAreErrors) {
  std::string body = R"({"id":"x","finish_reason":"ERROR","message":{"role":"assistant","content":[]},"usage":{}})";
  try {
    cohere_response(body, target());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_SERVER_ERROR);
  }
}

}  // namespace
}  // namespace literllm
