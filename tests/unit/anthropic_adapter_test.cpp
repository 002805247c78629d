// The Anthropic Messages codec (src/providers/anthropic.cpp): requests built
// from OpenAI-shaped ones, and recorded real answers and event streams
// (../shared/fixtures/anthropic, ../shared/fixtures/vercel-ai/anthropic)
// translated back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/assembler.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/validate.hpp"
#include "providers/adapter.hpp"
#include "providers/anthropic.hpp"
#include "providers/registry.hpp"

namespace literllm {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(LITERLLM_FIXTURES_DIR);

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Target target(const std::string& key = "sk-ant-test-123456") {
  Target t;
  t.spec = find_builtin("anthropic");
  t.base_url = "https://api.anthropic.test";
  t.api_key = key;
  t.secrets.add(key);
  t.model = "claude-sonnet-4-5";
  t.credential = key_credential(*t.spec, key);
  return t;
}

json::Document parse(std::string_view text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

// The body the operation builds for `request` (validated first, as prepare does).
json::Document body_of(const std::string& request, bool stream = false) {
  json::Document req = parse(request);
  validate_chat_request(req, stream, RequestRules::Structure);
  const Operation& op = *operation_for(Protocol::Anthropic, Endpoint::Chat);
  Target t = target();
  http::Request r = op.build(req, t, stream);
  return parse(r.body);
}

std::string msgs(const std::string& m) { return R"({"model":"anthropic/claude-sonnet-4-5","messages":)" + m; }

// ---------------------------------------------------------------- requests

TEST(AnthropicBuild, UrlHeadersAndTheCredentialAfterTheBody) {
  json::Document req = parse(msgs(R"([{"role":"user","content":"hi"}]})"));
  const Operation& op = *operation_for(Protocol::Anthropic, Endpoint::Chat);
  Target t = target();
  http::Request r = op.build(req, t, true);
  EXPECT_EQ(r.url, "https://api.anthropic.test/v1/messages");
  EXPECT_EQ(*http::find_header(r.headers, "anthropic-version"), "2023-06-01");
  EXPECT_EQ(*http::find_header(r.headers, "accept"), "text/event-stream");
  EXPECT_EQ(http::find_header(r.headers, "x-api-key"), nullptr) << "the operation adds no credential";
  t.credential->apply(r, std::chrono::system_clock::now());
  EXPECT_EQ(*http::find_header(r.headers, "x-api-key"), "sk-ant-test-123456");
  json::Document b = parse(r.body);
  EXPECT_EQ(std::string(b["model"].GetString()), "claude-sonnet-4-5");
  EXPECT_TRUE(b["stream"].GetBool());
  EXPECT_EQ(b["max_tokens"].GetInt64(), 4096) << "defaulted when absent";
}

TEST(AnthropicBuild, SystemAndDeveloperBecomeTheTopLevelSystem) {
  json::Document b = body_of(msgs(
      R"([{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Be kind.","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"hi"}],"max_tokens":50})"));
  ASSERT_TRUE(b["system"].IsArray());
  ASSERT_EQ(b["system"].Size(), 2u);
  EXPECT_EQ(std::string(b["system"][0]["text"].GetString()), "Be brief.");
  EXPECT_EQ(std::string(b["system"][1]["cache_control"]["type"].GetString()), "ephemeral");
  ASSERT_EQ(b["messages"].Size(), 1u);
  EXPECT_EQ(std::string(b["messages"][0]["role"].GetString()), "user");
  EXPECT_EQ(b["max_tokens"].GetInt64(), 50);
}

TEST(AnthropicBuild, ToolCallsAndGroupedToolResults) {
  json::Document b = body_of(msgs(R"([
    {"role":"user","content":"weather in Paris and Rome?"},
    {"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
      {"id":"toolu_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
    {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
    {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"21C"}]},
    {"role":"user","content":"thanks"}],
    "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},"cache_control":{"type":"ephemeral","ttl":"1h"}}],
    "tool_choice":"required","parallel_tool_calls":false})"));
  const auto& m = b["messages"];
  ASSERT_EQ(m.Size(), 3u);
  const auto& asst = m[1]["content"];
  ASSERT_EQ(asst.Size(), 3u);
  EXPECT_EQ(std::string(asst[1]["type"].GetString()), "tool_use");
  EXPECT_EQ(std::string(asst[1]["input"]["city"].GetString()), "Paris");
  const auto& results = m[2]["content"];
  ASSERT_EQ(results.Size(), 3u) << "both results and the user's text in one user turn";
  EXPECT_EQ(std::string(results[0]["tool_use_id"].GetString()), "toolu_1");
  EXPECT_EQ(std::string(results[1]["tool_use_id"].GetString()), "toolu_2");
  EXPECT_EQ(std::string(results[1]["content"][0]["text"].GetString()), "21C");
  EXPECT_EQ(std::string(results[2]["type"].GetString()), "text");
  EXPECT_EQ(std::string(b["tools"][0]["input_schema"]["properties"]["city"]["type"].GetString()), "string");
  EXPECT_EQ(std::string(b["tools"][0]["cache_control"]["ttl"].GetString()), "1h");
  EXPECT_EQ(std::string(b["tool_choice"]["type"].GetString()), "any");
  EXPECT_TRUE(b["tool_choice"]["disable_parallel_tool_use"].GetBool());
}

TEST(AnthropicBuild, ImagesAndDocuments) {
  json::Document b = body_of(msgs(R"([{"role":"user","content":[
    {"type":"text","text":"what is this?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
    {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
    {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}}]}]})"));
  const auto& c = b["messages"][0]["content"];
  ASSERT_EQ(c.Size(), 4u);
  EXPECT_EQ(std::string(c[1]["source"]["type"].GetString()), "base64");
  EXPECT_EQ(std::string(c[1]["source"]["media_type"].GetString()), "image/png");
  EXPECT_EQ(std::string(c[1]["source"]["data"].GetString()), "iVBORw0KGgo=");
  EXPECT_EQ(std::string(c[2]["source"]["type"].GetString()), "url");
  EXPECT_EQ(std::string(c[3]["type"].GetString()), "document");
  EXPECT_EQ(std::string(c[3]["source"]["media_type"].GetString()), "application/pdf");
}

