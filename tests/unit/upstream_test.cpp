// The local upstream (tests/upstream), checked over real sockets with libcurl
// and, where curl would hide what matters, a raw socket.
#include "upstream.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace {

using literllm::testing::Upstream;
using literllm::testing::UpstreamOptions;

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::vector<std::string> headers;  // raw header lines
  double seconds = 0;

  std::string header(const std::string& name) const {
    for (const std::string& line : headers) {
      auto colon = line.find(':');
      if (colon == std::string::npos || colon != name.size()) continue;
      if (strncasecmp(line.c_str(), name.c_str(), name.size()) != 0) continue;
      std::string v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      return v;
    }
    return {};
  }
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  static_cast<std::vector<std::string>*>(user)->emplace_back(data, size * n);
  return size * n;
}

struct Call {
  std::string method = "POST";
  std::string path = "/v1/chat/completions";
  std::string body;
  std::vector<std::string> headers;
  long timeout_ms = 5000;
  CURL* easy = nullptr;  // reuse a handle (keep-alive); null: a fresh one
};

Reply call(const Upstream& up, const Call& c) {
  CURL* easy = c.easy ? c.easy : curl_easy_init();
  Reply r;
  std::string url = "http://127.0.0.1:" + std::to_string(up.port()) + c.path;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, c.method.c_str());
  if (c.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, c.body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.body.size()));
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, nullptr);
  }
  curl_slist* list = curl_slist_append(nullptr, "content-type: application/json");
  for (const std::string& h : c.headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  auto t0 = std::chrono::steady_clock::now();
  r.code = curl_easy_perform(easy);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(list);
  if (!c.easy) curl_easy_cleanup(easy);
  return r;
}

Reply chat(const Upstream& up, const std::string& body, std::vector<std::string> headers = {}) {
  Call c;
  c.body = body;
  c.headers = std::move(headers);
  return call(up, c);
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

// The data of each SSE event, in order.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    std::string ev = body.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (ev.rfind("data: ", 0) == 0) out.push_back(ev.substr(6));
    if (end == std::string::npos) break;
    pos = end + 2;
  }
  return out;
}

std::string str(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : "<not a string>";
}

void expect_openai_error(const std::string& body, const std::string& code) {
  auto d = parse(body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("error")) << body;
  const auto& e = d["error"];
  EXPECT_TRUE(e["message"].IsString());
  EXPECT_TRUE(e["type"].IsString());
  EXPECT_TRUE(e["param"].IsNull());
  if (!code.empty()) {
    EXPECT_EQ(str(e["code"]), code) << body;
  }
}

const char* kHello =
    R"({"model":"gpt-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi there"}]})";
const std::string kHelloContent = "Hello from the local upstream. You said: hi there";

class UpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override { up.start(); }
  Upstream up;
};

// ---- lifecycle ---------------------------------------------------------------

TEST(UpstreamLifecycle, StartStopPortRestart) {
  Upstream up;
  EXPECT_EQ(up.port(), 0);
  up.start();
  uint16_t port = up.port();
  EXPECT_NE(port, 0);
  EXPECT_EQ(up.base_url(), "http://127.0.0.1:" + std::to_string(port) + "/v1");
  up.start();  // no-op while running
  EXPECT_EQ(up.port(), port);
  EXPECT_EQ(chat(up, kHello).status, 200);
  up.stop();
  up.stop();  // idempotent
  Reply after = chat(up, kHello);
  EXPECT_NE(after.code, CURLE_OK);  // nothing listens any more
  up.start();
  EXPECT_EQ(chat(up, kHello).status, 200);
  EXPECT_EQ(up.requests().size(), 2u);
}

