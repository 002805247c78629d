// The local upstream's Anthropic Messages API (tests/upstream/anthropic.cpp),
// checked over real sockets with libcurl: the real API's checks and their
// error shape, the deterministic reply, the event stream, thinking
// signatures, injected errors, and the Vertex rawPredict routes.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "upstream.hpp"
#include "upstream_client.hpp"

namespace {

using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

using upstream_client::Answer;

const std::vector<std::string> kVersion = {"anthropic-version: 2023-06-01"};

Answer post(const Upstream& up, const std::string& path, const std::string& body,
            std::vector<std::string> headers = kVersion, const char* method = "POST") {
  return upstream_client::request(up, path, body, headers, method);
}

Answer messages(const Upstream& up, const std::string& body, std::vector<std::string> extra = {}) {
  std::vector<std::string> headers = kVersion;
  headers.insert(headers.end(), extra.begin(), extra.end());
  return post(up, "/v1/messages", body, headers);
}

using upstream_client::parse;
using upstream_client::str;

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// An Anthropic error answer: status, type, a message containing `message_part`, request-id in header and body.
void expect_error(const Answer& a, long status, const std::string& type, const std::string& message_part = {}) {
  EXPECT_EQ(a.status, status) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << a.body;
  EXPECT_EQ(str(d["type"]), "error");
  EXPECT_EQ(str(d["error"]["type"]), type) << a.body;
  EXPECT_NE(str(d["error"]["message"]).find(message_part), std::string::npos) << a.body;
  ASSERT_TRUE(d.HasMember("request_id")) << a.body;
  EXPECT_EQ(str(d["request_id"]), a.header("request-id"));
  EXPECT_EQ(a.header("request-id").rfind("req_", 0), 0u);
}

struct Event {
  std::string name, data;
};

// The SSE events: `event:` name and `data:` of each.
std::vector<Event> sse(const std::string& body) {
  std::vector<Event> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    std::string block = body.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    Event e;
    size_t lp = 0;
    while (lp < block.size()) {
      size_t le = block.find('\n', lp);
      std::string line = block.substr(lp, le == std::string::npos ? std::string::npos : le - lp);
      if (line.rfind("event: ", 0) == 0) e.name = line.substr(7);
      if (line.rfind("data: ", 0) == 0) e.data = line.substr(6);
      if (le == std::string::npos) break;
      lp = le + 1;
    }
    if (!e.name.empty() || !e.data.empty()) out.push_back(e);
    if (end == std::string::npos) break;
    pos = end + 2;
  }
  return out;
}

std::vector<std::string> names(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.name);
  return out;
}

// The content blocks a stream builds: deltas joined, as a client assembles them.
rapidjson::Document assemble(const std::vector<Event>& events) {
  rapidjson::Document msg;
  msg.SetObject();
  std::vector<std::string> partial;
  for (const Event& e : events) {
    auto d = parse(e.data);
    EXPECT_EQ(str(d["type"]), e.name) << e.data;  // the event line names the data's type
    if (e.name == "message_start") {
      msg.CopyFrom(d["message"], msg.GetAllocator());
    } else if (e.name == "content_block_start") {
      rapidjson::Value block(d["content_block"], msg.GetAllocator());
      EXPECT_EQ(d["index"].GetUint(), msg["content"].Size());
      msg["content"].PushBack(block, msg.GetAllocator());
      partial.emplace_back();
    } else if (e.name == "content_block_delta") {
      rapidjson::Value& block = msg["content"][d["index"].GetUint()];
      const auto& delta = d["delta"];
      std::string t = str(delta["type"]);
      auto append = [&](const char* field, const rapidjson::Value& piece) {
        std::string s = str(block[field]) + str(piece);
        block[field].SetString(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), msg.GetAllocator());
      };
      if (t == "text_delta") append("text", delta["text"]);
      if (t == "thinking_delta") append("thinking", delta["thinking"]);
      if (t == "signature_delta") append("signature", delta["signature"]);
      if (t == "input_json_delta") partial[d["index"].GetUint()] += str(delta["partial_json"]);
    } else if (e.name == "content_block_stop") {
      size_t i = d["index"].GetUint();
      if (str(msg["content"][i]["type"]) == "tool_use") {
        rapidjson::Document input;
        input.Parse(partial[i].c_str());
        EXPECT_FALSE(input.HasParseError()) << partial[i];
        msg["content"][i]["input"].CopyFrom(input, msg.GetAllocator());
      }
    } else if (e.name == "message_delta") {
      msg["stop_reason"].CopyFrom(d["delta"]["stop_reason"], msg.GetAllocator());
      msg["stop_sequence"].CopyFrom(d["delta"]["stop_sequence"], msg.GetAllocator());
      msg["usage"]["output_tokens"].SetInt64(d["usage"]["output_tokens"].GetInt64());
    }
  }
  return msg;
}

