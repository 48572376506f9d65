// The SQLite store's writes: opening, enqueueing, the lease protocol and user actions.
// Reads are in sqlite_queries.cpp.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "store/sqlite/migrations.h"
#include "store/sqlite/rows.h"

namespace aimara::store::sqlite {

namespace {

constexpr size_t kMaxIdleReaders = 8;

std::unexpected<Error> lease_lost(const jobs::Lease& lease) {
  return make_error(ErrorCode::kLeaseLost,
                    fmt::format("job {}: the lease of worker '{}' no longer holds (it expired and "
                                "another claim took the job, or the job was cancelled)",
                                lease.job_id, lease.owner));
}

std::unexpected<Error> invalid(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

// What a fenced write needs to know about the job it holds.
struct LeasedJob {
  std::string stage;
  int64_t stage_started_at = 0;
  int attempts = 0;
  int max_attempts = 0;
  std::string owner;
  std::string extractor;
};

// The job, if `lease` still holds it; kLeaseLost otherwise.
Result<LeasedJob> load_leased(Connection& c, const jobs::Lease& lease, int64_t now) {
  auto q = c.query(
      "SELECT IFNULL(stage, state), stage_started_at, attempts, max_attempts, lease_owner, "
      "extractor FROM jobs WHERE id = ?1 AND lease_token = ?2");
  if (!q) return std::unexpected(q.error());
  q->bind(lease.job_id, lease.token.hex);
  auto row = q->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return lease_lost(lease);
  return LeasedJob{q->text(0), q->opt_int64(1).value_or(now), q->int32(2), q->int32(3), q->text(4),
                   q->text(5)};
}

Result<void> log_event(Connection& c, int64_t job_id, std::string_view stage, int64_t started,
                       int64_t ended, EventOutcome outcome, std::string_view worker, int attempt,
                       const std::optional<jobs::JobError>& error) {
  auto q = c.query(
      "INSERT INTO job_events (job_id, stage, started_at, ended_at, outcome, worker, attempt, "
      "error_code, error_message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!q) return std::unexpected(q.error());
  std::optional<std::string> code, message;
  if (error) {
    code = error->code;
    message = error->message;
  }
  auto r = q->bind(job_id, stage, started, std::max(started, ended), outcome_name(outcome), worker,
                   attempt, code, message)
               .run();
  if (!r) return std::unexpected(r.error());
  return {};
}

// Runs an UPDATE fenced by the lease; kLeaseLost when it touched nothing.
Result<void> run_fenced(Query& q, const jobs::Lease& lease) {
  auto n = q.run();
  if (!n) return std::unexpected(n.error());
  if (*n == 0) return lease_lost(lease);
  return {};
}

// The id and state of the live job that has this video, if any (other than `except_id`).
Result<std::optional<std::pair<int64_t, jobs::JobState>>> live_job_with_video(
    Connection& c, std::string_view extractor, std::string_view video_id, int64_t except_id) {
  auto q = c.query(
      "SELECT id, state FROM jobs WHERE extractor = ?1 AND video_id = ?2 "
      "AND state NOT IN ('dead', 'cancelled') AND id != ?3 LIMIT 1");
  if (!q) return std::unexpected(q.error());
  q->bind(extractor, video_id, except_id);
  auto row = q->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<std::pair<int64_t, jobs::JobState>>{};
  return std::make_optional(
      std::make_pair(q->int64(0), jobs::parse_state(q->text(1)).value_or(jobs::JobState::kQueued)));
}

Result<Enqueued> insert_job(Connection& c, const NewJob& job, int default_max_attempts,
                            int64_t now) {
  if (job.source.empty()) return invalid("a job needs a source (URL or path)");
  if (job.max_attempts < 0) return invalid("max_attempts must be 0 (default) or more");
  if (!job.media.video_id.empty()) {
    auto existing = live_job_with_video(c, job.media.extractor, job.media.video_id, 0);
    if (!existing) return std::unexpected(existing.error());
    if (*existing) return Enqueued{(*existing)->first, false, (*existing)->second};
  }
  if (job.parent_id) {
    auto q = c.query("SELECT 1 FROM jobs WHERE id = ?1");
    if (!q) return std::unexpected(q.error());
    auto row = q->bind(*job.parent_id).step();
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("parent job {} does not exist", *job.parent_id));
    }
  }
  auto q = c.query(
      "INSERT INTO jobs (parent_id, source, kind, state, max_attempts, priority, run_at, "
      "options, title, platform, extractor, video_id, duration_ms, uploader, upload_date, "
      "webpage_url, language, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?6, ?6)");
  if (!q) return std::unexpected(q.error());
  const auto& m = job.media;
  auto r = q->bind(job.parent_id, job.source, jobs::kind_name(job.kind),
                   job.max_attempts > 0 ? job.max_attempts : std::max(1, default_max_attempts),
                   job.priority, now, job.options.dump(), m.title, m.platform, m.extractor,
                   null_if_empty(m.video_id), m.duration_ms, m.uploader, m.upload_date,
                   m.webpage_url, m.language)
               .run();
  if (!r) return std::unexpected(r.error());
  return Enqueued{sqlite3_last_insert_rowid(c.get()), true, jobs::JobState::kQueued};
}

// Expired leases -> failed (due now) or dead (attempts used up), each logged as a retry/error.
Result<int> reap(Connection& c, int64_t now) {
  const std::string_view code = error_code_name(ErrorCode::kLeaseLost);
  {
    auto q = c.query(
        "INSERT INTO job_events (job_id, stage, started_at, ended_at, outcome, worker, attempt, "
        "error_code, error_message) "
        "SELECT id, IFNULL(stage, state), MIN(IFNULL(stage_started_at, ?1), ?1), ?1, "
        "CASE WHEN attempts >= max_attempts THEN 'error' ELSE 'retry' END, "
        "IFNULL(lease_owner, ''), attempts, ?2, "
        "'the lease of worker ''' || IFNULL(lease_owner, '?') || ''' expired without a heartbeat' "
        "FROM jobs WHERE lease_token IS NOT NULL AND lease_expires_at <= ?1 ORDER BY id");
    if (!q) return std::unexpected(q.error());
    if (auto r = q->bind(now, code).run(); !r) return std::unexpected(r.error());
  }
  auto q = c.query(
      "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END, "
      "finished_at = CASE WHEN attempts >= max_attempts THEN ?1 ELSE NULL END, "
      "run_at = ?1, last_error_code = ?2, "
      "last_error_message = 'the lease of worker ''' || IFNULL(lease_owner, '?') || "
      "''' expired without a heartbeat', "
      "lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1 "
      "WHERE lease_token IS NOT NULL AND lease_expires_at <= ?1");
  if (!q) return std::unexpected(q.error());
  return q->bind(now, code).run();
}

}  // namespace

// ----- opening -----

SqliteStore::SqliteStore(Passkey, std::filesystem::path path, StoreOptions options,
                         Connection writer)
    : path_(std::move(path)), options_(std::move(options)), writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path,
                                                       StoreOptions options) {
  if (!options.clock) options.clock = jobs::system_clock();
  if (path.empty()) return invalid("the SQLite store needs a file path (sqlite:PATH)");
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  const auto& file = ec ? path : absolute;
  if (!options.create_if_missing && !std::filesystem::exists(file, ec)) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no job store at '{}' (give the one to use with --store "
                                  "sqlite:PATH)",
                                  file.string()));
  }
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return make_error(ErrorCode::kStoreError,
                        fmt::format("cannot create the folder of the store '{}': {}", file.string(),
                                    ec.message()));
    }
  }
  auto writer = Connection::open(file, options.busy_timeout_ms, /*read_only=*/false);
  if (!writer) {
    return make_error(writer.error().code, fmt::format("cannot open the store '{}': {}",
                                                       file.string(), writer.error().message));
  }
  auto migrated = migrate(*writer, options.clock->now_ms());
  if (!migrated) {
    return make_error(migrated.error().code,
                      fmt::format("store '{}': {}", file.string(), migrated.error().message));
  }
  return std::make_unique<SqliteStore>(Passkey{}, file, std::move(options), std::move(*writer));
}

