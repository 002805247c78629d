// Embedding vectors held apart from the answer's document (take_vectors,
// Response::embeddings and Response::json, src/core/response.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "auth/crypto.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/response.hpp"

using namespace literllm;

namespace {

std::string b64(const std::vector<float>& v) {
  return auth::base64_encode(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

json::Document parse(const std::string& s) { return json::parse(s, "test", LLM_ERR_INVALID_ARGUMENT); }

llm_status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return LLM_OK;
}

}  // namespace

TEST(Vectors, RowsFollowIndexAndJsonWritesThemBack) {
  const std::vector<float> a = {0.1f, -2.5f, 1e-7f}, b = {3.0f, 0.0f, -0.0f};
  // Items out of index order.
  json::Document d = parse(R"({"object":"list","data":[{"object":"embedding","index":1,"embedding":")" + b64(b) +
                           R"("},{"object":"embedding","index":0,"embedding":")" + b64(a) + R"("}],"model":"m"})");
  auto v = take_vectors(d, "openai");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->rows, 2u);
  EXPECT_EQ(v->dims, 3u);
  std::vector<float> want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(v->values, want);
  EXPECT_EQ(v->row_of_item, (std::vector<size_t>{1, 0}));
  auto r = Response::from(std::move(d), "openai", CallStats{}, std::move(v));
  size_t n = 0, dims = 0;
  const float* f = r->embeddings(&n, &dims);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(std::vector<float>(f, f + n * dims), want);
  // The JSON: the document's order, each item with its own row, every float
  // written so that it reads back bit for bit.
  json::Document back = parse(r->json());
  ASSERT_EQ(back["data"].Size(), 2u);
  EXPECT_EQ(back["data"][0]["index"].GetInt(), 1);
  for (int item = 0; item < 2; ++item) {
    const auto& row = item == 0 ? b : a;
    const json::Value& e = back["data"][item]["embedding"];
    ASSERT_TRUE(e.IsArray());
    ASSERT_EQ(e.Size(), 3u);
    for (rapidjson::SizeType k = 0; k < 3; ++k) {
      const float got = static_cast<float>(e[k].GetDouble());
      EXPECT_EQ(std::memcmp(&got, &row[k], sizeof got), 0) << item << "," << k;
    }
  }
  EXPECT_EQ(back["model"], "m");
  EXPECT_EQ(back["provider"], "openai");
  EXPECT_TRUE(back.HasMember("stats"));
}

TEST(Vectors, RoundTripsEveryFloatExactly) {
  // Values spread over float's range, subnormals and extremes included.
  std::vector<float> v;
  for (int i = 0; i < 4000; ++i) v.push_back(std::ldexp(static_cast<float>(i * 7919 % 10007) / 10007.0f - 0.5f, i % 260 - 140));
  v.push_back(std::numeric_limits<float>::max());
  v.push_back(-std::numeric_limits<float>::denorm_min());
  json::Document d = parse(R"({"data":[{"embedding":")" + b64(v) + R"("}]})");
  auto taken = take_vectors(d, "p");
  ASSERT_TRUE(taken);
  auto r = Response::from(std::move(d), "p", CallStats{}, std::move(taken));
  json::Document back = parse(r->json());
  const json::Value& e = back["data"][0]["embedding"];
  ASSERT_EQ(e.Size(), v.size());
  for (rapidjson::SizeType k = 0; k < e.Size(); ++k) {
    const float got = static_cast<float>(e[k].GetDouble());
    ASSERT_EQ(std::memcmp(&got, &v[k], sizeof got), 0) << k << ": " << v[k];
  }
}

TEST(Vectors, AnswersThatFitNoBufferStayInTheDocument) {
  const std::string one = b64({1.0f}), two = b64({1.0f, 2.0f});
  const char* cases[] = {
      // rows of two lengths: base64 still decoded, in place
      R"({"data":[{"embedding":"ONE"},{"embedding":"TWO"}]})",
      // an index named twice, one out of range, one not a number
      R"({"data":[{"index":0,"embedding":"ONE"},{"index":0,"embedding":"ONE"}]})",
      R"({"data":[{"index":5,"embedding":"ONE"}]})",
      R"({"data":[{"index":"0","embedding":"ONE"}]})",
      // numbers (kept exactly as written), also beside base64; empty; no embedding
      R"({"data":[{"embedding":[0.1,1e300]}]})",
      R"({"data":[{"embedding":"ONE"},{"embedding":[2]}]})",
      R"({"data":[{"embedding":""}]})",
      R"({"data":[{"object":"embedding"}]})",
      R"({"data":[5]})",
  };
  for (std::string text : cases) {
    for (auto [from, to] : {std::pair<std::string, std::string>{"ONE", one}, {"TWO", two}})
      for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    SCOPED_TRACE(text);
    json::Document d = parse(text);
    EXPECT_FALSE(take_vectors(d, "p"));
    EXPECT_FALSE(d["data"].Empty());
    if (d["data"][0].IsObject() && d["data"][0].HasMember("embedding") && d["data"][0]["embedding"] != "") {
      EXPECT_TRUE(d["data"][0]["embedding"].IsArray()) << "base64 is decoded even here";
    }
  }
  json::Document exact = parse(R"({"data":[{"embedding":[0.1,1e300]}]})");
  take_vectors(exact, "p");
  EXPECT_EQ(json::dump(exact), R"({"data":[{"embedding":[0.1,1e300]}]})");
  json::Document mixed = parse(R"({"data":[{"embedding":")" + one + R"("},{"embedding":")" + two + R"("}]})");
  take_vectors(mixed, "p");
  EXPECT_EQ(json::dump(mixed["data"]), R"([{"embedding":[1.0]},{"embedding":[1.0,2.0]}])");
  // Nothing to take: no data, an empty list, not an object.
  for (const char* text : {R"({"object":"list"})", R"({"data":[]})", R"([1])"}) {
    json::Document d = parse(text);
    EXPECT_FALSE(take_vectors(d, "p")) << text;
  }
}

TEST(Vectors, BrokenBase64IsATypedErrorNamingTheItem) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  const std::string cases[] = {
      R"({"data":[{"embedding":[1]},{"embedding":"AAA="}]})",     // 2 bytes
      R"({"data":[{"embedding":"@@@@"}]})",                        // not base64
      R"({"data":[{"embedding":"AAAAA"}]})",                       // length
      R"({"data":[{"embedding":")" + b64({1.0f, nan}) + R"("}]})",  // a NaN
      R"({"data":[{"embedding":")" + b64({std::numeric_limits<float>::infinity()}) + R"("}]})",
  };
  for (const std::string& text : cases) {
    SCOPED_TRACE(text);
    json::Document d = parse(text);
    try {
      take_vectors(d, "openai");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), LLM_ERR_SERIALIZATION);
      EXPECT_NE(std::string(e.what()).find("openai embeddings answer: data["), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(status_of([] {
              json::Document d = parse(R"({"data":[{"embedding":"AAAAAAAAAAA="},{"embedding":[1,2]}]})");
              take_vectors(d, "p");
            }),
            LLM_OK)
      << "rows of two lengths: decoded in place";
}
