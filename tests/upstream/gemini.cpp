// The local upstream's Gemini generateContent / streamGenerateContent, on the
// Gemini API and on Vertex AI: the checks the real API makes (answered in
// Google's error shape), the deterministic reply, thought signatures, safety
// blocks, and the SSE stream (CRLF-framed, as Google's servers send it). Also
// the embeddings (batchEmbedContents, Vertex's :predict) and the model lists
// (the Gemini API's models, Vertex AI's Model Garden publisher models at
// GET .../v1beta1/publishers/{publisher}/models, bearer-authenticated as the
// other Vertex routes). Pure functions of the request.
#include "gemini.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <functional>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anthropic.hpp"  // shared helpers, thinking_signature
#include "embed_vectors.hpp"

namespace literllm::testing::detail {

namespace {

using rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using shared::count_words;

constexpr std::string_view kCreateTime = "2023-11-14T22:13:20.000000Z";

struct Fail {
  int status;
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw Fail{400, std::move(message)}; }

std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

void put(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

template <class F>
std::string json(F&& f) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  f(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string compact(const Value& v) {
  return json([&](Writer& w) { v.Accept(w); });
}

// ---- field names: proto JSON takes lowerCamelCase and the proto's snake_case ----------

std::string snake(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string camel(std::string_view s) {
  std::string out;
  bool up = false;
  for (char c : s) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// The member named `camel_key` (or its snake_case form).
const Value* get(const Value& obj, std::string_view camel_key) {
  if (!obj.IsObject()) return nullptr;
  for (const auto& m : obj.GetObject())
    if (sv(m.name) == camel_key || camel(sv(m.name)) == camel_key) return &m.value;
  return nullptr;
}

std::string_view str(const Value& obj, std::string_view camel_key) {
  const Value* v = get(obj, camel_key);
  return v && v->IsString() ? sv(*v) : std::string_view{};
}

// Every member of `obj` one of `keys` (lowerCamelCase), else Google's "Cannot find field".
void known(const Value& obj, const std::string& at, std::initializer_list<std::string_view> keys) {
  for (const auto& m : obj.GetObject()) {
    std::string k = camel(sv(m.name));
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      fail("Invalid JSON payload received. Unknown name \"" + std::string(sv(m.name)) + "\"" +
           (at.empty() ? std::string() : " at '" + at + "'") + ": Cannot find field.");
  }
}

std::string join(const std::string& at, std::string_view camel_key) {
  return at.empty() ? snake(camel_key) : at + "." + snake(camel_key);
}

[[noreturn]] void invalid_value(const std::string& at, std::string_view type, const Value& v) {
  fail("Invalid value at '" + at + "' (" + std::string(type) + "), " + compact(v));
}

const Value* object(const Value& obj, std::string_view key, const std::string& at, std::string_view type) {
  const Value* v = get(obj, key);
  if (!v || v->IsNull()) return nullptr;
  if (!v->IsObject()) invalid_value(join(at, key), type, *v);
  return v;
}

const Value* list(const Value& obj, std::string_view key, const std::string& at, std::string_view type) {
  const Value* v = get(obj, key);
  if (!v || v->IsNull()) return nullptr;
  if (!v->IsArray()) invalid_value(join(at, key), type, *v);
  return v;
}

void need_string(const Value& v, const std::string& at) {
  if (!v.IsString()) invalid_value(at, "TYPE_STRING", v);
}

// "* GenerateContentRequest.<path>: <what>\n", the form of Google's field checks.
[[noreturn]] void request_check(const std::string& at, const std::string& what) {
  fail("* GenerateContentRequest." + at + ": " + what + "\n");
}

std::string idx(const std::string& at, size_t i) { return at + "[" + std::to_string(i) + "]"; }

// The sample of `schema` (object properties filled in; `recurse` false: one level, as tool arguments), with
// OpenAPI's upper-case type names ("OBJECT", Gemini's `parameters` and `responseSchema`) read as JSON Schema's.
std::string sample_of(const Value& schema, bool recurse) {
  rapidjson::Document copy;
  copy.CopyFrom(schema, copy.GetAllocator());
  // Lower-case type names, copied into the document's allocator.
  std::vector<Value*> stack{&copy};
  while (!stack.empty()) {
    Value* v = stack.back();
    stack.pop_back();
    if (v->IsObject()) {
      for (auto& m : v->GetObject()) {
        if (sv(m.name) == "type" && m.value.IsString()) {
          std::string t(sv(m.value));
          for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          m.value.SetString(t.data(), static_cast<rapidjson::SizeType>(t.size()), copy.GetAllocator());
        } else {
          stack.push_back(&m.value);
        }
      }
    } else if (v->IsArray()) {
      for (auto& e : v->GetArray()) stack.push_back(&e);
    }
  }
  return recurse ? shared::schema_sample(copy) : shared::object_sample(&copy, false);
}

// ---- the request, checked ----------------------------------------------------------

struct Function {
  std::string name;
  const Value* schema;  // parameters or parametersJsonSchema, may be null
};

struct Request {
  std::vector<Function> functions;
  std::string mode = "AUTO";
  std::vector<std::string> allowed;
  long max_output_tokens = -1;
  std::vector<std::string> stop_sequences;
  long candidates = 1;
  const Value* response_schema = nullptr;
  bool json_mime = false;
  bool thinking = false;
  bool include_thoughts = false;
  long input_words = 0;
  std::string last_user_text;
  bool last_is_function_responses = false;
  bool stream_args = false;  // functionCallingConfig.streamFunctionCallArguments
};

bool gemini3(std::string_view model) { return model.find("gemini-3") != std::string_view::npos; }

// Whether the model thinks unless told not to (Gemini 2.5 and later).
bool thinks_by_default(std::string_view model) {
  if (gemini3(model)) return true;
  // 2.5 Flash-Lite thinks only when asked.
  return model.find("gemini-2.5") != std::string_view::npos && model.find("flash-lite") == std::string_view::npos;
}

bool is_dummy_signature(std::string_view s) {
  return s == "skip_thought_signature_validator" || s == "context_engineering_is_the_way_to_go";
}

void check_part(const Value& p, const std::string& at, bool model_turn, Request& r, size_t& calls,
                size_t& responses, std::string& texts) {
  if (!p.IsObject()) invalid_value(at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", p);
  known(p, at,
        {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
         "codeExecutionResult", "thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution"});
  int data = 0;
  for (std::string_view k : {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                             "codeExecutionResult"})
    if (const Value* v = get(p, k); v && !v->IsNull()) {
      if (++data > 1)
        fail("Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '" + std::string(k) + "'");
    }
  if (data == 0) request_check(at + ".data", "required oneof field 'data' must have one initialized field");
  if (const Value* t = get(p, "thought"); t && !t->IsBool()) invalid_value(at + ".thought", "TYPE_BOOL", *t);
  if (const Value* s = get(p, "thoughtSignature")) need_string(*s, at + ".thought_signature");
  const bool thought = get(p, "thought") && get(p, "thought")->IsTrue();
  if (const Value* t = get(p, "text")) {
    need_string(*t, at + ".text");
    r.input_words += static_cast<long>(count_words(sv(*t)));
    if (!thought && !model_turn) texts += (texts.empty() ? "" : " ") + std::string(sv(*t));
  } else if (const Value* d = object(p, "inlineData", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Blob")) {
    std::string l = at + ".inline_data";
    known(*d, l, {"mimeType", "data", "displayName"});
    if (const Value* m = get(*d, "mimeType")) need_string(*m, l + ".mime_type");
    if (const Value* b = get(*d, "data")) need_string(*b, l + ".data");
    if (str(*d, "mimeType").empty()) request_check(l + ".mime_type", "mime_type must be specified");
  } else if (const Value* f = object(p, "fileData", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.FileData")) {
    std::string l = at + ".file_data";
    known(*f, l, {"mimeType", "fileUri", "displayName"});
    if (str(*f, "fileUri").empty()) request_check(l + ".file_uri", "file_uri must be specified");
  } else if (const Value* fc = object(p, "functionCall", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCall")) {
    std::string l = at + ".function_call";
    known(*fc, l, {"id", "name", "args", "partialArgs", "willContinue"});
    const Value* name = get(*fc, "name");
    if (!name || !name->IsString() || name->GetStringLength() == 0) request_check(l + ".name", "Name is empty.");
    if (const Value* a = get(*fc, "args"); a && !a->IsObject() && !a->IsNull())
      invalid_value(l + ".args", "type.googleapis.com/google.protobuf.Struct", *a);
    ++calls;
  } else if (const Value* fr = object(p, "functionResponse", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionResponse")) {
    std::string l = at + ".function_response";
    known(*fr, l, {"id", "name", "response", "parts", "willContinue", "scheduling"});
    const Value* name = get(*fr, "name");
    if (!name || !name->IsString() || name->GetStringLength() == 0) request_check(l + ".name", "Name is empty.");
    const Value* resp = get(*fr, "response");
    if (resp && !resp->IsObject() && !resp->IsNull())
      invalid_value(l + ".response", "type.googleapis.com/google.protobuf.Struct", *resp);
    if (resp && resp->IsObject()) {
      std::string t = compact(*resp);
      r.input_words += static_cast<long>(count_words(t));
    }
    ++responses;
  }
}

void check_contents(const Value& doc, const std::string& model, bool vertex, Request& r) {
  const Value* contents = list(doc, "contents", "", "type.googleapis.com/google.ai.generativelanguage.v1beta.Content");
  if (!contents || contents->Empty()) request_check("contents", "contents is not specified");
  const rapidjson::SizeType n = contents->Size();
  struct Turn {
    bool model = false;
    size_t calls = 0, responses = 0;
    std::string texts;
  };
  std::vector<Turn> turns(n);
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const Value& c = (*contents)[i];
    std::string at = idx("contents", i);
    if (!c.IsObject()) invalid_value(at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", c);
    known(c, at, {"role", "parts"});
    if (const Value* role = get(c, "role")) {
      need_string(*role, at + ".role");
      if (role->GetStringLength() > 0 && sv(*role) != "user" && sv(*role) != "model")
        fail("Please use a valid role: user, model.");
      turns[i].model = sv(*role) == "model";
    }
    const Value* parts = list(c, "parts", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part");
    if (!parts || parts->Empty()) request_check(at + ".parts", "contents.parts must not be empty.");
    for (rapidjson::SizeType j = 0; j < parts->Size(); ++j)
      check_part((*parts)[j], idx(at + ".parts", j), turns[i].model, r, turns[i].calls, turns[i].responses,
                 turns[i].texts);
  }

  // Function calling turns: a call turn after a user turn or a response turn; a response turn right after
  // a call turn, answering every call.
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const Turn& t = turns[i];
    if (t.calls > 0 && i > 0 && turns[i - 1].model)
      fail("Please ensure that function call turn comes immediately after a user turn or after a function response "
           "turn.");
    if (t.responses > 0) {
      if (i == 0 || turns[i - 1].calls == 0)
        fail("Please ensure that function response turn comes immediately after a function call turn.");
      if (turns[i - 1].calls != t.responses)
        fail("Please ensure that the number of function response parts is equal to the number of function call "
             "parts of the function call turn.");
    }
  }

  // Thought signatures: each one given back must be the one the upstream gave; on Gemini 3, the first
  // function call of every model step of the current turn must carry its own.
  size_t current = 0;  // the current turn starts after the last user content that is not function responses
  for (rapidjson::SizeType i = 0; i < n; ++i)
    if (!turns[i].model && turns[i].responses == 0) current = i;
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    if (!turns[i].model) continue;
    const Value& parts = *get((*contents)[i], "parts");
    bool first_call = true;
    for (const Value& p : parts.GetArray()) {
      const Value* sig = get(p, "thoughtSignature");
      const Value* fc = get(p, "functionCall");
      const Value* text = get(p, "text");
      if (sig && !is_dummy_signature(sv(*sig))) {
        std::string want = fc ? gemini_call_signature(str(*fc, "name"))
                           : text && !(get(p, "thought") && get(p, "thought")->IsTrue())
                               ? gemini_text_signature(sv(*text))
                               : std::string(sv(*sig));
        if (sv(*sig) != want) fail("Corrupted thought signature.");
      }
      if (fc && fc->IsObject()) {
        if (first_call && !sig && gemini3(model) && i > current) {
          std::string name(str(*fc, "name"));
          if (vertex)
            fail("Unable to submit request because function call `" + name + "` in the " + std::to_string(i + 1) +
                 ". content block is missing a `thought_signature`. Learn more: "
                 "https://docs.cloud.google.com/vertex-ai/generative-ai/docs/thought-signatures");
          fail("Function call is missing a thought_signature in functionCall parts. This is required for tools to "
               "work correctly, and missing thought_signature may lead to degraded model performance. Additional "
               "data, function call `default_api:" +
               name + "` , position " + std::to_string(i + 1) +
               ". Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.");
        }
        first_call = false;
      }
    }
  }

  // What the reply is made of: the last user turn's text (a turn of function responses: their JSON).
  for (rapidjson::SizeType i = n; i-- > 0;) {
    if (turns[i].model) continue;
    r.last_user_text = turns[i].texts;
    if (r.last_user_text.empty() && turns[i].responses > 0)
      for (const Value& p : get((*contents)[i], "parts")->GetArray())
        if (const Value* fr = get(p, "functionResponse"); fr && get(*fr, "response")) {
          if (!r.last_user_text.empty()) r.last_user_text += ' ';
          r.last_user_text += compact(*get(*fr, "response"));
        }
    break;
  }
  r.last_is_function_responses = turns[n - 1].responses > 0;
}

bool valid_function_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '-';
  });
}

void check_tools(const Value& doc, Request& r) {
  const Value* tools = list(doc, "tools", "", "type.googleapis.com/google.ai.generativelanguage.v1beta.Tool");
  if (tools) {
    for (rapidjson::SizeType i = 0; i < tools->Size(); ++i) {
      std::string at = idx("tools", i);
      const Value& t = (*tools)[i];
      if (!t.IsObject()) invalid_value(at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Tool", t);
      known(t, at,
            {"functionDeclarations", "googleSearchRetrieval", "codeExecution", "googleSearch", "urlContext",
             "computerUse", "fileSearch", "googleMaps", "retrieval", "enterpriseWebSearch", "mcpServers"});
      const Value* fds = list(t, "functionDeclarations", at,
                              "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration");
      if (!fds) continue;
      for (rapidjson::SizeType j = 0; j < fds->Size(); ++j) {
        std::string l = idx(at + ".function_declarations", j);
        const Value& fd = (*fds)[j];
        if (!fd.IsObject())
          invalid_value(l, "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration", fd);
        known(fd, l,
              {"name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema",
               "behavior"});
        std::string_view name = str(fd, "name");
        if (!valid_function_name(name))
          request_check(l + ".name",
                        "Invalid function name. Must start with a letter or an underscore. Must be alphameric "
                        "(a-z, A-Z, 0-9), underscores (_), dots (.), colons (:), or dashes (-), with a maximum "
                        "length of 64.");
        const Value* params = get(fd, "parameters");
        const Value* js = get(fd, "parametersJsonSchema");
        if (params && js)
          request_check(l + ".parameters_json_schema", "parameters_json_schema and parameters cannot both be set.");
        r.functions.push_back({std::string(name), js ? js : params});
      }
    }
  }
  if (const Value* tc = object(doc, "toolConfig", "", "type.googleapis.com/google.ai.generativelanguage.v1beta.ToolConfig")) {
    known(*tc, "tool_config", {"functionCallingConfig", "retrievalConfig", "includeServerSideToolInvocations"});
    if (const Value* fcc = object(*tc, "functionCallingConfig", "tool_config",
                                  "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig")) {
      const std::string at = "tool_config.function_calling_config";
      known(*fcc, at, {"mode", "allowedFunctionNames", "streamFunctionCallArguments"});
      if (const Value* sa = get(*fcc, "streamFunctionCallArguments")) {
        if (!sa->IsBool()) invalid_value(at + ".stream_function_call_arguments", "TYPE_BOOL", *sa);
        r.stream_args = sa->GetBool();
      }
      if (const Value* m = get(*fcc, "mode")) {
        static constexpr std::string_view kModes[] = {"MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"};
        if (!m->IsString() || std::find(std::begin(kModes), std::end(kModes), sv(*m)) == std::end(kModes))
          invalid_value(at + ".mode", "type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode",
                        *m);
        r.mode = std::string(sv(*m));
      }
      if (const Value* a = list(*fcc, "allowedFunctionNames", at, "TYPE_STRING")) {
        for (rapidjson::SizeType i = 0; i < a->Size(); ++i) {
          need_string((*a)[i], idx(at + ".allowed_function_names", i));
          r.allowed.emplace_back(sv((*a)[i]));
        }
        if (!r.allowed.empty() && r.mode != "ANY" && r.mode != "VALIDATED")
          request_check(at + ".allowed_function_names",
                        "allowed_function_names may only be set when mode is ANY or VALIDATED.");
      }
    }
  }
}

void check_number(const Value& gc, std::string_view key, const char* type, double lo, double hi, const char* range) {
  const Value* v = get(gc, key);
  if (!v) return;
  std::string at = "generation_config." + snake(key);
  if (!v->IsNumber()) invalid_value(at, type, *v);
  double d = v->GetDouble();
  if (d < lo || d > hi) request_check(at, snake(key) + " must be in the range " + range);
}

void check_generation_config(const Value& doc, const std::string& model, Request& r) {
  const Value* gc = object(doc, "generationConfig", "", "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig");
  r.thinking = thinks_by_default(model);
  if (!gc) return;
  const std::string at = "generation_config";
  known(*gc, at,
        {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
         "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
         "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
         "thinkingConfig", "mediaResolution", "imageConfig", "routingConfig", "audioTimestamp",
         "modelSelectionConfig"});
  check_number(*gc, "temperature", "TYPE_FLOAT", 0, 2, "[0.0, 2.0]");
  check_number(*gc, "topP", "TYPE_FLOAT", 0, 1, "[0.0, 1.0]");
  if (const Value* v = get(*gc, "topK"); v && !v->IsInt()) invalid_value(at + ".top_k", "TYPE_INT32", *v);
  if (const Value* v = get(*gc, "maxOutputTokens")) {
    if (!v->IsInt()) invalid_value(at + ".max_output_tokens", "TYPE_INT32", *v);
    if (v->GetInt() < 0) request_check(at + ".max_output_tokens", "max_output_tokens must be positive.");
    if (v->GetInt() > 0) r.max_output_tokens = v->GetInt();
  }
  if (const Value* v = get(*gc, "candidateCount")) {
    if (!v->IsInt()) invalid_value(at + ".candidate_count", "TYPE_INT32", *v);
    if (v->GetInt() < 1 || v->GetInt() > 8)
      request_check(at + ".candidate_count", "candidate_count must be in the range [1, 8]");
    r.candidates = v->GetInt();
  }
  if (const Value* ss = list(*gc, "stopSequences", at, "TYPE_STRING")) {
    for (rapidjson::SizeType i = 0; i < ss->Size(); ++i) {
      need_string((*ss)[i], idx(at + ".stop_sequences", i));
      r.stop_sequences.emplace_back(sv((*ss)[i]));
    }
  }
  if (const Value* m = get(*gc, "responseMimeType")) {
    need_string(*m, at + ".response_mime_type");
    r.json_mime = sv(*m) == "application/json";
  }
  const Value* rs = object(*gc, "responseSchema", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Schema");
  const Value* rjs = get(*gc, "responseJsonSchema");
  if (rs && rjs)
    request_check(at + ".response_json_schema", "response_json_schema and response_schema cannot both be set.");
  if ((rs || rjs) && !r.json_mime && str(*gc, "responseMimeType") != "text/x.enum")
    request_check(at + ".response_mime_type",
                  "response_mime_type must be one of the following: [application/json, text/x.enum] when "
                  "response_schema is set.");
  r.response_schema = rjs ? rjs : rs;
  if (const Value* tc = object(*gc, "thinkingConfig", at, "type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig")) {
    const std::string l = at + ".thinking_config";
    known(*tc, l, {"includeThoughts", "thinkingBudget", "thinkingLevel"});
    if (const Value* it = get(*tc, "includeThoughts")) {
      if (!it->IsBool()) invalid_value(l + ".include_thoughts", "TYPE_BOOL", *it);
      r.include_thoughts = it->GetBool();
    }
    const Value* budget = get(*tc, "thinkingBudget");
    const Value* level = get(*tc, "thinkingLevel");
    if (budget && !budget->IsInt()) invalid_value(l + ".thinking_budget", "TYPE_INT32", *budget);
    if (level) {
      static constexpr std::string_view kLevels[] = {"THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM",
                                                     "HIGH", "minimal", "low", "medium", "high"};
      if (!level->IsString() || std::find(std::begin(kLevels), std::end(kLevels), sv(*level)) == std::end(kLevels))
        invalid_value(l + ".thinking_level",
                      "type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel", *level);
    }
    if (budget && level) fail("You can only set only one of thinking budget and thinking level.");
    if (budget) r.thinking = budget->GetInt() != 0 || gemini3(model);
    if (level) r.thinking = true;
    if (budget && budget->GetInt() == 0 && r.include_thoughts && !gemini3(model)) r.include_thoughts = false;
  }
}

Request check(const rapidjson::Document& doc, const std::string& model, bool vertex) {
  Request r;
  if (!doc.IsObject()) fail("Invalid JSON payload received. Expected an object.");
  known(doc, "",
        {"model", "contents", "tools", "toolConfig", "safetySettings", "systemInstruction", "generationConfig",
         "cachedContent", "labels", "serviceTier", "store"});
  check_contents(doc, model, vertex, r);
  if (const Value* si = object(doc, "systemInstruction", "", "type.googleapis.com/google.ai.generativelanguage.v1beta.Content")) {
    known(*si, "system_instruction", {"role", "parts"});
    if (const Value* parts = list(*si, "parts", "system_instruction", "type.googleapis.com/google.ai.generativelanguage.v1beta.Part"))
      for (rapidjson::SizeType j = 0; j < parts->Size(); ++j) {
        const Value& p = (*parts)[j];
        std::string at = idx("system_instruction.parts", j);
        if (!p.IsObject()) invalid_value(at, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", p);
        known(p, at, {"text", "inlineData", "fileData"});
        if (const Value* t = get(p, "text")) {
          need_string(*t, at + ".text");
          r.input_words += static_cast<long>(count_words(sv(*t)));
        }
      }
  }
  if (const Value* ss = list(doc, "safetySettings", "", "type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting"))
    for (rapidjson::SizeType i = 0; i < ss->Size(); ++i) {
      std::string at = idx("safety_settings", i);
      if (!(*ss)[i].IsObject())
        invalid_value(at, "type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting", (*ss)[i]);
      known((*ss)[i], at, {"category", "threshold", "method"});
    }
  check_tools(doc, r);
  check_generation_config(doc, model, r);
  return r;
}

// ---- the reply ----------------------------------------------------------------------------

struct Call {
  std::string name, args;
};

struct Reply {
  std::string model, response_id;
  bool vertex = false;
  std::string thought;  // includeThoughts: the thought summary
  std::string text;
  bool has_text = false;
  std::vector<Call> calls;
  bool thinking = false;  // signatures on
  bool stream_args = false;  // a streamed call's arguments in pieces (partialArgs)
  std::string finish = "STOP";
  long candidates = 1;
  long prompt = 0, output = 0, thoughts = 0, cached = 0;
};

void write_usage(Writer& w, const Reply& r, bool last) {
  w.StartObject();
  w.Key("promptTokenCount");
  w.Int64(r.prompt);
  if (last) {
    w.Key("candidatesTokenCount");
    w.Int64(r.output);
  }
  w.Key("totalTokenCount");
  w.Int64(last ? r.prompt + r.output + r.thoughts : r.prompt);
  if (r.cached > 0) {
    w.Key("cachedContentTokenCount");
    w.Int64(r.cached);
  }
  w.Key("promptTokensDetails");
  w.StartArray();
  w.StartObject();
  w.Key("modality");
  w.String("TEXT");
  w.Key("tokenCount");
  w.Int64(r.prompt);
  w.EndObject();
  w.EndArray();
  if (last && r.thoughts > 0) {
    w.Key("thoughtsTokenCount");
    w.Int64(r.thoughts);
  }
  if (r.vertex) {
    w.Key("trafficType");
    w.String("ON_DEMAND");
  }
  w.EndObject();
}

void write_tail(Writer& w, const Reply& r, bool last) {
  w.Key("usageMetadata");
  write_usage(w, r, last);
  w.Key("modelVersion");
  put(w, r.model);
  if (r.vertex) {
    w.Key("createTime");
    put(w, kCreateTime);
  }
  w.Key("responseId");
  put(w, r.response_id);
}

void write_text_part(Writer& w, std::string_view text, bool thought, const std::string* signature) {
  w.StartObject();
  w.Key("text");
  put(w, text);
  if (thought) {
    w.Key("thought");
    w.Bool(true);
  }
  if (signature) {
    w.Key("thoughtSignature");
    put(w, *signature);
  }
  w.EndObject();
}

void write_call_part(Writer& w, const Call& c, bool signed_) {
  w.StartObject();
  w.Key("functionCall");
  w.StartObject();
  w.Key("name");
  put(w, c.name);
  w.Key("args");
  w.RawValue(c.args.data(), c.args.size(), rapidjson::kObjectType);
  w.EndObject();
  if (signed_) {
    w.Key("thoughtSignature");
    put(w, gemini_call_signature(c.name));
  }
  w.EndObject();
}

// A call streamed with streamFunctionCallArguments, as Gemini 3 streams it: the
// name first (willContinue, the signature on it), then one part per value of
// the arguments in document order, at its JSONPath (a string in two-word
// pieces, willContinue on each, and an empty closing piece), then an empty
// functionCall that ends the call. Empty objects and arrays have no value
// to send: they are not sent.
std::vector<std::string> call_in_pieces(const Call& c, bool signed_) {
  std::vector<std::string> parts;
  parts.push_back(json([&](Writer& w) {
    w.StartObject();
    w.Key("functionCall");
    w.StartObject();
    w.Key("name");
    put(w, c.name);
    w.Key("willContinue");
    w.Bool(true);
    w.EndObject();
    if (signed_) {
      w.Key("thoughtSignature");
      put(w, gemini_call_signature(c.name));
    }
    w.EndObject();
  }));
  auto piece = [&](const std::string& path, const Value* v, std::string_view str, bool more) {
    parts.push_back(json([&](Writer& w) {
      w.StartObject();
      w.Key("functionCall");
      w.StartObject();
      w.Key("partialArgs");
      w.StartArray();
      w.StartObject();
      w.Key("jsonPath");
      put(w, path);
      if (!v || v->IsString()) {
        w.Key("stringValue");
        put(w, str);
      } else if (v->IsNumber()) {
        w.Key("numberValue");
        v->Accept(w);
      } else if (v->IsBool()) {
        w.Key("boolValue");
        w.Bool(v->GetBool());
      } else {
        w.Key("nullValue");
        w.Null();
      }
      if (more) {
        w.Key("willContinue");
        w.Bool(true);
      }
      w.EndObject();
      w.EndArray();
      w.Key("willContinue");
      w.Bool(true);
      w.EndObject();
      w.EndObject();
    }));
  };
  rapidjson::Document args;
  args.Parse(c.args.data(), c.args.size());
  std::function<void(const Value&, const std::string&)> walk = [&](const Value& v, const std::string& path) {
    if (v.IsObject()) {
      for (auto& m : v.GetObject()) {
        std::string_view k = sv(m.name);
        bool plain = !k.empty() && std::all_of(k.begin(), k.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
        walk(m.value, path + (plain ? "." + std::string(k) : "['" + std::string(k) + "']"));
      }
    } else if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) walk(v[i], path + "[" + std::to_string(i) + "]");
    } else if (v.IsString()) {
      for (const std::string& p : shared::two_word_pieces(sv(v))) piece(path, nullptr, p, true);
      piece(path, nullptr, "", false);
    } else {
      piece(path, &v, {}, false);
    }
  };
  if (!args.HasParseError()) walk(args, "$");
  parts.push_back(R"({"functionCall":{}})");
  return parts;
}

void write_safety_ratings(Writer& w, bool blocked) {
  w.Key("safetyRatings");
  w.StartArray();
  for (const char* c : {"HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_HARASSMENT",
                        "HARM_CATEGORY_DANGEROUS_CONTENT"}) {
    const bool hit = blocked && std::string_view(c) == "HARM_CATEGORY_HATE_SPEECH";
    w.StartObject();
    w.Key("category");
    w.String(c);
    w.Key("probability");
    w.String(hit ? "HIGH" : "NEGLIGIBLE");
    if (hit) {
      w.Key("blocked");
      w.Bool(true);
    }
    w.EndObject();
  }
  w.EndArray();
}

// One response object whose candidates carry `parts` (written by `write_parts`); `finish`: the last one.
template <class F>
std::string response(const Reply& r, F&& write_parts, bool finish) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("candidates");
    w.StartArray();
    for (long i = 0; i < r.candidates; ++i) {
      w.StartObject();
      w.Key("content");
      w.StartObject();
      w.Key("role");
      w.String("model");
      w.Key("parts");
      w.StartArray();
      write_parts(w);
      w.EndArray();
      w.EndObject();
      if (finish) {
        w.Key("finishReason");
        put(w, r.finish);
      }
      w.Key("index");
      w.Int64(i);
      w.EndObject();
    }
    w.EndArray();
    write_tail(w, r, finish);
    w.EndObject();
  });
}

std::string full_response(const Reply& r) {
  const std::string sig = gemini_text_signature(r.text);
  return response(
      r,
      [&](Writer& w) {
        if (!r.thought.empty()) write_text_part(w, r.thought, true, nullptr);
        if (r.has_text) write_text_part(w, r.text, false, r.thinking && r.calls.empty() ? &sig : nullptr);
        for (size_t k = 0; k < r.calls.size(); ++k) write_call_part(w, r.calls[k], r.thinking && k == 0);
      },
      true);
}

// The stream's response objects: the thoughts and the text in two-word pieces (the signature on the
// last text piece), each call whole; usage in full and the finish reason on the last.
std::vector<std::string> stream_objects(const Reply& r) {
  enum class K { thought, text, call, part };
  struct Piece {
    K kind;
    std::string text;  // a part's JSON for K::part
    size_t call = 0;
  };
  std::vector<Piece> pieces;
  for (const std::string& p : shared::two_word_pieces(r.thought)) pieces.push_back({K::thought, p});
  if (r.has_text) {
    auto ps = shared::two_word_pieces(r.text);
    if (ps.empty()) ps.emplace_back();
    for (const std::string& p : ps) pieces.push_back({K::text, p});
  }
  for (size_t k = 0; k < r.calls.size(); ++k) {
    if (!r.stream_args) {
      pieces.push_back({K::call, {}, k});
      continue;
    }
    for (std::string& part : call_in_pieces(r.calls[k], r.thinking && k == 0)) pieces.push_back({K::part, std::move(part)});
  }
  if (pieces.empty()) pieces.push_back({K::text, {}});
  size_t last_text = pieces.size();
  for (size_t i = 0; i < pieces.size(); ++i)
    if (pieces[i].kind == K::text) last_text = i;
  const std::string sig = gemini_text_signature(r.text);
  std::vector<std::string> out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    out.push_back(response(
        r,
        [&](Writer& w) {
          if (p.kind == K::part)
            w.RawValue(p.text.data(), p.text.size(), rapidjson::kObjectType);
          else if (p.kind == K::call)
            write_call_part(w, r.calls[p.call], r.thinking && p.call == 0);
          else
            write_text_part(w, p.text, p.kind == K::thought,
                            p.kind == K::text && i == last_text && r.thinking && r.calls.empty() ? &sig : nullptr);
        },
        i + 1 == pieces.size()));
  }
  return out;
}

std::string blocked_response(const Reply& r, std::string_view reason) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("promptFeedback");
    w.StartObject();
    w.Key("blockReason");
    put(w, reason);
    write_safety_ratings(w, true);
    w.EndObject();
    write_tail(w, r, false);
    w.EndObject();
  });
}

std::string finished_response(const Reply& r, std::string_view reason) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("candidates");
    w.StartArray();
    w.StartObject();
    w.Key("finishReason");
    put(w, reason);
    w.Key("index");
    w.Int(0);
    write_safety_ratings(w, reason == "SAFETY");
    w.EndObject();
    w.EndArray();
    write_tail(w, r, false);
    w.EndObject();
  });
}

