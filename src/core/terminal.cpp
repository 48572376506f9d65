#include "core/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

namespace aimara {

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

int terminal_columns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* env = std::getenv("COLUMNS"); env != nullptr) {
    int cols = 0;
    auto [end, ec] = std::from_chars(env, env + std::strlen(env), cols);
    if (ec == std::errc() && *end == '\0' && cols > 0) return cols;
  }
  return 80;
}

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool bidi_control(UChar32 c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

// Columns of one code point that terminal_safe() lets through.
int code_point_width(UChar32 c) {
  auto category = static_cast<UCharCategory>(u_charType(c));
  if (category == U_NON_SPACING_MARK || category == U_ENCLOSING_MARK || category == U_FORMAT_CHAR) {
    return 0;
  }
  auto width = static_cast<UEastAsianWidth>(u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH));
  return width == U_EA_WIDE || width == U_EA_FULLWIDTH ? 2 : 1;
}

// Calls visit(code point, its bytes) for each code point of `text` (a negative code point for a
// byte that starts no valid UTF-8 sequence) until visit returns false.
template <typename Visit>
void for_each_code_point(std::string_view text, Visit&& visit) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t begin = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (!visit(c, text.substr(static_cast<size_t>(begin), static_cast<size_t>(i - begin)))) {
      return;
    }
  }
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](UChar32 c, std::string_view bytes) {
    if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      out += ' ';
    } else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || bidi_control(c)) {
      out += kReplacement;  // controls, and invalid UTF-8 (c < 0)
    } else {
      out += bytes;
    }
    return true;
  });
  return out;
}

size_t display_width(std::string_view text) {
  size_t width = 0;
  for_each_code_point(text, [&](UChar32 c, std::string_view) {
    width += c < 0 ? 1 : static_cast<size_t>(code_point_width(c));
    return true;
  });
  return width;
}

std::string fit_columns(std::string_view text, size_t columns) {
  std::string safe = terminal_safe(text);
  size_t width = display_width(safe);
  if (width <= columns) return safe + std::string(columns - width, ' ');
  if (columns == 0) return {};
  // Whole code points while they fit in columns - 1, then the '~' and any padding a cut wide
  // character leaves.
  std::string out;
  size_t used = 0;
  for_each_code_point(safe, [&](UChar32 c, std::string_view bytes) {
    const auto w = static_cast<size_t>(code_point_width(c));
    if (used + w > columns - 1) return false;
    used += w;
    out += bytes;
    return true;
  });
  return out + "~" + std::string(columns - 1 - used, ' ');
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", bytes, kUnits[u]) : fmt::format("{:.1f} {}", bytes, kUnits[u]);
}

std::string human_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(double fraction, const std::string& detail) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && fraction < 1.0 && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  // One line that never wraps: "\r" returns to the start of the terminal's line, not of ours.
  std::string line = fmt::format("{} [{}] {:3.0f}% {}", label_, bar, fraction * 100.0, detail);
  const auto width = static_cast<size_t>(std::max(terminal_columns() - 1, 1));
  if (display_width(line) > width) line = fit_columns(line, width);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace aimara
