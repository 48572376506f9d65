#include "media/ytdlp.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/process.h"
#include "media/platform.h"

namespace aimara::media {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kSmuggleMarker = "#__youtubedl_smuggle=";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::optional<int64_t> duration_ms(const json& j) {
  auto it = j.find("duration");
  if (it == j.end() || !it->is_number()) return std::nullopt;
  double seconds = it->get<double>();
  if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
  return static_cast<int64_t>(std::llround(seconds * 1000.0));
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// The id yt-dlp's generic extractor will give a feed entry: its smuggled force_videoid, else the
// file name without extension.
std::string id_from_url(std::string_view url) {
  auto marker = url.find(kSmuggleMarker);
  if (marker != std::string_view::npos) {
    json data =
        json::parse(percent_decode(url.substr(marker + kSmuggleMarker.size())), nullptr, false);
    if (data.is_object()) {
      std::string forced = str(data, "force_videoid");
      if (!forced.empty()) return forced;
    }
  }
  return url_file_stem(strip_fragment(url));
}

bool is_playlist_object(const json& j) {
  std::string type = str(j, "_type");
  return type == "playlist" || type == "multi_video" ||
         (type.empty() && j.contains("entries") && j["entries"].is_array());
}

bool entry_expands(const json& e) {
  std::string type = str(e, "_type");
  if (type != "url" && type != "url_transparent") return false;
  std::string ie = str(e, "ie_key");
  for (std::string_view suffix : {"Tab", "Playlist", "Channel", "Showcase", "Album", "User"}) {
    if (ie.ends_with(suffix)) return true;
  }
  return false;
}

MediaMeta meta_from(const json& j, std::string_view fallback_extractor) {
  MediaMeta m;
  m.extractor = str(j, "extractor_key");
  if (m.extractor.empty()) m.extractor = str(j, "ie_key");
  if (m.extractor.empty()) m.extractor = std::string(fallback_extractor);
  m.url = str(j, "url");
  m.webpage_url = str(j, "webpage_url");
  if (m.webpage_url.empty()) m.webpage_url = str(j, "original_url");
  if (m.webpage_url.empty()) m.webpage_url = strip_smuggled_data(m.url);
  m.id = str(j, "id");
  if (m.id.empty() && !m.url.empty()) m.id = id_from_url(m.url);
  m.title = str(j, "title");
  if (m.title.empty()) m.title = m.id;
  m.duration_ms = duration_ms(j);
  m.uploader = str(j, "uploader");
  if (m.uploader.empty()) m.uploader = str(j, "channel");
  if (m.uploader.empty()) m.uploader = str(j, "uploader_id");
  m.upload_date = str(j, "upload_date");
  auto direct = j.find("direct");
  m.direct = direct != j.end() && direct->is_boolean() && direct->get<bool>();
  m.expands = entry_expands(j);
  return m;
}

void collect_entries(const json& playlist, std::string_view extractor,
                     std::vector<MediaMeta>& out) {
  auto it = playlist.find("entries");
  if (it == playlist.end() || !it->is_array()) return;
  for (const json& e : *it) {
    if (!e.is_object()) continue;  // yt-dlp writes null for entries it could not read
    if (is_playlist_object(e)) {
      collect_entries(e, extractor, out);
    } else {
      out.push_back(meta_from(e, extractor));
    }
  }
}

// The last "ERROR:" line, else the last non-empty line.
std::string last_error_line(std::string_view err) {
  std::string_view best;
  std::string_view last_nonempty;
  while (!err.empty()) {
    auto nl = err.find('\n');
    std::string_view line = err.substr(0, nl);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty()) last_nonempty = line;
    if (line.starts_with("ERROR:")) best = line;
    if (nl == std::string_view::npos) break;
    err = err.substr(nl + 1);
  }
  std::string_view line = best.empty() ? last_nonempty : best;
  // yt-dlp appends a long "please report this issue" plea to some errors; drop it.
  auto plea = line.find("; please report this issue");
  if (plea != std::string_view::npos) line = line.substr(0, plea);
  return std::string(line);
}

// "%" is special in yt-dlp's output template; a folder name must not be read as a field.
std::string escape_template(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%') out += '%';
    out += c;
  }
  return out;
}

bool is_partial_download(std::string_view name) {
  for (std::string_view suffix : {".part", ".ytdl", ".temp", ".tmp", ".frag", ".aria2"}) {
    if (name.ends_with(suffix)) return true;
  }
  return name.find(".part-Frag") != std::string_view::npos;
}

// A private, owner-only copy of the user's cookie file in `dir` (yt-dlp rewrites the file).
Result<fs::path> copy_cookies(const fs::path& cookies, const fs::path& dir) {
  auto content = read_file(cookies);
  if (!content) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot read the cookie file '" + cookies.string() + "'");
  }
  fs::path copy = dir / "cookies.txt";
  int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ErrorCode::kIo,
                      "cannot write '" + copy.string() + "': " + std::strerror(errno));
  }
  std::string_view left = *content;
  while (!left.empty()) {
    ssize_t n = ::write(fd, left.data(), left.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return make_error(ErrorCode::kIo,
                        "cannot write '" + copy.string() + "': " + std::strerror(e));
    }
    left.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
  return copy;
}

