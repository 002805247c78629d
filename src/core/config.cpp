#include "core/config.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/json.hpp"
#include "http/headers.hpp"
#include "http/url.hpp"
#include "providers/registry.hpp"

namespace literllm {

namespace {

constexpr uint64_t kMaxBytesLimit = (uint64_t{2} << 30) - 1;  // RapidJSON strings and our buffers: under 2 GiB
constexpr uint64_t kMaxHeaderBytesLimit = 300 * 1024;         // libcurl's own ceiling on response headers
constexpr uint64_t kMaxCountLimit = 65536;
constexpr size_t kMaxConfigFileBytes = size_t{16} << 20;

double positive_number(const json::Value& v, const std::string& field, double max) {
  if (!v.IsNumber()) invalid("config." + field + ": expected a number, got " + json::type_name(v));
  double d = v.GetDouble();
  if (!(d > 0) || d > max) invalid("config." + field + ": must be > 0 and <= " + std::to_string(static_cast<long>(max)));
  return d;
}

std::string string_field(const json::Value& v, const std::string& field) {
  if (!v.IsString()) invalid("config." + field + ": expected a string, got " + json::type_name(v));
  return std::string(json::sv(v));
}

std::string url_field(const json::Value& v, const std::string& field) {
  std::string s = string_field(v, field);
  if (std::string why = http::url_problem(s); !why.empty()) invalid("config." + field + ": " + why);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// A key goes into a header as it is: no control character.
std::string key_field(const json::Value& v, const std::string& field) {
  std::string s = string_field(v, field);
  if (!http::is_valid_value(s))
    invalid("config." + field + ": contains a control character (CR, LF, NUL and the like cannot be sent in a header)");
  return s;
}

http::Headers headers_field(const json::Value& v, const std::string& field) {
  if (!v.IsObject()) invalid("config." + field + ": expected an object, got " + json::type_name(v));
  http::Headers h;
  for (auto& m : v.GetObject()) {
    std::string name(json::sv(m.name));
    std::string path = "config." + field + "." + http::printable(name);
    if (!m.value.IsString()) throw Error(LLM_ERR_INVALID_HEADER, path + ": expected a string");
    std::string value(json::sv(m.value));
    if (std::string why = http::header_problem(name, value); !why.empty())
      throw Error(LLM_ERR_INVALID_HEADER, path + ": " + why);
    h.emplace_back(std::move(name), std::move(value));
  }
  return h;
}

// An integer limit in [lo, hi].
uint64_t limit_field(const json::Value& v, const std::string& field, uint64_t lo, uint64_t hi) {
  if (!v.IsUint64() || v.GetUint64() < lo || v.GetUint64() > hi)
    invalid("config." + field + ": expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v.GetUint64();
}

// The canonical name of a provider known when the client is made (built in,
// or registered globally), or "" when there is none.
std::string known_provider(std::string_view name) {
  if (auto b = find_builtin(name)) return b->name;
  if (auto g = global_providers().find(name)) return normalize_provider_name(g->name);
  return {};
}

Config from_json(const json::Value& d) {
  Config c;
  if (d.IsNull()) return c;
  if (!d.IsObject()) invalid(std::string("config: expected a JSON object, got ") + json::type_name(d));
  if (auto dup = json::find_duplicate_key(d)) invalid("config" + *dup + ": appears more than once");
  Limits& lim = c.limits;
  for (auto& m : d.GetObject()) {
    std::string k(json::sv(m.name));
    const json::Value& v = m.value;
    if (k == "api_key") c.api_key = key_field(v, k);
    else if (k == "base_url") c.base_url = url_field(v, k);
    else if (k == "model_hint") {
      std::string hint = string_field(v, k);
      if (hint.empty()) invalid("config.model_hint: must not be empty");
      c.model_hint = known_provider(hint);
      if (c.model_hint.empty())
        invalid("config.model_hint: unknown provider \"" + hint +
                "\" (a built-in one, or one registered with llm_register_provider(NULL, ...) before the client is made)");
      c.model_hint_set = true;
    } else if (k == "timeout_secs") c.timeout_secs = positive_number(v, k, 86400);
    else if (k == "connect_timeout_secs") c.connect_timeout_secs = positive_number(v, k, 3600);
    else if (k == "stream_idle_timeout_secs") c.stream_idle_timeout_secs = positive_number(v, k, 86400);
    else if (k == "max_retries") {
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > 20)
        invalid("config.max_retries: expected an integer from 0 to 20");
      c.max_retries = static_cast<int>(v.GetInt64());
    } else if (k == "max_response_bytes") lim.max_response_bytes = limit_field(v, k, 1024, kMaxBytesLimit);
    else if (k == "max_stream_bytes") lim.max_stream_bytes = limit_field(v, k, 1024, kMaxBytesLimit);
    else if (k == "max_event_bytes") lim.max_event_bytes = limit_field(v, k, 1024, kMaxBytesLimit);
    else if (k == "max_header_bytes") lim.max_header_bytes = limit_field(v, k, 1024, kMaxHeaderBytesLimit);
    else if (k == "max_choices") lim.max_choices = static_cast<uint32_t>(limit_field(v, k, 1, kMaxCountLimit));
    else if (k == "max_tool_calls") lim.max_tool_calls = static_cast<uint32_t>(limit_field(v, k, 1, kMaxCountLimit));
    else if (k == "headers") c.headers = headers_field(v, k);
    else if (k == "io") {
      std::string io = string_field(v, k);
      if (io != "thread" && io != "host")
        invalid("config.io: expected \"thread\" (the client's own I/O thread) or \"host\" (the program runs the "
                "client's loop: llm_client_io_fd, llm_client_io_run)");
      c.hosted_io = io == "host";
    } else if (k == "io_threads") {
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > Config::kMaxIoThreads)
        invalid("config.io_threads: expected an integer from 0 (one per processor) to " +
                std::to_string(Config::kMaxIoThreads));
      c.io_threads = static_cast<int>(v.GetInt64());
    } else if (k == "providers") {
      if (!v.IsObject()) invalid("config.providers: expected an object, got " + std::string(json::type_name(v)));
      for (auto& p : v.GetObject()) {
        std::string pname(json::sv(p.name));
        std::string base = "providers." + pname;
        std::string key = known_provider(pname);
        if (key.empty())
          invalid("config." + base + ": unknown provider (llm_providers_json lists them; register your own with "
                  "llm_register_provider(NULL, ...) before the client is made)");
        if (!p.value.IsObject()) invalid("config." + base + ": expected an object, got " + json::type_name(p.value));
        ProviderOverride o;
        ProviderPtr spec = find_builtin(key);
        if (!spec) spec = global_providers().find(key);
        for (auto& f : p.value.GetObject()) {
          std::string fk(json::sv(f.name));
          if (fk == "api_key") o.api_key = key_field(f.value, base + "." + fk);
          else if (fk == "base_url") o.base_url = url_field(f.value, base + "." + fk);
          else if (fk == "headers") o.headers = headers_field(f.value, base + "." + fk);
          else if (const SettingSpec* st = spec ? find_setting(*spec, fk) : nullptr) {
            std::string val = st->secret ? key_field(f.value, base + "." + fk) : string_field(f.value, base + "." + fk);
            if (!st->secret && !http::is_valid_value(val))
              invalid("config." + base + "." + fk + ": contains a control character");
            o.settings.emplace_back(st->name, std::move(val));
          } else {
            std::string expected = "api_key, base_url, headers";
            if (spec)
              for (auto& ss : spec->settings) expected += ", " + ss.name;
            invalid("config." + base + "." + fk + ": unknown field (expected " + expected + ")");
          }
        }
        if (!c.providers.emplace(key, std::move(o)).second)
          invalid("config." + base + ": configures provider " + key + " a second time (under another spelling)");
      }
    } else {
      invalid("config." + k +
              ": unknown field (expected api_key, base_url, model_hint, timeout_secs, connect_timeout_secs, "
              "stream_idle_timeout_secs, max_retries, max_response_bytes, max_stream_bytes, max_event_bytes, "
              "max_header_bytes, max_choices, max_tool_calls, io, io_threads, providers, headers)");
    }
  }
  if (c.hosted_io && c.io_threads > 1)
    invalid("config.io_threads: a client with \"io\": \"host\" has one loop, the program's (io_threads " +
            std::to_string(c.io_threads) + " given)");
  return c;
}

// TOML → the JSON DOM, so both file kinds go through one validator.
void toml_to_json(const toml::node& n, json::Value& out, json::Allocator& a, const std::string& path) {
  if (auto t = n.as_table()) {
    out.SetObject();
    for (auto& [k, v] : *t) {
      json::Value child;
      toml_to_json(v, child, a, path + "." + std::string(k.str()));
      out.AddMember(json::str(k.str(), a), child, a);
    }
  } else if (auto arr = n.as_array()) {
    out.SetArray();
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& v = *arr->get(i);
      json::Value child;
      toml_to_json(v, child, a, path + "[" + std::to_string(i) + "]");
      out.PushBack(child, a);
    }
  } else if (auto s = n.as_string()) {
    out = json::str(s->get(), a);
  } else if (auto i = n.as_integer()) {
    out.SetInt64(i->get());
  } else if (auto f = n.as_floating_point()) {
    out.SetDouble(f->get());
  } else if (auto b = n.as_boolean()) {
    out.SetBool(b->get());
  } else {
    // A date, time or date-time: no config field takes one.
    invalid(path + ": a TOML date or time is not a valid value here (a string must be quoted)");
  }
}

}  // namespace

