// The engine flags `aimara run` and `aimara serve` share (model, language, device, store, VAD,
// threads, fetchers, entities, yt-dlp, ...), registered once and filled into pipeline::RunOptions
// the same way for both (CONVENTIONS "Options structs with defaults").
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "pipeline/run_options.h"

namespace aimara::cli {

// Help of --max-pause, which `aimara transcribe` takes too.
inline constexpr const char* kMaxPauseHelp =
    "Pauses inside a chunk longer than S seconds are cut down to S, so whisper's windows hold "
    "speech (0: keep pauses whole)";

struct RunFlags {
  pipeline::RunOptions o;
  std::string device = "auto";
  std::string formats = "txt,json,srt,vtt";
  std::string sort = "shortest";
};

// Registers the shared flags on `sub`. with_workers: also -w,--workers (ASR workers, 1..64);
// `serve` has its own --workers, where 0 means no in-process workers.
void add_run_flags(CLI::App* sub, RunFlags& flags, bool with_workers = true);

// Converts the text flags (device, formats, sort) into flags.o. invalid_argument for a bad value.
Result<void> apply_run_flags(RunFlags& flags);

}  // namespace aimara::cli
