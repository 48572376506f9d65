#include "nlp/hallucination.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/fs.h"

namespace aimara::nlp {
namespace {

HallucinationVerdict check(std::string_view text, std::optional<float> no_speech = std::nullopt,
                           std::optional<float> logprob = std::nullopt) {
  return check_hallucination({text, no_speech, logprob});
}

TEST(Hallucination, NormalSpeechIsNotFlagged) {
  auto v = check(
      " Hola, como están todos? Mi nombre es Julián Virrueta Mendoza y en este podcast "
      "les vengo a hablar sobre la contaminación del agua.",
      0.02f, -0.3f);
  EXPECT_FALSE(v.flagged) << v.reason_list();
  EXPECT_LT(v.compression_ratio, 2.4);
  EXPECT_EQ(v.reason_list(), "");
}

TEST(Hallucination, RepeatedShortPhraseIsFlagged) {
  auto v = check(" Gracias. Gracias. Gracias.");
  EXPECT_TRUE(v.flagged);
  EXPECT_EQ(v.reason_list(), "repetition");
  EXPECT_EQ(v.repeats, 3);
  EXPECT_EQ(v.repeated, "gracias");
}

TEST(Hallucination, EmphasisInsideASentenceIsNotALoop) {
  EXPECT_FALSE(check("No, no, no, eso no es así, lo dijo el ministro ayer en la tarde.").flagged);
  EXPECT_FALSE(check("Muy, muy bien.").flagged);  // two repeats only
}

TEST(Hallucination, LoopInsideALongerSegmentIsFlagged) {
  auto v = check(
      "El ministro dijo que vamos a seguir y seguir, y vamos a seguir, y vamos a seguir, "
      "y vamos a seguir, y vamos a seguir, y vamos a seguir.");
  EXPECT_TRUE(v.flagged);
  EXPECT_NE(v.reason_list().find("repetition"), std::string::npos);
  EXPECT_GE(v.repeats, 5);
}

TEST(Hallucination, HighCompressionRatioIsFlagged) {
  std::string loop;
  for (int i = 0; i < 12; ++i) loop += "Suscríbete al canal y dale like. ";
  EXPECT_GT(compression_ratio(loop), 2.4);
  auto v = check(loop);
  EXPECT_TRUE(v.flagged);
  EXPECT_NE(v.reason_list().find("compression_ratio"), std::string::npos);
  EXPECT_EQ(compression_ratio(""), 0.0);
}

TEST(Hallucination, LongPlainTextIsNotFlaggedForCompression) {
  // 28 KB of real Spanish news text (the CoNLL-2002 dev set's words): zlib compresses it 2.47x as
  // a whole, above whisper's 2.4, though nothing in it repeats.
  const std::filesystem::path conll = std::filesystem::path(AIMARA_SHARED_DIR) / "ner/es/esp.testa";
  auto data = read_file(conll);
  ASSERT_TRUE(data.has_value()) << "missing test data " << conll << ": "
                                << data.error().to_string();
  std::string text;
  std::istringstream in(*data);
  std::string line;
  int words = 0;
  while (words < 5000 && std::getline(in, line)) {
    if (line.empty() || line.starts_with("-DOCSTART")) continue;
    text += line.substr(0, line.find(' ')) + " ";
    ++words;
  }
  ASSERT_GT(compression_ratio(text), 2.4);
  auto v = check(text);
  EXPECT_LT(v.compression_ratio, 2.4);
  EXPECT_FALSE(v.flagged) << v.reason_list();
}

TEST(Hallucination, NoSpeechNeedsBothSignals) {
  const std::string_view text = " Subtítulos realizados por la comunidad de Amara.org";
  auto silent = check(text, 0.9f, -1.5f);
  EXPECT_TRUE(silent.flagged);
  EXPECT_EQ(silent.reason_list(), "no_speech");
  EXPECT_FALSE(check(text, 0.9f, -0.4f).flagged);  // confident text despite the silence score
  EXPECT_FALSE(check(text, 0.1f, -1.5f).flagged);  // speech, just unsure words
  EXPECT_FALSE(check(text).flagged);               // nothing known
}

}  // namespace
}  // namespace aimara::nlp
