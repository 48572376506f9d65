#include "media/silero_vad.h"

#include <fmt/format.h>
#include <ggml-cpu.h>
#include <ggml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace aimara::media {

namespace {

// The network whisper.cpp's VAD graph implements (and the only layout it reads): a 256-point
// STFT with hop 128 over each reflection-padded 512-sample frame (4 steps of 129 magnitudes),
// four 3-tap convolutions with ReLU, an LSTM cell, and a 1x1 convolution with a sigmoid.
constexpr int kPad = 64;  // reflection padding on each side of a frame
constexpr int kPadded = SileroVad::kFrameSamples + 2 * kPad;
constexpr int kFilter = 256;
constexpr int kHop = 128;
constexpr int kSteps = (kPadded - kFilter) / kHop + 1;  // 4
constexpr int kBasisRows = 258;                          // real and imaginary parts
constexpr int kBins = kBasisRows / 2;                    // 129
constexpr int kBasisStored = 260;  // rows padded with zeros to a multiple of 4 (see kAlign)
constexpr int kHidden = 128;
constexpr int kGates = 4 * kHidden;
constexpr int kTaps = 3;
constexpr int kMaxBlock = 256;  // frames computed together (8 s)

// ggml's fast matrix kernels need the inner dimension to be a multiple of the vector width and
// the number of weight rows to be a multiple of 4: rows of weights and inputs are zero-padded to
// a multiple of kAlign, and the STFT basis gets two rows of zeros.
constexpr int kAlign = 16;
int padded_width(int n) { return (n + kAlign - 1) / kAlign * kAlign; }

struct ConvLayer {
  int in = 0, out = 0, stride = 1;
  int width = 0;              // in * kTaps, padded to kAlign
  std::vector<float> weight;  // out rows of `width`, in the file's (channel, tap) order
  std::vector<float> bias;
};
constexpr std::array<std::array<int, 3>, 4> kLayers = {{
    {kBins, 128, 1},  // in, out, stride
    {128, 64, 2},
    {64, 64, 2},
    {64, kHidden, 1},
}};

// Bounds-checked reading of the model file's little-endian fields.
class Reader {
 public:
  explicit Reader(std::vector<char> data) : data_(std::move(data)) {}
  bool done() const { return pos_ >= data_.size(); }
  bool i32(int32_t& v) { return bytes(&v, sizeof v); }
  bool bytes(void* out, size_t n) {
    if (data_.size() - pos_ < n) return false;
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::vector<char> data_;
  size_t pos_ = 0;
};

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// tanh through exp, which is several times cheaper than std::tanh here; within about 1e-7.
float fast_tanh(float x) { return 2.0f / (1.0f + std::exp(-2.0f * x)) - 1.0f; }

// frames * out_len rows of `width` (>= channels * kTaps, zero-padded): the inputs each output
// step of a 3-tap, 1-padded convolution reads, per frame (`in`: frames * in_len rows of
// `channels`).
void im2col(const float* in, int frames, int in_len, int channels, int stride, int out_len,
            int width, float* cols) {
  for (int f = 0; f < frames; ++f) {
    for (int t = 0; t < out_len; ++t) {
      float* row = cols + (static_cast<size_t>(f) * out_len + t) * width;
      for (int k = 0; k < kTaps; ++k) {
        const int src = t * stride + k - 1;
        const float* x = src >= 0 && src < in_len
                             ? in + (static_cast<size_t>(f) * in_len + src) * channels
                             : nullptr;
        for (int i = 0; i < channels; ++i) row[i * kTaps + k] = x ? x[i] : 0.0f;
      }
      std::fill(row + channels * kTaps, row + width, 0.0f);
    }
  }
}

void add_bias_relu(float* x, size_t rows, const std::vector<float>& bias) {
  const size_t n = bias.size();
  for (size_t r = 0; r < rows; ++r) {
    float* row = x + r * n;
    for (size_t i = 0; i < n; ++i) row[i] = std::max(0.0f, row[i] + bias[i]);
  }
}

}  // namespace

struct SileroVad::Weights {
  std::vector<float> basis;  // kBasisStored rows of kFilter
  std::array<ConvLayer, 4> conv;
  std::vector<float> w_ih;        // kGates rows of kHidden
  std::vector<float> w_hh_t;      // transposed: kHidden rows of kGates
  std::vector<float> gate_bias;   // b_ih + b_hh
  std::vector<float> out_weight;  // kHidden
  float out_bias = 0.0f;
};

namespace {

// The LSTM's recurrence and the output layer, frame by frame. `gates`: each frame's input
// projection (kGates values), overwritten. The matrix-vector product is written as column updates
// of blocks of outputs so that it vectorises; x86 also gets an AVX2+FMA copy (below).
[[gnu::always_inline]] inline void lstm_steps(const SileroVad::Weights& w, float* gates,
                                              int frames, float* h, float* c,
                                              std::vector<float>& probs) {
  for (int f = 0; f < frames; ++f) {
    float* g = gates + static_cast<size_t>(f) * kGates;
    for (int j = 0; j < kGates; ++j) g[j] += w.gate_bias[j];
    // W_hh h, a block of kLanes outputs at a time so that they stay in registers.
    constexpr int kLanes = 32;
    for (int jb = 0; jb < kGates; jb += kLanes) {
      float acc[kLanes];
      std::copy_n(g + jb, kLanes, acc);
      const float* col = w.w_hh_t.data() + jb;
      for (int k = 0; k < kHidden; ++k, col += kGates) {
        const float hk = h[k];
        for (int j = 0; j < kLanes; ++j) acc[j] += col[j] * hk;
      }
      std::copy_n(acc, kLanes, g + jb);
    }
    float z = w.out_bias;
    for (int j = 0; j < kHidden; ++j) {
      const float i_t = sigmoid(g[j]);
      const float f_t = sigmoid(g[kHidden + j]);
      const float g_t = fast_tanh(g[2 * kHidden + j]);
      const float o_t = sigmoid(g[3 * kHidden + j]);
      c[j] = f_t * c[j] + i_t * g_t;
      h[j] = o_t * fast_tanh(c[j]);
      z += w.out_weight[j] * std::max(0.0f, h[j]);
    }
    probs.push_back(sigmoid(z));
  }
}

void lstm_generic(const SileroVad::Weights& w, float* gates, int frames, float* h, float* c,
                  std::vector<float>& probs) {
  lstm_steps(w, gates, frames, h, c, probs);
}

#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target("avx2,fma")]] void lstm_avx2(const SileroVad::Weights& w, float* gates, int frames,
                                          float* h, float* c, std::vector<float>& probs) {
  lstm_steps(w, gates, frames, h, c, probs);
}
#endif

SileroVad::LstmFn pick_lstm() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return lstm_avx2;
#endif
  return lstm_generic;
}

}  // namespace

