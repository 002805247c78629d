// From an HTTP error answer to a typed Error (src/core/errors.hpp): the message
// in every usual body shape, the kind for every status and its refinements by
// message, Retry-After in all its forms, redaction of the key, and the
// provider's code and type on the Error.
#include "core/errors.hpp"

#include <gtest/gtest.h>

#include <clocale>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "http/request.hpp"

namespace literllm {
namespace {

// True when `s` is well-formed UTF-8 (no cut sequence, no stray continuation byte).
bool well_formed(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

std::string msg(const std::string& body) { return error_body_message(body); }
std::string code_of(const std::string& body) {
  std::string code;
  error_body_message(body, &code);
  return code;
}

// ------------------------------------------------------------ body shapes

TEST(ErrorBody, OpenAIShape) {
  const std::string body =
      R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})";
  EXPECT_EQ(msg(body), "Incorrect API key provided.");
  EXPECT_EQ(code_of(body), "invalid_api_key");
  // Without a code (or with a null one) the type stands in.
  EXPECT_EQ(code_of(R"({"error":{"message":"m","type":"server_error"}})"), "server_error");
  EXPECT_EQ(code_of(R"({"error":{"message":"m","type":"tokens","code":null}})"), "tokens");
  // A numeric code is given as text.
  EXPECT_EQ(code_of(R"({"error":{"message":"m","code":429}})"), "429");
  EXPECT_EQ(code_of(R"({"error":{"message":"m"}})"), "");
  // The code pointer is optional.
  EXPECT_EQ(error_body_message(body, nullptr), "Incorrect API key provided.");
}

TEST(ErrorBody, ErrorAsString) {
  EXPECT_EQ(msg(R"({"error":"model not found"})"), "model not found");
  EXPECT_EQ(code_of(R"({"error":"x","code":"E42"})"), "E42");
  EXPECT_EQ(msg(R"({"error":"  padded  "})"), "padded");
}

TEST(ErrorBody, TopLevelMessageDetailAndFriends) {
  EXPECT_EQ(msg(R"({"message":"Unauthorized"})"), "Unauthorized");
  EXPECT_EQ(msg(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(msg(R"({"error_message":"quota"})"), "quota");
  EXPECT_EQ(msg(R"({"msg":"busy"})"), "busy");
  EXPECT_EQ(code_of(R"({"message":"m","type":"overloaded_error"})"), "overloaded_error");
  // "message" wins over "detail".
  EXPECT_EQ(msg(R"({"detail":"d","message":"m"})"), "m");
  // A structured detail (FastAPI validation errors) is given as compact JSON.
  EXPECT_EQ(msg(R"({"detail":[{"loc":["body","model"],"msg":"field required"}]})"),
            R"([{"loc":["body","model"],"msg":"field required"}])");
  // A null message is skipped for the next candidate.
  EXPECT_EQ(msg(R"({"error":{"message":null,"detail":"from detail"}})"), "from detail");
  // Anthropic: {"type":"error","error":{"type":...,"message":...}}
  const std::string anthropic =
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
  EXPECT_EQ(msg(anthropic), "Overloaded");
  EXPECT_EQ(code_of(anthropic), "overloaded_error");
}

TEST(ErrorBody, GeminiArray) {
  const std::string body = R"([{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",)"
                           R"("status":"INVALID_ARGUMENT"}}])";
  EXPECT_EQ(msg(body), "API key not valid. Please pass a valid API key.");
  EXPECT_EQ(code_of(body), "400");
  // An empty array or an array of scalars is not a known shape: the body itself.
  EXPECT_EQ(msg("[]"), "[]");
  EXPECT_EQ(msg(R"(["x"])"), R"(["x"])");
}

TEST(ErrorBody, UnknownJsonShapeGivesTheBody) {
  EXPECT_EQ(msg(R"({"status":"fail"})"), R"({"status":"fail"})");
  EXPECT_EQ(msg(R"("just a string")"), R"("just a string")");
  EXPECT_EQ(msg("42"), "42");
  EXPECT_EQ(msg("null"), "null");
}

TEST(ErrorBody, NonJsonAndEmpty) {
  EXPECT_EQ(msg(""), "");
  EXPECT_EQ(msg(" \r\n\t "), "");
  EXPECT_EQ(msg("\n  502 Bad Gateway \n"), "502 Bad Gateway");
  EXPECT_EQ(msg("<html><body><h1>504 Gateway Time-out</h1></body></html>"),
            "<html><body><h1>504 Gateway Time-out</h1></body></html>");
  EXPECT_EQ(msg("{\"error\": truncated"), "{\"error\": truncated");
  std::string code;
  error_body_message("plain text", &code);
  EXPECT_EQ(code, "");
}

TEST(ErrorBody, LongBodiesAreClippedWithoutSplittingUtf8) {
  // ASCII: 500 bytes then an ellipsis.
  std::string ascii(10 * 1024, 'a');
  std::string m = msg(ascii);
  EXPECT_EQ(m, std::string(500, 'a') + "...");

  // Two-, three- and four-byte characters, with every alignment of the cut.
  for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    for (size_t lead = 0; lead < 4; ++lead) {
      std::string body(lead, 'x');
      while (body.size() < 10 * 1024) body += ch;
      std::string out = msg(body);
      SCOPED_TRACE("char bytes " + std::to_string(ch.size()) + ", lead " + std::to_string(lead));
      EXPECT_TRUE(well_formed(out));
      ASSERT_GE(out.size(), 3u);
      EXPECT_EQ(out.substr(out.size() - 3), "...");
      std::string kept = out.substr(0, out.size() - 3);
      EXPECT_LE(kept.size(), 500u);
      EXPECT_GT(kept.size(), 500u - ch.size());
      EXPECT_EQ(body.compare(0, kept.size(), kept), 0) << "a prefix of the body";
    }
  }

  // A long message inside JSON is clipped the same way.
  std::string long_message;
  while (long_message.size() < 10 * 1024) long_message += "\xE2\x82\xAC";
  std::string out = msg("{\"error\":{\"message\":\"" + long_message + "\"}}");
  EXPECT_TRUE(well_formed(out));
  EXPECT_LE(out.size(), 503u);
  EXPECT_EQ(out.substr(out.size() - 3), "...");

  // Exactly 500 bytes is not clipped.
  EXPECT_EQ(msg(std::string(500, 'b')), std::string(500, 'b'));
  EXPECT_EQ(msg(std::string(501, 'b')), std::string(500, 'b') + "...");
}

// ------------------------------------------------------------ status kinds

TEST(StatusForHttp, EveryStatus) {
  struct Case {
    long status;
    llm_status kind;
  } cases[] = {
      {400, LLM_ERR_BAD_REQUEST},     {401, LLM_ERR_AUTHENTICATION},        {402, LLM_ERR_BAD_REQUEST},
      {403, LLM_ERR_AUTHENTICATION},  {404, LLM_ERR_NOT_FOUND},             {405, LLM_ERR_ENDPOINT_NOT_SUPPORTED},
      {406, LLM_ERR_BAD_REQUEST},     {408, LLM_ERR_TIMEOUT},               {409, LLM_ERR_BAD_REQUEST},
      {410, LLM_ERR_BAD_REQUEST},     {413, LLM_ERR_BAD_REQUEST},           {415, LLM_ERR_BAD_REQUEST},
      {422, LLM_ERR_BAD_REQUEST},     {429, LLM_ERR_RATE_LIMITED},          {451, LLM_ERR_BAD_REQUEST},
      {499, LLM_ERR_BAD_REQUEST},     {500, LLM_ERR_SERVER_ERROR},          {501, LLM_ERR_ENDPOINT_NOT_SUPPORTED},
      {502, LLM_ERR_SERVER_ERROR},    {503, LLM_ERR_SERVICE_UNAVAILABLE},   {504, LLM_ERR_SERVER_ERROR},
      {520, LLM_ERR_SERVER_ERROR},    {529, LLM_ERR_SERVICE_UNAVAILABLE},   {599, LLM_ERR_SERVER_ERROR},
      // Not an error status a client can use: a server fault, never success.
      {0, LLM_ERR_SERVER_ERROR},      {100, LLM_ERR_SERVER_ERROR},          {200, LLM_ERR_SERVER_ERROR},
      {302, LLM_ERR_SERVER_ERROR},    {304, LLM_ERR_SERVER_ERROR},
  };
  for (auto& c : cases) {
    EXPECT_EQ(status_for_http(c.status, "", ""), c.kind) << "HTTP " << c.status;
    EXPECT_EQ(status_for_http(c.status, "something went wrong", "some_code"), c.kind) << "HTTP " << c.status;
  }
}

TEST(StatusForHttp, ContextWindowRefinement) {
  const char* messages[] = {
      "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
      "prompt is too long: 210000 tokens > 200000 maximum",
      "Please reduce the length of the messages or completion.",
      "Input is too long for requested model.",
      "The input exceeds the CONTEXT WINDOW of this model",
      "Too many tokens in the request",
      "context length exceeded",
  };
  for (const char* m : messages)
    for (long s : {400L, 413L, 422L, 0L})
      EXPECT_EQ(status_for_http(s, m, ""), LLM_ERR_CONTEXT_WINDOW_EXCEEDED) << s << ": " << m;
  // By code alone.
  EXPECT_EQ(status_for_http(400, "bad", "context_length_exceeded"), LLM_ERR_CONTEXT_WINDOW_EXCEEDED);
  EXPECT_EQ(status_for_http(400, "bad", "string_above_max_length"), LLM_ERR_CONTEXT_WINDOW_EXCEEDED);
  // Other statuses keep their own kind even when the words appear.
  EXPECT_EQ(status_for_http(429, "too many tokens per minute", ""), LLM_ERR_RATE_LIMITED);
  EXPECT_EQ(status_for_http(500, "context length", ""), LLM_ERR_SERVER_ERROR);
  EXPECT_EQ(status_for_http(401, "context window", ""), LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(status_for_http(404, "", "context_length_exceeded"), LLM_ERR_NOT_FOUND);
}

TEST(StatusForHttp, ContentPolicyRefinement) {
  const char* messages[] = {
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
      "Your request was rejected as a result of our safety system.",
      "content_policy_violation",
      "Blocked by Responsible AI policy",
      "CONTENT_FILTER triggered",
  };
  for (const char* m : messages)
    for (long s : {400L, 403L, 422L, 0L})
      EXPECT_EQ(status_for_http(s, m, ""), LLM_ERR_CONTENT_POLICY) << s << ": " << m;
  EXPECT_EQ(status_for_http(400, "filtered", "content_filter"), LLM_ERR_CONTENT_POLICY);
  EXPECT_EQ(status_for_http(400, "x", "content_policy_violation"), LLM_ERR_CONTENT_POLICY);
  EXPECT_EQ(status_for_http(401, "safety system", ""), LLM_ERR_AUTHENTICATION);
  EXPECT_EQ(status_for_http(500, "content_filter", ""), LLM_ERR_SERVER_ERROR);
  EXPECT_EQ(status_for_http(429, "", "content_filter"), LLM_ERR_RATE_LIMITED);
  // The context window wins when a message says both.
  EXPECT_EQ(status_for_http(400, "context length exceeded; content_filter", ""), LLM_ERR_CONTEXT_WINDOW_EXCEEDED);
}

// ------------------------------------------------------------ Retry-After

std::string http_date(std::time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

TEST(RetryAfter, Seconds) {
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", "120"}}), 120);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after", "0"}}), 0);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"RETRY-AFTER", "7"}}), 7);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", "3600"}}), 3600);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Content-Type", "text/plain"}, {"Retry-After", "3"}}), 3);
}

