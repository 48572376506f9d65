// The options of one `aimara run` (and of the workers of `aimara serve` later): filled the same
// way from CLI flags, environment and HTTP bodies (CONVENTIONS "Options structs with defaults").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "asr/whisper_engine.h"
#include "output/writers.h"

namespace aimara::pipeline {

struct RunOptions {
  std::vector<std::string> inputs;                // URLs, files, folders
  std::string store_uri = "sqlite:./aimara.db";
  std::filesystem::path out_dir = "output";
  std::filesystem::path work_dir;                 // job folders; default: <out_dir>/.work
  std::string model = "base";                     // path or catalog name
  asr::Device device = asr::Device::kAuto;
  asr::TranscribeOptions asr;                     // language, beam, fallback, prompt
  int workers = 0;                                // ASR workers (0: chosen for this machine)
  int threads = 0;                                // threads per worker (0: chosen)
  int fetchers = 2;                               // concurrent resolves/downloads
  size_t max_videos = 0;                          // per playlist/feed/folder; 0: all
  bool sort_shortest = true;                      // shortest first (the original's order)
  double chunk_length_s = 0.0;                    // > 0: fixed-length chunks, no VAD
  bool no_vad = false;
  double max_pause_s = 1.0;                       // longer pauses inside a chunk are cut to this
  std::filesystem::path vad_model;                // empty: the models dir's silero model
  int buffer_size = 50;                           // segments per entity-extraction batch
  std::vector<std::filesystem::path> watchlists;  // --watchlist FILE (YAML or JSON)
  bool entities = true;                           // --no-entities turns the stage off
  bool keep_media = false;
  std::filesystem::path cookies;
  std::string ytdlp;                              // empty: $AIMARA_YTDLP or yt-dlp in PATH
  std::vector<output::Format> formats = {output::Format::kTxt, output::Format::kJson,
                                         output::Format::kSrt, output::Format::kVtt};
  int max_attempts = 3;
  int64_t retry_base_ms = 5'000;                  // first retry delay of a failed job
  int64_t lease_ms = 60'000;
  double max_duration_h = 12.0;
  bool live_table = false;                        // the TTY table (else line logs)
};

}  // namespace aimara::pipeline
