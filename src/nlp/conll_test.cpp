#include "nlp/conll.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/fs.h"

namespace aimara::nlp {
namespace {

using Tags = std::vector<std::string>;

TEST(Conll, Iob1WithPosColumnsBecomesIob2) {
  // CoNLL-2003 style: token POS chunk TAG, IOB1, -DOCSTART- lines.
  const char* text =
      "-DOCSTART- -X- -X- O\n"
      "\n"
      "EU NNP I-NP I-ORG\n"
      "rejects VBZ I-VP O\n"
      "German JJ I-NP I-MISC\n"
      "call NN I-NP O\n"
      "\n"
      "Peter NNP I-NP I-PER\n"
      "Blackburn NNP I-NP I-PER\n"
      "Paris NNP I-NP B-PER\n"   // IOB1: B- only splits adjacent entities of one type
      "Hilton NNP I-NP I-PER\n"
      "\n"
      "-DOCSTART- -X- -X- O\n"
      "\n"
      "BRUSSELS NNP I-NP I-LOC\n"
      "1996-08-22 CD I-NP O\n";
  auto s = parse_conll(text);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].words, (Tags{"EU", "rejects", "German", "call"}));
  EXPECT_EQ((*s)[0].tags, (Tags{"B-ORG", "O", "B-MISC", "O"}));
  EXPECT_EQ((*s)[1].tags, (Tags{"B-PER", "I-PER", "B-PER", "I-PER"}));
  EXPECT_EQ((*s)[2].words, (Tags{"BRUSSELS", "1996-08-22"}));
  EXPECT_EQ((*s)[2].tags, (Tags{"B-LOC", "O"}));
  EXPECT_EQ((*s)[0].document, 0u);
  EXPECT_EQ((*s)[1].document, 0u);
  EXPECT_EQ((*s)[2].document, 1u);
}

TEST(Conll, Iob2TwoColumnsUnchanged) {
  const char* text =
      "Melbourne B-LOC\n( O\nAustralia B-LOC\n) O\n\n\n"
      "El O\nAbogado B-PER\nGeneral I-PER\ndel I-PER\nEstado I-PER\nDaryl B-PER\n"
      "Williams I-PER\n";  // no trailing blank line
  auto s = parse_conll(text);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  ASSERT_EQ(s->size(), 2u);  // repeated blank lines do not make empty sentences
  EXPECT_EQ((*s)[0].tags, (Tags{"B-LOC", "O", "B-LOC", "O"}));
  EXPECT_EQ((*s)[1].tags,
            (Tags{"O", "B-PER", "I-PER", "I-PER", "I-PER", "B-PER", "I-PER"}));
}

TEST(Conll, IoTagsTabsAndCrLf) {
  const char* text = "010\tI-MISC\r\nis\tO\r\nThe\tI-ORG\r\nMad\tI-ORG\r\n\r\n";
  auto s = parse_conll(text);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].words, (Tags{"010", "is", "The", "Mad"}));
  EXPECT_EQ((*s)[0].tags, (Tags{"B-MISC", "O", "B-ORG", "I-ORG"}));
}

TEST(Conll, ToIob2) {
  Tags t = {"I-PER", "I-PER", "I-LOC", "O", "I-LOC", "B-LOC", "I-LOC", "B-ORG"};
  to_iob2(t);
  EXPECT_EQ(t, (Tags{"B-PER", "I-PER", "B-LOC", "O", "B-LOC", "B-LOC", "I-LOC", "B-ORG"}));
  Tags again = t;
  to_iob2(again);
  EXPECT_EQ(again, t);
}

TEST(Conll, MalformedLinesAreErrorsWithLineNumbers) {
  auto missing = parse_conll("Hola O\nmundo\n", "x.conll");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("x.conll:2"), std::string::npos)
      << missing.error().message;
  auto bad_tag = parse_conll("Hola PER\n", "y.conll");
  ASSERT_FALSE(bad_tag.has_value());
  EXPECT_NE(bad_tag.error().message.find("y.conll:1"), std::string::npos);
}

TEST(Conll, Latin1FileIsConvertedToUtf8) {
  auto dir = TempDir::create("aimara-conll");
  ASSERT_TRUE(dir.has_value());
  const auto path = dir->path() / "latin1.conll";
  {
    std::ofstream out(path, std::ios::binary);
    out << "Le\xF3n B-LOC\nEspa\xF1" "a B-LOC\n\n";
  }
  auto s = read_conll(path);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].words, (Tags{"León", "España"}));
  EXPECT_TRUE(is_valid_utf8("León"));
  EXPECT_FALSE(is_valid_utf8("Le\xF3n"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));  // overlong
  auto missing = read_conll(dir->path() / "nope.conll");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace aimara::nlp