const std::string kHello =
    R"({"model":"claude-test","max_tokens":100,"system":"be brief","messages":[{"role":"user","content":"hi there"}]})";
const std::string kHelloText = "Hello from the local upstream. You said: hi there";

const std::string kWeatherTool =
    R"({"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}})";
const std::string kTimeTool =
    R"({"name":"get_time","input_schema":{"type":"object","properties":{"zone":{"type":"string","enum":["UTC","CET"]}}}})";

class UpstreamAnthropic : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  Upstream up;
};

// ---- the reply ------------------------------------------------------------------------

TEST_F(UpstreamAnthropic, TextReply) {
  Answer a = messages(up, kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json");
  EXPECT_EQ(a.header("request-id").rfind("req_upstream_", 0), 0u);
  auto d = parse(a.body);
  EXPECT_EQ(str(d["id"]).rfind("msg_upstream_", 0), 0u);
  EXPECT_EQ(str(d["type"]), "message");
  EXPECT_EQ(str(d["role"]), "assistant");
  EXPECT_EQ(str(d["model"]), "claude-test");
  ASSERT_EQ(d["content"].Size(), 1u);
  EXPECT_EQ(str(d["content"][0]["type"]), "text");
  EXPECT_EQ(str(d["content"][0]["text"]), kHelloText);
  EXPECT_EQ(str(d["stop_reason"]), "end_turn");
  EXPECT_TRUE(d["stop_sequence"].IsNull());
  EXPECT_FALSE(d.HasMember("stop_details"));
  const auto& u = d["usage"];
  EXPECT_EQ(u["input_tokens"].GetInt(), 4);  // "be brief" + "hi there"
  EXPECT_EQ(u["output_tokens"].GetInt(), 9);
  EXPECT_EQ(u["cache_creation_input_tokens"].GetInt(), 0);
  EXPECT_EQ(u["cache_read_input_tokens"].GetInt(), 0);
  EXPECT_EQ(u["cache_creation"]["ephemeral_5m_input_tokens"].GetInt(), 0);
  EXPECT_EQ(str(u["service_tier"]), "standard");
}

TEST_F(UpstreamAnthropic, AnyPrefixBlocksAndSystemArray) {
  std::string body =
      R"({"model":"m","max_tokens":100,"system":[{"type":"text","text":"one two three"}],)"
      R"("messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},)"
      R"({"role":"user","content":[{"type":"text","text":"look at"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},)"
      R"({"type":"text","text":"this"},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc"}}]}]})";
  Answer a = post(up, "/some/prefix/v1/messages", body);
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_EQ(str(d["content"][0]["text"]), "Hello from the local upstream. You said: look at this");
  EXPECT_EQ(d["usage"]["input_tokens"].GetInt(), 3 + 1 + 1 + 3);
}

TEST_F(UpstreamAnthropic, FirstMessageMayBeAssistant) {
  Answer a = messages(up, R"({"model":"m","max_tokens":10,"messages":[{"role":"assistant","content":"Hi"},)"
                          R"({"role":"user","content":"yo"}]})");
  EXPECT_EQ(a.status, 200) << a.body;
}

TEST_F(UpstreamAnthropic, MaxTokensCutsTheText) {
  Answer a = messages(up, R"({"model":"m","max_tokens":3,"messages":[{"role":"user","content":"hi"}]})");
  auto d = parse(a.body);
  EXPECT_EQ(str(d["content"][0]["text"]), "Hello from the");
  EXPECT_EQ(str(d["stop_reason"]), "max_tokens");
  EXPECT_EQ(d["usage"]["output_tokens"].GetInt(), 3);
}

TEST_F(UpstreamAnthropic, MaxTokensZeroPrewarmsTheCache) {
  // The real API takes max_tokens 0 (cache pre-warming): no output, and a top-level cache_control.
  Answer a = messages(up,
                      R"({"model":"m","max_tokens":0,"cache_control":{"type":"ephemeral"},)"
                      R"("messages":[{"role":"user","content":"hi"}]})",
                      {"x-upstream-cache-write-tokens: 12"});
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_EQ(d["content"].Size(), 0u);
  EXPECT_EQ(str(d["stop_reason"]), "max_tokens");
  EXPECT_EQ(d["usage"]["output_tokens"].GetInt(), 0);
  EXPECT_EQ(d["usage"]["cache_creation_input_tokens"].GetInt(), 12);
}

TEST_F(UpstreamAnthropic, StopSequence) {
  Answer a = messages(up, R"({"model":"m","max_tokens":100,"stop_sequences":["upstream"],)"
                          R"("messages":[{"role":"user","content":"hi"}]})");
  auto d = parse(a.body);
  EXPECT_EQ(str(d["content"][0]["text"]), "Hello from the local ");
  EXPECT_EQ(str(d["stop_reason"]), "stop_sequence");
  EXPECT_EQ(str(d["stop_sequence"]), "upstream");
}

