#include "pipeline/run_display.h"

#include <cstdio>

#include <fmt/format.h>

#include "core/terminal.h"

namespace aimara::pipeline {

namespace {

std::string fit(std::string s, size_t width) {
  if (s.size() <= width) return s + std::string(width - s.size(), ' ');
  size_t cut = width - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "~" + std::string(width - 1 - cut, ' ');
}

bool terminal_stage(const std::string& s) {
  return s == "completed" || s == "dead" || s == "failed" || s == "cancelled" || s == "expanded";
}

}  // namespace

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
    std::fprintf(stdout, "[%lld] completed  %s (%s)\n", static_cast<long long>(status.id),
                 status.title.c_str(),
                 human_duration(static_cast<double>(status.duration_ms) / 1000.0).c_str());
  } else if (!status.error.empty()) {
    std::fprintf(stdout, "[%lld] %-10s %s: %s\n", static_cast<long long>(status.id),
                 status.stage.c_str(), status.title.c_str(), status.error.c_str());
  } else {
    std::fprintf(stdout, "[%lld] %-10s %s\n", static_cast<long long>(status.id),
                 status.stage.c_str(), status.title.c_str());
  }
  std::fflush(stdout);
}

void RunDisplay::on_message(const std::string& line) {
  std::lock_guard lock(mu_);
  if (live_ && drawn_lines_ > 0) {
    std::fprintf(stderr, "\033[%dA\033[J", drawn_lines_);
    drawn_lines_ = 0;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void RunDisplay::redraw_locked() {
  if (!live_) return;
  std::string out;
  if (drawn_lines_ > 0) out += fmt::format("\033[{}A\033[J", drawn_lines_);
  int done = 0;
  double progress_sum = 0.0;
  int videos = 0;
  for (const auto& [id, s] : jobs_) {
    if (s.stage == "expanded") continue;  // a playlist, feed or folder: its items are the rows
    ++videos;
    if (terminal_stage(s.stage)) {
      ++done;
      progress_sum += 1.0;
    } else {
      progress_sum += s.progress;
    }
  }
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  double frac = videos > 0 ? progress_sum / videos : 0.0;
  double eta = frac > 0.02 ? elapsed * (1.0 - frac) / frac : -1.0;
  int filled = static_cast<int>(frac * 30);
  out += fmt::format("[{}{}] {:3.0f}%  {}/{} videos  elapsed {}  eta {}\n",
                     std::string(static_cast<size_t>(filled), '#'),
                     std::string(static_cast<size_t>(30 - filled), '.'), frac * 100.0, done, videos,
                     human_duration(elapsed), eta >= 0 ? human_duration(eta) : "--:--");
  out += fmt::format("{} {} {} {} {} {}\n", fit("title", 40), fit("platform", 9),
                     fit("duration", 9), fit("stage", 20), fit("done", 5), "eta");
  int lines = 2;
  // Running jobs first, then the most recent finished ones; at most 20 rows.
  std::vector<const JobStatus*> rows;
  for (const auto& [id, s] : jobs_) {
    if (!terminal_stage(s.stage)) rows.push_back(&s);
  }
  for (auto it = jobs_.rbegin(); it != jobs_.rend() && rows.size() < 20; ++it) {
    if (terminal_stage(it->second.stage) && it->second.stage != "expanded") {
      rows.push_back(&it->second);
    }
  }
  for (const JobStatus* s : rows) {
    if (lines >= 22) break;
    out += fmt::format("{} {} {} {} {:>4.0f}% {}\n", fit(s->title, 40), fit(s->platform, 9),
                       fit(human_duration(static_cast<double>(s->duration_ms) / 1000.0), 9),
                       fit(s->stage, 20), s->progress * 100.0,
                       s->eta_s >= 0 ? human_duration(s->eta_s) : "");
    ++lines;
  }
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
  drawn_lines_ = lines;
}

}  // namespace aimara::pipeline
