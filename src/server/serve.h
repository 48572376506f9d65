// `aimara serve`: the job store, the in-process workers (an Engine, unless --workers 0), the
// events hub and the HTTP server, run together until stopped (ARCHITECTURE "The server").
//
// The engine runs kMaxConcurrency fetchers; how many of them claim jobs is the work limit
// (work_limit.h), which starts at --fetchers and changes at run time (PUT /api/v1/settings). The
// one loaded model is what jobs may ask for (served_model.h).
//
// Start-up refuses what would be unsafe: listening on a non-loopback address without a bearer
// token is an error (invalid_argument), before anything is opened.
//
// Thread-safety: serve() runs on the calling thread until `stop` is requested; it owns every
// thread it starts and joins them all before it returns.
#pragma once

#include <functional>
#include <stop_token>
#include <string>

#include "core/error.h"
#include "server/serve_options.h"

namespace aimara::server {

// Runs the server. `on_ready` is called once, with the URL it listens on
// ("http://127.0.0.1:8080"), when requests are accepted. `log` receives the engine's notes and
// job transitions, one line each. Returns when `stop` is requested (or listening failed).
Result<void> serve(const ServeOptions& options, std::stop_token stop,
                   const std::function<void(const std::string&)>& on_ready,
                   const std::function<void(const std::string&)>& log);

// The refusal above, on its own: invalid_argument when `options` would listen off loopback with
// no token. Also checks the listen address itself.
Result<void> check_serve_options(const ServeOptions& options);

}  // namespace aimara::server
