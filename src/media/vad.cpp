#include "media/vad.h"

#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "media/decoder.h"

namespace aimara::media {

Result<std::unique_ptr<VadModel>> VadModel::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return make_error(ErrorCode::kModelMissing,
                      fmt::format("VAD model not found: '{}' (give the path of a Silero VAD model "
                                  "in ggml format, e.g. with --vad-model)",
                                  path.string()));
  }
  auto net = SileroVad::load(path);
  if (!net) return std::unexpected(net.error());
  return std::unique_ptr<VadModel>(new VadModel(std::move(*net), path));
}

VadModel::~VadModel() = default;

void VadModel::reset() { net_->reset(); }

Result<void> VadModel::probabilities(std::span<const float> samples, std::vector<float>& probs) {
  return net_->probabilities(samples, probs);
}

Result<std::vector<SpeechRegion>> VadModel::detect(std::span<const float> samples,
                                                   const VadOptions& options) {
  std::vector<SpeechRegion> out;
  SpeechDetector detector(*this, options);
  if (auto r = detector.feed(samples, out); !r) return std::unexpected(r.error());
  if (auto r = detector.finish(out); !r) return std::unexpected(r.error());
  return out;
}

// ---- SpeechDetector ----------------------------------------------------------------------------

SpeechDetector::SpeechDetector(VadModel& model, VadOptions options)
    : model_(model), options_(options) {
  model_.reset();
}

int64_t SpeechDetector::frame_ms(int64_t frame) const {
  return samples_to_ms(frame * model_.frame_samples());
}

Result<void> SpeechDetector::feed(std::span<const float> samples, std::vector<SpeechRegion>& out) {
  const size_t frame = static_cast<size_t>(model_.frame_samples());
  samples_fed_ += static_cast<int64_t>(samples.size());
  // Complete the partial frame from the previous call first.
  if (!partial_.empty()) {
    const size_t take = std::min(frame - partial_.size(), samples.size());
    partial_.insert(partial_.end(), samples.begin(),
                    samples.begin() + static_cast<std::ptrdiff_t>(take));
    samples = samples.subspan(take);
    if (partial_.size() < frame) return {};
    probs_.clear();
    if (auto r = model_.probabilities(partial_, probs_); !r) return r;
    partial_.clear();
    for (float p : probs_) on_frame(p, out);
  }
  const size_t whole = samples.size() / frame * frame;
  if (whole > 0) {
    probs_.clear();
    if (auto r = model_.probabilities(samples.first(whole), probs_); !r) return r;
    for (float p : probs_) on_frame(p, out);
  }
  partial_.assign(samples.begin() + static_cast<std::ptrdiff_t>(whole), samples.end());
  return {};
}

void SpeechDetector::on_frame(float p, std::vector<SpeechRegion>& out) {
  const int64_t i = frames_++;
  const float low = std::max(0.01f, options_.threshold - 0.15f);
  if (!in_speech_) {
    if (p >= options_.threshold) {
      in_speech_ = true;
      speech_start_ = i;
      silence_start_ = -1;
      // A held region that can no longer merge with this one is final.
      if (has_held_ && frame_ms(i) - held_.end_ms >= options_.merge_gap_ms) flush_held(out);
    } else if (has_held_ && frame_ms(i + 1) - held_.end_ms >= options_.merge_gap_ms) {
      flush_held(out);
    }
    return;
  }
  if (p >= options_.threshold) {
    silence_start_ = -1;
  } else if (p < low) {
    if (silence_start_ < 0) silence_start_ = i;
    if (frame_ms(i + 1) - frame_ms(silence_start_) >= options_.min_silence_ms) {
      in_speech_ = false;
      close_region({frame_ms(speech_start_), frame_ms(silence_start_)}, false, out);
      silence_start_ = -1;
      return;
    }
  }
  // Very long speech is handed out in pieces so that nobody waits for its end.
  if (options_.max_region_ms > 0 && silence_start_ < 0 &&
      frame_ms(i + 1) - frame_ms(speech_start_) >= options_.max_region_ms) {
    close_region({frame_ms(speech_start_), frame_ms(i + 1)}, true, out);
    speech_start_ = i + 1;
  }
}

void SpeechDetector::close_region(SpeechRegion r, bool forced, std::vector<SpeechRegion>& out) {
  if (has_held_ && r.start_ms - held_.end_ms < options_.merge_gap_ms) {
    held_.end_ms = r.end_ms;
  } else {
    flush_held(out);
    held_ = r;
    has_held_ = true;
  }
  // A forced piece continues without a pause: nothing can merge with it that would not touch it.
  if (forced) {
    emit(held_, out);
    has_held_ = false;
  }
}

void SpeechDetector::flush_held(std::vector<SpeechRegion>& out) {
  if (!has_held_) return;
  // A region that touches the previous piece of a long run is part of it, however short.
  const bool continues = last_end_ms_ == held_.start_ms;
  if (held_.length_ms() >= options_.min_speech_ms || continues) emit(held_, out);
  has_held_ = false;
}

void SpeechDetector::emit(SpeechRegion r, std::vector<SpeechRegion>& out) {
  last_end_ms_ = r.end_ms;
  out.push_back(r);
}

Result<void> SpeechDetector::finish(std::vector<SpeechRegion>& out) {
  if (finished_) return {};
  finished_ = true;
  if (!partial_.empty()) {
    probs_.clear();
    if (auto r = model_.probabilities(partial_, probs_); !r) return r;
    partial_.clear();
    for (float p : probs_) on_frame(p, out);
  }
  const size_t first_new = out.size();
  const int64_t end_ms = samples_to_ms(samples_fed_);
  if (in_speech_) {
    const int64_t stop = silence_start_ >= 0 ? frame_ms(silence_start_) : frame_ms(frames_);
    close_region({frame_ms(speech_start_), std::min(stop, end_ms)}, false, out);
    in_speech_ = false;
  }
  flush_held(out);
  // The last frame may be zero-padded past the end: nothing may end after the stream does.
  while (out.size() > first_new && out.back().start_ms >= end_ms) out.pop_back();
  if (out.size() > first_new) out.back().end_ms = std::min(out.back().end_ms, end_ms);
  return {};
}

int64_t SpeechDetector::settled_until_ms() const {
  if (has_held_) return held_.start_ms;
  if (in_speech_) return frame_ms(speech_start_);
  return frame_ms(frames_);
}

}  // namespace aimara::media
