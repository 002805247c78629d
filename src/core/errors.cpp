#include "core/errors.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <optional>

#include "core/json.hpp"
#include "core/utf8.hpp"

namespace literllm {

namespace {

// ASCII only, whatever the locale: a byte of a UTF-8 sequence is never a letter or a space.
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool icontains(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return lower(a) == lower(b); });
  return it != hay.end();
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// `s` as valid UTF-8, trimmed, and clipped to `n` bytes (then "...") at a character boundary.
std::string clip_text(std::string_view raw, size_t n = 500) {
  std::string s = valid_utf8(raw);
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  s = s.substr(b, e - b);
  if (s.size() <= n) return s;
  clip_utf8(s, n);
  return s + "...";
}

// A provider's code or type as Error keeps it: redacted, valid UTF-8, at most 100 bytes.
std::string field_text(const std::string& raw, const Secrets& secrets) {
  std::string s = valid_utf8(secrets.redact(raw));
  clip_utf8(s, 100);
  return s;
}

std::string scalar_text(const json::Value& v) {
  if (v.IsString()) return std::string(json::sv(v));
  if (v.IsNumber() || v.IsBool()) return json::dump(v);
  return {};
}

// ------------------------------------------------------------ HTTP-date (RFC 9110 5.6.7)

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::string_view kLongDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
constexpr std::string_view kGmt[] = {"GMT"};

bool leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : kDaysIn[m - 1];
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1).
int64_t days_from_civil(int64_t y, int m, int d) {
  constexpr int kBeforeMonth[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  auto leaps_before = [](int64_t year) { return (year - 1) / 4 - (year - 1) / 100 + (year - 1) / 400; };
  int64_t days = 365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
  days += kBeforeMonth[m - 1] + (m > 2 && leap_year(y) ? 1 : 0);
  return days + d - 1;
}

// The UTC year that `t` falls in.
int64_t year_of(std::time_t t) {
  int64_t days = static_cast<int64_t>(t) / 86400;
  if (static_cast<int64_t>(t) % 86400 < 0) --days;
  int64_t y = 1970 + days / 365;
  if (y < 1) y = 1;
  while (y > 1 && days_from_civil(y, 1, 1) > days) --y;
  while (days_from_civil(y + 1, 1, 1) <= days) ++y;
  return y;
}

// Reads an HTTP-date field by field; any mismatch sets `ok` to false.
struct DateReader {
  std::string_view s;
  bool ok = true;

  void lit(std::string_view want) {
    if (ok && s.substr(0, want.size()) == want) s.remove_prefix(want.size());
    else ok = false;
  }
  int digits(size_t n) {
    int v = 0;
    for (size_t i = 0; ok && i < n; ++i) {
      if (i >= s.size() || !is_digit(s[i])) ok = false;
      else v = v * 10 + (s[i] - '0');
    }
    if (ok) s.remove_prefix(n);
    return v;
  }
  // Index of the name (any case) of `names` that `s` starts with, else -1 and not ok.
  template <size_t N>
  int name(const std::string_view (&names)[N], size_t len) {
    for (size_t i = 0; ok && i < N; ++i)
      if (iequal(s.substr(0, len), names[i])) {
        s.remove_prefix(len);
        return static_cast<int>(i);
      }
    ok = false;
    return -1;
  }
  void time_of_day(int& h, int& m, int& sec) {
    h = digits(2);
    lit(":");
    m = digits(2);
    lit(":");
    sec = digits(2);
  }
};

// Length of the alphabetic prefix of `s` (the day name).
size_t letters(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && lower(s[n]) >= 'a' && lower(s[n]) <= 'z') ++n;
  return n;
}