const char* status_name(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 500:
      return "INTERNAL";
    case 501:
      return "NOT_IMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return status >= 500 ? "UNKNOWN" : "FAILED_PRECONDITION";
  }
}

std::string error_json(int status, std::string_view message, std::string_view name) {
  return json([&](Writer& w) {
    w.StartObject();
    w.Key("error");
    w.StartObject();
    w.Key("code");
    w.Int(status);
    w.Key("message");
    put(w, message);
    w.Key("status");
    if (name.empty())
      w.String(status_name(status));
    else
      put(w, name);
    w.EndObject();
    w.EndObject();
  });
}

Plan json_answer(int status, std::string body) {
  Plan p = shared::json_plan(status, std::move(body));
  p.headers[0].second = "application/json; charset=UTF-8";
  return p;
}

}  // namespace

std::string gemini_call_signature(std::string_view function_name) {
  return thinking_signature("gemini functionCall " + std::string(function_name));
}

std::string gemini_text_signature(std::string_view text) {
  return thinking_signature("gemini text " + std::string(text));
}

GeminiRoute gemini_route(std::string_view path, std::string* model) {
  for (std::string_view list : {"/v1beta/models", "/v1alpha/models"})  // not /v1/models: OpenAI's list
    if (path.size() >= list.size() && path.substr(path.size() - list.size()) == list) return GeminiRoute::models;
  // Any prefix: ".../v1beta1/publishers/{publisher}/models".
  constexpr std::string_view kPublishers = "/v1beta1/publishers/", kModels = "/models";
  if (size_t at = path.rfind(kPublishers); at != std::string_view::npos) {
    std::string_view rest = path.substr(at + kPublishers.size());
    if (rest.size() > kModels.size() && rest.substr(rest.size() - kModels.size()) == kModels) {
      std::string_view publisher = rest.substr(0, rest.size() - kModels.size());
      if (publisher.find('/') == std::string_view::npos) {
        if (model) *model = std::string(publisher);
        return GeminiRoute::vertex_models;
      }
    }
  }
  size_t colon = path.rfind(':');
  if (colon == std::string_view::npos) return GeminiRoute::none;
  std::string_view verb = path.substr(colon + 1), head = path.substr(0, colon);
  const bool stream = verb == "streamGenerateContent";
  const bool embed = verb == "batchEmbedContents", predict = verb == "predict";
  if (!stream && !embed && !predict && verb != "generateContent") return GeminiRoute::none;
  constexpr std::string_view kPublisher = "/publishers/google/models/";
  size_t pub = head.find(kPublisher);
  if (pub != std::string_view::npos) {
    std::string_view prefix = head.substr(0, pub), name = head.substr(pub + kPublisher.size());
    size_t pr = prefix.find("/projects/"), lo = prefix.find("/locations/");
    if (embed || pr == std::string_view::npos || lo == std::string_view::npos || lo < pr || name.empty() ||
        name.find('/') != std::string_view::npos)
      return GeminiRoute::none;
    if (model) *model = std::string(name);
    return predict ? GeminiRoute::vertex_predict : stream ? GeminiRoute::vertex_stream : GeminiRoute::vertex_generate;
  }
  if (predict) return GeminiRoute::none;
  // Any prefix (a base URL with a path): ".../{v1beta|v1|v1alpha}/models/{model}".
  for (std::string_view version : {"/v1beta/models/", "/v1/models/", "/v1alpha/models/"}) {
    size_t at = head.rfind(version);
    if (at == std::string_view::npos) continue;
    std::string_view name = head.substr(at + version.size());
    if (name.empty() || name.find('/') != std::string_view::npos) continue;
    if (model) *model = std::string(name);
    return embed ? GeminiRoute::embed : stream ? GeminiRoute::stream : GeminiRoute::generate;
  }
  return GeminiRoute::none;
}

