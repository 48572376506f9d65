// The transcription engine: whisper.cpp through its C API.
//
// One WhisperModel holds the weights (a whisper_context) and is shared by every worker; each
// WhisperWorker owns a whisper_state (whisper_init_state) and runs whisper_full_with_state on it.
// Memory is one model plus N small states, not N models (ARCHITECTURE "One model, many workers").
//
// Thread-safety: a WhisperModel is safe to share between threads (shared_ptr) and new_worker()
// may be called from any thread. A WhisperWorker is used by one thread at a time; different
// workers run concurrently. Workers keep their model alive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "asr/log_mel.h"
#include "asr/transcript.h"
#include "core/error.h"
#include "core/time_map.h"

struct whisper_context;
struct whisper_state;

namespace aimara::asr {

enum class Device { kAuto, kCpu, kCuda };

Result<Device> parse_device(std::string_view s);  // "auto" | "cpu" | "cuda"
std::string_view device_name(Device d);

// "auto" (also for ""), or the code of a language whisper knows, given as its code or its English
// name in any case ("es", "ES", "spanish"). Anything else is an error: whisper.cpp would decode it
// with a wrong language token.
Result<std::string> parse_language(std::string_view s);

struct EngineOptions {
  std::filesystem::path model_path;
  Device device = Device::kAuto;
  int gpu_device = 0;
  bool flash_attn = true;
  bool fast_mel = true;  // the log-mel spectrogram by LogMel (log_mel.h), not whisper.cpp
};

struct TranscribeOptions {
  std::string language = "auto";  // "auto" or an ISO code ("en", "es")
  bool translate = false;
  int threads = 1;                // threads of one worker
  int beam_size = 0;              // <= 1: greedy; > 1: beam search
  int best_of = 5;                // greedy candidates when sampling with temperature
  bool no_fallback = false;       // temperature fallback off
  float temperature = 0.0f;       // the first decoding's sampling temperature (0: greedy)
  // A decoding whose mean token log-probability is below this falls back to the next temperature
  // (whisper's default).
  float logprob_threshold = -1.0f;
  std::string initial_prompt;
  bool word_timestamps = false;   // words with times (token-level timestamps)
  bool token_details = false;     // tokens with probabilities in the result
  int max_segment_length = 0;     // characters; 0 = no limit
  nlohmann::json to_json() const;
};

// Called with the fraction [0, 1] of the current chunk processed.
using ProgressFn = std::function<void(float)>;

// Sends whisper.cpp's and ggml's logs to spdlog at debug level (they are noisy at info).
void route_whisper_logs();

// "whisper.cpp 1.9.1" and the CPU/GPU features it was built with.
std::string whisper_version_string();
std::string whisper_system_info();
bool cuda_available();

class WhisperWorker;

class WhisperModel : public std::enable_shared_from_this<WhisperModel> {
 public:
  // Loads the weights once. model_missing if the file is absent; model_invalid if whisper.cpp
  // cannot read it. With Device::kCuda and no CUDA build: invalid_argument.
  static Result<std::shared_ptr<WhisperModel>> load(const EngineOptions& options);
  ~WhisperModel();
  WhisperModel(const WhisperModel&) = delete;
  WhisperModel& operator=(const WhisperModel&) = delete;

  // A new worker with its own state (a few tens of MB for base). Thread-safe.
  Result<std::unique_ptr<WhisperWorker>> new_worker();

  const std::string& name() const { return name_; }   // file stem: "ggml-base" -> "base"
  bool multilingual() const;
  bool on_gpu() const { return on_gpu_; }
  whisper_context* raw() const { return ctx_; }
  const LogMel* log_mel() const { return log_mel_ ? &*log_mel_ : nullptr; }

 private:
  friend class WhisperWorker;
  WhisperModel() = default;
  // A new whisper_state for the weights; asr_failed when it cannot be allocated.
  Result<whisper_state*> new_state() const;
  whisper_context* ctx_ = nullptr;
  std::string name_;
  bool on_gpu_ = false;
  EngineOptions options_;
  std::optional<LogMel> log_mel_;
};

class WhisperWorker {
 public:
  ~WhisperWorker();
  WhisperWorker(const WhisperWorker&) = delete;
  WhisperWorker& operator=(const WhisperWorker&) = delete;

  // Detects the spoken language from the first 30 s of `samples` (one encoder pass).
  // Returns the ISO code ("en"); asr_failed when whisper.cpp cannot.
  Result<std::string> detect_language(std::span<const float> samples, int threads);

  // Transcribes one chunk of 16 kHz mono samples whose place in the media's timeline is `map`
  // (a plain span, or a span with pauses cut out). Segment and word times are mapped through it
  // into that timeline. `detected_language` (optional) receives the chunk's language. A stop
  // request aborts the computation and returns cancelled.
  Result<std::vector<Segment>> transcribe(std::span<const float> samples, const TimeMap& map,
                                          const TranscribeOptions& options,
                                          std::string* detected_language = nullptr,
                                          const ProgressFn& progress = {},
                                          std::stop_token stop = {});

 private:
  friend class WhisperModel;
  explicit WhisperWorker(std::shared_ptr<WhisperModel> model, whisper_state* state)
      : model_(std::move(model)), state_(state) {}
  // Sets the state's spectrogram of `samples` when the model has a LogMel; false otherwise.
  bool set_mel(std::span<const float> samples);
  // Replaces the state with a fresh one if the last transcription sampled (see transcribe()).
  Result<void> refresh_sampler();

  std::shared_ptr<WhisperModel> model_;
  whisper_state* state_;
  bool sampled_ = false;  // the state's first decoder drew from its random generator
  MelSpectrogram mel_;  // reused between chunks
};

}  // namespace aimara::asr