TEST_F(UpstreamAnthropic, CacheTokenHeaders) {
  Answer a = messages(up, kHello, {"x-upstream-cached-tokens: 7", "x-upstream-cache-write-tokens: 3"});
  auto d = parse(a.body);
  EXPECT_EQ(d["usage"]["cache_read_input_tokens"].GetInt(), 7);
  EXPECT_EQ(d["usage"]["cache_creation_input_tokens"].GetInt(), 3);
  EXPECT_EQ(d["usage"]["cache_creation"]["ephemeral_5m_input_tokens"].GetInt(), 3);
  EXPECT_EQ(d["usage"]["cache_creation"]["ephemeral_1h_input_tokens"].GetInt(), 0);
  // A 1h cache_control: the write counts as 1h.
  a = messages(
      up,
      R"({"model":"m","max_tokens":10,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral","ttl":"1h"}}],)"
      R"("messages":[{"role":"user","content":"hi"}]})",
      {"x-upstream-cache-write-tokens: 3"});
  d = parse(a.body);
  EXPECT_EQ(d["usage"]["cache_creation"]["ephemeral_1h_input_tokens"].GetInt(), 3);
}

TEST_F(UpstreamAnthropic, Refusal) {
  Answer a = messages(up, kHello, {"x-upstream-refusal: 1"});
  ASSERT_EQ(a.status, 200);
  auto d = parse(a.body);
  EXPECT_EQ(d["content"].Size(), 0u);
  EXPECT_EQ(str(d["stop_reason"]), "refusal");
  EXPECT_EQ(str(d["stop_details"]["type"]), "refusal");
  EXPECT_EQ(d["usage"]["output_tokens"].GetInt(), 0);
}

TEST_F(UpstreamAnthropic, ToolUse) {
  Answer a = messages(up, R"({"model":"m","max_tokens":100,"tools":[)" + kWeatherTool +
                              R"(],"messages":[{"role":"user","content":"weather?"}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  ASSERT_EQ(d["content"].Size(), 1u);
  const auto& b = d["content"][0];
  EXPECT_EQ(str(b["type"]), "tool_use");
  EXPECT_EQ(str(b["id"]), "toolu_upstream_0");
  EXPECT_EQ(str(b["name"]), "get_weather");
  EXPECT_EQ(to_json(b["input"]), R"({"city":"sample","days":1})");
  EXPECT_EQ(str(d["stop_reason"]), "tool_use");
}

TEST_F(UpstreamAnthropic, ToolChoices) {
  auto call = [&](const std::string& choice) {
    Answer a = messages(up, R"({"model":"m","max_tokens":100,"tools":[)" + kWeatherTool + "," + kTimeTool + "]" +
                                (choice.empty() ? "" : ",\"tool_choice\":" + choice) +
                                R"(,"messages":[{"role":"user","content":"go"}]})");
    EXPECT_EQ(a.status, 200) << a.body;
    std::vector<std::string> out;
    auto d = parse(a.body);
    for (const auto& b : d["content"].GetArray())
      out.push_back(str(b["type"]) == "tool_use" ? str(b["name"]) + "(" + to_json(b["input"]) + ")" : "text");
    return out;
  };
  using V = std::vector<std::string>;
  V both = {R"(get_weather({"city":"sample","days":1}))", R"(get_time({"zone":"UTC"}))"};
  EXPECT_EQ(call(""), both);
  EXPECT_EQ(call(R"({"type":"auto"})"), both);
  EXPECT_EQ(call(R"({"type":"any"})"), both);
  EXPECT_EQ(call(R"({"type":"any","disable_parallel_tool_use":true})"), V{both[0]});
  EXPECT_EQ(call(R"({"type":"tool","name":"get_time"})"), V{both[1]});
  EXPECT_EQ(call(R"({"type":"none"})"), V{"text"});
}

TEST_F(UpstreamAnthropic, ToolResultsGetText) {
  std::string body =
      R"({"model":"m","max_tokens":100,"tools":[)" + kWeatherTool +
      R"(],"messages":[{"role":"user","content":"weather?"},)"
      R"({"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_upstream_0","name":"get_weather","input":{"city":"Paris"}}]},)"
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_upstream_0","content":"22 degrees"}]}]})";
  Answer a = messages(up, body);
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_EQ(str(d["content"][0]["text"]), "Hello from the local upstream. You said: 22 degrees");
  EXPECT_EQ(str(d["stop_reason"]), "end_turn");
}

TEST_F(UpstreamAnthropic, StructuredOutput) {
  const std::string schema =
      R"({"type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}},"inner":{"type":"object","properties":{"n":{"type":"number"}}}},"required":["name"],"additionalProperties":false})";
  for (const std::string& field : {R"("output_config":{"format":{"type":"json_schema","schema":)" + schema + "}}",
                                   R"("output_format":{"type":"json_schema","schema":)" + schema + "}"}) {
    Answer a =
        messages(up, R"({"model":"m","max_tokens":100,)" + field + R"(,"messages":[{"role":"user","content":"x"}]})");
    ASSERT_EQ(a.status, 200) << a.body;
    auto d = parse(a.body);
    EXPECT_EQ(str(d["content"][0]["text"]), R"({"name":"sample","tags":[],"inner":{"n":1.5}})");
  }
}