Result<ProcessResult> run_ytdlp(const YtDlpOptions& options, std::vector<std::string> args,
                                const fs::path& private_dir, std::chrono::milliseconds timeout,
                                std::stop_token stop) {
  // Cookies go right before the "--" that ends the options.
  std::optional<TempDir> cookie_dir;
  if (!options.cookies.empty()) {
    auto dir = TempDir::create("aimara-cookies", private_dir);
    if (!dir) return std::unexpected(dir.error());
    auto copy = copy_cookies(options.cookies, dir->path());
    if (!copy) return std::unexpected(copy.error());
    auto dashes = std::find(args.begin(), args.end(), "--");
    dashes = args.insert(dashes, copy->string());
    args.insert(dashes, "--cookies");
    cookie_dir = std::move(*dir);
  }
  ProcessOptions popts;
  popts.timeout = timeout;
  popts.stop = std::move(stop);
  popts.env = {{"PYTHONIOENCODING", "utf-8"}};
  if (!private_dir.empty()) popts.working_dir = private_dir;
  auto result = run_process(args, popts);
  if (!result && result.error().code == ErrorCode::kNotFound) {
    return make_error(ErrorCode::kNotFound, "yt-dlp not found ('" + options.program +
                                                "'): install yt-dlp or point AIMARA_YTDLP at it");
  }
  return result;
}

Error failure_of(const ProcessResult& r, std::chrono::milliseconds timeout) {
  if (r.timed_out) {
    return Error{ErrorCode::kNetwork,
                 "yt-dlp did not finish within " + std::to_string(timeout.count() / 1000) + " s"};
  }
  if (r.term_signal != 0) {
    return Error{ErrorCode::kDownloadFailed,
                 "yt-dlp was killed by signal " + std::to_string(r.term_signal)};
  }
  return classify_ytdlp_failure(r.err);
}

}  // namespace

std::string default_ytdlp_program() {
  const char* env = std::getenv("AIMARA_YTDLP");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string("yt-dlp");
}

std::string strip_smuggled_data(std::string_view url) {
  return std::string(url.substr(0, url.find(kSmuggleMarker)));
}

Result<YtDlpInfo> parse_ytdlp_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::kDownloadFailed, "yt-dlp gave no usable metadata");
  }
  YtDlpInfo info;
  info.meta = meta_from(j, "Generic");
  info.meta.expands = false;
  if (is_playlist_object(j)) {
    info.is_playlist = true;
    info.meta.duration_ms.reset();
    collect_entries(j, info.meta.extractor, info.entries);
  }
  return info;
}

Error classify_ytdlp_failure(std::string_view stderr_text) {
  std::string line = last_error_line(stderr_text);
  std::string all = lower(stderr_text);
  std::string message = line.empty() ? "yt-dlp failed without saying why" : line;
  auto has = [&](std::initializer_list<std::string_view> needles) {
    return std::any_of(needles.begin(), needles.end(),
                       [&](std::string_view n) { return contains(all, n); });
  };
  if (has({"http error 429", "too many requests"})) {
    return Error{ErrorCode::kRateLimited, "the site is rate-limiting us (HTTP 429): " + message};
  }
  if (has({"sign in to confirm", "login required", "log in to", "login to", "requires login",
           "requires authentication", "use --cookies", "--cookies-from-browser",
           "only available for registered users", "http error 401", "private account"})) {
    return Error{ErrorCode::kNeedsCredentials,
                 "the site wants a signed-in user (pass --cookies FILE): " + message};
  }
  if (has({"http error 403", "403: forbidden", "available in your country", "geo restriction",
           "geo-restricted", "blocked it in your country"})) {
    return Error{ErrorCode::kDownloadForbidden, "the site refused the download: " + message};
  }
  if (has({"video unavailable", "private video", "this video is private", "http error 404",
           "http error 410", "has been removed", "has been deleted", "this video is not available",
           "does not exist", "unsupported url", "requested format is not available",
           "no video formats found", "is not a valid url", "account has been terminated",
           "video is no longer available"})) {
    return Error{ErrorCode::kDownloadUnavailable, "the media is not available: " + message};
  }
  if (has({"urlopen error", "connection refused", "connection reset", "timed out", "timeout",
           "name resolution", "name or service not known", "network is unreachable",
           "remote end closed", "incompleteread", "http error 5", "ssl", "eof occurred",
           "unable to download", "temporary failure", "connection aborted", "broken pipe",
           "no route to host"})) {
    return Error{ErrorCode::kNetwork, "network error (will retry): " + message};
  }
  return Error{ErrorCode::kDownloadFailed, message};
}