TEST(UpstreamLifecycle, StopClosesStalledStreams) {
  Upstream up;
  up.start();
  Reply r;
  std::thread client([&] {
    r = chat(up, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
             {"x-upstream-stall-after: 1"});
  });
  for (int i = 0; i < 500 && up.open_connections() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  for (int i = 0; i < 500 && up.requests().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto t0 = std::chrono::steady_clock::now();
  up.stop();
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_NE(r.code, CURLE_OK);
  EXPECT_EQ(up.open_connections(), 0u);
}

// ---- the default reply ---------------------------------------------------------

TEST_F(UpstreamTest, NonStreamReplyShape) {
  Reply r = chat(up, kHello);
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto d = parse(r.body);
  EXPECT_EQ(str(d["id"]).rfind("chatcmpl-upstream-", 0), 0u);
  EXPECT_EQ(str(d["object"]), "chat.completion");
  EXPECT_EQ(d["created"].GetInt64(), 1700000000);
  EXPECT_EQ(str(d["model"]), "gpt-test");
  EXPECT_EQ(str(d["system_fingerprint"]), "fp_upstream");
  ASSERT_EQ(d["choices"].Size(), 1u);
  const auto& c = d["choices"][0];
  EXPECT_EQ(c["index"].GetInt(), 0);
  EXPECT_EQ(str(c["message"]["role"]), "assistant");
  EXPECT_EQ(str(c["message"]["content"]), kHelloContent);
  EXPECT_EQ(str(c["finish_reason"]), "stop");
  const auto& u = d["usage"];
  EXPECT_EQ(u["prompt_tokens"].GetInt(), 4);  // "be brief" + "hi there"
  EXPECT_EQ(u["completion_tokens"].GetInt(), 9);
  EXPECT_EQ(u["total_tokens"].GetInt(), 13);
  EXPECT_EQ(u["prompt_tokens_details"]["cached_tokens"].GetInt(), 0);

  // Ids count up; cached tokens come from a header; text parts are joined by a space.
  Reply r2 = chat(up,
                  R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"one"},)"
                  R"({"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"two"}]}]})",
                  {"x-upstream-cached-tokens: 7"});
  auto d2 = parse(r2.body);
  EXPECT_NE(str(d2["id"]), str(d["id"]));
  EXPECT_EQ(str(d2["choices"][0]["message"]["content"]), "Hello from the local upstream. You said: one two");
  EXPECT_EQ(d2["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt(), 7);
}

TEST_F(UpstreamTest, StreamConcatenationEqualsNonStream) {
  Reply plain = chat(up, kHello);
  std::string content = str(parse(plain.body)["choices"][0]["message"]["content"]);

  Reply r = chat(up, R"({"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},)"
                     R"("messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi there"}]})");
  ASSERT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.header("transfer-encoding"), "chunked");
  auto events = sse_data(r.body);
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string joined, finish, id;
  bool saw_usage = false;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto d = parse(events[i]);
    EXPECT_EQ(str(d["object"]), "chat.completion.chunk");
    EXPECT_EQ(str(d["model"]), "gpt-test");
    EXPECT_EQ(str(d["system_fingerprint"]), "fp_upstream");
    EXPECT_EQ(d["created"].GetInt64(), 1700000000);
    if (id.empty()) id = str(d["id"]);
    EXPECT_EQ(str(d["id"]), id);
    if (d["choices"].Empty()) {
      saw_usage = true;
      EXPECT_EQ(d["usage"]["completion_tokens"].GetInt(), 9);
      EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt(), 4);
      continue;
    }
    const auto& delta = d["choices"][0]["delta"];
    if (i == 0) {
      EXPECT_EQ(str(delta["role"]), "assistant");
      EXPECT_EQ(str(delta["content"]), "");
    }
    if (delta.HasMember("content")) joined += str(delta["content"]);
    if (d["choices"][0]["finish_reason"].IsString()) finish = str(d["choices"][0]["finish_reason"]);
  }
  EXPECT_EQ(joined, content);
  EXPECT_EQ(finish, "stop");
  EXPECT_TRUE(saw_usage);
  // Two words per content event: role + 5 content + finish + usage + [DONE].
  EXPECT_EQ(events.size(), 9u);
  EXPECT_EQ(str(parse(events[1])["choices"][0]["delta"]["content"]), "Hello from ");

  // Without include_usage there is no usage chunk.
  Reply r2 = chat(up, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})");
  for (const std::string& e : sse_data(r2.body))
    if (e != "[DONE]") {
      EXPECT_FALSE(parse(e)["choices"].Empty());
    }
}

