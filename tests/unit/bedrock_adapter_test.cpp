// Amazon Bedrock's Converse codec (src/providers/bedrock.cpp): requests built
// from OpenAI-shaped ones, recorded real Converse answers and ConverseStream
// events (../shared/fixtures/vercel-ai/amazon-bedrock) translated back, and
// the same events framed as AWS event-stream messages.
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
#include "http/eventstream.hpp"
#include "providers/adapter.hpp"
#include "providers/bedrock.hpp"
#include "providers/registry.hpp"

namespace literllm {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(LITERLLM_FIXTURES_DIR) / "vercel-ai" / "amazon-bedrock";

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json::Document parse(std::string_view text) { return json::parse(text, "test", LLM_ERR_INTERNAL); }

Target target(const std::string& model = "anthropic.claude-3-5-sonnet-20240620-v1:0") {
  Target t;
  t.spec = find_builtin("bedrock");
  t.base_url = "https://bedrock-runtime.us-east-1.amazonaws.com";
  t.model = model;
  t.settings = {{"region", "us-east-1"}};
  return t;
}

json::Document body_of(const std::string& request, const std::string& model = "anthropic.claude-3-5-sonnet-20240620-v1:0") {
  json::Document req = parse(request);
  validate_chat_request(req, false, RequestRules::Structure);
  return bedrock_body(req, target(model));
}

std::string msgs(const std::string& m) { return R"({"model":"bedrock/x","messages":)" + m; }

TEST(BedrockBuild, UrlsEncodeTheModelIdAndStreamsAskForEventStreams) {
  const Operation& op = *operation_for(Protocol::Bedrock, Endpoint::Chat);
  Target t = target();
  json::Document req = parse(msgs(R"([{"role":"user","content":"hi"}]})"));
  http::Request r = op.build(req, t, false);
  EXPECT_EQ(r.url, "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
  json::Document req2 = parse(msgs(R"([{"role":"user","content":"hi"}]})"));
  http::Request s = op.build(req2, t, true);
  EXPECT_EQ(s.url, "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
  EXPECT_EQ(*http::find_header(s.headers, "accept"), "application/vnd.amazon.eventstream");
  json::Document b = parse(s.body);
  EXPECT_FALSE(b.HasMember("model")) << "the model is in the URL";
  EXPECT_FALSE(b.HasMember("stream"));
}

TEST(BedrockBuild, MessagesSystemToolsAndResults) {
  json::Document b = body_of(msgs(R"([
    {"role":"system","content":"Be brief.","cache_control":{"type":"ephemeral"}},
    {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}},
                              {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"q3 report.pdf"}}]},
    {"role":"assistant","content":null,"thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"sig"}],
     "tool_calls":[{"id":"t1","type":"function","function":{"name":"get","arguments":"{\"k\":1}"}}]},
    {"role":"tool","tool_call_id":"t1","content":"42"},
    {"role":"user","content":"and?"}],
    "tools":[{"type":"function","function":{"name":"get","description":"Get","parameters":{"type":"object","properties":{"k":{"type":"integer"}}}}}],
    "tool_choice":{"type":"function","function":{"name":"get"}},
    "max_tokens":99,"temperature":0.2,"top_p":0.9,"stop":["END"]})"));
  EXPECT_EQ(std::string(b["system"][0]["text"].GetString()), "Be brief.");
  EXPECT_EQ(std::string(b["system"][1]["cachePoint"]["type"].GetString()), "default");
  const auto& m = b["messages"];
  ASSERT_EQ(m.Size(), 3u);
  const auto& user = m[0]["content"];
  EXPECT_EQ(std::string(user[1]["image"]["format"].GetString()), "jpeg");
  EXPECT_EQ(std::string(user[1]["image"]["source"]["bytes"].GetString()), "/9j/4AAQ");
  EXPECT_EQ(std::string(user[2]["document"]["format"].GetString()), "pdf");
  EXPECT_EQ(std::string(user[2]["document"]["name"].GetString()), "q3 reportpdf");
  const auto& asst = m[1]["content"];
  EXPECT_EQ(std::string(asst[0]["reasoningContent"]["reasoningText"]["signature"].GetString()), "sig");
  EXPECT_EQ(asst[1]["toolUse"]["input"]["k"].GetInt(), 1);
  const auto& results = m[2]["content"];
  EXPECT_EQ(std::string(results[0]["toolResult"]["toolUseId"].GetString()), "t1");
  EXPECT_EQ(std::string(results[0]["toolResult"]["content"][0]["text"].GetString()), "42");
  EXPECT_EQ(std::string(results[1]["text"].GetString()), "and?");
  EXPECT_EQ(b["inferenceConfig"]["maxTokens"].GetInt(), 99);
  EXPECT_EQ(std::string(b["inferenceConfig"]["stopSequences"][0].GetString()), "END");
  EXPECT_EQ(std::string(b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"].GetString()), "object");
  EXPECT_EQ(std::string(b["toolConfig"]["toolChoice"]["tool"]["name"].GetString()), "get");
}

TEST(BedrockBuild, StructuredOutputReasoningAndProviderOptions) {
  json::Document b = body_of(msgs(
      R"([{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},"reasoning_effort":"low","provider_options":{"bedrock":{"additionalModelRequestFields":{"top_k":5},"guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1"}}}})"));
  const auto& tc = b["toolConfig"];
  EXPECT_EQ(std::string(tc["toolChoice"]["tool"]["name"].GetString()),
            std::string(tc["tools"][tc["tools"].Size() - 1]["toolSpec"]["name"].GetString()));
  EXPECT_EQ(b["additionalModelRequestFields"]["thinking"]["budget_tokens"].GetInt(), 1024);
  EXPECT_EQ(b["additionalModelRequestFields"]["top_k"].GetInt(), 5) << "merged one level deep";
  EXPECT_EQ(std::string(b["guardrailConfig"]["guardrailIdentifier"].GetString()), "g");
  // Not a Claude model: no thinking field it would refuse.
  json::Document n = body_of(msgs(R"([{"role":"user","content":"hi"}],"reasoning_effort":"low"})"), "amazon.nova-pro-v1:0");
  EXPECT_FALSE(n.HasMember("additionalModelRequestFields"));
}

TEST(BedrockBuild, RefusesWhatConverseCannotTake) {
  for (auto [req, field] : std::vector<std::pair<std::string, std::string>>{
           {msgs(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x.test/a.png"}}]}]})"),
            "request.messages[0].content[0].image_url.url"},
           {msgs(R"([{"role":"user","content":"x"}],"n":3})"), "request.n"},
           {msgs(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]})"),
            "request.messages[0].content[0].type"}}) {
    try {
      body_of(req);
      ADD_FAILURE() << req;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}

TEST(BedrockParse, RecordedConverseAnswers) {
  if (!fs::exists(kDir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << kDir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().filename().string());
    json::Document src = parse(read_file(e.path()));
    ++files;
    json::Document d = bedrock_response(read_file(e.path()), target());
    std::string text;
    size_t tools = 0, reasoning = 0;
    for (auto& b : src["output"]["message"]["content"].GetArray()) {
      if (b.HasMember("text")) text += b["text"].GetString();
      if (b.HasMember("toolUse")) ++tools;
      if (b.HasMember("reasoningContent")) ++reasoning;
    }
    const auto& msg = d["choices"][0]["message"];
    if (!text.empty()) { EXPECT_EQ(std::string(msg["content"].GetString()), text); }
    EXPECT_EQ(msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0u, tools);
    EXPECT_EQ(msg.HasMember("thinking_blocks") ? msg["thinking_blocks"].Size() : 0u, reasoning);
    std::string stop = src["stopReason"].GetString(), fr = d["choices"][0]["finish_reason"].GetString();
    if (stop == "tool_use") { EXPECT_EQ(fr, "tool_calls"); }
    if (stop == "end_turn") { EXPECT_EQ(fr, "stop"); }
    EXPECT_EQ(d["usage"]["completion_tokens"].GetInt64(), src["usage"]["outputTokens"].GetInt64());
    EXPECT_EQ(d["usage"]["total_tokens"].GetInt64(), d["usage"]["prompt_tokens"].GetInt64() + d["usage"]["completion_tokens"].GetInt64());
  }
  EXPECT_GE(files, 8u);
}

struct Streamed {
  StreamDecoder::Fed last = StreamDecoder::Fed::More;
  StreamAssembler assembler;
};

// The recorded events of a .chunks.txt file ({"<eventType>": payload} per line).
std::vector<std::pair<std::string, std::string>> events_of(const fs::path& p) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(read_file(p));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json::Document d = parse(line);
    auto m = d.MemberBegin();
    out.emplace_back(json::sv(m->name), json::dump(m->value));
  }
  return out;
}

