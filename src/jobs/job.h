// The job model: what a job is, the states it moves through, its lease and its retry policy.
//
// A job is one media item (kind media) or a playlist/channel/feed that expands into one child job
// per entry (kind playlist). Its lifecycle (ARCHITECTURE.md "Jobs and the store"):
//
//   queued -> resolving -> downloading -> extracting_audio -> transcribing -> extracting_entities
//          -> (analyzing) -> storing -> completed
//   any running state -> failed (retryable: waits until run_at, then is claimable again)
//                     -> dead (permanent error, or attempts exhausted)
//                     -> cancelled (by a user)
//
// "Running" states are the ones a worker holds under a lease. A lease is a random 128-bit token
// plus an owner (worker id) and an expiry; every write a worker makes is fenced by the token
// (store/store.h). This header holds the plain values and the pure rules (backoff with jitter,
// what a failure leads to); the store applies them.
//
// Thread-safety: plain values and pure functions, safe from any thread. generate_lease_token and
// unit_random use a per-thread generator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace aimara::jobs {

enum class JobState {
  kQueued,
  kResolving,
  kDownloading,
  kExtractingAudio,
  kTranscribing,
  kExtractingEntities,
  kAnalyzing,
  kStoring,
  kCompleted,
  kFailed,
  kDead,
  kCancelled,
};

inline constexpr JobState kAllJobStates[] = {
    JobState::kQueued,          JobState::kResolving,    JobState::kDownloading,
    JobState::kExtractingAudio, JobState::kTranscribing, JobState::kExtractingEntities,
    JobState::kAnalyzing,       JobState::kStoring,      JobState::kCompleted,
    JobState::kFailed,          JobState::kDead,         JobState::kCancelled,
};

// The stable lowercase name ("extracting_audio") used in the store, JSON and the CLI.
std::string_view state_name(JobState state);
std::optional<JobState> parse_state(std::string_view name);

// resolving .. storing: a worker holds the job under a lease.
bool is_running(JobState state);
// completed, dead, cancelled: nothing more happens unless a user retries it.
bool is_terminal(JobState state);
// Every state except dead and cancelled. Among live jobs (extractor, video id) is unique, so a
// video that is queued, in progress, waiting for a retry or already completed is never fetched
// a second time; a dead or cancelled one may be enqueued again.
bool is_live(JobState state);

enum class JobKind { kMedia, kPlaylist };
std::string_view kind_name(JobKind kind);
std::optional<JobKind> parse_kind(std::string_view name);

// What the resolver learns about a media item. Empty strings / zero mean "not known yet".
struct MediaInfo {
  std::string title;
  std::string platform;   // "youtube", "tiktok", "local", "http", ...
  std::string extractor;  // yt-dlp's extractor key ("Youtube"), or aimara's own source kind
  std::string video_id;   // with extractor: the identity that makes a job unique among live ones
  int64_t duration_ms = 0;
  std::string uploader;
  std::string upload_date;  // as the platform gives it (yt-dlp: YYYYMMDD)
  std::string webpage_url;
  std::string language;  // whisper's code of the language it was transcribed in ('' until then)

  bool operator==(const MediaInfo&) const = default;
};

// An error as recorded in the store: the stable code name (error_code_name) and the message.
struct JobError {
  std::string code;
  std::string message;

  static JobError from(const Error& e);
  std::string to_string() const;  // "download_forbidden: HTTP 403"
  bool operator==(const JobError&) const = default;
};

// A 128-bit random fencing token, 32 lowercase hex characters.
struct LeaseToken {
  std::string hex;
  bool operator==(const LeaseToken&) const = default;
};
LeaseToken generate_lease_token();

// What a worker holds after a successful claim and passes to every write it makes.
struct Lease {
  int64_t job_id = 0;
  LeaseToken token;
  std::string owner;  // the worker id given to claim
  int attempt = 0;    // 1 for the first run of the job
  int64_t expires_at_ms = 0;
};

struct Job {
  int64_t id = 0;
  std::optional<int64_t> parent_id;  // the playlist job this entry came from
  std::string source;                // URL or path as the user gave it
  JobKind kind = JobKind::kMedia;
  JobState state = JobState::kQueued;
  std::optional<JobState> stage;  // last running stage entered (kept when it fails)
  int attempts = 0;               // claims so far (reset by a user retry)
  int max_attempts = 0;
  int64_t priority = 0;   // smaller runs first; ties run in id order
  int64_t run_at_ms = 0;  // not claimable before this (retry backoff)
  std::optional<JobError> last_error;
  std::optional<std::string> lease_owner;
  std::optional<int64_t> lease_expires_at_ms;
  double progress = 0.0;                              // 0..1, as the worker reports it
  nlohmann::json options = nlohmann::json::object();  // the run options the job was made with
  MediaInfo media;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<int64_t> stage_started_at_ms;
  std::optional<int64_t> finished_at_ms;  // when it became completed, dead or cancelled
};

// Retries back off exponentially with jitter (ARCHITECTURE: "Retries back off exponentially").
struct RetryPolicy {
  int max_attempts = 3;                // default for jobs enqueued without their own
  int64_t base_delay_ms = 30'000;      // delay after the first failed attempt, before jitter
  int64_t max_delay_ms = 30 * 60'000;  // cap before jitter
  double jitter = 0.5;                 // a delay d becomes a value in [d * (1 - jitter), d]
};

// The delay before the next attempt after attempt number `attempt` (1-based) failed:
// d = min(max_delay, base_delay * 2^(attempt - 1)), then d - jitter * d * unit_random, where
// unit_random is in [0, 1). Pure: the caller supplies the randomness.
int64_t backoff_delay_ms(const RetryPolicy& policy, int attempt, double unit_random);

// Errors no retry can fix: the media is gone or private, unreadable, has no audio, is too long,
// the input is wrong, credentials are needed, the model is missing or broken.
bool is_permanent(ErrorCode code);

struct FailureDecision {
  JobState state = JobState::kDead;  // kFailed (will retry) or kDead
  int64_t run_at_ms = 0;             // when kFailed: not before this
};

// What a failure of attempt `attempts` (1-based, of max_attempts) leads to: failed with a backoff
// when the caller says it is retryable, the code is not permanent and attempts remain; dead
// otherwise.
FailureDecision decide_failure(const RetryPolicy& policy, int attempts, int max_attempts,
                               ErrorCode code, bool retryable, int64_t now_ms, double unit_random);

// A uniform value in [0, 1) from a per-thread generator seeded from std::random_device.
double unit_random();

}  // namespace aimara::jobs
