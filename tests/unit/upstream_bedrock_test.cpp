// The local upstream's Amazon Bedrock Converse API (tests/upstream/bedrock.cpp),
// checked over real sockets with libcurl: SigV4 verification (requests signed
// with the library's signer), the real API's checks and AWS's error shape, the
// deterministic reply, ConverseStream's binary event stream (decoded with the
// library's decoder), thinking signatures, injected errors.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "auth/sigv4.hpp"
#include "http/eventstream.hpp"
#include "literllm.h"
#include "upstream.hpp"
#include "upstream_client.hpp"

namespace {

using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

using upstream_client::Answer;

Answer post(const Upstream& up, const std::string& path, const std::string& body,
            const std::vector<std::string>& headers = {}, const char* method = "POST") {
  return upstream_client::request(up, path, body, headers, method);
}

using upstream_client::parse;
using upstream_client::str;

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

const std::string kModelPath = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0";
const std::string kConverse = kModelPath + "/converse";
const std::string kStream = kModelPath + "/converse-stream";

// An AWS error: status, {"message"} containing `message_part`, x-amzn-ErrorType naming `type`.
void expect_aws_error(const Answer& a, long status, const std::string& type, const std::string& message_part = {}) {
  EXPECT_EQ(a.status, status) << a.body;
  auto d = parse(a.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("message")) << a.body;
  EXPECT_NE(str(d["message"]).find(message_part), std::string::npos) << a.body;
  EXPECT_EQ(a.header("x-amzn-ErrorType").rfind(type + ":http://internal.amazon.com/coral/", 0), 0u)
      << a.header("x-amzn-ErrorType");
  EXPECT_FALSE(a.header("x-amzn-RequestId").empty());
}

const std::string kHello =
    R"({"system":[{"text":"be brief"}],"messages":[{"role":"user","content":[{"text":"hi there"}]}],)"
    R"("inferenceConfig":{"maxTokens":100,"temperature":0.5}})";
const std::string kHelloText = "Hello from the local upstream. You said: hi there";

const std::string kTools =
    R"("toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","description":"Weather","inputSchema":{"json":)"
    R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}}]})";

class UpstreamBedrock : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  Upstream up;
};

// ---- the reply -----------------------------------------------------------------------