std::string SqliteStore::describe() const { return "sqlite:" + path_.string(); }

Result<int> SqliteStore::schema_version() {
  return read([](Connection& c) { return sqlite::schema_version(c); });
}

Result<std::unique_ptr<Connection>> SqliteStore::acquire_reader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      auto conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  auto conn = Connection::open(path_, options_.busy_timeout_ms, /*read_only=*/true);
  if (!conn) return std::unexpected(conn.error());
  return std::make_unique<Connection>(std::move(*conn));
}

void SqliteStore::release_reader(std::unique_ptr<Connection> conn) {
  if (!conn) return;
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(conn));
}

// ----- producers -----

Result<Enqueued> SqliteStore::enqueue(const NewJob& job) {
  const int64_t t = now();
  return write([&](Connection& c) { return insert_job(c, job, options_.retry.max_attempts, t); });
}

// ----- workers -----

Result<std::optional<ClaimedJob>> SqliteStore::claim(std::string_view worker_id, int64_t lease_ms,
                                                     std::span<const jobs::JobKind> kinds) {
  if (worker_id.empty()) return invalid("claim needs a worker id");
  if (lease_ms <= 0) return invalid("a lease must last more than 0 ms");
  std::optional<std::string_view> kind;
  if (!kinds.empty() && std::all_of(kinds.begin(), kinds.end(),
                                    [&](jobs::JobKind k) { return k == kinds.front(); })) {
    kind = jobs::kind_name(kinds.front());
  }
  const int64_t t = now();
  auto token = jobs::generate_lease_token();
  return write([&](Connection& c) -> Result<std::optional<ClaimedJob>> {
    if (auto r = reap(c, t); !r) return std::unexpected(r.error());
    static const std::string kClaim =
        sql({"UPDATE jobs SET state = 'resolving', stage = 'resolving', stage_started_at = ?1, "
             "attempts = attempts + 1, lease_token = ?2, lease_owner = ?3, lease_expires_at = ?4, "
             "updated_at = ?1 "
             "WHERE id = (SELECT id FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= ?1 "
             "AND (?5 IS NULL OR kind = ?5) ORDER BY priority, id LIMIT 1) RETURNING ",
             kJobColumns});
    auto q = c.query(kClaim);
    if (!q) return std::unexpected(q.error());
    q->bind(t, token.hex, worker_id, t + lease_ms, kind);
    auto row = q->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return std::optional<ClaimedJob>{};
    ClaimedJob claimed;
    claimed.job = read_job(*q);
    claimed.lease = jobs::Lease{claimed.job.id, token, std::string(worker_id), claimed.job.attempts,
                                t + lease_ms};
    if (auto done = q->run(); !done) return std::unexpected(done.error());
    return std::optional<ClaimedJob>(std::move(claimed));
  });
}

