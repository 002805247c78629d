// Streaming end to end: pull iterator, callback form, assembly, recorded
// real traffic, broken streams, cancellation.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "e2e.hpp"

using namespace e2e;
namespace fs = std::filesystem;

namespace {

// Compares what matters of two chat.completion objects: choices and usage.
void expect_same_completion(const rapidjson::Value& a, const rapidjson::Value& b) {
  ASSERT_EQ(a["choices"].Size(), b["choices"].Size());
  for (rapidjson::SizeType i = 0; i < a["choices"].Size(); ++i) {
    const auto& ca = a["choices"][i];
    const auto& cb = b["choices"][i];
    EXPECT_EQ(ca["index"].GetInt(), cb["index"].GetInt());
    EXPECT_TRUE(ca["finish_reason"] == cb["finish_reason"]) << i;
    EXPECT_TRUE(ca["message"]["content"] == cb["message"]["content"]) << i;
    EXPECT_STREQ(ca["message"]["role"].GetString(), cb["message"]["role"].GetString());
    EXPECT_EQ(ca["message"].HasMember("tool_calls"), cb["message"].HasMember("tool_calls"));
    if (ca["message"].HasMember("tool_calls")) {
      EXPECT_TRUE(ca["message"]["tool_calls"] == cb["message"]["tool_calls"]);
    }
  }
  EXPECT_TRUE(a["usage"] == b["usage"]);
  EXPECT_TRUE(a["model"] == b["model"]);
}

rapidjson::Document chat_json(llm_client_t* c, const std::string& req) {
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(c, req.c_str(), &r), LLM_OK) << llm_last_error();
  auto d = parse(llm_response_json(r));
  llm_response_free(r);
  return d;
}

rapidjson::Document stream_final(llm_client_t* c, const std::string& req, StreamResult* out = nullptr) {
  llm_stream_t* s = nullptr;
  EXPECT_EQ(llm_chat_stream(c, req.c_str(), &s), LLM_OK) << llm_last_error();
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_OK) << res.error;
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_stream_final_response(s, &r), LLM_OK) << llm_last_error();
  auto d = parse(r ? llm_response_json(r) : nullptr);
  llm_response_free(r);
  llm_stream_free(s);
  if (out) *out = std::move(res);
  return d;
}

}  // namespace

TEST_F(E2E, StreamDeliversChunksAndTheSameFinalResponse) {
  std::string req = chat_req("openai/gpt-4o-mini", "stream this please");
  StreamResult res;
  auto streamed = stream_final(client, req, &res);
  EXPECT_EQ(res.content, "Hello from the local upstream. You said: stream this please");
  ASSERT_GE(res.chunks.size(), 4u);
  for (auto& c : res.chunks) EXPECT_STREQ(parse(c.c_str())["object"].GetString(), "chat.completion.chunk");
  auto last = parse(res.chunks.back().c_str());
  ASSERT_TRUE(last.HasMember("usage")) << res.chunks.back();  // usage asked for and delivered
  auto plain = chat_json(client, req);
  expect_same_completion(streamed, plain);
  EXPECT_STREQ(streamed["provider"].GetString(), "openai");

  auto b = parse(up.requests().at(0).body.c_str());
  EXPECT_TRUE(b["stream"].GetBool());
  EXPECT_TRUE(b["stream_options"]["include_usage"].GetBool());
  EXPECT_EQ(up.requests().at(0).header("accept"), "text/event-stream");
}

