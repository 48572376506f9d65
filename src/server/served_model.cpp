#include "server/served_model.h"

#include <algorithm>

namespace aimara::server {

namespace {

// "ggml-base.bin" -> "base", as WhisperModel names a loaded file.
std::string name_of_file(const std::filesystem::path& p) {
  std::string stem = p.stem().string();
  if (stem.starts_with("ggml-")) stem = stem.substr(5);
  return stem;
}

}  // namespace

ServedModel::ServedModel(std::string given, const std::filesystem::path& file, std::string name)
    : name_(name.empty() ? name_of_file(given) : std::move(name)) {
  names_ = {name_, given, std::filesystem::path(given).filename().string()};
  if (!file.empty()) names_.push_back(file.filename().string());
  std::erase_if(names_, [](const std::string& n) { return n.empty(); });
}

bool ServedModel::is(std::string_view asked) const {
  return !asked.empty() && std::ranges::find(names_, asked) != names_.end();
}

std::expected<void, ApiError> ServedModel::check(std::string_view asked) const {
  if (asked.empty() || is(asked)) return {};
  return std::unexpected(api_error(400, "model_unavailable",
                                   "this server runs the model '" + name_ +
                                       "' only; leave 'model' out or ask for '" + name_ + "'"));
}

}  // namespace aimara::server