Plan gemini_error_plan(int status, std::string_view message, std::string_view name) {
  return json_answer(status, error_json(status, message, name));
}

Plan gemini_status_plan(int status, GeminiRoute route) {
  const bool vertex = route == GeminiRoute::vertex_generate || route == GeminiRoute::vertex_stream;
  switch (status) {
    case 400:
      return gemini_error_plan(status, "Request contains an invalid argument.");
    case 403:
      return gemini_error_plan(status, "The caller does not have permission");
    case 404:
      return gemini_error_plan(status, vertex ? "Publisher Model was not found or your project does not have access "
                                                "to it. Please ensure you are using a valid model version."
                                              : "Requested entity was not found.");
    case 429:
      return gemini_error_plan(
          status, vertex ? "Resource exhausted. Please try again later. Please refer to "
                           "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
                         : "You exceeded your current quota, please check your plan and billing details. For more "
                           "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.");
    case 500:
      return gemini_error_plan(status, "An internal error has occurred. Please retry or report in "
                                       "https://developers.generativeai.google/guide/troubleshooting");
    case 503:
      return gemini_error_plan(status, "The model is overloaded. Please try again later.");
    case 504:
      return gemini_error_plan(status, "Deadline expired before operation could complete.");
    default:
      return gemini_error_plan(status, "local upstream: injected HTTP " + std::to_string(status) + " (" +
                                           reason_phrase(status) + ")");
  }
}

