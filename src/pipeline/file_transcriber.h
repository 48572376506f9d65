// The quick path: media files in, transcripts out (`aimara transcribe`).
//
// Files are decoded (streamed, in-process) one after another on the calling thread and cut into
// chunks: at pauses found by VAD when a VAD model is given, else fixed-length; the chunks of all
// files go to one WorkerPool, so a second file's chunks are transcribed while the first file's
// last chunk is still running. Memory is bounded by the pool's queue: at most (queue capacity +
// workers) chunks of PCM are alive at once. The pool is its own (create) or borrowed from an
// Engine (the server's synchronous path), so no second model is ever loaded.
// With language "auto" the language is detected once per file on its first chunk and then used
// for every chunk of that file.
//
// Thread-safety: one FileTranscriber is driven by one thread; it owns its pool.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <vector>

#include "asr/transcript.h"
#include "asr/whisper_engine.h"
#include "asr/worker_pool.h"
#include "core/error.h"
#include "media/decoder.h"

namespace aimara::pipeline {

struct FileTranscribeOptions {
  asr::TranscribeOptions asr;
  int workers = 1;
  int64_t chunk_length_ms = 30'000;    // fixed chunks when there is no VAD model
  std::filesystem::path vad_model;     // empty: fixed chunks
  int64_t max_pause_ms = 1'000;        // longer pauses inside a chunk are cut to this; 0: kept
  media::DecodeOptions decode;
};

struct FileOutcome {
  std::filesystem::path path;
  Result<asr::Transcript> transcript = make_error(ErrorCode::kInternal, "not run");
  double wall_seconds = 0.0;   // from the first chunk submitted to the last chunk done
};

// Progress of the whole batch: audio milliseconds transcribed and decoded so far.
struct BatchProgress {
  int files_done = 0;
  int files_total = 0;
  int64_t audio_ms_done = 0;
  int64_t audio_ms_known = 0;  // sum of the durations known so far
};

class FileTranscriber {
 public:
  // With a pool of its own (`options.workers` workers).
  static Result<std::unique_ptr<FileTranscriber>> create(std::shared_ptr<asr::WhisperModel> model,
                                                         FileTranscribeOptions options);
  // With a borrowed pool, which must outlive this object.
  FileTranscriber(std::shared_ptr<asr::WhisperModel> model, asr::WorkerPool& pool,
                  FileTranscribeOptions options)
      : model_(std::move(model)), options_(std::move(options)), pool_(&pool) {}

  // Transcribes every file; `on_file_done` is called (on some worker thread, one call at a time)
  // as each file finishes, in completion order. Returns outcomes in input order.
  std::vector<FileOutcome> transcribe(
      const std::vector<std::filesystem::path>& files,
      const std::function<void(const FileOutcome&)>& on_file_done = {},
      const std::function<void(const BatchProgress&)>& on_progress = {},
      std::stop_token stop = {});

 private:
  FileTranscriber(std::shared_ptr<asr::WhisperModel> model, FileTranscribeOptions options,
                  std::unique_ptr<asr::WorkerPool> pool)
      : model_(std::move(model)), options_(std::move(options)), owned_pool_(std::move(pool)),
        pool_(owned_pool_.get()) {}

  std::shared_ptr<asr::WhisperModel> model_;
  FileTranscribeOptions options_;
  std::unique_ptr<asr::WorkerPool> owned_pool_;
  asr::WorkerPool* pool_;
};

}  // namespace aimara::pipeline
