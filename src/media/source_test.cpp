#include "media/source.h"

#include <fstream>

#include <gtest/gtest.h>

#include "core/fs.h"

namespace aimara::media {
namespace {

namespace fs = std::filesystem;

fs::path shared_media(const std::string& name) {
  fs::path p = fs::path(AIMARA_SHARED_DIR) / "media" / name;
  if (!fs::exists(p)) {
    ADD_FAILURE() << "test data missing: " << p << " (the shared data folder must sit beside "
                  << "the repository as ../shared)";
  }
  return p;
}

class IngestLocal : public testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("aimara-source-test");
    ASSERT_TRUE(d.has_value());
    dir_ = std::make_unique<TempDir>(std::move(*d));
    // 11 s, 5.9 s, 2.9 s of speech, named so that path order is the reverse of length order.
    fs::copy_file(shared_media("ds_LDC93S1.wav"), root() / "c_short.wav");
    fs::copy_file(shared_media("pv_test.wav"), root() / "b_medium.wav");
    fs::copy_file(shared_media("jfk.mp3"), root() / "a_long.mp3");
    std::ofstream(root() / "readme.txt") << "not media";
  }
  fs::path root() const { return dir_->path(); }

  std::vector<std::string> titles(const Resolved& r) {
    std::vector<std::string> out;
    for (const auto& item : r.items) out.push_back(item.meta.title);
    return out;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(IngestLocal, FolderExpandsInPathOrder) {
  IngestSource source({});
  auto r = source.resolve(root().string());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->kind, ResolvedKind::kLocalFiles);
  EXPECT_EQ(titles(*r), (std::vector<std::string>{"a_long", "b_medium", "c_short"}));
  EXPECT_EQ(r->total_items, 3u);
  EXPECT_EQ(r->skipped, 1u);
  for (const auto& item : r->items) {
    EXPECT_EQ(item.kind, SourceKind::kLocalFile);
    EXPECT_EQ(item.meta.extractor, "local");
    EXPECT_TRUE(item.meta.duration_ms.has_value());
    EXPECT_EQ(item.dedup_key(), "local:" + item.input);
  }
}

TEST_F(IngestLocal, SortShortestThenMaxVideos) {
  IngestOptions opts;
  opts.sort_shortest = true;
  opts.max_videos = 2;
  IngestSource source(opts);
  auto r = source.resolve(root().string());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(titles(*r), (std::vector<std::string>{"c_short", "b_medium"}));
  EXPECT_EQ(r->total_items, 3u);
  ASSERT_TRUE(r->items[0].meta.duration_ms.has_value());
  EXPECT_LT(*r->items[0].meta.duration_ms, *r->items[1].meta.duration_ms);
}

TEST_F(IngestLocal, MaxVideosWithoutSortKeepsTheFirst) {
  IngestOptions opts;
  opts.max_videos = 1;
  IngestSource source(opts);
  auto r = source.resolve(root().string());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(titles(*r), (std::vector<std::string>{"a_long"}));
}

TEST_F(IngestLocal, FetchUsesTheFileWhereItLies) {
  IngestSource source({});
  auto r = source.resolve((root() / "b_medium.wav").string());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ResolvedKind::kSingle);
  ASSERT_EQ(r->items.size(), 1u);
  auto job = TempDir::create("aimara-source-job");
  ASSERT_TRUE(job.has_value());
  auto path = source.fetch(r->items[0], job->path());
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  EXPECT_EQ(*path, root() / "b_medium.wav");
  EXPECT_TRUE(fs::is_empty(job->path()));  // nothing copied
  // Gone since resolve: a clear error, not a crash.
  fs::remove(root() / "b_medium.wav");
  auto gone = source.fetch(r->items[0], job->path());
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kMediaNotFound);
}

TEST_F(IngestLocal, BadInputs) {
  IngestSource source({});
  auto missing = source.resolve((root() / "nope.mp3").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kMediaNotFound);
  auto text = source.resolve((root() / "readme.txt").string());
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code, ErrorCode::kMediaInvalid);
  auto empty = source.resolve("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  auto scheme = source.resolve("file:///etc/passwd");
  ASSERT_FALSE(scheme.has_value());
  EXPECT_EQ(scheme.error().code, ErrorCode::kMediaNotFound);
}

TEST(IngestRemote, DirectMediaUrlsNeedNoNetworkToResolve) {
  IngestSource source({});
  auto r = source.resolve("http://127.0.0.1:9/podcast/Episode%2012.mp3?token=x");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->items.size(), 1u);
  const MediaItem& item = r->items[0];
  EXPECT_EQ(item.kind, SourceKind::kDirectHttp);
  EXPECT_EQ(item.platform, Platform::kGeneric);
  EXPECT_EQ(item.meta.title, "Episode 12");
  EXPECT_EQ(item.dedup_key(), "Generic:http://127.0.0.1:9/podcast/Episode%2012.mp3?token=x");
}

TEST(IngestRemote, RateLimitKeys) {
  EXPECT_EQ(rate_limit_key("https://youtu.be/dQw4w9WgXcQ"), "youtube");
  EXPECT_EQ(rate_limit_key("https://www.tiktok.com/@a/video/1"), "tiktok");
  EXPECT_EQ(rate_limit_key("https://twitter.com/a/status/1"), "x");
  EXPECT_EQ(rate_limit_key("http://127.0.0.1:8080/a.mp3"), "generic:127.0.0.1");
  RateLimits limits = default_rate_limits();
  EXPECT_GT(limits.keys.at("youtube").requests_per_minute, 0);
  EXPECT_LE(limits.default_limit.requests_per_minute, 0);  // generic: unlimited
}

TEST(IngestRemote, DedupKeysUseSiteIds) {
  MediaItem item;
  item.platform = Platform::kYouTube;
  item.input = "https://youtu.be/dQw4w9WgXcQ";
  item.meta.extractor = "Youtube";
  item.meta.id = "dQw4w9WgXcQ";
  EXPECT_EQ(item.dedup_key(), "Youtube:dQw4w9WgXcQ");
  MediaItem feed;
  feed.platform = Platform::kGeneric;
  feed.input = "http://h/ep1.mp3#__youtubedl_smuggle=%7B%7D";
  feed.meta.extractor = "Generic";
  feed.meta.id = "ep1";
  EXPECT_EQ(feed.dedup_key(), "Generic:http://h/ep1.mp3");
}

}  // namespace
}  // namespace aimara::media