Result<std::unique_ptr<SileroVad>> SileroVad::load(const std::filesystem::path& path) {
  const auto invalid = [&](const std::string& why) {
    return make_error(ErrorCode::kModelInvalid,
                      fmt::format("'{}' is not a Silero VAD model in ggml format: {}",
                                  path.string(), why));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kModelMissing,
                      fmt::format("cannot open VAD model '{}'", path.string()));
  }
  constexpr std::streamoff kMaxSize = 64 << 20;  // the real model is under 1 MB
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || size > kMaxSize) return invalid("unexpected file size");
  in.seekg(0);
  std::vector<char> data(static_cast<size_t>(size));
  if (!in.read(data.data(), size)) return invalid("read failed");
  Reader r(std::move(data));

  int32_t magic = 0, type_len = 0;
  if (!r.i32(magic) || static_cast<uint32_t>(magic) != 0x67676d6cu) return invalid("bad magic");
  if (!r.i32(type_len) || type_len <= 0 || type_len > 256) return invalid("bad header");
  std::string type(static_cast<size_t>(type_len), '\0');
  if (!r.bytes(type.data(), type.size())) return invalid("truncated header");
  if (type.rfind("silero", 0) != 0) return invalid(fmt::format("model type '{}'", type));
  std::array<int32_t, 5> head{};  // version major, minor, patch; window; context
  for (int32_t& v : head) {
    if (!r.i32(v)) return invalid("truncated header");
  }
  if (head[3] != kFrameSamples) return invalid(fmt::format("window of {} samples", head[3]));
  int32_t n_layers = 0;
  if (!r.i32(n_layers) || n_layers != static_cast<int32_t>(kLayers.size())) {
    return invalid("unexpected number of encoder layers");
  }
  auto w = std::make_unique<Weights>();
  for (size_t i = 0; i < kLayers.size(); ++i) {
    std::array<int32_t, 3> dims{};  // in, out, kernel
    for (int32_t& v : dims) {
      if (!r.i32(v)) return invalid("truncated header");
    }
    if (dims[0] != kLayers[i][0] || dims[1] != kLayers[i][1] || dims[2] != kTaps) {
      return invalid(fmt::format("encoder layer {} is {}x{}x{}", i, dims[0], dims[1], dims[2]));
    }
    w->conv[i].in = kLayers[i][0];
    w->conv[i].out = kLayers[i][1];
    w->conv[i].stride = kLayers[i][2];
  }
  std::array<int32_t, 4> lstm{};  // input, hidden, final in, final out
  for (int32_t& v : lstm) {
    if (!r.i32(v)) return invalid("truncated header");
  }
  if (lstm != std::array<int32_t, 4>{kHop, kHidden, kHidden, 1}) {
    return invalid("unexpected LSTM or output sizes");
  }

  // Tensors: n_dims, name length, type (0 f32, 1 f16), dims, name, data.
  std::map<std::string, std::vector<float>> tensors;
  while (!r.done()) {
    int32_t n_dims = 0, name_len = 0, ttype = 0;
    if (!r.i32(n_dims) || !r.i32(name_len) || !r.i32(ttype)) return invalid("truncated tensor");
    if (n_dims < 0 || n_dims > 4 || name_len <= 0 || name_len > 256 || (ttype != 0 && ttype != 1)) {
      return invalid("bad tensor header");
    }
    int64_t count = 1;
    for (int d = 0; d < n_dims; ++d) {
      int32_t ne = 0;
      if (!r.i32(ne) || ne <= 0 || ne > (1 << 20)) return invalid("bad tensor shape");
      count *= ne;
    }
    if (count > (1 << 22)) return invalid("tensor too large");
    std::string name(static_cast<size_t>(name_len), '\0');
    if (!r.bytes(name.data(), name.size())) return invalid("truncated tensor");
    std::vector<float> values(static_cast<size_t>(count));
    if (ttype == 0) {
      if (!r.bytes(values.data(), values.size() * sizeof(float))) return invalid("truncated data");
    } else {
      std::vector<ggml_fp16_t> half(values.size());
      if (!r.bytes(half.data(), half.size() * sizeof(ggml_fp16_t))) {
        return invalid("truncated data");
      }
      ggml_fp16_to_fp32_row(half.data(), values.data(), count);
    }
    tensors[name] = std::move(values);
  }
  std::string missing;
  const auto take = [&](const std::string& name, size_t count) {
    auto it = tensors.find(name);
    if (it == tensors.end() || it->second.size() != count) {
      missing = name;
      return std::vector<float>{};
    }
    return std::move(it->second);
  };
  w->basis = take("_model.stft.forward_basis_buffer", size_t{kBasisRows} * kFilter);
  w->basis.resize(size_t{kBasisStored} * kFilter, 0.0f);
  for (size_t i = 0; i < w->conv.size(); ++i) {
    ConvLayer& c = w->conv[i];
    const std::string base = fmt::format("_model.encoder.{}.reparam_conv.", i);
    const std::vector<float> weight = take(base + "weight", static_cast<size_t>(c.out) * c.in * kTaps);
    c.width = padded_width(c.in * kTaps);
    if (!weight.empty()) {
      c.weight.assign(static_cast<size_t>(c.out) * c.width, 0.0f);
      for (int o = 0; o < c.out; ++o) {
        std::copy_n(weight.data() + static_cast<size_t>(o) * c.in * kTaps, c.in * kTaps,
                    c.weight.data() + static_cast<size_t>(o) * c.width);
      }
    }
    c.bias = take(base + "bias", static_cast<size_t>(c.out));
  }
  w->w_ih = take("_model.decoder.rnn.weight_ih", size_t{kGates} * kHidden);
  const std::vector<float> w_hh = take("_model.decoder.rnn.weight_hh", size_t{kGates} * kHidden);
  const std::vector<float> b_ih = take("_model.decoder.rnn.bias_ih", kGates);
  const std::vector<float> b_hh = take("_model.decoder.rnn.bias_hh", kGates);
  w->out_weight = take("_model.decoder.decoder.2.weight", kHidden);
  const std::vector<float> out_bias = take("_model.decoder.decoder.2.bias", 1);
  if (!missing.empty()) return invalid(fmt::format("tensor '{}' missing or misshapen", missing));

  w->w_hh_t.resize(w_hh.size());
  for (int g = 0; g < kGates; ++g) {
    for (int k = 0; k < kHidden; ++k) {
      w->w_hh_t[static_cast<size_t>(k) * kGates + g] = w_hh[static_cast<size_t>(g) * kHidden + k];
    }
  }
  w->gate_bias.resize(kGates);
  for (int g = 0; g < kGates; ++g) w->gate_bias[g] = b_ih[g] + b_hh[g];
  w->out_bias = out_bias[0];
  return std::unique_ptr<SileroVad>(new SileroVad(std::move(w)));
}