std::optional<Plan> gemini_auth(const RecordedRequest& req, GeminiRoute route, const UpstreamOptions& opts) {
  if (opts.require_api_key.empty()) return std::nullopt;
  const std::string& want = opts.require_api_key;
  if (route == GeminiRoute::vertex_generate || route == GeminiRoute::vertex_stream ||
      route == GeminiRoute::vertex_predict || route == GeminiRoute::vertex_models) {
    std::string header = req.header("authorization");
    std::string_view auth = shared::trim(header);
    bool bearer = auth.size() > 7 && shared::iequals(auth.substr(0, 7), "bearer ");
    if (bearer && shared::trim(auth.substr(7)) == want) return std::nullopt;
    return gemini_error_plan(
        401, std::string(auth.empty() ? "Request is missing required authentication credential"
                                      : "Request had invalid authentication credentials") +
                 ". Expected OAuth 2 access token, login cookie or other valid authentication credential. See "
                 "https://developers.google.com/identity/sign-in/web/devconsole-project.");
  }
  std::string key = req.header("x-goog-api-key");
  if (key.empty()) {
    // ?key=... in the query.
    size_t q = req.target.find('?');
    std::string_view query = q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1);
    for (size_t at = 0; at < query.size();) {
      size_t amp = query.find('&', at);
      std::string_view kv = query.substr(at, amp == std::string_view::npos ? std::string_view::npos : amp - at);
      if (kv.substr(0, 4) == "key=") key = std::string(kv.substr(4));
      if (amp == std::string_view::npos) break;
      at = amp + 1;
    }
  }
  if (key == want) return std::nullopt;
  if (key.empty())
    return gemini_error_plan(403,
                             "Method doesn't allow unregistered callers (callers without established identity). "
                             "Please use API Key or other form of API consumer identity to call this API.");
  return json_answer(
      400, R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",)"
           R"("details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID",)"
           R"("domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}})");
}

