#include "cli/logging.h"

#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "asr/whisper_engine.h"

namespace aimara::cli {

void init_logging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("aimara");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::level::level_enum level = verbose ? spdlog::level::debug : spdlog::level::warn;
  if (const char* env = std::getenv("AIMARA_LOG"); env != nullptr && *env != '\0') {
    level = spdlog::level::from_str(env);
  }
  spdlog::set_level(level);
  asr::route_whisper_logs();
}

}  // namespace aimara::cli
