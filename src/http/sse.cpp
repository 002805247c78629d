// The out-of-line, colder parts of the SSE and NDJSON framers: the hot loops
// are templates in sse.hpp.
#include "http/sse.hpp"

#include <climits>
#include <string>

#include "core/error.hpp"

namespace literllm::http {

namespace framer_detail {

void throw_too_big(const char* what, size_t limit) {
  throw Error(LLM_ERR_LIMIT_EXCEEDED, std::string(what) + " longer than max_event_bytes (" + std::to_string(limit) +
                                          " bytes); raise max_event_bytes in the client config to accept it");
}

}  // namespace framer_detail

// ---------------------------------------------------------------- SseFramer

void SseFramer::clear_event() noexcept {
  has_data_ = false;
  data_in_input_ = false;
  data_view_ = {};
  data_.clear();
  event_.clear();
}

void SseFramer::materialize() {
  if (has_data_ && data_in_input_) {
    data_.assign(data_view_.data(), data_view_.size());
    data_in_input_ = false;
    data_view_ = {};
  }
}

void SseFramer::keep_partial(const char* p, const char* end) {
  const size_t n = static_cast<size_t>(end - p);
  if (carry_.size() + n > max_) framer_detail::throw_too_big("SSE line", max_);
  carry_.append(p, n);
  materialize();
}

const char* SseFramer::skip_bom(const char* p, const char* end) {
  static constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};
  while (p != end) {
    if (static_cast<unsigned char>(*p) != kBom[bom_]) {
      // Not a BOM after all: the bytes matched so far start the first line.
      carry_.append(reinterpret_cast<const char*>(kBom), bom_);
      bom_ = kBomDone;
      return p;
    }
    ++p;
    if (++bom_ == kBomDone) return p;
  }
  return p;
}

void SseFramer::field(const char* b, size_t n, bool stable) {
  if (*b == ':') {
    ++comments_;
    return;
  }
  const char* colon = static_cast<const char*>(std::memchr(b, ':', n));
  std::string_view name, value(b + n, 0);
  if (colon) {
    name = std::string_view(b, static_cast<size_t>(colon - b));
    const char* v = colon + 1;
    const char* e = b + n;
    if (v != e && *v == ' ') ++v;
    value = std::string_view(v, static_cast<size_t>(e - v));
  } else {
    name = std::string_view(b, n);
  }
  if (name == "data") {  // "data" with no colon: an empty data line
    add_data(value.data(), value.size(), stable);
    return;
  }
  in_event_ = true;
  if (name == "event") {
    event_.assign(value.data(), value.size());
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value.data(), value.size());
  } else if (name == "retry") {
    if (value.empty()) return;
    long ms = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return;
      const int d = c - '0';
      ms = ms > (LONG_MAX - d) / 10 ? LONG_MAX : ms * 10 + d;  // saturate
    }
    retry_ms_ = ms;
  }
  // Any other field is ignored.
}

bool SseFramer::finish() {
  const bool pending = !carry_.empty() || in_event_ || (bom_ != 0 && bom_ != kBomDone);
  carry_.clear();
  clear_event();
  in_event_ = false;
  pending_cr_ = false;
  bom_ = 0;
  return pending;
}

void SseFramer::reset() {
  finish();
  id_.clear();
  comments_ = 0;
  retry_ms_ = -1;
}

// ------------------------------------------------------------- NdjsonFramer

bool NdjsonFramer::finish() {
  size_t n = carry_.size();
  if (n != 0 && carry_[n - 1] == '\r') --n;
  const bool pending = !blank(carry_.data(), n);
  carry_.clear();
  return pending;
}

void NdjsonFramer::reset() noexcept { carry_.clear(); }

}  // namespace literllm::http
