// The job store: the one place jobs, their checkpoints, transcripts, stage log and entity mentions
// live, shared by every worker, the CLI and the server (ARCHITECTURE.md "Jobs and the store").
//
// `Store` is an interface with one backend per database: store/sqlite (embedded, the default,
// "sqlite:PATH") and, later, store/postgres ("postgres://..."). Callers only see this header and
// open_store(); the store test suite (store_test.h) runs unchanged against every backend.
//
// The contract every backend keeps:
//
// * Producers enqueue jobs. (extractor, video_id) is unique among live jobs (every state except
//   dead and cancelled; jobs::is_live): enqueueing a video that is queued, running, waiting for a
//   retry or completed returns that job's id with created = false, so a video is never fetched
//   twice. Jobs without a video id (not resolved yet) are never merged.
// * Workers claim jobs. claim() is one atomic step: it picks the first claimable job in
//   (priority, id) order, moves it to `resolving`, counts an attempt and hands out a lease: a fresh
//   random token, the worker id and an expiry. Claimable = queued, or failed with run_at <= now.
//   Leases that expired (lease_expires_at <= now) are reaped first, in the same transaction: the
//   job's open stage is logged with outcome retry (error lease_lost) and the job becomes failed,
//   due at once, or dead when it has used all its attempts. So an expired lease is claimable
//   again, and a worker that crashes over and over on one job cannot loop forever.
// * Every write a worker makes (heartbeat, set_stage, set_progress, set_media_info, add_children,
//   plan_chunks, save_chunk_result, save_mentions, complete, fail, release) names the lease and
//   changes nothing, returning ErrorCode::kLeaseLost, unless the job still carries that token:
//   the token is a fence. A lease past its expiry stays valid until a claim or reap takes it;
//   cancel() and a reap take it at once. A worker that gets lease_lost stops working on the job.
// * Stages: set_stage() closes the current stage in the job log (outcome ok) and opens the next;
//   complete(), fail(), release(), cancel() and reaping close it with their outcome. The log is
//   append-only: one row per finished stage run with its start, end, outcome, worker, attempt and
//   error. Its ids grow monotonically in commit order, so events_since(id) is a change feed.
// * Failure: fail(lease, error, retryable) applies jobs::decide_failure with the store's
//   RetryPolicy: failed with run_at = now + backoff (jittered), or dead when the error is
//   permanent (jobs::is_permanent), not retryable, or the attempts are used up.
// * Checkpoints: a chunk is (job, index, start_ms, end_ms). save_chunk_result() stores the chunk's
//   segments and marks it done in one transaction, so after a crash at any moment either both or
//   neither are there; saving a chunk that is already done changes nothing and returns false.
// * Times are integer ms since the epoch from the store's jobs::Clock (StoreOptions::clock).
//
// Thread-safety: a Store is safe for concurrent use from many threads without external
// synchronisation, and many processes (SQLite: on one machine; PostgreSQL: anywhere) may open the
// same database at once. Ownership: open_store returns the only owner; results are plain values
// the caller owns.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "jobs/clock.h"
#include "jobs/job.h"