TEST_F(UpstreamTest, ToolCalls) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{)"
      R"("city":{"type":"string"},"days":{"type":"integer"},"temp":{"type":"number"},"metric":{"type":"boolean"},)"
      R"("tags":{"type":"array","items":{"type":"string"}},"opts":{"type":"object","properties":{"a":{"type":"string"}}},)"
      R"("unit":{"type":"string","enum":["celsius","fahrenheit"]}}}}},)"
      R"({"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}}])";
  const std::string weather_args =
      R"({"city":"sample","days":1,"temp":1.5,"metric":true,"tags":[],"opts":{},"unit":"celsius"})";
  auto first_call = [](const std::string& body) {
    auto d = parse(body);
    return std::pair(str(d["choices"][0]["message"]["tool_calls"][0]["function"]["name"]),
                     str(d["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]));
  };

  Reply r = chat(up, R"({"model":"m","messages":[{"role":"user","content":"weather?"}],)" + tools + "}");
  auto d = parse(r.body);
  const auto& msg = d["choices"][0]["message"];
  EXPECT_TRUE(msg["content"].IsNull());
  ASSERT_EQ(msg["tool_calls"].Size(), 1u);
  EXPECT_EQ(str(msg["tool_calls"][0]["id"]), "call_0");
  EXPECT_EQ(str(msg["tool_calls"][0]["type"]), "function");
  EXPECT_EQ(first_call(r.body), std::pair(std::string("get_weather"), weather_args));
  EXPECT_EQ(str(d["choices"][0]["finish_reason"]), "tool_calls");
  EXPECT_EQ(d["usage"]["completion_tokens"].GetInt(), 5);

  // A named tool_choice picks that function.
  Reply named = chat(
      up,
      R"({"model":"m","messages":[{"role":"user","content":"t"}],"tool_choice":{"type":"function","function":{"name":"get_time"}},)" +
          tools + "}");
  EXPECT_EQ(first_call(named.body), std::pair(std::string("get_time"), std::string(R"({"tz":"sample"})")));

  // parallel_tool_calls: one call per tool.
  Reply par = chat(
      up,
      R"({"model":"m","messages":[{"role":"user","content":"t"}],"parallel_tool_calls":true,"tool_choice":"required",)" +
          tools + "}");
  auto dp = parse(par.body);
  ASSERT_EQ(dp["choices"][0]["message"]["tool_calls"].Size(), 2u);
  EXPECT_EQ(str(dp["choices"][0]["message"]["tool_calls"][1]["id"]), "call_1");
  EXPECT_EQ(str(dp["choices"][0]["message"]["tool_calls"][1]["function"]["name"]), "get_time");

  // tool_choice "none", or a last message from a tool: plain text.
  Reply none =
      chat(up, R"({"model":"m","messages":[{"role":"user","content":"t"}],"tool_choice":"none",)" + tools + "}");
  EXPECT_EQ(str(parse(none.body)["choices"][0]["finish_reason"]), "stop");
  Reply after_tool =
      chat(up, R"({"model":"m","messages":[{"role":"user","content":"t"},{"role":"assistant","content":null,)"
               R"("tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_time","arguments":"{}"}}]},)"
               R"({"role":"tool","tool_call_id":"call_0","content":"noon"}],)" +
                   tools + "}");
  EXPECT_EQ(str(parse(after_tool.body)["choices"][0]["message"]["content"]),
            "Hello from the local upstream. You said: t");

  // Streamed: a header delta, then the arguments in three pieces.
  Reply s = chat(up, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"weather?"}],)" + tools + "}");
  auto events = sse_data(s.body);
  ASSERT_EQ(events.size(), 1u + 1u + 3u + 1u + 1u);
  auto head = parse(events[1]);
  const auto& tc = head["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(tc["index"].GetInt(), 0);
  EXPECT_EQ(str(tc["id"]), "call_0");
  EXPECT_EQ(str(tc["type"]), "function");
  EXPECT_EQ(str(tc["function"]["name"]), "get_weather");
  EXPECT_EQ(str(tc["function"]["arguments"]), "");
  std::string args;
  for (int i = 2; i < 5; ++i)
    args += str(parse(events[i])["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]);
  EXPECT_EQ(args, weather_args);
  EXPECT_EQ(str(parse(events[5])["choices"][0]["finish_reason"]), "tool_calls");
}

TEST_F(UpstreamTest, ResponseFormats) {
  Reply r = chat(
      up, R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema",)"
          R"("json_schema":{"name":"p","schema":{"type":"object","properties":{"name":{"type":"string"},)"
          R"("age":{"type":"integer"},"address":{"type":"object","properties":{"zip":{"type":["string","null"]}}},)"
          R"("kind":{"enum":[3,4]}}}}}})");
  EXPECT_EQ(str(parse(r.body)["choices"][0]["message"]["content"]),
            R"({"name":"sample","age":1,"address":{"zip":"sample"},"kind":3})");
  Reply o =
      chat(up, R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})");
  EXPECT_EQ(str(parse(o.body)["choices"][0]["message"]["content"]), R"({"ok":true})");
}

TEST_F(UpstreamTest, SeveralChoices) {
  Reply r = chat(up, R"({"model":"m","n":3,"messages":[{"role":"user","content":"x"}]})");
  auto d = parse(r.body);
  ASSERT_EQ(d["choices"].Size(), 3u);
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(d["choices"][i]["index"].GetUint(), i);
    EXPECT_EQ(str(d["choices"][i]["message"]["content"]), "Hello from the local upstream. You said: x");
  }
  Reply s = chat(up, R"({"model":"m","n":2,"stream":true,"messages":[{"role":"user","content":"x"}]})");
  std::string text[2];
  int finishes = 0;
  auto events = sse_data(s.body);
  EXPECT_EQ(parse(events[0])["choices"][0]["index"].GetInt(), 0);
  EXPECT_EQ(parse(events[1])["choices"][0]["index"].GetInt(), 1);
  for (const std::string& e : events) {
    if (e == "[DONE]") continue;
    auto d2 = parse(e);
    int i = d2["choices"][0]["index"].GetInt();
    if (d2["choices"][0]["delta"].HasMember("content")) text[i] += str(d2["choices"][0]["delta"]["content"]);
    finishes += d2["choices"][0]["finish_reason"].IsString();
  }
  EXPECT_EQ(text[0], "Hello from the local upstream. You said: x");
  EXPECT_EQ(text[1], text[0]);
  EXPECT_EQ(finishes, 2);
}

