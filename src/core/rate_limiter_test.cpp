#include "core/rate_limiter.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace aimara {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Time moves only when the test says so; sleepers wake when it passes their deadline.
class ManualClock final : public RateLimiter::Clock {
 public:
  RateLimiter::TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  bool sleep_until(RateLimiter::TimePoint deadline, std::stop_token stop) override {
    std::unique_lock lock(mu_);
    ++sleepers_;
    cv_.notify_all();
    bool reached = cv_.wait(lock, stop, [&] { return now_ >= deadline; });
    --sleepers_;
    cv_.notify_all();
    return reached;
  }

  void advance(std::chrono::steady_clock::duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
    cv_.notify_all();
  }

  // Waits (in real time, bounded) until exactly `n` threads sleep on this clock.
  bool wait_for_sleepers(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return sleepers_ == n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  RateLimiter::TimePoint now_{seconds(1000)};  // guarded by mu_
  int sleepers_ = 0;                           // guarded by mu_
};

// Polls (real time, bounded) until `pred` holds.
template <typename Pred>
bool eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

struct Fixture {
  ManualClock* clock;
  std::unique_ptr<RateLimiter> limiter;
};

Fixture make(RateLimits limits) {
  auto clock = std::make_unique<ManualClock>();
  ManualClock* raw = clock.get();
  return {raw, std::make_unique<RateLimiter>(std::move(limits), std::move(clock))};
}

TEST(RateLimiter, BurstThenSteadyRate) {
  RateLimits limits;
  limits.keys["youtube"] = RateLimit{60, 2};  // one per second, two back to back
  auto f = make(limits);
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(0));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(0));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(1000));
  f.clock->advance(milliseconds(400));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(600));
  f.clock->advance(milliseconds(600));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(0));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(1000));
  // A long quiet spell refills up to the burst, never beyond it.
  f.clock->advance(seconds(3600));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(0));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(0));
  EXPECT_GT(f.limiter->try_acquire("youtube"), milliseconds(0));
}

TEST(RateLimiter, KeysAreIndependentAndUnlistedKeysUseTheDefault) {
  RateLimits limits;
  limits.keys["youtube"] = RateLimit{1, 1};
  limits.default_limit = RateLimit{0, 1};  // unlimited
  auto f = make(limits);
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(0));
  EXPECT_EQ(f.limiter->try_acquire("youtube"), milliseconds(60000));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(f.limiter->try_acquire("tiktok"), milliseconds(0));
}

TEST(RateLimiter, AcquireBlocksUntilTheClockAllowsIt) {
  RateLimits limits;
  limits.default_limit = RateLimit{60, 1};
  auto f = make(limits);
  ASSERT_TRUE(f.limiter->acquire("vimeo"));
  std::atomic<bool> done{false};
  std::jthread worker([&] {
    EXPECT_TRUE(f.limiter->acquire("vimeo"));
    done = true;
  });
  ASSERT_TRUE(f.clock->wait_for_sleepers(1));
  EXPECT_FALSE(done.load());
  f.clock->advance(milliseconds(999));
  // Woken early by nobody: still asleep, still waiting.
  ASSERT_TRUE(f.clock->wait_for_sleepers(1));
  EXPECT_FALSE(done.load());
  f.clock->advance(milliseconds(1));
  worker.join();
  EXPECT_TRUE(done.load());
}

TEST(RateLimiter, OneTokenReleasesExactlyOneOfManyWaiters) {
  RateLimits limits;
  limits.default_limit = RateLimit{1, 1};
  auto f = make(limits);
  ASSERT_TRUE(f.limiter->acquire("x.com"));
  std::atomic<int> granted{0};
  std::stop_source stop;
  std::vector<std::jthread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      if (f.limiter->acquire("x.com", stop.get_token())) ++granted;
    });
  }
  ASSERT_TRUE(f.clock->wait_for_sleepers(3));
  EXPECT_EQ(granted.load(), 0);
  f.clock->advance(seconds(60));
  ASSERT_TRUE(eventually([&] { return granted.load() == 1; }));
  // The two that lost the race go back to sleep; no second token appears without time passing.
  ASSERT_TRUE(f.clock->wait_for_sleepers(2));
  EXPECT_EQ(granted.load(), 1);
  f.clock->advance(seconds(60));
  ASSERT_TRUE(eventually([&] { return granted.load() == 2; }));
  ASSERT_TRUE(f.clock->wait_for_sleepers(1));
  EXPECT_EQ(granted.load(), 2);
  stop.request_stop();
  workers.clear();
  EXPECT_EQ(granted.load(), 2);
}

