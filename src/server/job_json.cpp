#include "server/job_json.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "media/platform.h"
#include "pipeline/job_item.h"
#include "server/api_error.h"

namespace aimara::server {

std::string iso_time(int64_t epoch_ms) {
  const std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

std::optional<double> estimate_eta_s(const jobs::Job& job, int64_t now_ms) {
  if (!jobs::is_running(job.state) || !job.stage_started_at_ms) return std::nullopt;
  if (job.state != jobs::JobState::kTranscribing) return std::nullopt;
  const double p = std::clamp(job.progress, 0.0, 1.0);
  if (p < 0.01) return std::nullopt;
  const double elapsed_s = static_cast<double>(now_ms - *job.stage_started_at_ms) / 1000.0;
  if (elapsed_s <= 0.0) return std::nullopt;
  return elapsed_s * (1.0 - p) / p;
}

namespace {

nlohmann::json time_or_null(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(iso_time(*ms)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json job_json(const jobs::Job& job, int64_t now_ms) {
  nlohmann::json j;
  j["id"] = job.id;
  j["parent_id"] = job.parent_id ? nlohmann::json(*job.parent_id) : nlohmann::json(nullptr);
  j["kind"] = jobs::kind_name(job.kind);
  j["state"] = jobs::state_name(job.state);
  j["stage"] = job.stage ? nlohmann::json(jobs::state_name(*job.stage)) : nlohmann::json(nullptr);
  std::string title = job.media.title;
  if (title.empty()) {
    title = media::is_http_url(job.source) ? job.source
                                           : std::filesystem::path(job.source).filename().string();
  }
  j["title"] = title;
  j["platform"] = job.media.platform;
  j["duration_ms"] = job.media.duration_ms;
  j["language"] =
      job.media.language.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.media.language);
  j["progress"] =
      job.state == jobs::JobState::kCompleted ? 1.0 : std::clamp(job.progress, 0.0, 1.0);
  const auto eta = estimate_eta_s(job, now_ms);
  j["eta_s"] = eta ? nlohmann::json(*eta) : nlohmann::json(nullptr);
  j["worker"] = job.lease_owner && jobs::is_running(job.state) ? nlohmann::json(*job.lease_owner)
                                                               : nlohmann::json(nullptr);
  // Only web addresses: a local file's or an upload's path on the server is not shown.
  std::string url = media::is_http_url(job.media.webpage_url) ? job.media.webpage_url : "";
  if (url.empty() && media::is_http_url(job.source)) url = job.source;
  j["url"] = url.empty() ? nlohmann::json(nullptr) : nlohmann::json(url);
  j["error"] = job.last_error
                   ? nlohmann::json{{"code", job.last_error->code},
                                    {"message", public_message(job, job.last_error->message)}}
                   : nlohmann::json(nullptr);
  j["attempts"] = job.attempts;
  j["max_attempts"] = job.max_attempts;
  j["created_at"] = iso_time(job.created_at_ms);
  j["updated_at"] = iso_time(job.updated_at_ms);
  j["finished_at"] = time_or_null(job.finished_at_ms);
  nlohmann::json options = job.options.is_object() ? job.options : nlohmann::json::object();
  options.erase("item");  // the resolver's internal record of a playlist entry
  j["options"] = std::move(options);
  return j;
}

std::string public_message(const jobs::Job& job, std::string message) {
  if (job.source.empty() || media::is_http_url(job.source)) return message;
  std::string name = std::filesystem::path(job.source).filename().string();
  if (job.options.is_object() && job.options.contains("upload") &&
      job.options["upload"].is_string()) {
    name = job.options["upload"].get<std::string>();  // the client's own name for it
  }
  return hide_path(std::move(message), job.source, name);
}

nlohmann::json timing_json(const jobs::Job& job, const store::JobEvent& e) {
  return {{"stage", jobs::state_name(e.stage)},
          {"started_at", iso_time(e.started_at_ms)},
          {"ended_at", iso_time(e.ended_at_ms)},
          {"duration_ms", e.ended_at_ms - e.started_at_ms},
          {"outcome", store::outcome_name(e.outcome)},
          {"attempt", e.attempt},
          {"worker", e.worker},
          {"error", e.error ? nlohmann::json{{"code", e.error->code},
                                             {"message", public_message(job, e.error->message)}}
                            : nlohmann::json(nullptr)}};
}

asr::Transcript transcript_from_store(const jobs::Job& job,
                                      const std::vector<store::StoredSegment>& segments) {
  asr::Transcript t;
  t.duration_ms = job.media.duration_ms;
  if (job.options.is_object()) {
    t.language = job.options.value("language", "");
    t.model = job.options.value("model", "");
  }
  if (!job.media.language.empty()) t.language = job.media.language;  // detected, when asked auto
  t.segments.reserve(segments.size());
  for (const auto& s : segments) t.segments.push_back(pipeline::segment_of(s));
  if (t.duration_ms == 0 && !t.segments.empty()) t.duration_ms = t.segments.back().end_ms;
  return t;
}

}  // namespace aimara::server
