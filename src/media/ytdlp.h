// yt-dlp as a child process: metadata and playlist expansion (resolve), and downloads (fetch).
//
// Every call runs the yt-dlp program through run_process (posix_spawn, an argv array, never a
// shell) with `--ignore-config` (no user config changes behaviour), `--no-progress`, and `--`
// before the URL (a URL can never be read as an option). Each call is bounded by a timeout and
// honours a stop token.
//
//   resolve  `-J --flat-playlist`: one media item, or a playlist/channel/feed with its entries
//            (id, title, duration when the site lists it, URL), without touching the entries.
//   fetch    `-f bestaudio/best --abort-on-unavailable-fragments --no-playlist` into the job's
//            own folder under the fixed name media.<ext>; the produced file is then checked to
//            be a regular file inside that folder (canonical paths) before it is returned.
//
// Cookies (`--cookies FILE`) are never handed to yt-dlp directly: yt-dlp rewrites its cookie file,
// and concurrent processes would corrupt the user's. Each process gets a private copy (mode 0600)
// in its own folder, removed when the process ends.
//
// Failures are classified from yt-dlp's stderr (classify_ytdlp_failure): rate_limited (HTTP 429),
// needs_credentials (sign-in/login), download_forbidden (403, geo-blocked),
// download_unavailable (404, private, removed: permanent), network (retryable),
// download_failed (anything else).
//
// Thread-safety: a YtDlp is immutable after construction; any number of threads may call
// resolve/fetch at once (each call has its own child process and files). The free functions are
// pure. Callers own the job folders; fetch writes only inside the folder it is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace aimara::media {

struct MediaMeta {
  std::string id;         // the site's id ("dQw4w9WgXcQ"; for feeds the enclosure's name)
  std::string extractor;  // yt-dlp's extractor_key ("Youtube", "Generic")
  std::string title;
  std::optional<int64_t> duration_ms;  // when the site says
  std::string uploader;
  std::string upload_date;  // "YYYYMMDD" as yt-dlp gives it; empty when unknown
  std::string webpage_url;  // the page a person opens; what fetch hands back to yt-dlp
  std::string url;          // a direct media URL when known (a picked format, a feed enclosure)
  bool direct = false;      // yt-dlp saw a plain media file, not a page
  bool expands = false;     // this entry is itself a playlist (a channel's "Videos" tab)
};

struct YtDlpInfo {
  bool is_playlist = false;
  MediaMeta meta;                  // the item, or the playlist's own id/title/uploader/url
  std::vector<MediaMeta> entries;  // a playlist's entries, in yt-dlp's order
};

struct YtDlpOptions {
  std::string program = "yt-dlp";  // a name looked up in PATH, or a path
  std::filesystem::path cookies;   // Netscape cookie file; empty: none
  std::chrono::milliseconds resolve_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds fetch_timeout{std::chrono::hours(3)};
  int socket_timeout_s = 30;  // yt-dlp's --socket-timeout
};

// $AIMARA_YTDLP when set, else "yt-dlp".
std::string default_ytdlp_program();

// Reads yt-dlp's -J output (a single video or a playlist; nested playlists are flattened).
// kDownloadFailed when it is not the JSON yt-dlp writes ("null" after a failure included).
Result<YtDlpInfo> parse_ytdlp_json(std::string_view json);

// The error a failed yt-dlp run stands for, from its stderr; the message quotes yt-dlp's last
// "ERROR:" line.
Error classify_ytdlp_failure(std::string_view stderr_text);

// The media file a fetch left in `job_dir`: `printed_path` (what yt-dlp printed) when given, else
// the one "media.*" file that is not a partial download. It must be a regular file (not a link)
// whose canonical path lies directly inside the canonical job_dir.
Result<std::filesystem::path> find_fetched_media(const std::filesystem::path& job_dir,
                                                 std::string_view printed_path);

// A feed entry's URL as yt-dlp hands it out carries "#__youtubedl_smuggle=..." (private data for
// yt-dlp itself). The URL without it, for people and for plain HTTP clients.
std::string strip_smuggled_data(std::string_view url);

class YtDlp {
 public:
  explicit YtDlp(YtDlpOptions options);

  // Metadata for `url`; for a playlist, its entries (at most `max_entries` when > 0; entries
  // that are themselves playlists, such as a channel's tabs, are expanded one level).
  Result<YtDlpInfo> resolve(std::string_view url, size_t max_entries = 0,
                            std::stop_token stop = {}) const;

  // Downloads `url` into `job_dir` (created if missing) and returns the media file's path.
  Result<std::filesystem::path> fetch(std::string_view url, const std::filesystem::path& job_dir,
                                      std::stop_token stop = {}) const;

  // The argument vectors (without cookies), for tests and logs.
  std::vector<std::string> resolve_args(std::string_view url, size_t max_entries) const;
  std::vector<std::string> fetch_args(std::string_view url,
                                      const std::filesystem::path& job_dir) const;

  const YtDlpOptions& options() const { return options_; }

 private:
  Result<YtDlpInfo> resolve_once(std::string_view url, size_t max_entries,
                                 std::stop_token stop) const;

  YtDlpOptions options_;
};

}  // namespace aimara::media