TEST(RateLimiter, PenaltyHoldsBackTheWholeKeyOnly) {
  RateLimits limits;
  limits.default_limit = RateLimit{600, 5};
  auto f = make(limits);
  ASSERT_EQ(f.limiter->try_acquire("tiktok"), milliseconds(0));
  f.limiter->penalize("tiktok", seconds(10));
  EXPECT_EQ(f.limiter->penalty_until("tiktok"), f.clock->now() + seconds(10));
  EXPECT_EQ(f.limiter->try_acquire("tiktok"), milliseconds(10000));
  EXPECT_EQ(f.limiter->try_acquire("instagram"), milliseconds(0));

  std::atomic<int> granted{0};
  std::vector<std::jthread> workers;
  for (int i = 0; i < 2; ++i) {
    workers.emplace_back([&] {
      if (f.limiter->acquire("tiktok")) ++granted;
    });
  }
  ASSERT_TRUE(f.clock->wait_for_sleepers(2));
  f.clock->advance(milliseconds(9999));
  ASSERT_TRUE(f.clock->wait_for_sleepers(2));
  EXPECT_EQ(granted.load(), 0);
  // When the penalty ends one request goes; the rest follow at the normal rate (100 ms), with
  // no burst even though the bucket allows 5.
  f.clock->advance(milliseconds(1));
  ASSERT_TRUE(eventually([&] { return granted.load() == 1; }));
  ASSERT_TRUE(f.clock->wait_for_sleepers(1));
  EXPECT_EQ(granted.load(), 1);
  f.clock->advance(milliseconds(100));
  workers.clear();
  EXPECT_EQ(granted.load(), 2);
}

TEST(RateLimiter, PenaltyWithoutRetryAfterGrowsUntilASuccess) {
  RateLimits limits;
  limits.default_penalty = seconds(30);
  limits.max_penalty = seconds(100);
  auto f = make(limits);
  auto expect_penalty = [&](seconds d) {
    f.limiter->penalize("youtube");
    EXPECT_EQ(f.limiter->penalty_until("youtube"), f.clock->now() + d);
    f.clock->advance(d);
  };
  expect_penalty(seconds(30));
  expect_penalty(seconds(60));
  expect_penalty(seconds(100));  // capped
  expect_penalty(seconds(100));
  f.limiter->record_success("youtube");
  expect_penalty(seconds(30));
  // A shorter explicit penalty never shortens a running one.
  f.limiter->penalize("youtube", seconds(300));
  f.limiter->penalize("youtube", seconds(1));
  EXPECT_EQ(f.limiter->penalty_until("youtube"), f.clock->now() + seconds(300));
}

TEST(RateLimiter, StopReleasesAWaiterWithoutAToken) {
  RateLimits limits;
  limits.default_limit = RateLimit{1, 1};
  auto f = make(limits);
  ASSERT_TRUE(f.limiter->acquire("vimeo"));
  std::stop_source stop;
  std::atomic<int> result{-1};
  std::jthread worker([&] { result = f.limiter->acquire("vimeo", stop.get_token()) ? 1 : 0; });
  ASSERT_TRUE(f.clock->wait_for_sleepers(1));
  stop.request_stop();
  worker.join();
  EXPECT_EQ(result.load(), 0);
  // The token that accrues later is still there for someone else.
  f.clock->advance(seconds(60));
  EXPECT_EQ(f.limiter->try_acquire("vimeo"), milliseconds(0));
}

// Real time, real threads: many workers share one key's rate and a penalty slows all of them.
TEST(RateLimiter, ThreadsShareOneBucketInRealTime) {
  RateLimits limits;
  limits.default_limit = RateLimit{6000, 1};  // one every 10 ms
  RateLimiter limiter(limits);
  constexpr int kThreads = 4;
  constexpr int kEach = 5;
  std::atomic<int> granted{0};
  auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&] {
        for (int i = 0; i < kEach; ++i) {
          if (limiter.acquire("generic")) {
            if (granted.fetch_add(1) + 1 == 10) limiter.penalize("generic", milliseconds(300));
          }
        }
      });
    }
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(granted.load(), kThreads * kEach);
  // 20 grants need 19 intervals of 10 ms, plus the 300 ms penalty that stopped everyone.
  EXPECT_GE(elapsed, milliseconds(19 * 10 + 300 - 15));
  EXPECT_LT(elapsed, seconds(10));
}

}  // namespace
}  // namespace aimara
