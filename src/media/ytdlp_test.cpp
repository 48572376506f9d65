#include "media/ytdlp.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "core/fs.h"

namespace aimara::media {
namespace {

namespace fs = std::filesystem;

// What Debian's yt-dlp 2023.03.04 prints for a direct media URL (trimmed).
constexpr std::string_view kDirectJson = R"({
  "id": "jfk", "title": "jfk", "timestamp": 1795314286.0, "direct": true,
  "formats": [{"format_id": "mpeg", "url": "http://127.0.0.1:8765/jfk.mp3", "ext": "mp3"}],
  "webpage_url": "http://127.0.0.1:8765/jfk.mp3",
  "original_url": "http://127.0.0.1:8765/jfk.mp3",
  "extractor": "generic", "extractor_key": "Generic", "playlist": null,
  "upload_date": "20261122", "url": "http://127.0.0.1:8765/jfk.mp3", "ext": "mp3",
  "_type": "video"})";

// ... and for an RSS feed with --flat-playlist (the first entry has itunes:duration).
constexpr std::string_view kFeedJson = R"({
  "_type": "playlist", "id": "http://127.0.0.1:8765/feed.xml", "title": "Test Pod",
  "entries": [
    {"_type": "url_transparent",
     "url": "http://127.0.0.1:8765/pod/ep3.mp3#__youtubedl_smuggle=%7B%22force_videoid%22%3A+%22ep3%22%7D",
     "title": "Episode three", "duration": 3.0, "timestamp": null},
    {"_type": "url_transparent",
     "url": "http://127.0.0.1:8765/pod/ep%201.mp3", "title": "Episode one", "duration": null},
    {"_type": "url_transparent",
     "url": "http://127.0.0.1:8765/pod/ep2.mp3#__youtubedl_smuggle=%7B%22force_videoid%22%3A+%22ep2%22%7D",
     "duration": 2.5}
  ],
  "webpage_url": "http://127.0.0.1:8765/feed.xml",
  "original_url": "http://127.0.0.1:8765/feed.xml",
  "extractor": "generic", "extractor_key": "Generic", "playlist_count": 3})";

// A YouTube playlist in flat mode; a channel's tabs; a nested playlist inline.
constexpr std::string_view kYouTubeJson = R"({
  "_type": "playlist", "id": "PL123", "title": "My list", "uploader": "Someone",
  "channel": "Someone", "webpage_url": "https://www.youtube.com/playlist?list=PL123",
  "extractor_key": "YoutubeTab",
  "entries": [
    {"_type": "url", "ie_key": "Youtube", "id": "dQw4w9WgXcQ",
     "url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "title": "First", "duration": 212,
     "channel": "Chan"},
    null,
    {"_type": "url", "ie_key": "YoutubeTab", "id": "UCxyz",
     "url": "https://www.youtube.com/@x/shorts", "title": "X - Shorts"},
    {"_type": "playlist", "id": "inner", "entries": [
      {"_type": "url", "ie_key": "Youtube", "id": "aBcDeFgHiJk",
       "url": "https://www.youtube.com/watch?v=aBcDeFgHiJk", "title": "Inner", "duration": 61.5}
    ]}
  ]})";

TEST(ParseYtDlpJson, DirectMediaUrl) {
  auto info = parse_ytdlp_json(kDirectJson);
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_FALSE(info->is_playlist);
  EXPECT_EQ(info->meta.id, "jfk");
  EXPECT_EQ(info->meta.extractor, "Generic");
  EXPECT_EQ(info->meta.title, "jfk");
  EXPECT_FALSE(info->meta.duration_ms.has_value());  // the generic extractor does not say
  EXPECT_EQ(info->meta.webpage_url, "http://127.0.0.1:8765/jfk.mp3");
  EXPECT_EQ(info->meta.url, "http://127.0.0.1:8765/jfk.mp3");
  EXPECT_EQ(info->meta.upload_date, "20261122");
  EXPECT_TRUE(info->meta.direct);
  EXPECT_TRUE(info->entries.empty());
}

