// Where media comes from: the two calls the pipeline makes before decoding.
//
//   resolve(input)  turns what the user typed into media items: one item (a video URL, a media
//                   file), the entries of a playlist, channel or podcast feed, or the media files
//                   of a folder. --sort shortest (shortest first when durations are known,
//                   unknown ones last, otherwise the source's order) and --max-videos N (the
//                   first N after sorting) are applied here, once, at expansion.
//   fetch(item)     puts one item's media on local disk, inside the job's own folder, and
//                   returns its path (a local file is used where it lies and never copied).
//
// IngestSource is aimara's Source: local paths are scanned (media recognised by content), http(s)
// URLs go through yt-dlp, and direct media URLs (a media file extension, or IngestOptions::direct)
// are downloaded directly with libcurl (core/http_download.h; an interrupted download resumes).
// Every request to a site first takes a token from one RateLimiter keyed by platform (per host for
// generic sites), and an HTTP 429 penalizes that whole key. One failing item never affects the
// others: each fetch is independent.
//
// Feeds and playlists name URLs chosen by whoever wrote them; a server exposed to untrusted input
// must vet URLs (SSRF) before resolve and for every item before fetch.
//
// Thread-safety: Source implementations are safe to call from many threads at once; IngestSource
// holds only immutable options and the (thread-safe) limiter it shares with its callers.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/rate_limiter.h"
#include "media/local_source.h"
#include "media/platform.h"
#include "media/ytdlp.h"

namespace aimara::media {

enum class SourceKind {
  kYtDlp,       // fetched by yt-dlp
  kDirectHttp,  // a media file on an http(s) server, fetched as is
  kLocalFile,   // already on this machine
};

struct MediaItem {
  SourceKind kind = SourceKind::kYtDlp;
  Platform platform = Platform::kGeneric;
  std::string input;  // what fetch works from: a URL, or a file's absolute path
  MediaMeta meta;     // id, extractor ("local" for files), title, duration, uploader, ...

  // Identifies the media across runs and jobs: "<extractor>:<id>" for sites with ids, the URL
  // (without yt-dlp's private data) for generic ones, the absolute path for local files.
  std::string dedup_key() const;
};

enum class ResolvedKind { kSingle, kPlaylist, kLocalFiles };

struct Resolved {
  ResolvedKind kind = ResolvedKind::kSingle;
  MediaMeta collection;                    // the playlist, feed or folder itself (title, id, URL)
  std::vector<MediaItem> items;            // sorted and cut to max_videos
  size_t total_items = 0;                  // items found before max_videos
  std::vector<UnreadableFile> unreadable;  // local scans: files that could not be read
  size_t skipped = 0;                      // local scans: files that are not media
};

enum class DirectMode {
  kAuto,    // http(s) URLs whose path ends in a media extension are direct
  kAlways,  // every http(s) input is a media file (the user says so)
  kNever,   // everything goes through yt-dlp
};

// Sensible per-platform request rates (requests per minute, burst); generic sites unlimited.
RateLimits default_rate_limits();

struct IngestOptions {
  std::string ytdlp = default_ytdlp_program();  // $AIMARA_YTDLP, else "yt-dlp" in PATH
  std::filesystem::path cookies;                // --cookies FILE (private copy per process)
  size_t max_videos = 0;                        // 0: all
  bool sort_shortest = false;                   // --sort shortest
  DirectMode direct = DirectMode::kAuto;
  // With sort_shortest: ask the server for the duration of direct media whose listing did not
  // give one (reads only the file's header).
  bool probe_unknown_durations = true;
  RateLimits rate_limits = default_rate_limits();
  std::chrono::milliseconds resolve_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds fetch_timeout{std::chrono::hours(3)};
  std::chrono::milliseconds probe_timeout{std::chrono::seconds(20)};
  int socket_timeout_s = 30;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual Result<Resolved> resolve(std::string_view input, std::stop_token stop = {}) = 0;
  virtual Result<std::filesystem::path> fetch(const MediaItem& item,
                                              const std::filesystem::path& job_dir,
                                              std::stop_token stop = {}) = 0;
};

// The key a URL's requests are rate-limited under: the platform's name, or "generic:<host>".
std::string rate_limit_key(std::string_view url);

class IngestSource final : public Source {
 public:
  // `limiter` may be shared with other sources; null: one is made from options.rate_limits.
  explicit IngestSource(IngestOptions options, std::shared_ptr<RateLimiter> limiter = nullptr);

  Result<Resolved> resolve(std::string_view input, std::stop_token stop = {}) override;
  Result<std::filesystem::path> fetch(const MediaItem& item, const std::filesystem::path& job_dir,
                                      std::stop_token stop = {}) override;

  RateLimiter& rate_limiter() { return *limiter_; }
  const IngestOptions& options() const { return options_; }

 private:
  Result<Resolved> resolve_local(const std::filesystem::path& path) const;
  Result<Resolved> resolve_remote(std::string_view url, std::stop_token stop);
  void finish(Resolved& resolved, std::stop_token stop);
  Result<std::filesystem::path> fetch_direct(const MediaItem& item,
                                             const std::filesystem::path& job_dir,
                                             std::stop_token stop) const;
  // Takes a token for `url`'s key; kCancelled when stopped while waiting.
  Result<void> throttle(std::string_view url, std::stop_token stop);
  // Penalizes the key on rate_limited, ends its penalty streak on success.
  template <typename T>
  Result<T> account(std::string_view url, Result<T> result);

  IngestOptions options_;
  YtDlp ytdlp_;
  std::shared_ptr<RateLimiter> limiter_;
};

}  // namespace aimara::media
