#include "jobs/job.h"

#include <set>

#include <gtest/gtest.h>

#include "jobs/clock.h"

namespace aimara::jobs {
namespace {

TEST(JobState, NamesRoundTripAndAreDistinct) {
  std::set<std::string_view> names;
  for (JobState s : kAllJobStates) {
    auto name = state_name(s);
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(parse_state(name), s);
  }
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(state_name(JobState::kExtractingAudio), "extracting_audio");
  EXPECT_EQ(state_name(JobState::kExtractingEntities), "extracting_entities");
  EXPECT_FALSE(parse_state("Queued").has_value());
  EXPECT_FALSE(parse_state("").has_value());
}

TEST(JobState, ClassesPartitionTheStates) {
  for (JobState s : kAllJobStates) {
    const bool waiting = s == JobState::kQueued || s == JobState::kFailed;
    // Every state is exactly one of: waiting to be claimed, running, terminal.
    EXPECT_EQ(int(waiting) + int(is_running(s)) + int(is_terminal(s)), 1) << state_name(s);
  }
  EXPECT_TRUE(is_live(JobState::kCompleted));
  EXPECT_TRUE(is_live(JobState::kFailed));
  EXPECT_TRUE(is_live(JobState::kTranscribing));
  EXPECT_FALSE(is_live(JobState::kDead));
  EXPECT_FALSE(is_live(JobState::kCancelled));
}

TEST(JobKind, NamesRoundTrip) {
  EXPECT_EQ(parse_kind(kind_name(JobKind::kMedia)), JobKind::kMedia);
  EXPECT_EQ(parse_kind(kind_name(JobKind::kPlaylist)), JobKind::kPlaylist);
  EXPECT_FALSE(parse_kind("channel").has_value());
}

TEST(LeaseToken, Is128BitHexAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = generate_lease_token();
    ASSERT_EQ(t.hex.size(), 32u);
    for (char c : t.hex) {
      ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << t.hex;
    }
    EXPECT_TRUE(seen.insert(t.hex).second);
  }
}

TEST(Backoff, DoublesFromTheBaseUpToTheCapWithoutJitter) {
  RetryPolicy p{.base_delay_ms = 1000, .max_delay_ms = 10'000, .jitter = 0.0};
  EXPECT_EQ(backoff_delay_ms(p, 1, 0.7), 1000);
  EXPECT_EQ(backoff_delay_ms(p, 2, 0.7), 2000);
  EXPECT_EQ(backoff_delay_ms(p, 3, 0.7), 4000);
  EXPECT_EQ(backoff_delay_ms(p, 4, 0.7), 8000);
  EXPECT_EQ(backoff_delay_ms(p, 5, 0.7), 10'000);
  EXPECT_EQ(backoff_delay_ms(p, 1000, 0.7), 10'000);  // no overflow for huge attempt numbers
}

TEST(Backoff, JitterStaysWithinBoundsAndVaries) {
  RetryPolicy p{.base_delay_ms = 1000, .max_delay_ms = 60'000, .jitter = 0.5};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const int64_t d = std::min<int64_t>(60'000, 1000LL << (attempt - 1));
    EXPECT_EQ(backoff_delay_ms(p, attempt, 0.0), d);
    EXPECT_EQ(backoff_delay_ms(p, attempt, 1.0), d / 2);
    std::set<int64_t> values;
    for (int i = 0; i < 200; ++i) {
      int64_t v = backoff_delay_ms(p, attempt, unit_random());
      EXPECT_GE(v, d / 2);
      EXPECT_LE(v, d);
      values.insert(v);
    }
    EXPECT_GT(values.size(), 20u) << "jitter should spread retries, attempt " << attempt;
  }
}

TEST(Backoff, LaterAttemptsNeverWaitLessThanEarlierOnesAtTheSameJitter) {
  RetryPolicy p{.base_delay_ms = 500, .max_delay_ms = 120'000, .jitter = 0.3};
  for (double u : {0.0, 0.25, 0.5, 0.99}) {
    int64_t prev = 0;
    for (int attempt = 1; attempt < 20; ++attempt) {
      int64_t v = backoff_delay_ms(p, attempt, u);
      EXPECT_GE(v, prev);
      prev = v;
    }
  }
}

TEST(UnitRandom, InHalfOpenUnitInterval) {
  for (int i = 0; i < 10'000; ++i) {
    double u = unit_random();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(DecideFailure, RetryableWithAttemptsLeftWaitsForTheBackoff) {
  RetryPolicy p{.base_delay_ms = 1000, .max_delay_ms = 100'000, .jitter = 0.0};
  auto d = decide_failure(p, 2, 3, ErrorCode::kNetwork, true, 50'000, 0.5);
  EXPECT_EQ(d.state, JobState::kFailed);
  EXPECT_EQ(d.run_at_ms, 52'000);
}

TEST(DecideFailure, LastAttemptIsDead) {
  RetryPolicy p;
  auto d = decide_failure(p, 3, 3, ErrorCode::kNetwork, true, 50'000, 0.5);
  EXPECT_EQ(d.state, JobState::kDead);
}

TEST(DecideFailure, PermanentOrNonRetryableIsDeadAtOnce) {
  RetryPolicy p;
  EXPECT_EQ(decide_failure(p, 1, 5, ErrorCode::kDownloadUnavailable, true, 0, 0).state,
            JobState::kDead);
  EXPECT_EQ(decide_failure(p, 1, 5, ErrorCode::kMediaNoAudio, true, 0, 0).state, JobState::kDead);
  EXPECT_EQ(decide_failure(p, 1, 5, ErrorCode::kNetwork, false, 0, 0).state, JobState::kDead);
  EXPECT_EQ(decide_failure(p, 1, 5, ErrorCode::kRateLimited, true, 0, 0).state, JobState::kFailed);
  EXPECT_EQ(decide_failure(p, 1, 5, ErrorCode::kDownloadForbidden, true, 0, 0).state,
            JobState::kFailed);
}

TEST(JobErrorTest, KeepsTheStableCodeName) {
  auto e = JobError::from(Error{ErrorCode::kDownloadForbidden, "HTTP 403"});
  EXPECT_EQ(e.code, "download_forbidden");
  EXPECT_EQ(e.to_string(), "download_forbidden: HTTP 403");
}

TEST(Clocks, ManualClockMovesOnlyWhenTold) {
  ManualClock c(1000);
  EXPECT_EQ(c.now_ms(), 1000);
  c.advance(250);
  EXPECT_EQ(c.now_ms(), 1250);
  c.set(5);
  EXPECT_EQ(c.now_ms(), 5);
  auto sys = system_clock();
  EXPECT_GT(sys->now_ms(), 1'600'000'000'000);  // after 2020
  EXPECT_EQ(sys.get(), system_clock().get());
}

}  // namespace
}  // namespace aimara::jobs
