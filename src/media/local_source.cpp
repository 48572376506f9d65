#include "media/local_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/mem.h>
}

#include "media/decoder.h"

namespace aimara::media {

namespace fs = std::filesystem;

namespace {

// Below this, FFmpeg itself is not confident about a format (AVPROBE_SCORE_RETRY): a random
// binary file can reach score 1 for some raw audio format, and must not count as media.
constexpr int kMinProbeScore = AVPROBE_SCORE_RETRY;
constexpr int kIoBufferSize = 32 * 1024;

// An open file descriptor, closed on scope exit. FFmpeg's read callbacks get its address.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool valid() const { return fd_ >= 0; }
  int* opaque() { return &fd_; }

 private:
  int fd_;
};

struct AvioFreer {
  void operator()(AVIOContext* c) const {
    if (c == nullptr) return;
    av_freep(&c->buffer);
    avio_context_free(&c);
  }
};
using AvioPtr = std::unique_ptr<AVIOContext, AvioFreer>;

struct FormatCloser {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;

int read_fd(void* opaque, uint8_t* buf, int size) {
  int fd = *static_cast<int*>(opaque);
  for (;;) {
    ssize_t n = ::read(fd, buf, static_cast<size_t>(size));
    if (n > 0) return static_cast<int>(n);
    if (n == 0) return AVERROR_EOF;
    if (errno != EINTR) return AVERROR(errno);
  }
}

int64_t seek_fd(void* opaque, int64_t offset, int whence) {
  int fd = *static_cast<int*>(opaque);
  if (whence & AVSEEK_SIZE) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : AVERROR(errno);
  }
  whence &= ~AVSEEK_FORCE;
  off_t r = ::lseek(fd, static_cast<off_t>(offset), whence);
  return r < 0 ? AVERROR(errno) : static_cast<int64_t>(r);
}

bool is_still_image_format(std::string_view name) {
  return name.ends_with("_pipe") || name == "image2" || name == "image2pipe" || name == "gif" ||
         name == "apng" || name == "ico" || name == "tty" || name == "bin";
}

Error io_error(const fs::path& path, int err) {
  if (err == ENOENT || err == ENOTDIR || err == ELOOP) {
    return Error{ErrorCode::kMediaNotFound, "'" + path.string() + "' does not exist"};
  }
  return Error{ErrorCode::kIo, "cannot read '" + path.string() + "': " + std::strerror(err)};
}

Error not_media(const fs::path& path, std::string_view why) {
  return Error{ErrorCode::kMediaInvalid,
               "'" + path.string() + "' is not a media file (" + std::string(why) + ")"};
}

bool is_hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return name.size() > 1 && name.front() == '.';
}

// Lists the regular files under `dir` (depth first); folders that cannot be listed and broken
// links go to `unreadable`.
void collect_files(const fs::path& dir, std::vector<fs::path>& files,
                   std::vector<UnreadableFile>& unreadable) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    unreadable.push_back({dir, io_error(dir, ec.value())});
    return;
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      unreadable.push_back({dir, io_error(dir, ec.value())});
      return;
    }
    const fs::path& p = it->path();
    std::error_code sec;
    fs::file_status link = it->symlink_status(sec);
    if (fs::is_directory(link)) {
      if (!is_hidden(p)) collect_files(p, files, unreadable);
      continue;
    }
    fs::file_status target = it->status(sec);
    if (sec) {
      // A link whose target is gone or unreachable.
      unreadable.push_back({p, io_error(p, sec.value())});
      continue;
    }
    if (fs::is_regular_file(target)) files.push_back(p);
    // Links to folders are not followed; sockets, FIFOs and devices are not media files.
  }
}

}  // namespace

Result<ProbeInfo> probe_media(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::unexpected(io_error(path, errno));
  if (S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kIo, "'" + path.string() + "' is a folder, not a file");
  }
  if (!S_ISREG(st.st_mode)) return std::unexpected(not_media(path, "not a regular file"));
  if (st.st_size == 0) return std::unexpected(not_media(path, "empty"));

  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::unexpected(io_error(path, errno));

  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return make_error(ErrorCode::kInternal, "out of memory");
  AvioPtr avio(
      avio_alloc_context(buffer, kIoBufferSize, 0, fd.opaque(), read_fd, nullptr, seek_fd));
  if (!avio) {
    av_free(buffer);
    return make_error(ErrorCode::kInternal, "out of memory");
  }

  // The name is withheld on purpose ("" below): the format comes from the bytes alone.
  route_ffmpeg_logs();
  const AVInputFormat* format = nullptr;
  int score = av_probe_input_buffer2(avio.get(), &format, "", nullptr, 0, 0);
  if (score < 0) {
    if (score == AVERROR(EACCES) || score == AVERROR(EIO)) {
      return std::unexpected(io_error(path, AVUNERROR(score)));
    }
    return std::unexpected(not_media(path, "no known format"));
  }
  if (format == nullptr || score < kMinProbeScore) {
    return std::unexpected(not_media(path, "no known format"));
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) return make_error(ErrorCode::kInternal, "out of memory");
  raw->pb = avio.get();
  raw->probesize = 1 << 20;
  raw->max_analyze_duration = 2 * AV_TIME_BASE;
  if (int err = avformat_open_input(&raw, "", format, nullptr); err < 0) {
    // avformat_open_input frees the context on failure.
    return std::unexpected(not_media(path, "unreadable " + std::string(format->name) + " data"));
  }
  FormatPtr ctx(raw);
  // Stream parameters are best effort: a truncated file with a good header is still media.
  (void)avformat_find_stream_info(ctx.get(), nullptr);

  ProbeInfo info;
  info.format = ctx->iformat->name;
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    const AVStream* s = ctx->streams[i];
    if (s->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) info.has_audio = true;
    if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
        (s->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0 &&
        !is_still_image_format(info.format)) {
      info.has_video = true;
    }
  }
  if (!info.has_audio && !info.has_video) {
    return std::unexpected(not_media(path, info.format + " without sound or moving pictures"));
  }
  if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
    info.duration_ms = ctx->duration / (AV_TIME_BASE / 1000);
  }
  return info;
}

Result<LocalScan> scan_local(const fs::path& input) {
  std::error_code ec;
  fs::path root = fs::absolute(input, ec).lexically_normal();
  if (ec) root = input;
  fs::file_status st = fs::status(root, ec);
  if (ec || !fs::exists(st)) {
    return make_error(ErrorCode::kMediaNotFound, "'" + input.string() + "' does not exist");
  }
  LocalScan scan;
  if (!fs::is_directory(st)) {
    auto probe = probe_media(root);
    if (!probe) return std::unexpected(probe.error());
    scan.media.push_back({root, *probe});
    return scan;
  }

  std::vector<fs::path> files;
  collect_files(root, files, scan.unreadable);
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    auto probe = probe_media(f);
    if (probe) {
      scan.media.push_back({f, *probe});
    } else if (probe.error().code == ErrorCode::kMediaInvalid) {
      ++scan.skipped;
    } else {
      scan.unreadable.push_back({f, probe.error()});
    }
  }
  std::sort(scan.unreadable.begin(), scan.unreadable.end(),
            [](const UnreadableFile& a, const UnreadableFile& b) { return a.path < b.path; });
  return scan;
}

}  // namespace aimara::media