TEST(RetryAfter, HttpDate) {
  std::time_t now = std::time(nullptr);
  double d = parse_retry_after({{"Retry-After", http_date(now + 3600)}});
  EXPECT_GT(d, 3590);
  EXPECT_LE(d, 3600);
  // A date in the past means "now".
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}), 0);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", http_date(now - 60)}}), 0);
}

TEST(RetryAfter, AbsentOrGarbage) {
  EXPECT_DOUBLE_EQ(parse_retry_after({}), -1);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"X-Retry", "5"}}), -1);
  for (const char* v : {"", "soon", "-5", "12abc", "5 seconds", "Wed, 99 Foo 2015", "2015-10-21T07:28:00Z", "nan"})
    EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", v}}), -1) << "\"" << v << "\"";
}

TEST(RetryAfter, NonDigitNumbersAreGarbage) {
  // Was a bug (fixed): src/core/errors.cpp parse_retry_after uses strtod, so values that are
  // neither delta-seconds (1*DIGIT) nor an HTTP-date are read as numbers:
  // "inf" -> inf, "0x10" -> 16, "1e3" -> 1000, "infinity" -> inf.
  for (const char* v : {"inf", "infinity", "0x10", "1e3"})
    EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", v}}), -1) << "\"" << v << "\"";
}

