// Which model a request may ask for. The server loads one model (-m) and runs every job with it,
// so a submission naming another model is refused (400 model_unavailable; the OpenAI endpoint:
// OpenAI's envelope, code model_not_found) instead of being run with a model it did not ask for.
//
// A request names the loaded model by its name ("base", "ggml-base" -> "base"), by its file
// name ("ggml-base.bin"), or by what -m was given. The OpenAI endpoint also takes "whisper-1",
// the name OpenAI's clients send.
//
// Thread-safety: built once before the server starts, read-only after.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace aimara::server {

// The model name OpenAI's clients send; the OpenAI endpoint takes it for the loaded model.
inline constexpr std::string_view kOpenAiModelAlias = "whisper-1";

class ServedModel {
 public:
  ServedModel() = default;
  // `given`: the -m value; `file`: the model file it resolved to (empty when none was loaded,
  // --workers 0); `name`: the loaded model's name (WhisperModel::name()), else taken from `given`.
  ServedModel(std::string given, const std::filesystem::path& file, std::string name);

  // "base": what the server reports and stores in a job's options.
  const std::string& name() const { return name_; }
  // True when `asked` names this model (see above). Empty is not a name.
  bool is(std::string_view asked) const;

  // A job submission's `model`: ok when empty or naming this model; model_unavailable (400),
  // naming the loaded model, otherwise.
  std::expected<void, ApiError> check(std::string_view asked) const;

 private:
  std::string name_;
  std::vector<std::string> names_;  // every accepted spelling
};

}  // namespace aimara::server
