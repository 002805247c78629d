// Google's Gemini API (generativelanguage.googleapis.com/v1beta/models/
// {model}:generateContent, and :streamGenerateContent?alt=sse; the same body
// on Vertex AI): OpenAI-shaped requests translated to GenerateContentRequests,
// and GenerateContentResponses (whole, or one per SSE event) translated back
// to chat.completion objects and chunks. See gemini.hpp for where thought
// signatures and tool call ids live.
#include "providers/gemini.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <string_view>
#include <vector>


#include "core/errors.hpp"
#include "core/json_fast.hpp"
#include "http/headers.hpp"
#include "providers/adapter.hpp"
#include "providers/codec.hpp"
#include "providers/native_endpoints.hpp"

namespace literllm {

namespace {

using json::Value;

constexpr const char* kSignatureBlock = "gemini_thought_signature";

using codec::bad;
using codec::now_secs;
using codec::split_data_url;
using codec::str_of;

bool true_at(const Value& obj, const char* key) {
  const Value* v = json::find(obj, key);
  return v && v->IsTrue();
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && http::iequals(s.substr(s.size() - suffix.size()), suffix);
}

// The media type of a file URL, from its extension ("" when unknown).
std::string_view media_type_of_url(std::string_view url) {
  if (size_t q = url.find_first_of("?#"); q != std::string_view::npos) url = url.substr(0, q);
  static const std::pair<const char*, const char*> kTypes[] = {
      {".png", "image/png"},        {".jpg", "image/jpeg"},      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},      {".gif", "image/gif"},       {".heic", "image/heic"},
      {".heif", "image/heif"},      {".pdf", "application/pdf"}, {".wav", "audio/wav"},
      {".mp3", "audio/mp3"},        {".flac", "audio/flac"},     {".ogg", "audio/ogg"},
      {".aac", "audio/aac"},        {".mp4", "video/mp4"},       {".mov", "video/mov"},
      {".webm", "video/webm"},      {".txt", "text/plain"},      {".csv", "text/csv"},
      {".html", "text/html"},       {".md", "text/md"},
  };
  for (auto& [ext, type] : kTypes)
    if (ends_with_ci(url, ext)) return type;
  return {};
}

// FNV-1a, 64 bits: the synthesized tool call ids.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // a separator no UTF-8 text contains
    h *= 1099511628211ull;
  }
};

std::string synth_id(std::string_view response_id, int64_t candidate, int64_t call, std::string_view name,
                     std::string_view args) {
  Fnv f;
  f.add(response_id);
  f.add(std::to_string(candidate));
  f.add(std::to_string(call));
  f.add(name);
  f.add(args);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
  return std::string("call_") + buf;
}

// ------------------------------------------------------------------ requests

class RequestBuilder {
 public:
  RequestBuilder(json::Document& req, const Target& t) : req_(req), t_(t), body_(rapidjson::kObjectType), a_(body_.GetAllocator()) {}

  json::Document build() {
    messages();
    tools();
    generation();
    merge_provider_options(req_, body_, t_, a_);
    if (auto eb = req_.FindMember("extra_body"); eb != req_.MemberEnd() && eb->value.IsObject()) {
      Value extra(eb->value, a_);
      add_new_members(body_, extra, a_);
    }
    return std::move(body_);
  }

 private:
  Value text_part(std::string_view text) {
    Value p(rapidjson::kObjectType);
    p.AddMember("text", json::str(text, a_), a_);
    return p;
  }

  Value blob(const char* kind, std::string_view media, const char* data_key, std::string_view data) {
    Value inner(rapidjson::kObjectType);
    if (!media.empty()) inner.AddMember("mimeType", json::str(media, a_), a_);
    inner.AddMember(rapidjson::StringRef(data_key), json::str(data, a_), a_);
    Value p(rapidjson::kObjectType);
    p.AddMember(rapidjson::StringRef(kind), inner, a_);
    return p;
  }

  // A data: URL as inlineData, an http(s) or gs:// URL (or a Files API URI) as fileData.
  Value media_part(std::string_view url, std::string_view media_hint, const std::string& path) {
    std::string_view media, data;
    if (split_data_url(url, media, data)) return blob("inlineData", media, "data", data);
    if (url.substr(0, 8) == "https://" || url.substr(0, 7) == "http://" || url.substr(0, 5) == "gs://") {
      std::string_view type = !media_hint.empty() ? media_hint : media_type_of_url(url);
      return blob("fileData", type, "fileUri", url);
    }
    bad(path, "expected a data: URL (data:<media type>;base64,...), an http(s) URL or a gs:// URI");
  }

  // One OpenAI content part as a Gemini part.
  Value part_of(const Value& part, const std::string& path) {
    std::string_view type = str_of(part, "type");
    if (type == "text") return text_part(str_of(part, "text"));
    if (type == "image_url") {
      const Value* iu = json::find(part, "image_url");
      std::string_view url = iu && iu->IsObject() ? str_of(*iu, "url") : iu && iu->IsString() ? json::sv(*iu) : "";
      std::string_view hint = iu && iu->IsObject() ? str_of(*iu, "format") : std::string_view();
      return media_part(url, hint, path + ".image_url.url");
    }
    if (type == "file") {
      const Value* f = json::find(part, "file");
      if (!f || !f->IsObject()) bad(path + ".file", "expected an object");
      std::string_view hint = str_of(*f, "format");
      if (std::string_view data = str_of(*f, "file_data"); !data.empty())
        return media_part(data, hint, path + ".file.file_data");
      if (std::string_view id = str_of(*f, "file_id"); !id.empty()) {
        if (id.substr(0, 6) == "files/")  // a Files API name: its URI
          return blob("fileData", hint, "fileUri", "https://generativelanguage.googleapis.com/v1beta/" + std::string(id));
        return media_part(id, hint, path + ".file.file_id");
      }
      bad(path + ".file", "needs file_data (a data: URL) or file_id (a file URI)");
    }
    if (type == "input_audio") {
      const Value* au = json::find(part, "input_audio");
      if (!au || !au->IsObject()) bad(path + ".input_audio", "expected an object");
      std::string_view format = str_of(*au, "format");
      if (format.empty()) bad(path + ".input_audio.format", "is required");
      return blob("inlineData", "audio/" + std::string(format), "data", str_of(*au, "data"));
    }
    bad(path + ".type", "\"" + std::string(type) + "\" parts cannot be sent to gemini");
  }

  // Appends a message's content (string or parts) to `parts`; empty texts are
  // left out (Gemini refuses an empty text part).
  void content_parts(const Value& content, Value& parts, const std::string& path) {
    if (content.IsString()) {
      if (content.GetStringLength() > 0) parts.PushBack(text_part(json::sv(content)), a_);
    } else if (content.IsArray()) {
      for (rapidjson::SizeType i = 0; i < content.Size(); ++i) {
        const Value& p = content[i];
        if (str_of(p, "type") == "text" && str_of(p, "text").empty()) continue;
        parts.PushBack(part_of(p, path + "[" + std::to_string(i) + "]"), a_);
      }
    }
  }