Result<void> SqliteStore::heartbeat(jobs::Lease& lease, int64_t lease_ms) {
  if (lease_ms <= 0) return invalid("a lease must last more than 0 ms");
  const int64_t expires = now() + lease_ms;
  auto r = write([&](Connection& c) -> Result<void> {
    auto q = c.query("UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND lease_token = ?3");
    if (!q) return std::unexpected(q.error());
    q->bind(expires, lease.job_id, lease.token.hex);
    return run_fenced(*q, lease);
  });
  if (r) lease.expires_at_ms = expires;
  return r;
}

Result<void> SqliteStore::set_stage(const jobs::Lease& lease, jobs::JobState stage) {
  if (!jobs::is_running(stage)) {
    return invalid(fmt::format("'{}' is not a stage a worker can enter", jobs::state_name(stage)));
  }
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    auto job = load_leased(c, lease, t);
    if (!job) return std::unexpected(job.error());
    if (job->stage == jobs::state_name(stage)) return {};
    if (auto r = log_event(c, lease.job_id, job->stage, job->stage_started_at, t, EventOutcome::kOk,
                           job->owner, job->attempts, std::nullopt);
        !r) {
      return r;
    }
    auto q = c.query(
        "UPDATE jobs SET state = ?1, stage = ?1, stage_started_at = ?2, updated_at = ?2 "
        "WHERE id = ?3 AND lease_token = ?4");
    if (!q) return std::unexpected(q.error());
    q->bind(jobs::state_name(stage), t, lease.job_id, lease.token.hex);
    return run_fenced(*q, lease);
  });
}