namespace aimara::store {

// ----- inputs -----

struct NewJob {
  std::string source;  // URL or path
  jobs::JobKind kind = jobs::JobKind::kMedia;
  std::optional<int64_t> parent_id;
  int64_t priority = 0;  // smaller runs first (e.g. duration for shortest-first)
  int max_attempts = 0;  // 0: the store's RetryPolicy::max_attempts
  nlohmann::json options = nlohmann::json::object();
  jobs::MediaInfo media;  // as far as known; extractor + video_id deduplicate
};

struct Enqueued {
  int64_t id = 0;
  bool created = false;                            // false: an existing live job has this video
  jobs::JobState state = jobs::JobState::kQueued;  // the state of job `id` now
};

struct ChunkSpan {
  int index = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// Bits of StoredSegment::flags / NewSegment::flags.
inline constexpr uint32_t kSegmentHallucination = 1u << 0;  // kept out of entity counts
inline constexpr uint32_t kSegmentRepetitionLoop = 1u << 1;

struct NewSegment {
  int64_t start_ms = 0;  // in the media's own timeline
  int64_t end_ms = 0;
  std::string text;
  double no_speech_prob = 0.0;
  double avg_logprob = 0.0;
  uint32_t flags = 0;
};

struct ChunkResult {
  ChunkSpan chunk;
  std::vector<NewSegment> segments;  // in order; stored with seq 0, 1, ...; may be empty
};

struct Mention {
  std::string entity;     // the surface form ("presidente Maduro")
  std::string canonical;  // the entity it belongs to ("Nicolás Maduro")
  std::string type;       // PER, ORG, LOC, MISC or a watchlist label
  std::string source;     // what found it: "tagger", "watchlist:NAME", "pattern:.."
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string context;  // the surrounding text
};

// ----- results -----

struct ClaimedJob {
  jobs::Job job;  // as it is after the claim (state resolving)
  jobs::Lease lease;
};

struct MediaUpdate {
  // Set when another live job already has this (extractor, video_id): nothing was changed and
  // the caller should drop this job (e.g. cancel() it) in favour of that one.
  std::optional<int64_t> duplicate_of;
};

enum class ChunkState { kPending, kDone };

struct ChunkRecord {
  int index = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  ChunkState state = ChunkState::kPending;
  std::optional<int64_t> done_at_ms;
};

struct StoredSegment {
  int64_t job_id = 0;
  int chunk_index = 0;
  int seq = 0;  // order within the chunk
  NewSegment segment;
};

enum class EventOutcome { kOk, kError, kRetry, kCancelled };
std::string_view outcome_name(EventOutcome outcome);
std::optional<EventOutcome> parse_outcome(std::string_view name);

// One finished run of one stage of one job (the job log).
struct JobEvent {
  int64_t id = 0;  // grows monotonically in commit order
  int64_t job_id = 0;
  jobs::JobState stage = jobs::JobState::kResolving;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;
  EventOutcome outcome = EventOutcome::kOk;
  std::string worker;
  int attempt = 0;
  std::optional<jobs::JobError> error;
};

struct JobFilter {
  std::vector<jobs::JobState> states;  // empty: any state
  std::optional<int64_t> parent_id;    // only the children of this job
  bool top_level_only = false;         // only jobs without a parent
  std::optional<std::string> source;   // only jobs with exactly this source
  int limit = 100;                     // page size (<= 0: no limit)
  int offset = 0;
  bool newest_first = false;  // default: oldest (smallest id) first
};

struct StateCount {
  jobs::JobState state = jobs::JobState::kQueued;
  int64_t jobs = 0;
};

struct StageStats {
  jobs::JobState stage = jobs::JobState::kResolving;
  int64_t runs = 0;  // finished runs of this stage, any outcome
  int64_t ok = 0;
  int64_t errors = 0;       // outcome error (the job died there)
  int64_t retries = 0;      // outcome retry
  double mean_ms = 0.0;     // over all runs
  double mean_ok_ms = 0.0;  // over successful runs
  int64_t max_ms = 0;
};

struct StoreStats {
  std::vector<StateCount> by_state;  // every state, zero counts included, in state order
  int64_t total = 0;
  // completed / (completed + dead); empty while no job has finished either way.
  std::optional<double> success_rate;
  std::vector<StageStats> stages;  // stages that ran at least once, in pipeline order
};

// A job's changed snapshot; `seq` grows with every change to any job (jobs_changed_since).
struct JobChange {
  int64_t seq = 0;
  jobs::Job job;
};

struct SearchQuery {
  // Words to find, all of them (any order, accents and case ignored). "quoted phrases" match as
  // a phrase; a trailing * matches a prefix. Other punctuation is ignored, never a syntax error.
  std::string text;
  std::optional<int64_t> job_id;  // search one job only
  int limit = 20;
  int offset = 0;
  std::string mark_open = "[";  // put around matched words in the snippet
  std::string mark_close = "]";
};

struct SearchHit {
  int64_t job_id = 0;
  std::string title;
  std::string webpage_url;
  int chunk_index = 0;
  int seq = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::string snippet;  // the segment's text around the match, matches marked
};

struct EntityQuery {
  std::optional<std::string> type;  // only this type
  std::optional<int64_t> job_id;    // only this job's mentions
  int limit = 50;
};

struct EntityCount {
  std::string canonical;
  std::string type;
  int64_t mentions = 0;
  int64_t jobs = 0;  // distinct jobs that mention it
};

struct MentionQuery {
  std::optional<std::string> name;  // canonical or surface form, case-insensitive
  std::optional<int64_t> job_id;
  int limit = 100;
  int offset = 0;
};

struct StoredMention {
  int64_t id = 0;
  int64_t job_id = 0;
  std::string title;  // the job's title, for listing
  std::string webpage_url;
  Mention mention;
};

// ----- the interface -----

class Store {
 public:
  virtual ~Store() = default;