  // Contents: user turns, model turns, tool results (as functionResponse parts
  // of a user turn); consecutive turns of one role become one. System and
  // developer messages become systemInstruction.
  void messages() {
    Value system(rapidjson::kArrayType);
    Value out(rapidjson::kArrayType);
    const Value& msgs = req_["messages"];
    for (rapidjson::SizeType i = 0; i < msgs.Size(); ++i) {
      const Value& m = msgs[i];
      std::string path = "messages[" + std::to_string(i) + "]";
      std::string_view role = str_of(m, "role");
      const Value* content = json::find(m, "content");
      Value parts(rapidjson::kArrayType);
      std::string_view turn = "user";
      if (role == "system" || role == "developer") {
        if (content) content_parts(*content, system, path + ".content");
        continue;
      } else if (role == "user") {
        if (content) content_parts(*content, parts, path + ".content");
      } else if (role == "assistant") {
        turn = "model";
        assistant_parts(m, parts, path);
      } else if (role == "tool" || role == "function") {
        parts.PushBack(function_response(m, path), a_);
      } else {
        bad(path + ".role", "\"" + std::string(role) + "\" cannot be sent to gemini");
      }
      if (parts.Empty()) continue;  // an empty turn (Gemini refuses one)
      if (!out.Empty() && str_of(out[out.Size() - 1], "role") == turn) {
        Value& prev = out[out.Size() - 1]["parts"];
        for (auto& p : parts.GetArray()) prev.PushBack(p, a_);
        continue;
      }
      Value c(rapidjson::kObjectType);
      c.AddMember("role", json::str(turn, a_), a_);
      c.AddMember("parts", parts, a_);
      out.PushBack(c, a_);
    }
    if (out.Empty()) invalid("request.messages: gemini needs at least one user or assistant message");
    body_.AddMember("contents", out, a_);
    if (!system.Empty()) {
      Value si(rapidjson::kObjectType);
      si.AddMember("parts", system, a_);
      body_.AddMember("systemInstruction", si, a_);
    }
  }

  // An assistant message: its text, then its function calls, each signature
  // on the part it came with.
  void assistant_parts(const Value& m, Value& parts, const std::string& path) {
    std::map<std::string, std::string, std::less<>> call_sigs;
    std::string text_sig;
    if (const Value* tb = json::find(m, "thinking_blocks"); tb && tb->IsArray())
      for (auto& b : tb->GetArray()) {
        if (str_of(b, "type") != kSignatureBlock) continue;  // another provider's blocks: not Gemini's to read
        std::string_view sig = str_of(b, "signature");
        if (sig.empty()) continue;
        if (std::string_view id = str_of(b, "tool_call_id"); !id.empty()) call_sigs[std::string(id)] = std::string(sig);
        else text_sig = std::string(sig);
      }
    if (const Value* content = json::find(m, "content")) content_parts(*content, parts, path + ".content");
    if (!text_sig.empty()) {
      // On the last text part (where Gemini puts it); without text, it has no part to go on.
      for (rapidjson::SizeType k = parts.Size(); k-- > 0;)
        if (parts[k].HasMember("text")) {
          parts[k].AddMember("thoughtSignature", json::str(text_sig, a_), a_);
          break;
        }
    }
    const Value* tcs = json::find(m, "tool_calls");
    if (!tcs || !tcs->IsArray()) return;
    for (rapidjson::SizeType k = 0; k < tcs->Size(); ++k) {
      const Value& tc = (*tcs)[k];
      std::string tpath = path + ".tool_calls[" + std::to_string(k) + "]";
      const Value* fn = json::find(tc, "function");
      if (!fn || !fn->IsObject()) bad(tpath + ".function", "expected an object");
      std::string_view id = str_of(tc, "id");
      std::string_view name = str_of(*fn, "name");
      if (name.empty()) bad(tpath + ".function.name", "is required");
      if (!id.empty()) call_names_[std::string(id)] = std::string(name);
      Value call(rapidjson::kObjectType);
      call.AddMember("name", json::str(name, a_), a_);
      std::string_view args = str_of(*fn, "arguments");
      Value obj(rapidjson::kObjectType);
      if (!args.empty()) {
        json::Document parsed;
        try {
          parsed = json::parse(args, "arguments", LLM_ERR_INVALID_ARGUMENT);
        } catch (const Error&) {
          bad(tpath + ".function.arguments", "is not valid JSON (gemini takes the arguments as an object)");
        }
        if (!parsed.IsObject()) bad(tpath + ".function.arguments", "must be a JSON object for gemini");
        obj.CopyFrom(parsed, a_);
      }
      call.AddMember("args", obj, a_);
      Value p(rapidjson::kObjectType);
      p.AddMember("functionCall", call, a_);
      std::string sig;
      if (auto it = call_sigs.find(id); !id.empty() && it != call_sigs.end()) sig = it->second;
      if (const Value* ec = json::find(tc, "extra_content"); sig.empty() && ec)
        if (const Value* g = json::find(*ec, "google")) sig = std::string(str_of(*g, "thought_signature"));
      if (!sig.empty()) p.AddMember("thoughtSignature", json::str(sig, a_), a_);
      parts.PushBack(p, a_);
    }
  }

  // A tool result: a functionResponse named after the call it answers.
  Value function_response(const Value& m, const std::string& path) {
    std::string_view id = str_of(m, "tool_call_id");
    std::string name;
    if (!id.empty()) {
      auto it = call_names_.find(id);
      if (it != call_names_.end()) name = it->second;
    }
    if (name.empty()) name = std::string(str_of(m, "name"));  // the deprecated function role, or a named result
    if (name.empty()) {
      if (id.empty()) bad(path + ".tool_call_id", "is required");
      bad(path + ".tool_call_id", "\"" + std::string(id) +
                                      "\" matches no earlier assistant tool call (gemini needs the function's name)");
    }
    std::string text;
    const Value* content = json::find(m, "content");
    if (content && content->IsString()) {
      text = std::string(json::sv(*content));
    } else if (content && content->IsArray()) {
      for (rapidjson::SizeType k = 0; k < content->Size(); ++k) {
        const Value& p = (*content)[k];
        if (str_of(p, "type") != "text")
          bad(path + ".content[" + std::to_string(k) + "]", "gemini takes only text in a tool result");
        text += str_of(p, "text");
      }
    }
    Value response(rapidjson::kObjectType);
    json::Document parsed;
    bool object = false;
    if (!text.empty() && (text.front() == '{')) {
      try {
        parsed = json::parse(text, "tool result", LLM_ERR_INVALID_ARGUMENT);
        object = parsed.IsObject();
      } catch (const Error&) {
      }
    }
    if (object) response.CopyFrom(parsed, a_);
    else response.AddMember("result", json::str(text, a_), a_);
    Value fr(rapidjson::kObjectType);
    fr.AddMember("name", json::str(name, a_), a_);
    fr.AddMember("response", response, a_);
    Value p(rapidjson::kObjectType);
    p.AddMember("functionResponse", fr, a_);
    return p;
  }

