// Tests for validate_chat_request: every valid shape passes, and every broken
// rule fails with the right status and a message that names the field's path.
#include "core/validate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace literllm {
namespace {

json::Document parse_request(const std::string& text) {
  return json::parse(text, "request", LLM_ERR_INVALID_ARGUMENT);
}

// A request with one user message plus `extra` top-level members (", ..." text).
std::string with(const std::string& extra) {
  return R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}])" + extra + "}";
}

// A request with the given messages (the text inside the array).
std::string msgs(const std::string& messages) {
  return R"({"model":"gpt-4o","messages":[)" + messages + "]}";
}

// Tools used by the tool_choice tests.
const std::string kTools =
    R"(,"tools":[{"type":"function","function":{"name":"get_weather","description":"d",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}},)"
    R"({"type":"custom","custom":{"name":"run_sql","format":{"type":"grammar",)"
    R"("grammar":{"definition":"start: x","syntax":"lark"}}}}])";

struct Failure {
  llm_status status = LLM_OK;
  std::string message;
};

Failure run(const std::string& text, bool streaming = false, RequestRules rules = RequestRules::OpenAI) {
  auto doc = parse_request(text);
  try {
    validate_chat_request(doc, streaming, rules);
  } catch (const Error& e) {
    return Failure{e.status(), e.what()};
  }
  return {};
}

void expect_ok(const std::string& text, bool streaming = false) {
  const Failure f = run(text, streaming);
  EXPECT_EQ(f.status, LLM_OK) << text << "\n  -> " << f.message;
}

// Expects failure with `status` and a message containing `needle`.
void expect_fail(const std::string& text, const std::string& needle, llm_status status = LLM_ERR_INVALID_ARGUMENT,
                 bool streaming = false) {
  const Failure f = run(text, streaming);
  EXPECT_EQ(f.status, status) << text << "\n  -> " << f.message;
  EXPECT_NE(f.message.find(needle), std::string::npos)
      << text << "\n  message: " << f.message << "\n  expected to contain: " << needle;
}

const char* rules_name(RequestRules r) { return r == RequestRules::OpenAI ? "OpenAI rules" : "structure rules"; }

void expect_ok_under(RequestRules rules, const std::string& text) {
  const Failure f = run(text, false, rules);
  EXPECT_EQ(f.status, LLM_OK) << rules_name(rules) << ": " << text << "\n  -> " << f.message;
}

void expect_fail_under(RequestRules rules, const std::string& text, const std::string& needle) {
  const Failure f = run(text, false, rules);
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT) << rules_name(rules) << ": " << text << "\n  -> " << f.message;
  EXPECT_NE(f.message.find(needle), std::string::npos)
      << rules_name(rules) << ": " << text << "\n  message: " << f.message << "\n  expected to contain: " << needle;
}

constexpr RequestRules kBothRules[] = {RequestRules::Structure, RequestRules::OpenAI};

// ------------------------------------------------------------- valid shapes

TEST(ValidateChatRequest, MinimalTextRequestPasses) {
  expect_ok(with(""));
  expect_ok(msgs(R"({"role":"user","content":""})"));
}

TEST(ValidateChatRequest, EveryRoleAndContentShapePasses) {
  expect_ok(msgs(R"({"role":"system","content":"be brief"},)"
                 R"({"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"name":"s"},)"
                 R"({"role":"developer","content":"x"},)"
                 R"({"role":"developer","content":[{"type":"text","text":"x"}]},)"
                 R"({"role":"user","content":"hi","name":"alice"},)"
                 R"({"role":"assistant","content":"hello"},)"
                 R"({"role":"assistant","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"no"}]},)"
                 R"({"role":"user","content":"again"})"));
}

TEST(ValidateChatRequest, EveryUserPartTypePasses) {
  expect_ok(msgs(R"({"role":"user","content":[)"
                 R"({"type":"text","text":"look"},)"
                 R"({"type":"image_url","image_url":{"url":"https://example.com/a.png"}},)"
                 R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},)"
                 R"({"type":"image_url","image_url":{"url":"u","detail":"high"}},)"
                 R"({"type":"image_url","image_url":{"url":"u","detail":"auto"}},)"
                 R"({"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},)"
                 R"({"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}},)"
                 R"({"type":"file","file":{"file_data":"JVBERi0=","filename":"a.pdf"}},)"
                 R"({"type":"file","file":{"file_id":"file-abc"}},)"
                 R"({"type":"document","document":{"data":"JVBERi0=","media_type":"application/pdf"}},)"
                 R"({"type":"document","document":{"url":"https://example.com/a.pdf"}},)"
                 R"({"type":"text","text":"cached","prompt_cache_breakpoint":{"mode":"explicit"}})"
                 R"(]})"));
}

TEST(ValidateChatRequest, UnknownFieldsPassThrough) {
  expect_ok(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":)"
            R"({"type":"ephemeral"}}],"x_extra":1}],"provider_specific":{"a":[1,2]},"top_k":40})");
}

TEST(ValidateChatRequest, AssistantToolCallsAndToolMessagesPass) {
  const std::string call =
      R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}})";
  expect_ok(msgs(R"({"role":"user","content":"weather?"},)"
                 R"({"role":"assistant","content":null,"tool_calls":[)" + call + R"(]},)" +
                 R"({"role":"tool","tool_call_id":"call_1","content":"sunny"},)"
                 R"({"role":"assistant","tool_calls":[)" + call + R"(],"refusal":null,"name":"bot"},)" +
                 R"({"role":"tool","tool_call_id":"call_1","content":[{"type":"text","text":"sunny"}]},)"
                 R"({"role":"assistant","content":null,"tool_calls":[{"id":"c2","type":"custom",)"
                 R"("custom":{"name":"run_sql","input":"select 1"}}]},)"
                 R"({"role":"tool","tool_call_id":"c2","content":"1"},)"
                 R"({"role":"assistant","content":"ok","reasoning_content":"thinking...","audio":null},)"
                 R"({"role":"user","content":"thanks"})"));
}

TEST(ValidateChatRequest, AssistantWithoutContentButOtherAnswerPasses) {
  // Deprecated function_call, a refusal echoed back, a previous audio answer.
  expect_ok(msgs(R"({"role":"user","content":"q"},)"
                 R"({"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}},)"
                 R"({"role":"function","name":"f","content":"result"},)"
                 R"({"role":"function","name":"f","content":null},)"
                 R"({"role":"assistant","content":null,"refusal":"I can't help with that."},)"
                 R"({"role":"assistant","audio":{"id":"audio_abc"}},)"
                 R"({"role":"user","content":"q"})"));
}

TEST(ValidateChatRequest, ToolsWithEveryToolChoicePass) {
  for (const char* choice : {
           R"("none")",
           R"("auto")",
           R"("required")",
           R"({"type":"function","function":{"name":"get_weather"}})",
           R"({"type":"custom","custom":{"name":"run_sql"}})",
           R"({"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[)"
           R"({"type":"function","function":{"name":"get_weather"}}]}})",
       }) {
    SCOPED_TRACE(choice);
    expect_ok(with(kTools + R"(,"tool_choice":)" + choice + R"(,"parallel_tool_calls":false)"));
  }
  // "none" and "auto" need no tools; an empty tools array is allowed.
  expect_ok(with(R"(,"tool_choice":"none")"));
  expect_ok(with(R"(,"tool_choice":"auto","tools":[])"));
  expect_ok(with(R"(,"tools":[{"type":"function","function":{"name":"a-B_9"}},)"
                 R"({"type":"function","function":{"name":"b","strict":null}},)"
                 R"({"type":"custom","custom":{"name":"c","description":"d","format":{"type":"text"}}}])"));
}

