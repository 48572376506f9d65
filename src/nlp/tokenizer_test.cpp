#include "nlp/tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nlp/text_case.h"

namespace aimara::nlp {
namespace {

std::vector<std::string> texts(const std::vector<TextToken>& tokens) {
  std::vector<std::string> out;
  for (const TextToken& t : tokens) out.push_back(t.text);
  return out;
}

// Every token's bytes are exactly the input's bytes at its offsets.
void expect_offsets_exact(std::string_view input, const std::vector<TextToken>& tokens) {
  size_t last_end = 0;
  for (const TextToken& t : tokens) {
    ASSERT_LE(t.end, input.size());
    ASSERT_LT(t.begin, t.end);
    EXPECT_GE(t.begin, last_end) << "tokens overlap or go backwards at '" << t.text << "'";
    EXPECT_EQ(input.substr(t.begin, t.end - t.begin), t.text);
    last_end = t.end;
  }
}

TEST(Tokenizer, WhisperSegmentWithLeadingSpaceAndAttachedPunctuation) {
  const std::string in = " El presidente Nicolás Maduro, habló hoy en Caracas.";
  const auto tokens = tokenize(in);
  EXPECT_EQ(texts(tokens), (std::vector<std::string>{"El", "presidente", "Nicolás", "Maduro", ",",
                                                      "habló", "hoy", "en", "Caracas", "."}));
  expect_offsets_exact(in, tokens);
  // "Nicolás" holds a two-byte á: its offsets are bytes, not characters
  EXPECT_EQ(tokens[2].begin, 15u);
  EXPECT_EQ(tokens[2].end, 23u);
  EXPECT_EQ(tokens[3].begin, 24u);
  EXPECT_EQ(tokens[3].end, 30u);
  EXPECT_EQ(tokens[4].begin, 30u);
}

TEST(Tokenizer, NumbersStayWhole) {
  const std::string in = "Costó 1.500 bolívares, el 3,5% a las 20:30 del 12/05.";
  const auto tokens = tokenize(in);
  EXPECT_EQ(texts(tokens),
            (std::vector<std::string>{"Costó", "1.500", "bolívares", ",", "el", "3,5", "%", "a",
                                      "las", "20:30", "del", "12/05", "."}));
  expect_offsets_exact(in, tokens);
}

TEST(Tokenizer, AbbreviationsHyphensAndClitics) {
  const std::string in = "EE.UU. y la U.S. Army; el Sr. Pérez-Rubio dijo: \"Peter's don't\"";
  const auto tokens = tokenize(in);
  EXPECT_EQ(texts(tokens),
            (std::vector<std::string>{"EE.UU.", "y", "la", "U.S.", "Army", ";", "el", "Sr.",
                                      "Pérez-Rubio", "dijo", ":", "\"", "Peter", "'s", "do",
                                      "n't", "\""}));
  expect_offsets_exact(in, tokens);
}

TEST(Tokenizer, SpanishPunctuationAndEllipsis) {
  const std::string in = "¿Qué pasó?¡No lo sé!... «Venezuela»";
  const auto tokens = tokenize(in);
  EXPECT_EQ(texts(tokens), (std::vector<std::string>{"¿", "Qué", "pasó", "?", "¡", "No", "lo",
                                                      "sé", "!", "...", "«", "Venezuela", "»"}));
  expect_offsets_exact(in, tokens);
}

TEST(Tokenizer, UppercaseAndWhitespaceOnly) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize("  \t\n ").empty());
  const std::string in = "  NICOLÁS MADURO  ";
  const auto tokens = tokenize(in);
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].text, "NICOLÁS");
  EXPECT_EQ(tokens[0].begin, 2u);
  expect_offsets_exact(in, tokens);
}

TEST(Tokenizer, InvalidUtf8KeepsExactOffsets) {
  const std::string in = "Caf\xE9 con \xC3 leche";  // Latin-1 é and a lone lead byte
  const auto tokens = tokenize(in);
  expect_offsets_exact(in, tokens);
  ASSERT_FALSE(tokens.empty());
  EXPECT_EQ(tokens.back().text, "leche");
}

TEST(SentenceSplit, EndsAtTerminalPunctuationOnly) {
  const std::string in = " Hola, ¿cómo están? Soy el Sr. Pérez. Vivo en EE.UU. desde 2010 y bueno";
  const auto tokens = tokenize(in);
  const auto sentences = split_sentences(tokens);
  ASSERT_EQ(sentences.size(), 3u);
  EXPECT_EQ(tokens[sentences[0].second - 1].text, "?");
  EXPECT_EQ(tokens[sentences[1].first].text, "Soy");
  EXPECT_EQ(tokens[sentences[1].second - 1].text, ".");
  EXPECT_EQ(tokens[sentences[2].first].text, "Vivo");
  EXPECT_EQ(sentences[2].second, tokens.size());
  EXPECT_TRUE(split_sentences({}).empty());
}

TEST(TextCase, LowerUpperAndShapes) {
  EXPECT_EQ(to_lower_utf8("Nicolás MADURO Ñandú ÆØÅ"), "nicolás maduro ñandú æøå");
  EXPECT_EQ(to_upper_utf8("nicolás ñandú über"), "NICOLÁS ÑANDÚ ÜBER");
  EXPECT_EQ(word_shape("Nicolás"), "Xx");
  EXPECT_EQ(word_shape("EE.UU."), "X.X.");
  EXPECT_EQ(word_shape("1.500"), "d.d");
  EXPECT_EQ(word_case("Ángel"), WordCase::kInitCap);
  EXPECT_EQ(word_case("FANB"), WordCase::kAllCaps);
  EXPECT_EQ(word_case("iPhone"), WordCase::kMixed);
  EXPECT_EQ(word_case("año"), WordCase::kLower);
  EXPECT_EQ(word_case("1.500"), WordCase::kNoLetters);
}

}  // namespace
}  // namespace aimara::nlp