Result<void> SqliteStore::set_progress(const jobs::Lease& lease, double fraction) {
  const double f = std::clamp(fraction, 0.0, 1.0);
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    auto q = c.query(
        "UPDATE jobs SET progress = ?1, updated_at = ?2 WHERE id = ?3 AND lease_token = ?4");
    if (!q) return std::unexpected(q.error());
    q->bind(f, t, lease.job_id, lease.token.hex);
    return run_fenced(*q, lease);
  });
}

Result<MediaUpdate> SqliteStore::set_media_info(const jobs::Lease& lease,
                                                const jobs::MediaInfo& m) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<MediaUpdate> {
    auto job = load_leased(c, lease, t);
    if (!job) return std::unexpected(job.error());
    if (!m.video_id.empty()) {
      const std::string& extractor = m.extractor.empty() ? job->extractor : m.extractor;
      auto other = live_job_with_video(c, extractor, m.video_id, lease.job_id);
      if (!other) return std::unexpected(other.error());
      if (*other) return MediaUpdate{(*other)->first};
    }
    // Fields the resolver left empty keep what the job already knew.
    auto q = c.query(
        "UPDATE jobs SET "
        "title = CASE WHEN ?1 = '' THEN title ELSE ?1 END, "
        "platform = CASE WHEN ?2 = '' THEN platform ELSE ?2 END, "
        "extractor = CASE WHEN ?3 = '' THEN extractor ELSE ?3 END, "
        "video_id = IFNULL(?4, video_id), "
        "duration_ms = CASE WHEN ?5 = 0 THEN duration_ms ELSE ?5 END, "
        "uploader = CASE WHEN ?6 = '' THEN uploader ELSE ?6 END, "
        "upload_date = CASE WHEN ?7 = '' THEN upload_date ELSE ?7 END, "
        "webpage_url = CASE WHEN ?8 = '' THEN webpage_url ELSE ?8 END, "
        "language = CASE WHEN ?12 = '' THEN language ELSE ?12 END, "
        "updated_at = ?9 WHERE id = ?10 AND lease_token = ?11");
    if (!q) return std::unexpected(q.error());
    q->bind(m.title, m.platform, m.extractor, null_if_empty(m.video_id), m.duration_ms, m.uploader,
            m.upload_date, m.webpage_url, t, lease.job_id, lease.token.hex, m.language);
    if (auto r = run_fenced(*q, lease); !r) return std::unexpected(r.error());
    return MediaUpdate{};
  });
}

Result<std::vector<Enqueued>> SqliteStore::add_children(const jobs::Lease& lease,
                                                        std::span<const NewJob> children) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<std::vector<Enqueued>> {
    if (auto job = load_leased(c, lease, t); !job) return std::unexpected(job.error());
    // A job that has entries is a playlist, whatever its URL looked like when it was enqueued
    // (a feed or a generic page is only known to be one once resolved).
    auto kind = c.query("UPDATE jobs SET kind = 'playlist' WHERE id = ?1");
    if (!kind) return std::unexpected(kind.error());
    if (auto r = kind->bind(lease.job_id).run(); !r) return std::unexpected(r.error());
    std::vector<Enqueued> out;
    out.reserve(children.size());
    for (const NewJob& child : children) {
      NewJob entry = child;
      entry.parent_id = lease.job_id;
      auto e = insert_job(c, entry, options_.retry.max_attempts, t);
      if (!e) return std::unexpected(e.error());
      out.push_back(*e);
    }
    return out;
  });
}