TEST(ValidateChatRequest, EveryResponseFormatPasses) {
  expect_ok(with(R"(,"response_format":{"type":"text"})"));
  expect_ok(with(R"(,"response_format":{"type":"json_object"})"));
  expect_ok(with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"answer"}})"));
  expect_ok(with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"answer_2","description":"d",)"
                 R"("schema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},"strict":true}})"));
  expect_ok(with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x","strict":null}})"));
}

TEST(ValidateChatRequest, NumbersAtTheirBoundsPass) {
  expect_ok(with(R"(,"temperature":0,"top_p":0,"n":1,"presence_penalty":-2,"frequency_penalty":-2,)"
                 R"("max_tokens":1,"max_completion_tokens":1,"seed":-9223372036854775808,"top_logprobs":0,)"
                 R"("logprobs":true,"logit_bias":{"50256":-100,"1":100,"2":0})"));
  expect_ok(with(R"(,"temperature":2,"top_p":1,"n":128,"presence_penalty":2,"frequency_penalty":2,)"
                 R"("max_tokens":9223372036854775807,"max_completion_tokens":128000,)"
                 R"("seed":9223372036854775807,"top_logprobs":20,"logprobs":true)"));
  expect_ok(with(R"(,"temperature":0.7,"top_p":0.95,"presence_penalty":0.5,"frequency_penalty":-1.25)"));
  // An integral number written with a fraction or exponent is still an integer.
  expect_ok(with(R"(,"n":2.0,"max_tokens":1e3,"seed":-5.0)"));
}

TEST(ValidateChatRequest, NullMeansAbsentWhereTheSpecAllowsIt) {
  expect_ok(with(R"(,"temperature":null,"top_p":null,"n":null,"stop":null,"max_tokens":null,)"
                 R"("max_completion_tokens":null,"presence_penalty":null,"frequency_penalty":null,)"
                 R"("logit_bias":null,"logprobs":null,"top_logprobs":null,"seed":null,"reasoning_effort":null,)"
                 R"("service_tier":null,"store":null,"metadata":null,"modalities":null,"audio":null,)"
                 R"("prediction":null,"verbosity":null,"stream":null,"stream_options":null,)"
                 R"("safety_identifier":null,"prompt_cache_key":null,"prompt_cache_retention":null,"moderation":null)"));
}

TEST(ValidateChatRequest, OtherOpenAIFieldsPass) {
  expect_ok(with(R"(,"stop":"\n")"));
  expect_ok(with(R"(,"stop":["a","b","c","d"])"));
  expect_ok(with(R"(,"user":"user-1234","store":true,"metadata":{"team":"search","run":"7"})"));
  for (const char* e : {"none", "minimal", "low", "medium", "high", "xhigh", "max"})
    expect_ok(with(std::string(R"(,"reasoning_effort":")") + e + "\""));
  for (const char* t : {"auto", "default", "flex", "scale", "priority", "fast"})
    expect_ok(with(std::string(R"(,"service_tier":")") + t + "\""));
  expect_ok(with(R"(,"modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"})"));
  expect_ok(with(R"(,"audio":{"voice":{"id":"voice_1234"},"format":"pcm16"})"));
  expect_ok(with(R"(,"prediction":{"type":"content","content":"old file"})"));
  expect_ok(with(R"(,"prediction":{"type":"content","content":[{"type":"text","text":"old"}]})"));
  expect_ok(with(R"(,"web_search_options":{"search_context_size":"low","user_location":{"type":"approximate",)"
                 R"("approximate":{"country":"US","city":"San Francisco","region":"CA","timezone":"America/Los_Angeles"}}})"));
  expect_ok(with(R"(,"web_search_options":{})"));
  expect_ok(with(R"(,"verbosity":"low","safety_identifier":"abc","prompt_cache_key":"k",)"
                 R"("prompt_cache_retention":"24h","prompt_cache_options":{"ttl":"30m","mode":"explicit"},)"
                 R"("moderation":{"model":"omni-moderation-latest","policy":{"input":{"mode":"block"},"output":null}})"));
  expect_ok(with(R"(,"functions":[{"name":"f","parameters":{"type":"object"}}],"function_call":{"name":"f"})"));
  expect_ok(with(R"(,"function_call":"auto")"));
  std::string sixteen;
  for (int i = 0; i < 16; ++i) sixteen += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  expect_ok(with(R"(,"metadata":{)" + sixteen + "}"));
}

TEST(ValidateChatRequest, StreamFlagsPass) {
  expect_ok(with(R"(,"stream":false)"));
  expect_ok(with(""), true);
  expect_ok(with(R"(,"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false})"), true);
}

TEST(ValidateChatRequest, ExtensionsPass) {
  expect_ok(with(R"(,"extra_body":{"top_k":40,"safe_prompt":true},)"
                 R"("extra_headers":{"X-Request-Id":"abc 123","anthropic-beta":"tools-2024","x!#$%&'*+.^_`|~":"\tv"},)"
                 R"("timeout_secs":86400,"fallbacks":["groq/llama-3.1-8b-instant","gpt-4o-mini"],)"
                 R"("retry":{"max_retries":3})"));
  expect_ok(with(R"(,"timeout_secs":0.5,"extra_headers":{})"));
}

TEST(ValidateChatRequest, OpaqueSchemasAreNotDescended) {
  // parameters / schema are JSON Schema objects: any content, any depth the parser allows.
  std::string deep = "{}";
  for (int i = 0; i < 400; ++i) deep = R"({"a":)" + deep + "}";
  expect_ok(with(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":)" + deep + "}}]" +
                 R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":)" + deep + "}}"));
  expect_ok(with(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":7,"x":[null]}}}])"));
}

TEST(ValidateChatRequest, HugeBase64ImagePasses) {
  std::string big = R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what is it"},)"
                    R"({"type":"image_url","image_url":{"url":"data:image/png;base64,)";
  big.append(20u << 20, 'A');
  big += R"("}}]}]})";
  expect_ok(big);
}

// ---------------------------------------------------------- invalid requests

struct Case {
  std::string request;
  std::string needle;  // must appear in the message
};

void expect_all_fail(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request.substr(0, 300));
    expect_fail(c.request, c.needle);
  }
}

TEST(ValidateChatRequest, RootModelAndMessages) {
  expect_all_fail({
      {R"([])", "request: expected an object, got array"},
      {R"("hi")", "request: expected an object, got string"},
      {R"({"messages":[{"role":"user","content":"hi"}]})", "request.model: is required"},
      {R"({"model":"","messages":[{"role":"user","content":"hi"}]})", "request.model: must not be empty"},
      {R"({"model":5,"messages":[{"role":"user","content":"hi"}]})", "request.model: expected a string, got number"},
      {R"({"model":"m"})", "request.messages: is required"},
      {R"({"model":"m","messages":[]})", "request.messages: must not be an empty array"},
      {R"({"model":"m","messages":{"role":"user"}})", "request.messages: expected an array, got object"},
      {msgs("1"), "request.messages[0]: expected an object (a message), got number"},
      {msgs(R"({"content":"x"})"), "request.messages[0].role: is required"},
      {msgs(R"({"role":"bot","content":"x"})"),
       R"(request.messages[0].role: must be one of system, developer, user, assistant, tool, function; got "bot")"},
      {msgs(R"({"role":7,"content":"x"})"), "request.messages[0].role: expected a string, got number"},
      {msgs(R"({"role":"user","content":"x","name":5})"), "request.messages[0].name: expected a string, got number"},
  });
}

