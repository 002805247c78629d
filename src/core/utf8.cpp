#include "core/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace literllm {

namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Bytes in the sequence `lead` starts (per its bit pattern), 0 for a byte
// that cannot start one (continuation byte, C0/C1, F5..FF).
size_t sequence_bytes(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

// At p[0] (not ASCII), `avail` bytes left: the length of the well-formed
// sequence there, or 0 and in `bad` the length of its maximal ill-formed
// subpart (at least 1).
size_t check_sequence(const unsigned char* p, size_t avail, size_t* bad) {
  const unsigned char lead = p[0];
  const size_t n = sequence_bytes(lead);
  *bad = 1;
  if (n == 0) return 0;
  // The second byte's range narrows after E0 (overlong), ED (surrogates),
  // F0 (overlong) and F4 (above U+10FFFF); Table 3-7.
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead == 0xE0) lo = 0xA0;
  else if (lead == 0xED) hi = 0x9F;
  else if (lead == 0xF0) lo = 0x90;
  else if (lead == 0xF4) hi = 0x8F;
  for (size_t k = 1; k < n; ++k) {
    if (k >= avail) return 0;  // cut short: the bytes so far are one subpart
    const unsigned char c = p[k];
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return 0;
    *bad = k + 1;
  }
  return n;
}

// Bytes from `i` on that are ASCII, eight at a time where it can.
size_t ascii_run(const unsigned char* p, size_t size, size_t i) {
  while (i + 8 <= size) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < size && p[i] < 0x80) ++i;
  return i;
}

// The offset of the first ill-formed byte, or s.size().
size_t first_invalid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (true) {
    i = ascii_run(p, s.size(), i);
    if (i == s.size()) return i;
    size_t bad;
    const size_t n = check_sequence(p + i, s.size() - i, &bad);
    if (n == 0) return i;
    i += n;
  }
}

}  // namespace

bool is_valid_utf8(std::string_view s) { return first_invalid(s) == s.size(); }

std::string valid_utf8(std::string_view s) {
  size_t i = first_invalid(s);
  if (i == s.size()) return std::string(s);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  out.reserve(s.size() + 8);
  out.append(s.substr(0, i));
  while (i < s.size()) {
    if (p[i] < 0x80) {
      out += s[i++];
      continue;
    }
    size_t bad;
    const size_t n = check_sequence(p + i, s.size() - i, &bad);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += kReplacement;
      i += bad;
    }
  }
  return out;
}

void clip_utf8(std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return;
  // Find the lead byte of the character at the cut (at most three back).
  size_t k = max_bytes;
  while (k > 0 && max_bytes - k < 3 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  const size_t n = sequence_bytes(static_cast<unsigned char>(s[k]));
  // Cut before it when its sequence would not fit, else exactly at max_bytes.
  s.resize(n > 1 && k + n > max_bytes ? k : max_bytes);
}

}  // namespace literllm