Result<void> SqliteStore::plan_chunks(const jobs::Lease& lease, std::span<const ChunkSpan> chunks) {
  for (const auto& ch : chunks) {
    if (ch.index < 0 || ch.end_ms < ch.start_ms) {
      return invalid(fmt::format("bad chunk {} ({}..{} ms)", ch.index, ch.start_ms, ch.end_ms));
    }
  }
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    if (auto job = load_leased(c, lease, t); !job) return std::unexpected(job.error());
    for (const auto& ch : chunks) {
      auto q = c.query(
          "INSERT OR IGNORE INTO chunks (job_id, idx, start_ms, end_ms, state) "
          "VALUES (?1, ?2, ?3, ?4, 'pending')");
      if (!q) return std::unexpected(q.error());
      if (auto r = q->bind(lease.job_id, ch.index, ch.start_ms, ch.end_ms).run(); !r) {
        return std::unexpected(r.error());
      }
    }
    return {};
  });
}

Result<bool> SqliteStore::save_chunk_result(const jobs::Lease& lease, const ChunkResult& result) {
  const ChunkSpan& ch = result.chunk;
  if (ch.index < 0 || ch.end_ms < ch.start_ms) {
    return invalid(fmt::format("bad chunk {} ({}..{} ms)", ch.index, ch.start_ms, ch.end_ms));
  }
  const int64_t t = now();
  return write([&](Connection& c) -> Result<bool> {
    if (auto job = load_leased(c, lease, t); !job) return std::unexpected(job.error());
    {
      auto q = c.query("SELECT state FROM chunks WHERE job_id = ?1 AND idx = ?2");
      if (!q) return std::unexpected(q.error());
      auto row = q->bind(lease.job_id, ch.index).step();
      if (!row) return std::unexpected(row.error());
      if (*row && q->text(0) == "done") return false;
    }
    {
      auto q = c.query(
          "INSERT INTO chunks (job_id, idx, start_ms, end_ms, state, done_at) "
          "VALUES (?1, ?2, ?3, ?4, 'done', ?5) ON CONFLICT (job_id, idx) DO UPDATE SET "
          "start_ms = excluded.start_ms, end_ms = excluded.end_ms, state = 'done', "
          "done_at = excluded.done_at");
      if (!q) return std::unexpected(q.error());
      if (auto r = q->bind(lease.job_id, ch.index, ch.start_ms, ch.end_ms, t).run(); !r) {
        return std::unexpected(r.error());
      }
    }
    for (size_t seq = 0; seq < result.segments.size(); ++seq) {
      const NewSegment& s = result.segments[seq];
      auto q = c.query(
          "INSERT INTO segments (job_id, chunk_index, seq, start_ms, end_ms, text, "
          "no_speech_prob, avg_logprob, flags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      if (!q) return std::unexpected(q.error());
      auto r = q->bind(lease.job_id, ch.index, seq, s.start_ms, s.end_ms, s.text, s.no_speech_prob,
                       s.avg_logprob, s.flags)
                   .run();
      if (!r) return std::unexpected(r.error());
    }
    return true;
  });
}

Result<void> SqliteStore::save_mentions(const jobs::Lease& lease,
                                        std::span<const Mention> mentions) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    if (auto job = load_leased(c, lease, t); !job) return std::unexpected(job.error());
    {
      auto q = c.query("DELETE FROM mentions WHERE job_id = ?1");
      if (!q) return std::unexpected(q.error());
      if (auto r = q->bind(lease.job_id).run(); !r) return std::unexpected(r.error());
    }
    for (const Mention& m : mentions) {
      auto q = c.query(
          "INSERT INTO mentions (job_id, entity, canonical, type, source, start_ms, end_ms, "
          "context) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      if (!q) return std::unexpected(q.error());
      auto r = q->bind(lease.job_id, m.entity, m.canonical, m.type, m.source, m.start_ms, m.end_ms,
                       m.context)
                   .run();
      if (!r) return std::unexpected(r.error());
    }
    return {};
  });
}

