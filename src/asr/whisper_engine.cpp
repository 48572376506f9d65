#include "asr/whisper_engine.h"

#include <whisper.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace aimara::asr {

namespace fs = std::filesystem;

Result<Device> parse_device(std::string_view s) {
  if (s == "auto") return Device::kAuto;
  if (s == "cpu") return Device::kCpu;
  if (s == "cuda" || s == "gpu") return Device::kCuda;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown device '" + std::string(s) + "' (use auto, cpu or cuda)");
}

Result<std::string> parse_language(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "auto") return std::string("auto");
  const int id = whisper_lang_id(lower.c_str());
  if (id < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("unknown language '{}' (auto, or one of whisper's {} languages "
                                  "by code or name: en, es, pt, fr, de, ...)",
                                  s, whisper_lang_max_id() + 1));
  }
  return std::string(whisper_lang_str(id));
}

std::string_view device_name(Device d) {
  switch (d) {
    case Device::kAuto: return "auto";
    case Device::kCpu: return "cpu";
    case Device::kCuda: return "cuda";
  }
  return "auto";
}

nlohmann::json TranscribeOptions::to_json() const {
  return {{"language", language},
          {"translate", translate},
          {"threads", threads},
          {"beam_size", beam_size},
          {"best_of", best_of},
          {"no_fallback", no_fallback},
          {"temperature", temperature},
          {"logprob_threshold", logprob_threshold},
          {"initial_prompt", initial_prompt},
          {"word_timestamps", word_timestamps},
          {"max_segment_length", max_segment_length}};
}

namespace {

void log_to_spdlog(ggml_log_level level, const char* text, void* /*user*/) {
  std::string_view s(text);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  if (s.empty()) return;
  if (level == GGML_LOG_LEVEL_ERROR) {
    spdlog::debug("whisper: {}", s);  // whisper's errors are reported by us as Error values
  } else {
    spdlog::trace("whisper: {}", s);
  }
}

// Diagnostics are kept to 4 decimals: below that whisper's values are numerical noise that can
// differ between two computations of the same chunk, and a resumed run must write the same files.
float round4(float v) { return std::round(v * 1e4f) / 1e4f; }

bool file_readable(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return static_cast<bool>(in);
}

std::string model_name_from_path(const fs::path& p) {
  std::string stem = p.stem().string();
  if (stem.starts_with("ggml-")) stem = stem.substr(5);
  return stem;
}

struct AbortFlag {
  std::stop_token stop;
};

bool abort_callback(void* user) {
  auto* flag = static_cast<AbortFlag*>(user);
  return flag->stop.stop_requested();
}

// Decoding attempts against encoder windows. Each attempt at decoding a window (the first, and
// every temperature fallback) filters the logits of an empty sequence exactly once; each window
// is encoded once. More attempts than windows: some window fell back to sampling. The filter may
// be called from several threads at once (whisper.cpp samples decoders in parallel).
struct AttemptCounter {
  std::atomic<int> windows{0};
  std::atomic<int> attempts{0};
};

bool count_window(whisper_context*, whisper_state*, void* user) {
  static_cast<AttemptCounter*>(user)->windows.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void count_attempt(whisper_context*, whisper_state*, const whisper_token_data*, int n_tokens,
                   float*, void* user) {
  auto* counter = static_cast<AttemptCounter*>(user);
  if (n_tokens == 0) counter->attempts.fetch_add(1, std::memory_order_relaxed);
}

struct ProgressContext {
  const ProgressFn* fn;
};

void progress_callback(whisper_context*, whisper_state*, int progress, void* user) {
  auto* ctx = static_cast<ProgressContext*>(user);
  if (ctx->fn != nullptr && *ctx->fn) {
    try {
      (*ctx->fn)(static_cast<float>(progress) / 100.0f);
    } catch (const std::exception& e) {
      spdlog::warn("progress callback failed: {}", e.what());  // never across the C boundary
    }
  }
}

// Builds words from tokens: a token whose text starts with a space begins a new word.
std::vector<Word> words_from_tokens(const std::vector<Token>& tokens) {
  std::vector<Word> words;
  int n_in_word = 0;
  for (const auto& t : tokens) {
    if (t.text.empty()) continue;
    bool starts_word = words.empty() || t.text.front() == ' ';
    if (starts_word) {
      if (!words.empty() && n_in_word > 0) words.back().p /= static_cast<float>(n_in_word);
      words.push_back(Word{t.text, t.start_ms, t.end_ms, t.p});
      n_in_word = 1;
    } else {
      words.back().text += t.text;
      words.back().end_ms = std::max(words.back().end_ms, t.end_ms);
      words.back().p += t.p;
      ++n_in_word;
    }
  }
  if (!words.empty() && n_in_word > 0) words.back().p /= static_cast<float>(n_in_word);
  return words;
}

}  // namespace

void route_whisper_logs() { whisper_log_set(log_to_spdlog, nullptr); }

std::string whisper_version_string() { return std::string("whisper.cpp ") + whisper_version(); }

std::string whisper_system_info() { return whisper_print_system_info(); }

bool cuda_available() {
#ifdef GGML_USE_CUDA
  return true;
#else
  return std::string(whisper_print_system_info()).find("CUDA") != std::string::npos;
#endif
}

Result<std::shared_ptr<WhisperModel>> WhisperModel::load(const EngineOptions& options) {
  if (!fs::exists(options.model_path)) {
    return make_error(ErrorCode::kModelMissing,
                      "model file '" + options.model_path.string() +
                          "' does not exist (download one with `aimara models download base`)");
  }
  if (fs::is_directory(options.model_path) || !file_readable(options.model_path)) {
    return make_error(ErrorCode::kModelInvalid,
                      "cannot read model file '" + options.model_path.string() + "'");
  }
  bool want_gpu = options.device == Device::kCuda ||
                  (options.device == Device::kAuto && cuda_available());
  if (options.device == Device::kCuda && !cuda_available()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--device cuda: this build of aimara has no CUDA support "
                      "(rebuild with -DAIMARA_CUDA=ON, or use --device cpu)");
  }
  whisper_context_params cparams = whisper_context_default_params();
  cparams.use_gpu = want_gpu;
  cparams.gpu_device = options.gpu_device;
  cparams.flash_attn = options.flash_attn;

