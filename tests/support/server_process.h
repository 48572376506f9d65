// Test support for `aimara serve`: the real binary started on 127.0.0.1 with a free port (the
// server picks it: --listen 127.0.0.1:0) and stopped with SIGTERM when the test is done, plus an
// httplib client for it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server/httplib_config.h"

namespace aimara::testing {

class ServerProcess {
 public:
  // Starts `aimara serve --listen 127.0.0.1:0 --store sqlite:<dir>/aimara.db --data-dir <dir>/data
  // <extra...>` in a fresh temporary folder and waits (up to 60 s) until it listens. Fails the
  // calling test (ADD_FAILURE) when it does not; then port() is 0.
  explicit ServerProcess(const std::vector<std::string>& extra,
                         const std::vector<std::pair<std::string, std::string>>& env = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }
  // A client with generous timeouts; `token` is sent as a bearer token when not empty.
  std::unique_ptr<httplib::Client> client(const std::string& token = {}) const;
  // Stops the server (SIGTERM, then SIGKILL after 15 s); returns its exit status.
  int stop();
  std::string stderr_text() const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs `aimara serve args...` expecting it to refuse to start; returns (exit code, stderr).
std::pair<int, std::string> serve_refusal(const std::vector<std::string>& args);

// The arguments every test server gets: the generated test model, no VAD, two workers.
std::vector<std::string> test_server_args();

}  // namespace aimara::testing
