// What `aimara run` shows while it works. On a TTY: a live table (each video: title, platform,
// duration, stage, % done, ETA) under a global progress line, redrawn twice a second. Otherwise:
// one log line per stage change, so logs of a long run stay readable. Titles and errors are
// printed through terminal_safe() (they come from outside).
// Thread-safety: on_job/on_message may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/runner.h"

namespace aimara::pipeline {

// The live table for a terminal `columns` wide: the progress line, the header, then the running
// jobs and the most recent finished ones (at most 20 rows). The title column takes the width the
// other columns leave, and no line is wider than columns - 1, so no line wraps and a redraw moves
// the cursor up by exactly the number of lines.
std::vector<std::string> render_table(const std::map<int64_t, JobStatus>& jobs, double elapsed_s,
                                      int columns);

class RunDisplay final : public RunObserver {
 public:
  explicit RunDisplay(bool live_table);
  ~RunDisplay() override;

  void on_job(const JobStatus& status) override;
  void on_message(const std::string& line) override;
  // Stops redrawing and leaves the last table on screen.
  void stop();

 private:
  void redraw_locked();

  const bool live_;
  std::mutex mu_;
  std::map<int64_t, JobStatus> jobs_;  // guarded by mu_
  int drawn_lines_ = 0;                // guarded by mu_
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::jthread ticker_;
};

}  // namespace aimara::pipeline