TEST_F(UpstreamTest, MaxTokensTruncates) {
  for (const char* field : {"max_tokens", "max_completion_tokens"}) {
    Reply r = chat(up, std::string(R"({"model":"m","messages":[{"role":"user","content":"x"}],")") + field + R"(":3})");
    auto d = parse(r.body);
    EXPECT_EQ(str(d["choices"][0]["message"]["content"]), "Hello from the");
    EXPECT_EQ(str(d["choices"][0]["finish_reason"]), "length");
    EXPECT_EQ(d["usage"]["completion_tokens"].GetInt(), 3);
  }
  Reply big = chat(up, R"({"model":"m","max_tokens":100,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(str(parse(big.body)["choices"][0]["finish_reason"]), "stop");
  Reply s = chat(up, R"({"model":"m","max_tokens":3,"stream":true,"messages":[{"role":"user","content":"x"}]})");
  std::string joined, finish;
  for (const std::string& e : sse_data(s.body)) {
    if (e == "[DONE]") continue;
    auto d = parse(e);
    if (d["choices"][0]["delta"].HasMember("content")) joined += str(d["choices"][0]["delta"]["content"]);
    if (d["choices"][0]["finish_reason"].IsString()) finish = str(d["choices"][0]["finish_reason"]);
  }
  EXPECT_EQ(joined, "Hello from the");
  EXPECT_EQ(finish, "length");
}

// ---- routes and errors ------------------------------------------------------------

TEST_F(UpstreamTest, RoutesAndErrors) {
  Call models;
  models.method = "GET";
  models.path = "/v1/models";
  Reply m = call(up, models);
  EXPECT_EQ(m.status, 200);
  auto d = parse(m.body);
  EXPECT_EQ(str(d["object"]), "list");
  EXPECT_GE(d["data"].Size(), 1u);

  Call missing;
  missing.method = "GET";
  missing.path = "/v1/nothing-here";
  Reply nf = call(up, missing);
  EXPECT_EQ(nf.status, 404);
  expect_openai_error(nf.body, "not_found");
  EXPECT_EQ(str(parse(nf.body)["error"]["type"]), "invalid_request_error");

  Reply bad = chat(up, "this is not json");
  EXPECT_EQ(bad.status, 400);
  expect_openai_error(bad.body, "");
}

TEST_F(UpstreamTest, RecordedRequests) {
  chat(up, kHello, {"x-trace: abc"});
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].body, kHello);
  EXPECT_EQ(reqs[0].header("X-TRACE"), "abc");
  EXPECT_EQ(reqs[0].header("absent"), "");

  Call get;
  get.method = "GET";
  get.path = "/__requests";
  Reply r = call(up, get);
  EXPECT_EQ(r.status, 200);
  auto d = parse(r.body);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 1u);  // /__requests itself is not recorded
  EXPECT_EQ(str(d[0]["method"]), "POST");
  EXPECT_EQ(str(d[0]["target"]), "/v1/chat/completions");
  EXPECT_EQ(str(d[0]["headers"]["x-trace"]), "abc");
  EXPECT_EQ(str(d[0]["body"]), kHello);

  up.clear_requests();
  EXPECT_TRUE(up.requests().empty());
}

