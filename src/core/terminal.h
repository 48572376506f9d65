// Terminal output for long work: a progress bar on a TTY, nothing on a pipe.
//
// ProgressBar redraws one line on stderr at most every 100 ms. Thread-safety: update() may be
// called from any thread (it takes an internal mutex); finish() from the owner.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace aimara {

bool stderr_is_tty();

// "1.2 MiB", "3.4 GiB"
std::string human_bytes(double bytes);
// "1:02:03" or "2:03"
std::string human_duration(double seconds);

class ProgressBar {
 public:
  // Draws only when `enabled` (callers pass stderr_is_tty() unless told otherwise).
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();

  // fraction in [0, 1]; detail is printed after the bar ("12.3 MiB of 140 MiB").
  void update(double fraction, const std::string& detail = {});
  // Clears the line.
  void finish();

 private:
  std::mutex mu_;
  std::string label_;           // guarded by mu_
  bool enabled_;
  bool drawn_ = false;          // guarded by mu_
  std::chrono::steady_clock::time_point last_{};  // guarded by mu_
};

}  // namespace aimara