namespace {


void unknown_fields(const Value& obj, std::initializer_list<std::string_view> known, const std::string& at) {
  for (auto& m : obj.GetObject()) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || sv(m.name) == k;
    if (!ok)
      fail("Invalid JSON payload received. Unknown name \"" + std::string(sv(m.name)) + "\"" +
           (at.empty() ? std::string() : " at '" + at + "'") + ": Cannot find field.");
  }
}

const char* const kTaskTypes[] = {"TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY",    "RETRIEVAL_DOCUMENT",
                                  "SEMANTIC_SIMILARITY",   "CLASSIFICATION",     "CLUSTERING",
                                  "QUESTION_ANSWERING",    "FACT_VERIFICATION",  "CODE_RETRIEVAL_QUERY"};

void check_task_type(const Value& v, const std::string& at) {
  bool ok = v.IsString();
  if (ok) {
    ok = false;
    for (const char* t : kTaskTypes) ok = ok || sv(v) == t;
  }
  if (!ok)
    fail("Invalid value at '" + at + "' (type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), " +
         (v.IsString() ? "\"" + std::string(sv(v)) + "\"" : std::string("a non-string")));
}

void write_vector(Writer& w, std::string_view text, int dims) {
  w.StartArray();
  for (double x : upstream_embedding(text, dims)) w.Double(x);
  w.EndArray();
}

