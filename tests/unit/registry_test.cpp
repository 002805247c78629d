// Providers as data (src/providers/registry.hpp): the built-in rows, lookup by
// name / alias / prefix in any case, the run-time tables, the registration JSON
// and the JSON a provider is listed as.
#include "providers/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"

namespace literllm {
namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

ProviderPtr make(const std::string& name, std::vector<std::string> aliases = {},
                 std::vector<std::string> prefixes = {}, const std::string& url = "https://h.test/v1") {
  auto p = std::make_shared<ProviderSpec>();
  p->name = name;
  p->aliases = std::move(aliases);
  p->prefixes = std::move(prefixes);
  p->base_url = url;
  p->registered = true;
  p->index_keys();
  return p;
}

struct Failure {
  llm_status status = LLM_OK;
  std::string message;
};

Failure registration_failure(const std::string& text) {
  try {
    parse_provider_registration(text);
  } catch (const Error& e) {
    return {e.status(), e.what()};
  }
  return {};
}

// Expects registration_failure(text) to fail with `status` and a message containing `needle`.
#define EXPECT_REG_FAILURE(status_, text, needle)                                                 \
  do {                                                                                         \
    Failure f_ = registration_failure(text);                                                   \
    EXPECT_EQ(f_.status, status_) << "input: " << (text);                                      \
    EXPECT_NE(f_.message.find(needle), std::string::npos)                                      \
        << "input: " << (text) << "\nmessage: " << f_.message << "\nwanted: " << (needle);     \
  } while (0)
#define EXPECT_REG_INVALID(text, needle) EXPECT_REG_FAILURE(LLM_ERR_INVALID_ARGUMENT, text, needle)
#define EXPECT_REG_INVALID_HEADER(text, needle) EXPECT_REG_FAILURE(LLM_ERR_INVALID_HEADER, text, needle)

// A registration with the required fields plus `extra` (", ..." text).
std::string reg(const std::string& extra = "") {
  return R"({"name":"acme","base_url":"https://api.acme.test/v1/","prefixes":["acme"])" + extra + "}";
}

// ------------------------------------------------------------ normalize

TEST(Registry, NormalizeProviderName) {
  EXPECT_EQ(normalize_provider_name("Mistral-AI"), "mistral_ai");
  EXPECT_EQ(normalize_provider_name("LM Studio"), "lm_studio");
  EXPECT_EQ(normalize_provider_name("LLAMA.CPP"), "llama.cpp");
  EXPECT_EQ(normalize_provider_name("already_ok"), "already_ok");
  EXPECT_EQ(normalize_provider_name(""), "");
  // Non-ASCII bytes pass through untouched (no locale-dependent folding).
  EXPECT_EQ(normalize_provider_name("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89");
}

// ------------------------------------------------------------ built-ins

TEST(Builtins, EveryRowIsComplete) {
  const auto& rows = builtin_providers();
  ASSERT_GE(rows.size(), 20u);
  for (const ProviderPtr& p : rows) {
    SCOPED_TRACE(p->name);
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->name.empty());
    EXPECT_EQ(p->name, normalize_provider_name(p->name)) << "the canonical name is lower case";
    EXPECT_EQ(p->name.find('/'), std::string::npos);
    // Signed protocols (SigV4, Google tokens) take no static key; every other
    // row sends its key in Authorization or a header of its own.
    const bool signs = p->protocol == Protocol::VertexAI || p->protocol == Protocol::Bedrock;
    if (signs) EXPECT_EQ(p->auth, AuthKind::Signed);
    else if (p->auth == AuthKind::Header) EXPECT_FALSE(p->auth_header.empty());
    else EXPECT_EQ(p->auth, AuthKind::Bearer);
    EXPECT_FALSE(p->registered);
    EXPECT_TRUE(p->api_key.empty()) << "a built-in row carries no key";
    if (p->base_url.empty()) {
      // Each user's own endpoint (Azure): named by config or the environment.
      EXPECT_FALSE(p->base_url_env.empty());
      continue;
    }
    EXPECT_NE(p->base_url.back(), '/') << p->base_url;
    if (p->quirks.key_optional) {
      // Local servers: plain http on localhost, overridable from the environment.
      EXPECT_TRUE(starts_with(p->base_url, "http://localhost:")) << p->base_url;
      EXPECT_FALSE(p->base_url_env.empty());
    } else {
      EXPECT_TRUE(starts_with(p->base_url, "https://")) << p->base_url;
      if (!signs) { EXPECT_FALSE(p->api_key_env.empty()) << "a hosted provider names the environment variable of its key"; }
    }
    // Every {placeholder} of the base URL is one of the row's settings.
    for (size_t open = p->base_url.find('{'); open != std::string::npos; open = p->base_url.find('{', open + 1)) {
      std::string name = p->base_url.substr(open + 1, p->base_url.find('}', open) - open - 1);
      EXPECT_NE(find_setting(*p, name), nullptr) << name;
    }
    for (auto& e : p->api_key_env) {
      EXPECT_FALSE(e.empty());
      for (char c : e) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') << e;
    }
    for (auto& a : p->aliases) {
      EXPECT_FALSE(a.empty());
      EXPECT_EQ(a.find('/'), std::string::npos) << a;
    }
    // Every row is found by its name and each alias, in any case.
    EXPECT_EQ(find_builtin(p->name), p);
    for (auto& a : p->aliases) {
      EXPECT_EQ(find_builtin(a), p) << a;
      std::string upper = a;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EXPECT_EQ(find_builtin(upper), p) << upper;
    }
  }
}

TEST(Builtins, NoTwoRowsShareANameAliasOrPrefix) {
  std::map<std::string, std::string> owner;  // normalized spelling -> row
  for (const ProviderPtr& p : builtin_providers()) {
    std::set<std::string> mine;
    auto claim = [&](const std::string& s) {
      std::string k = normalize_provider_name(s);
      if (!mine.insert(k).second) return;  // the same row may repeat a spelling
      auto [it, fresh] = owner.emplace(k, p->name);
      EXPECT_TRUE(fresh) << "\"" << s << "\" of " << p->name << " is also " << it->second;
    };
    claim(p->name);
    for (auto& a : p->aliases) claim(a);
    for (auto& a : p->prefixes) claim(a);
  }
}

TEST(Builtins, AliasesAreCaseInsensitive) {
  struct Case {
    const char* typed;
    const char* name;
  } cases[] = {
      {"Grok", "xai"},          {"KIMI", "moonshot"},       {"QWEN", "dashscope"},   {"mistral-ai", "mistral"},
      {"Together_AI", "together"}, {"LLAMA.CPP", "llama_cpp"}, {"OpenAI", "openai"},   {"GROQ", "groq"},
      {"Mistral AI", "mistral"}, {"MistralAI", "mistral"},   {"Deep-Seek", "deepseek"}, {"X-AI", "xai"},
      {"LMStudio", "lm_studio"}, {"lm-studio", "lm_studio"}, {"Hosted-VLLM", "vllm"}, {"PPLX", "perplexity"},
      {"NVIDIA", "nvidia_nim"}, {"Workers-AI", "cloudflare"}, {"GH", "github"},       {"Open-Router", "openrouter"},
  };
  for (auto& c : cases) {
    ProviderPtr p = find_builtin(c.typed);
    ASSERT_TRUE(p) << c.typed;
    EXPECT_EQ(p->name, c.name) << c.typed;
  }
}

// Every provider key the product promises, with each alias that must resolve
// to it, and the protocol it speaks.
TEST(Builtins, EveryPromisedProviderKey) {
  struct Row {
    const char* name;
    std::vector<const char*> aliases;
    const char* protocol;
  } rows[] = {
      {"openai", {}, "openai"},
      {"openrouter", {}, "openai"},
      {"groq", {}, "openai"},
      {"mistral", {"mistralai", "mistral_ai"}, "openai"},
      {"deepseek", {"deep_seek"}, "openai"},
      {"xai", {"x_ai", "grok"}, "openai"},
      {"together", {"togetherai", "together_ai"}, "openai"},
      {"fireworks", {"fireworksai", "fireworks_ai"}, "openai"},
      {"cerebras", {}, "openai"},
      {"perplexity", {}, "openai"},
      {"sambanova", {"samba_nova"}, "openai"},
      {"nvidia_nim", {"nvidia", "nim"}, "openai"},
      {"nebius", {}, "openai"},
      {"moonshot", {"moonshotai", "moonshot_ai", "kimi"}, "openai"},
      {"dashscope", {"dash_scope", "alibaba", "alibaba_cloud", "qwen"}, "openai"},
      {"cloudflare", {"cloudflare_workers_ai", "workers_ai"}, "openai"},
      {"cloudflare_ai_gateway", {"ai_gateway"}, "openai"},
      {"github", {"github_models"}, "openai"},
      {"microsoft_foundry", {"ms_foundry", "azure_foundry"}, "openai"},
      {"gemini_enterprise", {"google_gemini_enterprise", "google_openai"}, "openai"},
      {"ollama", {}, "openai"},
      {"lm_studio", {"lmstudio"}, "openai"},
      {"vllm", {}, "openai"},
      {"sglang", {}, "openai"},
      {"llama_cpp", {"llamacpp", "llama_cpp_python"}, "openai"},
      {"anthropic", {"claude"}, "anthropic"},
      {"gemini", {"google"}, "gemini"},
      {"vertex_ai", {"vertex"}, "vertex_ai"},
      {"bedrock", {"amazon_bedrock", "aws_bedrock"}, "bedrock"},
      {"azure_openai", {"azure", "azure_open_ai"}, "openai"},
      {"cohere", {"co"}, "cohere"},
  };
  for (auto& r : rows) {
    ProviderPtr p = find_builtin(r.name);
    ASSERT_TRUE(p) << r.name;
    EXPECT_EQ(p->name, r.name);
    EXPECT_STREQ(protocol_name(p->protocol), r.protocol) << r.name;
    for (const char* a : r.aliases) {
      for (std::string spelling : {std::string(a), normalize_provider_name(a)}) {
        // Upper case, and '-' or ' ' for '_': the same provider.
        std::string upper = spelling, dashed = spelling, spaced = spelling;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (auto& c : dashed) c = c == '_' ? '-' : c;
        for (auto& c : spaced) c = c == '_' ? ' ' : c;
        for (auto& s : {spelling, upper, dashed, spaced}) {
          ProviderPtr found = find_builtin(s);
          ASSERT_TRUE(found) << s;
          EXPECT_EQ(found->name, r.name) << s;
        }
      }
    }
  }
}

TEST(Builtins, UnknownSpellingsAreNotProviders) {
  struct Case {
    const char* typed;
    const char* name;
  } cases[] = {{"OpenAI", "openai"}};
  for (auto& c : cases) {
    ProviderPtr p = find_builtin(c.typed);
    ASSERT_TRUE(p) << c.typed;
    EXPECT_EQ(p->name, c.name) << c.typed;
  }
  for (const char* unknown : {"", "nope", "open ai", "anthropic-ish", "xai/grok", "mistral_", " groq"})
    EXPECT_EQ(find_builtin(unknown), nullptr) << "\"" << unknown << "\"";
}

TEST(Builtins, QuirksOfKnownHosts) {
  ProviderPtr openai = find_builtin("openai"), mistral = find_builtin("mistral"), groq = find_builtin("groq"),
              ollama = find_builtin("ollama"), deepseek = find_builtin("deepseek");
  ASSERT_TRUE(openai && mistral && groq && ollama && deepseek);
  EXPECT_EQ(openai->base_url, "https://api.openai.com/v1");
  EXPECT_EQ(openai->api_key_env, std::vector<std::string>{"OPENAI_API_KEY"});
  EXPECT_EQ(openai->quirks.tokens, TokensField::MaxCompletionTokens);
  EXPECT_FALSE(openai->quirks.developer_as_system);
  EXPECT_TRUE(openai->quirks.stream_usage_option);
  EXPECT_STREQ(openai->quirks.seed_field, "seed");
  EXPECT_FALSE(openai->quirks.key_optional);

  EXPECT_STREQ(mistral->quirks.seed_field, "random_seed");
  EXPECT_FALSE(mistral->quirks.stream_usage_option);
  EXPECT_TRUE(mistral->quirks.developer_as_system);
  EXPECT_EQ(mistral->quirks.tokens, TokensField::MaxTokens);

  EXPECT_EQ(groq->quirks.tokens, TokensField::AsGiven);
  EXPECT_EQ(deepseek->quirks.tokens, TokensField::MaxTokens);
  EXPECT_TRUE(ollama->quirks.key_optional);
  EXPECT_EQ(ollama->base_url, "http://localhost:11434/v1");
}

// ------------------------------------------------------------ ProviderTable

TEST(ProviderTable, AddFindReplaceRemove) {
  ProviderTable t;
  EXPECT_EQ(t.find("acme"), nullptr);
  EXPECT_TRUE(t.all().empty());
  EXPECT_FALSE(t.remove("acme"));

  ProviderPtr a = make("acme", {"acme_ai"}, {"ac"});
  t.add(a);
  EXPECT_EQ(t.find("acme"), a);
  EXPECT_EQ(t.find("ACME"), a);
  EXPECT_EQ(t.find("Acme-AI"), a);  // alias, normalized
  EXPECT_EQ(t.find("AC"), a);       // prefix
  EXPECT_EQ(t.find("acm"), nullptr);
  EXPECT_EQ(t.find(""), nullptr);

  ProviderPtr b = make("bolt", {}, {"bl"});
  t.add(b);
  ASSERT_EQ(t.all().size(), 2u);
  EXPECT_EQ(t.all()[0], b);  // the newest row first

  // Same name (any case): replaces, and the old aliases go with the old row.
  ProviderPtr a2 = make("ACME", {}, {"acme2"});
  t.add(a2);
  ASSERT_EQ(t.all().size(), 2u);
  EXPECT_EQ(t.find("acme"), a2);
  EXPECT_EQ(t.find("acme_ai"), nullptr);
  EXPECT_EQ(t.find("ac"), nullptr);
  EXPECT_EQ(t.find("acme2"), a2);

  EXPECT_TRUE(t.remove("Acme"));
  EXPECT_FALSE(t.remove("acme"));
  EXPECT_EQ(t.find("acme"), nullptr);
  EXPECT_EQ(t.find("bl"), b);
  // remove() goes by name only, never by alias or prefix.
  EXPECT_FALSE(t.remove("bl"));
  EXPECT_TRUE(t.remove("BOLT"));
  EXPECT_TRUE(t.all().empty());
}

TEST(ProviderTable, NewerRowWinsAnOverlap) {
  ProviderTable t;
  ProviderPtr first = make("first", {"shared"});
  ProviderPtr second = make("second", {}, {"shared"});
  t.add(first);
  t.add(second);
  EXPECT_EQ(t.find("shared"), second);
  t.remove("second");
  EXPECT_EQ(t.find("shared"), first);
}

TEST(ProviderTable, ConcurrentReadersAndWriters) {
  ProviderTable t;
  t.add(make("stable", {"st"}));
  std::atomic<bool> bad{false};
  std::vector<std::thread> th;
  for (int w = 0; w < 2; ++w)
    th.emplace_back([&, w] {
      for (int i = 0; i < 300; ++i) {
        std::string n = "p" + std::to_string(w) + "_" + std::to_string(i % 7);
        t.add(make(n));
        t.remove(n);
      }
    });
  for (int r = 0; r < 2; ++r)
    th.emplace_back([&] {
      for (int i = 0; i < 600; ++i) {
        if (!t.find("ST")) bad = true;
        (void)t.all();
      }
    });
  for (auto& x : th) x.join();
  EXPECT_FALSE(bad);
  ASSERT_EQ(t.all().size(), 1u);
}

TEST(ProviderTable, GlobalTableIsOneTable) {
  ProviderTable& g = global_providers();
  EXPECT_EQ(&g, &global_providers());
  const std::string name = "registry_test_global_row";
  g.add(make(name, {}, {"registry_test_prefix"}));
  ASSERT_TRUE(global_providers().find("registry_test_prefix"));
  EXPECT_TRUE(g.remove(name));
  EXPECT_EQ(global_providers().find(name), nullptr);
}

// ------------------------------------------------------------ registration

TEST(Registration, MinimalForm) {
  ProviderPtr p = parse_provider_registration(reg());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->name, "acme");
  EXPECT_EQ(p->base_url, "https://api.acme.test/v1");  // trailing slash dropped
  EXPECT_EQ(p->prefixes, std::vector<std::string>{"acme"});
  EXPECT_TRUE(p->aliases.empty());
  EXPECT_EQ(p->protocol, Protocol::OpenAI);
  EXPECT_EQ(p->auth, AuthKind::Bearer);
  EXPECT_TRUE(p->api_key.empty());
  EXPECT_TRUE(p->api_key_env.empty());
  EXPECT_TRUE(p->headers.empty());
  EXPECT_TRUE(p->registered);
  // A plain OpenAI-compatible server: nothing renamed, usage asked for.
  EXPECT_TRUE(p->quirks.stream_usage_option);
  EXPECT_EQ(p->quirks.tokens, TokensField::AsGiven);
  EXPECT_FALSE(p->quirks.developer_as_system);
  EXPECT_STREQ(p->quirks.seed_field, "seed");
  EXPECT_FALSE(p->quirks.key_optional);
  EXPECT_EQ(parse_provider_registration(R"({"name":"l","base_url":"http://127.0.0.1:1/","prefixes":["l"]})")->base_url,
            "http://127.0.0.1:1");
}

TEST(Registration, EveryOptionalField) {
  ProviderPtr p = parse_provider_registration(
      R"({"name":"acme","base_url":"https://api.acme.test/v1","prefixes":["acme","ac"],"aliases":["Acme-AI"],)"
      R"("auth":{"header":"X-Api-Key"},"api_key":"sk-acme","api_key_env":"ACME_KEY",)"
      R"("headers":{"X-Org":"o1","X-Empty":""}})");
  EXPECT_EQ(p->prefixes, (std::vector<std::string>{"acme", "ac"}));
  EXPECT_EQ(p->aliases, std::vector<std::string>{"Acme-AI"});
  EXPECT_EQ(p->auth, AuthKind::Header);
  EXPECT_EQ(p->auth_header, "X-Api-Key");
  EXPECT_EQ(p->api_key, "sk-acme");
  EXPECT_EQ(p->api_key_env, std::vector<std::string>{"ACME_KEY"});
  ASSERT_EQ(p->headers.size(), 2u);
  EXPECT_EQ(p->headers[0], (std::pair<std::string, std::string>{"X-Org", "o1"}));
  EXPECT_EQ(p->headers[1], (std::pair<std::string, std::string>{"X-Empty", ""}));
  EXPECT_FALSE(p->quirks.key_optional);

  ProviderTable t;
  t.add(p);
  EXPECT_EQ(t.find("acme_ai"), p);
  EXPECT_EQ(t.find("AC"), p);
}

TEST(Registration, AuthForms) {
  EXPECT_EQ(parse_provider_registration(reg(R"(,"auth":"bearer")"))->auth, AuthKind::Bearer);
  ProviderPtr none = parse_provider_registration(reg(R"(,"auth":"none")"));
  EXPECT_EQ(none->auth, AuthKind::None);
  EXPECT_TRUE(none->quirks.key_optional);
  ProviderPtr h = parse_provider_registration(reg(R"(,"auth":{"header":"api_key-2"})"));
  EXPECT_EQ(h->auth, AuthKind::Header);
  EXPECT_EQ(h->auth_header, "api_key-2");
  EXPECT_FALSE(h->quirks.key_optional);
}

TEST(Registration, InvalidFormsNameTheirField) {
  EXPECT_REG_INVALID("not json", "provider is not valid JSON");
  EXPECT_REG_INVALID("[]", "provider: expected a JSON object, got array");
  EXPECT_REG_INVALID(reg(R"(,"model":"x")"), "provider.model: unknown field");
  EXPECT_REG_INVALID(reg(R"(,"api_key_envs":["X"])"), "provider.api_key_envs: unknown field");

  EXPECT_REG_INVALID(R"({"base_url":"https://a.test","prefixes":["a"]})", "provider.name: required");
  EXPECT_REG_INVALID(R"({"name":7,"base_url":"https://a.test","prefixes":["a"]})",
                     "provider.name: expected a string, got number");
  EXPECT_REG_INVALID(R"({"name":"","base_url":"https://a.test","prefixes":["a"]})", "provider.name: must not be empty");

  EXPECT_REG_INVALID(R"({"name":"a","prefixes":["a"]})", "provider.base_url: required");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":null,"prefixes":["a"]})", "provider.base_url: expected a string, got null");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"","prefixes":["a"]})", "provider.base_url: must not be empty");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"a.test/v1","prefixes":["a"]})",
                     "provider.base_url: must start with http:// or https://");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"wss://a.test","prefixes":["a"]})", "provider.base_url");

  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test"})", "provider.prefixes: required");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test","prefixes":"a"})",
                     "provider.prefixes: expected an array, got string");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test","prefixes":[]})",
                     "provider.prefixes: must name at least one prefix");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test","prefixes":["a",3]})",
                     "provider.prefixes[1]: expected a string, got number");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test","prefixes":[""]})",
                     "provider.prefixes[0]: must not be empty");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test","prefixes":["ok","a/b"]})",
                     "provider.prefixes[1]: must not contain '/'");

  EXPECT_REG_INVALID(reg(R"(,"aliases":"x")"), "provider.aliases: expected an array of strings");
  EXPECT_REG_INVALID(reg(R"(,"aliases":["x",1])"), "provider.aliases: expected non-empty strings");
  EXPECT_REG_INVALID(reg(R"(,"aliases":[""])"), "provider.aliases: expected non-empty strings");

  EXPECT_REG_INVALID(reg(R"(,"auth":"basic")"), "provider.auth: expected \"bearer\", \"none\" or {\"header\": name}, got \"basic\"");
  EXPECT_REG_INVALID(reg(R"(,"auth":"Bearer")"), "provider.auth:");
  EXPECT_REG_INVALID(reg(R"(,"auth":true)"), "provider.auth: expected a string or an object, got boolean");
  EXPECT_REG_INVALID(reg(R"(,"auth":{})"), "provider.auth.header: expected a non-empty header name");
  EXPECT_REG_INVALID(reg(R"(,"auth":{"header":""})"), "provider.auth.header: expected a non-empty header name");
  EXPECT_REG_INVALID(reg(R"(,"auth":{"header":5})"), "provider.auth.header: expected a non-empty header name");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"auth":{"header":"X Api"})"), "provider.auth.header: is not a valid header name");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"auth":{"header":"X-Key:"})"), "provider.auth.header: is not a valid header name");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"auth":{"header":"X-Key\r\nEvil"})"),
                            "provider.auth.header: is not a valid header name");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"auth":{"header":"Host"})"), "provider.auth.header: is reserved");

  EXPECT_REG_INVALID(reg(R"(,"api_key":42)"), "provider.api_key: expected a string");
  EXPECT_REG_INVALID(reg(R"(,"api_key_env":"")"), "provider.api_key_env: expected a non-empty string");
  EXPECT_REG_INVALID(reg(R"(,"api_key_env":["A"])"), "provider.api_key_env: expected a non-empty string");
  EXPECT_REG_INVALID(reg(R"(,"headers":[["X","y"]])"), "provider.headers: expected an object");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"headers":{"X-Num":1})"), "provider.headers.X-Num: expected a string");
  // What a call could never send is refused here, not at every call.
  EXPECT_REG_INVALID_HEADER(reg(R"(,"headers":{"X-Bad":"a\r\nX-Injected: 1"})"),
                            "provider.headers.X-Bad: the header value contains a control character");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"headers":{"X-Bad":"a\nb"})"), "provider.headers.X-Bad: the header value");
  for (const char* name : {"Content-Length", "Transfer-Encoding", "host", "Connection", "Keep-Alive", "TE",
                           "Trailer", "Upgrade", "Expect", "Accept-Encoding"})
    EXPECT_REG_INVALID_HEADER(reg(std::string(R"(,"headers":{")") + name + R"(":"1"})"),
                              std::string("provider.headers.") + name + ": is reserved");
  EXPECT_REG_INVALID_HEADER(reg(R"(,"headers":{":authority":"x"})"), "pseudo-header");
  EXPECT_REG_INVALID(reg(R"(,"api_key":"k\r\nX: y")"), "provider.api_key: contains a control character");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"http://","prefixes":["a"]})", "provider.base_url: has no host name");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test/v 1","prefixes":["a"]})",
                     "provider.base_url: contains a space");
  EXPECT_REG_INVALID(R"({"name":"a","base_url":"https://a.test/v1\u0000x","prefixes":["a"]})",
                     "provider.base_url: contains a NUL");
  EXPECT_REG_INVALID(reg(R"(,"name":"b")"), "provider.name: appears more than once");
}

