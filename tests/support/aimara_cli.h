// Test support: run the real `aimara` binary (AIMARA_BINARY) and find the shared test data.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/process.h"

namespace aimara::testing {

// ../shared beside the repository; fails the calling test with a clear message if `rel` is
// missing (a test must never pass silently without its data).
std::filesystem::path shared_file(const std::string& rel);

// Runs `aimara args...` to completion (timeout in seconds) and returns what it did.
ProcessResult run_aimara(const std::vector<std::string>& args, int timeout_s = 300,
                         const std::vector<std::pair<std::string, std::string>>& env = {});

// A deterministic generated whisper model (`aimara models make-test`), made once per test binary
// in the build tree and reused.
std::filesystem::path test_model(const std::string& dims = "micro", int seed = 1);

}  // namespace aimara::testing