TEST(BedrockStream, RecordedEventsFramedAndSplitAnywhere) {
  if (!fs::exists(kDir)) GTEST_SKIP() << "SKIPPED: fixtures not found at " << kDir;
  size_t files = 0;
  for (auto& e : fs::directory_iterator(kDir)) {
    if (e.path().string().find(".chunks.txt") == std::string::npos) continue;
    SCOPED_TRACE(e.path().filename().string());
    ++files;
    auto events = events_of(e.path());
    // What the events say, joined.
    std::string text, thinking;
    std::map<int64_t, std::string> args;
    bool has_metadata = false;
    for (auto& [type, payload] : events) {
      json::Document d = parse(payload);
      if (type == "contentBlockDelta") {
        const auto& delta = d["delta"];
        if (delta.HasMember("text")) text += delta["text"].GetString();
        if (delta.HasMember("reasoningContent") && delta["reasoningContent"].HasMember("text"))
          thinking += delta["reasoningContent"]["text"].GetString();
        if (delta.HasMember("toolUse")) args[d["contentBlockIndex"].GetInt64()] += delta["toolUse"]["input"].GetString();
      }
      has_metadata |= type == "metadata";
    }
    std::string wire;
    for (auto& [type, payload] : events) wire += http::encode_event_message(type, payload);
    for (size_t step : {wire.size(), size_t{1}, size_t{13}, size_t{200}}) {
      SCOPED_TRACE("pieces of " + std::to_string(step));
      Target t = target();
      auto dec = bedrock_stream(t, Limits{});
      StreamAssembler a;
      ChunkSink sink = [&](std::string_view txt, const json::Value& c) {
        EXPECT_EQ(json::dump(parse(txt)), json::dump(c));
        a.add(c);
        return true;
      };
      StreamDecoder::Fed last = StreamDecoder::Fed::More;
      for (size_t i = 0; i < wire.size() && last == StreamDecoder::Fed::More; i += step)
        last = dec->feed(wire.data() + i, std::min(step, wire.size() - i), sink);
      if (has_metadata) { EXPECT_EQ(last, StreamDecoder::Fed::Ended); }
      json::Document d = a.finish();
      const auto& msg = d["choices"][0]["message"];
      bool json_tool = false;
      if (msg.HasMember("tool_calls"))
        for (auto& tc : msg["tool_calls"].GetArray())
          json_tool |= std::string(tc["function"]["name"].GetString()) == "literllm_json_answer";
      if (!text.empty()) { EXPECT_EQ(std::string(msg["content"].GetString()), text); }
      if (!thinking.empty()) {
        EXPECT_EQ(std::string(msg["reasoning_content"].GetString()), thinking);
        EXPECT_FALSE(std::string(msg["thinking_blocks"][0]["signature"].GetString()).empty());
      }
      size_t calls = msg.HasMember("tool_calls") ? msg["tool_calls"].Size() : 0;
      EXPECT_EQ(calls, args.size()) << (json_tool ? "json tool" : "");
      size_t k = 0;
      for (auto& [index, want] : args) {
        if (k < calls) { EXPECT_EQ(std::string(msg["tool_calls"][static_cast<rapidjson::SizeType>(k)]["function"]["arguments"].GetString()), want); }
        ++k;
      }
      if (has_metadata) { EXPECT_TRUE(d.HasMember("usage")); }
    }
  }
  EXPECT_GE(files, 8u);
}

