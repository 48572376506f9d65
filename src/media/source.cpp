#include "media/source.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/fs.h"
#include "core/http_download.h"
#include "media/decoder.h"

namespace aimara::media {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLocalExtractor = "local";

bool is_direct(std::string_view url, DirectMode mode) {
  if (!is_http_url(url)) return false;
  switch (mode) {
    case DirectMode::kAlways:
      return true;
    case DirectMode::kNever:
      return false;
    case DirectMode::kAuto:
      return looks_like_direct_media(url);
  }
  return false;
}

MediaItem item_from_meta(MediaMeta meta, std::string input, DirectMode mode) {
  MediaItem item;
  item.input = std::move(input);
  item.platform = platform_from_extractor(meta.extractor);
  if (item.platform == Platform::kGeneric) {
    item.platform =
        detect_platform(meta.webpage_url.empty() ? item.input : meta.webpage_url).platform;
  }
  // A feed's enclosure is a plain media file: no need for yt-dlp to fetch it.
  const std::string& plain = meta.url.empty() ? item.input : meta.url;
  item.kind = item.platform == Platform::kGeneric && is_direct(strip_smuggled_data(plain), mode)
                  ? SourceKind::kDirectHttp
                  : SourceKind::kYtDlp;
  item.meta = std::move(meta);
  return item;
}

// "mp3" for ".../a.MP3?x": the extension the downloaded file keeps (decoders do not need it, but
// people looking into a job folder do). Anything odd becomes "bin".
std::string media_extension(std::string_view url) {
  std::string_view path = strip_fragment(url);
  path = path.substr(0, path.find('?'));
  std::string_view name = path.substr(path.rfind('/') + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return "bin";
  std::string ext(name.substr(dot + 1));
  if (ext.empty() || ext.size() > 5) return "bin";
  for (char& c : ext) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return "bin";
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return ext;
}

MediaItem direct_item(std::string_view url) {
  MediaItem item;
  item.kind = SourceKind::kDirectHttp;
  item.platform = Platform::kGeneric;
  item.input = std::string(url);
  item.meta.extractor = "Generic";
  item.meta.id = url_file_stem(url);
  item.meta.title = item.meta.id.empty() ? std::string(url) : item.meta.id;
  item.meta.webpage_url = std::string(url);
  item.meta.url = std::string(url);
  item.meta.direct = true;
  return item;
}

}  // namespace

std::string MediaItem::dedup_key() const {
  if (kind == SourceKind::kLocalFile) return std::string(kLocalExtractor) + ":" + input;
  if (platform == Platform::kGeneric || meta.id.empty()) {
    std::string url = strip_smuggled_data(meta.webpage_url.empty() ? input : meta.webpage_url);
    return (meta.extractor.empty() ? std::string("Generic") : meta.extractor) + ":" + url;
  }
  return meta.extractor + ":" + meta.id;
}

RateLimits default_rate_limits() {
  RateLimits limits;
  limits.default_limit = RateLimit{0, 1};  // generic sites: as fast as they answer
  limits.keys["youtube"] = RateLimit{30, 5};
  limits.keys["tiktok"] = RateLimit{20, 3};
  limits.keys["instagram"] = RateLimit{10, 2};
  limits.keys["facebook"] = RateLimit{20, 3};
  limits.keys["x"] = RateLimit{20, 3};
  limits.keys["vimeo"] = RateLimit{30, 5};
  return limits;
}

std::string rate_limit_key(std::string_view url) {
  PlatformLink link = detect_platform(url);
  if (link.platform != Platform::kGeneric) return std::string(platform_name(link.platform));
  return "generic:" + link.host;
}

IngestSource::IngestSource(IngestOptions options, std::shared_ptr<RateLimiter> limiter)
    : options_(std::move(options)),
      ytdlp_(YtDlpOptions{options_.ytdlp, options_.cookies, options_.resolve_timeout,
                          options_.fetch_timeout, options_.socket_timeout_s}),
      limiter_(limiter ? std::move(limiter) : std::make_shared<RateLimiter>(options_.rate_limits)) {
}

Result<void> IngestSource::throttle(std::string_view url, std::stop_token stop) {
  if (!limiter_->acquire(rate_limit_key(url), std::move(stop))) {
    return make_error(ErrorCode::kCancelled, "stopped while waiting for the rate limit");
  }
  return {};
}

template <typename T>
Result<T> IngestSource::account(std::string_view url, Result<T> result) {
  if (result) {
    limiter_->record_success(rate_limit_key(url));
  } else if (result.error().code == ErrorCode::kRateLimited) {
    limiter_->penalize(rate_limit_key(url));
  }
  return result;
}

Result<Resolved> IngestSource::resolve(std::string_view input, std::stop_token stop) {
  if (input.empty()) return make_error(ErrorCode::kInvalidArgument, "empty input");
  Result<Resolved> resolved;
  if (is_http_url(input)) {
    resolved = resolve_remote(input, stop);
  } else {
    std::error_code ec;
    fs::path path{std::string(input)};
    if (!fs::exists(path, ec)) {
      return make_error(ErrorCode::kMediaNotFound, "'" + std::string(input) +
                                                       "' is neither a file or folder here nor an "
                                                       "http(s) URL");
    }
    resolved = resolve_local(path);
  }
  if (!resolved) return resolved;
  finish(*resolved, stop);
  return resolved;
}

Result<Resolved> IngestSource::resolve_local(const fs::path& path) const {
  auto scan = scan_local(path);
  if (!scan) return std::unexpected(scan.error());
  Resolved r;
  std::error_code ec;
  const bool folder = fs::is_directory(path, ec);
  r.kind = folder ? ResolvedKind::kLocalFiles : ResolvedKind::kSingle;
  fs::path root = fs::absolute(path, ec).lexically_normal();
  r.collection.extractor = std::string(kLocalExtractor);
  r.collection.id = root.string();
  r.collection.title = root.filename().empty() ? root.string() : root.filename().string();
  r.unreadable = std::move(scan->unreadable);
  r.skipped = scan->skipped;
  for (LocalMedia& m : scan->media) {
    MediaItem item;
    item.kind = SourceKind::kLocalFile;
    item.platform = Platform::kGeneric;
    item.input = m.path.string();
    item.meta.extractor = std::string(kLocalExtractor);
    item.meta.id = m.path.string();
    item.meta.title = m.path.stem().string();
    item.meta.duration_ms = m.probe.duration_ms;
    r.items.push_back(std::move(item));
  }
  if (!folder && !r.items.empty()) r.collection = r.items.front().meta;
  return r;
}

Result<Resolved> IngestSource::resolve_remote(std::string_view url, std::stop_token stop) {
  Resolved r;
  if (is_direct(url, options_.direct)) {
    r.kind = ResolvedKind::kSingle;
    r.items.push_back(direct_item(url));
    r.collection = r.items.front().meta;
    return r;
  }
  if (auto t = throttle(url, stop); !t) return std::unexpected(t.error());
  // Without sorting, yt-dlp need not list more entries than will be kept.
  size_t limit = options_.sort_shortest ? 0 : options_.max_videos;
  auto info = account(url, ytdlp_.resolve(url, limit, stop));
  if (!info) return std::unexpected(info.error());
  r.collection = info->meta;
  if (!info->is_playlist) {
    r.kind = ResolvedKind::kSingle;
    // Fetch from what the user gave: yt-dlp resolves it again, and a picked format's URL
    // (info->meta.url) expires on many sites.
    r.items.push_back(item_from_meta(info->meta, std::string(url), options_.direct));
    if (r.items.back().kind == SourceKind::kDirectHttp) r.items.back().kind = SourceKind::kYtDlp;
    return r;
  }
  r.kind = ResolvedKind::kPlaylist;
  for (MediaMeta& entry : info->entries) {
    std::string input = entry.url.empty() ? entry.webpage_url : entry.url;
    if (input.empty()) continue;
    r.items.push_back(item_from_meta(std::move(entry), std::move(input), options_.direct));
  }
  return r;
}

void IngestSource::finish(Resolved& r, std::stop_token stop) {
  r.total_items = r.items.size();
  if (options_.sort_shortest) {
    if (options_.probe_unknown_durations) {
      for (MediaItem& item : r.items) {
        if (item.meta.duration_ms || stop.stop_requested()) continue;
        std::string url = strip_smuggled_data(item.meta.url.empty() ? item.input : item.meta.url);
        if (!is_http_url(url) || !looks_like_direct_media(url)) continue;
        if (!throttle(url, stop)) continue;
        DecodeOptions probe;
        probe.allow_network_protocols = true;
        probe.timeout_s = static_cast<double>(options_.probe_timeout.count()) / 1000.0;
        auto decoder = AudioDecoder::open(url, probe);
        if (decoder && (*decoder)->info().duration_ms >= 0) {
          item.meta.duration_ms = (*decoder)->info().duration_ms;
        }
      }
    }
    // Shortest first; unknown durations keep their order after the known ones.
    std::stable_sort(r.items.begin(), r.items.end(), [](const MediaItem& a, const MediaItem& b) {
      if (!a.meta.duration_ms || !b.meta.duration_ms) {
        return a.meta.duration_ms.has_value() && !b.meta.duration_ms.has_value();
      }
      return *a.meta.duration_ms < *b.meta.duration_ms;
    });
  }
  if (options_.max_videos > 0 && r.items.size() > options_.max_videos) {
    r.items.resize(options_.max_videos);
  }
}

Result<fs::path> IngestSource::fetch_direct(const MediaItem& item, const fs::path& job_dir,
                                            std::stop_token stop) const {
  auto made = create_folder(job_dir, "job folder");
  if (!made) return std::unexpected(made.error());
  const fs::path& dir = *made;
  const std::string url = strip_smuggled_data(item.input);
  fs::path dest = dir / ("media." + media_extension(url));
  // A finished download is only ever renamed into place: if it is there, it is whole (a killed
  // run left it). An unfinished one (.part) is resumed by download_file.
  std::error_code ec;
  if (!fs::is_regular_file(dest, ec)) {
    DownloadOptions opts;
    opts.connect_timeout_s = options_.socket_timeout_s;
    opts.low_speed_timeout_s = std::max(options_.socket_timeout_s, 60);
    opts.stop = std::move(stop);
    auto done = download_file(url, dest, opts);
    if (!done) return std::unexpected(done.error());
  }
  return find_fetched_media(dir, dest.string());
}

Result<fs::path> IngestSource::fetch(const MediaItem& item, const fs::path& job_dir,
                                     std::stop_token stop) {
  switch (item.kind) {
    case SourceKind::kLocalFile: {
      // Used where it lies; it may have gone since resolve.
      auto probe = probe_media(item.input);
      if (!probe) return std::unexpected(probe.error());
      return fs::path(item.input);
    }
    case SourceKind::kDirectHttp: {
      if (auto t = throttle(item.input, stop); !t) return std::unexpected(t.error());
      return account(item.input, fetch_direct(item, job_dir, stop));
    }
    case SourceKind::kYtDlp: {
      if (auto t = throttle(item.input, stop); !t) return std::unexpected(t.error());
      return account(item.input, ytdlp_.fetch(item.input, job_dir, stop));
    }
  }
  return make_error(ErrorCode::kInternal, "unknown source kind");
}

}  // namespace aimara::media