  // "sqlite:/abs/path/aimara.db": where the data lives, for messages and logs.
  virtual std::string describe() const = 0;

  // --- producers ---
  virtual Result<Enqueued> enqueue(const NewJob& job) = 0;

  // --- workers (each write is fenced by the lease: kLeaseLost when the token no longer holds) ---

  // The next claimable job, or nullopt when none is. `kinds` empty: any kind.
  virtual Result<std::optional<ClaimedJob>> claim(std::string_view worker_id, int64_t lease_ms,
                                                  std::span<const jobs::JobKind> kinds = {}) = 0;
  // Extends the lease to now + lease_ms; updates lease.expires_at_ms.
  virtual Result<void> heartbeat(jobs::Lease& lease, int64_t lease_ms) = 0;
  // Enters a running stage (resolving .. storing); the current one is logged as ok. Entering the
  // stage the job is already in changes nothing.
  virtual Result<void> set_stage(const jobs::Lease& lease, jobs::JobState stage) = 0;
  virtual Result<void> set_progress(const jobs::Lease& lease, double fraction) = 0;
  virtual Result<MediaUpdate> set_media_info(const jobs::Lease& lease,
                                             const jobs::MediaInfo& media) = 0;
  // A playlist's entries, as child jobs of the leased one, all or none; the leased job becomes
  // kind playlist (a URL is often only known to be a feed or playlist once resolved). Entries
  // whose video is already live elsewhere come back with that job's id and created = false.
  virtual Result<std::vector<Enqueued>> add_children(const jobs::Lease& lease,
                                                     std::span<const NewJob> children) = 0;
  // Records the planned chunks as pending (chunks already known are left as they are), so
  // progress and `chunks()` can show how many remain.
  virtual Result<void> plan_chunks(const jobs::Lease& lease, std::span<const ChunkSpan> chunks) = 0;
  // The checkpoint: segments + chunk done in one transaction. True when saved now, false when the
  // chunk was already done (nothing changed: no duplicate segments).
  virtual Result<bool> save_chunk_result(const jobs::Lease& lease, const ChunkResult& result) = 0;
  // Replaces all of the job's mentions with these (so re-running the stage never duplicates).
  virtual Result<void> save_mentions(const jobs::Lease& lease,
                                     std::span<const Mention> mentions) = 0;
  // Done: state completed, progress 1, lease released, current stage logged ok.
  virtual Result<void> complete(const jobs::Lease& lease) = 0;
  // The attempt failed; returns the state it led to (failed or dead). See the contract above.
  virtual Result<jobs::JobState> fail(const jobs::Lease& lease, const Error& error,
                                      bool retryable) = 0;
  // Gives the job back unfinished without spending an attempt (a graceful shutdown): it becomes
  // queued again, claimable at once; the current stage is logged as retry (error cancelled).
  virtual Result<void> release(const jobs::Lease& lease) = 0;

  // --- lease housekeeping ---

  // Reaps expired leases now (claim does this too); returns how many jobs it reaped.
  virtual Result<int> reap_expired_leases() = 0;
  // Makes every lease whose owner starts with `owner_prefix` expire now, e.g. the leases of a
  // process known to be dead ("host:1234:"), so the next claim takes those jobs at once.
  virtual Result<int> expire_leases_of(std::string_view owner_prefix) = 0;

  // --- users ---