TEST(AnthropicBuild, ThinkingFromReasoningEffortAndSignedBlocksSentBack) {
  json::Document b = body_of(msgs(R"([{"role":"user","content":"hi"},
    {"role":"assistant","content":"Hello","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"sig=="}]},
    {"role":"user","content":"again"}],"reasoning_effort":"medium"})"));
  EXPECT_EQ(std::string(b["thinking"]["type"].GetString()), "enabled");
  EXPECT_EQ(b["thinking"]["budget_tokens"].GetInt64(), 4096);
  EXPECT_GT(b["max_tokens"].GetInt64(), 4096) << "room beyond the thinking budget";
  const auto& asst = b["messages"][1]["content"];
  EXPECT_EQ(std::string(asst[0]["type"].GetString()), "thinking");
  EXPECT_EQ(std::string(asst[0]["signature"].GetString()), "sig==");
}

TEST(AnthropicBuild, ResponseFormatsAndProviderOptions) {
  json::Document s = body_of(msgs(
      R"([{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}},"provider_options":{"anthropic":{"top_k":5,"thinking":{"type":"enabled","budget_tokens":2048}},"gemini":{"x":1}}})"));
  EXPECT_EQ(std::string(s["output_config"]["format"]["type"].GetString()), "json_schema");
  EXPECT_EQ(s["top_k"].GetInt64(), 5);
  EXPECT_EQ(s["thinking"]["budget_tokens"].GetInt64(), 2048);
  EXPECT_FALSE(s.HasMember("x")) << "another provider's options are not sent";
  EXPECT_FALSE(s.HasMember("provider_options"));
  json::Document o = body_of(msgs(R"([{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}})"));
  EXPECT_EQ(std::string(o["tool_choice"]["type"].GetString()), "tool");
  EXPECT_EQ(std::string(o["tools"][0]["name"].GetString()), std::string(o["tool_choice"]["name"].GetString()));
}

TEST(AnthropicBuild, RefusesWhatAnthropicCannotTake) {
  auto fails = [](const std::string& req, const std::string& field) {
    try {
      body_of(req);
      ADD_FAILURE() << "no error for " << req;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  fails(msgs(R"([{"role":"user","content":"hi"}],"n":2})"), "request.n");
  fails(msgs(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]})"),
        "request.messages[0].content[0]");
  fails(msgs(R"([{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{nope"}}]}]})"),
        "request.messages[0].tool_calls[0].function.arguments");
  std::string five;
  for (int i = 0; i < 5; ++i)
    five += std::string(i ? "," : "") + R"({"type":"text","text":"p","cache_control":{"type":"ephemeral"}})";
  fails(msgs(R"([{"role":"user","content":[)" + five + "]}]}"), "cache_control");
  fails(msgs(R"([{"role":"system","content":"only a system message"}]})"), "request.messages");
}

// ---------------------------------------------------------------- answers