TEST_F(UpstreamBedrock, TextReply) {
  Answer a = post(up, kConverse, kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/json");
  EXPECT_FALSE(a.header("x-amzn-RequestId").empty());
  auto d = parse(a.body);
  EXPECT_EQ(str(d["output"]["message"]["role"]), "assistant");
  ASSERT_EQ(d["output"]["message"]["content"].Size(), 1u);
  EXPECT_EQ(str(d["output"]["message"]["content"][0]["text"]), kHelloText);
  EXPECT_EQ(str(d["stopReason"]), "end_turn");
  EXPECT_EQ(d["usage"]["inputTokens"].GetInt(), 4);  // "be brief" + "hi there"
  EXPECT_EQ(d["usage"]["outputTokens"].GetInt(), 9);
  EXPECT_EQ(d["usage"]["totalTokens"].GetInt(), 13);
  EXPECT_EQ(d["usage"]["cacheReadInputTokens"].GetInt(), 0);
  EXPECT_EQ(d["usage"]["cacheWriteInputTokens"].GetInt(), 0);
  EXPECT_TRUE(d["metrics"]["latencyMs"].IsInt());
  // The model id arrives URL-encoded, as the client sends it.
  EXPECT_EQ(up.requests().back().target, kConverse);
  // Any prefix: Upstream::base_url() as the endpoint.
  EXPECT_EQ(post(up, "/v1" + kConverse, kHello).status, 200);
}

TEST_F(UpstreamBedrock, MaxTokensStopSequencesAndCacheHeaders) {
  auto d = parse(post(up, kConverse,
                      R"({"messages":[{"role":"user","content":[{"text":"a b c"}]}],"inferenceConfig":{"maxTokens":3}})")
                     .body);
  EXPECT_EQ(str(d["output"]["message"]["content"][0]["text"]), "Hello from the");
  EXPECT_EQ(str(d["stopReason"]), "max_tokens");
  d = parse(post(up, kConverse,
                 R"({"messages":[{"role":"user","content":[{"text":"a"}]}],"inferenceConfig":{"stopSequences":["upstream"]}})")
                .body);
  EXPECT_EQ(str(d["output"]["message"]["content"][0]["text"]), "Hello from the local ");
  EXPECT_EQ(str(d["stopReason"]), "stop_sequence");
  d = parse(post(up, kConverse, kHello, {"x-upstream-cached-tokens: 7", "x-upstream-cache-write-tokens: 3"}).body);
  EXPECT_EQ(d["usage"]["cacheReadInputTokens"].GetInt(), 7);
  EXPECT_EQ(d["usage"]["cacheWriteInputTokens"].GetInt(), 3);
  EXPECT_EQ(d["usage"]["totalTokens"].GetInt(), 4 + 9 + 7 + 3);
}

TEST_F(UpstreamBedrock, ToolUseAndResult) {
  Answer a = post(up, kConverse, R"({"messages":[{"role":"user","content":[{"text":"weather?"}]}],)" + kTools + "}");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  EXPECT_EQ(str(d["stopReason"]), "tool_use");
  const auto& tu = d["output"]["message"]["content"][0]["toolUse"];
  EXPECT_EQ(str(tu["name"]), "get_weather");
  EXPECT_EQ(to_json(tu["input"]), R"({"city":"sample","days":1})");
  std::string id = str(tu["toolUseId"]);

  // The result goes back in the next user turn; the reply is text again, about the result.
  std::string next = R"({"messages":[{"role":"user","content":[{"text":"weather?"}]},)"
                     R"({"role":"assistant","content":[{"toolUse":{"toolUseId":")" +
                     id + R"(","name":"get_weather","input":{"city":"Paris"}}}]},)"
                     R"({"role":"user","content":[{"toolResult":{"toolUseId":")" +
                     id + R"(","content":[{"text":"sunny"}],"status":"success"}}]}],)" + kTools + "}";
  a = post(up, kConverse, next);
  ASSERT_EQ(a.status, 200) << a.body;
  d = parse(a.body);
  EXPECT_EQ(str(d["output"]["message"]["content"][0]["text"]), "Hello from the local upstream. You said: sunny");

  // A result for a call the previous turn did not make; a call left unanswered; no toolConfig.
  std::string wrong = next;
  wrong.replace(wrong.rfind(id), id.size(), "tooluse_other");
  expect_aws_error(post(up, kConverse, wrong), 400, "ValidationException",
                   "Expected toolResult blocks at messages.2.content for the following Ids: " + id);
  std::string unanswered = R"({"messages":[{"role":"user","content":[{"text":"weather?"}]},)"
                           R"({"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"get_weather","input":{}}}]},)"
                           R"({"role":"user","content":[{"text":"well?"}]}],)" + kTools + "}";
  expect_aws_error(post(up, kConverse, unanswered), 400, "ValidationException",
                   "Expected toolResult blocks at messages.2.content for the following Ids: t1");
  std::string extra = R"({"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"t9","content":[{"text":"x"}]}}]}],)" +
                      kTools + "}";
  expect_aws_error(post(up, kConverse, extra), 400, "ValidationException",
                   "The number of toolResult blocks at messages.0.content exceeds the number of toolUse blocks of "
                   "previous turn.");
  std::string no_config = next.substr(0, next.find(R"(,"toolConfig")")) + "}";
  expect_aws_error(post(up, kConverse, no_config), 400, "ValidationException",
                   "The toolConfig field must be defined when using toolUse and toolResult content blocks.");
}