// Seconds since the epoch for an IMF-fixdate, RFC 850 or asctime date, or
// nothing. `now` places an RFC 850 two-digit year.
std::optional<int64_t> parse_http_date(std::string_view v, std::time_t now) {
  DateReader r{v};
  int64_t year = 0;
  int month = 0, day = 0, h = 0, mi = 0, sec = 0;
  const size_t name_len = letters(v);
  if (name_len == 3 && v.size() > 3 && v[3] == ',') {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    r.name(kDays, 3);
    r.lit(", ");
    day = r.digits(2);
    r.lit(" ");
    month = r.name(kMonths, 3) + 1;
    r.lit(" ");
    year = r.digits(4);
    r.lit(" ");
    r.time_of_day(h, mi, sec);
    r.lit(" ");
    r.name(kGmt, 3);
  } else if (name_len > 3) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    r.name(kLongDays, name_len);
    r.lit(", ");
    day = r.digits(2);
    r.lit("-");
    month = r.name(kMonths, 3) + 1;
    r.lit("-");
    const int yy = r.digits(2);
    r.lit(" ");
    r.time_of_day(h, mi, sec);
    r.lit(" ");
    r.name(kGmt, 3);
    // A year more than 50 years ahead is the last past one with these digits
    // (RFC 9110 5.6.7); one further back than that is the next century's.
    const int64_t this_year = year_of(now);
    year = this_year - this_year % 100 + yy;
    if (year > this_year + 50) year -= 100;
    else if (year <= this_year - 50) year += 100;
  } else if (name_len == 3) {
    // asctime: "Sun Nov  6 08:49:37 1994" (the day is 2DIGIT or SP DIGIT)
    r.name(kDays, 3);
    r.lit(" ");
    month = r.name(kMonths, 3) + 1;
    r.lit(" ");
    if (r.ok && !r.s.empty() && r.s[0] == ' ') {
      r.lit(" ");
      day = r.digits(1);
    } else {
      day = r.digits(2);
    }
    r.lit(" ");
    r.time_of_day(h, mi, sec);
    r.lit(" ");
    year = r.digits(4);
  } else {
    return std::nullopt;
  }
  if (!r.ok || !r.s.empty()) return std::nullopt;
  if (year < 1 || month < 1 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;  // 60: a leap second
  return days_from_civil(year, month, day) * 86400 + h * 3600 + mi * 60 + sec;
}

// Milliseconds as retry-after-ms gives them (1*DIGIT ["." *DIGIT], or "." 1*DIGIT), or -1.
double parse_millis(std::string_view v) {
  size_t digits = 0, dots = 0;
  for (char c : v) {
    if (is_digit(c)) ++digits;
    else if (c == '.') ++dots;
    else return -1;
  }
  if (digits == 0 || dots > 1) return -1;
  double ms = 0;
  // from_chars ignores the locale (strtod would read a ',' decimal point).
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), ms, std::chars_format::fixed);
  if (end != v.data() + v.size()) return -1;
  if (ec == std::errc::result_out_of_range || ms > 1e12) return 1e9;
  if (ec != std::errc()) return -1;
  return ms / 1000;
}

// ------------------------------------------------------------ error bodies

struct ErrorBody {
  std::string message;  // redacted, valid UTF-8, clipped
  std::string code;     // error.code as text, as the body gives it
  std::string type;     // error.type, as the body gives it
};

// The error in `doc`, the JSON of `body` (whose text is the message when
// nothing else is).
ErrorBody read_error_value(const json::Value& doc, std::string_view body, const Secrets& secrets) {
  // The secret goes before anything is clipped: a key cut in half would no longer match.
  auto clip = [&](std::string_view s) { return clip_text(secrets.redact(std::string(s))); };
  ErrorBody out;
  const json::Value* root = &doc;
  if (root->IsArray() && !root->Empty()) root = &(*root)[0];
  if (!root->IsObject()) {
    out.message = clip(body);
    return out;
  }
  const json::Value* err = json::find(*root, "error");
  const json::Value* obj = (err && err->IsObject()) ? err : root;
  if (const json::Value* c = json::find(*obj, "code"); c && !c->IsNull()) out.code = scalar_text(*c);
  if (const json::Value* t = json::find(*obj, "type"); t && t->IsString()) out.type = std::string(json::sv(*t));
  if (err && err->IsString()) {
    out.message = clip(json::sv(*err));
    return out;
  }
  for (const char* k : {"message", "detail", "error_message", "msg"}) {
    if (const json::Value* m = json::find(*obj, k)) {
      if (m->IsString()) out.message = clip(json::sv(*m));
      else if (!m->IsNull()) out.message = clip(json::dump(*m));
      else continue;
      return out;
    }
  }
  out.message = clip(body);
  return out;
}

ErrorBody read_error_body(std::string_view body, const Secrets& secrets) {
  json::Document d;
  try {
    d = json::parse(body, "error body", LLM_ERR_SERIALIZATION);  // depth-bounded
  } catch (const Error&) {
    return ErrorBody{clip_text(secrets.redact(std::string(body))), {}, {}};
  }
  return read_error_value(d, body, secrets);
}

Error error_of_body(std::string_view what, ErrorBody b, const Secrets& secrets, int http_status,
                    llm_status otherwise) {
  llm_status st = status_for_http(0, b.message, b.code.empty() ? b.type : b.code);
  if (st == LLM_ERR_SERVER_ERROR) st = otherwise;
  Error e(st, secrets.redact(std::string(what) + ": " + (b.message.empty() ? std::string("(no message)") : b.message)),
          http_status);
  e.code = field_text(b.code, secrets);
  e.type = field_text(b.type, secrets);
  return e;
}

}  // namespace

