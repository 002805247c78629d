// Issue 10's provider rows through the C API: settings (config, environment,
// defaults) in URLs, what is missing named at preview as at chat, Azure
// OpenAI's deployment URLs, provider_options, and the provider listing.
#include <cstdlib>
#include <map>

#include "e2e.hpp"

using namespace e2e;

namespace {


llm_client_t* client_for(const std::string& cfg) {
  llm_client_t* c = nullptr;
  EXPECT_EQ(llm_client_new(cfg.c_str(), &c), LLM_OK) << llm_last_error();
  return c;
}

// The root of the upstream (its base_url() ends in /v1).
std::string root(literllm::testing::Upstream& up) { return "http://127.0.0.1:" + std::to_string(up.port()); }

struct Failure {
  llm_status status;
  std::string message;
};

Failure preview_failure(llm_client_t* c, const std::string& req) {
  char* out = nullptr;
  llm_status st = llm_preview_request(c, req.c_str(), 0, &out);
  Failure f{st, st == LLM_OK ? std::string() : llm_last_error()};
  llm_string_free(out);
  return f;
}

Failure chat_failure(llm_client_t* c, const std::string& req) {
  llm_response_t* r = nullptr;
  llm_status st = llm_chat(c, req.c_str(), &r);
  Failure f{st, st == LLM_OK ? std::string() : llm_last_error()};
  llm_response_free(r);
  return f;
}

}  // namespace

TEST_F(E2E, AzureOpenAIUsesTheDeploymentUrlApiVersionAndApiKey) {
  llm_client_t* c = client_for(R"({"max_retries":0,"providers":{"azure":{"base_url":)" + q(root(up)) +
                               R"(,"api_key":"azure-key-0123456789","api_version":"2025-01-01-preview"}}})");
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, chat_req("azure_openai/my-gpt4o deployment", "hello azure").c_str(), &r), LLM_OK)
      << llm_last_error();
  EXPECT_NE(std::string(llm_response_text(r)).find("hello azure"), std::string::npos);
  llm_response_free(r);
  // The stream goes the same way.
  llm_stream_t* s = nullptr;
  ASSERT_EQ(llm_chat_stream(c, chat_req("azure/my-gpt4o deployment", "streamed").c_str(), &s), LLM_OK);
  StreamResult sr = drain(s);
  llm_stream_free(s);
  EXPECT_EQ(sr.status, LLM_OK) << sr.error;
  EXPECT_NE(sr.content.find("streamed"), std::string::npos);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (auto& rq : reqs) {
    EXPECT_EQ(rq.target, "/openai/deployments/my-gpt4o%20deployment/chat/completions?api-version=2025-01-01-preview");
    EXPECT_EQ(rq.header("api-key"), "azure-key-0123456789");
    EXPECT_EQ(rq.header("authorization"), "");
  }
  llm_client_free(c);
}

TEST_F(E2E, AzureOpenAIDefaultsItsApiVersionAndNeedsAnEndpoint) {
  llm_client_t* c = client_for(R"({"providers":{"azure_openai":{"base_url":)" + q(root(up)) +
                               R"(,"api_key":"azure-key-0123456789"}}})");
  char* out = nullptr;
  ASSERT_EQ(llm_preview_request(c, chat_req("azure/dep", "x").c_str(), 0, &out), LLM_OK) << llm_last_error();
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  EXPECT_NE(std::string(d["url"].GetString()).find("api-version=2024-10-21"), std::string::npos) << d["url"].GetString();
  EXPECT_STREQ(d["headers"]["api-key"].GetString(), "[REDACTED]");
  llm_client_free(c);

  // No endpoint anywhere: the preview and the call name the missing field.
  unsetenv("AZURE_OPENAI_ENDPOINT");
  llm_client_t* bare = client_for(R"({"providers":{"azure":{"api_key":"azure-key-0123456789"}}})");
  for (Failure f : {preview_failure(bare, chat_req("azure/dep", "x")), chat_failure(bare, chat_req("azure/dep", "x"))}) {
    EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(f.message.find("providers.azure_openai.base_url"), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("AZURE_OPENAI_ENDPOINT"), std::string::npos) << f.message;
  }
  llm_client_free(bare);
  EXPECT_TRUE(up.requests().empty());
}