  void tools() {
    const Value* tools = json::find(req_, "tools");
    Value decls(rapidjson::kArrayType);
    Value others(rapidjson::kArrayType);
    std::vector<std::string> allowed;  // allowed_tools with mode auto: only these are declared
    const Value* tc = json::find(req_, "tool_choice");
    const Value* at = tc && tc->IsObject() && str_of(*tc, "type") == "allowed_tools" ? json::find(*tc, "allowed_tools")
                                                                                      : nullptr;
    if (at)
      if (const Value* list = json::find(*at, "tools"); list && list->IsArray())
        for (auto& t : list->GetArray())
          if (const Value* fn = json::find(t, "function")) allowed.emplace_back(str_of(*fn, "name"));
    bool filter = at && str_of(*at, "mode") != "required";
    if (tools && tools->IsArray()) {
      for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
        const Value& tool = (*tools)[i];
        std::string path = "tools[" + std::to_string(i) + "]";
        std::string_view type = str_of(tool, "type");
        if (type != "function") {
          // Gemini's own tools ({"googleSearch":{}}, {"codeExecution":{}}, ...) pass as given.
          Value t(tool, a_);
          t.RemoveMember("type");
          if (t.MemberCount() == 0) bad(path + ".type", "\"" + std::string(type) + "\" tools cannot be sent to gemini");
          others.PushBack(t, a_);
          continue;
        }
        const Value* fn = json::find(tool, "function");
        if (!fn || !fn->IsObject()) bad(path + ".function", "expected an object");
        std::string_view name = str_of(*fn, "name");
        if (filter && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) continue;
        Value d(rapidjson::kObjectType);
        d.AddMember("name", json::str(name, a_), a_);
        if (std::string_view desc = str_of(*fn, "description"); !desc.empty())
          d.AddMember("description", json::str(desc, a_), a_);
        // Full JSON Schema goes in parametersJsonSchema (the OpenAPI subset in
        // "parameters" would refuse additionalProperties, $schema, ...).
        if (const Value* p = json::find(*fn, "parameters"); p && p->IsObject())
          d.AddMember("parametersJsonSchema", Value(*p, a_), a_);
        decls.PushBack(d, a_);
      }
    }
    Value out(rapidjson::kArrayType);
    if (!decls.Empty()) {
      Value t(rapidjson::kObjectType);
      t.AddMember("functionDeclarations", decls, a_);
      out.PushBack(t, a_);
    }
    for (auto& t : others.GetArray()) out.PushBack(t, a_);
    if (!out.Empty()) body_.AddMember("tools", out, a_);
    if (!tc) return;
    Value fcc(rapidjson::kObjectType);
    if (tc->IsString()) {
      std::string_view c = json::sv(*tc);
      fcc.AddMember("mode", rapidjson::StringRef(c == "required" ? "ANY" : c == "none" ? "NONE" : "AUTO"), a_);
    } else if (tc->IsObject()) {
      Value names(rapidjson::kArrayType);
      if (at) {
        if (filter) {
          fcc.AddMember("mode", "AUTO", a_);
        } else {
          fcc.AddMember("mode", "ANY", a_);
          for (auto& n : allowed) names.PushBack(json::str(n, a_), a_);
        }
      } else {
        const Value* fn = json::find(*tc, "function");
        std::string_view name = fn ? str_of(*fn, "name") : std::string_view();
        if (name.empty()) bad("tool_choice.function.name", "is required");
        fcc.AddMember("mode", "ANY", a_);
        names.PushBack(json::str(name, a_), a_);
      }
      if (!names.Empty()) fcc.AddMember("allowedFunctionNames", names, a_);
    }
    if (!fcc.HasMember("mode")) return;
    Value cfg(rapidjson::kObjectType);
    cfg.AddMember("functionCallingConfig", fcc, a_);
    body_.AddMember("toolConfig", cfg, a_);
  }

  void copy_number(Value& gc, const char* from, const char* to) {
    if (const Value* v = json::find(req_, from); v && v->IsNumber()) gc.AddMember(rapidjson::StringRef(to), Value(*v, a_), a_);
  }

  void generation() {
    Value gc(rapidjson::kObjectType);
    copy_number(gc, "temperature", "temperature");
    copy_number(gc, "top_p", "topP");
    copy_number(gc, "top_k", "topK");
    copy_number(gc, "presence_penalty", "presencePenalty");
    copy_number(gc, "frequency_penalty", "frequencyPenalty");
    copy_number(gc, "seed", "seed");
    for (const char* k : {"max_completion_tokens", "max_tokens"})
      if (const Value* v = json::find(req_, k); v && v->IsInt64()) {
        gc.AddMember("maxOutputTokens", v->GetInt64(), a_);
        break;
      }
    if (const Value* n = json::find(req_, "n"); n && n->IsInt64() && n->GetInt64() != 1)
      gc.AddMember("candidateCount", n->GetInt64(), a_);
    if (const Value* stop = json::find(req_, "stop")) {
      Value seqs(rapidjson::kArrayType);
      if (stop->IsString()) seqs.PushBack(Value(*stop, a_), a_);
      else if (stop->IsArray())
        for (auto& s : stop->GetArray()) seqs.PushBack(Value(s, a_), a_);
      if (!seqs.Empty()) gc.AddMember("stopSequences", seqs, a_);
    }
    if (const Value* rf = json::find(req_, "response_format"); rf && rf->IsObject()) {
      std::string_view type = str_of(*rf, "type");
      if (type == "json_schema") {
        const Value* js = json::find(*rf, "json_schema");
        const Value* schema = js ? json::find(*js, "schema") : nullptr;
        gc.AddMember("responseMimeType", "application/json", a_);
        if (schema && schema->IsObject()) gc.AddMember("responseJsonSchema", Value(*schema, a_), a_);
      } else if (type == "json_object") {
        gc.AddMember("responseMimeType", "application/json", a_);
      }
    }
    thinking(gc);
    if (gc.MemberCount() > 0) body_.AddMember("generationConfig", gc, a_);
  }

  // reasoning_effort as thinkingLevel (Gemini 3 and later) or thinkingBudget
  // (Gemini 2.5); an Anthropic-style "thinking" object's budget as thinkingBudget.
  void thinking(Value& gc) {
    Value tc(rapidjson::kObjectType);
    if (const Value* th = json::find(req_, "thinking"); th && th->IsObject()) {
      if (str_of(*th, "type") == "disabled") {
        tc.AddMember("thinkingBudget", 0, a_);
      } else if (const Value* bt = json::find(*th, "budget_tokens"); bt && bt->IsInt64()) {
        tc.AddMember("thinkingBudget", bt->GetInt64(), a_);
        tc.AddMember("includeThoughts", true, a_);
      }
    } else if (std::string_view effort = str_of(req_, "reasoning_effort"); !effort.empty()) {
      bool levels = t_.model.find("gemini-2") == std::string::npos && t_.model.find("gemini-1") == std::string::npos;
      if (effort == "none") {
        if (levels) tc.AddMember("thinkingLevel", "minimal", a_);  // Gemini 3 cannot turn thinking off
        else tc.AddMember("thinkingBudget", 0, a_);
      } else if (levels) {
        const char* level = effort == "xhigh" ? "high" : effort == "minimal" ? "minimal" : effort == "low" ? "low"
                            : effort == "medium" ? "medium" : "high";
        tc.AddMember("thinkingLevel", rapidjson::StringRef(level), a_);
        tc.AddMember("includeThoughts", true, a_);
      } else {
        int64_t budget = effort == "minimal" ? 512 : effort == "low" ? 1024 : effort == "medium" ? 8192
                         : effort == "high" ? 24576 : 32768;
        tc.AddMember("thinkingBudget", budget, a_);
        tc.AddMember("includeThoughts", true, a_);
      }
    }
    if (tc.MemberCount() > 0) gc.AddMember("thinkingConfig", tc, a_);
  }

  json::Document& req_;
  const Target& t_;
  json::Document body_;
  json::Allocator& a_;
  std::map<std::string, std::string, std::less<>> call_names_;  // tool call id -> function name, as seen so far
};

// ------------------------------------------------------------- JSON views
// An answer is read through one of two views of the same JSON: RapidJSON's
// DOM (json::parse), or, for stream events, simdjson's own DOM as simdjson
// left it (no copy into RapidJSON; see GeminiStream::parse). Both give the
// first of repeated member names, and the same number types: simdjson's
// INT64 is RapidJSON's Int64, its UINT64 (past INT64_MAX) and DOUBLE are not.
struct RjView {
  using N = const Value*;
  static N at(N o, const char* k) { return o ? json::find(*o, k) : nullptr; }
  static bool is_object(N v) { return v && v->IsObject(); }
  static bool is_array(N v) { return v && v->IsArray(); }
  static bool is_string(N v) { return v && v->IsString(); }
  static bool is_number(N v) { return v && v->IsNumber(); }
  static bool is_bool(N v) { return v && v->IsBool(); }
  static bool is_true(N v) { return v && v->IsTrue(); }
  static bool get_bool(N v) { return v->GetBool(); }
  static std::string_view str(N v) { return v && v->IsString() ? json::sv(*v) : std::string_view(); }
  static bool int64(N v, int64_t& out) {
    if (!v || !v->IsInt64()) return false;
    out = v->GetInt64();
    return true;
  }
  static bool empty(N a) { return a->Empty(); }
  template <class F>
  static bool each(N a, F&& f) {  // false once f returned false
    for (auto& x : a->GetArray())
      if (!f(N(&x))) return false;
    return true;
  }
  static void copy(N v, Value& out, json::Allocator& a) { out.CopyFrom(*v, a); }
  // out[i]: o's first member named keys[i] (none when o is not an object).
  template <size_t K>
  static void pick(N o, const std::string_view (&keys)[K], N (&out)[K]) {
    for (size_t i = 0; i < K; ++i) out[i] = at(o, keys[i]);
  }
  static N at(N o, std::string_view k) { return o ? json::find(*o, k) : nullptr; }
};

