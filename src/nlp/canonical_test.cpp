#include "nlp/canonical.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace aimara::nlp {
namespace {

std::string original(std::string_view text, const FoldedText& f, size_t b, size_t e) {
  auto [ob, oe] = f.to_original(b, e);
  return std::string(text.substr(ob, oe - ob));
}

TEST(FoldText, RemovesCaseAndAccentsAndMapsBack) {
  const std::string text = "El presidente NICOLÁS Maduro, de Perú.";
  FoldedText f = fold_text(text);
  EXPECT_EQ(f.text, "el presidente nicolas maduro, de peru.");
  ASSERT_EQ(f.source_begin.size(), f.text.size());
  size_t at = f.text.find("nicolas");
  EXPECT_EQ(original(text, f, at, at + 7), "NICOLÁS");
  at = f.text.find("peru");
  EXPECT_EQ(original(text, f, at, at + 4), "Perú");
  // A folded span ending inside a multi-byte letter still maps to the whole letter.
  at = f.text.find("as maduro");
  EXPECT_EQ(original(text, f, at, at + 1), "Á");
}

TEST(FoldText, HandlesSpanishAndOtherLetters) {
  EXPECT_EQ(fold_text("ÑANDÚ pingüino Straße İstanbul").text, "nandu pinguino strasse istanbul");
  // Already decomposed input (n + combining tilde) folds the same as precomposed.
  EXPECT_EQ(fold_text("Pen\xCC\x83"
                      "a")
                .text,
            "pena");
  EXPECT_EQ(fold_text("Perú", FoldMode::kAccentsOnly).text, "Peru");
}

TEST(FoldText, InvalidUtf8BecomesAWordBreak) {
  const std::string text =
      "ab\xFF"
      "cd";
  FoldedText f = fold_text(text);
  EXPECT_EQ(f.text, "ab cd");
  EXPECT_EQ(word_spans(f.text).size(), 2u);
  EXPECT_EQ(original(text, f, 2, 3), "\xFF");
}

TEST(WordSpans, LettersAndDigitsOnly) {
  auto w = word_spans("¿Qué pasó en 2024? ¡Nada!");
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w[0], (std::pair<size_t, size_t>{2, 6}));  // "Qué" after the 2-byte "¿"
}

TEST(FoldKey, JoinsFoldedWords) {
  EXPECT_EQ(fold_key("  Nicolás   MADURO "), "nicolas maduro");
  EXPECT_EQ(fold_key("EE.UU."), "ee uu");
  EXPECT_EQ(fold_key("¡¿...?!"), "");
}

TEST(JoinsWords, WhitespaceAndOneConnector) {
  EXPECT_TRUE(joins_words(" "));
  EXPECT_TRUE(joins_words("  \t"));
  EXPECT_TRUE(joins_words("-"));
  EXPECT_TRUE(joins_words(". "));
  EXPECT_TRUE(joins_words("’"));
  EXPECT_FALSE(joins_words(", "));
  EXPECT_FALSE(joins_words(" - . "));
  EXPECT_FALSE(joins_words("? "));
}

MentionForm per(std::string_view text, int64_t ms = 0) {
  return {text, "PER", MentionSource::kModel, {}, {}, ms, ms + 1000, true};
}

const Entity* find_entity(const std::vector<Entity>& all, std::string_view name) {
  auto it =
      std::find_if(all.begin(), all.end(), [&](const Entity& e) { return e.canonical == name; });
  return it == all.end() ? nullptr : &*it;
}

TEST(EntityIndex, MergesSurnameAndTitleIntoFullName) {
  EntityIndex index;
  MentionForm title{"presidente Maduro",
                    "POLITICAL_TITLE",
                    MentionSource::kPattern,
                    "Maduro",
                    {},
                    3000,
                    4000,
                    true};
  auto names = index.add_batch({per("Maduro", 1000), per("Nicolás Maduro", 2000), title});
  EXPECT_EQ(names,
            (std::vector<std::string>{"Nicolás Maduro", "Nicolás Maduro", "Nicolás Maduro"}));
  auto all = index.entities();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].canonical, "Nicolás Maduro");
  EXPECT_EQ(all[0].type, "PER");  // model type over pattern type
  EXPECT_EQ(all[0].count, 3);
  EXPECT_EQ(all[0].first_ms, 1000);
  EXPECT_EQ(all[0].last_ms, 3000);
  EXPECT_EQ(all[0].count_by_source.at("model"), 2);
  EXPECT_EQ(all[0].count_by_source.at("pattern"), 1);
  EXPECT_NE(std::find(all[0].aliases.begin(), all[0].aliases.end(), "presidente Maduro"),
            all[0].aliases.end());
  EXPECT_NE(std::find(all[0].aliases.begin(), all[0].aliases.end(), "Maduro"),
            all[0].aliases.end());
}