// ------------------------------------------------------------ retry-after-ms and the three date forms

// 1994-11-06 08:00:00 UTC: 2977 s before the RFC 9110 example date.
constexpr std::time_t kNow = 784108800;

double retry_at(const std::string& value, std::time_t now = kNow) {
  return parse_retry_after({{"Retry-After", value}}, now);
}

TEST(RetryAfterMs, MillisecondsWinOverRetryAfter) {
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "1500"}}, kNow), 1.5);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After-Ms", "250"}, {"Retry-After", "7"}}, kNow), 0.25);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"Retry-After", "7"}, {"retry-after-ms", "250"}}, kNow), 0.25);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "0"}, {"Retry-After", "7"}}, kNow), 0);
  // The one-argument form reads it the same way.
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "1500"}}), 1.5);
}

TEST(RetryAfterMs, Fractions) {
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "1500.5"}}, kNow), 1.5005);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "0.5"}}, kNow), 0.0005);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", ".5"}}, kNow), 0.0005);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "20."}}, kNow), 0.02);
  EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", "99999999999999999999999"}}, kNow), 1e9);
}

TEST(RetryAfterMs, MalformedGivesWayToRetryAfter) {
  for (const char* v : {"", "abc", "-5", "+5", "1e3", "1.2.3", ".", "1,5", " 15", "inf", "nan", "0x10"}) {
    EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", v}}, kNow), -1) << "\"" << v << "\"";
    EXPECT_DOUBLE_EQ(parse_retry_after({{"retry-after-ms", v}, {"Retry-After", "7"}}, kNow), 7) << "\"" << v << "\"";
  }
}