TEST_F(UpstreamTest, KeepAliveReusesOneConnection) {
  CURL* easy = curl_easy_init();
  Call c;
  c.easy = easy;
  c.body = kHello;
  EXPECT_EQ(call(up, c).status, 200);
  c.body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})";
  EXPECT_EQ(call(up, c).status, 200);
  c.body = kHello;
  c.headers = {"x-upstream-status: 429"};
  EXPECT_EQ(call(up, c).status, 429);
  c.headers = {};
  EXPECT_EQ(call(up, c).status, 200);
  curl_easy_cleanup(easy);
  EXPECT_EQ(up.connections_accepted(), 1u);
  EXPECT_EQ(up.requests().size(), 4u);
}

// ---- fault injection ------------------------------------------------------------------

TEST_F(UpstreamTest, InjectedStatus) {
  Reply r = chat(up, kHello, {"x-upstream-status: 429", "x-upstream-retry-after: 3"});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after"), "3");
  expect_openai_error(r.body, "rate_limit_exceeded");

  Reply r2 = chat(up, kHello, {"x-upstream-status: 500", R"(x-upstream-body: {"error":{"message":"boom"}})"});
  EXPECT_EQ(r2.status, 500);
  EXPECT_EQ(r2.body, R"({"error":{"message":"boom"}})");

  Reply r3 = chat(up, kHello, {"x-upstream-status: 503"});
  EXPECT_EQ(r3.status, 503);
  expect_openai_error(r3.body, "service_unavailable");
}

TEST_F(UpstreamTest, FailTimesThenSucceed) {
  std::vector<std::string> h = {"x-upstream-fail-times: 2", "x-upstream-fail-key: k1"};
  EXPECT_EQ(chat(up, kHello, h).status, 503);
  EXPECT_EQ(chat(up, kHello, {"x-upstream-fail-times: 1", "x-upstream-fail-key: other"}).status, 503);
  EXPECT_EQ(chat(up, kHello, h).status, 503);
  EXPECT_EQ(chat(up, kHello, h).status, 200);
  EXPECT_EQ(chat(up, kHello, h).status, 200);
  h.push_back("x-upstream-status: 429");
  h[1] = "x-upstream-fail-key: k2";
  EXPECT_EQ(chat(up, kHello, h).status, 429);
  EXPECT_EQ(chat(up, kHello, h).status, 429);
  EXPECT_EQ(chat(up, kHello, h).status, 200);
}

TEST_F(UpstreamTest, Delays) {
  Reply r = chat(up, kHello, {"x-upstream-delay-ms: 80"});
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(r.seconds, 0.075);
  // 1 role + 5 content + finish + [DONE] = 8 events, 7 gaps of 10 ms.
  Reply s = chat(up, R"({"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi there"}]})",
                 {"x-upstream-chunk-delay-ms: 10"});
  EXPECT_EQ(sse_data(s.body).size(), 8u);
  EXPECT_GE(s.seconds, 0.065);
}

