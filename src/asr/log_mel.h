// Whisper's log-mel spectrogram, computed faster than whisper.cpp computes it.
//
// whisper.cpp turns each chunk into 80 (or 128) mel bands per 10 ms with a textbook FFT (a direct
// DFT for its 25-point stages) and a dense filterbank: about 0.2 s of one core per 30 s window,
// several percent of a base model's whole window. LogMel computes the same spectrogram (same
// padding, Hann window, power spectrum, the model's own filterbank read from its file, log10,
// clamping to max - 8 and scaling) with a mixed-radix FFT and a sparse filterbank, and the engine
// hands it to whisper.cpp (whisper_set_mel_with_state). Results equal whisper.cpp's up to float
// rounding (tests check them against a direct transform).
//
// Thread-safety: a LogMel is immutable after construction and compute() is const: share one
// between threads. compute() allocates only in its output.
#pragma once

#include <complex>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "core/error.h"

namespace aimara::asr {

struct MelSpectrogram {
  int n_mel = 0;
  int n_len = 0;      // frames, including the 30 s of padding whisper appends
  int n_len_org = 0;  // frames of the audio itself (what whisper transcribes)
  std::vector<float> data;  // n_mel rows of n_len frames
};

class LogMel {
 public:
  static constexpr int kFrameSize = 400;  // 25 ms at 16 kHz
  static constexpr int kFrameStep = 160;  // 10 ms
  static constexpr int kBins = kFrameSize / 2 + 1;

  // `filters`: n_mel rows of kBins weights, as stored in a whisper model file.
  LogMel(int n_mel, std::vector<float> filters);

  // Reads the filterbank from a whisper ggml model file. model_invalid when it has none.
  static Result<LogMel> from_model_file(const std::filesystem::path& path);

  int n_mel() const { return n_mel_; }
  void compute(std::span<const float> samples, MelSpectrogram& out) const;

 private:
  void fft(std::complex<float>* data, std::complex<float>* scratch) const;

  int n_mel_ = 0;
  std::vector<float> filters_;
  std::vector<int> band_first_, band_last_;  // nonzero range of each band's weights
  std::vector<float> hann_;
  std::vector<std::complex<float>> twiddles_;  // exp(-2 pi i k / kFrameSize)
};

}  // namespace aimara::asr