TEST_F(E2E, StreamedToolCallsAreAssembled) {
  std::string req = chat_req("openai/gpt-4o", "tools",
                             ",\"parallel_tool_calls\":true,\"tools\":["
                             "{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":{\"type\":\"object\","
                             "\"properties\":{\"x\":{\"type\":\"string\"},\"y\":{\"type\":\"number\"}}}}},"
                             "{\"type\":\"function\",\"function\":{\"name\":\"b\",\"parameters\":{\"type\":\"object\","
                             "\"properties\":{\"flag\":{\"type\":\"boolean\"}}}}}]");
  auto streamed = stream_final(client, req);
  auto plain = chat_json(client, req);
  expect_same_completion(streamed, plain);
  const auto& tcs = streamed["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(tcs.Size(), 2u);
  EXPECT_STREQ(tcs[1]["function"]["name"].GetString(), "b");
  EXPECT_STREQ(tcs[1]["function"]["arguments"].GetString(), "{\"flag\":true}");
}

TEST_F(E2E, StreamWithSeveralChoices) {
  std::string req = chat_req("openai/gpt-4o", "many", ",\"n\":2");
  expect_same_completion(stream_final(client, req), chat_json(client, req));
}

TEST_F(E2E, RecordedOpenAIStreamsReplayThroughTheLibrary) {
  fs::path dir = fs::path(LITERLLM_FIXTURES_DIR) / "openai" / "sse";
  if (!fs::exists(dir)) GTEST_SKIP() << "FIXTURES MISSING: " << dir << " (recorded-traffic tests did not run)";
  int files = 0;
  for (auto& f : fs::directory_iterator(dir)) {
    std::string rel = "openai/sse/" + f.path().filename().string();
    // What the recording says, read independently of the library: every data line's deltas.
    std::ifstream in(f.path(), std::ios::binary);
    std::string line, expect_content, expect_args, expect_finish;
    while (std::getline(in, line)) {
      if (line.rfind("data: ", 0) != 0 || line == "data: [DONE]") continue;
      auto d = parse(line.c_str() + 6);
      if (!d.HasMember("choices") || d["choices"].Empty()) continue;
      const auto& ch = d["choices"][0];
      if (ch["finish_reason"].IsString()) expect_finish = ch["finish_reason"].GetString();
      const auto& delta = ch["delta"];
      if (delta.HasMember("content") && delta["content"].IsString()) expect_content += delta["content"].GetString();
      if (delta.HasMember("tool_calls"))
        for (auto& tc : delta["tool_calls"].GetArray())
          if (tc["function"].HasMember("arguments")) expect_args += tc["function"]["arguments"].GetString();
    }
    llm_client_free(client);
    up.stop();
    literllm::testing::UpstreamOptions replay_opts;
    replay_opts.fixtures_dir = LITERLLM_FIXTURES_DIR;
    literllm::testing::Upstream replay(replay_opts);
    replay.start();
    std::string cfg = "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":" + q(replay.base_url()) +
                      ",\"api_key\":\"k-123456\"}}}";
    ASSERT_EQ(llm_client_new(cfg.c_str(), &client), LLM_OK);
    StreamResult res;
    auto final = stream_final(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-replay\":" + q(rel) + "}")),
                              &res);
    EXPECT_EQ(res.content, expect_content) << rel;
    ASSERT_TRUE(final.HasMember("choices")) << rel;
    const auto& msg = final["choices"][0]["message"];
    if (!expect_content.empty()) {
      EXPECT_STREQ(msg["content"].GetString(), expect_content.c_str()) << rel;
    }
    if (!expect_args.empty()) {
      EXPECT_STREQ(msg["tool_calls"][0]["function"]["arguments"].GetString(), expect_args.c_str());
    }
    EXPECT_STREQ(final["choices"][0]["finish_reason"].GetString(), expect_finish.c_str()) << rel;
    EXPECT_STREQ(final["model"].GetString(), "gpt-4o-2024-08-06");
    ++files;
    replay.stop();
    up.start();
  }
  EXPECT_GE(files, 5);
}

TEST_F(E2E, CutStreamIsAStreamingError) {
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "one two three four five six seven",
                                              headers("{\"x-upstream-cut-after\":\"3\"}")).c_str(), &s),
            LLM_OK);
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_ERR_STREAMING) << res.error;
  EXPECT_EQ(res.chunks.size(), 3u);
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_stream_final_response(s, &r), LLM_ERR_STREAMING);
  // Later calls repeat the error.
  const char* chunk = "x";
  EXPECT_EQ(llm_stream_next(s, &chunk), LLM_ERR_STREAMING);
  EXPECT_EQ(chunk, nullptr);
  llm_stream_free(s);
}

TEST_F(E2E, MalformedChunkIsAStreamingError) {
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "hi", headers("{\"x-upstream-malformed\":\"1\"}")).c_str(), &s),
            LLM_OK);
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_ERR_STREAMING);
  llm_stream_free(s);
}

TEST_F(E2E, StalledStreamTimesOutOnIdle) {
  llm_client_free(client);
  client = make_client(",\"max_retries\":0,\"stream_idle_timeout_secs\":0.3");
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "a b c d e f", headers("{\"x-upstream-stall-after\":\"2\"}")).c_str(),
                            &s),
            LLM_OK);
  auto t0 = std::chrono::steady_clock::now();
  auto res = drain(s);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(res.status, LLM_ERR_TIMEOUT) << res.error;
  EXPECT_EQ(res.chunks.size(), 2u);
  EXPECT_LT(secs, 10.0);
  llm_stream_free(s);
}

TEST_F(E2E, CancelFromAnotherThreadWakesTheReader) {
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "a b c d", headers("{\"x-upstream-stall-after\":\"1\"}")).c_str(), &s),
            LLM_OK);
  const char* chunk = nullptr;
  ASSERT_EQ(llm_stream_next(s, &chunk), LLM_OK);
  ASSERT_NE(chunk, nullptr);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    llm_stream_cancel(s);
    llm_stream_cancel(s);  // twice is fine
  });
  EXPECT_EQ(llm_stream_next(s, &chunk), LLM_ERR_CANCELLED);
  EXPECT_EQ(chunk, nullptr);
  canceller.join();
  llm_stream_free(s);
}

