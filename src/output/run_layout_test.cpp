#include "output/run_layout.h"

#include <gtest/gtest.h>

#include "core/fs.h"

namespace aimara::output {
namespace {

TEST(SafeTitle, NoSeparatorsNoTraversalBounded) {
  EXPECT_EQ(safe_title("../../etc/passwd"), "etc passwd");
  EXPECT_EQ(safe_title("a/b\\c:d"), "a b c d");
  EXPECT_EQ(safe_title(".."), "untitled");
  EXPECT_EQ(safe_title(""), "untitled");
  EXPECT_EQ(safe_title("  Entrevista   con\tel  ministro  "), "Entrevista con el ministro");
  EXPECT_EQ(safe_title("title\nwith\x01" "control"), "title with control");
  std::string long_title(500, 'x');
  EXPECT_EQ(safe_title(long_title).size(), 120u);
  // A cut never splits a UTF-8 sequence: "ñ" is two bytes.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "ñ";
  std::string s = safe_title(accents, 11);
  EXPECT_EQ(s, "ñññññ");
}

std::vector<asr::Segment> segs(const std::string& text) {
  return {asr::Segment{.start_ms = 0, .end_ms = 1, .text = text}};
}

TEST(BuildingTranscript, AppendsInChunkOrderWhateverTheArrivalOrder) {
  auto dir = TempDir::create("aimara-building");
  ASSERT_TRUE(dir.has_value());
  auto path = dir->path() / "x_transcript_building.txt";
  auto b = BuildingTranscript::open(path, {});
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE((*b)->add(1, segs(" second")).has_value());
  EXPECT_EQ(*read_file(path), "");
  ASSERT_TRUE((*b)->add(0, segs(" first")).has_value());
  EXPECT_EQ(*read_file(path), "first\nsecond\n");
  ASSERT_TRUE((*b)->add(2, segs(" third")).has_value());
  EXPECT_EQ(*read_file(path), "first\nsecond\nthird\n");
  (*b)->remove();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(BuildingTranscript, ResumedRunRewritesDoneChunks) {
  auto dir = TempDir::create("aimara-building");
  ASSERT_TRUE(dir.has_value());
  auto path = dir->path() / "y.txt";
  auto b = BuildingTranscript::open(path, {{0, segs("a")}, {2, segs("c")}});
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*read_file(path), "a\n");
  ASSERT_TRUE((*b)->add(1, segs("b")).has_value());
  EXPECT_EQ(*read_file(path), "a\nb\nc\n");
}

}  // namespace
}  // namespace aimara::output