TEST_F(E2E, MissingProviderSettingsAreNamedAtPreviewAndChat) {
  unsetenv("CLOUDFLARE_ACCOUNT_ID");
  unsetenv("CLOUDFLARE_GATEWAY_ID");
  llm_client_t* c = client_for(R"({"providers":{"cloudflare_ai_gateway":{"api_key":"k-0123456789","account_id":"acc1"},
                                  "cloudflare":{"api_key":"k-0123456789"}}})");
  struct Case {
    const char* model;
    const char* field;
    const char* env;
  } cases[] = {
      {"ai_gateway/openai/gpt-4o-mini", "providers.cloudflare_ai_gateway.gateway_id", "CLOUDFLARE_GATEWAY_ID"},
      {"workers_ai/@cf/meta/llama-3.1-8b-instruct", "providers.cloudflare.account_id", "CLOUDFLARE_ACCOUNT_ID"},
  };
  for (auto& cs : cases) {
    for (Failure f : {preview_failure(c, chat_req(cs.model, "x")), chat_failure(c, chat_req(cs.model, "x"))}) {
      EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT) << cs.model;
      EXPECT_NE(f.message.find(cs.field), std::string::npos) << f.message;
      EXPECT_NE(f.message.find(cs.env), std::string::npos) << f.message;
    }
  }
  llm_client_free(c);
  // From the environment, read when the client is made.
  setenv("CLOUDFLARE_GATEWAY_ID", "gw-7", 1);
  llm_client_t* e = client_for(R"({"providers":{"ai_gateway":{"api_key":"k-0123456789","account_id":"acc1"}}})");
  char* out = nullptr;
  ASSERT_EQ(llm_preview_request(e, chat_req("ai_gateway/openai/gpt-4o-mini", "x").c_str(), 0, &out), LLM_OK)
      << llm_last_error();
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  EXPECT_STREQ(d["url"].GetString(), "https://gateway.ai.cloudflare.com/v1/acc1/gw-7/compat/chat/completions");
  EXPECT_NE(std::string(d["body"].GetString()).find("\"openai/gpt-4o-mini\""), std::string::npos)
      << "the gateway takes <provider>/<model> ids";
  llm_client_free(e);
  unsetenv("CLOUDFLARE_GATEWAY_ID");
}

