// The JSON shapes the API and the event stream return for jobs (docs/api.md "Job object").
//
// One function per shape so that GET /api/v1/jobs, GET /api/v1/jobs/{id} and every server-sent
// event describe a job the same way. Times are ISO 8601 UTC strings; `eta_s` is estimated from
// the job's progress and how long its current stage has run.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asr/transcript.h"
#include "jobs/job.h"
#include "store/store.h"

namespace aimara::server {

// "2026-12-01T06:30:00.123Z"
std::string iso_time(int64_t epoch_ms);

// Seconds left for a running job, from its progress and the time spent in its current stage;
// nullopt when it cannot be told (not running, no progress yet).
std::optional<double> estimate_eta_s(const jobs::Job& job, int64_t now_ms);

// The job object.
nlohmann::json job_json(const jobs::Job& job, int64_t now_ms);

// One row of `job`'s log, as in GET /api/v1/jobs/{id} "timings".
nlohmann::json timing_json(const jobs::Job& job, const store::JobEvent& event);

// `message` (an error of `job`) as a client may see it: a local file's or an upload's path on
// the server is replaced by its file name, as the job's title shows it.
std::string public_message(const jobs::Job& job, std::string message);

// A job's transcript as stored: segments in order (times in ms), the model from the job's
// options, the language it was transcribed in (detected, when asked auto) when known.
asr::Transcript transcript_from_store(const jobs::Job& job,
                                      const std::vector<store::StoredSegment>& segments);

}  // namespace aimara::server
