#include "support/aimara_cli.h"

#include <gtest/gtest.h>

#include <mutex>

namespace aimara::testing {

namespace fs = std::filesystem;

fs::path shared_file(const std::string& rel) {
  fs::path p = fs::path(AIMARA_SHARED_DIR) / rel;
  if (!fs::exists(p)) {
    ADD_FAILURE() << "test data missing: " << p
                  << " (the shared folder must sit beside the repository)";
  }
  return p;
}

ProcessResult run_aimara(const std::vector<std::string>& args, int timeout_s,
                         const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> argv = {AIMARA_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions opts;
  opts.timeout = std::chrono::seconds(timeout_s);
  opts.env = env;
  auto r = run_process(argv, opts);
  if (!r) {
    ADD_FAILURE() << "cannot run " << AIMARA_BINARY << ": " << r.error().to_string();
    return ProcessResult{};
  }
  return *r;
}

fs::path test_model(const std::string& dims, int seed) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  fs::path dir = fs::path(AIMARA_BINARY).parent_path() / "test-models";
  fs::create_directories(dir);
  fs::path p = dir / ("ggml-" + dims + "-seed" + std::to_string(seed) + ".bin");
  if (!fs::exists(p)) {
    fs::path tmp = p;
    tmp += ".tmp" + std::to_string(::getpid());
    auto r = run_aimara({"models", "make-test", tmp.string(), "--dims", dims, "--seed",
                         std::to_string(seed)});
    EXPECT_TRUE(r.ok()) << r.err;
    fs::rename(tmp, p);
  }
  return p;
}

}  // namespace aimara::testing