SileroVad::SileroVad(std::unique_ptr<Weights> weights)
    : w_(std::move(weights)),
      lstm_(pick_lstm()),
      h_(kHidden, 0.0f),
      c_(kHidden, 0.0f),
      graph_mem_(4 * ggml_tensor_overhead() + ggml_graph_overhead_custom(4, false) + 1024) {}

SileroVad::~SileroVad() = default;

void SileroVad::reset() {
  std::fill(h_.begin(), h_.end(), 0.0f);
  std::fill(c_.begin(), c_.end(), 0.0f);
}

Result<void> SileroVad::matmul(const std::vector<float>& a, int m, int k, const float* x,
                               int rows, float* out) {
  ggml_init_params params{graph_mem_.size(), graph_mem_.data(), /*no_alloc=*/true};
  ggml_context* ctx = ggml_init(params);
  if (!ctx) return make_error(ErrorCode::kInternal, "VAD: ggml_init failed");
  ggml_tensor* ta = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, m);
  ta->data = const_cast<float*>(a.data());
  ggml_tensor* tx = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, rows);
  tx->data = const_cast<float*>(x);
  ggml_tensor* product = ggml_mul_mat(ctx, ta, tx);  // rows of m
  product->data = out;
  ggml_cgraph* graph = ggml_new_graph_custom(ctx, 4, false);
  ggml_build_forward_expand(graph, product);
  ggml_cplan plan = ggml_graph_plan(graph, 1, nullptr);
  if (work_.size() < plan.work_size) work_.resize(plan.work_size);
  plan.work_data = work_.data();
  const ggml_status status = ggml_graph_compute(graph, &plan);
  ggml_free(ctx);
  if (status != GGML_STATUS_SUCCESS) {
    return make_error(ErrorCode::kInternal, "VAD: matrix product failed");
  }
  return {};
}