TEST(ValidateChatRequest, SystemDeveloperUserContent) {
  expect_all_fail({
      {msgs(R"({"role":"system"})"), "request.messages[0].content: is required"},
      {msgs(R"({"role":"system","content":null})"),
       "request.messages[0].content: expected a string or an array of content parts, got null"},
      {msgs(R"({"role":"system","content":[]})"), "request.messages[0].content: must not be an empty array"},
      {msgs(R"({"role":"system","content":[{"type":"image_url","image_url":{"url":"u"}}]})"),
       R"(request.messages[0].content[0].type: "image_url" parts are not allowed in a system message)"},
      {msgs(R"({"role":"developer","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"r"}]})"),
       R"(request.messages[0].content[1].type: "refusal" parts are not allowed in a developer message)"},
      {msgs(R"({"role":"developer","content":[{"type":"text"}]})"), "request.messages[0].content[0].text: is required"},
      {msgs(R"({"role":"user"})"), "request.messages[0].content: is required"},
      {msgs(R"({"role":"user","content":5})"),
       "request.messages[0].content: expected a string or an array of content parts, got number"},
      {msgs(R"({"role":"user","content":[]})"), "request.messages[0].content: must not be an empty array"},
      {msgs(R"({"role":"user","content":["hi"]})"),
       "request.messages[0].content[0]: expected an object (a content part), got string"},
      {msgs(R"({"role":"user","content":[{"text":"hi"}]})"), "request.messages[0].content[0].type: is required"},
      {msgs(R"({"role":"user","content":[{"type":5}]})"),
       "request.messages[0].content[0].type: expected a string, got number"},
      {msgs(R"({"role":"user","content":[{"type":"video","video":{}}]})"),
       R"(request.messages[0].content[0].type: unknown content part type "video")"},
      {msgs(R"({"role":"user","content":[{"type":"refusal","refusal":"x"}]})"),
       R"(request.messages[0].content[0].type: "refusal" parts are not allowed in a user message)"},
      {msgs(R"({"role":"user","content":[{"type":"text","text":5}]})"),
       "request.messages[0].content[0].text: expected a string, got number"},
      {msgs(R"({"role":"user","content":[{"type":"text","text":"x","prompt_cache_breakpoint":{"mode":"auto"}}]})"),
       "request.messages[0].content[0].prompt_cache_breakpoint.mode: must be one of explicit"},
  });
}

TEST(ValidateChatRequest, UserParts) {
  const std::string pre = R"({"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"user","content":[)";
  auto part = [&](const std::string& p) { return msgs(pre + p + "]}"); };
  expect_all_fail({
      {part(R"({"type":"image_url","image_url":{"url":5}})"),
       "request.messages[2].content[0].image_url.url: expected a string, got number"},
      {part(R"({"type":"image_url","image_url":{"url":""}})"),
       "request.messages[2].content[0].image_url.url: must not be empty"},
      {part(R"({"type":"image_url","image_url":{}})"), "request.messages[2].content[0].image_url.url: is required"},
      {part(R"({"type":"image_url"})"), "request.messages[2].content[0].image_url: is required"},
      {part(R"({"type":"image_url","image_url":"https://x"})"),
       "request.messages[2].content[0].image_url: expected an object, got string"},
      {part(R"({"type":"image_url","image_url":{"url":"u","detail":"ultra"}})"),
       R"(request.messages[2].content[0].image_url.detail: must be one of auto, low, high; got "ultra")"},
      {part(R"({"type":"input_audio","input_audio":{"data":"x","format":"ogg"}})"),
       R"(request.messages[2].content[0].input_audio.format: must be one of wav, mp3; got "ogg")"},
      {part(R"({"type":"input_audio","input_audio":{"format":"wav"}})"),
       "request.messages[2].content[0].input_audio.data: is required"},
      {part(R"({"type":"input_audio","input_audio":{"data":"x"}})"),
       "request.messages[2].content[0].input_audio.format: is required"},
      {part(R"({"type":"file","file":{"filename":"a.pdf"}})"),
       "request.messages[2].content[0].file: needs a non-empty file_data or file_id"},
      {part(R"({"type":"file","file":{"file_id":""}})"),
       "request.messages[2].content[0].file: needs a non-empty file_data or file_id"},
      {part(R"({"type":"file","file":{"file_id":7}})"),
       "request.messages[2].content[0].file.file_id: expected a string, got number"},
      {part(R"({"type":"file","file":{"file_data":"x","filename":1}})"),
       "request.messages[2].content[0].file.filename: expected a string, got number"},
      {part(R"({"type":"file"})"), "request.messages[2].content[0].file: is required"},
      {part(R"({"type":"document","document":{"media_type":"application/pdf"}})"),
       "request.messages[2].content[0].document: needs a non-empty data or url"},
      {part(R"({"type":"document","document":{"url":true}})"),
       "request.messages[2].content[0].document.url: expected a string, got boolean"},
      {part(R"({"type":"text","text":"ok"},{"type":"document","document":[]})"),
       "request.messages[2].content[1].document: expected an object, got array"},
  });
}

TEST(ValidateChatRequest, AssistantToolAndFunctionMessages) {
  const std::string u = R"({"role":"user","content":"q"},)";
  expect_all_fail({
      {msgs(u + R"({"role":"assistant","content":null})"),
       "request.messages[1].content: must not be null unless the message has tool_calls"},
      {msgs(u + R"({"role":"assistant"})"), "request.messages[1].content: is required unless the message has tool_calls"},
      {msgs(u + R"({"role":"assistant","content":null,"tool_calls":[]})"),
       "request.messages[1].content: must not be null unless"},
      {msgs(u + R"({"role":"assistant","content":[]})"), "request.messages[1].content: must not be an empty array"},
      {msgs(u + R"({"role":"assistant","content":[{"type":"image_url","image_url":{"url":"u"}}]})"),
       R"(request.messages[1].content[0].type: "image_url" parts are not allowed in an assistant message)"},
      {msgs(u + R"({"role":"assistant","content":[{"type":"refusal"}]})"),
       "request.messages[1].content[0].refusal: is required"},
      {msgs(u + R"({"role":"assistant","tool_calls":{}})"),
       "request.messages[1].tool_calls: expected an array, got object"},
      {msgs(u + R"({"role":"assistant","tool_calls":null})"),
       "request.messages[1].tool_calls: expected an array, got null"},
      {msgs(u + R"({"role":"assistant","tool_calls":[7]})"),
       "request.messages[1].tool_calls[0]: expected an object (a tool call), got number"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]})"),
       "request.messages[1].tool_calls[0].id: is required"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]})"),
       "request.messages[1].tool_calls[0].type: is required"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"id":"c","type":"fn","function":{}}]})"),
       R"(request.messages[1].tool_calls[0].type: must be one of function, custom; got "fn")"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"id":"c","type":"function"}]})"),
       "request.messages[1].tool_calls[0].function: is required"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]})"),
       "request.messages[1].tool_calls[0].function.name: is required"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]})"),
       "request.messages[1].tool_calls[0].function.arguments: expected a string, got object"},
      {msgs(u + R"({"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{"name":"f"}}]})"),
       "request.messages[1].tool_calls[0].custom.input: is required"},
      {msgs(u + R"({"role":"assistant","content":"a","refusal":5})"),
       "request.messages[1].refusal: expected a string or null, got number"},
      {msgs(u + R"({"role":"assistant","content":null,"function_call":{"name":"f"}})"),
       "request.messages[1].function_call.arguments: is required"},
      {msgs(u + R"({"role":"assistant","audio":{}})"), "request.messages[1].audio.id: is required"},
      {msgs(u + R"({"role":"assistant","content":"a","reasoning_content":1})"),
       "request.messages[1].reasoning_content: expected a string or null, got number"},
      {msgs(u + R"({"role":"tool","content":"r"})"), "request.messages[1].tool_call_id: is required"},
      {msgs(u + R"({"role":"tool","tool_call_id":5,"content":"r"})"),
       "request.messages[1].tool_call_id: expected a string, got number"},
      {msgs(u + R"({"role":"tool","tool_call_id":"c"})"), "request.messages[1].content: is required"},
      {msgs(u + R"({"role":"tool","tool_call_id":"c","content":[{"type":"image_url","image_url":{"url":"u"}}]})"),
       R"(request.messages[1].content[0].type: "image_url" parts are not allowed in a tool message)"},
      {msgs(u + R"({"role":"function","content":"r"})"), "request.messages[1].name: is required"},
      {msgs(u + R"({"role":"function","name":"f"})"), "request.messages[1].content: is required"},
      {msgs(u + R"({"role":"function","name":"f","content":[{"type":"text","text":"x"}]})"),
       "request.messages[1].content: expected a string or null, got array"},
  });
}