TEST(RetryAfterDate, ThreeForms) {
  EXPECT_DOUBLE_EQ(retry_at("Sun, 06 Nov 1994 08:49:37 GMT"), 2977);   // IMF-fixdate
  EXPECT_DOUBLE_EQ(retry_at("Sunday, 06-Nov-94 08:49:37 GMT"), 2977);  // RFC 850
  EXPECT_DOUBLE_EQ(retry_at("Sun Nov  6 08:49:37 1994"), 2977);        // asctime
  EXPECT_DOUBLE_EQ(retry_at("Sun Nov 06 08:49:37 1994"), 2977);        // asctime, 2DIGIT day
  // Names in any case.
  EXPECT_DOUBLE_EQ(retry_at("sun, 06 nov 1994 08:49:37 gmt"), 2977);
  EXPECT_DOUBLE_EQ(retry_at("SUNDAY, 06-NOV-94 08:49:37 GMT"), 2977);
  EXPECT_DOUBLE_EQ(retry_at("SUN NOV  6 08:49:37 1994"), 2977);
  // A leap second; a leap day.
  EXPECT_DOUBLE_EQ(retry_at("Sun, 06 Nov 1994 08:49:60 GMT"), 3000);
  EXPECT_DOUBLE_EQ(retry_at("Tue, 29 Feb 2000 12:00:00 GMT", 951825600 - 10), 10);
  // Past dates mean now.
  EXPECT_DOUBLE_EQ(retry_at("Sun, 06 Nov 1994 07:59:59 GMT"), 0);
  EXPECT_DOUBLE_EQ(retry_at("Sun, 06 Nov 1994 08:00:00 GMT"), 0);
  EXPECT_DOUBLE_EQ(retry_at("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_DOUBLE_EQ(retry_at("Mon, 01 Jan 0001 00:00:00 GMT"), 0);
  // Far future: clamped like delta-seconds.
  EXPECT_DOUBLE_EQ(retry_at("Fri, 31 Dec 9999 23:59:59 GMT"), 1e9);
}

TEST(RetryAfterDate, Rfc850TwoDigitYear) {
  const std::time_t june_2025 = 1748736000;  // 2025-06-01 00:00:00 UTC
  // 94 is 1994, not 2094 (more than 50 years ahead): in the past.
  EXPECT_DOUBLE_EQ(retry_at("Sunday, 06-Nov-94 08:49:37 GMT", june_2025), 0);
  // 25 is 2025: the next day.
  EXPECT_DOUBLE_EQ(retry_at("Monday, 02-Jun-25 00:00:00 GMT", june_2025), 86400);
  // 75 is 2075 (exactly 50 ahead), 76 is 1976.
  EXPECT_DOUBLE_EQ(retry_at("Saturday, 01-Jun-75 00:00:00 GMT", june_2025), 1e9);
  EXPECT_DOUBLE_EQ(retry_at("Tuesday, 01-Jun-76 00:00:00 GMT", june_2025), 0);
  // Late in a century, a small year is the next century's.
  const std::time_t year_2099 = 4070908800;  // 2099-01-01 00:00:00 UTC
  EXPECT_DOUBLE_EQ(retry_at("Thursday, 01-Jan-99 00:00:10 GMT", year_2099), 10);
  EXPECT_DOUBLE_EQ(retry_at("Friday, 01-Jan-00 00:00:00 GMT", year_2099), 365.0 * 86400);
}

// "Sun, 06 Nov 1994 08:49:37 GMT" for `t`, from its fields (no locale).
std::string imf_date(std::time_t t, int form) {
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* long_days[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  if (form == 0)
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  else if (form == 1)
    std::snprintf(buf, sizeof buf, "%s, %02d-%s-%02d %02d:%02d:%02d GMT", long_days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], (tm.tm_year + 1900) % 100, tm.tm_hour, tm.tm_min, tm.tm_sec);
  else
    std::snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %04d", days[tm.tm_wday], months[tm.tm_mon], tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
  return buf;
}

TEST(RetryAfterDate, AgreesWithGmtimeOverTwoCenturies) {
  // 1970..2150, a step that visits every month, day and time of day over time.
  for (std::time_t t = 0; t < 5680281600; t += 777777 + 13) {
    const std::time_t now = t - 1000;
    for (int form = 0; form < 3; ++form) {
      const std::string d = imf_date(t, form);
      ASSERT_DOUBLE_EQ(retry_at(d, now), 1000) << d;
      ASSERT_DOUBLE_EQ(retry_at(d, t + 1), 0) << d;
    }
  }
}

TEST(RetryAfterDate, MalformedGivesMinusOne) {
  for (const char* v : {
           "Sunday, 06 Nov 1994 08:49:37 GMT",   // long weekday in IMF-fixdate
           "Sun, 06-Nov-94 08:49:37 GMT",        // short weekday in RFC 850
           "Sund, 06 Nov 1994 08:49:37 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "06 Nov 1994 08:49:37 GMT",           // no weekday
           "Sun 06 Nov 1994 08:49:37 GMT",       // no comma
           "Sun, 32 Nov 1994 08:49:37 GMT",      // day 32
           "Sun, 31 Nov 1994 08:49:37 GMT",      // November has 30
           "Sun, 00 Nov 1994 08:49:37 GMT",
           "Thu, 29 Feb 2001 08:49:37 GMT",      // not a leap year
           "Thu, 29 Feb 1900 08:49:37 GMT",
           "Sun, 06 Foo 1994 08:49:37 GMT",      // month Foo
           "Sun, 06 November 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 08:49:37",          // missing GMT
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37 GMT+1",
           "Sun, 06 Nov 1994 08:49:37 GMT ",
           "Sun, 06 Nov 94 08:49:37 GMT",        // two-digit year in IMF-fixdate
           "Sun, 6 Nov 1994 08:49:37 GMT",       // one-digit day
           "Sun,  06 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",      // hour 24
           "Sun, 06 Nov 1994 08:60:00 GMT",
           "Sun, 06 Nov 1994 08:49:61 GMT",
           "Sun, 06 Nov 1994 8:49:37 GMT",
           "Sun, 06 Nov 1994 08:49 GMT",
           "Sun, 06 Nov 0000 08:49:37 GMT",      // no year 0
           "Sunday, 06-Nov-1994 08:49:37 GMT",   // four-digit year in RFC 850
           "Sunday, 06-Nov-94 08:49:37",
           "Sunday, 06 Nov 94 08:49:37 GMT",
           "Sun Nov 6 08:49:37 1994",            // asctime day: 2DIGIT or SP DIGIT
           "Sun Nov  6 08:49:37 94",
           "Sun Nov  6 08:49:37 1994 GMT",
           "Sun Nov 31 08:49:37 1994",
           "Sun, 06 Nov 1994 08:49:37 GMT\r\n",
           "Sun, ０6 Nov 1994 08:49:37 GMT",     // a fullwidth digit
       })
    EXPECT_DOUBLE_EQ(retry_at(v), -1) << "\"" << v << "\"";
}

TEST(RetryAfterDate, LocaleDoesNotMatter) {
  const std::string saved = std::setlocale(LC_ALL, nullptr);
  const char* set = nullptr;
  for (const char* name : {"de_DE.UTF-8", "fr_FR.UTF-8", "C.UTF-8", "C.utf8", "en_US.UTF-8"})
    if (std::setlocale(LC_ALL, name)) {
      set = name;
      break;
    }
  if (!set) GTEST_SKIP() << "no locale other than C/POSIX is installed";
  const double imf = retry_at("Sun, 06 Nov 1994 08:49:37 GMT");
  const double rfc850 = retry_at("Sunday, 06-Nov-94 08:49:37 GMT");
  const double asc = retry_at("Sun Nov  6 08:49:37 1994");
  const double ms = parse_retry_after({{"retry-after-ms", "1500.5"}}, kNow);
  const double bad = parse_retry_after({{"retry-after-ms", "1500,5"}}, kNow);
  std::setlocale(LC_ALL, saved.c_str());
  EXPECT_DOUBLE_EQ(imf, 2977) << set;
  EXPECT_DOUBLE_EQ(rfc850, 2977) << set;
  EXPECT_DOUBLE_EQ(asc, 2977) << set;
  EXPECT_DOUBLE_EQ(ms, 1.5005) << set;
  EXPECT_DOUBLE_EQ(bad, -1) << set;
}

// ------------------------------------------------------------ redaction

TEST(Redact, ReplacesEveryOccurrence) {
  EXPECT_EQ(redact("key sk-abc123 and again sk-abc123.", "sk-abc123"), "key [REDACTED] and again [REDACTED].");
  EXPECT_EQ(redact("sk-abcdsk-abcd", "sk-abcd"), "[REDACTED][REDACTED]");
  EXPECT_EQ(redact("aaaaaaaa", "aaaa"), "[REDACTED][REDACTED]");
  EXPECT_EQ(redact("no secret here", "sk-abc123"), "no secret here");
  // A secret that looks like part of the replacement does not loop.
  EXPECT_EQ(redact("xREDAy REDA", "REDA"), "x[REDACTED]y [REDACTED]");
  // Too short to be a key: left alone, so messages are not mangled.
  EXPECT_EQ(redact("a b c abc", "abc"), "a b c abc");
  EXPECT_EQ(redact("anything", ""), "anything");
  EXPECT_EQ(redact("", "sk-abc123"), "");
}

TEST(HttpError, BuildsTheTypedError) {
  Error e = http_error("groq", 429,
                       R"({"error":{"message":"Rate limit reached for model","type":"tokens","code":"rate_limit_exceeded"}})",
                       {{"retry-after", "7"}}, Secrets::of("gsk-secret-key"));
  EXPECT_EQ(e.status(), LLM_ERR_RATE_LIMITED);
  EXPECT_EQ(e.http_status(), 429);
  EXPECT_DOUBLE_EQ(e.retry_after, 7);
  EXPECT_STREQ(e.what(), "groq returned HTTP 429 (rate_limit_exceeded): Rate limit reached for model");

  Error c = http_error("openai", 400,
                       R"({"error":{"message":"This model's maximum context length is 128000 tokens.","code":"context_length_exceeded"}})",
                       {}, {});
  EXPECT_EQ(c.status(), LLM_ERR_CONTEXT_WINDOW_EXCEEDED);
  EXPECT_DOUBLE_EQ(c.retry_after, -1);

  Error n = http_error("ollama", 502, "", {}, {});
  EXPECT_EQ(n.status(), LLM_ERR_SERVER_ERROR);
  EXPECT_STREQ(n.what(), "ollama returned HTTP 502");

  Error g = http_error("gemini", 400, R"([{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}])", {}, {});
  EXPECT_STREQ(g.what(), "gemini returned HTTP 400 (400): bad");
}

TEST(HttpError, RedactsTheKeyInTheMessage) {
  const std::string key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  Error e = http_error("openai", 401, R"({"error":{"message":"Incorrect API key provided: )" + key + R"(."}})", {}, Secrets::of(key));
  EXPECT_EQ(e.status(), LLM_ERR_AUTHENTICATION);
  std::string what = e.what();
  EXPECT_EQ(what.find(key), std::string::npos) << what;
  EXPECT_NE(what.find("[REDACTED]"), std::string::npos) << what;
  // Also in the code, and in a non-JSON body.
  Error f = http_error("x", 403, "denied for " + key, {}, Secrets::of(key));
  EXPECT_EQ(std::string(f.what()).find(key), std::string::npos);
  Error g = http_error("x", 400, R"({"error":{"message":"m","code":")" + key + R"("}})", {}, Secrets::of(key));
  EXPECT_EQ(std::string(g.what()).find(key), std::string::npos);
}

TEST(HttpError, KeyCutByTheClipIsStillRedacted) {
  // Was a bug (fixed): src/core/errors.cpp http_error clips the provider's message to 500 bytes
  // (error_body_message) before redact() runs, so a key that straddles byte 500
  // is cut first and then no longer matches: its first part is shown.
  const std::string key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  std::string message = std::string(480, 'x') + " " + key + " trailing text";
  Error e = http_error("openai", 401, R"({"error":{"message":")" + message + R"("}})", {}, Secrets::of(key));
  std::string what = e.what();
  EXPECT_EQ(what.find(key.substr(0, 12)), std::string::npos) << "the key's first 12 characters are shown: " << what;
}

// ------------------------------------------------------------ provider, code and type

TEST(ErrorsProviderFields, OpenAIShape) {
  const std::string body =
      R"({"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}})";
  Error e = http_error("openai", 429, body, {{"retry-after-ms", "1500"}}, {});
  EXPECT_EQ(e.provider, "openai");
  EXPECT_EQ(e.code, "rate_limit_exceeded");
  EXPECT_EQ(e.type, "requests");
  EXPECT_DOUBLE_EQ(e.retry_after, 1.5);
  EXPECT_STREQ(e.what(), "openai returned HTTP 429 (rate_limit_exceeded): Rate limit reached for gpt-4o");
  // error_body_message gives the type apart, and still the code-or-type in `code`.
  std::string code, type;
  EXPECT_EQ(error_body_message(body, &code, {}, &type), "Rate limit reached for gpt-4o");
  EXPECT_EQ(code, "rate_limit_exceeded");
  EXPECT_EQ(type, "requests");
  // A numeric code as text; no type.
  Error g = http_error("gemini", 400, R"([{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}])", {}, {});
  EXPECT_EQ(g.code, "400");
  EXPECT_EQ(g.type, "");
  // A type without a code: the message shows the type, `code` stays empty.
  Error t = http_error("openai", 500, R"({"error":{"message":"boom","type":"server_error","code":null}})", {}, {});
  EXPECT_EQ(t.code, "");
  EXPECT_EQ(t.type, "server_error");
  EXPECT_STREQ(t.what(), "openai returned HTTP 500 (server_error): boom");
}

