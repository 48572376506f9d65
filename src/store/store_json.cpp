#include "store/store_json.h"

#include <ctime>

#include <fmt/format.h>

namespace aimara::store {

namespace {

nlohmann::json opt_time(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(format_time_ms(*ms)) : nlohmann::json(nullptr);
}

nlohmann::json error_json(const std::optional<jobs::JobError>& e) {
  if (!e) return nullptr;
  return {{"code", e->code}, {"message", e->message}};
}

std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::string format_time_ms(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

nlohmann::json to_json(const jobs::Job& j) {
  const auto& m = j.media;
  return {
      {"id", j.id},
      {"parent_id", j.parent_id ? nlohmann::json(*j.parent_id) : nlohmann::json(nullptr)},
      {"kind", jobs::kind_name(j.kind)},
      {"state", jobs::state_name(j.state)},
      {"stage", j.stage ? nlohmann::json(jobs::state_name(*j.stage)) : nlohmann::json(nullptr)},
      {"title", m.title},
      {"url", m.webpage_url.empty() ? j.source : m.webpage_url},
      {"source", j.source},
      {"platform", m.platform},
      {"extractor", m.extractor},
      {"video_id", m.video_id},
      {"duration_ms", m.duration_ms},
      {"uploader", m.uploader},
      {"upload_date", m.upload_date},
      {"language", m.language.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.language)},
      {"progress", j.progress},
      {"attempts", j.attempts},
      {"max_attempts", j.max_attempts},
      {"priority", j.priority},
      {"error", error_json(j.last_error)},
      {"worker", j.lease_owner ? nlohmann::json(*j.lease_owner) : nlohmann::json(nullptr)},
      {"lease_expires_at", opt_time(j.lease_expires_at_ms)},
      {"run_at", format_time_ms(j.run_at_ms)},
      {"created_at", format_time_ms(j.created_at_ms)},
      {"updated_at", format_time_ms(j.updated_at_ms)},
      {"finished_at", opt_time(j.finished_at_ms)},
      {"options", j.options},
  };
}

nlohmann::json to_json(const JobEvent& e) {
  return {
      {"id", e.id},
      {"job_id", e.job_id},
      {"stage", jobs::state_name(e.stage)},
      {"started_at", format_time_ms(e.started_at_ms)},
      {"ended_at", format_time_ms(e.ended_at_ms)},
      {"duration_ms", e.ended_at_ms - e.started_at_ms},
      {"outcome", outcome_name(e.outcome)},
      {"worker", e.worker},
      {"attempt", e.attempt},
      {"error", error_json(e.error)},
  };
}

nlohmann::json to_json(const StoreStats& s) {
  nlohmann::json states = nlohmann::json::object();
  for (const auto& sc : s.by_state) states[std::string(jobs::state_name(sc.state))] = sc.jobs;
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& st : s.stages) {
    stages.push_back({{"stage", jobs::state_name(st.stage)},
                      {"runs", st.runs},
                      {"ok", st.ok},
                      {"errors", st.errors},
                      {"retries", st.retries},
                      {"mean_ms", st.mean_ms},
                      {"mean_ok_ms", st.mean_ok_ms},
                      {"max_ms", st.max_ms}});
  }
  return {
      {"total", s.total},
      {"success_rate", s.success_rate ? nlohmann::json(*s.success_rate) : nlohmann::json(nullptr)},
      {"states", std::move(states)},
      {"stages", std::move(stages)},
  };
}

std::string events_to_csv(std::span<const JobEvent> events) {
  std::string out =
      "id,job_id,stage,started_at,ended_at,duration_ms,outcome,worker,attempt,error_code,"
      "error_message\n";
  for (const auto& e : events) {
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{}\n", e.id, e.job_id, jobs::state_name(e.stage),
        format_time_ms(e.started_at_ms), format_time_ms(e.ended_at_ms),
        e.ended_at_ms - e.started_at_ms, outcome_name(e.outcome), csv_field(e.worker), e.attempt,
        e.error ? csv_field(e.error->code) : "", e.error ? csv_field(e.error->message) : "");
  }
  return out;
}

}  // namespace aimara::store
