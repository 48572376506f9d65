// run_summary.json: what a run did, built from the store (so a run that found everything already
// done still reports all of it): per video its state, duration, segments, output files and error;
// per playlist, feed or folder its entries, and its error when it could not be expanded; totals;
// the files written.
// Thread-safety: free functions; the store is thread-safe.
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "output/run_layout.h"
#include "output/writers.h"
#include "store/store.h"

namespace aimara::pipeline {

struct RunSummary {
  nlohmann::json json;
  int videos = 0;
  int completed = 0;
  int failed = 0;
  int inputs_failed = 0;  // playlists, feeds and folders that gave no entries (dead, cancelled)
  int64_t segments = 0;
  int64_t audio_ms = 0;      // of every completed video
  int64_t audio_ms_run = 0;  // of the videos completed by this run (finished since it started)
  std::vector<std::filesystem::path> files;
};

// `started_ms`: when the run started (the store's clock, ms since the epoch).
Result<RunSummary> build_run_summary(store::Store& store, const std::vector<int64_t>& top_jobs,
                                     const output::RunLayout& layout,
                                     const std::vector<output::Format>& formats, double wall_s,
                                     int64_t started_ms);

Result<void> write_run_summary(const output::RunLayout& layout, const nlohmann::json& summary);

}  // namespace aimara::pipeline