Result<fs::path> find_fetched_media(const fs::path& job_dir, std::string_view printed_path) {
  std::error_code ec;
  fs::path dir = fs::canonical(job_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "job folder '" + job_dir.string() + "' is missing");
  }
  fs::path candidate;
  if (!printed_path.empty()) {
    candidate = fs::path(std::string(printed_path));
    if (candidate.is_relative()) candidate = dir / candidate;
  } else {
    fs::file_time_type newest{};
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      if (!name.starts_with("media.") || is_partial_download(name)) continue;
      auto t = entry.last_write_time(ec);
      if (candidate.empty() || t > newest) {
        candidate = entry.path();
        newest = t;
      }
    }
    if (candidate.empty()) {
      return make_error(ErrorCode::kDownloadFailed,
                        "yt-dlp finished but left no media file in '" + dir.string() + "'");
    }
  }
  auto status = fs::symlink_status(candidate, ec);
  if (ec || !fs::is_regular_file(status)) {
    return make_error(ErrorCode::kDownloadFailed,
                      "the downloaded media '" + candidate.string() + "' is not a plain file");
  }
  fs::path real = fs::canonical(candidate, ec);
  if (ec || real.parent_path() != dir) {
    return make_error(ErrorCode::kDownloadFailed, "the downloaded media '" + candidate.string() +
                                                      "' is outside the job folder '" +
                                                      dir.string() + "'");
  }
  return real;
}

YtDlp::YtDlp(YtDlpOptions options) : options_(std::move(options)) {}

std::vector<std::string> YtDlp::resolve_args(std::string_view url, size_t max_entries) const {
  std::vector<std::string> args = {options_.program,
                                   "--ignore-config",
                                   "--no-progress",
                                   "-J",
                                   "--flat-playlist",
                                   "--socket-timeout",
                                   std::to_string(options_.socket_timeout_s)};
  if (max_entries > 0) {
    args.push_back("--playlist-end");
    args.push_back(std::to_string(max_entries));
  }
  args.push_back("--");
  args.emplace_back(url);
  return args;
}

std::vector<std::string> YtDlp::fetch_args(std::string_view url, const fs::path& job_dir) const {
  return {options_.program,
          "--ignore-config",
          "--no-progress",
          "--no-playlist",
          "-f",
          "bestaudio/best",
          "--abort-on-unavailable-fragments",
          "--socket-timeout",
          std::to_string(options_.socket_timeout_s),
          "--print",
          "after_move:filepath",
          "-o",
          escape_template(job_dir.string()) + "/media.%(ext)s",
          "--",
          std::string(url)};
}

Result<YtDlpInfo> YtDlp::resolve_once(std::string_view url, size_t max_entries,
                                      std::stop_token stop) const {
  auto run = run_ytdlp(options_, resolve_args(url, max_entries), {}, options_.resolve_timeout,
                       std::move(stop));
  if (!run) return std::unexpected(run.error());
  if (!run->ok()) return std::unexpected(failure_of(*run, options_.resolve_timeout));
  auto info = parse_ytdlp_json(run->out);
  if (!info) {
    return make_error(ErrorCode::kDownloadFailed,
                      "yt-dlp gave no usable metadata for '" + std::string(url) + "'");
  }
  return info;
}

Result<YtDlpInfo> YtDlp::resolve(std::string_view url, size_t max_entries,
                                 std::stop_token stop) const {
  auto info = resolve_once(url, max_entries, stop);
  if (!info || !info->is_playlist) return info;
  // A channel lists its tabs ("Videos", "Shorts", "Live") as playlists: expand them once.
  std::vector<MediaMeta> flat;
  for (MediaMeta& entry : info->entries) {
    if (max_entries > 0 && flat.size() >= max_entries) break;
    if (!entry.expands) {
      flat.push_back(std::move(entry));
      continue;
    }
    size_t room = max_entries > 0 ? max_entries - flat.size() : 0;
    auto sub = resolve_once(entry.webpage_url.empty() ? entry.url : entry.webpage_url, room, stop);
    if (!sub) {
      if (sub.error().code == ErrorCode::kCancelled) return std::unexpected(sub.error());
      continue;  // one broken tab does not lose the others
    }
    for (MediaMeta& e : sub->entries) {
      if (e.expands) continue;
      flat.push_back(std::move(e));
    }
  }
  if (max_entries > 0 && flat.size() > max_entries) flat.resize(max_entries);
  info->entries = std::move(flat);
  return info;
}

Result<fs::path> YtDlp::fetch(std::string_view url, const fs::path& job_dir,
                              std::stop_token stop) const {
  auto made = create_folder(job_dir, "job folder");
  if (!made) return std::unexpected(made.error());
  const fs::path& dir = *made;
  auto run =
      run_ytdlp(options_, fetch_args(url, dir), dir, options_.fetch_timeout, std::move(stop));
  if (!run) return std::unexpected(run.error());
  if (!run->ok()) return std::unexpected(failure_of(*run, options_.fetch_timeout));
  // --print writes the final path as the last line of stdout.
  std::string_view out = run->out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.remove_suffix(1);
  std::string_view printed =
      out.substr(out.rfind('\n') == std::string_view::npos ? 0 : out.rfind('\n') + 1);
  return find_fetched_media(dir, printed);
}

}  // namespace aimara::media