TEST(ValidateChatRequest, Tools) {
  expect_all_fail({
      {with(R"(,"tools":{})"), "request.tools: expected an array, got object"},
      {with(R"(,"tools":[1])"), "request.tools[0]: expected an object (a tool), got number"},
      {with(R"(,"tools":[{"function":{"name":"f"}}])"), "request.tools[0].type: is required"},
      {with(R"(,"tools":[{"type":"code_interpreter"}])"),
       R"(request.tools[0].type: must be one of function, custom; got "code_interpreter")"},
      {with(R"(,"tools":[{"type":"function"}])"), "request.tools[0].function: is required"},
      {with(R"(,"tools":[{"type":"function","function":{}}])"), "request.tools[0].function.name: is required"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"get weather"}}])"),
       R"(request.tools[0].function.name: must be 1 to 64 characters from a-z, A-Z, 0-9, _ and -; got "get weather")"},
      {with(R"(,"tools":[{"type":"function","function":{"name":""}}])"), "request.tools[0].function.name: must be 1 to 64"},
      {with(R"(,"tools":[{"type":"function","function":{"name":")" + std::string(65, 'a') + R"("}}])"),
       "request.tools[0].function.name: must be 1 to 64"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"f","description":1}}])"),
       "request.tools[0].function.description: expected a string, got number"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"f","parameters":[]}}])"),
       "request.tools[0].function.parameters: expected an object, got array"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"f","strict":"yes"}}])"),
       "request.tools[0].function.strict: expected a boolean or null, got string"},
      {with(R"(,"tools":[{"type":"custom","custom":{}}])"), "request.tools[0].custom.name: is required"},
      {with(R"(,"tools":[{"type":"custom","custom":{"name":"c","format":{"type":"grammar","grammar":{"definition":"x","syntax":"peg"}}}}])"),
       R"(request.tools[0].custom.format.grammar.syntax: must be one of lark, regex; got "peg")"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}},)"
            R"({"type":"function","function":{"name":"f"}}])"),
       R"(request.tools[2].function.name: duplicate tool name "f" (also at request.tools[0]))"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"x"}},{"type":"custom","custom":{"name":"x"}}])"),
       R"(request.tools[1].custom.name: duplicate tool name "x" (also at request.tools[0]))"},
  });
}

TEST(ValidateChatRequest, DuplicateToolNamesAmongManyTools) {
  std::string tools = R"(,"tools":[)";
  for (int i = 0; i < 300; ++i)
    tools += (i ? "," : "") + std::string(R"({"type":"function","function":{"name":"t)") + std::to_string(i) + "\"}}";
  expect_ok(with(tools + "]"));
  expect_fail(with(tools + R"(,{"type":"function","function":{"name":"t7"}}])"),
              R"(request.tools[300].function.name: duplicate tool name "t7" (also at request.tools[7]))");
}

TEST(ValidateChatRequest, ToolChoice) {
  expect_all_fail({
      {with(kTools + R"(,"tool_choice":"sometimes")"),
       R"(request.tool_choice: must be one of none, auto, required; got "sometimes")"},
      {with(kTools + R"(,"tool_choice":5)"), "request.tool_choice: expected a string or an object, got number"},
      {with(kTools + R"(,"tool_choice":null)"), "request.tool_choice: expected a string or an object, got null"},
      {with(R"(,"tool_choice":"required")"), "request.tool_choice: \"required\" needs tools"},
      {with(R"(,"tools":[],"tool_choice":"required")"), "request.tool_choice: \"required\" needs tools"},
      {with(kTools + R"(,"tool_choice":{"type":"function","function":{"name":"nope"}})"),
       R"(request.tool_choice.function.name: no function tool named "nope" in request.tools)"},
      {with(kTools + R"(,"tool_choice":{"type":"function","function":{"name":"run_sql"}})"),
       R"(request.tool_choice.function.name: no function tool named "run_sql")"},
      {with(kTools + R"(,"tool_choice":{"type":"custom","custom":{"name":"get_weather"}})"),
       R"(request.tool_choice.custom.name: no custom tool named "get_weather")"},
      {with(R"(,"tool_choice":{"type":"function","function":{"name":"get_weather"}})"),
       R"(request.tool_choice.function.name: no function tool named "get_weather")"},
      {with(kTools + R"(,"tool_choice":{"type":"function"})"), "request.tool_choice.function: is required"},
      {with(kTools + R"(,"tool_choice":{"type":"function","function":{}})"),
       "request.tool_choice.function.name: is required"},
      {with(kTools + R"(,"tool_choice":{"function":{"name":"get_weather"}})"), "request.tool_choice.type: is required"},
      {with(kTools + R"(,"tool_choice":{"type":"tool","function":{"name":"get_weather"}})"),
       "request.tool_choice.type: must be one of function, custom, allowed_tools"},
      {with(kTools + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"none","tools":[]}})"),
       R"(request.tool_choice.allowed_tools.mode: must be one of auto, required; got "none")"},
      {with(kTools + R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[1]}})"),
       "request.tool_choice.allowed_tools.tools[0]: expected an object, got number"},
      {with(R"(,"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}})"),
       "request.tool_choice: allowed_tools needs tools"},
      {with(kTools + R"(,"parallel_tool_calls":"yes")"), "request.parallel_tool_calls: expected a boolean, got string"},
  });
}

TEST(ValidateChatRequest, ResponseFormat) {
  expect_all_fail({
      {with(R"(,"response_format":"json")"), "request.response_format: expected an object, got string"},
      {with(R"(,"response_format":{})"), "request.response_format.type: is required"},
      {with(R"(,"response_format":{"type":"xml"})"),
       R"(request.response_format.type: must be one of text, json_object, json_schema; got "xml")"},
      {with(R"(,"response_format":{"type":"json_schema"})"), "request.response_format.json_schema: is required"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{}}})"),
       "request.response_format.json_schema.name: is required"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"my schema"}})"),
       "request.response_format.json_schema.name: must be 1 to 64 characters"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":"{}"}})"),
       "request.response_format.json_schema.schema: expected an object, got string"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"s","strict":1}})"),
       "request.response_format.json_schema.strict: expected a boolean or null, got number"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"s","description":[]}})"),
       "request.response_format.json_schema.description: expected a string, got array"},
  });
}

