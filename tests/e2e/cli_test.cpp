// End-to-end tests of the `literllm` command-line tool (tools/cli): the built
// program runs as a child process against the local upstream, and each test
// checks its stdout, stderr and exit status.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "../upstream/upstream.hpp"

extern char** environ;

namespace {

constexpr const char* kKeyEnv = "LITERLLM_CLI_TEST_KEY";
constexpr const char* kKey = "sk-cli-test-0123456789abcdef";

struct CliRun {
  int exit_code = -1;  // the exit status, 128 + N when killed by signal N, -1 on a timeout
  std::string out, err;
};

// Runs the CLI with `args`, feeding `input` on stdin (then closing it).
// `on_output`, when given, is called after each read of stdout with the
// child's pid and everything it has written so far.
CliRun run_cli(const std::vector<std::string>& args, const std::string& input = "",
            const std::function<void(pid_t, const std::string&)>& on_output = nullptr,
            std::chrono::seconds limit = std::chrono::seconds(60)) {
  // A child that exits before reading its stdin must not kill the test.
  static const bool sigpipe_ignored = [] { return signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)sigpipe_ignored;

  CliRun r;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_store;
  argv_store.push_back(LITERLLM_CLI_PATH);
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, LITERLLM_CLI_PATH, &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << LITERLLM_CLI_PATH << ": " << std::strerror(rc);
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return r;
  }

  fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0], err_fd = err[0];
  auto deadline = std::chrono::steady_clock::now() + limit;
  bool timed_out = false;
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in_fd >= 0) {
      idx_in = static_cast<int>(n);
      fds[n++] = {in_fd, POLLOUT, 0};
    }
    if (out_fd >= 0) {
      idx_out = static_cast<int>(n);
      fds[n++] = {out_fd, POLLIN, 0};
    }
    if (err_fd >= 0) {
      idx_err = static_cast<int>(n);
      fds[n++] = {err_fd, POLLIN, 0};
    }
    int ready = poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = write(in_fd, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN) || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    auto drain = [&](int idx, int& fd, std::string& into, bool notify) {
      if (idx < 0 || !fds[idx].revents) return;
      ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0) {
        into.append(buf, static_cast<size_t>(got));
        if (notify && on_output) on_output(pid, into);
      } else if (got == 0 || errno != EINTR) {
        close(fd);
        fd = -1;
      }
    };
    drain(idx_out, out_fd, r.out, true);
    drain(idx_err, err_fd, r.err, false);
  }
  if (timed_out) kill(pid, SIGKILL);
  for (int fd : {in_fd, out_fd, err_fd})
    if (fd >= 0) close(fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    ADD_FAILURE() << "the CLI did not finish within " << limit.count() << " s";
    r.exit_code = -1;
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  return r;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv(kKeyEnv, kKey, 1);
    up_.start();
  }
  void TearDown() override { up_.stop(); }

  // `literllm <command> -m openai/gpt-4o-mini --base-url <upstream> --api-key-env <var> <extra...>`
  std::vector<std::string> args(const std::string& command, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{command, "-m", "openai/gpt-4o-mini", "--base-url", up_.base_url(), "--api-key-env",
                               kKeyEnv};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  literllm::testing::Upstream up_;
};

const std::string kReply = "Hello from the local upstream. You said: ";