TEST(ErrorsProviderFields, AnthropicShape) {
  Error e = http_error("anthropic", 529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                       {}, {});
  EXPECT_EQ(e.status(), LLM_ERR_SERVICE_UNAVAILABLE);
  EXPECT_EQ(e.provider, "anthropic");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.type, "overloaded_error");
  EXPECT_STREQ(e.what(), "anthropic returned HTTP 529 (overloaded_error): Overloaded");
}

TEST(ErrorsProviderFields, EmptyWhenAbsent) {
  for (const char* body : {"", "Bad Gateway", R"({"error":{"message":"m"}})", R"({"error":"x"})", "[]",
                           R"({"error":{"message":"m","code":{"nested":1},"type":7}})"}) {
    Error e = http_error("groq", 502, body, {}, {});
    EXPECT_EQ(e.provider, "groq");
    EXPECT_EQ(e.code, "") << body;
    EXPECT_EQ(e.type, "") << body;
  }
  // The library's own errors name no provider.
  EXPECT_EQ(Error(LLM_ERR_INVALID_ARGUMENT, "x").provider, "");
}

TEST(ErrorsProviderFields, ClippedRedactedAndValid) {
  const std::string key = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  Error r = http_error("x", 400, R"({"error":{"message":"m","code":"bad )" + key + R"(","type":")" + key + R"("}})", {},
                       Secrets::of(key));
  EXPECT_EQ(r.code, "bad [REDACTED]");
  EXPECT_EQ(r.type, "[REDACTED]");
  // Long values: at most 100 bytes, never half a character.
  std::string euros;
  for (int i = 0; i < 60; ++i) euros += "\xE2\x82\xAC";
  Error l = http_error("x", 400, R"({"error":{"message":"m","code":")" + euros + R"(","type":")" + euros + R"("}})", {}, {});
  EXPECT_EQ(l.code, euros.substr(0, 99));
  EXPECT_EQ(l.type, euros.substr(0, 99));
  // An escaped lone surrogate does not make it into any text.
  Error s = http_error("x", 400, R"({"error":{"message":"m\ud800","code":"c\ud800","type":"t\udfff"}})", {}, {});
  EXPECT_TRUE(is_valid_utf8(s.code)) << s.code;
  EXPECT_TRUE(is_valid_utf8(s.type)) << s.type;
  EXPECT_TRUE(is_valid_utf8(s.what())) << s.what();
}

