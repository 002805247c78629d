// Internal to the local upstream: a multipart/form-data parser (RFC 7578 over
// RFC 2046's multipart syntax), for the OpenAI routes that take uploads
// (openai_endpoints.cpp). Free of Boost and RapidJSON; parts are views into
// the body, which must outlive them.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace literllm::testing::multipart {

struct Part {
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, names as given
  std::string name;                 // Content-Disposition's name
  std::optional<std::string> filename;  // Content-Disposition's filename (or filename*, UTF-8 decoded)
  std::string content_type;         // the part's Content-Type ("" when absent)
  std::string_view data;            // the part's bytes, exactly
};

// The boundary of a Content-Type header "multipart/form-data; boundary=..."
// (quoted or not; parameters in any order, names case-insensitive). nullopt
// when the type is not multipart/form-data, or the boundary is missing,
// empty, longer than 70 characters or has characters RFC 2046 does not allow.
std::optional<std::string> boundary_of(std::string_view content_type);

// Splits `body` into its parts. Ignores the preamble (before the first
// delimiter) and the epilogue (after the closing one); allows transport
// padding (spaces, tabs) after a delimiter; takes LF line ends as well as
// CRLF in the part headers. Fails (false, `error` saying why and where) when
// the first delimiter or the closing delimiter is missing, a part's headers
// do not end, a header line has no colon, or a part has no
// Content-Disposition "form-data" with a name.
bool parse(std::string_view body, std::string_view boundary, std::vector<Part>& out, std::string& error);

}  // namespace literllm::testing::multipart
