// The client configuration (src/core/config.hpp): every field of the JSON form,
// its bounds and types, unknown fields, provider keys given by alias, and the
// file forms (TOML with nested tables, JSON), with their failures.
#include "core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/client.hpp"
#include "core/error.hpp"
#include "http/request.hpp"
#include "providers/registry.hpp"

#ifndef LITERLLM_TEST_DATA_DIR
#define LITERLLM_TEST_DATA_DIR ""
#endif

namespace literllm {
namespace {

namespace fs = std::filesystem;

struct Failure {
  llm_status status = LLM_OK;
  std::string message;
};

// The failure parse_config_json reports for `text` (status LLM_OK if none).
Failure json_failure(const std::string& text) {
  try {
    parse_config_json(text);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {};
}

Failure file_failure(const std::string& path) {
  try {
    parse_config_file(path);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {};
}

// Expects json_failure(text) to fail with `status` and a message containing `needle`.
#define EXPECT_FAILURE(status_, text, needle)                                                 \
  do {                                                                                         \
    Failure f_ = json_failure(text);                                                   \
    EXPECT_EQ(f_.status, status_) << "input: " << (text);                                      \
    EXPECT_NE(f_.message.find(needle), std::string::npos)                                      \
        << "input: " << (text) << "\nmessage: " << f_.message << "\nwanted: " << (needle);     \
  } while (0)
#define EXPECT_INVALID(text, needle) EXPECT_FAILURE(LLM_ERR_INVALID_ARGUMENT, text, needle)
#define EXPECT_INVALID_HEADER(text, needle) EXPECT_FAILURE(LLM_ERR_INVALID_HEADER, text, needle)

std::string data_path(const std::string& rel) { return std::string(LITERLLM_TEST_DATA_DIR) + "/" + rel; }

std::string header(const http::Headers& h, const std::string& name) {
  const std::string* v = http::find_header(h, name);
  return v ? *v : std::string("<absent>");
}

// A scratch directory for files written by a test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = fs::path(testing::TempDir()) /
            ("literllm_config_test_" + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// ------------------------------------------------------------ defaults

TEST(ConfigJson, EmptyTextAndNullGiveDefaults) {
  for (const char* text : {"", "   \n\t\r ", "{}", "null", " {} "}) {
    Config c = parse_config_json(text);
    EXPECT_FALSE(c.api_key) << text;
    EXPECT_FALSE(c.base_url) << text;
    EXPECT_EQ(c.model_hint, "openai") << text;
    EXPECT_FALSE(c.model_hint_set) << text;
    EXPECT_DOUBLE_EQ(c.timeout_secs, 600) << text;
    EXPECT_DOUBLE_EQ(c.connect_timeout_secs, 10) << text;
    EXPECT_DOUBLE_EQ(c.stream_idle_timeout_secs, 300) << text;
    EXPECT_EQ(c.max_retries, 2) << text;
    EXPECT_TRUE(c.providers.empty()) << text;
    EXPECT_TRUE(c.headers.empty()) << text;
  }
}

TEST(ConfigJson, NotAnObjectOrNotJson) {
  EXPECT_INVALID("[]", "expected a JSON object, got array");
  EXPECT_INVALID("42", "expected a JSON object, got number");
  EXPECT_INVALID("\"x\"", "expected a JSON object, got string");
  EXPECT_INVALID("{\"api_key\":", "config");
  EXPECT_INVALID("{'api_key':'x'}", "not valid JSON");
  // Invalid UTF-8 inside a string is refused (the parser validates encoding).
  EXPECT_INVALID("{\"api_key\":\"\xff\xfe\"}", "not valid JSON");
}

// ------------------------------------------------------------ each field

TEST(ConfigJson, ApiKey) {
  EXPECT_EQ(parse_config_json(R"({"api_key":"sk-123"})").api_key, "sk-123");
  EXPECT_EQ(parse_config_json(R"({"api_key":""})").api_key, "");
  EXPECT_INVALID(R"({"api_key":5})", "config.api_key: expected a string, got number");
  EXPECT_INVALID(R"({"api_key":null})", "config.api_key: expected a string, got null");
}

TEST(ConfigJson, BaseUrl) {
  EXPECT_EQ(parse_config_json(R"({"base_url":"https://x.test/v1"})").base_url, "https://x.test/v1");
  EXPECT_EQ(parse_config_json(R"({"base_url":"http://127.0.0.1:8080/v1///"})").base_url,
            "http://127.0.0.1:8080/v1");  // trailing slashes dropped
  EXPECT_INVALID(R"({"base_url":"ftp://x.test"})", "config.base_url: must start with http:// or https://");
  EXPECT_INVALID(R"({"base_url":"x.test/v1"})", "config.base_url");
  EXPECT_INVALID(R"({"base_url":""})", "config.base_url");
  EXPECT_INVALID(R"({"base_url":["https://x"]})", "config.base_url: expected a string, got array");
}

TEST(ConfigJson, ModelHint) {
  Config c = parse_config_json(R"({"model_hint":"Groq"})");
  EXPECT_EQ(c.model_hint, "groq");
  EXPECT_TRUE(c.model_hint_set);
  // Any spelling of a provider's name or alias: the provider's own name.
  EXPECT_EQ(parse_config_json(R"({"model_hint":"LM Studio"})").model_hint, "lm_studio");
  EXPECT_EQ(parse_config_json(R"({"model_hint":"Mistral-AI"})").model_hint, "mistral");
  EXPECT_INVALID(R"({"model_hint":""})", "config.model_hint: must not be empty");
  EXPECT_INVALID(R"({"model_hint":true})", "config.model_hint: expected a string, got boolean");
  // A provider nobody knows would fail every bare-model call: refused here.
  EXPECT_INVALID(R"({"model_hint":"nosuchprovider"})", "config.model_hint: unknown provider \"nosuchprovider\"");
  // One registered globally before the client is made is known.
  global_providers().add(parse_provider_registration(
      R"({"name":"hint-host","base_url":"http://127.0.0.1:9/v1","prefixes":["hh"]})"));
  EXPECT_EQ(parse_config_json(R"({"model_hint":"Hint-Host"})").model_hint, "hint_host");
  global_providers().remove("hint-host");
  EXPECT_INVALID(R"({"model_hint":"hint-host"})", "config.model_hint: unknown provider");
}

struct NumberField {
  const char* name;
  double max;
  double Config::*member;
};

class ConfigTimeouts : public testing::TestWithParam<NumberField> {};

TEST_P(ConfigTimeouts, BoundsAndTypes) {
  const NumberField& f = GetParam();
  std::string n = f.name;
  auto with = [&](const std::string& v) { return "{\"" + n + "\":" + v + "}"; };
  EXPECT_DOUBLE_EQ(parse_config_json(with("1")).*f.member, 1);
  EXPECT_DOUBLE_EQ(parse_config_json(with("0.25")).*f.member, 0.25);
  EXPECT_DOUBLE_EQ(parse_config_json(with("1e-3")).*f.member, 0.001);
  EXPECT_DOUBLE_EQ(parse_config_json(with(std::to_string(static_cast<long>(f.max)))).*f.member, f.max);
  std::string range = "config." + n + ": must be > 0 and <= " + std::to_string(static_cast<long>(f.max));
  EXPECT_INVALID(with("0"), range);
  EXPECT_INVALID(with("-1"), range);
  EXPECT_INVALID(with("-0.0"), range);
  EXPECT_INVALID(with(std::to_string(static_cast<long>(f.max)) + ".5"), range);
  EXPECT_INVALID(with("1e300"), range);
  EXPECT_INVALID(with("\"30\""), "config." + n + ": expected a number, got string");
  EXPECT_INVALID(with("null"), "config." + n + ": expected a number, got null");
  EXPECT_INVALID(with("{}"), "config." + n + ": expected a number, got object");
}

INSTANTIATE_TEST_SUITE_P(AllTimeouts, ConfigTimeouts,
                         testing::Values(NumberField{"timeout_secs", 86400, &Config::timeout_secs},
                                         NumberField{"connect_timeout_secs", 3600, &Config::connect_timeout_secs},
                                         NumberField{"stream_idle_timeout_secs", 86400,
                                                     &Config::stream_idle_timeout_secs}),
                         [](const testing::TestParamInfo<NumberField>& i) { return std::string(i.param.name); });

TEST(ConfigJson, MaxRetries) {
  for (int n : {0, 1, 2, 19, 20}) EXPECT_EQ(parse_config_json("{\"max_retries\":" + std::to_string(n) + "}").max_retries, n);
  const std::string msg = "config.max_retries: expected an integer from 0 to 20";
  EXPECT_INVALID(R"({"max_retries":-1})", msg);
  EXPECT_INVALID(R"({"max_retries":21})", msg);
  EXPECT_INVALID(R"({"max_retries":2.5})", msg);
  EXPECT_INVALID(R"({"max_retries":"2"})", msg);
  EXPECT_INVALID(R"({"max_retries":99999999999})", msg);
  EXPECT_INVALID(R"({"max_retries":null})", msg);
}

TEST(ConfigJson, Headers) {
  Config c = parse_config_json(R"({"headers":{"X-One":"1","x-two":"two words","Empty":""}})");
  ASSERT_EQ(c.headers.size(), 3u);
  EXPECT_EQ(c.headers[0], (std::pair<std::string, std::string>{"X-One", "1"}));  // order and case kept
  EXPECT_EQ(c.headers[1], (std::pair<std::string, std::string>{"x-two", "two words"}));
  EXPECT_EQ(c.headers[2], (std::pair<std::string, std::string>{"Empty", ""}));
  EXPECT_INVALID(R"({"headers":[]})", "config.headers: expected an object, got array");
  EXPECT_INVALID(R"({"headers":"X: y"})", "config.headers: expected an object, got string");
  EXPECT_INVALID_HEADER(R"({"headers":{"X-Num":1}})", "config.headers.X-Num: expected a string");
}

TEST(ConfigJson, HeadersThatCannotBeSentAreRefused) {
  // Framing headers: a caller's Content-Length would smuggle the next request.
  for (const char* name : {"Content-Length", "transfer-encoding", "HOST", "Connection", "Keep-Alive", "TE", "Trailer",
                           "Upgrade", "Expect", "Accept-Encoding", "Proxy-Connection"}) {
    std::string cfg = std::string(R"({"headers":{")") + name + R"(":"1"}})";
    EXPECT_INVALID_HEADER(cfg, std::string("config.headers.") + name + ": is reserved");
    cfg = std::string(R"({"providers":{"groq":{"headers":{")") + name + R"(":"1"}}}})";
    EXPECT_INVALID_HEADER(cfg, std::string("config.providers.groq.headers.") + name + ": is reserved");
  }
  EXPECT_INVALID_HEADER(R"({"headers":{":path":"/x"}})", "pseudo-header");
  EXPECT_INVALID_HEADER(R"({"headers":{"X Space":"v"}})", "is not a valid header name");
  EXPECT_INVALID_HEADER(R"({"headers":{"X-Bad\r\nInjected":"v"}})", "is not a valid header name");
  for (const char* value : {R"(a\r\nX-Injected: 1)", R"(a\nb)", R"(a\u0000b)", R"(a\u007fb)"}) {
    std::string cfg = std::string(R"({"headers":{"X-Val":")") + value + R"("}})";
    Failure f = json_failure(cfg);
    EXPECT_EQ(f.status, LLM_ERR_INVALID_HEADER) << cfg;
    EXPECT_NE(f.message.find("config.headers.X-Val: the header value contains a control character"),
              std::string::npos) << f.message;
    EXPECT_EQ(f.message.find("Injected"), std::string::npos) << "the value is never shown: " << f.message;
    cfg = std::string(R"({"providers":{"mistral":{"headers":{"X-Val":")") + value + R"("}}}})";
    EXPECT_EQ(json_failure(cfg).status, LLM_ERR_INVALID_HEADER) << cfg;
  }
  // Spaces and tabs inside a value are fine ("Bearer x").
  EXPECT_EQ(parse_config_json(R"({"headers":{"X-Ok":"two words\tand a tab"}})").headers.size(), 1u);
}

TEST(ConfigJson, KeysAndUrlsThatCannotBeSentAreRefused) {
  EXPECT_INVALID(R"({"api_key":"sk-abc\r\nX-Injected: 1"})", "config.api_key: contains a control character");
  EXPECT_INVALID(R"({"api_key":"sk-abc\u0000"})", "config.api_key: contains a control character");
  EXPECT_INVALID(R"({"providers":{"groq":{"api_key":"gk\n"}}})", "config.providers.groq.api_key: contains a control");
  Failure f = json_failure(R"({"api_key":"sk-abc\r\nX-Injected: 1"})");
  EXPECT_EQ(f.message.find("sk-abc"), std::string::npos) << "the key is never shown: " << f.message;
  EXPECT_INVALID(R"({"base_url":"http://"})", "config.base_url: has no host name");
  EXPECT_INVALID(R"({"base_url":"https://:443/v1"})", "config.base_url: has no host name");
  EXPECT_INVALID(R"({"base_url":"https://host.test/v1\r\nX: y"})", "config.base_url: contains a control character");
  EXPECT_INVALID(R"({"base_url":"https://host.test/a b"})", "config.base_url: contains a space");
  EXPECT_INVALID(R"({"base_url":"https://host.test/v1\u0000.evil.test"})", "config.base_url: contains a NUL");
  EXPECT_INVALID(R"({"providers":{"openai":{"base_url":"http://a b/v1"}}})",
                 "config.providers.openai.base_url: contains a space");
  EXPECT_INVALID(R"({"base_url":"https://ho st.test"})", "config.base_url: contains a space");
  EXPECT_INVALID(R"({"base_url":"https://[::1/v1"})", "config.base_url: is not a valid URL");
  // Userinfo and ports are fine.
  EXPECT_EQ(parse_config_json(R"({"base_url":"https://u:p@host.test:8443/v1"})").base_url,
            "https://u:p@host.test:8443/v1");
}

TEST(ConfigJson, RepeatedFieldsAreRefused) {
  EXPECT_INVALID(R"({"api_key":"a","api_key":"b"})", "config.api_key: appears more than once");
  EXPECT_INVALID(R"({"providers":{"groq":{"api_key":"a","api_key":"b"}}})",
                 "config.providers.groq.api_key: appears more than once");
  EXPECT_INVALID(R"({"headers":{"X-A":"1","X-A":"2"}})", "config.headers.X-A: appears more than once");
}

TEST(ConfigJson, Limits) {
  Config d = parse_config_json("{}");
  EXPECT_EQ(d.limits.max_response_bytes, 256u << 20);
  EXPECT_EQ(d.limits.max_stream_bytes, 64u << 20);
  EXPECT_EQ(d.limits.max_event_bytes, 16u << 20);
  EXPECT_EQ(d.limits.max_header_bytes, 256u << 10);
  EXPECT_EQ(d.limits.max_choices, 128u);
  EXPECT_EQ(d.limits.max_tool_calls, 128u);
  Config c = parse_config_json(R"({"max_response_bytes":1024,"max_stream_bytes":2147483647,"max_event_bytes":4096,
      "max_header_bytes":307200,"max_choices":1,"max_tool_calls":65536})");
  EXPECT_EQ(c.limits.max_response_bytes, 1024u);
  EXPECT_EQ(c.limits.max_stream_bytes, 2147483647u);
  EXPECT_EQ(c.limits.max_event_bytes, 4096u);
  EXPECT_EQ(c.limits.max_header_bytes, 307200u);
  EXPECT_EQ(c.limits.max_choices, 1u);
  EXPECT_EQ(c.limits.max_tool_calls, 65536u);
  EXPECT_INVALID(R"({"max_response_bytes":1023})", "config.max_response_bytes: expected an integer from 1024 to 2147483647");
  EXPECT_INVALID(R"({"max_stream_bytes":2147483648})", "config.max_stream_bytes: expected an integer from 1024");
  EXPECT_INVALID(R"({"max_event_bytes":"16M"})", "config.max_event_bytes: expected an integer");
  EXPECT_INVALID(R"({"max_header_bytes":307201})", "config.max_header_bytes: expected an integer from 1024 to 307200");
  EXPECT_INVALID(R"({"max_choices":0})", "config.max_choices: expected an integer from 1 to 65536");
  EXPECT_INVALID(R"({"max_tool_calls":1.5})", "config.max_tool_calls: expected an integer from 1 to 65536");
  EXPECT_INVALID(R"({"max_tool_calls":-1})", "config.max_tool_calls: expected an integer");
}

TEST(ConfigJson, Providers) {
  Config c = parse_config_json(R"({"providers":{
      "groq":{"api_key":"gk","base_url":"https://proxy.test/groq/","headers":{"X-G":"1"}}}})");
  ASSERT_EQ(c.providers.size(), 1u);
  ASSERT_TRUE(c.providers.count("groq"));
  const ProviderOverride& g = c.providers.at("groq");
  EXPECT_EQ(g.api_key, "gk");
  EXPECT_EQ(g.base_url, "https://proxy.test/groq");
  EXPECT_EQ(header(g.headers, "x-g"), "1");
  // A name nobody knows: refused (a typo would otherwise be silently ignored).
  ASSERT_FALSE(c.providers.count("my_host"));
  // An empty override is still an override.
  EXPECT_EQ(parse_config_json(R"({"providers":{"xai":{}}})").providers.count("xai"), 1u);
  EXPECT_TRUE(parse_config_json(R"({"providers":{}})").providers.empty());
}

TEST(ConfigJson, ProviderFieldErrorsNameTheField) {
  EXPECT_INVALID(R"({"providers":[]})", "config.providers: expected an object, got array");
  EXPECT_INVALID(R"({"providers":{"groq":"gk"}})", "config.providers.groq: expected an object, got string");
  EXPECT_INVALID(R"({"providers":{"groq":{"api_key":1}}})", "config.providers.groq.api_key: expected a string");
  EXPECT_INVALID(R"({"providers":{"groq":{"base_url":"groq.test"}}})",
                 "config.providers.groq.base_url: must start with http:// or https://");
  EXPECT_INVALID_HEADER(R"({"providers":{"groq":{"headers":{"X":false}}}})",
                        "config.providers.groq.headers.X: expected a string");
  EXPECT_INVALID(R"({"providers":{"my-host":{"base_url":"http://127.0.0.1:9/v1"}}})",
                 "config.providers.my-host: unknown provider");
  EXPECT_INVALID(R"({"providers":{"gorq":{"api_key":"gk"}}})", "config.providers.gorq: unknown provider");
  EXPECT_INVALID(R"({"providers":{"groq":{"headers":[]}}})", "config.providers.groq.headers: expected an object");
  Failure f = json_failure(R"({"providers":{"groq":{"apikey":"gk"}}})");
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("config.providers.groq.apikey: unknown field"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("api_key"), std::string::npos) << f.message;  // says what it expected
}

TEST(ConfigJson, UnknownTopLevelFieldIsNamed) {
  for (const char* k : {"apiKey", "timeout", "retries", "provider", "model", "API_KEY"}) {
    Failure f = json_failure(std::string("{\"") + k + "\":1}");
    EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT) << k;
    EXPECT_NE(f.message.find(std::string("config.") + k + ": unknown field"), std::string::npos) << f.message;
  }
  // The first bad field is reported even after valid ones.
  EXPECT_INVALID(R"({"api_key":"k","max_retries":1,"bogus":true})", "config.bogus: unknown field");
}

// ------------------------------------------------------------ aliases

TEST(ConfigJson, ProviderAliasesAreCanonicalized) {
  struct Case {
    const char* key;
    const char* canonical;
  } cases[] = {
      {"MISTRAL_AI", "mistral"}, {"mistral-ai", "mistral"}, {"MistralAI", "mistral"}, {"Grok", "xai"},
      {"KIMI", "moonshot"},      {"QWEN", "dashscope"},     {"Together_AI", "together"}, {"LLAMA.CPP", "llama_cpp"},
      {"LM Studio", "lm_studio"}, {"OpenAI", "openai"},
  };
  for (auto& cs : cases) {
    Config c = parse_config_json(std::string("{\"providers\":{\"") + cs.key + "\":{\"api_key\":\"k\"}}}");
    ASSERT_EQ(c.providers.size(), 1u) << cs.key;
    EXPECT_EQ(c.providers.begin()->first, cs.canonical) << cs.key;
  }
}

TEST(ConfigJson, OverrideForFindsByNameAndAlias) {
  Config c = parse_config_json(R"({"providers":{"MISTRAL_AI":{"api_key":"mk"}}})");
  // Keys of providers registered at run time, as parsing would store them.
  c.providers["acme_alias"].api_key = "ak";
  c.providers["other_host"].api_key = "ok";
  ProviderPtr mistral = find_builtin("mistral");
  ASSERT_TRUE(mistral);
  const ProviderOverride* o = c.override_for(mistral->name, mistral->aliases);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->api_key, "mk");
  // Looked up by a spelling of the name itself.
  ASSERT_NE(c.override_for("Mistral", {}), nullptr);
  EXPECT_EQ(c.override_for("Mistral", {})->api_key, "mk");
  // A registered provider whose alias is the configured key.
  const ProviderOverride* a = c.override_for("acme", {"ACME-Alias"});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->api_key, "ak");
  ASSERT_NE(c.override_for("other_host", {}), nullptr);
  EXPECT_EQ(c.override_for("OTHER HOST", {})->api_key, "ok");
  EXPECT_EQ(c.override_for("groq", {"groq_cloud"}), nullptr);
  EXPECT_EQ(Config{}.override_for("openai", {}), nullptr);
}

TEST(ConfigJson, AllFieldsTogether) {
  Config c = parse_config_json(R"({"api_key":"k","base_url":"https://b.test/","model_hint":"deepseek",
      "timeout_secs":30,"connect_timeout_secs":3,"stream_idle_timeout_secs":60,"max_retries":0,
      "headers":{"X-A":"a"},"providers":{"deep-seek":{"api_key":"dk"}}})");
  EXPECT_EQ(c.api_key, "k");
  EXPECT_EQ(c.base_url, "https://b.test");
  EXPECT_EQ(c.model_hint, "deepseek");
  EXPECT_TRUE(c.model_hint_set);
  EXPECT_DOUBLE_EQ(c.timeout_secs, 30);
  EXPECT_DOUBLE_EQ(c.connect_timeout_secs, 3);
  EXPECT_DOUBLE_EQ(c.stream_idle_timeout_secs, 60);
  EXPECT_EQ(c.max_retries, 0);
  EXPECT_EQ(header(c.headers, "X-A"), "a");
  ASSERT_TRUE(c.providers.count("deepseek"));
  EXPECT_EQ(c.providers.at("deepseek").api_key, "dk");
}

// ------------------------------------------------------------ files

void check_full_file(const Config& c, const std::string& top_key, const std::string& mistral_key,
                     const std::string& openai_key) {
  EXPECT_EQ(c.api_key, top_key);
  EXPECT_EQ(c.base_url, "https://gateway.example.test/v1");
  EXPECT_EQ(c.model_hint, "groq");
  EXPECT_TRUE(c.model_hint_set);
  EXPECT_DOUBLE_EQ(c.timeout_secs, 120);
  EXPECT_DOUBLE_EQ(c.connect_timeout_secs, 2.5);
  EXPECT_DOUBLE_EQ(c.stream_idle_timeout_secs, 45);
  EXPECT_EQ(c.max_retries, 4);
  EXPECT_EQ(header(c.headers, "x-team"), "core");
  EXPECT_EQ(header(c.headers, "X-Trace-Id"), "abc-123");
  ASSERT_EQ(c.providers.size(), 3u);
  ASSERT_TRUE(c.providers.count("mistral"));  // [providers.MISTRAL_AI] configures mistral
  const ProviderOverride& m = c.providers.at("mistral");
  EXPECT_EQ(m.api_key, mistral_key);
  EXPECT_EQ(m.base_url, "https://eu.mistral.example.test/v1");
  EXPECT_EQ(header(m.headers, "X-Region"), "eu");
  ASSERT_TRUE(c.providers.count("openai"));
  EXPECT_EQ(c.providers.at("openai").api_key, openai_key);
  EXPECT_FALSE(c.providers.at("openai").base_url);
  ASSERT_TRUE(c.providers.count("vllm"));  // [providers.hosted-vllm]: an alias, dash for underscore
  EXPECT_EQ(c.providers.at("vllm").base_url, "http://127.0.0.1:9000/v1");
  EXPECT_EQ(header(c.providers.at("vllm").headers, "X-Local"), "yes");
  ProviderPtr mistral = find_builtin("mistral");
  ASSERT_TRUE(mistral);
  ASSERT_NE(c.override_for(mistral->name, mistral->aliases), nullptr);
  EXPECT_EQ(c.override_for(mistral->name, mistral->aliases)->api_key, mistral_key);
}

TEST(ConfigFile, TomlWithNestedTables) {
  std::string p = data_path("config/full.toml");
  ASSERT_TRUE(fs::exists(p)) << p;
  check_full_file(parse_config_file(p), "sk-toml-top", "mk-toml", "sk-openai-toml");
}

TEST(ConfigFile, Json) {
  std::string p = data_path("config/full.json");
  ASSERT_TRUE(fs::exists(p)) << p;
  check_full_file(parse_config_file(p), "sk-json-top", "mk-json", "sk-openai-json");
}

TEST(ConfigFile, TomlSyntaxErrorNamesPathAndLine) {
  std::string p = data_path("config/bad_syntax.toml");
  Failure f = file_failure(p);
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find(p), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("line 3"), std::string::npos) << f.message;

  TempDir d;
  std::string q = d.write("late.toml", "api_key = \"a\"\n\n\n\n[providers.groq]\napi_key = \"unterminated\n");
  f = file_failure(q);
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("line 6"), std::string::npos) << f.message;
  // A key given twice is a TOML error too.
  q = d.write("dup.toml", "api_key = \"a\"\napi_key = \"b\"\n");
  f = file_failure(q);
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("line 2"), std::string::npos) << f.message;
}

TEST(ConfigFile, TomlValidationNamesTheField) {
  Failure f = file_failure(data_path("config/bad_field.toml"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("config.providers.groq.region: unknown field"), std::string::npos) << f.message;
  f = file_failure(data_path("config/bad_type.toml"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("config.max_retries"), std::string::npos) << f.message;

  TempDir d;
  // TOML types map onto the JSON validator: a date is no value of any field (was a bug: a
  // date became the string "(date/time)", accepted as an API key), an array not a table.
  f = file_failure(d.write("date.toml", "timeout_secs = 1979-05-27\n"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("config.timeout_secs: a TOML date or time is not a valid value"), std::string::npos)
      << f.message;
  f = file_failure(d.write("date_key.toml", "[providers.groq]\napi_key = 1979-05-27T07:32:00Z\n"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("config.providers.groq.api_key: a TOML date"), std::string::npos) << f.message;
  f = file_failure(d.write("date_list.toml", "[headers]\nX-A = 07:32:00\n"));
  EXPECT_NE(f.message.find("config.headers.X-A: a TOML date"), std::string::npos) << f.message;
  f = file_failure(d.write("arr.toml", "headers = [\"X-A: b\"]\n"));
  EXPECT_NE(f.message.find("config.headers: expected an object, got array"), std::string::npos) << f.message;
  f = file_failure(d.write("float.toml", "max_retries = 2.0\n"));
  EXPECT_NE(f.message.find("config.max_retries"), std::string::npos) << f.message;
  f = file_failure(d.write("bool.toml", "[providers.groq]\napi_key = true\n"));
  EXPECT_NE(f.message.find("config.providers.groq.api_key: expected a string, got boolean"), std::string::npos)
      << f.message;
  // TOML integers are numbers for the timeouts.
  EXPECT_DOUBLE_EQ(parse_config_file(d.write("int.toml", "timeout_secs = 7\n")).timeout_secs, 7);
  // An empty TOML file is the defaults.
  EXPECT_EQ(parse_config_file(d.write("empty.toml", "")).max_retries, 2);
}

TEST(ConfigFile, JsonFileErrors) {
  TempDir d;
  std::string bad = d.write("bad.json", "{\"api_key\": }");
  Failure f = file_failure(bad);
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("not valid JSON"), std::string::npos) << f.message;
  // Was a bug: a JSON file's syntax error named neither the file nor the line (as a TOML one's does).
  EXPECT_NE(f.message.find("config file " + bad + ": line 1: "), std::string::npos) << f.message;
  std::string later = d.write("later.json", "\xEF\xBB\xBF{\n  \"timeout_secs\": 5,\n\n  \"x\": \n}\n");
  f = file_failure(later);
  EXPECT_NE(f.message.find("config file " + later + ": line 5: "), std::string::npos) << f.message;
  f = file_failure(d.write("deep.json", "{\n\"a\":" + std::string(600, '[') + "\n}"));
  EXPECT_NE(f.message.find(": line 2: "), std::string::npos) << "prescan's refusals too: " << f.message;
  f = file_failure(d.write("unknown.json", "{\"bogus\": 1}"));
  EXPECT_NE(f.message.find("config.bogus: unknown field"), std::string::npos) << f.message;
  // Any path not ending in ".toml" is JSON, whatever it is called.
  EXPECT_EQ(parse_config_file(d.write("conf.cfg", "{\"max_retries\":7}")).max_retries, 7);
  f = file_failure(d.write("conf.ini", "max_retries = 7\n"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(parse_config_file(d.write("empty.json", "")).max_retries, 2);
}

TEST(ConfigFile, MissingPathNamesThePath) {
  TempDir d;
  for (std::string p : {d.path("absent.toml"), d.path("absent.json"), d.path("no/such/dir/config.toml")}) {
    Failure f = file_failure(p);
    EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT) << p;
    EXPECT_NE(f.message.find(p), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("cannot be read"), std::string::npos) << f.message;
  }
}

TEST(ConfigFile, DirectoryIsUnreadable) {
  // Was a bug (fixed): a directory opens as an ifstream on Linux; reading it yields nothing, so
  // parse_config_file returns the default Config instead of failing "cannot be read"
  // (src/core/config.cpp, parse_config_file: only `if (!f)` is checked, never the read).
  TempDir d;
  fs::create_directories(d.path("conf.json"));
  fs::create_directories(d.path("conf.toml"));
  for (std::string p : {d.path("conf.json"), d.path("conf.toml"), d.path("")}) {
    Failure f = file_failure(p);
    EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT) << p;
    EXPECT_NE(f.message.find("cannot be read"), std::string::npos) << p << ": " << f.message;
  }
}

TEST(ConfigFile, AReadErrorIsAnError) {
  // Was a bug (fixed): a read that fails midway (EIO) gave the default config,
  // as if the file were empty. /proc/self/mem is a regular file whose first
  // page is unmapped: reading it fails with EIO.
  ASSERT_TRUE(fs::is_regular_file("/proc/self/mem"));
  Failure f = file_failure("/proc/self/mem");
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("config file /proc/self/mem: cannot be read (Input/output error)"), std::string::npos)
      << f.message;
}

// ------------------------------------------------------------ the config at work
//
// Client::prepare routes and builds a call without sending it: what the
// configuration says must show in the target it resolves.

TEST(ConfigInClient, AliasKeyedOverrideReachesTheTarget) {
  Config c = parse_config_json(R"({"providers":{"MISTRAL_AI":{"api_key":"mk-1","base_url":"https://eu.mistral.test/v1/",
      "headers":{"X-Region":"eu"}}},"headers":{"X-Team":"core","X-Region":"global"},"timeout_secs":12.5})");
  Client client(std::move(c));
  PreparedCall p = client.prepare(R"({"model":"mistral-ai/mistral-small","messages":[{"role":"user","content":"hi"}]})", false);
  EXPECT_EQ(p.target.spec->name, "mistral");
  EXPECT_EQ(p.target.model, "mistral-small");
  EXPECT_EQ(p.target.base_url, "https://eu.mistral.test/v1");
  EXPECT_EQ(p.target.api_key, "mk-1");
  EXPECT_EQ(header(p.target.headers, "X-Team"), "core");
  EXPECT_EQ(header(p.target.headers, "X-Region"), "eu") << "the provider's own headers win over the client's";
  EXPECT_EQ(p.timeout_ms, 12500);
  EXPECT_EQ(p.http.url, "https://eu.mistral.test/v1/chat/completions");
  EXPECT_EQ(header(p.http.headers, "Authorization"), "Bearer mk-1");
}

TEST(ConfigInClient, TopLevelKeyAndUrlGoToTheModelHint) {
  Config c = parse_config_json(R"({"api_key":"gk-top","base_url":"http://127.0.0.1:7/v1","model_hint":"Groq"})");
  Client client(std::move(c));
  PreparedCall p = client.prepare(R"({"model":"llama-3.3-70b","messages":[{"role":"user","content":"hi"}]})", false);
  EXPECT_EQ(p.target.spec->name, "groq");
  EXPECT_EQ(p.target.api_key, "gk-top");
  EXPECT_EQ(p.target.base_url, "http://127.0.0.1:7/v1");
  EXPECT_EQ(p.target.model, "llama-3.3-70b");
}

TEST(ConfigInClient, SubMillisecondTimeoutIsNotNoTimeout) {
  // Was a bug (fixed): timeout_secs accepts any value > 0 (config.cpp positive_number, and the
  // request's "timeout_secs" in validate.cpp), but client.cpp converts with
  // static_cast<long>(secs * 1000): 0.0004 s becomes 0 ms, which the transport
  // reads as "no timeout" (transport.hpp: total_timeout_ms <= 0 means none). The
  // same truncation turns connect_timeout_secs / stream_idle_timeout_secs below
  // 1 ms into curl's default connect timeout and no idle timeout (Client::Client).
  Config c = parse_config_json(R"({"api_key":"k","timeout_secs":0.0004})");
  Client client(std::move(c));
  PreparedCall p = client.prepare(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})", false);
  EXPECT_GT(p.timeout_ms, 0) << "config.timeout_secs 0.0004 became 'no timeout'";
  PreparedCall q =
      client.prepare(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"timeout_secs":0.0009})", false);
  EXPECT_GT(q.timeout_ms, 0) << "request.timeout_secs 0.0009 became 'no timeout'";
}

TEST(ConfigFile, TomlSpecialFloatsAreRefused) {
  TempDir d;
  for (const char* v : {"inf", "+inf", "-inf", "nan"}) {
    Failure f = file_failure(d.write("f.toml", std::string("timeout_secs = ") + v + "\n"));
    EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT) << v;
    EXPECT_NE(f.message.find("config.timeout_secs: must be > 0"), std::string::npos) << v << ": " << f.message;
  }
}

}  // namespace
}  // namespace literllm

TEST(ConfigJsonExtra, ByteOrderMarkAndDoubleSpellings) {
  literllm::Config c = literllm::parse_config_json("\xEF\xBB\xBF{\"max_retries\":4}");
  EXPECT_EQ(c.max_retries, 4);
  try {
    literllm::parse_config_json(R"({"providers":{"mistral":{"api_key":"a"},"MISTRAL_AI":{"api_key":"b"}}})");
    ADD_FAILURE() << "two spellings of one provider were accepted";
  } catch (const literllm::Error& e) {
    EXPECT_EQ(e.status(), LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("providers.MISTRAL_AI"), std::string::npos) << e.what();
  }
}
