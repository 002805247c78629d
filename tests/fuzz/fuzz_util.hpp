// Helpers shared by the libFuzzer targets that speak JSON (fuzz_request,
// fuzz_stream, fuzz_error_body, fuzz_config). Header-only; each target is one
// translation unit plus the library sources it exercises.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/json.hpp"

namespace literllm::fuzz {

// Reports a broken invariant and aborts, so that libFuzzer keeps the input.
[[noreturn]] inline void fail(const char* target, const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "%s: invariant broken: %s\n", target, what);
  if (!detail.empty())
    std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()),
                 detail.data());
  std::abort();
}

// Called from catch (...): says what escaped, then aborts. Only literllm::Error
// may leave the library's parsers.
[[noreturn]] inline void fail_foreign_exception(const char* target) {
  try {
    throw;
  } catch (const std::exception& e) {
    fail(target, "an exception other than literllm::Error escaped", e.what());
  } catch (...) {
    fail(target, "a non-std exception escaped");
  }
}

inline bool contains(std::string_view hay, std::string_view needle) {
  return !needle.empty() && hay.find(needle) != std::string_view::npos;
}

// Two numbers are the same when integers match exactly, or, where either side
// is a double, within a few units in the last place: RapidJSON's writer prints
// the shortest text that reads back exactly, but its default (fast) reader may
// land one ULP away.
inline bool same_number(const json::Value& a, const json::Value& b) {
  if (!a.IsDouble() && !b.IsDouble()) {
    if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
    if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
    return false;
  }
  const double x = a.GetDouble(), y = b.GetDouble();
  if (x == y) return true;
  const double diff = std::fabs(x - y), scale = std::fmax(std::fabs(x), std::fabs(y));
  return diff <= scale * 1e-12 || diff < 1e-300;
}

// Structural equality that keeps member order and duplicate keys (a re-parse
// of a serialization must give back the same members in the same order).
inline bool same_json(const json::Value& a, const json::Value& b) {
  if (a.IsNumber() || b.IsNumber()) return a.IsNumber() && b.IsNumber() && same_number(a, b);
  if (a.GetType() != b.GetType()) return false;
  switch (a.GetType()) {
    case rapidjson::kStringType:
      return json::sv(a) == json::sv(b);
    case rapidjson::kArrayType: {
      if (a.Size() != b.Size()) return false;
      for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
        if (!same_json(a[i], b[i])) return false;
      return true;
    }
    case rapidjson::kObjectType: {
      if (a.MemberCount() != b.MemberCount()) return false;
      auto x = a.MemberBegin();
      auto y = b.MemberBegin();
      for (; x != a.MemberEnd(); ++x, ++y)
        if (json::sv(x->name) != json::sv(y->name) || !same_json(x->value, y->value)) return false;
      return true;
    }
    default:
      return true;  // null, true, false: the types matched
  }
}

// Re-parses `text` (as the library parses: UTF-8 validated, depth-limited) and
// checks that it gives back `expected`. Returns false when it is not JSON.
inline bool reparses_as(std::string_view text, const json::Value& expected, std::string* why) {
  json::Document d;
  try {
    d = json::parse(text, "re-parse", LLM_ERR_INTERNAL);
  } catch (const Error& e) {
    *why = e.what();
    return false;
  }
  if (!same_json(d, expected)) {
    *why = "parsed, but differs from the DOM it was made from";
    return false;
  }
  return true;
}

}  // namespace literllm::fuzz