TEST(ParseYtDlpJson, FeedEntriesWithSmuggledIdsAndDurations) {
  auto info = parse_ytdlp_json(kFeedJson);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->is_playlist);
  EXPECT_EQ(info->meta.title, "Test Pod");
  EXPECT_EQ(info->meta.extractor, "Generic");
  ASSERT_EQ(info->entries.size(), 3u);
  const MediaMeta& e0 = info->entries[0];
  EXPECT_EQ(e0.id, "ep3");
  EXPECT_EQ(e0.title, "Episode three");
  EXPECT_EQ(e0.duration_ms, 3000);
  EXPECT_EQ(e0.extractor, "Generic");
  EXPECT_EQ(e0.webpage_url, "http://127.0.0.1:8765/pod/ep3.mp3");
  EXPECT_NE(e0.url.find("__youtubedl_smuggle"), std::string::npos);  // yt-dlp wants it back
  EXPECT_EQ(info->entries[1].id, "ep 1");
  EXPECT_FALSE(info->entries[1].duration_ms.has_value());
  EXPECT_EQ(info->entries[2].title, "ep2");  // no title: the id stands in
  EXPECT_EQ(info->entries[2].duration_ms, 2500);
}

TEST(ParseYtDlpJson, YouTubePlaylistFlattensNestedAndMarksTabs) {
  auto info = parse_ytdlp_json(kYouTubeJson);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->is_playlist);
  EXPECT_EQ(info->meta.id, "PL123");
  EXPECT_EQ(info->meta.uploader, "Someone");
  ASSERT_EQ(info->entries.size(), 3u);
  EXPECT_EQ(info->entries[0].id, "dQw4w9WgXcQ");
  EXPECT_EQ(info->entries[0].extractor, "Youtube");
  EXPECT_EQ(info->entries[0].duration_ms, 212000);
  EXPECT_EQ(info->entries[0].uploader, "Chan");
  EXPECT_EQ(info->entries[0].webpage_url, "https://www.youtube.com/watch?v=dQw4w9WgXcQ");
  EXPECT_FALSE(info->entries[0].expands);
  EXPECT_TRUE(info->entries[1].expands);  // a channel tab: resolve expands it
  EXPECT_EQ(info->entries[2].id, "aBcDeFgHiJk");
  EXPECT_EQ(info->entries[2].duration_ms, 61500);
}

TEST(ParseYtDlpJson, FailureOutputIsAnError) {
  for (std::string_view bad : {"null", "", "not json", "[1,2]", "\"x\""}) {
    auto info = parse_ytdlp_json(bad);
    ASSERT_FALSE(info.has_value()) << bad;
    EXPECT_EQ(info.error().code, ErrorCode::kDownloadFailed);
  }
}

struct ClassifyCase {
  const char* stderr_text;
  ErrorCode code;
};

