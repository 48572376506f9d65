// Terminal output: text from outside made safe to print, column widths, and a progress bar for
// long work (on a TTY; nothing on a pipe).
//
// Titles, uploaders, URLs, file names and yt-dlp's messages come from outside. Human-readable
// output passes them through terminal_safe() so one value stays on one line and cannot move the
// cursor, recolour or retitle the terminal; --json output carries them exactly.
//
// ProgressBar redraws one line on stderr at most every 100 ms. Thread-safety: update() may be
// called from any thread (it takes an internal mutex); finish() from the owner.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

namespace aimara {

bool stderr_is_tty();
// Columns of the terminal on stderr; $COLUMNS, else 80, when stderr is not a terminal.
int terminal_columns();

// `text` with line breaks and tabs turned into spaces, and other control characters (C0, DEL,
// C1: escape sequences), bidirectional overrides and invalid UTF-8 into U+FFFD.
std::string terminal_safe(std::string_view text);
// Columns that terminal_safe text takes: East Asian wide and fullwidth characters 2, combining
// marks and format characters 0, others 1.
size_t display_width(std::string_view text);
// terminal_safe(text) cut or padded with spaces to exactly `columns` columns; a cut ends in '~'.
std::string fit_columns(std::string_view text, size_t columns);

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
