// UTF-8 checks for text that leaves the library (error messages, codes):
// provider bodies are bytes, and a caller's binding may reject invalid UTF-8.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace literllm {

// True when `s` is well-formed UTF-8 (Unicode Table 3-7: no overlong form, no
// surrogate, nothing above U+10FFFF, no cut or stray byte).
bool is_valid_utf8(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD, one per maximal
// subpart (Unicode 3.9, "U+FFFD Substitution of Maximal Subparts"):
// "\xE9\xFF\xFE" gives three, a cut "\xF0\x9F\x98" one. Valid text is unchanged.
std::string valid_utf8(std::string_view s);

// Shortens `s` to at most `max_bytes`, never cutting a character in half (for
// valid UTF-8; on ill-formed text it backs up at most three bytes).
void clip_utf8(std::string& s, size_t max_bytes);

}  // namespace literllm