TEST(AnthropicParse, RecordedWholeAnswers) {
  const fs::path dir = kFixtures / "vercel-ai" / "anthropic";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  Target t = target();
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    json::Document src = parse(read_file(e.path()));
    if (!src.IsObject() || !src.HasMember("content")) continue;  // not a Messages answer
    ++files;
    SCOPED_TRACE(e.path().filename().string());
    json::Document d = anthropic_response(read_file(e.path()), t);
    std::string text;
    size_t tool_uses = 0;
    for (auto& b : src["content"].GetArray()) {
      std::string type = b["type"].GetString();
      if (type == "text") text += b["text"].GetString();
      if (type == "tool_use") ++tool_uses;
    }
    const auto& msg = d["choices"][0]["message"];
    if (!text.empty()) { EXPECT_EQ(std::string(msg["content"].GetString()), text); }
    size_t calls = msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0;
    EXPECT_EQ(calls, tool_uses);
    for (size_t i = 0; i < calls; ++i)
      EXPECT_TRUE(parse(msg["tool_calls"][static_cast<rapidjson::SizeType>(i)]["function"]["arguments"].GetString()).IsObject());
    std::string stop = src["stop_reason"].IsString() ? src["stop_reason"].GetString() : "";
    std::string fr = d["choices"][0]["finish_reason"].GetString();
    if (stop == "tool_use") { EXPECT_EQ(fr, "tool_calls"); }
    if (stop == "end_turn") { EXPECT_EQ(fr, "stop"); }
    if (stop == "refusal") { EXPECT_EQ(fr, "content_filter"); }
    const auto& su = src["usage"];
    int64_t read = su.HasMember("cache_read_input_tokens") && su["cache_read_input_tokens"].IsInt64()
                       ? su["cache_read_input_tokens"].GetInt64() : 0;
    int64_t write = su.HasMember("cache_creation_input_tokens") && su["cache_creation_input_tokens"].IsInt64()
                        ? su["cache_creation_input_tokens"].GetInt64() : 0;
    EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt64(), su["input_tokens"].GetInt64() + read + write);
    EXPECT_EQ(d["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt64(), read);
    EXPECT_EQ(d["usage"]["completion_tokens"].GetInt64(), su["output_tokens"].GetInt64());
  }
  EXPECT_GE(files, 10u);
}

// Feeds `sse` split into pieces of `step` bytes; the chunks go to an assembler.
struct Streamed {
  StreamDecoder::Fed last = StreamDecoder::Fed::More;
  StreamAssembler assembler;
  std::vector<std::string> texts;
};

Streamed stream(const std::string& sse, size_t step) {
  Streamed out;
  Target t = target();
  auto dec = anthropic_stream(t, Limits{});
  ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
    EXPECT_EQ(json::dump(parse(text)), json::dump(chunk)) << "the text is the chunk";
    out.texts.emplace_back(text);
    out.assembler.add(chunk);
    return true;
  };
  for (size_t i = 0; i < sse.size() && out.last == StreamDecoder::Fed::More; i += step)
    out.last = dec->feed(sse.data() + i, std::min(step, sse.size() - i), sink);
  if (out.last == StreamDecoder::Fed::More) dec->finish(sink);
  return out;
}

// The text, tool inputs and thinking of a recorded event list, joined.
struct Expected {
  std::string text, thinking, stop;
  std::vector<std::string> tool_args;
  bool has_stop_event = false;
};

Expected expected_from(const std::vector<std::string>& events) {
  Expected e;
  std::map<int64_t, size_t> tool_at;
  for (auto& line : events) {
    json::Document d = parse(line);
    std::string type = d["type"].GetString();
    if (type == "message_start" && d["message"].HasMember("content") && d["message"]["content"].IsArray()) {
      for (auto& b : d["message"]["content"].GetArray()) {
        if (std::string(b["type"].GetString()) == "tool_use") e.tool_args.push_back(json::dump(b["input"]));
        if (std::string(b["type"].GetString()) == "text") e.text += b["text"].GetString();
      }
    } else if (type == "content_block_start" && std::string(d["content_block"]["type"].GetString()) == "tool_use") {
      tool_at[d["index"].GetInt64()] = e.tool_args.size();
      e.tool_args.emplace_back();
    } else if (type == "content_block_delta") {
      std::string dt = d["delta"]["type"].GetString();
      if (dt == "text_delta") e.text += d["delta"]["text"].GetString();
      if (dt == "thinking_delta") e.thinking += d["delta"]["thinking"].GetString();
      if (dt == "input_json_delta" && tool_at.count(d["index"].GetInt64()))
        e.tool_args[tool_at[d["index"].GetInt64()]] += d["delta"]["partial_json"].GetString();
    } else if (type == "message_delta" && d["delta"].HasMember("stop_reason") && d["delta"]["stop_reason"].IsString()) {
      e.stop = d["delta"]["stop_reason"].GetString();
    } else if (type == "message_stop") {
      e.has_stop_event = true;
    }
  }
  return e;
}