  whisper_context* ctx =
      whisper_init_from_file_with_params_no_state(options.model_path.c_str(), cparams);
  if (ctx == nullptr) {
    return make_error(ErrorCode::kModelInvalid,
                      "whisper.cpp cannot load '" + options.model_path.string() +
                          "': not a ggml whisper model, or a damaged file (run with -v for details)");
  }
  std::shared_ptr<WhisperModel> model(new WhisperModel());
  model->ctx_ = ctx;
  model->name_ = model_name_from_path(options.model_path);
  model->on_gpu_ = want_gpu;
  model->options_ = options;
  if (options.fast_mel) {
    if (auto mel = LogMel::from_model_file(options.model_path)) {
      if (mel->n_mel() == whisper_model_n_mels(ctx)) model->log_mel_.emplace(std::move(*mel));
    } else {
      spdlog::debug("{}; whisper.cpp computes the spectrogram", mel.error().to_string());
    }
  }
  return model;
}

WhisperModel::~WhisperModel() {
  if (ctx_ != nullptr) whisper_free(ctx_);
}

bool WhisperModel::multilingual() const { return whisper_is_multilingual(ctx_) != 0; }

Result<whisper_state*> WhisperModel::new_state() const {
  whisper_state* state = whisper_init_state(ctx_);
  if (state == nullptr) {
    return make_error(ErrorCode::kAsrFailed, "cannot allocate a whisper state (out of memory?)");
  }
  return state;
}

Result<std::unique_ptr<WhisperWorker>> WhisperModel::new_worker() {
  auto state = new_state();
  if (!state) return std::unexpected(state.error());
  return std::unique_ptr<WhisperWorker>(new WhisperWorker(shared_from_this(), *state));
}

WhisperWorker::~WhisperWorker() {
  if (state_ != nullptr) whisper_free_state(state_);
}

