#include "nlp/extractor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "core/fs.h"
#include "nlp/conll.h"
#include "nlp/tagger.h"
#include "nlp/trainer.h"

namespace aimara::nlp {
namespace {

EntityExtractor make(ExtractorOptions o) {
  auto x = EntityExtractor::create(std::move(o));
  EXPECT_TRUE(x.has_value()) << x.error().to_string();
  return std::move(*x);
}

ExtractorOptions no_model(std::string lang = "es") {
  ExtractorOptions o;
  o.language = std::move(lang);
  o.use_model = false;
  return o;
}

const Mention* find(const std::vector<Mention>& all, std::string_view entity) {
  auto it =
      std::find_if(all.begin(), all.end(), [&](const Mention& m) { return m.entity == entity; });
  return it == all.end() ? nullptr : &*it;
}

std::vector<Mention> extract_text(const EntityExtractor& x, std::string_view text,
                                  EntityIndex* index = nullptr) {
  EntityIndex local;
  SegmentText seg{text, 1000, 5000};
  return x.extract(std::span<const SegmentText>(&seg, 1), index ? *index : local).mentions;
}

// A small tagger trained here with a fixed seed: real weights, real decoding, known vocabulary.
std::shared_ptr<const NerModel> tiny_model() {
  static std::shared_ptr<const NerModel> model = [] {
    const std::string conll =
        "El O\npresidente O\nNicolás B-PER\nMaduro I-PER\nhabló O\nen O\nCaracas B-LOC\n. O\n\n"
        "Maduro B-PER\nvisitó O\nCaracas B-LOC\nayer O\n. O\n\n"
        "Julián B-PER\nVirrueta I-PER\nMendoza I-PER\nvive O\nen O\nMérida B-LOC\n. O\n\n"
        "La O\nempresa O\nPolar B-ORG\nabrió O\nen O\nValencia B-LOC\n. O\n\n"
        "Nicolás B-PER\nMaduro I-PER\ny O\nJulián B-PER\nVirrueta I-PER\nhablaron O\n. O\n\n";
    auto sentences = parse_conll(conll, "tiny.conll");
    EXPECT_TRUE(sentences.has_value());
    std::vector<ConllSentence> train;
    for (int i = 0; i < 20; ++i) train.insert(train.end(), sentences->begin(), sentences->end());
    for (size_t i = 0; i < train.size(); ++i) train[i].document = i / 5;
    TrainOptions options;
    options.language = "es";
    options.epochs = 5;
    auto trained = train_model(train, {}, options);
    EXPECT_TRUE(trained.has_value()) << trained.error().to_string();
    return std::shared_ptr<const NerModel>(std::move(*trained));
  }();
  return model;
}

TEST(EntityExtractor, MissingModelWarnsAndPatternsStillWork) {
  ExtractorOptions o;
  o.model_path = "/nonexistent/aimara/ner-es.bin";
  EntityExtractor x = make(o);
  EXPECT_FALSE(x.has_model());
  ASSERT_EQ(x.warnings().size(), 1u);
  EXPECT_NE(x.warnings()[0].find("model_missing"), std::string::npos) << x.warnings()[0];
  auto m = extract_text(x, "En el programa 548 la FANB habló de Perú.");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].entity, "programa 548");
  EXPECT_EQ(m[0].type, "PROGRAM");
  EXPECT_EQ(m[0].source, MentionSource::kPattern);
  EXPECT_EQ(m[0].canonical, "Programa 548");
  EXPECT_EQ(m[1].entity, "FANB");
  EXPECT_EQ(m[1].type, "ORGANIZATION");
  EXPECT_EQ(m[1].source, MentionSource::kWatchlist);
  EXPECT_EQ(m[2].entity, "Perú");
  EXPECT_EQ(m[2].type, "COUNTRY");
  EXPECT_EQ(m[2].start_ms, 1000);
  EXPECT_EQ(m[2].end_ms, 5000);
  EXPECT_EQ(m[2].context, "En el programa 548 la FANB habló de Perú.");
}