TEST_F(UpstreamBedrock, ToolChoice) {
  std::string two = R"("toolConfig":{"tools":[{"toolSpec":{"name":"a","inputSchema":{"json":{"type":"object"}}}},)"
                    R"({"toolSpec":{"name":"b","inputSchema":{"json":{"type":"object","properties":{"x":{"type":"boolean"}}}}}}])";
  const std::string msgs = R"({"messages":[{"role":"user","content":[{"text":"go"}]}],)";
  auto d = parse(post(up, kConverse, msgs + two + "}}").body);
  ASSERT_EQ(d["output"]["message"]["content"].Size(), 2u);  // one call per tool
  d = parse(post(up, kConverse, msgs + two + R"(,"toolChoice":{"tool":{"name":"b"}}}})").body);
  ASSERT_EQ(d["output"]["message"]["content"].Size(), 1u);
  EXPECT_EQ(str(d["output"]["message"]["content"][0]["toolUse"]["name"]), "b");
  EXPECT_EQ(to_json(d["output"]["message"]["content"][0]["toolUse"]["input"]), R"({"x":true})");
  expect_aws_error(post(up, kConverse, msgs + two + R"(,"toolChoice":{"none":{}}}})"), 400, "ValidationException",
                   "extraneous key [none]");
}

TEST_F(UpstreamBedrock, ThinkingSignatureRoundTrip) {
  const std::string thinking =
      R"("additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}},"inferenceConfig":{"maxTokens":2048})";
  Answer a = post(up, kConverse, R"({"messages":[{"role":"user","content":[{"text":"why"}]}],)" + thinking + "}");
  ASSERT_EQ(a.status, 200) << a.body;
  auto d = parse(a.body);
  const auto& content = d["output"]["message"]["content"];
  ASSERT_EQ(content.Size(), 2u);
  const auto& rt = content[0]["reasoningContent"]["reasoningText"];
  EXPECT_EQ(str(rt["text"]), "Thinking about: why");
  std::string sig = str(rt["signature"]);
  EXPECT_FALSE(sig.empty());
  auto turn = [&](const std::string& signature) {
    return R"({"messages":[{"role":"user","content":[{"text":"why"}]},{"role":"assistant","content":[)"
           R"({"reasoningContent":{"reasoningText":{"text":"Thinking about: why","signature":")" +
           signature + R"("}}},{"text":"because"}]},{"role":"user","content":[{"text":"ok"}]}],)" + thinking + "}";
  };
  EXPECT_EQ(post(up, kConverse, turn(sig)).status, 200);
  expect_aws_error(post(up, kConverse, turn("AAAA" + sig.substr(4))), 400, "ValidationException",
                   "Invalid `signature` in `thinking` block");
}

// ---- the checks --------------------------------------------------------------------------

TEST_F(UpstreamBedrock, RequestChecks) {
  struct Case {
    std::string body, message;
  };
  const std::vector<Case> cases = {
      {"{not json", "Malformed input request"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"max_tokens":5})",
       "Malformed input request: #: extraneous key [max_tokens] is not permitted"},
      {R"({"messages":[]})", "A conversation must start with a user message."},
      {R"({})", "A conversation must start with a user message."},
      {R"({"messages":[{"role":"assistant","content":[{"text":"x"}]}]})",
       "A conversation must start with a user message."},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]},{"role":"user","content":[{"text":"y"}]}]})",
       "A conversation must alternate between user and assistant roles."},
      {R"({"messages":[{"role":"system","content":[{"text":"x"}]}]})",
       "Value 'system' at 'messages.1.member.role' failed to satisfy constraint: Member must satisfy enum value set: "
       "[user, assistant]"},
      {R"({"messages":[{"role":"user"}]})",
       "Value null at 'messages.1.member.content' failed to satisfy constraint: Member must not be null"},
      {R"({"messages":[{"role":"user","content":[]}]})",
       "The content field in the Message object at messages.0 is empty."},
      {R"({"messages":[{"role":"user","content":[{"text":"  "}]}]})",
       "The text field in the ContentBlock object at messages.0.content.0 is blank."},
      {R"({"messages":[{"role":"user","content":[{"video_url":"x"}]}]})", "#/messages/0/content/0: extraneous key [video_url]"},
      {R"({"messages":[{"role":"user","content":[{"image":{"format":"bmp","source":{"bytes":"AA=="}}}]}]})",
       "Member must satisfy enum value set: [png, jpeg, gif, webp]"},
      {R"({"messages":[{"role":"user","content":[{"document":{"format":"pdf","source":{"bytes":"AA=="}}}]}]})",
       "Value null at 'messages.1.member.content.1.member.document.name'"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":0}})",
       "Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than "
       "or equal to 1"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"temperature":1.5}})",
       "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than "
       "or equal to 1"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"top_p":0.5}})",
       "Malformed input request: #/inferenceConfig: extraneous key [top_p] is not permitted"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"toolConfig":{"tools":[]}})",
       "at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"a b","inputSchema":{"json":{}}}}]}})",
       "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+"},
      {R"({"messages":[{"role":"user","content":[{"text":"x"}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"a"}}]}})",
       "Value null at 'toolConfig.tools.1.member.toolSpec.inputSchema'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    expect_aws_error(post(up, kConverse, c.body), 400, "ValidationException", c.message);
  }
  // The same checks on the stream route, answered before any stream starts.
  expect_aws_error(post(up, kStream, R"({"messages":[]})"), 400, "ValidationException");
}