TEST_F(UpstreamTest, CutStream) {
  Reply r = chat(up, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
                 {"x-upstream-cut-after: 2"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.code, CURLE_PARTIAL_FILE);  // the chunked body never ended
  auto events = sse_data(r.body);
  EXPECT_EQ(events.size(), 2u);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(UpstreamTest, StallStream) {
  Call c;
  c.body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})";
  c.headers = {"x-upstream-stall-after: 3"};
  c.timeout_ms = 1000;  // the 3 events must arrive first, even under sanitizers on a loaded machine
  Reply r = call(up, c);
  EXPECT_EQ(r.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(sse_data(r.body).size(), 3u);
  // The client went away: the server lets go of the connection.
  for (int i = 0; i < 200 && up.open_connections() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(up.open_connections(), 0u);
}

TEST_F(UpstreamTest, ResetConnection) {
  Reply r = chat(up, kHello, {"x-upstream-reset: 1"});
  EXPECT_TRUE(r.code == CURLE_RECV_ERROR || r.code == CURLE_GOT_NOTHING) << curl_easy_strerror(r.code);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(up.requests().size(), 1u);
}

TEST_F(UpstreamTest, Malformed) {
  Reply r = chat(up, kHello, {"x-upstream-malformed: 1"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"id": "broken",)");
  Reply s = chat(up, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})",
                 {"x-upstream-malformed: 1"});
  auto events = sse_data(s.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[1], "{not json");
  parse(events[0]);
}

TEST_F(UpstreamTest, ExpectHeader) {
  Reply ok = chat(up, kHello, {"x-upstream-expect-header: x-custom=yes", "x-custom: yes"});
  EXPECT_EQ(ok.status, 200);
  Reply wrong = chat(up, kHello, {"x-upstream-expect-header: x-custom=yes", "x-custom: no"});
  EXPECT_EQ(wrong.status, 400);
  expect_openai_error(wrong.body, "");
  EXPECT_NE(wrong.body.find("x-custom"), std::string::npos);
  Reply absent = chat(up, kHello, {"x-upstream-expect-header: Authorization=Bearer sk-1"});
  EXPECT_EQ(absent.status, 400);
  EXPECT_NE(absent.body.find("Authorization"), std::string::npos);
}

TEST_F(UpstreamTest, Echo) {
  Reply r = chat(up, kHello, {"x-upstream-echo: 1"});
  EXPECT_EQ(str(parse(r.body)["choices"][0]["message"]["content"]), kHello);
}

TEST(UpstreamAuth, RequireApiKey) {
  UpstreamOptions o;
  o.require_api_key = "sk-test";
  Upstream up(o);
  up.start();
  Reply none = chat(up, kHello);
  EXPECT_EQ(none.status, 401);
  expect_openai_error(none.body, "invalid_api_key");
  EXPECT_EQ(chat(up, kHello, {"Authorization: Bearer sk-wrong"}).status, 401);
  EXPECT_EQ(chat(up, kHello, {"Authorization: Bearer sk-test"}).status, 200);
  EXPECT_EQ(chat(up, kHello, {"x-api-key: sk-test"}).status, 200);
  EXPECT_EQ(chat(up, kHello, {"api-key: sk-test"}).status, 200);
}

TEST(UpstreamAuth, RecordingCanBeTurnedOff) {
  UpstreamOptions o;
  o.record_requests = false;
  Upstream up(o);
  up.start();
  EXPECT_EQ(chat(up, kHello).status, 200);
  EXPECT_TRUE(up.requests().empty());
}

TEST(UpstreamReplay, RecordedOpenAIStream) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(LITERLLM_FIXTURES_DIR) / "openai" / "sse";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "SKIPPED LOUDLY: fixtures not found at " << dir;
  fs::path file;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".bin" && (file.empty() || e.path() < file)) file = e.path();
  ASSERT_FALSE(file.empty());
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  UpstreamOptions o;
  o.fixtures_dir = LITERLLM_FIXTURES_DIR;
  Upstream up(o);
  up.start();
  std::string rel = "openai/sse/" + file.filename().string();
  Reply r = chat(up, kHello, {"x-upstream-replay: " + rel});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.body, bytes);

  Reply cut = chat(up, kHello, {"x-upstream-replay: " + rel, "x-upstream-cut-after: 1"});
  EXPECT_EQ(cut.code, CURLE_PARTIAL_FILE);
  EXPECT_EQ(sse_data(cut.body).size(), 1u);

  EXPECT_EQ(chat(up, kHello, {"x-upstream-replay: ../fixtures/" + rel}).status, 400);
  EXPECT_EQ(chat(up, kHello, {"x-upstream-replay: openai/sse/no-such-file.bin"}).status, 404);
}