// ---- thinking -------------------------------------------------------------------------

const std::string kThinking = R"("thinking":{"type":"enabled","budget_tokens":1024})";

TEST_F(UpstreamAnthropic, ThinkingBlockFirst) {
  Answer a = messages(
      up, R"({"model":"m","max_tokens":2000,)" + kThinking + R"(,"messages":[{"role":"user","content":"why?"}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  ASSERT_EQ(d["content"].Size(), 2u);
  EXPECT_EQ(str(d["content"][0]["type"]), "thinking");
  EXPECT_EQ(str(d["content"][0]["thinking"]), "Thinking about: why?");
  std::string sig = str(d["content"][0]["signature"]);
  EXPECT_GE(sig.size(), 16u);
  EXPECT_EQ(str(d["content"][1]["text"]), "Hello from the local upstream. You said: why?");
  // Deterministic: the same request, the same signature.
  auto again = parse(messages(up, R"({"model":"m","max_tokens":2000,)" + kThinking +
                                      R"(,"messages":[{"role":"user","content":"why?"}]})")
                         .body);
  EXPECT_EQ(str(again["content"][0]["signature"]), sig);
  // Adaptive thinking too; display "omitted" gives an empty thinking with a signature.
  d = parse(messages(up, R"({"model":"m","max_tokens":100,"thinking":{"type":"adaptive","display":"omitted"},)"
                         R"("messages":[{"role":"user","content":"why?"}]})")
                .body);
  EXPECT_EQ(str(d["content"][0]["thinking"]), "");
  EXPECT_FALSE(str(d["content"][0]["signature"]).empty());
}

TEST_F(UpstreamAnthropic, ThinkingSignatureRoundTrip) {
  std::string first = R"({"model":"m","max_tokens":2000,)" + kThinking + R"(,"tools":[)" + kWeatherTool +
                      R"(],"messages":[{"role":"user","content":"weather?"}]})";
  Answer a = messages(up, first);
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  ASSERT_EQ(d["content"].Size(), 2u);
  ASSERT_EQ(str(d["content"][1]["type"]), "tool_use");
  std::string assistant = to_json(d["content"]);
  auto next = [&](const std::string& content) {
    return R"({"model":"m","max_tokens":2000,)" + kThinking + R"(,"tools":[)" + kWeatherTool +
           R"(],"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":)" + content +
           R"(},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_upstream_0","content":"sunny"}]}]})";
  };
  // Unchanged: accepted, and the answer is text after a new thinking block.
  Answer ok = messages(up, next(assistant));
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto o = parse(ok.body);
  EXPECT_EQ(str(o["content"][0]["type"]), "thinking");
  EXPECT_EQ(str(o["content"][1]["text"]), "Hello from the local upstream. You said: sunny");
  // The thinking text altered: the signature no longer verifies.
  std::string tampered = assistant;
  tampered.replace(tampered.find("Thinking about"), 8, "Thonking");
  expect_error(messages(up, next(tampered)), 400, "invalid_request_error",
               "messages.1.content.0: Invalid `signature` in `thinking` block");
  // The thinking block dropped in a tool loop: the real API's 400.
  std::string dropped = "[" + to_json(d["content"][1]) + "]";
  expect_error(messages(up, next(dropped)), 400, "invalid_request_error",
               "Expected `thinking` or `redacted_thinking`, but found `tool_use`");
}

// ---- the checks ---------------------------------------------------------------------------

TEST_F(UpstreamAnthropic, VersionHeaderRequired) {
  expect_error(post(up, "/v1/messages", kHello, {}), 400, "invalid_request_error",
               "anthropic-version: header is required");
  expect_error(post(up, "/v1/messages", kHello, {"anthropic-version: 1999-01-01"}), 400, "invalid_request_error",
               "anthropic-version: \"1999-01-01\" is not a valid version");
  // Sent twice: joined, and refused as the real API refuses it.
  expect_error(post(up, "/v1/messages", kHello, {"anthropic-version: 2023-06-01", "anthropic-version: 2023-06-01"}),
               400, "invalid_request_error", "anthropic-version: \"2023-06-01, 2023-06-01\" is not a valid version");
}

