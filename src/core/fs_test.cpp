#include "core/fs.h"

#include <gtest/gtest.h>

namespace aimara {
namespace {

TEST(WriteFileAtomic, ReplacesContentAndLeavesNoTempFile) {
  auto dir = TempDir::create("aimara-fs-test");
  ASSERT_TRUE(dir.has_value());
  auto target = dir->path() / "out.txt";
  ASSERT_TRUE(write_file_atomic(target, "first").has_value());
  ASSERT_TRUE(write_file_atomic(target, "second").has_value());
  EXPECT_EQ(*read_file(target), "second");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir->path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(WriteFileAtomic, MissingFolderIsAnIoError) {
  auto r = write_file_atomic("/nonexistent-aimara-dir/x.txt", "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
}

TEST(TempDir, RemovedOnDestruction) {
  std::filesystem::path p;
  {
    auto dir = TempDir::create("aimara-fs-test");
    ASSERT_TRUE(dir.has_value());
    p = dir->path();
    ASSERT_TRUE(write_file_atomic(p / "f", "x").has_value());
    EXPECT_TRUE(std::filesystem::exists(p));
  }
  EXPECT_FALSE(std::filesystem::exists(p));
}

}  // namespace
}  // namespace aimara
