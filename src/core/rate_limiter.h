// How fast aimara may knock on each platform's door: one token bucket per key (a platform name
// such as "youtube", or a host for generic sites), shared by every worker of the process.
//
// acquire(key) blocks until that key's bucket holds a token (requests per minute, with a small
// burst) and no penalty is running. penalize(key) after an HTTP 429 empties the bucket and holds
// back *every* caller for that key until the penalty ends, so the whole platform's queue slows
// down, not only the worker that was refused; consecutive penalties without a success in between
// grow exponentially. record_success(key) ends that streak.
//
// The clock is injectable (RateLimiter::Clock) so tests control time. Thread-safety: all members
// may be called from any thread; a waiting acquire() never holds the internal lock. The limiter
// must outlive every call into it; it owns its clock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>

namespace aimara {

struct RateLimit {
  double requests_per_minute = 0;  // 0 or less: unlimited
  double burst = 1;                // requests allowed back to back after a quiet spell (>= 1)
};

struct RateLimits {
  RateLimit default_limit;                // for keys not listed below
  std::map<std::string, RateLimit> keys;  // per key ("youtube", "tiktok", "example.org")
  // Penalty used when penalize() gets no retry-after; doubled for each further penalty in a
  // streak, up to max_penalty.
  std::chrono::milliseconds default_penalty{std::chrono::seconds(30)};
  std::chrono::milliseconds max_penalty{std::chrono::minutes(15)};
};

class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  class Clock {
   public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    // Blocks until now() >= deadline (true) or until stop is requested (false).
    virtual bool sleep_until(TimePoint deadline, std::stop_token stop) = 0;
  };

  // The steady clock and real sleeping.
  static std::unique_ptr<Clock> system_clock();

  explicit RateLimiter(RateLimits limits, std::unique_ptr<Clock> clock = system_clock());
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Blocks until a request for `key` is allowed and takes it. False when `stop` was requested
  // first (nothing is taken then).
  bool acquire(std::string_view key, std::stop_token stop = {});

  // Takes a token if one is available right now; otherwise returns how long to wait (> 0).
  std::chrono::milliseconds try_acquire(std::string_view key);

  // The platform refused us (HTTP 429): nobody gets `key` until the penalty has passed.
  // retry_after <= 0 means "not said": default_penalty, doubled per consecutive penalty.
  void penalize(std::string_view key,
                std::chrono::milliseconds retry_after = std::chrono::milliseconds{0});

  // A request for `key` went through: the next penalty starts from default_penalty again.
  void record_success(std::string_view key);

  // When the running penalty for `key` ends (a time in the past when there is none).
  TimePoint penalty_until(std::string_view key) const;

 private:
  struct Bucket {
    RateLimit limit;
    double tokens = 0;
    TimePoint refilled_at{};
    TimePoint penalty_until{};
    int strikes = 0;  // consecutive penalties
  };

  Bucket& bucket_locked(std::string_view key, TimePoint now);
  static void refill(Bucket& b, TimePoint now);

  const RateLimits limits_;
  std::unique_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;  // guarded by mu_
};

}  // namespace aimara
