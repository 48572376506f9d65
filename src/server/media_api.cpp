#include "server/media_api.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <utility>

#include "media/platform.h"

namespace aimara::server {

namespace fs = std::filesystem;

namespace {

// An open, read-only file descriptor; closed when the last reply using it is done.
class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  ~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

ApiError unavailable(int64_t id, std::string_view why) {
  return api_error(
      404, "media_unavailable",
      "job " + std::to_string(id) + " has no media on this server: " + std::string(why));
}

bool inside(const fs::path& file, const fs::path& dir) {
  auto f = file.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++f) {
    if (f == file.end() || *f != *d) return false;
  }
  return f != file.end();
}

// Sends up to `length` bytes from `offset` (httplib calls again for the rest). False when the
// file ends early or cannot be read: the reply is cut off rather than padded.
bool send_part(const OpenFile& file, size_t offset, size_t length, httplib::DataSink& sink) {
  std::array<char, 64 * 1024> buffer;
  const size_t want = std::min(length, buffer.size());
  const ssize_t got = ::pread(file.fd(), buffer.data(), want, static_cast<off_t>(offset));
  if (got <= 0) return false;
  return sink.write(buffer.data(), static_cast<size_t>(got));
}

void get_media(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return send_error(res, id.error());
  auto job = ctx.store->get_job(*id);
  if (!job) return send_error(res, from_error(job.error()));
  auto path = local_media_path(ctx, *job);
  if (!path) return send_error(res, path.error());

  const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return send_error(res, unavailable(*id, "the file cannot be read"));
  auto file = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return send_error(res, unavailable(*id, "not a regular file"));
  }
  const std::string type(media_content_type(*path));
  res.set_header("Cache-Control", "private, no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Accept-Ranges", "bytes");
  if (st.st_size == 0) {
    res.status = 200;
    res.set_content(std::string(), type);
    return;
  }
  // The status is left to httplib: 200, or 206 with the requested range.
  res.set_content_provider(static_cast<size_t>(st.st_size), type,
                           [file](size_t offset, size_t length, httplib::DataSink& sink) {
                             return send_part(*file, offset, length, sink);
                           });
}

}  // namespace

std::expected<fs::path, ApiError> local_media_path(const ServerContext& ctx, const jobs::Job& job) {
  if (job.kind != jobs::JobKind::kMedia) {
    return std::unexpected(unavailable(job.id, "it is a playlist or folder"));
  }
  const bool upload = job.media.extractor == "upload";
  if (!upload && job.media.platform != "local") {
    return std::unexpected(unavailable(job.id, "its media is on the web"));
  }
  const fs::path source = job.source;
  if (media::is_http_url(job.source) || !source.is_absolute()) {
    return std::unexpected(unavailable(job.id, "its source is not a local file"));
  }
  std::error_code ec;
  const fs::path real = fs::canonical(source, ec);
  if (ec) return std::unexpected(unavailable(job.id, "the file is gone"));
  if (upload) {
    const fs::path dir = fs::canonical(ctx.upload_dir, ec);
    if (ec || !inside(real, dir)) {
      return std::unexpected(unavailable(job.id, "the upload is not in the upload folder"));
    }
  }
  if (!fs::is_regular_file(real, ec)) {
    return std::unexpected(unavailable(job.id, "not a regular file"));
  }
  return real;
}

std::string_view media_content_type(const fs::path& file) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".mp3", "audio/mpeg"},       {".wav", "audio/wav"},        {".m4a", "audio/mp4"},
      {".aac", "audio/aac"},        {".flac", "audio/flac"},      {".ogg", "audio/ogg"},
      {".oga", "audio/ogg"},        {".opus", "audio/ogg"},       {".weba", "audio/webm"},
      {".mp4", "video/mp4"},        {".m4v", "video/mp4"},        {".webm", "video/webm"},
      {".mkv", "video/x-matroska"}, {".mka", "audio/x-matroska"}, {".mov", "video/quicktime"},
      {".avi", "video/x-msvideo"},  {".3gp", "video/3gpp"},       {".mpeg", "video/mpeg"},
      {".mpg", "video/mpeg"},       {".ts", "video/mp2t"},        {".wma", "audio/x-ms-wma"},
      {".wmv", "video/x-ms-wmv"},   {".amr", "audio/amr"},        {".aiff", "audio/aiff"},
      {".aif", "audio/aiff"},       {".flv", "video/x-flv"}};
  std::string ext = file.extension().string();
  std::ranges::transform(ext, ext.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

bool is_media_path(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/jobs/";
  constexpr std::string_view kSuffix = "/media";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return false;
  const std::string_view id =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return !id.empty() && std::ranges::all_of(id, [](char c) { return c >= '0' && c <= '9'; });
}

void register_media_api(httplib::Server& http, ServerContext& ctx) {
  http.Get("/api/v1/jobs/:id/media",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             get_media(ctx, req, res);
           })));
}

}  // namespace aimara::server