TEST_F(E2E, FreeingAStreamMidwayCancelsIt) {
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "a b", headers("{\"x-upstream-stall-after\":\"1\"}")).c_str(), &s),
            LLM_OK);
  llm_stream_free(s);
  // The client still works afterwards.
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_chat(client, chat_req("openai/gpt-4o", "after").c_str(), &r), LLM_OK);
  llm_response_free(r);
}

TEST_F(E2E, HttpErrorBeforeTheStreamStarts) {
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "x", headers("{\"x-upstream-status\":\"429\"}")).c_str(), &s),
            LLM_OK);
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_ERR_RATE_LIMITED);
  EXPECT_TRUE(res.chunks.empty());
  EXPECT_EQ(llm_last_error_http_status(), 429);
  llm_stream_free(s);
}

TEST_F(E2E, FinalResponseBeforeTheEndIsRefused) {
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", "x").c_str(), &s), LLM_OK);
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_stream_final_response(s, &r), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r, nullptr);
  llm_stream_free(s);
}

namespace {
struct AsyncStream {
  std::mutex mu;
  std::condition_variable cv;
  std::string content;
  int chunks = 0;
  int done_calls = 0;
  llm_status status = LLM_OK;
  std::string final_json;
  int cancel_after = -1;
};
int on_chunk(const char* chunk, void* ud) {
  auto* a = static_cast<AsyncStream*>(ud);
  auto d = parse(chunk);
  std::lock_guard lk(a->mu);
  ++a->chunks;
  if (!d["choices"].Empty() && d["choices"][0]["delta"].HasMember("content") && d["choices"][0]["delta"]["content"].IsString())
    a->content += d["choices"][0]["delta"]["content"].GetString();
  return a->cancel_after >= 0 && a->chunks >= a->cancel_after ? 1 : 0;
}
void on_done(llm_status st, llm_response_t* r, const char* err, void* ud) {
  auto* a = static_cast<AsyncStream*>(ud);
  std::lock_guard lk(a->mu);
  a->status = st;
  if (st == LLM_OK) a->final_json = llm_response_json(r);
  else EXPECT_NE(err, nullptr);
  llm_response_free(r);
  ++a->done_calls;
  a->cv.notify_all();
}
void wait_done(AsyncStream& a) {
  std::unique_lock lk(a.mu);
  ASSERT_TRUE(a.cv.wait_for(lk, std::chrono::seconds(20), [&] { return a.done_calls > 0; }));
}
}  // namespace

TEST_F(E2E, CallbackStreamRunsOnTheIOThread) {
  AsyncStream a;
  uint64_t id = 0;
  ASSERT_EQ(llm_chat_stream_async(client, chat_req("openai/gpt-4o", "callback form").c_str(), on_chunk, on_done, &a, &id),
            LLM_OK);
  EXPECT_NE(id, 0u);
  wait_done(a);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(a.done_calls, 1);
  EXPECT_EQ(a.status, LLM_OK);
  EXPECT_EQ(a.content, "Hello from the local upstream. You said: callback form");
  EXPECT_STREQ(parse(a.final_json.c_str())["choices"][0]["message"]["content"].GetString(), a.content.c_str());
}

TEST_F(E2E, CallbackStreamCancelledByItsChunkCallback) {
  AsyncStream a;
  a.cancel_after = 2;
  ASSERT_EQ(llm_chat_stream_async(client, chat_req("openai/gpt-4o", "a b c d e f g h").c_str(), on_chunk, on_done, &a, nullptr),
            LLM_OK);
  wait_done(a);
  EXPECT_EQ(a.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(a.chunks, 2);
}

TEST_F(E2E, CallbackStreamCancelledById) {
  AsyncStream a;
  uint64_t id = 0;
  ASSERT_EQ(llm_chat_stream_async(client, chat_req("openai/gpt-4o", "a b", headers("{\"x-upstream-stall-after\":\"1\"}")).c_str(),
                                  on_chunk, on_done, &a, &id),
            LLM_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(llm_client_cancel(client, id), LLM_OK);
  wait_done(a);
  EXPECT_EQ(a.status, LLM_ERR_CANCELLED);
  EXPECT_EQ(llm_client_cancel(client, id), LLM_OK);  // finished ids are fine
}

TEST_F(E2E, SlowReaderDoesNotLoseChunks) {
  // Many chunks, read slowly at first: flow control must neither drop nor reorder.
  std::string words;
  for (int i = 0; i < 3000; ++i) words += "w" + std::to_string(i) + " ";
  words.pop_back();
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(client, chat_req("openai/gpt-4o", words).c_str(), &s), LLM_OK);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto res = drain(s);
  EXPECT_EQ(res.status, LLM_OK) << res.error;
  EXPECT_EQ(res.content, "Hello from the local upstream. You said: " + words);
  llm_stream_free(s);
}
