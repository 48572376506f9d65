// The entity stage of `aimara run` (ARCHITECTURE "Entities"): who and what was mentioned, when.
//
// For each finished video the stage runs the extractor (tagger + watchlist + patterns) over its
// segments in batches of `buffer_size`, and
//   - appends each mention to DIR/transcripts/entities_<YYYYMMDD_HHMMSS>.jsonl as soon as its
//     batch is done (one JSON object a line, flushed: the file is valid JSONL while a run goes on),
//   - writes DIR/video_transcripts/<stem>_entities.json (entity -> type, count, first and last
//     time, aliases, mentions),
//   - returns the mentions for the store,
// and keeps the run's totals for DIR/transcripts/entities_summary_<...>.json.
// Segments flagged as hallucination are kept out of the counts (their mentions are not written).
// A missing or broken tagger model never stops a run: patterns and the watchlist still work, and
// the stage says so once. create() checks the watchlists; each language's tagger is loaded when
// the first video in that language finishes ("en", and "es" for every other language).
//
// Thread-safety: process_video and write_summary may be called from any thread; calls are
// serialised by an internal mutex (the stage runs on the finalizer thread).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "nlp/extractor.h"
#include "output/run_layout.h"
#include "store/store.h"

namespace aimara::pipeline {

struct EntityStageOptions {
  std::vector<std::filesystem::path> watchlists;
  size_t buffer_size = 50;
  bool enabled = true;
};

struct VideoRef {
  std::string title;
  std::string video_id;
  std::string url;
  std::string platform;
};

struct SegmentRef {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string text;
  float no_speech_prob = 0.0f;
  float avg_logprob = 0.0f;
};

class EntityStage {
 public:
  // Checks the watchlist files now (a bad file is an error before any work starts).
  static Result<std::unique_ptr<EntityStage>> create(const output::RunLayout& layout,
                                                     EntityStageOptions options);

  struct VideoResult {
    std::vector<store::Mention> mentions;  // counted mentions, for the store
    std::filesystem::path file;            // the per-video entities file
    int64_t flagged_segments = 0;
  };
  // language: the video's language ("es", "en", ...): picks the tagger.
  Result<VideoResult> process_video(const VideoRef& video, const std::string& language,
                                    const std::vector<SegmentRef>& segments,
                                    const std::string& stem);

  Result<std::filesystem::path> write_summary();
  const std::filesystem::path& stream_path() const { return stream_path_; }
  // Warnings for the user (missing tagger model, ...), each returned once.
  std::vector<std::string> take_warnings();

 private:
  EntityStage(const output::RunLayout& layout, EntityStageOptions options, std::string stamp);
  Result<const nlp::EntityExtractor*> extractor_for(const std::string& language);

  std::mutex mu_;
  output::RunLayout layout_;
  EntityStageOptions options_;
  std::string stamp_;                       // YYYYMMDD_HHMMSS of the run's start
  std::filesystem::path stream_path_;
  std::map<std::string, std::unique_ptr<nlp::EntityExtractor>> extractors_;  // guarded
  std::vector<std::string> warnings_;       // guarded
  // Run totals, guarded by mu_.
  int64_t segments_ = 0;
  int64_t flagged_ = 0;
  int64_t mentions_ = 0;
  int64_t videos_ = 0;
  std::map<std::string, int64_t> by_type_;
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> top_;  // -> count, videos
};

}  // namespace aimara::pipeline
