// The options of `aimara serve`: where to listen, who may call, what to accept, and the options of
// the in-process workers (pipeline::RunOptions, parsed by the same flags as `aimara run`).
// Filled by src/cli/serve_command.cpp; plain values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <string_view>

#include "core/error.h"
#include "pipeline/run_options.h"

namespace aimara::server {

struct ServeOptions {
  pipeline::RunOptions run;                     // model, language, store, workers/threads, VAD, ...
  bool engine = true;                           // false (--workers 0): no in-process workers
  std::string listen = "127.0.0.1:8080";        // HOST:PORT; port 0 picks a free one
  std::string token;                            // bearer token; required off loopback
  bool allow_private_urls = false;              // URL jobs may point at loopback/private addresses
  std::vector<std::string> allowed_extractors;  // platform names; empty: any
  std::filesystem::path data_dir = "aimara-data";  // uploads, transcripts, job folders
  int64_t max_upload_bytes = int64_t{512} << 20;
  size_t max_json_bytes = size_t{1} << 20;
  int max_sse_clients = 256;  // event streams held at once
  int http_threads = 16;      // threads for everything but event streams
  int read_timeout_s = 30;
  int write_timeout_s = 30;
  int sync_timeout_s = 900;  // POST /api/v1/transcribe with a URL waits at most this
  int event_poll_ms = 250;   // how often the events hub reads the store's change feed
};

// Splits "HOST:PORT" ("[::1]:8080" for IPv6). invalid_argument when malformed.
struct ListenAddress {
  std::string host;
  int port = 0;
};
Result<ListenAddress> parse_listen(std::string_view listen);
// 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace aimara::server
