// The Silero VAD network (v5/v6, 16 kHz, ggml format), computed a block of frames at a time.
//
// whisper.cpp's VAD runs the network one 32 ms frame at a time: one small ggml graph per frame,
// whose matrix products have four columns. That costs about 130 us of one core per frame, 1.1 s
// for a 5-minute show: some 5% of a base model's whole transcription work. But the network is
// feed-forward up to its LSTM, and each frame is analysed on its own (whisper.cpp pads each
// 512-sample frame by reflection; no context is carried from the previous frame). So SileroVad
// computes the STFT, the four convolutions and the LSTM's input projection of a whole block of
// frames as wide matrix products (ggml's CPU kernels, float32 throughout), and only the LSTM's
// recurrent step runs frame by frame.
//
// Same file, same weights and the same graph as whisper.cpp's (media/vad_test.cpp checks the
// probabilities against whisper.cpp's VAD on the shared speech files). whisper.cpp rounds the
// convolutions' inputs to 16-bit floats; this does not, so a frame's probability differs by up
// to about 0.02, and on the shared speech no frame lands on the other side of the threshold.
//
// Thread-safety: a SileroVad holds the LSTM's state and scratch buffers; one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"

namespace aimara::media {

class SileroVad {
 public:
  static constexpr int kFrameSamples = 512;  // one probability per 32 ms at 16 kHz

  // model_missing if the file cannot be opened; model_invalid if it is not a Silero VAD model of
  // the layout whisper.cpp reads (the message says what is wrong).
  static Result<std::unique_ptr<SileroVad>> load(const std::filesystem::path& path);
  ~SileroVad();
  SileroVad(const SileroVad&) = delete;
  SileroVad& operator=(const SileroVad&) = delete;

  // Clears the LSTM's state (a new stream).
  void reset();

  // Appends the speech probability of each frame of `samples` to `probs`, carrying the LSTM's
  // state across calls; a final partial frame is zero-padded.
  Result<void> probabilities(std::span<const float> samples, std::vector<float>& probs);

  // The network's weights (defined in the .cpp), and the LSTM step it runs on this CPU.
  struct Weights;
  using LstmFn = void (*)(const Weights&, float* gates, int frames, float* h, float* c,
                          std::vector<float>& probs);

 private:
  explicit SileroVad(std::unique_ptr<Weights> weights);

  // out[r][m] = sum_k a[m][k] * x[r][k] for `rows` rows, with ggml's CPU matrix product.
  Result<void> matmul(const std::vector<float>& a, int m, int k, const float* x, int rows,
                      float* out);
  Result<void> block(std::span<const float> samples, int frames, std::vector<float>& probs);

  std::unique_ptr<Weights> w_;
  LstmFn lstm_;               // the recurrence, vectorised for this CPU
  std::vector<float> h_, c_;  // LSTM state
  // Scratch, reused from block to block.
  std::vector<float> cols_, stft_, act_a_, act_b_, gates_;
  std::vector<uint8_t> graph_mem_, work_;
};

}  // namespace aimara::media
