#include "asr/log_mel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <random>

#include "asr/model_generator.h"
#include "asr/whisper_engine.h"
#include "core/fs.h"
#include "media/decoder.h"

namespace aimara::asr {
namespace {

namespace fs = std::filesystem;

// whisper.cpp's spectrogram written out plainly: a direct DFT of each padded, windowed frame,
// the dense filterbank, log10, clamping to max - 8, scaling.
MelSpectrogram reference(std::span<const float> s, int n_mel, const std::vector<float>& filters) {
  constexpr int kN = 400, kStep = 160, kBins = 201, kPad = 200;
  const auto n = static_cast<int64_t>(s.size());
  std::vector<double> padded(static_cast<size_t>(n + 480'000 + 2 * kPad), 0.0);
  for (int64_t i = 0; i < n; ++i) padded[static_cast<size_t>(i + kPad)] = s[static_cast<size_t>(i)];
  for (int i = 0; i < kPad; ++i) padded[static_cast<size_t>(i)] = s[static_cast<size_t>(kPad - i)];
  MelSpectrogram m;
  m.n_mel = n_mel;
  m.n_len = static_cast<int>((padded.size() - kN) / kStep);
  m.n_len_org = static_cast<int>(1 + (n + kPad - kN) / kStep);
  m.data.assign(static_cast<size_t>(n_mel * m.n_len), 0.0f);
  const int64_t readable = n + kPad;
  std::vector<double> power(kBins);
  double mmax = -1e20;
  for (int i = 0; i < m.n_len; ++i) {
    const int64_t offset = static_cast<int64_t>(i) * kStep;
    for (int k = 0; k < kBins; ++k) {
      double re = 0, im = 0;
      if (offset < readable) {
        for (int j = 0; j < kN && offset + j < readable; ++j) {
          const double w = 0.5 * (1.0 - std::cos(2.0 * std::numbers::pi * j / kN));
          const double x = w * padded[static_cast<size_t>(offset + j)];
          re += x * std::cos(2.0 * std::numbers::pi * k * j / kN);
          im -= x * std::sin(2.0 * std::numbers::pi * k * j / kN);
        }
      }
      power[static_cast<size_t>(k)] = re * re + im * im;
    }
    for (int b = 0; b < n_mel; ++b) {
      double sum = 0;
      for (int k = 0; k < kBins; ++k) {
        sum += power[static_cast<size_t>(k)] * filters[static_cast<size_t>(b * kBins + k)];
      }
      const double v = std::log10(std::max(sum, 1e-10));
      m.data[static_cast<size_t>(b * m.n_len + i)] = static_cast<float>(v);
      mmax = std::max(mmax, v);
    }
  }
  for (float& v : m.data) v = static_cast<float>((std::max<double>(v, mmax - 8.0) + 4.0) / 4.0);
  return m;
}

std::vector<float> test_signal(size_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  std::vector<float> s(n);
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / 16'000.0;
    s[i] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 220 * t) *
                                  (0.5 + 0.5 * std::sin(2 * std::numbers::pi * 3 * t)) +
                              0.1 * std::sin(2 * std::numbers::pi * 1'870 * t)) +
           noise(rng);
  }
  return s;
}

TEST(LogMel, EqualsADirectTransformOfWhisperPadding) {
  const std::vector<float> filters = slaney_mel_filters(80, 400, 16'000);
  const LogMel mel(80, filters);
  for (size_t n : {size_t{1'600}, size_t{16'000 * 2 + 123}}) {
    SCOPED_TRACE(n);
    const std::vector<float> s = test_signal(n);
    MelSpectrogram fast;
    mel.compute(s, fast);
    const MelSpectrogram want = reference(s, 80, filters);
    ASSERT_EQ(fast.n_len, want.n_len);
    ASSERT_EQ(fast.n_len_org, want.n_len_org);
    ASSERT_EQ(fast.data.size(), want.data.size());
    float worst = 0;
    for (size_t i = 0; i < want.data.size(); ++i) {
      worst = std::max(worst, std::abs(fast.data[i] - want.data[i]));
    }
    EXPECT_LT(worst, 1e-4f);
  }
}

TEST(LogMel, ReadsTheFilterbankOfAModelFile) {
  auto dir = TempDir::create("aimara-log-mel");
  ASSERT_TRUE(dir.has_value());
  const fs::path model = dir->path() / "micro.bin";
  ASSERT_TRUE(write_test_model(model, {}).has_value());
  auto mel = LogMel::from_model_file(model);
  ASSERT_TRUE(mel.has_value()) << mel.error().to_string();
  EXPECT_EQ(mel->n_mel(), 80);

  const fs::path junk = dir->path() / "junk.bin";
  std::ofstream(junk) << "not a model";
  auto bad = LogMel::from_model_file(junk);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kModelInvalid);
  EXPECT_FALSE(LogMel::from_model_file(dir->path() / "absent.bin").has_value());
}

// The engine gives the same transcript whichever computes the spectrogram.
TEST(LogMel, WhisperTranscribesTheSameFromEitherSpectrogram) {
  const fs::path speech = fs::path(AIMARA_SHARED_DIR) / "media/jfk.wav";
  ASSERT_TRUE(fs::exists(speech)) << "missing " << speech << " (../shared, see its README.md)";
  auto decoder = media::AudioDecoder::open(speech);
  ASSERT_TRUE(decoder.has_value()) << decoder.error().to_string();
  std::vector<float> pcm;
  while (true) {
    auto got = (*decoder)->read(pcm, 16'000);
    ASSERT_TRUE(got.has_value());
    if (*got == 0) break;
  }
  auto dir = TempDir::create("aimara-log-mel");
  ASSERT_TRUE(dir.has_value());
  const fs::path model_path = dir->path() / "micro.bin";
  ASSERT_TRUE(write_test_model(model_path, {}).has_value());

  std::vector<std::vector<Segment>> results;
  for (bool fast : {true, false}) {
    EngineOptions eo;
    eo.model_path = model_path;
    eo.device = Device::kCpu;
    eo.fast_mel = fast;
    auto model = WhisperModel::load(eo);
    ASSERT_TRUE(model.has_value()) << model.error().to_string();
    EXPECT_EQ((*model)->log_mel() != nullptr, fast);
    auto worker = (*model)->new_worker();
    ASSERT_TRUE(worker.has_value());
    TranscribeOptions to;
    to.language = "en";
    auto segs = (*worker)->transcribe(pcm, TimeMap(5'000, 5'000 + 11'000), to);
    ASSERT_TRUE(segs.has_value()) << segs.error().to_string();
    results.push_back(*segs);
  }
  ASSERT_FALSE(results[0].empty()) << "the test model speaks on any audio";
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i) {
    EXPECT_EQ(results[0][i].text, results[1][i].text);
    EXPECT_EQ(results[0][i].start_ms, results[1][i].start_ms);
    EXPECT_EQ(results[0][i].end_ms, results[1][i].end_ms);
    EXPECT_GE(results[0][i].start_ms, 5'000);
  }
}

}  // namespace
}  // namespace aimara::asr
