#include "core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>

namespace aimara {

namespace fs = std::filesystem;

Result<void> write_file_atomic(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(ErrorCode::kIo,
                      "cannot write '" + tmp.string() + "': " + std::strerror(errno));
  }
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(ErrorCode::kIo, "cannot write '" + tmp.string() + "': " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, "cannot flush '" + tmp.string() + "': " + std::strerror(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, "cannot rename '" + tmp.string() + "' to '" + path.string() +
                                          "': " + std::strerror(e));
  }
  return {};
}

Result<fs::path> create_folder(const fs::path& dir, std::string_view what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path canonical;
  if (!ec) {
    if (fs::is_directory(dir, ec)) {
      canonical = fs::canonical(dir, ec);
    } else if (!ec) {
      ec = std::make_error_code(std::errc::not_a_directory);
    }
  }
  if (ec) {
    return make_error(ErrorCode::kIo, fmt::format("cannot create the {} '{}': {}", what,
                                                  dir.string(), ec.message()));
  }
  return canonical;
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kNotFound, "cannot open '" + path.string() + "'");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<TempDir> TempDir::create(std::string_view prefix, const fs::path& parent) {
  std::error_code ec;
  fs::path base = parent.empty() ? fs::temp_directory_path(ec) : parent;
  if (ec) base = "/tmp";
  fs::create_directories(base, ec);
  std::string tmpl = (base / (std::string(prefix) + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return make_error(ErrorCode::kIo,
                      "cannot create a temporary folder in '" + base.string() + "': " +
                          std::strerror(errno));
  }
  return TempDir(fs::path(buf.data()));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

}  // namespace aimara
