// Training a NerModel: a structured averaged perceptron (Collins 2002) over the features of
// features.h, decoded with Viterbi over IOB2, with a gazetteer built from the training entities,
// in two stages (stacking): stage 1 tags from local features; stage 2 adds stage 1's labels of
// the whole document. Stage 2 is trained on stage-1 labels predicted for each fold of the
// training data by a model that did not see that fold, so it learns how far to trust them.
//
// - Deterministic: the same data and options give the same model, byte for byte (a fixed-seed
//   generator of our own drives shuffling and augmentation; no std::random_device, no threads).
// - Documents are the CoNLL documents cut into pieces of kDocumentSentences (model_data.h), as
//   the tagger cuts texts; folds are made of whole pieces.
// - Gazetteer features on the training data come from the OTHER folds, so the model does not
//   learn to trust a gazetteer that always contains the answer; the model ships the gazetteer of
//   all the training data.
// - Augmentation for transcript text: extra lowercased and uppercased copies of a fraction of the
//   training documents, truecased as the tagger truecases uncased text (word_profiles.h, with the
//   profiles of the other folds), so the model learns from what it will be given.
// - With a dev set, each epoch's averaged weights are scored on it and the best epoch is kept;
//   the dev set also calibrates the confidence temperature.
// - The result is pruned and quantised exactly as it will be saved (model_file.h), so the model
//   returned tags exactly as the file it saves does.
//
// Thread-safety: train_model uses only its arguments; concurrent calls are independent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "nlp/conll.h"
#include "nlp/evaluation.h"
#include "nlp/tagger.h"

namespace aimara::nlp {

struct TrainOptions {
  std::string language;            // recorded in the model ("es", "en"); required
  int epochs = 15;
  uint64_t seed = 20240917;
  double lowercase_fraction = 0.15;  // share of documents added again in lowercase
  double uppercase_fraction = 0.03;  // ... and in uppercase
  bool gazetteer = true;
  bool word_profiles = true;       // casing profiles of the training words (word_profiles.h)
  bool stacking = true;            // train the second stage
  size_t folds = 5;                // for gazetteer features and stage-1 labels of the training data
  size_t min_feature_count = 1;    // stage-1 features seen fewer times in training are dropped
  float prune_below = 0.02f;       // model_file.h: drop rows below this share of the largest weight
  std::string description;         // how it was trained (stored in the model)
};

struct EpochReport {
  std::string phase;               // "stage 1", "fold 2/5" (stage-1 labels for stacking), "stage 2"
  int epoch = 0;                   // 1-based
  double seconds = 0;
  size_t sentences_wrong = 0;      // training sentences whose prediction needed an update
  size_t sentences = 0;
  std::optional<EvalReport> dev;   // when a dev set was given
};

using EpochCallback = std::function<void(const EpochReport&)>;

// Errors: kInvalidArgument (no training sentences, no language, too many entity types).
Result<std::unique_ptr<NerModel>> train_model(const std::vector<ConllSentence>& train,
                                              const std::vector<ConllSentence>& dev,
                                              const TrainOptions& options,
                                              const EpochCallback& on_epoch = {});

}  // namespace aimara::nlp
