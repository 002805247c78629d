// libFuzzer target for the request path: json::parse -> validate_chat_request ->
// the OpenAI adapter's build_chat, the steps Client::prepare takes before a
// request leaves the process.
//
// Input: byte 0 picks the call (bit 0: streamed) and the host (bit 1: mistral,
// whose row renames fields and drops stream_options; else openai); the rest is
// the request JSON. Seeds in corpus/fuzz_request/ start with '0'..'3'.
// Checked (any failure aborts):
//  - only literllm::Error leaves parse/validate/build, with status
//    INVALID_ARGUMENT or INVALID_HEADER and a message naming "request";
//  - an INVALID_HEADER message does not echo a header value;
//  - the built body re-parses as a JSON object;
//  - the API key appears only in the Authorization header (never in the URL,
//    the body or another header), unless the request itself carried it;
//  - without extra_body (which may override anything, by design): the body's
//    model is the target's, "stream" matches the call, and the host's quirks
//    were applied (token-limit spelling, seed name, stream_options, roles).
//    (A request that repeats a member name is refused by validation: the
//    fuzzer once found that repeats defeated these checks.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/validate.hpp"
#include "fuzz_util.hpp"
#include "providers/adapter.hpp"

namespace {

using namespace literllm;
using fuzz::contains;

constexpr const char* kName = "fuzz_request";
constexpr std::string_view kApiKey = "sk-fuzz-Q7x2Lm9Vt4Rw8Kp3Zc6N";
constexpr std::string_view kBaseUrl = "https://llm.example.test/v1";

[[noreturn]] void fail(const char* what, std::string_view detail = {}) { fuzz::fail(kName, what, detail); }

Target make_target(bool mistral) {
  Target t;
  t.spec = find_builtin(mistral ? "mistral" : "openai");
  if (!t.spec) fail("built-in provider row missing");
  t.base_url = std::string(kBaseUrl);
  t.api_key = std::string(kApiKey);
  t.credential = key_credential(*t.spec, t.api_key);
  t.model = mistral ? "mistral-small-latest" : "gpt-4o-mini";
  return t;
}

// A header value is echoed if it shows in the message and is not simply part
// of a header name (the message names one header). Only values long enough,
// and with a digit (no fixed text of the validator has one), are judged.
void check_header_message(const json::Value& req, std::string_view msg) {
  const json::Value* eh = json::find(req, "extra_headers");
  if (!eh || !eh->IsObject()) return;
  for (auto& m : eh->GetObject()) {
    if (!m.value.IsString()) continue;
    std::string_view v = json::sv(m.value);
    if (v.size() < 8 || v.find_first_of("0123456789") == std::string_view::npos) continue;
    bool in_a_name = false;
    for (auto& n : eh->GetObject()) in_a_name = in_a_name || contains(json::sv(n.name), v);
    if (!in_a_name && contains(msg, v)) fail("an INVALID_HEADER message echoes a header value", msg);
  }
}

void check_built(const http::Request& r, const Target& t, bool stream, bool key_in_input, bool skip_semantics) {
  json::Document body;
  try {
    body = json::parse(r.body, "built body", LLM_ERR_INTERNAL);
  } catch (const Error& e) {
    fail("the built body does not re-parse as JSON", e.what());
  }
  if (!body.IsObject()) fail("the built body is not a JSON object", r.body);
  if (r.url != t.base_url + "/chat/completions") fail("unexpected URL", r.url);

  if (!key_in_input) {
    if (contains(r.body, kApiKey)) fail("the API key appears in the body", r.body);
    if (contains(r.url, kApiKey)) fail("the API key appears in the URL", r.url);
    for (auto& [name, value] : r.headers) {
      if (contains(name, kApiKey)) fail("the API key appears in a header name", name);
      if (!http::iequals(name, "Authorization") && contains(value, kApiKey))
        fail("the API key appears in a header other than Authorization", name);
    }
    // The request's own extra_headers may replace Authorization; else it is ours.
    if (const std::string* auth = http::find_header(r.headers, "Authorization");
        auth && contains(*auth, kApiKey) && *auth != "Bearer " + std::string(kApiKey))
      fail("malformed Authorization header");
  }
  bool auth_secret = false;
  for (auto& s : r.secret_headers) auth_secret = auth_secret || http::iequals(s, "Authorization");
  if (!auth_secret) fail("Authorization is not marked secret");

  if (skip_semantics) return;
  const json::Value* model = json::find(body, "model");
  if (!model || !model->IsString() || json::sv(*model) != t.model) fail("body.model is not the target's model", r.body);
  const json::Value* st = json::find(body, "stream");
  if (stream != (st && st->IsTrue())) fail("body.stream does not match the call", r.body);
  const Quirks& q = t.spec->quirks;
  const json::Value* so = json::find(body, "stream_options");
  if (!stream && so) fail("stream_options in an unstreamed body", r.body);
  if (stream && q.stream_usage_option) {
    const json::Value* iu = so ? json::find(*so, "include_usage") : nullptr;
    if (!iu || !iu->IsTrue()) fail("stream_options.include_usage not set", r.body);
  }
  if (stream && !q.stream_usage_option && so) fail("stream_options sent to a host that rejects it", r.body);
  if (q.tokens == TokensField::MaxCompletionTokens && json::find(body, "max_tokens"))
    fail("max_tokens not renamed", r.body);
  if (q.tokens == TokensField::MaxTokens && json::find(body, "max_completion_tokens"))
    fail("max_completion_tokens not renamed", r.body);
  if (std::string_view(q.seed_field) != "seed" && json::find(body, "seed")) fail("seed not renamed", r.body);
  if (q.developer_as_system)
    if (const json::Value* msgs = json::find(body, "messages"); msgs && msgs->IsArray())
      for (auto& m : msgs->GetArray())
        if (const json::Value* role = json::find(m, "role"); role && role->IsString() && json::sv(*role) == "developer")
          fail("a developer role sent to a host that knows none", r.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool stream = data[0] & 1;
  const bool mistral = data[0] & 2;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  json::Document req;
  try {
    req = json::parse(text, "request", LLM_ERR_INVALID_ARGUMENT);
    // OpenAI's value limits for openai; the structure alone for the other host.
    validate_chat_request(req, stream, mistral ? RequestRules::Structure : RequestRules::OpenAI);
  } catch (const Error& e) {
    const std::string_view msg = e.what();
    if (e.status() != LLM_ERR_INVALID_ARGUMENT && e.status() != LLM_ERR_INVALID_HEADER)
      fail("a rejected request has an unexpected status", msg);
    if (msg.rfind("request", 0) != 0) fail("the message does not start with the field path", msg);
    if (e.status() == LLM_ERR_INVALID_HEADER) check_header_message(req, msg);
    return 0;
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }

  try {
    // What Client::prepare does between validating and building.
    Target t = make_target(mistral);
    if (auto it = req.FindMember("timeout_secs"); it != req.MemberEnd()) req.RemoveMember(it);
    if (auto it = req.FindMember("extra_headers"); it != req.MemberEnd()) {
      for (auto& m : it->value.GetObject())
        http::set_header(t.headers, std::string(json::sv(m.name)), std::string(json::sv(m.value)));
      req.RemoveMember(it);
    }
    if (req.HasMember("fallbacks") || req.HasMember("retry")) return 0;  // refused by prepare

    const bool key_in_input = contains(text, kApiKey) || contains(json::dump(req), kApiKey) ||
                              [&] {
                                for (auto& h : t.headers)
                                  if (contains(h.first, kApiKey) || contains(h.second, kApiKey)) return true;
                                return false;
                              }();
    // extra_body may only add fields the library does not own: what the
    // library decides (model, stream, token field, seed, roles) still holds.
    const bool skip_semantics = false;
    http::Request r = operation_for(Protocol::OpenAI, Endpoint::Chat)->build(req, t, stream);
    if (t.credential) t.credential->apply(r, std::chrono::system_clock::now());  // the signing stage
    check_built(r, t, stream, key_in_input, skip_semantics);
  } catch (const Error& e) {
    fail("the OpenAI chat operation's build threw on a validated request", e.what());
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }
  return 0;
}