struct SjView {
  using element = simdjson::dom::element;
  using type = simdjson::dom::element_type;
  struct N {
    element e;
    bool ok = false;
    explicit operator bool() const { return ok; }
  };
  static N at(N o, const char* k) {
    if (!o.ok || o.e.type() != type::OBJECT) return {};
    element r;
    if (object(o).at_key(k).get(r) != simdjson::SUCCESS) return {};
    return {r, true};
  }
  // One pass over the members for all the names.
  template <size_t K>
  static void pick(N o, const std::string_view (&keys)[K], N (&out)[K]) {
    for (auto& x : out) x = N{};
    if (!is_object(o)) return;
    size_t left = K;
    for (auto field : object(o)) {
      for (size_t i = 0; i < K; ++i) {
        if (out[i].ok || field.key != keys[i]) continue;
        out[i] = N{field.value, true};
        if (--left == 0) return;
        break;
      }
    }
  }
  static bool is(N v, type t) { return v.ok && v.e.type() == t; }
  static bool is_object(N v) { return is(v, type::OBJECT); }
  static bool is_array(N v) { return is(v, type::ARRAY); }
  static bool is_string(N v) { return is(v, type::STRING); }
  static bool is_number(N v) { return is(v, type::INT64) || is(v, type::UINT64) || is(v, type::DOUBLE); }
  static bool is_bool(N v) { return is(v, type::BOOL); }
  static bool is_true(N v) { return is_bool(v) && v.e.get_bool().value_unsafe(); }
  static bool get_bool(N v) { return v.e.get_bool().value_unsafe(); }
  static std::string_view str(N v) { return is_string(v) ? v.e.get_string().value_unsafe() : std::string_view(); }
  static bool int64(N v, int64_t& out) {
    if (!is(v, type::INT64)) return false;
    out = v.e.get_int64().value_unsafe();
    return true;
  }
  // Copies: value_unsafe() refers into a temporary result.
  static simdjson::dom::object object(N v) { return simdjson::dom::object(v.e.get_object().value_unsafe()); }
  static simdjson::dom::array array(N v) { return simdjson::dom::array(v.e.get_array().value_unsafe()); }
  static bool empty(N a) {
    simdjson::dom::array arr = array(a);
    return arr.begin() == arr.end();
  }
  template <class F>
  static bool each(N a, F&& f) {
    simdjson::dom::array arr = array(a);
    for (element x : arr)
      if (!f(N{x, true})) return false;
    return true;
  }
  // The RapidJSON value of `v` (what json::parse would have made of it).
  static void copy(N v, Value& out, json::Allocator& a) {
    switch (v.e.type()) {
      case type::OBJECT:
        out.SetObject();
        for (auto field : object(v)) {
          Value name(field.key.data(), static_cast<rapidjson::SizeType>(field.key.size()), a);
          Value x;
          copy(N{field.value, true}, x, a);
          out.AddMember(name, x, a);
        }
        return;
      case type::ARRAY:
        out.SetArray();
        for (element item : array(v)) {
          Value x;
          copy(N{item, true}, x, a);
          out.PushBack(x, a);
        }
        return;
      case type::STRING: {
        std::string_view s = v.e.get_string().value_unsafe();
        out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
        return;
      }
      case type::INT64: out.SetInt64(v.e.get_int64().value_unsafe()); return;
      case type::UINT64: out.SetUint64(v.e.get_uint64().value_unsafe()); return;
      case type::DOUBLE: out.SetDouble(v.e.get_double().value_unsafe()); return;
      case type::BOOL: out.SetBool(v.e.get_bool().value_unsafe()); return;
      case type::NULL_VALUE: out.SetNull(); return;
    }
  }
};

// ------------------------------------------------------------------- answers

const char* finish_reason(std::string_view r, bool tool_calls) {
  if (r == "MAX_TOKENS") return "length";
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" || r == "SPII" ||
      r == "IMAGE_SAFETY" || r == "IMAGE_PROHIBITED_CONTENT" || r == "IMAGE_RECITATION")
    return "content_filter";
  // STOP, and what has no OpenAI name (MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
  // TOO_MANY_TOOL_CALLS, LANGUAGE, OTHER, values added later): the model stopped.
  return tool_calls ? "tool_calls" : "stop";
}

// usageMetadata's counts, as OpenAI usage reports them.
struct UsageCounts {
  int64_t prompt = 0, completion = 0, total = 0, cached = 0, thoughts = 0;
};

// False when usageMetadata carries no counts (a Vertex stream's events before
// the last carry only trafficType).
template <class D>
bool usage_counts(typename D::N u, UsageCounts& c) {
  if (!D::is_object(u)) return false;
  static constexpr std::string_view kKeys[] = {"totalTokenCount",    "promptTokenCount",     "toolUsePromptTokenCount",
                                               "thoughtsTokenCount", "candidatesTokenCount", "cachedContentTokenCount"};
  typename D::N f[6];
  D::pick(u, kKeys, f);
  auto n = [&](int i) {
    int64_t v = 0;
    return D::int64(f[i], v) ? v : 0;
  };
  if (!f[1] && !f[0]) return false;
  c.prompt = n(1) + n(2);
  c.thoughts = n(3);
  c.completion = n(4) + c.thoughts;
  c.total = f[0] ? n(0) : c.prompt + c.completion;
  c.cached = n(5);
  return true;
}

void usage_value(const UsageCounts& c, Value& r, json::Allocator& a) {
  r.SetObject();
  r.AddMember("prompt_tokens", c.prompt, a);
  r.AddMember("completion_tokens", c.completion, a);
  r.AddMember("total_tokens", c.total, a);
  Value pd(rapidjson::kObjectType);
  pd.AddMember("cached_tokens", c.cached, a);
  r.AddMember("prompt_tokens_details", pd, a);
  Value cd(rapidjson::kObjectType);
  cd.AddMember("reasoning_tokens", c.thoughts, a);
  r.AddMember("completion_tokens_details", cd, a);
}

// usageMetadata as OpenAI usage; false when it carries no counts.
bool usage_of(const Value& u, Value& r, json::Allocator& a) {
  UsageCounts c;
  if (!usage_counts<RjView>(&u, c)) return false;
  usage_value(c, r, a);
  return true;
}

llm_status status_for_rpc(std::string_view status, long code, std::string_view message) {
  if (status == "RESOURCE_EXHAUSTED") return LLM_ERR_RATE_LIMITED;
  if (status == "UNAVAILABLE") return LLM_ERR_SERVICE_UNAVAILABLE;
  if (status == "UNAUTHENTICATED" || status == "PERMISSION_DENIED") return LLM_ERR_AUTHENTICATION;
  if (status == "NOT_FOUND") return LLM_ERR_NOT_FOUND;
  if (status == "DEADLINE_EXCEEDED") return LLM_ERR_TIMEOUT;
  if (status == "INVALID_ARGUMENT" || status == "FAILED_PRECONDITION") return status_for_http(400, message, status);
  if (code >= 400) return status_for_http(code, message, status);
  return LLM_ERR_STREAMING;
}

