// `aimara serve`: the HTTP API, the OpenAI-compatible endpoint and the dashboard, with
// in-process workers unless --workers 0 (src/server/serve.h does the work).
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "core/terminal.h"
#include "server/serve.h"
#include "server/url_guard.h"

namespace aimara::cli {

namespace {

std::stop_source g_stop;

extern "C" void on_stop_signal(int) { g_stop.request_stop(); }

struct ServeArgs {
  RunFlags flags;
  server::ServeOptions s;
  int workers = -1;  // -1: chosen for this machine; 0: none
  std::string allow_extractors;
  double max_upload_mb = 512.0;
};

int run_serve(ServeArgs& a) {
  if (auto ok = apply_run_flags(a.flags); !ok) {
    fmt::print(stderr, "aimara serve: {}\n", ok.error().to_string());
    return 2;
  }
  auto& s = a.s;
  s.run = a.flags.o;
  s.engine = a.workers != 0;
  s.run.workers = a.workers > 0 ? a.workers : 0;
  if (s.token.empty()) {
    if (const char* env = std::getenv("AIMARA_TOKEN"); env != nullptr) s.token = env;
  }
  if (!a.allow_extractors.empty()) {
    auto list = server::parse_extractor_list(a.allow_extractors);
    if (!list) {
      fmt::print(stderr, "aimara serve: --allow-extractors: {}\n", list.error().to_string());
      return 2;
    }
    s.allowed_extractors = *list;
  }
  s.max_upload_bytes = static_cast<int64_t>(a.max_upload_mb * 1024.0 * 1024.0);
  if (auto ok = server::check_serve_options(s); !ok) {
    fmt::print(stderr, "aimara serve: {}\n", ok.error().to_string());
    return 2;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
  auto result = server::serve(
      s, g_stop.get_token(),
      [](const std::string& url) {
        fmt::print("aimara serve: listening on {}\n", url);
        std::fflush(stdout);
      },
      [](const std::string& line) { fmt::print(stderr, "{}\n", terminal_safe(line)); });
  if (!result) {
    fmt::print(stderr, "aimara serve: {}\n", result.error().to_string());
    return exit_code_for(result.error().code);
  }
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Serve the REST API (/api/v1), an OpenAI-compatible /v1/audio/transcriptions, live\n"
      "server-sent events and the dashboard, with in-process workers (one shared model) that\n"
      "work the job store. Binds 127.0.0.1 by default; any other address needs --token.\n"
      "See docs/api.md.");
  auto& s = args->s;
  sub->add_option("--listen", s.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  sub->add_option("--token", s.token,
                  "Bearer token required on every API call (default: $AIMARA_TOKEN); "
                  "mandatory off loopback");
  sub->add_option("--data-dir", s.data_dir, "Uploads, transcripts and job folders")
      ->capture_default_str();
  sub->add_option("-w,--workers", args->workers,
                  "ASR workers (default: chosen for this machine; 0: no in-process workers)")
      ->check(CLI::Range(0, 64));
  sub->add_flag("--allow-private-urls", s.allow_private_urls,
                "Accept URL jobs that point at loopback, private or link-local addresses");
  sub->add_option("--allow-extractors", args->allow_extractors,
                  "Accept URLs of these platforms only (youtube,tiktok,instagram,facebook,x,"
                  "vimeo,generic)");
  sub->add_option("--max-upload-mb", args->max_upload_mb, "Largest upload accepted (MiB)")
      ->check(CLI::Range(0.001, 1048576.0))
      ->capture_default_str();
  sub->add_option("--max-duration-h", args->flags.o.max_duration_h,
                  "Longest decoded media accepted (hours)")
      ->check(CLI::Range(0.0001, 1000.0))
      ->capture_default_str();
  sub->add_option("--max-sse-clients", s.max_sse_clients, "Event streams held open at once")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  sub->add_option("--http-threads", s.http_threads,
                  "Threads for API requests (event streams have their own)")
      ->check(CLI::Range(2, 1024))
      ->capture_default_str();
  sub->add_option("--sync-timeout-s", s.sync_timeout_s,
                  "How long POST /api/v1/transcribe waits for a URL job")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  sub->add_option("--event-poll-ms", s.event_poll_ms, "How often job changes are read for events")
      ->check(CLI::Range(20, 60000))
      ->capture_default_str();
  add_run_flags(sub, args->flags, /*with_workers=*/false);
  return Command{sub, [args] { return run_serve(*args); }};
}

}  // namespace aimara::cli
