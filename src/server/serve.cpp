#include "server/serve.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "asr/model_catalog.h"
#include "asr/worker_pool.h"
#include "core/fs.h"
#include "core/http_download.h"
#include "pipeline/engine.h"
#include "pipeline/runner.h"
#include "server/events_hub.h"
#include "server/http_server.h"
#include "server/server_context.h"

namespace aimara::server {

namespace fs = std::filesystem;

namespace {

// The engine's notes and job transitions as log lines (the server has no terminal table).
class LogObserver : public pipeline::RunObserver {
 public:
  explicit LogObserver(const std::function<void(const std::string&)>& log) : log_(log) {}
  void on_job(const pipeline::JobStatus& s) override {
    std::lock_guard lock(mu_);
    auto& last = last_stage_[s.id];
    if (last == s.stage) return;  // progress ticks are for the event stream, not the log
    last = s.stage;
    emit(fmt::format("job {} {}: {}{}", s.id, s.stage, s.title,
                     s.error.empty() ? "" : " (" + s.error + ")"));
  }
  void on_message(const std::string& line) override {
    std::lock_guard lock(mu_);
    emit(line);
  }

 private:
  void emit(const std::string& line) {
    if (log_) log_(line);
  }
  const std::function<void(const std::string&)>& log_;
  std::mutex mu_;
  std::map<int64_t, std::string> last_stage_;  // guarded by mu_
};

}  // namespace

Result<ListenAddress> parse_listen(std::string_view listen) {
  ListenAddress a;
  std::string_view port;
  if (listen.starts_with('[')) {
    const auto close = listen.find("]:");
    if (close == std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--listen takes HOST:PORT ([::1]:8080 for IPv6)");
    }
    a.host = std::string(listen.substr(1, close - 1));
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) {
      return make_error(ErrorCode::kInvalidArgument, "--listen takes HOST:PORT (127.0.0.1:8080)");
    }
    a.host = std::string(listen.substr(0, colon));
    port = listen.substr(colon + 1);
  }
  if (a.host.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--listen needs a host (127.0.0.1:8080)");
  }
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--listen: the port is a number from 0 to 65535");
  }
  a.port = p;
  return a;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  const std::string h(host);
  in_addr a4{};
  if (::inet_pton(AF_INET, h.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6{};
  if (::inet_pton(AF_INET6, h.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

Result<void> check_serve_options(const ServeOptions& options) {
  auto listen = parse_listen(options.listen);
  if (!listen) return std::unexpected(listen.error());
  if (!is_loopback_host(listen->host) && options.token.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "listening on " + listen->host +
                          " (not loopback) needs a bearer token: pass --token or set "
                          "AIMARA_TOKEN");
  }
  if (options.max_upload_bytes <= 0 || options.max_sse_clients < 1 || options.http_threads < 2) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "limits must be positive (upload size, event streams, at least 2 HTTP threads)");
  }
  return {};
}

Result<void> serve(const ServeOptions& options, std::stop_token stop,
                   const std::function<void(const std::string&)>& on_ready,
                   const std::function<void(const std::string&)>& log) {
  if (auto ok = check_serve_options(options); !ok) return ok;
  // A model that is not there is said before anything is created (data folder, store).
  if (auto ok = pipeline::check_models(options.run); !ok) return ok;

  ServerContext ctx;
  ctx.options = options;
  auto& run = ctx.options.run;
  // The port is taken first: one in use is said before anything is created or loaded. No request
  // is answered (they wait in the listen backlog) until the server runs, below.
  auto http = HttpServer::create(ctx);
  if (!http) return std::unexpected(http.error());
  if (auto made = create_folder(options.data_dir, "data folder"); !made) {
    return std::unexpected(made.error());
  }
  run.out_dir = options.data_dir;
  if (run.work_dir.empty()) run.work_dir = options.data_dir / "work";
  auto uploads = create_folder(options.data_dir / "uploads", "upload folder");
  if (!uploads) return std::unexpected(uploads.error());
  ctx.upload_dir = *uploads;
  ctx.url_policy.allow_private = options.allow_private_urls;
  // URLs are checked when submitted (url_guard.h) and again by every connection a direct
  // download makes, redirects included: a name that later resolves elsewhere, or a redirect to
  // an internal address, is refused too.
  if (!options.allow_private_urls) set_download_address_filter(&is_public_address);
  struct FilterReset {
    ~FilterReset() { set_download_address_filter({}); }
  } filter_reset;
  ctx.url_policy.allowed_extractors = options.allowed_extractors;

  auto opened = pipeline::open_run_store(run);
  if (!opened) return std::unexpected(opened.error());
  ctx.store = std::move(*opened);

  LogObserver observer(log);
  std::unique_ptr<pipeline::Engine> engine;
  // --fetchers is where the work limit starts; the engine gets a fetcher for each job the
  // limit may allow (work_limit.h), and the limit decides how many of them claim.
  const int initial_concurrency = std::clamp(run.fetchers, 1, kMaxConcurrency);
  if (options.engine) {
    run.fetchers = kMaxConcurrency;
    auto created = pipeline::Engine::create(run, ctx.store, observer);
    if (!created) return std::unexpected(created.error());
    engine = std::move(*created);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    ctx.workers = asr::choose_pool_shape(cores, run.workers, run.threads).workers;
    ctx.engine = engine.get();
    auto file = asr::resolve_model(options.run.model);
    ctx.model = ServedModel(options.run.model, file ? *file : fs::path(), engine->model().name());
  } else {
    ctx.model = ServedModel(options.run.model, {}, {});
  }
  ctx.work_limit.bind(engine.get(), WorkLimit::Value{.parallel = initial_concurrency > 1,
                                                     .concurrency = initial_concurrency});

  EventsHub hub(ctx.store, EventsHub::Options{.poll_ms = std::max(20, options.event_poll_ms),
                                              .history = 4096,
                                              .max_clients = options.max_sse_clients});
  if (auto h = hub.start(); !h) return std::unexpected(h.error());
  ctx.hub = &hub;

  if (engine) engine->start();

  std::atomic<bool> listen_failed{false};
  std::thread listener([&] {
    if (!(*http)->run()) listen_failed = true;
  });
  const std::string host = (*http)->host().find(':') != std::string::npos
                               ? "[" + (*http)->host() + "]"
                               : (*http)->host();
  if (on_ready) on_ready(fmt::format("http://{}:{}", host, (*http)->port()));

  {
    std::mutex mu;
    std::unique_lock lock(mu);
    std::condition_variable_any cv;
    while (!stop.stop_requested() && !listen_failed) {
      cv.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
    }
  }
  if (log && !listen_failed) {
    log("aimara serve: stopping; jobs in progress resume where they stopped at the next start");
  }
  ctx.stopping = true;
  hub.stop();       // event streams end first: their threads are released
  (*http)->stop();  // no new requests; running ones finish
  listener.join();
  if (engine) engine->stop(false);  // held jobs are released, resumable by the next start
  if (listen_failed) return make_error(ErrorCode::kIo, "the server stopped listening");
  return {};
}

}  // namespace aimara::server