void check_stream(const std::vector<std::string>& events, const std::string& sse) {
  Expected want = expected_from(events);
  for (size_t step : {sse.size(), size_t{1}, size_t{7}, size_t{100}}) {
    SCOPED_TRACE("pieces of " + std::to_string(step));
    Streamed s = stream(sse, step);
    if (want.has_stop_event) { EXPECT_EQ(s.last, StreamDecoder::Fed::Ended); }
    json::Document d = s.assembler.finish();
    const auto& msg = d["choices"][0]["message"];
    if (!want.text.empty()) { EXPECT_EQ(std::string(msg["content"].GetString()), want.text); }
    if (!want.thinking.empty()) {
      EXPECT_EQ(std::string(msg["reasoning_content"].GetString()), want.thinking);
      ASSERT_TRUE(msg.HasMember("thinking_blocks"));
      EXPECT_FALSE(std::string(msg["thinking_blocks"][0]["signature"].GetString()).empty());
    }
    size_t calls = msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0;
    ASSERT_EQ(calls, want.tool_args.size());
    for (size_t i = 0; i < calls; ++i)
      EXPECT_EQ(std::string(msg["tool_calls"][static_cast<rapidjson::SizeType>(i)]["function"]["arguments"].GetString()),
                want.tool_args[i]);
    if (!want.stop.empty()) {
      EXPECT_TRUE(s.assembler.all_finished());
      std::string fr = d["choices"][0]["finish_reason"].GetString();
      if (want.stop == "refusal") { EXPECT_EQ(fr, "content_filter"); }
      if (want.stop == "tool_use") { EXPECT_EQ(fr, "tool_calls"); }
      if (want.stop == "end_turn") { EXPECT_EQ(fr, "stop"); }
      if (want.stop == "max_tokens") { EXPECT_EQ(fr, "length"); }
      EXPECT_TRUE(d.HasMember("usage"));
    }
  }
}

TEST(AnthropicStream, RecordedSseFiles) {
  const fs::path dir = kFixtures / "anthropic" / "sse";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().filename().string());
    std::string sse = read_file(e.path());
    // Some files lost the blank line that ends the last event (message_stop)
    // when they were saved; on the wire it is there.
    while (sse.size() < 2 || sse.compare(sse.size() - 2, 2, "\n\n") != 0) sse += '\n';
    std::vector<std::string> events;
    std::istringstream in(sse);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("data: ", 0) == 0) events.push_back(line.substr(6));
    }
    if (events.empty()) continue;
    ++files;
    check_stream(events, sse);
  }
  EXPECT_GE(files, 6u);
}

TEST(AnthropicStream, RecordedChunkFiles) {
  const fs::path dir = kFixtures / "vercel-ai" / "anthropic";
  if (!fs::exists(dir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << dir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir)) {
    if (e.path().string().find(".chunks.txt") == std::string::npos) continue;
    SCOPED_TRACE(e.path().filename().string());
    // A file may hold several responses, one after another (a multi-step
    // recording): each message_start begins one stream.
    std::vector<std::vector<std::string>> streams;
    std::istringstream in(read_file(e.path()));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      if (streams.empty() || std::string(parse(line)["type"].GetString()) == "message_start") streams.emplace_back();
      streams.back().push_back(line);
    }
    ++files;
    for (auto& events : streams) {
      std::string sse;
      bool error_event = false;
      for (auto& line : events) {
        std::string type = parse(line)["type"].GetString();
        error_event |= type == "error";
        sse += "event: " + type + "\ndata: " + line + "\n\n";
      }
      if (error_event) {
        EXPECT_THROW(stream(sse, sse.size()), Error);
        continue;
      }
      check_stream(events, sse);
    }
  }
  EXPECT_GE(files, 15u);
}

TEST(AnthropicStream, ErrorEventsAreTyped) {
  std::string sse =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":1}}}\n\n"
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
  try {
    stream(sse, sse.size());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_SERVICE_UNAVAILABLE);
    EXPECT_NE(std::string(e.what()).find("Overloaded"), std::string::npos);
  }
}

}  // namespace
}  // namespace literllm
