#include "core/errors.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/json.hpp"

namespace literllm {

namespace {

bool icontains(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

std::string clip_text(std::string_view s, size_t n = 500) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.size() <= n) return std::string(s);
  // Do not cut a UTF-8 sequence in half.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "...";
}

std::string scalar_text(const json::Value& v) {
  if (v.IsString()) return std::string(json::sv(v));
  if (v.IsNumber() || v.IsBool()) return json::dump(v);
  return {};
}

}  // namespace

std::string error_body_message(std::string_view body, std::string* code, const Secrets& secrets) {
  // The secret goes before anything is clipped: a key cut in half would no longer match.
  auto clip = [&](std::string_view s) { return clip_text(secrets.redact(std::string(s))); };
  json::Document d;
  try {
    d = json::parse(body, "error body", LLM_ERR_SERIALIZATION);  // depth-bounded
  } catch (const Error&) {
    return clip(body);
  }
  const json::Value* root = &d;
  if (root->IsArray() && !root->Empty()) root = &(*root)[0];
  if (!root->IsObject()) return clip(body);
  const json::Value* err = json::find(*root, "error");
  const json::Value* obj = (err && err->IsObject()) ? err : root;
  if (code) {
    if (const json::Value* c = json::find(*obj, "code"); c && !c->IsNull()) *code = scalar_text(*c);
    if (code->empty())
      if (const json::Value* t = json::find(*obj, "type"); t && t->IsString()) *code = std::string(json::sv(*t));
  }
  if (err && err->IsString()) return clip(json::sv(*err));
  for (const char* k : {"message", "detail", "error_message", "msg"}) {
    if (const json::Value* m = json::find(*obj, k)) {
      if (m->IsString()) return clip(json::sv(*m));
      if (!m->IsNull()) return clip(json::dump(*m));
    }
  }
  return clip(body);
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

double parse_retry_after(const http::Headers& headers) {
  const std::string* v = http::find_header(headers, "retry-after");
  if (!v || v->empty()) return -1;
  // delta-seconds is 1*DIGIT (RFC 9110 10.2.3); nothing else numeric.
  if (std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return v->size() > 9 ? 1e9 : std::stod(*v);
  struct tm tm {};
  if (strptime(v->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    double d = std::difftime(timegm(&tm), std::time(nullptr));
    return d > 0 ? d : 0;
  }
  return -1;
}

Error http_error(std::string_view provider, long http_status, std::string_view body, const http::Headers& headers,
                 const Secrets& secrets) {
  std::string code;
  std::string msg = error_body_message(body, &code, secrets);
  llm_status st = status_for_http(http_status, msg, code);
  std::string text = std::string(provider) + " returned HTTP " + std::to_string(http_status);
  if (!code.empty()) text += " (" + clip_text(secrets.redact(code), 100) + ")";
  if (!msg.empty()) text += ": " + msg;
  Error e(st, secrets.redact(std::move(text)), static_cast<int>(http_status));
  e.retry_after = parse_retry_after(headers);
  return e;
}

}  // namespace literllm
