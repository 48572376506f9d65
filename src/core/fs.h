// File-system helpers that keep what is already done safe from crashes.
//
// write_file_atomic writes to a temporary file beside the target, flushes it and renames it over
// the target, so readers see either the old content or the new, never a torn file.
// Thread-safety: free functions; concurrent writers to the same path race (last rename wins).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"

namespace aimara {

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content);

Result<std::string> read_file(const std::filesystem::path& path);

// Creates the folder `dir` and its parents where missing and returns its canonical path. `what`
// names the folder in the error: "cannot create the job folder 'x': Permission denied".
Result<std::filesystem::path> create_folder(const std::filesystem::path& dir,
                                            std::string_view what);

// A directory removed (recursively) when the object dies. Move-only.
class TempDir {
 public:
  // Creates a fresh directory under `parent` (default: the system temp dir) named prefix-XXXXXX.
  static Result<TempDir> create(std::string_view prefix,
                                const std::filesystem::path& parent = {});
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace aimara
