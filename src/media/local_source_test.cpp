#include "media/local_source.h"

#include <algorithm>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/process.h"

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

void write(const fs::path& p, std::string_view content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

std::vector<std::string> names(const std::vector<LocalMedia>& media, const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& m : media) out.push_back(m.path.lexically_relative(root).string());
  return out;
}

class LocalSource : public testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("aimara-local-source-test");
    ASSERT_TRUE(d.has_value());
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  fs::path root() const { return dir_->path(); }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(LocalSource, ProbesSharedMediaByContent) {
  struct Expect {
    const char* name;
    bool audio;
    bool video;
    int64_t min_ms;
    int64_t max_ms;
  };
  const Expect expected[] = {
      {"jfk.wav", true, false, 10900, 11100},
      {"jfk.mp3", true, false, 10900, 11200},
      {"silero_test.opus", true, false, 7500, 8500},
      {"pydub_format_test.m4a", true, false, 9500, 9900},
      {"pydub_creative_common.mp4", true, true, 2000, 2600},
      {"pydub_test5.webm", true, false, 1300, 1700},
      {"ft_fixture.ogg", true, false, 1, 60000},
      {"libwebm_test_stereo_left_right.webm", false, true, 0, 600000},
  };
  for (const Expect& e : expected) {
    fs::path src = shared_media(e.name);
    // The name is withheld from the probe: a copy without extension is recognised the same.
    std::string bare_name = std::string("no_extension_") + e.name;
    std::replace(bare_name.begin(), bare_name.end(), '.', '_');
    fs::path bare = root() / bare_name;
    fs::copy_file(src, bare);
    for (const fs::path& p : {src, bare}) {
      auto info = probe_media(p);
      ASSERT_TRUE(info.has_value()) << p << ": " << info.error().to_string();
      EXPECT_EQ(info->has_audio, e.audio) << p;
      EXPECT_EQ(info->has_video, e.video) << p;
      if (e.min_ms > 0) {
        ASSERT_TRUE(info->duration_ms.has_value()) << p;
        EXPECT_GE(*info->duration_ms, e.min_ms) << p;
        EXPECT_LE(*info->duration_ms, e.max_ms) << p;
      }
    }
  }
}

TEST_F(LocalSource, TruncatedMediaWithAGoodHeaderIsStillMedia) {
  auto info = probe_media(shared_media("ft_fixture2.mkv"));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_TRUE(info->has_audio || info->has_video);
}

TEST_F(LocalSource, NonMediaIsRecognisedWhateverItsName) {
  write(root() / "notes.mp3", "These are my notes about the meeting.\nNothing to hear here.\n");
  write(root() / "subs.srt", "1\n00:00:01,000 --> 00:00:02,000\nHello\n\n");
  write(root() / "empty.wav", "");
  std::mt19937 rng(42);
  std::string noise(200000, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xff);
  write(root() / "noise.m4a", noise);
  for (const char* name : {"notes.mp3", "subs.srt", "empty.wav", "noise.m4a"}) {
    auto info = probe_media(root() / name);
    ASSERT_FALSE(info.has_value()) << name << " was taken for " << info->format;
    EXPECT_EQ(info.error().code, ErrorCode::kMediaInvalid) << name;
    EXPECT_NE(info.error().message.find(name), std::string::npos);
  }
}

TEST_F(LocalSource, StillImagesAreNotMedia) {
  fs::path png = root() / "picture.mp4";
  ProcessOptions opts;
  opts.timeout = std::chrono::seconds(30);
  auto r = run_process({"ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32",
                        "-frames:v", "1", "-f", "image2", "-c:v", "png", png.string()},
                       opts);
  ASSERT_TRUE(r.has_value() && r->ok()) << (r ? r->err : r.error().to_string());
  auto info = probe_media(png);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kMediaInvalid);
}

TEST_F(LocalSource, MissingFileAndFolderErrors) {
  auto missing = probe_media(root() / "nope.mp3");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kMediaNotFound);
  auto folder = probe_media(root());
  ASSERT_FALSE(folder.has_value());
  EXPECT_EQ(folder.error().code, ErrorCode::kIo);
  auto scan = scan_local(root() / "nope");
  ASSERT_FALSE(scan.has_value());
  EXPECT_EQ(scan.error().code, ErrorCode::kMediaNotFound);
}

TEST_F(LocalSource, SingleFileScan) {
  fs::copy_file(shared_media("pv_test.wav"), root() / "talk");
  auto scan = scan_local(root() / "talk");
  ASSERT_TRUE(scan.has_value());
  ASSERT_EQ(scan->media.size(), 1u);
  EXPECT_EQ(scan->media[0].path, root() / "talk");
  write(root() / "readme.txt", "hello");
  auto text = scan_local(root() / "readme.txt");
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().code, ErrorCode::kMediaInvalid);
}

TEST_F(LocalSource, FolderScanIsRecursiveSortedAndQuietAboutNonMedia) {
  fs::create_directories(root() / "b" / "deeper");
  fs::create_directories(root() / "a");
  fs::create_directories(root() / ".hidden");
  fs::copy_file(shared_media("jfk.mp3"), root() / "b" / "deeper" / "z_speech");
  fs::copy_file(shared_media("pv_test.wav"), root() / "a" / "talk.WAV");
  fs::copy_file(shared_media("silero_test.opus"), root() / "m.bin");
  fs::copy_file(shared_media("ds_LDC93S1.wav"), root() / ".hidden" / "x.wav");
  write(root() / "a" / "notes.mp3", "not audio at all");
  write(root() / "b" / "list.txt", "1\n2\n3\n");
  // A link to a file is followed; a link to a folder is not (no loops, no duplicates).
  fs::create_symlink(root() / "a" / "talk.WAV", root() / "b" / "link_to_talk");
  fs::create_directory_symlink(root(), root() / "b" / "loop");
  // A link whose target is gone cannot be read: reported, and the scan goes on.
  fs::create_symlink(root() / "gone.mp3", root() / "b" / "dangling.mp3");

  auto scan = scan_local(root());
  ASSERT_TRUE(scan.has_value()) << scan.error().to_string();
  EXPECT_EQ(names(scan->media, root()), (std::vector<std::string>{"a/talk.WAV", "b/deeper/z_speech",
                                                                  "b/link_to_talk", "m.bin"}));
  EXPECT_EQ(scan->skipped, 2u);
  ASSERT_EQ(scan->unreadable.size(), 1u);
  EXPECT_EQ(scan->unreadable[0].path, root() / "b" / "dangling.mp3");
  EXPECT_FALSE(scan->unreadable[0].error.message.empty());
  for (const auto& m : scan->media) {
    EXPECT_TRUE(m.path.is_absolute());
    EXPECT_TRUE(m.probe.has_audio);
  }

  // Same input, same answer.
  auto again = scan_local(root());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(names(again->media, root()), names(scan->media, root()));
}

TEST_F(LocalSource, EmptyFolderIsAnEmptyScan) {
  auto scan = scan_local(root());
  ASSERT_TRUE(scan.has_value());
  EXPECT_TRUE(scan->media.empty());
  EXPECT_TRUE(scan->unreadable.empty());
  EXPECT_EQ(scan->skipped, 0u);
}

}  // namespace
}  // namespace aimara::media