  // dead, failed or cancelled -> queued now, attempts reset to 0, last error cleared.
  // kInvalidArgument for any other state or when the video is live as another job meanwhile.
  virtual Result<void> retry(int64_t job_id) = 0;
  // A completed playlist (a playlist, channel, feed or folder expanded earlier) -> queued now, to
  // be expanded again: entries added since become new child jobs, those it has stay as they are
  // (a video is one live job). True when it was queued; false for any other kind or state.
  virtual Result<bool> refresh_playlist(int64_t job_id) = 0;
  // Any non-terminal job -> cancelled, with its non-terminal children; a running job's lease is
  // taken (its worker gets lease_lost). kInvalidArgument for completed, dead or cancelled jobs.
  virtual Result<void> cancel(int64_t job_id) = 0;

  // --- queries (kNotFound for a job id that does not exist, where one is named) ---
  virtual Result<jobs::Job> get_job(int64_t job_id) = 0;
  virtual Result<std::vector<jobs::Job>> list_jobs(const JobFilter& filter) = 0;
  // The job log in order (all jobs when job_id is empty).
  virtual Result<std::vector<JobEvent>> job_log(std::optional<int64_t> job_id) = 0;
  // Log rows with id > after_id, oldest first, at most `limit`: the feed for live updates.
  virtual Result<std::vector<JobEvent>> events_since(int64_t after_id, int limit) = 0;
  // Jobs changed (any field) after change number `after_seq`, in change order, each once with
  // its latest state, at most `limit`. Feed the last seq back to continue.
  virtual Result<std::vector<JobChange>> jobs_changed_since(int64_t after_seq, int limit) = 0;
  virtual Result<std::vector<StateCount>> counts_by_state() = 0;
  virtual Result<StoreStats> stats() = 0;
  virtual Result<std::vector<ChunkRecord>> chunks(int64_t job_id) = 0;
  // Indexes of the chunks that are done, ascending: what a resumed run skips.
  virtual Result<std::vector<int>> completed_chunks(int64_t job_id) = 0;
  // All segments of a job in (chunk_index, seq) order.
  virtual Result<std::vector<StoredSegment>> segments(int64_t job_id) = 0;
  virtual Result<std::vector<SearchHit>> search(const SearchQuery& query) = 0;
  virtual Result<std::vector<EntityCount>> top_entities(const EntityQuery& query) = 0;
  virtual Result<std::vector<StoredMention>> mentions(const MentionQuery& query) = 0;

  // Convenience over list_jobs: every child of a playlist job, in id order.
  Result<std::vector<jobs::Job>> children(int64_t parent_id);
  // The jobs reachable from `roots`: each root, then its entries (depth first, in order); a job
  // reached twice is listed once.
  Result<std::vector<jobs::Job>> jobs_under(std::span<const int64_t> roots);
  // enqueue() for a job a user asked for (an input of `aimara run`, a URL sent to the API): when
  // it is a playlist expanded before, it is queued again (refresh_playlist) so that what was
  // added since is picked up.
  Result<Enqueued> enqueue_input(const NewJob& job);
};

struct StoreOptions {
  std::shared_ptr<const jobs::Clock> clock = jobs::system_clock();
  jobs::RetryPolicy retry;
  int busy_timeout_ms = 10'000;   // how long a writer waits for another process's write
  bool create_if_missing = true;  // false: a store that does not exist yet is kNotFound
};

// The URI used when the user gives none.
inline constexpr std::string_view kDefaultStoreUri = "sqlite:./aimara.db";

// Opens (creating and migrating as needed) the store a URI names:
//   sqlite:PATH            an SQLite file (created with its folder if missing); "sqlite:" alone
//                          means ./aimara.db
//   postgres://, postgresql://   the PostgreSQL backend (not built yet: a clear error for now)
// Errors: kInvalidArgument for an unknown scheme, kNotFound when the database does not exist and
// options.create_if_missing is false, kStoreError when it cannot be opened or its schema is newer
// than this build of aimara knows.
Result<std::unique_ptr<Store>> open_store(std::string_view uri, StoreOptions options = {});

}  // namespace aimara::store
