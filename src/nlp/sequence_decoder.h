// Viterbi decoding over IOB2 label sequences, shared by the tagger and the trainer.
//
// Scores are emissions (one row of num_labels per word) plus transition scores between adjacent
// labels and a start score for the first label. Transitions that IOB2 forbids ("I-X" after
// anything but "B-X"/"I-X", or first in a sentence) are never chosen.
//
// Thread-safety: LabelSet is immutable after construction; the functions use caller buffers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace aimara::nlp {

class LabelSet {
 public:
  LabelSet() = default;
  // labels[0] must be "O"; the others "B-X"/"I-X".
  explicit LabelSet(std::vector<std::string> labels);

  size_t size() const { return labels_.size(); }
  const std::string& name(size_t i) const { return labels_[i]; }
  const std::vector<std::string>& names() const { return labels_; }
  // Index of a label, or -1.
  int find(std::string_view label) const;
  bool allowed(size_t prev, size_t cur) const { return allowed_[prev * labels_.size() + cur]; }
  bool allowed_first(size_t cur) const { return allowed_first_[cur]; }
  // The entity type of a label ("PER" for "B-PER"; empty for "O") and whether it begins one.
  std::string_view type(size_t i) const;
  bool is_begin(size_t i) const { return labels_[i][0] == 'B'; }

 private:
  std::vector<std::string> labels_;
  std::vector<char> allowed_;        // [prev * L + cur]
  std::vector<char> allowed_first_;  // [cur]
};

// Best label sequence. emissions: n * L scores; transitions: L * L ([prev * L + cur]); start: L.
// `path` receives n label indices. `scratch` is reused between calls.
void viterbi(const LabelSet& labels, const float* emissions, size_t n, const float* transitions,
             const float* start, std::vector<int>& path, std::vector<float>& scratch,
             std::vector<int>& back);

// Per-word marginal probability of the labels in `path` under a softmax of the scores scaled by
// 1 / temperature (forward-backward over allowed transitions): how sure the model is.
std::vector<float> path_confidence(const LabelSet& labels, const float* emissions, size_t n,
                                   const float* transitions, const float* start,
                                   const std::vector<int>& path, float temperature);

}  // namespace aimara::nlp