std::string error_body_message(std::string_view body, std::string* code, const Secrets& secrets, std::string* type) {
  ErrorBody b = read_error_body(body, secrets);
  if (code && !(b.code.empty() && b.type.empty())) *code = b.code.empty() ? b.type : b.code;
  if (type && !b.type.empty()) *type = b.type;
  return std::move(b.message);
}

Error body_error(std::string_view what, std::string_view body, const Secrets& secrets, int http_status,
                 llm_status otherwise) {
  return error_of_body(what, read_error_body(body, secrets), secrets, http_status, otherwise);
}

Error body_error(std::string_view what, const json::Value& parsed, std::string_view body, const Secrets& secrets,
                 int http_status, llm_status otherwise) {
  return error_of_body(what, read_error_value(parsed, body, secrets), secrets, http_status, otherwise);
}

llm_status status_for_http(long s, std::string_view msg, std::string_view code) {
  auto says = [&](std::string_view w) { return icontains(msg, w) || icontains(code, w); };
  if (says("context_length_exceeded") || says("context length") || says("context window") ||
      says("maximum context") || says("prompt is too long") || says("too many tokens") ||
      says("reduce the length") || says("input is too long") || says("string_above_max_length"))
    if (s == 400 || s == 413 || s == 422 || s == 0) return LLM_ERR_CONTEXT_WINDOW_EXCEEDED;
  if (says("content_filter") || says("content_policy") || says("content management policy") ||
      says("safety system") || says("responsible ai"))
    if (s == 400 || s == 403 || s == 422 || s == 0) return LLM_ERR_CONTENT_POLICY;
  if (s == 0) {  // no HTTP status to go by: what the code says
    if (says("rate_limit") || says("rate limit") || says("too many requests") || says("insufficient_quota"))
      return LLM_ERR_RATE_LIMITED;
    if (says("overloaded") || says("service_unavailable") || says("unavailable")) return LLM_ERR_SERVICE_UNAVAILABLE;
  }
  switch (s) {
    case 401:
    case 403: return LLM_ERR_AUTHENTICATION;
    case 404: return LLM_ERR_NOT_FOUND;
    case 405:
    case 501: return LLM_ERR_ENDPOINT_NOT_SUPPORTED;
    case 408: return LLM_ERR_TIMEOUT;
    case 429: return LLM_ERR_RATE_LIMITED;
    case 503:
    case 529: return LLM_ERR_SERVICE_UNAVAILABLE;
    default: break;
  }
  if (s >= 500) return LLM_ERR_SERVER_ERROR;
  if (s >= 400) return LLM_ERR_BAD_REQUEST;
  return LLM_ERR_SERVER_ERROR;  // a 1xx/3xx final answer is not something a client can use
}

double parse_retry_after(const http::Headers& headers, std::time_t now) {
  // retry-after-ms (OpenAI) first; a malformed one gives way to Retry-After.
  if (const std::string* ms = http::find_header(headers, "retry-after-ms"))
    if (double d = parse_millis(*ms); d >= 0) return d;
  const std::string* v = http::find_header(headers, "retry-after");
  if (!v || v->empty()) return -1;
  // delta-seconds is 1*DIGIT (RFC 9110 10.2.3); nothing else numeric.
  if (std::all_of(v->begin(), v->end(), is_digit)) return v->size() > 9 ? 1e9 : std::stod(*v);
  const std::optional<int64_t> t = parse_http_date(*v, now);
  if (!t) return -1;
  const int64_t d = *t - static_cast<int64_t>(now);
  return d <= 0 ? 0 : d > 1000000000 ? 1e9 : static_cast<double>(d);
}

double parse_retry_after(const http::Headers& headers) { return parse_retry_after(headers, std::time(nullptr)); }

Error http_error(std::string_view provider, long http_status, std::string_view body, const http::Headers& headers,
                 const Secrets& secrets) {
  ErrorBody b = read_error_body(body, secrets);
  const std::string& shown = b.code.empty() ? b.type : b.code;  // the code, else the type
  llm_status st = status_for_http(http_status, b.message, shown);
  std::string text = std::string(provider) + " returned HTTP " + std::to_string(http_status);
  if (!shown.empty()) text += " (" + clip_text(secrets.redact(shown), 100) + ")";
  if (!b.message.empty()) text += ": " + b.message;
  Error e(st, secrets.redact(std::move(text)), static_cast<int>(http_status));
  e.retry_after = parse_retry_after(headers);
  e.provider = std::string(provider);
  e.code = field_text(b.code, secrets);
  e.type = field_text(b.type, secrets);
  return e;
}

}  // namespace literllm
