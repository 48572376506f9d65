// Internal to the SQLite store: the column lists it selects and how a row becomes a value.
// Thread-safety: pure functions over a Query the caller owns.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "store/sqlite/connection.h"
#include "store/store.h"

namespace aimara::store::sqlite {

// The columns read_job() expects, in order (no table prefix, so usable in RETURNING too).
inline constexpr std::string_view kJobColumns =
    "id, parent_id, source, kind, state, stage, attempts, max_attempts, priority, run_at, "
    "last_error_code, last_error_message, lease_owner, lease_expires_at, progress, options, "
    "title, platform, extractor, video_id, duration_ms, uploader, upload_date, webpage_url, "
    "created_at, updated_at, stage_started_at, finished_at, language";
inline constexpr int kJobColumnCount = 29;

// The columns read_event() expects, in order.
inline constexpr std::string_view kEventColumns =
    "id, job_id, stage, started_at, ended_at, outcome, worker, attempt, error_code, "
    "error_message";

// Concatenates SQL pieces (statements are built once, in function-local statics).
std::string sql(std::initializer_list<std::string_view> parts);

jobs::Job read_job(const Query& q, int first_col = 0);
JobEvent read_event(const Query& q, int first_col = 0);

// The FTS5 MATCH expression for a user's search text (SearchQuery::text): every word or
// "quoted phrase" becomes a quoted FTS5 string (so no input is a syntax error), all of them must
// match; a trailing * keeps prefix matching. Empty when the text has no word in it.
std::string fts5_query(std::string_view text);

// NULL for an empty string (so empty video ids never collide in the unique index).
std::optional<std::string> null_if_empty(std::string_view s);

}  // namespace aimara::store::sqlite
