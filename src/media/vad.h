// Voice activity detection: where the speech is, in integer milliseconds.
//
// A VadModel runs the Silero VAD network (the ggml file whisper.cpp's VAD reads, e.g.
// ../shared/models/silero-v6.2.0-ggml.bin; computed by SileroVad, a block of frames at a time,
// see silero_vad.h): it loads the model once and turns 16 kHz mono samples into per-frame speech
// probabilities (one per 512 samples = 32 ms). A SpeechDetector turns those
// probabilities into SpeechRegions incrementally, so a stream of any length is processed in
// blocks: the model's recurrent state is carried from one block to the next, so the regions do
// not depend on how the stream was cut into blocks (a 3-hour file is detected in bounded memory
// with the same result as one pass over all of it).
//
// Region rules (VadOptions): speech starts at a frame whose probability is >= threshold and ends
// where the probability falls below threshold - 0.15 for at least min_silence_ms; regions closer
// than merge_gap_ms are merged; regions shorter than min_speech_ms are dropped; a region longer
// than max_region_ms is handed out in pieces of that length that touch (end == next start), so a
// consumer never waits for hours of uninterrupted "speech". Regions carry no padding: padding is
// the chunker's business (chunker.h).
//
// Thread-safety: a VadModel holds mutable inference state. Use one per thread (loading one takes
// milliseconds and a few MB), or guard it with a mutex. A SpeechDetector borrows its model for
// its whole life and is used by one thread; the model must outlive it and must not be used by
// anything else meanwhile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"
#include "media/silero_vad.h"

namespace aimara::media {

// A stretch of speech in the media's timeline, [start_ms, end_ms).
struct SpeechRegion {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t length_ms() const { return end_ms - start_ms; }
  friend bool operator==(const SpeechRegion&, const SpeechRegion&) = default;
};

struct VadOptions {
  float threshold = 0.5f;          // speech probability that starts a region
  int64_t min_speech_ms = 250;     // shorter regions are dropped
  int64_t min_silence_ms = 100;    // silence that ends a region
  int64_t merge_gap_ms = 200;      // regions closer than this become one
  int64_t max_region_ms = 30'000;  // longer regions are handed out in pieces; <= 0: no limit
};

class VadModel {
 public:
  // model_missing if the file does not exist; model_invalid if it is not a Silero VAD model.
  // The model is small: one thread per stream is the fastest.
  static Result<std::unique_ptr<VadModel>> load(const std::filesystem::path& path);
  ~VadModel();
  VadModel(const VadModel&) = delete;
  VadModel& operator=(const VadModel&) = delete;

  // Samples per probability frame (512 at 16 kHz, 32 ms).
  int frame_samples() const { return SileroVad::kFrameSamples; }

  // Speech in one buffer of 16 kHz mono samples (times relative to its first sample).
  // Equivalent to a SpeechDetector fed the whole buffer.
  Result<std::vector<SpeechRegion>> detect(std::span<const float> samples,
                                           const VadOptions& options = {});

  // Low level, for SpeechDetector: resets the recurrent state; appends the speech probability of
  // each whole frame of `samples` (size a multiple of frame_samples(), or the final piece of a
  // stream, which is zero-padded to a frame) to `probs`, carrying the state across calls.
  void reset();
  Result<void> probabilities(std::span<const float> samples, std::vector<float>& probs);

  const std::filesystem::path& path() const { return path_; }

 private:
  VadModel(std::unique_ptr<SileroVad> net, std::filesystem::path path)
      : net_(std::move(net)), path_(std::move(path)) {}

  std::unique_ptr<SileroVad> net_;
  std::filesystem::path path_;
};

// Finds speech in one stream fed block by block. Regions come out in order, each as soon as it
// is final; feed() the stream's consecutive samples, then finish() once.
class SpeechDetector {
 public:
  SpeechDetector(VadModel& model, VadOptions options);

  // Runs the model over `samples` (any size; a partial frame is kept for the next call) and
  // appends the regions that became final to `out`.
  Result<void> feed(std::span<const float> samples, std::vector<SpeechRegion>& out);

  // The stream ended after `samples_fed()` samples: appends the remaining regions (clamped to
  // the stream's end). Feeding after finish() is a programmer error.
  Result<void> finish(std::vector<SpeechRegion>& out);

  int64_t samples_fed() const { return samples_fed_; }

  // No region handed out later can start before this time (ms): audio before it is settled.
  int64_t settled_until_ms() const;

 private:
  void on_frame(float p, std::vector<SpeechRegion>& out);
  void close_region(SpeechRegion r, bool forced, std::vector<SpeechRegion>& out);
  void flush_held(std::vector<SpeechRegion>& out);
  void emit(SpeechRegion r, std::vector<SpeechRegion>& out);
  int64_t frame_ms(int64_t frame) const;

  VadModel& model_;
  VadOptions options_;
  std::vector<float> partial_;  // < one frame of samples waiting for the next feed
  std::vector<float> probs_;    // scratch
  int64_t samples_fed_ = 0;
  int64_t frames_ = 0;  // frames scored so far
  bool finished_ = false;

  bool in_speech_ = false;
  int64_t speech_start_ = 0;    // frame where the open region started
  int64_t silence_start_ = -1;  // first quiet frame of the current pause inside speech, or -1
  bool has_held_ = false;       // a closed region waiting to see whether the next one merges
  SpeechRegion held_;
  int64_t last_end_ms_ = -1;  // end of the last region handed out
};

}  // namespace aimara::media
