// Incremental stream framers: Server-Sent Events (WHATWG "event stream") and
// newline-delimited JSON. Bytes go in as they arrive, split anywhere; complete
// events (or lines) come out through a callback, in order.
//
// Both framers are zero-copy where they can be: when what they hand out lies
// whole inside the buffer given to the current feed() call, the callback gets
// a view into that buffer. They copy only what spans reads (and the data of an
// SSE event with several data lines, which must be joined). Scanning is by
// memchr, a few calls per line; the callback is a template parameter, so it is
// inlined into the loop.
//
// Neither class is thread-safe; one stream, one framer, one thread at a time.
#pragma once
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace literllm::http {

namespace framer_detail {

// Calls a framer callback; a callback returning void means "go on".
template <class F, class... Args>
inline bool call(F& f, Args&&... args) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, Args...>>) {
    f(std::forward<Args>(args)...);
    return true;
  } else {
    return static_cast<bool>(f(std::forward<Args>(args)...));
  }
}

// Next occurrence of c in [p, end), or end.
inline const char* find(const char* p, const char* end, char c) {
  const void* r = std::memchr(p, c, static_cast<size_t>(end - p));
  return r ? static_cast<const char*>(r) : end;
}

// Throws literllm::Error(LLM_ERR_LIMIT_EXCEEDED) saying what went over the limit.
[[noreturn]] void throw_too_big(const char* what, size_t limit);

}  // namespace framer_detail

// One dispatched event. The views are valid only during the callback.
struct SseEvent {
  // The "event:" field, or empty when the event had none (the spec's default
  // type, "message").
  std::string_view event;
  // The "data:" lines joined with "\n" (may be empty: a bare "data:" line
  // makes an event with empty data).
  std::string_view data;
  // The last event ID: the latest "id:" field seen in the stream so far (not
  // reset between events, as the spec says), or empty.
  std::string_view id;
};

// Server-Sent Events per the WHATWG HTML "event stream" format:
//  - lines end with LF, CRLF or CR; a CR ending one read and an LF starting
//    the next are one line end;
//  - a UTF-8 BOM at the very start of the stream is skipped;
//  - "field: value" (one space after the colon dropped), "field" alone means an
//    empty value; "data" lines accumulate, joined with "\n"; "event" sets the
//    type; "id" sets the last event ID unless the value contains NUL; "retry"
//    with only ASCII digits sets retry_ms(); other fields are ignored;
//  - a line starting with ':' is a comment (counted by comments());
//  - a blank line dispatches the event if at least one data line was seen,
//    then resets data and type (a blank line with no data only resets the type).
class SseFramer {
 public:
  static constexpr size_t kDefaultMaxEventBytes = size_t{16} << 20;

  // Feeds bytes. Calls on_event(const SseEvent&) for each complete event, in
  // order. on_event returns bool (or void, meaning true): false stops; feed
  // then returns false and discards the rest of this input and any partial
  // line (the framer resumes at a line start with the next feed). Returns true
  // when all of the input was consumed.
  // Throws literllm::Error(LLM_ERR_LIMIT_EXCEEDED) when a line or the data of an
  // event exceeds max_event_bytes(); exceptions from on_event propagate. After
  // an exception, call reset() before feeding the framer again.
  template <class F>
  bool feed(const char* data, size_t len, F&& on_event);
  template <class F>
  bool feed(std::string_view bytes, F&& on_event) {
    return feed(bytes.data(), bytes.size(), std::forward<F>(on_event));
  }

  // Ends the stream. As the spec says, an event not closed by a blank line is
  // discarded. Returns true when bytes of an incomplete line or event were
  // pending (a stream cut short, for callers that care). Afterwards the framer
  // is ready for a new stream; comments(), retry_ms() and last_event_id() keep
  // their values until reset().
  bool finish();

  // Comment lines seen since construction or reset().
  size_t comments() const noexcept { return comments_; }
  // The last valid "retry:" value in milliseconds, or -1 if none.
  long retry_ms() const noexcept { return retry_ms_; }
  std::string_view last_event_id() const noexcept { return id_; }

  // Back to the state of a new framer (the size limit is kept).
  void reset();

