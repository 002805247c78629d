// literllm-upstream: the local upstream as a process, for tests in other
// languages, benchmarks and the README demo.
//
//   literllm-upstream [--port N] [--fixtures DIR] [--require-key KEY] [--aws-key ID:SECRET[:TOKEN]]
//                     [--google-account EMAIL=CERT_PEM_FILE]... [--google-token-lifetime SECS]
//                     [--google-token-delay-ms MS] [--no-record] [--exit-on-stdin-eof]
//
// Prints "LISTENING <port>" on stdout once it accepts connections, then serves
// until SIGINT or SIGTERM (or, with --exit-on-stdin-eof, until stdin closes:
// a parent that dies takes the server with it).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "upstream.hpp"

namespace {

void usage(FILE* to) {
  std::fputs(
      "usage: literllm-upstream [--port N] [--fixtures DIR] [--require-key KEY] [--aws-key ID:SECRET[:TOKEN]]\n"
      "                         [--google-account EMAIL=CERT_PEM_FILE]... [--google-token-lifetime SECS]\n"
      "                         [--google-token-delay-ms MS] [--no-record] [--exit-on-stdin-eof]\n"
      "  --port N             listen on 127.0.0.1:N (default: a free port)\n"
      "  --fixtures DIR       root for x-upstream-replay paths\n"
      "  --require-key KEY    answer 401 unless a request carries KEY (Bearer, x-api-key or api-key)\n"
      "  --aws-key ID:SECRET[:TOKEN]  Bedrock routes: require SigV4 signatures made with these AWS credentials\n"
      "  --google-account EMAIL=CERT_PEM_FILE  POST /token accepts JWT assertions of this service account, checked\n"
      "                       with the RSA key of the PEM (X.509 certificate or public key); Vertex routes then\n"
      "                       require the access tokens it issues (may repeat)\n"
      "  --google-token-lifetime SECS  expires_in of the tokens issued (default 3599)\n"
      "  --google-token-delay-ms MS    POST /token waits this long before answering\n"
      "  --no-record          keep no copy of requests (GET /__requests answers [])\n"
      "  --exit-on-stdin-eof  stop when stdin reaches end of file\n"
      "Prints \"LISTENING <port>\" when ready; stops on SIGINT or SIGTERM.\n",
      to);
}

}  // namespace

int main(int argc, char** argv) {
  literllm::testing::UpstreamOptions opts;
  bool exit_on_eof = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "literllm-upstream: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") {
      char* end = nullptr;
      const char* v = value();
      long p = std::strtol(v, &end, 10);
      if (!*v || *end || p < 0 || p > 65535) {
        std::fprintf(stderr, "literllm-upstream: bad port '%s'\n", v);
        return 2;
      }
      opts.port = static_cast<uint16_t>(p);
    } else if (a == "--fixtures") {
      opts.fixtures_dir = value();
    } else if (a == "--require-key") {
      opts.require_api_key = value();
    } else if (a == "--aws-key") {
      // ID:SECRET or ID:SECRET:TOKEN (the session token may hold ':' itself).
      std::string v = value();
      size_t c1 = v.find(':');
      size_t c2 = c1 == std::string::npos ? std::string::npos : v.find(':', c1 + 1);
      if (c1 == std::string::npos || c1 == 0 || c1 + 1 == v.size() || c2 == c1 + 1) {
        std::fprintf(stderr, "literllm-upstream: --aws-key takes ID:SECRET or ID:SECRET:TOKEN\n");
        return 2;
      }
      opts.aws_credentials.access_key_id = v.substr(0, c1);
      opts.aws_credentials.secret_access_key = v.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
      if (c2 != std::string::npos) opts.aws_credentials.session_token = v.substr(c2 + 1);
    } else if (a == "--google-account") {
      std::string v = value();
      size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) {
        std::fprintf(stderr, "literllm-upstream: --google-account takes EMAIL=CERT_PEM_FILE\n");
        return 2;
      }
      std::ifstream f(v.substr(eq + 1), std::ios::binary);
      std::ostringstream pem;
      if (!f || !(pem << f.rdbuf())) {
        std::fprintf(stderr, "literllm-upstream: cannot read '%s'\n", v.substr(eq + 1).c_str());
        return 2;
      }
      opts.google_accounts.push_back({v.substr(0, eq), pem.str(), ""});
    } else if (a == "--google-token-lifetime" || a == "--google-token-delay-ms") {
      char* end = nullptr;
      const char* v = value();
      long n = std::strtol(v, &end, 10);
      if (!*v || *end || n < 0 || n > 86400000) {
        std::fprintf(stderr, "literllm-upstream: bad %s '%s'\n", a.c_str(), v);
        return 2;
      }
      int& field = a == "--google-token-lifetime" ? opts.google_token_lifetime_secs : opts.google_token_delay_ms;
      field = static_cast<int>(n);
    } else if (a == "--no-record") {
      opts.record_requests = false;
    } else if (a == "--exit-on-stdin-eof") {
      exit_on_eof = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "literllm-upstream: unknown argument '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }

  // Block the stop signals in every thread (the server's thread inherits the
  // mask) and take them synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<literllm::testing::Upstream> holder;
  try {
    holder = std::make_unique<literllm::testing::Upstream>(opts);  // throws for a PEM that is no RSA key
    holder->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  literllm::testing::Upstream& server = *holder;
  std::printf("LISTENING %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  if (exit_on_eof) {
    std::thread([] {
      char buf[256];
      for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
      }
      kill(getpid(), SIGTERM);
    }).detach();
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  return 0;
}
