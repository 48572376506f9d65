#include "core/time_map.h"

#include <gtest/gtest.h>

namespace aimara {
namespace {

TEST(TimeMap, WithoutCutsIsAnOffset) {
  const TimeMap map(10'000, 15'000);
  EXPECT_EQ(map.buffer_ms(), 5'000);
  EXPECT_EQ(map.start_of(0), 10'000);
  EXPECT_EQ(map.start_of(1'234), 11'234);
  EXPECT_EQ(map.end_of(5'000), 15'000);
  // Times beyond the buffer are clamped to the span.
  EXPECT_EQ(map.start_of(-50), 10'000);
  EXPECT_EQ(map.end_of(7'000), 15'000);
  EXPECT_EQ(map.start_of(9'000), 15'000);
}

TEST(TimeMap, CutsAreSplicedOutAndTimesMapBackAcrossThem) {
  // Media [0, 20 s) without [4 s, 10 s) and [12 s, 15 s): pieces 0-4, 10-12, 15-20.
  const std::vector<TimeSpan> cuts{{4'000, 10'000}, {12'000, 15'000}};
  const TimeMap map(0, 20'000, cuts);
  ASSERT_EQ(map.pieces().size(), 3u);
  EXPECT_EQ(map.pieces()[1].buffer_ms, 4'000);
  EXPECT_EQ(map.pieces()[1].media, (TimeSpan{10'000, 12'000}));
  EXPECT_EQ(map.pieces()[2].buffer_ms, 6'000);
  EXPECT_EQ(map.buffer_ms(), 11'000);

  EXPECT_EQ(map.start_of(3'000), 3'000);
  EXPECT_EQ(map.start_of(5'000), 11'000);
  EXPECT_EQ(map.start_of(7'500), 16'500);
  // At a splice, a start belongs to the piece after it and an end to the piece before it.
  EXPECT_EQ(map.start_of(4'000), 10'000);
  EXPECT_EQ(map.end_of(4'000), 4'000);
  EXPECT_EQ(map.start_of(6'000), 15'000);
  EXPECT_EQ(map.end_of(6'000), 12'000);
  EXPECT_EQ(map.end_of(11'000), 20'000);
}

TEST(TimeMap, CutsOutsideTheSpanOrEmptyAreIgnored) {
  const std::vector<TimeSpan> cuts{{0, 500}, {2'000, 2'000}, {9'000, 12'000}};
  const TimeMap map(1'000, 10'000, cuts);
  ASSERT_EQ(map.pieces().size(), 1u);
  EXPECT_EQ(map.pieces()[0].media, (TimeSpan{1'000, 9'000}));
  EXPECT_EQ(map.end_of(8'000), 9'000);
}

TEST(TimeMap, EmptySpan) {
  const TimeMap map(3'000, 3'000);
  EXPECT_EQ(map.buffer_ms(), 0);
  EXPECT_EQ(map.start_of(0), 3'000);
  EXPECT_EQ(map.end_of(100), 3'000);
}

}  // namespace
}  // namespace aimara
