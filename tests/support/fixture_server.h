// Test support: an HTTP server on 127.0.0.1 (a free port) that serves a folder, for the tests
// that exercise yt-dlp, libcurl downloads and model downloads against something real.
//
//   GET /<path>                 the file under the root (Range requests answered with 206)
//   GET /feed.xml?dir=D         an RSS podcast feed with one <item> and enclosure per .mp3 in D
//                               (&extra=NAME adds an item for D/NAME.mp3, which is not served)
//   GET /status/<code>/<any>    answers <code> with a short body (429 with Retry-After: 30)
//   GET /cut/<n>/<path>         the file, but a request without a Range header gets only its
//                               first n bytes before the connection is dropped (an interrupted
//                               transfer); a Range request is answered in full
//
// Paths never leave the root. Every request is recorded (requests()).
//
// Thread-safety: start() and the destructor from one thread; url() and requests() from any.
// The server stops and joins its threads when the object is destroyed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace aimara::testing {

struct FixtureRequest {
  std::string method;
  std::string path;   // without the query
  std::string range;  // the Range header, empty when none
  int status = 0;
};

class FixtureServer {
 public:
  static Result<FixtureServer> start(const std::filesystem::path& root);

  FixtureServer(FixtureServer&&) noexcept;
  FixtureServer& operator=(FixtureServer&&) noexcept;
  ~FixtureServer();

  int port() const;
  // "http://127.0.0.1:<port>" + path (path starts with '/').
  std::string url(const std::string& path) const;
  std::vector<FixtureRequest> requests() const;

 private:
  struct Impl;
  explicit FixtureServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aimara::testing
