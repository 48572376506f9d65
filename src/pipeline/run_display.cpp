#include "pipeline/run_display.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "core/terminal.h"

namespace aimara::pipeline {

namespace {

bool terminal_stage(const std::string& s) {
  return s == "completed" || s == "dead" || s == "failed" || s == "cancelled" || s == "expanded";
}

// Columns after the title: " platform  duration  stage                done  eta    ".
constexpr int kFixedColumns = 1 + 9 + 1 + 9 + 1 + 20 + 1 + 5 + 1 + 8;

}  // namespace

std::vector<std::string> render_table(const std::map<int64_t, JobStatus>& jobs, double elapsed_s,
                                      int columns) {
  const size_t max_width = static_cast<size_t>(std::max(columns - 1, 20));
  const size_t title_width = static_cast<size_t>(std::clamp(columns - 1 - kFixedColumns, 10, 60));
  int done = 0;
  double progress_sum = 0.0;
  int videos = 0;
  for (const auto& [id, s] : jobs) {
    if (s.stage == "expanded") continue;  // a playlist, feed or folder: its items are the rows
    ++videos;
    if (terminal_stage(s.stage)) {
      ++done;
      progress_sum += 1.0;
    } else {
      progress_sum += s.progress;
    }
  }
  double frac = videos > 0 ? progress_sum / videos : 0.0;
  double eta = frac > 0.02 ? elapsed_s * (1.0 - frac) / frac : -1.0;
  int filled = static_cast<int>(frac * 30);
  std::vector<std::string> lines;
  lines.push_back(fmt::format("[{}{}] {:3.0f}%  {}/{} videos  elapsed {}  eta {}",
                              std::string(static_cast<size_t>(filled), '#'),
                              std::string(static_cast<size_t>(30 - filled), '.'), frac * 100.0,
                              done, videos, human_duration(elapsed_s),
                              eta >= 0 ? human_duration(eta) : "--:--"));
  lines.push_back(fmt::format("{} {} {} {} {} {}", fit_columns("title", title_width),
                              fit_columns("platform", 9), fit_columns("duration", 9),
                              fit_columns("stage", 20), fit_columns("done", 5), "eta"));
  // Running jobs first, then the most recent finished ones; at most 20 rows.
  std::vector<const JobStatus*> rows;
  for (const auto& [id, s] : jobs) {
    if (!terminal_stage(s.stage)) rows.push_back(&s);
  }
  for (auto it = jobs.rbegin(); it != jobs.rend() && rows.size() < 20; ++it) {
    if (terminal_stage(it->second.stage) && it->second.stage != "expanded") {
      rows.push_back(&it->second);
    }
  }
  if (rows.size() > 20) rows.resize(20);
  for (const JobStatus* s : rows) {
    lines.push_back(fmt::format(
        "{} {} {} {} {:>4.0f}% {}", fit_columns(s->title, title_width), fit_columns(s->platform, 9),
        fit_columns(human_duration(static_cast<double>(s->duration_ms) / 1000.0), 9),
        fit_columns(s->stage, 20), s->progress * 100.0,
        s->eta_s >= 0 ? human_duration(s->eta_s) : ""));
  }
  for (auto& line : lines) {
    if (display_width(line) > max_width) line = fit_columns(line, max_width);
  }
  return lines;
}

RunDisplay::RunDisplay(bool live_table) : live_(live_table) {
  if (live_) {
    ticker_ = std::jthread([this](std::stop_token st) {
      while (!st.stop_requested()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        std::lock_guard lock(mu_);
        redraw_locked();
      }
    });
  }
}

RunDisplay::~RunDisplay() { stop(); }

void RunDisplay::stop() {
  if (ticker_.joinable()) {
    ticker_.request_stop();
    ticker_.join();
    std::lock_guard lock(mu_);
    redraw_locked();
  }
}

void RunDisplay::on_job(const JobStatus& status) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(status.id);
  bool changed_stage = it == jobs_.end() || it->second.stage != status.stage;
  jobs_[status.id] = status;
  if (live_ || !changed_stage) return;
  if (status.stage == "completed") {
    fmt::print(stdout, "[{}] completed  {} ({})\n", status.id, terminal_safe(status.title),
               human_duration(static_cast<double>(status.duration_ms) / 1000.0));
  } else if (!status.error.empty()) {
    fmt::print(stdout, "[{}] {:<10} {}: {}\n", status.id, status.stage, terminal_safe(status.title),
               terminal_safe(status.error));
  } else {
    fmt::print(stdout, "[{}] {:<10} {}\n", status.id, status.stage, terminal_safe(status.title));
  }
  std::fflush(stdout);
}

void RunDisplay::on_message(const std::string& line) {
  std::lock_guard lock(mu_);
  if (live_ && drawn_lines_ > 0) {
    std::fprintf(stderr, "\033[%dA\033[J", drawn_lines_);
    drawn_lines_ = 0;
  }
  fmt::print(stderr, "{}\n", terminal_safe(line));
  std::fflush(stderr);
}

void RunDisplay::redraw_locked() {
  if (!live_) return;
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::vector<std::string> lines = render_table(jobs_, elapsed, terminal_columns());
  std::string out;
  if (drawn_lines_ > 0) out += fmt::format("\033[{}A\033[J", drawn_lines_);
  for (const auto& line : lines) {
    out += line;
    out += '\n';
  }
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
  drawn_lines_ = static_cast<int>(lines.size());
}

}  // namespace aimara::pipeline
