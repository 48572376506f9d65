#include "pipeline/run_summary.h"

#include <algorithm>
#include <chrono>

#include "core/fs.h"

namespace aimara::pipeline {

namespace fs = std::filesystem;

namespace {

// The stem a job's files were written under (see PipelineRun::stem_for): its safe title, or the
// safe title with the job id when another job of the run had the same title.
std::vector<fs::path> files_of(const jobs::Job& job, const output::RunLayout& layout,
                               const std::vector<output::Format>& formats) {
  std::string base = output::safe_title(job.media.title.empty() ? job.source : job.media.title);
  for (const std::string& stem : {output::stem_with_id(base, job.id), base}) {
    std::vector<fs::path> files;
    for (auto f : formats) {
      fs::path p = layout.final_stem(stem);
      p += "." + std::string(output::format_extension(f));
      if (fs::exists(p)) files.push_back(p);
    }
    if (!files.empty()) {
      fs::path entities = layout.video_transcripts() / (stem + "_entities.json");
      if (fs::exists(entities)) files.push_back(entities);
      return files;
    }
  }
  return {};
}

}  // namespace

Result<RunSummary> build_run_summary(store::Store& store, const std::vector<int64_t>& top_jobs,
                                     const output::RunLayout& layout,
                                     const std::vector<output::Format>& formats, double wall_s,
                                     int64_t started_ms) {
  RunSummary s;
  nlohmann::json videos = nlohmann::json::array();
  nlohmann::json inputs = nlohmann::json::array();
  auto all = store.jobs_under(top_jobs);  // a job reached twice (an input given twice) counts once
  if (!all) return std::unexpected(all.error());
  for (const jobs::Job& job : *all) {
    const int64_t id = job.id;
    if (job.kind == jobs::JobKind::kPlaylist) {
      const auto entries = std::ranges::count_if(
          *all, [&](const jobs::Job& other) { return other.parent_id == id; });
      nlohmann::json input = {{"id", job.id},
                              {"source", job.source},
                              {"title", job.media.title},
                              {"entries", entries},
                              {"state", jobs::state_name(job.state)}};
      if (job.state != jobs::JobState::kCompleted) {
        ++s.inputs_failed;
        if (job.last_error) input["error"] = job.last_error->to_string();
      }
      inputs.push_back(std::move(input));
      continue;
    }
    ++s.videos;
    nlohmann::json v = {{"id", job.id},
                        {"title", job.media.title},
                        {"url", job.media.webpage_url.empty() ? job.source : job.media.webpage_url},
                        {"platform", job.media.platform},
                        {"state", jobs::state_name(job.state)},
                        {"attempts", job.attempts}};
    if (job.state == jobs::JobState::kCompleted) {
      ++s.completed;
      auto segs = store.segments(id);
      int64_t n = segs ? static_cast<int64_t>(segs->size()) : 0;
      auto chunks = store.chunks(id);
      int64_t duration = job.media.duration_ms;
      s.segments += n;
      v["segments"] = n;
      v["chunks"] = chunks ? chunks->size() : 0;
      auto files = files_of(job, layout, formats);
      nlohmann::json fj = nlohmann::json::array();
      for (auto& f : files) {
        fj.push_back(f.string());
        s.files.push_back(f);
      }
      v["files"] = std::move(fj);
      v["duration_ms"] = duration;
      s.audio_ms += duration;
      if (job.finished_at_ms && *job.finished_at_ms >= started_ms) s.audio_ms_run += duration;
    } else {
      ++s.failed;
      if (job.last_error) {
        v["error"] = job.last_error->to_string();
      } else if (job.state == jobs::JobState::kCancelled) {
        v["error"] = "cancelled";
      }
    }
    videos.push_back(std::move(v));
  }
  s.json = {{"generated_at", std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()},
            {"wall_seconds", wall_s},
            {"videos_total", s.videos},
            {"videos_completed", s.completed},
            {"videos_failed", s.failed},
            {"inputs_failed", s.inputs_failed},
            {"segments_total", s.segments},
            {"audio_seconds", static_cast<double>(s.audio_ms) / 1000.0},
            {"audio_seconds_this_run", static_cast<double>(s.audio_ms_run) / 1000.0},
            {"output_files", s.files.size()},
            {"inputs", std::move(inputs)},
            {"videos", std::move(videos)}};
  return s;
}

Result<void> write_run_summary(const output::RunLayout& layout, const nlohmann::json& summary) {
  return write_file_atomic(layout.summary(), summary.dump(2) + "\n");
}

}  // namespace aimara::pipeline
