// What may be sent as a request header, and which headers carry credentials.
// One rule for every way a header enters: client config, provider rows and
// registrations, a request's extra_headers, and (again, as a last guard) the
// transport.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace literllm::http {

// All request headers of one call together (names and values) may not exceed
// this: curl refuses a request head of 1 MiB, and servers far less.
inline constexpr size_t kMaxRequestHeaderBytes = size_t{256} << 10;

// RFC 9110 token (a header field name, a method).
bool is_token(std::string_view s);

// A header value may hold visible characters, obs-text, space and tab; any
// other control character (CR, LF, NUL above all) cannot be sent.
bool is_valid_value(std::string_view v);

// Headers the library owns because they frame the message or the connection
// (Content-Length, Transfer-Encoding, Host, Connection, Keep-Alive, TE,
// Trailer, Upgrade, Expect, Accept-Encoding, Proxy-Connection) and HTTP/2
// pseudo-headers (":path"): a caller setting one could smuggle a request
// onto a kept-alive connection or break decoding.
bool is_reserved(std::string_view name);

// Why this header cannot be sent, as a phrase to follow the field's name
// ("is reserved: ..."), or "" when it can. Never quotes the value.
std::string header_problem(std::string_view name, std::string_view value);

// Why a request with this URL and these headers cannot be sent (together
// over kMaxRequestHeaderBytes), or "".
std::string head_size_problem(std::string_view url, const Headers& headers);

// True for a header whose value is a credential: Authorization,
// Proxy-Authorization, Cookie, api-key, x-api-key, x-goog-api-key, and any
// name containing key, token, secret, auth, cookie, signature, credential or
// password (case-insensitive).
bool is_credential(std::string_view name);

// A header name made printable for a message (a bad name may hold CR/LF).
std::string printable(std::string_view name);

}  // namespace literllm::http