TEST_F(UpstreamAnthropic, RequestChecks) {
  const std::string user = R"({"role":"user","content":"hi"})";
  auto with = [&](const std::string& fields, const std::string& msgs = "") {
    return R"({"model":"m","max_tokens":100,"messages":[)" + (msgs.empty() ? user : msgs) + "]" +
           (fields.empty() ? "" : "," + fields) + "}";
  };
  const std::string tool_use =
      R"({"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}]})";
  const std::string cc = R"("cache_control":{"type":"ephemeral"})";
  const std::string cached_text = R"({"type":"text","text":"t",)" + cc + "}";
  struct Case {
    std::string body, message;
  };
  std::vector<Case> cases = {
      {"not json", "The request body is not valid JSON: invalid value: line 1 column 2 (char 1)"},
      {"{\"model\":\n\"m\",}",
       "The request body is not valid JSON: missing a name for object member: line 2 column 5 (char 14)"},
      {R"({"max_tokens":10,"messages":[{"role":"user","content":"hi"}]})", "model: Field required"},
      {R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", "max_tokens: Field required"},
      {R"({"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Input should be greater than or equal to 0"},
      {R"({"model":"m","max_tokens":"5","messages":[{"role":"user","content":"hi"}]})",
       "max_tokens: Input should be a valid integer"},
      {R"({"model":"m","max_tokens":10})", "messages: Field required"},
      {R"({"model":"m","max_tokens":10,"messages":[]})", "messages: at least one message is required"},
      {with("", R"({"role":"system","content":"be nice"},)" + user), "Unexpected role \"system\""},
      {with("", R"({"role":"tool","content":"x"})"), "messages.0.role: Input should be 'user' or 'assistant'"},
      {with("", R"({"role":"user","content":""})"), "all messages must have non-empty content"},
      {with("", R"({"role":"user","content":[]})"), "all messages must have non-empty content"},
      {with("", R"({"role":"user","content":[{"type":"text","text":""}]})"), "text content blocks must be non-empty"},
      {with("", R"({"role":"user","content":[{"type":"video","url":"x"}]})"),
       "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected tags"},
      {with(
           "",
           R"({"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"x"}}]})"),
       "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or "
       "'image/webp'"},
      {with("", R"({"role":"user","content":[{"type":"image","source":{"type":"url"}}]})"),
       "messages.0.content.0.image.source.url.url: Field required"},
      {with(
           "",
           R"({"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"image/png","data":"x"}}]})"),
       "media_type: Input should be 'application/pdf'"},
      {with("", user + "," +
                    R"({"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":[]}]})"),
       "messages.1.content.0.tool_use.input: Input should be a valid dictionary"},
      {with("", user + "," + R"({"role":"assistant","content":[{"type":"thinking","thinking":"x"}]})"),
       "messages.1.content.0.thinking.signature: Field required"},
      {with("", user + "," + tool_use + "," + user),
       "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"},
      {with(
           "",
           user + "," + tool_use +
               R"(,{"role":"user","content":[{"type":"text","text":"and"},{"type":"tool_result","tool_use_id":"toolu_1","content":"x"}]})"),
       "Did not find 1 `tool_result` block(s) at the beginning of this message"},
      {with(
           "",
           user +
               R"(,{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9"}]})"),
       "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9"},
      {with("", user + R"(,{"role":"assistant","content":"ok "})"),
       "final assistant content cannot end with trailing whitespace"},
      {with(R"("system":[{"type":"image"}])"), "system.0: Input tag 'image' found"},
      {with(R"("system":5)"), "system: Input should be a valid string or list"},
      {with(R"("tools":[{"name":"bad name","input_schema":{"type":"object"}}])"),
       "tools.0.custom.name: String should match pattern"},
      {with(R"("tools":[{"name":"f"}])"), "tools.0.custom.input_schema: Field required"},
      {with(R"("tools":[{"name":"f","input_schema":{"type":"array"}}])"),
       "tools.0.custom.input_schema.type: Input should be 'object'"},
      {with(R"("tools":[{"name":"f","input_schema":{"type":"object"}},{"name":"f","input_schema":{"type":"object"}}])"),
       "Tool names must be unique"},
      {with(R"("tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"sometimes"})"),
       "tool_choice: Input tag 'sometimes' found"},
      {with(R"("tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool"})"),
       "tool_choice.tool.name: Field required"},
      {with(R"("tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"g"})"),
       "Tool 'g' not found"},
      {with(R"("tool_choice":{"type":"any"})"), "tool_choice may only be specified while providing tools."},
      {with(R"("system":[)" + cached_text + "," + cached_text + "," + cached_text + "],\"tools\":[" +
                R"({"name":"f","input_schema":{"type":"object"},)" + cc + "}]",
            R"({"role":"user","content":[)" + cached_text + "]}"),
       "A maximum of 4 blocks with cache_control may be provided. Found 5."},
      {with(R"("system":[{"type":"text","text":"s","cache_control":{"type":"persistent"}}])"),
       "system.0.cache_control: Input tag 'persistent' found"},
      {with(R"("system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral","ttl":"2h"}}])"),
       "system.0.cache_control.ephemeral.ttl: Input should be '5m' or '1h'"},
      {with(R"("thinking":{"type":"enabled","budget_tokens":500})"),
       "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"},
      {with(R"("thinking":{"type":"enabled"})"), "thinking.enabled.budget_tokens: Field required"},
      {with(R"("thinking":{"type":"enabled","budget_tokens":2000})"),
       "`max_tokens` must be greater than `thinking.budget_tokens`"},
      {with(R"("thinking":{"type":"sometimes"})"), "thinking: Input tag 'sometimes' found"},
      {R"({"model":"m","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":1024},"temperature":0.5,"messages":[)" +
           user + "]}",
       "`temperature` may only be set to 1 when thinking is enabled"},
      {R"({"model":"m","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":1024},"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"},"messages":[)" +
           user + "]}",
       "Thinking may not be enabled when tool_choice forces tool use."},
      {with(R"("temperature":1.5)"), "temperature: Input should be less than or equal to 1"},
      {with(R"("temperature":-1)"), "temperature: Input should be greater than or equal to 0"},
      {with(R"("top_p":"x")"), "top_p: Input should be a valid number"},
      {with(R"("stop_sequences":"x")"), "stop_sequences: Input should be a valid list"},
      {with(R"("stream":"yes")"), "stream: Input should be a valid boolean"},
      {with(R"("n":2)"), "n: Extra inputs are not permitted"},
      {with(R"("response_format":{"type":"json_object"})"), "response_format: Extra inputs are not permitted"},
      {with(R"("metadata":{"user":"x"})"), "metadata.user: Extra inputs are not permitted"},
      {with(R"("output_config":{"format":{"type":"json_object"}})"), "output_config.format: Input tag 'json_object'"},
      {with(R"("output_config":{"effort":"extreme"})"), "output_config.effort: Input should be"},
      {with(R"("anthropic_version":"vertex-2023-10-16")"), "anthropic_version: Extra inputs are not permitted"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    expect_error(messages(up, c.body), 400, "invalid_request_error", c.message);
  }
}

