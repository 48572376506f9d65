#include "server/uploads.h"

#include <cstdio>
#include <memory>

#include <spdlog/spdlog.h>

#include "jobs/job.h"
#include "output/run_layout.h"

namespace aimara::server {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxFieldBytes = 64 * 1024;
// Past the limit the rest of a body is still read (and dropped) up to this much, so that the
// client, which sends its whole body before it reads, gets the 413 instead of a reset
// connection. Beyond it the connection is cut.
constexpr int64_t kDrainBytes = int64_t{64} << 20;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Upload::~Upload() {
  if (!keep_ && !dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

Upload::Upload(Upload&& other) noexcept { *this = std::move(other); }

Upload& Upload::operator=(Upload&& other) noexcept {
  if (this != &other) {
    if (!keep_ && !dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
    dir_ = std::move(other.dir_);
    file_ = std::move(other.file_);
    filename_ = std::move(other.filename_);
    client_name_ = std::move(other.client_name_);
    bytes_ = other.bytes_;
    fields_ = std::move(other.fields_);
    keep_ = other.keep_;
    other.dir_.clear();
    other.file_.clear();
  }
  return *this;
}

std::optional<std::string> Upload::field(const std::string& name) const {
  auto it = fields_.find(name);
  if (it == fields_.end()) return std::nullopt;
  return it->second;
}

namespace {

// Only the last path component, whichever separator the client used.
std::string_view last_component(std::string_view client_name) {
  if (auto slash = client_name.find_last_of("/\\"); slash != std::string_view::npos) {
    client_name = client_name.substr(slash + 1);
  }
  return client_name;
}

}  // namespace

std::string shown_upload_name(std::string_view client_name) {
  return output::safe_title(last_component(client_name), 200);
}

std::string safe_upload_name(std::string_view client_name) {
  client_name = last_component(client_name);
  std::string out;
  for (char c : client_name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
    if (out.size() >= 120) break;
  }
  while (!out.empty() && out.front() == '.') out.erase(0, 1);
  if (out.empty()) out = "upload";
  return out;
}

std::expected<Upload, ApiError> receive_upload(const httplib::Request& req,
                                               const httplib::ContentReader& reader,
                                               const fs::path& upload_dir, int64_t max_bytes) {
  if (!req.is_multipart_form_data()) {
    return std::unexpected(api_error(400, "invalid_request", "expected multipart/form-data"));
  }
  Upload up;
  up.dir_ = upload_dir / jobs::generate_lease_token().hex;
  std::error_code ec;
  fs::create_directories(up.dir_, ec);
  if (ec) {
    return std::unexpected(api_error(500, "io", "cannot create an upload folder: " + ec.message()));
  }

  std::unique_ptr<std::FILE, FileCloser> out;
  std::string current_name;
  std::string current_value;
  bool in_file = false;
  bool file_seen = false;
  int64_t total = 0;
  std::optional<ApiError> failure;
  bool too_large = false;

  auto finish_part = [&] {
    if (in_file) {
      out.reset();
      in_file = false;
    } else if (!current_name.empty()) {
      up.fields_.emplace(current_name, current_value);
    }
    current_name.clear();
    current_value.clear();
  };

  const bool ok = reader(
      [&](const httplib::MultipartFormData& part) {
        if (too_large) return true;
        finish_part();
        current_name = part.name;
        if (part.name == "file") {
          if (file_seen) {
            failure = api_error(400, "invalid_request", "only one 'file' part is accepted");
            return false;
          }
          file_seen = true;
          up.filename_ = safe_upload_name(part.filename);
          up.client_name_ = shown_upload_name(part.filename);
          up.file_ = up.dir_ / up.filename_;
          out.reset(std::fopen(up.file_.c_str(), "wb"));
          if (!out) {
            failure = api_error(500, "io", "cannot write the upload");
            return false;
          }
          in_file = true;
        }
        return true;
      },
      [&](const char* data, size_t n) {
        total += static_cast<int64_t>(n);
        if (too_large) return total <= max_bytes + kDrainBytes;
        if (total > max_bytes) {
          too_large = true;
          failure = api_error(
              413, "payload_too_large",
              "the upload is larger than the limit of " + std::to_string(max_bytes) + " bytes");
          out.reset();
          in_file = false;
          std::error_code ec;
          fs::remove(up.file_, ec);
          return true;
        }
        if (in_file) {
          if (std::fwrite(data, 1, n, out.get()) != n) {
            failure = api_error(500, "io", "cannot write the upload (disk full?)");
            return false;
          }
          up.bytes_ += static_cast<int64_t>(n);
        } else {
          if (current_value.size() + n > kMaxFieldBytes) {
            failure =
                api_error(400, "invalid_request", "the field '" + current_name + "' is too long");
            return false;
          }
          current_value.append(data, n);
        }
        return true;
      });
  if (!too_large) finish_part();
  if (!ok && !failure &&
      req.get_header_value_u64("Content-Length") > static_cast<uint64_t>(max_bytes)) {
    failure =
        api_error(413, "payload_too_large",
                  "the upload is larger than the limit of " + std::to_string(max_bytes) + " bytes");
  }
  if (failure) return std::unexpected(*failure);
  if (!ok) {
    return std::unexpected(api_error(400, "invalid_request", "malformed multipart body"));
  }
  if (!file_seen) up.file_.clear();
  return up;
}

}  // namespace aimara::server
