// The local upstream as a child process (the `literllm-upstream` executable),
// for programs that measure their own memory or descriptors and must not
// count the server's. The child stops when this object is destroyed, or when
// the parent dies (it exits when its stdin closes).
#pragma once
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace literllm::testing {

class UpstreamProcess {
 public:
  // Starts `exe` with --no-record --exit-on-stdin-eof plus `args`; waits for "LISTENING <port>".
  explicit UpstreamProcess(const std::string& exe, const std::vector<std::string>& args = {}) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    std::vector<std::string> all = {exe, "--no-record", "--exit-on-stdin-eof"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    int rc = posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    if (rc != 0) {
      close(out[0]);
      close(stdin_);
      throw std::runtime_error("cannot start " + exe + ": " + std::strerror(rc));
    }
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    unsigned port = 0;
    if (std::sscanf(line.c_str(), "LISTENING %u", &port) != 1 || port == 0 || port > 65535) {
      stop();
      throw std::runtime_error(exe + " did not start: \"" + line + "\"");
    }
    port_ = static_cast<uint16_t>(port);
  }
  ~UpstreamProcess() { stop(); }
  UpstreamProcess(const UpstreamProcess&) = delete;
  UpstreamProcess& operator=(const UpstreamProcess&) = delete;

  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  pid_t pid() const { return pid_; }

  void stop() {
    if (stdin_ >= 0) {
      close(stdin_);  // --exit-on-stdin-eof
      stdin_ = -1;
    }
    if (pid_ > 0) {
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  uint16_t port_ = 0;
};

}  // namespace literllm::testing
