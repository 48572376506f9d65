// The one clock the job machinery reads: integer milliseconds since the Unix epoch.
//
// Everything that decides by time (lease expiry, retry backoff, stage timings) asks a Clock, so
// tests move time with a ManualClock instead of sleeping.
// Thread-safety: both implementations are safe to call from any thread. system_clock() returns a
// process-wide instance that lives forever.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace aimara::jobs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
};

// The wall clock (std::chrono::system_clock).
std::shared_ptr<const Clock> system_clock();

// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  void set(int64_t ms) { now_.store(ms); }
  void advance(int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace aimara::jobs