TEST(EntityExtractor, BrokenModelFileWarnsAndPatternsStillWork) {
  auto dir = TempDir::create("aimara-extractor-test");
  ASSERT_TRUE(dir.has_value());
  ASSERT_TRUE(write_file_atomic(dir->path() / "ner-es.bin", "not a model at all").has_value());
  ExtractorOptions o;
  o.model_path = dir->path() / "ner-es.bin";
  EntityExtractor x = make(o);
  EXPECT_FALSE(x.has_model());
  ASSERT_EQ(x.warnings().size(), 1u);
  EXPECT_NE(x.warnings()[0].find("model_invalid"), std::string::npos) << x.warnings()[0];
  EXPECT_EQ(extract_text(x, "la fanb y la gnb").size(), 2u);
}

TEST(EntityExtractor, DefaultWatchlistCategories) {
  EntityExtractor x = make(no_model());
  const std::string text =
      "El presidente Nicolás Maduro y el ministro Vladimir Padrino López hablaron con la ONU, "
      "la OEA y el Sebin sobre Estados Unidos, MEXICO y United States.";
  auto m = extract_text(x, text);
  const Mention* title = find(m, "presidente Nicolás Maduro");
  ASSERT_NE(title, nullptr);
  EXPECT_EQ(title->type, "POLITICAL_TITLE");
  EXPECT_EQ(title->canonical, "Nicolás Maduro");
  const Mention* minister = find(m, "ministro Vladimir Padrino López");
  ASSERT_NE(minister, nullptr);
  EXPECT_EQ(minister->canonical, "Vladimir Padrino López");
  for (std::string_view org : {"ONU", "OEA", "Sebin"}) {
    const Mention* o = find(m, org);
    ASSERT_NE(o, nullptr) << org;
    EXPECT_EQ(o->type, "ORGANIZATION");
  }
  EXPECT_EQ(find(m, "Sebin")->canonical, "SEBIN");
  ASSERT_NE(find(m, "MEXICO"), nullptr);
  EXPECT_EQ(find(m, "MEXICO")->canonical, "México");
  ASSERT_NE(find(m, "United States"), nullptr);
  EXPECT_EQ(find(m, "United States")->canonical, "Estados Unidos");
  // Offsets point into the segment text.
  for (const Mention& e : m) EXPECT_EQ(text.substr(e.begin, e.end - e.begin), e.entity);

  EntityExtractor en = make(no_model("en"));
  auto m_en = extract_text(en, "President Joe Biden spoke about Estados Unidos and the UN.");
  ASSERT_NE(find(m_en, "Estados Unidos"), nullptr);
  EXPECT_EQ(find(m_en, "Estados Unidos")->canonical, "United States");
  ASSERT_NE(find(m_en, "President Joe Biden"), nullptr);
  EXPECT_EQ(find(m_en, "President Joe Biden")->canonical, "Joe Biden");
  EXPECT_EQ(find(m_en, "UN"), nullptr);  // "un" is a Spanish article: not an acronym here
}

TEST(EntityExtractor, UserWatchlistComesFirstAndAliasesCanonicalise) {
  auto dir = TempDir::create("aimara-extractor-test");
  ASSERT_TRUE(dir.has_value());
  ASSERT_TRUE(write_file_atomic(dir->path() / "w.yaml",
                                "entities:\n"
                                "  - name: Nicolás Maduro\n"
                                "    label: PERSON\n"
                                "    aliases: [Maduro, presidente Maduro]\n"
                                "patterns:\n"
                                "  - label: BANK\n"
                                "    regex: 'banco\\s+de\\s+venezuela'\n")
                  .has_value());
  ExtractorOptions o = no_model();
  o.watchlist_files = {dir->path() / "w.yaml"};
  EntityExtractor x = make(o);
  EntityIndex video;
  auto m = extract_text(x, "El presidente Maduro habló. Luego MADURO fue al Banco de Venezuela.",
                        &video);
  ASSERT_EQ(m.size(), 3u);
  // The phrase "presidente Maduro" (watchlist) and the title pattern cover the same span: the
  // watchlist wins.
  EXPECT_EQ(m[0].entity, "presidente Maduro");
  EXPECT_EQ(m[0].source, MentionSource::kWatchlist);
  EXPECT_EQ(m[0].type, "PERSON");
  EXPECT_EQ(m[0].canonical, "Nicolás Maduro");
  EXPECT_EQ(m[1].entity, "MADURO");
  EXPECT_EQ(m[1].canonical, "Nicolás Maduro");
  // The longer pattern span beats the watchlist's "Venezuela" inside it.
  EXPECT_EQ(m[2].entity, "Banco de Venezuela");
  EXPECT_EQ(m[2].type, "BANK");
  auto entities = video.entities();
  ASSERT_EQ(entities.size(), 2u);
  EXPECT_EQ(entities[0].canonical, "Nicolás Maduro");
  EXPECT_EQ(entities[0].count, 2);
}

