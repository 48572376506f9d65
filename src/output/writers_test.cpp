#include "output/writers.h"

#include <gtest/gtest.h>

#include "core/fs.h"

namespace aimara::output {
namespace {

const std::filesystem::path kTestData = std::filesystem::path(AIMARA_SOURCE_DIR) / "src/output/testdata";

// Escaping, hour rollover, a zero-length segment, an empty one, times past the end, out of order.
asr::Transcript sample() {
  asr::Transcript t;
  t.duration_ms = 3723500;  // 1:02:03.500
  t.language = "en";
  t.model = "micro";
  t.options = {{"threads", 2}};
  t.segments = {
      {.start_ms = 0, .end_ms = 1500, .text = " Fish & chips <b>now</b>"},
      {.start_ms = 59999, .end_ms = 61001, .text = " Over a minute."},
      {.start_ms = 3599990, .end_ms = 3600010, .text = " Hour rollover."},
      {.start_ms = 3600500, .end_ms = 3600500, .text = " Zero length."},
      {.start_ms = 3601000, .end_ms = 3602000, .text = "   "},
      {.start_ms = 3723000, .end_ms = 3730000, .text = " Past the end."},
  };
  return t;
}

void expect_golden(const std::string& name, const std::string& actual) {
  auto expected = read_file(kTestData / name);
  ASSERT_TRUE(expected.has_value()) << "missing golden file " << (kTestData / name);
  EXPECT_EQ(actual, *expected) << "golden " << name << " differs";
}

TEST(Writers, TxtGolden) { expect_golden("sample.txt", render_txt(sample())); }
TEST(Writers, SrtGolden) { expect_golden("sample.srt", render_srt(sample())); }
TEST(Writers, VttGolden) { expect_golden("sample.vtt", render_vtt(sample())); }
TEST(Writers, JsonGolden) { expect_golden("sample.json", render_json(sample())); }

TEST(Writers, TimestampFormats) {
  EXPECT_EQ(format_timestamp(0, ','), "00:00:00,000");
  EXPECT_EQ(format_timestamp(3723004, ','), "01:02:03,004");
  EXPECT_EQ(format_timestamp(3723004, '.'), "01:02:03.004");
  EXPECT_EQ(format_timestamp(100 * 3600000LL + 1, '.'), "100:00:00.001");
  EXPECT_EQ(format_timestamp(-5, ','), "00:00:00,000");
}

TEST(Writers, VttCuesAreOrderedAndNeverZeroLength) {
  auto t = sample();
  std::swap(t.segments[0], t.segments[5]);
  std::string vtt = render_vtt(t);
  EXPECT_TRUE(vtt.starts_with("WEBVTT\n\n"));
  EXPECT_LT(vtt.find("Fish &amp; chips &lt;b&gt;now&lt;/b&gt;"), vtt.find("Past the end"));
  EXPECT_NE(vtt.find("01:00:00.500 --> 01:00:00.501"), std::string::npos);
  EXPECT_EQ(vtt.find("<b>"), std::string::npos);
}

TEST(Writers, JsonHasIntegerMillisecondsAndOptionalWords) {
  auto t = sample();
  t.segments[0].words = {{" Fish", 0, 400, 0.9f}};
  t.segments[0].tokens = {{.id = 7, .text = " Fish", .p = 0.9f, .start_ms = 0, .end_ms = 400}};
  auto j = transcript_to_json(t, JsonOptions{.tokens = true, .words = true});
  EXPECT_TRUE(j["duration_ms"].is_number_integer());
  EXPECT_EQ(j["duration_ms"].get<int64_t>(), 3723500);
  EXPECT_TRUE(j["segments"][0]["start_ms"].is_number_integer());
  EXPECT_EQ(j["segments"][0]["words"][0]["word"], "Fish");
  EXPECT_EQ(j["segments"][0]["tokens"][0]["id"], 7);
  EXPECT_FALSE(transcript_to_json(t).at("segments")[0].contains("words"));
}

TEST(Writers, ParseFormats) {
  auto all = parse_formats("txt, JSON,srt,vtt,txt");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 4u);
  EXPECT_EQ(parse_formats("all")->size(), 4u);
  auto bad = parse_formats("txt,docx");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("docx"), std::string::npos);
}

TEST(Writers, WriteTranscriptWritesEveryFormatAtomically) {
  auto dir = TempDir::create("aimara-writers");
  ASSERT_TRUE(dir.has_value());
  auto paths = write_transcript(sample(), dir->path(), "show", *parse_formats("all"));
  ASSERT_TRUE(paths.has_value());
  ASSERT_EQ(paths->size(), 4u);
  for (const auto& p : *paths) EXPECT_TRUE(std::filesystem::exists(p)) << p;
  EXPECT_EQ(*read_file(dir->path() / "show.srt"), render_srt(sample()));
  auto bad = write_transcript(sample(), dir->path() / "missing" / "dir", "x", {Format::kTxt});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace aimara::output