TEST_F(UpstreamAnthropic, ContextExceeded) {
  expect_error(messages(up, kHello, {"x-upstream-context-exceeded: 1"}), 400, "invalid_request_error",
               "prompt is too long: 250000 tokens > 200000 maximum");
}

TEST(UpstreamAnthropicAuth, ApiKey) {
  UpstreamOptions opts;
  opts.require_api_key = "sk-ant-test";
  Upstream up(opts);
  up.start();
  expect_error(messages(up, kHello), 401, "authentication_error", "x-api-key header is required");
  expect_error(messages(up, kHello, {"x-api-key: wrong"}), 401, "authentication_error", "invalid x-api-key");
  EXPECT_EQ(messages(up, kHello, {"x-api-key: sk-ant-test"}).status, 200);
  // Vertex: Google's front end answers, in its shape.
  Answer v = post(
      up, "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x:rawPredict",
      R"({"anthropic_version":"vertex-2023-10-16","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})", {});
  EXPECT_EQ(v.status, 401);
  auto d = parse(v.body);
  EXPECT_EQ(str(d["error"]["status"]), "UNAUTHENTICATED");
  EXPECT_EQ(d["error"]["code"].GetInt(), 401);
}

TEST_F(UpstreamAnthropic, InjectedStatuses) {
  const std::vector<std::pair<long, std::string>> cases = {{400, "invalid_request_error"},
                                                           {401, "authentication_error"},
                                                           {403, "permission_error"},
                                                           {404, "not_found_error"},
                                                           {413, "request_too_large"},
                                                           {429, "rate_limit_error"},
                                                           {500, "api_error"},
                                                           {529, "overloaded_error"}};
  for (const auto& [status, type] : cases) {
    SCOPED_TRACE(status);
    expect_error(messages(up, kHello, {"x-upstream-status: " + std::to_string(status)}), status, type);
  }
  Answer a = messages(up, kHello, {"x-upstream-status: 429", "x-upstream-retry-after: 7"});
  EXPECT_EQ(a.header("retry-after"), "7");
  expect_error(a, 429, "rate_limit_error", "rate limit");
  expect_error(messages(up, kHello, {"x-upstream-status: 529"}), 529, "overloaded_error", "Overloaded");
  // The OpenAI route keeps the OpenAI shape.
  Answer o = post(up, "/v1/chat/completions", R"({"model":"m","messages":[]})", {"x-upstream-status: 429"});
  EXPECT_FALSE(parse(o.body).HasMember("type"));
}

