// The backend-independent store suite, part one: jobs, claims and leases, failures, user actions,
// uniqueness (see store_test.h; part two is store_content_test.cpp). Time is a ManualClock: nothing
// sleeps to make a lease expire or a backoff pass.
#include "store/store_test.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace aimara::store::test_suite {

using jobs::JobState;

std::string store_backend_name(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

void StoreTest::SetUp() {
  clock_ = std::make_shared<jobs::ManualClock>(kStart);
  options_.clock = clock_;
  options_.retry = jobs::RetryPolicy{
      .max_attempts = 3, .base_delay_ms = 1000, .max_delay_ms = 60'000, .jitter = 0.5};
  auto dir = TempDir::create("aimara-store-test");
  ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
  dir_.emplace(std::move(*dir));
  auto s = GetParam().open(dir_->path(), options_);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  store_ = std::move(*s);
}

std::unique_ptr<Store> StoreTest::open_another() {
  auto s = GetParam().open(dir_->path(), options_);
  EXPECT_TRUE(s.has_value()) << s.error().to_string();
  return s ? std::move(*s) : nullptr;
}

int64_t StoreTest::add_job(const std::string& source, int64_t priority, int max_attempts,
                           const std::string& extractor, const std::string& video_id) {
  NewJob j;
  j.source = source;
  j.priority = priority;
  j.max_attempts = max_attempts;
  j.media.extractor = extractor;
  j.media.video_id = video_id;
  j.media.title = "title of " + source;
  auto e = store_->enqueue(j);
  EXPECT_TRUE(e.has_value()) << e.error().to_string();
  if (!e) return 0;
  EXPECT_TRUE(e->created) << source;
  return e->id;
}

ClaimedJob StoreTest::must_claim(const std::string& worker, int64_t lease_ms) {
  auto c = store_->claim(worker, lease_ms);
  EXPECT_TRUE(c.has_value()) << c.error().to_string();
  if (!c || !*c) {
    ADD_FAILURE() << "no job to claim for " << worker;
    return {};
  }
  return std::move(**c);
}

jobs::Job StoreTest::must_get(int64_t id) {
  auto j = store_->get_job(id);
  EXPECT_TRUE(j.has_value()) << j.error().to_string();
  return j ? *j : jobs::Job{};
}

namespace {

bool is_hex128(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) &&
                  !std::isupper(static_cast<unsigned char>(c));
         });
}

}  // namespace

std::vector<JobEvent> log_of(Store& s, int64_t id) {
  auto log = s.job_log(id);
  EXPECT_TRUE(log.has_value()) << log.error().to_string();
  return log ? *log : std::vector<JobEvent>{};
}