Result<void> SileroVad::probabilities(std::span<const float> samples, std::vector<float>& probs) {
  while (!samples.empty()) {
    const size_t take = std::min(samples.size(), size_t{kMaxBlock} * kFrameSamples);
    const int frames = static_cast<int>((take + kFrameSamples - 1) / kFrameSamples);
    if (auto r = block(samples.first(take), frames, probs); !r) return r;
    samples = samples.subspan(take);
  }
  return {};
}

Result<void> SileroVad::block(std::span<const float> samples, int frames,
                              std::vector<float>& probs) {
  const Weights& w = *w_;
  const size_t steps = static_cast<size_t>(frames) * kSteps;

  // STFT: each frame padded by reflection, then kSteps windows of kFilter samples.
  std::array<float, kPadded> padded{};
  cols_.resize(steps * kFilter);
  for (int f = 0; f < frames; ++f) {
    const size_t first = static_cast<size_t>(f) * kFrameSamples;
    const size_t n = std::min<size_t>(kFrameSamples, samples.size() - first);
    float* body = padded.data() + kPad;
    std::copy_n(samples.data() + first, n, body);
    std::fill(body + n, body + kFrameSamples, 0.0f);
    for (int i = 1; i <= kPad; ++i) {
      body[-i] = body[i];
      body[kFrameSamples - 1 + i] = body[kFrameSamples - 1 - i];
    }
    for (int t = 0; t < kSteps; ++t) {
      std::copy_n(padded.data() + t * kHop, kFilter,
                  cols_.data() + (static_cast<size_t>(f) * kSteps + t) * kFilter);
    }
  }
  stft_.resize(steps * kBasisStored);
  if (auto r = matmul(w.basis, kBasisStored, kFilter, cols_.data(), static_cast<int>(steps),
                      stft_.data());
      !r) {
    return r;
  }
  act_a_.resize(steps * kBins);
  for (size_t s = 0; s < steps; ++s) {
    const float* re = stft_.data() + s * kBasisStored;
    const float* im = re + kBins;
    float* mag = act_a_.data() + s * kBins;
    for (int b = 0; b < kBins; ++b) mag[b] = std::sqrt(re[b] * re[b] + im[b] * im[b]);
  }

  // The convolutions, alternating between the two activation buffers.
  std::vector<float>* in = &act_a_;
  std::vector<float>* out = &act_b_;
  int len = kSteps;
  for (const ConvLayer& c : w.conv) {
    const int out_len = (len + 2 - kTaps) / c.stride + 1;
    const size_t rows = static_cast<size_t>(frames) * out_len;
    cols_.resize(std::max(cols_.size(), rows * c.width));
    im2col(in->data(), frames, len, c.in, c.stride, out_len, c.width, cols_.data());
    out->resize(rows * c.out);
    if (auto r = matmul(c.weight, c.out, c.width, cols_.data(), static_cast<int>(rows),
                        out->data());
        !r) {
      return r;
    }
    add_bias_relu(out->data(), rows, c.bias);
    std::swap(in, out);
    len = out_len;
  }  // *in: one row of kHidden per frame (len == 1)

  // The LSTM: the input projection for all frames at once, then the recurrence frame by frame.
  gates_.resize(static_cast<size_t>(frames) * kGates);
  if (auto r = matmul(w.w_ih, kGates, kHidden, in->data(), frames, gates_.data()); !r) return r;
  lstm_(w, gates_.data(), frames, h_.data(), c_.data(), probs);
  return {};
}

}  // namespace aimara::media
