#include "nlp/evaluation.h"

#include <gtest/gtest.h>

namespace aimara::nlp {
namespace {

using Tags = std::vector<std::string>;

TEST(Chunks, Iob2AndIob1AreReadTheConllevalWay) {
  EXPECT_EQ(extract_chunks({"B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"}),
            (std::vector<Chunk>{{0, 2, "PER"}, {3, 4, "LOC"}, {4, 6, "LOC"}}));
  // IOB1: I- after O starts a chunk; a type change starts a new one
  EXPECT_EQ(extract_chunks({"I-ORG", "I-ORG", "I-PER", "O", "I-MISC"}),
            (std::vector<Chunk>{{0, 2, "ORG"}, {2, 3, "PER"}, {4, 5, "MISC"}}));
  EXPECT_TRUE(extract_chunks({"O", "O"}).empty());
  EXPECT_EQ(extract_chunks({"O", "I-LOC"}), (std::vector<Chunk>{{1, 2, "LOC"}}));
}

TEST(Scorer, ExactMatchPrecisionRecallF1) {
  ChunkScorer s;
  // gold: PER(0-2) LOC(4) ; predicted: PER(0-1) wrong boundary, LOC(4) right, ORG(6) spurious
  s.add({"B-PER", "I-PER", "O", "O", "B-LOC", "O", "O"},
        {"B-PER", "O", "O", "O", "B-LOC", "O", "B-ORG"});
  // gold: MISC(1) ; predicted: MISC(1) right
  s.add({"O", "B-MISC"}, {"O", "B-MISC"});
  EXPECT_EQ(s.total().gold, 3u);
  EXPECT_EQ(s.total().predicted, 4u);
  EXPECT_EQ(s.total().correct, 2u);
  EXPECT_DOUBLE_EQ(s.total().precision(), 0.5);
  EXPECT_DOUBLE_EQ(s.total().recall(), 2.0 / 3.0);
  EXPECT_NEAR(s.total().f1(), 2 * 0.5 * (2.0 / 3.0) / (0.5 + 2.0 / 3.0), 1e-12);
  EXPECT_EQ(s.by_type().at("PER").correct, 0u);
  EXPECT_EQ(s.by_type().at("LOC").correct, 1u);
  EXPECT_EQ(s.by_type().at("ORG").predicted, 1u);
  EXPECT_EQ(s.tokens(), 9u);
  EXPECT_EQ(s.correct_tags(), 7u);
}

TEST(Scorer, WrongTypeIsNotCorrectAndEmptyIsZero) {
  ChunkScorer s;
  s.add({"B-PER", "I-PER"}, {"B-ORG", "I-ORG"});
  EXPECT_EQ(s.total().correct, 0u);
  EXPECT_DOUBLE_EQ(s.total().f1(), 0.0);
  ChunkScorer empty;
  empty.add({"O"}, {"O"});
  EXPECT_DOUBLE_EQ(empty.total().precision(), 0.0);
  EXPECT_DOUBLE_EQ(empty.total().recall(), 0.0);
  EXPECT_DOUBLE_EQ(empty.total().f1(), 0.0);
}

TEST(Scorer, Iob1GoldAgainstIob2PredictionMatches) {
  ChunkScorer s;
  s.add({"I-PER", "I-PER", "B-PER"}, {"B-PER", "I-PER", "B-PER"});
  EXPECT_EQ(s.total().gold, 2u);
  EXPECT_EQ(s.total().correct, 2u);
  EXPECT_DOUBLE_EQ(s.total().f1(), 1.0);
}

}  // namespace
}  // namespace aimara::nlp