TEST_F(UpstreamBedrock, InjectedStatusesAndContextExceeded) {
  const std::vector<std::tuple<long, std::string, std::string>> cases = {
      {429, "ThrottlingException", "Too many requests, please wait before trying again."},
      {400, "ValidationException", ""},
      {403, "AccessDeniedException", ""},
      {404, "ResourceNotFoundException", ""},
      {500, "InternalServerException", ""},
      {503, "ServiceUnavailableException", ""}};
  for (const auto& [status, type, message] : cases) {
    SCOPED_TRACE(type);
    expect_aws_error(post(up, kConverse, kHello, {"x-upstream-status: " + std::to_string(status)}), status, type,
                     message);
  }
  expect_aws_error(post(up, kStream, kHello, {"x-upstream-context-exceeded: 1"}), 400, "ValidationException",
                   "Input is too long for requested model.");
}

// ---- the stream -------------------------------------------------------------------------

struct Message {
  std::string message_type, event_type, exception_type, content_type;
  std::string payload;
};

std::vector<Message> decode(const std::string& body) {
  std::vector<Message> out;
  literllm::http::EventStreamDecoder dec;
  dec.feed(body, [&](const literllm::http::EventStreamMessage& m) {
    out.push_back({std::string(m.message_type()), std::string(m.event_type()), std::string(m.exception_type()),
                   std::string(m.content_type()), std::string(m.payload)});
  });
  EXPECT_FALSE(dec.finish());  // nothing left over
  return out;
}

std::vector<std::string> types(const std::vector<Message>& ms) {
  std::vector<std::string> out;
  for (const Message& m : ms) out.push_back(m.message_type == "event" ? m.event_type : "!" + m.exception_type);
  return out;
}

TEST_F(UpstreamBedrock, StreamText) {
  Answer a = post(up, kStream, kHello);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("content-type"), "application/vnd.amazon.eventstream");
  EXPECT_EQ(a.header("transfer-encoding"), "chunked");
  auto ms = decode(a.body);
  EXPECT_EQ(types(ms), (std::vector<std::string>{"messageStart", "contentBlockDelta", "contentBlockDelta",
                                                 "contentBlockDelta", "contentBlockDelta", "contentBlockDelta",
                                                 "contentBlockStop", "messageStop", "metadata"}));
  std::string text;
  for (const Message& m : ms) {
    EXPECT_EQ(m.content_type, "application/json");
    auto d = parse(m.payload);
    EXPECT_TRUE(d.HasMember("p"));  // Bedrock's padding
    if (m.event_type == "messageStart") {
      EXPECT_EQ(str(d["role"]), "assistant");
    }
    if (m.event_type == "contentBlockDelta") {
      EXPECT_EQ(d["contentBlockIndex"].GetInt(), 0);
      text += str(d["delta"]["text"]);
    }
    if (m.event_type == "messageStop") {
      EXPECT_EQ(str(d["stopReason"]), "end_turn");
    }
    if (m.event_type == "metadata") {
      EXPECT_EQ(d["usage"]["inputTokens"].GetInt(), 4);
      EXPECT_EQ(d["usage"]["outputTokens"].GetInt(), 9);
      EXPECT_TRUE(d["metrics"]["latencyMs"].IsInt());
    }
  }
  EXPECT_EQ(text, kHelloText);
}

