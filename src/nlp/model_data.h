// What a trained tagger is made of: its label set, one or two stages of weights (each an
// open-addressing table from feature key to one score per label, plus label transition scores;
// the second stage re-tags a document using the first stage's labels, features.h), the gazetteer
// and word casing profiles it uses as features, and a note on how it was trained. NerModel (tagger.h) wraps one; the
// trainer (trainer.h) builds one; model_file.h reads and writes it.
//
// Thread-safety: immutable once built; const members are safe from many threads.
// Ownership: owns everything it holds.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "nlp/entity_gazetteer.h"
#include "nlp/features.h"
#include "nlp/sequence_decoder.h"

namespace aimara::nlp {

// Feature key -> num_labels floats. Linear probing over a power-of-two table; key 0 is the empty
// slot marker (a key that hashes to 0 is stored as 1, consistently on insert and lookup).
class WeightTable {
 public:
  explicit WeightTable(size_t num_labels = 0) : num_labels_(num_labels) {}

  void reserve(size_t rows);
  // The row of `key`, created zeroed if absent. Invalidates pointers from earlier calls.
  float* insert(uint64_t key);
  // The row of `key`, or nullptr.
  const float* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    if (key == 0) key = 1;
    size_t i = static_cast<size_t>(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return &rows_[static_cast<size_t>(s.row) * num_labels_];
      if (s.key == 0) return nullptr;
      i = (i + 1) & mask_;
    }
  }

  size_t size() const { return count_; }
  size_t num_labels() const { return num_labels_; }

  // Calls f(key, const float* row) for every row, in no particular order.
  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.key != 0) f(s.key, &rows_[static_cast<size_t>(s.row) * num_labels_]);
    }
  }

 private:
  struct Slot {
    uint64_t key = 0;
    uint32_t row = 0;
  };
  void grow();

  size_t num_labels_ = 0;
  size_t count_ = 0;
  size_t mask_ = 0;
  std::vector<Slot> slots_;
  std::vector<float> rows_;
};

struct ModelStage {
  std::vector<float> transitions;     // L * L, [prev * L + cur]
  std::vector<float> start;           // L
  WeightTable weights;
  float scale = 0;  // the weights are int16 multiples of this (as read from a file); 0: any float
};

// Sentences of a text tagged together as one document (the stage-2 context); training uses the
// same size, so evaluation and transcripts see what the model was trained on.
inline constexpr size_t kDocumentSentences = 100;

struct ModelData {
  std::string language;               // "es", "en"
  LabelSet labels;                    // labels.name(0) == "O"
  uint32_t feature_set = kFeatureSetVersion;
  float temperature = 1.0f;           // softmax temperature for span confidence (last stage)
  std::vector<ModelStage> stages;     // 1 or 2
  EntityGazetteer gazetteer;
  std::unordered_map<uint64_t, uint32_t> word_profiles;  // word_key -> profile (word_profiles.h)
  std::string description;            // how it was trained, free text

  FeatureResources resources() const {
    return FeatureResources{gazetteer.empty() ? nullptr : &gazetteer,
                            word_profiles.empty() ? nullptr : &word_profiles};
  }
};

}  // namespace aimara::nlp