Result<void> WhisperWorker::refresh_sampler() {
  if (sampled_ && state_ != nullptr) {
    whisper_free_state(state_);  // first: a worker never holds two states' memory
    state_ = nullptr;
  }
  if (state_ == nullptr) {
    auto state = model_->new_state();
    if (!state) return std::unexpected(state.error());
    state_ = *state;
  }
  sampled_ = false;
  return {};
}

bool WhisperWorker::set_mel(std::span<const float> samples) {
  const LogMel* mel = model_->log_mel();
  if (mel == nullptr) return false;
  mel->compute(samples, mel_);
  return whisper_set_mel_with_state(model_->raw(), state_, mel_.data.data(), mel_.n_len,
                                    mel_.n_mel) == 0;
}

Result<std::string> WhisperWorker::detect_language(std::span<const float> samples, int threads) {
  whisper_context* ctx = model_->raw();
  if (!model_->multilingual()) return std::string("en");
  size_t n = std::min<size_t>(samples.size(), 30 * 16000);
  if (n < 1600) return std::string("en");
  if (auto r = refresh_sampler(); !r) return std::unexpected(r.error());
  if (!set_mel(samples.first(n)) &&
      whisper_pcm_to_mel_with_state(ctx, state_, samples.data(), static_cast<int>(n),
                                    std::max(1, threads)) != 0) {
    return make_error(ErrorCode::kAsrFailed, "cannot compute the mel spectrogram");
  }
  int lang = whisper_lang_auto_detect_with_state(ctx, state_, 0, std::max(1, threads), nullptr);
  if (lang < 0) return make_error(ErrorCode::kAsrFailed, "language detection failed");
  return std::string(whisper_lang_str(lang));
}

