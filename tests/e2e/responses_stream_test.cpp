// llm_call_stream end to end: the OpenAI Responses API streamed, through the C
// API against the local upstream (which streams the events OpenAI sends, from
// the same response it answers unstreamed: tests/upstream/responses_stream.hpp).
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "e2e.hpp"

using namespace e2e;

namespace {

struct Events {
  llm_status status = LLM_OK;
  std::string error;
  std::vector<std::string> types;
  std::vector<rapidjson::Document> events;
  std::string text;  // response.output_text.delta joined
  std::string args;  // response.function_call_arguments.delta joined
  rapidjson::Document final_json;
};

void take(Events& e, const char* chunk) {
  e.events.emplace_back();
  rapidjson::Document& d = e.events.back();
  d.Parse(chunk);
  ASSERT_FALSE(d.HasParseError()) << chunk;
  ASSERT_TRUE(d.HasMember("type")) << chunk;
  const std::string type = d["type"].GetString();
  e.types.push_back(type);
  if (type == "response.output_text.delta") e.text += d["delta"].GetString();
  if (type == "response.function_call_arguments.delta") e.args += d["delta"].GetString();
}

class ResponsesStream : public E2E {
 protected:
  Events stream(const std::string& req, const std::string& endpoint = "responses.create") {
    Events e;
    llm_stream_t* s = nullptr;
    e.status = llm_call_stream(client, endpoint.c_str(), req.c_str(), nullptr, nullptr, 0, &s);
    if (e.status != LLM_OK) {
      e.error = llm_last_error();
      EXPECT_EQ(s, nullptr);
      return e;
    }
    for (;;) {
      const char* chunk = nullptr;
      llm_status st = llm_stream_next(s, &chunk);
      if (st != LLM_OK) {
        e.status = st;
        e.error = llm_last_error();
        break;
      }
      if (!chunk) break;
      take(e, chunk);
    }
    llm_response_t* r = nullptr;
    if (e.status == LLM_OK) {
      EXPECT_EQ(llm_stream_final_response(s, &r), LLM_OK) << llm_last_error();
      e.final_json = parse(r ? llm_response_json(r) : nullptr);
      llm_response_free(r);
    } else {
      EXPECT_EQ(llm_stream_final_response(s, &r), e.status);
    }
    llm_stream_free(s);
    return e;
  }
};

TEST_F(ResponsesStream, TextArrivesAsTypedEventsAndTheFinalResponseIsTheCompletedOne) {
  Events e = stream(R"({"model":"openai/gpt-4o-mini","input":"tell me something","store":false})");
  ASSERT_EQ(e.status, LLM_OK) << e.error;
  ASSERT_GE(e.types.size(), 9u);
  EXPECT_EQ(e.types.front(), "response.created");
  EXPECT_EQ(e.types[1], "response.in_progress");
  EXPECT_EQ(e.types.back(), "response.completed");
  size_t deltas = 0;
  for (size_t i = 0; i < e.events.size(); ++i) {
    EXPECT_EQ(e.events[i]["sequence_number"].GetInt64(), static_cast<int64_t>(i)) << "passed through, in order";
    deltas += e.types[i] == "response.output_text.delta";
  }
  EXPECT_GE(deltas, 3u) << "text a piece at a time";
  EXPECT_EQ(e.text, "Hello from the local upstream. You said: tell me something");
  // The final response: the completed event's, with provider and stats.
  ASSERT_TRUE(e.final_json.IsObject());
  EXPECT_STREQ(e.final_json["object"].GetString(), "response");
  EXPECT_STREQ(e.final_json["status"].GetString(), "completed");
  EXPECT_STREQ(e.final_json["provider"].GetString(), "openai");
  EXPECT_TRUE(e.final_json["stats"].IsObject());
  EXPECT_STREQ(e.final_json["output"][0]["content"][0]["text"].GetString(), e.text.c_str());
  EXPECT_EQ(e.final_json["id"], e.events.back()["response"]["id"]);
  EXPECT_GT(e.final_json["usage"]["output_tokens"].GetInt(), 0);
  // Sent as a streamed request: "stream": true added.
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_TRUE(body["stream"].IsTrue());
  EXPECT_STREQ(body["model"].GetString(), "gpt-4o-mini");
}

TEST_F(ResponsesStream, FunctionCallArgumentsStreamInPieces) {
  Events e = stream(R"({"model":"openai/gpt-4o-mini","input":"weather in Paris?","stream":true,
    "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]})");
  ASSERT_EQ(e.status, LLM_OK) << e.error;
  size_t pieces = 0;
  for (auto& t : e.types) pieces += t == "response.function_call_arguments.delta";
  EXPECT_GE(pieces, 2u);
  const auto& item = e.final_json["output"][0];
  EXPECT_STREQ(item["type"].GetString(), "function_call");
  EXPECT_STREQ(item["name"].GetString(), "get_weather");
  EXPECT_EQ(e.args, item["arguments"].GetString());
  EXPECT_NE(e.args.find("\"city\""), std::string::npos);
}

TEST_F(ResponsesStream, IncompleteIsNotAnError) {
  Events e = stream(R"({"model":"openai/gpt-4o-mini","input":"a long story please, with many many words in it, more than sixteen of them","max_output_tokens":16})");
  ASSERT_EQ(e.status, LLM_OK) << e.error;
  EXPECT_EQ(e.types.back(), "response.incomplete");
  EXPECT_STREQ(e.final_json["status"].GetString(), "incomplete");
  EXPECT_STREQ(e.final_json["incomplete_details"]["reason"].GetString(), "max_output_tokens");
}

TEST_F(ResponsesStream, FailuresAreTypedErrors) {
  // response.failed mid-stream: its code decides the status.
  Events failed = stream(R"({"model":"openai/gpt-4o-mini","input":"hi","extra_headers":{"x-upstream-stream-error":"server_error"}})");
  EXPECT_EQ(failed.status, LLM_ERR_STREAMING) << failed.error;
  EXPECT_NE(failed.error.find("response failed"), std::string::npos) << failed.error;
  EXPECT_NE(failed.error.find("failed to generate"), std::string::npos) << failed.error;
  EXPECT_FALSE(failed.types.empty()) << "the events before the failure arrived";
  Events limited = stream(R"({"model":"openai/gpt-4o-mini","input":"hi","extra_headers":{"x-upstream-stream-error":"rate_limit_exceeded"}})");
  EXPECT_EQ(limited.status, LLM_ERR_RATE_LIMITED) << limited.error;  // the status its code says (the header)
  // A stream cut before its terminal event.
  Events cut = stream(R"({"model":"openai/gpt-4o-mini","input":"hi there","extra_headers":{"x-upstream-cut-after":"4"}})");
  EXPECT_EQ(cut.status, LLM_ERR_STREAMING) << cut.error;
  EXPECT_EQ(cut.types.size(), 4u);
  // An HTTP error before the stream: the request's, typed.
  Events bad = stream(R"({"model":"openai/gpt-4o-mini","input":"hi","temperature":7})");
  EXPECT_EQ(bad.status, LLM_ERR_INVALID_ARGUMENT) << bad.error;  // refused before anything is sent
}

TEST_F(ResponsesStream, OnlyStreamingEndpointsStream) {
  Events e = stream(R"({"model":"openai/text-embedding-3-small","input":"x"})", "embeddings");
  EXPECT_EQ(e.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(e.error.find("\"embeddings\" does not stream"), std::string::npos) << e.error;
  Events off = stream(R"({"model":"openai/gpt-4o-mini","input":"x","stream":false})");
  EXPECT_EQ(off.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(off.error.find("request.stream"), std::string::npos) << off.error;
  // And llm_call refuses "stream": true.
  llm_response_t* r = nullptr;
  EXPECT_EQ(llm_call(client, "responses.create", R"({"model":"openai/gpt-4o-mini","input":"x","stream":true})", nullptr,
                     nullptr, 0, &r),
            LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("llm_call_stream"), std::string::npos) << llm_last_error();
  EXPECT_TRUE(up.requests().empty()) << "nothing sent";
  // "chat" through llm_call_stream is llm_chat_stream.
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_call_stream(client, "chat", chat_req("openai/gpt-4o-mini", "hello").c_str(), nullptr, nullptr, 0, &s),
            LLM_OK)
      << llm_last_error();
  StreamResult chat = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(chat.status, LLM_OK) << chat.error;
  EXPECT_FALSE(chat.content.empty());
  // The preview of a streamed call says "stream": true.
  char* preview = nullptr;
  ASSERT_EQ(llm_preview_call(client, "responses.create", R"({"model":"openai/gpt-4o-mini","input":"x","stream":true})",
                             nullptr, nullptr, 0, &preview),
            LLM_OK)
      << llm_last_error();
  EXPECT_NE(std::string(preview).find(R"(\"stream\":true)"), std::string::npos) << preview;
  llm_string_free(preview);
}

TEST_F(ResponsesStream, CallbackFormDeliversEveryEventThenTheFinalResponse) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    llm_status status = LLM_OK;
    Events events;
    std::string final_json;
  } st;
  auto on_chunk = [](const char* chunk, void* u) {
    auto* s = static_cast<State*>(u);
    std::lock_guard lk(s->mu);
    take(s->events, chunk);
    return 0;
  };
  auto on_done = [](llm_status status, llm_response_t* r, const char*, void* u) {
    auto* s = static_cast<State*>(u);
    std::lock_guard lk(s->mu);
    s->status = status;
    if (r) s->final_json = llm_response_json(r);
    llm_response_free(r);
    s->done = true;
    s->cv.notify_all();
  };
  uint64_t id = 0;
  ASSERT_EQ(llm_call_stream_async(client, "responses.create", R"({"model":"openai/gpt-4o-mini","input":"callbacks"})",
                                  nullptr, nullptr, 0, on_chunk, on_done, &st, &id),
            LLM_OK)
      << llm_last_error();
  EXPECT_NE(id, 0u);
  std::unique_lock lk(st.mu);
  ASSERT_TRUE(st.cv.wait_for(lk, std::chrono::seconds(30), [&] { return st.done; }));
  EXPECT_EQ(st.status, LLM_OK);
  EXPECT_EQ(st.events.types.back(), "response.completed");
  EXPECT_EQ(st.events.text, "Hello from the local upstream. You said: callbacks");
  rapidjson::Document d = parse(st.final_json.c_str());
  EXPECT_STREQ(d["status"].GetString(), "completed");
}

}  // namespace
