#include "nlp/sequence_decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aimara::nlp {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float log_sum_exp(const float* v, size_t n) {
  float m = kNegInf;
  for (size_t i = 0; i < n; ++i) m = std::max(m, v[i]);
  if (m == kNegInf) return kNegInf;
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += std::exp(v[i] - m);
  return m + std::log(s);
}
}  // namespace

LabelSet::LabelSet(std::vector<std::string> labels) : labels_(std::move(labels)) {
  const size_t L = labels_.size();
  allowed_.assign(L * L, 1);
  allowed_first_.assign(L, 1);
  for (size_t cur = 0; cur < L; ++cur) {
    if (labels_[cur].size() < 2 || labels_[cur][0] != 'I') continue;
    allowed_first_[cur] = 0;
    for (size_t prev = 0; prev < L; ++prev) {
      allowed_[prev * L + cur] = (prev != 0 && type(prev) == type(cur)) ? 1 : 0;
    }
  }
}

int LabelSet::find(std::string_view label) const {
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] == label) return static_cast<int>(i);
  }
  return -1;
}

std::string_view LabelSet::type(size_t i) const {
  const std::string& l = labels_[i];
  if (l.size() < 3) return {};
  return std::string_view(l).substr(2);
}

void viterbi(const LabelSet& labels, const float* em, size_t n, const float* trans,
             const float* start, std::vector<int>& path, std::vector<float>& delta,
             std::vector<int>& back) {
  const size_t L = labels.size();
  path.assign(n, 0);
  if (n == 0) return;
  delta.assign(n * L, kNegInf);
  back.assign(n * L, 0);
  for (size_t c = 0; c < L; ++c) {
    if (labels.allowed_first(c)) delta[c] = start[c] + em[c];
  }
  for (size_t t = 1; t < n; ++t) {
    const float* prev = &delta[(t - 1) * L];
    float* cur = &delta[t * L];
    const float* e = em + t * L;
    for (size_t c = 0; c < L; ++c) {
      float best = kNegInf;
      int arg = 0;
      for (size_t p = 0; p < L; ++p) {
        if (!labels.allowed(p, c)) continue;
        const float s = prev[p] + trans[p * L + c];
        if (s > best) {
          best = s;
          arg = static_cast<int>(p);
        }
      }
      cur[c] = best + e[c];
      back[t * L + c] = arg;
    }
  }
  const float* last = &delta[(n - 1) * L];
  int arg = 0;
  for (size_t c = 1; c < L; ++c) {
    if (last[c] > last[arg]) arg = static_cast<int>(c);
  }
  for (size_t t = n; t-- > 0;) {
    path[t] = arg;
    if (t > 0) arg = back[t * L + static_cast<size_t>(arg)];
  }
}

std::vector<float> path_confidence(const LabelSet& labels, const float* em, size_t n,
                                   const float* trans, const float* start,
                                   const std::vector<int>& path, float temperature) {
  const size_t L = labels.size();
  std::vector<float> out(n, 1.0f);
  if (n == 0) return out;
  const float inv = temperature > 0 ? 1.0f / temperature : 1.0f;
  std::vector<float> alpha(n * L, kNegInf), beta(n * L, kNegInf), tmp(L);
  for (size_t c = 0; c < L; ++c) {
    if (labels.allowed_first(c)) alpha[c] = (start[c] + em[c]) * inv;
  }
  for (size_t t = 1; t < n; ++t) {
    for (size_t c = 0; c < L; ++c) {
      for (size_t p = 0; p < L; ++p) {
        tmp[p] = labels.allowed(p, c) ? alpha[(t - 1) * L + p] + trans[p * L + c] * inv : kNegInf;
      }
      alpha[t * L + c] = log_sum_exp(tmp.data(), L) + em[t * L + c] * inv;
    }
  }
  for (size_t c = 0; c < L; ++c) beta[(n - 1) * L + c] = 0;
  for (size_t t = n - 1; t-- > 0;) {
    for (size_t p = 0; p < L; ++p) {
      for (size_t c = 0; c < L; ++c) {
        tmp[c] = labels.allowed(p, c)
                     ? trans[p * L + c] * inv + em[(t + 1) * L + c] * inv + beta[(t + 1) * L + c]
                     : kNegInf;
      }
      beta[t * L + p] = log_sum_exp(tmp.data(), L);
    }
  }
  const float z = log_sum_exp(&alpha[(n - 1) * L], L);
  for (size_t t = 0; t < n; ++t) {
    const size_t c = static_cast<size_t>(path[t]);
    out[t] = std::exp(alpha[t * L + c] + beta[t * L + c] - z);
  }
  return out;
}

}  // namespace aimara::nlp