TEST(ValidateChatRequest, Numbers) {
  expect_all_fail({
      {with(R"(,"temperature":3.5)"), "request.temperature: must be between 0 and 2, got 3.5"},
      {with(R"(,"temperature":-0.1)"), "request.temperature: must be between 0 and 2, got -0.1"},
      {with(R"(,"temperature":"hot")"), "request.temperature: expected a number or null, got string"},
      {with(R"(,"top_p":1.5)"), "request.top_p: must be between 0 and 1, got 1.5"},
      {with(R"(,"top_p":true)"), "request.top_p: expected a number or null, got boolean"},
      {with(R"(,"n":0)"), "request.n: must be between 1 and 128, got 0"},
      {with(R"(,"n":129)"), "request.n: must be between 1 and 128, got 129"},
      {with(R"(,"n":1.5)"), "request.n: expected an integer, got 1.5"},
      {with(R"(,"n":1e20)"), "request.n: must be between 1 and 128, got 1e+20"},
      {with(R"(,"n":"2")"), "request.n: expected an integer or null, got string"},
      {with(R"(,"presence_penalty":2.5)"), "request.presence_penalty: must be between -2 and 2, got 2.5"},
      {with(R"(,"frequency_penalty":-3)"), "request.frequency_penalty: must be between -2 and 2, got -3"},
      {with(R"(,"max_tokens":0)"), "request.max_tokens: must be at least 1, got 0"},
      {with(R"(,"max_tokens":-5)"), "request.max_tokens: must be at least 1, got -5"},
      {with(R"(,"max_tokens":100.5)"), "request.max_tokens: expected an integer, got 100.5"},
      {with(R"(,"max_completion_tokens":9223372036854775808)"),
       "request.max_completion_tokens: must be at least 1, got 9223372036854775808"},
      {with(R"(,"max_completion_tokens":0)"), "request.max_completion_tokens: must be at least 1, got 0"},
      {with(R"(,"seed":9223372036854775808)"),
       "request.seed: must be a 64-bit signed integer, got 9223372036854775808"},
      {with(R"(,"seed":-9223372036854775809)"), "request.seed: must be a 64-bit signed integer"},
      {with(R"(,"seed":123456789012345678901234567890)"), "request.seed: must be a 64-bit signed integer"},
      {with(R"(,"seed":1e19)"), "request.seed: must be a 64-bit signed integer, got 1e+19"},
      {with(R"(,"seed":4.2)"), "request.seed: expected an integer, got 4.2"},
      {with(R"(,"top_logprobs":21,"logprobs":true)"), "request.top_logprobs: must be between 0 and 20, got 21"},
      {with(R"(,"top_logprobs":-1,"logprobs":true)"), "request.top_logprobs: must be between 0 and 20, got -1"},
      {with(R"(,"top_logprobs":5)"), "request.top_logprobs: needs request.logprobs set to true"},
      {with(R"(,"top_logprobs":5,"logprobs":false)"), "request.top_logprobs: needs request.logprobs set to true"},
      {with(R"(,"logprobs":"yes")"), "request.logprobs: expected a boolean or null, got string"},
      {with(R"(,"logit_bias":[])"), "request.logit_bias: expected an object or null, got array"},
      {with(R"(,"logit_bias":{"abc":1})"), R"(request.logit_bias["abc"]: the key must be a token id)"},
      {with(R"(,"logit_bias":{"-5":1})"), R"(request.logit_bias["-5"]: the key must be a token id)"},
      {with(R"(,"logit_bias":{"":1})"), R"(request.logit_bias[""]: the key must be a token id)"},
      {with(R"(,"logit_bias":{"50256":101})"), R"(request.logit_bias["50256"]: must be between -100 and 100, got 101)"},
      {with(R"(,"logit_bias":{"50256":-100.5})"), R"(request.logit_bias["50256"]: expected an integer, got -100.5)"},
      {with(R"(,"logit_bias":{"50256":"1"})"), R"(request.logit_bias["50256"]: expected an integer, got string)"},
  });
}

TEST(ValidateChatRequest, OtherFields) {
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  expect_all_fail({
      {with(R"(,"stop":5)"), "request.stop: expected a string, an array of strings or null, got number"},
      {with(R"(,"stop":[])"), "request.stop: must hold 1 to 4 strings"},
      {with(R"(,"stop":["a","b","c","d","e"])"), "request.stop: must hold 1 to 4 strings"},
      {with(R"(,"stop":["a",1])"), "request.stop[1]: expected a string, got number"},
      {with(R"(,"user":5)"), "request.user: expected a string, got number"},
      {with(R"(,"reasoning_effort":"extreme")"),
       R"(request.reasoning_effort: must be one of none, minimal, low, medium, high, xhigh, max; got "extreme")"},
      {with(R"(,"reasoning_effort":1)"), "request.reasoning_effort: expected a string or null, got number"},
      {with(R"(,"service_tier":"gold")"), R"(request.service_tier: must be one of auto, default, flex)"},
      {with(R"(,"store":"yes")"), "request.store: expected a boolean or null, got string"},
      {with(R"(,"metadata":[])"), "request.metadata: expected an object or null, got array"},
      {with(R"(,"metadata":{)" + seventeen + "}"), "request.metadata: must have at most 16 keys, got 17"},
      {with(R"(,"metadata":{"k":5})"), R"(request.metadata["k"]: expected a string, got number)"},
      {with(R"(,"metadata":{"k":")" + std::string(513, 'v') + "\"}"), R"(request.metadata["k"]: must be at most 512)"},
      {with(R"(,"metadata":{")" + std::string(65, 'k') + R"(":"v"})"), "the key must be at most 64 characters"},
      {with(R"(,"modalities":"text")"), "request.modalities: expected an array or null, got string"},
      {with(R"(,"modalities":["text","video"])"), R"(request.modalities[1]: must be one of text, audio; got "video")"},
      {with(R"(,"audio":{"format":"wav"})"), "request.audio.voice: is required"},
      {with(R"(,"audio":{"voice":"alloy"})"), "request.audio.format: is required"},
      {with(R"(,"audio":{"voice":"alloy","format":"ogg"})"), "request.audio.format: must be one of wav, aac, mp3"},
      {with(R"(,"audio":{"voice":7,"format":"wav"})"), "request.audio.voice: expected a string or an object, got number"},
      {with(R"(,"audio":{"voice":{},"format":"wav"})"), "request.audio.voice.id: is required"},
      {with(R"(,"prediction":{"type":"diff","content":"x"})"), R"(request.prediction.type: must be one of content)"},
      {with(R"(,"prediction":{"type":"content"})"), "request.prediction.content: is required"},
      {with(R"(,"prediction":{"type":"content","content":[{"type":"image_url"}]})"),
       R"(request.prediction.content[0].type: "image_url" parts are not allowed in predicted content)"},
      {with(R"(,"web_search_options":null)"), "request.web_search_options: expected an object, got null"},
      {with(R"(,"web_search_options":{"search_context_size":"huge"})"),
       "request.web_search_options.search_context_size: must be one of low, medium, high"},
      {with(R"(,"web_search_options":{"user_location":{"type":"approximate","approximate":{"city":1}}})"),
       "request.web_search_options.user_location.approximate.city: expected a string, got number"},
      {with(R"(,"web_search_options":{"user_location":{"approximate":{}}})"),
       "request.web_search_options.user_location.type: is required"},
      {with(R"(,"verbosity":"loud")"), R"(request.verbosity: must be one of low, medium, high; got "loud")"},
      {with(R"(,"safety_identifier":")" + std::string(65, 's') + "\""),
       "request.safety_identifier: must be at most 64 characters"},
      {with(R"(,"prompt_cache_key":1)"), "request.prompt_cache_key: expected a string or null, got number"},
      {with(R"(,"prompt_cache_retention":"1h")"), "request.prompt_cache_retention: must be one of in_memory, 24h"},
      {with(R"(,"prompt_cache_options":{"ttl":"1h"})"), "request.prompt_cache_options.ttl: must be one of 30m"},
      {with(R"(,"moderation":{})"), "request.moderation.model: is required"},
      {with(R"(,"moderation":{"model":"m","policy":{"input":{"mode":"warn"}}})"),
       "request.moderation.policy.input.mode: must be one of score, block"},
      {with(R"(,"functions":[])"), "request.functions: must hold 1 to 128 functions"},
      {with(R"(,"functions":[{"name":"a b"}])"), "request.functions[0].name: must be 1 to 64 characters"},
      {with(R"(,"function_call":"required")"), R"(request.function_call: must be one of none, auto; got "required")"},
      {with(R"(,"function_call":{})"), "request.function_call.name: is required"},
  });
}

