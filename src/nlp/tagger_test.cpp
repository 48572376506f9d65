#include "nlp/tagger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "core/fs.h"
#include "nlp/conll.h"
#include "nlp/evaluation.h"
#include "nlp/features.h"
#include "nlp/model_data.h"
#include "nlp/model_file.h"
#include "nlp/text_case.h"
#include "nlp/trainer.h"
#include "nlp/word_profiles.h"

namespace aimara::nlp {
namespace {

namespace fs = std::filesystem;

fs::path shared(const std::string& rel) {
  const fs::path p = fs::path(AIMARA_SHARED_DIR) / rel;
  if (!fs::exists(p)) ADD_FAILURE() << "test data missing: " << p << " (../shared beside the repo)";
  return p;
}

// The first `n` sentences of CoNLL-2002 Spanish: enough to learn real weights in a second.
std::vector<ConllSentence> spanish_sentences(size_t first, size_t n) {
  auto all = read_conll(shared("ner/es/esp.train"));
  if (!all) {
    ADD_FAILURE() << all.error().to_string();
    return {};
  }
  first = std::min(first, all->size());
  const size_t last = std::min(all->size(), first + n);
  return {all->begin() + static_cast<ptrdiff_t>(first), all->begin() + static_cast<ptrdiff_t>(last)};
}

TrainOptions small_options() {
  TrainOptions o;
  o.language = "es";
  o.epochs = 3;
  o.folds = 2;
  return o;
}

TEST(Tagger, TrainingIsDeterministicAndTheFileTagsAsTheModel) {
  const auto train = spanish_sentences(0, 600);
  ASSERT_FALSE(train.empty());
  auto a = train_model(train, {}, small_options());
  auto b = train_model(train, {}, small_options());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(encode_model((*a)->weights()), encode_model((*b)->weights()));

  auto dir = TempDir::create("aimara-tagger-test");
  ASSERT_TRUE(dir.has_value());
  const fs::path path = dir->path() / "ner-es.bin";
  ASSERT_TRUE((*a)->save(path).has_value());
  auto loaded = NerModel::load(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().to_string();
  EXPECT_EQ((*loaded)->language(), "es");
  const auto held_out = spanish_sentences(600, 100);
  std::vector<std::vector<std::string>> words;
  for (const ConllSentence& s : held_out) words.push_back(s.words);
  EXPECT_EQ((*a)->tag_document(words), (*loaded)->tag_document(words));

  // it learned something: better than nothing on sentences it did not see
  const EvalReport r = evaluate(**loaded, held_out);
  EXPECT_GT(r.f1, 0.3) << "P " << r.precision << " R " << r.recall;
}

TEST(Tagger, MinimumFeatureCountDropsRareFeatures) {
  const auto train = spanish_sentences(0, 600);
  ASSERT_FALSE(train.empty());
  TrainOptions o = small_options();
  o.stacking = false;
  o.prune_below = 0;
  auto all = train_model(train, {}, o);
  o.min_feature_count = 3;
  auto frequent = train_model(train, {}, o);
  ASSERT_TRUE(all.has_value()) << all.error().to_string();
  ASSERT_TRUE(frequent.has_value()) << frequent.error().to_string();
  const size_t rows_all = (*all)->feature_rows(0);
  const size_t rows_frequent = (*frequent)->feature_rows(0);
  // most feature values of a small corpus are seen once or twice
  EXPECT_LT(rows_frequent * 2, rows_all) << rows_frequent << " of " << rows_all;
  EXPECT_GT(rows_frequent, 0u);
}

TEST(Tagger, CorruptOrMissingFilesAreErrors) {
  auto dir = TempDir::create("aimara-tagger-test");
  ASSERT_TRUE(dir.has_value());
  auto missing = NerModel::load(dir->path() / "none.bin");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kModelMissing);

  const fs::path junk = dir->path() / "junk.bin";
  ASSERT_TRUE(write_file_atomic(junk, "AIMNER\n\x1a not really a model").has_value());
  auto bad = NerModel::load(junk);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kModelInvalid);
}

TEST(WordProfiles, DetectsUncasedText) {
  auto casing = [](std::vector<std::string_view> w) { return detect_casing(w); };
  EXPECT_EQ(casing({"el", "presidente", "maduro", "habló", "en", "caracas"}), TextCasing::kLower);
  EXPECT_EQ(casing({"EL", "PRESIDENTE", "MADURO", "HABLÓ", "EN", "CARACAS"}), TextCasing::kUpper);
  EXPECT_EQ(casing({"El", "presidente", "Maduro", "habló", "en", "Caracas"}), TextCasing::kNormal);
  EXPECT_EQ(casing({"la", "FANB", "y", "el", "SEBIN", "respondieron"}), TextCasing::kNormal);
  EXPECT_EQ(casing({"1.500", ",", "2.750"}), TextCasing::kNormal);  // nothing to judge
}

TEST(WordProfiles, TruecasesAsTheTrainingTextWroteTheWords) {
  WordProfileCounter counter;
  for (int i = 0; i < 20; ++i) {
    counter.add_sentence(std::vector<std::string>{"Dijo", "que", "Maduro", "y", "la", "FANB",
                                                  "están", "en", "Caracas", "."});
  }
  const auto profiles = counter.build();
  EXPECT_EQ(truecase("maduro", false, profiles), "Maduro");
  EXPECT_EQ(truecase("CARACAS", false, profiles), "Caracas");
  EXPECT_EQ(truecase("fanb", false, profiles), "FANB");
  EXPECT_EQ(truecase("QUE", false, profiles), "que");
  EXPECT_EQ(truecase("ESTÁN", true, profiles), "Están");   // first in the sentence
  EXPECT_EQ(truecase("zapatero", false, profiles), "zapatero");  // unknown: stays lowercase
}

std::vector<ConllSentence> lowercased(std::vector<ConllSentence> sentences) {
  for (ConllSentence& s : sentences) {
    for (std::string& w : s.words) w = to_lower_utf8(w);
  }
  return sentences;
}

TEST(Tagger, ReadsLowercaseTextThroughItsWordProfiles) {
  const auto train = spanish_sentences(0, 1500);
  const auto held_out = spanish_sentences(1500, 300);
  ASSERT_FALSE(train.empty());
  TrainOptions o = small_options();
  o.lowercase_fraction = 0;  // cased training text only: casing is all it knows
  o.uppercase_fraction = 0;
  auto with_profiles = train_model(train, {}, o);
  o.word_profiles = false;
  auto without = train_model(train, {}, o);
  ASSERT_TRUE(with_profiles.has_value()) << with_profiles.error().to_string();
  ASSERT_TRUE(without.has_value()) << without.error().to_string();
  const double cased = evaluate(**with_profiles, held_out).f1;
  const double lower = evaluate(**with_profiles, lowercased(held_out)).f1;
  const double lower_without = evaluate(**without, lowercased(held_out)).f1;
  // Truecased from the profiles, lowercase text keeps much of what the cased text gives; a
  // model without profiles reads it as it comes and loses most names.
  EXPECT_GT(lower, 0.5 * cased) << "cased " << cased << " lowercase " << lower;
  EXPECT_GT(lower, lower_without + 0.1) << "without profiles " << lower_without;
}

TEST(ShippedModels, AimaraModelsDirComesFirst) {
  auto dir = TempDir::create("aimara-tagger-test");
  ASSERT_TRUE(dir.has_value());
  ASSERT_TRUE(write_file_atomic(dir->path() / "ner-zz.bin", "x").has_value());
  const char* before = std::getenv("AIMARA_MODELS_DIR");
  const std::string saved = before != nullptr ? before : "";
  ::setenv("AIMARA_MODELS_DIR", dir->path().c_str(), 1);
  auto found = find_shipped_model("zz");
  auto missing = find_shipped_model("yy");
  if (before != nullptr) {
    ::setenv("AIMARA_MODELS_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("AIMARA_MODELS_DIR");
  }
  ASSERT_TRUE(found.has_value()) << found.error().to_string();
  EXPECT_EQ(*found, dir->path() / "ner-zz.bin");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kModelMissing);
  // the message says where it looked, the override first
  EXPECT_NE(missing.error().message.find(dir->path().string()), std::string::npos)
      << missing.error().message;

  auto bad = find_shipped_model("../etc");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// A loaded model keeps its weights in one compiled copy (int16 steps, as the file has them):
// saving it again gives the file back byte for byte, so no weight was lost or changed.
TEST(ShippedModels, LoadedModelsSaveToTheSameBytes) {
  auto dir = TempDir::create("aimara-tagger-test");
  ASSERT_TRUE(dir.has_value());
  for (const char* language : {"es", "en"}) {
    auto path = find_shipped_model(language);
    ASSERT_TRUE(path.has_value()) << path.error().to_string();
    auto model = NerModel::load(*path);
    ASSERT_TRUE(model.has_value()) << model.error().to_string();
    EXPECT_EQ((*model)->data().stages.size(), 2u);
    EXPECT_GT((*model)->feature_rows(0), 10000u) << language;
    EXPECT_GT((*model)->feature_rows(1), 10000u) << language;
    EXPECT_EQ((*model)->feature_rows(2), 0u);
    const fs::path copy = dir->path() / (std::string("ner-") + language + ".bin");
    ASSERT_TRUE((*model)->save(copy).has_value());
    auto original = read_file(*path);
    auto saved = read_file(copy);
    ASSERT_TRUE(original.has_value() && saved.has_value());
    EXPECT_TRUE(*original == *saved)
        << language << ": " << original->size() << " bytes, saved " << saved->size();
  }
}

TEST(ShippedModels, SpanishModelShipsWithTheSourceAndTagsNames) {
  // models/ner-es.bin in the source tree: a build-tree binary and this test find it there.
  auto path = find_shipped_model("es");
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  auto model = NerModel::load(*path);
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  EXPECT_EQ((*model)->language(), "es");
  const auto spans = (*model)->tag("El presidente Nicolás Maduro habló ayer en Caracas con el "
                                   "Gobierno de Colombia.");
  std::vector<std::pair<std::string, std::string>> got;
  for (const EntitySpan& e : spans) got.emplace_back(e.text, e.type);
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{
                                                  "Nicolás Maduro", "PER"}),
            got.end());
  EXPECT_NE(std::find(got.begin(), got.end(),
                      std::pair<std::string, std::string>{"Caracas", "LOC"}),
            got.end());
}

TEST(ShippedModels, EnglishModelShipsWithTheSourceAndTagsNames) {
  auto path = find_shipped_model("en");
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  auto model = NerModel::load(*path);
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  EXPECT_EQ((*model)->language(), "en");
  const auto spans = (*model)->tag("Angela Merkel met the French president in Paris on Monday.");
  std::vector<std::pair<std::string, std::string>> got;
  for (const EntitySpan& e : spans) got.emplace_back(e.text, e.type);
  EXPECT_NE(std::find(got.begin(), got.end(),
                      std::pair<std::string, std::string>{"Angela Merkel", "PER"}),
            got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{"Paris", "LOC"}),
            got.end());
}

}  // namespace
}  // namespace aimara::nlp