TEST_F(E2E, UnknownProviderSettingsAreRefusedByName) {
  llm_client_t* c = nullptr;
  EXPECT_EQ(llm_client_new(R"({"providers":{"openai":{"region":"us-east-1"}}})", &c), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("config.providers.openai.region: unknown field"), std::string::npos)
      << llm_last_error();
  EXPECT_EQ(llm_client_new(R"({"providers":{"bedrock":{"regoin":"us-east-1"}}})", &c), LLM_ERR_INVALID_ARGUMENT);
  std::string msg = llm_last_error();
  EXPECT_NE(msg.find("config.providers.bedrock.regoin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("region"), std::string::npos) << "the fields it knows are listed: " << msg;
  EXPECT_EQ(llm_client_new(R"({"providers":{"vertex_ai":{"project":7}}})", &c), LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(llm_last_error()).find("config.providers.vertex_ai.project: expected a string"),
            std::string::npos)
      << llm_last_error();
}

TEST_F(E2E, ProviderOptionsReachOnlyTheirProvider) {
  std::string req = chat_req("openai/gpt-4o-mini", "hi",
                             R"(,"provider_options":{"openai":{"prediction":{"type":"content","content":"x"}},"anthropic":{"top_k":3}})");
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(client, req.c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document body = parse(reqs[0].body.c_str());
  EXPECT_TRUE(body.HasMember("prediction"));
  EXPECT_FALSE(body.HasMember("top_k"));
  EXPECT_FALSE(body.HasMember("provider_options"));
  // Not an object: refused before anything is sent.
  Failure f = chat_failure(client, chat_req("openai/gpt-4o-mini", "hi", R"(,"provider_options":[1])"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("request.provider_options"), std::string::npos) << f.message;
  EXPECT_EQ(up.requests().size(), 1u);
}

TEST(Providers, TheListingGivesEachProtocolAndItsSettings) {
  char* out = nullptr;
  ASSERT_EQ(llm_providers_json(nullptr, &out), LLM_OK);
  rapidjson::Document d = parse(out);
  llm_string_free(out);
  std::map<std::string, std::string> protocol;
  for (auto& p : d.GetArray()) protocol[p["name"].GetString()] = p["protocol"].GetString();
  EXPECT_EQ(protocol["anthropic"], "anthropic");
  EXPECT_EQ(protocol["gemini"], "gemini");
  EXPECT_EQ(protocol["vertex_ai"], "vertex_ai");
  EXPECT_EQ(protocol["bedrock"], "bedrock");
  EXPECT_EQ(protocol["cohere"], "cohere");
  EXPECT_EQ(protocol["azure_openai"], "openai");
  EXPECT_EQ(protocol["groq"], "openai");
  for (auto& p : d.GetArray())
    if (std::string(p["name"].GetString()) == "bedrock") {
      std::vector<std::string> s;
      for (auto& v : p["settings"].GetArray()) s.emplace_back(v.GetString());
      EXPECT_EQ(s, (std::vector<std::string>{"region", "aws_access_key_id", "aws_secret_access_key", "aws_session_token"}));
    }
}

TEST(Bedrock, PreviewIsSignedWithTheSecretsRedacted) {
  llm_client_t* c = client_for(
      R"({"providers":{"bedrock":{"region":"eu-west-3","aws_access_key_id":"AKIDEXAMPLE","aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","aws_session_token":"session-token-0123456789"}}})");
  char* out = nullptr;
  ASSERT_EQ(llm_preview_request(c, chat_req("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "hi").c_str(), 1, &out),
            LLM_OK)
      << llm_last_error();
  std::string text = out;
  llm_string_free(out);
  rapidjson::Document d = parse(text.c_str());
  EXPECT_STREQ(d["url"].GetString(),
               "https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
  EXPECT_STREQ(d["headers"]["Authorization"].GetString(), "[REDACTED]");
  EXPECT_STREQ(d["headers"]["X-Amz-Security-Token"].GetString(), "[REDACTED]");
  EXPECT_EQ(std::string(d["headers"]["X-Amz-Date"].GetString()).size(), 16u);
  EXPECT_EQ(text.find("wJalrXUtnFEMI"), std::string::npos);
  EXPECT_EQ(text.find("session-token-0123456789"), std::string::npos);
  rapidjson::Document body = parse(d["body"].GetString());
  EXPECT_STREQ(body["messages"][0]["content"][0]["text"].GetString(), "hi");
  llm_client_free(c);
  // What is missing is named: the region (in the URL), the keys.
  unsetenv("AWS_REGION");
  unsetenv("AWS_DEFAULT_REGION");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_BEARER_TOKEN_BEDROCK");
  llm_client_t* no_region = client_for(R"({"providers":{"bedrock":{"aws_access_key_id":"AKID","aws_secret_access_key":"secret-0123456789"}}})");
  Failure f = preview_failure(no_region, chat_req("bedrock/amazon.nova-pro-v1:0", "x"));
  EXPECT_EQ(f.status, LLM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(f.message.find("providers.bedrock.region"), std::string::npos) << f.message;
  llm_client_free(no_region);
  llm_client_t* no_keys = client_for(R"({"providers":{"bedrock":{"region":"us-east-1"}}})");
  f = chat_failure(no_keys, chat_req("bedrock/amazon.nova-pro-v1:0", "x"));
  EXPECT_EQ(f.status, LLM_ERR_AUTHENTICATION);
  EXPECT_NE(f.message.find("aws_access_key_id"), std::string::npos) << f.message;
  llm_client_free(no_keys);
  // An API key instead: a bearer token, no signature.
  llm_client_t* keyed = client_for(R"({"providers":{"bedrock":{"region":"us-east-1","api_key":"bedrock-api-key-0123456789"}}})");
  ASSERT_EQ(llm_preview_request(keyed, chat_req("bedrock/amazon.nova-pro-v1:0", "x").c_str(), 0, &out), LLM_OK);
  rapidjson::Document k = parse(out);
  llm_string_free(out);
  EXPECT_STREQ(k["headers"]["Authorization"].GetString(), "[REDACTED]");
  EXPECT_FALSE(k["headers"].HasMember("X-Amz-Date"));
  llm_client_free(keyed);
}

TEST_F(E2E, AzureOpenAIWithAnEntraIdTokenInsteadOfAKey) {
  unsetenv("AZURE_OPENAI_API_KEY");
  unsetenv("AZURE_API_KEY");
  llm_client_t* c = client_for(R"({"max_retries":0,"providers":{"azure_openai":{"base_url":)" + q(root(up)) +
                               R"(,"azure_ad_token":"eyJ0eXAiOiJKV1QiLCJhbGciOi.entra-token"}}})");
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, chat_req("azure/dep-1", "hi").c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  auto reqs = up.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.entra-token");
  EXPECT_EQ(reqs[0].header("api-key"), "");
  char* out = nullptr;
  ASSERT_EQ(llm_preview_request(c, chat_req("azure/dep-1", "hi").c_str(), 0, &out), LLM_OK);
  EXPECT_EQ(std::string(out).find("entra-token"), std::string::npos) << out;
  llm_string_free(out);
  llm_client_free(c);
  // Neither a key nor a token: the key is asked for.
  llm_client_t* none = client_for(R"({"providers":{"azure_openai":{"base_url":)" + q(root(up)) + "}}}");
  Failure f = chat_failure(none, chat_req("azure/dep-1", "hi"));
  EXPECT_EQ(f.status, LLM_ERR_AUTHENTICATION);
  EXPECT_NE(f.message.find("AZURE_OPENAI_API_KEY"), std::string::npos) << f.message;
  llm_client_free(none);
}

TEST_F(E2E, ReasoningContentGoesBackToDeepSeekButNotToHostsThatRefuseIt) {
  // One conversation through a thinking tool loop: DeepSeek's thinking mode answers with reasoning_content
  // and refuses the next turn without it; groq, mistral and cerebras refuse the field itself.
  llm_client_t* c = client_for(R"({"max_retries":0,"providers":{)"
                               R"("deepseek":{"base_url":)" + q(up.base_url()) + R"(,"api_key":"sk-ds-0123456789"},)"
                               R"("groq":{"base_url":)" + q(up.base_url()) + R"(,"api_key":"gsk-0123456789"},)"
                               R"("mistral":{"base_url":)" + q(up.base_url()) + R"(,"api_key":"ms-0123456789"},)"
                               R"("cerebras":{"base_url":)" + q(up.base_url()) + R"(,"api_key":"csk-0123456789"}}})");
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";
  llm_response_t* r = nullptr;
  ASSERT_EQ(llm_chat(c, (R"({"model":"deepseek/deepseek-v4-flash","messages":[{"role":"user","content":"weather?"}],)" +
                         tools + "}").c_str(), &r),
            LLM_OK)
      << llm_last_error();
  rapidjson::Document answer = parse(llm_response_json(r));
  llm_response_free(r);
  const rapidjson::Value& msg = answer["choices"][0]["message"];
  ASSERT_TRUE(msg.HasMember("reasoning_content"));
  EXPECT_STREQ(msg["reasoning_content"].GetString(), "The user asks for a tool's answer: call it.");
  EXPECT_EQ(answer["usage"]["completion_tokens_details"]["reasoning_tokens"].GetInt(), 9);
  const std::string call_id = msg["tool_calls"][0]["id"].GetString();
  auto history = [&](bool with_reasoning) {
    rapidjson::Document m;
    m.CopyFrom(msg, m.GetAllocator());
    if (!with_reasoning) m.RemoveMember("reasoning_content");
    return R"([{"role":"user","content":"weather?"},)" + dump(m) + R"(,{"role":"tool","tool_call_id":)" + q(call_id) +
           R"(,"content":"sunny"}])";
  };
  // The message as it came: DeepSeek answers the second turn.
  ASSERT_EQ(llm_chat(c, (R"({"model":"deepseek/deepseek-v4-flash","messages":)" + history(true) + "," + tools + "}").c_str(), &r),
            LLM_OK)
      << llm_last_error();
  EXPECT_STREQ(llm_response_text(r), "Hello from the local upstream. You said: weather?");
  llm_response_free(r);
  // Without its reasoning: DeepSeek's 400, typed.
  llm_error_t* e = nullptr;
  EXPECT_EQ(llm_chat_e(c, (R"({"model":"deepseek/deepseek-v4-flash","messages":)" + history(false) + "," + tools + "}").c_str(),
                       &r, &e),
            LLM_ERR_BAD_REQUEST);
  EXPECT_NE(std::string(llm_error_message(e)).find("must be passed back"), std::string::npos) << llm_error_message(e);
  EXPECT_STREQ(llm_error_type(e), "invalid_request_error");
  llm_error_free(e);
  // The turn that answered after the tool belongs to the same exchange: its reasoning must come back too
  // (an empty one counts), with the next user message.
  auto next_turn = [&](const std::string& final_extra) {
    std::string h = history(true);
    h.pop_back();
    return R"({"model":"deepseek/deepseek-v4-flash","messages":)" + h +
           R"(,{"role":"assistant","content":"sunny")" + final_extra + R"(},{"role":"user","content":"thanks"}],)" +
           tools + "}";
  };
  EXPECT_EQ(llm_chat(c, next_turn("").c_str(), &r), LLM_ERR_BAD_REQUEST);
  ASSERT_EQ(llm_chat(c, next_turn(R"(,"reasoning_content":"")").c_str(), &r), LLM_OK) << llm_last_error();
  llm_response_free(r);
  // The same history to each host, as it would come from a fallback: what each receives.
  for (const char* host : {"deepseek", "groq", "mistral", "cerebras"}) {
    SCOPED_TRACE(host);
    up.clear_requests();
    ASSERT_EQ(llm_chat(c, (R"({"model":")" + std::string(host) + R"(/some-model","messages":)" + history(true) + "}").c_str(), &r),
              LLM_OK)
        << llm_last_error();
    llm_response_free(r);
    auto reqs = up.requests();
    ASSERT_EQ(reqs.size(), 1u);
    rapidjson::Document sent = parse(reqs[0].body.c_str());
    const rapidjson::Value& back = sent["messages"][1];
    EXPECT_EQ(back.HasMember("reasoning_content"), std::string(host) == "deepseek") << reqs[0].body;
    EXPECT_EQ(back["tool_calls"].Size(), 1u);
  }
  llm_client_free(c);
}
