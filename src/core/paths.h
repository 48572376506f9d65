// Where aimara keeps and finds things on disk.
//
//   models_dir()   downloaded whisper/VAD models: $AIMARA_MODELS_DIR, else
//                  $XDG_CACHE_HOME/aimara/models, else ~/.cache/aimara/models
//   shipped_models_dirs()  where the models aimara ships (entity taggers) are looked for, in
//                  order: $AIMARA_MODELS_DIR, <exe dir>/models, <exe dir>/../share/aimara/models,
//                  the source tree's models/ (for a build-tree binary)
// Thread-safety: free functions reading the environment; safe from any thread.
#pragma once

#include <filesystem>
#include <vector>

namespace aimara {

std::filesystem::path models_dir();
std::filesystem::path executable_path();
std::vector<std::filesystem::path> shipped_models_dirs();

}  // namespace aimara