TEST_F(UpstreamBedrock, StreamToolUseAndThinking) {
  Answer a = post(up, kStream,
                  R"({"messages":[{"role":"user","content":[{"text":"weather?"}]}],)"
                  R"("additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}},)" +
                      kTools + "}");
  ASSERT_EQ(a.status, 200) << a.body;
  auto ms = decode(a.body);
  std::string reasoning, signature, input, tool_name;
  for (const Message& m : ms) {
    auto d = parse(m.payload);
    if (m.event_type == "contentBlockStart") {
      EXPECT_EQ(d["contentBlockIndex"].GetInt(), 1);
      tool_name = str(d["start"]["toolUse"]["name"]);
      EXPECT_FALSE(str(d["start"]["toolUse"]["toolUseId"]).empty());
    }
    if (m.event_type != "contentBlockDelta") continue;
    const auto& delta = d["delta"];
    if (delta.HasMember("reasoningContent")) {
      EXPECT_EQ(d["contentBlockIndex"].GetInt(), 0);
      if (delta["reasoningContent"].HasMember("text")) reasoning += str(delta["reasoningContent"]["text"]);
      if (delta["reasoningContent"].HasMember("signature")) signature += str(delta["reasoningContent"]["signature"]);
    }
    if (delta.HasMember("toolUse")) input += str(delta["toolUse"]["input"]);
  }
  EXPECT_EQ(reasoning, "Thinking about: weather?");
  EXPECT_FALSE(signature.empty());
  EXPECT_EQ(tool_name, "get_weather");
  EXPECT_EQ(input, R"({"city":"sample","days":1})");
  auto last = parse(ms[ms.size() - 2].payload);
  EXPECT_EQ(str(last["stopReason"]), "tool_use");
  // The non-stream answer signs the same text the same way.
  auto d = parse(post(up, kConverse,
                      R"({"messages":[{"role":"user","content":[{"text":"weather?"}]}],)"
                      R"("additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}},)" +
                          kTools + "}")
                     .body);
  EXPECT_EQ(str(d["output"]["message"]["content"][0]["reasoningContent"]["reasoningText"]["signature"]), signature);
}

TEST_F(UpstreamBedrock, StreamExceptionAndCut) {
  Answer a = post(up, kStream, kHello, {"x-upstream-stream-exception: throttlingException"});
  ASSERT_EQ(a.status, 200) << a.body;
  auto ms = decode(a.body);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].event_type, "messageStart");
  EXPECT_EQ(ms[1].message_type, "exception");
  EXPECT_EQ(ms[1].exception_type, "throttlingException");
  EXPECT_EQ(str(parse(ms[1].payload)["message"]), "Too many requests, please wait before trying again.");

  a = post(up, kStream, kHello, {"x-upstream-cut-after: 3"});
  literllm::http::EventStreamDecoder dec;
  size_t n = 0;
  dec.feed(a.body, [&](const literllm::http::EventStreamMessage&) { ++n; });
  EXPECT_EQ(n, 3u);
}

// ---- SigV4 ---------------------------------------------------------------------------------

const literllm::auth::AwsCredentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