// An {"error":{...}} object inside a 2xx answer or a stream event.
[[noreturn]] void throw_error_object(const Value& err, const Target& t, llm_status fallback, const char* where) {
  std::string msg(str_of(err, "message"));
  std::string_view status = str_of(err, "status");
  const Value* c = json::find(err, "code");
  long code = c && c->IsInt64() ? static_cast<long>(c->GetInt64()) : 0;
  llm_status st = status.empty() && code == 0 ? fallback : status_for_rpc(status, code, msg);
  Error e(st, std::string("gemini sent an error ") + where + ": " + t.secrets.redact(msg.empty() ? std::string(status) : msg));
  e.provider = t.spec ? t.spec->name : "gemini";
  e.code = code ? std::to_string(code) : std::string(status);
  e.type = std::string(status);
  throw e;
}

// A prompt Gemini refused to answer.
[[noreturn]] void throw_blocked(const Value& feedback) {
  std::string reason(str_of(feedback, "blockReason"));
  std::string text = "gemini blocked the prompt (promptFeedback.blockReason " + reason + ")";
  if (std::string_view m = str_of(feedback, "blockReasonMessage"); !m.empty()) text += ": " + std::string(m);
  Error e(LLM_ERR_CONTENT_POLICY, text);
  e.code = reason;
  throw e;
}

constexpr int64_t kMaxPathIndex = 10000;  // an array index in partialArgs: beyond it, a broken stream

// A call's arguments as JSON text, written from partialArgs a piece at a time.
// Each piece gives one value (a string, a number, a boolean or null) and names
// its place with a JSONPath ($.a.b[2].c, $['a']); the pieces come in the order
// the model writes the arguments, so the text only ever grows at its end and
// is streamed as OpenAI streams arguments. A string may come in several pieces
// (willContinue on all but the last). A piece that goes back to a place already
// written, or that names a place of the other kind (an index in an object),
// is a broken stream: `broken` is its status.
class ArgsText {
 public:
  explicit ArgsText(llm_status broken) : broken_(broken) {}

  // Starts over: "{", then the members of `whole` (an object given at once).
  template <class D>
  void start(typename D::N whole) {
    text.assign("{");
    levels_.assign(1, Level{});
    leaf_.clear();
    string_open_ = string_continues_ = false;
    if (!D::is_object(whole)) return;
    json::Document d;
    D::copy(whole, d, d.GetAllocator());
    std::string all = json::TextWriter::dump(d);
    text.assign(all, 0, all.size() - 1);  // still open
    for (auto& m : d.GetObject()) levels_[0].keys.emplace(json::sv(m.name));
    levels_[0].count = d.MemberCount();
  }

  // One element of partialArgs; one without a value is ignored.
  template <class D>
  void piece(typename D::N pa) {
    static constexpr std::string_view kKeys[] = {"jsonPath",  "stringValue", "numberValue",
                                                 "boolValue", "nullValue",   "willContinue"};
    typename D::N f[6];
    D::pick(pa, kKeys, f);
    const bool is_string = D::is_string(f[1]);
    if (!is_string && !D::is_number(f[2]) && !D::is_bool(f[3]) && !f[4]) return;
    parse_path(D::str(f[0]));
    const bool more = D::is_true(f[5]);
    if (is_string && string_open_ && string_continues_ && same_leaf()) {  // the string goes on
      json::append_escaped(text, D::str(f[1]));
      string_continues_ = more;
      return;
    }
    place();
    if (is_string) {
      text += '"';
      json::append_escaped(text, D::str(f[1]));
      string_open_ = true;
      string_continues_ = more;
    } else if (D::is_number(f[2])) {
      json::Document n;
      D::copy(f[2], n, n.GetAllocator());
      text += json::TextWriter::dump(n);
    } else if (D::is_bool(f[3])) {
      text += D::get_bool(f[3]) ? "true" : "false";
    } else {
      text += "null";
    }
  }

  // Closes what is still open: the text is then the whole arguments.
  void finish() {
    close_string();
    for (size_t k = levels_.size(); k-- > 0;) text += levels_[k].array ? ']' : '}';
    levels_.clear();
  }

  // What has been written and not yet taken (a stream takes it chunk by chunk).
  std::string text;

 private:
  struct Seg {
    std::string_view key;  // a member name, or
    int64_t index = -1;    // an array index (>= 0)
    bool operator==(const Seg& o) const { return index == o.index && (index >= 0 || key == o.key); }
  };
  struct OwnedSeg {
    std::string key;
    int64_t index = -1;
    bool operator==(const Seg& o) const { return index == o.index && (index >= 0 || key == o.key); }
  };
  struct Level {
    OwnedSeg seg;  // where it is in its parent (none for the arguments object)
    bool array = false;
    int64_t count = 0;                         // members or elements written
    std::set<std::string, std::less<>> keys;   // an object's member names
  };

  [[noreturn]] void fail(const char* what) const {
    throw Error(broken_, std::string("gemini sent ") + what + " in a function call's partialArgs");
  }

  // The piece's path into path_ (views into its text).
  void parse_path(std::string_view path) {
    path_.clear();
    if (path.substr(0, 1) == "$") path.remove_prefix(1);
    while (!path.empty()) {
      Seg s;
      if (path[0] == '.') {
        path.remove_prefix(1);
        size_t end = 0;
        while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
        s.key = path.substr(0, end);
        path.remove_prefix(end);
      } else if (path[0] == '[') {
        size_t close = path.find(']');
        if (close == std::string_view::npos) fail("a malformed jsonPath");
        std::string_view inner = path.substr(1, close - 1);
        path.remove_prefix(close + 1);
        if (!inner.empty() && (inner[0] == '\'' || inner[0] == '"')) {
          s.key = inner.substr(1, inner.size() >= 2 ? inner.size() - 2 : 0);
        } else {
          if (inner.empty()) fail("a malformed jsonPath");
          s.index = 0;
          for (char ch : inner) {
            if (ch < '0' || ch > '9') fail("a malformed jsonPath");
            s.index = s.index * 10 + (ch - '0');
            if (s.index > kMaxPathIndex) fail("a jsonPath index out of range");
          }
        }
      } else {
        fail("a malformed jsonPath");
      }
      path_.push_back(s);
      if (path_.size() >= json::kMaxDepth) fail("a jsonPath nested too deep");
    }
    if (path_.empty()) fail("a jsonPath naming no member");
  }

  bool same_leaf() const {
    return leaf_.size() == path_.size() && std::equal(leaf_.begin(), leaf_.end(), path_.begin());
  }

  void close_string() {
    if (string_open_) text += '"';
    string_open_ = string_continues_ = false;
  }

  // Writes what comes before the piece's value: closes what it leaves, opens
  // what it enters, and writes its member name or array position.
  void place() {
    if (levels_.empty()) fail("a piece after the call ended");
    close_string();
    // The open containers the path goes on through.
    size_t keep = 1;
    while (keep < levels_.size() && keep < path_.size() && levels_[keep].seg == path_[keep - 1]) ++keep;
    while (levels_.size() > keep) {
      text += levels_.back().array ? ']' : '}';
      levels_.pop_back();
    }
    for (size_t i = keep - 1; i < path_.size(); ++i) {
      Level& cur = levels_.back();
      const Seg& s = path_[i];
      if ((s.index >= 0) != cur.array) fail(cur.array ? "a member name for an array" : "an array index for an object");
      if (cur.array) {
        if (s.index < cur.count) fail("a value for an array element already written");
        for (; cur.count < s.index; ++cur.count) text += cur.count ? ",null" : "null";  // skipped elements
        if (cur.count) text += ',';
      } else {
        if (!cur.keys.emplace(s.key).second) fail("a value for a member already written");
        if (cur.count) text += ',';
        text += '"';
        json::append_escaped(text, s.key);
        text += "\":";
      }
      ++cur.count;
      if (i + 1 == path_.size()) break;
      Level next;
      next.seg = OwnedSeg{std::string(s.key), s.index};
      next.array = path_[i + 1].index >= 0;
      text += next.array ? '[' : '{';
      levels_.push_back(std::move(next));
    }
    leaf_.resize(path_.size());
    for (size_t i = 0; i < path_.size(); ++i) leaf_[i] = OwnedSeg{std::string(path_[i].key), path_[i].index};
  }

