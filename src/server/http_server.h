// The HTTP server of `aimara serve`: httplib set up for this service, the routes wired, the
// bearer token enforced.
//
// - Threads: one pool of max_sse_clients + http_threads threads. An event stream holds a thread
//   while open (httplib's model), and the events hub admits at most max_sse_clients streams, so
//   http_threads always remain for the API however many dashboards are open.
// - Timeouts: read/write timeouts on every connection; keep-alive connections close after 5 s
//   idle. Request bodies: at most max_upload_bytes (+ room for multipart framing); each route
//   applies its own, smaller limit where it reads JSON.
// - Auth: with a token configured, every /api/, /v1/ and /metrics request needs
//   `Authorization: Bearer <token>` (GET /api/v1/events and GET /api/v1/jobs/{id}/media also
//   take ?access_token=, as browsers' EventSource and <audio> cannot send headers); 401
//   otherwise. /healthz and the dashboard's files stay
//   open. Tokens are compared in constant time.
// - Browsers: a state-changing request whose Origin is not this server is refused
//   (403 cross_origin); without a token, a loopback server answers only requests whose Host is a
//   loopback name (403 forbidden_host), so a page on a name rebound to 127.0.0.1 cannot use it.
// - Errors: anything httplib answers by itself (404, 413, 400) gets the JSON envelope too.
// - Routes: jobs_api.h, media_api.h, settings_api.h, content_api.h, transcribe_api.h,
//   openai_api.h, events_hub.h, metrics.h, /healthz here, and the dashboard (web_assets.h) for
//   any other GET.
//
// Thread-safety: create() and run() from one thread; stop() from any thread, once run() started.
// Ownership: borrows the context, which must outlive the server.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "server/httplib_config.h"
#include "server/server_context.h"

namespace aimara::server {

class HttpServer {
 public:
  // Configures the server and binds the listening socket (--listen; port 0 picks a free one).
  // Errors: invalid_argument for a bad address, io when it cannot bind.
  static Result<std::unique_ptr<HttpServer>> create(ServerContext& ctx);

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  // Accepts connections until stop(); returns false when listening failed.
  bool run();
  void stop();

 private:
  explicit HttpServer(ServerContext& ctx) : ctx_(ctx) {}
  void configure();

  ServerContext& ctx_;
  httplib::Server http_;
  std::string host_;
  int port_ = 0;
};

// True when `given` is the configured token (constant time in the token's length).
bool token_matches(std::string_view configured, std::string_view given);

}  // namespace aimara::server