TEST(EntityExtractor, TitleNameThatIsAWatchlistAliasGoesUnderTheWatchlistName) {
  ExtractorOptions o = no_model();
  o.watchlist.entities.push_back({"Nicolás Maduro", "PERSON", {"Maduro"}});
  EntityExtractor x = make(o);
  auto m = extract_text(x, "Lo dijo el general Maduro.");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].entity, "general Maduro");
  EXPECT_EQ(m[0].source, MentionSource::kPattern);
  EXPECT_EQ(m[0].canonical, "Nicolás Maduro");
}

TEST(EntityExtractor, BadUserRegexIsAnErrorNamingThePattern) {
  ExtractorOptions o = no_model();
  o.watchlist.patterns.push_back({"BROKEN", "programa\\s+[0-9"});
  auto x = EntityExtractor::create(o);
  ASSERT_FALSE(x.has_value());
  EXPECT_EQ(x.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(x.error().message.find("'BROKEN'"), std::string::npos);
}

TEST(EntityExtractor, MissingWatchlistFileIsAnError) {
  ExtractorOptions o = no_model();
  o.watchlist_files = {"/nonexistent/w.json"};
  auto x = EntityExtractor::create(o);
  ASSERT_FALSE(x.has_value());
  EXPECT_EQ(x.error().code, ErrorCode::kNotFound);
}

TEST(EntityExtractor, PathologicalUserRegexDoesNotStopTheOthers) {
  ExtractorOptions o = no_model();
  o.watchlist.patterns.push_back({"LOOP", "(\\w+\\s?)*!"});
  o.limits.match_limit = 50'000;
  EntityExtractor x = make(o);
  const std::string text = "Perú " + std::string(3000, 'a') + " y la FANB";
  auto m = extract_text(x, text);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].entity, "Perú");
  EXPECT_EQ(m[1].entity, "FANB");
}

TEST(EntityExtractor, ModelMentionsMergeWithWatchlistAndAcrossSegments) {
  ExtractorOptions o;
  o.model = tiny_model();
  EntityExtractor x = make(o);
  ASSERT_TRUE(x.has_model());
  EXPECT_TRUE(x.warnings().empty());
  const std::string s1 = "Maduro visitó Caracas ayer.";
  const std::string s2 = "Luego Nicolás Maduro habló en Perú.";
  std::vector<SegmentText> batch = {{s1, 0, 2000}, {s2, 2000, 4000}};
  EntityIndex video;
  auto result = x.extract(batch, video);
  const Mention* surname = find(result.mentions, "Maduro");
  ASSERT_NE(surname, nullptr);
  EXPECT_EQ(surname->source, MentionSource::kModel);
  EXPECT_EQ(surname->type, "PER");
  EXPECT_EQ(surname->canonical, "Nicolás Maduro");  // merged within the batch, both ways
  ASSERT_NE(find(result.mentions, "Caracas"), nullptr);
  EXPECT_EQ(find(result.mentions, "Caracas")->type, "LOC");
  const Mention* peru = find(result.mentions, "Perú");
  ASSERT_NE(peru, nullptr);
  EXPECT_EQ(peru->source, MentionSource::kWatchlist);  // the watchlist wins a tie with the model
  EXPECT_EQ(peru->segment, 1u);
  auto entities = video.entities();
  ASSERT_FALSE(entities.empty());
  EXPECT_EQ(entities[0].canonical, "Nicolás Maduro");
  EXPECT_EQ(entities[0].count, 2);
  EXPECT_EQ(entities[0].first_ms, 0);
  EXPECT_EQ(entities[0].last_ms, 2000);
}

