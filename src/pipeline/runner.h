// `aimara run`: URLs, playlists, feeds, files and folders in; transcripts, the run summary and the
// job store out. The stages run concurrently inside the process, joined by bounded queues
// (ARCHITECTURE "How data flows"):
//
//   fetchers (N threads)   claim a job (a lease), resolve it (a playlist/feed/folder becomes child
//                          jobs), fetch its media into the job's folder
//        | queue (2)       at most two fetched items wait for the chunker: downloads never run
//        v                 far ahead of transcription
//   chunker (1 thread)     decodes each item once, streaming; VAD finds speech and cuts chunks
//                          in silence; submits the chunks not yet done to the ASR pool
//        | pool queue      bounded: a 3-hour file never holds more than a few chunks of PCM
//        v
//   ASR pool (W workers)   one model, one whisper_state each; chunks of many items interleave;
//                          each result is committed to the store (the checkpoint) and appended
//                          to the item's building transcript
//        | queue
//        v
//   finalizer (1 thread)   entities, final transcript files, completes the job
//
// A heartbeat thread extends every held lease; a lost lease stops that job's work. Killed at any
// moment (kill -9) and run again with the same command, the run takes its jobs back, skips the
// chunks the store has and writes the same final files.
//
// Thread-safety: one Runner runs once, from one thread; it owns all the threads above.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "pipeline/run_options.h"
#include "store/store.h"

namespace aimara::pipeline {

// What the display shows of one job, sent whenever it changes.
struct JobStatus {
  int64_t id = 0;
  std::string title;
  std::string platform;
  int64_t duration_ms = 0;
  std::string stage;        // a state name ("transcribing"), or "completed"/"failed"/...
  double progress = 0.0;    // 0..1 of this job
  double eta_s = -1.0;      // < 0: unknown
  std::string error;        // when failed
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_job(const JobStatus& status) = 0;
  virtual void on_message(const std::string& line) = 0;  // warnings and notes for the user
};

struct RunResult {
  int videos = 0;            // media jobs of this run
  int completed = 0;
  int failed = 0;            // dead, cancelled or still failing when the run ended
  int inputs_failed = 0;     // playlists, feeds and folders that could not be expanded
  int64_t segments = 0;
  int64_t audio_ms = 0;      // of every completed video of the run's inputs
  int64_t audio_ms_run = 0;  // of those this run completed (the rest were done before)
  double wall_s = 0.0;
  std::vector<std::filesystem::path> files;  // final files written
  nlohmann::json summary;   // what run_summary.json holds
};

// The models a run or a server needs, checked before anything is created: the whisper model can
// be found (model_missing), and a VAD model given by path loads (model_missing, model_invalid).
Result<void> check_models(const RunOptions& options);

// Opens the job store a run or a server works on (options.store_uri) with the retry policy of
// `options` (max_attempts, retry_base_ms).
Result<std::unique_ptr<store::Store>> open_run_store(const RunOptions& options);

// Runs to completion (every job of this run completed or failed for good). Errors are returned
// only for what stops the whole run (no store, no model, bad options); a failing item is counted
// in RunResult and the run goes on.
Result<RunResult> run_pipeline(const RunOptions& options, RunObserver& observer,
                               std::stop_token stop = {});

}  // namespace aimara::pipeline
