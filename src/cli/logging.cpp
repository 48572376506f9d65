#include "cli/logging.h"

#include <cstdlib>
#include <memory>
#include <string>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "asr/whisper_engine.h"
#include "core/terminal.h"

namespace aimara::cli {

namespace {

// Formats each message through terminal_safe(): log lines carry titles, URLs and the messages of
// yt-dlp and FFmpeg, and one message must stay on one line and cannot steer the terminal.
class SafeFormatter final : public spdlog::formatter {
 public:
  explicit SafeFormatter(std::unique_ptr<spdlog::formatter> inner) : inner_(std::move(inner)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) {
      payload.remove_suffix(1);
    }
    std::string safe = terminal_safe(payload);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(safe.data(), safe.size());
    inner_->format(copy, dest);
    // The colour sink reads where the level name sits from the message it passed in.
    msg.color_range_start = copy.color_range_start;
    msg.color_range_end = copy.color_range_end;
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<SafeFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace

void init_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("aimara");
  logger->set_formatter(
      std::make_unique<SafeFormatter>(std::make_unique<spdlog::pattern_formatter>("%^%l%$: %v")));
  spdlog::set_default_logger(logger);
  spdlog::level::level_enum level = verbose ? spdlog::level::debug : spdlog::level::warn;
  if (const char* env = std::getenv("AIMARA_LOG"); env != nullptr && *env != '\0') {
    level = spdlog::level::from_str(env);
  }
  spdlog::set_level(level);
  asr::route_whisper_logs();
}

}  // namespace aimara::cli
