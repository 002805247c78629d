#include "core/config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/json.hpp"
#include "providers/registry.hpp"

namespace literllm {

namespace {

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
  if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0)
    invalid("config." + field + ": must start with http:// or https://");
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

http::Headers headers_field(const json::Value& v, const std::string& field) {
  if (!v.IsObject()) invalid("config." + field + ": expected an object, got " + json::type_name(v));
  http::Headers h;
  for (auto& m : v.GetObject()) {
    std::string name(json::sv(m.name));
    if (!m.value.IsString()) invalid("config." + field + "." + name + ": expected a string");
    h.emplace_back(name, std::string(json::sv(m.value)));
  }
  return h;
}

Config from_json(const json::Value& d) {
  Config c;
  if (d.IsNull()) return c;
  if (!d.IsObject()) invalid(std::string("config: expected a JSON object, got ") + json::type_name(d));
  for (auto& m : d.GetObject()) {
    std::string k(json::sv(m.name));
    const json::Value& v = m.value;
    if (k == "api_key") c.api_key = string_field(v, k);
    else if (k == "base_url") c.base_url = url_field(v, k);
    else if (k == "model_hint") {
      c.model_hint = normalize_provider_name(string_field(v, k));
      if (c.model_hint.empty()) invalid("config.model_hint: must not be empty");
      c.model_hint_set = true;
    } else if (k == "timeout_secs") c.timeout_secs = positive_number(v, k, 86400);
    else if (k == "connect_timeout_secs") c.connect_timeout_secs = positive_number(v, k, 3600);
    else if (k == "stream_idle_timeout_secs") c.stream_idle_timeout_secs = positive_number(v, k, 86400);
    else if (k == "max_retries") {
      if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > 20)
        invalid("config.max_retries: expected an integer from 0 to 20");
      c.max_retries = static_cast<int>(v.GetInt64());
    } else if (k == "headers") c.headers = headers_field(v, k);
    else if (k == "providers") {
      if (!v.IsObject()) invalid("config.providers: expected an object, got " + std::string(json::type_name(v)));
      for (auto& p : v.GetObject()) {
        std::string pname(json::sv(p.name));
        std::string base = "providers." + pname;
        if (!p.value.IsObject()) invalid("config." + base + ": expected an object, got " + json::type_name(p.value));
        ProviderOverride o;
        for (auto& f : p.value.GetObject()) {
          std::string fk(json::sv(f.name));
          if (fk == "api_key") o.api_key = string_field(f.value, base + "." + fk);
          else if (fk == "base_url") o.base_url = url_field(f.value, base + "." + fk);
          else if (fk == "headers") o.headers = headers_field(f.value, base + "." + fk);
          else invalid("config." + base + "." + fk + ": unknown field (expected api_key, base_url, headers)");
        }
        std::string key = normalize_provider_name(pname);
        if (auto b = find_builtin(key)) key = b->name;  // an alias configures its provider
        if (!c.providers.emplace(key, std::move(o)).second)
          invalid("config." + base + ": configures provider " + key + " a second time (under another spelling)");
      }
    } else {
      invalid("config." + k +
              ": unknown field (expected api_key, base_url, model_hint, timeout_secs, connect_timeout_secs, "
              "stream_idle_timeout_secs, max_retries, providers, headers)");
    }
  }
  return c;
}

// TOML → the JSON DOM, so both file kinds go through one validator.
void toml_to_json(const toml::node& n, json::Value& out, json::Allocator& a) {
  if (auto t = n.as_table()) {
    out.SetObject();
    for (auto& [k, v] : *t) {
      json::Value child;
      toml_to_json(v, child, a);
      out.AddMember(json::str(k.str(), a), child, a);
    }
  } else if (auto arr = n.as_array()) {
    out.SetArray();
    for (auto& v : *arr) {
      json::Value child;
      toml_to_json(v, child, a);
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
    out.SetString("(date/time)", a);  // dates are never valid config values; the validator names the field
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

Config parse_config_json(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte-order mark, as editors write
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
  if (i == text.size()) return Config{};
  json::Document d = json::parse(text, "config", LLM_ERR_INVALID_ARGUMENT);
  return from_json(d);
}

Config parse_config_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) invalid("config file " + path + ": cannot be read (not a file)");
  std::ifstream f(path, std::ios::binary);
  if (!f) invalid("config file " + path + ": cannot be read");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) invalid("config file " + path + ": cannot be read");
  std::string text = ss.str();
  bool is_toml = path.size() >= 5 && path.compare(path.size() - 5, 5, ".toml") == 0;
  if (!is_toml) return parse_config_json(text);
  toml::table tbl;
  try {
    tbl = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    invalid("config file " + path + ": line " + std::to_string(e.source().begin.line) + ": " +
            std::string(e.description()));
  }
  json::Document d;
  toml_to_json(tbl, d, d.GetAllocator());
  return from_json(d);
}

}  // namespace literllm