TEST(BedrockStream, ExceptionsAreTypedAndCorruptFramesFail) {
  Target t = target();
  auto run = [&](const std::string& wire) {
    auto dec = bedrock_stream(t, Limits{});
    dec->feed(wire.data(), wire.size(), [](std::string_view, const json::Value&) { return true; });
  };
  std::string start = http::encode_event_message("messageStart", R"({"role":"assistant"})");
  struct Case {
    const char* type;
    llm_status want;
  } cases[] = {{"throttlingException", LLM_ERR_RATE_LIMITED},
               {"validationException", LLM_ERR_BAD_REQUEST},
               {"serviceUnavailableException", LLM_ERR_SERVICE_UNAVAILABLE},
               {"modelStreamErrorException", LLM_ERR_STREAMING},
               {"internalServerException", LLM_ERR_STREAMING}};
  for (auto& c : cases) {
    try {
      run(start + http::encode_exception_message(c.type, R"({"message":"Request failed, details 7f3a"})"));
      ADD_FAILURE() << c.type;
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), c.want) << c.type;
      EXPECT_NE(std::string(e.what()).find("details 7f3a"), std::string::npos) << e.what();
      EXPECT_EQ(e.code, c.type);
    }
  }
  // A validation message about the prompt's length is the context window.
  try {
    run(start + http::encode_exception_message("validationException",
                                               R"({"message":"Input is too long for requested model."})"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_CONTEXT_WINDOW_EXCEEDED);
  }
  std::string bad = start;
  bad[bad.size() - 1] ^= 0x55;  // the message CRC no longer matches
  EXPECT_THROW(run(bad), Error);
}

}  // namespace
}  // namespace literllm