// ------------------------------------------------------------ listing

TEST(ProviderJson, RegisteredShape) {
  ProviderPtr p = parse_provider_registration(
      R"({"name":"acme","base_url":"https://api.acme.test/v1","prefixes":["ac"],"aliases":["acme_ai"],)"
      R"("auth":{"header":"X-Api-Key"},"api_key":"sk-very-secret","api_key_env":"ACME_KEY","headers":{"X-Org":"o"}})");
  json::Document d;
  provider_to_json(*p, d, d.GetAllocator());
  ASSERT_TRUE(d.IsObject());
  std::set<std::string> keys;
  for (auto& m : d.GetObject()) keys.insert(m.name.GetString());
  EXPECT_EQ(keys, (std::set<std::string>{"name", "aliases", "base_url", "auth", "api_key_env", "prefixes", "protocol",
                                         "settings", "registered", "endpoints"}));
  EXPECT_STREQ(d["name"].GetString(), "acme");
  EXPECT_EQ(d["endpoints"].Size(), static_cast<rapidjson::SizeType>(kEndpointCount - 1))
      << "a registered OpenAI-compatible host: every endpoint the protocol has (all but search, which it has not)";
  ASSERT_TRUE(d["aliases"].IsArray());
  ASSERT_EQ(d["aliases"].Size(), 1u);
  EXPECT_STREQ(d["aliases"][0].GetString(), "acme_ai");
  EXPECT_STREQ(d["base_url"].GetString(), "https://api.acme.test/v1");
  EXPECT_STREQ(d["auth"].GetString(), "header:X-Api-Key");
  EXPECT_STREQ(d["api_key_env"].GetString(), "ACME_KEY");
  // Prefixes a model may start with: the name, the aliases, then the extra prefixes.
  ASSERT_TRUE(d["prefixes"].IsArray());
  std::vector<std::string> pre;
  for (auto& v : d["prefixes"].GetArray()) pre.emplace_back(v.GetString());
  EXPECT_EQ(pre, (std::vector<std::string>{"acme", "acme_ai", "ac"}));
  EXPECT_TRUE(d["registered"].IsBool() && d["registered"].GetBool());
  // The key itself is never listed.
  EXPECT_EQ(json::dump(d).find("sk-very-secret"), std::string::npos);
}