TEST(ValidateChatRequest, Streaming) {
  expect_fail(with(R"(,"stream":true)"), "request.stream: must be absent or false here; use llm_chat_stream");
  expect_fail(with(R"(,"stream":"yes")"), "request.stream: expected a boolean or null, got string");
  expect_fail(with(R"(,"stream":false)"), "request.stream: must be absent or true in a streamed call",
              LLM_ERR_INVALID_ARGUMENT, true);
  expect_fail(with(R"(,"stream_options":{"include_usage":true})"),
              "request.stream_options: is only allowed in a streamed call");
  expect_fail(with(R"(,"stream_options":{"include_usage":"yes"})"),
              "request.stream_options.include_usage: expected a boolean, got string", LLM_ERR_INVALID_ARGUMENT, true);
  expect_fail(with(R"(,"stream_options":{"include_obfuscation":1})"),
              "request.stream_options.include_obfuscation: expected a boolean, got number", LLM_ERR_INVALID_ARGUMENT,
              true);
  expect_fail(with(R"(,"stream_options":[])"), "request.stream_options: expected an object or null, got array",
              LLM_ERR_INVALID_ARGUMENT, true);
}

TEST(ValidateChatRequest, Extensions) {
  expect_all_fail({
      {with(R"(,"extra_body":[])"), "request.extra_body: expected an object, got array"},
      {with(R"(,"extra_headers":"X-A: b")"), "request.extra_headers: expected an object, got string"},
      {with(R"(,"timeout_secs":0)"), "request.timeout_secs: must be greater than 0 and at most 86400 (seconds), got 0"},
      {with(R"(,"timeout_secs":-1)"), "request.timeout_secs: must be greater than 0"},
      {with(R"(,"timeout_secs":86401)"), "request.timeout_secs: must be greater than 0 and at most 86400"},
      {with(R"(,"timeout_secs":"30")"), "request.timeout_secs: expected a number, got string"},
      {with(R"(,"fallbacks":"gpt-4o-mini")"), "request.fallbacks: expected an array, got string"},
      {with(R"(,"fallbacks":["a",1])"), "request.fallbacks[1]: expected a string, got number"},
      {with(R"(,"fallbacks":[""])"), "request.fallbacks[0]: must not be empty"},
      {with(R"(,"retry":3)"), "request.retry: expected an object, got number"},
  });
}

TEST(ValidateChatRequest, BadHeadersFailAsInvalidHeaderWithoutTheirValue) {
  const char* secret = "sk-secret-value";
  for (const std::string& value : {std::string(secret) + R"(\r\nX-Evil: 1)", std::string(secret) + R"(\n)",
                                   std::string(secret) + R"(\r)", std::string(secret) + R"(\u0000tail)",
                                   std::string(secret) + R"(\u007f)"}) {
    SCOPED_TRACE(value);
    const Failure f = run(with(R"(,"extra_headers":{"X-Api-Token":")" + value + "\"}"));
    EXPECT_EQ(f.status, LLM_ERR_INVALID_HEADER);
    EXPECT_NE(f.message.find(R"(request.extra_headers["X-Api-Token"]: the header value contains a control)"),
              std::string::npos)
        << f.message;
    EXPECT_EQ(f.message.find(secret), std::string::npos) << f.message;
    EXPECT_EQ(f.message.find("X-Evil"), std::string::npos) << f.message;
  }
  expect_fail(with(R"(,"extra_headers":{"Bad Name":"v"})"),
              R"(request.extra_headers["Bad Name"]: is not a valid header name)", LLM_ERR_INVALID_HEADER);
  expect_fail(with(R"(,"extra_headers":{"X-A:":"v"})"), R"(request.extra_headers["X-A:"]: is not a valid header name)",
              LLM_ERR_INVALID_HEADER);
  expect_fail(with(R"(,"extra_headers":{"":"v"})"), R"(request.extra_headers[""]: is not a valid header name)",
              LLM_ERR_INVALID_HEADER);
  expect_fail(with(R"(,"extra_headers":{"X-\r\nEvil":"v"})"),
              R"(request.extra_headers["X-\u000d\u000aEvil"]: is not a valid header name)", LLM_ERR_INVALID_HEADER);
  expect_fail(with(R"(,"extra_headers":{"X-Num":5})"),
              R"(request.extra_headers["X-Num"]: the header value must be a string, got number)",
              LLM_ERR_INVALID_HEADER);
}

