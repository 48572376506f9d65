#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include "server/api_error.h"
#include "server/content_api.h"
#include "server/events_hub.h"
#include "server/jobs_api.h"
#include "server/media_api.h"
#include "server/metrics.h"
#include "server/openai_api.h"
#include "server/serve_options.h"
#include "server/settings_api.h"
#include "server/transcribe_api.h"
#include "server/web_assets.h"

namespace aimara::server {

namespace {

bool needs_token(const std::string& path) {
  return path.starts_with("/api/") || path.starts_with("/v1/") || path == "/metrics";
}

// What browsers fetch without a way to set headers (EventSource, <audio src>): these GETs also
// take the token as ?access_token=. Nothing else does, so a token in a URL opens no more than
// reading events and media.
bool takes_query_token(const httplib::Request& req) {
  return (req.method == "GET" || req.method == "HEAD") &&
         (req.path == "/api/v1/events" || is_media_path(req.path));
}

std::string default_code(int status) {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 414:
      return "invalid_request";
    case 416:
      return "invalid_request";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "invalid_request";
  }
}

// "Host: 127.0.0.1:8080" -> "127.0.0.1"; "[::1]:8080" -> "::1".
std::string host_name(std::string_view host) {
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    return std::string(host.substr(1, close == std::string_view::npos ? 0 : close - 1));
  }
  return std::string(host.substr(0, host.find(':')));
}

// "http://a.example:8080/x" -> "a.example:8080" (what a Host header would say).
std::string origin_authority(std::string_view origin) {
  const auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return std::string(origin);
  std::string_view rest = origin.substr(scheme + 3);
  return std::string(rest.substr(0, rest.find('/')));
}

}  // namespace

bool token_matches(std::string_view configured, std::string_view given) {
  // Compare every byte of the configured token whatever the input, so the time taken says
  // nothing about how much of a guess was right.
  unsigned char diff = configured.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < configured.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(configured[i]) ^ g;
  }
  return diff == 0 && !configured.empty();
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(ServerContext& ctx) {
  auto listen = parse_listen(ctx.options.listen);
  if (!listen) return std::unexpected(listen.error());
  std::unique_ptr<HttpServer> s(new HttpServer(ctx));
  s->host_ = listen->host;
  s->configure();
  if (listen->port == 0) {
    const int port = s->http_.bind_to_any_port(listen->host);
    if (port <= 0) {
      return make_error(ErrorCode::kIo, "cannot listen on " + listen->host + ": no free port");
    }
    s->port_ = port;
  } else {
    if (!s->http_.bind_to_port(listen->host, listen->port)) {
      return make_error(ErrorCode::kIo, "cannot listen on " + ctx.options.listen +
                                            " (address in use, or not an address of this host)");
    }
    s->port_ = listen->port;
  }
  return s;
}

void HttpServer::configure() {
  const auto& o = ctx_.options;
  const size_t threads =
      static_cast<size_t>(std::max(1, o.max_sse_clients) + std::max(2, o.http_threads));
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib sets SO_REUSEPORT, with which a second server binds the same port and silently takes
  // part of its connections. SO_REUSEADDR alone: a restart binds at once while the old
  // connections linger in TIME_WAIT, and a port another server listens on is an error.
  http_.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http_.set_read_timeout(o.read_timeout_s, 0);
  http_.set_write_timeout(o.write_timeout_s, 0);
  http_.set_keep_alive_timeout(5);
  http_.set_keep_alive_max_count(1000);
  // Multipart framing around the largest upload.
  http_.set_payload_max_length(static_cast<size_t>(o.max_upload_bytes) + (size_t{1} << 20));

  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    ++ctx_.requests;
    // Browsers: a page of another site may send requests here, and a name that resolves to
    // 127.0.0.1 (DNS rebinding) makes that page same-origin. Without a token, a loopback server
    // only answers requests that name it by a loopback host; and no state-changing request is
    // taken from another origin.
    const std::string host = req.get_header_value("Host");
    if (ctx_.options.token.empty() && is_loopback_host(host_) && !host.empty() &&
        !is_loopback_host(host_name(host))) {
      send_error(res, api_error(403, "forbidden_host",
                                "this server answers to 127.0.0.1 or localhost only; use a "
                                "token (--token) to serve other host names"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD" && req.has_header("Origin") &&
        origin_authority(req.get_header_value("Origin")) != host) {
      send_error(res, api_error(403, "cross_origin",
                                "requests from another site's pages are not accepted"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (ctx_.options.token.empty() || !needs_token(req.path)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string given;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.size() > 7 && (auth.starts_with("Bearer ") || auth.starts_with("bearer "))) {
      given = auth.substr(7);
    } else if (takes_query_token(req) && req.has_param("access_token")) {
      given = req.get_param_value("access_token");
    }
    if (token_matches(ctx_.options.token, given)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    if (req.path.starts_with("/v1/")) {
      send_json(res, 401,
                openai_error_json(given.empty() ? "You didn't provide an API key."
                                                : "Incorrect API key provided.",
                                  "invalid_request_error", "", "invalid_api_key"));
    } else {
      send_error(res, api_error(401, "unauthorized",
                                given.empty() ? "this server needs a bearer token "
                                                "(Authorization: Bearer <token>)"
                                              : "the bearer token is not valid"));
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string message = httplib::status_message(res.status);
    if (res.status == 404) message = "no such path: " + req.path;
    if (res.status == 413) message = "the request body is too large";
    send_error(res, api_error(res.status, default_code(res.status), message));
    return httplib::Server::HandlerResponse::Handled;
  });

  http_.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: internal error: {}", req.method, req.path, what);
        send_error(res, api_error(500, "internal", "internal error: " + what));
      });

  http_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("{} {} -> {}", req.method, req.path, res.status);
  });

  http_.Get("/healthz", guarded(Handler([this](const httplib::Request&, httplib::Response& res) {
              auto counts = ctx_.store->counts_by_state();
              nlohmann::json body = {{"status", counts ? "ok" : "degraded"},
                                     {"store", counts ? "ok" : counts.error().to_string()},
                                     {"workers", ctx_.workers}};
              send_json(res, counts ? 200 : 503, body);
            })));
  register_jobs_api(http_, ctx_);
  register_media_api(http_, ctx_);
  register_settings_api(http_, ctx_);
  register_content_api(http_, ctx_);
  register_transcribe_api(http_, ctx_);
  register_openai_api(http_, ctx_);
  register_events_route(http_, ctx_);
  register_metrics_route(http_, ctx_);

  // The dashboard: any other GET. The path is only a key into the embedded assets; it never
  // reaches the file system.
  http_.Get("/(.*)", guarded(Handler([](const httplib::Request& req, httplib::Response& res) {
              const bool api = req.path.starts_with("/api/") || req.path.starts_with("/v1/");
              const WebAsset* asset = api ? nullptr : find_web_asset(req.path);
              if (asset == nullptr) {
                return send_error(res, api_error(404, "not_found", "no such path: " + req.path));
              }
              res.status = 200;
              res.set_header("Cache-Control", "no-cache");
              res.set_header("X-Content-Type-Options", "nosniff");
              res.set_content(std::string(asset->body), std::string(asset->content_type));
            })));
}

bool HttpServer::run() { return http_.listen_after_bind(); }

void HttpServer::stop() { http_.stop(); }

}  // namespace aimara::server