Result<void> SqliteStore::complete(const jobs::Lease& lease) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    auto job = load_leased(c, lease, t);
    if (!job) return std::unexpected(job.error());
    if (auto r = log_event(c, lease.job_id, job->stage, job->stage_started_at, t, EventOutcome::kOk,
                           job->owner, job->attempts, std::nullopt);
        !r) {
      return r;
    }
    auto q = c.query(
        "UPDATE jobs SET state = 'completed', progress = 1, last_error_code = NULL, "
        "last_error_message = NULL, lease_token = NULL, lease_owner = NULL, "
        "lease_expires_at = NULL, finished_at = ?1, updated_at = ?1 "
        "WHERE id = ?2 AND lease_token = ?3");
    if (!q) return std::unexpected(q.error());
    q->bind(t, lease.job_id, lease.token.hex);
    return run_fenced(*q, lease);
  });
}

Result<jobs::JobState> SqliteStore::fail(const jobs::Lease& lease, const Error& error,
                                         bool retryable) {
  const int64_t t = now();
  const double u = jobs::unit_random();
  const auto recorded = jobs::JobError::from(error);
  return write([&](Connection& c) -> Result<jobs::JobState> {
    auto job = load_leased(c, lease, t);
    if (!job) return std::unexpected(job.error());
    const auto decision = jobs::decide_failure(options_.retry, job->attempts, job->max_attempts,
                                               error.code, retryable, t, u);
    const bool dead = decision.state == jobs::JobState::kDead;
    if (auto r = log_event(c, lease.job_id, job->stage, job->stage_started_at, t,
                           dead ? EventOutcome::kError : EventOutcome::kRetry, job->owner,
                           job->attempts, recorded);
        !r) {
      return std::unexpected(r.error());
    }
    auto q = c.query(
        "UPDATE jobs SET state = ?1, run_at = ?2, last_error_code = ?3, last_error_message = ?4, "
        "lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, finished_at = ?5, "
        "updated_at = ?6 WHERE id = ?7 AND lease_token = ?8");
    if (!q) return std::unexpected(q.error());
    q->bind(jobs::state_name(decision.state), decision.run_at_ms, recorded.code, recorded.message,
            dead ? std::optional<int64_t>(t) : std::nullopt, t, lease.job_id, lease.token.hex);
    if (auto r = run_fenced(*q, lease); !r) return std::unexpected(r.error());
    return decision.state;
  });
}

Result<void> SqliteStore::release(const jobs::Lease& lease) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    auto job = load_leased(c, lease, t);
    if (!job) return std::unexpected(job.error());
    if (auto r = log_event(
            c, lease.job_id, job->stage, job->stage_started_at, t, EventOutcome::kRetry, job->owner,
            job->attempts,
            jobs::JobError{std::string(error_code_name(ErrorCode::kCancelled)),
                           fmt::format("released unfinished by worker '{}'", job->owner)});
        !r) {
      return r;
    }
    auto q = c.query(
        "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), run_at = ?1, "
        "lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1 "
        "WHERE id = ?2 AND lease_token = ?3");
    if (!q) return std::unexpected(q.error());
    q->bind(t, lease.job_id, lease.token.hex);
    return run_fenced(*q, lease);
  });
}

// ----- lease housekeeping -----

Result<int> SqliteStore::reap_expired_leases() {
  const int64_t t = now();
  return write([&](Connection& c) { return reap(c, t); });
}

Result<int> SqliteStore::expire_leases_of(std::string_view owner_prefix) {
  if (owner_prefix.empty()) return invalid("expire_leases_of needs an owner prefix");
  const int64_t t = now();
  return write([&](Connection& c) -> Result<int> {
    auto q = c.query(
        "UPDATE jobs SET lease_expires_at = ?1 WHERE lease_token IS NOT NULL "
        "AND substr(lease_owner, 1, length(?2)) = ?2");
    if (!q) return std::unexpected(q.error());
    return q->bind(t, owner_prefix).run();
  });
}

