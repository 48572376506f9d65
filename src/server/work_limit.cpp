#include "server/work_limit.h"

#include <fmt/format.h>

namespace aimara::server {

void WorkLimit::bind(pipeline::Engine* engine, Value initial) {
  std::lock_guard lock(mu_);
  engine_ = engine;
  value_ = initial;
  if (engine_ != nullptr) engine_->set_max_active_jobs(value_.max_active_jobs());
}

WorkLimit::Value WorkLimit::get() const {
  std::lock_guard lock(mu_);
  return value_;
}

std::expected<WorkLimit::Value, ApiError> WorkLimit::update(std::optional<bool> parallel,
                                                            std::optional<int> concurrency) {
  if (concurrency && (*concurrency < 1 || *concurrency > kMaxConcurrency)) {
    return std::unexpected(api_error(
        400, "invalid_request", fmt::format("'concurrency' is from 1 to {}", kMaxConcurrency)));
  }
  // Held while the engine takes the new limit (a short lock there, no I/O), so that two changes
  // made at once reach the engine in the order they were made.
  std::lock_guard lock(mu_);
  if (parallel) value_.parallel = *parallel;
  if (concurrency) value_.concurrency = *concurrency;
  if (engine_ != nullptr) engine_->set_max_active_jobs(value_.max_active_jobs());
  return value_;
}

nlohmann::json work_limit_json(const WorkLimit::Value& value) {
  return {{"parallel", value.parallel},
          {"concurrency", value.concurrency},
          {"max_active_jobs", value.max_active_jobs()}};
}

}  // namespace aimara::server