const ProviderOverride* Config::override_for(std::string_view name, const std::vector<std::string>& aliases) const {
  if (providers.empty()) return nullptr;
  auto it = providers.find(normalize_provider_name(name));
  if (it != providers.end()) return &it->second;
  for (auto& a : aliases) {
    it = providers.find(normalize_provider_name(a));
    if (it != providers.end()) return &it->second;
  }
  return nullptr;
}

int Config::auto_io_threads() {
  // The processors this process may run on (a container's CPU set), else those online.
  static const int n = [] {
    long cpus = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
    if (cpus <= 0) cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return static_cast<int>(std::clamp(cpus, 1L, 8L));
  }();
  return n;
}

Config parse_config_json(std::string_view text, size_t* error_line) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte-order mark, as editors write
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
  if (i == text.size()) return Config{};
  size_t at = SIZE_MAX;
  json::Document d;
  try {
    d = json::parse(text, "config", LLM_ERR_INVALID_ARGUMENT, &at);
  } catch (const Error&) {
    if (error_line && at != SIZE_MAX)
      *error_line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + std::min(at, text.size()), '\n'));
    throw;
  }
  return from_json(d);
}

Config parse_config_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) invalid("config file " + path + ": cannot be read (not a file)");
  // POSIX reads, so that a failing read (EIO) is an error rather than a short file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) invalid("config file " + path + ": cannot be read (" + std::strerror(errno) + ")");
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      invalid("config file " + path + ": cannot be read (" + std::strerror(err) + ")");
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > kMaxConfigFileBytes) {
      ::close(fd);
      invalid("config file " + path + ": larger than " + std::to_string(kMaxConfigFileBytes >> 20) + " MiB");
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  bool is_toml = path.size() >= 5 && path.compare(path.size() - 5, 5, ".toml") == 0;
  if (!is_toml) {
    size_t line = 0;
    try {
      return parse_config_json(text, &line);
    } catch (const Error& e) {
      if (line == 0) throw;  // valid JSON: a field's error names the field
      invalid("config file " + path + ": line " + std::to_string(line) + ": " + e.what());
    }
  }
  toml::table tbl;
  try {
    tbl = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    invalid("config file " + path + ": line " + std::to_string(e.source().begin.line) + ": " +
            std::string(e.description()));
  }
  json::Document d;
  toml_to_json(tbl, d, d.GetAllocator(), "config");
  return from_json(d);
}

}  // namespace literllm
