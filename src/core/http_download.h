// Downloading a URL to a file with libcurl: what model downloads and direct media URLs use.
//
// The body goes to `<dest>.part`; an existing .part is resumed with an HTTP Range request (a
// server that answers 200 instead of 206 restarts it from zero). When the transfer is complete and
// the digest (if one is expected) matches, the .part is renamed over `dest` atomically; on a digest
// mismatch both are removed, so a bad download never leaves a file that looks like a model.
// Only http and https are allowed (redirects too, at most 5). HTTP errors map to stable codes:
// 403 download_forbidden, 404/410 download_unavailable, 429 rate_limited, other >= 400
// download_failed; connection problems are `network`.
//
// Thread-safety: download_file may run on many threads at once (each call has its own handle).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>

#include "core/error.h"

struct sockaddr;

namespace aimara {

struct DownloadOptions {
  // Lowercase hex digest to verify; empty: no check. The algorithm is told by its length
  // (40: SHA-1, as the public model list publishes; 64: SHA-256).
  std::string expected_digest;
  int64_t max_bytes = 0;                 // 0: no limit
  long connect_timeout_s = 30;
  long low_speed_timeout_s = 60;         // abort when under 1 KiB/s for this long
  // (bytes so far, total or -1 when unknown); called often, from the calling thread.
  std::function<void(int64_t, int64_t)> progress;
  std::stop_token stop;
};

struct DownloadResult {
  int64_t bytes = 0;        // size of the finished file
  int64_t resumed_from = 0; // bytes that were already in the .part file
  std::string digest;       // the digest computed (same algorithm as expected, else SHA-256)
};

Result<DownloadResult> download_file(const std::string& url, const std::filesystem::path& dest,
                                     const DownloadOptions& options = {});

// A process-wide rule for the addresses downloads may connect to. libcurl asks it for every
// connection of every download_file (the first and each redirect's, after DNS resolution, so a
// name that resolves or redirects to a refused address cannot slip through); a refused
// connection fails the download with download_forbidden. `aimara serve` sets it at start-up
// (SSRF protection, server/url_guard.h); empty (the default): any address. Thread-safe; a
// download uses the rule that was set when it started.
using AddressFilter = std::function<bool(const sockaddr* address)>;
void set_download_address_filter(AddressFilter filter);

}  // namespace aimara
