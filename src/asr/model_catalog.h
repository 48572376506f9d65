// The models aimara knows by name: whisper ggml models (tiny .. large-v3-turbo, .en and quantized
// variants) and the Silero VAD model, where to download them from and how to check them.
//
// Files live in models_dir() (core/paths.h: $AIMARA_MODELS_DIR, else
// $XDG_CACHE_HOME/aimara/models). Downloads come from the public ggml model hubs over HTTPS;
// $AIMARA_MODEL_BASE_URL replaces both hubs' base (tests point it at a local server).
// Digests: the public list publishes SHA-1 for the main models; an entry without one is checked
// by size only, and `aimara models download --sha256` lets a user pin one.
// Thread-safety: free functions over constant tables; download_model may run concurrently for
// different names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace aimara::asr {

enum class ModelKind { kWhisper, kVad };

struct CatalogEntry {
  std::string_view name;       // "base", "large-v3-turbo-q8_0", "silero-v6.2.0"
  ModelKind kind;
  std::string_view file;       // "ggml-base.bin"
  int64_t approx_mib;          // for the listing
  std::string_view sha1;       // lowercase hex, empty when unknown
};

std::span<const CatalogEntry> model_catalog();
const CatalogEntry* find_model(std::string_view name);

// Where the named model's file is (or would be) in the models dir.
std::filesystem::path model_file_path(const CatalogEntry& entry);
// The URL it is downloaded from.
std::string model_url(const CatalogEntry& entry);

// A path that exists is used as is; otherwise a catalog name resolves to its file in the models
// dir. Missing: model_missing, saying how to get it.
Result<std::filesystem::path> resolve_model(std::string_view path_or_name);

struct ModelDownload {
  std::filesystem::path path;
  int64_t bytes = 0;
  int64_t resumed_from = 0;
  std::string digest;
};

// Downloads (resuming an interrupted download) and verifies; `digest` overrides the catalog's.
Result<ModelDownload> download_model(const CatalogEntry& entry, const std::string& digest = {},
                                     const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace aimara::asr
