// libFuzzer target for the streamed-answer path: the OpenAI stream
// translation (openai_stream_event), chunk by chunk, into a StreamAssembler.
//
// Input: lines (LF or CRLF). A line "event: NAME" sets the type of the next
// event (so the error-event path is reachable); any other line is one event's
// data, after an optional "data:" / "data: " prefix (so lines copied from a
// recorded stream work as seeds). "[DONE]" ends the stream, as does an error.
// Checked (any failure aborts):
//  - only literllm::Error leaves openai_stream_event, add and finish;
//  - each emitted chunk text re-parses as JSON equal to the emitted DOM;
//  - finish() gives a chat.completion that serializes, re-parses to the same
//    DOM, and has one choice per distinct choice index seen.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/assembler.hpp"
#include "fuzz_util.hpp"
#include "providers/adapter.hpp"

namespace {

using namespace literllm;

constexpr const char* kName = "fuzz_stream";

[[noreturn]] void fail(const char* what, std::string_view detail = {}) { fuzz::fail(kName, what, detail); }

const Target& target() {
  static const Target t = [] {
    Target t;
    t.spec = find_builtin("openai");
    if (!t.spec) fail("built-in provider row missing");
    t.base_url = "https://llm.example.test/v1";
    t.api_key = "sk-fuzz-Q7x2Lm9Vt4Rw8Kp3Zc6N";
    t.model = "gpt-4o-mini";
    return t;
  }();
  return t;
}

// The choice indexes a chunk names (as StreamAssembler::add reads them).
void note_indexes(const json::Value& chunk, std::set<int64_t>& seen) {
  const json::Value* choices = json::find(chunk, "choices");
  if (!choices || !choices->IsArray()) return;
  for (auto& ch : choices->GetArray()) {
    const json::Value* i = json::find(ch, "index");
    seen.insert(i && i->IsInt64() ? i->GetInt64() : 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  StreamAssembler assembler;
  std::set<int64_t> indexes;
  size_t emitted = 0;

  const ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
    std::string why;
    if (!fuzz::reparses_as(text, chunk, &why)) fail("an emitted chunk's text does not re-parse to its DOM", why);
    ++emitted;
    note_indexes(chunk, indexes);
    assembler.add(chunk);
    return true;
  };

  try {
    std::string event;
    size_t at = 0;
    while (at <= in.size()) {
      size_t nl = in.find('\n', at);
      if (nl == std::string_view::npos) nl = in.size();
      std::string_view line = in.substr(at, nl - at);
      at = nl + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.rfind("event:", 0) == 0) {
        line.remove_prefix(6);
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        event = std::string(line);
        continue;
      }
      if (line.rfind("data:", 0) == 0) {
        line.remove_prefix(5);
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      }
      if (line.empty() && event.empty()) continue;  // a blank line between events
      const std::string owned(line);  // the framer's views die after the event; so does this
      http::SseEvent ev{event, owned, {}};
      const bool more = openai_stream_event(ev, target(), sink);
      event.clear();
      if (!more) break;
    }
  } catch (const Error& e) {
    // A broken stream: an error event, an error object in a chunk (mapped like
    // an HTTP error body, so any kind may come out), or a malformed event.
    if (e.status() == LLM_OK) fail("an Error with status LLM_OK", e.what());
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }

  if (assembler.chunks() != emitted) fail("the assembler counted a different number of chunks");
  try {
    const json::Document done = assembler.finish();
    (void)assembler.all_finished();
    const std::string text = json::dump(done);
    std::string why;
    if (!fuzz::reparses_as(text, done, &why)) fail("finish() does not serialize to JSON that re-parses", why + "\n" + text);
    const json::Value* choices = json::find(done, "choices");
    if (!choices || !choices->IsArray() || choices->Size() != indexes.size())
      fail("finish() has not one choice per choice index seen", text);
  } catch (const Error& e) {
    fail("finish() threw", e.what());
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }
  return 0;
}
