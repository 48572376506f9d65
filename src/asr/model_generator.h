// Deterministic whisper models for tests: the real ggml file layout, weights from a seed.
//
// No real whisper weights exist on the machines that build and test aimara, yet the engine, the
// pipeline and the writers must be tested on real inference. write_test_model() writes a file in
// whisper.cpp's ggml format (magic, hparams, mel filters, vocabulary, then every tensor whisper.cpp
// expects for that size, with the right shapes and f16/f32 types) whose weights come from a fixed
// pseudo-random generator. The same seed gives the same bytes on every run and machine, and
// whisper.cpp then gives the same transcript every run. The text is gibberish made of real-looking
// words; the decoder is shaped so that greedy decoding yields timestamped segments of text rather
// than nothing (see "Decoder shaping" in model_generator.cpp).
//
// Sizes: kTiny and kBase have the real dimensions of whisper tiny/base (the encoder then costs what
// the real model costs); kMicro keeps the real vocabulary, mel bins and audio context (so token ids,
// timestamps and windows work as usual) with a 64-wide, 2-layer network for fast tests.
//
// Thread-safety: free functions without shared state; safe from any thread. Ownership: results are
// plain values; write_test_model() owns the file it writes until it is renamed into place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace aimara::asr {

enum class TestModelDims { kMicro, kTiny, kBase };

// "micro" | "tiny" | "base"
Result<TestModelDims> parse_test_model_dims(std::string_view name);
std::string_view test_model_dims_name(TestModelDims dims);

// The hyper-parameters at the head of a whisper ggml file, in file order.
struct WhisperHparams {
  int32_t n_vocab = 51865;
  int32_t n_audio_ctx = 1500;
  int32_t n_audio_state = 0;
  int32_t n_audio_head = 0;
  int32_t n_audio_layer = 0;
  int32_t n_text_ctx = 448;
  int32_t n_text_state = 0;
  int32_t n_text_head = 0;
  int32_t n_text_layer = 0;
  int32_t n_mels = 80;
  int32_t ftype = 1;  // 0: all f32; 1: matrices f16 (whisper.cpp's own conversion)
};

WhisperHparams hparams_for(TestModelDims dims);

struct TestModelOptions {
  uint64_t seed = 1;
  TestModelDims dims = TestModelDims::kMicro;
};

// Writes the model to `path` (a temporary file beside it, renamed into place when complete).
// io_error when the file cannot be written.
Result<void> write_test_model(const std::filesystem::path& path, const TestModelOptions& options);

// What the header of a whisper ggml file says (the checks whisper.cpp makes before the tensors).
struct WhisperFileInfo {
  WhisperHparams hparams;
  int32_t n_mel_filters = 0;   // rows of the mel filterbank
  int32_t n_fft_bins = 0;      // columns (n_fft / 2 + 1)
  int32_t n_vocab_strings = 0; // token strings stored in the file
  int64_t n_tensors = 0;       // tensors after the vocabulary (0 for an "empty" test model)
};
// model_invalid when the file is not a whisper ggml model; model_missing when it does not exist.
Result<WhisperFileInfo> read_whisper_file_info(const std::filesystem::path& path);

// Slaney-style mel filterbank (librosa's default: Slaney mel scale, area-normalised triangles),
// n_mels rows of n_fft / 2 + 1 weights, row-major: what whisper.cpp reads after the hparams.
std::vector<float> slaney_mel_filters(int n_mels, int n_fft, int sample_rate);

// The 50257 token strings of the test vocabulary: the 256 single bytes, words of English and
// Spanish with and without a leading space, syllables and made-up words, and one empty string
// (id 50256, where the multilingual vocabulary has it). Special tokens (end of text, languages,
// timestamps ...) follow at the ids whisper.cpp assigns; they are not stored in the file.
std::vector<std::string> test_vocabulary();

}  // namespace aimara::asr