// ----- users -----

Result<void> SqliteStore::retry(int64_t job_id) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    std::string state, extractor;
    std::optional<std::string> video_id;
    {
      auto q = c.query("SELECT state, extractor, video_id FROM jobs WHERE id = ?1");
      if (!q) return std::unexpected(q.error());
      auto row = q->bind(job_id).step();
      if (!row) return std::unexpected(row.error());
      if (!*row) return make_error(ErrorCode::kNotFound, fmt::format("no job {}", job_id));
      state = q->text(0);
      extractor = q->text(1);
      video_id = q->opt_text(2);
    }
    if (state != "dead" && state != "failed" && state != "cancelled") {
      return invalid(fmt::format("job {} is {}: only dead, failed or cancelled jobs can be retried",
                                 job_id, state));
    }
    if (video_id) {
      auto other = live_job_with_video(c, extractor, *video_id, job_id);
      if (!other) return std::unexpected(other.error());
      if (*other) {
        return invalid(fmt::format("job {}'s video is live as job {} already; not retried", job_id,
                                   (*other)->first));
      }
    }
    auto q = c.query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?1, last_error_code = NULL, "
        "last_error_message = NULL, finished_at = NULL, lease_token = NULL, lease_owner = NULL, "
        "lease_expires_at = NULL, updated_at = ?1 WHERE id = ?2");
    if (!q) return std::unexpected(q.error());
    if (auto r = q->bind(t, job_id).run(); !r) return std::unexpected(r.error());
    return {};
  });
}

Result<bool> SqliteStore::refresh_playlist(int64_t job_id) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<bool> {
    auto q = c.query(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?1, finished_at = NULL, "
        "progress = 0, updated_at = ?1 WHERE id = ?2 AND kind = 'playlist' AND state = "
        "'completed'");
    if (!q) return std::unexpected(q.error());
    if (auto r = q->bind(t, job_id).run(); !r) return std::unexpected(r.error());
    return sqlite3_changes(c.get()) > 0;
  });
}

Result<void> SqliteStore::cancel(int64_t job_id) {
  const int64_t t = now();
  return write([&](Connection& c) -> Result<void> {
    {
      auto q = c.query("SELECT state FROM jobs WHERE id = ?1");
      if (!q) return std::unexpected(q.error());
      auto row = q->bind(job_id).step();
      if (!row) return std::unexpected(row.error());
      if (!*row) return make_error(ErrorCode::kNotFound, fmt::format("no job {}", job_id));
      auto state = jobs::parse_state(q->text(0));
      if (state && jobs::is_terminal(*state)) {
        return invalid(fmt::format("job {} is {} already: nothing to cancel", job_id,
                                   jobs::state_name(*state)));
      }
    }
    {
      auto q = c.query(
          "INSERT INTO job_events (job_id, stage, started_at, ended_at, outcome, worker, "
          "attempt, error_code, error_message) "
          "SELECT id, IFNULL(stage, state), MIN(IFNULL(stage_started_at, ?2), ?2), ?2, "
          "'cancelled', IFNULL(lease_owner, ''), attempts, ?3, 'cancelled by a user' "
          "FROM jobs WHERE (id = ?1 OR parent_id = ?1) AND lease_token IS NOT NULL ORDER BY id");
      if (!q) return std::unexpected(q.error());
      auto r = q->bind(job_id, t, error_code_name(ErrorCode::kCancelled)).run();
      if (!r) return std::unexpected(r.error());
    }
    auto q = c.query(
        "UPDATE jobs SET state = 'cancelled', lease_token = NULL, lease_owner = NULL, "
        "lease_expires_at = NULL, finished_at = ?2, updated_at = ?2 "
        "WHERE (id = ?1 OR parent_id = ?1) AND state NOT IN ('completed', 'dead', 'cancelled')");
    if (!q) return std::unexpected(q.error());
    if (auto r = q->bind(job_id, t).run(); !r) return std::unexpected(r.error());
    return {};
  });
}

}  // namespace aimara::store::sqlite
