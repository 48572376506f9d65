// Receiving multipart/form-data uploads: the file part streamed straight to disk with a size
// limit, the small text fields kept in memory.
//
// No request path reaches the file system: an upload is written to a fresh folder with a random
// 128-bit name under the server's upload dir, as a file whose name is the client's file name
// reduced to [A-Za-z0-9._-] (never a path). A request over the limit is aborted as soon as it
// passes it (413 payload_too_large) and what was written is removed.
//
// Thread-safety: receive_upload may run on many threads at once; each Upload owns its folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "server/api_error.h"

namespace aimara::server {

// A received form. The folder (and the file in it) is removed when the Upload is destroyed,
// unless keep() was called (a job that will read it later).
class Upload {
 public:
  Upload() = default;
  ~Upload();
  Upload(Upload&& other) noexcept;
  Upload& operator=(Upload&& other) noexcept;
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  bool has_file() const { return !file_.empty(); }
  const std::filesystem::path& file() const { return file_; }  // the saved file
  const std::string& filename() const { return filename_; }    // the client's name, made safe
  // The client's file name as it may be shown (a job's title, messages): its last path
  // component with control characters and separators removed, accents and scripts kept.
  const std::string& client_name() const { return client_name_; }
  int64_t bytes() const { return bytes_; }
  // A text field's value (the first one of that name), or nullopt.
  std::optional<std::string> field(const std::string& name) const;
  const std::multimap<std::string, std::string>& fields() const { return fields_; }
  void keep() { keep_ = true; }

 private:
  friend std::expected<Upload, ApiError> receive_upload(const httplib::Request&,
                                                        const httplib::ContentReader&,
                                                        const std::filesystem::path&, int64_t);
  std::filesystem::path dir_;
  std::filesystem::path file_;
  std::string filename_;
  std::string client_name_;
  int64_t bytes_ = 0;
  std::multimap<std::string, std::string> fields_;
  bool keep_ = false;
};

// "../../etc/pass wd" -> "pass_wd"; "" or "." -> "upload".
std::string safe_upload_name(std::string_view client_name);
// "C:\\talks\\Entrevista José.mp3" -> "Entrevista José.mp3"; "" -> "untitled".
std::string shown_upload_name(std::string_view client_name);

// Reads a multipart request: the part named "file" goes to disk under `upload_dir`, every other
// part (at most 64 KiB each) is a text field. payload_too_large (413) over `max_bytes` in all;
// invalid_request (400) for a body that is not multipart or is malformed.
std::expected<Upload, ApiError> receive_upload(const httplib::Request& req,
                                               const httplib::ContentReader& reader,
                                               const std::filesystem::path& upload_dir,
                                               int64_t max_bytes);

}  // namespace aimara::server