ChunkResult chunk(int index, std::vector<std::string> texts) {
  ChunkResult r;
  r.chunk = ChunkSpan{index, index * 30'000LL, index * 30'000LL + 30'000};
  int64_t t = r.chunk.start_ms;
  for (auto& text : texts) {
    r.segments.push_back(NewSegment{t, t + 2000, std::move(text), 0.01, -0.2, 0});
    t += 2000;
  }
  return r;
}

// ----- enqueue, get, list -----

TEST_P(StoreTest, EnqueueGetAndList) {
  NewJob j;
  j.source = "https://example.com/watch?v=1";
  j.priority = 7;
  j.max_attempts = 5;
  j.options = {{"model", "base"}, {"language", "es"}};
  j.media = jobs::MediaInfo{.title = "Uno",
                            .platform = "youtube",
                            .extractor = "Youtube",
                            .video_id = "v1",
                            .duration_ms = 61'000,
                            .uploader = "someone",
                            .upload_date = "20240101",
                            .webpage_url = "https://example.com/watch?v=1",
                            .language = "es"};
  auto e = store_->enqueue(j);
  ASSERT_TRUE(e.has_value()) << e.error().to_string();
  EXPECT_TRUE(e->created);
  EXPECT_EQ(e->state, JobState::kQueued);

  auto got = must_get(e->id);
  EXPECT_EQ(got.id, e->id);
  EXPECT_FALSE(got.parent_id.has_value());
  EXPECT_EQ(got.source, j.source);
  EXPECT_EQ(got.kind, jobs::JobKind::kMedia);
  EXPECT_EQ(got.state, JobState::kQueued);
  EXPECT_FALSE(got.stage.has_value());
  EXPECT_EQ(got.attempts, 0);
  EXPECT_EQ(got.max_attempts, 5);
  EXPECT_EQ(got.priority, 7);
  EXPECT_EQ(got.run_at_ms, kStart);
  EXPECT_EQ(got.created_at_ms, kStart);
  EXPECT_EQ(got.options, j.options);
  EXPECT_EQ(got.media, j.media);
  EXPECT_FALSE(got.last_error.has_value());
  EXPECT_FALSE(got.lease_owner.has_value());

  // Default max_attempts comes from the store's retry policy.
  const int64_t b = add_job("b");
  EXPECT_EQ(must_get(b).max_attempts, 3);
  const int64_t c = add_job("c");
  clock_->advance(10);

  JobFilter all;
  auto listed = store_->list_jobs(all);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].id, e->id);
  EXPECT_EQ((*listed)[2].id, c);

  JobFilter paged{.limit = 2, .offset = 1};
  listed = store_->list_jobs(paged);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, b);
  EXPECT_EQ((*listed)[1].id, c);

  JobFilter newest{.limit = 1, .newest_first = true};
  listed = store_->list_jobs(newest);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, c);

  JobFilter by_source{.source = std::string("b")};
  listed = store_->list_jobs(by_source);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, b);

  auto claimed = must_claim("w1");
  JobFilter running{.states = {JobState::kResolving, JobState::kDownloading}};
  listed = store_->list_jobs(running);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, claimed.job.id);
  JobFilter queued{.states = {JobState::kQueued}};
  listed = store_->list_jobs(queued);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 2u);

  auto missing = store_->get_job(999'999);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, EnqueueRejectsBadInput) {
  auto no_source = store_->enqueue(NewJob{});
  ASSERT_FALSE(no_source.has_value());
  EXPECT_EQ(no_source.error().code, ErrorCode::kInvalidArgument);
  NewJob orphan;
  orphan.source = "x";
  orphan.parent_id = 4242;
  auto r = store_->enqueue(orphan);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  auto list = store_->list_jobs({});
  ASSERT_TRUE(list.has_value());
  EXPECT_TRUE(list->empty());
}

// ----- claims and leases -----