  llm_status broken_;
  std::vector<Level> levels_;   // the open containers, the arguments object first
  std::vector<Seg> path_;       // the current piece's path
  std::vector<OwnedSeg> leaf_;  // the path of the value written last
  bool string_open_ = false;    // that value is a string still without its closing quote
  bool string_continues_ = false;  // and its last piece said willContinue
};

// A function call whose arguments may come in pieces (partialArgs, with
// streamFunctionCallArguments): a call named with willContinue is streamed,
// its arguments following in the next events.
struct CallBuilder {
  explicit CallBuilder(llm_status broken) : args(broken) {}
  bool active = false;
  bool in_pieces = false;  // named with willContinue
  std::string name, id, signature;
  ArgsText args;

  template <class D>
  void apply(typename D::N fc) {
    apply_partial<D>(D::at(fc, "partialArgs"));
  }
  // functionCall.partialArgs.
  template <class D>
  void apply_partial(typename D::N partial) {
    if (!D::is_array(partial)) return;
    D::each(partial, [&](typename D::N pa) {
      args.piece<D>(pa);
      return true;
    });
  }
  template <class D>
  void start(typename D::N fc, std::string_view sig) {
    static constexpr std::string_view kKeys[] = {"name", "id", "args", "partialArgs", "willContinue"};
    typename D::N f[5];
    D::pick(fc, kKeys, f);
    active = true;
    in_pieces = D::is_true(f[4]);
    name = std::string(D::str(f[0]));
    id = std::string(D::str(f[1]));
    signature = std::string(sig);
    args.start<D>(f[2]);
    apply_partial<D>(f[3]);
  }
  // The id of a call in pieces, as its first chunk goes out (before its
  // arguments): Gemini's, or one synthesized from what is known by then.
  const std::string& early_id(std::string_view response_id, int64_t candidate, int64_t index) {
    // A signature is an opaque blob of a few KiB: its length and its last bytes are enough.
    const std::string_view sig = std::string_view(signature).substr(signature.size() > 64 ? signature.size() - 64 : 0);
    if (id.empty()) id = synth_id(response_id, candidate, index, name, std::to_string(signature.size()) + ":" + std::string(sig));
    return id;
  }
};

// One finished tool call.
struct Call {
  std::string id, name, arguments, signature;
};

Call finish_call(CallBuilder& b, std::string_view response_id, int64_t candidate, int64_t index) {
  Call c;
  c.name = b.name;
  b.args.finish();
  c.arguments = std::move(b.args.text);
  // A whole call's synthesized id covers its arguments too.
  c.id = b.in_pieces ? b.early_id(response_id, candidate, index)
         : !b.id.empty() ? b.id : synth_id(response_id, candidate, index, c.name, c.arguments);
  c.signature = b.signature;
  b.active = false;
  return c;
}

Value signature_block(std::string_view sig, std::string_view call_id, json::Allocator& a) {
  Value b(rapidjson::kObjectType);
  b.AddMember("type", rapidjson::StringRef(kSignatureBlock), a);
  b.AddMember("signature", json::str(sig, a), a);
  if (!call_id.empty()) b.AddMember("tool_call_id", json::str(call_id, a), a);
  return b;
}

// A tool call, or (id and name empty) a piece of its arguments.
Value tool_call_value(std::string_view id, std::string_view name, std::string_view arguments, const int64_t* index,
                      json::Allocator& a) {
  Value tc(rapidjson::kObjectType);
  if (index) tc.AddMember("index", *index, a);
  if (!id.empty()) {
    tc.AddMember("id", json::str(id, a), a);
    tc.AddMember("type", "function", a);
  }
  Value fn(rapidjson::kObjectType);
  if (!name.empty()) fn.AddMember("name", json::str(name, a), a);
  fn.AddMember("arguments", json::str(arguments, a), a);
  tc.AddMember("function", fn, a);
  return tc;
}

Value tool_call_value(const Call& c, const int64_t* index, json::Allocator& a) {
  return tool_call_value(c.id, c.name, c.arguments, index, a);
}

json::Document parse_answer(std::string_view text, const char* what, llm_status st) {
  json::Document d = json::parse(text, what, st);
  if (!d.IsObject()) throw Error(st, std::string(what) + " is not a JSON object");
  return d;
}

// --------------------------------------------------------------------- stream

class GeminiStream final : public SseStreamDecoder {
 public:
  GeminiStream(const Target& t, const Limits& limits)
      : SseStreamDecoder(limits), t_(t), chunk_(rapidjson::kObjectType) {}

  bool on_event(const http::SseEvent& ev, const ChunkSink& emit) override {
    if (ev.data.empty()) return true;
    SjView::N root;
    if (parse(ev.data, root)) {
      if (!SjView::is_object(root)) throw Error(LLM_ERR_STREAMING, "gemini stream event is not a JSON object");
      return event<SjView>(root, emit);
    }
    // What simdjson refused (json::parse words the error, or reads what
    // RapidJSON takes and simdjson does not), or a parser that cannot start.
    json::Document d = parse_answer(ev.data, "gemini stream event", LLM_ERR_STREAMING);
    return event<RjView>(&d, emit);
  }

  void finish(const ChunkSink& emit) override {
    SseStreamDecoder::finish(emit);
    if (has_usage_) chunk(emit, 0, [](Value&, json::Allocator&) {}, nullptr, true);
  }

 private:
  struct Cand {
    bool role_sent = false;
    int64_t next_tool = 0;
    CallBuilder pending{LLM_ERR_STREAMING};
  };

  // `text` parsed by this stream's own simdjson parser, as json::parse would
  // accept it (see kMaxDepth: simdjson refuses everything else json::parse's
  // checks refuse); false to leave the text to json::parse.
  bool parse(std::string_view text, SjView::N& root) {
    simdjson::dom::element e;
    if (!parser_.parse(text, e)) return false;
    root = SjView::N{e, true};
    return true;
  }

  template <class D>
  [[noreturn]] void throw_error(typename D::N err) {
    json::Document v;
    D::copy(err, v, v.GetAllocator());
    throw_error_object(v, t_, LLM_ERR_STREAMING, "in the stream");
  }

  template <class D>
  bool event(typename D::N d, const ChunkSink& emit) {
    static constexpr std::string_view kKeys[] = {"error",         "responseId", "modelVersion",
                                                 "usageMetadata", "candidates", "promptFeedback"};
    typename D::N f[6];
    D::pick(d, kKeys, f);
    if (D::is_object(f[0])) throw_error<D>(f[0]);
    if (id_.empty()) id_ = std::string(D::str(f[1]));
    if (model_.empty()) {
      model_ = std::string(D::str(f[2]));
      if (model_.empty()) model_ = t_.model;
    }
    if (created_ == 0) created_ = now_secs();
    if (D::is_object(f[3]) && usage_counts<D>(f[3], usage_)) has_usage_ = true;
    auto cands = f[4];
    if (!D::is_array(cands) || D::empty(cands)) {
      if (auto pf = f[5]; pf && !D::str(D::at(pf, "blockReason")).empty()) {
        json::Document v;
        D::copy(pf, v, v.GetAllocator());
        throw_blocked(v);
      }
      return true;
    }
    int64_t k = 0;
    D::each(cands, [&](typename D::N cand) {
      static constexpr std::string_view kKeys[] = {"index", "content", "finishReason"};
      typename D::N f[3];
      D::pick(cand, kKeys, f);
      int64_t index = k++;
      D::int64(f[0], index);
      if (index < 0 || index > 4096) throw Error(LLM_ERR_STREAMING, "gemini stream event has a bad candidate index");
      return candidate<D>(f[1], f[2], index, emit);
    });
    return true;
  }

