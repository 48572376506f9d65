// Media ingest end to end: Debian's real yt-dlp (and libcurl for direct media) against a local HTTP
// server on 127.0.0.1 serving real media, an RSS feed with enclosures, and error answers.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/process.h"
#include "media/source.h"
#include "media/ytdlp.h"
#include "support/aimara_cli.h"
#include "support/fixture_server.h"

namespace aimara {
namespace {

namespace fs = std::filesystem;
using media::DirectMode;
using media::IngestOptions;
using media::IngestSource;
using media::MediaItem;
using media::Resolved;
using media::ResolvedKind;
using media::SourceKind;
using media::YtDlp;
using media::YtDlpOptions;
using std::chrono::seconds;

// Every yt-dlp call in these tests is bounded.
YtDlpOptions ytdlp_options() {
  YtDlpOptions o;
  o.program = media::default_ytdlp_program();
  o.resolve_timeout = seconds(60);
  o.fetch_timeout = seconds(60);
  o.socket_timeout_s = 10;
  return o;
}

IngestOptions ingest_options(DirectMode direct) {
  IngestOptions o;
  o.ytdlp = media::default_ytdlp_program();
  o.direct = direct;
  o.resolve_timeout = seconds(60);
  o.fetch_timeout = seconds(60);
  o.probe_timeout = seconds(20);
  o.socket_timeout_s = 10;
  return o;
}

std::string bytes_of(const fs::path& p) {
  auto r = read_file(p);
  EXPECT_TRUE(r.has_value()) << p;
  return r.value_or("");
}

void make_tone(const fs::path& out, int seconds_long) {
  ProcessOptions opts;
  opts.timeout = seconds(60);
  auto r = run_process({"ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "sine=frequency=440:duration=" + std::to_string(seconds_long), "-c:a",
                        "libmp3lame", "-b:a", "64k", out.string()},
                       opts);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_TRUE(r->ok()) << r->err;
}

class IngestE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = TempDir::create("aimara-ingest-e2e-root");
    ASSERT_TRUE(root.has_value());
    root_ = std::make_unique<TempDir>(std::move(*root));
    auto jobs = TempDir::create("aimara-ingest-e2e-jobs");
    ASSERT_TRUE(jobs.has_value());
    jobs_ = std::make_unique<TempDir>(std::move(*jobs));

    fs::copy_file(testing::shared_file("media/jfk.mp3"), root_->path() / "jfk.mp3");
    // A podcast whose feed order (by name) is not its length order.
    fs::create_directories(root_->path() / "pod");
    make_tone(root_->path() / "pod" / "ep_a.mp3", 3);
    make_tone(root_->path() / "pod" / "ep_b.mp3", 1);
    make_tone(root_->path() / "pod" / "ep_c.mp3", 2);

    auto server = testing::FixtureServer::start(root_->path());
    ASSERT_TRUE(server.has_value()) << server.error().to_string();
    server_ = std::make_unique<testing::FixtureServer>(std::move(*server));
  }

  std::string url(const std::string& path) const { return server_->url(path); }
  std::string feed_url() const { return url("/feed.xml?dir=pod"); }
  fs::path job(const std::string& name) const { return jobs_->path() / name; }

  static std::vector<std::string> stems(const Resolved& r) {
    std::vector<std::string> out;
    for (const MediaItem& item : r.items) {
      out.push_back(fs::path(media::strip_smuggled_data(item.input)).stem().string());
    }
    return out;
  }

  std::unique_ptr<TempDir> root_;
  std::unique_ptr<TempDir> jobs_;
  std::unique_ptr<testing::FixtureServer> server_;
};