TEST_P(StoreTest, ClaimGivesALease) {
  const int64_t id = add_job("a");
  auto c = must_claim("host:1:w0", 15'000);
  EXPECT_EQ(c.job.id, id);
  EXPECT_EQ(c.job.state, JobState::kResolving);
  EXPECT_EQ(c.job.stage, JobState::kResolving);
  EXPECT_EQ(c.job.attempts, 1);
  EXPECT_EQ(c.lease.job_id, id);
  EXPECT_EQ(c.lease.owner, "host:1:w0");
  EXPECT_EQ(c.lease.attempt, 1);
  EXPECT_EQ(c.lease.expires_at_ms, kStart + 15'000);
  EXPECT_TRUE(is_hex128(c.lease.token.hex)) << c.lease.token.hex;
  EXPECT_EQ(c.job.lease_owner, "host:1:w0");
  EXPECT_EQ(c.job.lease_expires_at_ms, kStart + 15'000);

  // Held: nobody else gets it, and nothing else is queued.
  auto again = store_->claim("host:2:w0", 15'000);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value());

  auto stored = must_get(id);
  EXPECT_EQ(stored.state, JobState::kResolving);
  EXPECT_EQ(stored.lease_owner, "host:1:w0");

  EXPECT_EQ(store_->claim("", 1000).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->claim("w", 0).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, ClaimsInPriorityThenIdOrder) {
  const int64_t late = add_job("late", 10);
  const int64_t first = add_job("first", -5);
  const int64_t second = add_job("second", 0);
  const int64_t third = add_job("third", 0);
  EXPECT_EQ(must_claim("w").job.id, first);
  EXPECT_EQ(must_claim("w").job.id, second);
  EXPECT_EQ(must_claim("w").job.id, third);
  EXPECT_EQ(must_claim("w").job.id, late);
}

TEST_P(StoreTest, ClaimCanBeLimitedToKinds) {
  const int64_t media = add_job("media");
  NewJob p;
  p.source = "https://example.com/playlist";
  p.kind = jobs::JobKind::kPlaylist;
  auto playlist = store_->enqueue(p);
  ASSERT_TRUE(playlist.has_value());
  const jobs::JobKind only_playlists[] = {jobs::JobKind::kPlaylist};
  auto c = store_->claim("w", 1000, only_playlists);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->job.id, playlist->id);
  EXPECT_EQ((*c)->job.kind, jobs::JobKind::kPlaylist);
  c = store_->claim("w", 1000, only_playlists);
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->has_value());
  const jobs::JobKind both[] = {jobs::JobKind::kPlaylist, jobs::JobKind::kMedia};
  c = store_->claim("w", 1000, both);
  ASSERT_TRUE(c.has_value() && c->has_value());
  EXPECT_EQ((*c)->job.id, media);
}

TEST_P(StoreTest, ConcurrentClaimersNeverShareAJob) {
  constexpr int kThreads = 4;
  constexpr int kJobs = 4 * 200;
  for (int i = 0; i < kJobs; ++i) add_job("job-" + std::to_string(i));
  // Two handles, as two processes would have: threads 0-1 use one, 2-3 the other.
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  std::mutex mu;
  std::map<int64_t, int> claims;  // guarded by mu
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& s = t < 2 ? *store_ : *other;
      const std::string worker = "w" + std::to_string(t);
      for (;;) {
        auto c = s.claim(worker, 60'000);
        if (!c) {
          ++errors;
          return;
        }
        if (!c->has_value()) return;
        {
          std::lock_guard lock(mu);
          ++claims[(*c)->job.id];
        }
        if (!s.complete((*c)->lease)) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_EQ(claims.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : claims) EXPECT_EQ(n, 1) << "job " << id << " claimed " << n << "x";
  auto counts = store_->counts_by_state();
  ASSERT_TRUE(counts.has_value());
  for (const auto& sc : *counts) {
    EXPECT_EQ(sc.jobs, sc.state == JobState::kCompleted ? kJobs : 0) << state_name(sc.state);
  }
}

TEST_P(StoreTest, ExpiredLeaseIsReclaimableAndTheOldTokenIsFenced) {
  const int64_t id = add_job("a");
  auto first = must_claim("old-worker", 10'000);
  ASSERT_TRUE(store_->set_stage(first.lease, JobState::kDownloading).has_value());

  clock_->advance(9'999);  // not expired yet
  auto none = store_->claim("new-worker", 10'000);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  clock_->advance(1);  // expired (expiry <= now)
  auto second = must_claim("new-worker", 10'000);
  EXPECT_EQ(second.job.id, id);
  EXPECT_EQ(second.lease.attempt, 2);
  EXPECT_NE(second.lease.token, first.lease.token);

  // Every write with the old token changes nothing and says lease_lost.
  auto lost = [](auto r) { return !r.has_value() && r.error().code == ErrorCode::kLeaseLost; };
  EXPECT_TRUE(lost(store_->heartbeat(first.lease, 10'000)));
  EXPECT_TRUE(lost(store_->set_stage(first.lease, JobState::kTranscribing)));
  EXPECT_TRUE(lost(store_->set_progress(first.lease, 0.5)));
  EXPECT_TRUE(lost(store_->set_media_info(first.lease, {.title = "stale"})));
  EXPECT_TRUE(lost(store_->plan_chunks(first.lease, std::vector<ChunkSpan>{{0, 0, 1000}})));
  EXPECT_TRUE(lost(store_->save_chunk_result(first.lease, chunk(0, {"stale text"}))));
  EXPECT_TRUE(lost(store_->save_mentions(first.lease, std::vector<Mention>{{.entity = "x"}})));
  EXPECT_TRUE(lost(store_->add_children(first.lease, std::vector<NewJob>{{.source = "c"}})));
  EXPECT_TRUE(lost(store_->complete(first.lease)));
  EXPECT_TRUE(lost(store_->fail(first.lease, Error{ErrorCode::kNetwork, "x"}, true)));
  EXPECT_TRUE(lost(store_->release(first.lease)));

  auto job = must_get(id);
  EXPECT_EQ(job.state, JobState::kResolving);
  EXPECT_EQ(job.lease_owner, "new-worker");
  EXPECT_EQ(job.progress, 0.0);
  EXPECT_EQ(job.media.title, "title of a");
  EXPECT_TRUE(store_->completed_chunks(id)->empty());
  EXPECT_TRUE(store_->segments(id)->empty());
  EXPECT_TRUE(store_->mentions({.job_id = id})->empty());
  EXPECT_TRUE(store_->children(id)->empty());

  // The lost attempt is in the log: its stage, ended by lease_lost, outcome retry.
  auto log = log_of(*store_, id);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].stage, JobState::kResolving);
  EXPECT_EQ(log[0].outcome, EventOutcome::kOk);
  EXPECT_EQ(log[1].stage, JobState::kDownloading);
  EXPECT_EQ(log[1].outcome, EventOutcome::kRetry);
  EXPECT_EQ(log[1].worker, "old-worker");
  EXPECT_EQ(log[1].attempt, 1);
  ASSERT_TRUE(log[1].error.has_value());
  EXPECT_EQ(log[1].error->code, "lease_lost");

  // The new holder works normally.
  EXPECT_TRUE(store_->complete(second.lease).has_value());
  EXPECT_EQ(must_get(id).state, JobState::kCompleted);
}

TEST_P(StoreTest, HeartbeatExtendsTheLease) {
  add_job("a");
  auto c = must_claim("w1", 10'000);
  clock_->advance(8'000);
  ASSERT_TRUE(store_->heartbeat(c.lease, 10'000).has_value());
  EXPECT_EQ(c.lease.expires_at_ms, kStart + 18'000);
  clock_->advance(8'000);  // 16 s after the claim: the first expiry has passed
  auto none = store_->claim("w2", 10'000);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  clock_->advance(2'000);
  auto taken = store_->claim("w2", 10'000);
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(taken->has_value());
  EXPECT_EQ(store_->heartbeat(c.lease, 10'000).error().code, ErrorCode::kLeaseLost);
}

TEST_P(StoreTest, ExpireLeasesOfADeadProcessFreesItsJobsAtOnce) {
  add_job("a");
  add_job("b");
  auto a = must_claim("host:111:w0", 600'000);
  auto b = must_claim("host:222:w0", 600'000);
  auto n = store_->expire_leases_of("host:111:");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 1);
  auto c = must_claim("host:333:w0");
  EXPECT_EQ(c.job.id, a.job.id);
  EXPECT_EQ(c.lease.attempt, 2);
  EXPECT_TRUE(store_->heartbeat(b.lease, 1000).has_value());
  EXPECT_EQ(store_->expire_leases_of("").error().code, ErrorCode::kInvalidArgument);
}

TEST_P(StoreTest, ReleaseGivesTheJobBackWithoutSpendingAnAttempt) {
  const int64_t id = add_job("a");
  auto c = must_claim("w1");
  ASSERT_TRUE(store_->set_stage(c.lease, JobState::kTranscribing).has_value());
  ASSERT_TRUE(store_->release(c.lease).has_value());
  auto j = must_get(id);
  EXPECT_EQ(j.state, JobState::kQueued);
  EXPECT_EQ(j.attempts, 0);
  EXPECT_FALSE(j.lease_owner.has_value());
  auto again = must_claim("w2");
  EXPECT_EQ(again.job.id, id);
  EXPECT_EQ(again.lease.attempt, 1);
  EXPECT_EQ(log_of(*store_, id).back().outcome, EventOutcome::kRetry);
}

// ----- failures, backoff, dead -----

TEST_P(StoreTest, FailureBacksOffExponentiallyWithJitter) {
  const int64_t id = add_job("a", 0, 5);
  for (int attempt = 1; attempt <= 4; ++attempt) {
    auto c = must_claim("w");
    ASSERT_EQ(c.job.id, id);
    ASSERT_EQ(c.lease.attempt, attempt);
    const int64_t now = clock_->now_ms();
    auto state = store_->fail(c.lease, Error{ErrorCode::kNetwork, "connection reset"}, true);
    ASSERT_TRUE(state.has_value()) << state.error().to_string();
    EXPECT_EQ(*state, JobState::kFailed);
    auto j = must_get(id);
    EXPECT_EQ(j.state, JobState::kFailed);
    ASSERT_TRUE(j.last_error.has_value());
    EXPECT_EQ(j.last_error->code, "network");
    EXPECT_EQ(j.last_error->message, "connection reset");
    EXPECT_FALSE(j.lease_owner.has_value());
    const int64_t full = 1000LL << (attempt - 1);  // base 1 s, doubling; jitter 0.5
    EXPECT_GE(j.run_at_ms - now, full / 2) << "attempt " << attempt;
    EXPECT_LE(j.run_at_ms - now, full) << "attempt " << attempt;
    // Not claimable before run_at, claimable from it.
    clock_->set(j.run_at_ms - 1);
    auto early = store_->claim("w", 10'000);
    ASSERT_TRUE(early.has_value());
    EXPECT_FALSE(early->has_value()) << "claimed before its backoff passed";
    clock_->set(j.run_at_ms);
  }
}

TEST_P(StoreTest, BackoffJitterSpreadsRetriesOfManyJobs) {
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) add_job("j" + std::to_string(i));
  std::set<int64_t> delays;
  for (int i = 0; i < kJobs; ++i) {
    auto c = must_claim("w");
    ASSERT_TRUE(store_->fail(c.lease, Error{ErrorCode::kRateLimited, "429"}, true).has_value());
    const int64_t d = must_get(c.job.id).run_at_ms - clock_->now_ms();
    EXPECT_GE(d, 500);
    EXPECT_LE(d, 1000);
    delays.insert(d);
  }
  EXPECT_GT(delays.size(), 10u) << "retries of many jobs should not all fire at once";
}

TEST_P(StoreTest, DeadAfterTheLastAttempt) {
  const int64_t id = add_job("a", 0, 2);
  auto c1 = must_claim("w");
  ASSERT_EQ(*store_->fail(c1.lease, Error{ErrorCode::kNetwork, "timeout"}, true),
            JobState::kFailed);
  clock_->set(must_get(id).run_at_ms);
  auto c2 = must_claim("w");
  ASSERT_EQ(c2.lease.attempt, 2);
  ASSERT_EQ(*store_->fail(c2.lease, Error{ErrorCode::kNetwork, "timeout again"}, true),
            JobState::kDead);
  auto j = must_get(id);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_EQ(j.finished_at_ms, clock_->now_ms());
  EXPECT_EQ(j.last_error->message, "timeout again");
  clock_->advance(24 * 3600'000LL);
  auto none = store_->claim("w", 1000);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  auto log = log_of(*store_, id);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].outcome, EventOutcome::kRetry);
  EXPECT_EQ(log[1].outcome, EventOutcome::kError);
  EXPECT_EQ(log[1].attempt, 2);
}

TEST_P(StoreTest, PermanentOrNonRetryableFailureIsDeadAtOnce) {
  const int64_t gone = add_job("gone", 0, 5);
  const int64_t broken = add_job("broken", 0, 5);
  auto c = must_claim("w");
  ASSERT_EQ(c.job.id, gone);
  EXPECT_EQ(*store_->fail(c.lease, Error{ErrorCode::kDownloadUnavailable, "private video"}, true),
            JobState::kDead);
  c = must_claim("w");
  ASSERT_EQ(c.job.id, broken);
  EXPECT_EQ(*store_->fail(c.lease, Error{ErrorCode::kNetwork, "bug"}, false), JobState::kDead);
  EXPECT_EQ(must_get(gone).state, JobState::kDead);
  EXPECT_EQ(must_get(gone).attempts, 1);
  EXPECT_EQ(must_get(gone).last_error->code, "download_unavailable");
}

TEST_P(StoreTest, AWorkerThatKeepsDyingEndsTheJobDead) {
  const int64_t id = add_job("crashes the worker", 0, 2);
  must_claim("w1", 1000);
  clock_->advance(1000);
  auto c2 = must_claim("w2", 1000);
  EXPECT_EQ(c2.lease.attempt, 2);
  clock_->advance(1000);
  auto reaped = store_->reap_expired_leases();
  ASSERT_TRUE(reaped.has_value());
  EXPECT_EQ(*reaped, 1);
  auto j = must_get(id);
  EXPECT_EQ(j.state, JobState::kDead);
  EXPECT_EQ(j.last_error->code, "lease_lost");
  auto log = log_of(*store_, id);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].outcome, EventOutcome::kRetry);
  EXPECT_EQ(log[1].outcome, EventOutcome::kError);
  EXPECT_EQ(log[1].worker, "w2");
}

// ----- user actions -----

TEST_P(StoreTest, RetryAndCancel) {
  const int64_t id = add_job("a", 0, 1);
  auto c = must_claim("w");
  ASSERT_EQ(*store_->fail(c.lease, Error{ErrorCode::kNetwork, "down"}, true), JobState::kDead);

  ASSERT_TRUE(store_->retry(id).has_value());
  auto j = must_get(id);
  EXPECT_EQ(j.state, JobState::kQueued);
  EXPECT_EQ(j.attempts, 0);
  EXPECT_FALSE(j.last_error.has_value());
  EXPECT_FALSE(j.finished_at_ms.has_value());
  EXPECT_EQ(store_->retry(id).error().code, ErrorCode::kInvalidArgument);  // queued

  ASSERT_TRUE(store_->cancel(id).has_value());
  EXPECT_EQ(must_get(id).state, JobState::kCancelled);
  auto none = store_->claim("w", 1000);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(store_->cancel(id).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(store_->retry(id).has_value());  // cancelled -> queued
  EXPECT_EQ(must_get(id).state, JobState::kQueued);

  // Cancelling a running job takes its lease: the worker's next write is lease_lost.
  auto running = must_claim("w");
  ASSERT_TRUE(store_->set_stage(running.lease, JobState::kTranscribing).has_value());
  clock_->advance(500);
  ASSERT_TRUE(store_->cancel(id).has_value());
  EXPECT_EQ(store_->save_chunk_result(running.lease, chunk(0, {"late"})).error().code,
            ErrorCode::kLeaseLost);
  auto log = log_of(*store_, id);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().stage, JobState::kTranscribing);
  EXPECT_EQ(log.back().outcome, EventOutcome::kCancelled);
  EXPECT_EQ(log.back().ended_at_ms - log.back().started_at_ms, 500);

  // Completed jobs are neither retried nor cancelled.
  const int64_t done = add_job("b");
  auto d = must_claim("w");
  ASSERT_EQ(d.job.id, done);
  ASSERT_TRUE(store_->complete(d.lease).has_value());
  EXPECT_EQ(store_->retry(done).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->cancel(done).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->retry(12345).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->cancel(12345).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, CancellingAPlaylistCancelsItsUnfinishedEntries) {
  NewJob p{.source = "https://example.com/list", .kind = jobs::JobKind::kPlaylist};
  ASSERT_TRUE(store_->enqueue(p).has_value());
  auto parent = must_claim("w0");
  auto kids = store_->add_children(
      parent.lease, std::vector<NewJob>{{.source = "e1"}, {.source = "e2"}, {.source = "e3"}});
  ASSERT_TRUE(kids.has_value());
  const int64_t unrelated = add_job("unrelated", 100);
  auto e1 = must_claim("w1");
  ASSERT_EQ(e1.job.id, (*kids)[0].id);
  ASSERT_TRUE(store_->complete(e1.lease).has_value());
  auto e2 = must_claim("w2");  // still running when the playlist is cancelled
  ASSERT_EQ(e2.job.id, (*kids)[1].id);

  ASSERT_TRUE(store_->cancel(parent.job.id).has_value());
  EXPECT_EQ(must_get(parent.job.id).state, JobState::kCancelled);
  EXPECT_EQ(must_get((*kids)[0].id).state, JobState::kCompleted);  // finished stays finished
  EXPECT_EQ(must_get((*kids)[1].id).state, JobState::kCancelled);
  EXPECT_EQ(must_get((*kids)[2].id).state, JobState::kCancelled);
  EXPECT_EQ(must_get(unrelated).state, JobState::kQueued);
  EXPECT_EQ(store_->complete(e2.lease).error().code, ErrorCode::kLeaseLost);
  EXPECT_EQ(store_->complete(parent.lease).error().code, ErrorCode::kLeaseLost);
  EXPECT_EQ(log_of(*store_, (*kids)[1].id).back().outcome, EventOutcome::kCancelled);
  EXPECT_EQ(log_of(*store_, parent.job.id).back().outcome, EventOutcome::kCancelled);
  EXPECT_EQ(must_claim("w3").job.id, unrelated);
}

// ----- uniqueness -----

TEST_P(StoreTest, AVideoIsUniqueAmongLiveJobs) {
  const int64_t a = add_job("https://youtu.be/abc", 0, 1, "Youtube", "abc");
  NewJob same{.source = "https://www.youtube.com/watch?v=abc",
              .media = {.extractor = "Youtube", .video_id = "abc"}};
  auto dup = store_->enqueue(same);
  ASSERT_TRUE(dup.has_value());
  EXPECT_FALSE(dup->created);
  EXPECT_EQ(dup->id, a);
  EXPECT_EQ(dup->state, JobState::kQueued);

  // Same id on another platform is another video; jobs without a video id never merge.
  NewJob other_site{.source = "v", .media = {.extractor = "Vimeo", .video_id = "abc"}};
  EXPECT_TRUE(store_->enqueue(other_site)->created);
  EXPECT_TRUE(store_->enqueue(NewJob{.source = "https://youtu.be/abc"})->created);
  EXPECT_TRUE(store_->enqueue(NewJob{.source = "https://youtu.be/abc"})->created);

  // Running and completed jobs are live.
  auto c = must_claim("w");
  ASSERT_EQ(c.job.id, a);
  EXPECT_EQ(store_->enqueue(same)->id, a);
  ASSERT_TRUE(store_->complete(c.lease).has_value());
  dup = store_->enqueue(same);
  EXPECT_EQ(dup->id, a);
  EXPECT_EQ(dup->state, JobState::kCompleted);

  // Dead or cancelled ones are not: the video can be enqueued again.
  const int64_t b = add_job("b", 0, 1, "Youtube", "def");
  ASSERT_TRUE(store_->cancel(b).has_value());
  NewJob def{.source = "b2", .media = {.extractor = "Youtube", .video_id = "def"}};
  auto fresh = store_->enqueue(def);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_TRUE(fresh->created);
  EXPECT_NE(fresh->id, b);
  // ...and then the old one cannot come back to life beside it.
  auto r = store_->retry(b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(must_get(b).state, JobState::kCancelled);
}

TEST_P(StoreTest, ResolvingToAVideoAnotherJobHasReportsTheDuplicate) {
  const int64_t owner = add_job("https://youtu.be/xyz", 0, 0, "Youtube", "xyz");
  NewJob bare{.source = "https://www.youtube.com/shorts/xyz", .priority = -1};
  auto b = store_->enqueue(bare);
  ASSERT_TRUE(b.has_value());
  auto c = must_claim("w");
  ASSERT_EQ(c.job.id, b->id);
  auto dup =
      store_->set_media_info(c.lease, {.title = "Clip", .extractor = "Youtube", .video_id = "xyz"});
  ASSERT_TRUE(dup.has_value()) << dup.error().to_string();
  EXPECT_EQ(dup->duplicate_of, owner);
  EXPECT_EQ(must_get(b->id).media.title, "");  // unchanged

  // A new video id is stored; fields left empty keep their value.
  auto ok = store_->set_media_info(c.lease, {.title = "Clip",
                                             .platform = "youtube",
                                             .extractor = "Youtube",
                                             .video_id = "other",
                                             .duration_ms = 59'000});
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(ok->duplicate_of.has_value());
  ASSERT_TRUE(store_->set_media_info(c.lease, {.uploader = "chan"}).has_value());
  ASSERT_TRUE(store_->set_media_info(c.lease, {.language = "es"}).has_value());
  auto j = must_get(b->id);
  EXPECT_EQ(j.media.language, "es");
  EXPECT_EQ(j.media.title, "Clip");
  EXPECT_EQ(j.media.video_id, "other");
  EXPECT_EQ(j.media.duration_ms, 59'000);
  EXPECT_EQ(j.media.uploader, "chan");
  EXPECT_EQ(j.media.platform, "youtube");
}

TEST_P(StoreTest, PlaylistEntriesBecomeChildren) {
  const int64_t existing = add_job("https://youtu.be/e2", 5, 0, "Youtube", "e2");
  NewJob p{.source = "https://www.youtube.com/playlist?list=PL1",
           .kind = jobs::JobKind::kPlaylist,
           .priority = -1};
  auto parent = store_->enqueue(p);
  ASSERT_TRUE(parent.has_value());
  auto c = must_claim("w");
  ASSERT_EQ(c.job.id, parent->id);
  std::vector<NewJob> entries = {
      {.source = "https://youtu.be/e1",
       .media = {.title = "E1", .extractor = "Youtube", .video_id = "e1", .duration_ms = 30'000}},
      {.source = "https://youtu.be/e2", .media = {.extractor = "Youtube", .video_id = "e2"}},
      {.source = "https://youtu.be/e3",
       .parent_id = 999,  // overridden by the lease's job
       .media = {.extractor = "Youtube", .video_id = "e3"}},
  };
  auto kids = store_->add_children(c.lease, entries);
  ASSERT_TRUE(kids.has_value()) << kids.error().to_string();
  ASSERT_EQ(kids->size(), 3u);
  EXPECT_TRUE((*kids)[0].created);
  EXPECT_FALSE((*kids)[1].created);
  EXPECT_EQ((*kids)[1].id, existing);
  EXPECT_TRUE((*kids)[2].created);
  auto children = store_->children(parent->id);
  ASSERT_TRUE(children.has_value());
  ASSERT_EQ(children->size(), 2u);
  EXPECT_EQ((*children)[0].id, (*kids)[0].id);
  EXPECT_EQ((*children)[0].parent_id, parent->id);
  EXPECT_EQ((*children)[0].media.title, "E1");
  EXPECT_EQ((*children)[1].id, (*kids)[2].id);
  JobFilter top{.top_level_only = true};
  auto tops = store_->list_jobs(top);
  ASSERT_TRUE(tops.has_value());
  EXPECT_EQ(tops->size(), 2u);  // the playlist and the video enqueued on its own
}

TEST_P(StoreTest, ACompletedPlaylistCanBeExpandedAgainKeepingItsEntries) {
  auto feed =
      store_->enqueue({.source = "https://example.org/feed.xml", .kind = jobs::JobKind::kPlaylist});
  ASSERT_TRUE(feed.has_value());
  auto c = must_claim("w");
  std::vector<NewJob> first = {{.source = "https://example.org/ep1.mp3",
                                .media = {.extractor = "Generic", .video_id = "ep1"}}};
  ASSERT_TRUE(store_->add_children(c.lease, first).has_value());
  ASSERT_TRUE(store_->complete(c.lease).has_value());
  const int64_t ep1 = (*store_->children(feed->id))[0].id;

  // Only a completed playlist goes back to the queue; a media job, or one still queued, does not.
  EXPECT_FALSE(*store_->refresh_playlist(ep1));
  EXPECT_FALSE(*store_->refresh_playlist(12345));
  auto refreshed = store_->refresh_playlist(feed->id);
  ASSERT_TRUE(refreshed.has_value()) << refreshed.error().to_string();
  EXPECT_TRUE(*refreshed);
  EXPECT_FALSE(*store_->refresh_playlist(feed->id));
  EXPECT_EQ(must_get(feed->id).state, JobState::kQueued);
  EXPECT_EQ(must_get(feed->id).attempts, 0);

  // Expanded again: the entry it had is found, the new one is added.
  auto c2 = must_claim("w");
  ASSERT_EQ(c2.job.id, feed->id);
  std::vector<NewJob> second = {first[0],
                                {.source = "https://example.org/ep2.mp3",
                                 .media = {.extractor = "Generic", .video_id = "ep2"}}};
  auto kids = store_->add_children(c2.lease, second);
  ASSERT_TRUE(kids.has_value());
  EXPECT_FALSE((*kids)[0].created);
  EXPECT_EQ((*kids)[0].id, ep1);
  EXPECT_TRUE((*kids)[1].created);
  EXPECT_EQ(store_->children(feed->id)->size(), 2u);
}

TEST_P(StoreTest, AMediaJobThatResolvesToEntriesBecomesAPlaylist) {
  auto feed = store_->enqueue({.source = "https://example.org/podcast.xml"});
  ASSERT_TRUE(feed.has_value());
  auto c = must_claim("w");
  ASSERT_EQ(c.job.kind, jobs::JobKind::kMedia);
  std::vector<NewJob> entries = {
      {.source = "https://example.org/ep1.mp3", .media = {.extractor = "Generic", .video_id = "ep1"}}};
  ASSERT_TRUE(store_->add_children(c.lease, entries).has_value());
  auto job = store_->get_job(feed->id);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->kind, jobs::JobKind::kPlaylist);

  // A stale lease changes nothing, not even the kind.
  auto other = store_->enqueue({.source = "https://example.org/other.xml"});
  ASSERT_TRUE(other.has_value());
  auto c2 = must_claim("w");
  jobs::Lease stale = c2.lease;
  stale.token = jobs::generate_lease_token();
  EXPECT_FALSE(store_->add_children(stale, entries).has_value());
  EXPECT_EQ(store_->get_job(other->id)->kind, jobs::JobKind::kMedia);
}

}  // namespace aimara::store::test_suite
