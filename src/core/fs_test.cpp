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

TEST(CreateFolder, CreatesParentsAndReturnsTheCanonicalPath) {
  auto dir = TempDir::create("aimara-fs-test");
  ASSERT_TRUE(dir.has_value());
  auto made = create_folder(dir->path() / "a" / ".." / "b" / "c", "job folder");
  ASSERT_TRUE(made.has_value()) << made.error().to_string();
  EXPECT_EQ(*made, std::filesystem::canonical(dir->path()) / "b" / "c");
  EXPECT_TRUE(std::filesystem::is_directory(*made));
  auto again = create_folder(*made, "job folder");  // an existing folder is fine
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *made);
}

TEST(CreateFolder, AFileInTheWayIsAnIoErrorNamingTheFolder) {
  auto dir = TempDir::create("aimara-fs-test");
  ASSERT_TRUE(dir.has_value());
  ASSERT_TRUE(write_file_atomic(dir->path() / "f", "x").has_value());
  for (const auto& target : {dir->path() / "f", dir->path() / "f" / "sub"}) {
    auto r = create_folder(target, "work folder");
    ASSERT_FALSE(r.has_value()) << target;
    EXPECT_EQ(r.error().code, ErrorCode::kIo);
    EXPECT_NE(r.error().message.find("cannot create the work folder '" + target.string() + "'"),
              std::string::npos)
        << r.error().message;
  }
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
