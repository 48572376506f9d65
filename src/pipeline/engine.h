// The worker engine: the stage threads of ARCHITECTURE "How data flows" over one job store.
//
// An Engine owns one loaded model, one ASR worker pool, the VAD model, the ingest source and the
// stage threads (fetchers -> chunker -> ASR pool -> finalizer, joined by bounded queues). Once
// started it claims any claimable job from the store (a lease), processes it to completion or
// failure and claims the next, until stopped. `aimara run` enqueues its inputs, starts an engine
// and waits for its own jobs; `aimara serve` starts one for the server's lifetime (unless
// --workers 0); `aimara worker` is an engine with no server.
//
// transcribe_file() is the synchronous path (OpenAI-compatible endpoint, `POST /transcribe`):
// the calling thread decodes and chunks the file and waits while the engine's shared ASR pool
// transcribes the chunks; it never runs inference itself and adds no second model.
//
// Thread-safety: all public members may be called from any thread once create() returned.
// stop() is idempotent; the destructor stops. The store is shared (thread-safe).
#pragma once

#include <filesystem>
#include <memory>
#include <stop_token>
#include <vector>

#include "asr/transcript.h"
#include "asr/whisper_engine.h"
#include "core/error.h"
#include "pipeline/run_options.h"
#include "pipeline/runner.h"
#include "store/store.h"

namespace aimara::pipeline {

class Engine {
 public:
  // Loads the model and VAD, makes the pool. Starts no thread yet. `store` is shared with the
  // caller (the server reads it too). Errors: model_missing/model_invalid, a bad watchlist, ...
  static Result<std::unique_ptr<Engine>> create(const RunOptions& options,
                                                std::shared_ptr<store::Store> store,
                                                RunObserver& observer);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts the claiming threads (fetchers, chunker, finalizer, heartbeat). With
  // options.fetchers == 0 nothing is claimed: only transcribe_file() uses the pool.
  void start();
  // Stops claiming, finishes or hands back (release) what it holds, joins every thread.
  // graceful = false: running chunks are abandoned (the jobs are released, resumable).
  void stop(bool graceful = true);

  // Writes into the output folder the files of the completed media jobs among `job_ids` (and
  // under the playlists among them) that it lacks: jobs finished by an earlier run into another
  // --out, or whose files were removed since. From what the store keeps (segments, language): no
  // inference. Their entities join this run's mention stream and summary. Returns how many
  // videos it wrote; a video that cannot be written is reported and skipped.
  int write_missing_files(const std::vector<int64_t>& job_ids);

  // Decodes `media` (a local file), cuts it (VAD when available, else fixed 30 s), transcribes
  // the chunks on the shared pool and returns the transcript. Blocks the caller.
  Result<asr::Transcript> transcribe_file(const std::filesystem::path& media,
                                          const asr::TranscribeOptions& options,
                                          std::stop_token stop = {});

  // How many jobs the engine holds at once (claimed and not yet completed, failed or handed
  // back): at most `n` (values below 1 count as 1), and never more than options.fetchers. While
  // that many are held no fetcher claims; jobs already held finish whatever the new value.
  // Without a call the fetchers alone are the limit (`aimara run`). `aimara serve` starts enough
  // fetchers for its largest setting and moves this limit at run time.
  void set_max_active_jobs(int n);
  int max_active_jobs() const;

  store::Store& store();
  const asr::WhisperModel& model() const;
  // Jobs this engine holds right now, and chunks waiting for an ASR worker (for /metrics).
  int active_jobs() const;
  size_t queued_chunks() const;
  // Audio milliseconds transcribed and wall seconds spent in ASR since start (for /metrics).
  int64_t audio_ms_transcribed() const;
  double asr_seconds() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aimara::pipeline