TEST(ErrorsNonJsonBody, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(msg("\xe9\xff\xfe"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  Error e = http_error("x", 502, "Bad \xe9\xff\xfe gateway", {}, {});
  EXPECT_STREQ(e.what(), "x returned HTTP 502: Bad \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD gateway");
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.type, "");
  // Latin-1 text, overlong forms and surrogates alike.
  for (const std::string body : {"caf\xe9", "\xc0\xaf", "\xed\xa0\x80", "x\xf0\x9f\x98", "\xa0trimmed\xa0"}) {
    std::string m = msg(body);
    EXPECT_TRUE(is_valid_utf8(m)) << testing::PrintToString(body);
    EXPECT_NE(m.find("\xEF\xBF\xBD"), std::string::npos) << testing::PrintToString(body);
    EXPECT_TRUE(is_valid_utf8(http_error("x", 500, body, {}, {}).what()));
  }
  // Clipped after the replacement: still at most 500 bytes plus "...", whole characters.
  for (size_t lead = 495; lead < 501; ++lead) {
    std::string m = msg(std::string(lead, 'a') + std::string(20, '\xff'));
    EXPECT_TRUE(is_valid_utf8(m)) << lead;
    EXPECT_LE(m.size(), 503u);
    EXPECT_EQ(m.substr(m.size() - 3), "...");
  }
  // Valid multi-byte text is kept as it is.
  EXPECT_EQ(msg("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace literllm