// The headers of a request signed as the library signs it, for curl.
std::vector<std::string> signed_headers(const Upstream& up, const literllm::auth::AwsCredentials& creds,
                                        const std::string& path, const std::string& body,
                                        std::chrono::system_clock::time_point when = std::chrono::system_clock::now(),
                                        const std::string& region = "us-east-1") {
  literllm::auth::SigV4Signer signer(creds, region, "bedrock");
  std::string host = "127.0.0.1:" + std::to_string(up.port());
  literllm::http::Headers h = {{"Host", host}, {"Content-Type", "application/json"}};
  auto r = signer.sign("POST", "http://" + host + path, h, body, when);
  std::vector<std::string> out;
  for (const auto& [k, v] : r.headers) out.push_back(k + ": " + v);
  return out;
}

class UpstreamBedrockSigV4 : public ::testing::Test {
 protected:
  void SetUp() override {
    UpstreamOptions opts;
    opts.aws_credentials = {kCreds.access_key_id, kCreds.secret_access_key, ""};
    up = std::make_unique<Upstream>(opts);
    up->start();
  }
  std::unique_ptr<Upstream> up;
};

TEST_F(UpstreamBedrockSigV4, SignedRequestsAreAccepted) {
  Answer a = post(*up, kConverse, kHello, signed_headers(*up, kCreds, kConverse, kHello));
  EXPECT_EQ(a.status, 200) << a.body;
  a = post(*up, kStream, kHello, signed_headers(*up, kCreds, kStream, kHello, std::chrono::system_clock::now(), "eu-west-3"));
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(types(decode(a.body)).back(), "metadata");
}

TEST_F(UpstreamBedrockSigV4, BadSignaturesAreRefusedAsAwsDoes) {
  expect_aws_error(post(*up, kConverse, kHello), 403, "MissingAuthenticationTokenException",
                   "Missing Authentication Token");
  // The body changed after signing.
  std::string tampered = kHello;
  tampered.replace(tampered.find("hi there"), 8, "hi thera");
  expect_aws_error(post(*up, kConverse, tampered, signed_headers(*up, kCreds, kConverse, kHello)), 403,
                   "InvalidSignatureException",
                   "The request signature we calculated does not match the signature you provided.");
  // Another path than the one signed.
  expect_aws_error(post(*up, kStream, kHello, signed_headers(*up, kCreds, kConverse, kHello)), 403,
                   "InvalidSignatureException", "does not match the signature you provided");
  // A key id the server does not know; the right id with the wrong secret.
  expect_aws_error(post(*up, kConverse, kHello,
                        signed_headers(*up, {"AKIDOTHER", kCreds.secret_access_key, ""}, kConverse, kHello)),
                   403, "UnrecognizedClientException", "The security token included in the request is invalid.");
  expect_aws_error(
      post(*up, kConverse, kHello, signed_headers(*up, {kCreds.access_key_id, "wrong-secret", ""}, kConverse, kHello)),
      403, "InvalidSignatureException", "does not match the signature you provided");
  // Signed ten minutes ago, or ten minutes ahead.
  auto now = std::chrono::system_clock::now();
  expect_aws_error(post(*up, kConverse, kHello,
                        signed_headers(*up, kCreds, kConverse, kHello, now - std::chrono::minutes(10))),
                   403, "InvalidSignatureException", "Signature expired: ");
  expect_aws_error(post(*up, kConverse, kHello,
                        signed_headers(*up, kCreds, kConverse, kHello, now + std::chrono::minutes(10))),
                   403, "InvalidSignatureException", "Signature not yet current: ");
  // Another service's scope; a session token the server does not expect.
  {
    literllm::auth::SigV4Signer signer(kCreds, "us-east-1", "s3");
    std::string host = "127.0.0.1:" + std::to_string(up->port());
    auto r = signer.sign("POST", "http://" + host + kConverse, {{"Host", host}, {"Content-Type", "application/json"}},
                         kHello, now);
    std::vector<std::string> h;
    for (const auto& [k, v] : r.headers) h.push_back(k + ": " + v);
    expect_aws_error(post(*up, kConverse, kHello, h), 403, "InvalidSignatureException",
                     "Credential should be scoped to correct service: 'bedrock'.");
  }
  expect_aws_error(post(*up, kConverse, kHello,
                        signed_headers(*up, {kCreds.access_key_id, kCreds.secret_access_key, "token"}, kConverse, kHello)),
                   403, "UnrecognizedClientException");
  expect_aws_error(post(*up, kConverse, kHello, {"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE"}), 403,
                   "IncompleteSignatureException", "Authorization header requires 'Signature' parameter.");
}