int dimensionality(const Value* v, const std::string& at) {
  if (!v) return 8;
  if (!v->IsInt() || v->GetInt() < 1 || v->GetInt() > 3072) fail("* " + at + ": outputDimensionality must be between 1 and 3072\n");
  return v->GetInt();
}

// POST .../models/{model}:batchEmbedContents.
Plan gemini_embed(const RecordedRequest& req, const std::string& model) {
  rapidjson::Document d;
  d.Parse(req.body.data(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) fail("Invalid JSON payload received. Unexpected token.");
  unknown_fields(d, {"requests"}, "");
  auto reqs = d.FindMember("requests");
  if (reqs == d.MemberEnd() || !reqs->value.IsArray() || reqs->value.Empty())
    fail("* BatchEmbedContentsRequest.requests: requests must not be empty\n");
  if (reqs->value.Size() > 100) fail("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n");
  const std::string want = "models/" + model;
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("embeddings");
    w.StartArray();
    for (rapidjson::SizeType i = 0; i < reqs->value.Size(); ++i) {
      const Value& r = reqs->value[i];
      const std::string at = "requests[" + std::to_string(i) + "]";
      if (!r.IsObject()) fail("Invalid value at '" + at + "', expected an object");
      unknown_fields(r, {"model", "content", "taskType", "task_type", "title", "outputDimensionality",
                         "output_dimensionality"}, at);
      auto m = r.FindMember("model");
      if (m == r.MemberEnd() || !m->value.IsString() || sv(m->value) != want)
        fail("* BatchEmbedContentsRequest." + at + ".model: model in the request (" +
             (m != r.MemberEnd() && m->value.IsString() ? std::string(sv(m->value)) : std::string("none")) +
             ") must be the batch's model (" + want + ")\n");
      const Value* task = nullptr;
      for (const char* k : {"taskType", "task_type"})
        if (auto t = r.FindMember(k); t != r.MemberEnd()) {
          check_task_type(t->value, at + ".task_type");
          task = &t->value;
        }
      if (r.HasMember("title") && (!task || sv(*task) != "RETRIEVAL_DOCUMENT"))
        fail("* BatchEmbedContentsRequest." + at + ".title: Title is only applicable for RETRIEVAL_DOCUMENT task type\n");
      const Value* dims = nullptr;
      for (const char* k : {"outputDimensionality", "output_dimensionality"})
        if (auto t = r.FindMember(k); t != r.MemberEnd()) dims = &t->value;
      const int n = dimensionality(dims, "BatchEmbedContentsRequest." + at + ".output_dimensionality");
      auto c = r.FindMember("content");
      std::string text;
      bool any = false;
      if (c != r.MemberEnd() && c->value.IsObject())
        if (auto parts = c->value.FindMember("parts"); parts != c->value.MemberEnd() && parts->value.IsArray())
          for (auto& p : parts->value.GetArray())
            if (auto t = p.FindMember("text"); p.IsObject() && t != p.MemberEnd() && t->value.IsString()) {
              text += (any ? " " : "") + std::string(sv(t->value));
              any = true;
            }
      if (!any) fail("* BatchEmbedContentsRequest." + at + ".content.parts: contents.parts must not be empty.\n");
      w.StartObject();
      w.Key("values");
      write_vector(w, text, n);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
  return json_answer(200, std::move(body));
}

// POST .../publishers/google/models/{model}:predict (Vertex AI's text embeddings).
Plan vertex_predict(const RecordedRequest& req) {
  rapidjson::Document d;
  d.Parse(req.body.data(), req.body.size());
  if (d.HasParseError() || !d.IsObject()) fail("Invalid JSON payload received. Unexpected token.");
  unknown_fields(d, {"instances", "parameters"}, "");
  auto inst = d.FindMember("instances");
  if (inst == d.MemberEnd() || !inst->value.IsArray() || inst->value.Empty()) fail("instances must not be empty.");
  int dims = 8;
  if (auto p = d.FindMember("parameters"); p != d.MemberEnd()) {
    if (!p->value.IsObject()) fail("Invalid value at 'parameters', expected an object");
    unknown_fields(p->value, {"outputDimensionality", "autoTruncate"}, "parameters");
    auto od = p->value.FindMember("outputDimensionality");
    dims = dimensionality(od == p->value.MemberEnd() ? nullptr : &od->value, "parameters");
  }
  long chars = 0;
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("predictions");
    w.StartArray();
    for (rapidjson::SizeType i = 0; i < inst->value.Size(); ++i) {
      const Value& in = inst->value[i];
      const std::string at = "instances[" + std::to_string(i) + "]";
      if (!in.IsObject()) fail(at + " must be an object.");
      unknown_fields(in, {"content", "task_type", "title"}, at);
      auto c = in.FindMember("content");
      if (c == in.MemberEnd() || !c->value.IsString()) fail(at + ".content is required and must be a string.");
      if (auto t = in.FindMember("task_type"); t != in.MemberEnd()) check_task_type(t->value, at + ".task_type");
      chars += static_cast<long>(c->value.GetStringLength());
      w.StartObject();
      w.Key("embeddings");
      w.StartObject();
      w.Key("statistics");
      w.StartObject();
      w.Key("truncated");
      w.Bool(false);
      w.Key("token_count");
      w.Int64(upstream_words(sv(c->value)));
      w.EndObject();
      w.Key("values");
      write_vector(w, sv(c->value), dims);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.Key("metadata");
    w.StartObject();
    w.Key("billableCharacterCount");
    w.Int64(chars);
    w.EndObject();
    w.EndObject();
  });
  return json_answer(200, std::move(body));
}

// GET .../v1beta/models: pageSize models a page (default 50), pageToken "p<i>" the index to start at.
Plan gemini_models(const RecordedRequest& req) {
  struct Model {
    const char *name, *display;
    long in, out;
    const char* methods;
  };
  static constexpr Model kModels[] = {
      {"models/gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536, "generateContent"},
      {"models/gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536, "generateContent"},
      {"models/gemini-embedding-001", "Gemini Embedding 001", 2048, 1, "embedContent"},
  };
  const size_t count = std::size(kModels);
  size_t start = 0, size = 50;
  if (std::string t = shared::query_param(req, "pageToken"); !t.empty()) {
    if (t[0] != 'p') fail("Invalid page token.");
    start = std::strtoul(t.c_str() + 1, nullptr, 10);
  }
  if (std::string ps = shared::query_param(req, "pageSize"); !ps.empty()) size = std::strtoul(ps.c_str(), nullptr, 10);
  if (size == 0) size = 50;
  size_t i = start;
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("models");
    w.StartArray();
    for (; i < count && i < start + size; ++i) {
      const Model& m = kModels[i];
      w.StartObject();
      w.Key("name");
      w.String(m.name);
      w.Key("version");
      w.String("001");
      w.Key("displayName");
      w.String(m.display);
      w.Key("inputTokenLimit");
      w.Int64(m.in);
      w.Key("outputTokenLimit");
      w.Int64(m.out);
      w.Key("supportedGenerationMethods");
      w.StartArray();
      w.String(m.methods);
      w.String("countTokens");
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    if (i < count) {
      w.Key("nextPageToken");
      put(w, "p" + std::to_string(i));
    }
    w.EndObject();
  });
  return json_answer(200, std::move(body));
}

// GET .../v1beta1/publishers/{publisher}/models: Model Garden's publisher models (BASIC view: name,
// versionId, openSourceCategory, launchStage, publisherModelTemplate). pageSize a page (default 100),
// pageToken an opaque "vp<i>"; view and listAllVersions checked as the API checks them; filter, orderBy,
// languageCode taken and not applied. A publisher with no models answers {} (proto3 JSON leaves out an
// empty list).
Plan vertex_publisher_models(const RecordedRequest& req, const std::string& publisher) {
  struct Model {
    const char *publisher, *id, *version, *category, *stage;
  };
  static constexpr Model kModels[] = {
      {"google", "gemini-2.5-pro", "default", "PROPRIETARY", "GA"},
      {"google", "gemini-2.5-flash", "default", "PROPRIETARY", "GA"},
      {"google", "gemini-embedding-001", "default", "PROPRIETARY", "GA"},
      {"google", "text-embedding-005", "default", "PROPRIETARY", "GA"},
      {"google", "gemma3", "gemma-3-27b-it", "GOOGLE_OWNED_OSS_WITH_GOOGLE_CHECKPOINT", "GA"},
      {"anthropic", "claude-sonnet-4-5", "20250929", "PROPRIETARY", "GA"},
      {"anthropic", "claude-haiku-4-5", "20251001", "PROPRIETARY", "GA"},
  };
  std::vector<const Model*> list;
  for (const Model& m : kModels)
    if (publisher == m.publisher) list.push_back(&m);
  const std::string view = shared::query_param(req, "view");
  if (!view.empty() && view != "PUBLISHER_MODEL_VIEW_UNSPECIFIED" && view != "PUBLISHER_MODEL_VIEW_BASIC" &&
      view != "PUBLISHER_MODEL_VIEW_FULL" && view != "PUBLISHER_MODEL_VERSION_VIEW_BASIC")
    fail("Invalid value at 'view' (type.googleapis.com/google.cloud.aiplatform.v1beta1.PublisherModelView), \"" +
         view + "\"");
  const std::string all = shared::query_param(req, "listAllVersions");
  if (!all.empty() && all != "true" && all != "false")
    fail("Invalid value at 'list_all_versions' (TYPE_BOOL), \"" + all + "\"");
  size_t start = 0, size = 100;
  if (std::string t = shared::query_param(req, "pageToken"); !t.empty()) {
    if (t.rfind("vp", 0) != 0 || t.size() == 2 || t.find_first_not_of("0123456789", 2) != std::string::npos)
      fail("Invalid page token.");
    start = std::strtoul(t.c_str() + 2, nullptr, 10);
  }
  if (std::string ps = shared::query_param(req, "pageSize"); !ps.empty()) {
    char* end = nullptr;
    long v = std::strtol(ps.c_str(), &end, 10);
    if (*end != '\0') fail("Invalid value at 'page_size' (TYPE_INT32), \"" + ps + "\"");
    if (v < 0) fail("Page size must be non-negative.");
    if (v > 0) size = static_cast<size_t>(v);
  }
  if (list.empty()) return json_answer(200, "{}");
  size_t i = start;
  std::string body = json([&](Writer& w) {
    w.StartObject();
    w.Key("publisherModels");
    w.StartArray();
    for (; i < list.size() && i < start + size; ++i) {
      const Model& m = *list[i];
      const std::string name = std::string("publishers/") + m.publisher + "/models/" + m.id;
      w.StartObject();
      w.Key("name");
      put(w, name);
      w.Key("versionId");
      w.String(m.version);
      w.Key("openSourceCategory");
      w.String(m.category);
      w.Key("launchStage");
      w.String(m.stage);
      w.Key("publisherModelTemplate");
      put(w, "projects/{project}/locations/{location}/" + name + "@" + m.version);
      w.EndObject();
    }
    w.EndArray();
    if (i < list.size()) {
      w.Key("nextPageToken");
      put(w, "vp" + std::to_string(i));
    }
    w.EndObject();
  });
  return json_answer(200, std::move(body));
}

}  // namespace

Plan handle_gemini(const RecordedRequest& req, GeminiRoute route, const std::string& model, uint64_t n) {
  try {
    if (route == GeminiRoute::models) {
      if (req.method != "GET") return gemini_error_plan(404, "Method not found.", "NOT_FOUND");
      return gemini_models(req);
    }
    if (route == GeminiRoute::vertex_models) {
      if (req.method != "GET") return gemini_error_plan(404, "Method not found.", "NOT_FOUND");
      return vertex_publisher_models(req, model);
    }
    if (route == GeminiRoute::embed) return gemini_embed(req, model);
    if (route == GeminiRoute::vertex_predict) return vertex_predict(req);
  } catch (const Fail& f) {
    return gemini_error_plan(f.status, f.message);
  }
  const bool vertex = route == GeminiRoute::vertex_generate || route == GeminiRoute::vertex_stream;
  const bool stream = route == GeminiRoute::stream || route == GeminiRoute::vertex_stream;
  const bool sse = req.target.find("alt=sse") != std::string::npos;
  try {
    const bool echo = shared::header_true(req, "x-upstream-echo");
    rapidjson::Document doc;
    doc.Parse(req.body.data(), req.body.size());
    Request r;
    if (!echo) {
      if (doc.HasParseError()) fail("Invalid JSON payload received. Unexpected token.");
      r = check(doc, model, vertex);
    }
    if (shared::header_true(req, "x-upstream-context-exceeded"))
      fail("The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).");

    Reply reply;
    reply.model = model;
    reply.vertex = vertex;
    reply.response_id = "upstream" + std::to_string(n);
    reply.prompt = r.input_words;
    reply.candidates = r.candidates;
    long v = 0;
    if (shared::header_number(req, "x-upstream-cached-tokens", v)) reply.cached = v;
    if (shared::header_true(req, "x-upstream-malformed") && !stream)
      return json_answer(200, R"({"candidates": [{"content": )");

    const std::string block(shared::trim(req.header("x-upstream-block")));
    const std::string finish(shared::trim(req.header("x-upstream-finish")));
    std::vector<std::string> objects;
    if (!block.empty()) {
      objects.push_back(blocked_response(reply, block));
    } else if (!finish.empty()) {
      objects.push_back(finished_response(reply, finish));
    } else {
      reply.thinking = r.thinking;
      reply.stream_args = r.stream_args;
      if (r.thinking) {
        std::string thought = "Thinking about: " + r.last_user_text;
        reply.thoughts = static_cast<long>(count_words(thought));
        if (r.include_thoughts) reply.thought = std::move(thought);
      }
      std::vector<const Function*> fns;
      for (const Function& f : r.functions)
        if (r.allowed.empty() || std::find(r.allowed.begin(), r.allowed.end(), f.name) != r.allowed.end())
          fns.push_back(&f);
      if (!echo && !fns.empty() && r.mode != "NONE" && !r.last_is_function_responses) {
        // Two or more declarations: a call to each (Gemini calls in parallel); else the one.
        for (const Function* f : fns)
          // Asked to stream arguments (Gemini 3's pieces), nested objects are sampled too: more pieces.
          reply.calls.push_back({f->name, f->schema && f->schema->IsObject() ? sample_of(*f->schema, r.stream_args) : "{}"});
        reply.output = 5;
      } else {
        std::string text = echo                 ? req.body
                           : r.response_schema ? sample_of(*r.response_schema, true)
                           : r.json_mime       ? std::string(R"({"ok":true})")
                                               : "Hello from the local upstream. You said: " + r.last_user_text;
        if (!echo) {
          if (r.max_output_tokens >= 0 && count_words(text) > static_cast<size_t>(r.max_output_tokens)) {
            text = shared::first_words(text, static_cast<size_t>(r.max_output_tokens));
            reply.finish = "MAX_TOKENS";
          }
          size_t best = std::string::npos;
          for (const std::string& s : r.stop_sequences)
            if (!s.empty()) best = std::min(best, text.find(s));
          if (best != std::string::npos) {
            text = text.substr(0, best);
            reply.finish = "STOP";
          }
        }
        reply.output = static_cast<long>(count_words(text));
        reply.text = std::move(text);
        reply.has_text = true;
      }
      if (stream)
        objects = stream_objects(reply);
      else
        objects.push_back(full_response(reply));
    }

    if (!stream) return json_answer(200, std::move(objects.front()));
    Plan p = shared::sse_plan();
    const std::string stream_error(shared::trim(req.header("x-upstream-stream-error")));
    long error_code = 0;
    if (!stream_error.empty() && (!shared::header_number(req, "x-upstream-stream-error", error_code) ||
                                  error_code < 400 || error_code > 599))
      fail("x-upstream-stream-error: expected an HTTP error status (400..599), got '" + stream_error + "'");
    if (error_code) {
      // Google ends a failing stream with the error object as the last event.
      objects.resize(1);
      Plan e = gemini_status_plan(static_cast<int>(error_code), route);
      objects.push_back(e.body);
    }
    if (sse) {
      for (const std::string& o : objects) p.events.push_back("data: " + o + "\r\n\r\n");
      if (shared::header_true(req, "x-upstream-malformed") && p.events.size() > 1)
        p.events[1] = "data: {not json\r\n\r\n";
    } else {
      // Without alt=sse: one JSON array, streamed an element at a time.
      p.headers[0].second = "application/json; charset=UTF-8";
      for (size_t i = 0; i < objects.size(); ++i) p.events.push_back((i ? ",\r\n" : "[") + objects[i]);
      p.events.back() += "]";
    }
    p.headers.emplace_back("content-disposition", "attachment");
    shared::after_done(req, p);
    if (p.after_done == AfterDone::more) {
      long bytes = 64;
      shared::header_number(req, "x-upstream-generate-bytes", bytes);
      p.after = [reply, bytes = static_cast<size_t>(std::min(bytes, 16L << 20)), k = size_t{0}](std::string& out) mutable {
        static constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        std::string text;
        for (size_t i = 0; i < bytes; ++i) text += kLetters[(k + i) % kLetters.size()];
        k += bytes;
        out += "data: " + response(reply, [&](Writer& w) { write_text_part(w, text, false, nullptr); }, false) +
               "\r\n\r\n";
        return true;
      };
    }
    return p;
  } catch (const Fail& f) {
    return gemini_error_plan(f.status, f.message);
  }
}

}  // namespace literllm::testing::detail