TEST(ProviderJson, AuthSpellingsAndNullEnv) {
  json::Document d;
  provider_to_json(*parse_provider_registration(reg(R"(,"auth":"none")")), d, d.GetAllocator());
  EXPECT_STREQ(d["auth"].GetString(), "none");
  EXPECT_TRUE(d["api_key_env"].IsNull());
  EXPECT_TRUE(d["aliases"].IsArray() && d["aliases"].Empty());
  json::Document e;
  provider_to_json(*parse_provider_registration(reg()), e, e.GetAllocator());
  EXPECT_STREQ(e["auth"].GetString(), "bearer");
}

TEST(ProviderJson, BuiltinRows) {
  for (const ProviderPtr& p : builtin_providers()) {
    json::Document d;
    provider_to_json(*p, d, d.GetAllocator());
    SCOPED_TRACE(p->name);
    EXPECT_EQ(std::string(d["name"].GetString()), p->name);
    EXPECT_EQ(std::string(d["base_url"].GetString()), p->base_url);
    std::string auth = p->auth == AuthKind::Bearer   ? "bearer"
                       : p->auth == AuthKind::None   ? "none"
                       : p->auth == AuthKind::Signed ? "signed"
                                                     : "header:" + p->auth_header;
    EXPECT_EQ(std::string(d["auth"].GetString()), auth);
    if (p->api_key_env.empty()) {
      EXPECT_TRUE(d["api_key_env"].IsNull());
    } else {
      ASSERT_TRUE(d["api_key_env"].IsString());
      EXPECT_EQ(std::string(d["api_key_env"].GetString()), p->api_key_env.front());
    }
    EXPECT_EQ(std::string(d["protocol"].GetString()), protocol_name(p->protocol));
    ASSERT_EQ(d["settings"].Size(), p->settings.size());
    EXPECT_FALSE(d["registered"].GetBool());
    ASSERT_EQ(d["prefixes"].Size(), 1 + p->aliases.size() + p->prefixes.size());
    EXPECT_EQ(std::string(d["prefixes"][0].GetString()), p->name);
  }
  // Serializable with any allocator into a bigger document.
  json::Document arr(rapidjson::kArrayType);
  for (const ProviderPtr& p : builtin_providers()) {
    json::Value v;
    provider_to_json(*p, v, arr.GetAllocator());
    arr.PushBack(v, arr.GetAllocator());
  }
  json::Document back = json::parse(json::dump(arr), "providers", LLM_ERR_INTERNAL);
  EXPECT_EQ(back.Size(), builtin_providers().size());
}

}  // namespace
}  // namespace literllm