  void set_max_event_bytes(size_t n) noexcept { max_ = n; }
  size_t max_event_bytes() const noexcept { return max_; }

 private:
  static constexpr unsigned kBomDone = 3;

  template <class F>
  bool line(const char* b, size_t n, bool stable, F& on_event);
  template <class F>
  bool dispatch(F& on_event);
  void add_data(const char* v, size_t n, bool stable);
  void field(const char* b, size_t n, bool stable);  // any line but "data:..." and blank
  const char* skip_bom(const char* p, const char* end);
  void keep_partial(const char* p, const char* end);
  void materialize();
  void clear_event() noexcept;

  std::string carry_;           // the start of a line that began in an earlier read
  std::string data_;            // owned data (when it is not a view into the input)
  std::string_view data_view_;  // data when it is a single line inside the current input
  bool data_in_input_ = false;  // data is data_view_ (else data_)
  bool has_data_ = false;       // at least one data line since the last dispatch
  bool in_event_ = false;       // a field line since the last blank line
  bool pending_cr_ = false;     // the last read ended with CR: skip an LF that starts the next
  unsigned bom_ = 0;            // bytes of a leading BOM matched so far; kBomDone when past it
  std::string event_;
  std::string id_;
  size_t comments_ = 0;
  long retry_ms_ = -1;
  size_t max_ = kDefaultMaxEventBytes;
};

// Newline-delimited JSON (JSON Lines): one value per line, lines end with LF
// or CRLF, blank (whitespace-only) lines are skipped. The framer does not parse
// the JSON; it hands out each line's text.
class NdjsonFramer {
 public:
  static constexpr size_t kDefaultMaxEventBytes = size_t{16} << 20;

  // Feeds bytes; calls on_line(std::string_view) for each complete non-blank
  // line, without its line end. The view is valid only during the callback.
  // Return values, limits and exceptions as SseFramer::feed.
  template <class F>
  bool feed(const char* data, size_t len, F&& on_line);
  template <class F>
  bool feed(std::string_view bytes, F&& on_line) {
    return feed(bytes.data(), bytes.size(), std::forward<F>(on_line));
  }

  // Ends the stream, discarding a final line that has no line end. Returns
  // true when such a non-blank line was pending (a stream cut short).
  bool finish();
  // Ends the stream, handing a final non-blank line without a line end to
  // on_line (some servers omit the last newline; whether the text is whole is
  // then the JSON parser's call). Returns true when there was such a line.
  template <class F>
  bool finish(F&& on_line);

  void reset() noexcept;

  void set_max_event_bytes(size_t n) noexcept { max_ = n; }
  size_t max_event_bytes() const noexcept { return max_; }

 private:
  template <class F>
  bool line(const char* b, size_t n, F& on_line);
  static bool blank(const char* b, size_t n) noexcept;

  std::string carry_;
  size_t max_ = kDefaultMaxEventBytes;
};

// ---------------------------------------------------------------- SseFramer

template <class F>
bool SseFramer::dispatch(F& on_event) {
  in_event_ = false;
  if (!has_data_) {
    event_.clear();
    return true;
  }
  SseEvent ev{event_, data_in_input_ ? data_view_ : std::string_view(data_), id_};
  bool go_on;
  try {
    go_on = framer_detail::call(on_event, static_cast<const SseEvent&>(ev));
  } catch (...) {
    clear_event();
    throw;
  }
  clear_event();
  return go_on;
}

template <class F>
inline bool SseFramer::line(const char* b, size_t n, bool stable, F& on_event) {
  if (n == 0) return dispatch(on_event);
  if (n >= 5 && std::memcmp(b, "data:", 5) == 0) {
    const char* v = b + 5;
    size_t m = n - 5;
    if (m != 0 && *v == ' ') ++v, --m;
    add_data(v, m, stable);
    return true;
  }
  field(b, n, stable);
  return true;
}

inline void SseFramer::add_data(const char* v, size_t n, bool stable) {
  in_event_ = true;
  if (!has_data_) {
    has_data_ = true;
    if (stable) {
      data_view_ = std::string_view(v, n);
      data_in_input_ = true;
    } else {
      data_.assign(v, n);
      data_in_input_ = false;
    }
    return;
  }
  if (data_in_input_) {
    data_.assign(data_view_.data(), data_view_.size());
    data_in_input_ = false;
  }
  if (data_.size() + 1 + n > max_) framer_detail::throw_too_big("SSE event data", max_);
  data_.push_back('\n');
  data_.append(v, n);
}

