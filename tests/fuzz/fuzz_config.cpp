// libFuzzer target for the client configuration: parse_config_json (the JSON
// llm_client_new takes) and parse_config_file on a ".toml" path (toml++, then
// the TOML -> JSON DOM conversion, then the same validator).
//
// Input: the whole input is given to parse_config_json, and is written to a
// per-process file named *.toml that parse_config_file reads (a memfd behind a
// symlink; see TomlFile).
// Checked (any failure aborts):
//  - only literllm::Error leaves either call, with status INVALID_ARGUMENT
//    (INVALID_HEADER for a header field) and a message naming "config" (or the file);
//  - an accepted configuration holds only values the validator allows
//    (timeouts > 0 and within their caps, retries 0..20, base URLs with an
//    http(s) scheme and no trailing '/', a non-empty model_hint).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "fuzz_util.hpp"

namespace {

using namespace literllm;

constexpr const char* kName = "fuzz_config";

[[noreturn]] void fail(const char* what, std::string_view detail = {}) { fuzz::fail(kName, what, detail); }

// The ".toml" file parse_config_file reads. Its bytes live in a memfd (written
// in place on every run: no disk I/O, which is several times slower here than
// the parse); the path is a per-process symlink to /proc/self/fd/N, so that
// parse_config_file sees a regular file whose name ends in ".toml". Without
// memfd, a plain temporary file is used.
struct TomlFile {
  std::string path;
  int fd = -1;  // the memfd, or -1

  TomlFile() {
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/literllm-fuzz-config-" + std::to_string(getpid()) + ".toml";
    std::remove(path.c_str());
    fd = static_cast<int>(memfd_create("literllm-fuzz-config", MFD_CLOEXEC));
    if (fd >= 0 && symlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), path.c_str()) != 0) {
      close(fd);
      fd = -1;
    }
    std::atexit([] { std::remove(toml_file().path.c_str()); });
  }

  void write(std::string_view text) const {
    if (fd >= 0) {
      if (ftruncate(fd, 0) != 0) fail("cannot truncate the memfd");
      if (!text.empty() && pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
        fail("short write to the memfd");
      return;
    }
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) fail("cannot write the temporary file", path);
    if (!text.empty() && std::fwrite(text.data(), 1, text.size(), f) != text.size()) fail("short write", path);
    if (std::fclose(f) != 0) fail("cannot close the temporary file", path);
  }

  static const TomlFile& toml_file();
};

const TomlFile& TomlFile::toml_file() {
  static const TomlFile* f = new TomlFile;  // never destroyed: the atexit hook uses it
  return *f;
}

bool good_url(const std::string& u) {
  return (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) && u.back() != '/';
}

void check_config(const Config& c, const char* which) {
  auto bad = [&](const char* what) { fail(what, which); };
  if (!(c.timeout_secs > 0 && c.timeout_secs <= 86400)) bad("timeout_secs out of range");
  if (!(c.connect_timeout_secs > 0 && c.connect_timeout_secs <= 3600)) bad("connect_timeout_secs out of range");
  if (!(c.stream_idle_timeout_secs > 0 && c.stream_idle_timeout_secs <= 86400))
    bad("stream_idle_timeout_secs out of range");
  if (c.max_retries < 0 || c.max_retries > 20) bad("max_retries out of range");
  if (c.model_hint.empty()) bad("empty model_hint");
  if (c.base_url && !good_url(*c.base_url)) bad("a bad base_url was accepted");
  for (auto& [name, o] : c.providers) {
    if (o.base_url && !good_url(*o.base_url)) bad("a bad providers.*.base_url was accepted");
    (void)c.override_for(name, {});
  }
}

void check_error(const Error& e, std::string_view must_name) {
  const std::string_view msg = e.what();
  // A header that cannot be sent is LLM_ERR_INVALID_HEADER, and then it is a header field.
  const bool header = e.status() == LLM_ERR_INVALID_HEADER && msg.find(".headers.") != std::string_view::npos;
  if (e.status() != LLM_ERR_INVALID_ARGUMENT && !header)
    fail("a rejected config has a status other than INVALID_ARGUMENT (INVALID_HEADER for a header)", msg);
  if (msg.find(must_name) == std::string_view::npos) fail("the message does not name the config or the file", msg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  try {
    check_config(parse_config_json(text), "parse_config_json");
  } catch (const Error& e) {
    check_error(e, "config");
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }

  const TomlFile& file = TomlFile::toml_file();
  file.write(text);
  try {
    check_config(parse_config_file(file.path), "parse_config_file (.toml)");
  } catch (const Error& e) {
    check_error(e, "config");
    const std::string unreadable = "config file " + file.path + ": cannot be read";
    if (std::string_view(e.what()).rfind(unreadable, 0) == 0)
      fail("the harness's .toml file could not be read", e.what());  // would hide every TOML run
  } catch (...) {
    fuzz::fail_foreign_exception(kName);
  }
  return 0;
}