  // A chunk with one choice whose delta `fill` writes (or, with usage, no
  // choice). The document and the text are this stream's, reused chunk after
  // chunk; the sink copies what it keeps.
  template <class F>
  bool chunk(const ChunkSink& emit, int64_t index, F&& fill, const char* finish = nullptr, bool usage = false) {
    chunk_.SetNull();
    auto& a = chunk_.GetAllocator();
    if (a.Size() > kChunkKeep) a.Clear();
    chunk_.SetObject();
    chunk_.AddMember("id", json::str(id_, a), a);
    chunk_.AddMember("object", "chat.completion.chunk", a);
    chunk_.AddMember("created", created_, a);
    chunk_.AddMember("model", json::str(model_, a), a);
    Value choices(rapidjson::kArrayType);
    if (!usage) {
      Cand& cs = cands_[index];
      Value ch(rapidjson::kObjectType);
      ch.AddMember("index", index, a);
      Value delta(rapidjson::kObjectType);
      if (!cs.role_sent) {
        delta.AddMember("role", "assistant", a);
        cs.role_sent = true;
      }
      fill(delta, a);
      ch.AddMember("delta", delta, a);
      if (finish) ch.AddMember("finish_reason", Value(finish, a), a);
      else ch.AddMember("finish_reason", Value(), a);
      choices.PushBack(ch, a);
    }
    chunk_.AddMember("choices", choices, a);
    if (usage) {
      Value u;
      usage_value(usage_, u, a);
      chunk_.AddMember("usage", u, a);
    }
    const bool go = text_.write(chunk_) ? emit(text_.view(), chunk_) : emit(json::dump(chunk_), chunk_);
    text_.trim(kTextKeep);  // the buffer of a rare huge chunk is not kept
    return go;
  }

  bool signature(const ChunkSink& emit, int64_t index, std::string_view sig, std::string_view call_id) {
    return chunk(emit, index, [&](Value& delta, json::Allocator& a) {
      Value tb(rapidjson::kArrayType);
      tb.PushBack(signature_block(sig, call_id, a), a);
      delta.AddMember("thinking_blocks", tb, a);
    });
  }

  // A chunk with one tool call (or a piece of one: id and name empty).
  bool tool_chunk(const ChunkSink& emit, int64_t index, int64_t ti, std::string_view id, std::string_view name,
                  std::string_view arguments) {
    return chunk(emit, index, [&](Value& delta, json::Allocator& a) {
      Value tcs(rapidjson::kArrayType);
      tcs.PushBack(tool_call_value(id, name, arguments, &ti, a), a);
      delta.AddMember("tool_calls", tcs, a);
    });
  }

  // The pending call ends: a whole call goes out in one chunk; a call in
  // pieces sends the rest of its arguments. Then its thought signature.
  bool call(const ChunkSink& emit, int64_t index, Cand& cs) {
    const bool in_pieces = cs.pending.in_pieces;
    const int64_t ti = in_pieces ? cs.next_tool - 1 : cs.next_tool++;
    Call c = finish_call(cs.pending, id_, index, ti);
    if (in_pieces ? !tool_chunk(emit, index, ti, {}, {}, c.arguments)
                  : !tool_chunk(emit, index, ti, c.id, c.name, c.arguments))
      return false;
    if (!c.signature.empty()) return signature(emit, index, c.signature, c.id);
    return true;
  }

  // A call in pieces: its first chunk (id, name, the arguments so far) as it
  // starts, then what each event adds to its arguments, as OpenAI streams them.
  bool call_piece(const ChunkSink& emit, int64_t index, Cand& cs, bool first) {
    CallBuilder& b = cs.pending;
    const int64_t ti = first ? cs.next_tool++ : cs.next_tool - 1;
    if (!first && b.args.text.empty()) return true;
    const bool go = first ? tool_chunk(emit, index, ti, b.early_id(id_, index, ti), b.name, b.args.text)
                          : tool_chunk(emit, index, ti, {}, {}, b.args.text);
    b.args.text.clear();
    return go;
  }

  // One candidate of one event; false once the sink stopped.
  template <class D>
  bool candidate(typename D::N content, typename D::N finish, int64_t index, const ChunkSink& emit) {
    Cand& cs = cands_[index];
    auto parts = content ? D::at(content, "parts") : typename D::N{};
    if (D::is_array(parts) && !D::each(parts, [&](typename D::N p) { return part<D>(p, index, cs, emit); }))
      return false;
    std::string_view fr = D::str(finish);
    if (fr.empty()) {
      // A candidate that said nothing yet (an empty content) still opens its choice.
      if (!cs.role_sent) return chunk(emit, index, [](Value&, json::Allocator&) {});
      return true;
    }
    if (cs.pending.active && !call(emit, index, cs)) return false;
    const char* reason = finish_reason(fr, cs.next_tool > 0);
    return chunk(emit, index, [](Value&, json::Allocator&) {}, reason);
  }

  // One part of a candidate's content; false once the sink stopped.
  template <class D>
  bool part(typename D::N p, int64_t index, Cand& cs, const ChunkSink& emit) {
    static constexpr std::string_view kKeys[] = {"thoughtSignature", "functionCall", "text", "thought"};
    typename D::N f[4];
    D::pick(p, kKeys, f);
    std::string_view sig = D::str(f[0]);
    if (auto fc = f[1]; D::is_object(fc)) {
      static constexpr std::string_view kCallKeys[] = {"name", "willContinue", "partialArgs"};
      typename D::N g[3];
      D::pick(fc, kCallKeys, g);
      bool named = !D::str(g[0]).empty();
      bool more = D::is_true(g[1]);
      if (cs.pending.active && named && !call(emit, index, cs)) return false;
      if (cs.pending.active) {
        cs.pending.template apply_partial<D>(g[2]);
        if (cs.pending.signature.empty()) cs.pending.signature = std::string(sig);
        return more ? call_piece(emit, index, cs, false) : call(emit, index, cs);
      }
      if (named) {
        cs.pending.template start<D>(fc, sig);
        return more ? call_piece(emit, index, cs, true) : call(emit, index, cs);
      }
      return true;
    }
    if (auto t = f[2]; D::is_string(t)) {
      std::string_view text = D::str(t);
      bool thought = D::is_true(f[3]);
      if (!text.empty() &&
          !chunk(emit, index, [&](Value& delta, json::Allocator& a) {
            delta.AddMember(rapidjson::StringRef(thought ? "reasoning_content" : "content"), json::str(text, a), a);
          }))
        return false;
    }
    if (!sig.empty() && !signature(emit, index, sig, {})) return false;
    return true;
  }

  static constexpr size_t kChunkKeep = 32u << 10;  // chunk memory kept between chunks
  static constexpr size_t kTextKeep = 256u << 10;  // text buffer kept between chunks

  const Target& t_;
  std::string id_, model_;
  int64_t created_ = 0;
  std::map<int64_t, Cand> cands_;
  UsageCounts usage_;  // the latest counts, sent once the body ends
  bool has_usage_ = false;
  json::StreamParser parser_;
  json::Document chunk_;  // the chunk being emitted
  json::TextWriter text_;  // its text
};

}  // namespace

json::Document gemini_body(json::Document& req, const Target& t) { return RequestBuilder(req, t).build(); }