TEST_F(UpstreamAnthropic, WrongMethod) {
  expect_error(post(up, "/v1/messages", "", kVersion, "GET"), 405, "invalid_request_error");
}

TEST_F(UpstreamAnthropic, CountTokens) {
  Answer a = post(up, "/v1/messages/count_tokens",
                  R"({"model":"m","system":"a b","messages":[{"role":"user","content":"c d e"}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, R"({"input_tokens":5})");
  expect_error(post(up, "/v1/messages/count_tokens",
                    R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"c"}]})"),
               400, "invalid_request_error", "max_tokens: Extra inputs are not permitted");
}

// ---- streaming --------------------------------------------------------------------------------

TEST_F(UpstreamAnthropic, StreamText) {
  std::string body = kHello;
  body.insert(1, R"("stream":true,)");
  Answer a = messages(up, body);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "text/event-stream");
  auto events = sse(a.body);
  std::vector<std::string> expected = {"message_start", "content_block_start", "ping"};
  for (int i = 0; i < 5; ++i) expected.push_back("content_block_delta");  // 9 words in two-word pieces
  for (const char* e : {"content_block_stop", "message_delta", "message_stop"}) expected.push_back(e);
  EXPECT_EQ(names(events), expected);
  EXPECT_EQ(events[2].data, R"({"type": "ping"})");
  auto start = parse(events[0].data);
  EXPECT_EQ(start["message"]["content"].Size(), 0u);
  EXPECT_TRUE(start["message"]["stop_reason"].IsNull());
  EXPECT_EQ(start["message"]["usage"]["input_tokens"].GetInt(), 4);
  EXPECT_EQ(start["message"]["usage"]["output_tokens"].GetInt(), 1);
  auto delta = parse(events[events.size() - 2].data);
  EXPECT_EQ(str(delta["delta"]["stop_reason"]), "end_turn");
  EXPECT_EQ(delta["usage"]["output_tokens"].GetInt(), 9);
  EXPECT_EQ(delta["usage"]["input_tokens"].GetInt(), 4);
  // Joined, the stream is the non-stream message.
  auto msg = assemble(events);
  auto whole = parse(messages(up, kHello).body);
  EXPECT_EQ(to_json(msg["content"]), to_json(whole["content"]));
  EXPECT_EQ(str(msg["stop_reason"]), "end_turn");
}

TEST_F(UpstreamAnthropic, StreamThinkingAndTools) {
  std::string body = R"({"model":"m","max_tokens":2000,)" + kThinking + R"(,"tools":[)" + kWeatherTool + "," +
                     kTimeTool + R"(],"messages":[{"role":"user","content":"what now"}]})";
  std::string streamed = body;
  streamed.insert(1, R"("stream":true,)");
  auto events = sse(messages(up, streamed).body);
  std::vector<std::string> expected = {"message_start", "content_block_start", "ping"};
  for (int i = 0; i < 2; ++i) expected.push_back("content_block_delta");  // "Thinking about: what now"
  expected.push_back("content_block_delta");                              // signature
  expected.push_back("content_block_stop");
  for (int tool = 0; tool < 2; ++tool) {
    expected.push_back("content_block_start");
    for (int i = 0; i < 4; ++i) expected.push_back("content_block_delta");  // "" + three pieces
    expected.push_back("content_block_stop");
  }
  expected.push_back("message_delta");
  expected.push_back("message_stop");
  EXPECT_EQ(names(events), expected);
  auto sig = parse(events[5].data);
  EXPECT_EQ(str(sig["delta"]["type"]), "signature_delta");
  auto tool_start = parse(events[7].data);
  EXPECT_EQ(to_json(tool_start["content_block"]),
            R"({"type":"tool_use","id":"toolu_upstream_0","name":"get_weather","input":{}})");
  auto msg = assemble(events);
  auto whole = parse(messages(up, body).body);
  EXPECT_EQ(to_json(msg["content"]), to_json(whole["content"]));
  EXPECT_EQ(str(msg["stop_reason"]), "tool_use");
}

