// The four forms a call can take, run the same way by the end-to-end tests
// and the soak (no test framework here): llm_chat, llm_chat_async, a pull
// stream (llm_chat_stream + llm_stream_next) and llm_chat_stream_async.
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "literllm.h"

namespace e2e {

enum class Form { Blocking, Async, Pull, StreamAsync };
inline const Form kAllForms[] = {Form::Blocking, Form::Async, Form::Pull, Form::StreamAsync};
inline const Form kChatForms[] = {Form::Blocking, Form::Async};
inline const Form kStreamForms[] = {Form::Pull, Form::StreamAsync};

inline const char* form_name(Form f) {
  switch (f) {
    case Form::Blocking: return "llm_chat";
    case Form::Async: return "llm_chat_async";
    case Form::Pull: return "llm_chat_stream";
    case Form::StreamAsync: return "llm_chat_stream_async";
  }
  return "?";
}
inline bool is_stream(Form f) { return f == Form::Pull || f == Form::StreamAsync; }

// How one call ended.
struct Outcome {
  llm_status status = LLM_OK;
  std::string error;         // the failure's message
  int http_status = 0;       // llm_last_error_http_status() (llm_chat and pull streams)
  std::string text;          // the final response's first content (success only)
  size_t text_len = 0;       // its length, NUL bytes included (llm_response_text_n)
  std::string response;      // the final response's JSON (success only)
  size_t chunks = 0;         // chunks delivered (streams)
  double seconds = 0;        // from the start of the call to its end
  bool timed_out = false;    // the test gave up waiting (a hang)
};

inline void take_response(llm_response_t* r, Outcome& o) {
  if (!r) return;
  size_t n = 0;
  const char* t = llm_response_text_n(r, &n);
  if (t) o.text.assign(t, n);
  o.text_len = n;
  o.response = llm_response_json(r);
}

// Runs `req` in form `f` and waits (at most `limit`) for its end.
inline Outcome run(llm_client_t* c, const std::string& req, Form f,
                   std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  using Clock = std::chrono::steady_clock;
  Outcome o;
  auto t0 = Clock::now();
  auto stop_clock = [&] { o.seconds = std::chrono::duration<double>(Clock::now() - t0).count(); };
  if (f == Form::Blocking) {
    llm_response_t* r = nullptr;
    o.status = llm_chat(c, req.c_str(), &r);
    stop_clock();
    if (o.status != LLM_OK) {
      o.error = llm_last_error();
      o.http_status = llm_last_error_http_status();
    }
    take_response(r, o);
    llm_response_free(r);
    return o;
  }
  if (f == Form::Pull) {
    llm_stream_t* s = nullptr;
    o.status = llm_chat_stream(c, req.c_str(), &s);
    if (o.status == LLM_OK) {
      for (;;) {
        const char* chunk = nullptr;
        o.status = llm_stream_next(s, &chunk);
        if (o.status != LLM_OK || !chunk) break;
        ++o.chunks;
      }
    }
    stop_clock();
    if (o.status != LLM_OK) {
      o.error = llm_last_error();
      o.http_status = llm_last_error_http_status();
    } else {
      llm_response_t* r = nullptr;
      o.status = llm_stream_final_response(s, &r);
      if (o.status != LLM_OK) o.error = llm_last_error();
      take_response(r, o);
      llm_response_free(r);
    }
    llm_stream_free(s);
    return o;
  }
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Outcome* o;
    Clock::time_point t0;
  };
  auto w = std::make_shared<Wait>();  // outlives a call the test gave up on
  w->o = &o;
  w->t0 = t0;
  auto on_done = [](llm_status st, llm_response_t* r, const char* msg, void* ud) {
    auto* w = static_cast<Wait*>(ud);
    std::lock_guard<std::mutex> lk(w->mu);
    if (w->o) {
      w->o->status = st;
      if (msg) w->o->error = msg;
      take_response(r, *w->o);
      w->o->seconds = std::chrono::duration<double>(Clock::now() - w->t0).count();
    }
    llm_response_free(r);
    w->done = true;
    w->cv.notify_all();
  };
  auto on_chunk = [](const char*, void* ud) {
    auto* w = static_cast<Wait*>(ud);
    std::lock_guard<std::mutex> lk(w->mu);
    if (w->o) ++w->o->chunks;
    return 0;
  };
  uint64_t id = 0;
  llm_status st = f == Form::Async ? llm_chat_async(c, req.c_str(), on_done, w.get(), &id)
                                   : llm_chat_stream_async(c, req.c_str(), on_chunk, on_done, w.get(), &id);
  if (st != LLM_OK) {
    stop_clock();
    o.status = st;
    o.error = llm_last_error();
    return o;
  }
  std::unique_lock<std::mutex> lk(w->mu);
  if (!w->cv.wait_for(lk, limit, [&] { return w->done; })) {
    o.timed_out = true;
    lk.unlock();
    llm_client_cancel(c, id);
    lk.lock();
    w->cv.wait(lk, [&] { return w->done; });
  }
  w->o = nullptr;
  return o;
}

}  // namespace e2e
