#include "store/store.h"

#include <set>

#include <fmt/format.h>

#include "store/sqlite/sqlite_store.h"

namespace aimara::store {

std::string_view outcome_name(EventOutcome outcome) {
  switch (outcome) {
    case EventOutcome::kOk:
      return "ok";
    case EventOutcome::kError:
      return "error";
    case EventOutcome::kRetry:
      return "retry";
    case EventOutcome::kCancelled:
      return "cancelled";
  }
  return "error";
}

std::optional<EventOutcome> parse_outcome(std::string_view name) {
  for (auto o :
       {EventOutcome::kOk, EventOutcome::kError, EventOutcome::kRetry, EventOutcome::kCancelled}) {
    if (outcome_name(o) == name) return o;
  }
  return std::nullopt;
}

Result<std::vector<jobs::Job>> Store::children(int64_t parent_id) {
  JobFilter f;
  f.parent_id = parent_id;
  f.limit = 0;
  return list_jobs(f);
}

Result<std::vector<jobs::Job>> Store::jobs_under(std::span<const int64_t> roots) {
  std::vector<jobs::Job> out;
  std::vector<int64_t> todo(roots.rbegin(), roots.rend());
  std::set<int64_t> seen;
  while (!todo.empty()) {
    const int64_t id = todo.back();
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    auto job = get_job(id);
    if (!job) return std::unexpected(job.error());
    if (job->kind == jobs::JobKind::kPlaylist) {
      auto kids = children(id);
      if (!kids) return std::unexpected(kids.error());
      for (auto it = kids->rbegin(); it != kids->rend(); ++it) todo.push_back(it->id);
    }
    out.push_back(std::move(*job));
  }
  return out;
}

Result<Enqueued> Store::enqueue_input(const NewJob& job) {
  auto e = enqueue(job);
  if (!e || e->created || e->state != jobs::JobState::kCompleted) return e;
  auto refreshed = refresh_playlist(e->id);
  if (!refreshed) return std::unexpected(refreshed.error());
  if (*refreshed) e->state = jobs::JobState::kQueued;
  return e;
}

Result<std::unique_ptr<Store>> open_store(std::string_view uri, StoreOptions options) {
  if (uri.starts_with("sqlite:")) {
    std::string_view path = uri.substr(std::string_view("sqlite:").size());
    if (path.empty()) path = "./aimara.db";
    auto s = sqlite::SqliteStore::open(std::filesystem::path(path), std::move(options));
    if (!s) return std::unexpected(s.error());
    return std::unique_ptr<Store>(std::move(*s));
  }
  if (uri.starts_with("postgres://") || uri.starts_with("postgresql://")) {
    return make_error(ErrorCode::kStoreError,
                      "the PostgreSQL store is not built yet in this version of aimara; use "
                      "--store sqlite:PATH");
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("unknown store '{}': use sqlite:PATH (e.g. {}) or "
                                "postgres://USER@HOST/DB",
                                uri, kDefaultStoreUri));
}

}  // namespace aimara::store
