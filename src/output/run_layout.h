// The output folder of `aimara run` (the original tool's layout):
//
//   DIR/transcripts/<safe title>_transcript_building.txt   grows chunk by chunk while a video
//                                                           runs; removed when it finishes
//   DIR/video_transcripts/<safe title>_transcript.{txt,json,srt,vtt}
//   DIR/video_transcripts/<safe title>_entities.json
//   DIR/transcripts/entities_<YYYYMMDD_HHMMSS>.jsonl         mention stream
//   DIR/run_summary.json
//
// Thread-safety: free functions are pure; a BuildingTranscript is used by one thread at a time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asr/transcript.h"
#include "core/error.h"

namespace aimara::output {

// A title made safe for a file name: no path separators, no control characters, no leading dots
// (so never "." or ".."), spaces collapsed, at most `max_bytes` bytes cut on a UTF-8 boundary.
// An empty result becomes "untitled".
std::string safe_title(std::string_view title, size_t max_bytes = 120);
// The stem of a job's files when another job of the run has the same safe title: "<title>_<id>".
std::string stem_with_id(std::string_view safe_title, int64_t job_id);

struct RunLayout {
  std::filesystem::path root;
  std::filesystem::path transcripts() const { return root / "transcripts"; }
  std::filesystem::path video_transcripts() const { return root / "video_transcripts"; }
  std::filesystem::path building(std::string_view stem) const {
    return transcripts() / (std::string(stem) + "_transcript_building.txt");
  }
  std::filesystem::path final_stem(std::string_view stem) const {
    return video_transcripts() / (std::string(stem) + "_transcript");
  }
  std::filesystem::path summary() const { return root / "run_summary.json"; }
  Result<void> create_dirs() const;
};

// The building transcript of one video: chunks arrive in any order, lines are appended (and
// flushed) in chunk order, so the file is always a prefix of the final text.
class BuildingTranscript {
 public:
  // Opens (truncates) the file and writes the chunks already done (from a resumed run).
  static Result<std::unique_ptr<BuildingTranscript>> open(
      const std::filesystem::path& path, const std::map<int, std::vector<asr::Segment>>& done);
  ~BuildingTranscript();
  BuildingTranscript(const BuildingTranscript&) = delete;
  BuildingTranscript& operator=(const BuildingTranscript&) = delete;

  // Records chunk `index`; appends every chunk now contiguous with what was written.
  Result<void> add(int index, const std::vector<asr::Segment>& segments);
  // Closes and removes the file.
  void remove();

 private:
  BuildingTranscript(std::filesystem::path path, std::FILE* f)
      : path_(std::move(path)), file_(f) {}
  Result<void> flush_ready();

  std::filesystem::path path_;
  std::FILE* file_;
  std::map<int, std::vector<asr::Segment>> pending_;  // chunks not yet written
  int next_ = 0;                                       // the next chunk to write
};

}  // namespace aimara::output