TEST_F(IngestE2E, YtDlpResolvesAndFetchesASingleMediaUrl) {
  YtDlp ytdlp(ytdlp_options());
  auto info = ytdlp.resolve(url("/jfk.mp3"));
  ASSERT_TRUE(info.has_value()) << info.error().to_string();
  EXPECT_FALSE(info->is_playlist);
  EXPECT_EQ(info->meta.id, "jfk");
  EXPECT_EQ(info->meta.extractor, "Generic");
  EXPECT_TRUE(info->meta.direct);
  EXPECT_EQ(info->meta.webpage_url, url("/jfk.mp3"));

  auto path = ytdlp.fetch(url("/jfk.mp3"), job("single"));
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  EXPECT_EQ(path->parent_path(), fs::canonical(job("single")));
  EXPECT_EQ(path->filename(), "media.mp3");
  EXPECT_EQ(bytes_of(*path), bytes_of(root_->path() / "jfk.mp3"));
  // Nothing else is left behind in the job folder.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(job("single"))) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(IngestE2E, DirectMediaUrlIsDownloadedWithoutYtDlp) {
  // A yt-dlp that cannot run proves the direct path does not need it.
  IngestOptions opts = ingest_options(DirectMode::kAuto);
  opts.ytdlp = "/nonexistent/yt-dlp";
  IngestSource source(opts);
  auto r = source.resolve(url("/jfk.mp3"));
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_EQ(r->items[0].kind, SourceKind::kDirectHttp);
  EXPECT_EQ(r->items[0].meta.title, "jfk");
  auto path = source.fetch(r->items[0], job("direct"));
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  EXPECT_EQ(path->filename(), "media.mp3");
  EXPECT_EQ(bytes_of(*path), bytes_of(root_->path() / "jfk.mp3"));
}

TEST_F(IngestE2E, FeedExpandsToItsEntriesWithTitles) {
  IngestSource source(ingest_options(DirectMode::kNever));
  auto r = source.resolve(feed_url());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->kind, ResolvedKind::kPlaylist);
  EXPECT_EQ(r->collection.extractor, "Generic");
  ASSERT_EQ(r->items.size(), 3u);
  EXPECT_EQ(stems(*r), (std::vector<std::string>{"ep_a", "ep_b", "ep_c"}));
  std::set<std::string> titles;
  std::set<std::string> keys;
  for (const MediaItem& item : r->items) {
    EXPECT_FALSE(item.meta.title.empty());
    titles.insert(item.meta.title);
    keys.insert(item.dedup_key());
    EXPECT_EQ(item.kind, SourceKind::kYtDlp);
    EXPECT_EQ(item.platform, media::Platform::kGeneric);
  }
  EXPECT_EQ(titles.size(), 3u);
  EXPECT_EQ(keys.size(), 3u);
}

TEST_F(IngestE2E, MaxVideosKeepsTheFirstEntries) {
  IngestOptions opts = ingest_options(DirectMode::kAuto);
  opts.max_videos = 2;
  IngestSource source(opts);
  auto r = source.resolve(feed_url());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(stems(*r), (std::vector<std::string>{"ep_a", "ep_b"}));
  // Feed enclosures are plain media files: fetched without yt-dlp.
  for (const MediaItem& item : r->items) EXPECT_EQ(item.kind, SourceKind::kDirectHttp);
}

TEST_F(IngestE2E, SortShortestPutsShortEpisodesFirst) {
  IngestOptions opts = ingest_options(DirectMode::kAuto);
  opts.sort_shortest = true;
  opts.max_videos = 2;
  IngestSource source(opts);
  auto r = source.resolve(feed_url());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->total_items, 3u);
  EXPECT_EQ(stems(*r), (std::vector<std::string>{"ep_b", "ep_c"}));
  ASSERT_TRUE(r->items[0].meta.duration_ms.has_value());
  ASSERT_TRUE(r->items[1].meta.duration_ms.has_value());
  EXPECT_NEAR(static_cast<double>(*r->items[0].meta.duration_ms), 1000, 150);
  EXPECT_NEAR(static_cast<double>(*r->items[1].meta.duration_ms), 2000, 150);
}