// ---- the wire -------------------------------------------------------------------------

// Raw socket: a chunked request body, then a second request on the same connection.
TEST_F(UpstreamTest, ChunkedRequestBodyAndPipelining) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(up.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string body = kHello;
  std::string half1 = body.substr(0, 20), half2 = body.substr(20);
  char size1[16], size2[16];
  snprintf(size1, sizeof size1, "%zx", half1.size());
  snprintf(size2, sizeof size2, "%zx", half2.size());
  std::string req =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      std::string(size1) + "\r\n" + half1 + "\r\n" + size2 + "\r\n" + half2 + "\r\n0\r\n\r\n";
  req += "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.find(kHelloContent), std::string::npos);
  EXPECT_NE(got.find("\"object\":\"list\""), std::string::npos);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, kHello);
  EXPECT_EQ(up.connections_accepted(), 1u);
}

// A body big enough for curl to send "Expect: 100-continue": answered at once, not after curl's 1 s wait.
TEST_F(UpstreamTest, LargeBodyWithExpectContinue) {
  std::string text(512 * 1024, 'a');
  for (size_t i = 7; i < text.size(); i += 8) text[i] = ' ';
  std::string body = R"({"model":"m","max_tokens":2,"messages":[{"role":"user","content":")" + text + R"("}]})";
  Reply r = chat(up, body, {"Expect: 100-continue"});
  EXPECT_EQ(r.status, 200);
  EXPECT_LT(r.seconds, 0.9);
  auto d = parse(r.body);
  EXPECT_EQ(d["usage"]["prompt_tokens"].GetInt(), static_cast<int>(text.size() / 8));
  EXPECT_EQ(up.requests().at(0).body.size(), body.size());
}

// Many concurrent streams on the server's single thread, driven by one curl multi handle.
TEST_F(UpstreamTest, ManyConcurrentStreams) {
  // 300 keeps the suite fast; LITERLLM_UPSTREAM_STREAMS=1000 (or more) for the full claim.
  const char* env = std::getenv("LITERLLM_UPSTREAM_STREAMS");
  const int kStreams = env && std::atoi(env) > 0 ? std::atoi(env) : 300;
  CURLM* multi = curl_multi_init();
  std::string url = up.base_url() + "/chat/completions";
  std::string body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})";
  curl_slist* headers = curl_slist_append(nullptr, "content-type: application/json");
  headers = curl_slist_append(headers, "x-upstream-chunk-delay-ms: 5");
  std::vector<std::string> out(kStreams);
  std::vector<CURL*> easies;
  for (int i = 0; i < kStreams; ++i) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &out[i]);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    curl_multi_add_handle(multi, e);
    easies.push_back(e);
  }
  size_t peak = 0;
  int running = 1;
  while (running) {
    curl_multi_perform(multi, &running);
    peak = std::max(peak, up.open_connections());
    if (running) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  int ok = 0;
  for (CURLMsg* m; (m = curl_multi_info_read(multi, &running));)
    if (m->msg == CURLMSG_DONE && m->data.result == CURLE_OK) ++ok;
  for (CURL* e : easies) {
    curl_multi_remove_handle(multi, e);
    curl_easy_cleanup(e);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  EXPECT_EQ(ok, kStreams);
  EXPECT_GT(peak, static_cast<size_t>(kStreams / 2));
  for (const std::string& s : out) EXPECT_EQ(sse_data(s).back(), "[DONE]");
}

}  // namespace