TEST(EntityIndex, CaseAndAccentVariantsMergeUnderTheMostFrequentForm) {
  EntityIndex index;
  auto names =
      index.add_batch({per("NICOLAS MADURO"), per("Nicolás Maduro"), per("Nicolás Maduro")});
  EXPECT_EQ(names[0], "Nicolás Maduro");
  auto all = index.entities();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].count, 3);
  EXPECT_EQ(all[0].aliases, std::vector<std::string>{"NICOLAS MADURO"});
}

TEST(EntityIndex, LaterBatchesMergeInEntitiesButDoNotRewriteEarlierAnswers) {
  EntityIndex index;
  EXPECT_EQ(index.add_batch({per("Maduro")})[0], "Maduro");
  EXPECT_EQ(index.add_batch({per("Nicolás Maduro")})[0], "Nicolás Maduro");
  EXPECT_EQ(index.add_batch({per("Maduro")})[0], "Nicolás Maduro");
  auto all = index.entities();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].canonical, "Nicolás Maduro");
  EXPECT_EQ(all[0].count, 3);
}

TEST(EntityIndex, AmbiguousSurnameGoesToTheMostMentionedName) {
  EntityIndex index;
  auto names = index.add_batch({per("Nicolás Maduro"), per("Nicolás Maduro Guerra"),
                                per("Nicolás Maduro"), per("Maduro"), per("Nicolasito Maduro")});
  EXPECT_EQ(names[3], "Nicolás Maduro");
  auto all = index.entities();
  EXPECT_EQ(all.size(), 3u);
  ASSERT_NE(find_entity(all, "Nicolás Maduro"), nullptr);
  EXPECT_EQ(find_entity(all, "Nicolás Maduro")->count, 3);
  EXPECT_NE(find_entity(all, "Nicolás Maduro Guerra"), nullptr);
  EXPECT_NE(find_entity(all, "Nicolasito Maduro"), nullptr);
}

TEST(EntityIndex, OnlyPersonsMergeBySurname) {
  EntityIndex index;
  MentionForm org{"Banco de Venezuela", "ORG", MentionSource::kModel, {}, {}, 0, 0, true};
  MentionForm loc{"Venezuela", "LOC", MentionSource::kModel, {}, {}, 0, 0, true};
  auto names = index.add_batch({org, loc});
  EXPECT_EQ(names[1], "Venezuela");
  EXPECT_EQ(index.entities().size(), 2u);
  // A person named like a place does not swallow the place either.
  EXPECT_EQ(index.add_batch({per("Simón Bolívar"), loc})[1], "Venezuela");
}

TEST(EntityIndex, WatchlistAliasesGoUnderTheWatchlistName) {
  EntityIndex index;
  MentionForm alias{"Fuerza Armada Nacional Bolivariana",
                    "ORGANIZATION",
                    MentionSource::kWatchlist,
                    "FANB",
                    "FANB",
                    0,
                    0,
                    true};
  MentionForm acronym{"fanb", "ORGANIZATION", MentionSource::kWatchlist, "FANB", "FANB", 0, 0,
                      true};
  auto names = index.add_batch({alias, acronym});
  EXPECT_EQ(names, (std::vector<std::string>{"FANB", "FANB"}));
  auto all = index.entities();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].type, "ORGANIZATION");
  EXPECT_EQ(all[0].count, 2);
  EXPECT_EQ(all[0].aliases.size(), 2u);  // both surfaces differ from "FANB"
}

TEST(EntityIndex, PersonMentionsMergeIntoAPersonWatchlistEntry) {
  EntityIndex index;
  MentionForm listed{"Nicolás Maduro Moros",
                     "PERSON",
                     MentionSource::kWatchlist,
                     "Nicolás Maduro Moros",
                     "Nicolás Maduro Moros",
                     0,
                     0,
                     true};
  auto names = index.add_batch({listed, per("Maduro Moros")});
  EXPECT_EQ(names[1], "Nicolás Maduro Moros");
  auto all = index.entities();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].type, "PERSON");  // the watchlist's label over the model's
}

TEST(EntityIndex, UncountedMentionsGetANameButNoCount) {
  EntityIndex index;
  index.add_batch({per("Nicolás Maduro")});
  MentionForm flagged = per("Maduro");
  flagged.counted = false;
  EXPECT_EQ(index.add_batch({flagged})[0], "Nicolás Maduro");
  auto all = index.entities();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].count, 1);
  EXPECT_EQ(index.mention_count(), 1);
}

}  // namespace
}  // namespace aimara::nlp
