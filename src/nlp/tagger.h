// The statistical named-entity tagger: PER, ORG, LOC and MISC in one language.
//
// A NerModel is an averaged-perceptron sequence model over IOB2 tags (feature-hashed weights,
// decoded with Viterbi over valid transitions), trained by aimara's own trainer (nlp/trainer.h)
// on CoNLL data and stored as a compact binary file (magic "AIMNER", a format version, the
// language, int16-quantised weights). It tags in two stages: the second re-tags each document
// (up to kDocumentSentences sentences at a time) knowing the first stage's labels of the whole
// document, so a name is typed consistently across it. A document without casing (all lowercase
// or all capitals, as some transcripts are) is first truecased from the word profiles the model
// was trained with (word_profiles.h). The shipped models are ner-<lang>.bin ("ner-es.bin",
// "ner-en.bin") in one of core/paths.h shipped_models_dirs(); find_shipped_model() finds them.
//
//   auto model = NerModel::load(*find_shipped_model("es"));
//   for (const EntitySpan& e : (*model)->tag(" el presidente Nicolás Maduro habló en Caracas."))
//     ...  // {"Nicolás Maduro", "PER"}, {"Caracas", "LOC"}
//
// Thread-safety: a loaded NerModel is immutable; every const member may be called from many
// threads at once without locking (share one model with std::shared_ptr). load()/save() are safe
// to call concurrently on different paths.
// Ownership: the model owns its weights; results are plain values owned by the caller.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "nlp/types.h"

namespace aimara::nlp {

struct ModelData;  // the weights and settings (nlp/model_data.h); opaque to users of the tagger

class NerModel {
 public:
  // Reads a model file. Errors: kModelMissing (no such file), kModelInvalid (bad magic, version,
  // truncated or corrupt), kIo.
  static Result<std::unique_ptr<NerModel>> load(const std::filesystem::path& path);

  // Wraps trained weights (used by the trainer; users load files).
  explicit NerModel(std::unique_ptr<ModelData> data);
  ~NerModel();
  NerModel(const NerModel&) = delete;
  NerModel& operator=(const NerModel&) = delete;

  // Writes the model atomically (a reader sees the old file or the new, never a torn one).
  Result<void> save(const std::filesystem::path& path) const;

  // Tokenises `text` (nlp/tokenizer.h), splits it into sentences and tags each one. Spans come in
  // text order, never overlap, and carry byte offsets into `text`.
  std::vector<EntitySpan> tag(std::string_view text) const;

  // Tags one sentence given as words; returns one IOB2 tag per word ("B-PER", "I-PER", "O", ...).
  std::vector<std::string> tag_tokens(const std::vector<std::string>& words) const;

  // Tags consecutive sentences of one document (words per sentence); one tag vector per sentence.
  std::vector<std::vector<std::string>> tag_document(
      const std::vector<std::vector<std::string>>& sentences) const;

  // Same, for already tokenised text: spans over the token range [first, last) of `tokens` taken
  // as one sentence, with byte offsets from the tokens and `text` as the source of the bytes.
  std::vector<EntitySpan> tag_sentence(std::string_view text, const std::vector<TextToken>& tokens,
                                       size_t first, size_t last) const;

  // "es", "en", ... as given at training time.
  const std::string& language() const;

  // Settings, for diagnostics ("aimara doctor", model README). Its stages' weight tables are
  // empty: the weights live in the compiled form only (weights() rebuilds them).
  const ModelData& data() const { return *data_; }

  // The whole model with its weight tables, as save() writes it.
  ModelData weights() const;

  // How many features have a non-zero score in stage `stage` (0 or 1); 0 for a stage it lacks.
  size_t feature_rows(size_t stage) const;

  // The weights of all stages laid out for tagging (one probe per feature); tagger.cpp.
  struct Compiled;

 private:
  std::unique_ptr<ModelData> data_;
  std::unique_ptr<const Compiled> compiled_;
};

// The shipped model for `lang` ("es", "en"): the first ner-<lang>.bin found in
// shipped_models_dirs(). Error kModelMissing lists the folders searched.
Result<std::filesystem::path> find_shipped_model(std::string_view lang);

}  // namespace aimara::nlp