const ClassifyCase kClassify[] = {
    {"ERROR: [generic] None: Unable to download webpage: HTTP Error 429: Too Many Requests "
     "(caused by <HTTPError 429: 'Too Many Requests'>); please report this issue on  "
     "https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template.",
     ErrorCode::kRateLimited},
    {"WARNING: something\nERROR: [youtube] abc: Sign in to confirm you're not a bot. Use "
     "--cookies-from-browser or --cookies for the authentication.",
     ErrorCode::kNeedsCredentials},
    {"ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for "
     "some users.",
     ErrorCode::kNeedsCredentials},
    {"ERROR: [instagram] Cx1: Requested content is not available, rate-limit reached or login "
     "required. Use --cookies",
     ErrorCode::kNeedsCredentials},
    {"ERROR: [generic] None: Unable to download webpage: HTTP Error 403: Forbidden (caused by "
     "<HTTPError 403: 'Forbidden'>)",
     ErrorCode::kDownloadForbidden},
    {"ERROR: unable to download video data: HTTP Error 403: Forbidden",
     ErrorCode::kDownloadForbidden},
    {"ERROR: [youtube] abc: Video unavailable. The uploader has not made this video available "
     "in your country",
     ErrorCode::kDownloadForbidden},
    {"ERROR: [youtube] dQw4w9WgXcQ: Video unavailable", ErrorCode::kDownloadUnavailable},
    {"ERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to "
     "this video",
     ErrorCode::kDownloadUnavailable},
    {"ERROR: [youtube] abc: This video has been removed by the uploader",
     ErrorCode::kDownloadUnavailable},
    {"ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by "
     "<HTTPError 404: 'Not Found'>)",
     ErrorCode::kDownloadUnavailable},
    {"ERROR: Unsupported URL: https://example.org/", ErrorCode::kDownloadUnavailable},
    {"ERROR: [generic] None: Unable to download webpage: <urlopen error [Errno 111] Connection "
     "refused> (caused by URLError(ConnectionRefusedError(111, 'Connection refused')))",
     ErrorCode::kNetwork},
    {"ERROR: [generic] None: Unable to download webpage: HTTP Error 503: Service Unavailable",
     ErrorCode::kNetwork},
    {"ERROR: unable to download video data: <urlopen error timed out>", ErrorCode::kNetwork},
    {"ERROR: [youtube] x: Temporary failure in name resolution", ErrorCode::kNetwork},
    {"ERROR: Postprocessing: ffprobe and ffmpeg not found", ErrorCode::kDownloadFailed},
    {"", ErrorCode::kDownloadFailed},
};

class ClassifyYtDlp : public testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyYtDlp, MapsStderrToErrorCode) {
  const ClassifyCase& c = GetParam();
  Error e = classify_ytdlp_failure(c.stderr_text);
  EXPECT_EQ(error_code_name(e.code), error_code_name(c.code)) << c.stderr_text;
  EXPECT_FALSE(e.message.empty());
}

INSTANTIATE_TEST_SUITE_P(Messages, ClassifyYtDlp, testing::ValuesIn(kClassify));