TEST_F(UpstreamAnthropic, StreamRefusalAndError) {
  std::string body = kHello;
  body.insert(1, R"("stream":true,)");
  auto events = sse(messages(up, body, {"x-upstream-refusal: 1"}).body);
  ASSERT_EQ(names(events), (std::vector<std::string>{"message_start", "ping", "message_delta", "message_stop"}));
  EXPECT_EQ(str(parse(events[2].data)["delta"]["stop_reason"]), "refusal");

  events = sse(messages(up, body, {"x-upstream-stream-error: overloaded_error"}).body);
  ASSERT_EQ(names(events), (std::vector<std::string>{"message_start", "error"}));
  EXPECT_EQ(events[1].data, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  expect_error(messages(up, body, {"x-upstream-stream-error: nope"}), 400, "invalid_request_error",
               "x-upstream-stream-error");
}

TEST_F(UpstreamAnthropic, StreamCutAfter) {
  std::string body = kHello;
  body.insert(1, R"("stream":true,)");
  Answer a = messages(up, body, {"x-upstream-cut-after: 3"});
  EXPECT_EQ(names(sse(a.body)), (std::vector<std::string>{"message_start", "content_block_start", "ping"}));
}

// Reads at most `limit` bytes of the answer, then hangs up.
size_t on_limited(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() > 200000) return 0;
  body->append(data, size * n);
  return size * n;
}

TEST_F(UpstreamAnthropic, StreamAfterDoneData) {
  std::string body = kHello;
  body.insert(1, R"("stream":true,)");
  CURL* easy = curl_easy_init();
  std::string url = "http://127.0.0.1:" + std::to_string(up.port()) + "/v1/messages", got;
  curl_slist* list = curl_slist_append(nullptr, "anthropic-version: 2023-06-01");
  list = curl_slist_append(list, "x-upstream-after-done: data");
  list = curl_slist_append(list, "x-upstream-generate-bytes: 4");
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_limited);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &got);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
  EXPECT_EQ(curl_easy_perform(easy), CURLE_WRITE_ERROR);  // we hung up: the body never ends
  curl_slist_free_all(list);
  curl_easy_cleanup(easy);
  size_t stop = got.find("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  ASSERT_NE(stop, std::string::npos);
  auto after = sse(got.substr(stop));
  ASSERT_GT(after.size(), 3u);
  EXPECT_EQ(after[1].name, "content_block_delta");
  EXPECT_EQ(after[1].data, R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"abcd"}})");
}

// ---- Vertex ---------------------------------------------------------------------------------

const std::string kVertexPath =
    "/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514";

TEST_F(UpstreamAnthropic, VertexRawPredict) {
  const std::string body =
      R"({"anthropic_version":"vertex-2023-10-16","max_tokens":100,"messages":[{"role":"user","content":"hi there"}]})";
  Answer a = post(up, kVertexPath + ":rawPredict", body, {});  // no anthropic-version header needed
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_EQ(str(d["model"]), "claude-sonnet-4@20250514");
  EXPECT_EQ(str(d["id"]).rfind("msg_vrtx_upstream_", 0), 0u);
  EXPECT_EQ(str(d["content"][0]["text"]), kHelloText);

  expect_error(
      post(
          up, kVertexPath + ":rawPredict",
          R"({"anthropic_version":"vertex-2023-10-16","model":"x","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})",
          {}),
      400, "invalid_request_error", "model: Extra inputs are not permitted");
  expect_error(
      post(up, kVertexPath + ":rawPredict", R"({"max_tokens":10,"messages":[{"role":"user","content":"hi"}]})", {}),
      400, "invalid_request_error", "anthropic_version: Field required");
  expect_error(post(up, kVertexPath + ":rawPredict", body, {"x-upstream-status: 529"}), 529, "overloaded_error");

  std::string streamed = body;
  streamed.insert(1, R"("stream":true,)");
  Answer s = post(up, kVertexPath + ":streamRawPredict", streamed, {});
  ASSERT_EQ(s.status, 200) << s.body;
  auto events = sse(s.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().name, "message_start");
  EXPECT_EQ(events.back().name, "message_stop");
  EXPECT_EQ(to_json(assemble(events)["content"]), to_json(d["content"]));

  // Not a Vertex Anthropic path: the usual 404.
  EXPECT_EQ(post(up, "/v1/projects/p/publishers/anthropic/models/m:rawPredict", body, {}).status, 404);
}

TEST_F(UpstreamAnthropic, ModelsList) {
  Answer a = post(up, "/v1/models", "", kVersion, "GET");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d["data"].IsArray() && d["data"].Size() > 0) << a.body;
  EXPECT_EQ(str(d["data"][0]["type"]), "model");
  EXPECT_FALSE(d["has_more"].GetBool());
  EXPECT_EQ(str(d["first_id"]), str(d["data"][0]["id"]));
  // Without the header: OpenAI's list.
  EXPECT_EQ(str(parse(post(up, "/v1/models", "", {}, "GET").body)["object"]), "list");
}

TEST_F(UpstreamAnthropic, RecordedLikeTheRealOne) {
  // The request reaches the record with its headers.
  messages(up, kHello, {"x-api-key: k"});
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(reqs[0].target, "/v1/messages");
}

}  // namespace