json::Document gemini_response(std::string_view text, const Target& t) {
  json::Document src = parse_answer(text, "gemini response", LLM_ERR_SERIALIZATION);
  if (const Value* err = json::find(src, "error"); err && err->IsObject())
    throw_error_object(*err, t, LLM_ERR_SERVER_ERROR, "in a 2xx answer");
  const Value* cands = json::find(src, "candidates");
  if (!cands || !cands->IsArray() || cands->Empty()) {
    if (const Value* pf = json::find(src, "promptFeedback"); pf && !str_of(*pf, "blockReason").empty())
      throw_blocked(*pf);
    throw Error(LLM_ERR_SERIALIZATION, "gemini response has no candidates");
  }
  std::string_view response_id = str_of(src, "responseId");
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("id", json::str(response_id, a), a);
  d.AddMember("object", "chat.completion", a);
  d.AddMember("created", now_secs(), a);
  std::string_view model = str_of(src, "modelVersion");
  d.AddMember("model", json::str(model.empty() ? std::string_view(t.model) : model, a), a);
  Value choices(rapidjson::kArrayType);
  for (rapidjson::SizeType k = 0; k < cands->Size(); ++k) {
    const Value& cand = (*cands)[k];
    const Value* iv = json::find(cand, "index");
    int64_t index = iv && iv->IsInt64() ? iv->GetInt64() : static_cast<int64_t>(k);
    Value msg(rapidjson::kObjectType);
    msg.AddMember("role", "assistant", a);
    std::string out_text, reasoning;
    bool has_text = false, has_reasoning = false;
    Value tool_calls(rapidjson::kArrayType), blocks(rapidjson::kArrayType);
    CallBuilder pending(LLM_ERR_SERIALIZATION);
    int64_t next_tool = 0;
    auto close_call = [&]() {
      Call c = finish_call(pending, response_id, index, next_tool++);
      tool_calls.PushBack(tool_call_value(c, nullptr, a), a);
      if (!c.signature.empty()) blocks.PushBack(signature_block(c.signature, c.id, a), a);
    };
    const Value* content = json::find(cand, "content");
    const Value* parts = content ? json::find(*content, "parts") : nullptr;
    if (parts && parts->IsArray())
      for (auto& p : parts->GetArray()) {
        std::string_view sig = str_of(p, "thoughtSignature");
        if (const Value* fc = json::find(p, "functionCall"); fc && fc->IsObject()) {
          // Whole in an answer; in pieces only if streamFunctionCallArguments was asked.
          if (pending.active && !str_of(*fc, "name").empty()) close_call();
          if (pending.active) {
            pending.apply<RjView>(fc);
            if (!true_at(*fc, "willContinue")) close_call();
          } else if (!str_of(*fc, "name").empty()) {
            pending.start<RjView>(fc, sig);
            if (!true_at(*fc, "willContinue")) close_call();
          }
          continue;
        }
        if (const Value* t2 = json::find(p, "text"); t2 && t2->IsString()) {
          if (true_at(p, "thought")) {
            reasoning.append(json::sv(*t2));
            has_reasoning = true;
          } else if (t2->GetStringLength() > 0) {  // as a stream would: empty texts carry nothing
            out_text.append(json::sv(*t2));
            has_text = true;
          }
        }
        if (!sig.empty()) blocks.PushBack(signature_block(sig, {}, a), a);
      }
    if (pending.active) close_call();
    if (has_text && !(out_text.empty() && !tool_calls.Empty())) msg.AddMember("content", json::str(out_text, a), a);
    else msg.AddMember("content", Value(), a);
    msg.AddMember("refusal", Value(), a);
    if (has_reasoning) msg.AddMember("reasoning_content", json::str(reasoning, a), a);
    if (!tool_calls.Empty()) msg.AddMember("tool_calls", tool_calls, a);
    if (!blocks.Empty()) msg.AddMember("thinking_blocks", blocks, a);
    Value choice(rapidjson::kObjectType);
    choice.AddMember("index", index, a);
    choice.AddMember("message", msg, a);
    std::string_view fr = str_of(cand, "finishReason");
    if (fr.empty()) choice.AddMember("finish_reason", Value(), a);
    else choice.AddMember("finish_reason", Value(finish_reason(fr, next_tool > 0), a), a);
    choice.AddMember("logprobs", Value(), a);
    choices.PushBack(choice, a);
  }
  d.AddMember("choices", choices, a);
  if (const Value* u = json::find(src, "usageMetadata")) {
    Value usage;
    if (usage_of(*u, usage, a)) d.AddMember("usage", usage, a);
  }
  return d;
}

std::unique_ptr<StreamDecoder> gemini_stream(const Target& t, const Limits& limits) {
  return std::make_unique<GeminiStream>(t, limits);
}

Error gemini_http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) {
  Error e = literllm::http_error(t.spec ? t.spec->name : "gemini", status, body, headers, t.secrets);
  // Gemini's error body names the RPC status ("INVALID_ARGUMENT", ...) and,
  // in details, a reason: a bad key is a 400 with reason API_KEY_INVALID.
  std::string rpc, reason;
  double retry_delay = -1;
  try {
    json::Document d = json::parse(body, "error body", LLM_ERR_SERIALIZATION);
    const Value* root = &d;
    if (root->IsArray() && !root->Empty()) root = &(*root)[0];
    if (const Value* err = json::find(*root, "error"); err && err->IsObject()) {
      rpc = std::string(str_of(*err, "status"));
      if (const Value* det = json::find(*err, "details"); det && det->IsArray())
        for (auto& x : det->GetArray()) {
          if (std::string_view r = str_of(x, "reason"); !r.empty()) reason = std::string(r);
          else if (std::string_view rd = str_of(x, "retryDelay"); !rd.empty() && rd.back() == 's') {
            // google.rpc.RetryInfo: "20s", "1.5s"
            std::string n(rd.substr(0, rd.size() - 1));
            char* end = nullptr;
            double v = std::strtod(n.c_str(), &end);
            if (end && *end == '\0' && v >= 0 && v < 1e9) retry_delay = v;
          }
        }
    }
  } catch (const Error&) {
  }
  llm_status st = e.status();
  if (reason == "API_KEY_INVALID" || reason == "API_KEY_EXPIRED" || rpc == "UNAUTHENTICATED")
    st = LLM_ERR_AUTHENTICATION;
  if (e.retry_after < 0 && retry_delay >= 0) e.retry_after = retry_delay;
  if (st == e.status() && rpc.empty()) return e;
  Error out(st, e.what(), e.http_status());
  out.retry_after = e.retry_after;
  out.provider = e.provider;
  out.code = e.code;
  out.type = rpc.empty() ? e.type : rpc;
  return out;
}

namespace {

class GeminiChat final : public Operation {
 public:
  http::Request build(json::Document& req, const Target& t, bool stream) const override {
    json::Document body = gemini_body(req, t);
    http::Request r;
    r.method = "POST";
    r.url = provider_url(t, stream ? "/v1beta/models/{model}:streamGenerateContent?alt=sse"
                                   : "/v1beta/models/{model}:generateContent");
    r.body = json::dump(body);
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
    for (auto& h : t.headers) http::set_header(r.headers, h.first, h.second);
    return r;
  }
  json::Document parse(std::string_view body, const Target& t) const override { return gemini_response(body, t); }
  std::unique_ptr<StreamDecoder> stream_decoder(const Target& t, const Limits& limits) const override {
    return gemini_stream(t, limits);
  }
  Error http_error(const Target& t, long status, std::string_view body, const http::Headers& headers) const override {
    return gemini_http_error(t, status, body, headers);
  }
};

}  // namespace

const Operation* gemini_operation(Endpoint e) {
  return e == Endpoint::Chat ? codec::chat_only<GeminiChat>(e) : gemini_endpoint_operation(e);
}

}  // namespace literllm