TEST(ClassifyYtDlp, MessageQuotesTheLastErrorLineWithoutThePlea) {
  Error e = classify_ytdlp_failure(
      "[generic] Extracting URL: http://x/a.mp3\nWARNING: w\nERROR: [generic] None: Unable to "
      "download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404>); please report "
      "this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out\n");
  EXPECT_NE(e.message.find("HTTP Error 404: Not Found"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("please report"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("WARNING"), std::string::npos) << e.message;
}

TEST(YtDlpArgs, OptionsSeparatorAndFixedOutputName) {
  YtDlp y(YtDlpOptions{"/opt/yt-dlp", {}, std::chrono::seconds(5), std::chrono::seconds(5), 7});
  auto r = y.resolve_args("-https://evil/--exec", 0);
  ASSERT_GE(r.size(), 3u);
  EXPECT_EQ(r[0], "/opt/yt-dlp");
  EXPECT_EQ(r[1], "--ignore-config");
  EXPECT_NE(std::find(r.begin(), r.end(), "--no-progress"), r.end());
  EXPECT_NE(std::find(r.begin(), r.end(), "-J"), r.end());
  EXPECT_NE(std::find(r.begin(), r.end(), "--flat-playlist"), r.end());
  EXPECT_EQ(std::find(r.begin(), r.end(), "--playlist-end"), r.end());
  ASSERT_EQ(r[r.size() - 2], "--");
  EXPECT_EQ(r.back(), "-https://evil/--exec");
  auto limited = y.resolve_args("https://h/x", 2);
  auto end = std::find(limited.begin(), limited.end(), "--playlist-end");
  ASSERT_NE(end, limited.end());
  EXPECT_EQ(*(end + 1), "2");

  auto f = y.fetch_args("https://h/a%b", "/jobs/50%off");
  EXPECT_EQ(f[1], "--ignore-config");
  auto fmt = std::find(f.begin(), f.end(), "-f");
  ASSERT_NE(fmt, f.end());
  EXPECT_EQ(*(fmt + 1), "bestaudio/best");
  EXPECT_NE(std::find(f.begin(), f.end(), "--abort-on-unavailable-fragments"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "--no-playlist"), f.end());
  auto out = std::find(f.begin(), f.end(), "-o");
  ASSERT_NE(out, f.end());
  // '%' in the folder is escaped so yt-dlp does not read it as a template field.
  EXPECT_EQ(*(out + 1), "/jobs/50%%off/media.%(ext)s");
  ASSERT_EQ(f[f.size() - 2], "--");
  EXPECT_EQ(f.back(), "https://h/a%b");
}

TEST(YtDlp, MissingProgramSaysHowToFixIt) {
  YtDlp y(YtDlpOptions{"/nonexistent/yt-dlp"});
  auto r = y.resolve("https://example.org/x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("AIMARA_YTDLP"), std::string::npos);
}

TEST(YtDlp, DefaultProgramFollowsTheEnvironment) {
  ::setenv("AIMARA_YTDLP", "/custom/yt-dlp", 1);
  EXPECT_EQ(default_ytdlp_program(), "/custom/yt-dlp");
  ::unsetenv("AIMARA_YTDLP");
  EXPECT_EQ(default_ytdlp_program(), "yt-dlp");
}

TEST(StripSmuggledData, KeepsTheRealUrl) {
  EXPECT_EQ(strip_smuggled_data("http://h/a.mp3#__youtubedl_smuggle=%7B%7D"), "http://h/a.mp3");
  EXPECT_EQ(strip_smuggled_data("http://h/a.mp3#t=3"), "http://h/a.mp3#t=3");
}

class FindFetchedMedia : public testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("aimara-ytdlp-test");
    ASSERT_TRUE(d.has_value());
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  fs::path dir() const { return dir_->path(); }
  void touch(const fs::path& p) { std::ofstream(p) << "x"; }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(FindFetchedMedia, PrintedPathInsideTheJobFolder) {
  touch(dir() / "media.m4a");
  auto r = find_fetched_media(dir(), (dir() / "media.m4a").string());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, fs::canonical(dir() / "media.m4a"));
}

TEST_F(FindFetchedMedia, ScansForTheFinishedFileWhenNothingWasPrinted) {
  touch(dir() / "media.webm.part");
  touch(dir() / "media.webm.ytdl");
  touch(dir() / "other.mp3");
  auto none = find_fetched_media(dir(), "");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kDownloadFailed);
  touch(dir() / "media.webm");
  auto r = find_fetched_media(dir(), "");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->filename(), "media.webm");
}

TEST_F(FindFetchedMedia, RefusesFilesOutsideTheFolderAndLinks) {
  auto outside = TempDir::create("aimara-ytdlp-outside");
  ASSERT_TRUE(outside.has_value());
  touch(outside->path() / "media.mp3");
  // A printed path elsewhere, one through "..", one in a sub-folder, and a link to a file
  // outside: all refused.
  EXPECT_FALSE(find_fetched_media(dir(), (outside->path() / "media.mp3").string()).has_value());
  fs::create_directory(dir() / "sub");
  touch(dir() / "sub" / "media.mp3");
  EXPECT_FALSE(find_fetched_media(dir() / "sub", "../sub/../../x/media.mp3").has_value());
  EXPECT_FALSE(find_fetched_media(dir(), (dir() / "sub" / "media.mp3").string()).has_value());
  fs::create_symlink(outside->path() / "media.mp3", dir() / "media.mp3");
  auto link = find_fetched_media(dir(), "");
  ASSERT_FALSE(link.has_value());
  EXPECT_EQ(link.error().code, ErrorCode::kDownloadFailed);
  EXPECT_FALSE(find_fetched_media(dir(), (dir() / "media.mp3").string()).has_value());
}

}  // namespace
}  // namespace aimara::media
