#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace aimara {

namespace {

using std::chrono::milliseconds;

class SteadyClock final : public RateLimiter::Clock {
 public:
  RateLimiter::TimePoint now() const override { return std::chrono::steady_clock::now(); }

  bool sleep_until(RateLimiter::TimePoint deadline, std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    // Nobody notifies: this returns at the deadline or when `stop` fires.
    cv.wait_until(lock, stop, deadline, [] { return false; });
    return !stop.stop_requested();
  }
};

milliseconds ceil_ms(std::chrono::steady_clock::duration d) {
  return std::max(milliseconds{1}, std::chrono::ceil<milliseconds>(d));
}

}  // namespace

std::unique_ptr<RateLimiter::Clock> RateLimiter::system_clock() {
  return std::make_unique<SteadyClock>();
}

RateLimiter::RateLimiter(RateLimits limits, std::unique_ptr<Clock> clock)
    : limits_(std::move(limits)), clock_(clock ? std::move(clock) : system_clock()) {}

RateLimiter::Bucket& RateLimiter::bucket_locked(std::string_view key, TimePoint now) {
  auto it = buckets_.find(key);
  if (it != buckets_.end()) return it->second;
  Bucket b;
  auto limit = limits_.keys.find(std::string(key));
  b.limit = limit != limits_.keys.end() ? limit->second : limits_.default_limit;
  b.limit.burst = std::max(1.0, b.limit.burst);
  b.tokens = b.limit.burst;
  b.refilled_at = now;
  return buckets_.emplace(std::string(key), b).first->second;
}

void RateLimiter::refill(Bucket& b, TimePoint now) {
  if (now <= b.refilled_at) return;
  double per_ms = b.limit.requests_per_minute / 60000.0;
  double elapsed_ms = std::chrono::duration<double, std::milli>(now - b.refilled_at).count();
  b.tokens = std::min(b.limit.burst, b.tokens + elapsed_ms * per_ms);
  b.refilled_at = now;
}

milliseconds RateLimiter::try_acquire(std::string_view key) {
  const TimePoint now = clock_->now();
  std::lock_guard lock(mu_);
  Bucket& b = bucket_locked(key, now);
  if (now < b.penalty_until) return ceil_ms(b.penalty_until - now);
  if (b.limit.requests_per_minute <= 0) return milliseconds{0};
  refill(b, now);
  // A hair of tolerance so float rounding never costs an extra wake-up.
  if (b.tokens >= 1.0 - 1e-9) {
    b.tokens = std::max(0.0, b.tokens - 1.0);
    return milliseconds{0};
  }
  double per_ms = b.limit.requests_per_minute / 60000.0;
  double wait_ms = (1.0 - b.tokens) / per_ms;
  return std::max(milliseconds{1}, milliseconds{static_cast<int64_t>(std::ceil(wait_ms))});
}

bool RateLimiter::acquire(std::string_view key, std::stop_token stop) {
  for (;;) {
    if (stop.stop_requested()) return false;
    milliseconds wait = try_acquire(key);
    if (wait.count() == 0) return true;
    // Sleep without the lock, then look again: a penalty may have started meanwhile, or another
    // worker may have taken the token.
    if (!clock_->sleep_until(clock_->now() + wait, stop)) return false;
  }
}

void RateLimiter::penalize(std::string_view key, milliseconds retry_after) {
  const TimePoint now = clock_->now();
  std::lock_guard lock(mu_);
  Bucket& b = bucket_locked(key, now);
  ++b.strikes;
  milliseconds penalty = retry_after;
  if (penalty.count() <= 0) {
    penalty = limits_.default_penalty;
    for (int i = 1; i < b.strikes && penalty < limits_.max_penalty; ++i) penalty *= 2;
    penalty = std::min(penalty, limits_.max_penalty);
  }
  b.penalty_until = std::max(b.penalty_until, now + penalty);
  // One request may go when the penalty ends, then the normal rate: no burst right after a 429.
  b.tokens = 1;
  b.refilled_at = b.penalty_until;
}

void RateLimiter::record_success(std::string_view key) {
  const TimePoint now = clock_->now();
  std::lock_guard lock(mu_);
  bucket_locked(key, now).strikes = 0;
}

RateLimiter::TimePoint RateLimiter::penalty_until(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  return it == buckets_.end() ? TimePoint{} : it->second.penalty_until;
}

}  // namespace aimara
