#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/aimara_cli.h"

extern char** environ;

namespace aimara::testing {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::vector<std::string> test_server_args() {
  return {"-m", test_model().string(), "--no-vad", "--workers", "2", "--threads", "1"};
}

ServerProcess::ServerProcess(const std::vector<std::string>& extra,
                             const std::vector<std::pair<std::string, std::string>>& env) {
  char tmpl[] = "/tmp/aimara-serve-test-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  std::vector<std::string> args = {AIMARA_BINARY, "serve",
                                   "--listen",    "127.0.0.1:0",
                                   "--store",     "sqlite:" + (dir_ / "aimara.db").string(),
                                   "--data-dir",  (dir_ / "data").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s = *e;
    if (s.starts_with("AIMARA_TOKEN=")) continue;  // only what the test asks for
    bool replaced = false;
    for (const auto& [k, v] : env) replaced |= s.starts_with(k + "=");
    if (!replaced) env_strings.push_back(std::move(s));
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = (dir_ / "stdout.log").string();
  const std::string err = (dir_ / "stderr.log").string();
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    ADD_FAILURE() << "cannot start " << AIMARA_BINARY;
    return;
  }
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = slurp(out);
    if (std::regex_search(text, m, listening)) {
      port_ = std::stoi(m[1]);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "aimara serve exited at start: " << slurp(err);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "aimara serve did not listen within 60 s: " << slurp(err);
}

ServerProcess::~ServerProcess() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "aimara serve did not stop within 15 s of SIGTERM";
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ServerProcess::stderr_text() const { return slurp(dir_ / "stderr.log"); }

std::unique_ptr<httplib::Client> ServerProcess::client(const std::string& token) const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(300, 0);
  c->set_write_timeout(60, 0);
  if (!token.empty()) c->set_bearer_token_auth(token);
  return c;
}

std::pair<int, std::string> serve_refusal(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"serve"};
  all.insert(all.end(), args.begin(), args.end());
  auto r = run_aimara(all, 60);
  return {r.exit_code, r.err};
}

}  // namespace aimara::testing
