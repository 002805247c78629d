// Base URLs as the library accepts them: checked where they enter (config,
// registration) and again once their {VAR} placeholders are filled in, so that
// a preview and a call refuse the same URLs.
#pragma once
#include <string>
#include <string_view>

namespace literllm::http {

// Why `url` cannot be a base URL, as a phrase to follow the field's name
// ("must start with http:// or https://"), or "" when it can. An http(s) URL
// with a host, and no space, control character or NUL anywhere. Text inside
// {VAR} placeholders is not judged (it is checked again once filled in).
// Never quotes the URL (it may hold credentials).
std::string url_problem(std::string_view url);

// `base` with `path` ("/chat/completions") appended to its path, before any
// query or fragment: "https://h/v1/?key=k" + "/x" = "https://h/v1/x?key=k".
std::string join_path(std::string_view base, std::string_view path);

// %XX sequences decoded (a malformed one kept as written); '+' becomes a space
// when `plus_is_space` (application/x-www-form-urlencoded), else stays.
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace literllm::http