TEST(ValidateChatRequest, EchoedTextIsBoundedAndEscaped) {
  const std::string long_type = std::string(10000, 'x');
  const Failure f = run(msgs(R"({"role":"user","content":[{"type":")" + long_type + R"("}]})"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_LT(f.message.size(), 400u) << f.message;
  EXPECT_NE(f.message.find("xxx...\""), std::string::npos) << f.message;

  // A cut never splits a UTF-8 character: 63 ASCII bytes then a 2-byte character.
  const std::string name = std::string(63, 'a') + "\xc3\xa9" + "tail";
  const Failure g = run(with(R"(,"tools":[{"type":"function","function":{"name":")" + name + R"("}}])"));
  EXPECT_NE(g.message.find("\"" + std::string(63, 'a') + "...\""), std::string::npos) << g.message;

  const Failure h = run(with(R"(,"reasoning_effort":"a\"b\\c\u0001")"));
  EXPECT_NE(h.message.find(R"(got "a\"b\\c\u0001")"), std::string::npos) << h.message;
}

// ------------------------------------------------ structure vs OpenAI's limits

TEST(ValidateRules, ProviderNamesSelectTheRules) {
  EXPECT_TRUE(applies_openai_value_limits("openai"));
  EXPECT_TRUE(applies_openai_value_limits("azure_openai"));
  for (const char* name : {"vllm", "ollama", "groq", "mistral", "openrouter", "acme", "", "OpenAI"}) {
    EXPECT_FALSE(applies_openai_value_limits(name)) << name;
    EXPECT_EQ(request_rules_for(name), RequestRules::Structure) << name;
  }
  EXPECT_EQ(request_rules_for("openai"), RequestRules::OpenAI);
}

// A request a vLLM server takes: each field is beyond one of OpenAI's value limits.
const std::string kVllmFields =
    R"(,"stop":["a","b","c","d","e"],"logprobs":true,"top_logprobs":50,)"
    R"("tools":[{"type":"function","function":{"name":"ns.search","parameters":{"type":"object"}}}],)"
    R"("tool_choice":{"type":"function","function":{"name":"ns.search"}},"reasoning_effort":"extreme")";

TEST(ValidateRules, VllmStyleRequestPassesWithStructureRulesOnly) {
  expect_ok_under(RequestRules::Structure, with(kVllmFields));
  expect_ok_under(RequestRules::Structure, with(kVllmFields + R"(,"top_k":20,"repetition_penalty":1.1)"));
  EXPECT_EQ(run(with(kVllmFields), true, RequestRules::Structure).status, LLM_OK);
  // The default is OpenAI's rules.
  EXPECT_EQ(run(with(kVllmFields)).status, LLM_ERR_INVALID_ARGUMENT);

  // Under OpenAI's rules each field fails on its own, naming itself.
  const RequestRules o = RequestRules::OpenAI;
  expect_fail_under(o, with(R"(,"stop":["a","b","c","d","e"])"), "request.stop: must hold 1 to 4 strings");
  expect_fail_under(o, with(R"(,"logprobs":true,"top_logprobs":50)"),
                    "request.top_logprobs: must be between 0 and 20, got 50");
  expect_fail_under(o, with(R"(,"tools":[{"type":"function","function":{"name":"ns.search"}}])"),
                    R"(request.tools[0].function.name: must be 1 to 64 characters from a-z, A-Z, 0-9, _ and -; got "ns.search")");
  expect_fail_under(o, with(R"(,"reasoning_effort":"extreme")"),
                    R"(request.reasoning_effort: must be one of none, minimal, low, medium, high, xhigh, max; got "extreme")");
}

TEST(ValidateRules, EveryOpenAIValueLimitIsOpenAIOnly) {
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  const std::string user_part = R"({"role":"user","content":[)";
  const std::vector<Case> cases = {
      {with(R"(,"temperature":3.5)"), "request.temperature: must be between 0 and 2"},
      {with(R"(,"presence_penalty":2.5)"), "request.presence_penalty: must be between -2 and 2"},
      {with(R"(,"frequency_penalty":-30)"), "request.frequency_penalty: must be between -2 and 2"},
      {with(R"(,"n":129)"), "request.n: must be between 1 and 128"},
      {with(R"(,"stop":[])"), "request.stop: must hold 1 to 4 strings"},
      {with(R"(,"logprobs":true,"top_logprobs":21)"), "request.top_logprobs: must be between 0 and 20"},
      {with(R"(,"logit_bias":{"50256":101})"), R"(request.logit_bias["50256"]: must be between -100 and 100)"},
      {with(R"(,"logit_bias":{"50256":0.5})"), R"(request.logit_bias["50256"]: expected an integer, got 0.5)"},
      {with(R"(,"service_tier":"gold")"), "request.service_tier: must be one of auto, default, flex"},
      {with(R"(,"verbosity":"loud")"), "request.verbosity: must be one of low, medium, high"},
      {with(R"(,"prompt_cache_retention":"1h")"), "request.prompt_cache_retention: must be one of in_memory, 24h"},
      {with(R"(,"prompt_cache_options":{"ttl":"1h","mode":"auto"})"), "request.prompt_cache_options.ttl: must be one of 30m"},
      {with(R"(,"prompt_cache_options":{"mode":"auto"})"), "request.prompt_cache_options.mode: must be one of implicit"},
      {with(R"(,"metadata":{)" + seventeen + "}"), "request.metadata: must have at most 16 keys, got 17"},
      {with(R"(,"metadata":{")" + std::string(65, 'k') + R"(":"v"})"), "the key must be at most 64 characters"},
      {with(R"(,"metadata":{"k":")" + std::string(513, 'v') + "\"}"), R"(request.metadata["k"]: must be at most 512)"},
      {with(R"(,"safety_identifier":")" + std::string(65, 's') + "\""), "request.safety_identifier: must be at most 64"},
      {with(R"(,"modalities":["text","image"])"), R"(request.modalities[1]: must be one of text, audio; got "image")"},
      {with(R"(,"audio":{"voice":"alloy","format":"ogg"})"), "request.audio.format: must be one of wav, aac"},
      {with(R"(,"web_search_options":{"search_context_size":"huge"})"),
       "request.web_search_options.search_context_size: must be one of low, medium, high"},
      {with(R"(,"moderation":{"model":"m","policy":{"output":{"mode":"warn"}}})"),
       "request.moderation.policy.output.mode: must be one of score, block"},
      {with(R"(,"functions":[])"), "request.functions: must hold 1 to 128 functions"},
      {with(R"(,"functions":[{"name":"ns.f"}])"), "request.functions[0].name: must be 1 to 64 characters"},
      {with(R"(,"tools":[{"type":"function","function":{"name":")" + std::string(65, 'a') + R"("}}])"),
       "request.tools[0].function.name: must be 1 to 64 characters"},
      {with(R"(,"tools":[{"type":"custom","custom":{"name":"c","format":{"type":"grammar",)"
            R"("grammar":{"definition":"x","syntax":"peg"}}}}])"),
       "request.tools[0].custom.format.grammar.syntax: must be one of lark, regex"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"my schema"}})"),
       "request.response_format.json_schema.name: must be 1 to 64 characters"},
      {msgs(user_part + R"({"type":"image_url","image_url":{"url":"u","detail":"original"}}]})"),
       R"(request.messages[0].content[0].image_url.detail: must be one of auto, low, high; got "original")"},
      {msgs(user_part + R"({"type":"input_audio","input_audio":{"data":"x","format":"flac"}}]})"),
       "request.messages[0].content[0].input_audio.format: must be one of wav, mp3"},
      {msgs(user_part + R"({"type":"text","text":"x","prompt_cache_breakpoint":{"mode":"auto"}}]})"),
       "request.messages[0].content[0].prompt_cache_breakpoint.mode: must be one of explicit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.request.substr(0, 300));
    expect_fail_under(RequestRules::OpenAI, c.request, c.needle);
    expect_ok_under(RequestRules::Structure, c.request);
  }
  // Sane bounds hold under structure rules, far beyond OpenAI's.
  expect_ok_under(RequestRules::Structure,
                  with(R"(,"temperature":7,"n":1000,"top_logprobs":1000,"logprobs":true,"presence_penalty":-50,)"
                       R"("logit_bias":{"1":-1000,"2":2.5},"max_tokens":9223372036854775807)"));
}

