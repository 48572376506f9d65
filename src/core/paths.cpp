#include "core/paths.h"

#include <cstdlib>

#ifndef AIMARA_SOURCE_MODELS_DIR
#define AIMARA_SOURCE_MODELS_DIR ""
#endif

namespace aimara {

namespace fs = std::filesystem;

namespace {
const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}
}  // namespace

fs::path models_dir() {
  if (const char* d = env("AIMARA_MODELS_DIR")) return fs::path(d);
  if (const char* d = env("XDG_CACHE_HOME")) return fs::path(d) / "aimara" / "models";
  if (const char* d = env("HOME")) return fs::path(d) / ".cache" / "aimara" / "models";
  return fs::path(".aimara") / "models";
}

fs::path executable_path() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p;
}

std::vector<fs::path> shipped_models_dirs() {
  std::vector<fs::path> dirs;
  if (const char* d = env("AIMARA_MODELS_DIR")) dirs.emplace_back(d);
  fs::path exe = executable_path();
  if (!exe.empty()) {
    dirs.push_back(exe.parent_path() / "models");
    dirs.push_back(exe.parent_path().parent_path() / "share" / "aimara" / "models");
  }
  if (*AIMARA_SOURCE_MODELS_DIR != '\0') dirs.emplace_back(AIMARA_SOURCE_MODELS_DIR);
  return dirs;
}

}  // namespace aimara
