#include "jobs/job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "jobs/clock.h"

namespace aimara::jobs {

namespace {

std::mt19937_64& thread_generator() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return gen;
}

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

std::string_view state_name(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kResolving:
      return "resolving";
    case JobState::kDownloading:
      return "downloading";
    case JobState::kExtractingAudio:
      return "extracting_audio";
    case JobState::kTranscribing:
      return "transcribing";
    case JobState::kExtractingEntities:
      return "extracting_entities";
    case JobState::kAnalyzing:
      return "analyzing";
    case JobState::kStoring:
      return "storing";
    case JobState::kCompleted:
      return "completed";
    case JobState::kFailed:
      return "failed";
    case JobState::kDead:
      return "dead";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "queued";
}

std::optional<JobState> parse_state(std::string_view name) {
  for (JobState s : kAllJobStates) {
    if (state_name(s) == name) return s;
  }
  return std::nullopt;
}

bool is_running(JobState state) {
  switch (state) {
    case JobState::kResolving:
    case JobState::kDownloading:
    case JobState::kExtractingAudio:
    case JobState::kTranscribing:
    case JobState::kExtractingEntities:
    case JobState::kAnalyzing:
    case JobState::kStoring:
      return true;
    default:
      return false;
  }
}

bool is_terminal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kDead || state == JobState::kCancelled;
}

bool is_live(JobState state) { return state != JobState::kDead && state != JobState::kCancelled; }

std::string_view kind_name(JobKind kind) {
  return kind == JobKind::kPlaylist ? "playlist" : "media";
}

std::optional<JobKind> parse_kind(std::string_view name) {
  if (name == "media") return JobKind::kMedia;
  if (name == "playlist") return JobKind::kPlaylist;
  return std::nullopt;
}

JobError JobError::from(const Error& e) {
  return JobError{std::string(error_code_name(e.code)), e.message};
}

std::string JobError::to_string() const { return code + ": " + message; }

LeaseToken generate_lease_token() {
  auto& gen = thread_generator();
  return LeaseToken{fmt::format("{:016x}{:016x}", gen(), gen())};
}

int64_t backoff_delay_ms(const RetryPolicy& policy, int attempt, double unit_random) {
  const int64_t base = std::max<int64_t>(0, policy.base_delay_ms);
  const int64_t cap = std::max<int64_t>(0, policy.max_delay_ms);
  int64_t d = base;
  for (int i = 1; i < attempt && d < cap; ++i) {
    d = d > cap / 2 ? cap : d * 2;
  }
  d = std::min(d, cap);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double u = std::clamp(unit_random, 0.0, 1.0);
  const double jittered = static_cast<double>(d) * (1.0 - jitter * u);
  return std::clamp<int64_t>(std::llround(jittered), 0, d);
}

bool is_permanent(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMediaNotFound:
    case ErrorCode::kMediaInvalid:
    case ErrorCode::kMediaNoAudio:
    case ErrorCode::kMediaTooLong:
    case ErrorCode::kDownloadUnavailable:
    case ErrorCode::kNeedsCredentials:
    case ErrorCode::kModelMissing:
    case ErrorCode::kModelInvalid:
    case ErrorCode::kModelHashMismatch:
      return true;
    default:
      return false;
  }
}

FailureDecision decide_failure(const RetryPolicy& policy, int attempts, int max_attempts,
                               ErrorCode code, bool retryable, int64_t now_ms, double unit_random) {
  if (!retryable || is_permanent(code) || attempts >= max_attempts) {
    return FailureDecision{JobState::kDead, now_ms};
  }
  return FailureDecision{JobState::kFailed,
                         now_ms + backoff_delay_ms(policy, attempts, unit_random)};
}

double unit_random() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(thread_generator());
}

std::shared_ptr<const Clock> system_clock() {
  static const std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace aimara::jobs
