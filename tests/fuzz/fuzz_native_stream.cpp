// libFuzzer target for the native protocols' stream translators: the bytes
// of a streamed answer fed, split at chosen points, into the StreamDecoder of
// the Anthropic, Gemini, Bedrock or Cohere chat operation (framing and translation
// together), every chunk into a StreamAssembler.
//
// Input: byte 0 picks the protocol (mod 4), byte 1 the piece size (1..256);
// the rest is the body. For Bedrock, lines of the rest ("<eventType> <json>")
// are first encoded as event-stream messages (so that translation, not only
// the CRCs, is reached), unless byte 0 is >= 128: then the bytes are the raw
// framing.
// Checked (any failure aborts):
//  - only literllm::Error leaves feed, finish, add;
//  - each emitted chunk text re-parses as JSON equal to the emitted DOM;
//  - after the end, the assembler's chat.completion serializes and re-parses.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/assembler.hpp"
#include "fuzz_util.hpp"
#include "http/eventstream.hpp"
#include "providers/adapter.hpp"

namespace {

using namespace literllm;

constexpr const char* kName = "fuzz_native_stream";

[[noreturn]] void fail(const char* what, std::string_view detail = {}) { fuzz::fail(kName, what, detail); }

const Target& target(int which) {
  static const std::array<Target, 4> targets = [] {
    const char* names[4] = {"anthropic", "gemini", "bedrock", "cohere"};
    std::array<Target, 4> out;
    for (int i = 0; i < 4; ++i) {
      out[i].spec = find_builtin(names[i]);
      if (!out[i].spec) fail("built-in provider row missing");
      out[i].base_url = "https://llm.example.test";
      out[i].model = "model-1";
      out[i].settings = {{"region", "us-east-1"}};
    }
    return out;
  }();
  return targets[static_cast<size_t>(which)];
}

std::string bedrock_frames(std::string_view text) {
  std::string wire;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(at, nl - at);
    at = nl + 1;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp > 255 || line.size() - sp - 1 > 60000) continue;
    if (line.substr(0, sp) == "!") {  // "! <exceptionType>" lines: an exception
      wire += http::encode_exception_message(line.substr(sp + 1), "{\"message\":\"m\"}");
      continue;
    }
    wire += http::encode_event_message(line.substr(0, sp), line.substr(sp + 1));
  }
  return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int which = data[0] % 4;
  const bool raw = data[0] >= 128;
  const size_t piece = static_cast<size_t>(data[1]) + 1;
  std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
  if (which == 2 && !raw) body = bedrock_frames(body);

  const Target& t = target(which);
  const Operation* op = operation_for(t.spec->protocol, Endpoint::Chat);
  if (!op) fail("no chat operation");
  StreamAssembler assembler;
  const ChunkSink sink = [&](std::string_view text, const json::Value& chunk) {
    std::string why;
    if (!fuzz::reparses_as(text, chunk, &why)) fail("an emitted chunk's text does not re-parse to its DOM", why);
    assembler.add(chunk);
    return true;
  };
  try {
    auto dec = op->stream_decoder(t, Limits{});
    StreamDecoder::Fed fed = StreamDecoder::Fed::More;
    for (size_t i = 0; i < body.size() && fed == StreamDecoder::Fed::More; i += piece)
      fed = dec->feed(body.data() + i, std::min(piece, body.size() - i), sink);
    if (fed == StreamDecoder::Fed::More) dec->finish(sink);
  } catch (const Error& e) {
    if (e.status() == LLM_OK) fail("an Error with status LLM_OK", e.what());
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }
  try {
    const json::Document done = assembler.finish();
    const std::string text = json::dump(done);
    std::string why;
    if (!fuzz::reparses_as(text, done, &why)) fail("the assembled response does not re-parse", why);
  } catch (const Error&) {
    // a limit crossed while assembling: typed, fine
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }
  return 0;
}