TEST(EntityExtractor, HallucinatedSegmentsAreMarkedAndNotCounted) {
  EntityExtractor x = make(no_model());
  std::vector<SegmentText> batch = {{"Perú. Perú. Perú. Perú.", 0, 1000},
                                    {"Hablamos de Perú y de Chile.", 1000, 2000},
                                    {"Colombia", 2000, 3000, 0.95f, -1.8f}};
  EntityIndex video;
  auto result = x.extract(batch, video);
  ASSERT_EQ(result.segments.size(), 3u);
  EXPECT_TRUE(result.segments[0].flagged);
  EXPECT_FALSE(result.segments[1].flagged);
  EXPECT_TRUE(result.segments[2].flagged);
  ASSERT_EQ(result.mentions.size(), 7u);
  EXPECT_TRUE(result.mentions[0].hallucination);
  EXPECT_FALSE(result.mentions[4].hallucination);
  EXPECT_TRUE(result.mentions[6].hallucination);
  EXPECT_EQ(result.mentions[6].canonical, "Colombia");
  auto entities = video.entities();
  ASSERT_EQ(entities.size(), 2u);  // Perú once, Chile once; Colombia not counted
  EXPECT_EQ(video.mention_count(), 2);
  for (const Entity& e : entities) EXPECT_EQ(e.count, 1);
}

TEST(EntityExtractor, ContextIsBounded) {
  EntityExtractor x = make(no_model());
  std::string text;
  for (int i = 0; i < 40; ++i) text += "palabra número " + std::to_string(i) + " ";
  text += "y entonces Perú ";
  for (int i = 0; i < 40; ++i) text += "más texto aquí " + std::to_string(i) + " ";
  auto m = extract_text(x, text);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].context.find("Perú"), std::string::npos);
  EXPECT_TRUE(m[0].context.starts_with("…"));
  EXPECT_TRUE(m[0].context.ends_with("…"));
  EXPECT_LE(m[0].context.size(), 300u * 2 + 6);  // 300 characters, some of them 2 bytes
  EXPECT_EQ(bounded_context("  corto  ", 2, 7, 300), "corto");
  EXPECT_EQ(bounded_context("abcdefghij", 4, 5, 4), "…defg…");
  EXPECT_EQ(bounded_context("abcdefghij", 0, 1, 4), "abcd…");
  EXPECT_EQ(bounded_context("abcdefghij", 9, 10, 4), "…ghij");
}

TEST(EntityExtractor, OneExtractorServesManyThreads) {
  ExtractorOptions o;
  o.model = tiny_model();
  EntityExtractor x = make(o);
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i) {
    texts.push_back("Nicolás Maduro habló en Caracas con la FANB sobre el programa " +
                    std::to_string(i) + " y sobre Perú.");
  }
  std::vector<SegmentText> batch;
  for (const auto& t : texts) batch.push_back({t, 0, 0});
  EntityIndex reference_index;
  auto reference = x.extract(batch, reference_index).mentions;
  ASSERT_GE(reference.size(), 200u);
  std::vector<size_t> mismatches(4, 0);
  {
    std::vector<std::jthread> workers;
    for (size_t w = 0; w < 4; ++w) {
      workers.emplace_back([&, w] {
        for (int round = 0; round < 5; ++round) {
          EntityIndex index;
          auto got = x.extract(batch, index).mentions;
          if (got.size() != reference.size()) {
            ++mismatches[w];
            continue;
          }
          for (size_t i = 0; i < got.size(); ++i) {
            if (got[i].entity != reference[i].entity ||
                got[i].canonical != reference[i].canonical) {
              ++mismatches[w];
            }
          }
        }
      });
    }
  }
  for (size_t n : mismatches) EXPECT_EQ(n, 0u);
}

}  // namespace
}  // namespace aimara::nlp
