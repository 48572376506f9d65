#include "asr/log_mel.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>

namespace aimara::asr {

namespace {

using Complex = std::complex<float>;

constexpr int kN = LogMel::kFrameSize;
constexpr int kFactors[] = {4, 4, 5, 5, 1};  // 400 = 4 * 4 * 5 * 5
constexpr int kPad = kN / 2;                  // reflective padding before the audio
constexpr int kTailSamples = 16'000 * 30;     // whisper appends 30 s of zeros

// Plain complex product (std::complex's operator* guards NaN cases through a slow call).
inline Complex mul(Complex a, Complex b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// Mixed-radix decimation in time: out[0, n) is the DFT of in[0], in[stride], ... (n values).
void dft(const Complex* in, int stride, int n, const int* factor, Complex* out,
         const Complex* twiddles) {
  if (n == 1) {
    out[0] = in[0];
    return;
  }
  const int p = *factor;
  const int m = n / p;
  for (int q = 0; q < p; ++q) dft(in + q * stride, stride * p, m, factor + 1, out + q * m, twiddles);
  const int tw_step = kN / n;
  Complex v[5];
  for (int k = 0; k < m; ++k) {
    for (int q = 0; q < p; ++q) v[q] = out[q * m + k];
    for (int r = 0; r < p; ++r) {
      const int index = k + r * m;
      const int step = (index * tw_step) % kN;
      Complex sum = v[0];
      int t = step;
      for (int q = 1; q < p; ++q) {
        sum += mul(v[q], twiddles[t]);
        t += step;
        if (t >= kN) t -= kN;
      }
      out[index] = sum;
    }
  }
}

}  // namespace

LogMel::LogMel(int n_mel, std::vector<float> filters)
    : n_mel_(n_mel), filters_(std::move(filters)) {
  band_first_.resize(static_cast<size_t>(n_mel_));
  band_last_.resize(static_cast<size_t>(n_mel_));
  for (int j = 0; j < n_mel_; ++j) {
    const float* row = filters_.data() + static_cast<size_t>(j) * kBins;
    int first = 0;
    int last = -1;
    for (int k = 0; k < kBins; ++k) {
      if (row[k] != 0.0f) {
        if (last < 0) first = k;
        last = k;
      }
    }
    band_first_[static_cast<size_t>(j)] = first;
    band_last_[static_cast<size_t>(j)] = last;
  }
  hann_.resize(kN);
  for (int i = 0; i < kN; ++i) {  // periodic, as whisper.cpp's
    hann_[static_cast<size_t>(i)] =
        static_cast<float>(0.5 * (1.0 - std::cos((2.0 * std::numbers::pi * i) / kN)));
  }
  twiddles_.resize(kN);
  for (int i = 0; i < kN; ++i) {
    const double theta = 2.0 * std::numbers::pi * i / kN;
    twiddles_[static_cast<size_t>(i)] =
        Complex(static_cast<float>(std::cos(theta)), static_cast<float>(-std::sin(theta)));
  }
}

Result<LogMel> LogMel::from_model_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kModelMissing, "cannot open '" + path.string() + "'");
  uint32_t magic = 0;
  int32_t head[13] = {};  // 11 hparams, then the filterbank's rows and columns
  in.read(reinterpret_cast<char*>(&magic), sizeof(magic));
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  const int32_t n_mel = head[11];
  const int32_t n_fft = head[12];
  if (!in || magic != 0x67676d6c || n_fft != kBins || n_mel <= 0 || n_mel > 512) {
    return make_error(ErrorCode::kModelInvalid,
                      "'" + path.string() + "' has no whisper mel filterbank");
  }
  std::vector<float> filters(static_cast<size_t>(n_mel) * kBins);
  in.read(reinterpret_cast<char*>(filters.data()),
          static_cast<std::streamsize>(filters.size() * sizeof(float)));
  if (!in) return make_error(ErrorCode::kModelInvalid, "'" + path.string() + "' is truncated");
  return LogMel(n_mel, std::move(filters));
}

void LogMel::compute(std::span<const float> samples, MelSpectrogram& out) const {
  const auto n = static_cast<int64_t>(samples.size());
  out.n_mel = n_mel_;
  out.n_len = static_cast<int>((n + kTailSamples) / kFrameStep);
  out.n_len_org = static_cast<int>(1 + (n + kPad - kN) / kFrameStep);
  out.data.assign(static_cast<size_t>(n_mel_) * static_cast<size_t>(out.n_len), 0.0f);

  // The audio as whisper pads it: kPad samples reflected before it, zeros after it.
  auto padded = [&](int64_t i) -> float {
    if (i < kPad) return (kPad - i <= n - 1) ? samples[static_cast<size_t>(kPad - i)] : 0.0f;
    i -= kPad;
    return i < n ? samples[static_cast<size_t>(i)] : 0.0f;
  };
  const int64_t n_audio = n + kPad;  // frames read at most this many padded samples
  const int frames = static_cast<int>(std::min<int64_t>(n_audio / kFrameStep + 1, out.n_len));
  Complex frame[kN];
  Complex spectrum[kN];
  float power[kBins];
  double mmax = -1e20;
  for (int i = 0; i < frames; ++i) {
    const int64_t offset = static_cast<int64_t>(i) * kFrameStep;
    for (int j = 0; j < kN; ++j) {
      const float x = offset + j < n_audio ? padded(offset + j) : 0.0f;
      frame[j] = Complex(hann_[static_cast<size_t>(j)] * x, 0.0f);
    }
    dft(frame, 1, kN, kFactors, spectrum, twiddles_.data());
    for (int k = 0; k < kBins; ++k) {
      power[k] = spectrum[k].real() * spectrum[k].real() + spectrum[k].imag() * spectrum[k].imag();
    }
    for (int j = 0; j < n_mel_; ++j) {
      const float* row = filters_.data() + static_cast<size_t>(j) * kBins;
      double sum = 0.0;
      for (int k = band_first_[static_cast<size_t>(j)]; k <= band_last_[static_cast<size_t>(j)];
           ++k) {
        sum += power[k] * row[k];
      }
      const auto v = static_cast<float>(std::log10(std::max(sum, 1e-10)));
      out.data[static_cast<size_t>(j) * static_cast<size_t>(out.n_len) + static_cast<size_t>(i)] = v;
      mmax = std::max(mmax, static_cast<double>(v));
    }
  }
  // Frames past the audio hold nothing: log10(1e-10).
  if (frames < out.n_len) mmax = std::max(mmax, -10.0);
  for (int j = 0; j < n_mel_; ++j) {
    float* row = out.data.data() + static_cast<size_t>(j) * static_cast<size_t>(out.n_len);
    std::fill(row + frames, row + out.n_len, -10.0f);
  }
  const double floor = mmax - 8.0;
  for (float& v : out.data) {
    const double clamped = std::max(static_cast<double>(v), floor);
    v = static_cast<float>((clamped + 4.0) / 4.0);
  }
}

}  // namespace aimara::asr