TEST(UpstreamBedrockSessionToken, TokenMustMatch) {
  UpstreamOptions opts;
  opts.aws_credentials = {kCreds.access_key_id, kCreds.secret_access_key, "session-token-1"};
  Upstream up(opts);
  up.start();
  EXPECT_EQ(post(up, kConverse, kHello,
                 signed_headers(up, {kCreds.access_key_id, kCreds.secret_access_key, "session-token-1"}, kConverse, kHello))
                .status,
            200);
  expect_aws_error(post(up, kConverse, kHello,
                        signed_headers(up, {kCreds.access_key_id, kCreds.secret_access_key, "session-token-2"},
                                       kConverse, kHello)),
                   403, "UnrecognizedClientException");
  expect_aws_error(post(up, kConverse, kHello, signed_headers(up, kCreds, kConverse, kHello)), 403,
                   "UnrecognizedClientException");
}

TEST(UpstreamBedrockApiKey, BearerKey) {
  UpstreamOptions opts;
  opts.require_api_key = "bedrock-api-key";
  Upstream up(opts);
  up.start();
  EXPECT_EQ(post(up, kConverse, kHello, {"Authorization: Bearer bedrock-api-key"}).status, 200);
  expect_aws_error(post(up, kConverse, kHello, {"Authorization: Bearer nope"}), 403, "UnrecognizedClientException");
  expect_aws_error(post(up, kConverse, kHello), 403, "MissingAuthenticationTokenException");
}

// The content of a stream through the library, deltas joined.
std::string library_stream_text(llm_client_t* c, const std::string& req) {
  llm_stream_t* s = nullptr;
  EXPECT_EQ(llm_chat_stream(c, req.c_str(), &s), LLM_OK) << llm_last_error();
  if (!s) return {};
  std::string text;
  for (;;) {
    const char* chunk = nullptr;
    if (llm_stream_next(s, &chunk) != LLM_OK) {
      ADD_FAILURE() << llm_last_error();
      break;
    }
    if (!chunk) break;
    auto d = parse(chunk);
    if (d.IsObject() && d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty()) {
      const auto& delta = d["choices"][0]["delta"];
      if (delta.HasMember("content") && delta["content"].IsString()) text += delta["content"].GetString();
    }
  }
  llm_stream_free(s);
  return text;
}

// The library's own Bedrock provider against the upstream: its SigV4 signature verified, its Converse body
// accepted, the answer read back.
TEST_F(UpstreamBedrockSigV4, TheLibrarySignsWhatTheUpstreamVerifies) {
  std::string cfg = R"({"max_retries":0,"providers":{"bedrock":{"base_url":"http://127.0.0.1:)" +
                    std::to_string(up->port()) + R"(","region":"us-east-1","aws_access_key_id":")" +
                    kCreds.access_key_id + R"(","aws_secret_access_key":")" + kCreds.secret_access_key + R"("}}})";
  llm_client_t* c = nullptr;
  ASSERT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c,
                     R"({"model":"bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",)"
                     R"("messages":[{"role":"user","content":"hi there"}]})",
                     &r),
            LLM_OK)
      << llm_last_error();
  EXPECT_STREQ(llm_response_text(r), kHelloText.c_str());
  llm_response_free(r);
  // Streamed: the event stream decoded by the library gives the same text.
  EXPECT_EQ(library_stream_text(c, R"({"model":"bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0","messages":[{"role":"user","content":"hi there"}]})"), kHelloText);
  llm_client_free(c);
  auto reqs = up->requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.back().header("authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u);
}

}  // namespace