TEST_F(CliTest, ChatPrintsTheReply) {
  CliRun r = run_cli(args("chat", {"hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kReply + "hello\n");
  EXPECT_EQ(r.err, "");
  auto reqs = up_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
}

TEST_F(CliTest, ChatJoinsTheWordsWithSpaces) {
  CliRun r = run_cli(args("chat", {"two", "words", "--", "-v"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kReply + "two words -v\n");
}

TEST_F(CliTest, ChatReadsThePromptFromStdin) {
  CliRun r = run_cli(args("chat"), "what is on stdin?\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kReply + "what is on stdin?\n");
}

TEST_F(CliTest, ChatReadsALargeStdin) {
  std::string big;
  while (big.size() < 300000) big += "lorem ipsum dolor sit amet ";
  big += "END";
  CliRun r = run_cli(args("chat"), big);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kReply + big + "\n");
}

TEST_F(CliTest, ChatWithAConfigFile) {
  char path[] = "/tmp/literllm-cli-test-XXXXXX.json";
  int fd = mkstemps(path, 5);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  std::string config = std::string(R"({"providers": {"openai": {"base_url": ")") + up_.base_url() +
                       R"(", "api_key": ")" + kKey + R"("}}})";
  ASSERT_EQ(write(fd, config.data(), config.size()), static_cast<ssize_t>(config.size()));
  close(fd);
  CliRun r = run_cli({"chat", "--config", path, "-m", "openai/gpt-4o-mini", "from", "a", "file"});
  CliRun bad = run_cli({"chat", "--config", "/nonexistent/literllm.json", "-m", "openai/gpt-4o-mini", "hi"});
  unlink(path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kReply + "from a file\n");
  auto reqs = up_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(bad.exit_code, 11) << bad.err;  // LLM_ERR_INVALID_ARGUMENT
  EXPECT_TRUE(contains(bad.err, "literllm: LLM_ERR_INVALID_ARGUMENT: ")) << bad.err;
}

TEST_F(CliTest, StreamPrintsTheSameAsNonStream) {
  const std::string prompt = "caf\xc3\xa9 \xf0\x9f\x98\x80 \"quoted\" back\\slash\ttab";
  CliRun plain = run_cli(args("chat", {prompt}));
  CliRun streamed = run_cli(args("chat", {"--stream", prompt}));
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_EQ(plain.out, kReply + prompt + "\n");
  EXPECT_EQ(streamed.out, plain.out);
}

TEST_F(CliTest, MaxTokensAndTemperatureReachTheRequest) {
  CliRun r = run_cli(args("chat", {"--max-tokens", "3", "--temperature=0.25", "hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello from the\n");
  auto reqs = up_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document body;
  body.Parse(reqs[0].body.c_str());
  ASSERT_TRUE(body.IsObject()) << reqs[0].body;
  ASSERT_TRUE(body.HasMember("temperature"));
  EXPECT_DOUBLE_EQ(body["temperature"].GetDouble(), 0.25);
}

TEST_F(CliTest, JsonPrintsTheResponseObject) {
  CliRun r = run_cli(args("chat", {"--json", "hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "chat.completion")) << r.out;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << r.out;
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["object"].GetString(), "chat.completion");
  EXPECT_EQ(std::string(doc["choices"][0]["message"]["content"].GetString()), kReply + "hello");
}

TEST_F(CliTest, StreamJsonPrintsOneChunkPerLine) {
  CliRun r = run_cli(args("chat", {"--stream", "--json", "hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n');
  std::string text;
  auto lines = lines_of(r.out);
  EXPECT_GE(lines.size(), 2u);
  for (const std::string& line : lines) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    ASSERT_FALSE(doc.HasParseError()) << line;
    ASSERT_TRUE(doc.IsObject()) << line;
    EXPECT_STREQ(doc["object"].GetString(), "chat.completion.chunk");
    if (doc.HasMember("choices") && doc["choices"].IsArray() && !doc["choices"].Empty()) {
      const auto& delta = doc["choices"][0]["delta"];
      if (delta.HasMember("content") && delta["content"].IsString()) text += delta["content"].GetString();
    }
  }
  EXPECT_EQ(text, kReply + "hello");
}

TEST_F(CliTest, VerbosePrintsTokenUsageToStderr) {
  CliRun r = run_cli(args("chat", {"-v", "hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kReply + "hello\n");
  EXPECT_TRUE(contains(r.err, "tokens: prompt ")) << r.err;
}

TEST_F(CliTest, SystemMessageReachesTheUpstream) {
  CliRun r = run_cli(args("chat", {"--system", "Answer like a pirate.", "hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto reqs = up_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  rapidjson::Document body;
  body.Parse(reqs[0].body.c_str());
  ASSERT_TRUE(body.IsObject()) << reqs[0].body;
  const auto& messages = body["messages"];
  ASSERT_TRUE(messages.IsArray());
  ASSERT_EQ(messages.Size(), 2u);
  EXPECT_STREQ(messages[0]["role"].GetString(), "system");
  EXPECT_STREQ(messages[0]["content"].GetString(), "Answer like a pirate.");
  EXPECT_STREQ(messages[1]["role"].GetString(), "user");
  EXPECT_STREQ(messages[1]["content"].GetString(), "hello");
}

TEST_F(CliTest, HeaderIsSentWithTheRequest) {
  CliRun r = run_cli(args("chat", {"--header", "X-Cli-Test: yes please", "-H", "x-other:1", "hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto reqs = up_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("x-cli-test"), "yes please");
  EXPECT_EQ(reqs[0].header("x-other"), "1");
}

TEST_F(CliTest, AuthenticationFailureExits12) {
  CliRun r = run_cli(args("chat", {"--header", "x-upstream-status: 401", "hello"}));
  EXPECT_EQ(r.exit_code, 12);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "literllm: LLM_ERR_AUTHENTICATION: ")) << r.err;
  EXPECT_FALSE(contains(r.err, kKey));
}

TEST_F(CliTest, RateLimitExits13) {
  CliRun r = run_cli(args("chat", {"--header", "x-upstream-status: 429", "--stream", "hello"}));
  EXPECT_EQ(r.exit_code, 13) << r.err;
  EXPECT_TRUE(contains(r.err, "LLM_ERR_RATE_LIMITED")) << r.err;
}

TEST_F(CliTest, PreviewRedactsTheKey) {
  CliRun r = run_cli(args("preview", {"hello"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(contains(r.out, kKey)) << r.out;
  EXPECT_TRUE(contains(r.out, "[REDACTED]")) << r.out;
  rapidjson::Document doc;
  doc.Parse(r.out.c_str());
  ASSERT_TRUE(doc.IsObject()) << r.out;
  ASSERT_TRUE(doc.HasMember("url"));
  EXPECT_TRUE(contains(doc["url"].GetString(), up_.base_url())) << doc["url"].GetString();
  ASSERT_TRUE(doc.HasMember("body") && doc["body"].IsString());
  EXPECT_TRUE(contains(doc["body"].GetString(), "hello"));
  EXPECT_TRUE(up_.requests().empty()) << "preview must not send anything";
}

TEST_F(CliTest, ProvidersListsOpenaiAndGroq) {
  CliRun r = run_cli({"providers"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  bool openai = false, groq = false;
  for (const std::string& line : lines_of(r.out)) {
    openai = openai || line.rfind("openai ", 0) == 0;
    groq = groq || line.rfind("groq ", 0) == 0;
  }
  EXPECT_TRUE(openai) << r.out;
  EXPECT_TRUE(groq) << r.out;
  EXPECT_TRUE(contains(r.out, "OPENAI_API_KEY")) << r.out;

  CliRun j = run_cli({"providers", "--json"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  rapidjson::Document doc;
  doc.Parse(j.out.c_str());
  ASSERT_TRUE(doc.IsArray()) << j.out;
  bool has_groq = false;
  for (const auto& p : doc.GetArray())
    if (p.IsObject() && p.HasMember("name") && p["name"].IsString()) has_groq = has_groq || std::string(p["name"].GetString()) == "groq";
  EXPECT_TRUE(has_groq);
}

TEST_F(CliTest, UsageErrorsExit2) {
  CliRun no_model = run_cli({"chat", "hello"});
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_TRUE(contains(no_model.err, "-m")) << no_model.err;

  CliRun unknown_option = run_cli(args("chat", {"--no-such-option", "hello"}));
  EXPECT_EQ(unknown_option.exit_code, 2);
  EXPECT_TRUE(contains(unknown_option.err, "--no-such-option")) << unknown_option.err;

  EXPECT_EQ(run_cli(args("chat", {"--temperature", "warm", "hello"})).exit_code, 2);
  EXPECT_EQ(run_cli(args("chat", {"--max-tokens", "12x", "hello"})).exit_code, 2);
  EXPECT_EQ(run_cli(args("chat", {"--max-tokens"})).exit_code, 2);
  EXPECT_EQ(run_cli(args("chat", {"--header", "no colon", "hello"})).exit_code, 2);
  EXPECT_EQ(run_cli({"chat", "-m", "openai/x", "--config", "/nonexistent.json", "--base-url", "http://x", "hi"}).exit_code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_cli({}).exit_code, 2);
  EXPECT_TRUE(up_.requests().empty());
}

TEST_F(CliTest, AMalformedHeaderIsNotEchoed) {
  // Was a bug (fixed): the usage error printed the argument, a bearer key as often as not.
  const std::string secret = "sk-cli-SECRET-0123456789abcdef";
  CliRun r = run_cli(args("chat", {"-H", "x-ok: 1", "-H", "Authorization Bearer " + secret, "hello"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "--header #2")) << r.err;
  EXPECT_FALSE(contains(r.err, secret)) << r.err;
  EXPECT_FALSE(contains(r.out, secret)) << r.out;
  // A well-formed header the library refuses: named, value unseen, nothing sent.
  CliRun reserved = run_cli(args("chat", {"-H", "Content-Length: 56", "-H", "X-Api-Key: " + secret, "hello"}));
  EXPECT_EQ(reserved.exit_code, 23) << "10 + LLM_ERR_INVALID_HEADER: " << reserved.err;
  EXPECT_TRUE(contains(reserved.err, "Content-Length")) << reserved.err;
  EXPECT_FALSE(contains(reserved.err, secret)) << reserved.err;
  EXPECT_TRUE(up_.requests().empty());
}

TEST_F(CliTest, UnknownProviderPrefixListsTheProviders) {
  CliRun r = run_cli({"chat", "-m", "nosuchprovider/some-model", "hello"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "nosuchprovider")) << r.err;
  EXPECT_TRUE(contains(r.err, "openai")) << r.err;
  EXPECT_TRUE(contains(r.err, "groq")) << r.err;
}

TEST_F(CliTest, HelpAndVersion) {
  CliRun help = run_cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "chat")) << help.out;
  EXPECT_TRUE(contains(help.out, "Exit status")) << help.out;

  CliRun chat_help = run_cli({"chat", "--help"});
  EXPECT_EQ(chat_help.exit_code, 0);
  EXPECT_TRUE(contains(chat_help.out, "--stream")) << chat_help.out;
  EXPECT_TRUE(contains(chat_help.out, "12 LLM_ERR_AUTHENTICATION")) << chat_help.out;

  EXPECT_EQ(run_cli({"preview", "-h"}).exit_code, 0);
  EXPECT_EQ(run_cli({"providers", "--help"}).exit_code, 0);

  CliRun version = run_cli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(contains(version.out, "literllm ")) << version.out;
}

TEST_F(CliTest, CtrlCCancelsAStreamAndExits130) {
  // The upstream sends a few events, then stalls; the CLI gets SIGINT once it
  // has printed some of the reply.
  bool sent = false;
  auto start = std::chrono::steady_clock::now();
  CliRun r = run_cli(args("chat", {"--stream", "--header", "x-upstream-stall-after: 3", "hello"}), "",
                  [&](pid_t pid, const std::string& out) {
                    if (!sent && !out.empty()) {
                      sent = true;
                      kill(pid, SIGINT);
                    }
                  });
  EXPECT_TRUE(sent) << "the CLI printed nothing before the stall";
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_TRUE(r.out.rfind("Hello", 0) == 0) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
}

}  // namespace