template <class F>
bool SseFramer::feed(const char* data, size_t len, F&& on_event) {
  using framer_detail::find;
  if (len == 0) return true;
  const char* p = data;
  const char* const end = data + len;
  if (bom_ != kBomDone) {
    p = skip_bom(p, end);
    if (p == end) return true;
  }
  if (pending_cr_) {
    pending_cr_ = false;
    if (*p == '\n' && ++p == end) return true;
  }
  // Next LF and next CR at or after p; each is searched again only once p has
  // passed it, so a stream that uses one kind of line end pays one memchr per
  // line plus one per feed for the other kind.
  const char* lf = find(p, end, '\n');
  const char* cr = find(p, end, '\r');
  while (true) {
    const char* eol = lf < cr ? lf : cr;
    if (eol == end) {
      keep_partial(p, end);
      return true;
    }
    const char* next = eol + 1;
    if (*eol == '\r') {
      if (next == end) {
        pending_cr_ = true;
      } else if (*next == '\n') {
        ++next;
      }
    }
    bool go_on;
    if (carry_.empty()) {
      if (static_cast<size_t>(eol - p) > max_) framer_detail::throw_too_big("SSE line", max_);
      go_on = line(p, static_cast<size_t>(eol - p), true, on_event);
    } else {
      if (carry_.size() + static_cast<size_t>(eol - p) > max_)
        framer_detail::throw_too_big("SSE line", max_);
      carry_.append(p, eol);
      go_on = line(carry_.data(), carry_.size(), false, on_event);
      carry_.clear();
    }
    if (!go_on) {
      // The rest of this input is dropped; an event begun before it is too.
      pending_cr_ = false;
      clear_event();
      in_event_ = false;
      return false;
    }
    p = next;
    if (p == end) break;
    if (lf < p) lf = find(p, end, '\n');
    if (cr < p) cr = find(p, end, '\r');
  }
  materialize();
  return true;
}

// ------------------------------------------------------------- NdjsonFramer

inline bool NdjsonFramer::blank(const char* b, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    char c = b[i];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

template <class F>
inline bool NdjsonFramer::line(const char* b, size_t n, F& on_line) {
  if (n != 0 && b[n - 1] == '\r') --n;
  if (n == 0) return true;
  // Only a line starting with whitespace can be blank; JSON lines rarely do.
  if ((*b == ' ' || *b == '\t' || *b == '\r') && blank(b, n)) return true;
  return framer_detail::call(on_line, std::string_view(b, n));
}

template <class F>
bool NdjsonFramer::feed(const char* data, size_t len, F&& on_line) {
  const char* p = data;
  const char* const end = data + len;
  while (p != end) {
    const char* nl = framer_detail::find(p, end, '\n');
    if (nl == end) {
      if (carry_.size() + static_cast<size_t>(end - p) > max_)
        framer_detail::throw_too_big("NDJSON line", max_);
      carry_.append(p, end);
      return true;
    }
    bool go_on;
    if (carry_.empty()) {
      if (static_cast<size_t>(nl - p) > max_) framer_detail::throw_too_big("NDJSON line", max_);
      go_on = line(p, static_cast<size_t>(nl - p), on_line);
    } else {
      if (carry_.size() + static_cast<size_t>(nl - p) > max_)
        framer_detail::throw_too_big("NDJSON line", max_);
      carry_.append(p, nl);
      try {
        go_on = line(carry_.data(), carry_.size(), on_line);
      } catch (...) {
        carry_.clear();
        throw;
      }
      carry_.clear();
    }
    if (!go_on) return false;
    p = nl + 1;
  }
  return true;
}

template <class F>
bool NdjsonFramer::finish(F&& on_line) {
  std::string last;
  last.swap(carry_);
  size_t n = last.size();
  if (n != 0 && last[n - 1] == '\r') --n;
  if (blank(last.data(), n)) return false;
  framer_detail::call(on_line, std::string_view(last.data(), n));
  return true;
}

}  // namespace literllm::http
