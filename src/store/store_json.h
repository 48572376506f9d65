// The store's values as JSON and CSV, in one shape for every consumer (`aimara jobs ... --json`,
// the REST jobs API, server-sent events), so the CLI and the server never disagree.
//
// Job:   {"id", "parent_id" (null at the top), "kind", "state", "stage" (null before the first
//         claim), "title", "url" (the web page when known, else the source), "source",
//         "platform", "extractor", "video_id", "duration_ms", "uploader", "upload_date",
//         "progress", "attempts", "max_attempts", "priority", "error" ({"code", "message"} or
//         null), "worker" (lease owner or null), "lease_expires_at", "run_at", "created_at",
//         "updated_at", "finished_at" (null while unfinished), "options"}; times are ISO 8601 UTC
//         strings with milliseconds.
// Event: {"id", "job_id", "stage", "started_at", "ended_at", "duration_ms", "outcome", "worker",
//         "attempt", "error"}.
// Stats: {"total", "success_rate" (null before any job finished), "states": {state: count},
//         "stages": [{"stage", "runs", "ok", "errors", "retries", "mean_ms", "mean_ok_ms",
//         "max_ms"}]}.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace aimara::store {

// "2024-05-01T12:34:56.789Z"
std::string format_time_ms(int64_t ms_since_epoch);

nlohmann::json to_json(const jobs::Job& job);
nlohmann::json to_json(const JobEvent& event);
nlohmann::json to_json(const StoreStats& stats);

// The job log as CSV (a header line, then one line per event ending in LF; fields with commas,
// quotes or line breaks are quoted as RFC 4180 says):
// id,job_id,stage,started_at,ended_at,duration_ms,outcome,worker,attempt,error_code,error_message
std::string events_to_csv(std::span<const JobEvent> events);

}  // namespace aimara::store