TEST(ValidateRules, StructuralErrorsFailUnderBothRules) {
  std::string sixty_five = R"(,"stop":[)";
  for (int i = 0; i < 65; ++i) sixty_five += (i ? ",\"s\"" : "\"s\"");
  sixty_five += "]";
  const std::vector<Case> cases = {
      {R"([])", "request: expected an object, got array"},
      {R"({"model":"m"})", "request.messages: is required"},
      {R"({"messages":[{"role":"user","content":"hi"}]})", "request.model: is required"},
      {R"({"model":"m","messages":[]})", "request.messages: must not be an empty array"},
      {msgs(R"({"role":"bot","content":"x"})"), "request.messages[0].role: must be one of system"},
      {msgs(R"({"role":"user","content":[{"type":"video"}]})"), R"(unknown content part type "video")"},
      {msgs(R"({"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x"}}]})"),
       "request.messages[0].content[0].input_audio.format: is required"},
      {msgs(R"({"role":"user","content":[{"type":"image_url","image_url":{"url":"u","detail":1}}]})"),
       "request.messages[0].content[0].image_url.detail: expected a string, got number"},
      {with(R"(,"temperature":"hot")"), "request.temperature: expected a number or null, got string"},
      {with(R"(,"temperature":-0.1)"), "request.temperature:"},
      {with(R"(,"top_p":1.5)"), "request.top_p: must be between 0 and 1, got 1.5"},
      {with(R"(,"n":0)"), "request.n:"},
      {with(R"(,"n":1.5)"), "request.n: expected an integer, got 1.5"},
      {with(R"(,"max_tokens":0)"), "request.max_tokens: must be at least 1, got 0"},
      {with(R"(,"max_completion_tokens":-1)"), "request.max_completion_tokens: must be at least 1"},
      {with(R"(,"logprobs":true,"top_logprobs":-1)"), "request.top_logprobs:"},
      {with(R"(,"top_logprobs":5)"), "request.top_logprobs: needs request.logprobs set to true"},
      {with(R"(,"seed":4.2)"), "request.seed: expected an integer, got 4.2"},
      {with(R"(,"stop":["a",1])"), "request.stop[1]: expected a string, got number"},
      {with(sixty_five), "request.stop: must hold"},
      {with(R"(,"logit_bias":{"abc":1})"), R"(request.logit_bias["abc"]: the key must be a token id)"},
      {with(R"(,"logit_bias":{"1":"x"})"), R"(request.logit_bias["1"]: expected)"},
      {with(R"(,"reasoning_effort":1)"), "request.reasoning_effort: expected a string or null, got number"},
      {with(R"(,"service_tier":true)"), "request.service_tier: expected a string or null, got boolean"},
      {with(R"(,"metadata":{"k":5})"), R"(request.metadata["k"]: expected a string, got number)"},
      {with(R"(,"modalities":[1])"), "request.modalities[0]: expected a string, got number"},
      {with(R"(,"audio":{"voice":"alloy"})"), "request.audio.format: is required"},
      {with(R"(,"safety_identifier":5)"), "request.safety_identifier: expected a string or null, got number"},
      {with(R"(,"tools":[{"type":"function","function":{"name":""}}])"), "request.tools[0].function.name: must"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"a\nb"}}])"), "request.tools[0].function.name: must"},
      {with(R"(,"tools":[{"type":"function","function":{"name":5}}])"),
       "request.tools[0].function.name: expected a string, got number"},
      {with(R"(,"tools":[{"type":"custom","custom":{"name":"c\u0001"}}])"),
       "request.tools[0].custom.name: must not contain control characters"},
      {with(R"(,"tools":[{"type":"function","function":{"name":"dup"}},{"type":"function","function":{"name":"dup"}}])"),
       R"(request.tools[1].function.name: duplicate tool name "dup")"},
      {with(R"(,"tool_choice":{"type":"function","function":{"name":"nope"}})"),
       R"(request.tool_choice.function.name: no function tool named "nope")"},
      {with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":""}})"),
       "request.response_format.json_schema.name: must"},
      {with(R"(,"functions":[{"name":"\t"}])"), "request.functions[0].name: must"},
      {with(R"(,"stream":true)"), "request.stream: must be absent or false here"},
      {with(R"(,"timeout_secs":0)"), "request.timeout_secs: must be greater than 0"},
      {with(R"(,"extra_body":[])"), "request.extra_body: expected an object, got array"},
  };
  for (RequestRules rules : kBothRules) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.request.substr(0, 300));
      expect_fail_under(rules, c.request, c.needle);
    }
  }
  // Structure's own messages for the bounds OpenAI words as ranges.
  const RequestRules s = RequestRules::Structure;
  expect_fail_under(s, with(R"(,"temperature":-0.1)"), "request.temperature: must be a finite number of at least 0, got -0.1");
  expect_fail_under(s, with(R"(,"n":0)"), "request.n: must be at least 1, got 0");
  expect_fail_under(s, with(R"(,"logprobs":true,"top_logprobs":-1)"), "request.top_logprobs: must be at least 0, got -1");
  expect_fail_under(s, with(sixty_five), "request.stop: must hold at most 64 strings");
  expect_fail_under(s, with(R"(,"tools":[{"type":"function","function":{"name":""}}])"),
                    "request.tools[0].function.name: must not be empty");
  expect_fail_under(s, with(R"(,"tools":[{"type":"function","function":{"name":"a\nb"}}])"),
                    R"(request.tools[0].function.name: must not contain control characters; got "a\u000ab")");
  std::string sixty_four = R"(,"stop":[)";
  for (int i = 0; i < 64; ++i) sixty_four += (i ? ",\"s\"" : "\"s\"");
  expect_ok_under(s, with(sixty_four + "]"));
  expect_ok_under(s, with(R"(,"stop":[])"));
}

// ------------------------------------------------------------------ extra_body

TEST(ValidateExtraBody, FieldsLiterllmOwnsAreRefused) {
  for (RequestRules rules : kBothRules) {
    for (const char* field : {"messages", "model", "stream", "stream_options", "temperature", "tools", "tool_choice",
                              "max_tokens", "max_completion_tokens", "seed", "stop", "top_logprobs", "n",
                              "response_format", "reasoning_effort", "metadata", "user", "extra_body",
                              "extra_headers", "timeout_secs", "fallbacks", "retry"}) {
      SCOPED_TRACE(field);
      expect_fail_under(rules, with(std::string(R"(,"extra_body":{"top_k":40,")") + field + R"(":42})"),
                        std::string("request.extra_body.") + field +
                            ": sets a field literllm owns; put it in the request itself");
    }
  }
  // The request from the review: each owned field fails, whatever its value.
  expect_fail(with(R"(,"extra_body":{"messages":42,"stream":true,"temperature":99})"),
              "request.extra_body.messages: sets a field literllm owns");
  expect_fail(with(R"(,"extra_body":{"stream":true})"), "request.extra_body.stream: sets a field literllm owns",
              LLM_ERR_INVALID_ARGUMENT, true);
  expect_fail(with(R"(,"extra_body":{"extra_headers":{"X-A":"b"}})"),
              "request.extra_body.extra_headers: sets a field literllm owns");
}

TEST(ValidateExtraBody, UnknownFieldsAreAdded) {
  for (RequestRules rules : kBothRules) {
    expect_ok_under(rules, with(R"(,"extra_body":{"top_k":40,"repetition_penalty":1.1,"guided_json":{"type":"object"},)"
                                R"("min_p":0.05,"random_seed":3})"));
    expect_ok_under(rules, with(R"(,"extra_body":{})"));
    // Names are compared exactly: a near spelling is not a known field.
    expect_ok_under(rules, with(R"(,"extra_body":{"Stream":true,"model_":"x","stream ":1})"));
  }
}

TEST(ValidateExtraBody, FieldSetAtTheTopLevelToo) {
  for (RequestRules rules : kBothRules) {
    expect_fail_under(rules, with(R"(,"top_k":40,"extra_body":{"min_p":0.1,"top_k":20})"),
                      R"(request.extra_body["top_k"]: is also set at the top level of the request; set it in one place)");
    expect_fail_under(rules, with(R"(,"extra_body":{"guided_json":{}},"guided_json":{})"),
                      R"(request.extra_body["guided_json"]: is also set at the top level)");
  }
  // Many fields on both sides: the same answer (the names are sorted once).
  std::string top, extra;
  for (int i = 0; i < 100; ++i) {
    top += ",\"top_" + std::to_string(i) + "\":" + std::to_string(i);
    extra += (i ? ",\"extra_" : "\"extra_") + std::to_string(i) + "\":" + std::to_string(i);
  }
  expect_ok_under(RequestRules::Structure, with(top + R"(,"extra_body":{)" + extra + "}"));
  expect_fail_under(RequestRules::Structure, with(top + R"(,"extra_body":{)" + extra + R"(,"top_57":1,"top_3":1})"),
                    R"(request.extra_body["top_57"]: is also set at the top level)");
  expect_fail_under(RequestRules::Structure, with(top + R"(,"extra_body":{)" + extra + R"(,"stream":1})"),
                    "request.extra_body.stream: sets a field literllm owns");
}

}  // namespace
}  // namespace literllm