TEST_F(IngestE2E, AMissingEntryFailsAloneAsUnavailable) {
  IngestSource source(ingest_options(DirectMode::kNever));
  auto r = source.resolve(feed_url());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->items.size(), 3u);
  // The episode disappears between listing and download: the server answers 404.
  fs::remove(root_->path() / "pod" / "ep_b.mp3");
  std::vector<std::string> outcomes;
  for (size_t i = 0; i < r->items.size(); ++i) {
    auto path = source.fetch(r->items[i], job("entry" + std::to_string(i)));
    outcomes.push_back(path ? "ok" : std::string(error_code_name(path.error().code)));
    if (path) {
      EXPECT_EQ(bytes_of(*path), bytes_of(root_->path() / "pod" / (stems(*r)[i] + ".mp3")));
    }
  }
  EXPECT_EQ(outcomes, (std::vector<std::string>{"ok", "download_unavailable", "ok"}));
}

TEST_F(IngestE2E, TooManyRequestsIsRateLimitedAndSlowsTheWholeSite) {
  IngestSource source(ingest_options(DirectMode::kNever));
  auto before = std::chrono::steady_clock::now();
  auto r = source.resolve(url("/status/429/page"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kRateLimited) << r.error().to_string();
  // Every later request to this site now waits for the penalty.
  EXPECT_GT(source.rate_limiter().penalty_until(media::rate_limit_key(url("/anything"))),
            before + seconds(10));

  YtDlp ytdlp(ytdlp_options());
  auto fetched = ytdlp.fetch(url("/status/429/a.mp3"), job("429"));
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, ErrorCode::kRateLimited) << fetched.error().to_string();
}

TEST_F(IngestE2E, ForbiddenIsDownloadForbidden) {
  YtDlp ytdlp(ytdlp_options());
  auto info = ytdlp.resolve(url("/status/403/page"));
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kDownloadForbidden) << info.error().to_string();
  auto fetched = ytdlp.fetch(url("/status/403/a.mp3"), job("403"));
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, ErrorCode::kDownloadForbidden) << fetched.error().to_string();
  // Through libcurl the same answer means the same thing.
  IngestSource source(ingest_options(DirectMode::kAuto));
  auto r = source.resolve(url("/status/403/a.mp3"));
  ASSERT_TRUE(r.has_value());
  auto direct = source.fetch(r->items[0], job("403-direct"));
  ASSERT_FALSE(direct.has_value());
  EXPECT_EQ(direct.error().code, ErrorCode::kDownloadForbidden) << direct.error().to_string();
}

TEST_F(IngestE2E, CookiesArePassedAsAPrivateCopy) {
  fs::path cookies = root_->path() / "my-cookies.txt";
  const std::string content =
      "# Netscape HTTP Cookie File\n"
      "127.0.0.1\tFALSE\t/\tFALSE\t2147483647\tsession\tabc123\n";
  ASSERT_TRUE(write_file_atomic(cookies, content).has_value());
  YtDlpOptions opts = ytdlp_options();
  opts.cookies = cookies;
  YtDlp ytdlp(opts);
  auto path = ytdlp.fetch(url("/jfk.mp3"), job("cookies"));
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  EXPECT_EQ(bytes_of(cookies), content);  // the user's file is never handed to yt-dlp
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(job("cookies"))) {
    left.push_back(e.path().filename().string());
  }
  EXPECT_EQ(left, (std::vector<std::string>{"media.mp3"}));  // the copy is gone

  YtDlpOptions missing = ytdlp_options();
  missing.cookies = root_->path() / "no-such-cookies.txt";
  auto r = YtDlp(missing).resolve(url("/jfk.mp3"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// A server that accepts connections and never answers: the yt-dlp call is cut at its timeout.
TEST(IngestE2ETimeout, SilentServerIsCutAtTheTimeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string silent = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x";

  YtDlpOptions opts = ytdlp_options();
  opts.resolve_timeout = std::chrono::milliseconds(2500);
  auto start = std::chrono::steady_clock::now();
  auto r = YtDlp(opts).resolve(silent);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNetwork) << r.error().to_string();
  EXPECT_NE(r.error().message.find("did not finish"), std::string::npos);
  EXPECT_LT(elapsed, seconds(10));
}

}  // namespace
}  // namespace aimara
