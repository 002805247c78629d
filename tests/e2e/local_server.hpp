// Helpers for end-to-end tests that run an external server on 127.0.0.1
// (openssl s_server, nghttpx): a free port, a readiness probe, a self-signed
// certificate for 127.0.0.1, a child process, and CURL_CA_BUNDLE restored after.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <utility>
#include <string>
#include <thread>
#include <vector>

namespace e2e {

inline uint16_t free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

inline bool can_connect(uint16_t port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

// Waits up to 5 s for something to listen on `port`.
inline bool wait_listening(uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    if (can_connect(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

inline bool have_command(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// A fresh directory under the test temp dir, removed with the object.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::path(::testing::TempDir()) / ("literllm_" + tag + "_" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// A self-signed certificate for 127.0.0.1 (cert.pem, key.pem in `dir`); false if openssl failed.
inline bool make_certificate(const TempDir& dir) {
  std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + dir.file("key.pem") + "' -out '" +
                    dir.file("cert.pem") +
                    "' -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
  return std::system(gen.c_str()) == 0;
}

// Starts `argv` (searched in PATH) with posix_spawn; `out_fd` >= 0 becomes its
// stdout and stderr. The pid, or -1. Never fork() and then allocate: the
// sanitizer runtimes' allocators are not fork-safe, and a child forked while
// another thread (the upstream's) held their lock hung before its exec.
inline pid_t spawn(const std::vector<std::string>& argv, int out_fd = -1) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
  }
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// A child process running `argv`, terminated and reaped with the object.
struct Child {
  pid_t pid = -1;
  explicit Child(const std::vector<std::string>& argv) : pid(spawn(argv)) {}
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
};

// An environment variable set for the object's life, restored (or unset) afterwards.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> saved;
  explicit ScopedEnv(std::string var) : name(std::move(var)) {
    if (const char* v = std::getenv(name.c_str())) saved = v;
  }
  void set(const std::string& value) { setenv(name.c_str(), value.c_str(), 1); }
  ~ScopedEnv() {
    if (saved) setenv(name.c_str(), saved->c_str(), 1);
    else unsetenv(name.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
};

// CURL_CA_BUNDLE (read when a client is made), restored afterwards.
struct TrustedBundle : ScopedEnv {
  TrustedBundle() : ScopedEnv("CURL_CA_BUNDLE") {}
  void trust(const std::string& cert) { set(cert); }
};

}  // namespace e2e
