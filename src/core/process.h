// Running helper programs (yt-dlp, ffmpeg tools) as child processes, safely.
//
// run_process() starts a program with posix_spawnp and an argv vector: never a shell, so nothing
// in an argument (a URL, a title) is ever interpreted. stdin is /dev/null; stdout and stderr are
// captured through pipes that are read together (poll), so a child that fills one pipe while we
// wait on the other cannot deadlock. The child leads its own process group: a timeout, a stop
// request or an error on our side kills the whole group (SIGKILL), grandchildren included, and
// the child is always reaped before run_process returns, so no zombie survives it.
//
// Thread-safety: run_process may be called from many threads at once; each call owns its child,
// its pipes and its buffers. File descriptors other than 0-2 are closed in the child.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace aimara {

struct ProcessOptions {
  // The child's working directory; empty: ours.
  std::filesystem::path working_dir;
  // Variables added to (or replacing those of) our environment for the child. The program
  // itself is looked up in *our* PATH.
  std::vector<std::pair<std::string, std::string>> env;
  // Wall-clock limit; the process group is killed when it passes. nullopt: no limit.
  std::optional<std::chrono::milliseconds> timeout;
  // Cancels the child (group killed, result kCancelled) when requested.
  std::stop_token stop;
  // Each stream keeps at most this many bytes; the rest is read and dropped (and flagged).
  size_t max_output_bytes = size_t{256} << 20;
};

struct ProcessResult {
  int exit_code = -1;      // the child's exit status; -1 when it died from a signal
  int term_signal = 0;     // the signal that ended it, 0 when it exited normally
  bool timed_out = false;  // killed because ProcessOptions::timeout passed
  std::string out;         // captured stdout
  std::string err;         // captured stderr
  bool out_truncated = false;
  bool err_truncated = false;
  std::chrono::milliseconds elapsed{0};

  // Exited on its own with status 0.
  bool ok() const { return !timed_out && term_signal == 0 && exit_code == 0; }
};

// Runs argv[0] (looked up in PATH unless it holds a '/') with arguments argv[1..] and waits for
// it. A child that runs but fails is not an error here: check ProcessResult. Errors:
// kInvalidArgument (empty argv), kNotFound (no such program), kIo (cannot spawn: permissions,
// resources), kCancelled (opts.stop was requested).
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& opts = {});

}  // namespace aimara