Result<std::vector<Segment>> WhisperWorker::transcribe(std::span<const float> samples,
                                                       const TimeMap& map,
                                                       const TranscribeOptions& o,
                                                       std::string* detected_language,
                                                       const ProgressFn& progress,
                                                       std::stop_token stop) {
  whisper_context* ctx = model_->raw();
  const bool beam = o.beam_size > 1;
  whisper_full_params p =
      whisper_full_default_params(beam ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
  p.n_threads = std::max(1, o.threads);
  p.translate = o.translate;
  p.no_context = true;  // chunks are independent: a resumed chunk must give the same text
  p.print_special = false;
  p.print_progress = false;
  p.print_realtime = false;
  p.print_timestamps = false;
  p.language = o.language.empty() ? "auto" : o.language.c_str();
  p.detect_language = false;
  if (beam) p.beam_search.beam_size = o.beam_size;
  if (o.best_of > 0) p.greedy.best_of = o.best_of;
  p.temperature = o.temperature;
  if (o.no_fallback) p.temperature_inc = 0.0f;
  p.initial_prompt = o.initial_prompt.empty() ? nullptr : o.initial_prompt.c_str();
  p.token_timestamps = o.word_timestamps;
  if (o.max_segment_length > 0) {
    p.max_len = o.max_segment_length;
    p.split_on_word = true;
    p.token_timestamps = true;
  }
  AbortFlag flag{stop};
  p.abort_callback = abort_callback;
  p.abort_callback_user_data = &flag;
  ProgressContext pctx{&progress};
  p.progress_callback = progress_callback;
  p.progress_callback_user_data = &pctx;

  p.logprob_thold = o.logprob_threshold;
  // A chunk's text must not depend on what its worker transcribed before (a resumed run, or one
  // with another number of workers, writes the same files). Sampling breaks that: whisper.cpp
  // seeds the first decoder's random generator when a state is created and never again (the
  // other decoders are reseeded by every whisper_full call), and it samples at any temperature
  // above 0 (fallbacks included) and, in beam search, at every step. So after a chunk that
  // sampled, the worker starts the next one on a fresh state: the new state's ~126 MB (base)
  // are allocated and faulted in again, 5% to 15% of a window's cost as page faults are cheap or
  // dear on the machine.
  AttemptCounter attempts;
  p.encoder_begin_callback = count_window;
  p.encoder_begin_callback_user_data = &attempts;
  p.logits_filter_callback = count_attempt;
  p.logits_filter_callback_user_data = &attempts;

  std::vector<Segment> out;
  // whisper.cpp refuses audio under ~100 ms with an error; an empty transcript is the answer.
  if (samples.size() < 1600) {
    if (detected_language != nullptr && o.language != "auto") *detected_language = o.language;
    return out;
  }
  if (auto r = refresh_sampler(); !r) return std::unexpected(r.error());
  int rc;
  // The spectrogram computed here is several times cheaper than whisper.cpp's; whisper.cpp then
  // transcribes exactly the audio's frames (duration_ms), as it does from samples. Token
  // timestamps need whisper.cpp's own pass over the samples (signal energy).
  if (!p.token_timestamps && set_mel(samples)) {
    p.duration_ms = mel_.n_len_org * 10;
    rc = whisper_full_with_state(ctx, state_, p, nullptr, 0);
  } else {
    rc = whisper_full_with_state(ctx, state_, p, samples.data(), static_cast<int>(samples.size()));
  }
  sampled_ = beam || p.temperature > 0.0f || rc != 0 ||
             attempts.attempts.load() > attempts.windows.load();
  // One pass per temperature tried in each window: more passes than windows means fallbacks.
  spdlog::debug("asr: chunk at {} ms: {} window(s), {} decoder pass(es)", map.start_of(0),
                attempts.windows.load(), attempts.attempts.load());
  if (stop.stop_requested()) return make_error(ErrorCode::kCancelled, "transcription cancelled");
  if (rc != 0) {
    return make_error(ErrorCode::kAsrFailed,
                      "whisper.cpp failed on the chunk at " + std::to_string(map.start_of(0)) +
                          " ms (code " + std::to_string(rc) + ")");
  }
  if (detected_language != nullptr) {
    int lang = whisper_full_lang_id_from_state(state_);
    *detected_language = lang >= 0 ? whisper_lang_str(lang) : o.language;
  }
  const whisper_token eot = whisper_token_eot(ctx);
  const int n = whisper_full_n_segments_from_state(state_);
  out.reserve(static_cast<size_t>(n));
  // whisper's times are centiseconds into the buffer.
  auto start_ms = [&](int64_t cs) { return map.start_of(cs * 10); };
  auto end_ms = [&](int64_t cs) { return map.end_of(cs * 10); };
  for (int i = 0; i < n; ++i) {
    Segment s;
    s.start_ms = start_ms(whisper_full_get_segment_t0_from_state(state_, i));
    s.end_ms = end_ms(whisper_full_get_segment_t1_from_state(state_, i));
    if (s.end_ms < s.start_ms) s.end_ms = s.start_ms;
    s.text = whisper_full_get_segment_text_from_state(state_, i);
    s.no_speech_prob = round4(whisper_full_get_segment_no_speech_prob_from_state(state_, i));
    // whisper.cpp does not say which fallback temperature a segment ended with: the first one.
    s.temperature = o.temperature;
    const int nt = whisper_full_n_tokens_from_state(state_, i);
    double logprob_sum = 0.0;
    int n_text = 0;
    std::vector<Token> tokens;
    for (int j = 0; j < nt; ++j) {
      whisper_token_data d = whisper_full_get_token_data_from_state(state_, i, j);
      if (d.id >= eot) continue;  // special and timestamp tokens
      logprob_sum += d.plog;
      ++n_text;
      if (o.token_details || o.word_timestamps) {
        Token t;
        t.id = d.id;
        t.text = whisper_full_get_token_text_from_state(ctx, state_, i, j);
        t.p = d.p;
        t.plog = d.plog;
        t.start_ms = p.token_timestamps ? start_ms(d.t0) : s.start_ms;
        t.end_ms = p.token_timestamps ? std::max(end_ms(d.t1), t.start_ms) : s.end_ms;
        tokens.push_back(std::move(t));
      }
    }
    s.avg_logprob = n_text > 0 ? round4(static_cast<float>(logprob_sum / n_text)) : 0.0f;
    if (o.word_timestamps) s.words = words_from_tokens(tokens);
    if (o.token_details) s.tokens = std::move(tokens);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace aimara::asr
